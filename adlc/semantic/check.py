"""`adlc check`: the checks that need no data.

Undefined or twice-defined names, objects used before they are defined, regions inheriting
from unknown regions, wrong argument counts for known functions, and histogram, bin and table
specifications that cannot be right. Every problem is collected; nothing is raised.
"""

from __future__ import annotations

import contextlib
import difflib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from adlc.errors import AdlError, Diagnostic, Span
from adlc.frontend import ast as A
from adlc.frontend.names import COLLECTIONS, EVENT_NAMES, canonical_attribute, is_builtin_function
from adlc.frontend.printer import format_expr

MAX_DIAGNOSTICS = 100

# Argument counts of the built-in functions: (min, max); None = no upper limit.
_ARITY: dict[str, tuple[int, int | None]] = {
    "dR": (2, 2), "dPhi": (2, 2), "dEta": (2, 2), "Cross": (2, 2), "Dot": (2, 2),
    "size": (1, 1), "sum": (1, 1), "ave": (1, 1), "any": (1, 1), "all": (1, 1),
    "anyof": (1, 1), "allof": (1, 1), "min": (1, None), "max": (1, None),
    "abs": (1, 1), "sqrt": (1, 1), "cos": (1, 1), "sin": (1, 1), "tan": (1, 1),
    "sinh": (1, 1), "cosh": (1, 1), "tanh": (1, 1), "exp": (1, 1), "log": (1, 1),
    "hstep": (1, 1), "delta": (1, 1), "pow": (2, 2), "fHT": (0, 1), "ADD": (1, None),
    "applyHM": (1, 1), "applyPTF": (1, 1), "scalePT": (1, 1), "applyEF": (1, 1),
    "scaleE": (1, 1), "daughters": (1, 2), "constituents": (1, 2),
    # CutLang's tokens for NanoAOD branches (lower.CUTLANG_BRANCH_ATTRS)
    "relIsoall": (1, 1), "pfRelIso03all": (1, 1), "miniPFRelIsoAll": (1, 1),
    # CutLang's ONNX evaluation: `OME("model.onnx", inputs [, means, sigmas, output])`.
    "OME": (2, None),
}
_ATTRIBUTE_ARITY = (1, 1)
# What to write instead, where a wrong argument count has a known cause.
_ARITY_HINTS = {
    # CutLang's grammar has only `fhemisphere(object, INT, INT)` (parse.y), and its Hemisphere
    # class has no default methods (the method-less constructor leaves seed 0 / association
    # 0, which Reconstruct rejects), so a one-argument call has no CutLang meaning.
    "fhemisphere": "give the seed and association methods, e.g. fhemisphere(JET, 2, 3): "
                   "CutLang accepts only this form and has no default methods (seed 2 = "
                   "maximal invariant mass, association 3 = minimal Lund distance are the "
                   "ones its Hemisphere class recommends)",
}
# Keywords that begin a command line; read as a function name inside an expression they are
# a mistake (two commands run together), not an unknown function.
_COMMAND_WORDS = frozenset({"select", "reject", "cmd", "cut", "take", "using", "histo",
                            "define", "def", "object", "obj", "region", "algo", "algorithm"})
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
    candidate_defines: set[str] = field(default_factory=set)  # learn-adl per-candidate

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
        diagnostics = check_analysis(analysis)
        if not any(d.severity == "error" for d in diagnostics):
            errors = _lowering_errors(analysis, source)
            # an error replaces the warning about the same text (an unknown function)
            at = {(e.span.line, e.span.column) for e in errors}
            diagnostics = [d for d in diagnostics if (d.span.line, d.span.column) not in at]
            diagnostics += errors
        return _limit(diagnostics), source
    except AdlError as error:
        return _limit(error.diagnostics), source
    except RecursionError:
        return [Diagnostic("an expression is nested too deeply for adlc", Span(file=path),
                           "E901", hint="split it with `define` lines")], source
    except Exception as exc:  # an adlc bug must still not show the user a traceback
        return [Diagnostic(f"internal error in adlc ({type(exc).__name__}: {exc}); please "
                           "report it with this file", Span(file=path), "E999")], source


def _lowering_errors(analysis: A.Analysis, source: str) -> list[Diagnostic]:
    """What lowering to the IR rejects (types, unsupported forms, unknown functions), so that
    a file `adlc check` passes does not then fail in `adlc run` before any data is read."""
    from adlc.semantic.lower import lower

    try:
        lower(analysis, source)
    except AdlError as error:
        return list(error.diagnostics)
    return []


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
    _object_ternary_sums(analysis, out)
    scope = _Scope()
    # adl2tnm (LHADA) files are not read top to bottom: there, order is only a warning.
    scope.lenient = analysis.dialect != "cutlang" or any(
        isinstance(i, A.Composite) or (isinstance(i, A.ObjectDef) and (
            len(i.take) > 1 or any(t.binding for t in i.take))) for i in analysis.items)
    for item in analysis.items:
        name = getattr(item, "name", None)
        if isinstance(name, str) and not isinstance(item, (A.Info, A.Setting)):
            scope.everything.setdefault(name, item)
        if isinstance(item, A.ObjectDef):
            scope.candidate_defines |= {c.name for c in item.commands
                                        if isinstance(c, A.DefineAttr)}
    for item in analysis.items:
        _check_item(item, scope, out)
        _declare(item, scope, out)
    _check_pitfalls(analysis, out)
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
            _increasing(command.edges, command.span, "bin edges", out, command.edge_spans)
        elif isinstance(command, A.Counts):
            _check_counts(command, scope, out)
        elif _region_reference(command, scope):
            _check_region_reference(command, scope, out)
        else:
            for expr in _exprs(command):
                _check_expr(expr, scope, out, set())


