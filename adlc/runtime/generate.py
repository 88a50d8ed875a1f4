"""Synthetic NanoAOD-like inputs of any size, for benchmarks and tests (`adlc generate`).

`generate(path, n, schema)` writes a TTree with exactly the branch names, order and leaf types of
one of the reference files: `nanoaod` = tiny_nano.root (CutLang's CMSNANO types), `run2012` =
Run2012B_SingleMu_1000.root (the IRIS-HEP benchmark layout). `delphes` writes a tree `Delphes`
named and typed like Delphes output (`Jet_size`/I, `Jet.PT`/F, `Jet.BTag`/i, one-element
`MissingET.MET`), but flat: uproot cannot write Delphes' split TClonesArrays, so `Jet.PT` is a
top-level jagged branch counted by `Jet_size` instead of a sub-branch of `Jet` counted by its
leaf `Jet_`. The reader reads both layouts the same way. The physics is a toy but shaped like
the real thing, so analyses select sensible fractions of events: a Z→μμ sample (Breit–Wigner
mass, boosted isotropic decays, so m(μμ) peaks at 91.19 GeV), W-like single muons, falling pT
spectra, a long-tailed (negative-binomial) jet multiplicity, exponential MET, run2012's b-tag
sentinels (−10, −1) and −999 muon impact-parameter sentinels, unordered run2012 muons.

The file is written with uproot `mktree` + `extend` in chunks (≤100k events each) so millions of
events fit in memory, to a temporary name that is renamed only when complete. The output is a
deterministic function of (n, schema, seed, chunk_size).

uproot cannot declare UInt_t counters (it always makes them Int_t); the reference files have
`nMuon/i`. `_uint32_counters` patches uproot's writer for the duration of one write so that the
counters get the real type, and falls back to Int_t counters (which CutLang reads identically,
conformance README §7) with a warning if the uproot internals ever change.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from adlc.errors import AdlUsageError
from adlc.runtime.reader import branch_group

__all__ = ["LAYOUTS", "BranchSpec", "branch_typenames", "generate"]

MAX_CHUNK = 100_000
MUON_MASS = 0.10565837      # GeV, the value stored in the real files' Muon_mass
ELECTRON_MASS = 0.000511
Z_MASS, Z_WIDTH = 91.19, 2.5


# --- layouts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BranchSpec:
    """One branch: name, numpy dtype code (`f4 i4 u4 u8 ?`) and whether it is a list per event."""

    name: str
    dtype: str
    jagged: bool

    @classmethod
    def parse(cls, text: str) -> BranchSpec:
        name, _, code = text.partition(":")
        return cls(name, code.removesuffix("[]"), code.endswith("[]"))

    @property
    def typename(self) -> str:
        """uproot's typename, as `TBranch.typename` reports it (`float[]`, `uint32_t`)."""
        base = {"f4": "float", "i4": "int32_t", "u4": "uint32_t", "u8": "uint64_t",
                "i8": "int64_t", "?": "bool"}[self.dtype]
        return base + ("[]" if self.jagged else "")


def _layout(*groups: str) -> tuple[BranchSpec, ...]:
    return tuple(BranchSpec.parse(t) for g in groups for t in g.split())


def _coll(prefix: str, fields: str) -> str:
    """`_coll("Muon", "pt:f4 charge:i4")` → `"nMuon:u4 Muon_pt:f4[] Muon_charge:i4[]"`."""
    return f"n{prefix}:u4 " + " ".join(f"{prefix}_{f}[]" for f in fields.split())


# tiny_nano.root: CutLang's MakeClass types (ADL.md §9). Tau/FatJet/GenPart have counters only.
NANOAOD_LAYOUT = _layout(
    "run:u4 luminosityBlock:u4 event:u8 HLT_IsoMu17_eta2p1_LooseIsoPFTau20:?",
    _coll("Muon", "pt:f4 eta:f4 phi:f4 mass:f4 charge:i4 dz:f4 dxy:f4 miniPFRelIso_all:f4 "
                  "pfRelIso03_all:f4 softId:? tightId:? genPartIdx:i4"),
    _coll("Electron", "pt:f4 eta:f4 phi:f4 mass:f4 charge:i4 dz:f4 dxy:f4 miniPFRelIso_all:f4"),
    _coll("Jet", "pt:f4 eta:f4 phi:f4 mass:f4 btagDeepB:f4 btag:f4 puId:i4"),
    _coll("Photon", "pt:f4 eta:f4 phi:f4 mass:f4 sieie:f4"),
    "nTau:u4 nFatJet:u4 nGenPart:u4 MET_pt:f4 MET_phi:f4",
)

