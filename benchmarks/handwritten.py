"""Hand-written numba implementations of the IRIS-HEP ADL benchmark queries: the baseline.

This is what a careful person writes by hand for each query: uproot reads only the branches
the query needs, in chunks, as flat contents plus offsets; one `@njit` loop per query walks the
events and fills a 100-bin histogram (a numpy array with an underflow and an overflow cell,
the same layout as ROOT's TH1 and adlc's accumulators). No framework, no generality: it is the
near-the-limit reference that adlc's generated code is measured against.

Semantics are those of the ADL files in `examples/benchmarks/` (CutLang's, as adlc runs them):
float32 branches widened to float64 before any arithmetic; bins found as TAxis::FindFixBin does
(`1 + int(nb * (x - lo) / (hi - lo))`, flow cells 0 and nb + 1); a jet is cleaned away when
dR < 0.4 to any selected lepton; fHT sums the clean jets' pT in file order in float64. The
smoke test (tests/test_benchmarks_smoke.py) checks that every histogram equals adlc's bin for
bin. Shortcuts a hand-written version takes and adlc does not:

* MET is read as `MET_pt`. CutLang's MET is the magnitude of a TVector2 built from `MET_pt`
  and `MET_phi`, so adlc also reads `MET_phi` and computes a cos, a sin and a sqrt. The two
  differ in the last bit now and then, which moves an event into the neighbouring bin when
  it sits on a bin edge: 0 of 1M events, 2 of 5M (q1) on the benchmark files.
* q3 fills every central jet: "events with >= 1 central jet" selects nothing extra.
* q7 compares dR^2 with 0.16 instead of taking a square root.
* q5 and q8 visit each unordered pair (a < b) once; q6 each unordered triplet, with every
  jet's four-vector computed once per event and the first two added outside the innermost
  loop. (adlc does the first two as well: it scans q6's three placeholders as unordered
  triplets because m(top) is symmetric in them, and computes each jet's four-vector once
  per event before the scan; it leaves the hoisting of the partial sum to LLVM.)

    python -m benchmarks.handwritten FILE [--queries q1,q2] [--chunk-size N]
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numba import njit

from benchmarks.io_floor import iterate
from benchmarks.queries import CHUNK_SIZE, QUERIES, Query, select

_JIT = dict(cache=True, nogil=True, error_model="numpy")

MUON_MASS = 0.105658      # GeV: CutLang fixes it (schemas.py), whatever Muon_mass says
ELECTRON_MASS = 0.000511


# --- shared numba helpers ----------------------------------------------------------------------


@njit(**_JIT)
def _fill(hists, axes, h, x):
    """Add x to histogram h. Bins as TAxis::FindFixBin: cell 0 underflow, nb + 1 overflow
    (NaN included). `axes[h]` is (nb, lo, hi)."""
    nb, lo, hi = int(axes[h, 0]), axes[h, 1], axes[h, 2]
    if x < lo:
        hists[h, 0] += 1
    elif not (x < hi):
        hists[h, nb + 1] += 1
    else:
        hists[h, 1 + int(nb * (x - lo) / (hi - lo))] += 1


@njit(**_JIT)
def _dr2(eta1, phi1, eta2, phi2):
    de = np.float64(eta1) - np.float64(eta2)
    dp = np.float64(phi1) - np.float64(phi2)
    if dp >= math.pi:           # phi in [-pi, pi]: one wrap is enough
        dp -= 2.0 * math.pi
    elif dp < -math.pi:
        dp += 2.0 * math.pi
    return de * de + dp * dp


@njit(**_JIT)
def _p4(pt, eta, phi, m):
    """TLorentzVector::SetPtEtaPhiM in float64: (px, py, pz, E)."""
    pt, eta, phi, m = np.float64(pt), np.float64(eta), np.float64(phi), np.float64(m)
    px, py, pz = pt * math.cos(phi), pt * math.sin(phi), pt * math.sinh(eta)
    p2 = px * px + py * py + pz * pz
    e = math.sqrt(p2 + m * m) if m >= 0 else math.sqrt(max(p2 - m * m, 0.0))
    return px, py, pz, e


@njit(**_JIT)
def _mass(px, py, pz, e):
    m2 = e * e - (px * px + py * py + pz * pz)
    return math.sqrt(m2) if m2 >= 0 else -math.sqrt(-m2)


# --- queries 1-4 and 7: checked against adlc bin for bin ---------------------------------------


@njit(**_JIT)
def _q1(hists, axes, nev, met):
    for i in range(nev):
        _fill(hists, axes, 0, np.float64(met[i]))


@njit(**_JIT)
def _q2(hists, axes, nev, jet_off, jet_pt):
    for j in range(jet_off[0], jet_off[nev]):
        _fill(hists, axes, 0, np.float64(jet_pt[j]))


@njit(**_JIT)
def _q3(hists, axes, nev, jet_off, jet_pt, jet_eta):
    for j in range(jet_off[0], jet_off[nev]):
        if abs(jet_eta[j]) < 1.0:
            _fill(hists, axes, 0, np.float64(jet_pt[j]))


@njit(**_JIT)
def _q4(hists, axes, nev, jet_off, jet_pt, met):
    for i in range(nev):
        hard = 0
        for j in range(jet_off[i], jet_off[i + 1]):
            if jet_pt[j] > 40.0:
                hard += 1
                if hard == 2:
                    _fill(hists, axes, 0, np.float64(met[i]))
                    break


@njit(**_JIT)
def _isolated(eta, phi, off, pt, leta, lphi, i):
    """No lepton with pT > 10 of event i within dR < 0.4 of (eta, phi)."""
    for k in range(off[i], off[i + 1]):
        if pt[k] > 10.0 and _dr2(eta, phi, leta[k], lphi[k]) < 0.16:
            return False
    return True


@njit(**_JIT)
def _q7(hists, axes, nev, jet_off, jet_pt, jet_eta, jet_phi, mu_off, mu_pt, mu_eta,
        mu_phi, el_off, el_pt, el_eta, el_phi):
    for i in range(nev):
        ht = 0.0
        n = 0
        for j in range(jet_off[i], jet_off[i + 1]):
            if jet_pt[j] > 30.0 \
                    and _isolated(jet_eta[j], jet_phi[j], el_off, el_pt, el_eta, el_phi, i) \
                    and _isolated(jet_eta[j], jet_phi[j], mu_off, mu_pt, mu_eta, mu_phi, i):
                ht += np.float64(jet_pt[j])
                n += 1
        if n:
            _fill(hists, axes, 0, ht)


# --- queries 5, 6, 8: IRIS-HEP definitions, no ADL version yet ----------------------------------


@njit(**_JIT)
def _q5(hists, axes, nev, mu_off, mu_pt, mu_eta, mu_phi, mu_q, met):
    """MET of events with an opposite-charge muon pair with 60 < m(mumu) < 120 GeV."""
    for i in range(nev):
        found = False
        for a in range(mu_off[i], mu_off[i + 1]):
            pa = _p4(mu_pt[a], mu_eta[a], mu_phi[a], MUON_MASS)
            for b in range(a + 1, mu_off[i + 1]):
                if mu_q[a] == mu_q[b]:
                    continue
                pb = _p4(mu_pt[b], mu_eta[b], mu_phi[b], MUON_MASS)
                m = _mass(pa[0] + pb[0], pa[1] + pb[1], pa[2] + pb[2], pa[3] + pb[3])
                if 60.0 < m < 120.0:
                    found = True
                    break
            if found:
                break
        if found:
            _fill(hists, axes, 0, np.float64(met[i]))


@njit(**_JIT)
def _q6(hists, axes, nev, jet_off, jet_pt, jet_eta, jet_phi, jet_m, jet_btag):
    """In events with >= 3 jets, the trijet with mass closest to 172.5 GeV (the first in
    a < b < c order wins a tie): its pT (histogram 0) and its jets' largest btag (1)."""
    width = 0
    for i in range(nev):
        width = max(width, jet_off[i + 1] - jet_off[i])
    p4 = np.empty((width, 4))   # each jet's four-vector once per event, not once per trijet
    for i in range(nev):
        o, n = jet_off[i], jet_off[i + 1] - jet_off[i]
        if n < 3:
            continue
        for a in range(n):
            p4[a, 0], p4[a, 1], p4[a, 2], p4[a, 3] = _p4(jet_pt[o + a], jet_eta[o + a],
                                                         jet_phi[o + a], jet_m[o + a])
        best = math.inf
        best_pt = 0.0
        btag = jet_btag[o]
        for a in range(n - 2):
            for b in range(a + 1, n - 1):
                px, py = p4[a, 0] + p4[b, 0], p4[a, 1] + p4[b, 1]
                pz, e = p4[a, 2] + p4[b, 2], p4[a, 3] + p4[b, 3]
                for c in range(b + 1, n):
                    tx, ty = px + p4[c, 0], py + p4[c, 1]
                    d = abs(_mass(tx, ty, pz + p4[c, 2], e + p4[c, 3]) - 172.5)
                    if d < best:
                        best = d
                        best_pt = math.sqrt(tx * tx + ty * ty)
                        btag = max(jet_btag[o + a], jet_btag[o + b], jet_btag[o + c])
        _fill(hists, axes, 0, best_pt)
        _fill(hists, axes, 1, np.float64(btag))


