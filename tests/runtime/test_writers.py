"""Writers: ROOT layout read back with uproot, JSON content, atomic output, the cutflow table."""

from __future__ import annotations

import json
import math
from pathlib import Path

import hist
import numpy as np
import pytest
import uproot

from adlc.errors import AdlUsageError
from adlc.runtime import writers
from adlc.runtime.results import Counter, RegionResult, RunResult
from adlc.runtime.writers import (
    MANIFEST_NAME,
    format_cutflow,
    hist_arrays,
    histogram_entries,
    write_json,
    write_outputs,
    write_root,
)


def _h1() -> hist.Hist:
    """4 bins on [0, 40): fills 5 (w 2), 15 (w 0.5), 15 (w 1), -3 (underflow, w 1), 99 (w 3)."""
    h = hist.Hist(hist.axis.Regular(4, 0, 40), storage=hist.storage.Weight())
    h.fill([5.0, 15.0, 15.0, -3.0, 99.0], weight=[2.0, 0.5, 1.0, 1.0, 3.0])
    return h


def _h1_unit() -> hist.Hist:
    h = hist.Hist(hist.axis.Variable([0, 10, 30, 100]), storage=hist.storage.Weight())
    h.fill([1.0, 2.0, 20.0, 50.0, 500.0])
    return h


def _h2() -> hist.Hist:
    h = hist.Hist(hist.axis.Regular(2, 0, 2), hist.axis.Variable([0, 1, 5]),
                  storage=hist.storage.Weight())
    h.fill([0.5, 1.5, 1.5, 3.0], [0.5, 2.0, 2.0, -1.0])  # last one: x overflow, y underflow
    return h


def make_result() -> RunResult:
    presel = RegionResult(
        "presel",
        cutflow=[Counter("all Events", 100.0, 100.0, 100), Counter("ALL", 100.0, 100.0, 100),
                 Counter("wXsec 0.5", 50.0, 25.0, 100), Counter("MET > 20", 20.0, 5.0, 40)],
        bins=[Counter('"low"', 12.5, 3.125, 25), Counter("MET > 80", 7.5, 1.875, 15)],
        histograms={"hmet": _h1(), "hj": _h1_unit()},
        entries={"hmet": 5, "hj": 5},
        titles={"hmet": '"MET"', "hj": '"jet pT, var"'},
    )
    twod = RegionResult(
        "twod",
        cutflow=[Counter("all Events", 100.0, 100.0, 100), Counter("size(jets) >= 1", 0, 0, 0)],
        histograms={"h2": _h2()},
        entries={"h2": 4},
        titles={"h2": '"x vs y"'},
    )
    return RunResult({"presel": presel, "twod": twod}, events=100)


# ---------------------------------------------------------------------------------------------
# ROOT
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def root_file(tmp_path_factory: pytest.TempPathFactory) -> uproot.ReadOnlyDirectory:
    path = write_root(make_result(), tmp_path_factory.mktemp("root") / "histoOut-t.root")
    with uproot.open(path) as f:
        yield f


def test_root_layout(root_file: uproot.ReadOnlyDirectory) -> None:
    assert [k.split(";")[0] for k in root_file.keys(recursive=False)] == ["presel", "twod"]
    assert set(root_file["presel"].keys(cycle=False)) == {"cutflow", "bincounts", "hmet", "hj"}
    # No bins: no bincounts, as CutLang.
    assert set(root_file["twod"].keys(cycle=False)) == {"cutflow", "h2"}
    assert root_file["presel/cutflow"].classname == "TH1D"
    assert root_file["twod/h2"].classname == "TH2D"


