"""User-facing errors: problems with a file and line, and plain messages. Never shown as tracebacks."""

from __future__ import annotations

from dataclasses import dataclass

from . import codec


@dataclass(frozen=True, order=True)
class Problem:
    """One mistake in one file, at a 1-based line and column."""

    path: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


codec.register(Problem)


class UserError(Exception):
    """A mistake the user can fix: printed as a message, exit status 1."""


class DamagedCache(UserError):
    """A cached value read only when needed (codec.Lazy) turned out malformed: its file was damaged."""


class PolicyInvalid(UserError):
    """The policy files have one or more problems."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        count = len(self.problems)
        lines = [str(p) for p in self.problems]
        lines.append(f"{count} problem{'s' if count != 1 else ''} found; nothing was written.")
        super().__init__("\n".join(lines))
