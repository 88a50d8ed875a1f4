"""Reading ROOT inputs as chunks of flat numpy arrays, only the branches an analysis needs.

Backends work on flat arrays (offsets + contents), so a `Chunk` hands them exactly that:

* a jagged branch `Muon_pt` → its flat contents under `"Muon_pt"` (native byte order) and its
  collection's offsets (int64, length n_events + 1, starting at 0) under `"Muon@offsets"`. The
  collection (the *group*) is the branch name up to its first `_` or `.` (`Muon`; `Jet` for
  Delphes' `Jet.PT`), or the whole name if it has none (`LHEPdfWeight`); a requested
  `"<group>@offsets"` with a longer group (`jet_ak4@offsets`) claims the branches starting with
  `jet_ak4_`. Branches of one group share one offsets array;
* a scalar branch → a 1D array of length n_events (bools stay numpy bool);
* `"Muon@offsets"` may itself be requested: it is computed from `nMuon` when no `Muon_*` branch
  is read (from `Jet_size` for Delphes);
* Delphes' split TClonesArrays are read by their leaf branches' names (`Jet.PT`, found at any
  depth of the tree);
* aliases (`InputSet.with_schema`, from `Schema.column_aliases`) read a requested event-level
  key from another branch: `"MET_pt"` from Delphes' `MissingET.MET`. An alias target stored as
  a list per event (a one-element Delphes collection) gives its first element, 0 when empty.
* every column a kernel reads per object of a collection (named `<group>_x`, or listed in the
  backend's `object_columns`, e.g. a quoted `"mu_phi"(MUO)`) must be a list per event with that
  collection's counts, and, where the backend lists its per-object columns, every other column
  one value per event: otherwise an E709 names the branch, instead of a numba kernel reading
  past the end of an array or numpy failing to broadcast.

Work is cut into `WorkItem`s (file, tree, entry range) by `partition`, so a process pool or Dask
can read chunks independently with `read_chunk`; `iterate_chunks` does the same in one process
and keeps each file open while it reads its chunks.

Every failure the user can cause (missing, unreadable, non-ROOT, corrupt or truncated file,
absent tree or branch) is an `AdlInputError` that names the file. uproot and awkward are imported
only when a file is opened.
"""

from __future__ import annotations

import contextlib
import difflib
import glob
import hashlib
import os
import struct
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from adlc.errors import AdlError, AdlInputError, AdlUsageError, Diagnostic, Span
from adlc.runtime.schemas import (
    SEPARATORS,
    Schema,
    branch_group,
    detect_schema,
    get_schema,
    missing_branch_error,
    offsets_key,
)

if TYPE_CHECKING:
    from types import ModuleType

__all__ = [
    "Chunk", "InputFile", "InputSet", "WorkItem", "branch_group", "file_info", "file_items",
    "iterate_chunks", "kept_entries", "open_inputs", "partition", "read_chunk",
]

OFFSETS_SUFFIX = "@offsets"
ROOT_MAGIC = b"root"
_GLOB_CHARS = frozenset("*?[")


# --- data types ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class InputFile:
    """One input file with the tree to read and its number of entries (None: not counted
    yet, see `open_inputs(count_all=False)`)."""

    path: str
    tree: str
    num_entries: int | None


@dataclass(frozen=True)
class InputSet:
    """The expanded, validated inputs of one run (all files share the tree name)."""

    files: tuple[InputFile, ...]
    tree: str
    branch_names: tuple[str, ...]                                       # of the first file
    branch_types: Mapping[str, str] = field(default_factory=dict, hash=False)  # name -> typename
    aliases: tuple[tuple[str, str], ...] = ()   # (chunk key, branch to read it from)
    # The files open_inputs left open (the first _HOLD_FILES), {path: (handle, TTree)}: a run
    # reads them without opening them and deserialising their tree a second time (~20-25 ms
    # a file), and -j workers forked from the process that opened them share them (memory
    # maps: no file position to share). Not pickled; once closed, a file is opened again.
    held: Any = field(default=None, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.branch_types, _TypeNames):
            object.__setattr__(self, "branch_types", MappingProxyType(dict(self.branch_types)))
        object.__setattr__(self, "aliases", tuple(dict(self.aliases).items()))

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "branch_types": dict(self.branch_types), "held": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, branch_types=MappingProxyType(state["branch_types"]))

    @property
    def num_entries(self) -> int | None:
        """Entries in all files; None while a file is not counted."""
        if any(f.num_entries is None for f in self.files):
            return None
        return sum(f.num_entries for f in self.files)

    def counted(self) -> InputSet:
        """This set with every file counted: the files open_inputs did not count are opened
        here, one after the other (~20 ms each to read the tree's metadata)."""
        if self.num_entries is not None:
            return self
        files = []
        for f in self.files:
            if f.num_entries is None:
                with _open_file(f.path) as handle:
                    f = replace(f, num_entries=_count(_get_tree(handle, f.path, f.tree), f.path))
            files.append(f)
        return replace(self, files=tuple(files))

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(f.path for f in self.files)

    def schema(self, name: str | None = None) -> Schema:
        """The schema called `name`, or the one detected from the first file's branches."""
        return get_schema(name) if name else detect_schema(self.branch_names, self.tree)

    def with_schema(self, schema: Schema) -> InputSet:
        """A copy that reads the chunk keys the backends use under the schema's own branch
        names (`Schema.column_aliases`: `MET_pt` from Delphes' `MissingET.MET`)."""
        return replace(self, aliases=tuple(schema.column_aliases.items()))


