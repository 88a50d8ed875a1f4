"""Shared fixtures for the HEP function library tests.

`adlc.stdlib` lives in the top-level `stdlib/` folder, mapped to the package by setup.py; an
installed (or editable) adlc has that mapping, a bare source checkout does not, so only then do we
add it by hand.  Every function test runs twice: as plain Python and compiled with numba.njit
(skipped when numba is not installed).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

try:
    import adlc.stdlib  # noqa: F401
except ModuleNotFoundError:
    import adlc

    _root = Path(__file__).resolve().parents[2] / "stdlib"
    _spec = importlib.util.spec_from_file_location(
        "adlc.stdlib", _root / "__init__.py", submodule_search_locations=[str(_root)])
    assert _spec is not None and _spec.loader is not None
    _module = importlib.util.module_from_spec(_spec)
    sys.modules["adlc.stdlib"] = _module
    adlc.stdlib = _module  # type: ignore[attr-defined]
    _spec.loader.exec_module(_module)

from adlc.stdlib import load_impl, lookup  # noqa: E402

HAVE_NUMBA = importlib.util.find_spec("numba") is not None

MODES = ["python", pytest.param("numba", marks=pytest.mark.skipif(
    not HAVE_NUMBA, reason="numba is not installed"))]


@pytest.fixture(scope="module", params=MODES)
def impl(request: pytest.FixtureRequest) -> Callable[[str], Callable[..., Any]]:
    """``impl("fMT2")``: the registered implementation, plain or numba-compiled."""
    jit = request.param == "numba"

    def get(name: str) -> Callable[..., Any]:
        spec = lookup(name)
        assert spec is not None, name
        return load_impl(spec, jit=jit)

    return get
