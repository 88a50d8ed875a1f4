"""IR Program -> the numpy backend's array kernel with `xp = cupy`.

The generated body is the numpy backend's; only the prelude differs: the array module is CuPy
(imported when the module loads, with an install hint when it is missing) and a few helpers are
replaced by forms CuPy supports (`CUPY_PRELUDE`). Nothing here imports cupy, so the code can be
generated (`adlc dump --stage code --backend cupy`) and tested without a GPU: `xp="numpy"`
generates the same module importing numpy as `xp`, which the tests run against the numba
backend.

Results: cutflow counts, search-bin counts and histogram entries are exact; weighted sums are
accumulated on the device in another order than numba's sequential loop (relative differences
of order 1e-12).
"""

from __future__ import annotations

from typing import Literal

from adlc.backends.numpy.codegen import CODEGEN_VERSION
from adlc.backends.numpy.codegen import generate as _generate
from adlc.ir import nodes as N
from adlc.runtime import schemas as S

from .prelude import CUPY_PRELUDE

XP_IMPORTS = {
    "cupy": (
        "try:\n"
        "    import cupy as xp\n"
        "except ImportError as _exc:\n"
        "    from adlc.errors import AdlUsageError\n"
        "    raise AdlUsageError.one('the cupy backend needs CuPy, which is not installed',\n"
        "                            hint='pip install cupy-cuda12x') from _exc"),
    # the CuPy program run on the CPU: how it is tested without a GPU
    "numpy": "import numpy as xp",
}

__all__ = ["CODEGEN_VERSION", "generate"]


def generate(prog: N.Program, schema: S.Schema, *,
             xp: Literal["cupy", "numpy"] = "cupy"):
    """The CuPy module for `prog` (`xp="numpy"`: the same code on numpy, for tests)."""
    return _generate(prog, schema, xp_import=XP_IMPORTS[xp], backend=f"cupy[{xp}]",
                     extra_prelude=CUPY_PRELUDE)