@dataclass(frozen=True)
class WorkItem:
    """Entries [entry_start, entry_stop) of one file: the unit a worker reads. A file that was
    not counted is one item with entry_stop None, the whole file: whoever reads it opens it,
    counts it and reads the chunks partition would have made (`file_items`)."""

    file: str
    tree: str
    entry_start: int
    entry_stop: int | None
    global_start: int = 0   # position of entry_start in the whole InputSet (0 once a file
    #                         before it was not counted)
    index: int = 0          # position of this item in `partition`'s list
    aliases: tuple[tuple[str, str], ...] = ()   # InputSet.aliases
    chunk_size: int = 0     # of a whole-file item
    file_index: int = 0     # position of the file in the InputSet

    @property
    def num_entries(self) -> int:
        assert self.entry_stop is not None, "a whole-file item has no size until it is cut"
        return self.entry_stop - self.entry_start


def file_items(item: WorkItem, num_entries: int) -> list[WorkItem]:
    """The chunk items of a whole-file item (entry_stop None) whose file has `num_entries`."""
    return [replace(item, entry_start=start, entry_stop=min(start + item.chunk_size, num_entries))
            for start in range(0, num_entries, item.chunk_size)]


@dataclass
class Chunk:
    """The arrays of one WorkItem. See the module docstring for the key conventions."""

    file: str
    entry_start: int
    entry_stop: int
    arrays: dict[str, np.ndarray]
    global_start: int = 0
    index: int = 0

    @property
    def num_entries(self) -> int:
        return self.entry_stop - self.entry_start


# --- small helpers -------------------------------------------------------------------------------


def _import(name: str) -> ModuleType:
    """Import uproot/awkward on first use, with an install hint when missing."""
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError as exc:  # pragma: no cover - the test environment has both
        raise AdlUsageError.one(
            f"reading ROOT files needs the '{name}' package, which is not installed",
            code="E700", hint="pip install 'adlc[run]'  (uproot, awkward)") from exc


def _input_error(path: str, message: str, code: str, hint: str | None = None) -> AdlInputError:
    return AdlInputError([Diagnostic(message, code=code, hint=hint, span=_file_span(path))])


def _file_span(path: str) -> Span:
    return Span(file=path)


def _is_url(path: str) -> bool:
    return "://" in path


# --- opening -------------------------------------------------------------------------------------


def _expand(patterns: Sequence[str]) -> list[str]:
    """Globs expand sorted; a glob matching nothing is an error; duplicates are dropped (a file
    listed twice, e.g. by a glob and by name, would otherwise be counted twice)."""
    if isinstance(patterns, str):  # a lone string would be iterated character by character
        patterns = [patterns]
    if not patterns:
        raise AdlUsageError.one("no input files given", code="E706",
                                hint="pass one or more ROOT files or globs such as 'data/*.root'")
    out: list[str] = []
    for pattern in patterns:
        pattern = os.fspath(pattern)
        if not _is_url(pattern) and _GLOB_CHARS & set(pattern):
            matches = sorted(glob.glob(os.path.expanduser(pattern), recursive=True))
            if not matches:
                raise _input_error(pattern, f"no file matches {pattern!r}", "E706",
                                   "check the path and quote the glob so the shell leaves it alone")
            out.extend(matches)
        else:
            out.append(os.path.expanduser(pattern))
    return list(dict.fromkeys(out))


def _check_local_file(path: str) -> None:
    """Catch the common failures before uproot does, with clearer messages than its own."""
    if not os.path.exists(path):
        raise _input_error(path, f"input file {path!r} does not exist", "E701")
    if os.path.isdir(path):
        raise _input_error(path, f"input {path!r} is a directory, not a ROOT file", "E701",
                           f"to read every file in it, pass '{os.path.join(path, '*.root')}'")
    if not os.access(path, os.R_OK):
        raise _input_error(path, f"input file {path!r} is not readable (permission denied)",
                           "E702")
    size = os.path.getsize(path)
    try:
        with open(path, "rb") as fh:
            header = fh.read(20)
    except OSError as exc:
        raise _input_error(path, f"cannot read input file {path!r}: {exc.strerror or exc}",
                           "E702") from exc
    if size == 0:
        raise _input_error(path, f"input file {path!r} is empty", "E703")
    if not header.startswith(ROOT_MAGIC):
        raise _input_error(path, f"input file {path!r} is not a ROOT file", "E703",
                           "a ROOT file starts with the bytes 'root'")
    end = _root_file_end(header)
    if end is not None and end > size:
        raise _input_error(
            path, f"input file {path!r} is truncated: its header says {end} bytes, "
                  f"it has {size}", "E703", "the copy or download was probably interrupted")


