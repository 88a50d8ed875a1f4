"""The registry of external ADL functions: signatures, lookup, user plug-ins, implementation loading.

Nothing here imports numba: an implementation is named by a ``"module:function"`` string and only
imported by `load_impl`, and compiled only when ``jit=True`` asks for it (see `adlc.stdlib.jit`).

Error codes (all `AdlUsageError`): E601 invalid FunctionSpec, E602 a name registered twice with
different specs, E603 a plug-in that cannot be loaded, E604 an implementation that cannot be found,
E605 numba missing for ``jit=True``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import importlib.metadata
import importlib.util
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from adlc.errors import NO_SPAN, AdlUsageError, Span

ParamKind = Literal["particle", "collection", "scalar"]
ReturnKind = Literal["scalar", "collection"]

PARAM_KINDS: tuple[str, ...] = ("particle", "collection", "scalar")
RETURN_KINDS: tuple[str, ...] = ("scalar", "collection")
# How many positional arguments of the implementation one ADL argument of each kind becomes:
# a particle is (px, py, pz, E), a collection the four arrays (px, py, pz, E), a scalar itself.
ARG_WIDTH: dict[str, int] = {"particle": 4, "collection": 4, "scalar": 1}

ENTRY_POINT_GROUP = "adlc.functions"


class FunctionPluginError(AdlUsageError):
    """A function specification or plug-in is unusable (codes E601-E605)."""


def _fail(message: str, code: str, *, hint: str | None = None,
          where: str | None = None) -> FunctionPluginError:
    span = Span(file=where) if where else NO_SPAN
    return FunctionPluginError.one(message, span, code=code, hint=hint)


@dataclass(frozen=True, kw_only=True)
class FunctionSpec:
    """The signature of one external function and where its implementation lives.

    ``params`` lists the kind of every parameter, optional ones included; the first ``min_args``
    are required.  For each optional parameter ``defaults`` holds the ADL expression the compiler
    substitutes when the call omits it (``"METLV[0]"``, ``"JET"``), so the implementation always
    receives every argument.  ``impl`` is ``"module:function"``, resolved by `load_impl`; in a
    ``--functions`` file it may be written ``":function"`` for "this file".
    """

    name: str
    params: tuple[str, ...]
    returns: str
    impl: str
    doc: str = ""
    min_args: int | None = None
    max_args: int | None = None
    defaults: tuple[str, ...] = ()
    source: str = ""

    def __post_init__(self) -> None:
        where = f"function {self.name!r}"
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise _fail(f"{where}: the name must be an identifier", "E601")
        params = tuple(self.params)
        object.__setattr__(self, "params", params)
        object.__setattr__(self, "defaults", tuple(self.defaults))
        for kind in params:
            if kind not in PARAM_KINDS:
                raise _fail(f"{where}: unknown parameter kind {kind!r}", "E601",
                            hint=f"use one of {', '.join(PARAM_KINDS)}")
        if self.returns not in RETURN_KINDS:
            raise _fail(f"{where}: unknown return kind {self.returns!r}", "E601",
                        hint=f"use one of {', '.join(RETURN_KINDS)}")
        module, sep, func = self.impl.partition(":")
        if not sep or not func.isidentifier() or (module and not all(
                part.isidentifier() for part in module.split("."))):
            raise _fail(f"{where}: impl {self.impl!r} is not 'module:function'", "E601",
                        hint="e.g. impl='mypackage.kinematics:fMyVar'")
        max_args = len(params) if self.max_args is None else self.max_args
        if max_args != len(params):
            raise _fail(f"{where}: max_args={max_args} but {len(params)} params are listed",
                        "E601", hint="list the kinds of all parameters, optional ones included")
        min_args = max_args if self.min_args is None else self.min_args
        if not 0 <= min_args <= max_args:
            raise _fail(f"{where}: min_args={min_args} outside 0..{max_args}", "E601")
        if len(self.defaults) != max_args - min_args:
            raise _fail(f"{where}: {max_args - min_args} optional parameter(s) need as many "
                        f"defaults, got {len(self.defaults)}", "E601",
                        hint="give the ADL expression to pass when the argument is omitted")
        object.__setattr__(self, "min_args", min_args)
        object.__setattr__(self, "max_args", max_args)

    def accepts(self, nargs: int) -> bool:
        """Can the function be called with ``nargs`` ADL arguments?"""
        assert self.min_args is not None and self.max_args is not None
        return self.min_args <= nargs <= self.max_args

    def flat_arity(self) -> int:
        """Number of positional arguments the implementation takes (all parameters given)."""
        return sum(ARG_WIDTH[kind] for kind in self.params)

    def signature(self) -> str:
        """``fMT2(particle, particle, particle) -> scalar``, optional parameters in brackets."""
        assert self.min_args is not None
        parts = [kind if i < self.min_args else f"[{kind}]" for i, kind in enumerate(self.params)]
        return f"{self.name}({', '.join(parts)}) -> {self.returns}"


FUNCTIONS: dict[str, FunctionSpec] = {}

_plugins_loaded = False
# The module a `--functions` file is being imported as, for ":function" impl strings.
_loading_module: str | None = None
_loaded_during_import: list[FunctionSpec] = []


def _absolute(spec: FunctionSpec) -> FunctionSpec:
    if spec.impl.startswith(":"):
        if _loading_module is None:
            raise _fail(f"function {spec.name!r}: impl {spec.impl!r} has no module", "E601",
                        hint="':function' is only allowed inside a --functions file; write "
                             "'module:function' elsewhere")
        spec = dataclasses.replace(spec, impl=_loading_module + spec.impl)
    return spec


def register(spec: FunctionSpec, *, replace: bool = False) -> FunctionSpec:
    """Add ``spec`` to `FUNCTIONS` and return it (as stored, ``":f"`` impls made absolute).

    Registering an equal spec again is a no-op; a different spec under a taken name is an error
    unless ``replace=True`` (which lets a user override a built-in on purpose).
    """
    if not isinstance(spec, FunctionSpec):
        raise _fail(f"register() needs a FunctionSpec, got {type(spec).__name__}", "E601")
    spec = _absolute(spec)
    old = FUNCTIONS.get(spec.name)
    if old is not None and old != spec and not replace:
        raise _fail(f"function {spec.name!r} is already registered (impl {old.impl!r})", "E602",
                    hint="choose another name, or pass replace=True to override it")
    FUNCTIONS[spec.name] = spec
    if _loading_module is not None:
        _loaded_during_import.append(spec)
    return spec


def unregister(name: str) -> FunctionSpec | None:
    """Remove a function (tests and interactive use); returns what was registered."""
    return FUNCTIONS.pop(name, None)


def lookup(name: str) -> FunctionSpec | None:
    """The spec registered under exactly ``name``; installed plug-ins are loaded on the first miss."""
    spec = FUNCTIONS.get(name)
    if spec is None and not _plugins_loaded:
        load_plugins()
        spec = FUNCTIONS.get(name)
    return spec


def _specs_from(obj: Any, origin: str) -> list[FunctionSpec]:
    if isinstance(obj, FunctionSpec):
        return [obj]
    if callable(obj):
        obj = obj()
    if isinstance(obj, FunctionSpec):
        return [obj]
    if isinstance(obj, Iterable) and not isinstance(obj, str | bytes):
        items = list(obj)
        if all(isinstance(item, FunctionSpec) for item in items):
            return items
    raise _fail(f"{origin} did not give FunctionSpec objects", "E603",
                hint="an entry point must be a FunctionSpec or a callable returning a list of them")


def load_plugins(*, reload: bool = False) -> list[FunctionSpec]:
    """Register the functions of every installed entry point in the group ``adlc.functions``.

    Runs once (again with ``reload=True``); returns the specs it registered.
    """
    global _plugins_loaded
    if _plugins_loaded and not reload:
        return []
    _plugins_loaded = True
    loaded: list[FunctionSpec] = []
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        origin = f"entry point {ep.name!r} ({ep.value}) in group {ENTRY_POINT_GROUP!r}"
        try:
            obj = ep.load()
        except Exception as exc:
            raise _fail(f"cannot load {origin}: {exc}", "E603") from exc
        for spec in _specs_from(obj, origin):
            loaded.append(register(spec))
    return loaded


def load_module_functions(path: str | Path) -> list[FunctionSpec]:
    """Import the Python file ``path`` (``--functions mymod.py``) and register its functions.

    The file either calls `register` at import time or defines ``ADL_FUNCTIONS = [...]`` (or
    both).  It is imported as a module named after the file (``mymod``) so that
    ``impl="mymod:f"`` and ``impl=":f"`` both find its functions.  Returns the specs registered.
    """
    global _loading_module
    file = Path(path)
    where = str(file)
    if not file.is_file():
        raise _fail(f"functions file {where!r} does not exist", "E603", where=where)
    name = file.stem
    if not name.isidentifier():
        raise _fail(f"functions file {where!r}: {name!r} is not a valid module name", "E603",
                    where=where, hint="rename the file to something like my_functions.py")
    existing = sys.modules.get(name)
    if existing is not None:
        if Path(getattr(existing, "__file__", "") or "").resolve() != file.resolve():
            raise _fail(f"functions file {where!r}: a module named {name!r} is already imported",
                        "E603", where=where, hint="rename the file so its name is unique")
        return [s for s in FUNCTIONS.values() if s.impl.partition(":")[0] == name]
    module_spec = importlib.util.spec_from_file_location(name, file)
    if module_spec is None or module_spec.loader is None:
        raise _fail(f"cannot import functions file {where!r}", "E603", where=where)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    previous = _loading_module
    _loading_module = name
    start = len(_loaded_during_import)
    try:
        module_spec.loader.exec_module(module)
        listed = getattr(module, "ADL_FUNCTIONS", [])
        for spec in _specs_from(listed, f"ADL_FUNCTIONS in {where!r}"):
            register(spec)
        registered = _loaded_during_import[start:]
    except FunctionPluginError:
        sys.modules.pop(name, None)
        raise
    except Exception as exc:
        sys.modules.pop(name, None)
        raise _fail(f"error while importing functions file {where!r}: "
                    f"{type(exc).__name__}: {exc}", "E603", where=where) from exc
    finally:
        _loading_module = previous
        del _loaded_during_import[start:]
    unique: dict[str, FunctionSpec] = {}
    for spec in registered:
        unique[spec.name] = spec
    return list(unique.values())


def _resolve(spec: FunctionSpec) -> tuple[Any, str]:
    module_name, _, func_name = spec.impl.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise _fail(f"function {spec.name!r}: cannot import module {module_name!r}: {exc}",
                    "E604") from exc
    if not callable(getattr(module, func_name, None)):
        raise _fail(f"function {spec.name!r}: {module_name!r} has no function {func_name!r}",
                    "E604")
    return module, func_name


def load_impl(spec: FunctionSpec, *, jit: bool = False) -> Callable[..., Any]:
    """The implementation of ``spec``: the plain Python function, or with ``jit=True`` its
    ``numba.njit`` dispatcher (compiled on first call, helper functions of its module included).
    """
    module, func_name = _resolve(spec)
    if not jit:
        return getattr(module, func_name)
    from adlc.stdlib.jit import jit_namespace

    return jit_namespace(module)[func_name]


def impl_fingerprint(spec: FunctionSpec) -> str:
    """A short hash of the spec and of its implementation's source file, for kernel cache keys."""
    module, _ = _resolve(spec)
    digest = hashlib.sha256(repr(spec).encode())
    source = getattr(module, "__file__", None)
    if source:
        digest.update(Path(source).read_bytes())
    return digest.hexdigest()[:16]
