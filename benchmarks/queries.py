"""The IRIS-HEP ADL benchmark queries: what each computes, reads and fills.

Shared by every implementation (adlc, hand-written numba, coffea, RDataFrame). Imports
nothing but the standard library, so the peers' scripts can use it from their own
environment. Histogram names, regions and axes are those of `examples/benchmarks/*.adl`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ADL_DIR = REPO / "examples" / "benchmarks"
CHUNK_SIZE = 200_000          # adlc's default --chunk-size; every peer reads chunks this size

Axis = tuple[int, float, float]   # bins, low, high


@dataclass(frozen=True)
class Query:
    """One benchmark query."""

    name: str
    title: str
    region: str                         # the ADL version's region
    histograms: tuple[tuple[str, Axis], ...]   # (name, axis); the first is the main one
    branches: tuple[str, ...]           # what it needs from the file (the I/O floor reads these)

    @property
    def adl_path(self) -> Path | None:
        """examples/benchmarks/<name>_*.adl, None while nobody has written it."""
        found = sorted(ADL_DIR.glob(f"{self.name}_*.adl"))
        return found[0] if found else None


MET_AXIS: Axis = (100, 0.0, 200.0)
JET_PT_AXIS: Axis = (100, 15.0, 60.0)
_JET = ("Jet_pt", "Jet_eta", "Jet_phi")
_MU = ("Muon_pt", "Muon_eta", "Muon_phi")
_EL = ("Electron_pt", "Electron_eta", "Electron_phi")

QUERIES: dict[str, Query] = {q.name: q for q in (
    Query("q1", "MET of every event", "q1", (("hmet", MET_AXIS),),
          ("MET_pt",)),
    Query("q2", "pT of every jet", "q2", (("hjetpt", JET_PT_AXIS),),
          ("Jet_pt",)),
    Query("q3", "pT of jets with |eta| < 1", "q3",
          (("hjetpt", JET_PT_AXIS),), ("Jet_pt", "Jet_eta")),
    Query("q4", "MET of events with >= 2 jets of pT > 40", "q4",
          (("hmet", MET_AXIS),), ("Jet_pt", "MET_pt")),
    Query("q5", "MET of events with an OS muon pair, 60 < m < 120", "q5",
          (("hmet", MET_AXIS),), (*_MU, "Muon_charge", "MET_pt")),
    Query("q6", "trijet with m closest to 172.5: pT, max btag", "q6",
          (("htrijetpt", (100, 15.0, 40.0)), ("hmaxbtag", (100, 0.0, 1.0))),
          (*_JET, "Jet_mass", "Jet_btag")),
    Query("q7", "HT of jets pT > 30 away from leptons pT > 10", "q7",
          (("hsumpt", (100, 15.0, 200.0)),), (*_JET, *_MU, *_EL)),
    Query("q8", "mT of MET and the lepton outside the best Z pair", "q8",
          (("hmt", (100, 0.0, 200.0)),),
          (*_MU, "Muon_charge", *_EL, "Electron_charge", "MET_pt", "MET_phi")),
)}


def select(spec: str | None) -> list[str]:
    """`q1,q7`, `1,7` or `all` (None) -> ["q1", "q7"], in the order given."""
    if not spec or spec == "all":
        return list(QUERIES)
    names = [("q" + s.strip().lstrip("qQ")) for s in spec.split(",") if s.strip()]
    unknown = [n for n in names if n not in QUERIES]
    if unknown:
        raise SystemExit(f"unknown queries {', '.join(unknown)}; known: {', '.join(QUERIES)}")
    return names