def _root_file_end(header: bytes) -> int | None:
    """fEND from a ROOT file header: 4-byte fields for small files, 8-byte when version >= 1e6."""
    if len(header) < 16:
        return None
    version, = struct.unpack(">i", header[4:8])
    if version >= 1_000_000:
        return struct.unpack(">q", header[12:20])[0] if len(header) >= 20 else None
    return struct.unpack(">i", header[12:16])[0]


def _open_file(path: str) -> Any:
    """uproot.open with every failure turned into an AdlInputError naming the file."""
    uproot = _import("uproot")
    if not _is_url(path):
        _check_local_file(path)
    try:
        # No caches: chunks are read once each, and caching them would only hold memory. A
        # local file is memory-mapped: a handle opened before -j forks its workers is then
        # safe to read from all of them (a file object's position would be shared).
        local = {} if _is_url(path) else {"handler": uproot.source.file.MemmapSource}
        return uproot.open(path, object_cache=None, array_cache=None, **local)
    except FileNotFoundError as exc:
        raise _input_error(path, f"input file {path!r} does not exist", "E701") from exc
    except PermissionError as exc:
        raise _input_error(path, f"input file {path!r} is not readable (permission denied)",
                           "E702") from exc
    except Exception as exc:  # uproot raises OSError, ValueError, DeserializationError...
        raise _corrupt(path, exc) from exc


def _corrupt(path: str, exc: BaseException, what: str = "") -> AdlInputError:
    detail = " ".join(str(exc).split())[:300]
    return _input_error(path, f"input file {path!r} is corrupt or truncated{what}: "
                              f"{type(exc).__name__}: {detail}", "E703")


def _trees_in(handle: Any) -> list[str]:
    return [k for k, cls in handle.classnames(recursive=True, cycle=False).items()
            if cls in ("TTree", "TNtuple", "TChain")]


def _count(ttree: Any, path: str) -> int:
    try:
        return int(ttree.num_entries)
    except Exception as exc:
        raise _corrupt(path, exc) from exc


def _get_tree(handle: Any, path: str, tree: str | None) -> Any:
    """The named tree, or the default: `Events`, else the file's only tree."""
    tree = _tree_name(handle, path, tree)
    try:
        return handle[tree]
    except Exception as exc:
        raise _corrupt(path, exc, f" (reading tree {tree!r})") from exc


def _tree_name(handle: Any, path: str, tree: str | None) -> str:
    """The name of the tree `_get_tree` reads, checked against the file's keys (cheap: the
    tree itself is not read)."""
    try:
        trees = _trees_in(handle)
        if not trees:
            _no_trees(handle, path, tree or "Events")
    except AdlError:
        raise
    except Exception as exc:
        raise _corrupt(path, exc) from exc
    if tree is None:
        if "Events" in trees:
            tree = "Events"
        elif len(trees) == 1:
            tree = trees[0]
        else:
            listed = ", ".join(trees) if trees else "none"
            raise _input_error(path, f"cannot choose a tree in {path!r}: found {listed}", "E704",
                               "name one with --tree")
    if tree not in trees:
        listed = ", ".join(repr(t) for t in trees) if trees else "no trees at all"
        raise _input_error(path, f"no tree {tree!r} in {path!r}; it has {listed}", "E704",
                           "name the right one with --tree" if trees else None)
    return tree


def _no_trees(handle: Any, path: str, tree: str) -> None:
    """Raise the error for a file without any TTree, naming what it holds instead."""
    held = handle.classnames(recursive=True, cycle=False)
    listed = ", ".join(f"{k!r} ({c})" for k, c in held.items()) if held else "nothing"
    rntuple = any("RNTuple" in c for c in held.values())
    raise _input_error(path, f"no tree {tree!r} in {path!r}: it has no TTree at all, only "
                             f"{listed}", "E704",
                       "adlc reads TTrees; RNTuple is not supported yet" if rntuple else None)


_HOLD_FILES = 16   # files open_inputs keeps open (each holds its TTree's metadata in memory)


def open_inputs(paths_or_globs: Sequence[str], tree: str | None = None, *,
                count_all: bool = True) -> InputSet:
    """Expand globs, open every file, check the tree exists in each and count entries.

    `count_all=False` counts only the first and the last file: the others are checked to be
    readable ROOT files that hold the tree, but the tree itself is not read (reading its
    metadata, ~20 ms a file for NanoAOD, is most of the cost of opening a file). A -j run
    then has its processes do that in parallel, each for the files it reads."""
    files: list[InputFile] = []
    branch_names: tuple[str, ...] = ()
    branch_types: Mapping[str, str] = {}
    held: dict[str, tuple[Any, Any]] = {}
    paths = _expand(paths_or_globs)
    for k, path in enumerate(paths):
        handle = _open_file(path)
        try:
            if not count_all and 0 < k < len(paths) - 1:
                files.append(InputFile(path, _tree_name(handle, path, tree), None))
                handle.close()
                continue
            ttree = _get_tree(handle, path, tree)
            tree = tree or ttree.name
            files.append(InputFile(path, tree, _count(ttree, path)))
            if not branch_names:
                try:
                    every = _all_branches(ttree)
                except Exception as exc:
                    raise _corrupt(path, exc) from exc
                branch_names = tuple(every)
                branch_types = _TypeNames(every)
        except BaseException:
            handle.close()
            raise
        if len(held) < _HOLD_FILES and path not in held:  # kept open for the run
            held[path] = (handle, ttree)
        else:
            handle.close()
    assert tree is not None  # _expand never returns an empty list
    return InputSet(tuple(files), tree, branch_names, branch_types, held=held)


