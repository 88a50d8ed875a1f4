"""More of the CutLang dialect end to end: event quantities from the schema (runNo, eventNo),
`METLV_0`, `sum(coll)` as a four-vector, `a + b` of collections, `dPhi` of two angles and
`applyHM` hit and miss. Expectations are computed here with numpy/awkward (and, for applyHM,
a pure-Python copy of the documented generator), independently of adlc. Every test runs on
the numba and the numpy backend (the `backend` fixture of conftest.py)."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from backend_helpers import generated_sample, rows

ak = pytest.importorskip("awkward")
uproot = pytest.importorskip("uproot")
pytest.importorskip("numba")

N_EVENTS = 1200
MASK = (1 << 64) - 1


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return generated_sample(tmp_path_factory, "more", N_EVENTS, "nanoaod", seed=5,
                            branches=["run", "event", "Jet_pt", "Jet_eta", "Jet_phi",
                                      "Jet_mass", "nMuon", "nElectron", "MET_pt", "MET_phi"])


def run(sample, backend: str, name: str, adl: str, **kw):
    from adlc.driver import run_analysis

    d, path, _ = sample
    file = d / f"{name}-{backend}.adl"
    file.write_text(textwrap.dedent(adl).lstrip("\n"))
    return run_analysis(file, [str(path)], schema="nanoaod", backend=backend, **kw), file


def f64(x):
    return ak.values_astype(x, np.float64)


def test_event_numbers_come_from_the_schema(sample, backend):
    _, _, ev = sample
    result, _ = run(sample, backend, "evq", """
        region r
          select eventNo > 60003000
          select runNo == 194711
        """)
    event, run_no = np.asarray(ev["event"]), np.asarray(ev["run"])
    passed = event > 60003000
    assert rows(result, "r") == [N_EVENTS, int(passed.sum()),
                                 int((passed & (run_no == 194711)).sum())]


def test_metsig_needs_a_branch_the_file_has(sample, backend):
    from adlc.errors import AdlError

    with pytest.raises(AdlError, match="MET_significance"):
        run(sample, backend, "metsig", """
            region r
              select MetSig > 2
            """)


def test_old_index_of_metlv_is_the_met_vector(sample, backend):
    _, _, ev = sample
    result, _ = run(sample, backend, "metlv0", """
        region r
          select size(Jet) >= 1
          select dPhi(Jet_0, METLV_0) > 1.0
          select {METLV_0}phi > 0
        """)
    has = np.asarray(ak.num(ev["Jet_pt"]) >= 1)
    jphi = np.asarray(f64(ak.firsts(ev["Jet_phi"][has])))
    mphi = np.asarray(f64(ev["MET_phi"][has]))
    dphi = np.abs((np.asarray(jphi) - np.asarray(mphi) + np.pi) % (2 * np.pi) - np.pi)
    second = dphi > 1.0
    third = second & (np.asarray(mphi) > 0)
    assert rows(result, "r") == [N_EVENTS, int(has.sum()), int(second.sum()), int(third.sum())]


def test_sum_of_a_collection_is_its_vector_sum(sample, backend):
    _, _, ev = sample
    result, _ = run(sample, backend, "mht", """
        object jets
          take Jet
          select pT(Jet) > 30
        define MHLV = sum(jets)
        define MHLVneg = -sum(jets)
        region r
          select pT(MHLV) > 40
          select phi(MHLVneg) > 0
        """)
    sel = ev["Jet_pt"] > 30
    pt, phi = f64(ev["Jet_pt"][sel]), f64(ev["Jet_phi"][sel])
    px, py = np.asarray(ak.sum(pt * np.cos(phi), axis=1)), np.asarray(ak.sum(pt * np.sin(phi),
                                                                            axis=1))
    mht = np.hypot(px, py)
    first = mht > 40
    # phi of the negated sum; an empty sum has phi 0 (TLorentzVector) and fails `> 0`
    second = first & (np.arctan2(-py, -px) > 0) & (mht > 0)
    assert rows(result, "r") == [N_EVENTS, int(first.sum()), int(second.sum())]


def test_plus_of_two_collections_is_their_union(sample, backend):
    _, _, ev = sample
    result, _ = run(sample, backend, "plus", """
        object eles
          take Electron
        object mus
          take Muon
        object leps : eles + mus
        region r
          select size(leps) >= 2
        """)
    n = np.asarray(ev["nMuon"]) + np.asarray(ev["nElectron"])
    assert rows(result, "r") == [N_EVENTS, int((n >= 2).sum())]


def test_dphi_of_two_angles(sample, backend):
    _, _, ev = sample
    result, _ = run(sample, backend, "dphiang", """
        object jets
          take Jet j
          reject dPhi(j.phi, MET.phi) < 0.5
        region r
          select size(jets) >= 1
        """)
    d = np.abs((f64(ev["Jet_phi"]) - f64(ev["MET_phi"]) + np.pi) % (2 * np.pi) - np.pi)
    kept = ak.sum(~(d < 0.5), axis=1)
    assert rows(result, "r") == [N_EVENTS, int(np.sum(np.asarray(kept) >= 1))]


# --- applyHM ----------------------------------------------------------------------------

def _mix64(x: int) -> int:
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def reference_uniform(run_no: int, event: int, index: int, site: int) -> float:
    """The generator as docs/cutlang-differences.md describes it, in plain Python integers."""
    x = 0
    for v in (run_no, event, index + 1, site):
        x = _mix64((x + 0x9E3779B97F4A7C15 + (v & MASK)) & MASK)
    return (x >> 11) / 2.0**53


def call_site(file, needle: str) -> int:
    """line * 4096 + column (both from 1) of the first `needle` in the file."""
    for n, line in enumerate(file.read_text().splitlines(), start=1):
        if needle in line:
            return n * 4096 + line.index(needle) + 1
    raise AssertionError(needle)


HM_ADL = """
    table eff
    tabletype efficiency
    nvars 1
    errors false
    0.35  0  60
    0.8   60  100000
    object hits
      take Jet
      select applyHM(eff(pT(Jet)) == 1)
    object misses
      take Jet
      select applyHM(eff(pT(Jet)) == 0)
    region objects
      select size(hits) >= 2
    region complement
      select size(misses) >= 2
    region events
      select applyHM(eff(MET) == 1)
    """


def test_apply_hm_matches_the_documented_generator(sample, backend):
    _, _, ev = sample
    result, file = run(sample, backend, "hm", HM_ADL)
    site_obj = call_site(file, "applyHM(eff(pT(Jet)) == 1)")
    site_mis = call_site(file, "applyHM(eff(pT(Jet)) == 0)")
    site_ev = call_site(file, "applyHM(eff(MET) == 1)")

    def eff(x: float) -> float:
        x = float(np.float32(x))
        return 0.35 if 0 <= x <= 60 else 0.8 if x <= 100000 else 0.0

    n_hits = n_misses = n_ev = 0
    for run_no, event, pts, met in zip(ev["run"].tolist(), ev["event"].tolist(),
                                       ev["Jet_pt"].tolist(), ev["MET_pt"].tolist(),
                                       strict=True):
        hits = sum(reference_uniform(run_no, event, i, site_obj) < eff(p)
                   for i, p in enumerate(pts))
        misses = sum(not reference_uniform(run_no, event, i, site_mis) < eff(p)
                     for i, p in enumerate(pts))
        n_hits += hits >= 2
        n_misses += misses >= 2
        n_ev += reference_uniform(run_no, event, -1, site_ev) < eff(met)
    assert rows(result, "objects") == [N_EVENTS, n_hits]
    assert rows(result, "complement") == [N_EVENTS, n_misses]
    assert rows(result, "events") == [N_EVENTS, n_ev]
    # and it is a fair coin: about 35% / 80% of the jets are kept
    assert 0.2 * N_EVENTS < n_ev < 0.9 * N_EVENTS


def test_apply_hm_does_not_depend_on_chunking(sample, backend):
    one, _ = run(sample, backend, "hm", HM_ADL)
    chunked, _ = run(sample, backend, "hm", HM_ADL, chunk_size=97, jobs=2)
    for region in ("objects", "complement", "events"):
        assert rows(one, region) == rows(chunked, region)


def test_apply_hm_needs_a_comparison_with_0_or_1(sample, backend):
    from adlc.errors import AdlError

    with pytest.raises(AdlError, match="E244"):
        run(sample, backend, "hmbad", """
            object hits
              take Jet
              select applyHM(0.5 > 1)
            region r
              select size(hits) >= 1
            """)


# --- an external function that makes a collection ----------------------------------------

def brute_force_megajets(p4s):
    """The split of the objects into two non-empty groups with the smallest m1^2 + m2^2,
    by trying every subset; the group with the larger pT first."""
    n = len(p4s)
    best, pair = None, None
    for mask in range(1, (1 << n) - 1):
        groups = [np.zeros(4), np.zeros(4)]
        for k in range(n):
            groups[(mask >> k) & 1] += p4s[k]
        m2 = sum(g[3] ** 2 - g[0] ** 2 - g[1] ** 2 - g[2] ** 2 for g in groups)
        if best is None or m2 < best - 1e-9:
            best, pair = m2, groups
    return sorted(pair, key=lambda g: -np.hypot(g[0], g[1]))


MEGAJETS_AS_OBJECT = """
    object jets
      take Jet
      select pT(Jet) > 30
    object megajets
      take fmegajets(jets)
    region r
      select size(megajets) == 2
      select pT(megajets[0]) > 80
      select m(megajets[1]) > 10
    """

# CutLang's form in a region: the result replaces the input collection from there on
MEGAJETS_IN_REGION = """
    object jets
      take Jet
      select pT(Jet) > 30
    region r
      select fmegajets(jets) == 2
      select pT(jets[0]) > 80
      select m(jets[1]) > 10
    """


@pytest.mark.parametrize("adl", [MEGAJETS_AS_OBJECT, MEGAJETS_IN_REGION],
                         ids=["object", "region"])
def test_megajets(sample, backend, adl):
    _, _, ev = sample
    result, _ = run(sample, backend, "megajets", adl)
    expected = [N_EVENTS, 0, 0, 0]
    for pts, etas, phis, ms in zip(*(ev[f"Jet_{a}"].tolist() for a in ("pt", "eta", "phi",
                                                                          "mass")), strict=True):
        p4s = []
        for pt, eta, phi, m in zip(pts, etas, phis, ms, strict=True):
            pt, eta, phi, m = (float(np.float32(x)) for x in (pt, eta, phi, m))
            if pt > 30:
                px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
                p4s.append(np.array([px, py, pz, np.sqrt(px * px + py * py + pz * pz + m * m)]))
        if len(p4s) < 2:
            continue
        expected[1] += 1
        j1, j2 = brute_force_megajets(p4s)
        if np.hypot(j1[0], j1[1]) > 80:
            expected[2] += 1
            expected[3] += np.sqrt(max(j2[3] ** 2 - j2[0] ** 2 - j2[1] ** 2 - j2[2] ** 2,
                                       0.0)) > 10
    assert rows(result, "r") == expected


def test_save_without_values_lists_the_events(sample, backend):
    _, _, ev = sample
    result, _ = run(sample, backend, "evlist", """
        region r
          select MET > 50
          save passing
        """, chunk_size=300)
    (table,) = result.tables
    assert (table.name, table.kind, list(table.columns)) == ("passing", "save",
                                                            ["runNo", "lbNo", "eventNo"])
    sel = np.asarray(ev["MET_pt"]) > 50
    assert np.asarray(table.rows)[:, 2].tolist() == np.asarray(ev["event"])[sel].tolist()
    assert np.asarray(table.rows)[:, 0].tolist() == np.asarray(ev["run"])[sel].tolist()


def test_apply_ptf_and_scale_e_rescale_the_candidates(sample, backend):
    _, _, ev = sample
    result, _ = run(sample, backend, "rescale", """
        table jes
        tabletype efficiency
        nvars 1
        errors false
        1.2  0  50
        1.05 50 100000
        object jets
          take Jet
          select applyPTF(jes(pT(Jet)))
          select pT(Jet) > 30
        object jetsE
          take Jet
          select abs(eta(Jet)) < 2
          select scaleE(0.9)
          select m(Jet) > 5
        region r
          select size(jets) >= 2
          select pT(jets[0]) > 60
        region e
          select size(jetsE) >= 1
          select E(jetsE[0]) > 60
        """)
    pt, eta, phi, m = (f64(ev[f"Jet_{a}"]) for a in ("pt", "eta", "phi", "mass"))
    pt32 = ak.values_astype(ev["Jet_pt"], np.float32)
    factor = ak.where(pt32 <= 50, 1.2, 1.05)  # the table: first matching row, edges inclusive
    scaled = pt * factor
    jets = scaled[scaled > 30]
    two = np.asarray(ak.num(jets) >= 2)
    lead = np.asarray(ak.fill_none(ak.firsts(jets), 0.0))
    assert rows(result, "r") == [N_EVENTS, int(two.sum()), int((two & (lead > 60)).sum())]

    keep = (np.abs(eta) < 2) & (m * 0.9 > 5)
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    energy = 0.9 * np.sqrt(px * px + py * py + pz * pz + m * m)
    first_e = np.asarray(ak.fill_none(ak.firsts(energy[keep]), 0.0))
    one = np.asarray(ak.num(energy[keep]) >= 1)
    assert rows(result, "e") == [N_EVENTS, int(one.sum()), int((one & (first_e > 60)).sum())]


def test_object_made_of_the_negative_vector_sum(sample, backend):
    """CMS-SUS-19-006 builds MHT as an object: `take jetsmht` + `select sum(-jetsmht) > 0`."""
    _, _, ev = sample
    result, _ = run(sample, backend, "mhtobj", """
        object jetsmht
          take Jet
          select pT(Jet) > 30
        object MHTLVobj
          take jetsmht
          select sum(-jetsmht) > 0
        object hemis
          take jetsmht
          select fhemisphere(jetsmht, 2, 3) == 2
        define MHTLV = MHTLVobj[0]
        region r
          select size(MHTLVobj) >= 1
          select pT(MHTLV) > 50
          select phi(MHTLV) > 0
        region h
          select size(hemis) == 2
        """)
    sel = ev["Jet_pt"] > 30
    pt, phi = f64(ev["Jet_pt"][sel]), f64(ev["Jet_phi"][sel])
    px = -np.asarray(ak.sum(pt * np.cos(phi), axis=1))
    py = -np.asarray(ak.sum(pt * np.sin(phi), axis=1))
    mht = np.hypot(px, py)
    one = np.ones(N_EVENTS, bool)  # the comparison is not applied: always one candidate
    two = one & (mht > 50)
    assert rows(result, "r") == [N_EVENTS, int(one.sum()), int(two.sum()),
                                 int((two & (np.arctan2(py, px) > 0)).sum())]
    # the hemispheres object holds min(n, 2) objects, n the jets it was made from
    n = np.asarray(ak.num(ev["Jet_pt"][sel]))
    assert rows(result, "h") == [N_EVENTS, int((n >= 2).sum())]


def test_per_candidate_define_in_an_object(sample, backend):
    """learn-adl: an indented `define` is an attribute of each candidate, usable by the
    object's later lines and, from outside, as `ptsq(goodjets[0])` / `goodjets[1].ptsq`."""
    _, _, ev = sample
    result, _ = run(sample, backend, "attrdef", """
        object goodjets
          take Jet
          define ptsq = pt * pt
          select ptsq > 900
        region r
          select size(goodjets) > 1
          select ptsq(goodjets[0]) > 2500
          select goodjets[1].ptsq > 1600
        """)
    pt = f64(ev["Jet_pt"])
    good = pt[pt * pt > 900]
    two = np.asarray(ak.num(good) > 1)
    padded = ak.fill_none(ak.pad_none(good, 2), 0.0)
    first = np.asarray(padded[:, 0]) ** 2 > 2500
    second = np.asarray(padded[:, 1]) ** 2 > 1600
    assert rows(result, "r") == [N_EVENTS, int(two.sum()), int((two & first).sum()),
                                 int((two & first & second).sum())]


def test_met_is_the_branch_and_cutlang_compat_takes_the_vector_length(sample, backend):
    """By default MET is MET_pt as it is; with --cutlang-compat it is the length of the
    (pt cos phi, pt sin phi) vector CutLang builds, which differs from MET_pt in the last bit
    for some events. Both are checked value for value through `save ... csv MET`."""
    _, _, ev = sample
    adl = """
        region r
          select MET > 0
          save mets csv MET
        """
    pt, phi = np.asarray(ev["MET_pt"], np.float64), np.asarray(ev["MET_phi"], np.float64)
    vector_length = np.sqrt((pt * np.cos(phi)) ** 2 + (pt * np.sin(phi)) ** 2)
    assert (vector_length != pt).any()  # the sample tells the two definitions apart
    for compat, expected in ((False, pt), (True, vector_length)):
        result, _ = run(sample, backend, f"met{int(compat)}", adl, cutlang_compat=compat)
        (table,) = result.tables
        assert np.asarray(table.rows)[:, 0].tolist() == expected[expected > 0].tolist()
