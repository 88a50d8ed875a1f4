"""Common-subexpression elimination across objects, defines and regions.

Nodes are hash-consed, so structurally identical expressions are already one node wherever
they are written: two objects with the same definition under different names, a define and
the same expression written out in a cut, a cut repeated in several regions. This pass makes
more expressions identical by putting commutative operations in one canonical order
(`a + b` and `b + a`, `30 < x` and `x > 30`; constants second), which is exact in
float64 (IEEE addition, multiplication and comparison are commutative), and then rebuilds the
program so those become one node. It counts what is shared in `ctx.stats`.

The canonical order is a structural digest of each operand, so it is the same in every run
(the kernel's source, and so its on-disk cache key, does not depend on memory addresses).
"""

from __future__ import annotations

import hashlib

from adlc.ir.nodes import Node, Program, make

from .context import OptContext
from .rewrite import count_nodes, is_const, rewrite_program

FLIPPED = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "==": "==", "!=": "!="}
COMMUTATIVE_ARITH = frozenset({"+", "*"})


def eliminate_common_subexpressions(prog: Program, ctx: OptContext) -> Program:
    """`prog` with commutative operands in canonical order and equal expressions shared."""
    before = count_nodes(prog)
    out, _ = rewrite_program(prog, _Canonical())
    ctx.count("cse.merged_nodes", before - count_nodes(out))
    ctx.count("cse.shared_objects", _aliases(out.collections))
    ctx.count("cse.shared_defines", _aliases(out.defines))
    return out


class _Canonical:
    def __init__(self) -> None:
        self.keys: dict[Node, str] = {}

    def key(self, node: Node) -> str:
        """A digest of the node's structure, children first (iterative)."""
        stack = [node]
        while stack:
            n = stack[-1]
            if n in self.keys:
                stack.pop()
                continue
            todo = [a for a in n.args if a not in self.keys]
            if todo:
                stack.extend(todo)
                continue
            text = "\x00".join((n.op, n.type, repr(n.attrs), *(self.keys[a] for a in n.args)))
            self.keys[n] = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()
            stack.pop()
        return self.keys[node]

    def order(self, node: Node) -> tuple[bool, str]:
        """Constants last (`x > 30`, not `30 < x`), the rest by digest."""
        return is_const(node), self.key(node)

    def __call__(self, n: Node) -> Node:
        if len(n.args) != 2 or not self._commutes(n):
            return n
        a, b = n.args
        if self.order(b) >= self.order(a):
            return n
        attrs = (FLIPPED[n.attrs[0]],) if n.op == "cmp" else n.attrs
        return make(n.op, (b, a), attrs, n.type)

    def _commutes(self, n: Node) -> bool:
        if n.op == "arith":
            return n.attrs[0] in COMMUTATIVE_ARITH
        # and/or keep the order written: a backend may test the left side first, and the
        # author usually puts the cheap or selective cut there
        return n.op == "cmp"


def _aliases(named: tuple[tuple[str, Node], ...]) -> int:
    """How many names denote a node an earlier name already denotes."""
    return len(named) - len({node for _, node in named})
