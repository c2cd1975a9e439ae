"""The HTML report of one topology: a papermill-run notebook, converted to one HTML file.

:func:`build_report` executes the report notebook shipped with the package
(``faultray_lab/data/report.ipynb``) for a topology with papermill and converts it with nbconvert
into a single self-contained HTML file: no input cells, images embedded as base64, no scripts
or stylesheets loaded from the network. The notebook's cells only call the section functions
below (worst single failure, resilience score, top risks, SPOFs, availability layers, every
single failure), which return Markdown, DataFrames and figures.

Every string that comes from the user (component ids and names, file names) reaches the HTML
through exactly one escaping step, so a hostile id (``<script>``, ``<img onerror=...>``,
``[x](javascript:...)``, backticks) shows as text and never runs: Markdown built here passes it
through :func:`md_text` (HTML entities plus Markdown backslash escapes) or :func:`md_code` (a
code span no backtick inside can close), tables through :func:`table` (pandas' HTML escaping of
every cell and label), image alternative text and the page title through the template's
``escape_html``.

Examples
--------
>>> from faultray_lab import load_topology, demo_topology_path
>>> topo = load_topology(demo_topology_path())
>>> worst_single_failure(topo).target
'postgres'
>>> top_risks(run_report_sweep(topo, "faultray-v11"), 1).id.tolist()
['traffic-10x']
"""

from __future__ import annotations

import hashlib
import html
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from ..common.errors import InputError
from ..common.files import atomic_write_text, check_writable_target, package_data
from ..engine.cascade import simulate_fault
from ..engine.effects import Cascade
from ..importers.native import load_topology
from ..model.topology import Topology

REPORT_NOTEBOOK = package_data("report.ipynb")

