"""Fail-stop Monte Carlo availability and the DeathStarBench reproduction.

The protocol (arXiv:2506.11176, ``faultray_lab/data/dsb-social-network.json``): each trial kills
K = max(1, ceil(p N)) of the N replica containers, uniformly without replacement; a service is
alive while one of its replicas is; a request to an endpoint succeeds when the client and every
target service are alive and reachable from the client through alive services; the aggregate
weights endpoints by their workload share.

Examples
--------
>>> kill_count(0.3, 12)
4
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from ..common.errors import InputError
from ..common.files import package_data
from ..common.parsing import parse_json, read_text
from ..common.validate import check_count
from ..importers.jaeger import import_jaeger_dependencies
from ..model.topology import Topology
from .layers import check_number, check_probability


# ---------------------------------------------------------------------------------------------
# Fail-stop Monte Carlo (the DeathStarBench protocol)
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FailstopResult:
    """Aggregate availability of a fail-stop run, with per-endpoint success fractions."""

    aggregate: float
    standard_error: float
    endpoints: Mapping[str, float]
    killed: int
    containers: int
    trials: int
    method: str


def kill_count(p_fail: float, containers: int) -> int:
    """K = max(1, ceil(p N)), with p N rounded to 9 decimals first so that float noise such as
    0.7 * 10 = 7.000000000000001 does not add a container.

    >>> kill_count(0.1, 12), kill_count(0.7, 22), kill_count(0.7, 10)
    (2, 16, 7)
    """
    return max(1, math.ceil(round(p_fail * containers, 9)))


@dataclass(frozen=True)
class _Failstop:
    services: tuple[str, ...]
    sizes: np.ndarray           # replicas per service
    weights: np.ndarray         # per endpoint
    names: tuple[str, ...]
    value_of_mask: np.ndarray   # alive-service mask -> weighted success (float)
    success_of_mask: np.ndarray  # (endpoints, masks) bool


def _reachable(alive: np.ndarray, client: int, edges: Sequence[tuple[int, int]]) -> np.ndarray:
    """Per row of ``alive`` (rows x services, bool): services reachable from the client over
    ``edges`` through alive services (the client included when alive)."""
    reach = np.zeros_like(alive)
    reach[:, client] = alive[:, client]
    changed = True
    while changed:
        changed = False
        for u, v in edges:
            new = reach[:, u] & alive[:, v] & ~reach[:, v]
            if new.any():
                reach[:, v] |= new
                changed = True
    return reach


def _compile_failstop(topology: Topology, client: str, endpoints: Mapping[str, Any]
                      ) -> _Failstop:
    topology.component(client)
    if not isinstance(endpoints, Mapping) or not endpoints:
        raise InputError(None, "endpoints", "endpoints must be a non-empty mapping",
                         "write {name: {'weight': w, 'targets': [ids]}}")
    s = len(topology)
    if s > 22:
        raise InputError(topology.source, None, f"{s} services; the fail-stop model tabulates "
                         "all 2^S alive sets and supports at most 22 services",
                         "restrict the graph to the services the endpoints use")
    names, weights, targets = [], [], []
    for name, ep in endpoints.items():
        if not isinstance(ep, Mapping) or "targets" not in ep:
            raise InputError(None, f"endpoints[{name!r}]", "an endpoint needs targets",
                             "write {'weight': w, 'targets': [ids]}")
        w = check_number(ep.get("weight", 1.0), f"endpoints[{name!r}].weight")
        ts = [topology.index[topology.component(t).id] for t in ep["targets"]]
        names.append(str(name))
        weights.append(w)
        targets.append(ts)
    wsum = sum(weights)
    if wsum <= 0:
        raise InputError(None, "endpoints", "the endpoint weights sum to 0",
                         "give at least one endpoint a positive weight")
    masks = np.arange(1 << s, dtype=np.int64)
    alive = ((masks[:, None] >> np.arange(s)) & 1).astype(bool)
    edges = sorted({(topology.index[e.source], topology.index[e.target])
                    for e in topology.dependencies if e.source != e.target})
    reach = _reachable(alive, topology.index[client], edges)
    success = np.array([reach[:, ts].all(axis=1) for ts in targets])
    w = np.array(weights) / wsum
    return _Failstop(topology.ids, np.array([c.replicas for c in topology.components]),
                     w, tuple(names), w @ success, success)


def _kill_subsets(n: int, k: int) -> np.ndarray:
    """All k-subsets of n containers as bit masks (uint64), by the recurrence
    S(n, k) = S(n-1, k) + (S(n-1, k-1) with bit n-1 set)."""
    rows: list[np.ndarray] = [np.zeros(1, dtype=np.uint64)] + [np.empty(0, np.uint64)] * k
    for i in range(n):
        bit = np.uint64(1 << i)
        for j in range(min(k, i + 1), 0, -1):
            rows[j] = np.concatenate([rows[j], rows[j - 1] | bit])
    return rows[k]


def _alive_masks(killed: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Alive-service mask per killed-container mask (containers numbered service by service)."""
    alive = np.zeros(killed.shape, dtype=np.int64)
    start = 0
    for sidx, size in enumerate(sizes):
        full = np.uint64(((1 << int(size)) - 1) << start)
        alive |= (((killed & full) != full).astype(np.int64) << sidx)
        start += int(size)
    return alive


