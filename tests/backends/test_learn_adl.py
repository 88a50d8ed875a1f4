"""adl2tnm and learn-adl semantics end to end (ADL.md §14): bare attributes, `this`, `take Jet
j`, dotted attributes, several `take` lines and `take union(...)`, `any`/`all`, half-open
slices, `bins`, and `composite` blocks with `disjoint`/`cartesian`. Every expectation is
computed here with numpy/awkward from the generated file, independently of adlc."""

from __future__ import annotations

import os
import textwrap

import numpy as np
import pytest

ak = pytest.importorskip("awkward")
uproot = pytest.importorskip("uproot")
pytest.importorskip("numba")

N_EVENTS = 1500
MUON_MASS = 0.105658
ELECTRON_MASS = 0.000511


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    from adlc.runtime.generate import generate

    os.environ["ADLC_CACHE_DIR"] = str(tmp_path_factory.getbasetemp() / "adlc-cache")
    d = tmp_path_factory.mktemp("learn_adl")
    path = d / "sample.root"
    generate(str(path), N_EVENTS, schema="nanoaod", seed=11)
    with uproot.open(path) as f:
        events = f["Events"].arrays(["Muon_pt", "Muon_eta", "Muon_phi", "Muon_charge",
                                     "Electron_pt", "Electron_eta", "Electron_phi",
                                     "Jet_pt", "Jet_eta", "Jet_phi", "MET_pt", "MET_phi"])
    return d, path, events


def run(sample, name: str, adl: str, backend: str = "numba"):
    from adlc.driver import run_analysis

    d, path, _ = sample
    file = d / f"{name}.adl"
    file.write_text(textwrap.dedent(adl))
    return run_analysis(file, [str(path)], schema="nanoaod", backend=backend)


def f64(x):
    return ak.values_astype(x, np.float64)


def hist(result, region, name):
    return result.regions[region].histograms[name].values(flow=True)


def with_flow(x, nbins, lo, hi):
    x = np.asarray(ak.flatten(x, axis=None) if isinstance(x, ak.Array) else x, dtype=np.float64)
    inside = np.histogram(x[(x >= lo) & (x < hi)], nbins, (lo, hi))[0]
    return np.concatenate([[np.sum(x < lo)], inside, [np.sum(x >= hi)]])


def dphi(a, b):
    d = a - b
    return np.abs((d + np.pi) % (2 * np.pi) - np.pi)


def dr(eta1, phi1, eta2, phi2):
    return np.sqrt((eta1 - eta2) ** 2 + dphi(phi1, phi2) ** 2)


def objects(ev):
    mu = ak.zip({"pt": f64(ev.Muon_pt), "eta": f64(ev.Muon_eta), "phi": f64(ev.Muon_phi),
                 "q": f64(ev.Muon_charge)})
    el = ak.zip({"pt": f64(ev.Electron_pt), "eta": f64(ev.Electron_eta),
                 "phi": f64(ev.Electron_phi)})
    jet = ak.zip({"pt": f64(ev.Jet_pt), "eta": f64(ev.Jet_eta), "phi": f64(ev.Jet_phi)})
    return mu, el, jet


# --- objects, any/all, slices, bins --------------------------------------------------------

OBJECTS = """\
# adlc: dialect=learn-adl
object jets
  take Jet j
  select j.pt > 30
  select abs(eta) < 2.4

object muons
  take Muon
  select pt > 5

object electrons
  take Electron
  select this.pt > 5

object leptons
  take muons
  take electrons

object leptons2
  take union(muons, electrons)

object cleanJets
  take jets
  reject any(dR(this, leptons) < 0.4)

object farJets
  take jets
  select all(dR(this, leptons) > 0.4)

region objs
  histo hnlep, "n", 12, 0, 12, size(leptons)
  histo hnlep2, "n", 12, 0, 12, size(leptons2)
  histo hnclean, "n", 15, 0, 15, size(cleanJets)
  histo hnfar, "n", 15, 0, 15, size(farJets)
  select size(leptons) >= 2
  histo hlep1pt, "pt", 100, 0, 200, leptons[1].pt

region slices
  select size(jets) >= 1
  histo hsum, "sum", 100, 0, 1000, sum(pt(jets[1:3]))
  histo hhead, "sum", 100, 0, 1000, sum(pt(jets[:2]))
  histo htail, "sum", 100, 0, 1000, sum(pt(jets[1:]))
  select any(pt(jets[:2]) > 60)
  select all(abs(eta(jets)) < 2.0)

region binned
  bins MET 0 20 50 100
"""


@pytest.fixture(scope="module")
def objects_run(sample, backend):
    return run(sample, "objects", OBJECTS, backend)


