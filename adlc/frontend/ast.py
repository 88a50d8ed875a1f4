"""The ADL abstract syntax tree: frozen dataclasses that follow the source, one form per construct.

Every dialect spelling is normalised while the tree is built (`adlc.frontend.transform`):
`cmd`/`cut` are `Select`, `{j}pt`/`j.pt`/`pt(j)` are `Call("pT", (j,))`, `jets_0` is `Index`,
`Union(...)`/`union(...)`/several `take` lines are `Union`, `algo` is `Region`, `|x|` is `abs(x)`.
Spans never take part in equality, so trees parsed from different spellings compare equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from adlc.errors import NO_SPAN, Span


def _span() -> Span:
    return field(default=NO_SPAN, compare=False, repr=False, kw_only=True)


# --------------------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True)
class Expr:
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Number(Expr):
    value: float | int
    text: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class String(Expr):
    value: str  # without the quotes


@dataclass(frozen=True, slots=True)
class Name(Expr):
    """A bare identifier: an object, define, table, built-in (`MET`, `ALL`) or branch name."""

    id: str


@dataclass(frozen=True, slots=True)
class This(Expr):
    """The current candidate inside an object block (learn-adl `this`, bare attributes)."""


@dataclass(frozen=True, slots=True)
class Index(Expr):
    """`coll[i]` (also `coll_i`); a negative literal index is an optimisation placeholder."""

    base: Expr
    index: Expr


@dataclass(frozen=True, slots=True)
class Slice(Expr):
    """`coll[a:b]`; what the ends mean (inclusive or half-open) depends on the dialect."""

    base: Expr
    start: Expr | None
    stop: Expr | None


@dataclass(frozen=True, slots=True)
class Call(Expr):
    """A function, attribute, reducer, table or branch applied to arguments.

    Built-in names are spelled canonically (`pT`, `eta`, `dR`, `size`...); others keep the
    user's spelling because branches and tables are case-sensitive.
    """

    func: str
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class FourSum(Expr):
    """Four-vector sum written by juxtaposition: `muons[0] muons[1]`."""

    terms: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class VarList(Expr):
    """`{ a b c }`: a list of values (the input of an ONNX model)."""

    items: tuple[Expr, ...]
    # written `{ a, b }`: kept for error messages only (the printer chooses its own form)
    commas: bool = field(default=False, compare=False)


@dataclass(frozen=True, slots=True)
class Unary(Expr):
    op: str  # "-" or "not"
    operand: Expr


@dataclass(frozen=True, slots=True)
class Binary(Expr):
    """Arithmetic (`+ - * / ^ & | << >>`), comparison (`== != < > <= >= ~= ~!`), `and`, `or`."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Range(Expr):
    """`x [] lo hi` (inside, both ends included) or `x ][ lo hi` (outside, ends included)."""

    op: str  # "[]" or "]["
    value: Expr
    low: Expr
    high: Expr


@dataclass(frozen=True, slots=True)
class Ternary(Expr):
    cond: Expr
    then: Expr
    other: Expr


@dataclass(frozen=True, slots=True)
class PrintAction(Expr):
    """`print ["label"] v1 v2 ...` as an action of a ternary in a region (CutLang
    runs/E62dbg.adl: `select eventno == 1354 ? print a b : all`): a row is printed for the
    events taking that branch, and as a cut the action passes every event."""

    label: str | None
    values: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Union(Expr):
    """Concatenation of collections, first argument first (not re-sorted)."""

    parts: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Comb(Expr):
    """`COMB(a[-1] b[-2])` (CutLang) or `disjoint`/`cartesian` (learn-adl composites).

    `members` are the placeholder-indexed terms (CutLang) or `Bound(collection, name)` pairs.
    """

    kind: str  # "comb", "disjoint", "cartesian"
    members: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Bound(Expr):
    """`leptons l1` inside `disjoint(...)`/`cartesian(...)`, or `take Jet j`: a named member."""

    source: Expr
    name: str


# --------------------------------------------------------------------------- statements


@dataclass(frozen=True, slots=True)
class Stmt:
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Select(Stmt):
    cond: Expr


@dataclass(frozen=True, slots=True)
class Reject(Stmt):
    cond: Expr


