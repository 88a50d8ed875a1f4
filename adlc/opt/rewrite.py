"""The machinery the node-rewriting passes share: rebuild a Program bottom-up under a rule.

A rule sees a node whose children are already rewritten and returns its replacement (or the
node itself). Rewriting is a function of the node, so every use of one node gets the same
replacement and shared subgraphs stay shared. Spans follow the replaced nodes, so backend
errors still cite the source.

One thing a rewrite must not do is merge two collections that the kernel tells apart: a
cleaning cut loops over one collection inside a loop over another, and placeholders
(`jets[-1]`, COMB members) pair up by collection. `rewrite_program` checks for such merges
and, where a rule would make two of them one node, keeps both collections as they were.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable

from adlc.ir import nodes as N
from adlc.ir.nodes import Node, Program, make

Rule = Callable[[Node], Node]

MAX_RULE_ROUNDS = 32       # a rule's result is offered to the rule again, at most this often
BINDERS = frozenset({"reduce", "quant"})   # bind args[0]'s element inside args[1]
PLACEHOLDERS = frozenset({"slot", "member"})
IMPURE = frozenset({"optimise", "extcall"})  # ~= binds placeholders; externals are opaque
FLOAT_OPS = frozenset({"const", "branch", "attr", "size", "b2n", "reduce", "table", "vattr",
                       "met"})


def program_roots(prog: Program) -> list[Node]:
    """`prog.roots()` plus the nodes systematic variations name."""
    roots = prog.roots()
    for v in prog.variations:
        for old, new in v.replaces:
            roots.extend((old, new))
    return roots


def is_const(node: Node) -> bool:
    return node.op in ("const", "bool")


def const_value(node: Node):
    return node.attrs[0]


def num_const(value: float) -> Node | None:
    """The const node for `value`, or None where a node cannot carry it exactly: NaN breaks
    interning (NaN != NaN) and -0.0 interns as 0.0 (they compare equal)."""
    value = float(value)
    if math.isnan(value) or (value == 0.0 and math.copysign(1.0, value) < 0):
        return None
    return N.const(value)


class Facts:
    """Memoised properties of nodes, for rules that must not change values or types."""

    def __init__(self) -> None:
        self._pure: dict[Node, bool] = {}
        self._float: dict[Node, bool] = {}

    def pure(self, node: Node) -> bool:
        """Dropping `node` unevaluated changes nothing else (no ~= binding, no external)."""
        for n in _unknown(node, self._pure):
            self._pure[n] = n.op not in IMPURE and all(self._pure[a] for a in n.args)
        return self._pure[node]

    def float64(self, node: Node) -> bool:
        """The numba kernel computes `node` as a float64 (not an int from an external), so an
        identity like x * 1.0 -> x keeps the type as well as the value."""
        for n in _unknown(node, self._float):
            self._float[n] = self._float64(n)
        return self._float[node]

    def _float64(self, n: Node) -> bool:
        if n.op in FLOAT_OPS:
            return True
        if n.op == "arith":
            return n.attrs[0] in ("/", "&", "|", "<<", ">>") or any(self._float[a]
                                                                    for a in n.args)
        if n.op == "func":
            return n.attrs[0] != "abs" or self._float[n.args[0]]
        if n.op in ("neg", "minmax2", "minmaxn"):
            return all(self._float[a] for a in n.args)
        if n.op == "ternary":
            return self._float[n.args[1]] and self._float[n.args[2]]
        return False


def _unknown(root: Node, memo: dict) -> list[Node]:
    """The nodes under `root` not in `memo` yet, children first (memoised ones not entered)."""
    out: list[Node] = []
    seen: set[Node] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            out.append(node)
        elif node not in memo and node not in seen:
            seen.add(node)
            stack.append((node, True))
            stack.extend((c, False) for c in node.args)
    return out


def rewrite_program(prog: Program, rule: Rule) -> tuple[Program, dict[Node, Node]]:
    """`prog` with every node rewritten by `rule`, and the map old node -> new node."""
    nodes = N.walk(*program_roots(prog))
    frozen: set[Node] = set()
    while True:
        mapping = _rewrite(nodes, rule, frozen)
        clashes = _identity_clashes(nodes, mapping) - frozen
        if not clashes:
            return rebuild(prog, mapping), mapping
        frozen |= clashes


def _rewrite(nodes: list[Node], rule: Rule, frozen: set[Node]) -> dict[Node, Node]:
    done: dict[Node, Node] = {}
    for n in nodes:
        if n in frozen:
            done[n] = n
            continue
        args = tuple(done[a] for a in n.args)
        new = make(n.op, args, n.attrs, n.type) if args != n.args else n
        for _ in range(MAX_RULE_ROUNDS):
            nxt = rule(new)
            if nxt is new:
                break
            new = nxt
        done[n] = new
    return done


def _identity_clashes(nodes: list[Node], mapping: dict[Node, Node]) -> set[Node]:
    """Distinct collections the rewrite would merge although the kernel tells them apart:
    two that are loop variables of one expression, or both hold placeholders."""
    free: dict[Node, frozenset[Node]] = {}
    groups: list[Iterable[Node]] = [{n.args[0] for n in nodes if n.op in PLACEHOLDERS}]
    for n in nodes:
        if n.op == "elem":
            free[n] = frozenset({n.args[0]})
        elif n.type == "coll":
            free[n] = frozenset()
        elif n.op in BINDERS:
            free[n] = (free[n.args[1]] - {n.args[0]}).union(*(free[a] for a in n.args[2:]))
        else:
            free[n] = frozenset().union(*(free[a] for a in n.args))
        if len(free[n]) > 1:
            groups.append(free[n])
    clashes: set[Node] = set()
    for group in groups:
        by_image: dict[Node, list[Node]] = {}
        for c in group:
            by_image.setdefault(mapping.get(c, c), []).append(c)
        for same in by_image.values():
            if len(same) > 1:
                clashes.update(same)
    return clashes


def rebuild(prog: Program, mapping: dict[Node, Node]) -> Program:
    """`prog` with its nodes replaced as `mapping` says (steps, bins, names and spans)."""
    def sub(n: Node) -> Node:
        return mapping.get(n, n)

    regions = tuple(dataclasses.replace(
        r, steps=tuple(_step(s, sub) for s in r.steps),
        bins=tuple(dataclasses.replace(b, cond=sub(b.cond)) for b in r.bins))
        for r in prog.regions)
    variations = tuple(dataclasses.replace(v, replaces=tuple((sub(a), sub(b))
                                                             for a, b in v.replaces))
                       for v in prog.variations)
    spans = dict(prog.spans)
    for old, new in mapping.items():
        if new is not old and new not in spans and old in spans:
            spans[new] = spans[old]
    return dataclasses.replace(
        prog, collections=tuple((name, sub(n)) for name, n in prog.collections),
        defines=tuple((name, sub(n)) for name, n in prog.defines), regions=regions,
        variations=variations, spans=spans)


def _step(step: N.Step, sub: Callable[[Node], Node]) -> N.Step:
    if isinstance(step, N.Cut):
        return dataclasses.replace(step, cond=sub(step.cond))
    if isinstance(step, N.Weight):
        return dataclasses.replace(step, value=sub(step.value))
    if isinstance(step, N.Record):
        when = sub(step.when) if step.when is not None else None
        return dataclasses.replace(step, values=tuple(map(sub, step.values)), when=when)
    loop = sub(step.loop) if step.loop is not None else None
    return dataclasses.replace(step, values=tuple(map(sub, step.values)), loop=loop)


def rule_applications(mapping: dict[Node, Node]) -> int:
    """How many nodes the rule replaced (not merely rebuilt on rewritten children)."""
    count = 0
    for old, new in mapping.items():
        if new is not old:
            plain = make(old.op, tuple(mapping.get(a, a) for a in old.args), old.attrs,
                         old.type)
            count += new is not plain
    return count


def count_nodes(prog: Program) -> int:
    """How many distinct nodes the program's outputs and names reach."""
    return len(N.walk(*program_roots(prog)))
