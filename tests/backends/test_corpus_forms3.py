"""More forms from public ADL files: `select c ? print ... : all` (CutLang runs/E62dbg.adl), a
slice inside ADD (runs/draftexamples/exAddVec.adl), adl2tnm's particle-as-number (TNMObject's
`operator double()` is its pT: CMS-SUS-16-033/-043_Delphes), and the columns a COMB object
reads. Expectations are computed here with uproot/numpy from the generated input,
independently of adlc; every run test goes over the numba and the numpy backend (the
`backend` fixture of conftest.py), and the print test over the CuPy backend's generated code
run with numpy as its array module."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pytest
from backend_helpers import generated_sample, rows

uproot = pytest.importorskip("uproot")
pytest.importorskip("numba")

N_EVENTS = 2000
MUON_MASS = 0.105658  # CutLang's fixed muon mass (ADL.md; adlc.runtime.schemas)


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return generated_sample(tmp_path_factory, "corpus_forms3", N_EVENTS, "nanoaod", seed=23,
                            branches=["event", "Jet_pt", "Jet_eta", "Jet_phi", "Jet_mass",
                                      "Muon_pt", "Muon_eta", "Muon_phi"])


def write(sample, name: str, adl: str):
    d, _, _ = sample
    file = d / f"{name}.adl"
    file.write_text(textwrap.dedent(adl).lstrip("\n"))
    return file


def run(sample, backend: str, name: str, adl: str):
    from adlc.driver import run_analysis

    file = write(sample, f"{name}-{backend}", adl)
    return run_analysis(file, [str(sample[1])], schema="nanoaod", backend=backend)


def run_cupy_on_numpy(file, path):
    """The CuPy backend's generated module, executed with numpy as its array module."""
    from adlc.backends.cupy import generate
    from adlc.driver import lower_file
    from adlc.runtime.execute import execute
    from adlc.runtime.reader import open_inputs
    from adlc.runtime.schemas import get_schema

    schema = get_schema("nanoaod")
    inputs = open_inputs([str(path)], None).with_schema(schema)
    return execute(generate(lower_file(file), schema, xp="numpy"), inputs)


def tables_by_label(result):
    return {t.label: t for t in result.tables if t.kind == "print"}


# --- `select c ? print ... : all` ---------------------------------------------------------------

PRINT_ACTIONS = """
    object goodJets
      take Jet
      select pT(Jet) > 30
    region r
      select size(goodJets) >= 1
      select size(goodJets) >= 2 ? print "two" pT(goodJets[1]) size(goodJets) : all
      select size(goodJets) == 1 ? ALL : print "notone" size(goodJets)
      cmd size(goodJets) >= 3 ? print "three" size(goodJets) : print "few" eventno
      select size(goodJets) >= 2
    """


def print_expected(ev):
    out = {"two": [], "notone": [], "three": [], "few": []}
    reach = 0
    for k in range(len(ev)):
        pt = np.asarray(ev["Jet_pt"][k], dtype=np.float64)
        good = pt[pt > 30]
        n = len(good)
        if n < 1:
            continue
        reach += 1
        if n >= 2:
            out["two"].append((good[1], n))
        if n != 1:
            out["notone"].append((n,))
        if n >= 3:
            out["three"].append((n,))
        else:
            out["few"].append((float(ev["event"][k]),))
    return reach, {k: np.array(v, dtype=np.float64).reshape(len(v), -1) for k, v in out.items()}


def check_print_actions(result, ev):
    reach, expected = print_expected(ev)
    labels = [c.label for c in result.regions["r"].cutflow]
    assert labels[2].startswith("size(goodJets) >= 2 ? print")
    # each print line is a cut that every event passes: a row, as for any select
    assert rows(result, "r") == [N_EVENTS, reach, reach, reach, reach,
                                 len(expected["two"])]
    tables = tables_by_label(result)
    assert set(tables) == set(expected)
    for label, want in expected.items():
        t = tables[label]
        assert t.total == len(want), label
        np.testing.assert_array_equal(t.rows, want[:1000], err_msg=label)


def test_print_as_a_ternary_action(sample, backend):
    check_print_actions(run(sample, backend, "print_actions", PRINT_ACTIONS), sample[2])


def test_print_as_a_ternary_action_cupy_code_on_numpy(sample):
    file = write(sample, "print_actions-cupy", PRINT_ACTIONS)
    check_print_actions(run_cupy_on_numpy(file, sample[1]), sample[2])