#: A Jinja template on top of nbconvert's ``lab`` template that loads nothing from the network
#: (no require.js, MathJax, Mermaid or widget manager scripts), so the file is self-contained.
_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{% block data_png scoped %}
<div class="jp-RenderedImage jp-OutputArea-output {{ extra_class }}">
<img src="data:image/png;base64,{{ output.data['image/png'] | escape_html }}" alt="
{{- (output | get_metadata('alt', 'image/png') or 'figure') | escape_html }}">
</div>
{% endblock data_png %}
"""


# ---------------------------------------------------------------------------------------------
# Escaping user-provided text
# ---------------------------------------------------------------------------------------------
#: Markdown's inline punctuation, escaped with a backslash (``&<>"'`` become HTML entities).
_MD_PUNCT = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$:=/])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def md_text(value: object) -> str:
    r"""A user-provided string as inert Markdown text: it renders as exactly these characters,
    never as markup, a link or HTML (control characters and line breaks become spaces).

    >>> md_text('<script>x</script> [a](javascript:b) `c`')
    '&lt;script&gt;x&lt;\\/script&gt; \\[a\\]\\(javascript\\:b\\) \\`c\\`'
    """
    text = _CONTROL.sub(" ", str(value))
    return html.escape(_MD_PUNCT.sub(r"\\\1", text), quote=True)


def md_code(value: object) -> str:
    """A user-provided string in monospace: a Markdown code span whose fence is longer than
    any run of backticks inside, so its content is always literal (the renderer escapes it).

    >>> md_code("a`b")
    '``a`b``'
    >>> md_code("")
    ''
    """
    text = _CONTROL.sub(" ", str(value))
    if not text.strip():
        return md_text(text)
    fence = "`" * (max((len(r) for r in re.findall("`+", text)), default=0) + 1)
    pad = " " if text[0] in "` " or text[-1] in "` " else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_list(values: Any) -> str:
    """Comma-separated user-provided strings, escaped (:func:`md_text`)."""
    return ", ".join(md_text(v) for v in values)


# ---------------------------------------------------------------------------------------------
# Sections (called by the report notebook)
# ---------------------------------------------------------------------------------------------
def report_title(topology: Topology) -> str:
    """The report's title: ``faultray-lab report: <file name without extension>``.

    >>> from faultray_lab import load_topology, demo_topology_path
    >>> report_title(load_topology(demo_topology_path()))
    'faultray-lab report: demo'
    """
    return f"faultray-lab report: {Path(topology.source).stem}"


def heading(topology: Topology, rules: str = "cps") -> str:
    """The Markdown heading: title, size, rule set."""
    from .. import __version__

    n_req = sum(1 for e in topology.dependencies if e.type == "requires")
    return (f"# {md_text(report_title(topology))}\n\n"
            f"{md_code(Path(topology.source).name)}: {len(topology)} components, "
            f"{len(topology.dependencies)} dependencies ({n_req} requires); cascades under the "
            f"`{rules}` rules; faultray-lab {__version__}.")


def worst_single_failure(topology: Topology, rules: str = "cps") -> Cascade:
    """The ``component_down`` fault with the highest severity (ties: most down, file order).

    >>> from faultray_lab import load_topology, demo_topology_path
    >>> worst_single_failure(load_topology(demo_topology_path()), "faultray-v11").severity
    5.3
    """
    from ..engine.fastpath import single_fault_table

    df = single_fault_table(topology, rules)
    order = sorted(range(len(df)), key=lambda i: (-df["severity"].iat[i], -df["down"].iat[i], i))
    return simulate_fault(topology, str(df["component"].iat[order[0]]), rules=rules)


def describe_cascade(cascade: Cascade) -> str:
    """One Markdown sentence on a cascade (component ids escaped, :func:`md_text`)."""
    down = cascade.down
    text = (f"{md_code(cascade.fault)} on **{md_list(cascade.targets)}** affects "
            f"{len(cascade.health)} of {cascade.total_components} components and takes "
            f"{len(down)} down ({md_list(down)}); severity **{cascade.severity:.1f}** / 10, "
            f"likelihood {cascade.likelihood:g}.")
    if cascade.tripped_breakers:
        text += " Tripped breakers: " + ", ".join(f"{md_text(a)} \\-&gt; {md_text(b)}"
                                                  for a, b in cascade.tripped_breakers) + "."
    return text


def show(fig: Any, alt: str = "figure", dpi: int = 150) -> None:
    """Display a figure as an embedded PNG with alternative text (backend independent)."""
    from IPython.display import Image, display

    from ..viz.style import figure_png

    display(Image(data=figure_png(fig, dpi=dpi)), metadata={"image/png": {"alt": alt}})


def table(df: Any, decimals: int = 3) -> Any:
    """A DataFrame styled for the report: no index column, floats with fixed decimals, every
    cell and label HTML-escaped (ids are user-provided)."""
    return (df.style.hide(axis="index").format(precision=decimals, na_rep="", escape="html")
            .format_index(escape="html", axis=1))


def score_section(topology: Topology) -> str:
    """The structural resilience score (docs: semantics 2.6) and its penalties, as Markdown."""
    from ..scenarios.resilience import resilience_breakdown

    b = resilience_breakdown(topology)
    parts = ", ".join(f"{k} -{b[k]:g}" for k in ("spof", "host", "failover", "utilization",
                                                  "depth"))
    return (f"Resilience score **{b['score']:g}** / 100 (penalties: {parts}). A structural "
            "score: it reads replicas, failover, hosts, utilization and depth, not cascades.")


def run_report_sweep(topology: Topology, rules: str = "cps") -> Any:
    """The default scenario sweep (the reference's first 2000 scenarios), without progress bar."""
    from ..scenarios.sweep import run_sweep

    return run_sweep(topology, rules=rules, progress=False)


def top_risks(sweep: Any, n: int = 10) -> Any:
    """The ``n`` riskiest scenarios of a sweep (ties keep generation order)."""
    cols = ["id", "traffic_multiplier", "risk", "class", "affected", "down"]
    df = sweep.sort_values("risk", ascending=False, kind="stable").head(n)
    return df[cols].reset_index(drop=True)


def class_counts(sweep: Any) -> str:
    """Scenario counts per class, as Markdown."""
    counts = sweep["class"].value_counts()
    return (f"{len(sweep)} scenarios: **{int(counts.get('critical', 0))} critical** "
            f"(risk >= 7), {int(counts.get('warning', 0))} warning (4 to 7), "
            f"{int(counts.get('passed', 0))} passed.")


def risk_figure(sweep: Any) -> Any:
    """The risk distribution of a sweep (critical and warning thresholds marked)."""
    from ..viz.sweep import plot_risk_distribution

    return plot_risk_distribution(sweep)


def spof_section(topology: Topology, rules: str = "cps") -> tuple[Any, str]:
    """Single points of failure (semantics 2.6's definition) and a Markdown sentence."""
    from ..scenarios.resilience import spofs

    df = spofs(topology, rules=rules)
    if df.empty:
        return df, "No single point of failure: every required component has replicas or failover."
    worst = df.sort_values(["down", "affected"], ascending=False, kind="stable").iloc[0]
    return df, (f"{len(df)} single points of failure (one replica, no failover, at least one "
                f"`requires` dependent). The worst, **{md_text(worst['component'])}**, takes "
                f"{int(worst['down'])} of {len(topology)} components down.")


def availability_section(topology: Topology) -> tuple[Any, str]:
    """The five availability layers (docs: semantics 4) and a Markdown sentence."""
    from ..availability.layers import availability_layers

    s = availability_layers(topology)
    return s.table, (f"Availability ceiling **{s.ceiling:.6f}** (binding layer: "
                     f"**{s.binding_layer}**), floor {s.floor:.6f}. The ceiling is the least "
                     "layer; no amount of redundancy elsewhere lifts it above the binding one.")


def availability_figure(topology: Topology) -> Any:
    """The availability layers figure, binding layer highlighted."""
    from ..availability.layers import availability_layers
    from ..viz.availability import plot_availability_layers

    return plot_availability_layers(availability_layers(topology))


def single_failures(topology: Topology, rules: str = "cps") -> Any:
    """Every component's ``component_down`` fault: affected, down, severity (worst first)."""
    from ..engine.fastpath import single_fault_table

    df = single_fault_table(topology, rules)
    cols = ["component", "affected", "down", "degraded", "likelihood", "severity"]
    return df.sort_values("severity", ascending=False, kind="stable")[cols].reset_index(drop=True)


def footer(topology: Topology) -> str:
    """Provenance: the topology file's SHA-256 and the versions (no timestamps: reproducible)."""
    import platform

    from .. import __version__

    digest = _sha256(topology.source)
    return (f"---\nGenerated by faultray-lab {__version__} (Python {platform.python_version()}) "
            f"from {md_code(Path(topology.source).name)}" +
            (f", SHA-256 `{digest[:16]}...`." if digest else "."))


def _sha256(path: str) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""


# ---------------------------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------------------------
def notebook_to_html(nb: Any, title: str) -> str:
    """Convert an executed notebook to one self-contained HTML page without input cells.

    Outputs written to stderr (warnings, progress bars) are dropped.
    """
    import jinja2
    from nbconvert import HTMLExporter

    nb.metadata["title"] = title
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"] = [o for o in cell.get("outputs", [])
                               if not (o.get("output_type") == "stream"
                                       and o.get("name") == "stderr")]
    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, embed_images=True,
                            extra_loaders=[jinja2.DictLoader({"report.html.j2": _TEMPLATE})],
                            template_file="report.html.j2")
    body, _ = exporter.from_notebook_node(nb)
    return body


