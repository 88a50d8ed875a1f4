"""Forms from public CutLang-dialect files that adlc used to reject: `~=` lines inside a COMB
object with `daughters()` (the CMS open-data H→ττ analysis), CutLang's underscore-less branch
tokens (`relIsoall`, `pfRelIso03all`), `Cross`/`Dot`, the one-argument `fhemisphere`, tables
with `errors true` and quoted branch names. Expectations are computed here with numpy/awkward
or plain Python, independently of adlc; every test runs on the numba and the numpy backend
(the `backend` fixture of conftest.py)."""

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
    """Run2012-like events: muons and taus (with relIso_all), jets, MET."""
    return generated_sample(tmp_path_factory, "corpus_forms", N_EVENTS, "run2012", seed=11)


def run(sample, backend: str, name: str, adl: str, **kw):
    from adlc.driver import run_analysis

    d, path, _ = sample
    file = d / f"{name}-{backend}.adl"
    file.write_text(textwrap.dedent(adl).lstrip("\n"))
    return run_analysis(file, [str(path)], schema="run2012", backend=backend, **kw)



def delta_r(eta1, phi1, eta2, phi2):
    dphi = (phi1 - phi2 + math.pi) % (2 * math.pi) - math.pi
    return math.hypot(eta1 - eta2, dphi)


# --- ~= inside a COMB object, daughters() ------------------------------------------------------

HTAUTAU = """
    object goodMuons
      take Muon
      select pt(Muon) > 8
    object goodTaus
      take Tau
      select pt(Tau) > 8
      select relIsoall(Tau) >= 0
    object HMuTaus : comb( goodMuons[-1] goodTaus[-2] ) alias aHMuTaus
      select { goodMuons[-1], goodTaus[-2] }dR > 0.5
      select max(pT(goodMuons)) - pT(goodMuons[-1]) ~= 0
      select min(relIsoall(goodTaus)) - relIsoall(goodTaus[-2]) ~= 0
    define bestMu = daughters(HMuTaus[0], goodMuons[-1])
    define bestTau = daughters(HMuTaus[0], goodTaus[-2])
    region all
      select ALL
      histo hmupt0, "mu pT, 0 without a pair", 50, 0, 100, pT(bestMu)
    region pairs
      select size(HMuTaus) > 0
      histo hn, "pairs", 5, 0, 5, size(HMuTaus)
      histo hmupt, "mu pT", 50, 0, 100, pT(bestMu)
      histo htaupt, "tau pT", 50, 0, 100, pT(bestTau)
      histo htauiso, "tau iso", 50, 0, 2, relIsoall(bestTau)
      histo hmuiso, "mu iso", 50, 0, 2, pfRelIso03all(bestMu)
    """


def htautau_expected(ev):
    """Per event: the (muon, tau) pairs CutLang keeps, in tuple order (muon index first).
    Each ~= line of a COMB block is CutLang's exact test value == target on the tuple."""
    out = []
    for k in range(len(ev)):
        mu = [i for i, pt in enumerate(ev["Muon_pt"][k]) if pt > 8]
        taus = zip(ev["Tau_pt"][k], ev["Tau_relIso_all"][k], strict=True)
        ta = [j for j, (pt, iso) in enumerate(taus) if pt > 8 and iso >= 0]  # iso not NaN
        pairs = []
        if mu and ta:
            top = max(float(ev["Muon_pt"][k][i]) for i in mu)
            best_iso = min(float(ev["Tau_relIso_all"][k][j]) for j in ta)
            for i in mu:
                for j in ta:
                    dr = delta_r(float(ev["Muon_eta"][k][i]), float(ev["Muon_phi"][k][i]),
                                 float(ev["Tau_eta"][k][j]), float(ev["Tau_phi"][k][j]))
                    if (dr > 0.5 and top - float(ev["Muon_pt"][k][i]) == 0
                            and best_iso - float(ev["Tau_relIso_all"][k][j]) == 0):
                        pairs.append((i, j))
        out.append(pairs)
    return out


