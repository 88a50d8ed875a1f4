"""The results of running an analysis: what every backend produces and every writer consumes.

Results from different chunks (or processes, or Dask workers) merge associatively with `+`, so
the answer does not depend on the chunking or `-j`. Counts are kept as a weighted sum, a sum of
squared weights (for errors) and a raw count (CutLang prints raw bin counts on stdout).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

PRINT_LIMIT = 1000  # rows kept per print command (the rest are only counted)


@dataclass
class Counter:
    """One cutflow row or search-region bin."""

    label: str
    sumw: float = 0.0
    sumw2: float = 0.0
    raw: int = 0

    def __add__(self, other: Counter) -> Counter:
        if other.label != self.label:
            raise ValueError(f"cannot merge counters {self.label!r} and {other.label!r}")
        return Counter(self.label, self.sumw + other.sumw, self.sumw2 + other.sumw2,
                       self.raw + other.raw)

    @property
    def error(self) -> float:
        return self.sumw2 ** 0.5


@dataclass
class RegionResult:
    """Everything one region produces. `histograms` maps a name to a `hist.Hist` (Weight storage).

    `entries` counts the Fill calls per histogram (ROOT's fEntries, which CutLang's goldens
    compare; it cannot be recovered from weighted contents). `titles` holds each histogram's
    title as written in the ADL file, quote characters included (`"\"MET\""`); writers fall
    back to the hist's own `label`, then to its name.
    """

    name: str
    cutflow: list[Counter] = field(default_factory=list)
    bins: list[Counter] = field(default_factory=list)
    histograms: dict[str, Any] = field(default_factory=dict)
    entries: dict[str, int] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)

    def __add__(self, other: RegionResult) -> RegionResult:
        if other.name != self.name or len(other.cutflow) != len(self.cutflow) or len(
                other.bins) != len(self.bins) or other.histograms.keys() != self.histograms.keys():
            raise ValueError(f"cannot merge results of region {self.name!r}: shapes differ")
        return RegionResult(
            self.name,
            [a + b for a, b in zip(self.cutflow, other.cutflow, strict=True)],
            [a + b for a, b in zip(self.bins, other.bins, strict=True)],
            {k: self.histograms[k] + other.histograms[k] for k in self.histograms},
            # dict union keeps a deterministic key order (a set union would not)
            {k: self.entries.get(k, 0) + other.entries.get(k, 0)
             for k in {**self.entries, **other.entries}},
            {**other.titles, **self.titles},
        )


@dataclass
class Table:
    """The rows of one `save NAME csv ...` (kind "save") or `print ...` (kind "print") command:
    float64 values, one row per event that reached it, in input order. `total` counts every
    row; a print keeps only its first PRINT_LIMIT rows."""

    name: str
    kind: str
    columns: list[str]
    rows: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    total: int = 0
    label: str | None = None
    region: str = ""

    def __add__(self, other: Table) -> Table:
        if (other.name, other.kind, other.columns) != (self.name, self.kind, self.columns):
            raise ValueError(f"cannot merge tables {self.name!r} and {other.name!r}")
        rows = np.concatenate([self.rows.reshape(-1, len(self.columns)),
                               other.rows.reshape(-1, len(self.columns))])
        if self.kind == "print":
            rows = rows[:PRINT_LIMIT]
        return Table(self.name, self.kind, self.columns, rows, self.total + other.total,
                     self.label, self.region)


@dataclass
class RunResult:
    """All regions, in file order, plus the bookkeeping of what was read. `tables`: the rows of
    the print/save commands; they merge by concatenation, so `a + b` keeps a's rows first."""

    regions: dict[str, RegionResult] = field(default_factory=dict)
    events: int = 0
    tables: list[Table] = field(default_factory=list)  # print/save commands, in file order

    def __add__(self, other: RunResult) -> RunResult:
        if other.regions.keys() != self.regions.keys() or len(other.tables) != len(
                self.tables):
            raise ValueError("cannot merge results of different analyses")
        return RunResult({k: self.regions[k] + other.regions[k] for k in self.regions},
                         self.events + other.events,
                         [a + b for a, b in zip(self.tables, other.tables, strict=True)])
