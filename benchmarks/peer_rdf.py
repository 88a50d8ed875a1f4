"""The benchmark queries in ROOT's RDataFrame (single-threaded, like adlc's `-j 1`).

Written as an RDataFrame user writes them (after ROOT's opendata-benchmarks): C++ helper
functions over `RVec` columns, declared once per process, used in `Define`/`Filter`
strings; `Histo1D` fills `TH1D`s. Values are RDataFrame's own (masses from the file's `*_mass`
branches, `ROOT::Math::PtEtaPhiMVector`, `VecOps::DeltaR` in float), so a few entries may land
in a neighbouring bin compared with adlc; `run.py` reports how many.

Runs in whichever environment has the `root` package (`make bench` makes
benchmarks/.venv-peers), as

    python -m benchmarks.peer_rdf FILE --queries q1,q7 --repeat 3 --out RESULTS.jsonl

with the output described in benchmarks/peers.py (--chunk-size is ignored: RDataFrame
reads by clusters). `first_s` includes cling's just-in-time compilation of
the helpers and the Define/Filter expressions; `times_s` are later runs of new graphs over the
same file.
"""

from __future__ import annotations

import sys
import warnings

from benchmarks.peers import parse_args, serve
from benchmarks.queries import QUERIES

HELPERS = r"""
#include <cmath>
#include <algorithm>
#include <vector>
#include "ROOT/RVec.hxx"
#include "Math/Vector4D.h"

namespace adlcbench {
using ROOT::RVecF;
using ROOT::RVecI;
using V4 = ROOT::Math::PtEtaPhiMVector;

RVecF central_pt(const RVecF &pt, const RVecF &eta) { return pt[abs(eta) < 1]; }

bool has_os_pair_in_z(const RVecF &pt, const RVecF &eta, const RVecF &phi, const RVecF &m,
                      const RVecI &q) {
    for (size_t a = 0; a < pt.size(); ++a)
        for (size_t b = a + 1; b < pt.size(); ++b) {
            if (q[a] == q[b]) continue;
            const double mass = (V4(pt[a], eta[a], phi[a], m[a]) + V4(pt[b], eta[b], phi[b], m[b])).M();
            if (mass > 60 && mass < 120) return true;
        }
    return false;
}

ROOT::RVecD best_trijet(const RVecF &pt, const RVecF &eta, const RVecF &phi, const RVecF &m,
                        const RVecF &btag) {
    const size_t n = pt.size();
    std::vector<ROOT::Math::PxPyPzEVector> p4(n);   // converted once, not once per trijet
    for (size_t a = 0; a < n; ++a) p4[a] = V4(pt[a], eta[a], phi[a], m[a]);
    double best = INFINITY, best_pt = 0, best_btag = 0;
    for (size_t a = 0; a < n; ++a)
        for (size_t b = a + 1; b < n; ++b)
            for (size_t c = b + 1; c < n; ++c) {
                const auto p = p4[a] + p4[b] + p4[c];
                const double d = std::abs(p.M() - 172.5);
                if (d < best) {
                    best = d;
                    best_pt = p.Pt();
                    best_btag = std::max({btag[a], btag[b], btag[c]});
                }
            }
    return {best_pt, best_btag};
}

double clean_ht(const RVecF &jpt, const RVecF &jeta, const RVecF &jphi,
                const RVecF &mpt, const RVecF &meta, const RVecF &mphi,
                const RVecF &ept, const RVecF &eeta, const RVecF &ephi) {
    double ht = 0;
    int n = 0;
    for (size_t j = 0; j < jpt.size(); ++j) {
        if (jpt[j] <= 30) continue;
        bool clean = true;
        for (size_t k = 0; clean && k < mpt.size(); ++k)
            clean = !(mpt[k] > 10 && ROOT::VecOps::DeltaR(jeta[j], meta[k], jphi[j], mphi[k]) < 0.4);
        for (size_t k = 0; clean && k < ept.size(); ++k)
            clean = !(ept[k] > 10 && ROOT::VecOps::DeltaR(jeta[j], eeta[k], jphi[j], ephi[k]) < 0.4);
        if (clean) { ht += jpt[j]; ++n; }
    }
    return n ? ht : -1;
}

double trilepton_mt(const RVecF &mpt, const RVecF &meta, const RVecF &mphi, const RVecF &mm,
                    const RVecI &mq, const RVecF &ept, const RVecF &eeta, const RVecF &ephi,
                    const RVecF &em, const RVecI &eq, float met, float met_phi) {
    const size_t nm = mpt.size(), ne = ept.size();
    if (nm + ne < 3) return -1;
    double best = INFINITY;
    int flavour = -1;
    size_t pa = 0, pb = 0;
    for (size_t a = 0; a < nm; ++a)
        for (size_t b = a + 1; b < nm; ++b) {
            if (mq[a] == mq[b]) continue;
            const double d = std::abs((V4(mpt[a], meta[a], mphi[a], mm[a])
                                       + V4(mpt[b], meta[b], mphi[b], mm[b])).M() - 91.2);
            if (d < best) { best = d; flavour = 0; pa = a; pb = b; }
        }
    for (size_t a = 0; a < ne; ++a)
        for (size_t b = a + 1; b < ne; ++b) {
            if (eq[a] == eq[b]) continue;
            const double d = std::abs((V4(ept[a], eeta[a], ephi[a], em[a])
                                       + V4(ept[b], eeta[b], ephi[b], em[b])).M() - 91.2);
            if (d < best) { best = d; flavour = 1; pa = a; pb = b; }
        }
    if (flavour < 0) return -1;
    double lead_pt = -1, lead_phi = 0;
    for (size_t k = 0; k < nm; ++k)
        if ((flavour != 0 || (k != pa && k != pb)) && mpt[k] > lead_pt) { lead_pt = mpt[k]; lead_phi = mphi[k]; }
    for (size_t k = 0; k < ne; ++k)
        if ((flavour != 1 || (k != pa && k != pb)) && ept[k] > lead_pt) { lead_pt = ept[k]; lead_phi = ephi[k]; }
    return std::sqrt(2.0 * lead_pt * met * (1.0 - std::cos(ROOT::VecOps::DeltaPhi(lead_phi, (double)met_phi))));
}
}
"""

