"""Running a generated module over chunks: load (cached on disk), call per chunk, merge, convert.

Public API:
  load_module(gen, cache_dir=None) -> module      # writes <cache>/<key>.py once, imports it
  cache_dir() -> Path                               # $ADLC_CACHE_DIR or ~/.cache/adlc
  Accumulators.empty(layout) / acc + acc            # raw per-run arrays, merge by addition
  run_chunk(module, gen, arrays, n_events, acc)     # one chunk into `acc`
  execute(gen, inputs, *, chunk_size, max_events, jobs, progress) -> RunResult
  to_result(layout, acc) -> RunResult
numba compiles the kernel once per cache key: the key hashes the generated source (a function of
the IR and the schema) and the library versions, and numba's own cache sits beside the file.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from adlc.errors import AdlError
from adlc.runtime.results import Counter, RegionResult, RunResult, Table

_LOADED: dict[str, Any] = {}


def cache_dir() -> Path:
    env = os.environ.get("ADLC_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "adlc"


def _versions() -> str:
    import numba

    from adlc.backends.numba import CODEGEN_VERSION
    return (f"numba={numba.__version__};numpy={np.__version__};py={sys.version_info[:3]};"
            f"{platform.machine()};codegen={CODEGEN_VERSION}")


def module_key(source: str) -> str:
    return hashlib.sha256((_versions() + "\n" + source).encode()).hexdigest()[:32]


def load_module(gen, directory: str | os.PathLike[str] | None = None):
    """Import the generated module from the on-disk cache (writing it there first if needed)."""
    key = module_key(gen.source)
    name = f"adlc_kernel_{key}"
    if name in _LOADED:
        return _LOADED[name]
    directory = Path(directory) if directory is not None else cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.py"
    if not path.exists() or path.read_text() != gen.source:
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(gen.source)
        os.replace(tmp, path)
    return _import(name, path)


def _import(name: str, path: Path):
    if name in _LOADED:
        return _LOADED[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    _LOADED[name] = module
    return module


@dataclass
class Accumulators:
    cf_w: np.ndarray
    cf_w2: np.ndarray
    cf_n: np.ndarray
    bn_w: np.ndarray
    bn_w2: np.ndarray
    bn_n: np.ndarray
    h_w: np.ndarray
    h_w2: np.ndarray
    h_n: np.ndarray
    events: int = 0
    tables: list[Table] = field(default_factory=list)  # print/save rows, merged by concatenation

    @classmethod
    def empty(cls, layout) -> Accumulators:
        f, i = np.float64, np.int64
        return cls(np.zeros(layout.n_rows, f), np.zeros(layout.n_rows, f),
                   np.zeros(layout.n_rows, i), np.zeros(layout.n_bins, f),
                   np.zeros(layout.n_bins, f), np.zeros(layout.n_bins, i),
                   np.zeros(layout.n_hist_cells, f), np.zeros(layout.n_hist_cells, f),
                   np.zeros(len(layout.histograms), i), 0, _empty_tables(layout))

    def arrays(self) -> tuple[np.ndarray, ...]:
        return (self.cf_w, self.cf_w2, self.cf_n, self.bn_w, self.bn_w2, self.bn_n, self.h_w,
                self.h_w2, self.h_n)

    def __add__(self, other: Accumulators) -> Accumulators:
        return Accumulators(*(a + b for a, b in zip(self.arrays(), other.arrays(),
                                                    strict=True)),
                            events=self.events + other.events,
                            tables=[a + b for a, b in zip(self.tables, other.tables,
                                                          strict=True)])


def _empty_tables(layout) -> list[Table]:
    return [Table(t["name"], t["kind"], list(t["columns"]), np.zeros((0, len(t["columns"]))),
                  0, t["label"], t["region"]) for t in getattr(layout, "tables", ())]


def object_columns(gen) -> dict[str, str] | None:
    """Per-object column -> its collection's offsets key (`gen.object_columns`, every column a
    backend reads per object), for the reader to check that each is a list per event with its
    collection's counts and that every other column is one value per event. None where the
    backend does not say: the reader then checks only the columns whose name tells their
    collection (`Muon_x` of `Muon@offsets`)."""
    mapping = getattr(gen, "object_columns", None)
    return None if mapping is None else dict(mapping)


def run_chunk(module, gen, arrays: dict[str, np.ndarray], n_events: int,
              acc: Accumulators) -> Accumulators:
    kernel = getattr(module, gen.entry)
    cols = [arrays[c] for c in gen.layout.columns]
    specs = getattr(gen.layout, "tables", [])
    # one row per event at most for each print/save: the buffer cannot overflow
    t_buf = np.zeros((n_events if specs else 0, max(gen.layout.n_table_cols, 1)))
    t_n = np.zeros(len(specs), np.int64)
    kernel(n_events, *cols, *acc.arrays(), t_buf, t_n)
    acc.events += n_events
    if specs:
        chunk = []
        for k, t in enumerate(specs):
            c0, n = t["col0"], int(t_n[k])
            rows = t_buf[:n, c0:c0 + len(t["columns"])].copy()
            chunk.append(Table(t["name"], t["kind"], list(t["columns"]),
                               rows, n, t["label"], t["region"]))
        acc.tables = [a + b for a, b in zip(acc.tables, chunk, strict=True)]
    return acc


def to_result(layout, acc: Accumulators) -> RunResult:
    import hist

    regions: dict[str, RegionResult] = {}
    for info in layout.regions:
        r0, b0 = info["row0"], info["bin0"]
        cutflow = [Counter(label, float(acc.cf_w[r0 + i]), float(acc.cf_w2[r0 + i]),
                           int(acc.cf_n[r0 + i])) for i, label in enumerate(info["labels"])]
        bins = [Counter(label, float(acc.bn_w[b0 + i]), float(acc.bn_w2[b0 + i]),
                        int(acc.bn_n[b0 + i])) for i, label in enumerate(info["bin_labels"])]
        result = RegionResult(info["name"], cutflow, bins)
        for index in dict.fromkeys(info["hists"]):
            spec = layout.histograms[index]
            axes = []
            shape = []
            for nb, lo, hi, edges in spec["axes"]:
                axes.append(hist.axis.Variable(edges) if edges is not None
                            else hist.axis.Regular(nb, lo, hi))
                shape.append(nb + 2)
            h = hist.Hist(*axes, storage=hist.storage.Weight())
            sl = slice(spec["offset"], spec["offset"] + spec["size"])
            value, variance = acc.h_w[sl].reshape(shape), acc.h_w2[sl].reshape(shape)
            entries = int(acc.h_n[index])
            fixed = spec.get("fixed")
            if fixed is not None:
                # External numbers (`counts`): added once here, after every chunk is merged,
                # never in the kernel (each chunk would add them again). Their errors are
                # ROOT's default for contents set without weights: variance = content.
                extra = np.pad(np.asarray(fixed, dtype=np.float64).reshape(
                    [s - 2 for s in shape]), 1)
                value, variance = value + extra, variance + extra
                entries += int(spec.get("fixed_entries", 0))
            view = h.view(flow=True)
            view.value = value
            view.variance = variance
            result.histograms[spec["name"]] = h
            result.entries[spec["name"]] = entries
            result.titles[spec["name"]] = spec["title"]
        regions[info["name"]] = result
    return RunResult(regions, acc.events, list(acc.tables))


# --- execution ----------------------------------------------------------------------------
#
# Every chunk fills fresh accumulators, which are then added to the total in work-item order,
# whether the chunks ran here or in a pool: the same --chunk-size gives bit-identical sums for
# any -j. Only the accumulators outlive a chunk, so memory is one chunk (per worker) plus the
# histograms, whatever the number of events.


@dataclass(frozen=True)
class _Failure:
    """An AdlError from a worker, shipped as plain data: AdlError itself does not survive
    pickling (its constructor takes diagnostics, not the message that Exception pickles)."""

    kind: type
    diagnostics: list
    source: str | None

    def error(self) -> AdlError:
        return self.kind(self.diagnostics, self.source)


# (generated module's path, its name, GeneratedModule) of the run whose pool is being
# forked: set by _parallel before the workers start, so that they inherit it and each task
# carries only its WorkItem instead of pickling the whole GeneratedModule again.
_POOL_JOB: tuple | None = None


def _pool_work(batch) -> list[Accumulators | _Failure]:
    """The items of one batch, in order, in a forked pool worker, for the run in _POOL_JOB:
    one part per chunk (the parent merges them in item order, as a serial run does). It stops
    at a failure, or before the next chunk once the parent has set the stop event."""
    assert _POOL_JOB is not None, "pool workers must be forked after _POOL_JOB is set"
    *job, stop = _POOL_JOB
    parts: list[Accumulators | _Failure] = []
    for item in batch:
        if stop.is_set():
            break
        parts += _item_parts(tuple(job), item, stop)
        if parts and isinstance(parts[-1], _Failure):
            break
    return parts


def _item_parts(job: tuple, item, stop=None) -> list[Accumulators | _Failure]:
    """The parts of one work item: one, or for a whole-file item (a file open_inputs did not
    count) one per chunk, after opening and counting the file here."""
    if item.entry_stop is not None:
        return [_work((*job, item))]
    from adlc.runtime.reader import file_items, kept_entries

    try:
        pieces = file_items(item, kept_entries(item))
    except AdlError as err:
        return [_Failure(type(err), list(err.diagnostics), err.source)]
    parts: list[Accumulators | _Failure] = []
    for piece in pieces:
        if stop is not None and stop.is_set():
            break
        parts.append(_work((*job, piece)))
        if isinstance(parts[-1], _Failure):
            break
    return parts


class _Schedule:
    """Hands out the work items in order: batches of consecutive items of one file to the
    pool, single items to the parent. Batches shrink as the work runs out (guided
    scheduling: a share of what is left, `remaining / (4 * jobs)`), so there are few round
    trips to the pool while much is left, and the last batches are small enough that every
    process finishes at about the same time. A batch never spans two files: a file the parent
    could not share (share_held) costs each worker that reads it an open, ~25 ms. A
    whole-file item (a file not counted yet) is a batch of its own."""

    def __init__(self, items: list, jobs: int) -> None:
        self.items = items
        self.jobs = jobs
        self.next = 0   # first item not handed out yet

    def batch(self) -> list:
        """The next batch for the pool ([] when every item is handed out)."""
        lo = self.next
        remaining = len(self.items) - lo
        if remaining <= 0:
            return []
        size = -(-remaining // (4 * self.jobs))
        hi = lo + 1
        while (hi < lo + size and self.items[lo].entry_stop is not None
               and self.items[hi].entry_stop is not None
               and self.items[hi].file == self.items[lo].file):
            hi += 1
        self.next = hi
        return self.items[lo:hi]

    def peek(self):
        """The next item, not handed out, or None."""
        return self.items[self.next] if self.next < len(self.items) else None

    def one(self):
        """The next single item, or None."""
        item = self.peek()
        if item is not None:
            self.next += 1
        return item

    @property
    def exhausted(self) -> bool:
        return self.next >= len(self.items)


class _Feeder:
    """Keeps the pool fed while the parent works on its own items: a thread submits the next
    batch as soon as one finishes (the parent itself looks only between its items, and a
    whole-file item takes it a while). The pool holds unfinished batches of weight at most
    2 per worker, a batch of chunks weighing 1 and a whole file 2: a worker has the next
    chunks waiting when it finishes a batch, but never a second whole file that another
    process could have read meanwhile. Finished batches come out of `results` as
    (index of the first item, number of items, future)."""

    def __init__(self, pool, schedule: _Schedule, workers: int) -> None:
        import queue
        import threading

        self.pool, self.schedule, self.workers = pool, schedule, workers
        self.lock = threading.RLock()
        self.load = 0
        self.closed = False
        # the pool's own thread, which joins the workers: once the pool is wound down early
        # (shutdown(wait=False)), the pool forgets it and a later shutdown no longer waits
        self.manager = None
        self.inbox: queue.SimpleQueue = queue.SimpleQueue()    # from the futures' callbacks
        self.results: queue.SimpleQueue = queue.SimpleQueue()  # to the parent
        self.feed()  # the first submit forks the workers: before any thread of ours starts
        self.thread = threading.Thread(target=self._run, name="adlc-feeder", daemon=True)
        self.thread.start()

    def feed(self) -> None:
        with self.lock:
            while not self.closed:
                item = self.schedule.peek()
                weight = 2 if item is not None and item.entry_stop is None else 1
                if item is None or self.load + weight > 2 * self.workers:
                    break
                batch = self.schedule.batch()
                self.load += weight
                future = self.pool.submit(_pool_work, batch)
                self.manager = self.manager or getattr(self.pool, "_executor_manager_thread",
                                                       None)
                future.add_done_callback(
                    lambda f, b=batch, w=weight: self.inbox.put((b[0].index, len(b), w, f)))
            if self.schedule.exhausted and not self.closed:
                # nothing more to submit: the workers exit after their last batch, while the
                # parent finishes its items, instead of at the end (~5 ms)
                self.pool.shutdown(wait=False)

    def _run(self) -> None:
        while (message := self.inbox.get()) is not None:
            index, n, weight, future = message
            with self.lock:
                self.load -= weight
            self.results.put((index, n, future))
            self.feed()

    def one(self):
        with self.lock:
            return self.schedule.one()

    def close(self) -> None:
        with self.lock:
            self.closed = True
        self.inbox.put(None)
        self.thread.join()


def _work(args, keep_open: bool = True) -> Accumulators | _Failure:
    """One work item, in a pool worker: the file stays open for the worker's next item."""
    source_path, name, gen, item = args
    from adlc.runtime.reader import read_chunk

    try:
        module = _import(name, Path(source_path))
        chunk = read_chunk(item, gen.layout.columns, gen.missing_as_zero, keep_open=keep_open,
                           object_columns=object_columns(gen))
        return run_chunk(module, gen, chunk.arrays, chunk.num_entries,
                         Accumulators.empty(gen.layout))
    except AdlError as err:
        return _Failure(type(err), list(err.diagnostics), err.source)


