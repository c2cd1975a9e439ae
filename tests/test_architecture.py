"""The house: layered subpackages, no import circles, small modules, old paths still working."""

from __future__ import annotations

import ast
import importlib
import warnings
from pathlib import Path

import networkx as nx
import pytest

import faultray_lab
from faultray_lab import _moved

PACKAGE = Path(faultray_lab.__file__).parent
#: Subpackages from the bottom up: each may import only those before it (and itself).
LAYERS = ("common", "model", "importers", "engine", "availability", "scenarios", "evaluation",
          "viz", "outputs", "cli")
MAX_MODULE_LINES = 600


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        name = ".".join(("faultray_lab", *parts))
        out[name.removesuffix(".__init__")] = path
    return out


def _imports(name: str, path: Path) -> set[str]:
    """Modules of the package that ``name`` imports, lazily imported ones included."""
    pkg = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = pkg[:len(pkg) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:  # `from . import x` imports the submodule x
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in MODULES else target)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("faultray_lab"):
            found.add(node.module)  # type: ignore[arg-type]
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("faultray_lab"))
    return {m for m in found if m != name}


MODULES = _modules()


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def test_every_module_is_in_a_layer() -> None:
    loose = [m for m in MODULES if m.count(".") >= 1 and _layer(m) is None
             and m not in ("faultray_lab._moved",)]
    assert loose == [], "put these modules in a subpackage"


def test_no_upward_imports() -> None:
    upward = []
    for name, path in MODULES.items():
        src = _layer(name)
        for target in _imports(name, path):
            dst = _layer(target)
            if src and dst and LAYERS.index(dst) > LAYERS.index(src):
                upward.append(f"{name} -> {target}")
    assert upward == []


def test_no_import_circles() -> None:
    graph = nx.DiGraph()
    for name, path in MODULES.items():
        for target in _imports(name, path):
            if target in MODULES:
                graph.add_edge(name, target)
    cycles = list(nx.simple_cycles(graph))
    assert cycles == []


def test_modules_are_small() -> None:
    big = {name: n for name, path in MODULES.items()
           if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert big == {}


def test_public_names_resolve() -> None:
    for name in faultray_lab.__all__:
        assert getattr(faultray_lab, name) is not None, name
    assert callable(faultray_lab.backtest) and not isinstance(faultray_lab.backtest, type(ast))


@pytest.mark.parametrize("old", sorted(_moved.MOVED))
def test_old_module_paths_still_work(old: str) -> None:
    module = importlib.import_module(f"faultray_lab.{old}")
    new = [importlib.import_module(f"faultray_lab.{m}") for m in _moved.MOVED[old]]
    name = next(n for m in new for n in vars(m) if not n.startswith("_") and n[0].isalpha()
                and getattr(m, n).__class__.__name__ in ("function", "type"))
    with pytest.warns(DeprecationWarning, match="moved to"):
        assert getattr(module, name) is not None
    with pytest.raises(AttributeError):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module.no_such_name  # noqa: B018


def test_old_names_of_packages_still_work() -> None:
    with pytest.warns(DeprecationWarning):
        from faultray_lab.scenarios import run_sweep  # noqa: F401
    with pytest.warns(DeprecationWarning):
        from faultray_lab.availability import availability_layers  # noqa: F401
    with pytest.warns(DeprecationWarning):
        from faultray_lab.widgets import compare, evaluate  # noqa: F401
