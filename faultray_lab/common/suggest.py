""""Did you mean ...?": the one suggestion helper behind every error message.

Examples
--------
>>> suggest("postgress", ["nginx", "postgres"], "use one of the topology's ids")
"did you mean 'postgres'?"
>>> suggest("zzz", ["nginx", "postgres"], "use one of the topology's ids")
"use one of the topology's ids"
>>> one_of(["serial", "processes"])
'use one of serial, processes'
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

#: Longest list of choices an error message spells out in full.
MAX_LISTED = 12


def nearest(word: object, choices: Iterable[str], cutoff: float = 0.5) -> str | None:
    """The choice closest to ``word`` (difflib ratio >= ``cutoff``), or None."""
    near = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=cutoff)
    return near[0] if near else None


def one_of(choices: Iterable[str], limit: int = MAX_LISTED) -> str:
    """``use one of a, b, c`` (the first ``limit`` choices, then how many more)."""
    items = [str(c) for c in choices]
    text = ", ".join(items[:limit])
    if len(items) > limit:
        text += f" (and {len(items) - limit} more)"
    return f"use one of {text}"


def suggest(word: object, choices: Iterable[str], otherwise: str | None = None,
            cutoff: float = 0.5) -> str:
    """``did you mean 'x'?`` for the nearest choice, else ``otherwise`` (default: list them)."""
    items = list(choices)
    near = nearest(word, items, cutoff)
    if near is not None:
        return f"did you mean '{near}'?"
    return otherwise if otherwise is not None else one_of(items)
