"""`-j 2` against `-j 1`: adlc's in-process time over the same events with one and with two
worker processes, beside the hand-written numba baseline run the same two ways (one process
reading every file, then a fork pool of two processes reading half of the files each), all in
one run, round-robin, best of N.

    python -m benchmarks.jobs [--events 5M] [--copies 4] [--repeat 5] [--queries q1,q7]

The input is the generated file repeated `--copies` times (symlinks in a temporary folder), so
that two workers have whole files to share, as in a real multi-file run.
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import time
from pathlib import Path

from benchmarks import handwritten
from benchmarks.make_data import data_path
from benchmarks.queries import QUERIES, select


def _hand_written(args) -> dict:
    name, files = args
    total: dict = {}
    for f in files:
        for h, v in handwritten.run(name, f).items():
            total[h] = total[h] + v if h in total else v
    return total


def hand_written(name: str, files: list[str], jobs: int) -> dict:
    if jobs == 1:
        return _hand_written((name, files))
    half = len(files) // 2
    with multiprocessing.get_context("fork").Pool(2) as pool:
        a, b = pool.map(_hand_written, [(name, files[:half]), (name, files[half:])])
    return {h: a[h] + b[h] for h in a}


def main(argv: list[str] | None = None) -> int:
    from adlc.driver import run_analysis

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", default="5M")
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--queries", default="all")
    args = parser.parse_args(argv)
    source = data_path(args.events)
    if not source.exists():
        parser.error(f"{source} is missing: run python -m benchmarks.make_data --events "
                     f"{args.events}")
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i in range(args.copies):
            link = Path(tmp) / f"copy{i}.root"
            link.symlink_to(source.resolve())
            files.append(str(link))
        print(f"{args.copies} x {source.name}, best of {args.repeat}; seconds, and -j 1 / -j 2")
        for name in select(args.queries):
            adl = str(QUERIES[name].adl_path)
            run_analysis(adl, files[:1], max_events=1000)   # compile or load the kernel
            handwritten.warm_up(name, files[0])
            runs = {"adlc -j 1": lambda a=adl: run_analysis(a, files, jobs=1),
                    "adlc -j 2": lambda a=adl: run_analysis(a, files, jobs=2),
                    "hand-written 1 process": lambda n=name: hand_written(n, files, 1),
                    "hand-written 2 processes": lambda n=name: hand_written(n, files, 2)}
            best = dict.fromkeys(runs, float("inf"))
            for _ in range(args.repeat):
                for key, fn in runs.items():
                    start = time.perf_counter()
                    fn()
                    best[key] = min(best[key], time.perf_counter() - start)
            a1, a2, h1, h2 = best.values()
            print(f"{name}: adlc {a1:.3f} / {a2:.3f} = {a1 / a2:.2f}x   "
                  f"hand-written {h1:.3f} / {h2:.3f} = {h1 / h2:.2f}x", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