def test_root_cutflow_labels_contents_errors(root_file: uproot.ReadOnlyDirectory) -> None:
    cf = root_file["presel/cutflow"]
    assert cf.axis().labels() == ["all Events", "ALL", "wXsec 0.5", "MET > 20"]
    np.testing.assert_array_equal(cf.values(), [100, 100, 50, 20])
    np.testing.assert_allclose(cf.errors(), np.sqrt([100, 100, 25, 5]))
    bc = root_file["presel/bincounts"]
    assert bc.axis().labels() == ['"low"', "MET > 80"]
    np.testing.assert_array_equal(bc.values(), [12.5, 7.5])
    np.testing.assert_allclose(bc.variances(), [3.125, 1.875])


def test_root_th1_contents_flow_title(root_file: uproot.ReadOnlyDirectory) -> None:
    h = root_file["presel/hmet"]
    assert h.title == '"MET"'
    assert h.member("fEntries") == 5
    np.testing.assert_array_equal(h.axis().edges(), [0, 10, 20, 30, 40])
    np.testing.assert_array_equal(h.values(flow=True), [1, 2, 1.5, 0, 0, 3])
    np.testing.assert_array_equal(h.variances(flow=True), [1, 4, 1.25, 0, 0, 9])
    # and back into hist: the same contents we wrote
    back = h.to_hist()
    assert back.axes[0] == hist.axis.Regular(4, 0, 40, name="xaxis")
    np.testing.assert_array_equal(back.view(flow=True), _h1().view(flow=True))


def test_root_unit_weights_and_variable_edges(root_file: uproot.ReadOnlyDirectory) -> None:
    h = root_file["presel/hj"]
    np.testing.assert_array_equal(h.axis().edges(), [0, 10, 30, 100])
    np.testing.assert_array_equal(h.values(flow=True), [0, 2, 1, 1, 1])
    # Unit weights: no Sumw2 array (as CutLang), errors are sqrt(content).
    assert len(h.member("fSumw2")) == 0
    np.testing.assert_allclose(h.errors(), np.sqrt([2, 1, 1]))


def test_root_th2(root_file: uproot.ReadOnlyDirectory) -> None:
    h = root_file["twod/h2"]
    assert h.title == '"x vs y"'
    expected = np.zeros((4, 4))
    expected[1, 1] = 1  # (0.5, 0.5)
    expected[2, 2] = 2  # (1.5, 2.0) twice
    expected[3, 0] = 1  # x overflow, y underflow
    np.testing.assert_array_equal(h.values(flow=True), expected)
    np.testing.assert_array_equal(h.axis(1).edges(), [0, 1, 5])
    assert h.member("fEntries") == 4


def test_hist_without_flow_is_padded(tmp_path: Path) -> None:
    h = hist.Hist(hist.axis.Regular(2, 0, 2, underflow=False, overflow=False))
    h.fill([0.5, 1.5, 1.5])
    arrays = hist_arrays(h)
    np.testing.assert_array_equal(arrays.values, [0, 1, 2, 0])
    assert not arrays.weighted
    region = RegionResult("r", [Counter("all Events", 3, 3, 3)], histograms={"h": h})
    assert histogram_entries(region, "h") == 3  # fallback: unit weights -> total content
    write_root(RunResult({"r": region}, 3), tmp_path / "x.root")
    with uproot.open(tmp_path / "x.root") as f:
        assert f["r/h"].title == "h"  # no title anywhere: the name
        np.testing.assert_array_equal(f["r/h"].values(flow=True), [0, 1, 2, 0])


# ---------------------------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------------------------

