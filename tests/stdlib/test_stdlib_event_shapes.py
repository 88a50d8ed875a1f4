"""fAplanarity and fSphericity against numpy's eigen-solver and hand-computed tensors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st


def coll(*vectors) -> list[np.ndarray]:
    arr = np.array(vectors, dtype=np.float64).reshape(-1, 4)
    return [np.ascontiguousarray(arr[:, k]) for k in range(4)]


def with_energy(px, py, pz, m=0.0):
    return (px, py, pz, math.sqrt(px * px + py * py + pz * pz + m * m))


def test_isotropic_event(impl):
    # Tensor = identity / 3: S = 3/2 (1/3 + 1/3) = 1, A = 3/2 * 1/3.
    jets = coll(with_energy(10, 0, 0), with_energy(0, 10, 0), with_energy(0, 0, 10))
    assert impl("fSphericity")(*jets) == pytest.approx(1.0)
    assert impl("fAplanarity")(*jets) == pytest.approx(0.5)


def test_planar_event_has_no_aplanarity(impl):
    jets = coll(with_energy(30, 5, 0), with_energy(-10, 20, 0), with_energy(-15, -25, 0, 4.0))
    assert impl("fAplanarity")(*jets) == pytest.approx(0.0, abs=1e-12)
    assert impl("fSphericity")(*jets) > 0.0


def test_pencil_event(impl):
    jets = coll(with_energy(0, 0, 40), with_energy(0, 0, -25), with_energy(0, 0, 5))
    assert impl("fSphericity")(*jets) == pytest.approx(0.0, abs=1e-12)
    assert impl("fAplanarity")(*jets) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("name", ["fAplanarity", "fSphericity"])
def test_fewer_than_three_objects_give_zero(impl, name):
    assert impl(name)(*coll(with_energy(1, 2, 3), with_energy(-4, 5, 6))) == 0.0
    assert impl(name)(*coll()) == 0.0


def test_zero_momenta_give_nan(impl):
    jets = coll((0, 0, 0, 1.0), (0, 0, 0, 2.0), (0, 0, 0, 3.0))
    assert math.isnan(impl("fSphericity")(*jets))


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(3, 10))
def test_matches_numpy_eigenvalues(impl, seed, n):
    p = np.random.default_rng(seed).normal(0.0, 50.0, (n, 3))
    tensor = p.T @ p / np.sum(p * p)
    lam = np.sort(np.linalg.eigvalsh(tensor))[::-1]
    jets = coll(*(with_energy(*row) for row in p))
    assert impl("fSphericity")(*jets) == pytest.approx(1.5 * (lam[1] + lam[2]), abs=1e-12)
    assert impl("fAplanarity")(*jets) == pytest.approx(1.5 * lam[2], abs=1e-12)
