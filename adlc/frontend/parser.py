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

from lark import (
    Lark,
    Token,
    Tree,
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
)
from lark.exceptions import VisitError

from adlc.errors import AdlSyntaxError, Diagnostic, Span
from adlc.frontend import ast as A
from adlc.frontend.blocks import group_blocks
from adlc.frontend.lines import LogicalLine, SourceMap, split_lines
from adlc.frontend.normalise import normalise
from adlc.frontend.transform import LineTransformer

# Readable names for the grammar's terminals, for "expected ..." messages.
_TERMINAL_NAMES = {
    "NAME": "a name", "DASHED_NAME": "a name", "NUMBER": "a number", "NEG_NUMBER": "a number", "STRING": 'a "string"',
    "LPAR": "`(`", "RPAR": "`)`", "LSQB": "`[`", "RSQB": "`]`", "LBRACE": "`{`",
    "RBRACE": "`}`", "COMMA": "`,`", "COLON": "`:`", "EQUAL": "`=`", "CMP_OP": "a comparison",
    "RANGE_OP": "`[]` or `][`", "PLUS": "`+`", "MINUS": "`-`", "MUL_OP": "`*` or `/`",
    "AND": "`and`", "OR": "`or`", "NOT": "`NOT`", "QMARK": "`?`", "CIRCUMFLEX": "`^`",
    "DOT": "`.`", "VBAR": "`|`", "BIT_OP": "a bit operator", "SORT_ORDER": "`ascend` or `descend`",
    "_NL": "the end of the line", "$END": "the end of the line", "ALIAS": "`alias`",
    "VALUE": "a value", "CSV": "`csv`", "PLUSMINUS": "`+-`", "MINUSPLUS": "`-+`",
}
_EXPRESSION_START = {"NAME", "NUMBER", "NEG_NUMBER", "LPAR", "LBRACE", "MINUS", "VBAR", "NOT",
                     "QUOTED_NAME"}
_DIALECT_DIRECTIVE = re.compile(r"#\s*adlc\s*:\s*dialect\s*=\s*([\w-]+)", re.IGNORECASE)


@lru_cache(maxsize=1)
def grammar_text() -> str:
    return resources.files("adlc._grammar").joinpath("adl.lark").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def lark_parser() -> Lark:
    """The LALR parser, built once per process (building it is the slow part). Lark keeps
    the built tables in a file in the temporary directory, keyed by a hash of the grammar
    and options, so a new process loads them in ~20 ms instead of ~120 ms building them."""
    return Lark(grammar_text(), parser="lalr", lexer="contextual", propagate_positions=False,
                maybe_placeholders=True, cache=True)


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
    """The AST of `source`; `AdlSyntaxError` with every problem found, in line order."""
    # A UTF-8 byte-order mark (Windows editors write one) is not part of the text.
    text = source[1:] if source.startswith("\ufeff") else source
    diagnostics: list[Diagnostic] = []
    try:
        lines, comments = split_lines(text)
        statements = _parse_lines(lines, file, diagnostics)
        analysis_items = group_blocks(statements, file, diagnostics)
        dialect = _dialect(comments)
        analysis = A.Analysis(tuple(analysis_items), dialect, file, tuple(comments))
        analysis = normalise(analysis)
    except RecursionError:  # a safety net: _parse_lines already catches the usual place
        raise AdlSyntaxError([_too_deep(Span(file=file))], source) from None
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors:
        # Syntax errors (found first) and block errors (found when grouping), in line order.
        diagnostics.sort(key=lambda d: (d.span.line, d.span.column))
        raise AdlSyntaxError(diagnostics, source)
    return analysis


def _too_deep(span: Span) -> Diagnostic:
    return Diagnostic("an expression is nested too deeply for adlc", span, "E901",
                      hint="split it with `define` lines")


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
    transformer = LineTransformer(source_map.locate, file, text)
    out: list = []
    for child in tree.children:
        _transform_line(transformer, child, out, diagnostics)
    return out


def _parse_each(lines: list[LogicalLine], file: str, diagnostics: list[Diagnostic]) -> list:
    parser = lark_parser()
    out: list = []
    for line in lines:
        try:
            tree = parser.parse(line.text)
        except UnexpectedInput as exc:
            diagnostics.append(_syntax_diagnostic(exc, line, file))
            continue
        transformer = LineTransformer(line.locate, file, line.text)
        for child in tree.children:
            _transform_line(transformer, child, out, diagnostics)
    return out


def _transform_line(transformer: LineTransformer, tree, out: list,
                    diagnostics: list[Diagnostic]) -> None:
    """One line's parse tree to its AST statement (appended to `out`), or a diagnostic.

    Lark's Transformer recurses once per level of the tree, so an expression nested some
    thousands of levels deep (`sqrt(sqrt(...))`, `a^a^...`) exhausts Python's stack: that is
    reported as E901 on its line. A number written next to a value outside a `{ ... }` list or
    `bin` edges (`MET -3`: a missing space after the minus) is a syntax error too.
    """
    if tree is None:
        return
    transformer.numbers_in_sums = False
    try:
        stmt = transformer.transform(tree)
    except RecursionError:
        diagnostics.append(_too_deep(_first_token_span(transformer, tree)))
        return
    except VisitError as exc:
        if isinstance(exc.orig_exc, RecursionError):
            diagnostics.append(_too_deep(_first_token_span(transformer, tree)))
            return
        raise
    if transformer.numbers_in_sums:
        problem = _number_in_sum(stmt)
        if problem is not None:
            diagnostics.append(problem)  # the line is kept: its block is still well formed
    out.append(stmt)


