"""Every docstring example in the package runs (docs show working code)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import faultray_lab

MODULES = sorted(m.name for m in pkgutil.walk_packages(faultray_lab.__path__, "faultray_lab.")
                 if not m.name.endswith("__main__"))


@pytest.mark.parametrize("name", ["faultray_lab", *MODULES])
def test_docstring_examples(name: str, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("MPLBACKEND", "agg")
    monkeypatch.chdir(tmp_path)  # examples that write files write here
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
