"""``reproduce``, ``figures`` and ``report``: notebooks, the paper and the HTML report."""

from __future__ import annotations

import argparse
from typing import Any

from .common import RULE_CHOICES, add_seed_bootstrap, int_arg


def add_reproduce(sub: Any) -> None:
    p = sub.add_parser("reproduce", help="execute every notebook with papermill",
                       description="Execute every notebook of --notebooks (sorted by name) with "
                       "papermill, in its own folder as working directory. Writes the executed "
                       "notebooks to OUTPUT/notebooks, figures to OUTPUT/figures (passed as "
                       "output_dir to notebooks that declare it) and OUTPUT/summary.json (status "
                       "of each notebook and the JSON output of cells tagged 'summary'). Exit "
                       "code 1 if a notebook fails.")
    p.add_argument("--output", default="results", help="output folder (default results/)")
    p.add_argument("--notebooks", default="notebooks", help="notebook folder (default notebooks/)")
    p.add_argument("--kernel", default="python3", help="Jupyter kernel name (default python3)")
    p.add_argument("--jobs", type=int_arg(1, 64), default=None,
                   help="notebooks run at once, each in its own process (default: 2, or 1 on "
                   "a one-core machine)")
    p.add_argument("--full", action="store_true",
                   help="run the full-size statistics of notebooks that declare a `full` "
                   "parameter (e.g. 1,000 label permutations instead of 50; minutes, not "
                   "seconds) (default: off)")
    p.set_defaults(func=_cmd_reproduce)


def _cmd_reproduce(args: argparse.Namespace) -> int:
    import os
    import time
    from pathlib import Path

    t0 = time.perf_counter()
    from ..outputs.notebooks import run_notebooks

    jobs = args.jobs if args.jobs is not None else min(2, os.cpu_count() or 1)
    summary = run_notebooks(args.notebooks, args.output, kernel=args.kernel, full=args.full,
                            jobs=jobs)
    n_ok = sum(r["status"] == "ok" for r in summary["notebooks"])
    target = Path(args.output) / "summary.json"
    print(f"{n_ok} of {len(summary['notebooks'])} notebooks ok, {len(summary['figures'])} "
          f"figure files; wrote {target} in {time.perf_counter() - t0:.1f} s")
    for r in summary["notebooks"]:
        if r["status"] != "ok":
            print(f"  {r['notebook']}: {r['error']}")
    return 0 if summary["ok"] else 1


def add_figures(sub: Any) -> None:
    p = sub.add_parser("figures", help="regenerate every figure and table of the paper",
                       description="Run the backtest (faultray-v11 and cps, with baselines), "
                       "the demo sweep, the availability layers, the what-if sequence and the "
                       "prospective-validation analyses, and write every figure (PDF, PNG, "
                       "SVG) under OUTPUT/figures and every table (LaTeX and CSV) under "
                       "OUTPUT/tables. Outputs are byte-deterministic.")
    p.add_argument("--output", default="paper", help="paper folder (default paper/)")
    p.add_argument("--incidents", default="incidents/paper-18",
                   help="incident folder of the backtest (default incidents/paper-18)")
    p.add_argument("--published", default="incidents/paper-18-published.json",
                   help="published backtest results compared against ('none' to omit)")
    add_seed_bootstrap(p)
    p.add_argument("--prospective", default="incidents/remodeled-18",
                   help="remodeled incident folder of the prospective-validation figures "
                   "(default incidents/remodeled-18; 'none' to skip)")
    p.add_argument("--tables-only", action="store_true", help="skip the figures")
    p.set_defaults(func=_cmd_figures)


def _cmd_figures(args: argparse.Namespace) -> int:
    from ..outputs.paper import build_paper

    published = None if args.published.lower() == "none" else args.published
    prospective = None if args.prospective.lower() == "none" else args.prospective
    out = build_paper(args.output, incidents=args.incidents, published=published,
                      seed=args.seed, n_boot=args.bootstrap, figures=not args.tables_only,
                      prospective=prospective)
    for path in [*out["tables"], *out["figures"]]:
        print(path)
    for note in out["notes"]:
        print(f"note: {note}")
    print(f"{len(out['tables'])} table files, {len(out['figures'])} figure files")
    return 0


def add_report(sub: Any) -> None:
    p = sub.add_parser("report", help="write a one-file HTML report of a topology",
                       description="Execute the report notebook for TOPOLOGY with papermill "
                       "(worst single failure and its cascade, resilience score, top risks, "
                       "SPOFs, availability layers, every single failure) and convert it with "
                       "nbconvert into one self-contained HTML file (images embedded).")
    p.add_argument("topology", help="topology file (.yaml or .json)")
    p.add_argument("-o", "--output", default="report.html", help="HTML file (default report.html)")
    p.add_argument("--rules", default="cps", choices=RULE_CHOICES,
                   help="rule set: cps (the toolkit's semantics) or faultray-v11 (the reference)")
    p.add_argument("--top", type=int_arg(1, 10_000), default=10,
                   help="how many top risks (default 10)")
    p.add_argument("--kernel", default="python3", help="Jupyter kernel name (default python3)")
    p.set_defaults(func=_cmd_report)


def _cmd_report(args: argparse.Namespace) -> int:
    from ..outputs.report import build_report

    path = build_report(args.topology, args.output, rules=args.rules, top_n=args.top,
                        kernel=args.kernel)
    print(f"wrote {path}")
    return 0


#: The subcommands this module adds, in help order.
ADDERS = (add_reproduce, add_figures, add_report,)
