"""What the peers' scripts (peer_coffea, peer_rdf) share: their command line and output.

Each runs in an environment that has its framework (benchmarks/.venv-peers, made by
`make bench`), not necessarily adlc's, so this imports only the standard library.

Output: one JSON object per line, appended to --out (stdout without it): first
{"versions": {...}}, then per query {"query", "first_s", "times_s", "hists"} or
{"query", "error"}. `first_s` is the first run in the process (imports excluded), `times_s`
the `--repeat` runs after it; `hists` maps histogram names to counts with the flow cells.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Callable

from benchmarks.queries import CHUNK_SIZE, select


def json_lines(path: str | None) -> Callable[[dict], None]:
    """A function writing one JSON object per line to `path` (stdout when None)."""
    def emit(record: dict) -> None:
        line = json.dumps(record) + "\n"
        if path is None:
            sys.stdout.write(line)
            sys.stdout.flush()
        else:
            with open(path, "a") as fh:
                fh.write(line)
    return emit


def parse_args(description: str, argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("file")
    parser.add_argument("--queries", default="all")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chunk-size", type=int, default=CHUNK_SIZE)
    parser.add_argument("--out", help="append JSON lines here (default: stdout)")
    return parser.parse_args(argv)


def serve(args: argparse.Namespace, versions: dict[str, str],
          run_query: Callable[[str], dict[str, list[int]]]) -> int:
    """Time `run_query(name)` once cold and `args.repeat` times after, per query."""
    emit = json_lines(args.out)
    emit({"versions": versions})
    for name in select(args.queries):
        record: dict = {"query": name}
        try:
            start = time.perf_counter()
            record["hists"] = run_query(name)
            record["first_s"] = time.perf_counter() - start
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                run_query(name)
                times.append(time.perf_counter() - start)
            record["times_s"] = times
        except Exception as exc:  # a peer failing is a result to report, not a crash
            record["error"] = f"{type(exc).__name__}: {exc}"
            traceback.print_exc(file=sys.stderr)
        emit(record)
    return 0