def failstop_availability(
    topology: Topology,
    client: str,
    endpoints: Mapping[str, Any],
    p_fail: float,
    *,
    trials: int = 200_000,
    seed: int = 0,
    method: str = "montecarlo",
    sampler: str = "auto",
) -> FailstopResult:
    """Fail-stop availability: kill K = max(1, ceil(p N)) of the N replica containers uniformly
    without replacement; a service is alive while one of its replicas is; an endpoint succeeds
    when the client and all its targets are alive and each target is reachable from the client
    (over dependency edges) through alive services. The aggregate weights the endpoints.

    Parameters
    ----------
    topology : Topology
        Services and their replicas (e.g. from
        :func:`~faultray_lab.importers.jaeger.import_jaeger_dependencies`).
    client : str
        The entry service.
    endpoints : mapping
        ``{name: {"weight": w, "targets": [service ids]}}``; weights are normalised.
    p_fail : float
        Fraction of containers to kill, in [0, 1].
    trials, seed : int
        Monte Carlo trials and seed.
    method : {"montecarlo", "exact"}
        ``exact`` averages over every K-subset (the expectation the Monte Carlo estimates).
    sampler : {"auto", "table", "shuffle"}
        How a trial draws its K killed containers, uniformly without replacement: ``table``
        draws a uniform index into the list of all C(N, K) subsets (used by ``auto`` when
        there are at most 2^21 of them); ``shuffle`` runs a vectorized partial Fisher-Yates
        shuffle per trial (any size).

    Returns
    -------
    FailstopResult

    Examples
    --------
    >>> from faultray_lab import topology_from_dict
    >>> t = topology_from_dict({"components": [{"id": "c"}, {"id": "s", "replicas": 2}],
    ...                         "dependencies": [{"source": "c", "target": "s"}]})
    >>> r = failstop_availability(t, "c", {"e": {"targets": ["s"]}}, 0.3, method="exact")
    >>> r.killed, round(r.aggregate, 6)   # K = 1 of 3 containers: only killing c fails
    (1, 0.666667)
    """
    p = check_probability(p_fail, "p_fail")
    fs = _compile_failstop(topology, client, endpoints)
    n = int(fs.sizes.sum())
    if n > 62:
        raise InputError(topology.source, None, f"{n} containers; at most 62 are supported",
                         "use fewer replicas")
    k = min(n, kill_count(p, n))
    subsets_count = math.comb(n, k)
    if method == "exact":
        if subsets_count > 1 << 24:
            raise InputError(None, "method='exact'", f"C({n}, {k}) = {subsets_count} kill sets "
                             "is too many to enumerate", "use method='montecarlo'")
        alive = _alive_masks(_kill_subsets(n, k), fs.sizes)
        per = fs.success_of_mask[:, alive].mean(axis=1)
        return FailstopResult(float(fs.value_of_mask[alive].mean()), 0.0,
                              MappingProxyType(dict(zip(fs.names, per.tolist(), strict=True))),
                              k, n, 0, "exact")
    if method != "montecarlo":
        raise InputError(None, "method", f"unknown method {method!r}",
                         "use 'montecarlo' or 'exact'")
    if isinstance(trials, bool) or not isinstance(trials, int | np.integer) or trials < 2:
        raise InputError(None, "trials", f"trials must be a whole number >= 2, not {trials!r}",
                         "use for example 200000")
    if sampler not in ("auto", "table", "shuffle"):
        raise InputError(None, "sampler", f"unknown sampler {sampler!r}",
                         "use 'auto', 'table' or 'shuffle'")
    if sampler == "table" and subsets_count > 1 << 24:
        raise InputError(None, "sampler='table'", f"C({n}, {k}) = {subsets_count} kill sets "
                         "is too many to tabulate", "use sampler='shuffle'")
    check_count(seed, "seed", low=0, fix="use a whole number >= 0, for example 0")
    rng = np.random.default_rng(seed)
    if sampler == "table" or (sampler == "auto" and subsets_count <= 1 << 21):
        # a uniform K-subset is a uniform index into the list of all K-subsets
        table = _alive_masks(_kill_subsets(n, k), fs.sizes)
        alive = table[rng.integers(0, subsets_count, size=int(trials))]
    else:
        alive = np.concatenate([_alive_masks(_sample_kills(rng, n, k, c), fs.sizes)
                                for c in _chunks(int(trials), 1 << 18)])
    values = fs.value_of_mask[alive]
    mean = float(values.mean())
    se = float(values.std(ddof=1) / math.sqrt(trials))
    per = fs.success_of_mask[:, alive].mean(axis=1)
    return FailstopResult(mean, se, MappingProxyType(dict(zip(fs.names, per.tolist(),
                                                              strict=True))),
                          k, n, int(trials), "montecarlo")


