"""Language features of issue 4 end to end (external functions, tables, COMB, `~=`, sort...)
on a small generated NanoAOD file; every expectation is computed here with numpy/awkward,
independently of adlc. One compiled analysis per feature, shared by its tests."""

from __future__ import annotations

import math
import os
import sys
import textwrap

import numpy as np
import pytest

ak = pytest.importorskip("awkward")
uproot = pytest.importorskip("uproot")
pytest.importorskip("numba")

N_EVENTS = 1500
MUON_MASS = 0.105658


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    from adlc.runtime.generate import generate

    os.environ["ADLC_CACHE_DIR"] = str(tmp_path_factory.getbasetemp() / "adlc-cache")
    d = tmp_path_factory.mktemp("features")
    path = d / "sample.root"
    generate(str(path), N_EVENTS, schema="nanoaod", seed=11)
    with uproot.open(path) as f:
        events = f["Events"].arrays(["Muon_pt", "Muon_eta", "Muon_phi", "Muon_charge",
                                     "Jet_pt", "Jet_eta", "Jet_phi", "Jet_mass",
                                     "MET_pt", "MET_phi"])
    return d, path, events


def run(sample, name: str, adl: str, **kw):
    from adlc.driver import run_analysis

    d, path, _ = sample
    file = d / f"{name}.adl"
    file.write_text(textwrap.dedent(adl))
    return run_analysis(file, [str(path)], schema="nanoaod", **kw)


def f64(x):
    return ak.values_astype(x, np.float64)


def p4(pt, eta, phi, m):
    pt, eta, phi, m = (f64(v) for v in (pt, eta, phi, m))
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    return px, py, pz, np.sqrt(px * px + py * py + pz * pz + m * m)


def hist_values(result, region, name, flow=False):
    return result.regions[region].histograms[name].values(flow=flow)


def raw_rows(result, region):
    return [c.raw for c in result.regions[region].cutflow]


# --- external functions (adlc.stdlib) --------------------------------------------------------

PLUGIN = '''\
from adlc.stdlib import FunctionSpec, register

register(FunctionSpec(name="fTestPtSum", params=("particle", "collection", "scalar"),
                      returns="scalar", impl="adlc_test_plugin:pt_sum"))


def pt_sum(apx, apy, apz, ae, px, py, pz, e, scale):
    total = (apx * apx + apy * apy) ** 0.5
    for i in range(len(px)):
        total += (px[i] * px[i] + py[i] * py[i]) ** 0.5
    return scale * total
'''

EXTERNAL = """\
object jets
  take Jet
  select pT(Jet) > 30

define ht = fHT(jets)
define mr = fMR(jets)
define mtr = fMTR(jets, METLV[0])
define plug = fTestPtSum(jets[0], jets, 0.5)

region ext
  select size(jets) >= 2
  histo hht, "HT", 200, 0, 2000, ht
  histo hmr, "MR", 200, 0, 2000, mr
  histo hmtr, "MTR", 200, 0, 500, mtr
  histo hplug, "plugin", 200, 0, 1000, plug
  select fMTauTau(jets[0], jets[1]) == fMTauTau(jets[0], jets[1], METLV[0])
"""


@pytest.fixture(scope="module")
def external(sample, backend):
    from adlc.stdlib import load_module_functions, unregister

    d, _, _ = sample
    plugin = d / "adlc_test_plugin.py"
    plugin.write_text(PLUGIN)
    load_module_functions(plugin)
    try:
        yield run(sample, "external", EXTERNAL, backend=backend)
    finally:
        unregister("fTestPtSum")
        sys.modules.pop("adlc_test_plugin", None)  # the next backend's run registers it again


