"""Where the time of adlc's in-process run goes, next to the hand-written code's, per query.

    python -m benchmarks.breakdown FILE [--queries q1,q7] [--repeat N]

Times one piece at a time, best of --repeat, round-robin: adlc's whole `run_analysis`, its
`open_inputs`, reading every chunk of its columns (`iterate_chunks`), its kernel over chunks
already in memory; the hand-written code's whole run, its reading and its kernel. The pieces
do not add up exactly to the whole (the whole also parses, lowers, generates and builds the
`hist` objects; and the machine is rarely quiet).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from benchmarks import handwritten, io_floor
from benchmarks.queries import CHUNK_SIZE, QUERIES, select

COLUMNS = ("adlc", "open", "read", "kernel", "hand-written", "its read", "its kernel")


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def pieces(name: str, path: str) -> dict[str, Callable[[], object]]:
    """The timed pieces of query `name` over `path`, warmed up (kernels compiled)."""
    from adlc.driver import compile_analysis, run_analysis
    from adlc.runtime import execute as X
    from adlc.runtime.reader import iterate_chunks, open_inputs

    query = QUERIES[name]
    adl = str(query.adl_path)
    run_analysis(adl, [path], max_events=1000)
    handwritten.warm_up(name, path)
    inputs = open_inputs([path])
    _, gen = compile_analysis(adl, schema=inputs.schema())
    inputs = inputs.with_schema(inputs.schema())
    module = X.load_module(gen)

    def chunks():
        return list(iterate_chunks(inputs, gen.layout.columns, CHUNK_SIZE, None,
                                   gen.missing_as_zero))

    ours = chunks()
    theirs = [(n, handwritten.kernel_args(query, a))
              for n, a in io_floor.iterate(path, query.branches)]

    def kernel() -> None:
        acc = X.Accumulators.empty(gen.layout)
        for c in ours:
            X.run_chunk(module, gen, c.arrays, c.num_entries, acc)

    def their_kernel() -> None:
        hists, axes = handwritten.empty_histograms(query)
        for n, args in theirs:
            handwritten.KERNELS[name](hists, axes, n, *args)

    return {"adlc": lambda: run_analysis(adl, [path]), "open": lambda: open_inputs([path]),
            "read": chunks, "kernel": kernel,
            "hand-written": lambda: handwritten.run(name, path),
            "its read": lambda: [handwritten.kernel_args(query, a)
                                 for _, a in io_floor.iterate(path, query.branches)],
            "its kernel": their_kernel}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time adlc's run piece by piece.")
    parser.add_argument("file")
    parser.add_argument("--queries", default="all")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    print("| query | " + " | ".join(COLUMNS) + " | adlc / hand-written |")
    print("|---" * (len(COLUMNS) + 2) + "|")
    for name in select(args.queries):
        if QUERIES[name].adl_path is None:
            continue
        fns = pieces(name, args.file)
        best = {k: min(_timed(fns[k]) for _ in range(1)) for k in COLUMNS}
        for _ in range(args.repeat - 1):
            for k in COLUMNS:
                best[k] = min(best[k], _timed(fns[k]))
        cells = " | ".join(f"{best[k]:.3f}" for k in COLUMNS)
        print(f"| {name} | {cells} | {best['adlc'] / best['hand-written']:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
