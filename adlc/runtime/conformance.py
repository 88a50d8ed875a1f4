"""Comparing our results with CutLang's goldens (`shared/conformance/golden/*.json`).

`result_to_golden_dict` turns a `RunResult` into the goldens' schema (conformance README §2),
`compare_to_golden` lists every difference that matters under README §5:

* unweighted numbers (cutflow rows and bins of regions without weights, raw bin counts,
  histograms filled with unit weights, entries) must match exactly;
* weighted numbers and sumw2 match with relative tolerance `rtol` (1e-6), or `atol` (1e-9)
  near zero, because CutLang rounds weight constants to float32 (quirk 12) and sums in a
  different order;
* edges match with relative tolerance 1e-6 (CutLang's edges are float32, quirk 18);
* labels and titles match exactly (CutLang's quirk-10 text), unless `ignore_labels`; a
  `[Histo]` row may show the whole histogram name where CutLang cut its last character.

A region counts as weighted when any golden cutflow or bin value is not an integer or any of
its histograms has sumw2; a histogram counts as weighted when it has sumw2 or non-integer
contents (f28's `counts` histograms hold external numbers). Regions named `quirk*` pin down
CutLang bugs adlc may deliberately not reproduce: they are compared only with `include_quirks`.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from adlc.runtime.results import RegionResult, RunResult
from adlc.runtime.writers import hist_arrays, histogram_entries, histogram_title

QUIRK_PREFIX = "quirk"
#: Most differences listed per array before "... and N more": enough to see a pattern.
MAX_DIFFS_PER_ARRAY = 5


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------

def default_conformance_root() -> Path:
    """`$ADLC_CONFORMANCE`, else `shared/conformance` beside the repository checkout."""
    env = os.environ.get("ADLC_CONFORMANCE")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "shared" / "conformance"


def golden_path(adl_stem: str, input_stem: str, root: str | os.PathLike[str] | None = None
                ) -> Path:
    """Where the golden of (ADL file, input) lives: `root/golden/<adl>.<input>.json`, or
    `root/<adl>.<input>.json` for a flat directory such as `tests/data`."""
    root = Path(root) if root is not None else default_conformance_root()
    name = f"{adl_stem}.{input_stem}.json"
    nested = root / "golden" / name
    return nested if nested.exists() or not (root / name).exists() else root / name


def load_golden(adl_stem: str, input_stem: str, root: str | os.PathLike[str] | None = None
                ) -> dict[str, Any]:
    """The golden dict of (ADL stem like `f16_weights`, input stem like `tiny_nano`)."""
    return json.loads(golden_path(adl_stem, input_stem, root).read_text())


# --------------------------------------------------------------------------------------------
# Our results in the goldens' schema
# --------------------------------------------------------------------------------------------

def result_to_golden_dict(result: RunResult, events: int | None = None) -> dict[str, Any]:
    """`result` in the goldens' schema (only the parts CutLang's run determines)."""
    return {
        "events": int(result.events if events is None else events),
        "regions": {name: _region_golden(r) for name, r in result.regions.items()},
    }


def _region_golden(region: RegionResult) -> dict[str, Any]:
    return {
        "cutflow": [[c.label, float(c.sumw)] for c in region.cutflow],
        "bins": [[c.label, float(c.sumw)] for c in region.bins],
        "bins_unweighted": [float(c.raw) for c in region.bins],
        "histograms": {name: _histogram_golden(region, name) for name in region.histograms},
    }


def _histogram_golden(region: RegionResult, name: str) -> dict[str, Any]:
    a = hist_arrays(region.histograms[name])
    out: dict[str, Any] = {"type": f"TH{a.ndim}D", "title": histogram_title(region, name)}
    if a.ndim == 1:
        out |= {"edges": a.edges[0].tolist(), "values": a.values[1:-1].tolist(),
                "underflow": float(a.values[0]), "overflow": float(a.values[-1])}
    else:
        out |= {"xedges": a.edges[0].tolist(), "yedges": a.edges[1].tolist(),
                "values": a.values[1:-1, 1:-1].tolist(), "values_with_flow": a.values.tolist()}
    out["entries"] = float(histogram_entries(region, name, a))
    # CutLang's TH1 has Sumw2 only when a weight != 1 was used; so does the golden.
    if a.weighted and a.ndim == 1:
        out |= {"sumw2": a.variances[1:-1].tolist(), "sumw2_underflow": float(a.variances[0]),
                "sumw2_overflow": float(a.variances[-1])}
    elif a.weighted:
        out["sumw2_with_flow"] = a.variances.tolist()
    return out


# --------------------------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------------------------

def is_quirk_region(name: str) -> bool:
    return name.startswith(QUIRK_PREFIX)


def _same_label(ours: str, golden: str) -> bool:
    """Labels match; a histogram row may also carry the name CutLang cut one character short
    (`[Histo] hmZ` for CutLang's `[Histo] hm`, quirk 10): adlc prints the whole name."""
    if ours == golden:
        return True
    return (golden.startswith("[Histo] ") and ours.startswith(golden)
            and len(ours) == len(golden) + 1)


def compare_to_golden(ours: Mapping[str, Any], golden: Mapping[str, Any], *,
                      include_quirks: bool = False, skip_regions: Collection[str] = (),
                      ignore_labels: bool = False, rtol: float = 1e-6, atol: float = 1e-9,
                      edge_rtol: float = 1e-6) -> list[str]:
    """Human-readable differences between `ours` and `golden` (both in the golden schema).

    An empty list means conformant. `skip_regions` names regions to leave out (features adlc
    deliberately does differently); `quirk*` regions are left out unless `include_quirks`.
    """
    cmp = _Comparer(rtol=rtol, atol=atol, edge_rtol=edge_rtol, ignore_labels=ignore_labels)
    if "events" in ours and "events" in golden and ours["events"] != golden["events"]:
        cmp.diffs.append(f"events: {ours['events']} != golden {golden['events']}")

    def kept(regions: Mapping[str, Any]) -> list[str]:
        return [n for n in regions if n not in skip_regions
                and (include_quirks or not is_quirk_region(n))]

    ours_regions, golden_regions = ours.get("regions", {}), golden.get("regions", {})
    mine, theirs = kept(ours_regions), kept(golden_regions)
    cmp.names("regions", mine, theirs, ordered=True)
    for name in theirs:
        if name in ours_regions:
            cmp.region(name, ours_regions[name], golden_regions[name])
    return cmp.diffs


class _Comparer:
    """Collects differences; one method per level of the schema."""

    def __init__(self, *, rtol: float, atol: float, edge_rtol: float, ignore_labels: bool):
        self.rtol, self.atol, self.edge_rtol = rtol, atol, edge_rtol
        self.ignore_labels = ignore_labels
        self.diffs: list[str] = []

    def names(self, what: str, ours: Sequence[str], golden: Sequence[str], *,
              ordered: bool) -> None:
        missing = [n for n in golden if n not in ours]
        extra = [n for n in ours if n not in golden]
        if missing:
            self.diffs.append(f"{what}: missing {', '.join(missing)}")
        if extra:
            self.diffs.append(f"{what}: unexpected {', '.join(extra)}")
        common_ours = [n for n in ours if n in golden]
        common_golden = [n for n in golden if n in ours]
        if ordered and common_ours != common_golden:
            self.diffs.append(f"{what}: order {common_ours} != golden {common_golden}")

    def region(self, name: str, ours: Mapping[str, Any], golden: Mapping[str, Any]) -> None:
        weighted = _region_weighted(golden)
        self.rows(f"{name}: cutflow", ours.get("cutflow", []), golden.get("cutflow", []),
                  weighted)
        self.rows(f"{name}: bins", ours.get("bins", []), golden.get("bins", []), weighted)
        self.values(f"{name}: bins_unweighted", ours.get("bins_unweighted", []),
                    golden.get("bins_unweighted", []), exact=True)
        oh, gh = ours.get("histograms", {}), golden.get("histograms", {})
        # ROOT key order is an artefact of the writer; only the set of names matters.
        self.names(f"{name}: histograms", list(oh), list(gh), ordered=False)
        for hname in gh:
            if hname in oh:
                self.histogram(f"{name}/{hname}", oh[hname], gh[hname])

    def rows(self, where: str, ours: Sequence[Sequence[Any]], golden: Sequence[Sequence[Any]],
             weighted: bool) -> None:
        if len(ours) != len(golden):
            self.diffs.append(f"{where}: {len(ours)} rows != golden {len(golden)}")
        for i, (o, g) in enumerate(zip(ours, golden, strict=False)):
            if not self.ignore_labels and not _same_label(o[0], g[0]):
                self.diffs.append(f"{where} row {i}: label {o[0]!r} != golden {g[0]!r}")
            if not self.close(o[1], g[1], exact=not weighted):
                self.diffs.append(f"{where} row {i} ({g[0]!r}): {o[1]!r} != golden {g[1]!r}"
                                  + _relative(o[1], g[1]))

    def histogram(self, where: str, ours: Mapping[str, Any], golden: Mapping[str, Any]) -> None:
        if ours.get("type") != golden.get("type"):
            self.diffs.append(f"{where}: type {ours.get('type')} != golden {golden.get('type')}")
            return
        if not self.ignore_labels and ours.get("title") != golden.get("title"):
            self.diffs.append(f"{where}: title {ours.get('title')!r} != golden "
                              f"{golden.get('title')!r}")
        if ours.get("entries") != golden.get("entries"):
            self.diffs.append(f"{where}: entries {ours.get('entries')} != golden "
                              f"{golden.get('entries')}")
        exact = not _histogram_weighted(golden)
        if golden["type"] == "TH2D":
            self.histogram_2d(where, ours, golden, exact)
        else:
            self.histogram_1d(where, ours, golden, exact)

    def histogram_1d(self, where: str, ours: Mapping[str, Any], golden: Mapping[str, Any],
                     exact: bool) -> None:
        self.values(f"{where} edges", ours["edges"], golden["edges"], rtol=self.edge_rtol)
        self.values(f"{where} values", _flow_1d(ours, "values", "underflow", "overflow"),
                    _flow_1d(golden, "values", "underflow", "overflow"), exact=exact, flow=True)
        if "sumw2" in ours or "sumw2" in golden:
            # No sumw2 means every weight was 1: sumw2 equals the contents.
            self.values(f"{where} sumw2", _sumw2_1d(ours), _sumw2_1d(golden), flow=True)

    def histogram_2d(self, where: str, ours: Mapping[str, Any], golden: Mapping[str, Any],
                     exact: bool) -> None:
        for key in ("xedges", "yedges"):
            self.values(f"{where} {key}", ours[key], golden[key], rtol=self.edge_rtol)
        self.grid(f"{where} values", ours["values_with_flow"], golden["values_with_flow"],
                  exact)
        if "sumw2_with_flow" in ours or "sumw2_with_flow" in golden:
            self.grid(f"{where} sumw2", ours.get("sumw2_with_flow", ours["values_with_flow"]),
                      golden.get("sumw2_with_flow", golden["values_with_flow"]), False)

    def grid(self, where: str, ours: Sequence[Sequence[float]],
             golden: Sequence[Sequence[float]], exact: bool) -> None:
        if [len(r) for r in ours] != [len(r) for r in golden]:
            self.diffs.append(f"{where}: shape {_shape(ours)} != golden {_shape(golden)}")
            return
        bad = [(ix, iy, o, g) for ix, (ro, rg) in enumerate(zip(ours, golden, strict=True))
               for iy, (o, g) in enumerate(zip(ro, rg, strict=True))
               if not self.close(o, g, exact=exact)]
        self.report(where, [f"[{ix}][{iy}] {o!r} != golden {g!r}" for ix, iy, o, g in bad])

    def values(self, where: str, ours: Sequence[float], golden: Sequence[float], *,
               exact: bool = False, rtol: float | None = None, flow: bool = False) -> None:
        if len(ours) != len(golden):
            self.diffs.append(f"{where}: {len(ours)} entries != golden {len(golden)}")
            return
        bad = [(i, o, g) for i, (o, g) in enumerate(zip(ours, golden, strict=True))
               if not self.close(o, g, exact=exact, rtol=rtol)]
        self.report(where, [f"{_bin_name(i, len(golden), flow)} {o!r} != golden {g!r}"
                            + _relative(o, g) for i, o, g in bad])

    def report(self, where: str, lines: list[str]) -> None:
        if not lines:
            return
        shown = "; ".join(lines[:MAX_DIFFS_PER_ARRAY])
        more = len(lines) - MAX_DIFFS_PER_ARRAY
        self.diffs.append(f"{where}: {shown}" + (f"; ... and {more} more" if more > 0 else ""))

    def close(self, ours: Any, golden: Any, *, exact: bool = False,
              rtol: float | None = None) -> bool:
        if ours is None or golden is None:  # JSON null: a non-finite number was written
            return ours is golden
        o, g = float(ours), float(golden)
        if o == g or (math.isnan(o) and math.isnan(g)):
            return True
        if exact:
            return False
        tol = self.rtol if rtol is None else rtol
        return abs(o - g) <= max(tol * max(abs(o), abs(g)), self.atol)


def _region_weighted(golden: Mapping[str, Any]) -> bool:
    numbers = [row[1] for key in ("cutflow", "bins") for row in golden.get(key, [])]
    if any(not _is_integer(x) for x in numbers):
        return True
    return any(_has_sumw2(h) for h in golden.get("histograms", {}).values())


def _histogram_weighted(golden: Mapping[str, Any]) -> bool:
    if _has_sumw2(golden):
        return True
    values = golden.get("values_with_flow") or [
        golden.get("underflow", 0.0), *golden.get("values", []), golden.get("overflow", 0.0)]
    flat = [x for v in values for x in (v if isinstance(v, list) else [v])]
    return any(not _is_integer(x) for x in flat)


def _has_sumw2(h: Mapping[str, Any]) -> bool:
    return "sumw2" in h or "sumw2_with_flow" in h


def _is_integer(x: Any) -> bool:
    return x is not None and math.isfinite(float(x)) and float(x).is_integer()


def _flow_1d(h: Mapping[str, Any], key: str, under: str, over: str) -> list[float]:
    return [h.get(under, 0.0), *h.get(key, []), h.get(over, 0.0)]


def _sumw2_1d(h: Mapping[str, Any]) -> list[float]:
    if "sumw2" in h:
        return _flow_1d(h, "sumw2", "sumw2_underflow", "sumw2_overflow")
    return _flow_1d(h, "values", "underflow", "overflow")


def _bin_name(i: int, n: int, flow: bool) -> str:
    if not flow:
        return f"[{i}]"
    return "underflow" if i == 0 else "overflow" if i == n - 1 else f"bin {i}"


def _relative(ours: Any, golden: Any) -> str:
    try:
        o, g = float(ours), float(golden)
    except (TypeError, ValueError):
        return ""
    return f" (rel. {abs(o - g) / abs(g):.2g})" if g and math.isfinite(o - g) else ""


def _shape(grid: Sequence[Sequence[Any]]) -> str:
    return f"{len(grid)}x{len(grid[0]) if grid else 0}"
