"""`allof(cond)` / `anyof(cond)` in object blocks: the condition form of CutLang's reducers,
read as learn-adl's all()/any() over the one un-indexed collection in the condition. Expected
jet counts are computed here with awkward, independently of adlc, on the numba and the numpy
backend (conftest.py)."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

ak = pytest.importorskip("awkward")
uproot = pytest.importorskip("uproot")
pytest.importorskip("numba")

N_EVENTS = 2000

ADL = """
    object muons
      take Muon
      select pT(Muon) > 5
    object alljets
      take Jet
      select pT(Jet) > 20
      select allof(dR(Jet, muons) > 0.4)
    object vetojets
      take Jet
      select pT(Jet) > 20
      reject anyof(dR(Jet, muons) < 0.4)
    object nearjets
      take Jet
      select pT(Jet) > 20
      select anyof(dR(Jet, muons) < 0.4)
    region r
      select ALL
      histo hall, "n", 12, 0, 12, size(alljets)
      histo hveto, "n", 12, 0, 12, size(vetojets)
      histo hnear, "n", 12, 0, 12, size(nearjets)
    """


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    from adlc.runtime.generate import generate

    d = tmp_path_factory.mktemp("quantifiers")
    path = d / "sample.root"
    generate(str(path), N_EVENTS, schema="nanoaod", seed=7)
    with uproot.open(path) as f:
        events = f["Events"].arrays()
    return d, path, events


def _counts(ev):
    """Per event: jets (pT > 20) with no muon (pT > 5) within dR 0.4, and with at least one."""
    jets = ak.zip({"eta": ev["Jet_eta"], "phi": ev["Jet_phi"]})[ev["Jet_pt"] > 20]
    mus = ak.zip({"eta": ev["Muon_eta"], "phi": ev["Muon_phi"]})[ev["Muon_pt"] > 5]
    pairs = ak.cartesian({"j": jets, "m": mus}, nested=True)
    dphi = (pairs.j.phi - pairs.m.phi + np.pi) % (2 * np.pi) - np.pi
    near = np.hypot(pairs.j.eta - pairs.m.eta, dphi) < 0.4
    any_near = ak.any(near, axis=2)
    return (ak.to_numpy(ak.sum(~any_near, axis=1)), ak.to_numpy(ak.sum(any_near, axis=1)))


def test_allof_anyof_conditions_in_objects(sample, backend, tmp_path):
    from adlc.driver import run_analysis

    d, path, ev = sample
    file = tmp_path / f"q-{backend}.adl"
    file.write_text(textwrap.dedent(ADL).lstrip("\n"))
    res = run_analysis(file, [str(path)], backend=backend)
    clean, near = _counts(ev)
    assert near.sum() > 50 and clean.sum() > 1000  # the sample exercises both sides
    h = res.regions["r"].histograms
    want_clean = np.histogram(clean[clean < 12], np.arange(13))[0]  # 12 and up: overflow
    want_near = np.histogram(near[near < 12], np.arange(13))[0]
    assert np.array_equal(h["hall"].values(), want_clean)
    assert np.array_equal(h["hveto"].values(), want_clean)
    assert np.array_equal(h["hnear"].values(), want_near)


ADD_ADL = """
    object jets
      take Jet
      select pT(Jet) > 30
    object muons
      take Muon
      select pT(Muon) > 10
    define all3 = ADD(jets, muons)
    define only = ADD(jets)
    region r
      select ALL
      histo hall, "pT", 50, 0, 500, pT(all3)
      histo hjets, "pT", 50, 0, 500, pT(only)
    region lead
      select size(jets) >= 1 and size(muons) >= 1
      histo hlead, "pT", 50, 0, 500, pT(ADD(jets[0], muons[0]))
    """


def test_add_sums_every_member_of_several_collections(sample, backend, tmp_path):
    """CutLang's ADD(a, b, ...) (runs/draftexamples/exAddVec.adl): one four-vector."""
    from adlc.driver import run_analysis

    d, path, ev = sample
    file = tmp_path / f"add-{backend}.adl"
    file.write_text(textwrap.dedent(ADD_ADL).lstrip("\n"))
    res = run_analysis(file, [str(path)], backend=backend)

    def pxpy(prefix, cut):
        pt, phi = ev[f"{prefix}_pt"], ev[f"{prefix}_phi"]
        pt, phi = pt[pt > cut], phi[pt > cut]
        return (ak.to_numpy(ak.sum(pt * np.cos(phi), axis=1)),
                ak.to_numpy(ak.sum(pt * np.sin(phi), axis=1)))

    jx, jy = pxpy("Jet", 30)
    mx, my = pxpy("Muon", 10)
    edges = np.linspace(0, 500, 51)
    h = res.regions["r"].histograms
    for name, pt in (("hall", np.hypot(jx + mx, jy + my)), ("hjets", np.hypot(jx, jy))):
        inner = np.histogram(pt[pt < 500], edges)[0]
        # a sum of floats in another order may move a value sitting on a bin edge: none here
        assert np.array_equal(h[name].values(), inner), name
    # particles: the leading jet and the leading muon
    jpt, jphi = ev["Jet_pt"][ev["Jet_pt"] > 30], ev["Jet_phi"][ev["Jet_pt"] > 30]
    mpt, mphi = ev["Muon_pt"][ev["Muon_pt"] > 10], ev["Muon_phi"][ev["Muon_pt"] > 10]
    both = ak.to_numpy((ak.num(jpt) >= 1) & (ak.num(mpt) >= 1))
    j0, jp0 = ak.to_numpy(ak.firsts(jpt[both])), ak.to_numpy(ak.firsts(jphi[both]))
    m0, mp0 = ak.to_numpy(ak.firsts(mpt[both])), ak.to_numpy(ak.firsts(mphi[both]))
    pt = np.hypot(j0 * np.cos(jp0) + m0 * np.cos(mp0), j0 * np.sin(jp0) + m0 * np.sin(mp0))
    lead = res.regions["lead"].histograms["hlead"].values()
    assert both.sum() > 100 and np.array_equal(lead, np.histogram(pt[pt < 500], edges)[0])
