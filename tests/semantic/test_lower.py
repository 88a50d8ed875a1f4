import pytest

from adlc.errors import AdlSemanticError
from adlc.frontend.parser import parse
from adlc.ir import nodes as N
from adlc.semantic.lower import lower


def _lower(src):
    return lower(parse(src, "t.adl"), src)


def test_every_error_is_collected_with_position():
    src = """\
object jets
  take Jet
  select pT(Jet) > 30

region r
  select size(nosuch) >= 1
  select pT(jets) > 3
  select m(METLV) > 0
"""
    with pytest.raises(AdlSemanticError) as info:
        _lower(src)
    diags = info.value.diagnostics
    assert len(diags) >= 3
    assert [d.span.line for d in diags][:3] == [6, 7, 8]
    assert "t.adl:6:" in info.value.render()


def test_region_inheritance_is_structural():
    src = """\
region parent
  select ALL
  select MET > 20
  histo hmet, "MET", 10, 0, 100, MET

region child
  parent
  select MET > 50
"""
    prog = _lower(src)
    parent, child = prog.regions
    # adlc labels a histogram row with its whole name; CutLang cuts the last character.
    assert [s.label for s in child.steps] == ["ALL", "MET > 20", "[Histo] hmet", "MET > 50"]
    assert child.steps[0].cond is parent.steps[0].cond
    fills = [s for s in child.steps if isinstance(s, N.Fill)]
    assert prog.histograms[fills[0].hist].name == "hmet"
    assert fills[0].hist != parent.steps[2].hist  # its own histogram


def test_histolist_twice_gets_suffixes_and_reversed_second_paste():
    src = """\
histoList plots
  histo ha , "A", 10, 0, 100, MET
  histo hb , "B", 10, 0, 10, MET

region r
  select ALL
  plots
  select MET > 10
  plots
"""
    prog = _lower(src)
    names = [prog.histograms[s.hist].name for s in prog.regions[0].steps
             if isinstance(s, N.Fill)]
    assert names == ["ha0", "hb0", "hb1", "ha1"]
    labels = [s.label for s in prog.regions[0].steps]
    assert labels[1] == "[Histo] ha0"


def test_labels_and_bins_follow_cutlang():
    src = """\
define nj = size(JET)

region r
  select ALL
  reject MET > 300   # comment dropped
  weight wx 0.2
  bin "low" MET < 50
  bin MET >= 50
  bin nj 1 2
"""
    prog = _lower(src)
    region = prog.regions[0]
    assert [s.label for s in region.steps] == ["ALL", "MET > 300", "wx 0.2"]
    assert region.steps[2].value.attrs[0] == pytest.approx(0.20000000298023224, abs=0)
    assert [b.label for b in region.bins] == ['"low"', "MET >= 50", "nj <= 1", "nj [] 1 2",
                                              "nj >= 2"]


def test_cleaning_becomes_quantifier():
    src = """\
object mu
  take Muon
  select pT(Muon) > 10

object cj
  take Jet
  select dR(Jet, anyof(mu)) > 0.4
"""
    prog = _lower(src)
    cj = dict(prog.collections)["cj"]
    assert cj.op == "filter"
    assert cj.args[1].op == "quant" and cj.args[1].attrs == ("any",)


def test_cutlang_compat_cuts_histogram_labels_like_cutlang():
    src = 'region r\n  select ALL\n  histo hmet, "MET", 10, 0, 100, MET\n'
    prog = lower(parse(src, "t.adl"), src, cutlang_compat=True)
    assert [s.label for s in prog.regions[0].steps] == ["ALL", "[Histo] hme"]


def _ops(node):
    return [n.op for n in N.walk(node)]


def test_placeholders_count_occurrences_and_tilde_eq_binds_only_free_ones():
    prog = _lower("""\
define pair = Muon[-1] Muon[-1]
define other = Muon[-2]

region r
  select m(pair) ~= 91.2
  select pT(other) + m(pair) ~= 100
""")
    (region,) = prog.regions
    first, second = (s.cond for s in region.steps)
    assert first.op == "optimise" and first.attrs == ("closest",)
    assert [(s.attrs) for s in first.args[2:]] == [(-1, 0), (-1, 1)]
    # the pair is already chosen: the second search only places Muon[-2]
    assert [(s.attrs) for s in second.args[2:]] == [(-2, 0)]


def test_furthest_is_marked_for_cutlang_compat():
    src = "define pair = Muon[-1] Muon[-1]\nregion r\n  select m(pair) ~! 91.2\n"
    prog = lower(parse(src, "t.adl"), src, cutlang_compat=True)
    assert prog.regions[0].steps[0].cond.attrs == ("furthest", "cutlang")


def test_comb_object_lowers_members_and_alias():
    prog = _lower("""\
object pairs : COMB( Muon[-1] Muon[-2] ) alias aP
  select q(Muon[-1]) + q(Muon[-2]) == 0
  select m(aP) > 10
""")
    (_, comb), = prog.collections
    assert comb.op == "comb" and comb.type == "coll"
    *members, pred = comb.args
    assert [m.op for m in members] == ["member", "member"]
    assert "slot" not in _ops(pred) and "vattr" in _ops(pred)


def test_table_call_rounds_values_to_float32():
    prog = _lower("""\
table eff
  tabletype efficiency
  nvars 1
  errors false
  0.1  0.0  10.0

region r
  weight w eff(MET)
""")
    node = prog.regions[0].steps[0].value
    assert node.op == "table"
    assert node.attrs[2] == ((float(__import__("numpy").float32(0.1)), 0.0, 10.0),)


def test_sort_replaces_the_collection_for_later_commands_only():
    prog = _lower("""\
object jets
  take Jet
  select pT(Jet) > 30

region r
  select pT(jets[0]) > 50
  sort pT(jets) ascend
  select pT(jets[0]) > 10

region later
  select pT(jets[0]) > 10
""")
    r, later = prog.regions
    assert [s.label for s in r.steps] == ["pT(jets[0]) > 50", "pT(jets) ascend",
                                          "pT(jets[0]) > 10"]
    assert "sorted" not in _ops(r.steps[0].cond)
    assert "sorted" in _ops(r.steps[2].cond)
    assert "sorted" not in _ops(later.steps[0].cond)


def test_external_function_call_follows_the_spec():
    prog = _lower("define x = fMT2(Muon[0], Muon[1], METLV[0])\n"
                  "define y = fMTauTau(Muon[0], Muon[1])\n")
    (_, x), (_, y) = prog.defines
    assert x.op == "extcall" and x.attrs[0] == "fMT2"
    assert [a.type for a in x.args] == ["vec", "vec", "vec"]
    assert y.args[2].op == "metlv"  # the omitted argument takes the spec's default
