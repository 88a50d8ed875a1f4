"""Every conformance analysis in ../shared/conformance/adl passes `adlc check` with no errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from adlc.frontend.parser import parse_file
from adlc.semantic.check import check_file

# The same location as tests/conftest.py's `shared_dir` fixture (which skips without it); the
# files are listed at import time to parametrise over them.
_ROOT = Path(__file__).resolve().parents[2]
_ADL_DIR = Path(os.environ.get("ADLC_SHARED", _ROOT.parent / "shared")) / "conformance" / "adl"
FILES = sorted(_ADL_DIR.glob("*.adl")) if _ADL_DIR.is_dir() else []

pytestmark = pytest.mark.shared


def _id(path: Path) -> str:
    return path.stem


def test_conformance_files_exist(shared_dir: Path):
    files = sorted((shared_dir / "conformance" / "adl").glob("*.adl"))
    assert len(files) >= 30
    assert [p.name for p in files] == [p.name for p in FILES]


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_conformance_file_checks_clean(path: Path, shared_dir: Path):
    diagnostics, _ = check_file(str(path))
    errors = [f"{d.span.line}:{d.span.column} {d.code} {d.message}" for d in diagnostics
              if d.severity == "error"]
    assert errors == []


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_conformance_file_parses(path: Path, shared_dir: Path):
    analysis = parse_file(path)
    assert analysis.items
