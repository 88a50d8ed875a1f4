"""Parse ADL text into an `Analysis`: logical lines -> Lark (LALR) -> AST lines -> blocks.

The Lark parser is built once per process and cached. A file that parses cleanly is parsed in
one Lark call; when it does not, every logical line is parsed on its own so that all syntax
errors are reported, each with its position and a hint.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

from lark import Lark, Token, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from adlc.errors import AdlSyntaxError, Diagnostic, Span
from adlc.frontend import ast as A
from adlc.frontend.blocks import group_blocks
from adlc.frontend.lines import LogicalLine, SourceMap, split_lines
from adlc.frontend.normalise import normalise
from adlc.frontend.transform import LineTransformer

# Readable names for the grammar's terminals, for "expected ..." messages.
_TERMINAL_NAMES = {
    "NAME": "a name", "NUMBER": "a number", "NEG_NUMBER": "a number", "STRING": 'a "string"',
    "LPAR": "`(`", "RPAR": "`)`", "LSQB": "`[`", "RSQB": "`]`", "LBRACE": "`{`",
    "RBRACE": "`}`", "COMMA": "`,`", "COLON": "`:`", "EQUAL": "`=`", "CMP_OP": "a comparison",
    "RANGE_OP": "`[]` or `][`", "PLUS": "`+`", "MINUS": "`-`", "MUL_OP": "`*` or `/`",
    "AND": "`and`", "OR": "`or`", "NOT": "`NOT`", "QMARK": "`?`", "CIRCUMFLEX": "`^`",
    "DOT": "`.`", "VBAR": "`|`", "BIT_OP": "a bit operator", "SORT_ORDER": "`ascend` or `descend`",
    "_NL": "the end of the line", "$END": "the end of the line", "ALIAS": "`alias`",
    "VALUE": "a value", "CSV": "`csv`", "PLUSMINUS": "`+-`", "MINUSPLUS": "`-+`",
}
_EXPRESSION_START = {"NAME", "NUMBER", "NEG_NUMBER", "LPAR", "LBRACE", "MINUS", "VBAR", "NOT"}
_DIALECT_DIRECTIVE = re.compile(r"#\s*adlc\s*:\s*dialect\s*=\s*([\w-]+)", re.IGNORECASE)


@lru_cache(maxsize=1)
def grammar_text() -> str:
    return resources.files("adlc._grammar").joinpath("adl.lark").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def lark_parser() -> Lark:
    """The LALR parser, built once per process (building it is the slow part)."""
    return Lark(grammar_text(), parser="lalr", lexer="contextual", propagate_positions=False,
                maybe_placeholders=True)


def parse_file(path: str | Path) -> A.Analysis:
    """Parse an ADL file; `AdlSyntaxError` (with every problem found) if it is not valid."""
    path = Path(path)
    source = read_source(path)
    return parse(source, str(path))


def read_source(path: Path) -> str:
    """The file's text; undecodable bytes become U+FFFD so that they get a syntax error."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AdlSyntaxError([Diagnostic(f"cannot read {path}: {exc.strerror or exc}",
                                         Span(file=str(path)), "E001")]) from None
    return data.decode("utf-8", errors="replace")


def parse(source: str, file: str = "<input>") -> A.Analysis:
    lines, comments = split_lines(source)
    diagnostics: list[Diagnostic] = []
    statements = _parse_lines(lines, file, diagnostics)
    analysis_items = group_blocks(statements, file, diagnostics)
    dialect = _dialect(comments)
    analysis = A.Analysis(tuple(analysis_items), dialect, file, tuple(comments))
    analysis = normalise(analysis)
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors:
        raise AdlSyntaxError(diagnostics, source)
    return analysis


def _dialect(comments: list[A.Comment]) -> str:
    for comment in comments:
        match = _DIALECT_DIRECTIVE.search(comment.text)
        if match:
            return match.group(1).lower()
    return "cutlang"


def _parse_lines(lines: list[LogicalLine], file: str, diagnostics: list[Diagnostic]) -> list:
    """Parse all lines in one Lark call; on failure, line by line to find every error."""
    source_map, text = SourceMap.build(lines)
    parser = lark_parser()
    try:
        tree = parser.parse(text)
    except UnexpectedInput:
        return _parse_each(lines, file, diagnostics)
    return LineTransformer(source_map.locate, file, text).transform(tree)