class _TypeNames(Mapping[str, str]):
    """Branch name -> C++ type name, worked out on first use: uproot identifies every
    branch's interpretation for it (~10 ms for a NanoAOD tree), and a run needs none."""

    def __init__(self, branches: Mapping[str, Any]) -> None:
        self._branches = branches
        self._names: dict[str, str] | None = None

    def _all(self) -> dict[str, str]:
        if self._names is None:
            self._names = {name: b.typename for name, b in self._branches.items()}
            self._branches = {}
        return self._names

    def __getitem__(self, name: str) -> str:
        return self._all()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


# --- partitioning --------------------------------------------------------------------------------


def partition(inputs: InputSet, chunk_size: int, max_events: int | None = None) -> list[WorkItem]:
    """Cut the inputs into work items of at most `chunk_size` entries, first `max_events` only.

    Items never span two files. The list is deterministic, so results merged in item order do
    not depend on how many workers read them.
    """
    if chunk_size < 1:
        raise AdlUsageError.one(f"chunk size must be at least 1, got {chunk_size}", code="E707")
    if max_events is not None and max_events < 0:
        raise AdlUsageError.one(f"the number of events must not be negative, got {max_events}",
                                code="E707")
    if inputs.num_entries is None and max_events is not None:
        # the budget is spread over the files in order: every count is needed
        inputs = inputs.counted()
    items: list[WorkItem] = []
    global_start: int | None = 0   # None once a file was not counted
    for k, f in enumerate(inputs.files):
        whole = WorkItem(f.path, f.tree, 0, None, 0, 0, inputs.aliases, chunk_size, k)
        if f.num_entries is None:  # cut by the process that reads it (file_items)
            items.append(replace(whole, index=len(items)))
            global_start = None
            continue
        offset = global_start or 0
        n = f.num_entries if max_events is None else max(min(f.num_entries,
                                                             max_events - offset), 0)
        items += [replace(piece, global_start=offset + piece.entry_start, index=len(items) + j)
                  for j, piece in enumerate(file_items(whole, n))]
        if global_start is not None:
            global_start += n
        if max_events is not None and offset + n >= max_events:
            break
    return items


# --- reading -------------------------------------------------------------------------------------



def _missing_collection(group: str, names: list[str], where: str) -> AdlInputError:
    """The error for a collection the file does not have: named as the user knows it (its
    counter `nFatJet` and its `FatJet_*` branches), not by the reader's internal key."""
    groups = sorted({n.split("_", 1)[0] for n in names if "_" in n})
    close = difflib.get_close_matches(group, groups, n=5, cutoff=0.6) or groups[:12]
    return AdlInputError.one(
        f"no collection {group!r} in {where}: no counter branch 'n{group}' and no "
        f"'{group}_*' branches", code="E705",
        hint=f"collections in this file: {', '.join(close)}" if close else
        "the file has no collections")

@dataclass(frozen=True)
class _Plan:
    """What to read from one tree for one list of requested names."""

    read: tuple[str, ...]            # branches to read from the file
    zeros: tuple[str, ...]           # requested branches absent and read as zero
    jagged: Mapping[str, str]        # every jagged branch read -> its group
    counters: Mapping[str, str]      # group -> counter branch read only to make offsets
    requested: tuple[str, ...]       # what the caller asked for (keys of the chunk)
    aliases: Mapping[str, str] = field(default_factory=dict)  # requested key -> branch read
    # requested per-object column -> its collection's group: read with that group's offsets,
    # so it must be a list per event with exactly the group's counts (checked per chunk)
    objects: Mapping[str, str] = field(default_factory=dict)
    events: tuple[str, ...] = ()     # requested columns read one value per event (checked)


def _all_branches(ttree: Any) -> dict[str, Any]:
    """Every branch of a tree by name, at any depth: Delphes' `Jet.PT` sits under the
    TClonesArray branch `Jet`. A name that occurs twice keeps its first branch."""
    out: dict[str, Any] = {}
    for branch in ttree.itervalues(recursive=True):
        out.setdefault(branch.name, branch)
    return out


