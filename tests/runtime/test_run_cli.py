"""`adlc run` end to end: outputs, merge identity, progress, and every way a run can fail.

Inputs are generated here (adlc.runtime.generate, run2012 layout, a few thousand events). Every
failure must exit 1 (2 for usage errors), print a message and no traceback, and leave no file
that looks like a result: no ROOT or JSON file, no manifest, no temporary directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ak = pytest.importorskip("awkward")
uproot = pytest.importorskip("uproot")
pytest.importorskip("numba")

from adlc.runtime.generate import generate  # noqa: E402
from adlc.runtime.reader import branch_group  # noqa: E402

ADL = """\
object muons
  take Muon
  select pT(Muon) > 10

object jets
  take Jet
  select pT(Jet) > 25
  select abs(eta(Jet)) < 2.4

define HT = sum(pT(jets))

region presel
  select ALL
  select size(jets) >= 1
  weight half 0.5
  histo hjpt, "leading jet pT", 20, 0, 200, pT(jets[0])
  histo hht, "HT", 0 50 100 200 400, HT
  bin "lowHT" HT < 100
  bin "highHT" HT >= 100

region dimuon
  select size(muons) >= 2
  histo h2, "muon pTs", 10, 0, 100, 10, 0, 100, pT(muons[0]), pT(muons[1])
  histo hmet, "MET", 20, 0, 200, MET

region tenth
  select size(jets) >= 2
  weight tenth 0.1
  histo hht2, "HT", 20, 0, 800, HT
"""
N_HISTOGRAMS = 5
EXACT_REGIONS = ("presel", "dimuon")  # weights 1 and 0.5: sums exact whatever the grouping
VERSION_KEYS = {"adlc", "numba", "numpy", "uproot", "awkward", "python"}


# --- fixtures and helpers ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("run_cli")
    (d / "inputs").mkdir()
    generate(str(d / "inputs" / "a.root"), 3000, "run2012", seed=1)
    generate(str(d / "inputs" / "b.root"), 2000, "run2012", seed=2)
    (d / "ana.adl").write_text(ADL)
    return d


def adlc(*args: object, cwd: Path | None = None, **kwargs: object) -> subprocess.CompletedProcess:
    """`adlc ...` in a fresh interpreter (stderr is a pipe, not a terminal)."""
    return subprocess.run([sys.executable, "-m", "adlc", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=120, **kwargs)


def run(data: Path, out: Path, *inputs: object, extra: tuple = ()) -> subprocess.CompletedProcess:
    ins = [x for i in inputs for x in ("-i", i)] or ["-i", data / "inputs" / "*.root"]
    return adlc("run", data / "ana.adl", *ins, "-o", out, *extra)


def leftovers(out: Path) -> list[str]:
    """Anything in or beside `out` that could pass for (part of) a result."""
    found = []
    if out.exists():
        found += [str(p.relative_to(out)) for p in out.rglob("*")
                  if p.suffix in (".root", ".json", ".png") or p.name.startswith(".adlc")]
    found += [p.name for p in out.parent.glob(f".{out.name}.adlc-tmp-*")]
    return found


def assert_failed_cleanly(proc: subprocess.CompletedProcess, out: Path, *needles: str,
                          code: int = 1) -> str:
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    assert "error:" in proc.stderr
    for needle in needles:
        assert needle in proc.stderr, (needle, proc.stderr)
    assert leftovers(out) == []
    return proc.stderr


def summary(out: Path, name: str = "ana") -> dict:
    return json.loads((out / f"{name}.json").read_text())


def copy_events(src: Path, dst: Path, *, drop: tuple[str, ...] = (),
                tree: str = "Events", second_tree: str | None = None) -> None:
    """Rewrite `src`'s Events tree under the name `tree`, without the branches in `drop`."""
    with uproot.open(src) as f:
        events = f["Events"].arrays(library="ak")
    groups: dict[str, dict[str, ak.Array]] = {}
    flat: dict[str, ak.Array] = {}
    for name in events.fields:
        if name in drop:
            continue
        if events[name].ndim > 1:
            group = branch_group(name)
            groups.setdefault(group, {})[name[len(group) + 1:]] = events[name]
        else:
            flat[name] = events[name]
    arrays = {k: v for k, v in flat.items() if not (k.startswith("n") and k[1:] in groups)}
    arrays.update({g: ak.zip(fields) for g, fields in groups.items()})
    with uproot.recreate(dst) as out:  # mktree: `out[name] = arrays` would write an RNTuple
        out.mktree(tree, {k: v.type for k, v in arrays.items()})
        out[tree].extend(arrays)
        if second_tree:
            out.mktree(second_tree, {"x": "f8"})
            out[second_tree].extend({"x": [1.0, 2.0]})


