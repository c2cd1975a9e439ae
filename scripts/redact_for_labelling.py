"""Write what the recovery-mechanism labeller may see: per incident, the header comment above its
``# Truth:`` paragraph, the topology and the fault, nothing of the truth.

Usage::

    python scripts/redact_for_labelling.py OUT.md incidents/remodeled-18 incidents/independent

(incidents in a seeded random order, so the cohort and the outcome order give nothing away).
See incidents/PREREGISTRATION.md.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from faultray_lab import load_incidents


def header_before_truth(path: Path) -> list[str]:
    """The leading comment lines of ``path`` up to (not including) the ``# Truth`` line."""
    out = []
    for line in path.read_text().splitlines():
        if not line.startswith("#") or line.startswith("# Truth"):
            break
        out.append(line[2:])
    if any("Downtime" in x for x in out):
        raise SystemExit(f"{path}: the part above '# Truth:' mentions the downtime; fix the file")
    return out[1:]          # the first line only names the protocol


def main(out: str, *folders: str) -> None:
    blocks = []
    for folder in folders:
        for inc in load_incidents(folder):
            comps = "\n".join(f"  - {c.id} ({c.type}, replicas {c.replicas})"
                              for c in inc.topology.components)
            edges = "\n".join(f"  - {e.source} -> {e.target} ({e.type})"
                              for e in inc.topology.dependencies)
            blocks.append(
                f"## {inc.id}\n\ntitle: {inc.title}\nprovider: {inc.provider}, date: {inc.date}\n\n"
                + "\n".join(header_before_truth(Path(inc.path))) + "\n\n"
                + f"components:\n{comps}\ndependencies:\n{edges}\n"
                + f"fault: component {inc.fault.component}, type {inc.fault.type}\n")
    random.Random(0).shuffle(blocks)
    Path(out).write_text("\n".join(blocks))
    print(f"{len(blocks)} incidents -> {out}")


if __name__ == "__main__":
    main(*sys.argv[1:])