def execute(gen, inputs, *, chunk_size: int = 200_000, max_events: int | None = None,
            jobs: int = 1, progress: Callable[[int, float], None] | None = None) -> RunResult:
    """Run `gen` (a GeneratedModule) over `inputs` (a reader.InputSet); merged RunResult.

    `progress(events_done, seconds)` is called once before the first chunk and after each.
    """
    from adlc.runtime.reader import close_held, partition, unshare_held

    items = partition(inputs, chunk_size, max_events)  # checks chunk_size and max_events
    _keep_freed_memory()
    module = load_module(gen)
    start = time.perf_counter()
    if progress:
        progress(0, 0.0)
    parallel = jobs > 1 and len(items) > 1
    parts = (_parallel(module, gen, inputs, items, jobs) if parallel
             else _serial(module, gen, inputs, chunk_size, max_events))
    acc = Accumulators.empty(gen.layout)
    try:
        with contextlib.closing(parts), _frozen_heap():
            for part in parts:
                acc = acc + part
                if progress:
                    progress(acc.events, time.perf_counter() - start)
    finally:
        if parallel:  # also when the warm-up failed before the pool started
            unshare_held()
            close_held(inputs)
    return to_result(gen.layout, acc)


@contextlib.contextmanager
def _frozen_heap():
    """The event loop with every object alive before it out of the garbage collector's reach
    (`gc.freeze`): the compiler's and uproot's objects, millions of them, are not garbage, yet
    a full collection during the loop walks them all. In forked workers that walk also writes
    to every page holding one, copying the parent's memory page by page: one collection cost
    ~100 ms of a 0.2 s `-j 2` run. Objects created during the loop are collected as usual."""
    import gc

    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _serial(module, gen, inputs, chunk_size: int, max_events: int | None):
    from adlc.runtime.reader import iterate_chunks

    chunks = iterate_chunks(inputs, gen.layout.columns, chunk_size, max_events,
                            gen.missing_as_zero, object_columns(gen))
    for chunk in chunks:
        part = run_chunk(module, gen, chunk.arrays, chunk.num_entries,
                         Accumulators.empty(gen.layout))
        del chunk  # not alive while the generator reads the next one: one chunk in memory
        yield part