@dataclass(frozen=True, slots=True)
class RegularAxis:
    bins: int
    low: float
    high: float
    # where `bins`, `low` and `high` are written (for error messages; empty if not known)
    edge_spans: tuple[Span, ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class VariableAxis:
    edges: tuple[float, ...]
    edge_spans: tuple[Span, ...] = field(default=(), compare=False, repr=False)


Axis = RegularAxis | VariableAxis


@dataclass(frozen=True, slots=True)
class Histo(Stmt):
    name: str
    title: str | None
    axes: tuple[Axis, ...]
    values: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Weight(Stmt):
    name: str
    value: Expr


@dataclass(frozen=True, slots=True)
class Bin(Stmt):
    """One search-region bin: `bin ["name"] cond`."""

    name: str | None
    cond: Expr


@dataclass(frozen=True, slots=True)
class BinEdges(Stmt):
    """`bin VAR e1 ... en` (CutLang: n+1 bins with under/overflow) or learn-adl `bins`."""

    value: Expr
    edges: tuple[float, ...]
    keyword: str = "bin"  # "bin" (CutLang) or "bins" (learn-adl); the meaning differs
    edge_spans: tuple[Span, ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Sort(Stmt):
    key: Expr
    descending: bool


@dataclass(frozen=True, slots=True)
class Print(Stmt):
    label: str | None
    values: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Save(Stmt):
    name: str
    format: str | None  # "csv" or None
    values: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class CountEntry:
    value: float
    errors: tuple[tuple[float, float], ...]  # (up, down) per declared error type


@dataclass(frozen=True, slots=True)
class Counts(Stmt):
    format: str
    entries: tuple[CountEntry, ...]


@dataclass(frozen=True, slots=True)
class Use(Stmt):
    """A bare name on a line of its own (or `take NAME` in a region): inherit a region or
    paste a histoList. Which one is decided by the semantic pass."""

    name: str


@dataclass(frozen=True, slots=True)
class Take(Stmt):
    """An object's input: one collection expression, possibly with a binding (`take Jet j`)."""

    source: Expr
    binding: str | None = None


@dataclass(frozen=True, slots=True)
class DefineAttr(Stmt):
    """learn-adl per-candidate attribute inside an object: `define btagScore = ...`."""

    name: str
    value: Expr


@dataclass(frozen=True, slots=True)
class Member(Stmt):
    """learn-adl composite member: `object Z = l1 + l2` inside a composite block."""

    name: str
    value: Expr


ObjectCommand = Select | Reject | Histo | Print | DefineAttr
RegionCommand = Select | Reject | Histo | Weight | Bin | BinEdges | Sort | Print | Save | Counts | Use


# --------------------------------------------------------------------------- blocks


@dataclass(frozen=True, slots=True)
class InfoEntry:
    key: str
    value: str
    quoted: bool = False
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Info(Stmt):
    name: str
    entries: tuple[InfoEntry, ...]


@dataclass(frozen=True, slots=True)
class Setting(Stmt):
    """Old global switches: `TRGe = 2`, `SkipHistos = 1`."""

    name: str
    value: float


@dataclass(frozen=True, slots=True)
class Systematic(Stmt):
    enabled: bool
    up: str
    down: str
    kind: str


@dataclass(frozen=True, slots=True)
class ObjectDef(Stmt):
    name: str
    take: tuple[Take, ...]  # several takes (adl2tnm) make a union
    commands: tuple[Stmt, ...]
    alias: str | None = None  # COMB alias


@dataclass(frozen=True, slots=True)
class Composite(Stmt):
    """learn-adl `composite NAME`: candidate tuples from `take disjoint/cartesian(...)`."""

    name: str
    take: tuple[Take, ...]
    commands: tuple[Stmt, ...]


@dataclass(frozen=True, slots=True)
class Define(Stmt):
    name: str
    value: Expr
    # Made by the front end, not written in the file (a CutLang object ternary's sums,
    # adlc.frontend.normalise); the printer writes the original text back instead.
    generated: bool = field(default=False, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Table(Stmt):
    name: str
    tabletype: str | None
    nvars: int
    errors: bool
    rows: tuple[tuple[float, ...], ...]
    # Where each row is written, for diagnostics; like `span`, not part of equality.
    row_spans: tuple[Span, ...] = field(default=(), compare=False, repr=False)

    def row_vars(self) -> int:
        """How many variables the rows give ranges for. CutLang never reads `nvars`: it
        splits the numbers by the argument count of the call (TableNode.h), so a table whose
        rows all hold value [err- err+] and k (min, max) pairs is a k-variable table, whatever
        its nvars line says (the CutLang tutorial ex10 declares `nvars 1` over 2-variable
        rows). Rows of mixed or odd widths keep `nvars` (and are reported)."""
        skip = 3 if self.errors else 1
        widths = {len(row) for row in self.rows}
        if len(widths) == 1:
            (width,) = widths
            if width > skip and (width - skip) % 2 == 0:
                return (width - skip) // 2
        return self.nvars


@dataclass(frozen=True, slots=True)
class HistoList(Stmt):
    name: str
    histos: tuple[Histo, ...]


@dataclass(frozen=True, slots=True)
class Process(Stmt):
    name: str
    description: str
    error_kinds: tuple[str, ...]  # "stat"/"syst" for each error column


@dataclass(frozen=True, slots=True)
class CountsFormat(Stmt):
    name: str
    processes: tuple[Process, ...]


@dataclass(frozen=True, slots=True)
class Region(Stmt):
    name: str
    commands: tuple[Stmt, ...]


@dataclass(frozen=True, slots=True)
class Comment:
    line: int
    text: str  # including the leading '#'
    trailing: bool  # after code on the same line


@dataclass(frozen=True, slots=True)
class Analysis:
    """A whole ADL file: its blocks in file order."""

    items: tuple[Stmt, ...]
    dialect: str = "cutlang"  # "cutlang" or "learn-adl": decides what slices mean
    file: str = field(default="<input>", compare=False)
    comments: tuple[Comment, ...] = field(default=(), compare=False, repr=False)


# Node types in one place, for walkers and the dumper.
EXPR_TYPES = (Number, String, Name, This, Index, Slice, Call, FourSum, VarList, Unary, Binary,
              Range, Ternary, PrintAction, Union, Comb, Bound)


# Fields that hold source positions (`Span`s), not child nodes.
_POSITION_FIELDS = ("span", "row_spans", "edge_spans")


def children(node: object) -> tuple[object, ...]:
    """Direct child nodes of an AST node (expressions, statements, axes, entries)."""
    if not hasattr(node, "__dataclass_fields__"):
        raise TypeError(f"not an ADL syntax-tree node: {type(node).__name__}")
    out: list[object] = []
    for name in node.__dataclass_fields__:  # type: ignore[attr-defined]
        if name in _POSITION_FIELDS:
            continue
        value = getattr(node, name)
        if isinstance(value, tuple):
            out.extend(v for v in value if hasattr(v, "__dataclass_fields__"))
        elif hasattr(value, "__dataclass_fields__"):
            out.append(value)
    return tuple(out)


def walk(node: object):
    """Every node below `node` (included), pre-order, without recursion."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(children(current)))


def fold(root, combine):
    """Bottom-up evaluation without recursion: `combine(node, results)` gets the results of
    `children(node)`, in order, and returns the node's own result."""
    done: dict[int, object] = {}
    stack: list[tuple[object, bool]] = [(root, False)]
    while stack:
        current, visited = stack.pop()
        if id(current) in done:
            continue
        if not visited:
            stack.append((current, True))
            stack.extend((c, False) for c in reversed(children(current)) if id(c) not in done)
            continue
        done[id(current)] = combine(current, [done[id(c)] for c in children(current)])
    return done[id(root)]


def rewrite(node, fn):
    """Rebuild `node` bottom-up, replacing every dataclass node `n` by `fn(n)` (iteratively).

    `fn` receives a node whose children have already been rewritten and returns a node.
    """
    return fold(node, lambda current, results: fn(_with_children(current, results)))


def _with_children(node, new: list):
    """`node` with the nodes that `children(node)` lists replaced, in order, by `new`."""
    from dataclasses import replace

    if all(a is b for a, b in zip(children(node), new, strict=True)):
        return node
    items = iter(new)
    changes = {}
    for name in node.__dataclass_fields__:  # type: ignore[attr-defined]
        if name in _POSITION_FIELDS:
            continue
        value = getattr(node, name)
        if isinstance(value, tuple):
            changes[name] = tuple(next(items) if hasattr(v, "__dataclass_fields__") else v
                                  for v in value)
        elif hasattr(value, "__dataclass_fields__"):
            changes[name] = next(items)
    return replace(node, **changes)
