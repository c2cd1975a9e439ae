"""Scenario sweeps: run many scenarios, serially, on processes or on a Dask cluster.

A scenario runs each fault from a fresh all-healthy state (plus a traffic-spike chain when its
multiplier is above 1) and merges the chains by the rule set's merge policy
(:mod:`faultray_lab.engine.merge`): under ``faultray-v11`` the effects are concatenated
(duplicates kept), under ``cps`` the worst health wins per component; the likelihood is merged
the same way under both. Risk is the severity of the merged chain; ``critical`` is risk >= 7,
``warning`` 4 <= risk < 7, ``passed`` otherwise.

Examples
--------
>>> from faultray_lab import load_topology, demo_topology_path
>>> df = run_sweep(load_topology(demo_topology_path()), rules="faultray-v11")
>>> df["class"].value_counts().to_dict()
{'passed': 150, 'warning': 84, 'critical': 21}
"""

from __future__ import annotations

import gc
import math
import os
from collections.abc import Sequence
from typing import Any

from ..common.errors import InputError
from ..common.suggest import suggest
from ..engine.rules import get_ruleset
from ..model.topology import Topology, check_topology
from .evaluate import SWEEP_COLUMNS, evaluator_for
from .generate import Scenario, count_scenarios, iter_scenarios
from .resilience import resilience_score, spof_rows

EXECUTORS = ("serial", "processes", "dask")


def _check_sweep_args(topology: Topology, rules: Any, max_scenarios: Any,
                      executor: Any) -> None:
    check_topology(topology)
    get_ruleset(rules)
    if max_scenarios is not None and (isinstance(max_scenarios, bool)
                                      or not isinstance(max_scenarios, int)
                                      or max_scenarios < 1):
        raise InputError(None, "max_scenarios", f"max_scenarios must be a whole number >= 1 or "
                         f"None (all), not {max_scenarios!r}", "use for example 2000, or None")
    if executor not in EXECUTORS:
        raise InputError(None, "executor", f"unknown executor '{executor}'",
                         suggest(executor, EXECUTORS, cutoff=0.4))


def run_sweep(topology: Topology, scenarios: Sequence[Scenario] | None = None,
              rules: Any = "cps", max_scenarios: int | None = 2000,
              executor: str = "serial", scheduler: Any = None,
              progress: bool | None = None) -> Any:
    """Run a scenario sweep and return one row per scenario.

    Single-fault chains come from the vectorized table of :mod:`faultray_lab.engine.fastpath`
    (exactly what :func:`~faultray_lab.engine.cascade.simulate_fault` gives); other chains (traffic
    spikes, cps latency spikes, custom rule sets) are simulated once each and reused.

    Parameters
    ----------
    topology : Topology
    scenarios : sequence of Scenario, optional
        Default: the reference's default scenarios (:func:`iter_scenarios`), generated lazily.
    rules : str or RuleSet
        ``"cps"`` (default) or ``"faultray-v11"``.
    max_scenarios : int or None
        Keep the first ``max_scenarios`` scenarios in generation order (the reference keeps
        2000); None runs them all.
    executor : {"serial", "processes", "dask"}
        Where chunks of scenarios run. All three give identical DataFrames.
    scheduler : str or distributed.Client, optional
        For ``"dask"``: a scheduler address such as ``tcp://host:8786`` or a Client; None
        starts a LocalCluster.
    progress : bool, optional
        A tqdm progress bar on stderr: None shows it only when the sweep runs longer than a
        second, False never, True always.

    Returns
    -------
    DataFrame
        Columns ``id``, ``faults``, ``traffic_multiplier``, ``likelihood``, ``risk``,
        ``class``, ``affected``, ``down``, ``overloaded``, ``degraded`` (distinct components by
        their worst health) and ``outcome`` (a 128-bit fingerprint of the merged health map:
        scenarios with equal fingerprints have identical merged outcomes).

    Raises
    ------
    InputError
        Unknown rule set or executor, ``max_scenarios < 1``, unreachable Dask scheduler,
        a scenario naming an unknown component or fault type.

    Examples
    --------
    >>> from faultray_lab import load_topology, demo_topology_path
    >>> df = run_sweep(load_topology(demo_topology_path()), rules="faultray-v11")
    >>> df.sort_values("risk", ascending=False, kind="stable").iloc[0]["id"]
    'traffic-10x'
    """
    import pandas as pd

    cols = sweep_columns(topology, scenarios, rules, max_scenarios, executor, scheduler,
                         progress)
    df = pd.DataFrame(cols, columns=SWEEP_COLUMNS)
    return df


