"""Convert the published 18-incident backtest data into one incident YAML file per incident.

Run once from the repository root; the output under ``incidents/paper-18/`` is committed as data::

    python scripts/convert_paper18.py [incidents/paper-18-published.json] [incidents/paper-18]

Kept as published: the topology (component and edge order), the failed component, the ground
truth (affected components, severity label, downtime) and the timeline, whose affected *services*
are mapped to component ids through the backtest's ``service_to_component`` table. The published
per-incident results are not copied: they stay in the JSON, as the thing the backtest is compared
against. Every written file is loaded back with :func:`faultray_lab.load_incidents`.
"""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from faultray_lab.common.files import atomic_write_text
from faultray_lab.evaluation.incidents import load_incidents

COHORT = "paper-18"


def convert(raw: dict[str, Any]) -> dict[str, Any]:
    """One published incident -> a mapping in the incident file schema."""
    bt = raw["backtest"]
    topo = {k: v for k, v in bt["topology"].items() if k != "edge_semantics"}
    service_map = {svc: pair[1] for svc, pair in bt["service_to_component"].items()}
    timeline = []
    for ev in raw.get("timeline", []):
        affected: list[str] = []
        for svc in ev["affected_services"]:
            cid = service_map[svc]
            if cid not in affected:
                affected.append(cid)
        timeline.append({"offset_minutes": ev["offset_minutes"], "event_type": ev["event_type"],
                         "affected": affected})
    return {
        "id": raw["id"],
        "title": raw["name"],
        "provider": raw["provider"],
        "date": datetime.date.fromisoformat(raw["date"]),
        "cohort": COHORT,
        "sources": [raw["post_mortem_url"]],
        "topology": {"components": topo["components"], "dependencies": topo["dependencies"]},
        "fault": {"component": bt["failed_component"], "type": "component_down"},
        "truth": {"affected": bt["ground_truth_affected_components"],
                  "severity": bt["ground_truth_severity_label"],
                  "downtime_minutes": bt["ground_truth_downtime_minutes"]},
        "timeline": timeline,
    }


def to_yaml(doc: dict[str, Any], about: str) -> str:
    """Block YAML with one flow mapping per component, edge and timeline event."""
    body = yaml.safe_dump(doc, sort_keys=False, default_flow_style=None, width=120,
                          allow_unicode=True)
    return f"# {about}\n{body}"


def main(argv: list[str]) -> int:
    src = Path(argv[0] if argv else "incidents/paper-18-published.json")
    out = Path(argv[1] if len(argv) > 1 else f"incidents/{COHORT}")
    data = json.loads(src.read_text(encoding="utf-8"))
    about = ("Converted by scripts/convert_paper18.py from the published 18-incident backtest "
             "(FaultRay 11.1).")
    for raw in data["incidents"]:
        doc = convert(raw)
        atomic_write_text(out / f"{doc['id']}.yaml", to_yaml(doc, about))
    incidents = load_incidents(out)
    print(f"wrote {len(incidents)} incidents to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