def test_optimise_lines_in_a_comb_keep_the_best_pairs(sample, backend):
    _, _, ev = sample
    pairs = htautau_expected(ev)
    first = [(k, p[0]) for k, p in enumerate(pairs) if p]
    assert 20 < len(first) < N_EVENTS  # the sample exercises both outcomes
    result = run(sample, backend, "htautau", HTAUTAU)
    assert rows(result, "pairs")[:2] == [N_EVENTS, len(first)]
    assert hist(result, "pairs", "hn").tolist() == fill(
        [len(p) for p in pairs if p], 5, 0, 5).tolist()
    mu_pt = [float(ev["Muon_pt"][k][i]) for k, (i, _) in first]
    tau_pt = [float(ev["Tau_pt"][k][j]) for k, (_, j) in first]
    tau_iso = [float(ev["Tau_relIso_all"][k][j]) for k, (_, j) in first]
    mu_iso = [float(ev["Muon_pfRelIso03_all"][k][i]) for k, (i, _) in first]
    assert hist(result, "pairs", "hmupt").tolist() == fill(mu_pt, 50, 0, 100).tolist()
    assert hist(result, "pairs", "htaupt").tolist() == fill(tau_pt, 50, 0, 100).tolist()
    assert hist(result, "pairs", "htauiso").tolist() == fill(tau_iso, 50, 0, 2).tolist()
    assert hist(result, "pairs", "hmuiso").tolist() == fill(mu_iso, 50, 0, 2).tolist()
    # without a pair, HMuTaus[0] is out of range and its daughter's attributes read 0
    all_pt = [float(ev["Muon_pt"][k][p[0][0]]) if p else 0.0 for k, p in enumerate(pairs)]
    assert hist(result, "all", "hmupt0").tolist() == fill(all_pt, 50, 0, 100).tolist()


def test_daughters_needs_a_comb_candidate_and_its_placeholder(sample, backend):
    from adlc.errors import AdlError

    with pytest.raises(AdlError, match=r"daughters\(\) takes a COMB candidate"):
        run(sample, backend, "daughters_bad", """
            object goodMuons
              take Muon
              select pt(Muon) > 8
            object pairs : comb( goodMuons[-1] goodMuons[-2] ) alias aPair
              select q(goodMuons[-1]) != q(goodMuons[-2])
            define bad = daughters(pairs[0], Jet[-1])
            region r
              select pT(bad) > 0
            """)


# --- fhemisphere with one argument -----------------------------------------------------------

def test_one_argument_fhemisphere_names_the_cutlang_form(sample, backend):
    from adlc.errors import AdlError

    with pytest.raises(AdlError, match=r"fhemisphere\(JET, 2, 3\)"):
        run(sample, backend, "hemi1", """
            object hemis
              take JET
              select fhemisphere(JET) == 2
            region r
              select size(hemis) == 2
            """)


# --- Cross and Dot ---------------------------------------------------------------------------

def three_momentum(pt, eta, phi):
    pt, eta, phi = float(pt), float(eta), float(phi)
    return pt * math.cos(phi), pt * math.sin(phi), pt * math.sinh(eta)


def test_cross_and_dot_of_three_momenta(sample, backend):
    _, _, ev = sample
    result = run(sample, backend, "crossdot", """
        define axb = Cross(Muon[0], Jet[0])
        define ptrel = axb / P(Jet[0])
        define adotb : Dot(Muon[0], Jet[0])
        region r
          select size(Muon) >= 1
          select size(Jet) >= 1
          save vals csv axb, ptrel, adotb
        """)
    want = []
    for k in range(len(ev)):
        if len(ev["Muon_pt"][k]) and len(ev["Jet_pt"][k]):
            a = three_momentum(ev["Muon_pt"][k][0], ev["Muon_eta"][k][0], ev["Muon_phi"][k][0])
            b = three_momentum(ev["Jet_pt"][k][0], ev["Jet_eta"][k][0], ev["Jet_phi"][k][0])
            cross = np.cross(a, b)
            norm = float(np.sqrt(cross @ cross))
            want.append((norm, norm / float(np.sqrt(np.dot(b, b))), float(np.dot(a, b))))
    (table,) = result.tables
    assert len(want) > 100
    np.testing.assert_allclose(np.asarray(table.rows), np.asarray(want), rtol=1e-9, atol=1e-9)