def build_report(topology_path: str | os.PathLike[str], output: str | os.PathLike[str],
                 rules: str = "cps", top_n: int = 10, kernel: str = "python3",
                 timeout: int = 900) -> Path:
    """Execute the report notebook for one topology and write it as one HTML file.

    Parameters
    ----------
    topology_path : path
        The topology file (.yaml or .json); it is loaded (and checked) before anything runs.
    output : path
        The HTML file to write (atomically; parent folders are created).
    rules : str
        ``"cps"`` or ``"faultray-v11"``.
    top_n : int
        How many top risks to list.
    kernel : str
        The Jupyter kernel papermill runs the notebook in.
    timeout : int
        Per-cell timeout in seconds.

    Returns
    -------
    Path
        The HTML file.

    Raises
    ------
    InputError
        A bad topology file, rule set or ``top_n``.
    """
    from ..engine.rules import get_ruleset
    from .notebooks import execute_notebook

    topo = load_topology(topology_path)  # bad input fails here, before a kernel starts
    check_writable_target(output)        # so does an output that is a folder or a device
    rs = get_ruleset(rules).name
    if isinstance(top_n, bool) or not isinstance(top_n, int) or top_n < 1:
        raise InputError(None, "top_n", f"top_n must be a whole number >= 1, not {top_n!r}",
                         "use for example 10")
    with tempfile.TemporaryDirectory(prefix="faultray-report-") as tmp:
        executed = Path(tmp) / "report.ipynb"
        nb = execute_notebook(
            REPORT_NOTEBOOK, executed,
            parameters={"topology_path": str(Path(topology_path).resolve()), "rules": rs,
                        "top_n": top_n},
            cwd=tmp, kernel=kernel, timeout=timeout)
    html = notebook_to_html(nb, report_title(topo))
    return atomic_write_text(output, html)
