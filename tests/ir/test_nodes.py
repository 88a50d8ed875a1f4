from adlc.frontend.parser import parse
from adlc.ir import nodes as N
from adlc.ir.printer import print_program, program_hash
from adlc.semantic.lower import lower

SRC = """\
object muA
  take Muon
  select pT(Muon) > 10

object muB
  take MUO
  select {MUO}Pt > 10

region r1
  select size(muA) >= 1
  select pT(muA[0]) > 20

region r2
  select size(muB) >= 1
  select pT(muB[0]) > 20
"""


def test_identical_expressions_are_one_node():
    a = N.make("arith", (N.const(1), N.const(2)), ("+",))
    b = N.make("arith", (N.const(1.0), N.const(2.0)), ("+",))
    assert a is b and hash(a) == hash(b)
    assert N.make("arith", (N.const(2), N.const(1)), ("+",)) is not a


def test_identical_objects_and_cuts_share_nodes():
    prog = lower(parse(SRC, "t.adl"), SRC)
    colls = dict(prog.collections)
    assert colls["muA"] is colls["muB"]  # two spellings, one filtered collection
    r1, r2 = prog.regions
    assert all(a.cond is b.cond for a, b in zip(r1.steps, r2.steps, strict=True))


def test_printer_is_deterministic():
    p1 = lower(parse(SRC, "t.adl"), SRC)
    p2 = lower(parse(SRC, "t.adl"), SRC)
    assert print_program(p1) == print_program(p2)
    assert program_hash(p1) == program_hash(p2)
    text = print_program(p1)
    assert "object muA" in text and "region r2" in text and "filter(" in text


def test_walk_is_iterative_and_children_first():
    deep = N.const(0)
    for i in range(5000):
        deep = N.make("arith", (deep, N.const(i)), ("+",))
    order = N.walk(deep)
    assert order[-1] is deep
    assert order.index(N.const(0)) < order.index(deep)