def _grouper(requested_groups: Collection[str]):
    """`group_of(branch)`: the longest requested group the branch starts with (followed by a
    separator), else `branch_group(branch)`."""
    groups = sorted(requested_groups, key=len, reverse=True)

    def group_of(name: str) -> str:
        for g in groups:
            if len(name) > len(g) + 1 and name.startswith(g) and name[len(g)] in SEPARATORS:
                return g
        return branch_group(name)

    return group_of


def _plan(ttree: Any, path: str, branches: Sequence[str],
          missing_as_zero: Collection[str], aliases: Mapping[str, str] | None = None,
          object_columns: Mapping[str, str] | None = None) -> _Plan:
    """Check every requested name against the tree and decide what to read. Collects every
    missing branch into one error instead of stopping at the first.

    `object_columns` (requested column -> `"<group>@offsets"`) names every per-object column
    (a backend's `GeneratedModule.object_columns`), also those whose collection their name does
    not tell (a quoted branch, `"mu_phi"(MUO)`); a column named `<group>_x` of a requested
    `<group>@offsets` is per-object of that group anyway. Given a mapping, the other requested
    columns are read one value per event and must not be lists; without one (None), only the
    per-object columns known by name are checked."""
    present = _all_branches(ttree)
    counter_of = {name: _counter_name(b) for name, b in present.items()}
    wanted = list(dict.fromkeys(branches))
    requested_groups = {n[: -len(OFFSETS_SUFFIX)] for n in wanted if n.endswith(OFFSETS_SUFFIX)}
    group_of = _grouper(requested_groups)
    group_counters: dict[str, str] = {}
    for n, c in counter_of.items():
        if c:
            group_counters.setdefault(group_of(n), c)
    aliases = dict(aliases or {})
    read: list[str] = []
    zeros: list[str] = []
    missing: list[str] = []
    need_offsets: list[str] = []
    aliased: dict[str, str] = {}
    for name in wanted:
        if name.endswith(OFFSETS_SUFFIX):
            group = name[: -len(OFFSETS_SUFFIX)]
            if group in group_counters:
                need_offsets.append(group)
            else:
                missing.append(name)
        elif name in aliases:  # the schema says where this key is stored
            target = aliases[name]
            if target in present:
                aliased[name] = target
                read.append(target)
            else:
                missing.append(target)
        elif name in present:
            read.append(name)
        elif name in missing_as_zero:
            zeros.append(name)
            if group_of(name) in group_counters:
                need_offsets.append(group_of(name))
        else:
            missing.append(name)
    if missing:
        names = list(present)
        where = f"tree {ttree.name!r} of {path!r}"
        # a collection that is not there is one error, not one more per attribute read
        absent = {m[: -len(OFFSETS_SUFFIX)] for m in missing if m.endswith(OFFSETS_SUFFIX)}
        missing = [m for m in missing if m.endswith(OFFSETS_SUFFIX) or group_of(m) not in absent]
        diags = [d for m in missing
                 for d in (_missing_collection(m[: -len(OFFSETS_SUFFIX)], names, where)
                           if m.endswith(OFFSETS_SUFFIX)
                           else missing_branch_error(m, names, where)).diagnostics]
        raise AdlInputError([Diagnostic(d.message, _file_span(path), d.code, "error", d.hint)
                             for d in diags])
    read = list(dict.fromkeys(read))
    jagged = {n: group_of(n) for n in read if counter_of[n]}
    groups_read = set(jagged.values())
    counters: dict[str, str] = {}
    for group in need_offsets:
        if group not in groups_read and group not in counters:
            counters[group] = _counter_branch(group, group_counters[group], present, counter_of,
                                              group_of)
    as_is = set(read)  # read under their own name (not aliases, not missing-as-zero)
    objects = _object_groups(wanted, as_is, object_columns or {}, requested_groups, group_of)
    events = () if object_columns is None else tuple(
        n for n in wanted if n in as_is and n not in objects and not n.endswith(OFFSETS_SUFFIX))
    return _Plan(tuple(read) + tuple(c for c in counters.values() if c not in read),
                 tuple(zeros), jagged, counters, tuple(wanted), aliased, objects, events)


def _object_groups(wanted: Sequence[str], read: Collection[str],
                   explicit: Mapping[str, str], requested_groups: Collection[str],
                   group_of) -> dict[str, str]:
    """Requested per-object column -> group, for the columns read from the file as they are
    (not aliases, not missing-as-zero): the explicit ones, and `<group>_x` of requested
    groups. A group whose offsets are not requested has no kernel reading it per object."""
    out: dict[str, str] = {}
    for name in wanted:
        if name.endswith(OFFSETS_SUFFIX) or name not in read:
            continue
        key = explicit.get(name)
        group = (key[: -len(OFFSETS_SUFFIX)] if key and key.endswith(OFFSETS_SUFFIX)
                 else key or group_of(name))
        if group in requested_groups:
            out[name] = group
    return out


def _counter_branch(group: str, counter: str, present: Mapping[str, Any],
                    counter_of: Mapping[str, str | None], group_of) -> str:
    """The cheapest branch giving a group's per-event counts: its count leaf's branch when that
    is a branch (`nMuon`), Delphes' `Jet_size` (the count leaf `Jet_` is a leaf of the
    TClonesArray branch `Jet`), else any jagged branch of the group."""
    for cand in (counter, f"{group}_size"):
        if cand in present and not counter_of.get(cand):
            return cand
    return next(n for n, c in counter_of.items() if c and group_of(n) == group)


