"""Dead-column elimination: unused objects and defines leave the program, and the reader loads
exactly the branches the outputs need (counted by instrumenting the reader)."""

from __future__ import annotations

import pytest

from adlc.frontend.parser import parse
from adlc.opt import OptContext
from adlc.opt.eliminate_dead_columns import eliminate_dead_columns
from adlc.semantic.lower import lower

SRC = """\
object muons
  take Muon
  select pT(Muon) > 10

object eles
  take Electron
  select pT(Electron) > 10

object jets
  take Jet
  select pT(Jet) > 30

object centralJets
  take jets
  select abs(eta(jets)) < 2.4

define e0 = pT(eles[0])
define unusedSum = sum(pT(muons)) + e0

region r
  select size(centralJets) >= 2
  histo hmet, "MET", 20, 0, 200, MET
"""


def test_unused_objects_and_defines_are_removed():
    prog = lower(parse(SRC, "t.adl"), SRC)
    ctx = OptContext()
    out = eliminate_dead_columns(prog, ctx)
    assert [name for name, _ in out.collections] == ["jets", "centralJets"]
    assert out.defines == ()
    assert ctx.stats == {"dce.removed_objects": 2, "dce.removed_defines": 2}
    assert out.regions == prog.regions


def test_a_define_used_by_a_region_stays_with_what_it_uses():
    src = SRC.replace('histo hmet, "MET", 20, 0, 200, MET', "select e0 > 20")
    out = eliminate_dead_columns(lower(parse(src, "t.adl"), src), OptContext())
    assert [name for name, _ in out.collections] == ["eles", "jets", "centralJets"]
    assert [name for name, _ in out.defines] == ["e0"]


@pytest.mark.parametrize(("opt", "expected"), [
    # jets' cut reads Jet_pt, centralJets' Jet_eta; MET is MET_pt as it is (no MET_phi)
    (True, {"Jet_pt", "Jet_eta", "MET_pt"}),
    # without the optimiser the unused muons and electrons are read as well
    (False, {"Jet_pt", "Jet_eta", "MET_pt", "Muon_pt", "Electron_pt"}),
])
def test_the_reader_loads_exactly_the_branches_the_outputs_need(nano_file, tmp_path,
                                                                 branches_read, opt, expected):
    from adlc.driver import run_analysis

    adl = tmp_path / "t.adl"
    adl.write_text(SRC)
    run_analysis(adl, [str(nano_file)], optimise=opt)
    assert branches_read == expected


def test_a_collection_only_counted_reads_its_counter(nano_file, tmp_path, branches_read):
    from adlc.driver import run_analysis

    adl = tmp_path / "t.adl"
    adl.write_text(SRC.replace("select size(centralJets) >= 2", "select size(Muon) >= 2"))
    run_analysis(adl, [str(nano_file)])
    assert branches_read == {"nMuon", "MET_pt"}


def test_cutlang_compat_met_reads_its_phi_too(nano_file, tmp_path, branches_read):
    """CutLang's MET is the length of the vector built from MET_pt and MET_phi."""
    from adlc.driver import run_analysis

    adl = tmp_path / "t.adl"
    adl.write_text(SRC.replace("select size(centralJets) >= 2", "select size(Muon) >= 2"))
    run_analysis(adl, [str(nano_file)], cutlang_compat=True)
    assert branches_read == {"nMuon", "MET_pt", "MET_phi"}
