"""`adlc check`: the checks that need no data.

Undefined or twice-defined names, objects used before they are defined, regions inheriting
from unknown regions, wrong argument counts for known functions, and histogram, bin and table
specifications that cannot be right. Every problem is collected; nothing is raised.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from adlc.errors import AdlError, Diagnostic, Span
from adlc.frontend import ast as A
from adlc.frontend.names import COLLECTIONS, EVENT_NAMES, is_builtin_function

MAX_DIAGNOSTICS = 100

# Argument counts of the built-in functions: (min, max); None = no upper limit.
_ARITY: dict[str, tuple[int, int | None]] = {
    "dR": (2, 2), "dPhi": (2, 2), "dEta": (2, 2), "Cross": (2, 2), "Dot": (2, 2),
    "size": (1, 1), "sum": (1, 1), "ave": (1, 1), "any": (1, 1), "all": (1, 1),
    "anyof": (1, 1), "allof": (1, 1), "min": (1, None), "max": (1, None),
    "abs": (1, 1), "sqrt": (1, 1), "cos": (1, 1), "sin": (1, 1), "tan": (1, 1),
    "sinh": (1, 1), "cosh": (1, 1), "tanh": (1, 1), "exp": (1, 1), "log": (1, 1),
    "hstep": (1, 1), "delta": (1, 1), "pow": (2, 2), "fHT": (0, 1), "ADD": (1, 1),
    "applyHM": (1, 1), "applyPTF": (1, 1), "scalePT": (1, 1), "applyEF": (1, 1),
    "scaleE": (1, 1), "daughters": (1, 2), "constituents": (1, 1),
    # CutLang's ONNX evaluation: `OME("model.onnx", inputs [, means, sigmas, output])`.
    "OME": (2, None),
}
_ATTRIBUTE_ARITY = (1, 1)
# Branch-name prefixes: a bare unknown name like these is read from the input file.
_BRANCH_HINTS = ("HLT_", "Flag_", "L1_", "PV_", "MET_", "nJet", "nMuon", "nElectron", "nTau",
                 "nPhoton", "run", "event", "luminosityBlock", "fixedGridRho", "Pileup_")


@dataclass
class _Scope:
    """Names defined so far (file order) and, for `used before defined`, all names."""

    objects: dict[str, A.Stmt] = field(default_factory=dict)
    defines: dict[str, A.Stmt] = field(default_factory=dict)
    tables: dict[str, A.Table] = field(default_factory=dict)
    regions: dict[str, A.Region] = field(default_factory=dict)
    histolists: dict[str, A.HistoList] = field(default_factory=dict)
    countsformats: dict[str, A.CountsFormat] = field(default_factory=dict)
    everything: dict[str, A.Stmt] = field(default_factory=dict)
    lenient: bool = False

    def known(self) -> list[str]:
        return [*self.objects, *self.defines, *self.tables, *COLLECTIONS, *EVENT_NAMES]


def check_file(path: str, *, syntax_only: bool = False) -> tuple[list[Diagnostic], str | None]:
    """Diagnostics for one file and its source text. Never raises."""
    from adlc.frontend.parser import parse, read_source

    source: str | None = None
    try:
        source = read_source(Path(path))
        analysis = parse(source, path)
        if syntax_only:
            return [], source
        return _limit(check_analysis(analysis)), source
    except AdlError as error:
        return _limit(error.diagnostics), source
    except RecursionError:
        return [Diagnostic("an expression is nested too deeply for adlc", Span(file=path),
                           "E901", hint="split it with `define` lines")], source
    except Exception as exc:  # an adlc bug must still not show the user a traceback
        return [Diagnostic(f"internal error in adlc ({type(exc).__name__}: {exc}); please "
                           "report it with this file", Span(file=path), "E999")], source


def _limit(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    if len(diagnostics) <= MAX_DIAGNOSTICS:
        return diagnostics
    rest = len(diagnostics) - MAX_DIAGNOSTICS
    last = diagnostics[MAX_DIAGNOSTICS - 1]
    more = Diagnostic(f"... and {rest} more problems", Span(file=last.span.file), "E000",
                      last.severity)
    return [*diagnostics[:MAX_DIAGNOSTICS], more]


def check_analysis(analysis: A.Analysis) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    scope = _Scope()
    # adl2tnm (LHADA) files are not read top to bottom: there, order is only a warning.
    scope.lenient = analysis.dialect != "cutlang" or any(
        isinstance(i, A.Composite) or (isinstance(i, A.ObjectDef) and (
            len(i.take) > 1 or any(t.binding for t in i.take))) for i in analysis.items)
    for item in analysis.items:
        name = getattr(item, "name", None)
        if isinstance(name, str) and not isinstance(item, (A.Info, A.Setting)):
            scope.everything.setdefault(name, item)
    for item in analysis.items:
        _check_item(item, scope, out)
        _declare(item, scope, out)
    return sorted(out, key=lambda d: (d.span.line, d.span.column))


def _declare(item: A.Stmt, scope: _Scope, out: list[Diagnostic]) -> None:
    tables = {A.ObjectDef: scope.objects, A.Composite: scope.objects, A.Define: scope.defines,
              A.Table: scope.tables, A.Region: scope.regions, A.HistoList: scope.histolists,
              A.CountsFormat: scope.countsformats}
    target = tables.get(type(item))
    if target is None:
        return
    name = item.name  # type: ignore[attr-defined]
    for other in (scope.objects, scope.defines, scope.tables, scope.regions, scope.histolists):
        if name in other:
            first = other[name].span
            out.append(Diagnostic(f"`{name}` is defined twice (first on line {first.line})",
                                  item.span, "E401", hint="give one of them another name"))
            return
    target[name] = item


def _check_item(item: A.Stmt, scope: _Scope, out: list[Diagnostic]) -> None:
    if isinstance(item, (A.ObjectDef, A.Composite)):
        _check_object(item, scope, out)
    elif isinstance(item, A.Define):
        _check_expr(item.value, scope, out, local=set())
    elif isinstance(item, A.Region):
        _check_region(item, scope, out)
    elif isinstance(item, A.HistoList):
        for histo in item.histos:
            _check_histo(histo, scope, out, set())
    elif isinstance(item, A.Table):
        _check_table(item, out)


def _check_take(take: A.Take, scope: _Scope, out: list[Diagnostic]) -> None:
    """An unknown collection in `take` may be the ntuple's own name (adl2tnm): a warning."""
    if isinstance(take.source, A.Name):
        name = take.source.id
        if not (name in scope.objects or name in COLLECTIONS or name in scope.everything
                or name.lower() in {c.lower() for c in COLLECTIONS}):
            out.append(Diagnostic(f"`{name}` is not a known collection", take.source.span,
                                  "W502", "warning",
                                  hint=_suggest(name, [*scope.objects, *COLLECTIONS]) or
                                  f"adlc will look for branches `{name}_*` in the input"))
            return
    _check_expr(take.source, scope, out, local=set(), sources=True)


