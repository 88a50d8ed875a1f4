"""The chunked reader: flat arrays + offsets, only requested branches, clear input errors."""

from __future__ import annotations

import hashlib
import os
import shutil

import awkward as ak
import numpy as np
import pytest
import uproot

from adlc.errors import AdlInputError, AdlUsageError
from adlc.runtime.generate import generate
from adlc.runtime.reader import (
    Chunk,
    branch_group,
    file_info,
    iterate_chunks,
    open_inputs,
    partition,
    read_chunk,
)
from adlc.runtime.schemas import RUN2012

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data")
RUN2012B = os.path.join(SHARED, "Run2012B_SingleMu_1000.root")
TINY = os.path.join(SHARED, "tiny_nano.root")
needs_shared = pytest.mark.skipif(not os.path.exists(RUN2012B), reason="needs ../shared/data")

BRANCHES = ["Muon_pt", "Muon_charge", "Muon_tightId", "Jet_pt", "Jet_puId", "MET_pt", "run",
            "event", "nJet"]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    d = tmp_path_factory.mktemp("reader")
    generate(str(d / "a.root"), 3000, "run2012", seed=1)
    generate(str(d / "b.root"), 2000, "run2012", seed=2)
    generate(str(d / "nano.root"), 1000, "nanoaod", seed=3)
    return str(d)


def concat(chunks: list[Chunk], key: str) -> np.ndarray:
    return np.concatenate([c.arrays[key] for c in chunks])


def concat_offsets(chunks: list[Chunk], key: str) -> np.ndarray:
    """Chunk offsets start at 0; shift and join them into whole-file offsets."""
    out, base = [np.zeros(1, np.int64)], 0
    for c in chunks:
        out.append(c.arrays[key][1:] + base)
        base += int(c.arrays[key][-1])
    return np.concatenate(out)


def test_open_inputs_expands_globs_sorted(data_dir: str) -> None:
    inputs = open_inputs([os.path.join(data_dir, "?.root")])
    assert [os.path.basename(p) for p in inputs.paths] == ["a.root", "b.root"]
    assert inputs.tree == "Events" and inputs.num_entries == 5000
    assert inputs.branch_types["nMuon"] == "uint32_t"
    assert inputs.schema() is RUN2012
    # the same file by glob and by name is read once
    again = open_inputs([os.path.join(data_dir, "a.root"), os.path.join(data_dir, "*.root")])
    assert len(again.files) == 3


def test_glob_matching_nothing(data_dir: str) -> None:
    with pytest.raises(AdlInputError) as err:
        open_inputs([os.path.join(data_dir, "nothing*.root")])
    assert "nothing*.root" in err.value.render()
    with pytest.raises(AdlUsageError):
        open_inputs([])


def test_missing_file(tmp_path) -> None:
    path = str(tmp_path / "absent.root")
    with pytest.raises(AdlInputError) as err:
        open_inputs([path])
    assert "absent.root" in str(err.value) and "does not exist" in str(err.value)
    with pytest.raises(AdlInputError):
        open_inputs([str(tmp_path)])  # a directory


def test_garbage_and_empty_files(tmp_path) -> None:
    garbage = tmp_path / "garbage.root"
    garbage.write_bytes(b"this is not a ROOT file at all\n" * 10)
    with pytest.raises(AdlInputError) as err:
        open_inputs([str(garbage)])
    assert "garbage.root" in str(err.value) and "not a ROOT file" in str(err.value)
    empty = tmp_path / "empty.root"
    empty.write_bytes(b"")
    with pytest.raises(AdlInputError) as err:
        open_inputs([str(empty)])
    assert "empty" in str(err.value)


