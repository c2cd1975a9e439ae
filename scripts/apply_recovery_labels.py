"""Write the labeller's recovery mechanisms (``incidents/recovery-labels.csv``: ``id``,
``recovery``, ``reason``) into each incident file's ``fault`` line, unchanged, then reload every
touched folder to validate. See incidents/PREREGISTRATION.md.

Usage::

    python scripts/apply_recovery_labels.py incidents/recovery-labels.csv \\
        incidents/remodeled-18 incidents/independent
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

from faultray_lab import load_incidents
from faultray_lab.evaluation.incidents import RECOVERY_MECHANISMS

FAULT_LINE = re.compile(r"^fault: \{(?P<body>[^}]*)\}\s*$", re.M)


def main(labels: str, *folders: str) -> None:
    with open(labels, newline="") as fh:
        rows = {r["id"]: r["recovery"].strip() for r in csv.DictReader(fh)}
    bad = {i: m for i, m in rows.items() if m not in RECOVERY_MECHANISMS}
    if bad:
        raise SystemExit(f"{labels}: unknown mechanisms {bad}")
    done = set()
    for folder in folders:
        for path in sorted(Path(folder).glob("*.yaml")):
            if path.stem not in rows:
                raise SystemExit(f"{labels}: no label for {path}")
            text = path.read_text()
            m = FAULT_LINE.search(text)
            if m is None:
                raise SystemExit(f"{path}: no one-line 'fault: {{...}}' mapping")
            body = re.sub(r",\s*recovery:\s*\w+", "", m.group("body"))
            new = f"fault: {{{body}, recovery: {rows[path.stem]}}}"
            path.write_text(text[:m.start()] + new + text[m.end():])
            done.add(path.stem)
        load_incidents(folder)
    missing = set(rows) - done
    if missing:
        raise SystemExit(f"{labels}: labels for unknown incidents {sorted(missing)}")
    print(f"labelled {len(done)} incidents")


if __name__ == "__main__":
    main(*sys.argv[1:])
