"""Where adlc deliberately differs from CutLang (docs/cutlang-differences.md), and the
`cutlang_compat` mode that reproduces CutLang. Expected values are computed here with
numpy/awkward from the generated file, independently of adlc."""

from __future__ import annotations

import numpy as np
import pytest

ak = pytest.importorskip("awkward")
uproot = pytest.importorskip("uproot")
pytest.importorskip("numba")

ADL = """\
object muons
  take Muon
  select pT(Muon) > 25

object jets
  take Jet
  select pT(Jet) > 30

object cleanJets
  take jets
  select dR(jets, muons) > 0.4

define negSquare = -3^2

region literal
  select negSquare == 9

region cleaning
  select ALL
  histo hn, "clean jets", 20, 0, 20, size(cleanJets)

region ties
  select min(MET, MET) == MET
  select max(MET, MET) == MET
"""


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    from adlc.runtime.generate import generate

    directory = tmp_path_factory.mktemp("differences")
    path = directory / "sample.root"
    generate(path, 3000, schema="nanoaod", seed=11)
    adl = directory / "differences.adl"
    adl.write_text(ADL)
    return adl, path


def _run(sample, compat: bool, backend: str):
    from adlc.driver import run_analysis

    adl, path = sample
    return run_analysis(adl, [path], cutlang_compat=compat, backend=backend)


def _expected_clean_counts(path, empty_partner_removes_all: bool) -> np.ndarray:
    events = uproot.open(path)["Events"].arrays(
        ["Muon_pt", "Muon_eta", "Muon_phi", "Jet_pt", "Jet_eta", "Jet_phi"])
    mu_mask = events.Muon_pt > 25
    mu_eta, mu_phi = events.Muon_eta[mu_mask], events.Muon_phi[mu_mask]
    jet_mask = events.Jet_pt > 30
    jets_eta, jets_phi = events.Jet_eta[jet_mask], events.Jet_phi[jet_mask]
    pairs_eta = ak.cartesian([jets_eta, mu_eta], nested=True)
    pairs_phi = ak.cartesian([jets_phi, mu_phi], nested=True)
    deta = pairs_eta["0"] - pairs_eta["1"]
    dphi = np.abs(pairs_phi["0"] - pairs_phi["1"])
    dphi = np.where(dphi > np.pi, 2 * np.pi - dphi, dphi)
    far = np.sqrt(deta**2 + dphi**2) > 0.4
    keep = ak.all(far, axis=-1)  # allof; vacuously true without muons
    counts = ak.to_numpy(ak.sum(keep, axis=-1))
    if empty_partner_removes_all:
        counts = np.where(ak.to_numpy(ak.num(mu_eta)) == 0, 0, counts)
    # histogram [0, 20) in 20 unit bins, as values(flow=True): underflow, bins, overflow
    inside = np.bincount(counts[counts < 20], minlength=20).astype(float)
    return np.concatenate([[0.0], inside, [float(np.sum(counts >= 20))]])


def test_negative_literal_base_is_squared(sample, backend: str) -> None:
    # `-3^2` is (-3)^2 = 9: the minus belongs to the number (a regression: Python's
    # `-3.0 ** 2` is -9).
    result = _run(sample, compat=False, backend=backend)
    assert result.regions["literal"].cutflow[-1].raw == 3000


@pytest.mark.parametrize("compat", [False, True])
def test_cleaning_against_an_empty_collection(sample, compat: bool, backend: str) -> None:
    result = _run(sample, compat, backend)
    got = result.regions["cleaning"].histograms["hn"].values(flow=True)
    expected = _expected_clean_counts(sample[1], empty_partner_removes_all=compat)
    np.testing.assert_array_equal(got, expected)
    # The sample has events without a selected muon, so the two modes really differ.
    other = _expected_clean_counts(sample[1], empty_partner_removes_all=not compat)
    assert not np.array_equal(expected, other)


@pytest.mark.parametrize(("compat", "passing"), [(False, 3000), (True, 0)])
def test_two_argument_min_max_on_a_tie(sample, compat: bool, passing: int,
                                      backend: str) -> None:
    # min(a, a) is a; CutLang's (a<b)*a + (a>b)*b gives 0 (MET is never 0 here).
    result = _run(sample, compat, backend)
    assert result.regions["ties"].cutflow[-1].raw == passing