def test_truncated_file(data_dir: str, tmp_path) -> None:
    src = os.path.join(data_dir, "a.root")
    half = tmp_path / "half.root"
    with open(src, "rb") as fh:
        half.write_bytes(fh.read(os.path.getsize(src) // 2))
    with pytest.raises(AdlInputError) as err:
        open_inputs([str(half)])
    assert "half.root" in str(err.value) and "truncated" in str(err.value)


def test_corrupt_baskets_are_wrapped(data_dir: str, tmp_path) -> None:
    """Right size and header, garbage in the middle: uproot fails while reading baskets."""
    bad = tmp_path / "scribbled.root"
    shutil.copy(os.path.join(data_dir, "a.root"), bad)
    size = os.path.getsize(bad)
    with open(bad, "r+b") as fh:
        fh.seek(2000)
        fh.write(os.urandom(size // 2))
    with pytest.raises(AdlInputError) as err:
        inputs = open_inputs([str(bad)])
        for _ in iterate_chunks(inputs, ["Muon_pt", "Jet_pt", "MET_pt"], 1000):
            pass
    assert "scribbled.root" in str(err.value)


def test_unreadable_file(data_dir: str, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = tmp_path / "locked.root"
    shutil.copy(os.path.join(data_dir, "a.root"), locked)
    locked.chmod(0)
    if os.access(locked, os.R_OK):  # running as root: pretend the permission check fails
        monkeypatch.setattr(os, "access", lambda path, mode: False)
    try:
        with pytest.raises(AdlInputError) as err:
            open_inputs([str(locked)])
        assert "locked.root" in str(err.value) and "permission" in str(err.value)
    finally:
        locked.chmod(0o644)


def test_missing_tree_lists_trees(data_dir: str) -> None:
    path = os.path.join(data_dir, "a.root")
    with pytest.raises(AdlInputError) as err:
        open_inputs([path], tree="Delphes")
    text = str(err.value)
    assert "Delphes" in text and "'Events'" in text and "a.root" in text


def test_missing_branch_lists_nearest(data_dir: str) -> None:
    inputs = open_inputs([os.path.join(data_dir, "a.root")])
    with pytest.raises(AdlInputError) as err:
        list(iterate_chunks(inputs, ["Muon_pt", "Muon_tightID", "Jet_btagDeepB"], 1000))
    text = err.value.render()
    assert "Muon_tightID" in text and "Muon_tightId" in text
    assert "Jet_btagDeepB" in text and "Jet_btag" in text  # both missing names reported
    assert "a.root" in text
    assert len(err.value.diagnostics) == 2



def test_missing_collection_is_one_error_named_as_in_the_file(data_dir: str) -> None:
    """A collection the file lacks is reported by its counter and branch prefix (not by the
    reader's internal `FatJet@offsets` key), once, whatever attributes were asked for."""
    inputs = open_inputs([os.path.join(data_dir, "a.root")])
    with pytest.raises(AdlInputError) as err:
        list(iterate_chunks(inputs, ["FatJet@offsets", "FatJet_pt", "FatJet_eta", "Jet_pt"],
                            1000))
    (diag,) = err.value.diagnostics
    assert "no collection 'FatJet'" in diag.message and "nFatJet" in diag.message
    assert "@offsets" not in err.value.render()
    assert "Jet" in diag.hint.split(":", 1)[1]  # the collections the file does have

def test_reads_only_requested_branches(data_dir: str, monkeypatch: pytest.MonkeyPatch) -> None:
    read: list[str] = []
    original = uproot.behaviors.TBranch.HasBranches.arrays

    def spy(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        out = original(self, *args, **kwargs)
        read.extend(out)
        return out

    monkeypatch.setattr(uproot.behaviors.TBranch.HasBranches, "arrays", spy)
    inputs = open_inputs([os.path.join(data_dir, "a.root")])
    chunks = list(iterate_chunks(inputs, ["Muon_pt", "MET_pt"], 1000))
    assert set(read) == {"Muon_pt", "MET_pt"}
    assert set(chunks[0].arrays) == {"Muon_pt", "MET_pt", "Muon@offsets"}
    read.clear()
    # Only a collection's size: the counter is read, not a Jet_* branch.
    chunk = next(iterate_chunks(inputs, ["Jet@offsets"], 1000))
    assert set(read) == {"nJet"} and set(chunk.arrays) == {"Jet@offsets"}


def test_offsets_and_contents_match_awkward(data_dir: str) -> None:
    path = os.path.join(data_dir, "a.root")
    inputs = open_inputs([path])
    chunk = next(iterate_chunks(inputs, BRANCHES, 3000))
    with uproot.open(path) as f:
        ref = f["Events"].arrays(BRANCHES, library="ak")
    for name in BRANCHES:
        if ref[name].ndim == 2:
            np.testing.assert_array_equal(chunk.arrays[name], ak.to_numpy(ak.flatten(ref[name])))
            counts = ak.to_numpy(ak.num(ref[name]))
            expected = np.concatenate([[0], np.cumsum(counts)])
            np.testing.assert_array_equal(chunk.arrays[branch_group(name) + "@offsets"], expected)
        else:
            np.testing.assert_array_equal(chunk.arrays[name], ak.to_numpy(ref[name]))
    a = chunk.arrays
    assert a["Muon@offsets"].dtype == np.int64 and len(a["Muon@offsets"]) == 3001
    assert a["Muon_tightId"].dtype == np.bool_ and a["Jet_puId"].dtype == np.bool_
    assert a["run"].dtype == np.int32 and a["nJet"].dtype == np.uint32
    assert a["event"].dtype == np.uint64
    assert all(v.dtype.isnative and v.flags.c_contiguous for v in a.values())
    np.testing.assert_array_equal(np.diff(a["Jet@offsets"]), a["nJet"])


@pytest.mark.parametrize("chunk_size", [1, 97, 333, 1000, 2999, 10_000])
def test_chunking_does_not_change_the_data(data_dir: str, chunk_size: int) -> None:
    inputs = open_inputs([os.path.join(data_dir, "a.root")])
    whole = next(iterate_chunks(inputs, BRANCHES, 10_000))
    max_events = 150 if chunk_size == 1 else None  # keep the 1-event case fast
    chunks = list(iterate_chunks(inputs, BRANCHES, chunk_size, max_events))
    n = max_events or 3000
    assert sum(c.num_entries for c in chunks) == n
    assert [c.entry_start for c in chunks] == list(range(0, n, chunk_size))
    for key in ("Muon@offsets", "Jet@offsets"):
        np.testing.assert_array_equal(concat_offsets(chunks, key), whole.arrays[key][: n + 1])
    for name in BRANCHES:
        expected = whole.arrays[name]
        if name.startswith(("Muon_", "Jet_")):
            expected = expected[: whole.arrays[branch_group(name) + "@offsets"][n]]
        else:
            expected = expected[:n]
        np.testing.assert_array_equal(concat(chunks, name), expected)


def test_partition_over_files(data_dir: str) -> None:
    inputs = open_inputs([os.path.join(data_dir, "a.root"), os.path.join(data_dir, "b.root")])
    items = partition(inputs, 1000)
    assert [(os.path.basename(i.file), i.entry_start, i.entry_stop) for i in items] == [
        ("a.root", 0, 1000), ("a.root", 1000, 2000), ("a.root", 2000, 3000),
        ("b.root", 0, 1000), ("b.root", 1000, 2000)]
    assert [i.global_start for i in items] == [0, 1000, 2000, 3000, 4000]
    assert [i.index for i in items] == list(range(5))
    limited = partition(inputs, 1000, max_events=3500)
    assert sum(i.num_entries for i in limited) == 3500
    assert (os.path.basename(limited[-1].file), limited[-1].entry_stop) == ("b.root", 500)
    assert partition(inputs, 1000, max_events=0) == []
    assert sum(i.num_entries for i in partition(inputs, 700, max_events=10**9)) == 5000
    with pytest.raises(AdlUsageError):
        partition(inputs, 0)
    with pytest.raises(AdlUsageError):
        partition(inputs, 10, max_events=-1)


def test_read_chunk_matches_iterate(data_dir: str) -> None:
    inputs = open_inputs([os.path.join(data_dir, "*.root")])
    items = partition(inputs, 1500, max_events=4000)
    for item, chunk in zip(items, iterate_chunks(inputs, BRANCHES, 1500, 4000), strict=True):
        alone = read_chunk(item, BRANCHES)
        assert (alone.file, alone.entry_start, alone.entry_stop) == \
            (chunk.file, chunk.entry_start, chunk.entry_stop)
        assert alone.global_start == chunk.global_start == item.global_start
        for key, value in chunk.arrays.items():
            np.testing.assert_array_equal(alone.arrays[key], value)


def test_missing_as_zero(data_dir: str) -> None:
    inputs = open_inputs([os.path.join(data_dir, "a.root")])
    chunk = next(iterate_chunks(inputs, ["Jet_btagDeepB", "Photon_sieie", "MET_pt"], 1000,
                                missing_as_zero=RUN2012.missing_reads_zero))
    a = chunk.arrays
    assert len(a["Jet_btagDeepB"]) == a["Jet@offsets"][-1] > 0
    assert not a["Jet_btagDeepB"].any() and a["Jet_btagDeepB"].dtype == np.float32
    assert len(a["Photon_sieie"]) == a["Photon@offsets"][-1]
    # present branches are read even when listed as missing-reads-zero
    nano = open_inputs([os.path.join(data_dir, "nano.root")])
    chunk = next(iterate_chunks(nano, ["Jet_btagDeepB"], 1000,
                                missing_as_zero=RUN2012.missing_reads_zero))
    assert chunk.arrays["Jet_btagDeepB"].any()


def test_file_info(data_dir: str) -> None:
    path = os.path.join(data_dir, "b.root")
    info = file_info(path)
    with open(path, "rb") as fh:
        assert info["sha256"] == hashlib.sha256(fh.read()).hexdigest()
    assert info["size"] == os.path.getsize(path) and info["path"] == os.path.abspath(path)
    with pytest.raises(AdlInputError):
        file_info(path + ".nope")


@needs_shared
def test_real_files_read_like_uproot() -> None:
    inputs = open_inputs([RUN2012B, TINY])
    assert [f.num_entries for f in inputs.files] == [1000, 2000]
    names = ["Muon_pt", "Muon_eta", "Jet_btag", "Jet_puId", "HLT_IsoMu24", "run", "nMuon"]
    chunks = list(iterate_chunks(open_inputs([RUN2012B]), names, 400))
    with uproot.open(RUN2012B) as f:
        ref = f["Events"].arrays(names, library="ak")
    for name in names:
        flat = ak.flatten(ref[name]) if ref[name].ndim == 2 else ref[name]
        np.testing.assert_array_equal(concat(chunks, name), ak.to_numpy(flat))
    np.testing.assert_array_equal(np.diff(concat_offsets(chunks, "Muon@offsets")),
                                  ak.to_numpy(ref["nMuon"]))
