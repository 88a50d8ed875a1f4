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
