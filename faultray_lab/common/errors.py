"""One error type for every kind of bad input.

Every message names the file, the location inside it (component id, edge index, key path and the
line when the parser knows it) and the fix, so a user can repair the input without reading code.

Examples
--------
>>> err = InputError("topo.yaml", "components[2] (id 'db').capcity", "unknown key 'capcity'",
...                  "did you mean 'capacity'?", line=14)
>>> print(err)
topo.yaml:14: components[2] (id 'db').capcity: unknown key 'capcity'. Fix: did you mean 'capacity'?
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
        return text
