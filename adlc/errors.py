"""One error hierarchy for everything a user can get wrong.

Every message a physicist sees names `file:line:col`, shows the source line with a caret under
the spot, and gives a hint where one helps. Code raises `AdlError` (or a subclass) carrying one or
more `Diagnostic`s; the CLI prints them and exits 1. Nothing else should escape to the user.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Span:
    """A region of source text. Lines and columns count from 1; `end_*` is exclusive."""

    line: int = 0
    column: int = 0
    end_line: int = 0
    end_column: int = 0
    file: str = "<input>"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


NO_SPAN = Span()


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in the user's input."""

    message: str
    span: Span = NO_SPAN
    code: str = "E000"
    severity: Severity = "error"
    hint: str | None = None

    def render(self, source: str | None = None) -> str:
        """`file:line:col: severity: message`, the source line, a caret, and the hint."""
        if self.span.line:
            where = f"{self.span}: "
        else:  # no position: a file-level problem, or one of the command line itself
            where = "adlc: " if self.span.file == "<input>" else f"{self.span.file}: "
        out = [f"{where}{self.severity}: {self.message} [{self.code}]"]
        if source is not None and self.span.line:
            lines = source.splitlines()
            if 0 < self.span.line <= len(lines):
                text = lines[self.span.line - 1].expandtabs(1)
                out.append(f"    {text}")
                width = 1
                if self.span.end_line == self.span.line and self.span.end_column > self.span.column:
                    width = self.span.end_column - self.span.column
                width = max(1, min(width, len(text) - self.span.column + 1))
                out.append("    " + " " * (self.span.column - 1) + "^" * width)
        if self.hint:
            out.append(f"  hint: {self.hint}")
        return "\n".join(out)

    def to_json(self) -> dict[str, object]:
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "line": self.span.line,
            "column": self.span.column,
            "end_line": self.span.end_line,
            "end_column": self.span.end_column,
            "hint": self.hint,
        }


@dataclass
class AdlError(Exception):
    """Raised for any bad input. Carries every diagnostic collected, not just the first."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    source: str | None = None

    def __post_init__(self) -> None:
        super().__init__(self.diagnostics[0].message if self.diagnostics else "adlc error")

    @classmethod
    def one(cls, message: str, span: Span = NO_SPAN, *, code: str = "E000",
            hint: str | None = None, source: str | None = None) -> AdlError:
        return cls([Diagnostic(message, span, code, "error", hint)], source)

    def render(self) -> str:
        return "\n".join(d.render(self.source) for d in self.diagnostics)

    def __reduce__(self):
        # Errors raised in `-j` worker processes are pickled back to the parent.
        return (type(self), (self.diagnostics, self.source))

    def __str__(self) -> str:
        return self.render()


class AdlSyntaxError(AdlError):
    """The text does not parse."""


class AdlSemanticError(AdlError):
    """The text parses but does not make sense (unknown names, wrong argument counts...)."""


class AdlInputError(AdlError):
    """A problem with the data: a missing, corrupt or unsuitable ROOT file."""


class AdlUsageError(AdlError):
    """The command line asks for something impossible (exit code 2)."""