def test_external_functions_follow_the_calling_convention(sample, external):
    _, _, ev = sample
    keep = ev.Jet_pt > 30
    pt, eta, phi, m = ev.Jet_pt[keep], ev.Jet_eta[keep], ev.Jet_phi[keep], ev.Jet_mass[keep]
    two = ak.to_numpy(ak.num(pt) >= 2)
    assert raw_rows(external, "ext")[:2] == [N_EVENTS, two.sum()]
    pt, eta, phi, m = pt[two], eta[two], phi[two], m[two]
    px, py, pz, e = p4(pt, eta, phi, m)
    ptd = np.sqrt(px * px + py * py)
    ht = ak.to_numpy(ak.sum(ptd, axis=1))
    np.testing.assert_array_equal(hist_values(external, "ext", "hht"),
                                  np.histogram(ht, 200, (0, 2000))[0])
    plug = 0.5 * (ak.to_numpy(ptd[:, 0]) + ht)
    np.testing.assert_array_equal(hist_values(external, "ext", "hplug"),
                                  np.histogram(plug, 200, (0, 1000))[0])
    # razor MR (gamma_R* MR*) and MTR of the two leading objects, CutLang's Razorfunc.h
    ax, ay, az = (ak.to_numpy(v[:, 0]) for v in (px, py, pz))
    bx, by, bz = (ak.to_numpy(v[:, 1]) for v in (px, py, pz))
    a, b = np.sqrt(ax**2 + ay**2 + az**2), np.sqrt(bx**2 + by**2 + bz**2)
    atbt = (ax + bx) ** 2 + (ay + by) ** 2
    diff = (bx**2 + by**2) - (ax**2 + ay**2)
    long2 = (a + b) ** 2 - (az + bz) ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        mr = np.sqrt(long2 - diff**2 / atbt) / np.sqrt(1 - diff**2 / (atbt * long2))
    np.testing.assert_array_equal(hist_values(external, "ext", "hmr", flow=True),
                                  _with_flow(mr, 200, 0, 2000))
    metx = f64(ev.MET_pt[two]) * np.cos(f64(ev.MET_phi[two]))
    mety = f64(ev.MET_pt[two]) * np.sin(f64(ev.MET_phi[two]))
    metx, mety = ak.to_numpy(metx), ak.to_numpy(mety)
    met = np.sqrt(metx**2 + mety**2)
    temp = met * (np.hypot(ax, ay) + np.hypot(bx, by)) - (metx * (ax + bx) + mety * (ay + by))
    mtr = np.sqrt(0.5 * temp)
    np.testing.assert_array_equal(hist_values(external, "ext", "hmtr", flow=True),
                                  _with_flow(mtr, 200, 0, 500))
    # an omitted optional argument takes the spec's default (METLV[0] for fMTauTau)
    assert raw_rows(external, "ext")[-1] == two.sum()


def _with_flow(x, nbins, lo, hi):
    x = np.asarray(x, dtype=np.float64)
    inside = np.histogram(x[(x >= lo) & (x < hi)], nbins, (lo, hi))[0]
    return np.concatenate([[np.sum(x < lo)], inside, [np.sum(~(x < hi) & ~(x < lo))]])


def test_unknown_external_function_is_an_error():
    from adlc.errors import AdlSemanticError
    from adlc.frontend.parser import parse
    from adlc.semantic.lower import lower

    src = "region r\n  select fNoSuchThing(MET) > 1\n"
    with pytest.raises(AdlSemanticError, match="fNoSuchThing"):
        lower(parse(src, "t.adl"), src)


# --- tables ----------------------------------------------------------------------------------

TABLES = """\
object muons
  take Muon
  select pT(Muon) > 5

table eff
  tabletype efficiency
  nvars 1
  errors false
  0.3    5.0   20.0
  0.6   20.0   40.0
  0.7   30.0   80.0

table sf
  tabletype scalefactor
  nvars 2
  errors true
  0.9  0.1  0.1    0.0   30.0   -3.0   0.0
  1.1  0.1  0.1    0.0   30.0    0.0   3.0
  1.3  0.2  0.2   30.0  1000.0 -3.0   3.0

region oneVar
  select size(muons) >= 1
  weight wEff eff(pT(muons[0]))
  histo hpt, "pT", 10, 0, 100, pT(muons[0])

region twoVars
  select size(muons) >= 1
  weight wSf sf(pT(muons[0]), eta(muons[0]))
"""


@pytest.fixture(scope="module")
def tables(sample, backend):
    return run(sample, "tables", TABLES, backend=backend)


