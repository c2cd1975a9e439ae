"""JSON output: the one cleaner that turns results into plain JSON values, and canonical JSON.

Examples
--------
>>> import numpy as np
>>> to_jsonable({"a": (np.int64(1), float("nan")), "b": {2, 1}})
{'a': [1, None], 'b': [1, 2]}
>>> canonical_json({"b": 1, "a": [1.5, "x"]})
'{"a":[1.5,"x"],"b":1}'
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any


def to_jsonable(obj: Any, *, nan_to_none: bool = True) -> Any:
    """``obj`` as plain JSON values: numpy scalars and arrays become Python numbers and lists,
    tuples lists, sets sorted lists, mappings dicts (string keys kept as they are), and NaN or
    infinite floats None (unless ``nan_to_none`` is False, when they are kept for the caller to
    refuse)."""
    if obj is None or isinstance(obj, str | bool):
        return obj
    if isinstance(obj, int):
        return obj
    if isinstance(obj, float):  # numpy's float64 too
        return None if nan_to_none and not math.isfinite(obj) else float(obj)
    if isinstance(obj, Mapping):
        return {k: to_jsonable(v, nan_to_none=nan_to_none) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v, nan_to_none=nan_to_none) for v in obj]
    if isinstance(obj, set | frozenset):
        return [to_jsonable(v, nan_to_none=nan_to_none) for v in sorted(obj)]
    import numpy as np

    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return to_jsonable(float(obj), nan_to_none=nan_to_none)
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist(), nan_to_none=nan_to_none)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def dumps(obj: Any) -> str:
    """Indented JSON text of ``obj`` (cleaned by :func:`to_jsonable`), ending in a newline."""
    return json.dumps(to_jsonable(obj), indent=2) + "\n"


def canonical_json(obj: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8, finite numbers only (NaN is an error)."""
    return json.dumps(to_jsonable(obj, nan_to_none=False), sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False, allow_nan=False)