# Run2012B_SingleMu_1000.root (IRIS-HEP benchmark): run is Int_t, Jet_puId Bool_t, no btagDeepB.
RUN2012_LAYOUT = _layout(
    "run:i4 luminosityBlock:u4 event:u8 HLT_IsoMu24_eta2p1:? HLT_IsoMu24:? "
    "HLT_IsoMu17_eta2p1_LooseIsoPFTau20:? PV_npvs:i4 PV_x:f4 PV_y:f4 PV_z:f4",
    _coll("Muon", "pt:f4 eta:f4 phi:f4 mass:f4 charge:i4 pfRelIso03_all:f4 pfRelIso04_all:f4 "
                  "tightId:? softId:? dxy:f4 dxyErr:f4 dz:f4 dzErr:f4 jetIdx:i4 genPartIdx:i4"),
    _coll("Electron", "pt:f4 eta:f4 phi:f4 mass:f4 charge:i4 pfRelIso03_all:f4 dxy:f4 dxyErr:f4 "
                      "dz:f4 dzErr:f4 cutBasedId:? pfId:? jetIdx:i4 genPartIdx:i4"),
    _coll("Tau", "pt:f4 eta:f4 phi:f4 mass:f4 charge:i4 decayMode:i4 relIso_all:f4 jetIdx:i4 "
                 "genPartIdx:i4 idDecayMode:? idIsoRaw:f4 idIsoVLoose:? idIsoLoose:? "
                 "idIsoMedium:? idIsoTight:? idAntiEleLoose:? idAntiEleMedium:? "
                 "idAntiEleTight:? idAntiMuLoose:? idAntiMuMedium:? idAntiMuTight:?"),
    _coll("Photon", "pt:f4 eta:f4 phi:f4 mass:f4 charge:i4 pfRelIso03_all:f4 jetIdx:i4 "
                    "genPartIdx:i4"),
    "MET_pt:f4 MET_phi:f4 MET_sumet:f4 MET_significance:f4 MET_CovXX:f4 MET_CovXY:f4 "
    "MET_CovYY:f4",
    _coll("Jet", "pt:f4 eta:f4 phi:f4 mass:f4 puId:? btag:f4"),
)



def _delphes_coll(name: str, fields: str) -> str:
    """`_delphes_coll("Jet", "PT:f4")` → `"Jet_size:i4 Jet.PT:f4[]"` (Delphes' names and types)."""
    return f"{name}_size:i4 " + " ".join(f"{name}.{f}[]" for f in fields.split())


# Delphes 3 ROOT output (delphes_card_CMS), the branches an analysis reads, in Delphes' order.
DELPHES_LAYOUT = _layout(
    _delphes_coll("Event", "Number:i8"),
    _delphes_coll("Jet", "PT:f4 Eta:f4 Phi:f4 Mass:f4 Flavor:u4 BTag:u4 TauTag:u4 Charge:i4"),
    _delphes_coll("Electron", "PT:f4 Eta:f4 Phi:f4 Charge:i4 EhadOverEem:f4 IsolationVar:f4 "
                              "D0:f4 DZ:f4"),
    _delphes_coll("Photon", "PT:f4 Eta:f4 Phi:f4 E:f4 IsolationVar:f4"),
    _delphes_coll("Muon", "PT:f4 Eta:f4 Phi:f4 Charge:i4 IsolationVar:f4 D0:f4 DZ:f4"),
    _delphes_coll("MissingET", "MET:f4 Eta:f4 Phi:f4"),
    _delphes_coll("ScalarHT", "HT:f4"),
)

LAYOUTS: Mapping[str, tuple[BranchSpec, ...]] = MappingProxyType(
    {"nanoaod": NANOAOD_LAYOUT, "run2012": RUN2012_LAYOUT, "delphes": DELPHES_LAYOUT})
TREES: Mapping[str, str] = MappingProxyType({"delphes": "Delphes"})  # default: Events


def _counter_of(schema: str, group: str) -> str:
    """The counter branch of a collection: `nMuon`, or Delphes' `Muon_size`."""
    return f"{group}_size" if schema == "delphes" else f"n{group}"


