"""Our own ADL versions of IRIS-HEP benchmark queries 5, 6 and 8 (examples/benchmarks) against
the independent RDataFrame reference histograms on Run2012B_SingleMu_1000.root, bin for bin,
under- and overflow included. Skipped when ../shared is absent.

q5: MET of events with an opposite-sign muon pair of mass 60-120 GeV (COMB object).
q6: the trijet closest to 172.5 GeV (`~=` over three distinct placeholders): its pT, and the
    largest `Jet_btag` of its three jets (a direct branch read: the run2012 format maps flavor
    to the absent Jet_btagDeepB, as CutLang does).
q8: SFOS pair closest to 91.2 GeV (`~=` with a pdgID penalty), then mT of MET and the
    highest-pT lepton outside the pair (a second `~=` that cannot reuse the pair).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3] / "shared"
REFERENCE = ROOT / "conformance" / "reference" / "rdf_root_project_Run2012B_SingleMu_1000.json"
DATA = ROOT / "data" / "Run2012B_SingleMu_1000.root"
if not (REFERENCE.is_file() and DATA.is_file()):
    pytest.skip("../shared/conformance reference or data not present", allow_module_level=True)

pytest.importorskip("numba")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "benchmarks"
# query -> (ADL stem, {our histogram: reference histogram})
QUERIES = {
    "q5": ("q5_met_os_dimuon", {"hmet": "met"}),
    "q6": ("q6_trijet", {"htrijetpt": "trijet_pt", "hmaxbtag": "trijet_maxbtag"}),
    "q8": ("q8_trilepton_mt", {"hmt": "mt"}),
}


@pytest.mark.parametrize("query", sorted(QUERIES))
def test_example_query_against_reference(query: str) -> None:
    import numpy as np

    from adlc.driver import run_analysis

    reference = json.loads(REFERENCE.read_text())
    stem, names = QUERIES[query]
    result = run_analysis(EXAMPLES / f"{stem}.adl", [DATA])
    (region,) = result.regions.values()
    assert set(region.histograms) == set(names)
    for ours, theirs in names.items():
        expected = np.asarray(reference["hists"][query][theirs], dtype=float)
        got = region.histograms[ours].values(flow=True)
        assert got.sum() > 0
        np.testing.assert_array_equal(got, expected, err_msg=f"{query} {ours}")