def _region_reference(command: A.Stmt, scope: _Scope) -> bool:
    """`select NAME` in a region, with NAME neither a value nor a branch: adl2tnm's way of
    inheriting a region (normalised to a bare `NAME` line when the region exists), so most
    likely a region that does not exist, or not yet (CMS-SUS-16-041_Delphes.adl)."""
    if not (isinstance(command, A.Select) and isinstance(command.cond, A.Name)):
        return False
    name = command.cond.id
    if (name in scope.objects or name in scope.defines or name in COLLECTIONS
            or name in EVENT_NAMES or name in scope.tables or _looks_like_branch(name)):
        return False
    # (a region of that name, above or below, made the line a `Use`: see normalise.py)
    return name not in scope.everything


def _check_region_reference(command: A.Select, scope: _Scope, out: list[Diagnostic]) -> None:
    name, span = command.cond.id, command.cond.span
    regions = [*scope.regions]
    close = _suggest(name, regions)
    listed = (f"the regions defined above are {', '.join(f'`{r}`' for r in regions)}"
              if regions else "no region is defined above this one")
    out.append(Diagnostic(
        f"undefined name `{name}`: `select {name}` would inherit a region `{name}`, and there "
        "is none (nor an object or define of that name)", span, "E409",
        hint=f"{close + ' ' if close else ''}{listed}; to inherit a region, write its name "
             "alone on a line of a later region (`select NAME` also works)"))


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
    if _misplaced_commands(expr, scope, out):
        return  # the rest of a garbled line would only add errors about its pieces
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


def _misplaced_commands(expr: A.Expr, scope: _Scope, out: list[Diagnostic]) -> bool:
    """A command keyword read as a function inside an expression (`min(a, select (1 + 1)
    != 13)`, CutLang runs/save_ex4.adl): report it, the real mistake of the line."""
    found = False
    for node in A.walk(expr):
        if (isinstance(node, A.Call) and node.func.lower() in _COMMAND_WORDS
                and node.func not in scope.tables
                and node.func not in scope.candidate_defines):
            word, at = node.func, node.span
            if at.line:  # the caret under the keyword, not the call it seems to make
                at = Span(at.line, at.column, at.line, at.column + len(word), at.file)
            out.append(Diagnostic(
                f"`{word}` inside an expression: `{word}` starts a command line, it is not a "
                "function", at, "E415",
                hint=f"end the expression before `{word}`; a line holds one command, so put "
                     f"a second condition on a `{word}` line of its own, or join the two "
                     "conditions with `and`"))
            found = True
    return found


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
    if name in ("constituents", "daughters"):
        return  # `pT(JET constituents)`: lowering says that no input format has them (E233)
    # The user's own names first: `jetz` is more likely `jets` (an object) than `jet` (JET).
    own = [*scope.objects, *scope.defines, *scope.tables, *(local - {"this"})]
    attribute = canonical_attribute(name)
    suggestion = _suggest(name, own) or (
        f"`{name}` is the attribute {attribute} of a particle: write {attribute}(x) (or "
        f"x.{attribute})" if attribute else None) or _suggest(name, scope.known())
    out.append(Diagnostic(f"undefined name `{name}`", node.span, "E409", hint=suggestion or (
        "define it with `define`/`object` above, or write the exact branch name")))


def _looks_like_branch(name: str) -> bool:
    return "_" in name.strip("_") or name.startswith(_BRANCH_HINTS)


def _check_call(node: A.Call, scope: _Scope, out: list[Diagnostic]) -> None:
    func, count = node.func, len(node.args)
    if func in scope.tables:
        nvars = scope.tables[func].row_vars()
        if count != nvars:
            out.append(Diagnostic(f"table `{func}` takes {nvars} value{'s' * (nvars != 1)}, "
                                  f"not {count}", node.span, "E410"))
        return
    arity = _arity(func)
    if arity is None and func in scope.candidate_defines and count == 1:
        return  # `ptsq(goodjets[0])`: an object's per-candidate define
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
                              f"not {count}", node.span, "E411", hint=_ARITY_HINTS.get(func)))


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
                # CutLang hands them to `new TH1D(..., nbins, lo, hi)`, and ROOT reads
                # hi <= lo as "choose the range from the first entries" (automatic binning)
                out.append(Diagnostic(
                    f"{where}: the low edge {axis.low:g} is not below the high edge "
                    f"{axis.high:g}", _spanning(axis.edge_spans[1:], histo.span), "E308",
                    hint="in CutLang, ROOT reads high <= low as automatic binning (the "
                         "range taken from the data); adlc needs the range: write "
                         "`nbins, low, high` with low < high (docs/cutlang-differences.md)"))
        else:
            _increasing(axis.edges, histo.span, f"{where}: bin edges", out, axis.edge_spans)


def _increasing(edges, span: Span, what: str, out: list[Diagnostic],
                spans: tuple[Span, ...] = ()) -> None:
    if len(edges) < 2 and what.endswith("bin edges") and what != "bin edges":
        out.append(Diagnostic(f"{what} need at least two values", span, "E309"))
    bad = next((i for i, (a, b) in enumerate(zip(edges, edges[1:], strict=False)) if b <= a),
               None)
    if bad is None:
        return
    a, b = edges[bad], edges[bad + 1]
    # the caret under the pair (edge numbers count from 1, as a physicist reads the line)
    at = _spanning(spans[bad:bad + 2], span) if len(spans) == len(edges) else span
    ordered = " ".join(f"{e:g}" for e in sorted(set(edges)))
    out.append(Diagnostic(f"{what} must increase, but {a:g} is followed by {b:g} "
                          f"(edges {bad + 1} and {bad + 2})", at, "E310",
                          hint=f"write the edges from low to high, each once: {ordered}"))


