"""Constant folding: a node whose arguments are all constants becomes the constant it computes.

The folded value must be the one the kernel would compute, bit for bit, so only operations
with one exact IEEE-754 float64 result are folded: + - * / (not by zero), comparisons, ranges,
logic, abs, sqrt, hstep, delta, min/max of distinct values, integer powers with an exactly
representable result, and the bitwise operators on integers. Transcendental functions (cos,
exp, log, ...) are left alone: numba and CPython may use different libm implementations. A
result of NaN or -0.0 is not folded either (a const node cannot hold it faithfully).
"""

from __future__ import annotations

import math
import operator

from adlc.ir import nodes as N
from adlc.ir.nodes import Node, Program

from .context import OptContext
from .rewrite import const_value, is_const, num_const, rewrite_program, rule_applications

ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul}
BITWISE = {"&": operator.and_, "|": operator.or_, "<<": operator.lshift, ">>": operator.rshift}
COMPARE = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, ">": operator.gt,
           "<=": operator.le, ">=": operator.ge}
INT64 = 2 ** 63
EXACT_INT = 2 ** 53


def fold_constants(prog: Program, ctx: OptContext) -> Program:
    """`prog` with every all-constant operation replaced by its value."""
    out, mapping = rewrite_program(prog, fold_node)
    ctx.count("fold.folded_nodes", rule_applications(mapping))
    return out


def fold_node(node: Node) -> Node:
    """The constant `node` computes, or `node` itself when that cannot be folded exactly."""
    if not node.args or not all(is_const(a) for a in node.args):
        return node
    folder = FOLDERS.get(node.op)
    if folder is None:
        return node
    value = folder(node, [const_value(a) for a in node.args])
    if value is None:
        return node
    if node.type == "bool":
        return N.boolean(bool(value))
    return num_const(value) or node


def _arith(node: Node, xs: list) -> float | None:
    a, b = xs
    op = node.attrs[0]
    if op in ARITH:
        return ARITH[op](a, b)
    if op == "/":
        return a / b if b != 0 else None
    if op == "^":
        return _exact_power(a, b)
    if op in BITWISE:
        return _bitwise(op, a, b)
    return None


def _exact_power(a: float, b: float) -> float | None:
    """a ** b when both are integers and the result is exact: then every pow implementation
    that is off by less than one unit in the last place returns it."""
    if not (a.is_integer() and b.is_integer()) or not 0 <= b <= 64 or abs(a) > EXACT_INT:
        return None
    exact = int(a) ** int(b)
    if abs(exact) > EXACT_INT:
        return None
    return float(exact)


def _bitwise(op: str, a: float, b: float) -> float | None:
    """np.float64(np.int64(a) OP np.int64(b)) for operands where that is well defined."""
    if not (math.isfinite(a) and math.isfinite(b)) or max(abs(a), abs(b)) >= EXACT_INT:
        return None
    x, y = int(a), int(b)  # truncation toward zero, as np.int64(float) does
    if op in ("<<", ">>") and not 0 <= y < 63:
        return None
    result = BITWISE[op](x, y)
    if not -INT64 <= result < INT64:
        return None
    return float(result)


def _func(node: Node, xs: list) -> float | None:
    if len(xs) != 1:  # dR, dPhi, dEta: not worth a second implementation
        return None
    x, f = xs[0], node.attrs[0]
    if f == "abs":
        return abs(x)
    if f == "sqrt":
        return math.sqrt(x) if x >= 0 else None
    if f == "hstep":
        return 1.0 if x > 0 else 0.0
    if f == "delta":
        return 1.0 if x == 0 else 0.0
    return None


def _extreme(node: Node, xs: list) -> float | None:
    """min/max of distinct values: a tie (or NaN) is where CutLang's two-argument form (0 on
    a tie, quirk 15) and the sign of zero could differ, so those stay unfolded."""
    if any(math.isnan(x) for x in xs) or len(set(xs)) != len(xs):
        return None
    return min(xs) if node.attrs[0] == "min" else max(xs)


def _range(node: Node, xs: list) -> bool:
    v, lo, hi = xs
    if node.attrs[0] == "[]":
        return lo <= v <= hi
    return v <= lo or v >= hi


def _ternary(node: Node, xs: list) -> float:
    c, a, b = xs
    return a if c else b


FOLDERS = {
    "arith": _arith,
    "neg": lambda node, xs: -xs[0],
    "b2n": lambda node, xs: 1.0 if xs[0] else 0.0,
    "func": _func,
    "minmax2": _extreme,
    "minmaxn": _extreme,
    "cmp": lambda node, xs: COMPARE[node.attrs[0]](*xs),
    "range": _range,
    "not": lambda node, xs: not xs[0],
    "and": lambda node, xs: xs[0] and xs[1],
    "or": lambda node, xs: xs[0] or xs[1],
    "ternary": _ternary,
}
