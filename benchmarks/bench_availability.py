"""Availability benchmark: Monte Carlo trials per second, vectorized vs a per-trial networkx loop.

1. The DSB Social Network graph (12 services; 22 containers in repl mode), fail-stop protocol
   (:func:`faultray_lab.availability.failstop.failstop_availability`), at every row of the published
   table; beside it, a per-trial networkx loop in the style of the published artifact
   (``random.sample`` of the killed containers, the alive subgraph, ``nx.has_path`` from the
   client to each target), measured in the same run.
   Two samplers of the killed containers are timed: ``auto`` (here a uniform index into the
   table of all K-subsets) and ``shuffle`` (a vectorized partial Fisher-Yates, for any size).
2. A seeded 1,000-component layered topology
   (:func:`faultray_lab.importers.synthetic.layered_topology`):
   :func:`faultray_lab.availability.system.system_availability` Monte Carlo of its entry points
   (``serve="all"`` and ``"any"``, and with a common-cause group), beside a per-trial networkx
   loop (sample every component, then check each target's requires-closure with
   ``nx.descendants``).

Each line prints trials per second (wall clock, setup included) and the estimate, so the two
methods can be seen to agree. Target (issue 7): at least 1,000,000 trials/s on the DSB graph.

    python benchmarks/bench_availability.py [--trials 2000000] [--baseline-trials 5000]
"""

from __future__ import annotations

import argparse
import math
import random
import time

import networkx as nx

from faultray_lab.availability.failstop import dsb_path, failstop_availability, kill_count, load_dsb
from faultray_lab.availability.layers import replica_availability
from faultray_lab.availability.system import _compile, system_availability
from faultray_lab.importers.jaeger import import_jaeger_dependencies
from faultray_lab.importers.synthetic import layered_topology


def _networkx_failstop(topo, client, endpoints, p_fail, trials, seed):
    """Per-trial loop in the style of the published artifact."""
    rnd = random.Random(seed)
    g = nx.DiGraph()
    g.add_nodes_from(topo.ids)
    g.add_edges_from((e.source, e.target) for e in topo.dependencies)
    containers = [(c.id, r) for c in topo.components for r in range(c.replicas)]
    k = kill_count(p_fail, len(containers))
    wsum = sum(ep["weight"] for ep in endpoints.values())
    total = 0.0
    for _ in range(trials):
        killed = rnd.sample(containers, k)
        lost: dict[str, int] = {}
        for sid, _r in killed:
            lost[sid] = lost.get(sid, 0) + 1
        alive = [c.id for c in topo.components if lost.get(c.id, 0) < c.replicas]
        sub = g.subgraph(alive)
        for ep in endpoints.values():
            ok = client in sub and all(t in sub and nx.has_path(sub, client, t)
                                       for t in ep["targets"])
            total += ep["weight"] / wsum * ok
    return total / trials


def _networkx_system(topo, targets, avail, trials, seed, serve_all=True):
    """Per-trial loop: sample every component (k-of-n replicas as one Bernoulli), then check
    each target's requires-closure with networkx."""
    rnd = random.Random(seed)
    g = nx.DiGraph()
    g.add_nodes_from(topo.ids)
    g.add_edges_from((e.source, e.target) for e in topo.dependencies
                     if e.type == "requires" and e.source != e.target)
    ok = 0
    for _ in range(trials):
        down = {c for c, a in avail.items() if rnd.random() >= a}
        serving = [not (({t} | nx.descendants(g, t)) & down) for t in targets]
        ok += all(serving) if serve_all else any(serving)
    return ok / trials


