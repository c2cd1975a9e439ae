"""The rule compiler: a rule table turned into per-edge outcome arrays for one topology.

For every edge (in the dependents CSR order of :class:`CompiledTopology`) and every upstream
health (degraded, overloaded, down), :func:`compile_rules` records which row of the table
fires, the dependent's new health rank (0: no effect) and the row's propagation time, with no
injected latency (``upstream_latency_ms`` is None, as everywhere except a cps latency spike).

It never hand-codes which fields matter: each predicate and time expression declares the fields
it reads (:class:`~faultray_lab.engine.rules.Predicate`), the compiler groups the edges by the
values of exactly those fields and evaluates the table once per group with the interpreter
(:func:`~faultray_lab.engine.rules.match_index`). A predicate that reads a field it did not
declare is refused (:class:`~faultray_lab.common.errors.InputError`), so the arrays always equal
what the interpreter gives edge by edge.

Compiled artefacts are cached per topology object (and dropped with it).

Examples
--------
>>> from faultray_lab import load_topology, demo_topology_path
>>> from faultray_lab.engine.rules import get_ruleset
>>> topo = load_topology(demo_topology_path())
>>> table = compile_rules(topo, get_ruleset("faultray-v11"))
>>> cg = compiled_topology(topo)
>>> p = cg.ptr[topo.index["postgres"]]          # first dependent edge of postgres
>>> topo.ids[cg.dep[p]], table.rank[3][p], table.rule_name(3, p)
('tool-db-query', 3, 'R2')
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from ..common.errors import InputError
from ..model.topology import HEALTH_ORDER, HEALTH_RANK, Topology
from .rules import STATE_FIELDS, EdgeContext, RuleSet, match_index

# ---------------------------------------------------------------------------------------------
# One cache per topology object, dropped with it
# ---------------------------------------------------------------------------------------------
_CACHES: dict[int, tuple[Any, dict[Any, Any]]] = {}


def topology_cache(topology: Topology) -> dict[Any, Any]:
    """A dict of derived artefacts that lives as long as ``topology`` (keyed by identity)."""
    key = id(topology)
    entry = _CACHES.get(key)
    if entry is not None and entry[0]() is topology:
        return entry[1]
    cache: dict[Any, Any] = {}
    _CACHES[key] = (weakref.ref(topology, _dropper(key)), cache)
    return cache


def _dropper(key: int) -> Any:
    def drop(ref: Any) -> None:
        caches = _CACHES if isinstance(_CACHES, dict) else None  # None at interpreter exit
        if caches is not None and key in caches and caches[key][0] is ref:
            del caches[key]
    return drop


def ruleset_cache(topology: Topology, ruleset: RuleSet, kind: str) -> dict[Any, Any]:
    """A dict of ``kind`` artefacts for this topology and this rule set object (rule sets are
    immutable, so identity is the key; hashing the table on every lookup would cost more than
    the lookups save)."""
    cache = topology_cache(topology)
    entry = cache.get((kind, id(ruleset)))
    if entry is None or entry[0] is not ruleset:
        entry = cache[(kind, id(ruleset))] = (ruleset, {})
    return entry[1]


# ---------------------------------------------------------------------------------------------
# The topology as compact arrays
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CompiledTopology:
    """The dependents lists (upstream -> dependents, in edge order) as CSR.

    ``ptr[u]:ptr[u + 1]`` indexes upstream ``u``'s dependents ``dep`` and their edge positions
    ``edge`` (plain lists, fastest for the depth-first traversal); ``src``, ``dst`` and ``eidx``
    hold the same as numpy arrays (upstream, dependent and edge position per CSR position).
    """

    n: int
    ptr: list[int]
    dep: list[int]
    edge: list[int]
    src: Any
    dst: Any
    eidx: Any


def compiled_topology(topology: Topology) -> CompiledTopology:
    """The (cached) :class:`CompiledTopology` of a topology."""
    cache = topology_cache(topology)
    cg = cache.get("csr")
    if cg is None:
        import numpy as np

        idx = topology.index
        deps = topology.dependencies
        m = len(deps)
        get = idx.__getitem__
        up = np.fromiter(map(get, map(attrgetter("target"), deps)), dtype=np.int64, count=m)
        dn = np.fromiter(map(get, map(attrgetter("source"), deps)), dtype=np.int64, count=m)
        order = np.argsort(up, kind="stable")  # per upstream, edges in insertion order
        src, dst = up[order], dn[order]
        ptr = np.zeros(len(topology) + 1, dtype=np.int64)
        np.cumsum(np.bincount(src, minlength=len(topology)), out=ptr[1:])
        cg = cache["csr"] = CompiledTopology(len(topology), ptr.tolist(), dst.tolist(),
                                             order.tolist(), src, dst, order)
    return cg


# ---------------------------------------------------------------------------------------------
# The rule table compiled onto the edges
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EdgeTable:
    """A rule set evaluated on every edge of a topology, for each upstream health.

    ``rank[h][p]`` is the dependent's new health rank (0 none, 1 degraded, 2 overloaded,
    3 down) when the upstream of CSR position ``p`` has rank ``h`` (1..3); ``row[h][p]`` the
    index of the firing row (-1 none) and ``dt[h][p]`` its propagation time in seconds. Index 0
    of each list is unused. ``rank_array`` holds ``rank`` as one numpy array (4 x edges) for
    the vectorized paths; ``monotone`` says whether a worse upstream never gives a milder outcome
    on any edge, and ``fixpoint_ready`` whether, besides, no edge gives its dependent a worse
    health than its upstream's: then the least fixpoint can be computed level by level.
    """

    ruleset: RuleSet
    rank: tuple[list[int], ...]
    row: tuple[list[int], ...]
    dt: tuple[list[float], ...]
    monotone: bool
    rank_array: Any = None
    fixpoint_ready: bool = False

    def rule_name(self, h: int, p: int) -> str | None:
        """The name of the row that fires at CSR position ``p`` for upstream rank ``h``."""
        i = self.row[h][p]
        return None if i < 0 else self.ruleset.rules[i].name


class _Undeclared(Exception):
    """A predicate or time expression read a field it did not declare."""


class _Restricted:
    """A read-only view of an object that allows only the declared attributes."""

    __slots__ = ("_obj", "_allowed", "_role")

    def __init__(self, obj: Any, allowed: frozenset[str], role: str) -> None:
        object.__setattr__(self, "_obj", obj)
        object.__setattr__(self, "_allowed", allowed)
        object.__setattr__(self, "_role", role)

    def __getattr__(self, name: str) -> Any:
        if name not in self._allowed:
            raise _Undeclared(f"{self._role}.{name}")
        return getattr(self._obj, name)


def _hashable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple(sorted(((str(k), _hashable(v)) for k, v in value.items())))
    if isinstance(value, list | tuple | set | frozenset):
        return tuple(_hashable(v) for v in value)
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def _codes(values: list[Any]) -> Any:
    """Integer codes of values (equal values, equal codes), in first-appearance order."""
    import numpy as np

    try:
        index = {v: i for i, v in enumerate(dict.fromkeys(values))}
    except TypeError:  # an unhashable value, e.g. a parameters mapping
        values = [_hashable(v) for v in values]
        index = {v: i for i, v in enumerate(dict.fromkeys(values))}
    return np.fromiter(map(index.__getitem__, values), dtype=np.int64, count=len(values))


class _Sentinel:
    """Stands for a state field an expression did not declare: any use of it is refused."""

    def __init__(self, field: str) -> None:
        self.field = field

    def _refuse(self, *_: Any) -> Any:
        raise _Undeclared(self.field)

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __bool__ = __hash__ = _refuse
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __float__ = _refuse


def _combine(cols: list[Any], m: int) -> Any:
    """One integer per row naming the row's values in ``cols`` (equal rows, equal integers)."""
    import numpy as np

    key = np.zeros(m, dtype=np.int64)
    span = 1
    for col in cols:  # mixed radix while it fits in 62 bits, else pairwise re-coding
        size = int(col.max()) + 1 if len(col) else 1
        if span * size >= 1 << 62:  # re-code the pairs seen so far densely
            key = np.unique(np.stack([key, col], axis=1), axis=0, return_inverse=True)[1]
            key = key.reshape(-1).astype(np.int64)
            span = int(key.max()) + 1 if len(key) else 1
        else:
            key = key * size + col
            span *= size
    return key