def _spanning(spans: tuple[Span, ...], default: Span) -> Span:
    """One span from the first of `spans` to the last, if they are known and on one line."""
    if not spans or not all(s.line for s in spans):
        return default
    first, last = spans[0], spans[-1]
    if first.line != last.end_line:
        return first
    return Span(first.line, first.column, last.end_line, last.end_column, first.file)


def _object_ternary_sums(analysis: A.Analysis, out: list[Diagnostic]) -> None:
    """A ternary in an object block whose branches read the candidate (`c ? pT(Jet) > 25 :
    pT(Jet) > 40`): CutLang, and adlc with it, takes each `f(Jet)` there as the sum of f over
    the whole collection (the front end made a define for each, `generated`)."""
    for item in analysis.items:
        if isinstance(item, A.Define) and item.generated:
            call = item.value.args[0]  # sum(f(Union(source)))
            source = call.args[0].parts[0].id
            text = f"{call.func}({source})"
            out.append(Diagnostic(
                f"in a ternary inside an object block, CutLang reads `{text}` as the sum of "
                f"{call.func} over all of `{source}`, not the candidate's own; adlc does the "
                "same for CutLang files", item.span, "W516", "warning",
                hint="for a per-candidate cut write `(c and a) or (not c and b)` "
                     "(docs/cutlang-differences.md)"))


def _check_table(table: A.Table, out: list[Diagnostic]) -> None:
    nvars = table.row_vars()
    if nvars != table.nvars:
        out.append(Diagnostic(
            f"table `{table.name}` declares nvars {table.nvars} but every row gives ranges "
            f"for {nvars} variables: read as nvars {nvars}", table.span, "W515", "warning",
            hint=f"write `nvars {nvars}`; CutLang ignores nvars and splits the rows by the "
                 "number of values the table is called with"))
    width = 1 + (2 if table.errors else 0) + 2 * nvars
    for i, row in enumerate(table.rows, start=1):
        if len(row) != width:
            span = table.row_spans[i - 1] if i <= len(table.row_spans) else table.span
            out.append(Diagnostic(
                f"table `{table.name}` row {i} has {len(row)} numbers, expected {width}",
                span, "E311",
                hint=f"each row is: value{' err- err+' if table.errors else ''}"
                     f"{' min max' * nvars}"))
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


# --------------------------------------------------------------------------- pitfalls (W510+)
# CutLang pitfalls (ADL.md §3.2, §5.1, §5.4, §7.2). Each is a warning, given only where the
# meaning is certain: an expression that cannot be analysed gets none.

_DIRECTIVE = re.compile(r"#\s*adlc\s*:\s*dialect\s*=\s*([\w-]+)", re.IGNORECASE)
_DIALECTS = ("cutlang", "learn-adl")
# Functions of numbers that `_if_missing` evaluates; any other function of a missing object
# is one of its attributes, which read 0 (CutLang, quirk 5).
_MATH = {"abs": abs, "sqrt": lambda x: math.sqrt(x) if x >= 0 else None, "cos": math.cos,
         "sin": math.sin, "exp": math.exp}
_MISSING = object()
_COMPARE = frozenset({"==", "!=", "<", ">", "<=", ">="})
_MIRROR = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "==": "==", "!=": "!="}
_NEGATE = {"<": ">=", ">": "<=", "<=": ">", ">=": "<", "==": "!=", "!=": "=="}
_INF = math.inf
_BIN_HINT = ("CutLang counts an event only in the first bin it matches; make the bins "
             "disjoint (`<` on one side of a shared edge)")
_COVER_HINT = ("a single-line `bin VAR e1 ... en` covers every value (with under- and "
               "overflow), so no later bin of the region gets an event; give it a region of its "
               "own")
_DIRECTIVE_HINT = "state the dialect: add `# adlc: dialect=cutlang` (or `learn-adl`) at the top"

Facts = dict[str, tuple[int, float]]  # collection name -> (least, most) size known


@dataclass(frozen=True)
class _Interval:
    lo: float = -_INF
    lo_in: bool = False
    hi: float = _INF
    hi_in: bool = False

    def meet(self, other: _Interval) -> _Interval:
        lo, lo_in = max((self.lo, not self.lo_in), (other.lo, not other.lo_in))
        hi, hi_in = min((self.hi, self.hi_in), (other.hi, other.hi_in))
        return _Interval(lo, not lo_in, hi, hi_in)

    def integers(self) -> tuple[float, float]:
        """The smallest and largest whole numbers inside (may be infinite)."""
        lo = self.lo if math.isinf(self.lo) else (
            math.ceil(self.lo) if self.lo_in else math.floor(self.lo) + 1)
        hi = self.hi if math.isinf(self.hi) else (
            math.floor(self.hi) if self.hi_in else math.ceil(self.hi) - 1)
        return lo, hi

    def empty(self, discrete: bool) -> bool:
        """No value inside; for a continuous variable, also a single value (an edge shared by
        `[] 100 200` and `[] 200 300` holds no events in practice)."""
        if discrete:
            lo, hi = self.integers()
            return lo > hi
        return not self.lo < self.hi


Box = dict[A.Expr, _Interval]


@dataclass
class _BinEntry:
    label: str
    stmt: A.Stmt
    span: Span
    box: Box | None
    own: bool
    group: int | None = None  # the single-line `bin VAR e1 ... en` it comes from