def test_bare_attributes_bindings_and_unions(sample, objects_run):
    _, _, ev = sample
    mu, el, jet = objects(ev)
    jets = jet[(jet.pt > 30) & (np.abs(jet.eta) < 2.4)]
    mus, els = mu[mu.pt > 5], el[el.pt > 5]
    nlep = ak.num(mus) + ak.num(els)
    np.testing.assert_array_equal(hist(objects_run, "objs", "hnlep"), with_flow(nlep, 12, 0, 12))
    np.testing.assert_array_equal(hist(objects_run, "objs", "hnlep2"),
                                  with_flow(nlep, 12, 0, 12))
    # several takes are a concatenation, the first take first
    lep_pt = ak.concatenate([mus.pt, els.pt], axis=1)
    two = nlep >= 2
    np.testing.assert_array_equal(hist(objects_run, "objs", "hlep1pt"),
                                  with_flow(lep_pt[two][:, 1], 100, 0, 200))
    # any / all over a second collection inside an object (`this` is the candidate)
    lep_eta = ak.concatenate([mus.eta, els.eta], axis=1)
    lep_phi = ak.concatenate([mus.phi, els.phi], axis=1)
    pairs_j, pairs_l = ak.unzip(ak.cartesian([jets, ak.zip({"eta": lep_eta, "phi": lep_phi})],
                                             nested=True))
    d = dr(pairs_j.eta, pairs_j.phi, pairs_l.eta, pairs_l.phi)
    nclean = ak.sum(~ak.any(d < 0.4, axis=2), axis=1)
    nfar = ak.sum(ak.all(d > 0.4, axis=2), axis=1)
    np.testing.assert_array_equal(hist(objects_run, "objs", "hnclean"),
                                  with_flow(nclean, 15, 0, 15))
    np.testing.assert_array_equal(hist(objects_run, "objs", "hnfar"), with_flow(nfar, 15, 0, 15))


def test_half_open_slices_and_any_all_in_regions(sample, objects_run):
    _, _, ev = sample
    _, _, jet = objects(ev)
    jets = jet[(jet.pt > 30) & (np.abs(jet.eta) < 2.4)]
    jets = jets[ak.num(jets) >= 1]
    np.testing.assert_array_equal(hist(objects_run, "slices", "hsum"),
                                  with_flow(ak.sum(jets.pt[:, 1:3], axis=1), 100, 0, 1000))
    np.testing.assert_array_equal(hist(objects_run, "slices", "hhead"),
                                  with_flow(ak.sum(jets.pt[:, :2], axis=1), 100, 0, 1000))
    np.testing.assert_array_equal(hist(objects_run, "slices", "htail"),
                                  with_flow(ak.sum(jets.pt[:, 1:], axis=1), 100, 0, 1000))
    rows = [c.raw for c in objects_run.regions["slices"].cutflow]
    anyp = ak.any(jets.pt[:, :2] > 60, axis=1)
    allp = anyp & ak.all(np.abs(jets.eta) < 2.0, axis=1)
    assert rows == [N_EVENTS, len(jets), len(jets), len(jets), len(jets),
                    int(ak.sum(anyp)), int(ak.sum(allp))]


def test_learn_adl_bins_are_half_open_without_flow(sample, objects_run):
    _, _, ev = sample
    met = np.sqrt((f64(ev.MET_pt) * np.cos(f64(ev.MET_phi))) ** 2
                  + (f64(ev.MET_pt) * np.sin(f64(ev.MET_phi))) ** 2)
    met = ak.to_numpy(met)
    bins = objects_run.regions["binned"].bins
    assert [b.label for b in bins] == ["MET [0, 20)", "MET [20, 50)", "MET [50, 100)"]
    edges = [0, 20, 50, 100]
    assert [b.raw for b in bins] == [int(np.sum((met >= a) & (met < b)))
                                     for a, b in zip(edges, edges[1:], strict=False)]


# --- composites -----------------------------------------------------------------------------

COMPOSITES = """\
# adlc: dialect=learn-adl
object muons
  take Muon
  select pt > 5

object jets
  take Jet
  select pt > 30

object leptons
  take union(muons, Electron)

composite Zcands
  take disjoint(muons m1, muons m2)
  select m1.charge + m2.charge == 0
  object Z = m1 + m2
  select mass(Z) [] 60 120

composite muJet
  take cartesian(muons mu, jets jt)
  select dR(mu, jt) < 1.0

composite lepMu
  take disjoint(leptons l, muons mu)

composite pairsAll
  take cartesian(muons a, muons b)

region comps
  histo hnz, "n", 20, 0, 20, size(Zcands)
  histo hnmj, "n", 50, 0, 50, size(muJet)
  histo hnlm, "n", 50, 0, 50, size(lepMu)
  histo hnpa, "n", 50, 0, 50, size(pairsAll)
  select size(Zcands) >= 1
  histo hmz, "m", 60, 60, 120, m(Zcands[0])
  histo hzq, "q", 5, -2.5, 2.5, q(Zcands[0])
  histo hzpt, "pt", 100, 0, 200, pT(Zcands)
"""