def _check_object(item, scope: _Scope, out: list[Diagnostic]) -> None:
    local: set[str] = {"this"}
    if not item.take:
        out.append(Diagnostic(f"object `{item.name}` does not say what it is made from",
                              item.span, "E402", hint="add `take Jet` (or another collection)"))
    for take in item.take:
        _check_take(take, scope, out)
        if take.binding:
            local.add(take.binding)
        for node in A.walk(take.source):
            if isinstance(node, A.Name):
                local.add(node.id)
            elif isinstance(node, A.Bound):
                local.add(node.name)
    if getattr(item, "alias", None):
        local.add(item.alias)
    # Per-candidate attributes (`define relIso = ...` inside the object): used bare, they are
    # `relIso(this)`, a call of the attribute, not of an unknown function.
    attributes: set[str] = set()
    for command in item.commands:
        if isinstance(command, (A.DefineAttr, A.Member)):
            _check_expr(command.value, scope, out, local, attributes=attributes)
            local.add(command.name)
            if isinstance(command, A.DefineAttr):
                attributes.add(command.name)
        elif isinstance(command, A.Histo):
            _check_histo(command, scope, out, local, attributes)
        else:
            for expr in _exprs(command):
                _check_expr(expr, scope, out, local, attributes=attributes)


def _check_region(item: A.Region, scope: _Scope, out: list[Diagnostic]) -> None:
    for command in item.commands:
        if isinstance(command, A.Use):
            _check_use(command, item, scope, out)
        elif isinstance(command, A.Histo):
            _check_histo(command, scope, out, set())
        elif isinstance(command, A.BinEdges):
            _check_expr(command.value, scope, out, set())
            _increasing(command.edges, command.span, "bin edges", out)
        elif isinstance(command, A.Counts):
            _check_counts(command, scope, out)
        else:
            for expr in _exprs(command):
                _check_expr(expr, scope, out, set())


