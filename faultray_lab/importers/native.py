"""The native topology format: a YAML or JSON file in the reference's schema.

Examples
--------
>>> from faultray_lab import demo_topology_path
>>> topo = load_topology(demo_topology_path())
>>> len(topo), len(topo.dependencies)
(9, 12)
"""

from __future__ import annotations

import os

from ..common.errors import InputError, show
from ..common.parsing import parse_text, read_text
from ..model.schema import topology_from_dict
from ..model.topology import Topology


def load_topology(path: str | os.PathLike[str], *, strict_dag: bool = False) -> Topology:
    """Load and validate a topology from a YAML or JSON file.

    Parameters
    ----------
    path : str or PathLike
        A ``.yaml``/``.yml`` or ``.json`` file in the topology schema
        (:mod:`faultray_lab.model.schema`).
    strict_dag : bool
        Reject dependency cycles (cycles are allowed by default).

    Returns
    -------
    Topology

    Raises
    ------
    InputError
        A path that is not a string or PathLike; a missing, empty, special (FIFO, device) or
        too large file (see :mod:`faultray_lab.common.parsing`); malformed YAML/JSON; unknown
        keys (with the nearest valid key), duplicate ids, edges to unknown ids, unknown types,
        replicas < 1, negative or NaN numbers, or a cycle with ``strict_dag``.

    Examples
    --------
    >>> from faultray_lab import demo_topology_path
    >>> load_topology(demo_topology_path()).component("postgres").type
    'database'
    """
    text = read_text(path)  # checks the argument's type first
    name = os.fspath(path)
    if not isinstance(strict_dag, bool):
        raise InputError(None, "strict_dag", f"strict_dag must be True or False, not "
                         f"{show(strict_dag)}", "pass strict_dag=True to refuse cycles")
    data = parse_text(text, name)
    return topology_from_dict(data, source=name, text=text, strict_dag=strict_dag)