def branch_typenames(schema: str) -> list[tuple[str, str]]:
    """[(branch, uproot typename)] of a layout, in file order."""
    return [(b.name, b.typename) for b in _get_layout(schema)]


def _get_layout(schema: str) -> tuple[BranchSpec, ...]:
    layout = LAYOUTS.get(schema)
    if layout is None:
        raise AdlUsageError.one(f"cannot generate schema {schema!r}",
                                hint=f"choose one of {', '.join(LAYOUTS)}")
    return layout


# --- physics -------------------------------------------------------------------------------------


@dataclass
class _Jagged:
    """One collection of a chunk: per-event counts and flat per-object fields."""

    counts: np.ndarray
    fields: dict[str, np.ndarray]

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    def event_index(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.counts)), self.counts)

    def reorder(self, order: np.ndarray) -> None:
        self.fields = {k: v[order] for k, v in self.fields.items()}

    def sort_by_pt(self) -> None:
        """Descending pT within each event (NanoAOD order); events stay in place."""
        self.reorder(np.lexsort((-self.fields["pt"], self.event_index())))

    def any_per_event(self, flags: np.ndarray) -> np.ndarray:
        cum = np.concatenate([[0], np.cumsum(flags, dtype=np.int64)])
        offsets = np.concatenate([[0], np.cumsum(self.counts, dtype=np.int64)])
        return cum[offsets[1:]] > cum[offsets[:-1]]