_MU = "Muon_pt, Muon_eta, Muon_phi"
_EL = "Electron_pt, Electron_eta, Electron_phi"


def _graph(name: str, df):
    """{histogram name: (dataframe node, column)} for query `name`."""
    if name == "q1":
        return {"hmet": (df, "MET_pt")}
    if name == "q2":
        return {"hjetpt": (df, "Jet_pt")}
    if name == "q3":
        return {"hjetpt": (df.Define("cpt", "adlcbench::central_pt(Jet_pt, Jet_eta)"), "cpt")}
    if name == "q4":
        return {"hmet": (df.Filter("Sum(Jet_pt > 40) >= 2"), "MET_pt")}
    if name == "q5":
        return {"hmet": (df.Filter("nMuon >= 2").Filter(
            f"adlcbench::has_os_pair_in_z({_MU}, Muon_mass, Muon_charge)"), "MET_pt")}
    if name == "q6":
        tri = df.Filter("nJet >= 3").Define(
            "tri", "adlcbench::best_trijet(Jet_pt, Jet_eta, Jet_phi, Jet_mass, Jet_btag)") \
            .Define("tri_pt", "tri[0]").Define("tri_btag", "tri[1]")
        return {"htrijetpt": (tri, "tri_pt"), "hmaxbtag": (tri, "tri_btag")}
    if name == "q7":
        return {"hsumpt": (df.Define("ht", f"adlcbench::clean_ht(Jet_pt, Jet_eta, Jet_phi, "
                                           f"{_MU}, {_EL})").Filter("ht >= 0"), "ht")}
    if name == "q8":
        return {"hmt": (df.Filter("nMuon + nElectron >= 3").Define(
            "mt", f"adlcbench::trilepton_mt({_MU}, Muon_mass, Muon_charge, {_EL}, "
                  "Electron_mass, Electron_charge, MET_pt, MET_phi)").Filter("mt >= 0"), "mt")}
    raise KeyError(name)


def run_query(name: str, path: str) -> dict[str, list[int]]:
    import ROOT

    df = ROOT.RDataFrame("Events", path)
    axes = dict(QUERIES[name].histograms)
    booked = {h: node.Histo1D((h, h, *axes[h]), column)
              for h, (node, column) in _graph(name, df).items()}
    out = {}
    for h, result in booked.items():
        th1 = result.GetValue()   # the first GetValue runs the event loop for all of them
        out[h] = [int(th1.GetBinContent(i)) for i in range(axes[h][0] + 2)]
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args("Run the benchmark queries with RDataFrame.", argv)
    warnings.filterwarnings("ignore")   # the pip `root` package warns that it is an alpha
    import ROOT

    ROOT.gROOT.SetBatch(True)
    if not ROOT.gInterpreter.Declare(HELPERS):
        print("peer_rdf: the C++ helpers did not compile", file=sys.stderr)
        return 1
    return serve(args, {"root": str(ROOT.gROOT.GetVersion())},
                 lambda name: run_query(name, args.file))


if __name__ == "__main__":
    raise SystemExit(main())