def scribble_basket(src: Path, dst: Path, branch: str, basket: int) -> None:
    """A copy whose header and metadata are intact but one basket of `branch` is garbage, so
    the file opens and the failure comes in the middle of the run."""
    shutil.copy(src, dst)
    with uproot.open(dst) as f:
        seek = int(f["Events"][branch].member("fBasketSeek")[basket])
    with open(dst, "r+b") as fh:
        fh.seek(seek)
        fh.write(b"\xff" * 64)


# --- outputs -------------------------------------------------------------------------------------


def test_outputs_table_summary_and_plots(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run(data, out, extra=("--plots",))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # not a terminal: no progress bar, no warnings
    # the cutflow table
    assert "Region presel (based on 5000 events)" in proc.stdout
    assert "size(jets) >= 1" in proc.stdout and '"lowHT"' in proc.stdout
    assert f"to {out}" in proc.stdout
    # the ROOT file in CutLang's layout
    with uproot.open(out / "histoOut-ana.root") as f:
        assert {k.split(";")[0] for k in f.keys(recursive=False)} == {"presel", "dimuon",
                                                                       "tenth"}
        cutflow = f["presel/cutflow"]
        assert cutflow.values()[0] == 5000
        assert set(f["presel"].keys(cycle=False)) == {"cutflow", "bincounts", "hjpt", "hht"}
    # the JSON summary
    doc = summary(out)
    assert doc["events"] == 5000
    inputs = doc["inputs"]
    assert [Path(i["path"]).name for i in inputs] == ["a.root", "b.root"]
    for info in inputs:
        raw = Path(info["path"]).read_bytes()
        assert info["size"] == len(raw) and info["sha256"] == hashlib.sha256(raw).hexdigest()
        assert os.path.isabs(info["path"])
    assert set(doc["versions"]) >= VERSION_KEYS and all(doc["versions"].values())
    presel = doc["regions"]["presel"]
    assert presel["cutflow"][0] == {"label": "all Events", "sumw": 5000.0,
                                    "error": pytest.approx(5000 ** 0.5), "raw": 5000}
    last = presel["cutflow"][-1]
    assert last["sumw"] == 0.5 * last["raw"] and last["error"] == pytest.approx(
        0.5 * last["raw"] ** 0.5)
    assert [b["label"] for b in presel["bins"]] == ['"lowHT"', '"highHT"']
    assert sum(b["raw"] for b in presel["bins"]) == last["raw"]
    assert set(presel["histograms"]) == {"hjpt", "hht"}
    # one PNG per histogram
    pngs = sorted((out / "plots").glob("*.png"))
    assert len(pngs) == N_HISTOGRAMS
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    manifest = json.loads((out / ".adlc-manifest.json").read_text())
    assert len(manifest["files"]) == 2 + N_HISTOGRAMS


def test_quiet_prints_nothing(data: Path, tmp_path: Path) -> None:
    proc = run(data, tmp_path / "out", extra=("-q",))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and proc.stderr == ""
    assert (tmp_path / "out" / "ana.json").exists()


# --- merging -------------------------------------------------------------------------------------


def test_chunking_and_jobs_merge_identically(data: Path, tmp_path: Path) -> None:
    from adlc.driver import run_command

    docs = {}
    for chunk in (1000, 777):
        for jobs in (1, 2):
            out = tmp_path / f"c{chunk}j{jobs}"
            if (chunk, jobs) == (777, 2):  # one through the command line, the rest in-process
                proc = run(data, out, extra=("-q", "--chunk-size", chunk, "-j", jobs))
                assert proc.returncode == 0, proc.stderr
            else:
                run_command(data / "ana.adl", [str(data / "inputs" / "*.root")], outdir=out,
                            chunk_size=chunk, jobs=jobs, quiet=True)
            docs[chunk, jobs] = summary(out)["regions"]
    reference = docs[1000, 1]
    for key, regions in docs.items():
        for name in EXACT_REGIONS:
            assert regions[name] == reference[name], key
        # a 0.1 weight sums with rounding that depends on the chunk boundaries...
        tenth, ref = regions["tenth"]["cutflow"], reference["tenth"]["cutflow"]
        assert [r["raw"] for r in tenth] == [r["raw"] for r in ref]
        assert [r["sumw"] for r in tenth] == pytest.approx([r["sumw"] for r in ref], rel=1e-12)
    # ... but for one chunk size, -j never changes a single bit
    assert docs[777, 2] == docs[777, 1] and docs[1000, 2] == docs[1000, 1]


@pytest.mark.parametrize(("max_events", "jobs"), [(3500, 1), (3500, 2), (1234, 2), (0, 1),
                                                  (10**9, 1)])
def test_max_events_is_exact_across_files(data: Path, tmp_path: Path, max_events: int,
                                          jobs: int) -> None:
    from adlc.driver import run_analysis

    inputs = [str(data / "inputs" / "*.root")]
    result = run_analysis(data / "ana.adl", inputs, chunk_size=700, max_events=max_events,
                          jobs=jobs)
    expected = min(max_events, 5000)
    assert result.events == expected
    assert result.regions["presel"].cutflow[0].raw == expected
    if max_events == 3500:  # all of a.root, then the first 500 events of b.root
        a = run_analysis(data / "ana.adl", [str(data / "inputs" / "a.root")])
        b = run_analysis(data / "ana.adl", [str(data / "inputs" / "b.root")], max_events=500)
        for name in EXACT_REGIONS:
            assert [c.sumw for c in result.regions[name].cutflow] == [
                x.sumw + y.sumw for x, y in zip(a.regions[name].cutflow,
                                                b.regions[name].cutflow, strict=True)]


# --- progress ------------------------------------------------------------------------------------


def test_progress_bar_on_a_terminal(data: Path, tmp_path: Path) -> None:
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "adlc", "run", str(data / "ana.adl"), "-i",
             str(data / "inputs" / "*.root"), "-o", str(tmp_path / "out"), "--chunk-size",
             "1000"], stdout=subprocess.PIPE, stderr=slave, text=True)
        os.close(slave)
        stdout, _ = proc.communicate(timeout=120)
        seen = b""
        while True:
            try:
                block = os.read(master, 4096)
            except OSError:  # EIO: the terminal is closed and drained
                break
            if not block:
                break
            seen += block
    finally:
        os.close(master)
    text = seen.decode()
    assert proc.returncode == 0, text
    assert "ev/s" in text and "5000/5000 events" in text and "\r" in text
    assert "Region presel" in stdout  # the table goes to stdout, the bar to the terminal