def test_print_action_round_trips_and_errors_elsewhere(tmp_path):
    from adlc.driver import lower_file
    from adlc.errors import AdlError
    from adlc.frontend.parser import parse
    from adlc.frontend.printer import format_analysis

    tree = parse(textwrap.dedent(PRINT_ACTIONS), "p.adl")
    assert parse(format_analysis(tree), "q.adl") == tree
    bad = tmp_path / "bad.adl"
    bad.write_text("object j\n  take Jet\n  select pT(Jet) > 3 ? print eta(Jet) : ALL\n"
                   "region r\n  select size(j) > 0\n")
    with pytest.raises(AdlError, match="E290") as info:
        lower_file(bad)
    assert "print" in str(info.value) and ":3:" in str(info.value)


# --- ADD with a slice -------------------------------------------------------------------------

ADD_SLICE = """
    object goodJets
      take Jet
      select pT(Jet) > 30
    object goodMuons
      take Muon
      select pT(Muon) > 5
    define cvSl = ADD(goodJets[0:1] goodMuons[0])
    define cv3 = ADD(goodJets[1:3], goodJets[0])
    region r
      select size(goodMuons) >= 1
      save sl csv m(cvSl), pT(cvSl), eta(cvSl), m(cv3), pT(cv3)
    """


def p4(pt, eta, phi, m):
    """TLorentzVector::SetPtEtaPhiM in float64."""
    pt, eta, phi, m = (float(x) for x in (pt, eta, phi, m))
    px, py, pz = pt * math.cos(phi), pt * math.sin(phi), pt * math.sinh(eta)
    p2 = px * px + py * py + pz * pz
    e = math.sqrt(p2 + m * m) if m >= 0 else math.sqrt(max(p2 - m * m, 0.0))
    return np.array([px, py, pz, e])


def m_pt_eta(v):
    px, py, pz, e = v
    m2 = e * e - (px * px + py * py + pz * pz)
    m = math.sqrt(m2) if m2 >= 0 else -math.sqrt(-m2)
    pt = math.hypot(px, py)
    return m, pt, math.asinh(pz / pt)


def add_expected(ev):
    out = []
    for k in range(len(ev)):
        jpt = np.asarray(ev["Jet_pt"][k])
        j = [p4(a, b, c, d) for a, b, c, d in zip(jpt, ev["Jet_eta"][k], ev["Jet_phi"][k],
                                                   ev["Jet_mass"][k], strict=True) if a > 30]
        mu = [p4(a, b, c, MUON_MASS) for a, b, c in zip(ev["Muon_pt"][k], ev["Muon_eta"][k],
                                                        ev["Muon_phi"][k], strict=True)
              if a > 5]
        if not mu:
            continue
        zero = np.zeros(4)
        # CutLang slices include both ends; an index past the end reads a zero vector
        sl = sum((j[i] if i < len(j) else zero for i in (0, 1)), zero) + mu[0]
        cv3 = sum((j[i] if i < len(j) else zero for i in (1, 2, 3, 0)), zero)
        m3, pt3 = (m_pt_eta(cv3)[:2] if cv3[3] > 0 else (0.0, 0.0))
        out.append((*m_pt_eta(sl), m3, pt3))
    return np.array(out)


def test_slice_inside_add(sample, backend):
    result = run(sample, backend, "add_slice", ADD_SLICE)
    (table,) = [t for t in result.tables if t.kind == "save"]
    want = add_expected(sample[2])
    assert table.total == len(want) > 100
    np.testing.assert_allclose(table.rows, want, rtol=1e-9, atol=1e-9)


def test_slice_inside_add_needs_constant_ends(tmp_path):
    from adlc.driver import lower_file
    from adlc.errors import AdlError

    bad = tmp_path / "bad.adl"
    bad.write_text("define v = ADD(Jet[0:size(Muon)] Muon[0])\n"
                   "region r\n  select m(v) > 0\n")
    with pytest.raises(AdlError, match="E200") as info:
        lower_file(bad)
    assert "constant" in str(info.value)


# --- adl2tnm: a particle where a number is expected is its pT ---------------------------------

ADL2TNM = """
    object jets
      take Jet
      select pt > 30
    object muons
      take Muon
      select pt > 5
    object leptons
      take muons
      take Electron
    define MHT = -sum(jets)
    define prod = 2 * jets[0].pT * jets[1]
    region r
      select MHT > 50
      save t csv MHT, prod, leptons[0]
    """


def adl2tnm_expected(ev):
    out = []
    for k in range(len(ev)):
        pt = np.asarray(ev["Jet_pt"][k], dtype=np.float64)
        phi = np.asarray(ev["Jet_phi"][k], dtype=np.float64)
        keep = pt > 30
        px, py = -np.sum(pt[keep] * np.cos(phi[keep])), -np.sum(pt[keep] * np.sin(phi[keep]))
        mht = math.hypot(px, py)
        if not mht > 50:
            continue
        good = pt[keep]
        prod = 2 * good[0] * good[1] if len(good) >= 2 else 0.0
        mu = np.asarray(ev["Muon_pt"][k], dtype=np.float64)
        mu = mu[mu > 5]
        out.append((mht, prod, mu[0] if len(mu) else 0.0))
    return np.array(out)


