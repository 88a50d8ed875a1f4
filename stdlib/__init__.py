"""adlc.stdlib: the external HEP functions ADL analyses call (fMT2, fMR, fmegajets, ...).

The registry maps each function name (exact case) to a `FunctionSpec`: the kinds of its
parameters, what it returns, and the ``"module:function"`` path of a numba-compilable
implementation.  Importing this package is cheap: numba is imported only by
``load_impl(spec, jit=True)``.

    >>> from adlc.stdlib import lookup, load_impl
    >>> spec = lookup("fMT2")
    >>> spec.signature()
    'fMT2(particle, particle, particle) -> scalar'
    >>> mt2 = load_impl(spec)              # plain Python; load_impl(spec, jit=True) for numba

Users add functions with `register` (from a file given as ``--functions mymod.py``, see
`load_module_functions`) or with an installed entry point in the group ``adlc.functions``
(`load_plugins`).  The calling convention and a complete plug-in example are in
docs/functions.md.
"""

from __future__ import annotations

from adlc.stdlib.catalog import BUILTINS
from adlc.stdlib.registry import (
    ARG_WIDTH,
    ENTRY_POINT_GROUP,
    FUNCTIONS,
    PARAM_KINDS,
    RETURN_KINDS,
    FunctionPluginError,
    FunctionSpec,
    ParamKind,
    ReturnKind,
    impl_fingerprint,
    load_impl,
    load_module_functions,
    load_plugins,
    lookup,
    register,
    unregister,
)

for _spec in BUILTINS:
    register(_spec)
del _spec

__all__ = [
    "ARG_WIDTH",
    "BUILTINS",
    "ENTRY_POINT_GROUP",
    "FUNCTIONS",
    "PARAM_KINDS",
    "RETURN_KINDS",
    "FunctionPluginError",
    "FunctionSpec",
    "ParamKind",
    "ReturnKind",
    "impl_fingerprint",
    "load_impl",
    "load_module_functions",
    "load_plugins",
    "lookup",
    "register",
    "unregister",
]
