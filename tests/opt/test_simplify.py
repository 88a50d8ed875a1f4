"""Algebraic simplification on hand-built nodes and lowered programs."""

from __future__ import annotations

from adlc.frontend.parser import parse
from adlc.ir import nodes as N
from adlc.ir.nodes import make
from adlc.opt import OptContext
from adlc.opt.simplify import simplify
from adlc.semantic.lower import lower

JET = make("base", (), ("Jet",), "coll")
PT0 = make("attr", (make("index", (JET, N.const(0.0)), (), "obj"),), ("pT",), "num")
C = make("cmp", (PT0, N.const(30.0)), (">",), "bool")


def _lower(src: str) -> N.Program:
    return lower(parse(src, "t.adl"), src)


def _program(*conds: N.Node) -> N.Program:
    steps = tuple(N.Cut(c, f"c{i}") for i, c in enumerate(conds))
    return N.Program((), (), (N.Region("r", steps),), ())


def _simplified(node: N.Node) -> N.Node:
    """`node` simplified, as the condition of a one-cut program."""
    if node.type == "num":
        node = make("cmp", (node, N.const(0.0)), ("!=",), "bool")
        return simplify(_program(node), OptContext()).regions[0].steps[0].cond.args[0]
    return simplify(_program(node), OptContext()).regions[0].steps[0].cond


def num(op: str, a: N.Node, b: N.Node) -> N.Node:
    return make("arith", (a, b), (op,), "num")


def test_exact_arithmetic_identities():
    assert _simplified(num("*", PT0, N.const(1.0))) is PT0
    assert _simplified(num("*", N.const(1.0), PT0)) is PT0
    assert _simplified(num("/", PT0, N.const(1.0))) is PT0
    assert _simplified(num("-", PT0, N.const(0.0))) is PT0
    assert _simplified(num("*", PT0, N.const(-1.0))) is make("neg", (PT0,), (), "num")
    assert _simplified(make("neg", (make("neg", (PT0,), (), "num"),), (), "num")) is PT0


def test_x_plus_zero_stays_because_minus_zero_plus_zero_is_plus_zero():
    node = num("+", PT0, N.const(0.0))
    assert _simplified(node) is node


def test_identities_keep_the_type_an_external_function_returns():
    ext = make("extcall", (PT0,), ("fInt", "m:f", "scalar"), "num")
    node = num("*", ext, N.const(1.0))   # may turn an int into a float: keep it
    assert _simplified(node) is node


def test_logic_identities():
    d = make("cmp", (PT0, N.const(50.0)), ("<",), "bool")
    assert _simplified(make("and", (N.TRUE, C), (), "bool")) is C
    assert _simplified(make("or", (C, N.FALSE), (), "bool")) is C
    assert _simplified(make("and", (C, N.FALSE), (), "bool")) is N.FALSE
    assert _simplified(make("or", (N.TRUE, d), (), "bool")) is N.TRUE
    assert _simplified(make("not", (make("not", (C,), (), "bool"),), (), "bool")) is C
    assert _simplified(make("and", (C, C), (), "bool")) is C


def test_a_side_effect_is_never_dropped():
    # a ~= binds the region's placeholders for later cuts: `FALSE and ~=` keeps the ~=
    slot = make("slot", (JET,), (-1, 0), "obj")
    opt = make("optimise", (make("attr", (slot,), ("m",), "num"), N.const(91.2), slot),
               ("closest",), "bool")
    node = make("and", (N.FALSE, opt), (), "bool")
    assert _simplified(node) is node


def test_a_condition_used_as_a_number_and_compared_is_the_condition():
    b = make("b2n", (C,), (), "num")
    assert _simplified(make("cmp", (b, N.const(0.0)), ("!=",), "bool")) is C
    assert _simplified(make("cmp", (b, N.const(0.5)), (">",), "bool")) is C
    assert _simplified(make("cmp", (b, N.const(0.5)), ("<",), "bool")) is make(
        "not", (C,), (), "bool")
    assert _simplified(make("cmp", (N.const(2.0), b), (">",), "bool")) is N.TRUE


def test_quantifiers_over_a_constant():
    def quant(pred, *attrs):
        return make("quant", (JET, pred), attrs, "bool")

    nonempty = make("cmp", (make("size", (JET,), (), "num"), N.const(0.0)), (">",), "bool")
    empty = make("cmp", (make("size", (JET,), (), "num"), N.const(0.0)), ("==",), "bool")
    assert _simplified(quant(N.TRUE, "all")) is N.TRUE
    assert _simplified(quant(N.TRUE, "all", "cutlang")) is nonempty  # quirk 14
    assert _simplified(quant(N.TRUE, "any")) is nonempty
    assert _simplified(quant(N.FALSE, "all")) is empty
    assert _simplified(quant(N.FALSE, "all", "cutlang")) is N.FALSE
    assert _simplified(quant(N.FALSE, "any")) is N.FALSE


def test_a_ternary_cut_with_none_is_the_plain_cut():
    prog = _lower("""\
region r
  select size(Muon) >= 1 ? pT(Muon[0]) > 20 : NONE
""")
    out = simplify(prog, OptContext())
    cond = out.regions[0].steps[0].cond
    # (c and a) or (not c and FALSE)  ->  c and a
    assert cond.op == "and" and cond.args[0].attrs == (">=",) and cond.args[1].attrs == (">",)


def test_an_object_cut_that_is_always_true_goes_away():
    prog = _lower("""\
object jets
  take Jet
  select ALL

region r
  select pT(jets[0]) > 30
""")
    out = simplify(prog, OptContext())
    assert dict(out.collections)["jets"] is JET
    assert out.regions[0].steps[0].cond is C  # pT(Jet[0]) > 30, rebuilt on Jet itself


def test_collections_a_cleaning_cut_tells_apart_are_not_merged():
    # `a` simplifies to `b`'s definition, but `c` cleans a against b: merged, the cut would
    # compare each jet with itself
    prog = _lower("""\
object a
  take Jet
  select pT(Jet) > 30 and ALL

object b
  take Jet
  select pT(Jet) > 30

object c
  take a
  select dR(a, b) > 0.4

region r
  select size(c) >= 1
""")
    out = simplify(prog, OptContext())
    objects = dict(out.collections)
    assert objects["a"] is not objects["b"]
    assert objects["c"].args[0] is objects["a"]


def test_spans_follow_rewritten_nodes():
    prog = _lower("""\
region r
  select MET * 1 > 40 and ALL
""")
    ctx = OptContext()
    out = simplify(prog, ctx)
    cond = out.regions[0].steps[0].cond
    assert cond.op == "cmp" and cond.args[0] is make("met")
    assert out.spans[cond].line == 2
    assert ctx.stats == {"simplify.rewrites": 2}  # MET * 1, `and ALL`
