"""Time adlc's start-up and compilation of one analysis, in a fresh process.

    ADLC_CACHE_DIR=DIR python -m benchmarks.adlc_probe ANALYSIS FILE [--backend numba]

Prints one JSON object: `import_s` (adlc's driver plus numba, uproot, awkward and hist),
`frontend_s` (parse, check, lower, generate code: `compile_analysis`), `first_event_s` (open
the file, load the generated module, compile it with numba or load it from numba's cache, run
one event) and `compile_s` (front end plus first event). run.py calls it with an empty cache
directory ("cold") and again with the one that run filled ("warm").
"""

from __future__ import annotations

import argparse
import json
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time adlc's compilation of an analysis.")
    parser.add_argument("analysis")
    parser.add_argument("file")
    parser.add_argument("--backend", default="numba")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    import awkward  # noqa: F401  (what any run imports; timed here, not in compile_s)
    import hist  # noqa: F401
    import numba  # noqa: F401
    import uproot  # noqa: F401

    from adlc.driver import compile_analysis
    from adlc.runtime.execute import execute
    from adlc.runtime.reader import open_inputs
    imported = time.perf_counter()

    inputs = open_inputs([args.file])
    opened = time.perf_counter()
    _, gen = compile_analysis(args.analysis, schema=inputs.schema(), backend=args.backend)
    generated = time.perf_counter()
    execute(gen, inputs, max_events=1)
    done = time.perf_counter()
    print(json.dumps({"import_s": imported - start, "open_s": opened - imported,
                      "frontend_s": generated - opened, "first_event_s": done - generated,
                      "compile_s": done - opened, "columns": list(gen.layout.columns)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
