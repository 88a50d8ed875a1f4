"""fmegajets, fMR, fMTR, fhemisphere against independent calculations and CutLang's rules."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st


def coll(*vectors) -> list[np.ndarray]:
    arr = np.array(vectors, dtype=np.float64).reshape(-1, 4)
    return [np.ascontiguousarray(arr[:, k]) for k in range(4)]


def rows(result) -> list[tuple[float, ...]]:
    """The returned collection (px, py, pz, E arrays) as a list of four-vectors."""
    return [tuple(float(result[c][i]) for c in range(4)) for i in range(len(result[0]))]


def random_jets(rng: np.random.Generator, n: int) -> list[tuple[float, float, float, float]]:
    out = []
    for _ in range(n):
        px, py, pz = rng.normal(0.0, 60.0, 3)
        m = rng.uniform(0.0, 15.0)
        out.append((px, py, pz, math.sqrt(px * px + py * py + pz * pz + m * m)))
    return out


def m2(v) -> float:
    return v[3] ** 2 - v[0] ** 2 - v[1] ** 2 - v[2] ** 2


def add(*vs) -> tuple[float, ...]:
    return tuple(sum(v[k] for v in vs) for k in range(4))


# ------------------------------------------------------------------------------ fmegajets

@pytest.mark.parametrize("n", [2, 3, 4, 6, 8])
def test_megajets_minimise_the_sum_of_squared_masses(impl, n):
    jets = random_jets(np.random.default_rng(n), n)
    best = None
    for assign in itertools.product((0, 1), repeat=n):  # independent brute force
        if 0 < sum(assign) < n:
            g1 = add(*(j for j, a in zip(jets, assign, strict=True) if a))
            g2 = add(*(j for j, a in zip(jets, assign, strict=True) if not a))
            cost = m2(g1) + m2(g2)
            if best is None or cost < best[0]:
                best = (cost, g1, g2)
    assert best is not None
    lead, sub = sorted(best[1:], key=lambda v: -math.hypot(v[0], v[1]))
    got = rows(impl("fmegajets")(*coll(*jets)))
    assert len(got) == 2
    np.testing.assert_allclose(got, [lead, sub], rtol=1e-12, atol=1e-9)


def test_megajet_ties_follow_cutlang_enumeration(impl):
    # {0,2}|{1,3} and {0,3}|{1,2} both give m1^2 + m2^2 = 400.  CutLang scans i = 1..14 with jet k
    # on bit 3-k, keeps the first strict minimum (i = 5: megajet 1 = jets {1,3}) and swaps only on
    # a strictly larger pT (here equal).
    jets = [(10.0, 0.0, 0.0, 10.0), (-10.0, 0.0, 0.0, 10.0),
            (0.0, 10.0, 0.0, 10.0), (0.0, -10.0, 0.0, 10.0)]
    got = rows(impl("fmegajets")(*coll(*jets)))
    assert got == [(-10.0, -10.0, 0.0, 20.0), (10.0, 10.0, 0.0, 20.0)]


def test_megajets_of_fewer_than_two_objects(impl):
    # CutLang overwrites the collection in place: one jet becomes one zero vector, none stays none.
    assert rows(impl("fmegajets")(*coll((5.0, 1.0, 2.0, 9.0)))) == [(0.0, 0.0, 0.0, 0.0)]
    assert rows(impl("fmegajets")(*coll())) == []


# ------------------------------------------------------------------------------ fMR

def test_mr_hand_computed(impl):
    # |pT1| = |pT2| makes CutLang's boost vanish: MR = sqrt((|p1| + |p2|)^2 - (pz1 + pz2)^2)
    # = sqrt(80^2 - 40^2); the energies do not enter.
    got = impl("fMR")(*coll((30.0, 0.0, 40.0, 60.0), (0.0, 30.0, 0.0, 35.0)))
    assert got == pytest.approx(math.sqrt(4800.0))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_mr_equals_gamma_times_mr_star(impl, seed):
    # gamma_R* MR* simplifies to sqrt((|p1| + |p2|)^2 - (pz1 + pz2)^2) wherever the R* boost
    # exists (beta^2 < 1); CutLang's formula gives NaN where it does not.
    a, b, c = random_jets(np.random.default_rng(seed), 3)
    pa, pb = math.sqrt(a[0]**2 + a[1]**2 + a[2]**2), math.sqrt(b[0]**2 + b[1]**2 + b[2]**2)
    long2 = (pa + pb) ** 2 - (a[2] + b[2]) ** 2
    sum_t2 = (a[0] + b[0]) ** 2 + (a[1] + b[1]) ** 2
    diff = (b[0] ** 2 + b[1] ** 2) - (a[0] ** 2 + a[1] ** 2)
    got = impl("fMR")(*coll(a, b, c))  # a third object is ignored
    if diff * diff < 0.999 * sum_t2 * long2:
        assert got == pytest.approx(math.sqrt(long2), rel=1e-6)
    elif diff * diff > 1.001 * sum_t2 * long2:
        assert math.isnan(got)


def test_mr_and_mtr_need_two_objects(impl):
    one = coll((5.0, 1.0, 2.0, 9.0))
    assert impl("fMR")(*one) == 0.0
    assert impl("fMTR")(*one, 1.0, 1.0, 0.0, math.sqrt(2.0)) == 0.0


def test_mr_of_transversely_back_to_back_pair_is_nan(impl):
    # |pT1 + pT2| = 0: CutLang divides 0 by 0.
    assert math.isnan(impl("fMR")(*coll((20.0, 0.0, 5.0, 30.0), (-20.0, 0.0, 1.0, 25.0))))


# ------------------------------------------------------------------------------ fMTR

def test_mtr_hand_computed(impl):
    # |MET| = sqrt(200), pT1 + pT2 = 70, MET . (pT1 + pT2) = -300 - 400.
    got = impl("fMTR")(*coll((30.0, 0.0, 7.0, 40.0), (0.0, 40.0, -3.0, 50.0)),
                       -10.0, -10.0, 0.0, math.sqrt(200.0))
    assert got == pytest.approx(math.sqrt((math.sqrt(200.0) * 70.0 + 700.0) / 2.0))


def test_mtr_vanishes_for_met_along_collinear_megajets(impl):
    got = impl("fMTR")(*coll((30.0, 40.0, 0.0, 50.0), (3.0, 4.0, 1.0, 6.0)), 6.0, 8.0, 0.0, 10.0)
    assert got == pytest.approx(0.0, abs=1e-6)


# ------------------------------------------------------------------------------ fhemisphere

HARD = (100.0, 0.0, 0.0, 100.0)
AWAY = (-90.0, 0.0, 0.0, 90.0)
SOFT = (20.0, 5.0, 0.0, math.sqrt(425.0))


@pytest.mark.parametrize(("seed", "assoc"), [(1, 1), (2, 2), (2, 3), (3, 2), (3, 3), (4, 3),
                                             (4, 1)])
def test_hemisphere_puts_the_soft_jet_with_its_neighbour(impl, seed, assoc):
    # Every seeding picks the hard back-to-back pair; every association adds the soft jet
    # (20 degrees from the first seed) to the first hemisphere.
    got = rows(impl("fhemisphere")(*coll(HARD, AWAY, SOFT), float(seed), float(assoc)))
    np.testing.assert_allclose(got, [add(HARD, SOFT), AWAY], rtol=1e-12)


@pytest.mark.parametrize("assoc", [8, 9])
def test_hemisphere_energy_and_pt_balance(impl, assoc):
    # E (= pT) 50, 40, 30, 20: the groupings {0..i} + {j} are scanned; {0, 3} vs {1, 2}
    # balances exactly (70 = 70).
    jets = [(50.0, 0.0, 0.0, 50.0), (0.0, 40.0, 0.0, 40.0), (0.0, -30.0, 0.0, 30.0),
            (-20.0, 0.0, 0.0, 20.0)]
    got = rows(impl("fhemisphere")(*coll(*jets), 0.0, float(assoc)))
    np.testing.assert_allclose(got, [add(jets[0], jets[3]), add(jets[1], jets[2])])


@pytest.mark.parametrize(("seed", "assoc"), [(5, 2), (2, 4), (0, 1)])
def test_hemisphere_invalid_methods_give_zero_objects(impl, seed, assoc):
    got = rows(impl("fhemisphere")(*coll(HARD, AWAY, SOFT), float(seed), float(assoc)))
    assert got == [(0.0, 0.0, 0.0, 0.0)] * 2


def test_hemisphere_of_one_object(impl):
    # No pair to seed with: zero hemispheres, and the collection keeps min(n, 2) = 1 entry.
    assert rows(impl("fhemisphere")(*coll(HARD), 2.0, 2.0)) == [(0.0, 0.0, 0.0, 0.0)]


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 7),
       st.sampled_from([(1, 1), (2, 2), (2, 3), (3, 3), (4, 2), (0, 8), (0, 9)]))
def test_hemispheres_share_out_every_object(impl, seed, n, methods):
    jets = random_jets(np.random.default_rng(seed), n)
    got = rows(impl("fhemisphere")(*coll(*jets), float(methods[0]), float(methods[1])))
    if got == [(0.0, 0.0, 0.0, 0.0)] * 2:
        return  # the seeding found no pair (e.g. no second object with dR > 0.5)
    np.testing.assert_allclose(add(*got), add(*jets), rtol=1e-9, atol=1e-9)