class _Columns:
    """Integer codes of any field, per CSR position or per component (each computed once per
    topology)."""

    def __init__(self, topology: Topology, cg: CompiledTopology) -> None:
        self.topology, self.cg, self.memo = topology, cg, {}

    def per_component(self, attr: str) -> Any:
        """Per component, the code of its ``attr``."""
        col = self.memo.get(("component", attr))
        if col is None:
            col = _codes(list(map(attrgetter(attr), self.topology.components)))
            self.memo[("component", attr)] = col
        return col

    def __call__(self, field: str) -> Any:
        """Per CSR position, the code of ``dependent.<attr>``, ``upstream.<attr>`` or
        ``edge.<attr>``."""
        col = self.memo.get(field)
        if col is None:
            cg, (role, _, attr) = self.cg, field.partition(".")
            if role == "edge":
                col = _codes(list(map(attrgetter(attr), self.topology.dependencies)))[cg.eidx]
            else:
                col = self.per_component(attr)[cg.dst if role == "dependent" else cg.src]
            self.memo[field] = col
        return col


def _signatures(topology: Topology, cg: CompiledTopology, ruleset: RuleSet) -> Any:
    """Per CSR position, one integer naming everything the interpreter's answer depends on.

    That is the edge type and breaker flag, the outcome of every predicate for every upstream
    health, and the value of every time expression (with no injected latency). Each predicate
    and time expression is evaluated once per distinct value of the fields it declares (per
    component when it reads one component only), on views that refuse any other field, so a
    continuous field such as utilization costs one call per distinct value, not one interpreter
    run per edge. An expression that reads no field cannot tell edges apart and adds nothing.
    """
    import numpy as np

    m = len(cg.dep)
    cache = topology_cache(topology)
    column = cache.get("columns")
    if column is None:
        column = cache["columns"] = _Columns(topology, cg)
    comps, deps = topology.components, topology.dependencies
    cols = [column("edge.type"), column("edge.circuit_breaker")]
    seen: set[int] = set()
    for expr in (x for r in ruleset.rules for x in (r.when, r.dt)):
        if id(expr) in seen:
            continue
        seen.add(id(expr))
        fields = [f for f in expr.reads if f not in STATE_FIELDS]  # type: ignore[union-attr]
        if not fields:
            continue
        healths = (1, 2, 3) if "upstream_health" in expr.reads else (0,)  # type: ignore[union-attr]
        roles = {f.partition(".")[0] for f in fields}
        if len(roles) == 1 and roles != {"edge"}:  # one component: group the components
            role = roles.pop()
            key = _combine([column.per_component(f.partition(".")[2]) for f in fields],
                           len(comps))
            _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
            at = cg.dst if role == "dependent" else cg.src
            for h in healths:
                values = [_apply(ruleset, expr, comps[i], comps[i], deps[0] if deps else None, h)
                          for i in first.tolist()]
                cols.append(_codes(values)[inverse.reshape(-1)][at])
            continue
        key = _combine([column(f) for f in fields], m)
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        for h in healths:
            values = [_apply(ruleset, expr, comps[int(cg.dst[p])], comps[int(cg.src[p])],
                             deps[int(cg.eidx[p])], h) for p in first.tolist()]
            cols.append(_codes(values)[inverse.reshape(-1)])
    return _combine(cols, m)


