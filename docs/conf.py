"""Sphinx configuration of the faultray-lab documentation.

Build (warnings are errors, nothing is downloaded)::

    pip install -e ".[docs]" && sphinx-build -W --keep-going -b html docs docs/_build/html

Generated at build time, never committed: the schema reference tables, the rule tables and the
registries (``_ext/faultray_docs.py``), the API pages (``api/generated``), the command-line
reference (sphinx-argparse) and the executed notebooks (``notebooks`` is a link to the
repository's ``notebooks/`` folder, made here).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(ROOT))
# the notebooks' kernels inherit these: figures are drawn headless, and the IPython profile of
# the build (made under _build, see faultray_docs.kernel_profile) shows JSON outputs as text
os.environ.setdefault("MPLBACKEND", "agg")
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")

from faultray_docs import kernel_profile, link_notebooks, write_api_pages  # noqa: E402

import faultray_lab  # noqa: E402

link_notebooks(DOCS, ROOT)
os.environ["IPYTHONDIR"] = str(kernel_profile(DOCS / "_build" / "ipython"))
write_api_pages(DOCS / "api")

project = "faultray-lab"
author = "the faultray-lab authors"
copyright = "the faultray-lab authors, Apache-2.0"  # noqa: A001
release = version = faultray_lab.__version__

extensions = [
    "myst_nb",  # MyST Markdown pages and executed notebooks
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinxarg.ext",
    "faultray_docs",
]

exclude_patterns = [
    "_build", "**/.ipynb_checkpoints", "notebooks/*.md", "notebooks/*.py",
    "notebooks/**/*.md", "Thumbs.db", ".DS_Store",
]
# no intersphinx and no remote images: the build needs no network
# A type such as ``iterable of (health, weight)`` in a NumPy docstring links each word; a word that
# names several attributes (``Cascade.health``, ``Effect.health``) is ambiguous, and Sphinx links
# it to the first. "ref.python" is the Python domain's warning for exactly that ambiguity.
# "mystnb.unknown_mime_type": see nb_mime_priority_overrides below.
suppress_warnings = ["ref.python", "mystnb.unknown_mime_type"]

# --- MyST and notebooks ----------------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist", "dollarmath"]
myst_heading_anchors = 3
nb_execution_mode = "cache"
nb_execution_cache_path = str(DOCS / "_build" / ".jupyter_cache")
nb_execution_timeout = 900          # seconds, per cell (nbclient's unit)
nb_execution_raise_on_error = True  # a failing notebook fails the build
nb_execution_show_tb = True
nb_merge_streams = True
# A cell's JSON display (the `summary` cells) has no HTML renderer: its text form is shown
# instead, which the build's IPython profile makes the indented JSON itself. MyST-NB still warns
# about the JSON form it skips (mystnb.unknown_mime_type, silenced above); an output with no
# renderable form at all still warns ("No output mime type found", mystnb.mime_priority).
nb_mime_priority_overrides = [("html", "application/json", None)]

# --- API reference ---------------------------------------------------------------------------
autosummary_generate = True
templates_path = ["_templates"]
autosummary_imported_members = False
autodoc_default_options = {"members": True, "show-inheritance": False}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False
napoleon_preprocess_types = False

# --- HTML --------------------------------------------------------------------------------------
html_theme = "furo"
html_title = f"faultray-lab {release}"
html_static_path = ["_static"]
html_css_files = ["faultray.css"]
html_show_sourcelink = False
html_theme_options = {"navigation_with_keys": True}