def _parallel(module, gen, inputs, items, jobs: int):
    """Accumulators of `items` from `jobs` processes, in item order: the parent and a pool of
    `jobs - 1` forked workers (fewer for fewer items). The pool gets batches (`_Schedule`),
    fed by `_Feeder`; the parent reads single items itself, so that it works from the start
    instead of waiting for the workers to fork, and the last items are shared out finely.
    A failure cancels the batches not yet started and stops the running ones before their
    next chunk, instead of reading every remaining file first."""
    from concurrent.futures import ProcessPoolExecutor

    from adlc.runtime.reader import close_kept, share_held, unshare_held

    global _POOL_JOB
    _join_lingering()   # no thread of an earlier run is alive when this one forks
    # the files the parent opened to count their entries: the parent and (memory-mapped
    # ones) the forked workers read them without opening them again (~25 ms a file)
    share_held(inputs)
    # Before any worker starts, the parent runs the kernel once on the first few events, so
    # that numba compiles it (or loads it from the cache) once and the forked workers inherit
    # it, instead of every worker doing so at the same time; the result is thrown away.
    first = next((item for item in items if item.entry_stop is not None), None)
    if first is not None:
        _warm_up(module, gen, first)
    context = _fork_context()
    stop = context.Event()
    _POOL_JOB = (module.__file__, module.__name__, gen, stop)
    job = (module.__file__, module.__name__, gen)
    workers = min(jobs - 1, len(items) - 1)   # no worker that could get nothing to do
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    feeder = None
    done: dict[int, tuple[int, list]] = {}   # index of the first item -> (items, parts)
    out = 0                                  # index of the next item to yield
    try:
        feeder = _Feeder(pool, _Schedule(items, workers + 1), workers)
        while out < len(items):
            while not feeder.results.empty():
                index, n, future = feeder.results.get()
                done[index] = (n, future.result())
            if out not in done:
                item = feeder.one()
                if item is not None:
                    done[item.index] = (1, _item_parts(job, item, stop))
                else:  # everything is handed out: wait for the pool
                    index, n, future = feeder.results.get()
                    done[index] = (n, future.result())
                continue
            n, parts = done.pop(out)
            for part in parts:
                if isinstance(part, _Failure):
                    raise part.error()
                yield part
            out += n
    finally:
        if feeder is not None:
            feeder.close()
        stop.set()  # the batches still running stop before their next chunk
        pool.shutdown(wait=True, cancel_futures=True)
        if feeder is not None and feeder.manager is not None:
            _LINGERING.append(feeder.manager)
        _POOL_JOB = None
        unshare_held()
        close_kept()


