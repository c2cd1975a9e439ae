"""Sphinx helpers of the faultray-lab docs: tables generated from the package's own tables.

Directives (usable in MyST pages as ```` ```{schema-table} component ```` and so on):

``schema-table NAME``
    A schema table flattened by :func:`faultray_lab.model.schema.schema_rows`: ``top``,
    ``component``, ``edge``, or the dotted path of any mapping of ``Key`` rows (for example
    ``faultray_lab.evaluation.incidents.FAULT_SCHEMA``). These are the tables the loaders
    validate against, so the reference cannot drift from the code.
``rule-table NAME``
    A built-in rule set's transition table (:meth:`faultray_lab.engine.rules.RuleSet.table`).
``registry-table NAME``
    One of the package's registries (see :data:`REGISTRIES`): fault types, predicates, time
    expressions, baselines, figures, recovery mechanisms, rule sets, the public API.

Build-time setup called from ``conf.py``: :func:`link_notebooks` (``docs/notebooks`` points at
the repository's notebooks, so they are rendered from where they live), :func:`kernel_profile`
(the notebook kernels show JSON displays as text) and :func:`write_api_pages` (the API index,
one autosummary per subpackage, from the package's folders).
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx import addnodes
from sphinx.application import Sphinx

# ---------------------------------------------------------------------------------------------
# Table building
# ---------------------------------------------------------------------------------------------
_CODE = re.compile(r"``?([^`]+)``?")


class Ref:
    """A cell that links to a Python object documented in the API pages."""

    def __init__(self, target: str, text: str | None = None) -> None:
        self.target = target
        self.text = text or target


class Code:
    """A cell shown as inline code."""

    def __init__(self, text: str) -> None:
        self.text = text


def _inline(text: str) -> list[nodes.Node]:
    """Plain text whose `backticked` parts become inline code."""
    out: list[nodes.Node] = []
    pos = 0
    for m in _CODE.finditer(text):
        if m.start() > pos:
            out.append(nodes.Text(text[pos:m.start()]))
        out.append(nodes.literal(m.group(1), m.group(1)))
        pos = m.end()
    if pos < len(text):
        out.append(nodes.Text(text[pos:]))
    return out


def _cell(value: Any) -> nodes.entry:
    para = nodes.paragraph()
    if isinstance(value, Ref):
        xref = addnodes.pending_xref("", refdomain="py", reftype="obj", reftarget=value.target,
                                     refexplicit=True, refwarn=False)
        xref += nodes.literal(value.text, value.text, classes=["xref", "py", "py-obj"])
        para += xref
    elif isinstance(value, Code):
        para += nodes.literal(value.text, value.text)
    else:
        para.extend(_inline("" if value is None else str(value)))
    return nodes.entry("", para)


def make_table(header: Sequence[str], rows: Sequence[Sequence[Any]],
               widths: Sequence[int] | None = None) -> nodes.table:
    """A docutils table node from a header and rows of cells (str, :class:`Code`, :class:`Ref`)."""
    table = nodes.table(classes=["generated-table", "colwidths-given"])
    group = nodes.tgroup(cols=len(header))
    table += group
    for w in widths or [1] * len(header):
        group += nodes.colspec(colwidth=w)
    head = nodes.thead()
    row = nodes.row()
    for h in header:
        row += _cell(h)
    head += row
    group += head
    body = nodes.tbody()
    for r in rows:
        row = nodes.row()
        for v in r:
            row += _cell(v)
        body += row
    group += body
    return table


def _resolve(dotted: str) -> Any:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


# ---------------------------------------------------------------------------------------------
# The tables
# ---------------------------------------------------------------------------------------------
def schema_table(name: str) -> tuple[list[str], list[list[Any]], list[int]]:
    from faultray_lab.model.schema import schema_rows

    table = name if name in ("top", "component", "edge") else _resolve(name)
    rows = [[Code(r["key"]), r["kind"], Code(r["default"] or '""'), r["meaning"]]
            for r in schema_rows(table)]
    return ["key", "kind", "default", "meaning"], rows, [30, 7, 17, 46]


def rule_table(name: str) -> tuple[list[str], list[list[Any]], list[int]]:
    from faultray_lab.engine.rules import get_ruleset

    df = get_ruleset(name).table()
    cols = ["rule", "edge", "upstream", "breaker", "when", "then", "dt_s", "doc"]
    rows = []
    for r in df[cols].itertuples(index=False):
        cells = dict(zip(cols, r, strict=True))
        rows.append([Code(cells["rule"]), cells["edge"].replace("|", ", "),
                     cells["upstream"].replace("|", ", "), cells["breaker"],
                     Code(cells["when"]), cells["then"], cells["dt_s"], cells["doc"]])
    return (["rule", "edge", "upstream", "breaker", "when", "then", "dt (s)", "meaning"], rows,
            [11, 12, 14, 9, 19, 12, 11, 22])


def _faults() -> tuple[list[str], list[list[Any]], list[int]]:
    from faultray_lab.engine.faults import FAULT_EFFECTS

    return (["fault type", "target becomes", "target time (s)"],
            [[Code(f), h, f"{t:g}"] for f, (h, t) in FAULT_EFFECTS.items()], [30, 20, 15])


def _predicates() -> tuple[list[str], list[list[Any]], list[int]]:
    from faultray_lab.engine.rules import PREDICATES

    return (["predicate", "reads", "meaning"],
            [[Code(p.name), ", ".join(p.reads) or "(nothing)", p.doc]
             for p in PREDICATES.values()], [30, 40, 40])


def _time_expressions() -> tuple[list[str], list[list[Any]], list[int]]:
    from faultray_lab.engine.rules import TIME_EXPRESSIONS

    return (["time expression", "reads"],
            [[Code(t.name), ", ".join(t.reads) or "(nothing: a constant)"]
             for t in TIME_EXPRESSIONS.values()], [30, 50])


def _rulesets() -> tuple[list[str], list[list[Any]], list[int]]:
    from faultray_lab.engine.rules import RULESETS

    return (["rule set", "traversal", "merge", "rows", "description"],
            [[Code(r.name), r.traversal, r.merge, len(r.rules), r.description]
             for r in RULESETS.values()], [14, 14, 12, 6, 54])


def _baselines() -> tuple[list[str], list[list[Any]], list[int]]:
    from faultray_lab.evaluation.baselines import BASELINES

    return (["baseline", "predicts"], [[Code(b.name), b.doc] for b in BASELINES.values()],
            [25, 75])


def _figures() -> tuple[list[str], list[list[Any]], list[int]]:
    from faultray_lab.outputs.figures import FIGURES

    def plot_ref(spec: Any) -> Any:
        fn = spec.plot
        name = getattr(fn, "__name__", "")
        for mod in ("cascade", "sweep", "evaluation", "availability"):
            m = importlib.import_module(f"faultray_lab.viz.{mod}")
            if hasattr(m, name):
                return Ref(f"faultray_lab.viz.{mod}.{name}", name)
        return Code(name)

    return (["figure", "drawn by", "caption"],
            [[Code(f.name), plot_ref(f), f.caption] for f in FIGURES.values()], [25, 30, 45])


def _recovery_mechanisms() -> tuple[list[str], list[list[Any]], list[int]]:
    from faultray_lab.evaluation.incidents import RECOVERY_MECHANISMS, RECOVERY_RANK

    return (["mechanism", "rank", "meaning"],
            [[Code(m), RECOVERY_RANK[m], doc] for m, doc in RECOVERY_MECHANISMS.items()],
            [14, 6, 80])


def _public_api() -> tuple[list[str], list[list[Any]], list[int]]:
    import faultray_lab

    exports = faultray_lab._EXPORTS  # the lazy-import table of the package
    rows = [[Code(f"fl.{name}"), Ref(f"faultray_lab.{mod}.{name}", f"{mod}.{name}")]
            for name, mod in sorted(exports.items(), key=lambda kv: (kv[1], kv[0]))]
    rows.append([Code("fl.demo_topology_path"),
                 Ref("faultray_lab.demo_topology_path", "demo_topology_path")])
    return ["name (``import faultray_lab as fl``)", "defined in"], rows, [40, 60]


#: The registries ``registry-table`` can show.
REGISTRIES: dict[str, Callable[[], tuple[list[str], list[list[Any]], list[int]]]] = {
    "faults": _faults, "predicates": _predicates, "time-expressions": _time_expressions,
    "rulesets": _rulesets, "baselines": _baselines, "figures": _figures,
    "recovery-mechanisms": _recovery_mechanisms, "public-api": _public_api,
}


class _TableDirective(Directive):
    required_arguments = 1
    has_content = False
    source: Callable[[str], tuple[list[str], list[list[Any]], list[int]]]

    def run(self) -> list[nodes.Node]:
        try:
            header, rows, widths = type(self).source(self.arguments[0])
        except Exception as exc:  # a wrong name is a build error, with the reason
            raise self.error(f"{self.name} {self.arguments[0]}: {exc}") from exc
        return [make_table(header, rows, widths)]


class SchemaTable(_TableDirective):
    source = staticmethod(schema_table)


class RuleTable(_TableDirective):
    source = staticmethod(rule_table)


class RegistryTable(_TableDirective):
    @staticmethod
    def source(name: str) -> tuple[list[str], list[list[Any]], list[int]]:
        if name not in REGISTRIES:
            raise KeyError(f"no registry '{name}'; use one of {', '.join(REGISTRIES)}")
        return REGISTRIES[name]()


# ---------------------------------------------------------------------------------------------
# Build-time setup called from conf.py
# ---------------------------------------------------------------------------------------------
def link_notebooks(docs: Path, root: Path) -> None:
    """Make ``docs/notebooks`` a link to ``<root>/notebooks`` (kept if it already exists).

    The notebooks are rendered and executed where they live, so their relative paths
    (``../incidents/...``) resolve as they do under nbval and papermill.
    """
    link = docs / "notebooks"
    if link.is_symlink() or link.exists():
        return
    os.symlink(os.path.relpath(root / "notebooks", docs), link, target_is_directory=True)


_STARTUP = """\
# Written by docs/_ext/faultray_docs.py for the documentation build's notebook kernels:
# IPython.display.JSON shows its data as indented JSON text (the HTML pages have no JSON viewer).
import json