def _check_use(command: A.Use, region: A.Region, scope: _Scope, out: list[Diagnostic]) -> None:
    name = command.name
    if name in scope.regions or name in scope.histolists:
        return
    if name == region.name:
        out.append(Diagnostic(f"region `{name}` inherits from itself", command.span, "E403"))
        return
    later = scope.everything.get(name)
    if isinstance(later, (A.Region, A.HistoList)):
        out.append(Diagnostic(f"`{name}` is used before it is defined (line {later.span.line})",
                              command.span, "E404",
                              hint="a region can only inherit from a region defined above it"))
        return
    kind = _kind_of(name, scope)
    if kind is not None:
        use = (f"write a cut such as `select size({name}) > 0`" if kind in ("object", "collection")
               else f"write a cut such as `select {name} > 0`" if kind == "define"
               else "call it with its values: `weight w " + name + "(...)`")
        out.append(Diagnostic(f"`{name}` is {_a(kind)}, not a region or histoList",
                              command.span, "E405",
                              hint=f"a bare name on a line inherits a region, and `{name}` is "
                                   f"{_a(kind)}; to use it, {use}"))
        return
    out.append(Diagnostic(f"unknown region or histoList `{name}`", command.span, "E405",
                          hint=_suggest(name, [*scope.regions, *scope.histolists])))


def _kind_of(name: str, scope: _Scope) -> str | None:
    """What a name that is not a region or histoList is, if it is anything."""
    item = scope.everything.get(name)
    if isinstance(item, (A.ObjectDef, A.Composite)):
        return "object"
    if isinstance(item, A.Define):
        return "define"
    if isinstance(item, A.Table):
        return "table"
    if name in COLLECTIONS:
        return "collection"
    return None


