"""Lowering of forms from public ADL files: adl2tnm's `take Delphes_Photon` and `MET[0].Phi`
(monophoton ATLASEXOT1704.0384_Delphes.adl) mean what the plain spellings mean; mistakes
written in corpus files (`size(leptons > 2)`, a Union of particles) give one clear error at the
line, without follow-on errors where the broken name is used."""

from __future__ import annotations

import textwrap

import pytest

from adlc.errors import AdlError
from adlc.frontend.parser import parse
from adlc.ir.printer import print_program
from adlc.semantic.lower import lower


def lowered(src: str) -> str:
    src = textwrap.dedent(src).lstrip("\n")
    return print_program(lower(parse(src, "t.adl"), src))


def errors(src: str) -> str:
    src = textwrap.dedent(src).lstrip("\n")
    with pytest.raises(AdlError) as info:
        lower(parse(src, "t.adl"), src)
    return str(info.value)


MONOPHOTON = """
    object photons
      take {photon}
      select PT > 10
    object jets
      take {jet}
      select PT > 20
    object MET
      take {met}
    object jetsSR
      take jets cj
      reject dPhi(cj.Phi, {metphi}) < 0.4
    region r
      select jetsSR.size > 1
      select photons[0].PT > 150
    """


def test_delphes_prefixed_takes_and_met_index_are_the_plain_spellings():
    adl2tnm = lowered(MONOPHOTON.format(photon="Delphes_Photon", jet="Delphes_Jet",
                                        met="Delphes_MissingET", metphi="MET[0].Phi"))
    plain = lowered(MONOPHOTON.format(photon="Photon", jet="Jet", met="MissingET",
                                      metphi="METLV[0].Phi"))
    assert adl2tnm == plain


def test_a_file_defining_a_delphes_prefixed_name_keeps_it():
    src = """
        object Delphes_Jet
          take Jet
          select pT(Jet) > 100
        object jets
          take Delphes_Jet
          select pT(Delphes_Jet) > 20
        region r
          select size(jets) > 0
        """
    src = textwrap.dedent(src).lstrip("\n")
    jets = dict(lower(parse(src, "t.adl"), src).collections)["jets"]
    assert jets.op == "filter" and jets.args[0].op == "filter"  # jets is taken from the object


def test_size_of_a_comparison_says_where_the_parenthesis_goes():
    text = errors("""
        object leptons
          take Muon
          take Electron
        region r
          reject size(leptons > 2) ? pT(leptons[0]) < 12 : ALL
        """)
    assert "E230" in text and "size(leptons) > 2" in text
    assert text.count("error:") == 1


def test_a_union_of_particles_is_one_error_without_follow_ons():
    text = errors("""
        def higgsR = ELE[1] ELE[2]
        def higgsB = ELE[0]
        object higgsU : Union( higgsR , higgsB )
        define higgs = higgsU[-1]
        def chi2Higgs : ( {higgs}m - 125) ^ 2 / 18 ^ 2
        region r
          select size(higgsU) == 2
          select chi2Higgs ~= 0
        """)
    assert "Union joins collections" in text and "higgsR, higgsB are particles" in text
    assert ":3:" in text and text.count("error:") == 1


def test_a_trigger_list_is_one_located_error_with_the_branch_to_write():
    text = errors("""
        region r
          select ALL
          select HLT "Mu50"
        """)
    assert "t.adl:3:3" in text and "E290" in text and text.count("error:") == 1
    assert "select HLT_Mu50 == 1" in text
