"""Run the IRIS-HEP ADL benchmark queries with adlc and its peers; print a table, write JSON.

    python -m benchmarks.run [--events 1M|5M|both] [--queries q1,q7] [--repeat N] [--json OUT]

(`make bench` runs it on the 1M-event file; `BENCH_EVENTS=5M make bench` on the 5M one.)

For every query, on the same file, in one run:

* adlc, each backend, in-process steady state: `run_analysis` over the whole file with the
  kernel already compiled and loaded (one untimed call first). It includes what every call
  does: parse, check, lower, generate, open the file, read, run, build the `hist` objects.
* adlc whole process: `adlc run ... -q` as a subprocess, kernel cache warm: interpreter
  start-up, imports, the above, writing the ROOT/JSON outputs and the input's sha256.
* adlc compile time, in fresh processes: cold (empty ADLC_CACHE_DIR: numba compiles) and warm
  (the kernel cache filled by the cold run), split into front end and time to first event.
* hand-written numba (benchmarks/handwritten.py), steady state (JIT excluded).
* the I/O floor: uproot reading the branches the query needs, and nothing else
  (benchmarks/io_floor.py); where adlc reads more branches, also the time to read those.
* coffea and RDataFrame (benchmarks/peer_coffea.py, peer_rdf.py) in the Python of
  benchmarks/.venv-peers when it exists (`make bench` creates it), steady state after one
  untimed first run; "not installed" when neither that Python nor this one has them.
  Also each peer as a new process per query (start-up, imports, JIT, one run), the
  counterpart of `adlc run`'s whole-process row (--no-peer-process skips it).

Times are the best of --repeat runs (the median is in the JSON too); the repeats go round-robin
over the in-process implementations so that a disturbance hits them alike. The ratio column is
each implementation's time divided by adlc's in-process time (lower is faster than adlc).
Every peer's histograms are compared with adlc's (or, for queries without an ADL file yet,
with the hand-written ones) and the number of entries in other bins is reported.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks import handwritten, io_floor
from benchmarks.make_data import ensure, parse_labels
from benchmarks.queries import CHUNK_SIZE, QUERIES, REPO, select

RESULTS_DIR = REPO / "benchmarks" / "results"
PEERS_PYTHON = REPO / "benchmarks" / ".venv-peers" / "bin" / "python"
PEER_TIMEOUT_S = 1800


# --- timing helpers ------------------------------------------------------------------------


def summary(times: list[float], events: int) -> dict:
    best = min(times)
    return {"times_s": times, "best_s": best, "median_s": statistics.median(times),
            "events_per_s": events / best if best > 0 else None}


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def differing_entries(a, b) -> int:
    """Entries that are in a different bin (half the summed absolute difference, flows
    included); -1 when the histograms do not even have the same shape or total."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return -1
    return int(round(np.abs(a - b).sum() / 2)) if a.sum() == b.sum() else -1


# --- adlc ----------------------------------------------------------------------------------


def backends() -> list[str]:
    from adlc.backends import BACKENDS

    return list(BACKENDS)


def adlc_histograms(result, query) -> dict[str, np.ndarray]:
    region = result.regions.get(query.region)
    if region is None:
        return {}
    return {h: region.histograms[h].view(flow=True).value for h, _ in query.histograms
            if h in region.histograms}


def adlc_command() -> list[str]:
    script = Path(sys.executable).parent / "adlc"
    return [str(script)] if script.exists() else [sys.executable, "-m", "adlc"]


