"""Schemas: spellings, stored/fixed/derived attributes, detection, exact branch resolution."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from adlc.errors import AdlInputError, AdlUsageError
from adlc.runtime.generate import branch_typenames
from adlc.runtime.schemas import (
    DERIVED_ATTRIBUTES,
    NANOAOD,
    RUN2012,
    AttributeRef,
    canonical_attribute,
    canonical_collection,
    canonical_event_name,
    detect_schema,
    get_schema,
    offsets_key,
    resolve_attribute,
    resolve_branch,
)

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data")
TINY = os.path.join(SHARED, "tiny_nano.root")
RUN2012B = os.path.join(SHARED, "Run2012B_SingleMu_1000.root")

# Branch names of tiny_nano.root (test_generate checks this layout against a hard-coded copy).
TINY_BRANCHES = [name for name, _ in branch_typenames("nanoaod")]
RUN2012_JETS = ["nJet", "Jet_pt", "Jet_eta", "Jet_phi", "Jet_mass", "Jet_puId", "Jet_btag"]


@pytest.mark.parametrize(("spellings", "canonical"), [
    ("ELE Ele ele Electron electron", "ELE"),
    ("MUO Muo muo Muon muon", "MUO"),
    ("TAU Tau", "TAU"),
    ("PHO Pho Photon", "PHO"),
    ("JET Jet jet", "JET"),
    ("FJET FatJet fjet", "FJET"),
    ("GEN", "GEN"),
])
def test_collection_spellings(spellings: str, canonical: str) -> None:
    for name in spellings.split():
        assert canonical_collection(name) == canonical
        assert NANOAOD.collection(name) is NANOAOD.collections[canonical]


def test_unknown_collections() -> None:
    for name in ("MUON", "jets", "goodMuons", "MET", ""):
        assert canonical_collection(name) is None


@pytest.mark.parametrize(("spellings", "canonical"), [
    ("pT Pt PT pt", "pt"), ("eta Eta ETA", "eta"), ("phi Phi", "phi"), ("m mass", "m"),
    ("q charge", "q"), ("E", "e"), ("P", "p"), ("pz Pz", "pz"), ("flavor btagger", "flavor"),
    ("BTag btag", "btag"), ("pdgID pdgId", "pdgid"), ("dxy d0 D0", "dxy"), ("dz", "dz"),
    ("miniiso miniIso", "miniiso"), ("genPartIdx", "genpartidx"), ("AbsEta absEta", "abseta"),
    ("rap", "rap"), ("theta", "theta"), ("IDX index", "index"), ("isTight istight", "istight"),
])
def test_attribute_spellings(spellings: str, canonical: str) -> None:
    for name in spellings.split():
        assert canonical_attribute(name) == canonical, name


def test_case_sensitive_attributes_and_unknown_names() -> None:
    # `e`, `p`, `M` are not CutLang tokens; `DXY`/`genpartidx` are exact-case keywords.
    for name in ("e", "p", "M", "Q", "DXY", "genpartidx", "tightId", "Muon_pt", "foo"):
        assert canonical_attribute(name) is None, name


def test_event_names() -> None:
    assert canonical_event_name("MET") == "met"
    assert canonical_event_name("met") is None  # MET is exact-case in CutLang
    assert canonical_event_name("MetSig") == "metsig"
    assert canonical_event_name("runNo") == canonical_event_name("RUNNO") == "runno"
    assert NANOAOD.event["met"] == "MET_pt"
    assert NANOAOD.event["metphi"] == "MET_phi"
    assert NANOAOD.event["runno"] == "run"
    assert NANOAOD.event["lbno"] == "luminosityBlock"
    assert NANOAOD.event["eventno"] == "event"
    assert NANOAOD.event["metsig"] == "MET_significance"


def test_derived_attributes_are_not_branches() -> None:
    assert {"e", "p", "pz", "rap", "theta", "abseta", "pdgid", "btag"} <= DERIVED_ATTRIBUTES
    for schema in (NANOAOD, RUN2012):
        for coll in schema.collections.values():
            stored = set(coll.attributes)
            if coll.name != "GEN":  # GenPart_pdgId is a real branch
                assert not stored & DERIVED_ATTRIBUTES, coll.name
            assert all(b.startswith(coll.prefix) for b in coll.attributes.values())


def test_fixed_masses_follow_cutlang() -> None:
    cols = NANOAOD.collections
    assert cols["MUO"].fixed_mass == pytest.approx(0.105658)
    assert cols["ELE"].fixed_mass == pytest.approx(0.000511)
    assert cols["PHO"].fixed_mass == 0.0
    assert cols["JET"].fixed_mass is None and cols["JET"].branch("m") == "Jet_mass"
    assert cols["TAU"].fixed_mass is None and cols["TAU"].branch("m") == "Tau_mass"
    assert "m" not in cols["MUO"].attributes  # Muon_mass is ignored


def test_collection_layout() -> None:
    mu = NANOAOD.collections["MUO"]
    assert (mu.counter, mu.prefix, mu.group) == ("nMuon", "Muon_", "Muon")
    assert mu.offsets_key == offsets_key("Muon") == "Muon@offsets"
    assert mu.branch("pt") == "Muon_pt" and mu.branch("q") == "Muon_charge"
    assert mu.branch("dxy") == "Muon_dxy" and mu.branch("miniiso") == "Muon_miniPFRelIso_all"


def test_flavor_mapping_and_missing_reads_zero() -> None:
    assert NANOAOD.collections["JET"].branch("flavor") == "Jet_btagDeepB"
    assert not NANOAOD.missing_reads_zero
    # CutLang reads Jet_btagDeepB, absent from Run2012B, as 0: the goldens expect flavor 0.
    assert RUN2012.collections["JET"].branch("flavor") == "Jet_btagDeepB"
    assert "Jet_btagDeepB" in RUN2012.missing_reads_zero
    assert {"Muon_miniPFRelIso_all", "Photon_sieie"} <= RUN2012.missing_reads_zero


def test_overrides() -> None:
    real = RUN2012.with_overrides({"Jet.flavor": "Jet_btag", "MET": "MET_sumet",
                                   "METphi": "PuppiMET_phi"})
    assert real.collections["JET"].branch("flavor") == "Jet_btag"
    assert "Jet_btagDeepB" not in real.missing_reads_zero
    assert real.event["met"] == "MET_sumet" and real.event["metphi"] == "PuppiMET_phi"
    assert RUN2012.collections["JET"].branch("flavor") == "Jet_btagDeepB"  # original untouched
    mu = NANOAOD.with_overrides({"MUO.m": "Muon_mass"}).collections["MUO"]
    assert mu.branch("m") == "Muon_mass" and mu.fixed_mass is None
    with pytest.raises(AdlUsageError):
        NANOAOD.with_overrides({"JETS.flavor": "x"})
    with pytest.raises(AdlUsageError):
        NANOAOD.with_overrides({"nonsense": "x"})


def test_resolve_attribute() -> None:
    assert resolve_attribute(NANOAOD, "Muon", "pT") == AttributeRef("branch", branch="Muon_pt")
    assert resolve_attribute(NANOAOD, "MUO", "m") == AttributeRef("fixed", value=0.105658)
    assert resolve_attribute(NANOAOD, "Jet", "q") == AttributeRef("fixed", value=-99.0)
    assert resolve_attribute(NANOAOD, "Muon", "E") == AttributeRef("derived")
    assert resolve_attribute(NANOAOD, "Jet", "BTag") == AttributeRef("derived")
    assert resolve_attribute(NANOAOD, "GEN", "pdgID") == AttributeRef("branch",
                                                                      branch="GenPart_pdgId")
    assert resolve_attribute(NANOAOD, "Muon", "tau32x") is None
    assert resolve_attribute(NANOAOD, "goodMuons", "pt") is None


def test_schemas_are_frozen_and_hashable() -> None:
    assert hash(NANOAOD) != hash(RUN2012)
    with pytest.raises(AttributeError):
        NANOAOD.name = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        NANOAOD.collections["MUO"].attributes["pt"] = "x"  # type: ignore[index]


def test_get_schema() -> None:
    assert get_schema("nanoaod") is NANOAOD and get_schema("RUN2012") is RUN2012
    with pytest.raises(AdlUsageError) as err:
        get_schema("delphes3")
    assert "nanoaod" in err.value.render() and "run2012" in err.value.render()
    assert "delphes" in err.value.render()


def test_detect_schema_from_branch_lists() -> None:
    assert detect_schema(TINY_BRANCHES) is NANOAOD
    run2012 = [b for b in TINY_BRANCHES if not b.startswith(("nJet", "Jet_"))] + RUN2012_JETS
    assert detect_schema(run2012) is RUN2012
    no_jets = [b for b in TINY_BRANCHES if not b.startswith(("nJet", "Jet_"))]
    assert detect_schema(no_jets) is NANOAOD
    with pytest.raises(AdlInputError) as err:
        detect_schema(["pt", "jet_pt", "njet"])  # (Delphes' `Jet.PT`: tests/runtime/test_delphes.py)
    assert "--format" in err.value.render() and "--schema-file" in err.value.render()


@pytest.mark.skipif(not os.path.exists(TINY), reason="needs ../shared/data")
def test_detect_schema_on_real_files() -> None:
    import uproot

    with uproot.open(TINY) as f:
        assert detect_schema(f["Events"].keys()) is NANOAOD
    with uproot.open(RUN2012B) as f:
        assert detect_schema(f["Events"].keys()) is RUN2012


def test_resolve_branch_exact() -> None:
    names = TINY_BRANCHES
    assert resolve_branch(NANOAOD, names, "Muon_tightId", "Muon") == "Muon_tightId"
    assert resolve_branch(NANOAOD, names, "tightId", "MUO") == "Muon_tightId"  # old form
    assert resolve_branch(NANOAOD, names, "HLT_IsoMu17_eta2p1_LooseIsoPFTau20") == \
        "HLT_IsoMu17_eta2p1_LooseIsoPFTau20"
    assert resolve_branch(NANOAOD, names, "MET_pt") == "MET_pt"
    run2012 = [b for b in names if b != "Jet_btagDeepB"]
    assert resolve_branch(RUN2012, run2012, "Jet_btagDeepB", "Jet") == "Jet_btagDeepB"


def test_resolve_branch_never_fuzzy() -> None:
    with pytest.raises(AdlInputError) as err:
        resolve_branch(NANOAOD, TINY_BRANCHES, "Muon_tightID", "Muon")
    text = err.value.render()
    assert "Muon_tightID" in text and "Muon_tightId" in text  # the nearest name is suggested
    # CutLang matched tightId(Tau) to Tau_pt; adlc refuses and lists nothing misleading.
    with pytest.raises(AdlInputError) as err:
        resolve_branch(NANOAOD, TINY_BRANCHES, "idDecayMode", "Tau")
    assert "Tau_idDecayMode" in err.value.render()
    with pytest.raises(AdlInputError) as err:
        resolve_branch(NANOAOD, TINY_BRANCHES, "HLT_IsoMu24")
    assert "HLT_IsoMu17_eta2p1_LooseIsoPFTau20" in err.value.render()


def test_resolve_branch_wrong_collection() -> None:
    with pytest.raises(AdlInputError) as err:
        resolve_branch(NANOAOD, TINY_BRANCHES, "Jet_btag", "Muon")
    assert "does not belong" in err.value.render()
    with pytest.raises(AdlInputError):
        resolve_branch(NANOAOD, TINY_BRANCHES, "Muon_pt", "goodMuons")


def test_import_stays_light() -> None:
    code = ("import sys, adlc.runtime.schemas, adlc.runtime.reader, adlc.runtime.generate; "
            "heavy = {'uproot', 'awkward', 'numba', 'cupy', 'dask'} & set(sys.modules); "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)