@dataclass
class _RegionState:
    region: str
    facts: Facts = field(default_factory=dict)
    sorted: set[str] = field(default_factory=set)
    warned_index: dict[str, int] = field(default_factory=dict)
    warned_union: set[str] = field(default_factory=set)
    # collection -> (largest index read unguarded, where first, through which define)
    pending: dict[str, tuple[int, Span, A.Name | None]] = field(default_factory=dict)
    silent: bool = False  # an inherited command: mark as warned, say nothing
    # collections whose size a cut constrains in a way not analysed (`size(a) + size(b) == 1`)
    opaque: set[str] = field(default_factory=set)


def _number(expr: A.Expr) -> float | None:
    if isinstance(expr, A.Number) and not isinstance(expr.value, bool):
        return expr.value
    if isinstance(expr, A.Unary) and expr.op == "-" and isinstance(expr.operand, A.Number):
        return -expr.operand.value
    return None


def _index_of(expr: A.Index) -> int | None:
    """The literal, non-negative whole index of `coll[i]`, else None (placeholders too)."""
    value = _number(expr.index)
    if value is None or value < 0 or not float(value).is_integer():
        return None
    return int(value)


def _test(expr: A.Expr):
    """`(X, holds)` for a comparison of X with constants (`holds(v)`: true for X = v)."""
    if isinstance(expr, A.Range):
        low, high = _number(expr.low), _number(expr.high)
        if low is None or high is None:
            return None
        if expr.op == "[]":
            return expr.value, (lambda v: low <= v <= high), (low, high)
        return expr.value, (lambda v: v <= low or v >= high), (low, high)
    if isinstance(expr, A.Binary) and expr.op in _COMPARE:
        op, value, other = expr.op, expr.left, _number(expr.right)
        if other is None:
            op, value, other = _MIRROR[expr.op], expr.right, _number(expr.left)
        if other is None:
            return None
        a = other
        holds = {"==": lambda v: v == a, "!=": lambda v: v != a, "<": lambda v: v < a,
                 ">": lambda v: v > a, "<=": lambda v: v <= a, ">=": lambda v: v >= a}[op]
        return value, holds, (a,)
    return None


def _interval(expr: A.Expr, truth: bool = True) -> tuple[A.Expr, _Interval] | None:
    """`X op a` / `X [] a b` as X's interval (when it is one)."""
    if isinstance(expr, A.Range):
        low, high = _number(expr.low), _number(expr.high)
        if low is None or high is None or (expr.op == "[]") != truth:
            return None  # `x ][ a b` (or `[]` negated) is two intervals
        return expr.value, _Interval(low, truth, high, truth)
    if not (isinstance(expr, A.Binary) and expr.op in _COMPARE):
        return None
    op, value, a = expr.op, expr.left, _number(expr.right)
    if a is None:
        op, value, a = _MIRROR[expr.op], expr.right, _number(expr.left)
    if a is None:
        return None
    op = op if truth else _NEGATE[op]
    made = {"==": _Interval(a, True, a, True), "<": _Interval(hi=a), "<=": _Interval(hi=a, hi_in=True),
            ">": _Interval(lo=a), ">=": _Interval(lo=a, lo_in=True)}.get(op)
    return None if made is None else (value, made)


def _merge(a: Facts, b: Facts) -> Facts:
    """Both hold."""
    out = dict(a)
    for key, (low, high) in b.items():
        if key in out:
            out[key] = (max(low, out[key][0]), min(high, out[key][1]))
        else:
            out[key] = (low, high)
    return out


def _common(a: Facts, b: Facts) -> Facts:
    """One of them holds. A size that only one of them bounds becomes unknown (least -1): a
    later `c[i]` may be guarded by a case split adlc does not follow, so it is not warned."""
    out: Facts = {}
    for key in (*a, *(k for k in b if k not in a)):
        if key in a and key in b:
            out[key] = (min(a[key][0], b[key][0]), max(a[key][1], b[key][1]))
        else:
            out[key] = (-1, _INF)
    return out


def _if_missing(expr: A.Expr, name: str, index: int) -> float | None:
    """The value of `expr` (defines resolved) when `name` has at most `index` elements, if
    that is a constant: every attribute of `name[i]`, i >= index, then reads 0."""

    def combine(node, kids):
        if isinstance(node, A.Number) and not isinstance(node.value, bool):
            return float(node.value)
        if isinstance(node, A.Index):
            at = _index_of(node)
            gone = isinstance(node.base, A.Name) and node.base.id == name
            return _MISSING if gone and at is not None and at >= index else None
        numbers = [k if isinstance(k, float) else None for k in kids]
        if isinstance(node, A.Call) and len(kids) == 1:
            if node.func in _MATH:
                return None if numbers[0] is None else _MATH[node.func](numbers[0])
            return 0.0 if kids[0] is _MISSING and node.func != "size" else None
        if isinstance(node, A.Unary) and node.op == "-":
            return None if numbers[0] is None else -numbers[0]
        if isinstance(node, A.Binary) and node.op in ("+", "-", "*", "/", "^"):
            a, b = numbers
            if node.op == "*" and 0.0 in (a, b):
                return 0.0  # zero times anything (MET, an angle...)
            if node.op == "/" and a == 0.0 and b != 0.0:
                return 0.0
            if a is None or b is None:
                return None
            try:
                return {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else None,
                        "^": a ** b if a > 0 or float(b).is_integer() else None}[node.op]
            except (OverflowError, ZeroDivisionError):
                return None
        return None

    result = A.fold(expr, combine)
    return result if isinstance(result, float) else None