# --- tables whose rows disagree with their nvars line --------------------------------------------

def test_table_rows_decide_the_number_of_variables(sample, backend):
    _, _, ev = sample
    result = run(sample, backend, "tablevars", """
        table btagMedium
          tabletype efficiency
          nvars 1
          errors true
          0.1   0.01  0.02      20.0   50.0      -5.5    0.0
          0.1   0.01  0.02      20.0   50.0       0.0    5.5
          0.4   0.04  0.03      50.0   7000.0    -5.5    0.0
          0.75  0.07  0.09      50.0   7000.0     0.0    5.5
        region r
          select size(Jet) >= 1
          weight wb btagMedium(pT(Jet[0]), eta(Jet[0]))
        """)
    rows = [(0.1, 20.0, 50.0, -5.5, 0.0), (0.1, 20.0, 50.0, 0.0, 5.5),
            (0.4, 50.0, 7000.0, -5.5, 0.0), (0.75, 50.0, 7000.0, 0.0, 5.5)]
    total = 0.0
    for k in range(len(ev)):
        if not len(ev["Jet_pt"][k]):
            continue
        pt, eta = float(ev["Jet_pt"][k][0]), float(ev["Jet_eta"][k][0])
        # the first row containing both values (edges inclusive), float32 values; else 0
        total += next((float(np.float32(v)) for v, lo, hi, elo, ehi in rows
                       if lo <= pt <= hi and elo <= eta <= ehi), 0.0)
    assert result.regions["r"].cutflow[-1].sumw == pytest.approx(total, rel=1e-12)
    from adlc.semantic.check import check_file

    d, _, _ = sample
    diagnostics, _ = check_file(str(d / f"tablevars-{backend}.adl"))
    assert [(x.code, x.severity) for x in diagnostics] == [("W515", "warning")]
    assert "nvars 2" in diagnostics[0].hint


# --- `select SORT ...` and quoted branch names (older CutLang spellings) -------------------------

def test_select_sort_is_a_sort(sample, backend):
    _, _, ev = sample
    result = run(sample, backend, "selectsort", """
        region r
          select size(Jet) >= 1
          select SORT pT(Jet) ascend
          histo hlow, "lowest jet pT", 50, 0, 100, pT(Jet[0])
          sort pT(Jet) descend
          histo hhigh, "highest jet pT", 50, 0, 100, pT(Jet[0])
        """)
    jets = [np.asarray(p, dtype=np.float64) for p in ev["Jet_pt"] if len(p)]
    assert hist(result, "r", "hlow").tolist() == fill([p.min() for p in jets], 50, 0,
                                                       100).tolist()
    assert hist(result, "r", "hhigh").tolist() == fill([p.max() for p in jets], 50, 0,
                                                        100).tolist()


def test_quoted_name_reads_that_exact_branch(sample, backend):
    _, _, ev = sample
    result = run(sample, backend, "quoted", """
        object isoMuons
          using Muon
          select "Muon_pfRelIso03_all"( Muon ) < 0.2
        region r
          select size(isoMuons) >= 1
          select "Muon_pfRelIso03_all"(isoMuons[0]) >= 0
        """)
    iso = [np.asarray(x, dtype=np.float64) for x in ev["Muon_pfRelIso03_all"]]
    with_iso = [x[x < 0.2] for x in iso]
    assert rows(result, "r") == [N_EVENTS, sum(len(x) >= 1 for x in with_iso),
                                 sum(len(x) >= 1 and x[0] >= 0 for x in with_iso)]


def test_quoted_name_is_not_given_the_collection_prefix(sample, backend):
    from adlc.errors import AdlError

    with pytest.raises(AdlError, match=r"no branch 'mu_phi'"):
        run(sample, backend, "quoted_missing", """
            region r
              select size(Muon) >= 1
              select "mu_phi"(Muon[0]) >= 0
            """)
