"""The executor: one chunk in memory at a time, worker errors that survive the pool, and a
failed chunk that stops the run instead of reading everything else first."""

from __future__ import annotations

import gc
import os
import time
import types
import weakref
from pathlib import Path

import pytest

pytest.importorskip("uproot")
pytest.importorskip("numba")

from adlc.errors import AdlInputError  # noqa: E402
from adlc.runtime import reader  # noqa: E402
from adlc.runtime.generate import generate  # noqa: E402

ADL = """\
object jets
  take Jet
  select pT(Jet) > 25

region r
  select size(jets) >= 1
  histo hnj, "jets", 10, 0, 10, size(jets)
"""


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("execute")
    generate(str(d / "a.root"), 4000, "run2012", seed=5)
    (d / "r.adl").write_text(ADL)
    return d


def test_only_one_chunk_is_alive(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Peak memory is one chunk: each is garbage by the time the next has been read."""
    from adlc.driver import run_analysis

    real = reader.iterate_chunks
    alive: list[int] = []
    refs: list[weakref.ref] = []

    def watched(*args, **kwargs):  # noqa: ANN002, ANN003
        for chunk in real(*args, **kwargs):
            gc.collect()
            alive.append(sum(r() is not None for r in refs))
            refs.extend(weakref.ref(a) for a in chunk.arrays.values())
            yield chunk
            del chunk

    monkeypatch.setattr(reader, "iterate_chunks", watched)
    result = run_analysis(data / "r.adl", [str(data / "a.root")], chunk_size=500)
    assert result.events == 4000
    assert alive == [0] * 8


def test_worker_errors_keep_their_class_and_diagnostics(data: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from adlc.driver import run_analysis

    real = reader.read_chunk

    def broken(item, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        if item.index == 0:  # the warm-up reads the first events of item 0
            return real(item, *args, **kwargs)
        raise reader._input_error(item.file, f"bad chunk at {item.entry_start}", "E703", "hint!")

    monkeypatch.setattr(reader, "read_chunk", broken)  # inherited by the forked workers
    with pytest.raises(AdlInputError) as err:
        run_analysis(data / "r.adl", [str(data / "a.root")], chunk_size=1000, jobs=2)
    [diag] = err.value.diagnostics
    assert diag.message == "bad chunk at 1000" and diag.hint == "hint!"
    assert diag.span.file.endswith("a.root")


def test_a_failed_chunk_stops_the_pool(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from adlc.driver import run_analysis

    real = reader.read_chunk

    def slow_after_first(item, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        if item.index == 1:  # in the pool's first batch
            raise reader._input_error(item.file, "second chunk is bad", "E703")
        if item.index > 1:
            time.sleep(0.5)
        return real(item, *args, **kwargs)

    monkeypatch.setattr(reader, "read_chunk", slow_after_first)
    start = time.perf_counter()
    with pytest.raises(AdlInputError, match="second chunk is bad"):
        run_analysis(data / "r.adl", [str(data / "a.root")], chunk_size=100, jobs=2)
    # 40 items at 0.5 s over 2 workers would take 10 s; only those in flight finish
    assert time.perf_counter() - start < 5


def test_same_chunks_same_bits_for_any_jobs(data: Path) -> None:
    from adlc.driver import run_analysis

    weighted = data / "w.adl"
    weighted.write_text(ADL.replace("  histo", "  weight w 0.1\n  histo"))
    one = run_analysis(weighted, [str(data / "a.root")], chunk_size=300, jobs=1)
    two = run_analysis(weighted, [str(data / "a.root")], chunk_size=300, jobs=2)
    for a, b in zip(one.regions["r"].cutflow, two.regions["r"].cutflow, strict=True):
        assert (a.sumw, a.sumw2, a.raw) == (b.sumw, b.sumw2, b.raw)
    h1, h2 = one.regions["r"].histograms["hnj"], two.regions["r"].histograms["hnj"]
    assert (h1.values(flow=True) == h2.values(flow=True)).all()
    assert (h1.variances(flow=True) == h2.variances(flow=True)).all()
    # more processes than items (4000 events in 2 items): the pool gets only one worker
    few = run_analysis(weighted, [str(data / "a.root")], chunk_size=3000, jobs=5)
    one = run_analysis(weighted, [str(data / "a.root")], chunk_size=3000, jobs=1)
    assert [(c.sumw, c.raw) for c in few.regions["r"].cutflow] == \
        [(c.sumw, c.raw) for c in one.regions["r"].cutflow]


def test_progress_is_called_per_chunk(data: Path) -> None:
    from adlc.driver import run_analysis

    calls: list[tuple[int, float]] = []
    run_analysis(data / "r.adl", [str(data / "a.root")], chunk_size=1500,
                 progress=lambda done, seconds: calls.append((done, seconds)))
    assert [c[0] for c in calls] == [0, 1500, 3000, 4000]
    assert all(s >= 0 for _, s in calls)


def test_parallel_schedule_hands_out_every_item_once_in_shrinking_one_file_batches() -> None:
    from adlc.runtime.execute import _Schedule
    from adlc.runtime.reader import WorkItem

    items = [WorkItem(f"f{i // 25}", "t", 0, 1, index=i) for i in range(100)]  # 4 files
    schedule = _Schedule(items, 2)
    handed: list[list] = []
    while True:  # the pool takes two batches, then the parent one item, as _parallel does
        batches = [schedule.batch(), schedule.batch()]
        handed += [b for b in batches if b]
        one = schedule.one()
        if one is None:
            break
        handed.append([one])
    assert [it for b in handed for it in b] == items  # every item once, in order
    assert all(len({it.file for it in b}) == 1 for b in handed)
    # a pool batch is a share (1/8 for 2 processes) of what is left, rounded up, or the
    # rest of its file: 100 items -> 13, 87 left -> 11, the parent takes f0's last, then
    # 75 left -> 10, 65 left -> 9 (f1's first 19), the parent takes one, 45 left -> 5 (f1's rest)
    assert [len(b) for b in handed[:7]] == [13, 11, 1, 10, 9, 1, 5]
    left = len(items)
    for b in handed:
        assert len(b) <= -(-left // 8)
        left -= len(b)
    assert len(handed[-1]) == 1
    assert schedule.batch() == [] and schedule.one() is None
    assert _Schedule(items[:1], 3).batch() == [items[0]]


def test_parallel_workers_share_the_parents_memory_mapped_files(data: Path) -> None:
    """The handles open_inputs opened are shared with the forked workers only when they are
    real memory maps (a fallback file object's position would be shared)."""
    from adlc.runtime.reader import _SHARED, _shared, open_inputs, share_held, unshare_held

    inputs = open_inputs([str(data / "a.root")])
    key = (str(data / "a.root"), inputs.tree)
    share_held(inputs)
    try:
        assert list(_SHARED) == [key] and _SHARED[key][3] is None  # for every process
        handle = inputs.held[str(data / "a.root")][0]
        # as if mmap had failed (uproot then reads through an open fallback source)
        handle.file.source._fallback = types.SimpleNamespace(closed=False)
        share_held(inputs)
        assert _SHARED[key][3] == os.getpid()  # the parent's own reads only
        assert _shared(*key) is not None
        _SHARED[key] = (*_SHARED[key][:3], os.getpid() + 1)  # as seen from a forked worker
        assert _shared(*key) is None
    finally:
        unshare_held()
        handle.file.source._fallback = None
        handle.close()


def test_the_heap_is_frozen_only_during_the_event_loop(data: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """execute() freezes the objects alive before the loop (gc.freeze) and unfreezes them
    after it, also when the run fails: nothing stays out of the collector's reach."""
    from adlc.driver import run_analysis

    counts: list[int] = []
    real = reader.read_chunk

    def spy(item, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        counts.append(gc.get_freeze_count())
        return real(item, *args, **kwargs)

    monkeypatch.setattr(reader, "read_chunk", spy)
    run_analysis(data / "r.adl", [str(data / "a.root")], chunk_size=1000, jobs=2)
    assert counts and all(c > 0 for c in counts) and gc.get_freeze_count() == 0

    def bad(item, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        raise reader._input_error(item.file, "bad", "E703")

    monkeypatch.setattr(reader, "read_chunk", bad)
    with pytest.raises(AdlInputError):
        run_analysis(data / "r.adl", [str(data / "a.root")], chunk_size=1000, jobs=2)
    assert gc.get_freeze_count() == 0
