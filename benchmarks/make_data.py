"""Write the benchmark inputs: synthetic Run2012B-layout files of 1M and 5M events.

    python -m benchmarks.make_data [--events 1M|5M|both] [--force]

Files go to benchmarks/data/run2012_{1M,5M}.root (git-ignored) and are written only when
missing. They come from `adlc.runtime.generate` with the run2012 schema, whose multiplicities
follow the real file: jets 3.2 per event (negative binomial, a tail past 20), muons 1.4
(~27% Z->mumu pairs), electrons 0.2, jet btag with -10/-1 sentinels. The content is a
deterministic function of (size, seed), so every machine benchmarks the same events.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
SIZES = {"1M": 1_000_000, "5M": 5_000_000}
SEED = 2012


def data_path(label: str) -> Path:
    return DATA_DIR / f"run2012_{label}.root"


def parse_labels(events: str) -> list[str]:
    """`1M`, `5M`, `both` or a comma list; also plain numbers such as `200000` or `200k`."""
    if events == "both":
        return list(SIZES)
    labels = [e.strip() for e in events.split(",") if e.strip()]
    for label in labels:
        event_count(label)  # validates
    return labels


def event_count(label: str) -> int:
    if label in SIZES:
        return SIZES[label]
    text = label.lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    digits = text[:-1] if scale != 1 else text
    if not digits.isdigit():
        raise SystemExit(f"--events: expected 1M, 5M, both or a number of events, got {label!r}")
    return int(digits) * scale


def ensure(label: str, force: bool = False, quiet: bool = False) -> Path:
    """The path of the `label` file, generating it first if it is missing."""
    from adlc.runtime.generate import generate

    path = data_path(label)
    if path.exists() and not force:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    n = event_count(label)
    start = time.perf_counter()
    if not quiet:
        print(f"generating {path} ({n:,} events)...", file=sys.stderr, flush=True)
    generate(str(path), n, schema="run2012", seed=SEED)
    if not quiet:
        size = path.stat().st_size / 1e6
        print(f"  {size:,.0f} MB in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", default="1M", help="1M, 5M, both, or a number (default 1M)")
    parser.add_argument("--force", action="store_true", help="regenerate even if present")
    args = parser.parse_args(argv)
    for label in parse_labels(args.events):
        print(ensure(label, force=args.force))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