def _meet_boxes(a: Box, b: Box) -> Box:
    out = dict(a)
    for key, value in b.items():
        out[key] = out[key].meet(value) if key in out else value
    return out


def _plain_number(value: float) -> str:
    return f"{value:g}" if float(value).is_integer() and abs(value) < 1e15 else repr(value)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


class _Pitfalls:
    """The W510+ warnings of one file."""

    def __init__(self, analysis: A.Analysis, out: list[Diagnostic]):
        self.analysis = analysis
        self.out = out
        self.seen: set[tuple[str, str, Span]] = set()
        self.defines: dict[str, A.Expr] = {}
        self.objects: set[str] = set(COLLECTIONS)
        self.unions: set[str] = set()
        self.union_parts: dict[str, tuple[str, ...]] = {}
        # objects made by a function (`take fmegajets(jets)`), or filtered from one: their
        # size is the function's business
        self.made: set[str] = set()
        self.filtered: dict[str, list[str]] = {}  # collection -> objects that filter it
        self.regions: dict[str, A.Region] = {}
        self.histolists: dict[str, A.HistoList] = {}
        self._resolved: dict[int, A.Expr] = {}
        self._resolving: set[str] = set()
        self._facts: dict[tuple[int, bool], tuple[A.Expr, Facts]] = {}
        self.written: dict[A.Expr, A.Expr] = {}  # a bin variable as the user first wrote it
        for item in analysis.items:
            if isinstance(item, A.Define):
                self.defines.setdefault(item.name, item.value)
            elif isinstance(item, A.HistoList):
                self.histolists.setdefault(item.name, item)
            elif isinstance(item, (A.ObjectDef, A.Composite)):
                self.objects.add(item.name)
                if _made(item, self.made):
                    self.made.add(item.name)
                elif (len(item.take) == 1 and isinstance(item.take[0].source, A.Name)
                      and isinstance(item, A.ObjectDef)):
                    self.filtered.setdefault(item.take[0].source.id, []).append(item.name)
                if isinstance(item, A.ObjectDef) and self._is_union(item):
                    self.unions.add(item.name)
                    parts = self._union_parts(item)
                    if parts:
                        self.union_parts[item.name] = parts

    def _is_union(self, item: A.ObjectDef) -> bool:
        """Made by Union/several takes, or filtered from such an object (the order stays)."""
        if len(item.take) > 1 or any(isinstance(t.source, A.Union) for t in item.take):
            return True
        return (len(item.take) == 1 and isinstance(item.take[0].source, A.Name)
                and item.take[0].source.id in self.unions)

    @staticmethod
    def _union_parts(item: A.ObjectDef) -> tuple[str, ...]:
        """The parts of an unfiltered union of named collections (its size is their sum)."""
        if any(isinstance(c, (A.Select, A.Reject)) for c in item.commands):
            return ()
        sources = [t.source for t in item.take]
        if len(sources) == 1 and isinstance(sources[0], A.Union):
            sources = list(sources[0].parts)
        if len(sources) < 2 or not all(isinstance(s, A.Name) for s in sources):
            return ()
        return tuple(s.id for s in sources)  # type: ignore[attr-defined]

    def warn(self, code: str, message: str, span: Span, hint: str) -> None:
        key = (code, message, span)
        if key not in self.seen:
            self.seen.add(key)
            self.out.append(Diagnostic(message, span, code, "warning", hint=hint))

    # ----------------------------------------------------------------- expressions
    def resolve(self, expr: A.Expr) -> A.Expr:
        """`expr` with every define replaced by its value (for comparing and bounding)."""
        done = self._resolved.get(id(expr))
        if done is not None:
            return done

        def substitute(node):
            if isinstance(node, A.Name) and node.id in self.defines \
                    and node.id not in self._resolving:
                self._resolving.add(node.id)
                try:
                    return self.resolve(self.defines[node.id])
                finally:
                    self._resolving.discard(node.id)
            return node

        result = A.rewrite(expr, substitute)
        self._resolved[id(expr)] = result
        return result

    def facts(self, expr: A.Expr, truth: bool) -> Facts:
        """Sizes known from `expr` (already resolved) being `truth`."""
        key = (id(expr), truth)
        if key not in self._facts:
            self._facts[key] = (expr, self._find_facts(expr, truth))  # keep expr: ids stay
        return self._facts[key][1]

    def _find_facts(self, expr: A.Expr, truth: bool) -> Facts:
        if isinstance(expr, A.Binary) and expr.op in ("and", "or"):
            left, right = self.facts(expr.left, truth), self.facts(expr.right, truth)
            return _merge(left, right) if (expr.op == "and") == truth else _common(left, right)
        if isinstance(expr, A.Unary) and expr.op == "not":
            return self.facts(expr.operand, not truth)
        if isinstance(expr, A.Ternary):
            yes = _merge(self.facts(expr.cond, True), self.facts(expr.then, truth))
            no = _merge(self.facts(expr.cond, False), self.facts(expr.other, truth))
            return _common(yes, no)
        test = _test(expr)
        if test is None:
            return {}
        value, holds, constants = test
        if (isinstance(value, A.Call) and value.func == "size" and len(value.args) == 1
                and isinstance(value.args[0], A.Name)):
            top = math.ceil(max(abs(c) for c in constants)) + 2
            sizes = [n for n in range(top + 1) if holds(n) == truth]
            if not sizes:
                return {}
            return {value.args[0].id: (sizes[0], _INF if sizes[-1] == top else sizes[-1])}
        read: dict[str, set[int]] = {}
        nodes = 0
        for node in A.walk(value):
            nodes += 1
            if isinstance(node, A.Index) and isinstance(node.base, A.Name):
                index = _index_of(node)
                if index is not None:
                    read.setdefault(node.base.id, set()).add(index)
        out: Facts = {}
        if nodes > 200:
            return out  # not a value that a missing object makes constant
        for name, indices in read.items():
            for index in sorted(indices, reverse=True):  # the strongest guard first
                missing = _if_missing(value, name, index)
                if missing is not None and holds(missing) != truth:
                    out[name] = (index + 1, _INF)
                    break
        return out

    def visit(self, expr: A.Expr, facts: Facts, state: _RegionState,
              use: A.Name | None = None, stack: tuple[str, ...] = (),
              padded: bool = False) -> None:
        """Indexing in `expr`, where `facts` hold; `use` is the define name it came through;
        `padded`: inside the inputs of an ONNX model, where missing objects are zeros by
        convention."""
        if isinstance(expr, A.Binary) and expr.op in ("and", "or"):
            truth = expr.op == "or"  # the other side matters only when this one is ...
            self.visit(expr.left, _merge(facts, self.facts(self.resolve(expr.right), not truth)),
                       state, use, stack, padded)
            self.visit(expr.right, _merge(facts, self.facts(self.resolve(expr.left), not truth)),
                       state, use, stack, padded)
            return
        if isinstance(expr, A.Ternary):
            cond = self.resolve(expr.cond)
            self.visit(expr.cond, facts, state, use, stack, padded)
            self.visit(expr.then, _merge(facts, self.facts(cond, True)), state, use, stack, padded)
            self.visit(expr.other, _merge(facts, self.facts(cond, False)), state, use, stack,
                       padded)
            return
        if isinstance(expr, A.Name) and expr.id in self.defines and expr.id not in stack:
            self.visit(self.defines[expr.id], facts, state, use or expr, (*stack, expr.id),
                       padded)
            return
        if isinstance(expr, A.Index) and isinstance(expr.base, A.Name):
            self.check_index(expr, facts, state, use, padded)
        padded = padded or (isinstance(expr, A.Call) and expr.func == "OME")
        for child in A.children(expr):
            self.visit(child, facts, state, use, stack, padded)  # type: ignore[arg-type]

    def check_index(self, expr: A.Index, facts: Facts, state: _RegionState,
                    use: A.Name | None, padded: bool) -> None:
        index = _index_of(expr)
        name = expr.base.id  # type: ignore[attr-defined]
        if index is None or name not in self.objects:
            return
        span = use.span if use is not None else expr.span
        least = self.size(name, facts)[0]
        if (0 <= least <= index and not padded and name not in state.opaque
                and name not in self.made):
            pending = state.pending.get(name)
            if pending is None or index > pending[0]:
                state.pending[name] = (index, span, use)
        if (name in self.unions and name not in state.sorted and name not in state.warned_union
                and not self.ordered(name, facts)):
            state.warned_union.add(name)
            if not state.silent:
                self.warn("W512", f"`{name}` is a Union: its elements are not sorted by pT "
                                  "(first argument first)", span,
                          f"add `sort pT({name}) descend` before this line, or index the parts")

    def size(self, name: str, facts: Facts, seen: frozenset[str] = frozenset()
             ) -> tuple[int, float]:
        """What `facts` say about size(name) (least -1: unknown). A plain union is as long as
        its parts; a collection is at least as long as an object filtered from it."""
        seen = seen | {name}
        low, high = facts.get(name, (0, _INF))
        parts = self.union_parts.get(name)
        if parts and not seen & set(parts):
            sizes = [self.size(p, facts, seen) for p in parts]
            least = -1 if any(s[0] < 0 for s in sizes) else sum(s[0] for s in sizes)
            low = least if name not in facts else max(low, least)
            high = min(high, sum(s[1] for s in sizes))
        for child in self.filtered.get(name, ()):
            if child not in seen:
                child_low = self.size(child, facts, seen)[0]
                low = max(low, child_low) if child_low > 0 else low
        return low, high

    def ordered(self, name: str, facts: Facts) -> bool:
        """At most one element, or (a plain union) at most one part with any: order is moot.
        A size bounded only case by case (least -1) is not analysed: say nothing."""
        low, high = self.size(name, facts)
        if low < 0 or high <= 1:
            return True
        parts = self.union_parts.get(name)
        if not parts:
            return False
        sizes = [self.size(p, facts) for p in parts]
        return any(s[0] < 0 for s in sizes) or sum(s[1] > 0 for s in sizes) <= 1

    def flush(self, state: _RegionState) -> None:
        """One warning per collection and command: the largest index read unguarded."""
        for name, (index, span, use) in state.pending.items():
            if index <= state.warned_index.get(name, -1):
                continue
            state.warned_index[name] = index
            if state.silent:
                continue
            text = f"{name}[{index}]"
            through = f"`{use.id}` reads `{text}`" if use is not None else f"`{text}` is read"
            count = f"{index + 1} element{'s' * (index > 0)}"
            self.warn("W511", f"{through} without a check that `{name}` has at least {count}",
                      span, f"add `select size({name}) >= {index + 1}` before this line; "
                            "out of range reads 0 (CutLang)")
        state.pending.clear()

    # ----------------------------------------------------------------- regions
    def commands(self, region: A.Region, seen: frozenset[str]) -> list[tuple[A.Stmt, bool]]:
        """The region's commands with inherited ones pasted in; True for its own."""
        out: list[tuple[A.Stmt, bool]] = []
        for command in region.commands:
            if isinstance(command, A.Use):
                parent = self.regions.get(command.name)
                if parent is not None and command.name not in seen:
                    out.extend((c, False) for c, _ in self.commands(parent, seen | {parent.name}))
                elif command.name in self.histolists:
                    out.extend((h, True) for h in self.histolists[command.name].histos)
            else:
                out.append((command, True))
        return out

    def region(self, region: A.Region) -> None:
        commands = self.commands(region, frozenset({region.name}))
        after_cuts: Facts = {}  # bins are counted after every cut of the region
        after_opaque: set[str] = set()
        for command, _ in commands:
            if isinstance(command, (A.Select, A.Reject)):
                truth = isinstance(command, A.Select)
                after_cuts = _merge(after_cuts, self.facts(self.resolve(command.cond), truth))
                after_opaque |= _opaque(self.resolve(command.cond))
        state = _RegionState(region.name)
        for command, own in commands:
            # An inherited command was checked in its own region: what it would warn about is
            # marked as warned, so that the child does not repeat the parent's warnings.
            state.silent = not own
            if isinstance(command, (A.Select, A.Reject)):
                cond = self.resolve(command.cond)
                mine = self.facts(cond, isinstance(command, A.Select))
                state.opaque |= _opaque(cond)
                self.visit(command.cond, _merge(state.facts, mine), state)
                state.facts = _merge(state.facts, mine)
            elif isinstance(command, A.Sort):
                state.sorted.update(n.id for n in A.walk(command.key) if isinstance(n, A.Name))
            elif isinstance(command, (A.Bin, A.BinEdges)):
                expr = command.cond if isinstance(command, A.Bin) else command.value
                before = state.opaque
                state.opaque = before | after_opaque | _opaque(self.resolve(expr))
                mine = self.facts(self.resolve(expr), True) if isinstance(command, A.Bin) else {}
                self.visit(expr, _merge(after_cuts, mine), state)
                state.opaque = before
            else:
                for value in _region_values(command):
                    self.visit(value, state.facts, state)
            self.flush(state)
        self.bins(commands)

    # ----------------------------------------------------------------- bins
    def box(self, expr: A.Expr, partial: bool = False) -> Box | None:
        """Per-variable intervals of a conjunction; None when it is not one (`partial`: keep
        the parts that are, for the cuts that narrow the region)."""
        if isinstance(expr, A.Binary) and expr.op == "and":
            left, right = self.box(expr.left, partial), self.box(expr.right, partial)
            if left is None or right is None:
                return (left or right or {}) if partial else None
            return _meet_boxes(left, right)
        if isinstance(expr, A.Name) and expr.id == "ALL":
            return {}
        found = _interval(self.resolve(expr))
        if found is None:
            return {} if partial else None
        key = found[0]
        # Shown in messages as the user wrote it (`HTpho`, not the define's value).
        sides = (expr.value,) if isinstance(expr, A.Range) else (
            (expr.left, expr.right) if isinstance(expr, A.Binary) else ())
        written = next((side for side in sides if self.resolve(side) == key), key)
        self.written.setdefault(key, written)
        return {key: found[1]}

    def bins(self, commands: list[tuple[A.Stmt, bool]]) -> None:
        domain: Box = {}
        entries: list[_BinEntry] = []
        for command, own in commands:
            if isinstance(command, A.Select):
                domain = _meet_boxes(domain, self.box(command.cond, True) or {})
            elif isinstance(command, A.Reject):
                found = _interval(self.resolve(command.cond), truth=False)
                if found is not None:
                    domain = _meet_boxes(domain, {found[0]: found[1]})
            elif isinstance(command, A.Bin):
                label = (f'bin "{command.name}"' if command.name is not None else
                         f"`bin {_short(format_expr(command.cond))}`")
                entries.append(_BinEntry(label, command, command.cond.span or command.span,
                                         self.box(command.cond), own))
            elif isinstance(command, A.BinEdges) and command.keyword == "bin" and command.edges:
                value, edges = self.resolve(command.value), command.edges
                self.written.setdefault(value, command.value)
                label = (f"`bin {_short(format_expr(command.value))} "
                         f"{' '.join(_plain_number(e) for e in edges)}`")
                pieces = [_Interval(hi=edges[0], hi_in=True),
                          *(_Interval(a, True, b, True) for a, b in zip(edges, edges[1:],
                                                                         strict=False)),
                          _Interval(lo=edges[-1], lo_in=True)]
                entries.extend(_BinEntry(label, command, command.span, {value: piece}, own,
                                         id(command)) for piece in pieces)
        discrete = {key for box in (domain, *(e.box for e in entries if e.box))
                    for key, iv in box.items()
                    if iv.lo == iv.hi or (isinstance(key, A.Call) and key.func == "size")}
        # Each bin narrowed by the cuts, its variables numbered (hashing a tree is not free).
        numbers: dict[A.Expr, int] = {}
        variables: list[A.Expr] = []
        narrowed: list[dict[int, _Interval] | None] = []
        for entry in entries:
            if entry.box is None:
                narrowed.append(None)
                continue
            box: dict[int, _Interval] = {}
            for key, interval in entry.box.items():
                if key not in numbers:
                    numbers[key] = len(variables)
                    variables.append(key)
                within = domain.get(key)
                box[numbers[key]] = interval if within is None else within.meet(interval)
            empty = any(iv.empty(variables[k] in discrete) for k, iv in box.items())
            narrowed.append(None if empty else box)
        warned: set[int] = set()
        dead: set[int | None] = set()  # single-line bins already reported as covering all
        for j, later in enumerate(entries):
            mine = narrowed[j]
            if mine is None or id(later.stmt) in warned:
                continue
            for i, earlier in enumerate(entries[:j]):
                theirs = narrowed[i]
                if theirs is None or (earlier.group is not None and earlier.group == later.group)\
                        or not (later.own or earlier.own):
                    continue
                if any(k in theirs and iv.meet(theirs[k]).empty(variables[k] in discrete)
                       for k, iv in mine.items()):
                    continue
                both = dict(theirs)
                for k, iv in mine.items():
                    both[k] = iv.meet(both[k]) if k in both else iv
                where = later if later.own else earlier
                other = earlier if later.own else later
                verb = "overlaps" if later.own else "is overlapped by"
                warned.add(id(later.stmt))
                if earlier.group is not None and earlier.group in dead:
                    break  # this bin is dead too: the single-line bin is reported once
                dead.add(earlier.group)
                shown = {variables[k]: iv for k, iv in both.items()}
                self.warn("W510", f"{where.label} {verb} {other.label} (line "
                                  f"{other.span.line}): {_describe(shown, discrete, self.written)}"
                                  " matches both and is counted only in the first",
                          where.span, _COVER_HINT if earlier.group is not None else _BIN_HINT)
                break

    # ----------------------------------------------------------------- the file
    def run(self) -> None:
        self.dialect()
        for item in self.analysis.items:
            if isinstance(item, A.Region):
                self.region(item)
                self.regions.setdefault(item.name, item)

    def dialect(self) -> None:
        for comment in self.analysis.comments:
            match = _DIRECTIVE.search(comment.text)
            if match:
                name = match.group(1)
                if name.lower() not in _DIALECTS:
                    column = comment.text.find(name) + 1
                    self.warn("W514", f"unknown dialect `{name}` (adlc knows `cutlang` and "
                                      "`learn-adl`)",
                              Span(comment.line, column, comment.line, column + len(name),
                                   self.analysis.file),
                              "write `# adlc: dialect=cutlang` or `# adlc: dialect=learn-adl`; "
                              "as it is, slices in this file are read half-open")
                return
        if self.analysis.dialect != "cutlang":
            return  # a tree built with its dialect
        for node in A.walk(self.analysis):
            if isinstance(node, A.Slice) and node.stop is not None:
                self.slice(node)

    def slice(self, node: A.Slice) -> None:
        start = "0" if node.start is None else format_expr(node.start)
        stop = format_expr(node.stop)  # type: ignore[arg-type]
        last = _number(node.stop)  # type: ignore[arg-type]
        before = _plain_number(last - 1) if last is not None else f"{stop}-1"
        self.warn("W513", f"`{format_expr(node)}` is inclusive in CutLang ({start}..{stop}), "
                          f"half-open in learn-adl ({start}..{before}); this file is read as "
                          "CutLang", node.span, _DIRECTIVE_HINT)


