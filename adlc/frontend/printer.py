"""Print an AST back as canonical CutLang-dialect ADL text (`adlc fmt`).

`format_analysis(analysis)` gives the whole file, `format_expr(expr)` one expression. The text
parses back to the same AST (spans and comments aside) and formatting it again gives the same
text. Canonical form:

* blocks in file order, one blank line between them; runs of one-line top-level statements of
  the same kind (`define`, settings, `systematic`) stay together; commands indented two spaces;
* `take X` lines for an object's inputs (never the `object X : Y` form), `AND`/`OR`/`NOT`,
  `pT(x)` calls (never `{x}pT` or `x.pT`), `abs(x)` (never `|x|`), `x[i]` (never `x_i`);
* expressions with the fewest parentheses the grammar's precedence needs; numbers as they were
  written when the AST remembers it (`0.20` stays `0.20`);
* comments where they were: a comment line before the statement that followed it, a trailing
  comment after its statement. A comment paragraph that a blank line separated from the block
  after it stays a paragraph of its own.

Some trees have no spelling in the grammar (a four-vector sum of something that is not a
"particle" such as `-a`, an index on a parenthesised expression, `Unary("-", Number)`); the
parser never builds them. The printer writes its best guess for these and does not check.

Both printers are iterative: expression depth is limited by memory, not by Python's recursion
limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from adlc.frontend import ast as A
from adlc.frontend.normalise import restore_object_ternaries

__all__ = ["format_analysis", "format_expr"]

INDENT = "  "

# Precedence levels, lowest first: what an expression is, and what each operand position
# accepts (grammar/adl.lark).
TERNARY, OR, AND, NOT, CMP, BITS, ARITH, TERM, UNARY, POWER, JUXT, PRIMARY, PARTICLE = range(13)

_COMPARISONS = {"==", "!=", "<", ">", "<=", ">=", "~=", "~!"}
_BIT_OPS = {"&", "|", "<<", ">>"}
_NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_INT = re.compile(r"-?\d+")
_IDENT_END = re.compile(r"[A-Za-z0-9_]$")
_IDENT_START = re.compile(r"^[A-Za-z_]")
_DIRECTIVE = re.compile(r"#\s*adlc\s*:\s*dialect\s*=\s*([\w-]+)", re.IGNORECASE)


# --------------------------------------------------------------------------- expressions


def format_expr(expr: A.Expr) -> str:
    """The canonical text of one expression, with the fewest parentheses needed."""
    return _print_expr(expr)[0]


def _print_expr(root: A.Expr) -> tuple[str, int]:
    """(text, precedence level) of `root`, computed bottom-up with an explicit stack."""
    return A.fold(root, _combine)


def _wrap(child: tuple[str, int], need: int) -> str:
    text, level = child
    return f"({text})" if level < need else text


def _combine(node: A.Expr, kids: list[tuple[str, int]]) -> tuple[str, int]:
    """The text of `node` from its children's (text, level) pairs."""
    if isinstance(node, A.Number):
        return _number_text(node), PRIMARY
    if isinstance(node, A.String):
        return f'"{node.value}"', PRIMARY
    if isinstance(node, A.Name):
        return node.id, PARTICLE
    if isinstance(node, A.This):
        return "this", PARTICLE
    if isinstance(node, A.Index):
        return f"{_postfix_base(kids[0])}[{kids[1][0]}]", PARTICLE
    if isinstance(node, A.Slice):
        rest = iter(kids[1:])
        start = next(rest)[0] if node.start is not None else ""
        stop = next(rest)[0] if node.stop is not None else ""
        return f"{_postfix_base(kids[0])}[{start}:{stop}]", PARTICLE
    if isinstance(node, A.Call):
        return f"{node.func}({', '.join(k[0] for k in kids)})", PARTICLE
    if isinstance(node, A.FourSum):
        # A particle first; numbers may follow it (`{ pT(j) eta(j) 1 2100 }`, `bin MTl 250 350`).
        terms = [k[0] if i and isinstance(t, A.Number) else _wrap(k, PARTICLE)
                 for i, (t, k) in enumerate(zip(node.terms, kids, strict=True))]
        return " ".join(terms), JUXT
    if isinstance(node, A.VarList):
        if len(kids) >= 2 and all(isinstance(item, A.Number) for item in node.items):
            return "{ " + " ".join(k[0] for k in kids) + " }", PARTICLE
        return "{ " + _items(node.items, kids) + " }", PARTICLE
    if isinstance(node, A.Unary):
        return _unary(node, kids[0])
    if isinstance(node, A.Binary):
        return _binary(node.op, kids[0], kids[1])
    if isinstance(node, A.Range):
        low, high = _bound(kids[1]), _bound(kids[2])
        if _glues(low, high):
            low = f"({low})"
        return f"{_wrap(kids[0], BITS)} {node.op} {low} {high}", CMP
    if isinstance(node, A.Ternary):
        cond, then, other = kids
        return f"{_wrap(cond, OR)} ? {_wrap(then, TERNARY)} : {_wrap(other, TERNARY)}", TERNARY
    if isinstance(node, A.PrintAction):
        parts = [f'"{node.label}"'] if node.label is not None else []
        parts.extend(_wrap(k, OR) for k in kids)
        return ("print " + ", ".join(parts) if parts else "print"), TERNARY
    if isinstance(node, A.Union):
        return f"Union({', '.join(k[0] for k in kids)})", PARTICLE
    if isinstance(node, A.Comb):
        if node.kind == "comb":
            return f"COMB({_items(node.members, kids)})", PARTICLE
        return f"{node.kind}({', '.join(k[0] for k in kids)})", PARTICLE
    if isinstance(node, A.Bound):
        return f"{_wrap(kids[0], PARTICLE)} {node.name}", JUXT
    raise TypeError(f"cannot print {type(node).__name__} as an ADL expression")


