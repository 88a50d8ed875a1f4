"""More forms from public ADL files that adlc used to reject: CutLang's negated whole collection
`-jets_` (CMS-SUS-16-033's MHT), the built-in `BJET` (runs/ex4.adl), adl2tnm's
`object scalarHT / take ScalarHT` (ATLAS-EXOT-2016-32); and the errors adlc now gives for files
that CutLang cannot run either. Expectations are computed here with numpy/awkward, independently
of adlc; every end-to-end test runs on the numba and the numpy backend (conftest.py)."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pytest
from backend_helpers import fill, generated_sample, hist, rows

ak = pytest.importorskip("awkward")
uproot = pytest.importorskip("uproot")
pytest.importorskip("numba")

N_EVENTS = 3000


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """NanoAOD-like events: jets (pT-ordered, with Jet_btagDeepB), leptons, MET."""
    return generated_sample(tmp_path_factory, "corpus_forms2", N_EVENTS, "nanoaod", seed=23)


def write_adl(d, name: str, adl: str):
    file = d / f"{name}.adl"
    file.write_text(textwrap.dedent(adl).lstrip("\n"))
    return file


def run(d, path, backend: str, name: str, adl: str, schema: str = "nanoaod"):
    from adlc.driver import run_analysis

    file = write_adl(d, f"{name}-{backend}", adl)
    return run_analysis(file, [str(path)], schema=schema, backend=backend)



def compile_error(tmp_path, adl: str, schema: str = "nanoaod", name: str = "bad") -> str:
    from adlc.driver import compile_analysis

    file = write_adl(tmp_path, name, adl)
    with pytest.raises(Exception) as info:
        compile_analysis(file, schema=schema)
    return str(info.value)


# --- `-jets_`: the negative four-vector sum (MHT) ----------------------------------------------

MHT_ADL = """
    object jets
      take Jet
      select pT(Jet) > 30
    define MHLV = -jets_
    define MHT = pT( MHLV )
    region presel
      select size(jets) >= 2
      select MHT > 50
      select dphi(jets[0], MHLV) > 0.5
      histo hmht, "MHT", 40, 0, 400, MHT
    """


def test_negated_collection_is_minus_its_four_vector_sum(sample, backend):
    d, path, ev = sample
    res = run(d, path, backend, "mht", MHT_ADL)
    pt, phi = ev["Jet_pt"], ev["Jet_phi"]
    keep = pt > 30
    pt, phi = pt[keep], phi[keep]
    n = ak.to_numpy(ak.num(pt))
    # -sum of the jets' momenta: its direction is opposite to the sum's
    mx = -ak.to_numpy(ak.sum(pt * np.cos(phi), axis=1))
    my = -ak.to_numpy(ak.sum(pt * np.sin(phi), axis=1))
    mht = np.hypot(mx, my)
    lead_phi = ak.to_numpy(ak.fill_none(ak.firsts(phi), 0.0))
    dphi = np.abs((lead_phi - np.arctan2(my, mx) + math.pi) % (2 * math.pi) - math.pi)
    c1 = n >= 2
    c2 = c1 & (mht > 50)
    c3 = c2 & (dphi > 0.5)
    assert rows(res, "presel")[1:] == [c1.sum(), c2.sum(), c3.sum(), c3.sum()]
    assert np.array_equal(hist(res, "presel", "hmht"), fill(mht[c3], 40, 0, 400))


# --- BJET: CutLang's built-in b-tagged jets ----------------------------------------------------

BJET_ADL = """
    region test
      select ALL
      select Size(BJET) >= 1
      histo hnb, "n b-jets", 6, 0, 6, size(BJET)
      histo hpt, "lead b-jet pT", 50, 0, 500, pT(BJET[0])
    """


def test_builtin_bjet_is_the_b_tagged_jets(sample, backend):
    d, path, ev = sample
    res = run(d, path, backend, "bjet", BJET_ADL)
    # CMSNANO: a jet is b-tagged when Jet_btagDeepB > 0.8
    tagged = ev["Jet_pt"][ev["Jet_btagDeepB"] > 0.8]
    nb = ak.to_numpy(ak.num(tagged))
    passed = nb >= 1
    assert rows(res, "test")[1:3] == [N_EVENTS, passed.sum()]
    assert np.array_equal(hist(res, "test", "hnb"), fill(nb[passed], 6, 0, 6))
    lead = ak.to_numpy(ak.firsts(tagged[passed]))
    assert np.array_equal(hist(res, "test", "hpt"), fill(lead, 50, 0, 500))


def test_own_bjet_object_overrides_the_builtin(sample, backend):
    d, path, ev = sample
    adl = """
        object BJET
          take JET
          select pT(JET) > 40
        region test
          select size(BJET) >= 2
        """
    res = run(d, path, backend, "ownbjet", adl)
    expected = ak.to_numpy(ak.sum(ev["Jet_pt"] > 40, axis=1) >= 2).sum()
    assert rows(res, "test")[1] == expected


# --- adl2tnm: an object taking a one-value-per-event branch ------------------------------------

SCALAR_ADL = """
    object scalarHT
      # scalar sum of pT, one value per event in the ntuple
      take ScalarHT
    define ratio = MET / sqrt(scalarHT)
    region r
      select scalarHT > 100
      histo hht, "HT", 20, 0, 1000, scalarHT
      histo hr, "MET/sqrt(HT)", 20, 0, 20, ratio
    """


@pytest.fixture(scope="module")
def scalar_sample(tmp_path_factory):
    rng = np.random.default_rng(5)
    n = 2000
    d = tmp_path_factory.mktemp("scalar")
    path = d / "scalar.root"
    branches = {
        "run": np.ones(n, dtype=np.uint32),
        "event": np.arange(n, dtype=np.uint64),
        "luminosityBlock": np.ones(n, dtype=np.uint32),
        "MET_pt": rng.exponential(40.0, n).astype(np.float32),
        "MET_phi": rng.uniform(-math.pi, math.pi, n).astype(np.float32),
        "ScalarHT": rng.exponential(300.0, n).astype(np.float32),
    }
    with uproot.recreate(path) as f:  # mktree: `f[name] = arrays` would write an RNTuple
        f.mktree("Events", {k: v.dtype for k, v in branches.items()})
        f["Events"].extend(branches)
    return d, path, branches


def test_object_taking_an_event_branch_is_that_number(scalar_sample, backend):
    d, path, b = scalar_sample
    res = run(d, path, backend, "scalar", SCALAR_ADL)
    ht = b["ScalarHT"].astype(np.float64)
    passed = ht > 100
    assert rows(res, "r")[1] == passed.sum()
    assert np.array_equal(hist(res, "r", "hht"), fill(ht[passed], 20, 0, 1000))
    ratio = b["MET_pt"].astype(np.float64)[passed] / np.sqrt(ht[passed])
    assert np.array_equal(hist(res, "r", "hr"), fill(ratio, 20, 0, 20))


# --- files CutLang cannot run either: the errors say where and what to write --------------------

def test_slice_in_a_region_cut_asks_for_all_or_any(tmp_path):
    # CMS-SUS-21-009: CutLang's FuncNode::partConstruct skips slice ("loop") particles
    # outside a reducer, so the cut has no defined meaning there
    msg = compile_error(tmp_path, """
        object jets
          take Jet
        region r
          select dR(jets[0:1], METLV[0]) > 0.3
        """)
    assert "bad.adl:4:3" in msg and "E220" in msg
    assert "a slice in a region command must be reduced" in msg
    assert "all(" in msg and "any(" in msg


def test_all_over_a_slice_in_a_region(sample, backend):
    d, path, ev = sample
    adl = """
        object jets
          take Jet
        region r
          select all(dPhi(jets[0:1], METLV[0]) > 0.3)
        """
    res = run(d, path, backend, "allslice", adl)
    dphi = np.abs((ev["Jet_phi"][:, :2] - ev["MET_phi"] + math.pi) % (2 * math.pi) - math.pi)
    expected = ak.to_numpy(ak.all(dphi > 0.3, axis=1)).sum()
    assert rows(res, "r")[1] == expected


def test_jet_constituents_are_refused_clearly(tmp_path):
    msg = compile_error(tmp_path, """
        object conJets : JET
          select q(JET constituents ) == 0
        region r
          select size(conJets) >= 1
        """)
    assert "bad.adl:2:16" in msg and "E233" in msg
    assert "'constituents' of each object" in msg


def test_number_expected_hints_at_an_attribute_or_a_reducer(tmp_path):
    # CMS-SUS-16-043_Delphes: `bjets[1]` where `bjets[1].pT` was meant
    msg = compile_error(tmp_path, """
        object bjets
          take Jet
        define MCT = 2 * bjets[0].pT * bjets[1]
        region r
          select MCT > 100
        """)
    assert "bad.adl:3:32" in msg and "found a particle" in msg
    assert "pT(x)" in msg
    # CMS-SUS-16-035_Delphes: `size(leptons > 2)` where `size(leptons) > 2` was meant
    msg = compile_error(tmp_path, """
        object leptons
          take Muon
        region r
          reject size(leptons > 2)
        """, name="bad2")
    assert "bad2.adl:4:10" in msg and "size() takes a collection, not a comparison" in msg
    assert "size(leptons) > 2" in msg


def test_collection_define_hints_at_its_sum(tmp_path):
    msg = compile_error(tmp_path, """
        object jetsmht
          take Jet
        define MHLV = jetsmht_
        region r
          select pT(MHLV) > 50
        """)
    assert "bad.adl:3:1" in msg and "define 'MHLV' is a collection" in msg
    assert "sum(-jetsmht)" in msg


def test_missing_collection_error_points_at_the_use(tmp_path):
    msg = compile_error(tmp_path, """
        region r
          select size(LEP) >= 1
        """)
    assert "bad.adl:2:15" in msg and "no collection `LEP` (Lepton)" in msg
    assert "JET" in msg and "MUO" in msg