def _counter_name(branch: Any) -> str | None:
    """The name of a branch's count leaf (`nMuon` for `Muon_pt[nMuon]`), None for scalars."""
    leaf = branch.count_leaf
    return None if leaf is None else str(leaf.member("fName"))


def _native(arr: np.ndarray) -> np.ndarray:
    """Contiguous, native-endian: numba and cupy reject big-endian views."""
    arr = np.asarray(arr)
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    return np.ascontiguousarray(arr)


def _flatten(name: str, path: str, array: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """(contents, offsets) of a one-level jagged array, (values, None) of a flat one."""
    ak = _import("awkward")
    layout = array.layout
    if isinstance(layout, ak.contents.NumpyArray) and layout.data.ndim == 1:
        return _native(layout.data), None
    if isinstance(layout, ak.contents.ListOffsetArray | ak.contents.ListArray):
        layout = layout.to_ListOffsetArray64(True)  # offsets start at 0 over exactly its content
        content = layout.content
        if isinstance(content, ak.contents.NumpyArray) and content.data.ndim == 1:
            offsets = np.asarray(layout.offsets, dtype=np.int64)
            return _native(content.data[: offsets[-1]]), _native(offsets)
    raise _input_error(path, f"branch {name!r} in {path!r} has type {array.type}, which adlc "
                             "cannot read (only numbers, bools and one-level lists of them)", "E709")


def _offsets_from_counts(counts: np.ndarray) -> np.ndarray:
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return offsets


def _assemble(plan: _Plan, raw: Mapping[str, Any], path: str, n: int) -> dict[str, np.ndarray]:
    """Turn uproot's awkward arrays into the chunk's flat arrays and shared offsets."""
    out: dict[str, np.ndarray] = {}
    offsets: dict[str, np.ndarray] = {}
    flat: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}
    for name in plan.read:
        values, offs = flat[name] = _flatten(name, path, raw[name])
        group = plan.jagged.get(name)
        if offs is not None and group is not None:
            _store_offsets(offsets, group, offs, name, path)
        if name in plan.requested:
            out[name] = values
    for key, target in plan.aliases.items():
        values, offs = flat[target]
        out[key] = values if offs is None else _first_per_event(values, offs)
    for group, counter in plan.counters.items():
        values, offs = flat[counter] if counter in flat else _flatten(counter, path, raw[counter])
        _store_offsets(offsets, group, offs if offs is not None else _offsets_from_counts(values),
                       counter, path)
    for name in plan.zeros:  # CutLang reads a missing branch as 0 (Schema.missing_reads_zero)
        group_offsets = offsets.get(branch_group(name))
        for group, offs in offsets.items():  # a longer requested group (`jet_ak4`)
            if name.startswith(group) and name[len(group):len(group) + 1] in SEPARATORS:
                group_offsets = offs
        length = n if group_offsets is None else int(group_offsets[-1])
        out[name] = np.zeros(length, dtype=np.float32)
    for name, group in plan.objects.items():
        if plan.jagged.get(name) != group:  # (a jagged branch of the group: _store_offsets)
            _check_per_object(name, group, flat[name], offsets.get(group), path)
    for name in plan.events:  # a one-element list per event (Delphes' Event.Number) is fine
        offs = flat[name][1]
        if offs is not None and not np.all(offs[1:] - offs[:-1] == 1):
            _per_event_is_a_list(name, plan.jagged.get(name) or branch_group(name), path)
    for group, offs in offsets.items():
        out[offsets_key(group)] = offs
    return out


def _check_per_object(name: str, group: str, flat: tuple[np.ndarray, np.ndarray | None],
                      offsets: np.ndarray | None, path: str) -> None:
    """A column the analysis reads per object of `group` must be a list per event with the
    group's counts: a flat branch or other counts would make the kernel read past the end of
    the column (numba does not check) or pair values with the wrong objects."""
    values, offs = flat
    if offsets is None or (offs is not None and (offs is offsets
                                                 or np.array_equal(offs, offsets))):
        return
    counts = np.diff(offsets)
    if offs is None:
        found = f"one value per event ({len(values)} values for {len(counts)} events)"
    else:
        other = np.diff(offs)
        bad = int(np.flatnonzero(other != counts)[0]) if len(other) == len(counts) else 0
        found = (f"a list per event with other counts (entry {bad} of the chunk: "
                 f"{int(other[bad])} values for {int(counts[bad])} {group} objects)")
    raise _input_error(
        path, f"branch {name!r} in {path!r} is read per object of collection {group!r}, but it "
              f"holds {found}", "E709",
        hint=f"a per-object branch must be a list per event with the counts of {group!r} (its "
             f"counter, e.g. 'n{group}'); read a per-event branch as an event quantity, not "
             f"as an attribute of {group!r}, or use the branch of {group!r} that holds it")


