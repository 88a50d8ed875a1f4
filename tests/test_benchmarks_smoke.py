"""The benchmark harness (benchmarks/) on a small generated file.

The hand-written numba queries are the baseline that `make bench` measures adlc against, so
they must compute the same thing: every histogram of every query with an ADL file in
examples/benchmarks/ equals adlc's bin for bin (flows included). This checks both sides: a
mistake in either shows up as a difference.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `benchmarks` is a directory of the checkout, not installed
    sys.path.insert(0, str(ROOT))

pytest.importorskip("numba")
pytest.importorskip("uproot")
queries = importlib.import_module("benchmarks.queries")
handwritten = importlib.import_module("benchmarks.handwritten")
io_floor = importlib.import_module("benchmarks.io_floor")

N_EVENTS = 20_000
CHUNK = 7_000   # several chunks, the last one short


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from adlc.runtime.generate import generate

    path = tmp_path_factory.mktemp("bench") / "run2012_20k.root"
    generate(str(path), N_EVENTS, schema="run2012", seed=7)
    return path


@pytest.mark.parametrize("name", list(queries.QUERIES))
def test_handwritten_equals_adlc(name: str, sample: Path) -> None:
    from adlc.driver import run_analysis

    query = queries.QUERIES[name]
    ours = handwritten.run(name, sample, chunk_size=CHUNK)
    assert set(ours) == {h for h, _ in query.histograms}
    for h, (nb, _, _) in query.histograms:
        assert ours[h].shape == (nb + 2,)
        assert ours[h].sum() > 0, f"{name}: {h} is empty on {N_EVENTS} events"
    if query.adl_path is None:
        pytest.skip(f"{name} has no ADL file in examples/benchmarks/ yet")
    result = run_analysis(str(query.adl_path), [str(sample)], chunk_size=CHUNK)
    region = result.regions[query.region]
    for h, _ in query.histograms:
        theirs = region.histograms[h].view(flow=True).value
        assert np.array_equal(theirs, ours[h]), (
            f"{name} {h}: bins differ at {np.flatnonzero(theirs != ours[h]).tolist()}")


def test_io_floor_reads_every_event(sample: Path) -> None:
    assert io_floor.read(sample, ("MET_pt", "Jet_pt"), chunk_size=CHUNK) == N_EVENTS


def test_adlc_branches_maps_offsets_to_counters() -> None:
    file_branches = ["nJet", "Jet_pt", "nMuon", "Muon_pt", "MET_pt"]
    got = io_floor.adlc_branches(["Jet@offsets", "Jet_pt", "Muon@offsets", "MET_pt",
                                  "Jet_btagDeepB"], file_branches)
    assert got == ["Jet_pt", "MET_pt", "nMuon"]


def test_query_selection() -> None:
    assert queries.select("1, q7") == ["q1", "q7"]
    assert queries.select("all") == list(queries.QUERIES)
    with pytest.raises(SystemExit):
        queries.select("q9")