@njit(**_JIT)
def _q8(hists, axes, nev, mu_off, mu_pt, mu_eta, mu_phi, mu_q, el_off, el_pt, el_eta,
        el_phi, el_q, met, met_phi):
    """Events with >= 3 light leptons and a same-flavour opposite-sign pair: the pair with mass
    closest to 91.2 GeV; fill mT of MET with the highest-pT lepton not in that pair."""
    for i in range(nev):
        m0, nm = mu_off[i], mu_off[i + 1] - mu_off[i]
        e0, ne = el_off[i], el_off[i + 1] - el_off[i]
        if nm + ne < 3:
            continue
        best = math.inf
        flavour, pa, pb = -1, -1, -1
        for f in range(2):
            o, n = (m0, nm) if f == 0 else (e0, ne)
            for a in range(o, o + n):
                for b in range(a + 1, o + n):
                    if f == 0:
                        if mu_q[a] == mu_q[b]:
                            continue
                        va = _p4(mu_pt[a], mu_eta[a], mu_phi[a], MUON_MASS)
                        vb = _p4(mu_pt[b], mu_eta[b], mu_phi[b], MUON_MASS)
                    else:
                        if el_q[a] == el_q[b]:
                            continue
                        va = _p4(el_pt[a], el_eta[a], el_phi[a], ELECTRON_MASS)
                        vb = _p4(el_pt[b], el_eta[b], el_phi[b], ELECTRON_MASS)
                    d = abs(_mass(va[0] + vb[0], va[1] + vb[1], va[2] + vb[2], va[3] + vb[3])
                            - 91.2)
                    if d < best:
                        best, flavour, pa, pb = d, f, a, b
        if flavour < 0:
            continue
        lead_pt, lead_phi = -1.0, 0.0
        for k in range(m0, m0 + nm):
            if (flavour != 0 or (k != pa and k != pb)) and mu_pt[k] > lead_pt:
                lead_pt, lead_phi = np.float64(mu_pt[k]), np.float64(mu_phi[k])
        for k in range(e0, e0 + ne):
            if (flavour != 1 or (k != pa and k != pb)) and el_pt[k] > lead_pt:
                lead_pt, lead_phi = np.float64(el_pt[k]), np.float64(el_phi[k])
        dphi = lead_phi - np.float64(met_phi[i])
        mt = math.sqrt(max(2.0 * lead_pt * np.float64(met[i]) * (1.0 - math.cos(dphi)), 0.0))
        _fill(hists, axes, 0, mt)