def _lookup(rows, *values):
    """First row containing every value (inclusive), else 0; values as float32."""
    out = np.zeros(len(values[0]))
    done = np.zeros(len(values[0]), dtype=bool)
    for value, *ranges in rows:
        hit = ~done
        for i, v in enumerate(values):
            hit &= (ranges[2 * i] <= v) & (v <= ranges[2 * i + 1])
        out[hit] = float(np.float32(value))
        done |= hit
    return out


def test_table_weights_first_row_wins_and_outside_is_zero(sample, tables):
    _, _, ev = sample
    mu = ev.Muon_pt > 5
    pt, eta = ev.Muon_pt[mu], ev.Muon_eta[mu]
    has = ak.to_numpy(ak.num(pt) >= 1)
    pt0 = ak.to_numpy(f64(pt[has][:, 0]))
    eta0 = ak.to_numpy(f64(eta[has][:, 0]))
    w = _lookup([(0.3, 5, 20), (0.6, 20, 40), (0.7, 30, 80)], pt0)
    assert (w == 0).any() and ((pt0 > 30) & (pt0 <= 40)).any()  # both rules are exercised
    region = tables.regions["oneVar"]
    assert region.cutflow[-1].raw == has.sum()
    assert region.cutflow[-2].sumw == pytest.approx(w.sum(), rel=1e-12)
    np.testing.assert_allclose(hist_values(tables, "oneVar", "hpt"),
                               np.histogram(pt0, 10, (0, 100), weights=w)[0], rtol=1e-12)
    w2 = _lookup([(0.9, 0, 30, -3, 0), (1.1, 0, 30, 0, 3), (1.3, 30, 1000, -3, 3)], pt0, eta0)
    assert tables.regions["twoVars"].cutflow[-1].sumw == pytest.approx(w2.sum(), rel=1e-12)


# --- COMB objects and ~= placeholders ----------------------------------------------------------

COMBINATIONS = """\
object muons
  take Muon
  select pT(Muon) > 5

object pairs : COMB( muons[-1] muons[-2] ) alias aP
  select q(muons[-1]) + q(muons[-2]) == 0
  select m(aP) [] 20 200

define zc = muons[-1] muons[-1]
define third = muons[-2]
define lead = muons[-4]
define soft = muons[-5]

region comb
  select size(muons) >= 2
  histo hn, "pairs", 20, 0, 20, size(pairs)
  select size(pairs) >= 1
  histo hm, "m(pairs[0])", 90, 20, 200, m(pairs[0])
  histo hq, "q(pairs[0])", 5, -2.5, 2.5, q(pairs[0])

region closest
  select size(muons) >= 3
  select m(zc) + 1000 * abs(q(zc)) ~= 91.19
  histo hmz, "m(zc)", 100, 0, 400, m(zc)
  select pT(third) ~= 100000
  histo hpt3, "pT(third)", 100, 0, 200, pT(third)

region ordered
  select size(muons) >= 2
  select pT(lead) - pT(soft) ~= 100000
  histo hlead, "pT(lead)", 100, 0, 200, pT(lead)
  histo hsoft, "pT(soft)", 100, 0, 200, pT(soft)

region furthest
  select size(muons) >= 2
  select m(zc) ~! 91.19
  histo hmf, "m(zc)", 100, 0, 400, m(zc)

region unresolved
  select size(muons) == 1
  select m(zc) ~= 91.19
  histo hqz, "q(zc)", 10, 0, 1000000000, q(zc)
"""


@pytest.fixture(scope="module")
def combinations(sample, backend):
    return run(sample, "combinations", COMBINATIONS, backend=backend)


@pytest.fixture(scope="module")
def muon_events(sample):
    """Per event: list of (pt, px, py, pz, E, q) of the muons with pT > 5, in file order."""
    _, _, ev = sample
    out = []
    for pt, eta, phi, q in zip(ev.Muon_pt.tolist(), ev.Muon_eta.tolist(),
                               ev.Muon_phi.tolist(), ev.Muon_charge.tolist(), strict=True):
        mus = []
        for a, b, c, d in zip(pt, eta, phi, q, strict=True):
            if a > 5:
                px, py, pz = a * math.cos(c), a * math.sin(c), a * math.sinh(b)
                mus.append((a, px, py, pz, math.sqrt(px**2 + py**2 + pz**2 + MUON_MASS**2), d))
        out.append(mus)
    return out