from IPython import get_ipython
from IPython.display import JSON


def _json_text(obj, p, cycle):
    p.text(json.dumps(obj.data, indent=2, default=str))


get_ipython().display_formatter.formatters["text/plain"].for_type(JSON, _json_text)
"""


def kernel_profile(ipython_dir: Path) -> Path:
    """An IPython directory for the build's kernels whose startup file renders JSON displays
    as text; returns the directory (to be set as ``IPYTHONDIR``)."""
    startup = ipython_dir / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    (startup / "00-json-as-text.py").write_text(_STARTUP)
    return ipython_dir


#: Subpackages in layer order (each imports only the ones before it); others follow.
LAYERS = ("common", "model", "importers", "engine", "availability", "scenarios", "evaluation",
          "viz", "outputs", "cli")
_API_HEADER = """\
API reference
=============

Generated from the docstrings (NumPy style). The subpackages below are in layer order: each may
import only the ones listed before it.

The package
-----------

.. py:module:: faultray_lab

``faultray_lab`` is layered: {layers}.

.. autofunction:: faultray_lab.demo_topology_path

The public names, imported lazily by ``import faultray_lab as fl``, each documented where it is
defined:

.. registry-table:: public-api

.. py:currentmodule:: None

"""


def write_api_pages(api_dir: Path) -> None:
    """Write ``api/index.rst``: an autosummary (recursive) per subpackage, in layer order.

    The command-line package is listed module by module instead of recursively, because its
    ``__main__`` module runs the command when imported.
    """
    import faultray_lab

    found = [m.name for m in pkgutil.iter_modules(faultray_lab.__path__)
             if m.ispkg and not m.name.startswith("_")]
    order = [p for p in LAYERS if p in found] + sorted(set(found) - set(LAYERS))
    lines = [_API_HEADER.format(layers=" < ".join(f"``{p}``" for p in order))]
    for pkg in order:
        full = f"faultray_lab.{pkg}"
        mod = importlib.import_module(full)
        lines += [f"``{pkg}``", "-" * (len(pkg) + 4), ""]
        if pkg == "cli":
            subs = [f"{full}.{m.name}" for m in pkgutil.iter_modules(mod.__path__)
                    if not m.name.startswith("_")]
            lines += [".. autosummary::", "   :toctree: generated", "",
                      f"   {full}", *(f"   {s}" for s in subs), ""]
        else:
            lines += [".. autosummary::", "   :toctree: generated", "   :recursive:", "",
                      f"   {full}", ""]
    api_dir.mkdir(parents=True, exist_ok=True)
    text = "\n".join(lines)
    index = api_dir / "index.rst"
    if not index.exists() or index.read_text() != text:  # unchanged file: no rebuild
        index.write_text(text)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("schema-table", SchemaTable)
    app.add_directive("rule-table", RuleTable)
    app.add_directive("registry-table", RegistryTable)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