def test_json_content(tmp_path: Path) -> None:
    inputs = [{"path": "data/x.root", "size": 123, "sha256": "ab" * 32}]
    path = write_json(make_result(), tmp_path / "t.json", inputs=inputs,
                      versions={"adlc": "0.1.0"}, analysis="t")
    doc = json.loads(path.read_text())
    assert doc["analysis"] == "t" and doc["events"] == 100 and doc["producer"] == "adlc"
    assert doc["inputs"] == inputs and doc["versions"] == {"adlc": "0.1.0"}
    assert list(doc["regions"]) == ["presel", "twod"]
    presel = doc["regions"]["presel"]
    assert presel["cutflow"][2] == {"label": "wXsec 0.5", "sumw": 50.0, "error": 5.0, "raw": 100}
    assert presel["bins"][0]["label"] == '"low"' and presel["bins"][0]["raw"] == 25
    hmet = presel["histograms"]["hmet"]
    assert hmet["type"] == "TH1D" and hmet["title"] == '"MET"' and hmet["entries"] == 5
    assert hmet["edges"] == [0, 10, 20, 30, 40]
    assert hmet["values"] == [2, 1.5, 0, 0] and hmet["variances"] == [4, 1.25, 0, 0]
    assert (hmet["underflow"], hmet["overflow"]) == (1, 3)
    h2 = doc["regions"]["twod"]["histograms"]["h2"]
    assert h2["type"] == "TH2D" and h2["xedges"] == [0, 1, 2] and h2["yedges"] == [0, 1, 5]
    assert h2["values"] == [[1, 0], [0, 2]] and h2["values_with_flow"][3][0] == 1


def test_json_default_versions_and_non_finite(tmp_path: Path) -> None:
    result = RunResult({"r": RegionResult("r", [Counter("all Events", math.nan, 0, 1)])}, 1)
    doc = json.loads(write_json(result, tmp_path / "n.json").read_text())
    assert doc["regions"]["r"]["cutflow"][0]["sumw"] is None  # strict JSON: no NaN
    assert "adlc" in doc["versions"] and "python" in doc["versions"]


# ---------------------------------------------------------------------------------------------
# write_outputs: names, atomicity, refusing to overwrite
# ---------------------------------------------------------------------------------------------

def test_write_outputs_names(tmp_path: Path) -> None:
    out = tmp_path / "out"
    paths = write_outputs(make_result(), out, analysis="ex03")
    assert sorted(p.name for p in paths) == ["ex03.json", "histoOut-ex03.root"]
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST_NAME, "ex03.json",
                                                      "histoOut-ex03.root"]
    assert not [p for p in tmp_path.iterdir() if "adlc-tmp" in p.name]  # temp dir cleaned
    with uproot.open(out / "histoOut-ex03.root") as f:
        assert f["presel/cutflow"].axis().labels()[0] == "all Events"