def _sign(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.where(rng.random(n) < 0.5, 1, -1).astype(np.int32)


def _breit_wigner(rng: np.random.Generator, n: int, lo: float = 50.0, hi: float = 150.0
                  ) -> np.ndarray:
    """Cauchy(Z_MASS, Z_WIDTH/2) truncated to [lo, hi] by inverse CDF (no pile-up at the edges)."""
    half = Z_WIDTH / 2

    def cdf(x: float) -> float:
        return 0.5 + float(np.arctan((x - Z_MASS) / half)) / np.pi

    u = rng.uniform(cdf(lo), cdf(hi), n)
    return Z_MASS + half * np.tan(np.pi * (u - 0.5))


def _z_decays(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    """Z → μ+μ−: returns (pt, eta, phi) of μ+ then of μ−, and an acceptance mask
    (both |η| < 2.4 and pT > 3 GeV). Rejected decays are re-drawn at fixed Z momentum a few
    times, so the mask is almost all True; the caller drops what is still outside."""
    mass = _breit_wigner(rng, n)
    pt_z = rng.exponential(12.0, n) + rng.exponential(3.0, n)
    rap, phi_z = rng.normal(0.0, 1.3, n), rng.uniform(-np.pi, np.pi, n)
    mt = np.hypot(mass, pt_z)
    p_z = np.stack([pt_z * np.cos(phi_z), pt_z * np.sin(phi_z), mt * np.sinh(rap)], -1)
    e_z = mt * np.cosh(rap)
    beta = p_z / e_z[:, None]
    gamma = e_z / mass
    pstar = np.sqrt(mass**2 / 4 - MUON_MASS**2)
    out = np.zeros((2, 3, n))
    todo = np.ones(n, dtype=bool)
    for _ in range(20):
        idx = np.flatnonzero(todo)
        if not idx.size:
            break
        kin = _decay_pair(rng, beta[idx], gamma[idx], pstar[idx], mass[idx])
        ok = np.all((np.abs(kin[:, 1]) < 2.4) & (kin[:, 0] > 3.0), axis=0)
        out[:, :, idx[ok]] = kin[:, :, ok]
        todo[idx[ok]] = False
    return (*out[0], *out[1], ~todo)


def _decay_pair(rng: np.random.Generator, beta: np.ndarray, gamma: np.ndarray,
                pstar: np.ndarray, mass: np.ndarray) -> np.ndarray:
    """Isotropic two-body decay in the rest frame, boosted to the lab: [muon][pt,eta,phi][i]."""
    n = len(mass)
    cos_t, phi = rng.uniform(-1, 1, n), rng.uniform(-np.pi, np.pi, n)
    sin_t = np.sqrt(1 - cos_t**2)
    direction = np.stack([sin_t * np.cos(phi), sin_t * np.sin(phi), cos_t], -1)
    beta2 = np.maximum((beta**2).sum(-1), 1e-300)
    out = np.empty((2, 3, n))
    for k, sign in enumerate((1.0, -1.0)):
        p = sign * pstar[:, None] * direction
        e = mass / 2
        bp = (beta * p).sum(-1)
        lab = p + ((gamma - 1) * bp / beta2 + gamma * e)[:, None] * beta
        pt = np.hypot(lab[:, 0], lab[:, 1])
        out[k] = (pt, np.arcsinh(lab[:, 2] / pt), np.arctan2(lab[:, 1], lab[:, 0]))
    return out


def _falling_pt(rng: np.random.Generator, n: int, start: float, soft: float, hard: float,
                hard_fraction: float) -> np.ndarray:
    """A falling spectrum above `start`: two exponentials, the harder one a minority."""
    scale = np.where(rng.random(n) < hard_fraction, hard, soft)
    return start + rng.exponential(1.0, n) * scale


def _eta(rng: np.random.Generator, n: int, width: float, limit: float) -> np.ndarray:
    """Gaussian η; values beyond `limit` are redrawn uniformly inside it."""
    eta = rng.normal(0.0, width, n)
    out = np.abs(eta) >= limit
    eta[out] = rng.uniform(-limit, limit, int(out.sum()))
    return eta


def _muons(rng: np.random.Generator, n: int, run2012: bool) -> tuple[_Jagged, np.ndarray]:
    """~27% Z→μμ pairs, a W-like muon in most other events, soft extras: mean ≈ 1.4 per event."""
    is_z = rng.random(n) < 0.28
    zidx = np.flatnonzero(is_z)
    pt1, eta1, phi1, pt2, eta2, phi2, accepted = _z_decays(rng, zidx.size)
    is_z[zidx[~accepted]] = False
    keep = accepted
    lead = (rng.random(n) < np.where(is_z, 0.1, 0.85)).astype(np.int64)
    soft = rng.poisson(0.2, n)
    counts = 2 * is_z + lead + soft
    nl, ns = int(lead.sum()), int(soft.sum())
    # Per event: [Z mu+, Z mu-] then the W-like muon then soft ones (file order in run2012).
    zq = _sign(rng, int(keep.sum()))
    parts = {
        "pt": (np.stack([pt1[keep], pt2[keep]], -1), _falling_pt(rng, nl, 20.0, 10.0, 25.0, 0.2),
               _falling_pt(rng, ns, 3.0, 6.0, 20.0, 0.1)),
        "eta": (np.stack([eta1[keep], eta2[keep]], -1), _eta(rng, nl, 1.2, 2.4),
                rng.uniform(-2.4, 2.4, ns)),
        "phi": (np.stack([phi1[keep], phi2[keep]], -1), rng.uniform(-np.pi, np.pi, nl),
                rng.uniform(-np.pi, np.pi, ns)),
        "charge": (np.stack([zq, -zq], -1), _sign(rng, nl), _sign(rng, ns)),
    }
    owner = (np.repeat(np.flatnonzero(is_z), 2), np.flatnonzero(lead), np.repeat(np.arange(n), soft))
    order = np.argsort(np.concatenate(owner), kind="stable")
    fields = {k: np.concatenate([z.ravel(), w, s])[order] for k, (z, w, s) in parts.items()}
    mu = _Jagged(counts.astype(np.int64), fields)
    if not run2012:
        mu.sort_by_pt()  # NanoAOD muons are pT-ordered; the 2012 benchmark file's are not
    _muon_extras(rng, mu, run2012)
    return mu, is_z


def _muon_extras(rng: np.random.Generator, mu: _Jagged, run2012: bool) -> None:
    m = mu.total
    f = mu.fields
    f["mass"] = np.full(m, MUON_MASS)
    f["dxy"], f["dz"] = rng.normal(0, 0.01, m), rng.normal(0, 0.03, m)
    f["dxyErr"], f["dzErr"] = rng.gamma(4.0, 0.0004, m), rng.gamma(4.0, 0.0006, m)
    iso = rng.exponential(0.12, m) * np.where(rng.random(m) < 0.15, 10.0, 1.0)
    f["pfRelIso03_all"], f["pfRelIso04_all"] = iso, iso * rng.uniform(1.0, 1.3, m)
    f["miniPFRelIso_all"] = iso * rng.uniform(0.7, 1.0, m)
    f["tightId"], f["softId"] = rng.random(m) < 0.75, rng.random(m) < 0.8
    f["jetIdx"] = f["genPartIdx"] = np.full(m, -1, np.int32)
    if run2012:  # the real file marks muons without a track fit with -999
        no_track = rng.random(m) < 0.16
        for k in ("dxy", "dz", "dxyErr", "dzErr"):
            f[k] = np.where(no_track, -999.0, f[k])
        f["pfRelIso03_all"] = np.where(no_track | (rng.random(m) < 0.02), -999.0, iso)


def _electrons(rng: np.random.Generator, n: int, run2012: bool) -> _Jagged:
    counts = rng.poisson(0.2, n)
    m = int(counts.sum())
    # The real electrons carry small stored masses of either sign; CutLang fixes 0.511 MeV.
    mass = rng.normal(0.0, 0.01, m) if run2012 else np.full(m, ELECTRON_MASS)
    iso = rng.exponential(2.5, m)
    el = _Jagged(counts, {
        "pt": _falling_pt(rng, m, 5.0, 9.0, 30.0, 0.15), "eta": rng.uniform(-2.5, 2.5, m),
        "phi": rng.uniform(-np.pi, np.pi, m), "mass": mass, "charge": _sign(rng, m),
        "dxy": rng.normal(0, 0.02, m), "dz": rng.normal(0, 0.05, m),
        "dxyErr": rng.gamma(3.0, 0.013, m), "dzErr": rng.gamma(3.0, 0.022, m),
        "miniPFRelIso_all": rng.exponential(0.1, m),
        "pfRelIso03_all": np.where(rng.random(m) < 0.6, -999.0, iso),
        "cutBasedId": rng.random(m) < 0.99, "pfId": rng.random(m) < 0.41,
        "jetIdx": np.full(m, -1, np.int32), "genPartIdx": np.full(m, -1, np.int32)})
    el.sort_by_pt()
    return el


def _btag(rng: np.random.Generator, m: int, sentinels: bool) -> np.ndarray:
    """U-shaped score in [0, 1] (mostly light jets near 0, b-like near 1); run2012 also has the
    real file's sentinels: −10 for ~23% of jets, −1 for ~12%."""
    score = np.where(rng.random(m) < 0.78, rng.beta(0.9, 4.0, m), rng.beta(4.0, 0.4, m))
    if sentinels:
        u = rng.random(m)
        score = np.where(u < 0.23, -10.0, np.where(u < 0.35, -1.0, score))
    return score


def _jets(rng: np.random.Generator, n: int, run2012: bool) -> _Jagged:
    """Negative-binomial multiplicity (mean 3.2, r = 1.5: occasionally above 20)."""
    mean, r = 3.2, 1.5
    counts = rng.negative_binomial(r, r / (r + mean), n)
    m = int(counts.sum())
    pt = _falling_pt(rng, m, 15.0, 14.0, 45.0, 0.2)
    btag = _btag(rng, m, sentinels=run2012)
    jets = _Jagged(counts, {
        "pt": pt, "eta": _eta(rng, m, 2.0, 4.7), "phi": rng.uniform(-np.pi, np.pi, m),
        "mass": pt * np.clip(rng.normal(0.21, 0.06, m), 0.03, 0.5),
        "btag": btag, "btagDeepB": btag,  # tiny_nano has Jet_btagDeepB == Jet_btag
        "puId": (rng.random(m) < 0.998) if run2012
        else np.where(rng.random(m) < 0.9, 7, 0).astype(np.int32)})
    jets.sort_by_pt()
    return jets


def _photons(rng: np.random.Generator, n: int, run2012: bool) -> _Jagged:
    counts = rng.poisson(0.4, n)
    m = int(counts.sum())
    pho = _Jagged(counts, {
        "pt": _falling_pt(rng, m, 9.5, 10.0, 35.0, 0.1), "eta": rng.uniform(-2.5, 2.5, m),
        "phi": rng.uniform(-np.pi, np.pi, m),
        "mass": rng.normal(0.0, 2e-6, m) if run2012 else np.zeros(m),
        "charge": np.zeros(m, np.int32), "pfRelIso03_all": rng.exponential(0.5, m),
        "sieie": rng.uniform(0.005, 0.03, m),
        "jetIdx": np.full(m, -1, np.int32), "genPartIdx": np.full(m, -1, np.int32)})
    pho.sort_by_pt()
    return pho


def _taus(rng: np.random.Generator, n: int) -> _Jagged:
    counts = rng.negative_binomial(3.0, 3.0 / 5.5, n)  # mean 2.5, tail to ~20 like the real file
    m = int(counts.sum())
    decay = rng.choice(np.array([-1, 0, 1, 2, 10], np.int32), m,
                       p=[0.40, 0.31, 0.16, 0.03, 0.10])
    wp, anti_e, anti_mu = rng.random(m), rng.random(m), rng.random(m)
    taus = _Jagged(counts, {
        "pt": _falling_pt(rng, m, 15.0, 11.0, 30.0, 0.15), "eta": _eta(rng, m, 1.8, 4.5),
        "phi": rng.uniform(-np.pi, np.pi, m), "mass": rng.gamma(2.0, 1.35, m),
        "charge": rng.choice(np.array([-1, 0, 1], np.int32), m, p=[0.47, 0.06, 0.47]),
        "decayMode": decay,
        "relIso_all": np.where(rng.random(m) < 0.4, np.nan, rng.exponential(0.4, m)),
        "jetIdx": np.full(m, -1, np.int32), "genPartIdx": np.full(m, -1, np.int32),
        "idDecayMode": rng.random(m) < 0.56, "idIsoRaw": rng.exponential(6.7, m),
        # Working points are nested: Tight ⊂ Medium ⊂ Loose ⊂ VLoose.
        "idIsoVLoose": wp < 0.26, "idIsoLoose": wp < 0.234, "idIsoMedium": wp < 0.194,
        "idIsoTight": wp < 0.184,
        "idAntiEleLoose": anti_e < 0.6, "idAntiEleMedium": anti_e < 0.53,
        "idAntiEleTight": anti_e < 0.27,
        "idAntiMuLoose": anti_mu < 0.642, "idAntiMuMedium": anti_mu < 0.634,
        "idAntiMuTight": anti_mu < 0.634})
    taus.sort_by_pt()
    return taus


def _event_ids(n: int, global_start: int, run2012: bool, rng: np.random.Generator
               ) -> dict[str, np.ndarray]:
    i = np.arange(global_start, global_start + n, dtype=np.int64)
    if not run2012:  # as tiny_nano: run 1, lumi block 1, events numbered from 1
        return {"run": np.ones(n), "luminosityBlock": np.ones(n), "event": i + 1}
    # Runs of 10^6 events in lumi blocks of 1000; event numbers increase with random gaps.
    return {"run": 194711 + i // 1_000_000, "luminosityBlock": 1 + (i // 1000) % 100_000,
            "event": 60_000_000 + 7 * i + rng.integers(0, 7, n)}


def _event_level(rng: np.random.Generator, n: int, mu: _Jagged, taus: _Jagged | None
                 ) -> dict[str, np.ndarray]:
    met = rng.exponential(30.0, n)
    sumet = 150.0 + rng.gamma(2.0, 240.0, n)
    central = np.abs(mu.fields["eta"]) < 2.1
    trig = rng.random(n)
    pv = np.maximum(rng.poisson(10.7, n), 1)
    cols = {
        "MET_pt": met, "MET_phi": rng.uniform(-np.pi, np.pi, n), "MET_sumet": sumet,
        "MET_significance": 2 * met**2 / sumet * rng.lognormal(0.0, 0.25, n),
        "MET_CovXX": 0.31 * sumet * rng.lognormal(0, 0.2, n),
        "MET_CovYY": 0.31 * sumet * rng.lognormal(0, 0.2, n),
        "MET_CovXY": rng.normal(0, 50, n),
        "HLT_IsoMu24": mu.any_per_event(mu.fields["pt"] > 24) & (trig < 0.95),
        "HLT_IsoMu24_eta2p1": mu.any_per_event((mu.fields["pt"] > 24) & central) & (trig < 0.9),
        "PV_npvs": pv, "PV_x": rng.normal(0.072, 0.008, n), "PV_y": rng.normal(0.063, 0.003, n),
        "PV_z": rng.normal(0.0, 5.0, n),
    }
    if taus is None:  # tiny_nano: this trigger always fired
        cols["HLT_IsoMu17_eta2p1_LooseIsoPFTau20"] = np.ones(n, dtype=bool)
    else:
        tau20 = taus.any_per_event(taus.fields["pt"] > 20)
        mu17 = mu.any_per_event((mu.fields["pt"] > 17) & central)
        cols["HLT_IsoMu17_eta2p1_LooseIsoPFTau20"] = tau20 & mu17 & (trig < 0.3)
    return cols


def _delphes_columns(n: int, global_start: int, rng: np.random.Generator
                     ) -> dict[str, _Jagged]:
    """The nanoaod toy physics under Delphes' names; MissingET, ScalarHT and Event are
    one-element collections, as Delphes writes them."""
    mu, _ = _muons(rng, n, False)
    el, jets, pho = _electrons(rng, n, False), _jets(rng, n, False), _photons(rng, n, False)
    met = _event_level(rng, n, mu, None)
    m, mj = mu.fields, jets.fields
    is_b = mj["btag"] > BTAG_CUT
    light = rng.choice(np.array([0, 1, 2, 3, 4, 21], np.uint32), jets.total,
                       p=[0.05, 0.15, 0.15, 0.1, 0.1, 0.45])
    one = np.ones(n, dtype=np.int64)
    ht = np.add.reduceat(np.concatenate([mj["pt"], [0.0]]),
                         np.concatenate([[0], np.cumsum(jets.counts)[:-1]])) * (jets.counts > 0)
    return {
        "Event": _Jagged(one, {"Number": np.arange(global_start, global_start + n) + 1}),
        "Jet": _Jagged(jets.counts, {
            "PT": mj["pt"], "Eta": mj["eta"], "Phi": mj["phi"], "Mass": mj["mass"],
            "Flavor": np.where(is_b & (rng.random(jets.total) < 0.8), 5, light),
            "BTag": is_b, "TauTag": rng.random(jets.total) < 0.02,
            "Charge": rng.choice(np.array([-1, 0, 1], np.int32), jets.total)}),
        "Electron": _Jagged(el.counts, {
            "PT": el.fields["pt"], "Eta": el.fields["eta"], "Phi": el.fields["phi"],
            "Charge": el.fields["charge"], "EhadOverEem": rng.exponential(0.05, el.total),
            "IsolationVar": el.fields["miniPFRelIso_all"], "D0": el.fields["dxy"],
            "DZ": el.fields["dz"]}),
        "Photon": _Jagged(pho.counts, {
            "PT": pho.fields["pt"], "Eta": pho.fields["eta"], "Phi": pho.fields["phi"],
            "E": pho.fields["pt"] * np.cosh(pho.fields["eta"]),
            "IsolationVar": pho.fields["pfRelIso03_all"]}),
        "Muon": _Jagged(mu.counts, {
            "PT": m["pt"], "Eta": m["eta"], "Phi": m["phi"], "Charge": m["charge"],
            "IsolationVar": m["pfRelIso03_all"], "D0": m["dxy"], "DZ": m["dz"]}),
        "MissingET": _Jagged(one, {"MET": met["MET_pt"], "Eta": np.zeros(n),
                                   "Phi": met["MET_phi"]}),
        "ScalarHT": _Jagged(one, {"HT": ht}),
    }


BTAG_CUT = 0.8  # the toy b-tag score above which a Delphes jet has BTag = 1


def _chunk_columns(schema: str, n: int, global_start: int, rng: np.random.Generator
                   ) -> tuple[dict[str, np.ndarray], dict[str, _Jagged]]:
    if schema == "delphes":
        return {}, _delphes_columns(n, global_start, rng)
    run2012 = schema == "run2012"
    mu, _ = _muons(rng, n, run2012)
    colls = {"Muon": mu, "Electron": _electrons(rng, n, run2012), "Jet": _jets(rng, n, run2012),
             "Photon": _photons(rng, n, run2012)}
    if run2012:
        colls["Tau"] = _taus(rng, n)
    scalars = _event_level(rng, n, mu, colls.get("Tau"))
    scalars.update(_event_ids(n, global_start, run2012, rng))
    return scalars, colls


# --- writing -------------------------------------------------------------------------------------


def _mktree_types(layout: tuple[BranchSpec, ...]) -> dict[str, Any]:
    """Branch types for mktree. Jagged ones as awkward type objects: a "var * float32" string
    would be parsed by awkward's datashape parser once per branch, which costs ~1 s per file."""
    import awkward as ak

    out: dict[str, Any] = {}
    for b in layout:
        kind = np.dtype(b.dtype)
        out[b.name] = ak.types.ListType(ak.types.NumpyType(kind.name)) if b.jagged else kind
    return out


def _branch_arrays(layout: tuple[BranchSpec, ...], scalars: dict[str, np.ndarray],
                   colls: dict[str, _Jagged], n: int, schema: str = "nanoaod"
                   ) -> dict[str, Any]:
    """The chunk's arrays in the layout's types. Counters of collections with branches are
    written by uproot from the jagged arrays; counters without branches (nTau in nanoaod) are 0."""
    import awkward as ak

    offsets = {g: np.concatenate([[0], np.cumsum(c.counts, dtype=np.int64)])
               for g, c in colls.items()}
    written = {_counter_of(schema, branch_group(b.name)) for b in layout if b.jagged}
    out: dict[str, Any] = {}
    for b in layout:
        group = branch_group(b.name)
        if b.jagged:
            flat = np.asarray(colls[group].fields[b.name[len(group) + 1:]], dtype=b.dtype)
            out[b.name] = ak.Array(ak.contents.ListOffsetArray(
                ak.index.Index64(offsets[group]), ak.contents.NumpyArray(flat)))
        elif b.name in written:
            continue  # written by uproot as the counter of the jagged branches
        elif b.name.startswith("n") and b.name not in scalars:
            out[b.name] = np.zeros(n, dtype=b.dtype)
        else:
            out[b.name] = np.asarray(scalars[b.name]).astype(b.dtype)
    return out


@contextlib.contextmanager
def _uint32_counters() -> Iterator[bool]:
    """Make uproot declare jagged-branch counters as UInt_t (`nMuon/i`), as real NanoAOD does.

    uproot 5.x hard-codes int32 counters (_cascadetree.Tree: counter_dtype = int32). Its leaf
    type, title and unsigned flag all follow the counter datum's dtype, so swapping the dtype when
    the datum is made gives a consistent UInt_t leaf. Yields False (and changes nothing) when the
    internals are not the expected ones.
    """
    try:
        from uproot.writing import _cascadetree
        original = _cascadetree.Tree._branch_np
    except (ImportError, AttributeError):
        yield False
        return

    def branch_np(self: Any, branch_name: str, branch_type: Any, branch_dtype: Any,
                  counter: Any = None, kind: str = "normal") -> Any:
        if kind == "counter":
            branch_type = branch_dtype = np.dtype(np.uint32)
        return original(self, branch_name, branch_type, branch_dtype, counter=counter, kind=kind)

    _cascadetree.Tree._branch_np = branch_np
    try:
        yield True
    finally:
        _cascadetree.Tree._branch_np = original


def generate(path: str, n: int, schema: str = "nanoaod", seed: int = 0,
             chunk_size: int = MAX_CHUNK) -> int:
    """Write `n` synthetic events in `schema`'s layout to `path`; returns the number written.

    Written to a temporary file in the same directory and renamed when complete, so an
    interrupted run never leaves a plausible-looking partial file.
    """
    layout = _get_layout(schema)
    if n < 0:
        raise AdlUsageError.one(f"the number of events must not be negative, got {n}")
    if not 1 <= chunk_size <= MAX_CHUNK:
        raise AdlUsageError.one(f"chunk size must be in 1..{MAX_CHUNK}, got {chunk_size}")
    uproot = _import_uproot()
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise AdlUsageError.one(f"cannot write {path!r}: directory {directory!r} does not exist")
    # A hidden sibling (same file system, so the rename is atomic); not mkstemp, whose 0600
    # mode would end up on the output.
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        # NanoAOD counters are UInt_t (`nMuon/i`); Delphes' `Jet_size` is Int_t, uproot's default.
        counters = _uint32_counters() if schema != "delphes" else contextlib.nullcontext(True)
        with counters as exact, uproot.recreate(tmp) as out:
            if not exact:
                warnings.warn("uproot internals changed: counters are written as Int_t, not "
                              "UInt_t (CutLang reads both the same)", stacklevel=2)
            tree = out.mktree(TREES.get(schema, "Events"), _mktree_types(layout),
                              title="adlc generate " + schema,
                              counter_name=lambda b: _counter_of(schema, branch_group(b)))
            for start in range(0, n, chunk_size):
                size = min(chunk_size, n - start)
                rng = np.random.default_rng([seed, start // chunk_size])
                scalars, colls = _chunk_columns(schema, size, start, rng)
                tree.extend(_branch_arrays(layout, scalars, colls, size, schema))
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):  # permissions, disk full, path is a directory...
            raise AdlUsageError.one(f"cannot write {path!r}: {exc.strerror or exc}") from exc
        raise
    return n


def _import_uproot() -> Any:
    try:
        import uproot
    except ImportError as exc:  # pragma: no cover
        raise AdlUsageError.one("writing ROOT files needs the 'uproot' package",
                                hint="pip install 'adlc[run]'") from exc
    return uproot
