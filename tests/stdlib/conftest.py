"""Make `adlc.stdlib` importable from a source checkout that is not pip-installed.

setup.py maps the top-level `stdlib/` folder to the package `adlc.stdlib`; an installed (or
editable) adlc has that mapping, a bare checkout does not.  Only then do we add it by hand.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

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