# The pool threads of finished runs that were still joining their exiting workers (~5 ms):
# the run's result does not wait for them; the next -j run joins them before it forks, and
# concurrent.futures joins them at exit.
_LINGERING: list = []


def _join_lingering() -> None:
    while _LINGERING:
        _LINGERING.pop().join()


def _fork_context():
    """Workers forked from this process (they inherit the loaded kernel and _POOL_JOB):
    the default on Linux up to Python 3.13, asked for explicitly because 3.14 changes it."""
    import multiprocessing

    return multiprocessing.get_context("fork")


_WARM_UP_EVENTS = 64


def _warm_up(module, gen, item) -> None:
    """Run the kernel on the first few events of `item` and drop the result (see _parallel).
    A failure there (a corrupt basket, a bad value) is raised as the run's error. Skipped
    where there is nothing to compile: a kernel numba already compiled in this process (a
    second run in one session), or an array backend's plain Python function."""
    import dataclasses

    kernel = getattr(module, gen.entry)
    if getattr(kernel, "signatures", None) != []:
        return

    few = dataclasses.replace(item, entry_stop=min(item.entry_stop,
                                                   item.entry_start + _WARM_UP_EVENTS))
    part = _work((module.__file__, module.__name__, gen, few), keep_open=False)
    if isinstance(part, _Failure):
        raise part.error()


_MALLOC_TUNED = False


def _keep_freed_memory() -> None:
    """Have glibc's malloc keep the memory of one chunk's arrays for the next chunk.

    By default glibc serves the large arrays of a chunk (a few MB each) with fresh mmap
    pages or returns the heap's top to the system when they are freed, so every chunk pays
    the kernel's page faults and zeroing again: about 20% of a read-bound query's time
    (q3 at 5M events: 1.20 s against 0.96 s with this, docs/performance.md). Arrays up to
    32 MB now come from the heap, and up to 256 MB of freed heap is kept. Once per process
    (forked workers inherit it); nothing on other C libraries."""
    global _MALLOC_TUNED
    if _MALLOC_TUNED or not sys.platform.startswith("linux"):
        return
    _MALLOC_TUNED = True
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and other C libraries: leave them alone
        return
    m_trim_threshold, m_mmap_threshold = -1, -3   # <malloc.h>
    mallopt(m_mmap_threshold, 32 * 1024 * 1024)   # glibc's largest allowed value on 64 bits
    mallopt(m_trim_threshold, 256 * 1024 * 1024)