def _a(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


def _exprs(command: A.Stmt) -> tuple[A.Expr, ...]:
    if isinstance(command, (A.Select, A.Reject, A.Bin)):
        return (command.cond,)
    if isinstance(command, A.Weight):
        return (command.value,)
    if isinstance(command, A.Sort):
        return (command.key,)
    if isinstance(command, (A.Print, A.Save)):
        return command.values
    return ()


def _check_expr(expr: A.Expr, scope: _Scope, out: list[Diagnostic], local: set[str],
                sources: bool = False, attributes: set[str] | None = None) -> None:
    for node in A.walk(expr):
        if isinstance(node, A.Name):
            _check_name(node, scope, out, local)
        elif isinstance(node, A.Call):
            if attributes and node.func in attributes:
                continue  # an attribute defined in this object (its argument is walked too)
            _check_call(node, scope, out)
        elif isinstance(node, A.This) and "this" not in local:
            out.append(Diagnostic("`this` only means something inside an object block",
                                  node.span, "E406"))
        elif isinstance(node, A.Bound):
            local.add(node.name)
        elif isinstance(node, A.FourSum) and any(isinstance(t, A.Number) for t in node.terms):
            # The parser rejects these (numbers stand next to values only in `{ ... }` lists
            # and `bin`/`bins` edges); a tree built another way is checked here.
            number = next(t for t in node.terms if isinstance(t, A.Number))
            negative = number.value < 0 or number.text.startswith("-")
            out.append(Diagnostic(
                "a number cannot be added to a four-vector",
                number.span if number.span.line else node.span, "E414",
                hint="write a space after a minus sign: `x - 3`" if negative else
                "a number follows a value only in `{ a b 1 2 }` lists and `bin VAR 1 2` edges"))


def _check_name(node: A.Name, scope: _Scope, out: list[Diagnostic], local: set[str]) -> None:
    name = node.id
    if (name in local or name in scope.objects or name in scope.defines or name in COLLECTIONS
            or name in EVENT_NAMES or name in scope.tables):
        return
    later = scope.everything.get(name)
    if later is not None and not isinstance(later, (A.Region, A.HistoList, A.CountsFormat)):
        severity = "warning" if scope.lenient else "error"
        out.append(Diagnostic(f"`{name}` is used before it is defined (line {later.span.line})",
                              node.span, "E407", severity, hint="move its definition above this line"))
        return
    if isinstance(later, A.Region):
        out.append(Diagnostic(f"`{name}` is a region, not a value", node.span, "E408",
                              hint=f"to inherit from it, write `{name}` alone on a line"))
        return
    if _looks_like_branch(name):
        return  # read from the input file; `adlc run` checks that the branch exists
    # The user's own names first: `jetz` is more likely `jets` (an object) than `jet` (JET).
    own = [*scope.objects, *scope.defines, *scope.tables, *(local - {"this"})]
    suggestion = _suggest(name, own) or _suggest(name, scope.known())
    out.append(Diagnostic(f"undefined name `{name}`", node.span, "E409", hint=suggestion or (
        "define it with `define`/`object` above, or write the exact branch name")))


def _looks_like_branch(name: str) -> bool:
    return "_" in name.strip("_") or name.startswith(_BRANCH_HINTS)


def _check_call(node: A.Call, scope: _Scope, out: list[Diagnostic]) -> None:
    func, count = node.func, len(node.args)
    if func in scope.tables:
        nvars = scope.tables[func].nvars
        if count != nvars:
            out.append(Diagnostic(f"table `{func}` takes {nvars} value{'s' * (nvars != 1)}, "
                                  f"not {count}", node.span, "E410"))
        return
    arity = _arity(func)
    if arity is None:
        later = scope.everything.get(func)
        if isinstance(later, A.Table):
            out.append(Diagnostic(f"table `{func}` is used before it is defined "
                                  f"(line {later.span.line})", node.span, "E407"))
        if "_" not in func:
            out.append(Diagnostic(
                f"unknown function `{func}`", node.span, "W501", "warning",
                hint=_suggest(func, sorted(_ARITY)) or "an external function must be "
                "registered (docs/functions.md); a branch is read by its exact name"))
        return  # an external function or a branch read; `adlc run` resolves it
    low, high = arity
    if count < low or (high is not None and count > high):
        want = f"{low}" if low == high else (f"{low} or more" if high is None else
                                              f"{low} to {high}")
        out.append(Diagnostic(f"`{func}` takes {want} argument{'s' * (want != '1')}, "
                              f"not {count}", node.span, "E411"))


def _arity(func: str) -> tuple[int, int | None] | None:
    if func in _ARITY:
        return _ARITY[func]
    if is_builtin_function(func):
        return _ATTRIBUTE_ARITY
    try:
        from adlc import stdlib
    except ImportError:  # pragma: no cover - stdlib is part of the package
        return None
    lookup = getattr(stdlib, "lookup", None)
    spec = lookup(func) if lookup else None
    if spec is None:
        return None
    return spec.min_args, spec.max_args


def _check_histo(histo: A.Histo, scope: _Scope, out: list[Diagnostic], local: set[str],
                 attributes: set[str] | None = None) -> None:
    for value in histo.values:
        _check_expr(value, scope, out, local, attributes=attributes)
    where = f"histogram `{histo.name}`"
    if histo.title is None:
        out.append(Diagnostic(f"{where} has no title", histo.span, "E301",
                              hint=f'write `histo {histo.name}, "title", 50, 0, 500, value`'))
    if not histo.axes:
        out.append(Diagnostic(f"{where} has no binning", histo.span, "E302",
                              hint="give `nbins, low, high` (or edges `0 50 100`) before the value"))
        return
    if not histo.values:
        out.append(Diagnostic(f"{where} has no value to fill", histo.span, "E303",
                              hint="add the expression to histogram after the binning"))
        return
    if len(histo.axes) > 2:
        out.append(Diagnostic(f"{where} has {len(histo.axes)} axes; at most 2 are supported",
                              histo.span, "E304"))
    elif len(histo.axes) == 2 and len(histo.values) != 2:
        out.append(Diagnostic(f"{where} is 2D but has {len(histo.values)} value(s)", histo.span,
                              "E305", hint="a 2D histogram needs an x and a y value"))
    elif len(histo.axes) == 1 and len(histo.values) > 1:
        out.append(Diagnostic(f"{where} has one axis but {len(histo.values)} values",
                              histo.span, "E306",
                              hint="for 2D give two binnings: `nx, xlo, xhi, ny, ylo, yhi, x, y`"))
    for axis in histo.axes:
        if isinstance(axis, A.RegularAxis):
            if axis.bins <= 0:
                out.append(Diagnostic(f"{where}: the number of bins must be positive",
                                      histo.span, "E307"))
            if not axis.low < axis.high:
                out.append(Diagnostic(f"{where}: the low edge {axis.low:g} is not below the "
                                      f"high edge {axis.high:g}", histo.span, "E308"))
        else:
            _increasing(axis.edges, histo.span, f"{where}: bin edges", out)


def _increasing(edges, span: Span, what: str, out: list[Diagnostic]) -> None:
    if len(edges) < 2 and what.endswith("bin edges") and what != "bin edges":
        out.append(Diagnostic(f"{what} need at least two values", span, "E309"))
    if any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
        out.append(Diagnostic(f"{what} must increase", span, "E310",
                              hint="write the edges from low to high"))


def _check_table(table: A.Table, out: list[Diagnostic]) -> None:
    width = 1 + (2 if table.errors else 0) + 2 * table.nvars
    for i, row in enumerate(table.rows, start=1):
        if len(row) != width:
            span = table.row_spans[i - 1] if i <= len(table.row_spans) else table.span
            out.append(Diagnostic(
                f"table `{table.name}` row {i} has {len(row)} numbers, expected {width}",
                span, "E311",
                hint=f"each row is: value{' err- err+' if table.errors else ''}"
                     f"{' min max' * table.nvars}"))
    if not table.rows:
        out.append(Diagnostic(f"table `{table.name}` has no rows", table.span, "E312"))


def _check_counts(command: A.Counts, scope: _Scope, out: list[Diagnostic]) -> None:
    fmt = scope.countsformats.get(command.format)
    if fmt is None:
        out.append(Diagnostic(f"unknown countsformat `{command.format}`", command.span, "E412",
                              hint=_suggest(command.format, list(scope.countsformats))))
    elif len(command.entries) != len(fmt.processes):
        out.append(Diagnostic(f"`counts {command.format}` gives {len(command.entries)} "
                              f"value(s) for {len(fmt.processes)} process(es)", command.span,
                              "E413"))


def _suggest(name: str, candidates: list[str]) -> str | None:
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    if not close:
        lower = {c.lower(): c for c in candidates}
        close = [lower[name.lower()]] if name.lower() in lower else []
    return f"did you mean `{close[0]}`?" if close else None
