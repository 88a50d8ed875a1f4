"""fHT, fMT, fMll, fMEToverSqrtSumET, fMTauTau: hand-computed events and properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

momentum = st.floats(-500, 500, allow_nan=False)


def coll(*vectors: tuple[float, float, float, float]) -> list[np.ndarray]:
    """(px, py, pz, E) tuples -> the four float64 arrays of the collection convention."""
    arr = np.array(vectors, dtype=np.float64).reshape(-1, 4)
    return [np.ascontiguousarray(arr[:, k]) for k in range(4)]


def massless(px: float, py: float, pz: float) -> tuple[float, float, float, float]:
    return (px, py, pz, math.sqrt(px * px + py * py + pz * pz))


# ---------------------------------------------------------------------------------------- fHT

def test_ht_sums_transverse_momenta(impl):
    ht = impl("fHT")
    # pT 5 and 10; pz and E do not enter.
    assert ht(*coll((3.0, 4.0, 100.0, 200.0), (6.0, -8.0, -7.0, 50.0))) == pytest.approx(15.0)


def test_ht_of_empty_collection_is_zero(impl):
    assert impl("fHT")(*coll()) == 0.0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(momentum, momentum, momentum), min_size=0, max_size=8), st.randoms())
def test_ht_is_permutation_invariant(impl, vecs, rnd):
    ht = impl("fHT")
    vectors = [massless(*v) for v in vecs]
    shuffled = list(vectors)
    rnd.shuffle(shuffled)
    expected = sum(math.hypot(v[0], v[1]) for v in vectors)
    assert ht(*coll(*vectors)) == pytest.approx(expected, rel=1e-12, abs=1e-9)
    assert ht(*coll(*shuffled)) == pytest.approx(ht(*coll(*vectors)), rel=1e-12, abs=1e-9)


# ---------------------------------------------------------------------------------------- fMT

@pytest.mark.parametrize(("met", "expected"), [
    ((-30.0, 0.0), math.sqrt(2 * 40 * 30 * 2)),    # back to back: 1 - cos(pi) = 2
    ((0.0, 30.0), math.sqrt(2 * 40 * 30)),         # perpendicular
    ((60.0, 0.0), 0.0),                            # parallel
])
def test_mt_hand_computed(impl, met, expected):
    lep = (40.0, 0.0, 25.0, math.sqrt(40.0**2 + 25.0**2))
    metlv = (met[0], met[1], 0.0, math.hypot(*met))
    assert impl("fMT")(*lep, *metlv) == pytest.approx(expected, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(momentum, momentum, momentum, momentum)
def test_mt_equals_massless_transverse_mass(impl, lx, ly, mx, my):
    # For massless vectors mT^2 = (pT1 + pT2)^2 - |pT1 + pT2|^2, an independent formula.
    lep = massless(lx, ly, 13.0)
    met = (mx, my, 0.0, math.hypot(mx, my))
    pt1, pt2 = math.hypot(lx, ly), math.hypot(mx, my)
    expected_sq = (pt1 + pt2) ** 2 - ((lx + mx) ** 2 + (ly + my) ** 2)
    got = impl("fMT")(*lep, *met)
    assert got * got == pytest.approx(expected_sq, rel=1e-9, abs=1e-6 * (pt1 + pt2) ** 2 + 1e-9)


# ---------------------------------------------------------------------------------------- fMll

def test_mll_of_back_to_back_pair(impl):
    a = massless(0.0, 0.0, 50.0)
    b = massless(0.0, 0.0, -50.0)
    assert impl("fMll")(*a, *b) == pytest.approx(100.0)


def test_mll_of_massive_pair(impl):
    # Z -> mu mu at rest: muons of 45 GeV momentum and 0.1057 GeV mass.
    m = 0.1057
    e = math.sqrt(45.0**2 + m * m)
    a = (45.0, 0.0, 0.0, e)
    b = (-45.0, 0.0, 0.0, e)
    assert impl("fMll")(*a, *b) == pytest.approx(2 * e, rel=1e-12)


def test_mll_of_spacelike_sum_is_negative_like_root(impl):
    # TLorentzVector::M() returns -sqrt(-m2) for a space-like vector.
    a = (30.0, 0.0, 0.0, 10.0)
    b = (0.0, 0.0, 0.0, 0.0)
    assert impl("fMll")(*a, *b) == pytest.approx(-math.sqrt(30.0**2 - 10.0**2))


# ---------------------------------------------------------------------------------------- fMEToverSqrtSumET

def test_met_over_sqrt_sumet(impl):
    f = impl("fMEToverSqrtSumET")
    met = (18.0, -24.0, 0.0, 30.0)
    assert f(*met, 100.0) == pytest.approx(3.0)
    assert f(*met, 0.0) == math.inf
    assert math.isnan(f(*met, -4.0))


# ---------------------------------------------------------------------------------------- fMTauTau

@pytest.mark.parametrize("name", ["fMTauTau", "fMtautau"])
def test_mtautau_hand_computed(impl, name):
    # MET = 0.5 pT(l1) + 0.5 pT(l2): neutrinos (5, 0, 0, 5) and (0, 10, 0, 10);
    # total (15, 30, 0, 45): m^2 = 2025 - 225 - 900 = 900.
    l1 = (10.0, 0.0, 0.0, 10.0)
    l2 = (0.0, 20.0, 0.0, 20.0)
    met = (5.0, 10.0, 0.0, math.hypot(5.0, 10.0))
    assert impl(name)(*l1, *l2, *met) == pytest.approx(30.0)


def test_mtautau_recovers_collinear_fractions(impl):
    # Build the MET from known fractions a, b (one negative) and compare with the direct sum.
    l1 = (20.0, 5.0, 30.0, math.sqrt(20.0**2 + 5.0**2 + 30.0**2))
    l2 = (-3.0, 25.0, -10.0, math.sqrt(3.0**2 + 25.0**2 + 10.0**2))
    a, b = 0.7, -0.2
    met = (a * l1[0] + b * l2[0], a * l1[1] + b * l2[1], 0.0, 0.0)
    nu1 = (a * l1[0], a * l1[1], 0.0, abs(a) * math.hypot(l1[0], l1[1]))
    nu2 = (b * l2[0], b * l2[1], 0.0, abs(b) * math.hypot(l2[0], l2[1]))
    tot = [l1[k] + l2[k] + nu1[k] + nu2[k] for k in range(4)]
    expected = math.sqrt(tot[3] ** 2 - tot[0] ** 2 - tot[1] ** 2 - tot[2] ** 2)
    assert impl("fMTauTau")(*l1, *l2, *met) == pytest.approx(expected, rel=1e-12)


def test_mtautau_of_parallel_leptons_is_nan(impl):
    l1 = massless(10.0, 10.0, 0.0)
    l2 = massless(20.0, 20.0, 5.0)
    assert math.isnan(impl("fMTauTau")(*l1, *l2, 1.0, 2.0, 0.0, 3.0))
