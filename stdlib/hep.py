"""Implementations of the built-in HEP functions ADL analyses call (fMT2, fMR, fmegajets, ...).

Every public function here works on ONE event and is written so that ``numba.njit`` can compile
it unchanged, while importing this module needs only ``math`` and ``numpy``: the functions also run
as plain Python (the reference the tests compare against).  ``adlc.stdlib.load_impl(spec, jit=True)``
builds the compiled versions (helpers included).

Calling convention (the same for user plug-ins, see docs/functions.md):

* a **particle** argument is passed as four float64 scalars ``px, py, pz, E`` (a sum of objects,
  ``METLV[0]`` with ``pz = 0``, an out-of-range object as four zeros);
* a **collection** argument is passed as four 1-D float64 arrays ``px, py, pz, E`` of equal length,
  in the collection's current order;
* a **scalar** argument is one float64;
* a function returning a **scalar** returns a float; one returning a **collection** returns a tuple
  ``(px, py, pz, E)`` of new 1-D float64 arrays.

So ``fMT2(a, b, METLV[0])`` is called as ``fMT2(apx, apy, apz, aE, bpx, bpy, bpz, bE, mpx, mpy, mpz, mE)``.
Callers pass float64 (NanoAOD branches are float32: widen first, see DESIGN.md).

Numerical conventions: values follow ROOT's TLorentzVector (``M()`` is ``-sqrt(-m2)`` for a
space-like vector; ``Pt``, ``Phi = atan2(py, px)``), and where CutLang's C++ would produce inf or NaN
(a division by zero, the square root of a negative number) these functions return the same IEEE
value instead of raising, so a cut on the result simply fails as it does in CutLang.
"""

from __future__ import annotations

import math

import numpy as np

# ----------------------------------------------------------------------------------------------
# IEEE helpers: plain Python raises on sqrt(-1) and x / 0.0, C++ (and CutLang) returns NaN / inf.
# They are also what numba needs, as its default error model raises on division by zero too.


def _sqrt(x: float) -> float:
    if x >= 0.0:
        return math.sqrt(x)
    return math.nan


def _div(a: float, b: float) -> float:
    if b != 0.0:
        return a / b
    if a > 0.0:
        return math.inf
    if a < 0.0:
        return -math.inf
    return math.nan


def _mass(px: float, py: float, pz: float, e: float) -> float:
    """TLorentzVector::M(): negative for a space-like vector, as ROOT returns it."""
    m2 = e * e - (px * px + py * py + pz * pz)
    if m2 >= 0.0:
        return math.sqrt(m2)
    return -math.sqrt(-m2)


def _pt(px: float, py: float) -> float:
    return math.sqrt(px * px + py * py)


