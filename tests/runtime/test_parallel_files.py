"""-j over several files: the files between the first and the last are counted by the process
that reads them (open_inputs(count_all=False)), and the results are still bit-identical to a
serial run over the same chunks."""

from __future__ import annotations

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
  weight w 0.1
  select size(jets) >= 1
  histo hnj, "jets", 10, 0, 10, size(jets)
  histo hpt, "pT", 50, 0, 250, pT(jets[0])
"""

SIZES = [2500, 0, 4000, 1300, 900]   # an empty file in the middle, files shorter than a chunk


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    d = tmp_path_factory.mktemp("parallel_files")
    paths = []
    for k, n in enumerate(SIZES):
        generate(str(d / f"f{k}.root"), n, "run2012", seed=10 + k)
        paths.append(str(d / f"f{k}.root"))
    (d / "r.adl").write_text(ADL)
    return d / "r.adl", paths


def _bits(result) -> tuple:
    region = result.regions["r"]
    rows = [(c.sumw, c.sumw2, c.raw) for c in region.cutflow]
    hists = [(h.values(flow=True).tobytes(), h.variances(flow=True).tobytes())
             for h in region.histograms.values()]
    return result.events, rows, hists


def test_open_inputs_can_leave_the_middle_files_uncounted(files) -> None:
    _, paths = files
    inputs = reader.open_inputs(paths, count_all=False)
    try:
        assert [f.num_entries for f in inputs.files] == [2500, None, None, None, 900]
        assert inputs.num_entries is None
        assert list(inputs.held) == [paths[0], paths[-1]]
        assert [f.num_entries for f in inputs.counted().files] == SIZES
        assert inputs.counted().num_entries == sum(SIZES)
        items = reader.partition(inputs, 1000)
        whole = [it for it in items if it.entry_stop is None]
        assert [it.file for it in whole] == paths[1:4]
        assert [it.index for it in items] == list(range(len(items)))
        # a whole-file item is cut into the chunks a counted file would have had
        counted = reader.partition(inputs.counted(), 1000)
        cut = [piece for it in items for piece in (
            reader.file_items(it, SIZES[it.file_index]) if it.entry_stop is None else [it])]
        assert [(c.file, c.entry_start, c.entry_stop) for c in cut] == \
            [(c.file, c.entry_start, c.entry_stop) for c in counted]
    finally:
        reader.close_held(inputs)


@pytest.mark.parametrize("chunk_size", [700, 5000])
def test_any_jobs_same_bits_over_files_counted_by_the_workers(files, chunk_size: int) -> None:
    from adlc.driver import run_analysis

    adl, paths = files
    one = run_analysis(adl, paths, chunk_size=chunk_size, jobs=1)
    assert one.events == sum(SIZES)
    for jobs in (2, 3):
        assert _bits(run_analysis(adl, paths, chunk_size=chunk_size, jobs=jobs)) == _bits(one)


def test_max_events_over_uncounted_files_stops_where_a_serial_run_does(files) -> None:
    from adlc.driver import run_analysis

    adl, paths = files
    one = run_analysis(adl, paths, chunk_size=600, jobs=1, max_events=5000)
    two = run_analysis(adl, paths, chunk_size=600, jobs=2, max_events=5000)
    assert one.events == 5000 and _bits(two) == _bits(one)


def test_a_bad_middle_file_is_reported_by_name(files, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from adlc.driver import run_analysis

    adl, paths = files
    # a missing tree is found before compiling, without reading the tree
    import uproot

    with uproot.recreate(tmp_path / "notree.root") as f:
        f["Other"] = {"x": [1.0, 2.0]}
    with pytest.raises(AdlInputError, match="no tree 'Events'") as err:
        run_analysis(adl, [paths[0], str(tmp_path / "notree.root"), paths[-1]], jobs=2)
    assert err.value.diagnostics[0].span.file.endswith("notree.root")

    # a tree that cannot be read shows only when a process counts it: the run fails with the
    # file's name and no result, whichever process met it
    real = reader._count

    def broken(ttree, path):  # noqa: ANN001
        if path == paths[2]:
            raise reader._corrupt(path, ValueError("bad TTree"))
        return real(ttree, path)

    monkeypatch.setattr(reader, "_count", broken)  # inherited by the forked workers
    with pytest.raises(AdlInputError, match="bad TTree") as err:
        run_analysis(adl, paths, chunk_size=700, jobs=2)
    assert err.value.diagnostics[0].span.file == paths[2]


def test_progress_without_a_total_ends_its_line() -> None:
    import io

    from adlc.driver import _Progress

    stream = io.StringIO()
    bar = _Progress(None, stream)
    bar(0, 0.0)
    bar(1500, 0.5)
    bar.end()
    bar.end()
    assert stream.getvalue() == "\r0 events  0 ev/s\r1500 events  3,000 ev/s\n"
    stream = io.StringIO()
    bar = _Progress(100, stream)
    bar(100, 1.0)
    bar.end()  # the bar ended its line itself
    assert stream.getvalue().count("\n") == 1


def test_a_runs_pool_thread_is_joined_before_the_next_run_forks(files) -> None:
    from adlc.driver import run_analysis
    from adlc.runtime import execute

    adl, paths = files
    run_analysis(adl, paths, chunk_size=2000, jobs=2)
    first = list(execute._LINGERING)
    assert len(first) == 1   # the result did not wait for the pool's thread
    run_analysis(adl, paths, chunk_size=2000, jobs=2)
    assert not first[0].is_alive() and execute._LINGERING[0] is not first[0]
    execute._join_lingering()
    assert execute._LINGERING == []


def test_the_pool_thread_is_kept_when_one_batch_takes_everything(files) -> None:
    """Two items: the pool's first batch empties the schedule and the pool is wound down at
    once; its thread is still joined before the next run forks."""
    from adlc.driver import run_analysis
    from adlc.runtime import execute

    adl, paths = files
    execute._join_lingering()
    run_analysis(adl, [paths[0]], chunk_size=1500, jobs=2)   # 2500 events: 2 items
    assert len(execute._LINGERING) == 1
    execute._join_lingering()