def sweep_columns(topology: Topology, scenarios: Sequence[Scenario] | None = None,
                  rules: Any = "cps", max_scenarios: int | None = 2000,
                  executor: str = "serial", scheduler: Any = None,
                  progress: bool | None = None) -> dict[str, list[Any]]:
    """:func:`run_sweep` as a dict of column lists (no pandas import; used by the CLI)."""
    _check_sweep_args(topology, rules, max_scenarios, executor)
    if scenarios is not None:
        scenarios = list(scenarios)
        for s in scenarios:
            if not isinstance(s, Scenario):
                raise InputError(None, "scenarios", f"expected Scenario objects, not "
                                 f"{type(s).__name__}", "build them with Scenario(id, faults)")
            m = s.traffic_multiplier
            if isinstance(m, bool) or not isinstance(m, int | float) or not m > 0 or m == math.inf:
                raise InputError(None, f"scenario {s.id}", f"traffic_multiplier must be a "
                                 f"positive number, not {m!r}", "use 1.0 for no traffic spike")
        total = len(scenarios)
    else:
        total = count_scenarios(topology)
    stop = total if max_scenarios is None else min(total, max_scenarios)
    chunk = _chunk_size(stop, executor)
    ranges = [(a, min(a + chunk, stop)) for a in range(0, stop, chunk)]
    parts = _run_ranges(topology, scenarios, rules, ranges, executor, scheduler, progress)
    out: dict[str, list[Any]] = {c: [] for c in SWEEP_COLUMNS}
    for p in parts:
        for c in SWEEP_COLUMNS:
            out[c].extend(p[c])
    return out


def _chunk_size(stop: int, executor: str) -> int:
    if executor == "serial":
        return max(1, min(20_000, stop))
    return max(256, min(20_000, math.ceil(stop / 32)))


def _eval_range(topology: Topology, scenarios: Sequence[Scenario] | None, rules: Any,
                a: int, b: int) -> dict[str, list[Any]]:
    items = scenarios[a:b] if scenarios is not None else iter_scenarios(topology, a, b)
    return evaluator_for(topology, rules).evaluate(items)


def _progress_bar(total: int, progress: bool | None) -> Any:
    if progress is False:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="scenario", delay=0.0 if progress else 1.0,
                file=None, leave=False, desc="sweep")


def _run_ranges(topology: Topology, scenarios: Sequence[Scenario] | None, rules: Any,
                ranges: list[tuple[int, int]], executor: str, scheduler: Any,
                progress: bool | None) -> list[dict[str, list[Any]]]:
    total = ranges[-1][1] if ranges else 0
    bar = _progress_bar(total, progress) if ranges else None
    try:
        if executor == "serial":
            parts = []
            for a, b in ranges:
                parts.append(_eval_range(topology, scenarios, rules, a, b))
                if bar is not None:
                    bar.update(b - a)
            return parts
        if executor == "processes":
            return _run_processes(topology, scenarios, rules, ranges, bar)
        return _run_dask(topology, scenarios, rules, ranges, scheduler, bar)
    finally:
        if bar is not None:
            bar.close()


_WORKER: dict[str, Any] = {}


def _proc_init(topology: Topology, scenarios: Sequence[Scenario] | None, rules: Any) -> None:
    _WORKER["args"] = (topology, scenarios, rules)


def _proc_task(ab: tuple[int, int]) -> dict[str, list[Any]]:
    topology, scenarios, rules = _WORKER["args"]
    return _eval_range(topology, scenarios, rules, *ab)


def _run_processes(topology: Topology, scenarios: Sequence[Scenario] | None, rules: Any,
                   ranges: list[tuple[int, int]], bar: Any) -> list[dict[str, list[Any]]]:
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    workers = max(1, min(len(ranges), os.cpu_count() or 1))
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    # forked workers inherit the parent's objects; frozen, the cyclic GC of each worker leaves
    # them alone instead of scanning them (and copying their pages) again and again
    gc.freeze()
    try:
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_proc_init,
                                 initargs=(topology, scenarios, rules)) as pool:
            parts = []
            for (a, b), part in zip(ranges, pool.map(_proc_task, ranges), strict=True):
                parts.append(part)
                if bar is not None:
                    bar.update(b - a)
    finally:
        gc.unfreeze()
    return parts


