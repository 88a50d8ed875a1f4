"""The I/O floor: the time uproot alone takes to read the branches a query needs.

Every implementation has to get these bytes off the file and into arrays, so no query can run
faster than this (in one process, at this chunk size). The reading is the same as the
hand-written baseline's and adlc's: one `TTree.arrays` call per chunk of `CHUNK_SIZE` entries,
awkward arrays out, uproot's caches off.

    python -m benchmarks.io_floor FILE [--queries q1,q7] [--repeat N]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from benchmarks.queries import CHUNK_SIZE, QUERIES, select


def iterate(path: str | Path, branches: Iterable[str], chunk_size: int = CHUNK_SIZE,
            max_events: int | None = None) -> Iterator[tuple[int, dict]]:
    """(n_events, {branch: awkward array}) per chunk of at most `chunk_size` entries."""
    import uproot

    branches = list(branches)
    with uproot.open(str(path), object_cache=None, array_cache=None) as handle:
        tree = handle["Events"]
        total = tree.num_entries if max_events is None else min(max_events, tree.num_entries)
        for start in range(0, total, chunk_size):
            stop = min(start + chunk_size, total)
            yield stop - start, tree.arrays(branches, entry_start=start, entry_stop=stop,
                                            library="ak", how=dict)


def read(path: str | Path, branches: Iterable[str], chunk_size: int = CHUNK_SIZE) -> int:
    """Read `branches` over the whole file and drop them; the number of events."""
    return sum(n for n, _ in iterate(path, branches, chunk_size))


def adlc_branches(columns: Iterable[str], file_branches: Iterable[str]) -> list[str]:
    """The file branches behind adlc's kernel columns (`Jet@offsets` is read from `nJet` when
    no `Jet_*` branch is; branches absent from the file read as zeros and cost nothing)."""
    present = set(file_branches)
    names = [c for c in columns if not c.endswith("@offsets") and c in present]
    groups = {n.partition("_")[0] for n in names}
    for c in columns:
        group = c.removesuffix("@offsets")
        if c.endswith("@offsets") and group not in groups and f"n{group}" in present:
            names.append(f"n{group}")
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time reading each query's branches.")
    parser.add_argument("file")
    parser.add_argument("--queries", default="all")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    for name in select(args.queries):
        branches = QUERIES[name].branches
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            n = read(args.file, branches)
            times.append(time.perf_counter() - start)
        print(f"{name}: best {min(times):.3f} s for {n:,} events ({', '.join(branches)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