def _apply(ruleset: RuleSet, expr: Any, dependent: Any, upstream: Any, edge: Any,
           h: int) -> Any:
    """One predicate or time expression on one edge's objects, seeing only the fields it
    declares (``h`` 0: it does not read the upstream's health)."""
    reads = expr.reads
    allowed = {role: frozenset(f.partition(".")[2] for f in reads if f.startswith(role + "."))
               for role in ("dependent", "upstream", "edge")}
    ctx = EdgeContext(
        _Restricted(dependent, allowed["dependent"], "dependent"),
        _Restricted(upstream, allowed["upstream"], "upstream"),
        _Restricted(edge, allowed["edge"], "edge"),
        HEALTH_ORDER[h] if h else _Sentinel("upstream_health"),  # type: ignore[arg-type]
        None if "upstream_latency_ms" in reads else _Sentinel("upstream_latency_ms"))  # type: ignore[arg-type]
    try:
        return expr.fn(ctx)
    except _Undeclared as exc:
        rule = next(r.name for r in ruleset.rules if expr in (r.when, r.dt))
        raise InputError(None, f"rule {rule}", f"{expr.name} reads {exc.args[0]} without "
                         "declaring it", f"add '{exc.args[0]}' to its reads") from None


def compile_rules(topology: Topology, ruleset: RuleSet) -> EdgeTable:
    """The (cached) :class:`EdgeTable` of ``ruleset`` on ``topology``.

    Raises
    ------
    InputError
        A predicate or time expression reads a field it does not declare.
    """
    import numpy as np

    cache = ruleset_cache(topology, ruleset, "rules")
    if "table" in cache:
        return cache["table"]
    cg = compiled_topology(topology)
    comps, deps = topology.components, topology.dependencies
    m = len(cg.dep)
    reads = ruleset.reads
    ranks = [[0] * m for _ in range(4)]
    rows = [[-1] * m for _ in range(4)]
    dts = [[0.0] * m for _ in range(4)]
    rank_array = np.zeros((4, m), dtype=np.int64)
    monotone = True
    if m:
        sig = _signatures(topology, cg, ruleset)
        _, first, inverse = np.unique(sig, return_index=True, return_inverse=True)
        inverse = inverse.reshape(-1)
        allowed = {role: frozenset(f.partition(".")[2] for f in reads if f.startswith(role + "."))
                   for role in ("dependent", "upstream", "edge")}
        allowed["edge"] |= {"type", "circuit_breaker"}  # every row matches on these
        per_sig = np.zeros((4, len(first)), dtype=np.int64)
        row_sig = np.full((4, len(first)), -1, dtype=np.int64)
        dt_sig = np.zeros((4, len(first)), dtype=float)
        for j, p in enumerate(first.tolist()):
            d, u, e = comps[int(cg.dst[p])], comps[int(cg.src[p])], deps[int(cg.eidx[p])]
            prev = 0
            views = (_Restricted(d, allowed["dependent"], "dependent"),
                     _Restricted(u, allowed["upstream"], "upstream"),
                     _Restricted(e, allowed["edge"], "edge"))
            for h in (1, 2, 3):
                ctx = EdgeContext(*views, HEALTH_ORDER[h], None)
                i, dt = _evaluate(ruleset, ctx)
                if i is not None:
                    then = ruleset.rules[i].then
                    row_sig[h, j] = i
                    per_sig[h, j] = 0 if then is None else HEALTH_RANK[then]
                    dt_sig[h, j] = dt
                monotone = monotone and per_sig[h, j] >= prev
                prev = per_sig[h, j]
        rank_array = per_sig[:, inverse]
        for h in (1, 2, 3):
            ranks[h] = rank_array[h].tolist()
            rows[h] = row_sig[h][inverse].tolist()
            dts[h] = dt_sig[h][inverse].tolist()
    ready = monotone and all(bool((rank_array[h] <= h).all()) for h in (1, 2, 3))
    table = cache["table"] = EdgeTable(ruleset, tuple(ranks), tuple(rows), tuple(dts), monotone,
                                       rank_array, ready)
    return table


def _evaluate(ruleset: RuleSet, ctx: EdgeContext) -> tuple[int | None, float]:
    """The firing row and its time, or an InputError naming a row that reads undeclared
    fields."""
    try:
        i = match_index(ruleset, ctx)
        return i, (0.0 if i is None else ruleset.rules[i].dt.fn(ctx))  # type: ignore[union-attr]
    except _Undeclared as exc:
        field = exc.args[0]
    for _, r in ruleset.candidates[(ctx.edge.type, bool(ctx.edge.circuit_breaker),
                                    ctx.upstream_health)]:
        for what in (r.when, r.dt):
            try:
                what.fn(ctx)  # type: ignore[union-attr]
            except _Undeclared:
                raise InputError(None, f"rule {r.name}", f"{what.name} reads {field} "  # type: ignore[union-attr]
                                 "without declaring it", f"add '{field}' to its reads"
                                 ) from None
    raise InputError(None, f"rule set {ruleset.name}", f"a rule reads {field} without "
                     "declaring it", f"add '{field}' to its reads")
