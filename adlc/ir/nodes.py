"""The IR: one hash-consed node class, a handful of step records and the `Program`.

Nodes are frozen, slotted and interned: building the same (op, args, attrs) twice returns the same
object, so identical expressions are one node (CSE is free) and equality is identity. The hash is
computed once. Spans live outside the node (in `Program.spans`), never in equality.

Types (`Node.type`):
  num   event scalar or, under an enclosing loop, a per-element value (float64)
  bool  condition
  vec   four-vector (px, py, pz, E)
  coll  collection (jagged: a list of objects per event)
  obj   one object of a collection (`index` with an index expression, or `elem`, the element of
        the innermost loop over that collection)

Systematic variations: a `Variation` names the leaf nodes it replaces; `Program.variations` lists
them (empty for now). `depends_on(node, variations)` is the hook the later propagation pass fills;
nodes are pure functions of their children, so that analysis is a walk over this graph.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from adlc.errors import Span

_TABLE: dict[tuple, Node] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True, eq=False)
class Node:
    op: str
    args: tuple[Node, ...]
    attrs: tuple[Any, ...]
    type: str
    _hash: int = field(repr=False, compare=False)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return self is other

    def __repr__(self) -> str:
        return f"Node({self.op}{list(self.attrs) if self.attrs else ''}, {len(self.args)} args)"


def make(op: str, args: tuple[Node, ...] = (), attrs: tuple = (), type: str = "num") -> Node:
    """The interned node for (op, args, attrs, type)."""
    key = (op, tuple(id(a) for a in args), attrs, type)
    node = _TABLE.get(key)
    if node is None:
        with _LOCK:
            node = _TABLE.get(key)
            if node is None:
                node = Node(op, tuple(args), tuple(attrs), type, hash(key))
                _TABLE[key] = node
    return node


# --- constructors (names say what the node is) -----------------------------------------------

def const(value: float) -> Node:
    return make("const", (), (float(value),), "num")


def boolean(value: bool) -> Node:
    return make("bool", (), (bool(value),), "bool")


TRUE = boolean(True)
FALSE = boolean(False)


def walk(*roots: Node, enter=None) -> list[Node]:
    """Every node reachable from `roots`, children before parents, each once (iterative).
    `enter(node)` false: the node is listed but its children are not visited through it."""
    seen: set[int] = set()
    out: list[Node] = []
    stack: list[tuple[Node, bool]] = [(r, False) for r in reversed(roots)]
    while stack:
        node, done = stack.pop()
        if done:
            out.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        if enter is None or enter(node):
            stack.extend((c, False) for c in reversed(node.args))
    return out


# --- program -----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Axis:
    """Histogram axis: `bins, low, high` (regular) or explicit `edges`; float32-rounded (quirk 18)."""

    bins: int
    low: float
    high: float
    edges: tuple[float, ...] | None = None


@dataclass(frozen=True, slots=True)
class Histogram:
    """`fixed` (contents of the in-range bins, `fixed_entries` fills) is added once to the merged
    result, never per chunk: the external numbers of `counts` lines (ADL.md §3.7)."""

    name: str
    title: str              # as CutLang writes it, quotes included
    axes: tuple[Axis, ...]
    fixed: tuple[float, ...] | None = None
    fixed_entries: int = 0


@dataclass(frozen=True, slots=True)
class Cut:
    cond: Node
    label: str


@dataclass(frozen=True, slots=True)
class Weight:
    value: Node
    label: str


@dataclass(frozen=True, slots=True)
class Fill:
    """Fill histogram `hist` (index into Program.histograms) with `values`; when `loop` is a
    collection, once per element of it (an un-indexed collection in a histo, quirk 13)."""

    hist: int
    values: tuple[Node, ...]
    loop: Node | None
    label: str


@dataclass(frozen=True, slots=True)
class SearchBin:
    label: str
    cond: Node


@dataclass(frozen=True, slots=True)
class Table:
    """The rows written by `save NAME csv v1, v2, ...` (kind "save", file NAME.csv) or shown by
    `print ["label"] v1 v2 ...` (kind "print"): one row of float64 values per event that
    reaches the command. `columns` are the value expressions' source text."""

    name: str
    kind: str                   # "save" | "print"
    columns: tuple[str, ...]
    region: str
    label: str | None = None    # print's label


@dataclass(frozen=True, slots=True)
class Record:
    """Append one row of `values` to table `table` (index into Program.tables). No cutflow row.
    With `when` (a condition), only in the events where it holds (`c ? print ... : all`)."""

    table: int
    values: tuple[Node, ...]
    label: str = ""
    when: Node | None = None


Step = Cut | Weight | Fill | Record


@dataclass(frozen=True, slots=True)
class Region:
    name: str
    steps: tuple[Step, ...]
    bins: tuple[SearchBin, ...] = ()
    fixed: tuple[int, ...] = ()    # histograms with fixed contents only (`counts`), no fill


@dataclass(frozen=True, slots=True)
class Variation:
    """A systematic variation: replaces `target` leaves by `replacement` (designed, not used yet)."""

    name: str
    replaces: tuple[tuple[Node, Node], ...] = ()


@dataclass(frozen=True, slots=True)
class Program:
    collections: tuple[tuple[str, Node], ...]      # user objects, file order
    defines: tuple[tuple[str, Node], ...]
    regions: tuple[Region, ...]
    histograms: tuple[Histogram, ...]
    variations: tuple[Variation, ...] = ()
    spans: dict = field(default_factory=dict, compare=False, hash=False)
    source_file: str = ""
    tables: tuple[Table, ...] = ()

    def roots(self) -> list[Node]:
        """Every object, define and output expression."""
        return ([n for _, n in self.collections] + [n for _, n in self.defines]
                + self.output_roots())

    def output_roots(self) -> list[Node]:
        """The expressions the outputs are computed from: region steps and search bins."""
        out: list[Node] = []
        for region in self.regions:
            for step in region.steps:
                if isinstance(step, Cut):
                    out.append(step.cond)
                elif isinstance(step, Weight):
                    out.append(step.value)
                elif isinstance(step, Record):
                    out.extend(step.values)
                    if step.when is not None:
                        out.append(step.when)
                else:
                    out.extend(step.values)
                    if step.loop is not None:
                        out.append(step.loop)
            out.extend(b.cond for b in region.bins)
        return out


def span_of(program: Program, node: Node) -> Span | None:
    return program.spans.get(node)
