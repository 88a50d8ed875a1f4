"""Split ADL source into logical lines, the unit the grammar parses.

CutLang's preprocessors work line by line: a statement is one line, `\\` at the end of a line
joins the next one, `#` starts a comment. adl2tnm also lets an expression run on over the next
line without `\\`, so a line is joined to the next one while brackets are open, when it ends in
a binary operator or a comma, or when the next line starts with `and`/`or`; but never into a
line that starts with a command or block keyword. Comments are kept (for `adlc fmt`) and
positions in the joined text map back to the original line and column.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

from adlc.frontend.ast import Comment

# A line ending like this is not finished yet.
_TRAILING_OPERATOR = re.compile(
    r"(?:&&|\|\||[-+*/^,(\[{=]|\b(?:and|or|AND|OR)|\[\]|\]\[|==|!=|<=|>=|<|>)\s*$")
# A line starting like this continues the previous one.
_LEADING_OPERATOR = re.compile(r"^\s*(?:&&|\|\||(?:and|or|AND|OR)\b)")
# A line starting like this is a new block or a new command, however unbalanced the previous
# line was: a line left open (`select (MET > 3`, `select MET +`) must not swallow the next one.
_BLOCK_START = re.compile(
    r"^\s*(?:object|obj|define|def|region|algo|algorithm|table|histolist|countsformat|info"
    r"|composite)(?![A-Za-z0-9_])", re.IGNORECASE)
_COMMAND_START = re.compile(
    r"^\s*(?:select|reject|cmd|cut|histo|weight|bins?|sort|print|save|counts|take|using)"
    r"(?![A-Za-z0-9_])", re.IGNORECASE)


@dataclass
class LogicalLine:
    text: str
    line: int  # first physical line, from 1
    # (offset in `text`, physical line, column from 1) at the start of each joined piece
    pieces: list[tuple[int, int, int]] = field(default_factory=list)

    def locate(self, offset: int) -> tuple[int, int]:
        if len(self.pieces) == 1:
            start, line, col = self.pieces[0]
            return line, col + (offset - start)
        starts = [p[0] for p in self.pieces]
        i = max(0, bisect_right(starts, offset) - 1)
        start, line, col = self.pieces[i]
        return line, col + (offset - start)


def _strip_comment(text: str) -> tuple[str, str | None]:
    """Code and comment of one physical line; `#` inside a string is not a comment."""
    in_string = False
    for i, ch in enumerate(text):
        if ch == '"':
            in_string = not in_string
        elif ch == "#" and not in_string:
            return text[:i], text[i:].rstrip()
    return text, None


def _depth(text: str) -> int:
    depth = 0
    in_string = False
    for ch in text:
        if ch == '"':
            in_string = not in_string
        elif in_string:
            continue
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
    return depth


def _continues(code: str, depth: int) -> bool:
    """Does a logical line whose text so far is `code` go on over the next physical line?"""
    if code.rstrip().endswith("\\") or code.count('"') % 2 == 1:  # or a string goes on
        return True
    stripped = code.rstrip()
    # `x [] a b` and `][` end in brackets that are operators, not openings.
    if depth > 0 and not stripped.endswith(("[]", "][")):
        return True
    return bool(_TRAILING_OPERATOR.search(stripped)) and not stripped.endswith(("[]", "]["))


def split_lines(source: str) -> tuple[list[LogicalLine], list[Comment]]:
    """Logical lines (non-blank) and the comments, in file order."""
    physical = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines: list[LogicalLine] = []
    comments: list[Comment] = []
    current: LogicalLine | None = None
    in_comment_string = False
    for number, raw in enumerate(physical, start=1):
        if in_comment_string:
            # A commented-out `title "...` whose string was wrapped onto the next line (seen
            # in public adl2tnm files): the comment goes on until the string closes.
            text = raw.strip()
            comments.append(Comment(number, text if text.startswith("#") else "# " + text,
                                    trailing=False))
            in_comment_string = raw.count('"') % 2 == 0
            continue
        code, comment = _strip_comment(raw)
        # Only when the very next line closes the string (and is not a comment or blank).
        following = physical[number] if number < len(physical) else ""
        if (comment is not None and not code.strip() and comment.count('"') % 2 == 1
                and following.strip() and not following.lstrip().startswith("#")
                and '"' in following and not _BLOCK_START.match(following)):
            in_comment_string = True
        if comment is not None:
            comments.append(Comment(number, comment, trailing=bool(code.strip())))
        if current is not None and code.strip():
            joined = _LEADING_OPERATOR.match(code) is not None
            if ((joined or _continues(current.text, _depth(current.text)))
                    and not _BLOCK_START.match(code) and not _COMMAND_START.match(code)):
                _append(current, code, number)
                continue
            lines.append(current)
            current = None
        elif current is not None and not code.strip():
            # A blank or comment-only line ends a line continued by brackets, but not a `\`.
            if not current.text.rstrip().endswith("\\"):
                lines.append(current)
                current = None
            continue
        if not code.strip():
            continue
        indent = len(code) - len(code.lstrip())
        current = LogicalLine(code.strip(), number, [(0, number, indent + 1)])
        current.text = code[indent:].rstrip()
    if current is not None:
        lines.append(current)
    for line in lines:
        line.text = _clean_backslashes(line.text)
    return lines, comments


def _append(current: LogicalLine, code: str, number: int) -> None:
    text = current.text.rstrip()
    if text.endswith("\\"):
        text = text[:-1]
    # Replace the join by one space; the piece table keeps the original columns.
    text = text + " "
    indent = len(code) - len(code.lstrip())
    current.pieces.append((len(text), number, indent + 1))
    current.text = text + code[indent:].rstrip()


def _clean_backslashes(text: str) -> str:
    # A `\` left at the very end of the file continues nothing.
    return text[:-1] + " " if text.endswith("\\") else text


@dataclass
class SourceMap:
    """Maps an offset in the text handed to the parser back to (line, column)."""

    lines: list[LogicalLine]
    starts: list[int] = field(default_factory=list)

    @classmethod
    def build(cls, lines: list[LogicalLine]) -> tuple[SourceMap, str]:
        starts, offset, parts = [], 0, []
        for line in lines:
            starts.append(offset)
            parts.append(line.text)
            offset += len(line.text) + 1
        return cls(lines, starts), "\n".join(parts)

    def locate(self, offset: int) -> tuple[int, int]:
        if not self.lines:
            return 1, 1
        i = max(0, bisect_right(self.starts, offset) - 1)
        return self.lines[i].locate(offset - self.starts[i])
