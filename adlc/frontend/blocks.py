"""Group parsed lines into blocks: a header line opens a block, commands belong to it."""

from __future__ import annotations

from dataclasses import dataclass, field

from adlc.errors import Diagnostic, Span
from adlc.frontend import ast as A
from adlc.frontend.transform import Header, KeyValue, Row

_SETTINGS = {"trge": "TRGe", "trgm": "TRGm", "skiphistos": "SkipHistos", "skipeffs": "SkipEffs"}
_COMMAND_NAMES = {
    A.Select: "select", A.Reject: "reject", A.Weight: "weight", A.Bin: "bin",
    A.BinEdges: "bin", A.Sort: "sort", A.Print: "print", A.Save: "save", A.Counts: "counts",
    A.Use: "a bare name", A.Process: "process", A.Member: "object ... =",
}
# Which commands each kind of block accepts.
_ALLOWED = {
    "object": (A.Select, A.Reject, A.Histo, A.Print, A.DefineAttr),
    "composite": (A.Select, A.Reject, A.Histo, A.Print, A.Member, A.DefineAttr),
    "region": (A.Select, A.Reject, A.Histo, A.Weight, A.Bin, A.BinEdges, A.Sort, A.Print,
               A.Save, A.Counts, A.Use),
    "histolist": (A.Histo,),
    "countsformat": (A.Process,),
}


@dataclass
class _Block:
    header: Header
    takes: list[A.Take] = field(default_factory=list)
    commands: list[A.Stmt] = field(default_factory=list)
    entries: list[A.InfoEntry] = field(default_factory=list)
    rows: list[tuple[float, ...]] = field(default_factory=list)
    row_spans: list[Span] = field(default_factory=list)
    settings: dict[str, tuple[str, Span]] = field(default_factory=dict)


def group_blocks(statements: list, file: str, diagnostics: list[Diagnostic]) -> list[A.Stmt]:
    items: list[A.Stmt] = []
    block: _Block | None = None

    def close() -> None:
        nonlocal block
        if block is not None:
            item = _finish(block, file, diagnostics)
            if item is not None:
                items.append(item)
        block = None

    for stmt in statements:
        if isinstance(stmt, Header):
            close()
            block = _Block(stmt)
            if stmt.source is not None:
                block.takes.append(_take_of(stmt.source, None, stmt.span))
            continue
        if isinstance(stmt, A.Define):
            indented = stmt.span.column > 1
            if block is not None and block.header.kind in ("object", "composite") and indented:
                block.commands.append(A.DefineAttr(stmt.name, stmt.value, span=stmt.span))
                continue
            close()
            items.append(stmt)
            continue
        if isinstance(stmt, A.Systematic):
            close()
            items.append(stmt)
            continue
        if block is None:
            _top_level(stmt, items, diagnostics)
            continue
        _add_to_block(block, stmt, diagnostics)
    close()
    return items


def _top_level(stmt, items: list[A.Stmt], diagnostics: list[Diagnostic]) -> None:
    if isinstance(stmt, KeyValue) and stmt.key.lower() in _SETTINGS:
        value = stmt.value.lstrip("=").strip()
        try:
            items.append(A.Setting(_SETTINGS[stmt.key.lower()], float(value), span=stmt.span))
        except ValueError:
            diagnostics.append(Diagnostic(f"`{stmt.key}` needs a number", stmt.span, "E201",
                                          hint=f"write `{stmt.key} = 1`"))
        return
    what = _what(stmt)
    diagnostics.append(Diagnostic(
        f"{what} outside any block", _span_of(stmt), "E202",
        hint="commands belong inside an `object`, `region` (or `table`, `info`...) block"))


def _add_to_block(block: _Block, stmt, diagnostics: list[Diagnostic]) -> None:
    kind = block.header.kind
    if isinstance(stmt, tuple) and stmt[0] == "take":
        _, items, alias, span = stmt
        if kind == "region":
            if len(items) == 1 and isinstance(items[0], A.Name) and alias is None:
                block.commands.append(A.Use(items[0].id, span=span))
            else:
                diagnostics.append(Diagnostic("`take` in a region names the region to inherit",
                                              span, "E203", hint="write `take baseline`"))
        elif kind in ("object", "composite"):
            if alias is not None:
                block.header.alias = alias
            for item in items:
                block.takes.append(_take_of(item, None, span))
        else:
            diagnostics.append(Diagnostic(f"`take` does not belong in a {kind} block", span,
                                          "E204"))
        return
    if isinstance(stmt, tuple) and stmt[0] == "histo":
        stmt = _histo(stmt, diagnostics)
        if stmt is None:
            return
    if isinstance(stmt, KeyValue):
        _key_value(block, stmt, diagnostics)
        return
    if isinstance(stmt, A.Use) and kind == "info":  # `hepdata` with no value yet
        block.entries.append(A.InfoEntry(stmt.name, "", False, span=stmt.span))
        return
    if isinstance(stmt, Row):
        if kind == "table":
            block.rows.append(stmt.values)
            block.row_spans.append(stmt.span)
        else:
            diagnostics.append(Diagnostic("a line of numbers outside a table", stmt.span, "E205",
                                          hint="table rows go inside a `table` block"))
        return
    allowed = _ALLOWED.get(kind, ())
    if isinstance(stmt, allowed):
        block.commands.append(stmt)
        return
    diagnostics.append(Diagnostic(f"{_what(stmt)} does not belong in {_a(kind)} block",
                                  _span_of(stmt), "E206", hint=_misplaced_hint(stmt, kind)))


