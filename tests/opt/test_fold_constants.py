"""Constant folding: every expected value here is written by hand (IEEE float64 arithmetic)."""

from __future__ import annotations

import pytest

from adlc.frontend.parser import parse
from adlc.ir import nodes as N
from adlc.ir.nodes import make
from adlc.opt import OptContext
from adlc.opt.fold_constants import fold_constants, fold_node
from adlc.semantic.lower import lower


def _lower(src: str) -> N.Program:
    return lower(parse(src, "t.adl"), src)


def arith(op: str, a: float, b: float) -> N.Node:
    return make("arith", (N.const(a), N.const(b)), (op,), "num")


@pytest.mark.parametrize(("op", "a", "b", "expected"), [
    ("+", 20.0, 10.0, 30.0),
    ("+", 0.1, 0.2, 0.30000000000000004),    # float64, not decimal
    ("-", 1.0, 3.0, -2.0),
    ("*", 2.5, 4.0, 10.0),
    ("/", 1.0, 8.0, 0.125),
    ("^", 2.0, 10.0, 1024.0),
    ("^", -3.0, 3.0, -27.0),
    ("&", 6.0, 3.0, 2.0),
    ("|", 4.0, 1.0, 5.0),
    ("<<", 1.0, 4.0, 16.0),
    (">>", 7.9, 1.0, 3.0),                   # operands truncate to integers first
])
def test_arithmetic_of_constants_folds_to_the_float64_result(op, a, b, expected):
    assert fold_node(arith(op, a, b)) is N.const(expected)


@pytest.mark.parametrize(("op", "a", "b"), [
    ("/", 1.0, 0.0),      # the kernel gives inf (numpy error model); Python would raise
    ("^", 2.0, 0.5),      # not exact: libm's pow may differ from CPython's in the last bit
    ("^", -8.0, 1 / 3),
    ("<<", 1.0, 70.0),    # overflows int64
    ("*", 0.0, -1.0),     # -0.0: a const node cannot hold it (it interns as 0.0)
    ("-", 1e308, -1e308),  # inf is fine to fold ...
])
def test_inexact_or_unrepresentable_results_are_not_folded(op, a, b):
    node = arith(op, a, b)
    if a == 1e308:
        assert fold_node(node) is N.const(float("inf"))  # ... as the kernel also overflows
    else:
        assert fold_node(node) is node


def test_functions_fold_only_where_exact():
    sqrt4 = make("func", (N.const(4.0),), ("sqrt",), "num")
    cos0 = make("func", (N.const(0.0),), ("cos",), "num")
    neg_sqrt = make("func", (N.const(-1.0),), ("sqrt",), "num")
    hstep = make("func", (N.const(0.0),), ("hstep",), "num")
    assert fold_node(sqrt4) is N.const(2.0)
    assert fold_node(cos0) is cos0
    assert fold_node(neg_sqrt) is neg_sqrt
    assert fold_node(hstep) is N.const(0.0)


def test_comparisons_ranges_and_logic_of_constants():
    assert fold_node(make("cmp", (N.const(2.0), N.const(1.0)), (">",), "bool")) is N.TRUE
    assert fold_node(make("cmp", (N.const(2.0), N.const(2.0)), ("!=",), "bool")) is N.FALSE
    assert fold_node(make("range", (N.const(5.0), N.const(1.0), N.const(5.0)), ("[]",),
                          "bool")) is N.TRUE
    assert fold_node(make("range", (N.const(3.0), N.const(1.0), N.const(5.0)), ("][",),
                          "bool")) is N.FALSE
    assert fold_node(make("not", (N.TRUE,), (), "bool")) is N.FALSE
    assert fold_node(make("and", (N.TRUE, N.FALSE), (), "bool")) is N.FALSE
    assert fold_node(make("b2n", (N.TRUE,), (), "num")) is N.const(1.0)


def test_min_max_fold_except_on_a_tie():
    distinct = make("minmax2", (N.const(3.0), N.const(7.0)), ("max",), "num")
    tie = make("minmax2", (N.const(3.0), N.const(3.0)), ("min", "cutlang"), "num")
    assert fold_node(distinct) is N.const(7.0)
    assert fold_node(tie) is tie  # CutLang's min gives 0 on a tie (quirk 15)


SRC = """\
object jets
  take Jet
  select pT(Jet) > 20 + 10

define cut = 2 * 25

region r
  select 2 > 1
  select pT(jets[0]) > cut
  select MET > 100 / 4 - 3
"""


def test_a_lowered_program_folds_and_keeps_every_cutflow_row():
    prog = _lower(SRC)
    ctx = OptContext()
    out = fold_constants(prog, ctx)
    (region,) = out.regions
    assert [s.label for s in region.steps] == [s.label for s in prog.regions[0].steps]
    always, lead, met = (s.cond for s in region.steps)
    assert always is N.TRUE  # still a Cut: its cutflow row stays
    assert lead.op == "cmp" and lead.args[1] is N.const(50.0)
    assert met.args == (make("met"), N.const(22.0))
    jets = dict(out.collections)["jets"]
    assert jets.op == "filter" and jets.args[1].args[1] is N.const(30.0)
    assert dict(out.defines)["cut"] is N.const(50.0)
    assert ctx.stats["fold.folded_nodes"] == 5  # 20+10, 2*25, 2>1, 100/4, 25-3


def test_folded_nodes_keep_the_span_of_what_they_replace():
    prog = _lower(SRC)
    out = fold_constants(prog, OptContext())
    met = out.regions[0].steps[2].cond
    assert out.spans[met.args[1]].line == 10  # 100 / 4 - 3, now the const 22