def _mass(*mus):
    px, py, pz, e = (sum(m[i] for m in mus) for i in (1, 2, 3, 4))
    m2 = e * e - px * px - py * py - pz * pz
    return math.sqrt(m2) if m2 >= 0 else -math.sqrt(-m2)


def _first_best(candidates, key, larger=False):
    """The first candidate with the strictly smallest (largest) key; NaN never wins."""
    best, pick = None, None
    for c in candidates:
        k = key(c)
        if k != k:
            continue
        if best is None or (k > best if larger else k < best):
            best, pick = k, c
    return pick


def test_comb_builds_unordered_pairs_with_criteria(combinations, muon_events):
    n_pairs, first_m, first_q = [], [], []
    for mus in muon_events:
        if len(mus) < 2:
            continue
        pairs = [(a, b) for i, a in enumerate(mus) for b in mus[i + 1:]
                 if a[5] + b[5] == 0 and 20 <= _mass(a, b) <= 200]
        n_pairs.append(len(pairs))
        if pairs:
            first_m.append(_mass(*pairs[0]))
            first_q.append(pairs[0][0][5] + pairs[0][1][5])
    assert max(n_pairs) >= 2
    np.testing.assert_array_equal(hist_values(combinations, "comb", "hn", flow=True),
                                  _with_flow(n_pairs, 20, 0, 20))
    np.testing.assert_array_equal(hist_values(combinations, "comb", "hm", flow=True),
                                  _with_flow(first_m, 90, 20, 200))
    np.testing.assert_array_equal(hist_values(combinations, "comb", "hq", flow=True),
                                  _with_flow(first_q, 5, -2.5, 2.5))


def test_closest_choice_sticks_and_excludes_chosen_objects(combinations, muon_events):
    mz, pt3, n = [], [], 0
    for mus in muon_events:
        if len(mus) < 3:
            continue
        n += 1
        pairs = [(i, j) for i in range(len(mus)) for j in range(i + 1, len(mus))]
        i, j = _first_best(pairs, lambda p, mus=mus: abs(
            _mass(mus[p[0]], mus[p[1]]) + 1000 * abs(mus[p[0]][5] + mus[p[1]][5]) - 91.19))
        mz.append(_mass(mus[i], mus[j]))
        rest = [k for k in range(len(mus)) if k not in (i, j)]
        pt3.append(mus[_first_best(rest, lambda k, mus=mus: abs(mus[k][0] - 100000))][0])
    assert n > 10
    region = combinations.regions["closest"]
    assert [c.raw for c in region.cutflow[1:]] == [n] * 5  # the ~= rows always pass
    np.testing.assert_array_equal(hist_values(combinations, "closest", "hmz", flow=True),
                                  _with_flow(mz, 100, 0, 400))
    np.testing.assert_array_equal(hist_values(combinations, "closest", "hpt3", flow=True),
                                  _with_flow(pt3, 100, 0, 200))


def test_distinct_placeholders_are_ordered_permutations(combinations, muon_events):
    lead = [max(m[0] for m in mus) for mus in muon_events if len(mus) >= 2]
    soft = [min(m[0] for m in mus) for mus in muon_events if len(mus) >= 2]
    np.testing.assert_array_equal(hist_values(combinations, "ordered", "hlead", flow=True),
                                  _with_flow(lead, 100, 0, 200))
    np.testing.assert_array_equal(hist_values(combinations, "ordered", "hsoft", flow=True),
                                  _with_flow(soft, 100, 0, 200))