def test_adl2tnm_particle_as_a_number_is_its_pt(sample, backend):
    # (muons first in `leptons`: the union keeps the takes' order; the sample has no electron
    # above 5 GeV in most events, so leptons[0] is mostly the leading good muon)
    result = run(sample, backend, "adl2tnm", ADL2TNM)
    (table,) = [t for t in result.tables if t.kind == "save"]
    want = adl2tnm_expected(sample[2])
    got = table.rows
    assert table.total == len(want) > 100
    np.testing.assert_allclose(got[:, :2], want[:, :2], rtol=1e-9)
    # leptons[0] is a muon when the event has one (electrons come after the muons)
    has_mu = want[:, 2] > 0
    np.testing.assert_array_equal(got[has_mu, 2], want[has_mu, 2])


def test_a_particle_as_a_number_is_an_error_in_cutlang_files(tmp_path):
    from adlc.driver import lower_file
    from adlc.errors import AdlError

    bad = tmp_path / "bad.adl"
    bad.write_text("object jets : JET\n  select pT(JET) > 30\ndefine MHT = -jets_\n"
                   "region r\n  select MHT > 300\n")
    with pytest.raises(AdlError, match="E230") as info:
        lower_file(bad)
    assert "pT(x)" in str(info.value)


# --- the columns a COMB object reads ---------------------------------------------------------

COMB = """
    object goodMuons
      take Muon
      select pt(Muon) > 8
    object goodTaus
      take Tau
      select pt(Tau) > 8
    object HMuTaus : comb( goodMuons[-1] goodTaus[-2] ) alias aHMuTaus
      select { goodMuons[-1], goodTaus[-2] }dR > 0.5
    region pairs
      select size(HMuTaus) > 0
    """


@pytest.fixture(scope="module")
def taus(tmp_path_factory):
    return generated_sample(tmp_path_factory, "corpus_forms3_taus", 500, "run2012", seed=3)


@pytest.mark.parametrize(("histo", "extra"), [
    ("", set()),
    # the candidates' mass needs the members' four-vectors (the muon mass is fixed)
    ('  histo hm, "m", 10, 0, 200, m(HMuTaus[0])\n', {"Tau_mass"}),
])
def test_comb_reads_only_the_columns_it_uses(taus, tmp_path, branches_read, backend, histo,
                                             extra):
    from adlc.driver import run_analysis

    adl = tmp_path / "comb.adl"
    adl.write_text(textwrap.dedent(COMB).lstrip("\n") + histo)
    run_analysis(adl, [str(taus[1])], schema="run2012", backend=backend)
    assert branches_read == {"Muon_pt", "Muon_eta", "Muon_phi", "Tau_pt", "Tau_eta",
                             "Tau_phi"} | extra


@pytest.fixture(scope="module")
def leptons(tmp_path_factory):
    return generated_sample(tmp_path_factory, "corpus_forms3_q", N_EVENTS, "nanoaod", seed=29,
                            branches=["Muon_pt", "Muon_charge", "Electron_pt",
                                      "Electron_charge"])


def test_charge_of_an_add_of_whole_collections(leptons, backend):
    """exAddVec.adl's `q(cv)` with `cv = ADD(goodJets, goodEles)`: the charge of a four-vector
    sum is the sum of its members' charges (as for `a + b`), here over every member of each
    collection."""
    from adlc.driver import run_analysis

    d, path, ev = leptons
    adl = d / f"qadd-{backend}.adl"
    adl.write_text(textwrap.dedent("""
        object mus
          take Muon
          select pT(Muon) > 10
        object eles
          take Electron
          select pT(Electron) > 10
        define cv = ADD(mus, eles)
        region r
          select q(cv) > 0
          select q(cv) - q(mus[0]) == 0
        """).lstrip("\n"))
    result = run_analysis(adl, [str(path)], schema="nanoaod", backend=backend)
    q = (np.asarray([np.sum(c[p > 10]) for c, p in zip(ev["Muon_charge"], ev["Muon_pt"],
                                                         strict=True)])
         + np.asarray([np.sum(c[p > 10]) for c, p in zip(ev["Electron_charge"],
                                                          ev["Electron_pt"], strict=True)]))
    first = np.asarray([c[p > 10][0] if np.sum(p > 10) else 0.0
                        for c, p in zip(ev["Muon_charge"], ev["Muon_pt"], strict=True)])
    assert 0 < np.sum(q > 0) < N_EVENTS
    assert rows(result, "r") == [N_EVENTS, int(np.sum(q > 0)),
                                 int(np.sum((q > 0) & (q - first == 0)))]
