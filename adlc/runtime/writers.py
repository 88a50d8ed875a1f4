"""Writing results: CutLang's ROOT layout, a JSON summary, a terminal cutflow table and plots.

`write_outputs` is the one entry point the CLI uses. It writes every requested file into a
temporary directory on the target's filesystem and moves them into place only once all of them
succeeded, so a crash or a bad input never leaves a complete-looking partial output behind.
Histograms should use `storage.Weight()`: other storages lose sumw2 once filled with weights.

Histogram titles come from `RegionResult.titles` (quote characters kept, as CutLang writes
them), else the hist's `label`, else the histogram's name. Fill counts (ROOT's `fEntries`)
come from `RegionResult.entries`; see `histogram_entries` for the fallback.

uproot, hist and matplotlib are imported inside the functions that need them: `import adlc`
must stay light, and a user who only wants JSON should not need a plotting stack.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from adlc.errors import AdlError, AdlUsageError, Span
from adlc.runtime.results import Counter, RegionResult, RunResult

#: Version of the layout of our JSON summary; bump when a field changes meaning.
JSON_SCHEMA_VERSION = 1
#: Written last into an output directory; its presence marks "an adlc output lives here".
MANIFEST_NAME = ".adlc-manifest.json"
PLOTS_DIR = "plots"
FORMATS = ("root", "json")


# --------------------------------------------------------------------------------------------
# Histogram helpers shared by every writer (and by adlc.runtime.conformance)
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class HistArrays:
    """A histogram as plain arrays, with under- and overflow on every axis (ROOT's layout).

    `values[0]` is the underflow and `values[-1]` the overflow (per axis); axes that the hist
    was built without flow get zeros there, so every consumer sees one shape.
    """

    edges: tuple[np.ndarray, ...]
    values: np.ndarray
    variances: np.ndarray
    regular: tuple[bool, ...]

    @property
    def ndim(self) -> int:
        return len(self.edges)

    @property
    def weighted(self) -> bool:
        """True if some fill had a weight other than 1 (CutLang then turns Sumw2 on)."""
        return not np.array_equal(self.values, self.variances)


def hist_arrays(h: Any) -> HistArrays:
    """Flow-padded values/variances and the edges of a `hist.Hist` (1D or 2D)."""
    if len(h.axes) not in (1, 2):
        raise ValueError(f"only 1D and 2D histograms can be written, not {len(h.axes)}D")
    values = np.asarray(h.values(flow=True), dtype=np.float64)
    variances = h.variances(flow=True)
    # Double/Int64 storage keeps no variances: every fill had weight 1, so sumw2 == sumw.
    variances = values.copy() if variances is None else np.asarray(variances, dtype=np.float64)
    pads = [(0 if ax.traits.underflow else 1, 0 if ax.traits.overflow else 1) for ax in h.axes]
    return HistArrays(
        edges=tuple(np.asarray(ax.edges, dtype=np.float64) for ax in h.axes),
        values=np.pad(values, pads),
        variances=np.pad(variances, pads),
        regular=tuple(_is_regular(ax) for ax in h.axes),
    )


def _is_regular(axis: Any) -> bool:
    # A transformed Regular axis (log, sqrt) has unequal bins: ROOT needs explicit edges.
    return type(axis).__name__ == "Regular" and getattr(axis, "transform", None) is None


def histogram_title(region: RegionResult, name: str) -> str:
    """The title CutLang would write: the ADL text, quotes included."""
    title = region.titles.get(name)
    if title is None:
        title = getattr(region.histograms[name], "label", None)
    return name if title is None else str(title)


def histogram_entries(region: RegionResult, name: str, arrays: HistArrays | None = None) -> int:
    """Number of Fill calls. Backends should record it in `RegionResult.entries`.

    Fallback when they did not: for unit weights it equals the total content (flow included);
    for weighted fills we return the effective number of entries, sumw**2 / sumw2, which is
    exact when all weights are equal and an estimate otherwise.
    """
    if name in region.entries:
        return int(region.entries[name])
    arrays = arrays or hist_arrays(region.histograms[name])
    sumw, sumw2 = float(arrays.values.sum()), float(arrays.variances.sum())
    if not arrays.weighted:
        return round(sumw)
    return round(sumw * sumw / sumw2) if sumw2 > 0 else 0


# --------------------------------------------------------------------------------------------
# ROOT
# --------------------------------------------------------------------------------------------

def write_root(result: RunResult, path: str | os.PathLike[str]) -> Path:
    """Write CutLang's layout: one TDirectory per region with `cutflow`, `bincounts`, histos.

    `cutflow` bin i (1-based) holds row i-1 ("all Events" first), labelled with the row's
    text; its axis runs from 0 to the number of rows, one unit per row. `bincounts` likewise,
    present only if the region has bins. Contents are weighted sums; a TH1's Sumw2 array is
    written only when some weight differed from 1, as ROOT/CutLang do (errors are sqrt(content)
    otherwise, the same numbers).
    """
    import uproot

    path = Path(path)
    with uproot.recreate(path) as out:
        for region in result.regions.values():
            # ROOT paths use "/" as separator: a region name must not create subdirectories.
            where = region.name.replace("/", "_")
            out[f"{where}/cutflow"] = _counters_th1("cutflow", region.cutflow)
            if region.bins:
                out[f"{where}/bincounts"] = _counters_th1("bincounts", region.bins)
            for name in region.histograms:
                out[f"{where}/{name.replace('/', '_')}"] = _user_th(region, name)
    return path


def _counters_th1(name: str, counters: Sequence[Counter]) -> Any:
    from uproot.writing import identify

    n = len(counters)
    data = np.zeros(n + 2)
    sumw2 = np.zeros(n + 2)
    data[1:-1] = [c.sumw for c in counters]
    sumw2[1:-1] = [c.sumw2 for c in counters]
    centers = np.arange(n) + 0.5
    axis = identify.to_TAxis("xaxis", "", n, 0.0, float(max(n, 1)),
                             fLabels=_labels([c.label for c in counters]) if n else None)
    return identify.to_TH1x(
        name, name, data.astype(">f8"),
        fEntries=float(sum(c.raw for c in counters)),
        fTsumw=float(data.sum()), fTsumw2=float(sumw2.sum()),
        fTsumwx=float((data[1:-1] * centers).sum()),
        fTsumwx2=float((data[1:-1] * centers**2).sum()),
        fSumw2=_sumw2_or_none(data, sumw2), fXaxis=axis,
    )


def _labels(labels: Sequence[str]) -> Any:
    """A TAxis fLabels list: a THashList of TObjString, each numbered with its bin."""
    from uproot.writing import identify

    hashlist = identify.to_THashList([identify.to_TObjString(s) for s in labels])
    # TAxis::SetBinLabel stores the bin number in fUniqueID; ROOT finds the label by it.
    for i, label in enumerate(hashlist):
        label._bases[0]._members["@fUniqueID"] = i + 1
    return hashlist


def _sumw2_or_none(values: np.ndarray, sumw2: np.ndarray) -> np.ndarray | None:
    return None if np.array_equal(values, sumw2) else np.ascontiguousarray(sumw2, dtype=">f8")


def _root_axis(name: str, edges: np.ndarray, regular: bool) -> Any:
    from uproot.writing import identify

    bins = np.array([], dtype=">f8") if regular else edges.astype(">f8")
    return identify.to_TAxis(name, "", len(edges) - 1, float(edges[0]), float(edges[-1]),
                             fXbins=bins)


def _user_th(region: RegionResult, name: str) -> Any:
    from uproot.writing import identify

    arrays = hist_arrays(region.histograms[name])
    title = histogram_title(region, name)
    entries = float(histogram_entries(region, name, arrays))
    axes = [_root_axis(a, e, r) for a, e, r in zip(("xaxis", "yaxis"), arrays.edges,
                                                     arrays.regular, strict=False)]
    inner = tuple(slice(1, -1) for _ in arrays.edges)
    w = arrays.values[inner]
    centers = [(e[:-1] + e[1:]) / 2 for e in arrays.edges]
    # ROOT stores 2D contents with x running fastest, i.e. the transpose of [ix][iy].
    data = arrays.values.T.reshape(-1).astype(">f8")
    sumw2 = _sumw2_or_none(arrays.values, arrays.variances)
    sumw2 = None if sumw2 is None else arrays.variances.T.reshape(-1).astype(">f8")
    common = dict(fEntries=entries, fTsumw=float(w.sum()),
                  fTsumw2=float(arrays.variances[inner].sum()))
    if arrays.ndim == 1:
        return identify.to_TH1x(
            name, title, data, **common,
            fTsumwx=float((w * centers[0]).sum()), fTsumwx2=float((w * centers[0] ** 2).sum()),
            fSumw2=sumw2, fXaxis=axes[0])
    cx, cy = centers[0][:, None], centers[1][None, :]
    return identify.to_TH2x(
        name, title, data, **common,
        fTsumwx=float((w * cx).sum()), fTsumwx2=float((w * cx**2).sum()),
        fTsumwy=float((w * cy).sum()), fTsumwy2=float((w * cy**2).sum()),
        fTsumwxy=float((w * cx * cy).sum()),
        fSumw2=sumw2, fXaxis=axes[0], fYaxis=axes[1])


# --------------------------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------------------------

def result_to_json_dict(result: RunResult, *, inputs: Sequence[Mapping[str, Any]] = (),
                        versions: Mapping[str, str] | None = None,
                        analysis: str = "") -> dict[str, Any]:
    """The JSON summary as a dict (see `write_json`)."""
    return {
        "schema": JSON_SCHEMA_VERSION,
        "producer": "adlc",
        "analysis": analysis,
        "events": int(result.events),
        "inputs": [dict(i) for i in inputs],
        "versions": dict(versions if versions is not None else default_versions()),
        "regions": {name: _region_json(region) for name, region in result.regions.items()},
    }


def write_json(result: RunResult, path: str | os.PathLike[str], *,
               inputs: Sequence[Mapping[str, Any]] = (),
               versions: Mapping[str, str] | None = None, analysis: str = "") -> Path:
    """Write the JSON summary.

    Per region: `cutflow` and `bins` rows `{label, sumw, error, raw}` (error = sqrt(sumw2)),
    and `histograms` by name with `type` (TH1D/TH2D), `title`, `entries`, the edges (`edges`,
    or `xedges`/`yedges`), in-range `values`/`variances`, and the same with flow bins
    (`values_with_flow`, index 0 = underflow, last = overflow). `inputs` (path, size, sha256,
    as given by the caller) and `versions` record what produced it. Non-finite numbers are
    written as null so the file stays strict JSON.
    """
    path = Path(path)
    doc = result_to_json_dict(result, inputs=inputs, versions=versions, analysis=analysis)
    path.write_text(json.dumps(_finite(doc), indent=1, allow_nan=False) + "\n")
    return path


def _region_json(region: RegionResult) -> dict[str, Any]:
    return {
        "cutflow": [_counter_json(c) for c in region.cutflow],
        "bins": [_counter_json(c) for c in region.bins],
        "histograms": {name: _histogram_json(region, name) for name in region.histograms},
    }


def _counter_json(c: Counter) -> dict[str, Any]:
    # float()/int(): backends may hand numpy scalars, which json cannot serialise.
    return {"label": c.label, "sumw": float(c.sumw), "error": float(c.error), "raw": int(c.raw)}


def _histogram_json(region: RegionResult, name: str) -> dict[str, Any]:
    arrays = hist_arrays(region.histograms[name])
    inner = tuple(slice(1, -1) for _ in arrays.edges)
    out: dict[str, Any] = {"type": f"TH{arrays.ndim}D", "title": histogram_title(region, name),
                           "entries": histogram_entries(region, name, arrays)}
    if arrays.ndim == 1:
        out["edges"] = arrays.edges[0].tolist()
        out["underflow"], out["overflow"] = float(arrays.values[0]), float(arrays.values[-1])
    else:
        out["xedges"], out["yedges"] = arrays.edges[0].tolist(), arrays.edges[1].tolist()
    out["values"] = arrays.values[inner].tolist()
    out["variances"] = arrays.variances[inner].tolist()
    out["values_with_flow"] = arrays.values.tolist()
    out["variances_with_flow"] = arrays.variances.tolist()
    return out


def _finite(obj: Any) -> Any:
    """Replace NaN/inf (which strict JSON cannot hold) by None, recursively."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def default_versions() -> dict[str, str]:
    """Versions of adlc, Python and the libraries that shape the numbers, without importing them."""
    import platform
    from importlib import metadata

    import adlc

    versions = {"adlc": adlc.__version__, "python": platform.python_version()}
    for dist in ("numpy", "numba", "awkward", "uproot", "hist"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return versions


# --------------------------------------------------------------------------------------------
# Terminal table
# --------------------------------------------------------------------------------------------

def format_cutflow(result: RunResult) -> str:
    """The cutflow table of every region, then its bins, as plain text.

    Efficiencies: `eff` relative to the previous row (what CutLang prints; for a bin, relative
    to the last cutflow row), `cumul` relative to row 0 ("all Events"); "-" where the
    reference is 0. `raw` is the unweighted count (CutLang's `Bin:i has:N events`).
    """
    return "\n\n".join(_format_region(r, result.events) for r in result.regions.values())


def _format_region(region: RegionResult, events: int) -> str:
    lines = [f"Region {region.name} (based on {events} events)"]
    rows = region.cutflow
    width = max([len(c.label) for c in [*rows, *region.bins]] + [len("label")])
    head = f"  {'label':<{width}}  {'weighted':>14}  {'error':>10}  {'eff':>7}  {'cumul':>7}"
    lines += [head + f"  {'raw':>9}", "  " + "-" * (len(head) + 9)]
    first = rows[0].sumw if rows else 0.0
    for i, c in enumerate(rows):
        prev = rows[i - 1].sumw if i else c.sumw
        lines.append(f"  {c.label:<{width}}  {_num(c.sumw):>14}  {c.error:>10.4g}  "
                     f"{_ratio(c.sumw, prev):>7}  {_ratio(c.sumw, first):>7}  {c.raw:>9}")
    if region.bins:
        # A bin's `eff` is its share of the events that passed every cut (the last row).
        last = rows[-1].sumw if rows else 0.0
        lines.append(f"  bins of {region.name}:")
        for i, c in enumerate(region.bins):
            lines.append(f"  {c.label:<{width}}  {_num(c.sumw):>14}  {c.error:>10.4g}  "
                         f"{_ratio(c.sumw, last):>7}  {_ratio(c.sumw, first):>7}  {c.raw:>9}"
                         f"   (bin {i})")
    return "\n".join(lines)


def _num(x: float) -> str:
    # Enough digits to tell 400 from 400.000006 (float32 weights), as CutLang's table does.
    return f"{x:.10g}"


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.4f}" if b else "-"


# --------------------------------------------------------------------------------------------
# Plots
# --------------------------------------------------------------------------------------------

def write_plots(result: RunResult, directory: str | os.PathLike[str]) -> list[Path]:
    """One PNG per histogram, `<region>__<hist>.png`, drawn with mplhep's CMS style."""
    import sys

    import matplotlib

    if "matplotlib.pyplot" not in sys.modules:
        # Headless by default (the CLI on a batch node); an interactive session that already
        # chose its backend keeps it: we draw on Agg canvases of our own either way.
        matplotlib.use("Agg")
    import mplhep
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    # rc_context: the style must not leak into the user's own matplotlib session.
    with matplotlib.rc_context(mplhep.style.CMS):
        for region in result.regions.values():
            for name, h in region.histograms.items():
                fig = Figure(figsize=(8, 6) if h.ndim == 1 else (9, 7))
                FigureCanvasAgg(fig)
                ax = fig.add_subplot()
                _draw(fig, ax, hist_arrays(h), mplhep)
                ax.set_title(histogram_title(region, name).strip('"'), fontsize=14)
                ax.set_xlabel(f"{region.name}/{name}", fontsize=14)
                target = directory / f"{safe_filename(region.name)}__{safe_filename(name)}.png"
                fig.savefig(target, dpi=80)
                written.append(target)
    return written


def _draw(fig: Any, ax: Any, a: HistArrays, mplhep: Any) -> None:
    if a.ndim == 1:
        # Explicit errors: mplhep would otherwise guess Poisson intervals for integer contents.
        mplhep.histplot(a.values[1:-1], a.edges[0], ax=ax, histtype="step",
                        yerr=np.sqrt(a.variances[1:-1]))
        ax.set_ylabel("events")
        return
    # Plain pcolormesh: mplhep.hist2dplot's colorbar goes through pyplot and leaks a figure.
    mesh = ax.pcolormesh(a.edges[0], a.edges[1], a.values[1:-1, 1:-1].T)
    fig.colorbar(mesh, ax=ax)


def safe_filename(name: str) -> str:
    """A name usable as a file name on every OS (region and histogram names are identifiers,
    but a `/` or a space must never escape the output directory)."""
    return re.sub(r"[^A-Za-z0-9_.+-]", "_", name) or "_"


# --------------------------------------------------------------------------------------------
# All outputs, atomically
# --------------------------------------------------------------------------------------------

def output_names(analysis: str) -> dict[str, str]:
    """File names CutLang users expect: `histoOut-<analysis>.root`, plus `<analysis>.json`."""
    stem = safe_filename(analysis)
    return {"root": f"histoOut-{stem}.root", "json": f"{stem}.json"}


def write_csv(table, path: str | os.PathLike[str]) -> None:
    """One `save NAME csv v1, v2, ...` table: a header of the value expressions' source text,
    then one row per selected event, values as `%.17g` (they read back bit-exact)."""
    import csv

    with open(path, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerow(table.columns)
        rows = np.asarray(table.rows, dtype=np.float64).reshape(-1, len(table.columns))
        if len(rows):
            np.savetxt(f, rows, fmt="%.17g", delimiter=",")


def format_prints(result: RunResult) -> str:
    """The rows of the `print` commands, `label: v1 v2` per event (the first
    results.PRINT_LIMIT of each command, then `... N more`)."""
    out = []
    for t in getattr(result, "tables", ()):
        if t.kind != "print":
            continue
        label = t.label if t.label is not None else t.region
        for row in np.asarray(t.rows).reshape(-1, len(t.columns)):
            out.append(f"{label}: " + " ".join(format(float(v), ".17g") for v in row))
        if t.total > len(t.rows):
            out.append(f"{label}: ... {t.total - len(t.rows)} more")
    return "\n".join(out)


def write_outputs(result: RunResult, outdir: str | os.PathLike[str], *, analysis: str,
                  formats: Iterable[str] = FORMATS, plots: bool = False,
                  overwrite: bool = False, inputs: Sequence[Mapping[str, Any]] = (),
                  versions: Mapping[str, str] | None = None) -> list[Path]:
    """Write the requested outputs into `outdir`; all of them or none. Returns the paths.

    Raises AdlUsageError if `outdir` already holds an adlc output (a manifest or any file we
    would write) and `overwrite` is false: results are never replaced silently. With
    `overwrite`, files the previous run listed in its manifest and this run does not write
    (old plots) are removed, so the directory describes one run only.
    """
    formats = check_outdir(outdir, analysis=analysis, formats=formats, plots=plots,
                           overwrite=overwrite)
    outdir = Path(outdir)
    names = output_names(analysis)
    writers: list[tuple[str, Callable[[Path], object]]] = []
    if "root" in formats:
        writers.append((names["root"], lambda p: write_root(result, p)))
    if "json" in formats:
        writers.append((names["json"], lambda p: write_json(
            result, p, inputs=inputs, versions=versions, analysis=analysis)))
    saves = [t for t in getattr(result, "tables", ()) if t.kind == "save"]
    _refuse_to_clobber(outdir, [f"{t.name}.csv" for t in saves], False, overwrite)
    for t in saves:
        writers.append((f"{t.name}.csv", lambda p, t=t: write_csv(t, p)))
    try:
        return _write_atomically(outdir, writers, result if plots else None)
    except OSError as exc:  # disk full, read-only or vanished directory: no traceback
        where = exc.filename or outdir
        raise AdlError.one(f"cannot write the results to {outdir}: "
                           f"{exc.strerror or exc} ({where})", Span(file=str(outdir)),
                           code="E710") from exc


def check_outdir(outdir: str | os.PathLike[str], *, analysis: str,
                 formats: Iterable[str] = FORMATS, plots: bool = False,
                 overwrite: bool = False) -> tuple[str, ...]:
    """Raise AdlUsageError now if `write_outputs` with these arguments would refuse to write
    (unknown format, `outdir` a file, earlier results there without `overwrite`), so that a
    run can fail before it reads any data. Returns the formats, deduplicated."""
    formats = tuple(dict.fromkeys(formats))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise AdlUsageError.one(f"unknown output format {unknown[0]!r}",
                                hint=f"choose from {', '.join(FORMATS)}")
    outdir = Path(outdir)
    if outdir.exists() and not outdir.is_dir():
        raise AdlUsageError.one(f"output path {outdir} exists and is not a directory",
                                Span(file=str(outdir)), code="E711")
    names = output_names(analysis)
    _refuse_to_clobber(outdir, [names[f] for f in formats], plots, overwrite)
    return formats


def _refuse_to_clobber(outdir: Path, names: list[str], plots: bool, overwrite: bool) -> None:
    if overwrite or not outdir.is_dir():
        return
    clashes = [n for n in [MANIFEST_NAME, *names] if (outdir / n).exists()]
    if plots and (outdir / PLOTS_DIR).exists():
        clashes.append(PLOTS_DIR)
    if clashes:
        raise AdlUsageError.one(
            f"output directory {outdir} already holds adlc results ({', '.join(clashes)})",
            Span(file=str(outdir)), code="E711",
            hint="choose another output directory, or pass --force to replace them")


def _write_atomically(outdir: Path, writers: list[tuple[str, Callable[[Path], object]]],
                      plot_result: RunResult | None) -> list[Path]:
    # On the target's filesystem, so the final moves are renames (atomic per file): inside an
    # existing directory (its parent may not be writable), beside a new one (renamed whole).
    home = outdir if outdir.is_dir() else outdir.parent
    home.mkdir(parents=True, exist_ok=True)
    # mkdir, not tempfile.mkdtemp: a fresh output directory is this one renamed, and it should
    # get the user's umask, not mkdtemp's 0700.
    tmp = home / f".{outdir.name or 'out'}.adlc-tmp-{uuid.uuid4().hex[:12]}"
    tmp.mkdir()
    try:
        for name, write in writers:
            write(tmp / name)
        if plot_result is not None:
            write_plots(plot_result, tmp / PLOTS_DIR)
        produced = sorted(p.relative_to(tmp) for p in tmp.rglob("*") if p.is_file())
        (tmp / MANIFEST_NAME).write_text(json.dumps(
            {"producer": "adlc", "files": [p.as_posix() for p in produced]}, indent=1) + "\n")
        return _move_into_place(tmp, outdir, produced)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _move_into_place(tmp: Path, outdir: Path, produced: list[Path]) -> list[Path]:
    if not outdir.exists():
        # Fresh directory: one rename publishes everything at once.
        os.replace(tmp, outdir)
        return [outdir / p for p in produced]
    stale = set(_previous_files(outdir)) - {p.as_posix() for p in produced}
    # The manifest goes last: a directory with a manifest holds a complete run.
    (outdir / MANIFEST_NAME).unlink(missing_ok=True)
    for rel in produced:
        (outdir / rel).parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp / rel, outdir / rel)
    for rel in stale:
        target = outdir / rel
        if target.is_file() and outdir.resolve() in target.resolve().parents:
            target.unlink()
    os.replace(tmp / MANIFEST_NAME, outdir / MANIFEST_NAME)
    return [outdir / p for p in produced]


def _previous_files(outdir: Path) -> list[str]:
    try:
        files = json.loads((outdir / MANIFEST_NAME).read_text()).get("files", [])
    except (OSError, ValueError, AttributeError):
        return []
    return [f for f in files if isinstance(f, str)]