def test_furthest_and_unresolved_placeholders(combinations, muon_events):
    far = []
    for mus in muon_events:
        if len(mus) >= 2:
            pairs = [(a, b) for i, a in enumerate(mus) for b in mus[i + 1:]]
            far.append(_mass(*_first_best(pairs, lambda p: abs(_mass(*p) - 91.19),
                                          larger=True)))
    np.testing.assert_array_equal(hist_values(combinations, "furthest", "hmf", flow=True),
                                  _with_flow(far, 100, 0, 400))
    # no pair: the placeholders stay unresolved and read 98765432.1 (q of the pair = 2x)
    alone = sum(len(mus) == 1 for mus in muon_events)
    expected = np.zeros(12)
    expected[1 + int(2 * 98765432.1 // 1e8)] = alone
    np.testing.assert_array_equal(hist_values(combinations, "unresolved", "hqz", flow=True),
                                  expected)


def test_furthest_in_cutlang_compat_keeps_the_last_tuple(sample, muon_events, backend):
    result = run(sample, "furthest_compat", backend=backend, adl="""\
        object muons
          take Muon
          select pT(Muon) > 5

        define zc = muons[-1] muons[-1]

        region furthest
          select size(muons) >= 2
          select m(zc) ~! 91.19
          histo hmf, "m(zc)", 100, 0, 400, m(zc)
        """, cutlang_compat=True)
    last = [_mass(mus[-2], mus[-1]) for mus in muon_events if len(mus) >= 2]
    np.testing.assert_array_equal(hist_values(result, "furthest", "hmf", flow=True),
                                  _with_flow(last, 100, 0, 400))


# --- sort --------------------------------------------------------------------------------------

SORT = """\
object jets
  take Jet
  select pT(Jet) > 30

region before
  select size(jets) >= 2
  histo hfirst, "jets[0] pT", 100, 0, 500, pT(jets[0])

region sorting
  select size(jets) >= 2
  sort pT(jets) ascend
  histo hasc, "jets[0] pT", 100, 0, 500, pT(jets[0])
  select pT(jets[0]) <= pT(jets[1])
  sort m(jets) descend
  histo hmass, "jets[0] m", 100, 0, 100, m(jets[0])
  select m(jets[0]) >= m(jets[1])

region after
  select size(jets) >= 2
  histo hlater, "jets[0] pT", 100, 0, 500, pT(jets[0])
"""


@pytest.fixture(scope="module")
def sorting(sample, backend):
    return (run(sample, "sorting", SORT, backend=backend),
            run(sample, "sorting", SORT, cutlang_compat=True, backend=backend))


def test_sort_changes_indexing_for_later_commands_of_the_region_only(sample, sorting):
    result, compat = sorting
    _, _, ev = sample
    keep = ev.Jet_pt > 30
    pt, mass = ev.Jet_pt[keep], ev.Jet_mass[keep]
    two = ak.to_numpy(ak.num(pt) >= 2)
    pt, mass = pt[two], mass[two]
    first = ak.to_numpy(f64(pt[:, 0]))
    lowest = ak.to_numpy(f64(ak.min(pt, axis=1)))
    heaviest = ak.to_numpy(f64(ak.max(mass, axis=1)))
    pt_of_heaviest = ak.to_numpy(f64(pt[ak.argmax(mass, axis=1, keepdims=True)][:, 0]))
    assert (first != lowest).any()
    rows = [c.raw for c in result.regions["sorting"].cutflow]
    assert rows == [N_EVENTS] + [two.sum()] * 7  # both sorted orders hold in every event
    np.testing.assert_array_equal(hist_values(result, "sorting", "hasc", flow=True),
                                  _with_flow(lowest, 100, 0, 500))
    np.testing.assert_array_equal(hist_values(result, "sorting", "hmass", flow=True),
                                  _with_flow(heaviest, 100, 0, 100))
    for region, name in (("before", "hfirst"), ("after", "hlater")):
        np.testing.assert_array_equal(hist_values(result, region, name, flow=True),
                                      _with_flow(first, 100, 0, 500))
    # CutLang's sort mutates the shared object: later regions see the last order (quirk 24)
    np.testing.assert_array_equal(hist_values(compat, "before", "hfirst", flow=True),
                                  _with_flow(first, 100, 0, 500))
    np.testing.assert_array_equal(hist_values(compat, "after", "hlater", flow=True),
                                  _with_flow(pt_of_heaviest, 100, 0, 500))
