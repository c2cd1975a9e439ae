"""Old import paths of the flat 0.1 layout, kept working with a DeprecationWarning.

Until the package was split into subpackages, every module sat at the top level
(``faultray_lab.widgets``, ``faultray_lab.prospective``, ...). Importing such a path now gives a
small alias module whose attributes are looked up in the modules that hold them today, with a
warning naming the new place. Nothing in the package itself uses these paths.

Examples
--------
>>> import warnings
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")
...     from faultray_lab.widgets import evaluate
>>> evaluate.__module__
'faultray_lab.scenarios.whatif'
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
import types
import warnings
from collections.abc import Callable, Sequence
from typing import Any

#: Old module -> the modules (relative to the package) that now hold its public names.
MOVED: dict[str, tuple[str, ...]] = {
    "errors": ("common.errors",),
    "fileio": ("common.files",),
    "yamlio": ("common.yamlio",),
    "topology": ("model.topology", "model.schema", "importers.native", "common.parsing",
                 "common.suggest"),
    "rules": ("engine.rules", "engine.faults", "engine.merge"),
    "cascade": ("engine.cascade", "engine.effects", "engine.severity", "engine.merge"),
    "agents": ("engine.agents",),
    "fastpath": ("engine.fastpath", "scenarios.evaluate"),
    "synthetic": ("importers.synthetic",),
    "terraform": ("importers.terraform", "importers.terraform_resources", "scenarios.plan_gate"),
    "failstop": ("availability.failstop", "importers.jaeger"),
    "incidents": ("evaluation.incidents",),
    "prospective": ("evaluation.prospective", "evaluation.ledger", "evaluation.robustness",
                    "evaluation.predict", "common.files"),
    "recovery": ("evaluation.recovery.candidates", "evaluation.recovery.models",
                 "evaluation.recovery.features", "evaluation.recovery.labels",
                 "evaluation.severity", "evaluation.predict"),
    "widgets": ("scenarios.whatif", "viz.widgets", "viz.style"),
    "plots": ("viz.style", "viz.cascade", "viz.sweep", "viz.evaluation", "viz.availability"),
    "paper": ("outputs.paper", "outputs.tables", "outputs.analyses", "outputs.figures",
              "evaluation.published"),
    "report": ("outputs.report",),
    "notebooks": ("outputs.notebooks",),
}
#: Old module names that are subpackages now: their old public names, looked up in these.
MOVED_INTO_PACKAGE: dict[str, tuple[str, ...]] = {
    "scenarios": ("scenarios.generate", "scenarios.sweep", "scenarios.resilience",
                  "engine.fastpath"),
    "availability": ("availability.layers", "availability.system"),
}


def lookup(package: str, old: str, modules: Sequence[str], name: str) -> Any:
    """``name`` from the first of ``modules`` that defines it, with a DeprecationWarning."""
    for rel in modules:
        mod = importlib.import_module(f"{package}.{rel}")
        if hasattr(mod, name):
            warnings.warn(f"{package}.{old}.{name} moved to {package}.{rel}.{name}",
                          DeprecationWarning, stacklevel=3)
            return getattr(mod, name)
    raise AttributeError(f"module '{package}.{old}' has no attribute '{name}'")


def package_getattr(package: str, old: str) -> Callable[[str], Any]:
    """A module ``__getattr__`` that serves the old names of a module that became a package."""
    return lambda name: lookup(package, old, MOVED_INTO_PACKAGE[old], name)


class _Finder:
    """Finds ``faultray_lab.<old module>`` and creates its alias module.

    A meta path finder and loader by protocol (``find_spec``, ``create_module``,
    ``exec_module``); it does not subclass ``importlib.abc``, whose import alone costs
    about 10 ms at every start of the command line.
    """

    def __init__(self, package: str) -> None:
        self.package = package

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        prefix, _, old = fullname.rpartition(".")
        if prefix != self.package or old not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: Any) -> types.ModuleType:
        old = spec.name.rpartition(".")[2]
        module = types.ModuleType(spec.name, f"Moved: see {', '.join(MOVED[old])}.")
        module.__getattr__ = lambda name: lookup(self.package, old, MOVED[old], name)  # type: ignore[attr-defined]
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        return None


def install(package: str) -> None:
    """Put the alias finder on ``sys.meta_path`` (once)."""
    if not any(isinstance(f, _Finder) and f.package == package for f in sys.meta_path):
        sys.meta_path.append(_Finder(package))
