"""Property: a random expression tree, printed by `format_expr`, parses back to itself.

The generator makes trees in the parser's *normal form* only, i.e. trees the parser can build:

* no `Unary("-", Number)`: the parser folds `- 3` and `-(3)` into the literal `Number(-3)`;
* four-vector sum terms, index bases and slice bases are "particles" (names, calls, indexing,
  brace lists, ...), because that is all the grammar accepts there (`(-a) b` and `(a + b)[0]`
  are syntax errors); numbers are never sum terms (`MET -3` is a syntax error: numbers stand
  next to values only in `{ a 1 2 }` lists, which are `VarList`s, and in `bin` edges);
  a sum never has a sum as a term (the parser flattens `a b c`);
* a `{...}` list is never followed by another sum term (`{a b} c` is the call `c(a b)`) and is
  never the single-sum list `{ (a b) }` (read back as the two-item list `{ a b }`);
* `COMB(...)` members are never sums (the parser flattens them too);
* names avoid keywords, built-in event names (`all` reads as `ALL`) and `jets_0`-style names;
* the bit operators are `&` only: `|`, `<<` and `>>` do not parse at the moment (reported).

Anything else the generator may combine freely: the printer has to add the parentheses.
"""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from adlc.frontend import ast as A
from adlc.frontend.parser import parse
from adlc.frontend.printer import format_expr

NAMES = ["aa", "bb", "cc", "jets", "x1", "muons", "Zcand", "lep2", "wgt_b", "goodJets"]
FUNCTIONS = ["pT", "eta", "size", "sum", "dR", "abs", "fMT2"]
ARITH_OPS = ["+", "-", "*", "/", "^", "&"]
COMPARE_OPS = ["==", "!=", "<", ">", "<=", ">=", "~=", "~!"]
PARTICLES = (A.Name, A.This, A.Call, A.Index, A.Slice, A.VarList, A.Union, A.Comb)


def _particle(e: A.Expr) -> A.Expr:
    """Make `e` usable where the grammar wants a particle, by calling a function on it."""
    return e if isinstance(e, PARTICLES) else A.Call("sum", (e,))


def _neg(e: A.Expr) -> A.Expr:
    if isinstance(e, A.Number):
        return A.Number(-e.value)
    return A.Unary("-", e)


def _foursum(terms: list[A.Expr]) -> A.Expr:
    # Particles only: a number after a particle is a syntax error outside `{ ... }` lists.
    fixed = [_particle(t) for t in terms]
    fixed = [A.Call("size", (t,)) if isinstance(t, A.VarList) and i < len(fixed) - 1 else t
             for i, t in enumerate(fixed)]
    return A.FourSum(tuple(fixed))


def _varlist(items: list[A.Expr]) -> A.Expr:
    if len(items) == 1 and isinstance(items[0], A.FourSum):
        items = [A.Call("sum", (items[0],))]
    return A.VarList(tuple(items))


def _comb(members: list[A.Expr]) -> A.Expr:
    return A.Comb("comb", tuple(_particle(m) for m in members))


ints = st.integers(min_value=-1000, max_value=10**6).map(A.Number)
floats = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e20).map(
    A.Number)
leaves = st.one_of(
    st.sampled_from(NAMES).map(A.Name),
    ints,
    floats,
    st.just(A.This()),
    st.sampled_from(["", "a b", "GeV", "x # y"]).map(A.String),
)


def _extend(children: st.SearchStrategy[A.Expr]) -> st.SearchStrategy[A.Expr]:
    particles = children.map(_particle)
    indices = st.one_of(st.integers(-4, 12).map(A.Number), children)
    optional = st.one_of(st.none(), children)
    return st.one_of(
        st.builds(A.Call, st.sampled_from(FUNCTIONS),
                  st.lists(children, min_size=1, max_size=2).map(tuple)),
        st.builds(A.Index, particles, indices),
        st.builds(A.Slice, particles, optional, optional),
        st.lists(children, min_size=2, max_size=3).map(_foursum),
        st.lists(children, min_size=1, max_size=3).map(_varlist),
        st.lists(children, min_size=1, max_size=3).map(lambda p: A.Union(tuple(p))),
        st.lists(children, min_size=1, max_size=2).map(_comb),
        children.map(_neg),
        children.map(lambda e: A.Unary("not", e)),
        st.builds(A.Binary, st.sampled_from(ARITH_OPS), children, children),
        st.builds(A.Binary, st.sampled_from(COMPARE_OPS), children, children),
        st.builds(A.Binary, st.sampled_from(["and", "or"]), children, children),
        st.builds(A.Range, st.sampled_from(["[]", "]["]), children, children, children),
        st.builds(A.Ternary, children, children, children),
    )


expressions = st.recursive(leaves, _extend, max_leaves=12)


def _reparse(text: str) -> A.Expr:
    analysis = parse(f"region r\n  select {text}\n")
    (region,) = analysis.items
    (select,) = region.commands
    return select.cond


@settings(max_examples=300, deadline=None)
@given(expressions)
def test_printed_expression_parses_back(expr: A.Expr) -> None:
    text = format_expr(expr)
    assert _reparse(text) == expr, text
    assert format_expr(_reparse(text)) == text


@settings(max_examples=100, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_any_finite_float_round_trips(value: float) -> None:
    back = _reparse(format_expr(A.Number(value)))
    assert isinstance(back, A.Number) and isinstance(back.value, float)
    assert back.value == value
    assert math.copysign(1, back.value) == math.copysign(1, value)
