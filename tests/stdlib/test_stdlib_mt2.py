"""fMT2 against analytic cases, an independent numerical minimisation, and MT2's properties."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


def four(m: float, px: float, py: float, pz: float = 0.0) -> tuple[float, float, float, float]:
    return (px, py, pz, math.sqrt(m * m + px * px + py * py + pz * pz))


def met(px: float, py: float) -> tuple[float, float, float, float]:
    return (px, py, 0.0, math.hypot(px, py))


def mt_sq(m: float, px: float, py: float, kx, ky):
    """mT^2 of a visible particle with a massless invisible one of transverse momentum k."""
    et = math.sqrt(m * m + px * px + py * py)
    return m * m + 2.0 * (et * np.hypot(kx, ky) - (px * kx + py * ky))


def scale_of(ma, ax, ay, mb, bx, by, mx, my) -> float:
    return max(math.sqrt(ma * ma + ax * ax + ay * ay), math.sqrt(mb * mb + bx * bx + by * by),
               math.hypot(mx, my))


@functools.cache
def reference_mt2(ma, ax, ay, mb, bx, by, mx, my) -> float:
    """min over q of max(mT_a(q)^2, mT_b(pmiss - q)^2), by brute force, no ellipses involved.

    In polar coordinates q = r (cos f, sin f) around leg a's focus, mT_a^2 = ma^2 + s(f) r is
    linear in r and mT_b^2 convex, so for each of 720 angles a golden-section search over
    r in [0, 1e4 scale] finds the exact inner minimum; the best angles are then refined.
    """
    scale = scale_of(ma, ax, ay, mb, bx, by, mx, my)
    ea = math.sqrt(ma * ma + ax * ax + ay * ay)

    def inner(phi: np.ndarray) -> np.ndarray:
        nx, ny = np.cos(phi), np.sin(phi)
        slope = 2.0 * (ea - (ax * nx + ay * ny))

        def g(r):
            return np.maximum(ma * ma + slope * r, mt_sq(mb, bx, by, mx - r * nx, my - r * ny))

        lo, hi = np.zeros_like(phi), np.full_like(phi, 1e4 * scale)
        for _ in range(110):
            r1, r2 = hi - GOLDEN * (hi - lo), lo + GOLDEN * (hi - lo)
            left = g(r1) <= g(r2)
            hi, lo = np.where(left, r2, hi), np.where(left, lo, r1)
        return np.minimum(g(0.5 * (lo + hi)), g(np.zeros_like(phi)))

    phis = np.linspace(-math.pi, math.pi, 720, endpoint=False)
    vals = inner(phis)
    best = float(vals.min())
    step = 2.0 * math.pi / len(phis)
    idx = np.argsort(vals)[:3]
    lo, hi = phis[idx] - 2 * step, phis[idx] + 2 * step
    for _ in range(40):
        p1, p2 = hi - GOLDEN * (hi - lo), lo + GOLDEN * (hi - lo)
        v = inner(np.concatenate([p1, p2]))
        left = v[: len(p1)] <= v[len(p1):]
        hi, lo = np.where(left, p2, hi), np.where(left, lo, p1)
        best = min(best, float(v.min()))
    return math.sqrt(max(best, 0.0))


def call(f, ma, ax, ay, mb, bx, by, mx, my) -> float:
    return f(*four(ma, ax, ay), *four(mb, bx, by), *met(mx, my))


# ------------------------------------------------------------------------- analytic cases

def test_massless_visibles_without_met_give_zero(impl):
    assert call(impl("fMT2"), 0.0, 40.0, 10.0, 0.0, -5.0, 30.0, 0.0, 0.0) == 0.0


def test_equal_masses_back_to_back_without_met_give_the_mass(impl):
    # pmiss = 0: by symmetry q = -k and mT_a(q) = mT_b(-q), minimal (= m) at q = 0.
    assert call(impl("fMT2"), 20.0, 50.0, 0.0, 20.0, -50.0, 0.0, 0.0, 0.0) == pytest.approx(20.0)


def test_back_to_back_massless_visibles_with_met_give_zero(impl):
    # Both legs can send their invisible particle to infinity along their own visible: mT -> 0.
    assert call(impl("fMT2"), 0.0, 10.0, 0.0, 0.0, -10.0, 0.0, 0.0, 5.0) <= 1e-8 * 10.0


@pytest.mark.parametrize("seed", range(4))
def test_no_upstream_momentum_massless(impl, seed):
    # pmiss = -(pa + pb), massless visible and invisible: MT2^2 = 2 (|pa||pb| + pa.pb).
    ax, ay, bx, by = np.random.default_rng(seed).normal(0.0, 50.0, 4)
    at = math.hypot(ax, ay) * math.hypot(bx, by) + ax * bx + ay * by
    got = call(impl("fMT2"), 0.0, ax, ay, 0.0, bx, by, -(ax + bx), -(ay + by))
    assert got == pytest.approx(math.sqrt(2.0 * at), rel=1e-8, abs=1e-8)


def test_met_inside_the_cone_of_massless_visibles_gives_exactly_zero(impl):
    # pmiss = 0.3 pa + 1.2 pb: each invisible parallel to its visible, both mT vanish.
    ax, ay, bx, by = 30.0, 10.0, -5.0, 40.0
    got = call(impl("fMT2"), 0.0, ax, ay, 0.0, bx, by, 0.3 * ax + 1.2 * bx, 0.3 * ay + 1.2 * by)
    assert got == 0.0


def test_unbalanced_configuration_returns_the_heavy_mass(impl):
    # Leg b takes all of a small pmiss with mT_b(pmiss) < ma: MT2 is its lower bound ma.
    assert call(impl("fMT2"), 80.0, 30.0, 0.0, 0.0, 0.0, 20.0, 5.0, 5.0) == 80.0


def test_mt2_bisect_massless_switch(impl):
    # Two muons (0.1057 GeV) are treated as massless, as mt2_bisect does: 0, not the muon mass.
    args = (0.1057, 40.0, 0.0, 0.1057, 0.0, 35.0, 10.0, 10.0)
    assert call(impl("fMT2"), *args) == 0.0
    heavy = (5.0, 40.0, 0.0, 5.0, 0.0, 35.0, 10.0, 10.0)
    assert call(impl("fMT2"), *heavy) >= 5.0


def test_masses_come_from_the_four_vectors(impl):
    # pz enters only through the mass; a space-like vector counts with |m|, like mt2_bisect.
    f = impl("fMT2")
    a = (30.0, 10.0, 25.0, math.sqrt(30.0**2 + 10.0**2 + 25.0**2 + 12.0**2))
    b = (-20.0, 5.0, -70.0, math.sqrt(20.0**2 + 5.0**2 + 70.0**2 + 7.0**2))
    m = met(-5.0, -30.0)
    expected = reference_mt2(12.0, 30.0, 10.0, 7.0, -20.0, 5.0, -5.0, -30.0)
    assert f(*a, *b, *m) == pytest.approx(expected, rel=1e-7)
    spacelike = (30.0, 10.0, 0.0, math.sqrt(30.0**2 + 10.0**2 - 12.0**2))
    assert f(*spacelike, *b, *m) == pytest.approx(expected, rel=1e-7)


# ------------------------------------------------------------------------- brute force

def _configs():
    rng = np.random.default_rng(2024)
    out = []
    for k in range(20):
        kind = k % 4
        ma = 0.0 if kind == 0 else float(rng.uniform(1.0, 60.0))
        mb = 0.0 if kind in (0, 1) else float(rng.uniform(1.0, 60.0))
        ax, ay, bx, by, mx, my = (float(x) for x in rng.normal(0.0, 60.0, 6))
        if kind == 3:  # nearly back-to-back massless visibles: long, thin allowed regions
            ma = mb = 0.0
            f = float(rng.uniform(0.3, 3.0))
            bx, by = -f * ax + float(rng.normal(0, 2)), -f * ay + float(rng.normal(0, 2))
        out.append(pytest.param((ma, ax, ay, mb, bx, by, mx, my), id=f"{k}-kind{kind}"))
    return out


@pytest.mark.parametrize("cfg", _configs())
def test_matches_brute_force_minimisation(impl, cfg):
    got = call(impl("fMT2"), *cfg)
    expected = reference_mt2(*cfg)
    assert got == pytest.approx(expected, abs=2e-7 * scale_of(*cfg))


# ------------------------------------------------------------------------- properties

mom = st.floats(-300.0, 300.0, allow_nan=False)
# 0 or clearly above mt2_bisect's massless threshold (m^2 < 1e-5 scale^2), so the bound is exact.
mass = st.one_of(st.just(0.0), st.floats(5.0, 100.0))
event = st.tuples(mass, mom, mom, mass, mom, mom, mom, mom)


@settings(max_examples=40, deadline=None)
@given(event, mom, mom)
def test_bounded_by_visible_masses_and_by_any_split(impl, ev, qx, qy):
    ma, ax, ay, mb, bx, by, mx, my = ev
    got = call(impl("fMT2"), *ev)
    tol = 1e-8 * scale_of(*ev) + 1e-9
    assert got >= max(ma, mb) - tol
    for kx, ky in ((qx, qy), (0.0, 0.0), (mx, my), (0.5 * mx, 0.5 * my)):
        split = max(mt_sq(ma, ax, ay, kx, ky), mt_sq(mb, bx, by, mx - kx, my - ky))
        assert got <= math.sqrt(max(split, 0.0)) + tol


@settings(max_examples=40, deadline=None)
@given(event, st.floats(0.0, 2.0 * math.pi), st.floats(0.01, 100.0))
def test_symmetric_rotation_invariant_and_scale_covariant(impl, ev, angle, lam):
    ma, ax, ay, mb, bx, by, mx, my = ev
    f = impl("fMT2")
    got = call(f, *ev)
    # E = sqrt(m^2 + p^2) rounds: a "massless" vector can carry a mass of sqrt(eps) E.
    tol = 1e-7 * scale_of(*ev) + 1e-9
    assert call(f, mb, bx, by, ma, ax, ay, mx, my) == pytest.approx(got, abs=tol)
    c, s = math.cos(angle), math.sin(angle)

    def rot(x, y):
        return c * x - s * y, s * x + c * y

    assert call(f, ma, *rot(ax, ay), mb, *rot(bx, by), *rot(mx, my)) == pytest.approx(got, abs=tol)
    scaled = call(f, *(lam * v for v in ev))
    assert scaled == pytest.approx(lam * got, abs=lam * tol)