def _made(item: A.ObjectDef | A.Composite, made: set[str]) -> bool:
    """An object made by a function (`take fmegajets(jets)`, `select fhemisphere(jets) == 2`,
    `select sum(jets) == 1`), or filtered from one: its size is the function's business."""
    if any(isinstance(t.source, A.Call) or (isinstance(t.source, A.Name) and t.source.id in made)
           for t in item.take):
        return True
    return any(isinstance(node, A.Call) and (node.func == "sum" or (
        node.func.startswith("f") and node.func not in ("flavor",)))
        for command in item.commands if isinstance(command, (A.Select, A.Reject))
        for node in A.walk(command.cond))


def _opaque(expr: A.Expr) -> set[str]:
    """Collections whose size `expr` uses other than in `size(c) op number`."""
    simple: set[int] = set()
    calls: list[A.Call] = []
    for node in A.walk(expr):
        test = _test(node)
        if test is not None:
            simple.add(id(test[0]))
        if (isinstance(node, A.Call) and node.func == "size" and len(node.args) == 1
                and isinstance(node.args[0], A.Name)):
            calls.append(node)
    return {c.args[0].id for c in calls if id(c) not in simple}  # type: ignore[attr-defined]


def _region_values(command: A.Stmt) -> tuple[A.Expr, ...]:
    if isinstance(command, A.Histo):
        return command.values
    if isinstance(command, A.Weight):
        return (command.value,)
    if isinstance(command, (A.Print, A.Save)):
        return command.values
    return ()