def test_write_outputs_only_json_into_existing_dir(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    write_outputs(make_result(), tmp_path, analysis="a", formats=["json"])
    assert sorted(p.name for p in tmp_path.iterdir()) == [MANIFEST_NAME, "a.json", "notes.txt"]


def _boom(*args: object, **kwargs: object) -> None:
    raise RuntimeError("disk on fire")


def test_failure_leaves_no_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # ROOT is written first and succeeds; JSON then fails: nothing may be published.
    monkeypatch.setattr(writers, "write_json", _boom)
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_outputs(make_result(), out, analysis="a")
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_failure_keeps_old_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    write_outputs(make_result(), out, analysis="a")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    monkeypatch.setattr(writers, "write_json", _boom)
    with pytest.raises(RuntimeError):
        write_outputs(make_result(), out, analysis="a", overwrite=True)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_refuses_to_overwrite(tmp_path: Path) -> None:
    write_outputs(make_result(), tmp_path, analysis="a")
    old = (tmp_path / "a.json").read_bytes()
    with pytest.raises(AdlUsageError, match="already holds adlc results") as err:
        write_outputs(make_result(), tmp_path, analysis="a")
    assert "--force" in err.value.render()
    # another analysis name: the manifest still marks the directory as taken
    with pytest.raises(AdlUsageError):
        write_outputs(make_result(), tmp_path, analysis="b")
    assert (tmp_path / "a.json").read_bytes() == old


def test_refuses_to_overwrite_a_file_without_manifest(tmp_path: Path) -> None:
    (tmp_path / "histoOut-a.root").write_bytes(b"CutLang's own output")
    with pytest.raises(AdlUsageError):
        write_outputs(make_result(), tmp_path, analysis="a")
    assert (tmp_path / "histoOut-a.root").read_bytes() == b"CutLang's own output"


def test_overwrite_replaces_and_drops_stale_files(tmp_path: Path) -> None:
    write_outputs(make_result(), tmp_path, analysis="a")
    result = make_result()
    result.regions["presel"].cutflow[3] = Counter("MET > 20", 21.0, 5.0, 41)
    write_outputs(result, tmp_path, analysis="b", overwrite=True)
    # a.* were listed in the old manifest and not rewritten: removed
    assert sorted(p.name for p in tmp_path.iterdir()) == [MANIFEST_NAME, "b.json",
                                                           "histoOut-b.root"]
    doc = json.loads((tmp_path / "b.json").read_text())
    assert doc["regions"]["presel"]["cutflow"][3]["raw"] == 41


def test_unknown_format_and_file_as_outdir(tmp_path: Path) -> None:
    with pytest.raises(AdlUsageError, match="unknown output format"):
        write_outputs(make_result(), tmp_path / "o", analysis="a", formats=["csv"])
    (tmp_path / "f").write_text("")
    with pytest.raises(AdlUsageError, match="not a directory"):
        write_outputs(make_result(), tmp_path / "f", analysis="a")


def test_plots(tmp_path: Path) -> None:
    pytest.importorskip("mplhep")
    paths = write_outputs(make_result(), tmp_path / "o", analysis="a", formats=[], plots=True)
    names = sorted(p.relative_to(tmp_path / "o").as_posix() for p in paths)
    assert names == ["plots/presel__hj.png", "plots/presel__hmet.png", "plots/twod__h2.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)
    import matplotlib.pyplot as plt

    assert plt.get_fignums() == []  # drawn on private canvases: nothing leaks into pyplot


# ---------------------------------------------------------------------------------------------
# Terminal table
# ---------------------------------------------------------------------------------------------

def test_format_cutflow() -> None:
    text = format_cutflow(make_result())
    lines = text.splitlines()
    assert lines[0] == "Region presel (based on 100 events)"
    row = next(line for line in lines if "wXsec 0.5" in line).split()
    # label, weighted, error, eff vs previous, eff vs first, raw
    assert row[-5:] == ["50", "5", "0.5000", "0.5000", "100"]
    row = next(line for line in lines if "MET > 20" in line).split()
    assert row[-5:] == ["20", "2.236", "0.4000", "0.2000", "40"]
    row = next(line for line in lines if '"low"' in line).split()
    assert row[1:] == ["12.5", "1.768", "0.6250", "0.1250", "25", "(bin", "0)"]
    # a zero row: efficiency of the next row relative to it is undefined, not a crash
    assert "Region twod" in text
    zero = RunResult({"z": RegionResult("z", [Counter("all Events", 0, 0, 0),
                                              Counter("x", 0, 0, 0)])}, 0)
    assert next(line for line in format_cutflow(zero).splitlines() if " x " in line
                ).split()[-3:-1] == ["-", "-"]


def test_write_outputs_into_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "analysis.adl").write_text("region r\n")
    write_outputs(make_result(), ".", analysis="a", formats=["json"])
    assert sorted(p.name for p in tmp_path.iterdir()) == [MANIFEST_NAME, "a.json",
                                                           "analysis.adl"]


def test_merge_keeps_entries_and_titles() -> None:
    a, b = make_result(), make_result()
    b.regions["presel"].titles = {}
    merged = (a + b).regions["presel"]
    assert merged.entries == {"hmet": 10, "hj": 10}
    assert merged.titles == {"hmet": '"MET"', "hj": '"jet pT, var"'}
    np.testing.assert_array_equal(hist_arrays(merged.histograms["hmet"]).values,
                                  2 * hist_arrays(_h1()).values)


def test_fresh_output_directory_gets_umask_permissions(tmp_path: Path) -> None:
    import os
    import stat

    old = os.umask(0o022)
    try:
        write_outputs(make_result(), tmp_path / "o", analysis="a", formats=["json"])
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "o").stat().st_mode) == 0o755