def _parse_each(lines: list[LogicalLine], file: str, diagnostics: list[Diagnostic]) -> list:
    parser = lark_parser()
    out = []
    for line in lines:
        try:
            tree = parser.parse(line.text)
        except UnexpectedInput as exc:
            diagnostics.append(_syntax_diagnostic(exc, line, file))
            continue
        out.extend(LineTransformer(line.locate, file, line.text).transform(tree))
    return out


def _syntax_diagnostic(exc: UnexpectedInput, line: LogicalLine, file: str) -> Diagnostic:
    offset = getattr(exc, "pos_in_stream", None)
    if offset is None:
        offset = len(line.text)
    row, col = line.locate(min(offset, max(0, len(line.text) - 1)) if offset < len(
        line.text) else max(0, len(line.text) - 1))
    if offset >= len(line.text):
        col += 1
    span = Span(row, col, row, col + 1, file)
    if isinstance(exc, UnexpectedCharacters):
        char = line.text[offset] if offset < len(line.text) else "?"
        hint = None
        if char == "-" or char.isdigit():
            hint = "write a space after a minus sign: `x - 3`"
        if char == "\ufffd" or not char.isprintable():
            return Diagnostic("the file contains bytes that are not text", span, "E101",
                              hint="is this an ADL file? It must be UTF-8 text")
        return Diagnostic(f"unexpected character `{char}`", span, "E102", hint=hint)
    if isinstance(exc, UnexpectedToken):
        token: Token = exc.token
        expected = _expected(exc.expected)
        if token.type in ("$END", "_NL"):
            return Diagnostic(f"this line ends too early: expected {expected}", span, "E103",
                              hint=_end_hint(line.text))
        width = max(1, len(str(token)))
        span = Span(row, col, row, col + width, file)
        return Diagnostic(f"unexpected {_describe(token)}: expected {expected}", span, "E104",
                          hint=_token_hint(token, line.text))
    if isinstance(exc, UnexpectedEOF):
        return Diagnostic("this line ends too early", span, "E103")
    return Diagnostic(str(exc).splitlines()[0], span, "E100")


def _describe(token: Token) -> str:
    text = str(token)
    if token.type == "VALUE":  # the catch-all terminal: show just the first word
        text = text.split()[0] if text.split() else text
    if token.type == "NAME":
        return f"name `{text}`"
    if token.type in ("NUMBER", "NEG_NUMBER"):
        return f"number `{text}`"
    return f"`{text}`"


_OPERATORS = {"CMP_OP", "PLUS", "MINUS", "MUL_OP", "AND", "OR", "BIT_OP", "CIRCUMFLEX",
              "RANGE_OP", "QMARK", "LSQB", "DOT"}


def _expected(names) -> str:
    names = set(names) - {"ALIAS", "CSV", "SORT_ORDER", "VALUE"}
    words: list[str] = []
    if len(names & _OPERATORS) >= 4:
        words.append("an operator")
        names -= _OPERATORS
    if names & _EXPRESSION_START and len(names & _EXPRESSION_START) >= 3:
        words.append("an expression")
        names -= _EXPRESSION_START
    for name in sorted(names):
        word = _TERMINAL_NAMES.get(name)
        if word is None:
            word = f"`{name.lower()}`" if name.isupper() else name
        if word not in words:
            words.append(word)
    if len(words) > 6:
        words = words[:6] + ["..."]
    return ", ".join(words) if words else "something else"


def _end_hint(text: str) -> str | None:
    if text.count("(") > text.count(")"):
        return "a `(` is not closed"
    if text.count("[") > text.count("]"):
        return "a `[` is not closed"
    return None


def _token_hint(token: Token, text: str) -> str | None:
    if token.type == "NEG_NUMBER":
        return "write a space after a minus sign: `x - 3`"
    if token.type == "NAME" and str(token) in ("not",):
        return "CutLang writes `NOT`"
    if token.type == "RPAR" and text.count(")") > text.count("("):
        return "there is one `)` too many"
    if str(token) == "=":
        return "compare with `==`"
    return None
