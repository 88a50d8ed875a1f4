"""Common-subexpression elimination across objects, defines and regions."""

from __future__ import annotations

from adlc.frontend.parser import parse
from adlc.ir import nodes as N
from adlc.ir.nodes import make
from adlc.ir.printer import print_program
from adlc.opt import OptContext
from adlc.opt.eliminate_common_subexpressions import eliminate_common_subexpressions
from adlc.semantic.lower import lower

SRC = """\
object jets
  take Jet
  select pT(Jet) > 30

object goodJets
  take Jet
  select pT(Jet) > 30

define st = pT(jets[0]) + pT(jets[1])
define st2 = pT(jets[1]) + pT(jets[0])
define diff = pT(jets[0]) - pT(jets[1])
define diff2 = pT(jets[1]) - pT(jets[0])

region a
  select 30 < pT(goodJets[0])
  select st > 100

region b
  select pT(jets[0]) > 30
  select st2 * MET > 1000
  select diff > diff2
"""


def _optimised():
    prog = lower(parse(SRC, "t.adl"), SRC)
    ctx = OptContext()
    return prog, eliminate_common_subexpressions(prog, ctx), ctx


def test_objects_with_one_definition_are_one_node():
    _, out, ctx = _optimised()
    objects = dict(out.collections)
    assert objects["jets"] is objects["goodJets"]
    assert ctx.stats["cse.shared_objects"] == 1


def test_commutative_operands_are_put_in_one_order():
    prog, out, ctx = _optimised()
    defines = dict(out.defines)
    assert dict(prog.defines)["st"] is not dict(prog.defines)["st2"]
    assert defines["st"] is defines["st2"]
    assert ctx.stats["cse.shared_defines"] == 1
    # the region b cut uses the same node as the define st and region a
    assert out.regions[1].steps[1].cond.args[0].args[0] is defines["st"] or \
        out.regions[1].steps[1].cond.args[0].args[1] is defines["st"]


def test_comparisons_with_a_constant_put_the_constant_second():
    _, out, _ = _optimised()
    a0, b0 = out.regions[0].steps[0].cond, out.regions[1].steps[0].cond
    assert a0 is b0  # `30 < pT(goodJets[0])` is `pT(jets[0]) > 30`
    assert a0.attrs == (">",) and a0.args[1] is N.const(30.0)


def test_subtraction_is_not_commuted():
    _, out, _ = _optimised()
    defines = dict(out.defines)
    assert defines["diff"] is not defines["diff2"]
    assert defines["diff"].args == tuple(reversed(defines["diff2"].args))


def test_merged_node_count_is_reported():
    prog, out, ctx = _optimised()
    # st2 is st, and `30 < pT(goodJets[0])` is `pT(jets[0]) > 30`; `st2 * MET` and its
    # comparison are rebuilt on st but were not written elsewhere, so they merge with nothing
    assert ctx.stats["cse.merged_nodes"] == 2


def test_canonical_order_does_not_depend_on_which_was_built_first():
    x = make("attr", (make("index", (make("base", (), ("Muon",), "coll"), N.const(0.0)),
                            (), "obj"),), ("eta",), "num")
    y = make("met")
    texts = []
    for first, second in ((x, y), (y, x)):
        prog = N.Program((), (), (N.Region("r", (N.Cut(make(
            "cmp", (make("arith", (first, second), ("*",), "num"), N.const(1.0)), (">",),
            "bool"), "c"),)),), ())
        texts.append(print_program(eliminate_common_subexpressions(prog, OptContext())))
    assert texts[0] == texts[1]