def _rate(trials: int, seconds: float) -> str:
    return f"{trials / seconds:>12,.0f} trials/s"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=2_000_000)
    ap.add_argument("--baseline-trials", type=int, default=5_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--size", type=int, default=1000)
    args = ap.parse_args()

    data = load_dsb()
    topos = {"norepl": import_jaeger_dependencies(dsb_path()),
             "repl": import_jaeger_dependencies(dsb_path(),
                                                replicas=data["replicas_in_repl_mode"])}
    print(f"DSB Social Network, fail-stop protocol: ours {args.trials:,} trials per row, "
          f"networkx loop {args.baseline_trials:,}")
    print(f"{'mode':7} {'p':>4} {'K/N':>6}  {'ours (auto: table)':>24} {'R_avg':>8}   "
          f"{'ours (shuffle)':>24} {'R_avg':>8}   {'networkx loop':>24} {'R_avg':>8}  "
          "speed-up (auto vs networkx)")
    tot_ours = tot_nx = tot_shuf = 0.0
    n_rows = 0
    for i, (mode, p, *_rest) in enumerate(data["published_table_1"]["rows"]):
        topo = topos[mode]
        t0 = time.perf_counter()
        r = failstop_availability(topo, data["client"], data["endpoints"], p,
                                  trials=args.trials, seed=args.seed + i)
        t_ours = time.perf_counter() - t0
        t0 = time.perf_counter()
        shuf = failstop_availability(topo, data["client"], data["endpoints"], p,
                                     trials=args.trials, seed=args.seed + i, sampler="shuffle")
        t_shuf = time.perf_counter() - t0
        tot_shuf += t_shuf
        t0 = time.perf_counter()
        base = _networkx_failstop(topo, data["client"], data["endpoints"], p,
                                  args.baseline_trials, args.seed + i)
        t_nx = time.perf_counter() - t0
        tot_ours += t_ours
        tot_nx += t_nx
        n_rows += 1
        print(f"{mode:7} {p:>4} {r.killed:>2}/{r.containers:<3}  {_rate(args.trials, t_ours)} "
              f"{r.aggregate:8.4f}   {_rate(args.trials, t_shuf)} {shuf.aggregate:8.4f}   "
              f"{_rate(args.baseline_trials, t_nx)} {base:8.4f}  "
              f"{(args.trials / t_ours) / (args.baseline_trials / t_nx):8.0f}x")
    ours_rate = n_rows * args.trials / tot_ours
    nx_rate = n_rows * args.baseline_trials / tot_nx
    print(f"all rows: ours {ours_rate:,.0f} trials/s (shuffle sampler "
          f"{n_rows * args.trials / tot_shuf:,.0f}); networkx loop {nx_rate:,.0f} trials/s; "
          f"speed-up {ours_rate / nx_rate:,.0f}x; target >= 1,000,000 trials/s: "
          f"{'met' if ours_rate >= 1e6 else 'NOT met'}")

    topo = layered_topology(args.size, seed=1)
    model = _compile(topo, None, "all", None, None, None)
    targets = model.targets
    print(f"\nSynthetic layered topology: {len(topo)} components, {len(topo.dependencies)} "
          f"edges, {len(targets)} entry points, {len(model.comps)} components in their "
          f"requires-closure")
    avail = {}
    for c in topo.components:
        a = replica_availability(c)
        avail[c.id] = 1.0 - (1.0 - a) ** c.replicas
    hosts = [c.id for c in topo.components if c.type in ("database", "cache")][:20]
    cases = [("serve=all", {"serve": "all"}), ("serve=any", {"serve": "any"}),
             ("serve=all + common cause (20 data stores, beta 0.2)",
              {"serve": "all", "common_cause": [{"members": hosts, "beta": 0.2}]})]
    mc_trials = max(args.trials // 4, 1)
    for label, kw in cases:
        t0 = time.perf_counter()
        r = system_availability(topo, method="montecarlo", trials=mc_trials, seed=args.seed,
                                **kw)
        t_ours = time.perf_counter() - t0
        line = (f"{label:52} ours {_rate(mc_trials, t_ours)}  A = {r.availability:.6f} "
                f"+/- {r.standard_error:.1e}")
        if "common_cause" not in kw:
            exact = system_availability(topo, **kw).availability if kw["serve"] == "all" \
                else math.nan
            t0 = time.perf_counter()
            base = _networkx_system(topo, targets, avail, args.baseline_trials // 5,
                                    args.seed, kw["serve"] == "all")
            t_nx = time.perf_counter() - t0
            line += (f"; networkx loop {_rate(args.baseline_trials // 5, t_nx)} "
                     f"A = {base:.4f}; speed-up "
                     f"{(mc_trials / t_ours) / ((args.baseline_trials // 5) / t_nx):,.0f}x")
            if not math.isnan(exact):
                line += f"; exact {exact:.6f}"
        print(line)


if __name__ == "__main__":
    main()