def _dask_client(scheduler: Any) -> tuple[Any, list[Any]]:
    """A client for ``scheduler`` (an address, a Client, or None: a new LocalCluster), and
    the objects this call created and must close."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - the extra is not installed
        raise InputError(None, "executor", "executor 'dask' needs dask.distributed",
                         "pip install 'faultray-lab[dask]'") from None
    if scheduler is None:
        cluster = LocalCluster(processes=True, threads_per_worker=1, dashboard_address=None)
        client = Client(cluster)
        return client, [client, cluster]
    if isinstance(scheduler, Client):
        return scheduler, []
    if not isinstance(scheduler, str) or not scheduler:
        raise InputError(None, "scheduler", f"scheduler must be an address string, not "
                         f"{scheduler!r}", "use for example tcp://HOST:8786")
    timeout = float(os.environ.get("FAULTRAY_LAB_DASK_TIMEOUT", "5"))
    try:
        client = Client(scheduler, timeout=timeout)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(None, "scheduler", f"cannot reach the Dask scheduler at "
                         f"'{scheduler}' within {timeout:g} s ({type(exc).__name__})",
                         "start one with `dask scheduler` (and workers with `dask worker "
                         "tcp://HOST:8786`), or omit --scheduler for a local cluster") from None
    return client, [client]


def _run_dask(topology: Topology, scenarios: Sequence[Scenario] | None, rules: Any,
              ranges: list[tuple[int, int]], scheduler: Any,
              bar: Any) -> list[dict[str, list[Any]]]:
    client, owned = _dask_client(scheduler)
    try:
        from distributed import as_completed

        # hash=False: fresh keys, so an earlier sweep releasing its data cannot take ours
        topo_f = client.scatter(topology, broadcast=True, hash=False)
        sc_f = (client.scatter(scenarios, broadcast=True, hash=False)
                if scenarios is not None else None)
        futures = [client.submit(_eval_range, topo_f, sc_f, rules, a, b, pure=False)
                   for a, b in ranges]
        order = {f.key: i for i, f in enumerate(futures)}
        parts: list[Any] = [None] * len(futures)
        for fut in as_completed(futures):
            i = order[fut.key]
            parts[i] = fut.result()
            if bar is not None:
                bar.update(ranges[i][1] - ranges[i][0])
        return parts
    finally:
        for obj in owned:
            obj.close()


# ---------------------------------------------------------------------------------------------
# Reports (shared by `demo --json` and `sweep --json`)
# ---------------------------------------------------------------------------------------------
def sweep_report(topology: Topology, rules: Any = "cps", max_scenarios: int | None = 2000,
                 executor: str = "serial", scheduler: Any = None, progress: bool | None = None,
                 top: int = 10, include_results: bool = False) -> dict[str, Any]:
    """The sweep summary the CLI prints: counts, distinct outcomes, score, SPOFs, top risks.

    >>> from faultray_lab import load_topology, demo_topology_path
    >>> r = sweep_report(load_topology(demo_topology_path()), rules="faultray-v11")
    >>> r["scenarios"], r["critical"], r["warning"], r["passed"], r["resilience_score"]
    (255, 21, 84, 150, 50.0)
    """
    cols = sweep_columns(topology, None, rules, max_scenarios, executor, scheduler, progress)
    classes = cols["class"]
    order = sorted(range(len(classes)), key=lambda i: -cols["risk"][i])[:top]
    stop = len(classes)
    top_risks = []
    if order:
        ev = evaluator_for(topology, rules)
        for i in order:
            s = next(iter_scenarios(topology, i, i + 1))
            top_risks.append({"id": s.id, "risk": cols["risk"][i], "class": classes[i],
                              "faults": [list(f) for f in s.faults],
                              "traffic_multiplier": s.traffic_multiplier,
                              "cascade": ev.merged_health(s)})
    report: dict[str, Any] = {
        "scenarios": stop,
        "generated": count_scenarios(topology),
        "critical": classes.count("critical"),
        "warning": classes.count("warning"),
        "passed": classes.count("passed"),
        "distinct_outcomes": len(set(cols["outcome"])),
        "resilience_score": resilience_score(topology),
        "spofs": spof_rows(topology, rules),
        "top_risks": top_risks,
    }
    if include_results:
        report["results"] = [dict(zip(SWEEP_COLUMNS, row, strict=True))
                             for row in zip(*(cols[c] for c in SWEEP_COLUMNS), strict=True)]
    return report
