"""Compile the plain-Python implementations of a module with numba, helpers included.

``numba.njit(f)`` alone fails as soon as ``f`` calls a plain helper of its module (numba cannot
call an uncompiled Python function).  Instead of decorating the module's functions, which would
import numba whenever the module is imported and stop them running as plain Python, this builds a
parallel namespace: every function defined in the module is copied with the same code but with
globals in which each helper name is bound to its own (lazy) njit dispatcher.  Functions imported
from other user modules are handled the same way, recursively; numpy/numba/math functions are
left to numba, which knows them.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from adlc.stdlib.registry import _fail

# Modules whose functions numba types itself; never copy-compile them.
_NATIVE_PACKAGES = frozenset({"numpy", "numba", "math", "cmath", "scipy", "awkward", "builtins"})

_NAMESPACES: dict[str, dict[str, Any]] = {}


def _numba() -> Any:
    try:
        import numba
    except ImportError as exc:
        raise _fail("compiling ADL functions needs numba, which is not installed", "E605",
                    hint="pip install 'adlc[run]'") from exc
    return numba


def jit_namespace(module: types.ModuleType) -> dict[str, Any]:
    """Name -> njit dispatcher for every function defined in ``module`` (cached per module)."""
    cached = _NAMESPACES.get(module.__name__)
    if cached is not None:
        return cached
    numba = _numba()
    glb: dict[str, Any] = dict(module.__dict__)
    own: dict[str, Any] = {}
    # Cache before filling, so two modules that import from each other terminate.
    _NAMESPACES[module.__name__] = own
    for name, obj in module.__dict__.items():
        if not isinstance(obj, types.FunctionType):
            continue
        if obj.__module__ == module.__name__:
            copy = types.FunctionType(obj.__code__, glb, obj.__name__, obj.__defaults__,
                                      obj.__closure__)
            copy.__qualname__ = obj.__qualname__
            copy.__doc__ = obj.__doc__
            glb[name] = own[name] = numba.njit(copy)
        elif (obj.__module__ or "").partition(".")[0] not in _NATIVE_PACKAGES:
            other = sys.modules.get(obj.__module__)
            if other is not None:
                glb[name] = jit_namespace(other).get(obj.__name__, obj)
    return own