def _describe(box: Box, discrete: set[A.Expr], written: dict[A.Expr, A.Expr]) -> str:
    parts = []
    for key, iv in box.items():
        text = format_expr(written.get(key, key))
        lo, lo_in, hi, hi_in = iv.lo, iv.lo_in, iv.hi, iv.hi_in
        if key in discrete:
            lo, hi = iv.integers()
            lo_in = hi_in = True
            if isinstance(key, A.Call) and key.func == "size":
                lo = max(lo, 0)  # a count is never negative
        if math.isinf(lo) and math.isinf(hi):
            continue
        if lo == hi:
            parts.append(f"{text} == {_plain_number(lo)}")
        elif math.isinf(hi):
            parts.append(f"{text} {'>=' if lo_in else '>'} {_plain_number(lo)}")
        elif math.isinf(lo):
            parts.append(f"{text} {'<=' if hi_in else '<'} {_plain_number(hi)}")
        else:
            parts.append(f"{_plain_number(lo)} {'<=' if lo_in else '<'} {text} "
                         f"{'<=' if hi_in else '<'} {_plain_number(hi)}")
    return ("an event with " + " and ".join(parts)) if parts else "every event"


def _check_pitfalls(analysis: A.Analysis, out: list[Diagnostic]) -> None:
    # A tree too deep to analyse gets no warnings rather than an error.
    with contextlib.suppress(RecursionError):
        _Pitfalls(analysis, out).run()
