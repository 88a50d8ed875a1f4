"""Golden schema and comparison rules (conformance README §2 and §5).

Each golden is rebuilt by hand as a RunResult (hist objects filled through their flow view),
converted back with `result_to_golden_dict`, and compared: no differences. Perturbations then
check the tolerances: unweighted numbers exact, weighted ones to 1e-6 relative.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import hist
import numpy as np
import pytest

from adlc.runtime.conformance import (
    compare_to_golden,
    default_conformance_root,
    load_golden,
    result_to_golden_dict,
)
from adlc.runtime.results import Counter, RegionResult, RunResult

DATA = Path(__file__).resolve().parents[1] / "data"
SHARED = default_conformance_root()
SHARED_GOLDENS = sorted((SHARED / "golden").glob("*.json")) if SHARED.is_dir() else []


# ---------------------------------------------------------------------------------------------
# A golden, rebuilt by hand as a RunResult
# ---------------------------------------------------------------------------------------------

def _hist_from_golden(g: dict[str, Any]) -> hist.Hist:
    if g["type"] == "TH1D":
        h = hist.Hist(hist.axis.Variable(g["edges"]), storage=hist.storage.Weight())
        values = [g["underflow"], *g["values"], g["overflow"]]
        sumw2 = ([g["sumw2_underflow"], *g["sumw2"], g["sumw2_overflow"]]
                 if "sumw2" in g else values)
    else:
        h = hist.Hist(hist.axis.Variable(g["xedges"]), hist.axis.Variable(g["yedges"]),
                      storage=hist.storage.Weight())
        values = g["values_with_flow"]
        sumw2 = g.get("sumw2_with_flow", values)
    view = h.view(flow=True)
    view.value = np.asarray(values)
    view.variance = np.asarray(sumw2)
    return h


def result_from_golden(golden: dict[str, Any]) -> RunResult:
    regions = {}
    for name, g in golden["regions"].items():
        histos = g["histograms"]
        regions[name] = RegionResult(
            name,
            # raw/sumw2 of cutflow rows are not in the goldens; any value will do
            cutflow=[Counter(label, w, w, round(w)) for label, w in g["cutflow"]],
            bins=[Counter(label, w, w, int(raw))
                  for (label, w), raw in zip(g["bins"], g["bins_unweighted"], strict=True)],
            histograms={n: _hist_from_golden(h) for n, h in histos.items()},
            entries={n: int(h["entries"]) for n, h in histos.items()},
            titles={n: h["title"] for n, h in histos.items()},
        )
    return RunResult(regions, golden["events"])


def _ours(golden: dict[str, Any]) -> dict[str, Any]:
    return result_to_golden_dict(result_from_golden(golden))


@pytest.fixture
def f16() -> dict[str, Any]:
    return load_golden("f16_weights", "tiny_nano", DATA)


@pytest.fixture
def f14() -> dict[str, Any]:
    return load_golden("f14_bins_named", "tiny_nano", DATA)


# ---------------------------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("stem", ["f14_bins_named", "f16_weights"])
def test_round_trip_local_goldens(stem: str) -> None:
    golden = load_golden(stem, "tiny_nano", DATA)
    ours = _ours(golden)
    assert compare_to_golden(ours, golden, include_quirks=True) == []
    # and the schema itself: the same keys as CutLang's, histogram by histogram
    for name, region in golden["regions"].items():
        assert ours["regions"][name].keys() == region.keys()
        for hname, h in region["histograms"].items():
            assert ours["regions"][name]["histograms"][hname] == h


@pytest.mark.shared
@pytest.mark.skipif(not SHARED_GOLDENS, reason="needs ../shared/conformance")
@pytest.mark.parametrize("path", SHARED_GOLDENS, ids=lambda p: p.stem)
def test_round_trip_every_shared_golden(path: Path) -> None:
    adl, _, inp = path.stem.partition(".")
    golden = load_golden(adl, inp)
    assert compare_to_golden(_ours(golden), golden, include_quirks=True) == []


def test_schema_of_hand_built_result() -> None:
    h1 = hist.Hist(hist.axis.Regular(2, 0, 2), storage=hist.storage.Weight())
    h1.fill([0.5, 5.0])
    hw = hist.Hist(hist.axis.Regular(2, 0, 2), storage=hist.storage.Weight())
    hw.fill([0.5, -1.0], weight=[0.5, 2.0])
    h2 = hist.Hist(hist.axis.Regular(2, 0, 2), hist.axis.Regular(1, 0, 1),
                   storage=hist.storage.Weight())
    h2.fill([1.5], [0.5], weight=[3.0])
    region = RegionResult(
        "r", [Counter("all Events", 3, 3, 3), Counter("x", 1.5, 0.75, 2)],
        [Counter('"b"', 1.5, 0.75, 2)], {"h1": h1, "hw": hw, "h2": h2},
        entries={"h1": 2, "hw": 2, "h2": 1}, titles={"h1": '"one"'})
    d = result_to_golden_dict(RunResult({"r": region}, 3))
    r = d["regions"]["r"]
    assert d["events"] == 3
    assert r["cutflow"] == [["all Events", 3.0], ["x", 1.5]]
    assert r["bins"] == [['"b"', 1.5]] and r["bins_unweighted"] == [2.0]
    assert r["histograms"]["h1"] == {
        "type": "TH1D", "title": '"one"', "edges": [0.0, 1.0, 2.0], "values": [1.0, 0.0],
        "underflow": 0.0, "overflow": 1.0, "entries": 2.0}  # unit weights: no sumw2
    hw_d = r["histograms"]["hw"]
    assert hw_d["title"] == "hw"  # no title given: the name
    assert hw_d["sumw2"] == [0.25, 0.0] and hw_d["sumw2_underflow"] == 4.0
    h2_d = r["histograms"]["h2"]
    assert h2_d["type"] == "TH2D" and h2_d["values"] == [[0.0], [3.0]]
    assert h2_d["values_with_flow"][2] == [0.0, 3.0, 0.0]
    assert h2_d["sumw2_with_flow"][2] == [0.0, 9.0, 0.0]


# ---------------------------------------------------------------------------------------------
# Tolerances
# ---------------------------------------------------------------------------------------------

def test_unweighted_count_off_by_one_is_reported(f14: dict[str, Any]) -> None:
    result = result_from_golden(f14)
    row = result.regions["searchBins"].cutflow[2]
    result.regions["searchBins"].cutflow[2] = Counter(row.label, row.sumw + 1, row.sumw2, row.raw)
    diffs = compare_to_golden(result_to_golden_dict(result), f14)
    assert len(diffs) == 1
    assert "searchBins: cutflow row 2 ('size(jets) >= 1'): 1904.0 != golden 1903.0" in diffs[0]


def test_unweighted_counts_are_exact(f14: dict[str, Any]) -> None:
    ours = _ours(f14)
    ours["regions"]["searchBins"]["cutflow"][3][1] *= 1 + 1e-12
    assert len(compare_to_golden(ours, f14)) == 1
    ours = _ours(f14)
    ours["regions"]["overlapping"]["bins_unweighted"][2] += 1
    ours["regions"]["overlapping"]["bins"][2][1] += 1
    diffs = compare_to_golden(ours, f14)
    assert len(diffs) == 2 and all("overlapping: bins" in d for d in diffs)


@pytest.mark.parametrize(("rel", "reported"), [(1e-4, True), (1e-8, False)])
def test_weighted_cutflow_tolerance(f16: dict[str, Any], rel: float, reported: bool) -> None:
    ours = _ours(f16)
    ours["regions"]["weighted"]["cutflow"][6][1] *= 1 + rel
    ours["regions"]["weightedChild"]["bins"][1][1] *= 1 + rel
    diffs = compare_to_golden(ours, f16)
    assert len(diffs) == (2 if reported else 0), diffs


@pytest.mark.parametrize(("rel", "reported"), [(1e-4, True), (1e-8, False)])
def test_weighted_histogram_tolerance(f16: dict[str, Any], rel: float, reported: bool) -> None:
    ours = _ours(f16)
    h = ours["regions"]["weighted"]["histograms"]["hmetw2"]
    h["values"][3] *= 1 + rel
    h["sumw2_overflow"] *= 1 + rel
    h["edges"][5] *= 1 + rel
    diffs = compare_to_golden(ours, f16)
    assert len(diffs) == (3 if reported else 0), diffs
    if reported:
        assert any("weighted/hmetw2 values: bin 4 " in d for d in diffs)
        assert any("weighted/hmetw2 sumw2: overflow" in d for d in diffs)


def test_unweighted_histogram_is_exact(f16: dict[str, Any]) -> None:
    ours = _ours(f16)
    ours["regions"]["unweightedAfter"]["histograms"]["hmetu"]["overflow"] += 1
    diffs = compare_to_golden(ours, f16)
    assert len(diffs) == 1 and "unweightedAfter/hmetu values: overflow" in diffs[0]


def test_missing_sumw2_means_unit_weights(f16: dict[str, Any]) -> None:
    ours = _ours(f16)
    h = ours["regions"]["weighted"]["histograms"]["hmetw1"]
    del h["sumw2"], h["sumw2_underflow"], h["sumw2_overflow"]
    diffs = compare_to_golden(ours, f16)
    assert len(diffs) == 1 and "hmetw1 sumw2" in diffs[0]


def test_entries_title_labels(f16: dict[str, Any]) -> None:
    ours = _ours(f16)
    ours["regions"]["weighted"]["histograms"]["hmetw1"]["entries"] = 1999.0
    ours["regions"]["weighted"]["histograms"]["hmetw2"]["title"] = "MET after all weights"
    ours["regions"]["weighted"]["cutflow"][3][0] = "[Histo] hmetw12"
    ours["regions"]["weighted"]["bins"][0][0] = "lowMET"
    diffs = compare_to_golden(ours, f16)
    assert len(diffs) == 4, diffs
    assert any("entries 1999.0 != golden 2000.0" in d for d in diffs)
    assert any("label '[Histo] hmetw12' != golden '[Histo] hmetw'" in d for d in diffs)
    # everything but the entries is a label
    assert len(compare_to_golden(ours, f16, ignore_labels=True)) == 1


def test_histo_row_may_show_the_whole_name(f16: dict[str, Any]) -> None:
    # CutLang cuts the last character off a histogram's name in its cutflow label (quirk 10);
    # adlc prints the whole name, and the comparison accepts exactly that difference.
    ours = _ours(f16)
    ours["regions"]["weighted"]["cutflow"][3][0] = "[Histo] hmetw1"
    assert compare_to_golden(ours, f16) == []


def test_histogram_names(f16: dict[str, Any]) -> None:
    ours = _ours(f16)
    hs = ours["regions"]["weightedChild"]["histograms"]
    hs["extra"] = hs.pop("hmetw1")
    diffs = compare_to_golden(ours, f16)
    assert diffs == ["weightedChild: histograms: missing hmetw1",
                     "weightedChild: histograms: unexpected extra"]


def test_shape_differences(f16: dict[str, Any]) -> None:
    ours = _ours(f16)
    ours["regions"]["weighted"]["cutflow"].pop()
    ours["regions"]["weighted"]["histograms"]["hmetw1"]["values"].pop()
    ours["regions"]["weighted"]["histograms"]["hmetw2"]["type"] = "TH2D"
    diffs = compare_to_golden(ours, f16)
    assert "weighted: cutflow: 8 rows != golden 9" in diffs
    assert "weighted/hmetw1 values: 21 entries != golden 22" in diffs
    assert "weighted/hmetw2: type TH2D != golden TH1D" in diffs


def test_regions_names_order_and_quirks(f16: dict[str, Any]) -> None:
    ours = _ours(f16)
    regions = ours["regions"]
    ours["regions"] = {"weightedChild": regions["weightedChild"], "weighted": regions["weighted"],
                       "quirkSomething": regions["weighted"], "bonus": regions["weighted"]}
    diffs = compare_to_golden(ours, f16)
    assert diffs == ["regions: missing unweightedAfter", "regions: unexpected bonus",
                     "regions: order ['weightedChild', 'weighted'] != golden "
                     "['weighted', 'weightedChild']"]
    # quirk regions take part only when asked for
    assert compare_to_golden(ours, f16, include_quirks=True)[1] == (
        "regions: unexpected quirkSomething, bonus")
    # skip_regions leaves named regions out on both sides
    skipped = compare_to_golden(ours, f16, skip_regions={"unweightedAfter", "bonus"})
    assert skipped == [diffs[2]]


def test_quirk_region_of_golden_is_skipped(f16: dict[str, Any]) -> None:
    golden = copy.deepcopy(f16)
    golden["regions"]["quirkX"] = golden["regions"]["weighted"]
    assert compare_to_golden(_ours(f16), golden) == []
    assert compare_to_golden(_ours(f16), golden, include_quirks=True) == [
        "regions: missing quirkX"]


def test_events_and_many_bins_are_summarised(f16: dict[str, Any]) -> None:
    ours = _ours(f16)
    ours["events"] = 1999
    h = ours["regions"]["unweightedAfter"]["histograms"]["hmetu"]
    h["values"] = [v + 1 for v in h["values"]]
    diffs = compare_to_golden(ours, f16)
    assert diffs[0] == "events: 1999 != golden 2000"
    assert diffs[1].endswith(f"... and {len(h['values']) - 5} more")


def test_load_golden_paths() -> None:
    assert load_golden("f14_bins_named", "tiny_nano", DATA)["adl"] == "f14_bins_named.adl"
    with pytest.raises(FileNotFoundError):
        load_golden("nope", "tiny_nano", DATA)


@pytest.mark.shared
@pytest.mark.skipif(not SHARED_GOLDENS, reason="needs ../shared/conformance")
def test_local_copies_match_shared() -> None:
    for stem in ("f14_bins_named", "f16_weights"):
        assert load_golden(stem, "tiny_nano", DATA) == load_golden(stem, "tiny_nano")