def _postfix_base(base: tuple[str, int]) -> str:
    text = _wrap(base, PARTICLE)
    # `a[0][1]` would lex `][` as the outside-range operator: `a[0] [1]` does not.
    return text + " " if text.endswith("]") else text


def _items(items: tuple[A.Expr, ...], kids: list[tuple[str, int]]) -> str:
    """`a b c` (juxtaposed, CutLang's form) when that reads back as the same list, else `a, b`.

    Juxtaposed items are a four-vector sum, which the parser flattens into the list: a particle
    first, then particles or numbers, and no `{...}` before another item (`{a} b` is b(a)).
    """
    juxtaposed = (
        len(kids) >= 2 and kids[0][1] == PARTICLE
        and all(k[1] == PARTICLE or isinstance(item, A.Number)
                for item, k in zip(items, kids, strict=True))
        and not any(isinstance(item, A.VarList) for item in items[:-1]))
    return (" " if juxtaposed else ", ").join(k[0] for k in kids)


def _unary(node: A.Unary, operand: tuple[str, int]) -> tuple[str, int]:
    if node.op == "not":
        return f"NOT {_wrap(operand, NOT)}", NOT
    text = _wrap(operand, UNARY)
    # `-3^2` is (-3)^2: a minus sign glued to a digit is part of the number.
    return ("- " if text[:1].isdigit() or text[:1] == "." else "-") + text, UNARY


def _binary(op: str, left: tuple[str, int], right: tuple[str, int]) -> tuple[str, int]:
    if op == "or":
        return f"{_wrap(left, OR)} OR {_wrap(right, AND)}", OR
    if op == "and":
        return f"{_wrap(left, AND)} AND {_wrap(right, NOT)}", AND
    if op in _COMPARISONS:
        return f"{_wrap(left, BITS)} {op} {_wrap(right, BITS)}", CMP
    if op in _BIT_OPS:
        return f"{_wrap(left, BITS)} {op} {_wrap(right, ARITH)}", BITS
    if op in ("+", "-"):
        return f"{_wrap(left, ARITH)} {op} {_wrap(right, TERM)}", ARITH
    if op in ("*", "/"):
        return f"{_wrap(left, TERM)} {op} {_wrap(right, UNARY)}", TERM
    if op == "^":
        return f"{_wrap(left, JUXT)}^{_wrap(right, UNARY)}", POWER
    raise TypeError(f"cannot print the operator {op!r}")


def _bound(printed: tuple[str, int]) -> str:
    """A range end is one operand (a primary): `x [] -3 (a + b)`; `-a` gets parentheses too."""
    return _wrap(printed, PRIMARY)


def _glues(left: str, right: str) -> bool:
    """Would `left right` read as one thing (`a (b)` is a call, `{a} b` the call b(a))?"""
    return (bool(_IDENT_END.search(left)) and right.startswith("(")) or (
        left.endswith("}") and bool(_IDENT_START.match(right)))


