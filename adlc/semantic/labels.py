"""Cutflow labels as CutLang prints them: the command's own source text (quirk 10)."""

from __future__ import annotations

from adlc.errors import Span


class SourceText:
    def __init__(self, source: str | None):
        self.source = source
        self.lines = source.splitlines() if source else []

    def command(self, span: Span) -> str | None:
        """The text of the command starting at `span`, comment removed, with its keyword."""
        if not span.line or span.line > len(self.lines):
            return None
        text = self.lines[span.line - 1][span.column - 1:]
        text = text.split("#", 1)[0]
        return text.strip()

    def written(self, span: Span) -> str | None:
        """The text of a one-line `span` as the file writes it (None if it has none)."""
        if not span.line or span.line > len(self.lines) or span.end_line != span.line:
            return None
        text = self.lines[span.line - 1][span.column - 1:span.end_column - 1].strip()
        return text or None

    def label(self, span: Span) -> str:
        """The command text without its keyword (`select X` and `reject X` both give `X`)."""
        text = self.command(span)
        if text is None:
            return ""
        parts = text.split(None, 1)
        return parts[1].strip() if len(parts) > 1 else parts[0]

    def histo_name_text(self, span: Span) -> str | None:
        """The text between `histo ` and the first comma (CutLang then drops its last char)."""
        text = self.command(span)
        if text is None or "," not in text:
            return None
        parts = text.split(None, 1)
        if len(parts) < 2:
            return None
        return parts[1].split(",", 1)[0]