@pytest.fixture(scope="module")
def composites_run(sample, backend):
    return run(sample, "composites", COMPOSITES, backend)


def p4(o, mass):
    px, py = o.pt * np.cos(o.phi), o.pt * np.sin(o.phi)
    pz = o.pt * np.sinh(o.eta)
    return px, py, pz, np.sqrt(px * px + py * py + pz * pz + mass * mass)


def test_disjoint_composite_of_one_collection(sample, composites_run):
    _, _, ev = sample
    mu, _, _ = objects(ev)
    mus = mu[mu.pt > 5]
    a, b = ak.unzip(ak.combinations(mus, 2))     # unordered pairs i < j, in scan order
    (ax, ay, az, ae), (bx, by, bz, be) = p4(a, MUON_MASS), p4(b, MUON_MASS)
    x, y, z, e = ax + bx, ay + by, az + bz, ae + be
    mass = np.sqrt(np.maximum(e * e - x * x - y * y - z * z, 0))
    keep = (a.q + b.q == 0) & (mass >= 60) & (mass <= 120)
    nz = ak.sum(keep, axis=1)
    np.testing.assert_array_equal(hist(composites_run, "comps", "hnz"), with_flow(nz, 20, 0, 20))
    sel = nz >= 1
    assert [c.raw for c in composites_run.regions["comps"].cutflow][5] == int(ak.sum(sel))
    first = ak.firsts(mass[keep][sel])
    np.testing.assert_array_equal(hist(composites_run, "comps", "hmz"),
                                  with_flow(first, 60, 60, 120))
    np.testing.assert_array_equal(hist(composites_run, "comps", "hzq"),
                                  with_flow(np.zeros(int(ak.sum(sel))), 5, -2.5, 2.5))
    pt = np.sqrt(x * x + y * y)[keep][sel]
    np.testing.assert_array_equal(hist(composites_run, "comps", "hzpt"),
                                  with_flow(pt, 100, 0, 200))


def test_cartesian_and_disjoint_across_collections(sample, composites_run):
    _, _, ev = sample
    mu, el, jet = objects(ev)
    mus, jets = mu[mu.pt > 5], jet[jet.pt > 30]
    m, j = ak.unzip(ak.cartesian([mus, jets]))
    nmj = ak.sum(dr(m.eta, m.phi, j.eta, j.phi) < 1.0, axis=1)
    np.testing.assert_array_equal(hist(composites_run, "comps", "hnmj"),
                                  with_flow(nmj, 50, 0, 50))
    nmu, nel = ak.num(mus), ak.num(el)
    # disjoint(leptons l, muons mu): every pair except a muon with itself
    np.testing.assert_array_equal(hist(composites_run, "comps", "hnlm"),
                                  with_flow((nmu + nel) * nmu - nmu, 50, 0, 50))
    # cartesian of a collection with itself: every ordered pair, (i, i) included
    np.testing.assert_array_equal(hist(composites_run, "comps", "hnpa"),
                                  with_flow(nmu * nmu, 50, 0, 50))


def test_composite_without_disjoint_or_cartesian_is_an_error():
    from adlc.errors import AdlSemanticError
    from adlc.frontend.parser import parse
    from adlc.semantic.lower import lower

    src = "object muons\n  take Muon\n\ncomposite bad\n  take muons\n\nregion r\n  select ALL\n"
    with pytest.raises(AdlSemanticError, match="disjoint"):
        lower(parse(src, "t.adl"), src)


# --- adl2tnm: MET as an object -----------------------------------------------------------

MET_OBJECT = """\
object MET
  take MissingET

object jets
  take Jet
  select pt > 30

region r
  select size(jets) >= 1
  select MET.pT > 50
  select dphi(jets[0], MET) > 0.4
  select MET > 60
"""


def test_met_object_is_a_number_and_a_particle(sample, backend):
    _, _, ev = sample
    _, _, jet = objects(ev)
    jets = jet[jet.pt > 30]
    px = f64(ev.MET_pt) * np.cos(f64(ev.MET_phi))
    py = f64(ev.MET_pt) * np.sin(f64(ev.MET_phi))
    met, phi = np.sqrt(px * px + py * py), np.arctan2(py, px)
    one = ak.to_numpy(ak.num(jets) >= 1)
    a = one & ak.to_numpy(met > 50)
    lead_phi = ak.to_numpy(ak.fill_none(ak.firsts(jets.phi), 0.0))
    b = a & (dphi(lead_phi, ak.to_numpy(phi)) > 0.4)
    c = b & ak.to_numpy(met > 60)
    result = run(sample, "met_object", MET_OBJECT, backend)
    assert [x.raw for x in result.regions["r"].cutflow] == [
        N_EVENTS, one.sum(), a.sum(), b.sum(), c.sum()]
