"""The numba backend end to end on a small generated file; expectations computed with
numpy/awkward here, independently of adlc."""

from __future__ import annotations

import numpy as np
import pytest

ak = pytest.importorskip("awkward")
uproot = pytest.importorskip("uproot")
pytest.importorskip("numba")

ADL = """\
object muons
  take Muon
  select pT(Muon) > 10

object jets
  take Jet
  select pT(Jet) > 25

object clean
  take jets
  select dR(jets, muons) > 0.4

object cleanAny
  take jets
  select dR(jets, anyof(muons)) > 0.4

define ht = sum(pT(jets))
define ht01 = sum(pT(jets[0:1]))
define dimu = muons[0] muons[1]

region base
  select ALL
  select size(jets) >= 1
  histo hjpt, "jet pT", 20, 0, 200, pT(jets)
  weight w2 0.5
  histo hht, "HT", 0 50 100 200 400, ht
  bin "lowHT" ht < 100
  bin ht >= 50
  bin "rest" ALL

region dimuon
  select size(muons) >= 2
  select m(dimu) [] 60 120
  histo h2, "mu pts", 10, 0, 100, 10, 0, 100, pT(muons[0]), pT(muons[1])

region cleaning
  select size(muons) >= 1
  histo hnclean, "clean", 10, 0, 10, size(clean)
  histo hnany, "any", 10, 0, 10, size(cleanAny)
  histo hht01, "ht01", 40, 0, 400, ht01
  histo hj5, "j5", 10, -5, 5, pT(jets[5])
"""


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    rng = np.random.default_rng(7)
    n = 3000
    nmu = rng.poisson(1.5, n)
    njet = rng.poisson(3.0, n)

    def jag(counts, values):
        return ak.unflatten(values.astype(np.float32), counts)

    tot_mu, tot_jet = nmu.sum(), njet.sum()
    data = {
        "Muon": ak.zip({"pt": jag(nmu, rng.exponential(20, tot_mu)),
                        "eta": jag(nmu, rng.uniform(-2.5, 2.5, tot_mu)),
                        "phi": jag(nmu, rng.uniform(-np.pi, np.pi, tot_mu)),
                        "charge": ak.unflatten(rng.choice([-1, 1], tot_mu).astype(np.int32),
                                               nmu)}),
        "Jet": ak.zip({"pt": jag(njet, rng.exponential(40, tot_jet)),
                       "eta": jag(njet, rng.uniform(-3, 3, tot_jet)),
                       "phi": jag(njet, rng.uniform(-np.pi, np.pi, tot_jet)),
                       "mass": jag(njet, rng.uniform(0, 10, tot_jet)),
                       "btagDeepB": jag(njet, rng.uniform(0, 1, tot_jet))}),
        "MET_pt": rng.exponential(30, n).astype(np.float32),
        "MET_phi": rng.uniform(-np.pi, np.pi, n).astype(np.float32),
    }
    d = tmp_path_factory.mktemp("sample")
    path = d / "sample.root"
    with uproot.recreate(path) as f:
        f.mktree("Events", {k: (v.type if isinstance(v, ak.Array) else v.dtype)
                            for k, v in data.items()}, counter_name=lambda b: "n" + b)
        f["Events"].extend(data)
    adl = d / "t.adl"
    adl.write_text(ADL)
    return path, adl, data


@pytest.fixture(scope="module")
def result(sample, tmp_path_factory, backend):
    import os

    # the same per-session cache tests/conftest.py sets for function-scoped tests
    os.environ["ADLC_CACHE_DIR"] = str(tmp_path_factory.getbasetemp() / "adlc-cache")
    from adlc.driver import run_analysis

    path, adl, _ = sample
    return run_analysis(adl, [str(path)], schema="nanoaod", chunk_size=1000, backend=backend)


def _expected(data):
    mu, jet = data["Muon"], data["Jet"]
    muons = mu[mu.pt > 10]
    jets = jet[jet.pt > 25]
    return muons, jets


def test_cutflow_weights_and_bins(sample, result):
    _, _, data = sample
    muons, jets = _expected(data)
    region = result.regions["base"]
    has = ak.to_numpy(ak.num(jets) >= 1)
    assert [c.label for c in region.cutflow] == ["all Events", "ALL", "size(jets) >= 1",
                                                 "[Histo] hjpt", "w2 0.5", "[Histo] hht"]
    assert [c.raw for c in region.cutflow] == [3000, 3000, has.sum(), has.sum(), has.sum(),
                                               has.sum()]
    assert region.cutflow[-1].sumw == pytest.approx(0.5 * has.sum())
    ht = ak.to_numpy(ak.sum(ak.values_astype(jets.pt, np.float64), axis=1))[has]
    first = ht < 100
    second = ~first & (ht >= 50)
    third = ~first & ~second
    assert [b.raw for b in region.bins] == [first.sum(), second.sum(), third.sum()]
    assert region.bins[0].label == '"lowHT"' and region.bins[1].label == "ht >= 50"
    h = region.histograms["hjpt"]  # one fill per jet (quirk 13), unit weight
    pts = ak.to_numpy(ak.flatten(jets.pt[has])).astype(np.float64)
    counts, _ = np.histogram(pts, bins=20, range=(0, 200))
    np.testing.assert_array_equal(h.values(), counts)
    assert region.entries["hjpt"] == len(pts)
    hht = region.histograms["hht"]
    np.testing.assert_allclose(hht.values(), 0.5 * np.histogram(ht, [0, 50, 100, 200, 400])[0])