def _number_text(node: A.Number) -> str:
    text = node.text
    if text and _NUMBER.fullmatch(text) and _value(text) == node.value:
        return text
    return _expr_number(node.value)


def _value(text: str) -> float | int:
    return int(text) if _INT.fullmatch(text) else float(text)


def _plain(value: float | int) -> str:
    """A number that reads back as itself; whole floats without `.0` (edges, rows, counts)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"not a number: {value!r}")
    if isinstance(value, int):
        return str(value)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"ADL has no spelling for the number {value!r}")
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _expr_number(value: float | int) -> str:
    """A number inside an expression keeps its type: `3.0` stays a float."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return repr(value)
    return _plain(value)


# --------------------------------------------------------------------------- statements


@dataclass
class _Line:
    indent: int  # 0 or 1 (levels of INDENT)
    text: str
    start: int | None  # source lines of the statement, for comments
    end: int | None
    chunk: bool = False  # a blank line goes before it (a new block)
    trailing: list[str] = field(default_factory=list)


def _lines_of(span, indent: int, text: str) -> _Line:
    start = getattr(span, "line", 0) or None
    end = max(getattr(span, "end_line", 0), start) if start else None
    return _Line(indent, text, start, end)


def format_analysis(analysis: A.Analysis) -> str:
    """The whole file as canonical CutLang-dialect ADL text, ending in one newline."""
    analysis = restore_object_ternaries(analysis)
    comment_lines = {c.line for c in analysis.comments if not c.trailing}
    lines: list[_Line] = []
    previous: type | None = None
    items = analysis.items
    for i, item in enumerate(items):
        limit = _next_line(items, i)
        chunk = not (type(item) is previous and isinstance(item, _ONE_LINERS))
        item_lines = _statement_lines(item, comment_lines, limit)
        if item_lines:
            item_lines[0].chunk = chunk
        lines.extend(item_lines)
        previous = type(item)
    comments = list(analysis.comments)
    header = _directive_comment(analysis)
    out = _merge_comments(lines, comments)
    if header:
        out.insert(0, header)
    text = "\n".join(_collapse(out))
    return text + "\n" if text else ""


_BLANK = None  # a blank-line marker in the output list

_ONE_LINERS = (A.Define, A.Setting, A.Systematic)


def _next_line(items: tuple[A.Stmt, ...], i: int) -> int | None:
    for item in items[i + 1:]:
        line = getattr(item.span, "line", 0)
        if line:
            return line
    return None


def _directive_comment(analysis: A.Analysis) -> str | None:
    """`# adlc: dialect=...` when the comments would not give the parser the right dialect."""
    for comment in analysis.comments:
        match = _DIRECTIVE.search(comment.text)
        if match:
            if match.group(1).lower() == analysis.dialect:
                return None
            break
    else:
        if analysis.dialect == "cutlang":
            return None
    return f"# adlc: dialect={analysis.dialect}"


def _statement_lines(item: A.Stmt, comment_lines: set[int], limit: int | None) -> list[_Line]:
    if isinstance(item, A.Info):
        out = [_lines_of(item.span, 0, f"info {item.name}")]
        for entry in item.entries:
            value = f'"{entry.value}"' if entry.quoted else entry.value
            out.append(_lines_of(entry.span, 1, f"{entry.key} {value}"))
        return out
    if isinstance(item, A.Setting):
        return [_lines_of(item.span, 0, f"{item.name} = {_plain(item.value)}")]
    if isinstance(item, A.Systematic):
        state = "on" if item.enabled else "off"
        return [_lines_of(item.span, 0,
                          f'systematic {state} "{item.up}" "{item.down}" {item.kind}')]
    if isinstance(item, A.Define):
        return [_lines_of(item.span, 0, f"define {item.name} = {format_expr(item.value)}")]
    if isinstance(item, (A.ObjectDef, A.Composite)):
        return _object_lines(item)
    if isinstance(item, A.Region):
        out = [_lines_of(item.span, 0, f"region {item.name}")]
        out.extend(_lines_of(c.span, 1, _command_text(c)) for c in item.commands)
        return out
    if isinstance(item, A.HistoList):
        out = [_lines_of(item.span, 0, f"histoList {item.name}")]
        out.extend(_lines_of(h.span, 1, _command_text(h)) for h in item.histos)
        return out
    if isinstance(item, A.CountsFormat):
        out = [_lines_of(item.span, 0, f"countsformat {item.name}")]
        out.extend(_lines_of(p.span, 1, _command_text(p)) for p in item.processes)
        return out
    if isinstance(item, A.Table):
        return _table_lines(item, comment_lines, limit)
    raise TypeError(f"cannot print {type(item).__name__} as an ADL block")


