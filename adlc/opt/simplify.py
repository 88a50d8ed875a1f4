"""Algebraic simplification: identities that give the same float64 bits, and logic identities.

Only identities exact in IEEE-754 arithmetic for every input (NaN, infinities and signed
zeros included) are used: x * 1 = x / 1 = x ^ 1 = x - 0 = x + (-0) = x, x * -1 = -x,
--x = x. Not x + 0 (-0 + 0 is +0) and no reassociation. An arithmetic identity applies only
where x is a float64 in the kernel, so the type does not change either. Logic: x and TRUE = x,
x or FALSE = x, x and FALSE = FALSE (when x has no side effect), not not x = x, x and x = x.
A number made from a condition and compared with a constant (`b2n(c) != 0`, what `any(...)`
over a slice and conditions used as numbers lower to) is the condition itself. An object cut
that is always TRUE (`select ALL`) leaves the collection as its parent; a quantifier or a
ternary over a constant is resolved. A Cut whose condition becomes TRUE stays a Cut: it still
has its cutflow row.
"""

from __future__ import annotations

import math

from adlc.ir import nodes as N
from adlc.ir.nodes import Node, Program, make

from .context import OptContext
from .fold_constants import COMPARE
from .rewrite import Facts, const_value, rewrite_program, rule_applications


def simplify(prog: Program, ctx: OptContext) -> Program:
    """`prog` with the identities above applied everywhere."""
    out, mapping = rewrite_program(prog, _Rules())
    ctx.count("simplify.rewrites", rule_applications(mapping))
    return out


class _Rules:
    def __init__(self) -> None:
        self.facts = Facts()

    def __call__(self, node: Node) -> Node:
        handler = getattr(self, f"_{node.op}", None)
        return handler(node) if handler is not None else node

    def _arith(self, n: Node) -> Node:
        a, b = n.args
        op = n.attrs[0]
        if op == "*":
            for x, k in ((a, b), (b, a)):
                if _is_num(k, 1.0) and self.facts.float64(x):
                    return x
                if _is_num(k, -1.0) and self.facts.float64(x):
                    return make("neg", (x,), (), "num")
        if op in ("/", "^") and _is_num(b, 1.0) and self.facts.float64(a):
            return a
        if op == "-" and _is_num(b, 0.0) and _sign(b) > 0 and self.facts.float64(a):
            return a
        if op == "+":
            for x, k in ((a, b), (b, a)):
                if _is_num(k, 0.0) and _sign(k) < 0 and self.facts.float64(x):
                    return x
        return n

    def _neg(self, n: Node) -> Node:
        (x,) = n.args
        return x.args[0] if x.op == "neg" else n

    def _not(self, n: Node) -> Node:
        (x,) = n.args
        return x.args[0] if x.op == "not" else n

    def _and(self, n: Node) -> Node:
        return self._logic(n, unit=N.TRUE, zero=N.FALSE)

    def _or(self, n: Node) -> Node:
        return self._logic(n, unit=N.FALSE, zero=N.TRUE)

    def _logic(self, n: Node, unit: Node, zero: Node) -> Node:
        a, b = n.args
        if a is b:
            return a
        for x, k in ((a, b), (b, a)):
            if k is unit:
                return x
            if k is zero and self.facts.pure(x):
                return zero
        return n

    def _ternary(self, n: Node) -> Node:
        c, a, b = n.args
        if a is b and self.facts.pure(c):
            return a
        if c.op == "bool" and self.facts.float64(a) and self.facts.float64(b):
            keep, drop = (a, b) if c.attrs[0] else (b, a)
            if self.facts.pure(drop):
                return keep
        return n

    def _cmp(self, n: Node) -> Node:
        """b2n(c) compared with a constant is c, not c, TRUE or FALSE."""
        a, b = n.args
        op = n.attrs[0]
        if a.op == "b2n" and b.op == "const":
            cond, k = a.args[0], const_value(b)
            when = [COMPARE[op](x, k) for x in (0.0, 1.0)]
        elif b.op == "b2n" and a.op == "const":
            cond, k = b.args[0], const_value(a)
            when = [COMPARE[op](k, x) for x in (0.0, 1.0)]
        else:
            return n
        if when == [False, True]:
            return cond
        if when == [True, False]:
            return make("not", (cond,), (), "bool")
        if self.facts.pure(cond):
            return N.TRUE if when[0] else N.FALSE
        return n

    def _filter(self, n: Node) -> Node:
        parent, pred = n.args
        return parent if pred is N.TRUE else n

    def _quant(self, n: Node) -> Node:
        """A quantifier over a constant condition: any() of TRUE is 'not empty', all() of
        FALSE 'empty'; CutLang's mode fails every quantifier over an empty partner."""
        coll, pred = n.args
        if pred.op != "bool":
            return n
        every, compat = n.attrs[0] == "all", n.attrs[-1] == "cutlang"
        if pred.attrs[0] and every and not compat:
            return N.TRUE
        if not pred.attrs[0] and (not every or compat):
            return N.FALSE
        size = make("size", (coll,), (), "num")
        return make("cmp", (size, N.const(0.0)), (">" if pred.attrs[0] else "==",), "bool")


def _is_num(node: Node, value: float) -> bool:
    return node.op == "const" and const_value(node) == value


def _sign(node: Node) -> float:
    return math.copysign(1.0, const_value(node))