def test_four_vectors_and_2d(sample, result):
    _, _, data = sample
    muons, _ = _expected(data)
    two = muons[ak.num(muons) >= 2]
    m = 0.105658
    pt0, pt1 = (ak.to_numpy(two.pt[:, i]).astype(np.float64) for i in (0, 1))
    eta0, eta1 = (ak.to_numpy(two.eta[:, i]).astype(np.float64) for i in (0, 1))
    phi0, phi1 = (ak.to_numpy(two.phi[:, i]).astype(np.float64) for i in (0, 1))

    def p4(pt, eta, phi):
        px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
        return px, py, pz, np.sqrt(px**2 + py**2 + pz**2 + m * m)

    a, b = p4(pt0, eta0, phi0), p4(pt1, eta1, phi1)
    s = [x + y for x, y in zip(a, b, strict=True)]
    mass = np.sqrt(np.maximum(s[3] ** 2 - s[0] ** 2 - s[1] ** 2 - s[2] ** 2, 0))
    window = (mass >= 60) & (mass <= 120)
    region = result.regions["dimuon"]
    assert region.cutflow[-2].raw == window.sum()
    h2 = region.histograms["h2"]
    exp, _, _ = np.histogram2d(pt0[window], pt1[window], bins=10, range=[(0, 100), (0, 100)])
    np.testing.assert_array_equal(h2.values(), exp)


def test_cleaning_reducers_and_out_of_range(sample, result):
    _, _, data = sample
    muons, jets = _expected(data)
    sel = ak.to_numpy(ak.num(muons) >= 1)
    mu, je = muons[sel], jets[sel]
    pairs = ak.cartesian([je, mu], nested=True)
    dphi = (pairs["0"].phi - pairs["1"].phi + np.pi) % (2 * np.pi) - np.pi
    dr = np.sqrt((pairs["0"].eta - pairs["1"].eta) ** 2 + dphi**2)
    n_all = ak.to_numpy(ak.sum(ak.all(dr > 0.4, axis=2), axis=1))
    n_any = ak.to_numpy(ak.sum(ak.any(dr > 0.4, axis=2), axis=1))
    region = result.regions["cleaning"]
    np.testing.assert_array_equal(region.histograms["hnclean"].values(flow=True)[1:11],
                                  np.bincount(n_all, minlength=10)[:10])
    np.testing.assert_array_equal(region.histograms["hnany"].values(flow=True)[1:11],
                                  np.bincount(n_any, minlength=10)[:10])
    # inclusive slice [0:1] = jets 0 and 1; missing jets contribute nothing
    padded = ak.fill_none(ak.pad_none(je.pt, 2, clip=True), 0)
    ht01 = ak.to_numpy(ak.sum(ak.values_astype(padded, np.float64), axis=1))
    np.testing.assert_array_equal(region.histograms["hht01"].values(),
                                  np.histogram(ht01, bins=40, range=(0, 400))[0])
    # pT(jets[5]) reads 0 when there is no sixth jet
    pt5 = ak.to_numpy(ak.fill_none(ak.pad_none(je.pt, 6)[:, 5], 0)).astype(np.float64)
    np.testing.assert_array_equal(region.histograms["hj5"].values(),
                                  np.histogram(pt5, bins=10, range=(-5, 5))[0])


def test_chunking_and_jobs_do_not_change_results(sample, result, backend):
    from adlc.driver import run_analysis

    path, adl, _ = sample
    other = run_analysis(adl, [str(path)], schema="nanoaod", chunk_size=777, jobs=2,
                         backend=backend)
    for name, region in result.regions.items():
        theirs = other.regions[name]
        assert [c.sumw for c in region.cutflow] == pytest.approx([c.sumw for c in
                                                                  theirs.cutflow])
        for h in region.histograms:
            np.testing.assert_allclose(region.histograms[h].values(flow=True),
                                       theirs.histograms[h].values(flow=True))


def test_kernel_is_cached_on_disk(sample, result, backend):
    import os
    from pathlib import Path

    from adlc.driver import compile_analysis
    from adlc.runtime.execute import module_key

    _, adl, _ = sample
    _, gen = compile_analysis(adl, schema="nanoaod", backend=backend)
    cache = Path(os.environ["ADLC_CACHE_DIR"])
    assert (cache / f"adlc_kernel_{module_key(gen.source)}.py").exists()
    if backend == "numba":
        assert list((cache / "__pycache__").glob("*.nbi"))  # numba's index: no recompilation


def test_dump_code_and_ir(sample):
    from adlc.driver import dump

    _, adl, _ = sample
    code = dump(adl, stage="code")
    assert "@njit" in code and "def kernel(" in code
    ir = dump(adl, stage="ir")
    assert "region cleaning" in ir and "quant[any]" in ir