def _per_event_is_a_list(name: str, group: str, path: str) -> None:
    """A column the analysis reads as one value per event holds a list per event: the kernel
    would pair event i with the i-th value of the flattened list (or read past its end)."""
    raise _input_error(
        path, f"branch {name!r} in {path!r} is read as one value per event, but it holds a "
              f"list per event (collection {group!r})", "E709",
        hint=f"read it per object, as an attribute of its collection: e.g. `{name}({group})` "
             f"or `{name}({group}[0])` for the first object")


def _first_per_event(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """One value per event from a list per event: the first element, 0 for an empty list
    (Delphes keeps MET as a one-element collection)."""
    out = np.zeros(len(offsets) - 1, dtype=values.dtype)
    filled = offsets[1:] > offsets[:-1]
    out[filled] = values[offsets[:-1][filled]]
    return out


def _store_offsets(offsets: dict[str, np.ndarray], group: str, offs: np.ndarray, name: str,
                   path: str) -> None:
    """Branches of one group must agree on their counts (they share one offsets array)."""
    previous = offsets.setdefault(group, offs)
    if previous is not offs and not np.array_equal(previous, offs):
        raise _input_error(path, f"branch {name!r} in {path!r} has different per-event counts "
                                 f"from the other {group}_* branches", "E709")


def _read_plan(ttree: Any, plan: _Plan, item: WorkItem) -> dict[str, np.ndarray]:
    wanted = set(plan.read)
    raw: Mapping[str, Any] = {}
    if wanted:
        try:
            raw = ttree.arrays(filter_name=wanted.__contains__, entry_start=item.entry_start,
                               entry_stop=item.entry_stop, library="ak", how=dict)
        except AdlError:
            raise
        except Exception as exc:
            raise _corrupt(item.file, exc, f" (reading entries {item.entry_start}-"
                                           f"{item.entry_stop} of tree {item.tree!r})") from exc
    return _assemble(plan, raw, item.file, item.num_entries)


def read_chunk(item: WorkItem, branches: Sequence[str],
               missing_as_zero: Collection[str] = frozenset(), *,
               keep_open: bool = False, object_columns: Mapping[str, str] | None = None
               ) -> Chunk:
    """Read one work item on its own: for process pools. The file is opened and closed, or
    with `keep_open` left open for the next item of the same file and tree (a worker reads
    many consecutive items; opening costs ~20 ms each time). One file at most is kept."""
    shared = _shared(item.file, item.tree)
    if shared is not None and not keep_open:
        ttree = shared[1]
        plan = _plan(ttree, item.file, branches, missing_as_zero, dict(item.aliases),
                     object_columns)
        return _chunk(item, _read_plan(ttree, plan, item))
    if not keep_open:
        with _open_file(item.file) as handle:
            ttree = _get_tree(handle, item.file, item.tree)
            plan = _plan(ttree, item.file, branches, missing_as_zero, dict(item.aliases),
                         object_columns)
            return _chunk(item, _read_plan(ttree, plan, item))
    ttree, plans = _kept_tree(item.file, item.tree)
    objects = tuple(sorted((object_columns or {}).items()))
    key = (tuple(branches), frozenset(missing_as_zero), item.aliases, objects,
           object_columns is None)
    plan = plans.get(key)
    if plan is None:
        plan = plans[key] = _plan(ttree, item.file, branches, missing_as_zero,
                                  dict(item.aliases), object_columns)
    return _chunk(item, _read_plan(ttree, plan, item))


_KEPT: dict[str, Any] = {}   # read_chunk(keep_open=True): the one file kept open per process
# (path, tree) -> (handle, TTree, plan cache, owner): files the parent of a -j pool opened
# before forking it (share_held), read without opening them again by the parent and, when
# memory-mapped (owner None), by the forked workers too
_SHARED: dict[tuple[str, str], tuple[Any, Any, dict, int | None]] = {}


def share_held(inputs: InputSet) -> None:
    """Let this process, and the processes forked from now on where the file is memory-mapped,
    read the files `inputs` holds open."""
    _SHARED.clear()
    for path, (handle, ttree) in (inputs.held or {}).items():
        if getattr(handle, "closed", True):
            continue
        source = getattr(getattr(handle, "file", None), "source", None)
        # only a real memory map is shared: where mmap failed, uproot falls back to file
        # objects read by threads, whose positions forked processes would share
        mapped = type(source).__name__ == "MemmapSource" and \
            getattr(source, "_fallback", True) is None
        _SHARED[(path, inputs.tree)] = (handle, ttree, {}, None if mapped else os.getpid())


def _shared(path: str, tree: str) -> tuple[Any, Any, dict, int | None] | None:
    """The shared entry of (path, tree) if this process may read through it."""
    entry = _SHARED.get((path, tree))
    if entry is None or entry[3] not in (None, os.getpid()):
        return None
    return entry


def unshare_held() -> None:
    _SHARED.clear()


def close_kept() -> None:
    """Close the file read_chunk(keep_open=True) kept open in this process, if any."""
    old = _KEPT.pop("handle", None)
    _KEPT.clear()
    if old is not None:
        old.close()


def close_held(inputs: InputSet) -> None:
    """Close the files open_inputs left open (a later read opens them again)."""
    for handle, _ in (inputs.held or {}).values():
        handle.close()


def _kept_tree(path: str, tree: str) -> tuple[Any, dict]:
    """(TTree, plan cache) of the file kept open by this process, opening it (and closing
    the one kept before) when it is another file or tree, or the file changed on disk; a
    file the parent shared (share_held) is used as it is."""
    shared = _shared(path, tree)
    if shared is not None:
        return shared[1], shared[2]
    st = os.stat(path) if not _is_url(path) else None
    key = (path, tree, None if st is None else (st.st_ino, st.st_size, st.st_mtime_ns))
    if _KEPT.get("key") != key:
        close_kept()
        handle = _open_file(path)
        try:
            ttree = _get_tree(handle, path, tree)
        except BaseException:
            handle.close()
            raise
        _KEPT.update(key=key, handle=handle, tree=ttree, plans={})
    return _KEPT["tree"], _KEPT["plans"]


def kept_entries(item: WorkItem) -> int:
    """The entries of `item`'s file, opened (and kept) as read_chunk(keep_open=True) does."""
    ttree, _ = _kept_tree(item.file, item.tree)
    return _count(ttree, item.file)


def _chunk(item: WorkItem, arrays: dict[str, np.ndarray]) -> Chunk:
    return Chunk(item.file, item.entry_start, item.entry_stop, arrays, item.global_start,
                 item.index)


def iterate_chunks(inputs: InputSet, branches: Sequence[str], chunk_size: int,
                   max_events: int | None = None,
                   missing_as_zero: Collection[str] = frozenset(),
                   object_columns: Mapping[str, str] | None = None) -> Iterator[Chunk]:
    """Yield the chunks of `partition(inputs, chunk_size, max_events)` in order, reading only
    `branches` (plus a counter where only a collection's offsets are wanted).

    `missing_as_zero`: branches that read as zeros when a file lacks them (pass
    `schema.missing_reads_zero`); any other absent branch is an AdlInputError.
    `object_columns`: per-object columns whose collection their name does not tell (`_plan`).
    """
    items = partition(inputs, chunk_size, max_events)
    for path in dict.fromkeys(item.file for item in items):
        handle, ttree = _held(inputs, path)
        if handle is None:
            handle = _open_file(path)
        with handle:
            if ttree is None:
                ttree = _get_tree(handle, path, inputs.tree)
            plan = _plan(ttree, path, branches, missing_as_zero, dict(inputs.aliases),
                         object_columns)
            for item in items:
                if item.file != path:
                    continue
                pieces = [item] if item.entry_stop is not None else \
                    file_items(item, _count(ttree, path))
                for piece in pieces:
                    yield _chunk(piece, _read_plan(ttree, plan, piece))


def _held(inputs: InputSet, path: str) -> tuple[Any, Any]:
    """(handle, TTree) of `path` if open_inputs left it open and it still is, else Nones."""
    handle, ttree = (inputs.held or {}).get(path, (None, None))
    if handle is None or getattr(handle, "closed", True):
        return None, None
    return handle, ttree


# --- provenance ----------------------------------------------------------------------------------


def file_info(path: str) -> dict[str, object]:
    """Path, size and sha256 of an input, for the JSON summary (read in 1 MiB blocks).

    Hashing reads the whole file again (~1.5 s for 1.5 GB), so the digest is kept in the
    kernel cache directory under the file's identity and change times (inode, size, mtime and
    ctime in ns: any write to the file changes ctime), and reused while they are the same."""
    if not os.path.isfile(path):
        raise _input_error(path, f"input file {path!r} does not exist", "E701")
    st = os.stat(path)
    stamp = f"{os.path.abspath(path)}\0{st.st_dev}:{st.st_ino}:{st.st_size}:" \
            f"{st.st_mtime_ns}:{st.st_ctime_ns}"
    memo = _digest_memo(stamp)
    digest = memo.read_text().strip() if memo is not None and memo.is_file() else ""
    if len(digest) != 64:
        digest = _sha256(path)
        if memo is not None:
            with contextlib.suppress(OSError):  # a read-only cache only costs time
                memo.parent.mkdir(parents=True, exist_ok=True)
                tmp = memo.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_text(digest + "\n")
                os.replace(tmp, memo)
    return {"path": os.path.abspath(path), "size": st.st_size, "sha256": digest}


def _digest_memo(stamp: str):
    from adlc.runtime.execute import cache_dir

    try:
        return cache_dir() / "sha256" / hashlib.sha256(stamp.encode()).hexdigest()[:32]
    except (OSError, RuntimeError):  # no home directory to put a cache in
        return None


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise _input_error(path, f"cannot read input file {path!r}: {exc.strerror or exc}",
                           "E702") from exc
    return digest.hexdigest()
