"""Regenerate tests/data/oracle/: random topologies and the reference engine's output on them.

Development only: needs the reference (``faultray==11.1.0``) in a separate virtual environment and
the oracle script of the shared tools. Tests read the committed JSON files, never the reference.

    python3 -m venv ref-venv && ref-venv/bin/pip install faultray==11.1.0
    python scripts/make_oracle_fixtures.py --ref-python ref-venv/bin/python \
        --oracle ../shared/tools/faultray_oracle.py
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "oracle"
TYPES = ["load_balancer", "web_server", "app_server", "database", "cache", "queue", "storage",
         "dns", "external_api", "custom", "ai_agent", "llm_endpoint", "tool_service"]


def random_topology(seed: int, n: int) -> dict:
    """A seeded random graph with cycles, mixed edge types, replicas, timeouts and agents."""
    rng = random.Random(seed)
    comps = []
    for i in range(n):
        c = {"id": f"c{i}", "type": rng.choice(TYPES), "replicas": rng.choice([1, 1, 2, 3]),
             "timeout_seconds": rng.choice([0.5, 10, 30, 45.7]),
             "utilization": rng.choice([0, 50, 75, 95])}
        if c["type"] == "ai_agent" and rng.random() < 0.7:
            c["parameters"] = {"requires_grounding": rng.choice([1, 0, "false", ""])}
        comps.append(c)
    deps, seen = [], set()
    for _ in range(int(n * 2.5)):
        s, t = rng.randrange(n), rng.randrange(n)
        if (s, t) in seen:
            continue
        seen.add((s, t))
        deps.append({"source": f"c{s}", "target": f"c{t}",
                     "type": rng.choice(["requires", "requires", "optional", "async"]),
                     "weight": 1.0, "latency_ms": rng.choice([0, 5, 100])})
    return {"components": comps, "dependencies": deps}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ref-python", required=True)
    ap.add_argument("--oracle", required=True)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    for seed in (3, 7):
        name = f"random-60-seed{seed}"
        topo_path = OUT / f"{name}.topology.json"
        topo_path.write_text(json.dumps(random_topology(seed, 60), indent=0))
        with tempfile.TemporaryDirectory() as tmp:
            raw = subprocess.run([args.ref_python, args.oracle, str(topo_path), "--full"],
                                 check=True, capture_output=True, text=True, cwd=tmp).stdout
        o = json.loads(raw)
        out = {"about": "Output of the reference engine (faultray 11.1.0, via the shared oracle "
                        "--full) for every component_down fault of the topology beside it.",
               "oracle": o.get("oracle"),
               "results": [{k: r[k] for k in ("fault", "effects", "severity", "likelihood",
                                               "n_raw_effects")}
                           | {"raw": [row[:3] for row in r["raw"]]} for r in o["results"]]}
        (OUT / f"{name}.oracle.json").write_text(json.dumps(out, separators=(",", ":")))


if __name__ == "__main__":
    main()