def _object_lines(item: A.ObjectDef | A.Composite) -> list[_Line]:
    keyword = "composite" if isinstance(item, A.Composite) else "object"
    alias = getattr(item, "alias", None)
    header = f"{keyword} {item.name}"
    if alias and not item.take:
        header += f" alias {alias}"
    out = [_lines_of(item.span, 0, header)]
    for i, take in enumerate(item.take):
        text = f"take {_take_text(take)}"
        if alias and i == len(item.take) - 1:
            text += f" alias {alias}"
        out.append(_lines_of(take.span, 1, text))
    out.extend(_lines_of(c.span, 1, _command_text(c)) for c in item.commands)
    return out


def _take_text(take: A.Take) -> str:
    if take.binding is None:
        return format_expr(take.source)
    return f"{_wrap(_print_expr(take.source), PARTICLE)} {take.binding}"


def _table_lines(table: A.Table, comment_lines: set[int], limit: int | None) -> list[_Line]:
    body = []
    if table.tabletype is not None:
        body.append(f"tabletype {table.tabletype}")
    body.append(f"nvars {table.nvars}")
    body.append(f"errors {'true' if table.errors else 'false'}")
    body.extend(_aligned_rows(table.rows))
    out = [_lines_of(table.span, 0, f"table {table.name}")]
    # Rows keep no positions: guess that they follow the header line by line, so that comments
    # among them stay roughly where they were.
    guess = (out[0].start or 0) + 1 if out[0].start else None
    for text in body:
        line = None
        if guess is not None:
            while guess in comment_lines:
                guess += 1
            if limit is None or guess < limit:
                line = guess
            guess += 1
        out.append(_Line(1, text, line, line))
    return out


def _aligned_rows(rows: tuple[tuple[float, ...], ...]) -> list[str]:
    """Table rows with right-aligned columns, two spaces apart."""
    cells = [[_plain(v) for v in row] for row in rows]
    widths: list[int] = []
    for row in cells:
        for i, cell in enumerate(row):
            if i == len(widths):
                widths.append(0)
            widths[i] = max(widths[i], len(cell))
    return ["  ".join(cell.rjust(widths[i]) for i, cell in enumerate(row)) for row in cells]


def _command_text(cmd: A.Stmt) -> str:
    if isinstance(cmd, A.Select):
        return f"select {format_expr(cmd.cond)}"
    if isinstance(cmd, A.Reject):
        return f"reject {format_expr(cmd.cond)}"
    if isinstance(cmd, A.Histo):
        return _histo_text(cmd)
    if isinstance(cmd, A.Weight):
        return f"weight {cmd.name} {format_expr(cmd.value)}"
    if isinstance(cmd, A.Bin):
        label = f'"{cmd.name}" ' if cmd.name is not None else ""
        return f"bin {label}{format_expr(cmd.cond)}"
    if isinstance(cmd, A.BinEdges):
        edges = " ".join(_plain(e) for e in cmd.edges)
        # `bin x * y 1 2` would read as x * (y 1 2): a value that is not one operand gets
        # parentheses (a particle followed by numbers is read back as a value and its edges).
        return f"{cmd.keyword} {_wrap(_print_expr(cmd.value), PRIMARY)} {edges}"
    if isinstance(cmd, A.Sort):
        return f"sort {format_expr(cmd.key)} {'descend' if cmd.descending else 'ascend'}"
    if isinstance(cmd, A.Print):
        parts = ([f'"{cmd.label}"'] if cmd.label is not None else [])
        parts.extend(format_expr(v) for v in cmd.values)
        return "print " + ", ".join(parts) if parts else "print"
    if isinstance(cmd, A.Save):
        text = f"save {cmd.name}"
        if cmd.format is not None or cmd.values:
            text += " csv"
            if cmd.values:
                text += " " + ", ".join(format_expr(v) for v in cmd.values)
        return text
    if isinstance(cmd, A.Counts):
        return f"counts {cmd.format} " + " , ".join(_count_text(e) for e in cmd.entries)
    if isinstance(cmd, A.Use):
        return cmd.name
    if isinstance(cmd, A.DefineAttr):
        return f"define {cmd.name} = {format_expr(cmd.value)}"
    if isinstance(cmd, A.Member):
        return f"object {cmd.name} = {format_expr(cmd.value)}"
    if isinstance(cmd, A.Take):
        return f"take {_take_text(cmd)}"
    if isinstance(cmd, A.Process):
        parts = [cmd.name, f'"{cmd.description}"', *cmd.error_kinds]
        return "process " + ", ".join(parts)
    raise TypeError(f"cannot print {type(cmd).__name__} as an ADL command")


