"""Shared fixtures."""

from __future__ import annotations

import pytest

import faultray_lab as fl


@pytest.fixture(scope="module")
def demo() -> fl.Topology:
    """The 9-component demo topology shipped with the package."""
    return fl.load_topology(fl.demo_topology_path())


@pytest.fixture()
def close_figures():
    """Close every Matplotlib figure after the test (use with pytest.mark.usefixtures)."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