def _misplaced_hint(stmt, kind: str) -> str | None:
    if isinstance(stmt, A.Use) and kind == "object":
        return "an object starts with `take COLLECTION`"
    if isinstance(stmt, A.Use):
        return f"a bare name inherits a region; it only makes sense inside a `region` ({kind} here)"
    if kind in ("info", "table"):
        return f"did you forget a `region` or `object` line before this one? ({kind} block above)"
    return None


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _key_value(block: _Block, stmt: KeyValue, diagnostics: list[Diagnostic]) -> None:
    kind = block.header.kind
    if kind == "info":
        value = stmt.value
        quoted = len(value) >= 2 and value.startswith('"') and value.endswith('"')
        block.entries.append(A.InfoEntry(stmt.key, value[1:-1] if quoted else value, quoted,
                                         span=stmt.span))
        return
    if kind == "table" and stmt.key.lower() in ("tabletype", "nvars", "errors"):
        block.settings[stmt.key.lower()] = (stmt.value, stmt.span)
        return
    diagnostics.append(Diagnostic(f"unexpected text after `{stmt.key}`", stmt.span, "E207",
                                  hint=_kv_hint(stmt, kind)))


def _kv_hint(stmt: KeyValue, kind: str) -> str:
    if kind in ("object", "region", "composite"):
        return (f"{_a(kind)} line starts with `select`, `reject`, `histo`, ...; "
                "is a keyword missing?")
    return f"this line is not understood inside a {kind} block"


def _take_of(expr: A.Expr, binding: str | None, span: Span) -> A.Take:
    # `take Jet j`: a collection and the name its candidates go by.
    if isinstance(expr, A.FourSum) and len(expr.terms) == 2 and isinstance(expr.terms[1], A.Name):
        return A.Take(expr.terms[0], expr.terms[1].id, span=span)
    return A.Take(expr, binding, span=span)


def _histo(stmt: tuple, diagnostics: list[Diagnostic]) -> A.Histo | None:
    _, name, args, span = stmt
    args = list(args)
    title = None
    if args and isinstance(args[0], A.String):
        title = args.pop(0).value
    axes: list[A.Axis] = []
    while args:
        first = args[0]
        if isinstance(first, tuple):
            axes.append(A.VariableAxis(tuple(float(e) for e in first[1]),
                                       first[2] if len(first) > 2 else ()))
            args.pop(0)
            continue
        # `nbins, low, high`; the value follows (or is missing: `has no value`, E303).
        if len(args) >= 3 and all(isinstance(a, A.Number) for a in args[:3]):
            axes.append(A.RegularAxis(int(args[0].value), float(args[1].value),
                                      float(args[2].value), tuple(a.span for a in args[:3])))
            del args[:3]
            continue
        break
    values = [a for a in args if not isinstance(a, tuple)]
    if len(values) != len(args):
        diagnostics.append(Diagnostic(f"histogram `{name}`: bin edges after the values", span,
                                      "E313", hint="write the binning before the values"))
        return None
    return A.Histo(name, title, tuple(axes), tuple(values), span=span)


def _finish(block: _Block, file: str, diagnostics: list[Diagnostic]) -> A.Stmt | None:
    h = block.header
    kind = h.kind
    if kind == "info":
        return A.Info(h.name, tuple(block.entries), span=h.span)
    if kind == "object":
        return A.ObjectDef(h.name, tuple(block.takes), tuple(block.commands), h.alias,
                           span=h.span)
    if kind == "composite":
        return A.Composite(h.name, tuple(block.takes), tuple(block.commands), span=h.span)
    if kind == "region":
        return A.Region(h.name, tuple(block.commands), span=h.span)
    if kind == "histolist":
        return A.HistoList(h.name, tuple(c for c in block.commands if isinstance(c, A.Histo)),
                           span=h.span)
    if kind == "countsformat":
        return A.CountsFormat(h.name, tuple(c for c in block.commands
                                            if isinstance(c, A.Process)), span=h.span)
    if kind == "table":
        return _table(block, diagnostics)
    return None


def _table(block: _Block, diagnostics: list[Diagnostic]) -> A.Table:
    h = block.header
    settings = block.settings
    tabletype = settings.get("tabletype", (None, h.span))[0]
    nvars = 1
    if "nvars" in settings:
        text, span = settings["nvars"]
        try:
            nvars = int(text)
        except ValueError:
            diagnostics.append(Diagnostic(f"`nvars` needs a whole number, not `{text}`", span,
                                          "E314"))
    errors = False
    if "errors" in settings:
        text, span = settings["errors"]
        if text.lower() not in ("true", "false"):
            diagnostics.append(Diagnostic(f"`errors` is `true` or `false`, not `{text}`", span,
                                          "E315"))
        errors = text.lower() == "true"
    return A.Table(h.name, tabletype, nvars, errors, tuple(block.rows),
                   row_spans=tuple(block.row_spans), span=h.span)


def _what(stmt) -> str:
    if isinstance(stmt, KeyValue):
        return f"`{stmt.key} {stmt.value}`"
    if isinstance(stmt, Row):
        return "a line of numbers"
    if isinstance(stmt, tuple):
        return f"`{stmt[0]}`"
    if isinstance(stmt, A.Histo):
        return "`histo`"
    if isinstance(stmt, A.Use):
        return f"`{stmt.name}`"
    return f"`{_COMMAND_NAMES.get(type(stmt), type(stmt).__name__.lower())}`"


def _span_of(stmt) -> Span:
    if isinstance(stmt, tuple):
        return stmt[-1]
    return stmt.span