def test_progress_flag_through_the_api(data: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    from adlc.driver import run_command

    run_command(data / "ana.adl", [str(data / "inputs" / "a.root")], outdir=tmp_path / "on",
                chunk_size=1000, quiet=True, progress=True)
    err = capsys.readouterr().err
    assert err.count("\r") == 4  # before the first chunk, then after each of 3
    assert "3000/3000 events" in err and "ev/s" in err and err.endswith("\n")
    run_command(data / "ana.adl", [str(data / "inputs" / "a.root")], outdir=tmp_path / "off",
                chunk_size=1000, quiet=True)  # stderr is not a terminal here
    assert capsys.readouterr() == ("", "")


# --- bad inputs ----------------------------------------------------------------------------------


def test_missing_file(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run(data, out, data / "inputs" / "a.root", tmp_path / "absent.root")
    assert_failed_cleanly(proc, out, "absent.root", "does not exist")
    proc = run(data, out, tmp_path / "none*.root")
    assert_failed_cleanly(proc, out, "none*.root")


def test_unreadable_file(data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = tmp_path / "locked.root"
    shutil.copy(data / "inputs" / "a.root", locked)
    locked.chmod(0)
    try:
        out = tmp_path / "out"
        if not os.access(locked, os.R_OK):  # an ordinary user: the real thing
            assert_failed_cleanly(run(data, out, locked), out, "locked.root", "permission")
            return
        # root reads anything: deny the permission check in-process instead
        from click.testing import CliRunner

        from adlc.cli import main

        real_access = os.access
        monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if Path(p) == locked
                            else real_access(p, mode, **kw))
        result = CliRunner().invoke(main, ["run", str(data / "ana.adl"), "-i", str(locked),
                                           "-o", str(out)])
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
        assert "locked.root" in result.stderr and "permission denied" in result.stderr
        assert leftovers(out) == []
    finally:
        locked.chmod(0o644)


def test_truncated_file(data: Path, tmp_path: Path) -> None:
    src = (data / "inputs" / "a.root").read_bytes()
    half = tmp_path / "half.root"
    half.write_bytes(src[: len(src) // 2])
    out = tmp_path / "out"
    assert_failed_cleanly(run(data, out, half), out, "half.root", "truncated")


def test_garbage_and_scribbled_files(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    garbage = tmp_path / "garbage.root"
    garbage.write_bytes(os.urandom(50_000))
    assert_failed_cleanly(run(data, out, garbage), out, "garbage.root", "not a ROOT file")
    # a real header (and the right size), random bytes after it
    src = (data / "inputs" / "a.root").read_bytes()
    scribbled = tmp_path / "scribbled.root"
    scribbled.write_bytes(src[:100] + os.urandom(len(src) - 100))
    assert_failed_cleanly(run(data, out, scribbled), out, "scribbled.root", "corrupt")
    empty = tmp_path / "empty.root"
    empty.write_bytes(b"")
    assert_failed_cleanly(run(data, out, empty), out, "empty.root", "empty")


def test_file_without_the_events_tree(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    other = tmp_path / "other.root"
    copy_events(data / "inputs" / "b.root", other, tree="Other")
    stderr = assert_failed_cleanly(run(data, out, data / "inputs" / "a.root", other), out,
                                   "other.root", "no tree 'Events'", "'Other'")
    assert "a.root:" not in stderr  # the message blames the right file
    two = tmp_path / "two.root"
    copy_events(data / "inputs" / "b.root", two, tree="Other", second_tree="Friends")
    assert_failed_cleanly(run(data, out, two), out, "two.root", "cannot choose a tree",
                          "Other", "Friends")
    rntuple = tmp_path / "rntuple.root"
    with uproot.recreate(rntuple) as f:
        f["Events"] = {"x": ak.Array([1.0, 2.0])}  # uproot writes an RNTuple this way
    assert_failed_cleanly(run(data, out, rntuple), out, "rntuple.root", "no TTree",
                          "RNTuple")


def test_missing_branch_lists_nearest_names(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    no_eta = tmp_path / "no_eta.root"
    copy_events(data / "inputs" / "b.root", no_eta, drop=("Jet_eta",))
    stderr = assert_failed_cleanly(run(data, out, data / "inputs" / "a.root", no_eta), out,
                                   "no_eta.root", "'Jet_eta'", "did you mean")
    hint = stderr.split("did you mean", 1)[1]
    assert "_eta" in hint or "Jet_" in hint
    assert stderr.count("error:") == 1


def test_analysis_that_does_not_check(data: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.adl"
    bad.write_text(ADL.replace("select size(muons) >= 2", "select size(muonz) >= 2"))
    out = tmp_path / "out"
    proc = adlc("run", bad, "-i", data / "inputs" / "a.root", "-o", out)
    line = ADL.splitlines().index("  select size(muons) >= 2") + 1
    assert_failed_cleanly(proc, out, f"bad.adl:{line}:", "muonz")
    syntax = tmp_path / "syntax.adl"
    syntax.write_text("region r\n  select pT(Jet[0] > \n")
    proc = adlc("run", syntax, "-i", data / "inputs" / "a.root", "-o", out)
    assert_failed_cleanly(proc, out, "syntax.adl:2:")


# --- failures in the middle of a run -------------------------------------------------------------


@pytest.mark.parametrize("jobs", [1, 2])
def test_corrupt_basket_midway_writes_nothing(data: Path, tmp_path: Path, jobs: int) -> None:
    src = tmp_path / "c.root"
    generate(str(src), 3000, "run2012", seed=3, chunk_size=1000)  # 3 baskets per branch
    bad = tmp_path / "c_bad.root"
    scribble_basket(src, bad, "Jet_pt", 1)
    out = tmp_path / "out"
    proc = run(data, out, data / "inputs" / "a.root", bad,
               extra=("--chunk-size", 1000, "-j", jobs))
    assert_failed_cleanly(proc, out, "c_bad.root", "entries 1000-2000", "corrupt")


def test_interrupted_run_keeps_old_results(data: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from adlc import driver
    from adlc.runtime import execute

    out = tmp_path / "out"
    assert run(data, out, extra=("-q",)).returncode == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    calls = []
    real = execute.run_chunk

    def interrupted(*args, **kwargs):  # noqa: ANN002, ANN003
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(execute, "run_chunk", interrupted)
    with pytest.raises(KeyboardInterrupt):
        driver.run_command(data / "ana.adl", [str(data / "inputs" / "*.root")], outdir=out,
                           chunk_size=1000, force=True, quiet=True)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert list(tmp_path.glob(".out.adlc-tmp-*")) == []
    fresh = tmp_path / "fresh"
    calls.clear()
    with pytest.raises(KeyboardInterrupt):
        driver.run_command(data / "ana.adl", [str(data / "inputs" / "*.root")], outdir=fresh,
                           chunk_size=1000, quiet=True)
    assert not fresh.exists() and leftovers(fresh) == []


def test_failed_write_is_an_error_not_a_traceback(data: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from adlc.cli import main
    from adlc.runtime import writers

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writers, "write_json", disk_full)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", str(data / "ana.adl"), "-i",
                                       str(data / "inputs" / "a.root"), "-o", str(out), "-q"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "No space left on device" in result.stderr
    assert leftovers(out) == []


# --- existing outputs ----------------------------------------------------------------------------


def test_existing_results_need_force(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run(data, out, extra=("-q", "--max-events", 1000)).returncode == 0
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.rglob("*") if p.is_file()}
    proc = run(data, out, extra=("-q",))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "already holds adlc results" in proc.stderr and "--force" in proc.stderr
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns)
            for p in out.rglob("*") if p.is_file()} == before
    proc = run(data, out, extra=("-q", "--force"))
    assert proc.returncode == 0, proc.stderr
    assert summary(out)["events"] == 5000


def test_existing_results_are_refused_before_reading(data: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from adlc import driver
    from adlc.errors import AdlUsageError
    from adlc.runtime import reader

    out = tmp_path / "out"
    out.mkdir()
    (out / "ana.json").write_text("{}")

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("inputs opened although the run was going to be refused")

    monkeypatch.setattr(reader, "open_inputs", no_reading)
    with pytest.raises(AdlUsageError, match="already holds adlc results"):
        driver.run_command(data / "ana.adl", [str(data / "inputs" / "a.root")], outdir=out)
    assert (out / "ana.json").read_text() == "{}"


def test_run_reports_the_checks_of_adlc_check(data: Path, tmp_path: Path) -> None:
    # An undefined name is reported as such, with the did-you-mean hint of `adlc check`.
    bad = tmp_path / "typo.adl"
    bad.write_text("object jets\n  take Jet\n\nregion r\n  select size(jetz) > 1\n")
    out = tmp_path / "out"
    proc = adlc("run", bad, "-i", data / "inputs" / "a.root", "-o", out)
    assert_failed_cleanly(proc, out, "typo.adl:5:15: error: undefined name `jetz`",
                          "did you mean `jets`?")


def test_tree_option(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run(data, out, extra=("--tree", "Events", "-q")).returncode == 0
    proc = run(data, tmp_path / "out2", extra=("--tree", "NoSuchTree", "-q"))
    assert_failed_cleanly(proc, tmp_path / "out2", "NoSuchTree")


def test_adl_errors_survive_pickling() -> None:
    # `-j N` sends errors from worker processes back to the parent.
    import pickle

    from adlc.errors import AdlInputError, Diagnostic, Span

    error = AdlInputError([Diagnostic("bad", Span(1, 2, 1, 3, "f.adl"), "E702")], "src")
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is AdlInputError and back.render() == error.render()