def probe_compile(adl: Path, path: Path, backend: str, cache: Path) -> dict:
    """Compile timings in a fresh process with ADLC_CACHE_DIR=cache (see adlc_probe)."""
    env = {**os.environ, "ADLC_CACHE_DIR": str(cache)}
    proc = subprocess.run([sys.executable, "-m", "benchmarks.adlc_probe", str(adl), str(path),
                           "--backend", backend], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=600)
    if proc.returncode:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def whole_process(adl: Path, path: Path, backend: str, cache: Path, outdir: Path) -> float:
    """Wall time of `adlc run` in a new process (the kernel cache `cache` warm)."""
    env = {**os.environ, "ADLC_CACHE_DIR": str(cache)}
    cmd = [*adlc_command(), "run", str(adl), "-i", str(path), "-o", str(outdir), "--force",
           "-q", "--backend", backend]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    took = time.perf_counter() - start
    if proc.returncode:
        raise RuntimeError(f"adlc run exited {proc.returncode}: {proc.stderr.strip()[-300:]}")
    return took


# --- peers ---------------------------------------------------------------------------------


def peer_python(module: str, explicit: str | None) -> str | None:
    """A Python that can import `module`: --peers-python, benchmarks/.venv-peers, or this one."""
    candidates = [explicit] if explicit else [str(PEERS_PYTHON), sys.executable]
    for python in candidates:
        if python and Path(python).exists() and subprocess.run(
                [python, "-c", f"import {module}"], capture_output=True,
                timeout=120).returncode == 0:
            return python
    return None


def run_peer(script: str, python: str, path: Path, queries: list[str], repeat: int,
             scratch: Path) -> tuple[dict, dict]:
    """({query: record}, versions) from one peer script over all queries."""
    out = scratch / f"{script}.jsonl"
    out.unlink(missing_ok=True)
    try:
        proc = subprocess.run([python, "-m", f"benchmarks.{script}", str(path), "--queries",
                               ",".join(queries), "--repeat", str(repeat), "--out", str(out)],
                              cwd=REPO, capture_output=True, text=True, timeout=PEER_TIMEOUT_S)
        failure = proc.stderr.strip().splitlines()[-1] if proc.returncode and proc.stderr \
            else None
    except subprocess.TimeoutExpired:
        failure = f"timed out after {PEER_TIMEOUT_S} s"
    records, versions = {}, {}
    if out.exists():
        for line in out.read_text().splitlines():
            record = json.loads(line)
            if "versions" in record:
                versions = record["versions"]
            elif "query" in record:
                records[record["query"]] = record
    for name in queries:
        if name not in records:
            records[name] = {"query": name, "error": failure or "no result"}
    return records, versions


