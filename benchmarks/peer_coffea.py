"""The benchmark queries as coffea processors (NanoEvents, awkward arrays, `hist`).

Written as a coffea user writes them (after the IRIS-HEP ADL benchmark examples): NanoAODSchema
events, `processor.Runner` with the single-process `IterativeExecutor` at the same chunk size as
adlc, one `hist.Hist` per histogram. Values are coffea's own: masses from the file's `*_mass`
branches, arithmetic in the branches' float32, so a few entries may land in a neighbouring bin
compared with adlc (which follows CutLang: fixed lepton masses, float64); `run.py` reports how
many.

Runs in whichever environment has coffea (`make bench` makes benchmarks/.venv-peers), as

    python -m benchmarks.peer_coffea FILE --queries q1,q7 --repeat 3 --out RESULTS.jsonl

(output: see benchmarks/peers.py).
"""

from __future__ import annotations

import warnings

from benchmarks.peers import parse_args, serve
from benchmarks.queries import QUERIES


def _processors():
    """{query: function(events) -> {hist name: array to fill}} (imports coffea lazily)."""
    import awkward as ak
    import numpy as np

    def q1(ev):
        return {"hmet": ev.MET.pt}

    def q2(ev):
        return {"hjetpt": ak.flatten(ev.Jet.pt)}

    def q3(ev):
        return {"hjetpt": ak.flatten(ev.Jet.pt[abs(ev.Jet.eta) < 1])}

    def q4(ev):
        return {"hmet": ev.MET.pt[ak.sum(ev.Jet.pt > 40, axis=1) >= 2]}

    def q5(ev):
        pairs = ak.combinations(ev.Muon, 2, fields=["a", "b"])
        mass = (pairs.a + pairs.b).mass
        good = (pairs.a.charge != pairs.b.charge) & (mass > 60) & (mass < 120)
        return {"hmet": ev.MET.pt[ak.any(good, axis=1)]}

    def q6(ev):
        jets = ev.Jet[ak.num(ev.Jet) >= 3]
        tri = ak.combinations(jets, 3, fields=["a", "b", "c"])
        p4 = tri.a + tri.b + tri.c
        best = ak.argmin(abs(p4.mass - 172.5), axis=1, keepdims=True)
        btag = np.maximum(np.maximum(tri.a.btag, tri.b.btag), tri.c.btag)
        return {"htrijetpt": ak.flatten(p4.pt[best]), "hmaxbtag": ak.flatten(btag[best])}

    def q7(ev):
        jets = ev.Jet[ev.Jet.pt > 30]
        clean = jets
        for leptons in (ev.Muon, ev.Electron):
            soft = leptons[leptons.pt > 10]
            clean = clean[ak.all(clean.metric_table(soft) >= 0.4, axis=2)]
        return {"hsumpt": ak.sum(clean.pt, axis=1)[ak.num(clean) > 0]}

    def q8(ev):
        fields = ("pt", "eta", "phi", "mass", "charge")
        leptons = ak.concatenate(
            [ak.zip({**{f: ev.Muon[f] for f in fields}, "flavour": ak.full_like(ev.Muon.pt, 13)},
                    with_name="PtEtaPhiMCandidate", behavior=ev.behavior),
             ak.zip({**{f: ev.Electron[f] for f in fields},
                     "flavour": ak.full_like(ev.Electron.pt, 11)},
                    with_name="PtEtaPhiMCandidate", behavior=ev.behavior)], axis=1)
        keep = ak.num(leptons) >= 3
        leptons, met = leptons[keep], ev.MET[keep]
        pairs = ak.argcombinations(leptons, 2, fields=["i", "j"])
        a, b = leptons[pairs.i], leptons[pairs.j]
        sfos = (a.flavour == b.flavour) & (a.charge != b.charge)
        pairs, a, b = pairs[sfos], a[sfos], b[sfos]
        best = ak.argmin(abs((a + b).mass - 91.2), axis=1, keepdims=True)
        has = ak.num(pairs) > 0
        pair = ak.firsts(pairs[best])[has]
        leptons, met = leptons[has], met[has]
        index = ak.local_index(leptons)
        others = leptons[(index != pair.i) & (index != pair.j)]
        lead = ak.firsts(others[ak.argmax(others.pt, axis=1, keepdims=True)])
        mt = np.sqrt(2 * lead.pt * met.pt * (1 - np.cos(met.delta_phi(lead))))
        return {"hmt": mt}

    return {"q1": q1, "q2": q2, "q3": q3, "q4": q4, "q5": q5, "q6": q6, "q7": q7, "q8": q8}


def _processor(name: str, fill):
    import hist
    from coffea import processor

    query = QUERIES[name]

    class Query(processor.ProcessorABC):
        def process(self, events):
            out = {}
            for hname, values in fill(events).items():
                nb, lo, hi = dict(query.histograms)[hname]
                h = hist.Hist.new.Reg(nb, lo, hi).Int64()
                h.fill(values)
                out[hname] = h
            return out

        def postprocess(self, accumulator):
            return accumulator

    return Query()


def run_query(name: str, path: str, fill, chunk_size: int) -> dict[str, list[int]]:
    from coffea import processor
    from coffea.nanoevents import NanoAODSchema

    quiet = processor.IterativeExecutor(status=False)
    runner = processor.Runner(executor=quiet, pre_executor=quiet,
                              schema=NanoAODSchema, chunksize=chunk_size, savemetrics=False)
    out = runner({"bench": {"files": {path: "Events"}}}, _processor(name, fill),
                 treename="Events")
    return {h: [int(v) for v in out[h].values(flow=True)] for h in out}


def main(argv: list[str] | None = None) -> int:
    args = parse_args("Run the benchmark queries with coffea.", argv)
    warnings.filterwarnings("ignore")   # NanoAODSchema's warnings about this file's branches
    import coffea
    from coffea.nanoevents import NanoAODSchema

    NanoAODSchema.warn_missing_crossrefs = False
    fills = _processors()
    return serve(args, {"coffea": coffea.__version__},
                 lambda name: run_query(name, args.file, fills[name], args.chunk_size))


if __name__ == "__main__":
    raise SystemExit(main())