def _histo_text(histo: A.Histo) -> str:
    parts = [histo.name]
    if histo.title is not None:
        parts.append(f'"{histo.title}"')
    for axis in histo.axes:
        if isinstance(axis, A.RegularAxis):
            parts.extend((str(axis.bins), _plain(axis.low), _plain(axis.high)))
        else:
            parts.append(" ".join(_plain(e) for e in axis.edges))
    parts.extend(format_expr(v) for v in histo.values)
    return "histo " + ", ".join(parts)


def _count_text(entry: A.CountEntry) -> str:
    out = [_plain(entry.value)]
    for up, down in entry.errors:
        if up == down:
            out.append(f"+- {_plain(up)}")
        else:
            out.append(f"+ {_plain(up)} - {_plain(down)}")
    return " ".join(out)


# --------------------------------------------------------------------------- comments


@dataclass
class _Group:
    """Consecutive comment lines."""

    first: int
    last: int
    texts: list[str]


def _merge_comments(lines: list[_Line], comments: list[A.Comment]) -> list[str | None]:
    """The output lines with the comments put back; `None` marks a blank line."""
    full: list[A.Comment] = []
    for comment in comments:
        target = None
        if comment.trailing:
            target = next((ln for ln in lines if ln.start is not None and ln.end is not None
                           and ln.start <= comment.line <= ln.end), None)
            if target is None:  # its line kept no position (a table row): the one before it
                earlier = [ln for ln in lines if ln.start is not None and ln.start <= comment.line]
                target = max(earlier, key=lambda ln: ln.start or 0, default=None)
        if target is not None:
            target.trailing.append(comment.text.strip())
        else:
            full.append(comment)
    groups = _groups(full)

    before: dict[int, list[tuple[_Group, bool]]] = {}
    at_end: list[tuple[_Group, bool]] = []
    for group in groups:
        index = next((i for i, ln in enumerate(lines)
                      if ln.start is not None and ln.start > group.last), None)
        if index is None:
            ends = [ln.end for ln in lines if ln.end is not None and ln.end < group.first]
            # No position before it (a hand-built tree): a paragraph of its own at the end.
            gap = not ends or group.first > max(ends) + 1
            at_end.append((group, gap))
        else:
            start = lines[index].start
            assert start is not None
            before.setdefault(index, []).append((group, start > group.last + 1))

    out: list[str | None] = []
    for i, line in enumerate(lines):
        groups_here = before.get(i, [])
        if line.indent == 0:
            if line.chunk:
                out.append(_BLANK)
            for group, gap in groups_here:
                if gap:
                    out.append(_BLANK)
                out.extend(group.texts)
                if gap:
                    out.append(_BLANK)
        else:
            for group, _gap in groups_here:
                out.extend(INDENT + t for t in group.texts)
        text = INDENT * line.indent + line.text
        if line.trailing:
            text += "  " + " ".join(line.trailing)
        out.append(text)
    for group, gap in at_end:
        if gap:
            out.append(_BLANK)
            out.extend(group.texts)
        else:
            indent = INDENT * lines[-1].indent if lines else ""
            out.extend(indent + t for t in group.texts)
    return out


def _groups(comments: list[A.Comment]) -> list[_Group]:
    groups: list[_Group] = []
    for comment in sorted(comments, key=lambda c: c.line):
        text = comment.text.strip()
        if groups and comment.line <= groups[-1].last + 1:
            groups[-1].last = max(groups[-1].last, comment.line)
            groups[-1].texts.append(text)
        else:
            groups.append(_Group(comment.line, comment.line, [text]))
    return groups


def _collapse(out: list[str | None]) -> list[str]:
    """Blank-line markers to at most one blank line, none at the start or the end."""
    result: list[str] = []
    blank = False
    for entry in out:
        if entry is _BLANK:
            blank = bool(result)
            continue
        if blank:
            result.append("")
            blank = False
        result.append(entry)
    return result