def peer_process(script: str, python: str, path: Path, query: str) -> float | None:
    """Wall time of the peer's script as a new process running `query` once: start-up,
    imports, JIT (cling's for RDataFrame), one run; None if it failed. The counterpart of
    adlc's whole-process row (`adlc run`)."""
    start = time.perf_counter()
    try:
        proc = subprocess.run([python, "-m", f"benchmarks.{script}", str(path), "--queries",
                               query, "--repeat", "0"], cwd=REPO, capture_output=True,
                              text=True, timeout=PEER_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return None
    took = time.perf_counter() - start
    ok = proc.returncode == 0 and '"first_s"' in proc.stdout
    return took if ok else None


# --- one file ------------------------------------------------------------------------------


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def check(hists: dict, reference: dict) -> dict:
    """{histogram: entries in another bin than in the reference (-1: totals differ)}."""
    return {h: differing_entries(hists[h], reference[h]) for h in reference if h in hists}


def bench_file(label: str, path: Path, queries: list[str], args, cache: Path, scratch: Path,
               peers: dict[str, str | None]) -> dict:
    import uproot

    with uproot.open(str(path)) as handle:
        tree = handle["Events"]
        events = int(tree.num_entries)
        file_branches = [b.name for b in tree.branches]
    record: dict = {"label": label, "path": str(path), "events": events,
                    "size_bytes": path.stat().st_size, "peer_versions": {}, "queries": {}}
    for name in queries:
        log(f"[{label}] {name}: {QUERIES[name].title}")
        record["queries"][name] = bench_query(name, path, events, file_branches, args, cache,
                                              scratch)
    for peer, python in peers.items():
        if python is None:
            for q in record["queries"].values():
                q["peers"][peer] = {"status": "not installed"}
            continue
        log(f"[{label}] {peer}: all queries, in {python}")
        results, record["peer_versions"][peer] = run_peer(f"peer_{peer}", python, path,
                                                          queries, args.repeat, scratch)
        for name, q in record["queries"].items():
            res = results[name]
            if "error" in res:
                q["peers"][peer] = {"status": "failed", "error": res["error"]}
                continue
            entry = summary(res["times_s"], events)
            entry["first_s"] = res["first_s"]
            entry["check"] = check(res["hists"], q["reference"])
            q["peers"][peer] = entry
            if args.peer_process:
                log(f"[{label}] {peer} {name}: whole process")
                walls = [peer_process(f"peer_{peer}", python, path, name)
                         for _ in range(args.repeat)]
                if None not in walls:
                    q["peers"][f"{peer}-process"] = summary(walls, events)
    for q in record["queries"].values():
        base = q["peers"].get(f"adlc-{args.backends[0]}", {}).get("best_s")
        for entry in q["peers"].values():
            if "best_s" in entry:
                entry["ratio_to_adlc"] = entry["best_s"] / base if base else None
        del q["reference"]
    return record


def bench_query(name: str, path: Path, events: int, file_branches: list[str], args,
                cache: Path, scratch: Path) -> dict:
    from adlc.driver import run_analysis

    query = QUERIES[name]
    adl = query.adl_path
    q: dict = {"title": query.title, "adl": str(adl.relative_to(REPO)) if adl else None,
               "branches": list(query.branches), "compile": {}, "checks": {}, "peers": {}}
    impls: dict = {}        # in-process: key -> () -> result, timed around the call
    processes: dict = {}    # subprocesses: key -> () -> their wall time
    for backend in args.backends if adl else []:
        log(f"  adlc {backend}: compile, cold then warm (fresh processes)")
        cold_dir = scratch / f"cache-{name}-{backend}"
        shutil.rmtree(cold_dir, ignore_errors=True)
        cold = probe_compile(adl, path, backend, cold_dir)
        warm = probe_compile(adl, path, backend, cold_dir)
        shutil.rmtree(cold_dir, ignore_errors=True)
        q["compile"][backend] = {"cold": cold, "warm": warm}
        q["adlc_branches"] = io_floor.adlc_branches(warm.get("columns", []), file_branches)
        impls[f"adlc-{backend}"] = lambda b=backend: run_analysis(
            str(adl), [str(path)], backend=b, chunk_size=args.chunk_size)
        processes[f"adlc-{backend}-process"] = lambda b=backend: whole_process(
            adl, path, b, cache, scratch / f"out-{name}-{b}")
    impls["handwritten"] = lambda: handwritten.run(name, path, args.chunk_size)
    impls["io-floor"] = lambda: io_floor.read(path, query.branches, args.chunk_size)
    adlc_reads = q.get("adlc_branches", [])
    if set(adlc_reads) - set(query.branches):
        impls["io-adlc-branches"] = lambda: io_floor.read(path, adlc_reads, args.chunk_size)

    log("  warm-up: JIT, kernel caches, page cache")
    outputs: dict = {}
    times: dict[str, list[float]] = {}

    def attempt(runs: dict, key: str, fn) -> None:
        """Run one implementation once; a failure is reported in the table, not raised."""
        try:
            took, out = timed(fn)
        except Exception as exc:
            log(f"  {key} failed: {type(exc).__name__}: {exc}")
            q["peers"][key] = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
            times.pop(key, None)
            del runs[key]
            return
        outputs.setdefault(key, out)
        if key in times:    # a subprocess's own wall time, else the time around the call
            times[key].append(out if runs is processes else took)

    for runs in (processes, impls):   # the processes first: they fill `cache` for impls
        for key, fn in list(runs.items()):
            attempt(runs, key, fn)
    times.update({key: [] for key in (*impls, *processes)})
    for r in range(args.repeat):
        log(f"  repeat {r + 1}/{args.repeat}")
        for runs in (impls, processes):
            for key, fn in list(runs.items()):
                attempt(runs, key, fn)
    for key, ts in times.items():
        q["peers"][key] = summary(ts, events)

    reference = {h: np.asarray(v) for h, v in outputs.get("handwritten", {}).items()}
    for backend in args.backends if adl else []:
        if f"adlc-{backend}" not in outputs:
            continue
        got = adlc_histograms(outputs[f"adlc-{backend}"], query)
        q["checks"][f"handwritten vs adlc-{backend}"] = check(reference, got)
        if "handwritten" in times:
            q["peers"]["handwritten"]["check"] = check(reference, got)
        reference = {**reference, **got} if backend == args.backends[0] else reference
    q["reference"] = {h: np.asarray(v).tolist() for h, v in reference.items()}
    return q


# --- output --------------------------------------------------------------------------------


ROWS = (("adlc-{b}", "adlc {b} (in-process, warm)"),
        ("adlc-{b}-process", "adlc {b} (whole process)"),
        ("handwritten", "hand-written numba"),
        ("io-floor", "I/O floor (uproot)"),
        ("io-adlc-branches", "I/O of adlc's branches"),
        ("coffea", "coffea"),
        ("coffea-process", "coffea (whole process)"),
        ("rdf", "RDataFrame"),
        ("rdf-process", "RDataFrame (whole process)"))


def table(record: dict, backends: list[str]) -> str:
    lines = [f"== {record['label']}: {record['events']:,} events, "
             f"{record['size_bytes'] / 1e6:,.0f} MB ({record['path']})"]
    for name, q in record["queries"].items():
        lines.append("")
        lines.append(f"{name}: {q['title']}" + (f" ({q['adl']})" if q["adl"] else
                                                 " (no ADL file yet: no adlc rows)"))
        lines.append(f"  {'':34} {'time s':>8} {'events/s':>12} {'/ adlc':>8}  histograms")
        keys = []
        for key, label in ROWS:
            for b in backends if "{b}" in key else [""]:
                keys.append((key.format(b=b), label.format(b=b)))
        for key, label in keys:
            entry = q["peers"].get(key)
            if entry is None:
                continue
            if "best_s" not in entry:
                status = entry.get("status", "")
                detail = f": {entry['error'][:60]}" if "error" in entry else ""
                lines.append(f"  {label:34} {status}{detail}")
                continue
            ratio = entry.get("ratio_to_adlc")
            lines.append(f"  {label:34} {entry['best_s']:8.3f} {entry['events_per_s']:12,.0f} "
                         f"{(f'{ratio:.2f}x' if ratio else '-'):>8}  {_check_text(entry)}")
        firsts = [f"{label} {q['peers'][key]['first_s']:.2f} s" for key, label in
                  (("coffea", "coffea"), ("rdf", "RDataFrame")) if "first_s" in q["peers"].get(key, {})]
        if firsts:
            lines.append(f"  first run in its process (imports excluded): {', '.join(firsts)}")
        for backend, c in q["compile"].items():
            cold, warm = c["cold"], c["warm"]
            if "error" in cold or "error" in warm:
                lines.append(f"  compile {backend}: failed: {cold.get('error') or warm['error']}")
                continue
            lines.append(f"  compile {backend}: cold {cold['compile_s']:.2f} s, warm "
                         f"{warm['compile_s']:.2f} s (front end {warm['frontend_s']:.2f} s; "
                         f"imports at start-up {warm['import_s']:.2f} s)")
    return "\n".join(lines)


def header(report: dict) -> str:
    m, v = report["machine"], report["versions"]
    libs = ", ".join(f"{k} {v[k]}" for k in ("numba", "numpy", "uproot", "awkward") if v.get(k))
    return (f"machine: {m['nproc']} CPUs ({m.get('cpu', '?')}), {m.get('ram_gib', '?')} GiB; "
            f"Python {m['python']}; {libs}\n"
            f"best of {report['settings']['repeat']} runs; '/ adlc' = time / adlc's in-process "
            "time; 'histograms' = entries in other bins than adlc's (else the hand-written)")


def _check_text(entry: dict) -> str:
    check_ = entry.get("check")
    if not check_:
        return ""
    bad = {h: n for h, n in check_.items() if n}
    if not bad:
        return "same bins"
    return ", ".join(f"{h}: {'totals differ' if n < 0 else f'{n} entries moved'}"
                     for h, n in bad.items())


def machine_info() -> dict:
    info: dict = {"nproc": len(os.sched_getaffinity(0)), "platform": platform.platform(),
                  "python": platform.python_version()}
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        info["cpu"] = next(line.split(":", 1)[1].strip() for line in cpuinfo.splitlines()
                           if line.startswith("model name"))
    except (OSError, StopIteration):
        info["cpu"] = platform.processor()
    try:
        meminfo = Path("/proc/meminfo").read_text().split()
        info["ram_gib"] = round(int(meminfo[meminfo.index("MemTotal:") + 1]) / 2**20, 1)
    except (OSError, ValueError):
        pass
    info["loadavg_start"] = os.getloadavg()
    return info


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("adlc", "numpy", "numba", "llvmlite", "uproot", "awkward", "hist"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", default="1M", help="1M, 5M, both or a number (default 1M)")
    parser.add_argument("--queries", default="all", help="q1,q7 or all (default)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each (default 3)")
    parser.add_argument("--json", help="write here (default benchmarks/results/<time>.json)")
    parser.add_argument("--backends", help="adlc backends, comma-separated (default: all)")
    parser.add_argument("--peers", default="coffea,rdf",
                        help="peers to run: coffea,rdf (default), or none")
    parser.add_argument("--peers-python", help="the Python that has coffea and ROOT "
                        "(default: benchmarks/.venv-peers/bin/python, else this one)")
    parser.add_argument("--chunk-size", type=int, default=CHUNK_SIZE)
    parser.add_argument("--no-peer-process", dest="peer_process", action="store_false",
                        help="skip timing each peer as a new process per query")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    args.backends = args.backends.split(",") if args.backends else backends()
    labels = parse_labels(args.events)
    queries = select(args.queries)
    started = dt.datetime.now(dt.UTC)

    modules = {"coffea": "coffea", "rdf": "ROOT"}
    wanted = [] if args.peers == "none" else [p for p in args.peers.split(",") if p]
    peers = {p: peer_python(modules[p], args.peers_python) for p in wanted}
    report = {"started": started.isoformat(timespec="seconds"),
              "command": " ".join([Path(sys.executable).name, "-m", "benchmarks.run",
                                   *(argv if argv is not None else sys.argv[1:])]),
              "machine": machine_info(), "versions": versions(),
              "settings": {"repeat": args.repeat, "chunk_size": args.chunk_size,
                           "statistic": "best of repeat", "backends": args.backends,
                           "peers_python": peers},
              "files": {}}
    with tempfile.TemporaryDirectory(prefix="adlc-bench-") as tmp:
        scratch = Path(tmp)
        cache = scratch / "kernel-cache"
        os.environ["ADLC_CACHE_DIR"] = str(cache)   # this process's run_analysis calls too
        for label in labels:
            path = ensure(label)
            record = bench_file(label, path, queries, args, cache, scratch, peers)
            report["files"][label] = record
            print(header(report), flush=True)
            print(table(record, args.backends), flush=True)
            print(flush=True)
    report["machine"]["loadavg_end"] = os.getloadavg()
    report["elapsed_s"] = (dt.datetime.now(dt.UTC) - started).total_seconds()
    out = Path(args.json) if args.json else \
        RESULTS_DIR / f"{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {out} ({report['elapsed_s']:.0f} s in all)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
