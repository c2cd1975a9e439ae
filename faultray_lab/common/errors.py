"""One error type for every kind of bad input.

Every message names the file, the location inside it (component id, edge index, key path and the
line when the parser knows it) and the fix, so a user can repair the input without reading code.

Examples
--------
>>> err = InputError("topo.yaml", "components[2] (id 'db').capcity", "unknown key 'capcity'",
...                  "did you mean 'capacity'?", line=14)
>>> print(err)
topo.yaml:14: components[2] (id 'db').capcity: unknown key 'capcity'. Fix: did you mean 'capacity'?
>>> show(10 ** 400)
'an integer of 401 digits'
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad input: one clear message with the file, the location and the fix.

    The command-line interface prints ``str(error)`` and exits with code 2, without a traceback.
    """

    def __init__(
        self,
        file: str | None,
        location: str | None,
        problem: str,
        fix: str | None = None,
        line: int | None = None,
    ) -> None:
        self.file = file
        self.location = location
        self.problem = problem
        self.fix = fix
        self.line = line
        super().__init__(self._render())

    def _render(self) -> str:
        where = self.file or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        text = f"{where}: "
        if self.location:
            text += f"{self.location}: "
        text += self.problem.rstrip(".") + "."
        if self.fix:
            text += f" Fix: {self.fix}"
        return one_line(text)


_UNSAFE = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})  # controls, invisible, surrogates, breaks


def one_line(text: str) -> str:
    """``text`` with control characters, line breaks and lone surrogates escaped (``\\n``), so
    a message quoting a user's key or value stays one printable line.

    >>> one_line("unknown key 'a\\nb'")
    "unknown key 'a\\\\nb'"
    """
    if text.isprintable():
        return text
    import unicodedata

    return "".join(repr(ch)[1:-1] if unicodedata.category(ch) in _UNSAFE else ch
                   for ch in text)


class InputWarning(UserWarning):
    """Input that loads but is probably a mistake (a component that depends on itself).

    The message has the same form as an :class:`InputError`'s; the command-line interface
    prints it as one ``warning:`` line on stderr.
    """


def show(value: object, limit: int = 60) -> str:
    """A short, printable rendering of a bad value for an error message.

    Long integers are described by their number of digits, long texts are cut, and characters
    that cannot be printed (a lone surrogate, a control character) are escaped, so a message
    always stays one short line.

    Examples
    --------
    >>> show("a\\ud800")
    "'a\\\\ud800'"
    >>> show("x" * 100)
    "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx... (100 characters)'"
    """
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10 ** 30:
        return f"an integer of {len(str(abs(value))) if abs(value) < 10 ** 4000 else 'over 4000'}" \
               " digits"
    if isinstance(value, str) and len(value) > limit:
        return repr(value[: limit - 4] + f"... ({len(value)} characters)")
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + " ..."