def _empty_collection(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return (np.zeros(n, dtype=np.float64), np.zeros(n, dtype=np.float64),
            np.zeros(n, dtype=np.float64), np.zeros(n, dtype=np.float64))


# ----------------------------------------------------------------------------------------------
# Simple kinematics


def fHT(px: np.ndarray, py: np.ndarray, pz: np.ndarray, e: np.ndarray) -> float:
    """Scalar sum of the transverse momenta of a collection (CutLang SFuncNode.cpp `ht`)."""
    total = 0.0
    for i in range(len(px)):
        total += _pt(px[i], py[i])
    return total


def fMT(lpx: float, lpy: float, lpz: float, le: float,
        mpx: float, mpy: float, mpz: float, me: float) -> float:
    """sqrt(2 pT1 pT2 (1 - cos(phi2 - phi1))), CutLang Razorfunc.h / ADLLHCanalyses fMT."""
    pt1 = _pt(lpx, lpy)
    pt2 = _pt(mpx, mpy)
    dphi = math.atan2(mpy, mpx) - math.atan2(lpy, lpx)
    return _sqrt(2.0 * pt1 * pt2 * (1.0 - math.cos(dphi)))


def fMll(apx: float, apy: float, apz: float, ae: float,
         bpx: float, bpy: float, bpz: float, be: float) -> float:
    """Invariant mass of the sum of two particles, (a + b).M()."""
    return _mass(apx + bpx, apy + bpy, apz + bpz, ae + be)


def fMEToverSqrtSumET(mpx: float, mpy: float, mpz: float, me: float, sumet: float) -> float:
    """MET / sqrt(sum ET): pT of the MET particle over the square root of the scalar."""
    return _div(_pt(mpx, mpy), _sqrt(sumet))


def fMTauTau(apx: float, apy: float, apz: float, ae: float,
             bpx: float, bpy: float, bpz: float, be: float,
             mpx: float, mpy: float, mpz: float, me: float) -> float:
    """Di-tau mass in the collinear approximation (CutLang CMSSUS16048_functions.h, arXiv:1401.1235).

    MET = a pT(l1) + b pT(l2) is solved for a and b; each neutrino is then a massless vector with
    pz = 0 along its lepton's transverse direction, and the result is (l1 + l2 + nu1 + nu2).M().
    Leptons with parallel transverse momenta make the system singular: NaN, as in CutLang.
    """
    det = apx * bpy - apy * bpx
    if det == 0.0:
        return math.nan
    a = (mpx * bpy - mpy * bpx) / det
    b = (mpx * apy - mpy * apx) / (-det)
    n1x = a * apx
    n1y = a * apy
    n2x = b * bpx
    n2y = b * bpy
    n1e = math.sqrt(n1x * n1x + n1y * n1y)
    n2e = math.sqrt(n2x * n2x + n2y * n2y)
    return _mass(apx + bpx + n1x + n2x, apy + bpy + n1y + n2y, apz + bpz, ae + be + n1e + n2e)


# ----------------------------------------------------------------------------------------------
# MT2: bisection on the trial mass (Cheng & Han, arXiv:0810.5178), massless invisible particles.
#
# For a trial mass M the invisible momentum q of the first leg may lie in the region
# A(M) = {q : mT(a, q) <= M}, the second leg's pmiss - q in B(M) = {q : mT(b, pmiss - q) <= M};
# MT2 is the smallest M for which A(M) and B(M) meet.  Both regions are convex (an ellipse for a
# massive visible particle, a parabola for a massless one), grow with M, and contain their foci
# q = 0 and q = pmiss.  They meet iff a point of the boundary of A lies in B, or B lies inside A
# (then the focus pmiss is in A).  We parametrise the boundary of A by a real t and insert it into
# B's quadratic form: that gives a quartic P(t) whose sign is the sign of mT(b) - M at the point
# (for the ellipse, in polar form around its focus with t = tan(phi / 2), times the squared
# denominator; for the parabola, t is the coordinate across its axis).  The minimum of P lies at a
# root of the cubic P', so B's condition is checked directly (mT(b) <= M) at those few boundary
# points.  Unlike counting the real roots of a resultant, as mt2_bisect does, this cannot be
# fooled by complex intersection points sharing a real coordinate (symmetric events), and the
# coefficients are formed with Lagrange's identity, E^2 |k|^2 - (p.k)^2 = m^2 |k|^2 + (p x k)^2,
# so nothing large cancels in the quartic's leading terms.

# mt2_bisect treats both visible particles as massless when both masses are below sqrt(0.1) on the
# scale where max(Ea, Eb, |pmiss|) = 100, i.e. m^2 < 1e-5 scale^2; we copy that switch because it
# decides whether e.g. two muons with pmiss between them give exactly 0 or the muon mass.
MT2_MASSLESS_FRACTION = 1e-5
# Bisection stops when the bracket is this small relative to the scale (mt2_bisect: 1e-5).
MT2_TOLERANCE = 1e-10
MT2_MAX_STEPS = 200


def _mt_sq(m: float, et: float, px: float, py: float, kx: float, ky: float) -> float:
    """mT^2 of a visible (mass m, transverse energy et) with a massless invisible of momentum k.

    m^2 + 2 (et |k| - p.k); when p.k > 0 the difference is rewritten as
    (m^2 |k|^2 + (p x k)^2) / (et |k| + p.k), so it keeps its precision for a far-away k.
    """
    k2 = kx * kx + ky * ky
    ek = et * math.sqrt(k2)
    dot = px * kx + py * ky
    if dot > 0.0:
        cross = px * ky - py * kx
        return m * m + 2.0 * (m * m * k2 + cross * cross) / (ek + dot)
    return m * m + 2.0 * (ek - dot)


def _quad_mul(a0: float, a1: float, a2: float, b0: float, b1: float,
              b2: float) -> tuple[float, float, float, float, float]:
    """Coefficients (t^0 .. t^4) of the product of two quadratics."""
    return (a0 * b0, a0 * b1 + a1 * b0, a0 * b2 + a1 * b1 + a2 * b0, a1 * b2 + a2 * b1, a2 * b2)


def _quartic_of_b(mb: float, db: float, kx0: float, kx1: float, kx2: float, ky0: float,
                  ky1: float, ky2: float, bx: float, by: float, w0: float, w1: float,
                  w2: float) -> tuple[float, float, float, float, float]:
    """P = mb^2 |K|^2 + (b x K)^2 - 2 db W (b.K) - db^2 W^2 for quadratics K(t), W(t).

    This is W^2 (Eb^2 |k|^2 - (b.k + db)^2) with k = K / W: negative exactly where mT(b, k) < M.
    """
    sx = _quad_mul(kx0, kx1, kx2, kx0, kx1, kx2)
    sy = _quad_mul(ky0, ky1, ky2, ky0, ky1, ky2)
    c0 = bx * ky0 - by * kx0
    c1 = bx * ky1 - by * kx1
    c2 = bx * ky2 - by * kx2
    cr = _quad_mul(c0, c1, c2, c0, c1, c2)
    d0 = bx * kx0 + by * ky0
    d1 = bx * kx1 + by * ky1
    d2 = bx * kx2 + by * ky2
    wd = _quad_mul(w0, w1, w2, d0, d1, d2)
    ww = _quad_mul(w0, w1, w2, w0, w1, w2)
    m2 = mb * mb
    return (m2 * (sx[0] + sy[0]) + cr[0] - 2.0 * db * wd[0] - db * db * ww[0],
            m2 * (sx[1] + sy[1]) + cr[1] - 2.0 * db * wd[1] - db * db * ww[1],
            m2 * (sx[2] + sy[2]) + cr[2] - 2.0 * db * wd[2] - db * db * ww[2],
            m2 * (sx[3] + sy[3]) + cr[3] - 2.0 * db * wd[3] - db * db * ww[3],
            m2 * (sx[4] + sy[4]) + cr[4] - 2.0 * db * wd[4] - db * db * ww[4])


def _cubic_polish(t: float, a: float, b: float, c: float) -> float:
    """A few guarded Newton steps on t^3 + a t^2 + b t + c (closed-form roots lose digits)."""
    for _ in range(4):
        f = ((t + a) * t + b) * t + c
        d = (3.0 * t + 2.0 * a) * t + b
        if d == 0.0:
            break
        tn = t - f / d
        fn = ((tn + a) * tn + b) * tn + c
        if not abs(fn) < abs(f):
            break
        t = tn
    return t


def _quartic_candidates(c4: float, c3: float, c2: float,
                        c1: float) -> tuple[float, float, float, float, float]:
    """Where the quartic c4 t^4 + c3 t^3 + ... may take its minimum: the real roots of its
    derivative (plus the real part of a complex pair, where a near-double root sits) and, when
    the leading coefficients are negligible, the roots of the derivative without them.  Missing
    entries are NaN.  These are only guesses: the caller checks each point directly.
    """
    out0 = out1 = out2 = out3 = out4 = math.nan
    if c4 != 0.0:
        a = 0.75 * c3 / c4
        b = 0.5 * c2 / c4
        c = 0.25 * c1 / c4
        q = (a * a - 3.0 * b) / 9.0
        r = (2.0 * a * a * a - 9.0 * a * b + 27.0 * c) / 54.0
        q3 = q * q * q
        if r * r < q3:
            theta = math.acos(max(-1.0, min(1.0, r / math.sqrt(q3))))
            sq = -2.0 * math.sqrt(q)
            out0 = _cubic_polish(sq * math.cos((theta - 2.0 * math.pi) / 3.0) - a / 3.0, a, b, c)
            out1 = _cubic_polish(sq * math.cos(theta / 3.0) - a / 3.0, a, b, c)
            out2 = _cubic_polish(sq * math.cos((theta + 2.0 * math.pi) / 3.0) - a / 3.0, a, b, c)
        else:
            s = abs(r) + math.sqrt(r * r - q3)
            big_a = -math.copysign(s ** (1.0 / 3.0), r)
            big_b = q / big_a if big_a != 0.0 else 0.0
            out0 = _cubic_polish(big_a + big_b - a / 3.0, a, b, c)
            out1 = -0.5 * (big_a + big_b) - a / 3.0
    size = max(abs(c3), abs(c2), abs(c1))
    if abs(c4) <= 1e-12 * size:
        if abs(c3) > 1e-12 * max(abs(c2), abs(c1)):
            qa = 3.0 * c3
            qb = 2.0 * c2
            disc = qb * qb - 4.0 * qa * c1
            if disc >= 0.0:
                sd = math.sqrt(disc)
                out3 = (-qb + sd) / (2.0 * qa)
                out4 = (-qb - sd) / (2.0 * qa)
        elif c2 != 0.0:
            out3 = -0.5 * c1 / c2
    return out0, out1, out2, out3, out4


def _ellipse_point_in_b(t: float, m2: float, da: float, ea: float, ax: float, ay: float,
                        mb: float, eb: float, bx: float, by: float, mx: float) -> bool:
    """Is the point of the ellipse A at t = tan(phi / 2) (polar angle around q = 0) inside B?"""
    if not math.isfinite(t):
        return False
    phi = 2.0 * math.atan(t)
    nx = math.cos(phi)
    ny = math.sin(phi)
    r = da / (ea - (ax * nx + ay * ny))
    return _mt_sq(mb, eb, bx, by, mx - r * nx, -r * ny) <= m2


def _parabola_point_in_b(v: float, m2: float, kappa: float, ux: float, uy: float, mb: float,
                         eb: float, bx: float, by: float, mx: float) -> bool:
    """Is the point of the parabola A at coordinate v across its axis inside B?"""
    if not math.isfinite(v):
        return False
    along = (v * v - kappa * kappa) / (2.0 * kappa)
    qx = along * ux - v * uy
    qy = along * uy + v * ux
    return _mt_sq(mb, eb, bx, by, mx - qx, -qy) <= m2


def _mt2_feasible(big_m: float, ma: float, ea: float, ax: float, ay: float,
                  mb: float, eb: float, bx: float, by: float, mx: float) -> bool:
    """Do A(M) and B(M) meet?  Frame: pmiss = (mx, 0), mx >= 0; ma >= mb; M > ma; ea > 0."""
    m2 = big_m * big_m
    # A focus inside the other region (covers B inside A, and A inside B).
    if _mt_sq(mb, eb, bx, by, mx, 0.0) <= m2 or _mt_sq(ma, ea, ax, ay, mx, 0.0) <= m2:
        return True
    da = 0.5 * (m2 - ma * ma)
    db = 0.5 * (m2 - mb * mb)
    if ma > 0.0:
        # Ellipse: q(t) = da (1 - t^2, 2 t) / W(t), W(t) = (ea + ax) t^2 - 2 ay t + (ea - ax) > 0,
        # and K(t) = W(t) (pmiss - q(t)).
        w0 = ea - ax
        w1 = -2.0 * ay
        w2 = ea + ax
        _c0, c1, c2, c3, c4 = _quartic_of_b(mb, db, mx * w0 - da, mx * w1, mx * w2 + da,
                                           0.0, -2.0 * da, 0.0, bx, by, w0, w1, w2)
        # t = infinity is phi = pi, checked directly; then t = 0 and the critical points.
        if _mt_sq(mb, eb, bx, by, mx + da / (ea + ax), 0.0) <= m2:
            return True
        if _ellipse_point_in_b(0.0, m2, da, ea, ax, ay, mb, eb, bx, by, mx):
            return True
        for t in _quartic_candidates(c4, c3, c2, c1):
            if _ellipse_point_in_b(t, m2, da, ea, ax, ay, mb, eb, bx, by, mx):
                return True
        return False
    # Parabola (massless a): with u the unit vector along pa, q(v) = along(v) u + v u_perp,
    # along(v) = (v^2 - kappa^2) / (2 kappa), kappa = M^2 / (2 |pa|); K(v) = 2 kappa (pmiss - q).
    ux = ax / ea
    uy = ay / ea
    kappa = da / ea
    w = 2.0 * kappa
    pu = mx * ux
    pv = -mx * uy
    bu = bx * ux + by * uy
    bv = by * ux - bx * uy
    c0, c1, c2, c3, c4 = _quartic_of_b(mb, db, w * pu + kappa * kappa, 0.0, -1.0,
                                       w * pv, -w, 0.0, bu, bv, w, 0.0, 0.0)
    if _parabola_point_in_b(0.0, m2, kappa, ux, uy, mb, eb, bx, by, mx):
        return True
    for v in _quartic_candidates(c4, c3, c2, c1):
        if _parabola_point_in_b(v, m2, kappa, ux, uy, mb, eb, bx, by, mx):
            return True
    small = 1e-12 * max(abs(c2), abs(c1), abs(c0))
    if abs(c4) <= small and abs(c3) <= small:
        # b (anti)parallel to a, massless: P is (nearly) quadratic or linear and may be negative
        # only far out, where no critical point points.  Probe beyond its roots on both sides.
        reach = 0.0
        if c2 < 0.0:
            reach = 2.0 * (abs(c1) + math.sqrt(c1 * c1 + 4.0 * abs(c2 * c0))) / abs(c2) + 1.0
        elif abs(c2) <= 1e-12 * max(abs(c1), abs(c0)) and c1 != 0.0:
            reach = 2.0 * abs(c0 / c1) + 1.0
        if reach > 0.0 and (_parabola_point_in_b(reach, m2, kappa, ux, uy, mb, eb, bx, by, mx)
                            or _parabola_point_in_b(-reach, m2, kappa, ux, uy, mb, eb, bx, by,
                                                    mx)):
            return True
    return False


def mt2_massless_invisible(ma: float, pax: float, pay: float, mb: float, pbx: float, pby: float,
                           pmx: float, pmy: float) -> float:
    """MT2 of two visible particles (masses ma, mb; transverse momenta) with massless invisibles.

    Deterministic: a fixed bisection whose bracket shrinks below MT2_TOLERANCE times
    max(Ea, Eb, |pmiss|); the upper end of the final bracket is returned, as mt2_bisect does.
    """
    ma = abs(ma)
    mb = abs(mb)
    ea = math.sqrt(ma * ma + pax * pax + pay * pay)
    eb = math.sqrt(mb * mb + pbx * pbx + pby * pby)
    em = math.sqrt(pmx * pmx + pmy * pmy)
    scale = max(ea, eb, em)
    if not scale > 0.0:
        return 0.0 if scale == 0.0 else math.nan
    if ma * ma < MT2_MASSLESS_FRACTION * scale * scale and \
            mb * mb < MT2_MASSLESS_FRACTION * scale * scale:
        ma = 0.0
        mb = 0.0
        ea = math.sqrt(pax * pax + pay * pay)
        eb = math.sqrt(pbx * pbx + pby * pby)
    if ea == 0.0:
        return mb  # mT(a) = 0 for every split: what is left is b's minimum, mT(b, 0) = mb
    if eb == 0.0:
        return ma
    # Units of the scale, pmiss along +x (MT2 is rotation invariant; for the ellipse this puts the
    # parameter's singular point t = infinity on the far side of A from B's focus).
    inv = 1.0 / scale
    ma *= inv
    mb *= inv
    if em > 0.0:
        cs = pmx / em
        sn = pmy / em
    else:
        cs = 1.0
        sn = 0.0
    ax = (cs * pax + sn * pay) * inv
    ay = (cs * pay - sn * pax) * inv
    bx = (cs * pbx + sn * pby) * inv
    by = (cs * pby - sn * pbx) * inv
    mx = em * inv
    if ma < mb:
        ma, mb = mb, ma
        ax, bx = bx, ax
        ay, by = by, ay
    ea = math.sqrt(ma * ma + ax * ax + ay * ay)
    eb = math.sqrt(mb * mb + bx * bx + by * by)
    lo = ma
    # The lower bound ma is reached when one leg takes all of pmiss (or none of it).
    if _mt_sq(mb, eb, bx, by, mx, 0.0) <= lo * lo or _mt_sq(ma, ea, ax, ay, mx, 0.0) <= lo * lo:
        return lo * scale
    if ma == 0.0:
        # Both massless: MT2 = 0 exactly when pmiss lies in the cone spanned by pa and pb.
        det = ax * by - ay * bx
        if det != 0.0 and mx * by / det >= 0.0 and -ay * mx / det >= 0.0:
            return 0.0
    # Upper bound: the smallest, over three simple splits of pmiss, of the larger mT.
    hi2 = max(_mt_sq(ma, ea, ax, ay, 0.5 * mx, 0.0), _mt_sq(mb, eb, bx, by, 0.5 * mx, 0.0))
    hi2 = min(hi2, max(ma * ma, _mt_sq(mb, eb, bx, by, mx, 0.0)))
    hi2 = min(hi2, max(_mt_sq(ma, ea, ax, ay, mx, 0.0), mb * mb))
    hi = max(math.sqrt(max(hi2, 0.0)), lo)
    for _ in range(MT2_MAX_STEPS):
        if hi - lo <= MT2_TOLERANCE:
            break
        mid = 0.5 * (lo + hi)
        if not (lo < mid < hi):
            break
        if _mt2_feasible(mid, ma, ea, ax, ay, mb, eb, bx, by, mx):
            hi = mid
        else:
            lo = mid
    return hi * scale


def fMT2(apx: float, apy: float, apz: float, ae: float,
         bpx: float, bpy: float, bpz: float, be: float,
         mpx: float, mpy: float, mpz: float, me: float) -> float:
    """Stransverse mass of two visible particles and the MET, massless invisible particles.

    As CutLang's SFuncNode.cpp fMT2: the visible masses are |M()| of the four-vectors, only the
    transverse components of the MET are used.
    """
    ma = abs(_mass(apx, apy, apz, ae))
    mb = abs(_mass(bpx, bpy, bpz, be))
    return mt2_massless_invisible(ma, apx, apy, mb, bpx, bpy, mpx, mpy)

# ----------------------------------------------------------------------------------------------
# Razor variables (CutLang analysis_core/Razorfunc.h)


def fmegajets(px: np.ndarray, py: np.ndarray, pz: np.ndarray,
              e: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The two razor megajets: the split of the objects into two groups that minimises m1^2 + m2^2.

    Follows Razorfunc.h exactly: partitions i = 1 .. 2^n - 2 in increasing order, object k goes to
    megajet 1 when bit (n - 1 - k) of i is set, the first strict minimum of M2(j1) + M2(j2) wins
    (starting from 9999999999), then the megajet with the larger pT comes first.  CutLang then
    overwrites the input collection with the result, so the output keeps min(n, 2) objects:
    [j1, j2] for n >= 2, one zero vector for n = 1, nothing for n = 0.
    """
    n = len(px)
    j1 = np.zeros(4, dtype=np.float64)
    j2 = np.zeros(4, dtype=np.float64)
    n_comb = 1 << n
    m_min = 9999999999.0
    for i in range(1, n_comb - 1):
        s1x = 0.0
        s1y = 0.0
        s1z = 0.0
        s1e = 0.0
        s2x = 0.0
        s2y = 0.0
        s2z = 0.0
        s2e = 0.0
        for k in range(n):
            if (i >> (n - 1 - k)) & 1:
                s1x += px[k]
                s1y += py[k]
                s1z += pz[k]
                s1e += e[k]
            else:
                s2x += px[k]
                s2y += py[k]
                s2z += pz[k]
                s2e += e[k]
        m_temp = (s1e * s1e - (s1x * s1x + s1y * s1y + s1z * s1z)) + \
            (s2e * s2e - (s2x * s2x + s2y * s2y + s2z * s2z))
        if m_temp < m_min:
            m_min = m_temp
            j1[0] = s1x
            j1[1] = s1y
            j1[2] = s1z
            j1[3] = s1e
            j2[0] = s2x
            j2[1] = s2y
            j2[2] = s2z
            j2[3] = s2e
    if _pt(j2[0], j2[1]) > _pt(j1[0], j1[1]):
        j1, j2 = j2, j1
    return _two_objects(n, j1, j2)


def _two_objects(n: int, j1: np.ndarray,
                 j2: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """CutLang's userfuncA: the result overwrites the input collection, which keeps min(n, 2)."""
    size = min(n, 2)
    out = _empty_collection(size)
    for k in range(size):
        src = j1 if k == 0 else j2
        for c in range(4):
            out[c][k] = src[c]
    return out


def _razor_pair(px: np.ndarray, py: np.ndarray, pz: np.ndarray,
                e: np.ndarray) -> tuple[float, float, float, float, float, float, float, float]:
    return (px[0], py[0], pz[0], e[0], px[1], py[1], pz[1], e[1])


def fMR(px: np.ndarray, py: np.ndarray, pz: np.ndarray, e: np.ndarray) -> float:
    """Razor MR of the first two objects of a collection (normally the two megajets).

    CutLang's Razorfunc.h computes the R-frame variable gamma_R* x MR*, not the simple
    sqrt((E1 + E2)^2 - (pz1 + pz2)^2): with A = |p1|, B = |p2| (3-momenta) and pT vectors,
      MR* = sqrt((A + B)^2 - (pz1 + pz2)^2 - (pT2^2 - pT1^2)^2 / |pT1 + pT2|^2),
      beta = (pT2^2 - pT1^2) / sqrt(|pT1 + pT2|^2 ((A + B)^2 - (pz1 + pz2)^2)),
      fMR = MR* / sqrt(1 - beta^2).
    Fewer than two objects: 0 (CutLang reads past the end of its vector there).
    """
    if len(px) < 2:
        return 0.0
    ax, ay, az, _ae, bx, by, bz, _be = _razor_pair(px, py, pz, e)
    big_a = math.sqrt(ax * ax + ay * ay + az * az)
    big_b = math.sqrt(bx * bx + by * by + bz * bz)
    sx = ax + bx
    sy = ay + by
    atbt = sx * sx + sy * sy
    diff = (bx * bx + by * by) - (ax * ax + ay * ay)
    long2 = (big_a + big_b) * (big_a + big_b) - (az + bz) * (az + bz)
    mr_star = _sqrt(long2 - _div(diff * diff, atbt))
    beta = _div(diff, _sqrt(atbt * long2))
    gamma = _div(1.0, _sqrt(1.0 - beta * beta))
    return mr_star * gamma


def fMTR(px: np.ndarray, py: np.ndarray, pz: np.ndarray, e: np.ndarray,
         mpx: float, mpy: float, mpz: float, me: float) -> float:
    """Razor MTR of the first two objects and the MET (transverse part only).

    sqrt((|MET| (pT1 + pT2) - MET . (pT1 + pT2)) / 2), CutLang Razorfunc.h.  Fewer than two
    objects: 0.
    """
    if len(px) < 2:
        return 0.0
    ax, ay, _az, _ae, bx, by, _bz, _be = _razor_pair(px, py, pz, e)
    met = _pt(mpx, mpy)
    temp = met * (_pt(ax, ay) + _pt(bx, by)) - (mpx * (ax + bx) + mpy * (ay + by))
    return _sqrt(0.5 * temp)


# ----------------------------------------------------------------------------------------------
# Hemispheres (CutLang analysis_core/Hemisphere.cpp, the Heppy/CMS algorithm of L. Pape and
# F. Moortgat), called through fhemisphere in SFuncNode.cpp.

HEMISPHERE_DR_MIN_SEED1 = 0.5
HEMISPHERE_MAX_ITERATIONS = 100


def _delta_phi(phi1: float, phi2: float) -> float:
    d = abs(phi2 - phi1)
    if d > math.pi:
        d = 2.0 * math.pi - d
    return d


def _hemisphere_eta(theta: float) -> float:
    t = math.tan(0.5 * theta)
    if t > 0.0:
        return -math.log(t)
    if t == 0.0:
        return math.inf
    return math.nan


def hemisphere_groups(px: np.ndarray, py: np.ndarray, pz: np.ndarray, e: np.ndarray,
                      seed_method: int, association_method: int) -> np.ndarray:
    """Hemisphere::getGrouping(): 1 or 2 for each object, 0 where the algorithm gave up.

    Seeding: 1 = highest |p| then largest dR x |p| (dR > 0.5); 2 = pair of largest invariant mass;
    3 = pair of largest transverse mass; 4 = two leading-pT objects with dR > 0.5.  Association:
    1 = larger longitudinal momentum along the axis; 2 = minimal mass; 3 = minimal Lund distance
    (2 and 3 keep the seeds fixed and move at most one object per iteration); 8 / 9 = E / pT
    balance of consecutive groupings (seed 0 allowed).  An invalid method or a failed seeding
    returns all zeros, as Hemisphere::Reconstruct does.
    """
    n = len(px)
    group = np.zeros(n, dtype=np.int64)
    p = np.zeros(n, dtype=np.float64)
    pt = np.zeros(n, dtype=np.float64)
    eta = np.zeros(n, dtype=np.float64)
    phi = np.zeros(n, dtype=np.float64)
    for i in range(n):
        p[i] = math.sqrt(px[i] * px[i] + py[i] * py[i] + pz[i] * pz[i])
        if p[i] > e[i] + 0.001:
            return group
        pt[i] = math.sqrt(px[i] * px[i] + py[i] * py[i])
        theta = math.atan(pt[i] / pz[i]) if abs(pz[i]) > 0.001 else 1.570796327
        if theta < 0.0:
            theta = theta + 3.141592654
        eta[i] = _hemisphere_eta(theta)
        phi[i] = math.atan2(py[i], px[i])

    i_max = -1
    j_max = -1
    if seed_method == 1:
        p_max = 0.0
        for i in range(n):
            if p_max < p[i]:
                p_max = p[i]
                i_max = i
        if i_max < 0:
            return group
        drp_max = 0.0
        for i in range(n):
            dphi = _delta_phi(phi[i], phi[i_max])
            deta = eta[i] - eta[i_max]
            dr = math.sqrt(deta * deta + dphi * dphi)
            if dr > HEMISPHERE_DR_MIN_SEED1:
                drp = dr * p[i]
                if drp > drp_max:
                    drp_max = drp
                    j_max = i
        if j_max < 0:
            return group
    elif seed_method == 2 or seed_method == 3:
        mass_max = 0.0
        for i in range(n):
            for j in range(i + 1, n):
                if seed_method == 2:
                    sx = px[i] + px[j]
                    sy = py[i] + py[j]
                    sz = pz[i] + pz[j]
                    se = e[i] + e[j]
                    mass = se * se - sx * sx - sy * sy - sz * sz
                else:
                    mass = 2.0 * (pt[i] * pt[j] - px[i] * px[j] - py[i] * py[j])
                if mass_max < mass:
                    mass_max = mass
                    i_max = i
                    j_max = j
        if j_max <= 0:
            return group
    elif seed_method == 4:
        p_max1 = 0.0
        for i in range(n):
            if p_max1 < pt[i]:
                p_max1 = pt[i]
                i_max = i
        if i_max < 0:
            return group
        p_max2 = 0.0
        for i in range(n):
            if i == i_max:
                continue
            # CutLang's copy passes (eta_i, eta_seed, phi_i, phi_seed) to deltaR(eta1, phi1,
            # eta2, phi2), mixing eta and phi; we use the intended dR (see docs/functions.md).
            dphi = _delta_phi(phi[i], phi[i_max])
            deta = eta[i] - eta[i_max]
            dr = math.sqrt(deta * deta + dphi * dphi)
            if p_max2 < pt[i] and dr > HEMISPHERE_DR_MIN_SEED1:
                p_max2 = pt[i]
                j_max = i
        if j_max < 0:
            return group
    elif not (seed_method == 0 and (association_method == 8 or association_method == 9)):
        return group

    # Axes: unit direction, |p| and E of each hemisphere, seeded by the two seed objects.
    a1x = a1y = a1z = a1p = a1e = 0.0
    a2x = a2y = a2z = a2p = a2e = 0.0
    if i_max >= 0 and j_max >= 0:
        a1x = _div(px[i_max], p[i_max])
        a1y = _div(py[i_max], p[i_max])
        a1z = _div(pz[i_max], p[i_max])
        a1p = p[i_max]
        a1e = e[i_max]
        a2x = _div(px[j_max], p[j_max])
        a2y = _div(py[j_max], p[j_max])
        a2z = _div(pz[j_max], p[j_max])
        a2p = p[j_max]
        a2e = e[j_max]

    if association_method == 8 or association_method == 9:
        if n == 0:
            return group
        sumtot = 0.0
        for i in range(n):
            sumtot += e[i] if association_method == 8 else pt[i]
        # Object 0's energy even for method 9, as in the original.
        sumdiff = abs(sumtot - 2.0 * e[0])
        sum1strt = 0.0
        ibest = 0
        jbest = 0
        if n > 2:
            for i in range(n - 1):
                sum1strt += e[i] if association_method == 8 else pt[i]
                for j in range(i + 1, n):
                    sum1 = sum1strt + (e[j] if association_method == 8 else pt[j])
                    sum2 = sumtot - sum1
                    if sumdiff >= abs(sum1 - sum2):
                        sumdiff = abs(sum1 - sum2)
                        ibest = i
                        jbest = j
        for i in range(n):
            group[i] = 1 if (i <= ibest or i == jbest) else 2
        return group

    if association_method != 1 and association_method != 2 and association_method != 3:
        return group

    moved = True
    num_loop = 0
    while moved and num_loop < HEMISPHERE_MAX_ITERATIONS:
        moved = False
        num_loop += 1
        s1x = s1y = s1z = s1e = 0.0
        s2x = s2y = s2z = s2e = 0.0
        if association_method == 1:
            for i in range(n):
                plong1 = px[i] * a1x + py[i] * a1y + pz[i] * a1z
                plong2 = px[i] * a2x + py[i] * a2y + pz[i] * a2z
                if plong1 >= plong2:
                    if group[i] != 1:
                        moved = True
                    group[i] = 1
                    s1x += px[i]
                    s1y += py[i]
                    s1z += pz[i]
                    s1e += e[i]
                else:
                    if group[i] != 2:
                        moved = True
                    group[i] = 2
                    s2x += px[i]
                    s2y += py[i]
                    s2z += pz[i]
                    s2e += e[i]
        else:
            for i in range(n):
                if i == i_max:
                    group[i] = 1
                    s1x += px[i]
                    s1y += py[i]
                    s1z += pz[i]
                    s1e += e[i]
                elif i == j_max:
                    group[i] = 2
                    s2x += px[i]
                    s2y += py[i]
                    s2z += pz[i]
                    s2e += e[i]
                elif not moved:
                    n1x = a1x * a1p
                    n1y = a1y * a1p
                    n1z = a1z * a1p
                    n1e = a1e
                    n2x = a2x * a2p
                    n2y = a2y * a2p
                    n2z = a2z * a2p
                    n2e = a2e
                    if group[i] == 1:
                        n1x -= px[i]
                        n1y -= py[i]
                        n1z -= pz[i]
                        n1e -= e[i]
                    elif group[i] == 2:
                        n2x -= px[i]
                        n2y -= py[i]
                        n2z -= pz[i]
                        n2e -= e[i]
                    mass1 = n1e - _div(px[i] * n1x + py[i] * n1y + pz[i] * n1z, p[i])
                    mass2 = n2e - _div(px[i] * n2x + py[i] * n2y + pz[i] * n2z, p[i])
                    if association_method == 3:
                        mass1 *= _div(n1e, (n1e + e[i]) * (n1e + e[i]))
                        mass2 *= _div(n2e, (n2e + e[i]) * (n2e + e[i]))
                    if mass1 < mass2:
                        if group[i] != 1 and group[i] != 0:
                            moved = True
                        group[i] = 1
                        s1x += px[i]
                        s1y += py[i]
                        s1z += pz[i]
                        s1e += e[i]
                    else:
                        if group[i] != 2 and group[i] != 0:
                            moved = True
                        group[i] = 2
                        s2x += px[i]
                        s2y += py[i]
                        s2z += pz[i]
                        s2e += e[i]
                else:
                    # Only one object moves per iteration; the others keep their group.
                    if group[i] == 1:
                        s1x += px[i]
                        s1y += py[i]
                        s1z += pz[i]
                        s1e += e[i]
                    elif group[i] == 2:
                        s2x += px[i]
                        s2y += py[i]
                        s2z += pz[i]
                        s2e += e[i]
        # New axes; an (almost) empty hemisphere keeps its old direction and energy.
        a1p = math.sqrt(s1x * s1x + s1y * s1y + s1z * s1z)
        if a1p >= 0.0001:
            a1x = s1x / a1p
            a1y = s1y / a1p
            a1z = s1z / a1p
            a1e = s1e
        a2p = math.sqrt(s2x * s2x + s2y * s2y + s2z * s2z)
        if a2p >= 0.0001:
            a2x = s2x / a2p
            a2y = s2y / a2p
            a2z = s2z / a2p
            a2e = s2e
        if num_loop <= 1:
            moved = True
    return group


def fhemisphere(px: np.ndarray, py: np.ndarray, pz: np.ndarray, e: np.ndarray,
                seed: float, assoc: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Two hemisphere objects, the sums of the objects in group 1 and group 2.

    fhemisphere(coll, seed, assoc): CutLang packs the two numbers as p1 = 100 seed + assoc and
    unpacks seed = p1 / 100, assoc = p1 % 10.  Like fmegajets the result keeps min(n, 2) objects.
    """
    packed = 100 * int(seed) + int(assoc)
    groups = hemisphere_groups(px, py, pz, e, packed // 100, packed % 10)
    h1 = np.zeros(4, dtype=np.float64)
    h2 = np.zeros(4, dtype=np.float64)
    for i in range(len(px)):
        if groups[i] == 1:
            h1[0] += px[i]
            h1[1] += py[i]
            h1[2] += pz[i]
            h1[3] += e[i]
        elif groups[i] == 2:
            h2[0] += px[i]
            h2[1] += py[i]
            h2[2] += pz[i]
            h2[3] += e[i]
    return _two_objects(len(px), h1, h2)


# ----------------------------------------------------------------------------------------------
# Event shapes (CutLang SFuncNode.cpp getMomentumTensor / fAplanarity / fSphericity)


def _symmetric3_eigenvalues(a00: float, a11: float, a22: float, a01: float, a02: float,
                            a12: float) -> tuple[float, float, float]:
    """Eigenvalues of a symmetric 3x3 matrix, largest first (closed form: numba's LAPACK needs scipy)."""
    off = a01 * a01 + a02 * a02 + a12 * a12
    if off == 0.0:
        x = a00
        y = a11
        z = a22
    else:
        q = (a00 + a11 + a22) / 3.0
        b00 = a00 - q
        b11 = a11 - q
        b22 = a22 - q
        p = math.sqrt((b00 * b00 + b11 * b11 + b22 * b22 + 2.0 * off) / 6.0)
        det = (b00 * (b11 * b22 - a12 * a12) - a01 * (a01 * b22 - a12 * a02)
               + a02 * (a01 * a12 - b11 * a02))
        r = max(-1.0, min(1.0, det / (2.0 * p * p * p)))
        ang = math.acos(r) / 3.0
        x = q + 2.0 * p * math.cos(ang)
        z = q + 2.0 * p * math.cos(ang + 2.0 * math.pi / 3.0)
        y = 3.0 * q - x - z
    # sort descending
    if x < y:
        x, y = y, x
    if y < z:
        y, z = z, y
    if x < y:
        x, y = y, x
    return x, y, z


def _momentum_tensor_eigenvalues(px: np.ndarray, py: np.ndarray,
                                 pz: np.ndarray) -> tuple[float, float, float]:
    """Eigenvalues of sum p^a p^b / sum |p|^2 (the normalised quadratic tensor), largest first."""
    sxx = syy = szz = sxy = sxz = syz = 0.0
    for i in range(len(px)):
        sxx += px[i] * px[i]
        syy += py[i] * py[i]
        szz += pz[i] * pz[i]
        sxy += px[i] * py[i]
        sxz += px[i] * pz[i]
        syz += py[i] * pz[i]
    norm = sxx + syy + szz
    if norm == 0.0:
        return math.nan, math.nan, math.nan
    inv = 1.0 / norm
    l1, l2, l3 = _symmetric3_eigenvalues(sxx * inv, syy * inv, szz * inv, sxy * inv, sxz * inv,
                                         syz * inv)
    # The tensor is positive semi-definite; rounding must not make a planar event negative.
    return l1, max(l2, 0.0), max(l3, 0.0)


def fAplanarity(px: np.ndarray, py: np.ndarray, pz: np.ndarray, e: np.ndarray) -> float:
    """3/2 lambda3 of the normalised momentum tensor; 0 for fewer than three objects (as CutLang)."""
    if len(px) <= 2:
        return 0.0
    _l1, _l2, l3 = _momentum_tensor_eigenvalues(px, py, pz)
    return 1.5 * l3


def fSphericity(px: np.ndarray, py: np.ndarray, pz: np.ndarray, e: np.ndarray) -> float:
    """3/2 (lambda2 + lambda3) of the normalised momentum tensor; 0 for fewer than three objects."""
    if len(px) <= 2:
        return 0.0
    _l1, l2, l3 = _momentum_tensor_eigenvalues(px, py, pz)
    return 1.5 * (l2 + l3)
