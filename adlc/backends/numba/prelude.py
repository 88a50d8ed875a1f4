"""Helpers every generated numba module starts with (copied into its source, so that
`adlc dump --stage code` shows everything the kernel runs)."""

PRELUDE = '''\
import math
import numpy as np
from numba import njit

_JIT = dict(cache=True, error_model="numpy", nogil=True)


@njit(**_JIT)
def _maxcount(off):
    mx = 0
    for i in range(off.shape[0] - 1):
        d = off[i + 1] - off[i]
        if d > mx:
            mx = d
    return mx


@njit(**_JIT)
def _ptetaphim(pt, eta, phi, m):
    # TLorentzVector::SetPtEtaPhiM
    px = pt * math.cos(phi)
    py = pt * math.sin(phi)
    pz = pt * math.sinh(eta)
    p2 = px * px + py * py + pz * pz
    if m >= 0:
        e = math.sqrt(p2 + m * m)
    else:
        e = math.sqrt(max(p2 - m * m, 0.0))
    return px, py, pz, e


@njit(**_JIT)
def _metxy(pt, phi):
    # TVector2::SetMagPhi
    return pt * math.cos(phi), pt * math.sin(phi)


@njit(**_JIT)
def _met(pt, phi):
    x, y = _metxy(np.float64(pt), np.float64(phi))
    return math.sqrt(x * x + y * y)


@njit(**_JIT)
def _v_pt(px, py, pz, e):
    return math.sqrt(px * px + py * py)


@njit(**_JIT)
def _v_m(px, py, pz, e):
    m2 = e * e - (px * px + py * py + pz * pz)
    if m2 < 0:
        return -math.sqrt(-m2)
    return math.sqrt(m2)


@njit(**_JIT)
def _v_p(px, py, pz, e):
    return math.sqrt(px * px + py * py + pz * pz)


@njit(**_JIT)
def _v_eta(px, py, pz, e):
    # TVector3::PseudoRapidity
    p = math.sqrt(px * px + py * py + pz * pz)
    c = 1.0 if p == 0 else pz / p
    if c * c < 1:
        return -0.5 * math.log((1.0 - c) / (1.0 + c))
    if pz == 0:
        return 0.0
    if pz > 0:
        return 10e10
    return -10e10


@njit(**_JIT)
def _v_phi(px, py, pz, e):
    if px == 0.0 and py == 0.0:
        return 0.0
    return math.atan2(py, px)


@njit(**_JIT)
def _v_e(px, py, pz, e):
    return e


@njit(**_JIT)
def _v_pz(px, py, pz, e):
    return pz


@njit(**_JIT)
def _v_px(px, py, pz, e):
    return px


@njit(**_JIT)
def _v_py(px, py, pz, e):
    return py


@njit(**_JIT)
def _v_rap(px, py, pz, e):
    return 0.5 * math.log((e + pz) / (e - pz))


@njit(**_JIT)
def _v_theta(px, py, pz, e):
    if px == 0.0 and py == 0.0 and pz == 0.0:
        return 0.0
    return math.atan2(math.sqrt(px * px + py * py), pz)


@njit(**_JIT)
def _v_abseta(px, py, pz, e):
    return abs(_v_eta(px, py, pz, e))


@njit(**_JIT)
def _phi_mpi_pi(x):
    # TVector2::Phi_mpi_pi
    if math.isnan(x):
        return x
    while x >= math.pi:
        x -= 2.0 * math.pi
    while x < -math.pi:
        x += 2.0 * math.pi
    return x


@njit(**_JIT)
def _dphi(eta1, phi1, eta2, phi2):
    return abs(_phi_mpi_pi(phi1 - phi2))


@njit(**_JIT)
def _deta(eta1, phi1, eta2, phi2):
    return abs(eta1 - eta2)


@njit(**_JIT)
def _dr(eta1, phi1, eta2, phi2):
    de = eta1 - eta2
    dp = _phi_mpi_pi(phi1 - phi2)
    return math.sqrt(de * de + dp * dp)


@njit(**_JIT)
def _min2(a, b):
    # CutLang: (a<b)*a + (a>b)*b, so 0 on a tie (quirk 15)
    return (a if a < b else 0.0) + (b if a > b else 0.0)


@njit(**_JIT)
def _max2(a, b):
    return (a if a > b else 0.0) + (b if a < b else 0.0)


@njit(**_JIT)
def _bin_reg(nb, lo, hi, x):
    # TAxis::FindFixBin (flow bins 0 and nb + 1; NaN goes to the overflow)
    if x < lo:
        return 0
    if not (x < hi):
        return nb + 1
    return 1 + int(nb * (x - lo) / (hi - lo))


@njit(**_JIT)
def _bin_var(edges, x):
    if x < edges[0]:
        return 0
    if not (x < edges[-1]):
        return edges.shape[0]
    return np.searchsorted(edges, x, side="right")


@njit(**_JIT)
def _kin(pt, eta, phi, m, which):
    px, py, pz, e = _ptetaphim(pt, eta, phi, m)
    if which == 0:
        return e
    if which == 1:
        return _v_p(px, py, pz, e)
    if which == 2:
        return pz
    if which == 3:
        return _v_rap(px, py, pz, e)
    if which == 4:
        return _v_theta(px, py, pz, e)
    return abs(eta)


@njit(**_JIT)
def _mix64(x):
    # splitmix64's finaliser: every input bit flips about half of the output bits
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@njit(**_JIT)
def _hm_uniform(run, event, index, site):
    """applyHM's number in [0, 1): a hash of (run, event, object index + 1, call site), so
    the same event gets the same choices whatever the chunking or -j."""
    golden = np.uint64(0x9E3779B97F4A7C15)
    x = np.uint64(0)
    for v in (np.int64(run), np.int64(event), np.int64(index) + 1, np.int64(site)):
        x = _mix64(x + golden + np.uint64(v))
    return np.float64(x >> np.uint64(11)) * (1.0 / 9007199254740992.0)
'''