def _first_token_span(transformer: LineTransformer, tree) -> Span:
    node = tree
    while isinstance(node, Tree) and node.children:
        node = next((c for c in node.children if c is not None), None)
    if isinstance(node, Token) and node.start_pos is not None:
        return transformer.span_of(node.start_pos, node.end_pos)
    return transformer.span_of(0, 1)


def _number_in_sum(stmt) -> Diagnostic | None:
    """E104 for the first number juxtaposed with a value (`MET -3`) left in `stmt`.

    Numbers may stand next to values in `{ pT(j) eta(j) 1 2 }` lists, single-line `bin`/`bins`
    edges and `print`/`save` lists; the transformer has already turned those into lists, so
    any four-vector sum that still holds a number is a mistake.
    """
    stack = [stmt]
    while stack:
        node = stack.pop()
        if isinstance(node, (tuple, list)):
            stack.extend(reversed(node))
            continue
        if isinstance(node, A.FourSum):
            number = next((t for t in node.terms if isinstance(t, A.Number)), None)
            if number is not None:
                text = number.text or str(number.value)
                span = number.span if number.span.line else node.span
                hint = _MINUS_HINT if text.startswith("-") else _NUMBER_HINT
                return Diagnostic(f"unexpected number `{text}`: expected an operator", span,
                                  "E104", hint=hint)
        fields = getattr(node, "__dataclass_fields__", None)
        if fields is not None:
            stack.extend(reversed([getattr(node, name) for name in fields
                                   if name not in ("span", "row_spans")]))
    return None


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
            hint = _MINUS_HINT
        if _not_text(char):
            return _binary_diagnostic(span)
        return Diagnostic(f"unexpected character `{char}`", span, "E102", hint=hint)
    if isinstance(exc, UnexpectedToken):
        token: Token = exc.token
        expected = _expected(exc.expected)
        if token.type in ("$END", "_NL"):
            return Diagnostic(f"this line ends too early: expected {expected}", span, "E103",
                              hint=_end_hint(line.text))
        shown = _shown(token)
        bad = next((i for i, ch in enumerate(shown) if _not_text(ch)), None)
        if bad is not None:  # bytes that are not text: say so, not `unexpected \x00\x01`
            row, col = line.locate(offset + bad)
            return _binary_diagnostic(Span(row, col, row, col + 1, file))
        span = Span(row, col, row, col + max(1, len(shown)), file)
        return Diagnostic(f"unexpected {_describe(token)}: expected {expected}", span, "E104",
                          hint=_token_hint(token, line.text, exc.expected))
    if isinstance(exc, UnexpectedEOF):
        return Diagnostic("this line ends too early", span, "E103")
    return Diagnostic(str(exc).splitlines()[0], span, "E100")


_MINUS_HINT = "write a space after a minus sign: `x - 3`"
_NUMBER_HINT = "a number follows a value only in `{ a b 1 2 }` lists and `bin VAR 1 2` edges"


def _not_text(char: str) -> bool:
    """A character that no text file holds: undecodable bytes and control characters."""
    return char == "\ufffd" or (not char.isprintable() and char not in " \t\f\r\n")


def _binary_diagnostic(span: Span) -> Diagnostic:
    return Diagnostic("the file contains bytes that are not text", span, "E101",
                      hint="is this an ADL file? It must be UTF-8 text")


def _shown(token: Token) -> str:
    """The part of a token a message shows: the first word of the catch-all VALUE terminal."""
    text = str(token)
    if token.type == "VALUE":
        words = text.split()
        return words[0] if words else text
    return text


def _describe(token: Token) -> str:
    text = _shown(token)
    if token.type == "NAME":
        return f"name `{text}`"
    if token.type in ("NUMBER", "NEG_NUMBER"):
        return f"number `{text}`"
    return f"`{text}`"


_OPERATORS = {"CMP_OP", "PLUS", "MINUS", "MUL_OP", "AND", "OR", "BIT_OP", "CIRCUMFLEX",
              "RANGE_OP", "QMARK", "LSQB", "DOT"}


def _expected(names) -> str:
    # a quoted branch name (`"mu_phi"(MUO)`) is a rare spelling, not worth suggesting
    names = set(names) - {"ALIAS", "CSV", "VALUE", "QUOTED_NAME"}
    if names & _EXPRESSION_START and "SELECT" not in names:
        names.discard("SORT")  # after `select`: the old `select SORT x descend`, also rare
        names.discard("PRINT")  # after `?`: a print action (`c ? print x : all`), also rare
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
    if text.count('"') % 2 == 1:
        return 'a `"` string is not closed'
    if text.count("(") > text.count(")"):
        return "a `(` is not closed"
    if text.count("[") > text.count("]"):
        return "a `[` is not closed"
    return None


def _token_hint(token: Token, text: str, expected=()) -> str | None:
    shown = _shown(token)
    if token.type == "NEG_NUMBER":
        return _MINUS_HINT
    if token.type == "NAME" and shown in ("not",):
        return "CutLang writes `NOT`"
    if token.type == "RPAR" and text.count(")") > text.count("("):
        return "there is one `)` too many"
    if shown.startswith("=") and not shown.startswith("==") and "CMP_OP" in expected:
        return "compare with `==`"
    if shown.startswith('"') and text.count('"') % 2 == 1:
        return 'a `"` string is not closed: write the closing `"`'
    return None