KERNELS: dict[str, Callable] = {"q1": _q1, "q2": _q2, "q3": _q3, "q4": _q4, "q5": _q5,
                                "q6": _q6, "q7": _q7, "q8": _q8}


# --- reading and running ----------------------------------------------------------------------


def _group(branch: str) -> str | None:
    head, sep, _ = branch.partition("_")
    return head if sep and head in ("Jet", "Muon", "Electron", "Photon", "Tau") else None


def kernel_args(query: Query, arrays: dict) -> list[np.ndarray]:
    """The kernel's arrays from uproot's awkward ones: per collection its offsets (once, before
    its first branch), then every branch's flat contents."""
    import awkward as ak

    args: list[np.ndarray] = []
    seen: set[str] = set()
    for name in query.branches:
        layout = arrays[name].layout
        group = _group(name)
        if group is None:
            args.append(np.asarray(layout.data) if isinstance(layout, ak.contents.NumpyArray)
                        else ak.to_numpy(arrays[name]))
            continue
        if group not in seen:
            seen.add(group)
            args.append(np.asarray(layout.offsets))
        args.append(np.asarray(layout.content.data))
    return args


def empty_histograms(query: Query) -> tuple[np.ndarray, np.ndarray]:
    """(hists, axes): int64 counts, one row of nb + 2 cells per histogram; rows (nb, lo, hi)."""
    width = max(nb for _, (nb, _, _) in query.histograms) + 2
    axes = np.array([axis for _, axis in query.histograms], dtype=np.float64)
    return np.zeros((len(query.histograms), width), dtype=np.int64), axes


def run(name: str, path: str | Path, chunk_size: int = CHUNK_SIZE,
        max_events: int | None = None) -> dict[str, np.ndarray]:
    """The filled histograms of query `name` over `path`: {name: int64 counts, nb + 2 cells}."""
    query = QUERIES[name]
    hists, axes = empty_histograms(query)
    kernel = KERNELS[name]
    for n, arrays in iterate(path, query.branches, chunk_size, max_events):
        kernel(hists, axes, n, *kernel_args(query, arrays))
    return {h: hists[i, : nb + 2] for i, (h, (nb, _, _)) in enumerate(query.histograms)}


def warm_up(name: str, path: str | Path) -> None:
    """Compile (or load from numba's cache) the kernel of `name` on the first 100 events."""
    run(name, path, max_events=100)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the hand-written benchmark queries.")
    parser.add_argument("file")
    parser.add_argument("--queries", default="all")
    parser.add_argument("--chunk-size", type=int, default=CHUNK_SIZE)
    args = parser.parse_args(argv)
    for name in select(args.queries):
        warm_up(name, args.file)
        start = time.perf_counter()
        hists = run(name, args.file, args.chunk_size)
        took = time.perf_counter() - start
        entries = ", ".join(f"{h} {int(v.sum())}" for h, v in hists.items())
        print(f"{name}: {took:.3f} s; entries: {entries}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