def _chunks(total: int, size: int) -> list[int]:
    return [min(size, total - i) for i in range(0, total, size)]


def _sample_kills(rng: np.random.Generator, n: int, k: int, trials: int) -> np.ndarray:
    """``trials`` uniform k-subsets of n as bit masks, by a vectorized partial Fisher-Yates."""
    perm = np.tile(np.arange(n, dtype=np.int64), (trials, 1))
    rows = np.arange(trials)
    killed = np.zeros(trials, dtype=np.uint64)
    for j in range(k):
        r = j + rng.integers(0, n - j, size=trials)
        pick = perm[rows, r]
        perm[rows, r] = perm[:, j]
        perm[:, j] = pick
        killed |= np.left_shift(np.uint64(1), pick.astype(np.uint64))
    return killed


# ---------------------------------------------------------------------------------------------
# The DeathStarBench reproduction
# ---------------------------------------------------------------------------------------------
DSB_COLUMNS = ["mode", "p_fail", "containers", "killed", "model", "standard_error", "exact",
               "published_model", "published_live", "diff_vs_published", "z", "error_vs_live"]


def dsb_path() -> Path:
    """The packaged copy of ``dsb-social-network.json``."""
    return package_data("dsb-social-network.json")


def load_dsb(path: str | Path | None = None) -> dict[str, Any]:
    """Read the DSB validation case (graph, protocol, published table) as a dict."""
    name = str(path or dsb_path())
    data = parse_json(read_text(name), name)
    if not isinstance(data, Mapping):
        raise InputError(name, None, "the top level is not a mapping",
                         "use the dsb-social-network.json schema")
    for key in ("edges", "client", "endpoints", "replicas_in_repl_mode", "published_table_1"):
        if key not in data:
            raise InputError(name, None, f"missing key '{key}'",
                             "use the dsb-social-network.json schema")
    return data


def reproduce_dsb(path: str | Path | None = None, *, trials: int = 200_000, seed: int = 0,
                  published_sd: float = 0.0005) -> Any:
    """Re-run the published fail-stop protocol for every row of the published table.

    Each row is estimated by :func:`failstop_availability` (Monte Carlo, seed ``seed + row``)
    and computed exactly; ``z`` is the difference from the published model mean over the
    combined standard error ``sqrt(se^2 + published_sd^2)``.

    Returns
    -------
    pandas.DataFrame
        Columns ``DSB_COLUMNS``.

    Examples
    --------
    >>> t = reproduce_dsb(trials=20_000)
    >>> bool((t.z.abs() < 4).all())
    True
    """
    import pandas as pd

    data = load_dsb(path)
    name = str(path or dsb_path())
    topos = {"norepl": import_jaeger_dependencies(name),
             "repl": import_jaeger_dependencies(name, replicas=data["replicas_in_repl_mode"])}
    table = data["published_table_1"]
    cols = table["columns"]
    rows = []
    for i, raw in enumerate(table["rows"]):
        row = dict(zip(cols, raw, strict=True))
        topo = topos[row["mode"]]
        mc = failstop_availability(topo, data["client"], data["endpoints"], row["p_fail"],
                                   trials=trials, seed=seed + i)
        ex = failstop_availability(topo, data["client"], data["endpoints"], row["p_fail"],
                                   method="exact")
        diff = mc.aggregate - row["model_mean"]
        z = diff / math.sqrt(mc.standard_error ** 2 + published_sd ** 2)
        rows.append((row["mode"], row["p_fail"], mc.containers, mc.killed, mc.aggregate,
                     mc.standard_error, ex.aggregate, row["model_mean"], row["live_mean"],
                     diff, z, mc.aggregate - row["live_mean"]))
    return pd.DataFrame(rows, columns=DSB_COLUMNS)


def dsb_error_statistics(table: Any) -> Any:
    """Model-vs-live error statistics per mode: MAE, max absolute error, mean signed error
    (model - live) and Pearson r, from a :func:`reproduce_dsb` table.

    >>> s = dsb_error_statistics(reproduce_dsb(trials=20_000))
    >>> list(s.columns)
    ['mode', 'rows', 'mae', 'max_abs_error', 'mean_signed_error', 'pearson_r']
    """
    import pandas as pd

    out = []
    for mode, g in table.groupby("mode", sort=False):
        err = g["model"] - g["published_live"]
        r = float(np.corrcoef(g["model"], g["published_live"])[0, 1]) if len(g) > 1 else math.nan
        out.append((mode, len(g), float(err.abs().mean()), float(err.abs().max()),
                    float(err.mean()), r))
    return pd.DataFrame(out, columns=["mode", "rows", "mae", "max_abs_error",
                                      "mean_signed_error", "pearson_r"])
