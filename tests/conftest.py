"""Shared test configuration: the golden-update flag and the location of ../shared."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("ADLC_SHARED", ROOT.parent / "shared"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true", default=False,
                     help="rewrite golden files from the current output instead of comparing")


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not (SHARED / "conformance").is_dir():
        pytest.skip("../shared/conformance is not available")
    return SHARED


@pytest.fixture(autouse=True)
def _kernel_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    # Compiled kernels go to one cache per test session, never the user's cache.
    cache = tmp_path_factory.getbasetemp() / "adlc-cache"
    monkeypatch.setenv("ADLC_CACHE_DIR", str(cache))


@pytest.fixture
def branches_read(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Every branch name the reader asks uproot for, over a run (tests that count the
    branches an analysis reads)."""
    from adlc.runtime import reader

    read: set[str] = set()
    original = reader._read_plan

    def spy(ttree, plan, item):  # noqa: ANN001, ANN202
        read.update(plan.read)
        return original(ttree, plan, item)

    monkeypatch.setattr(reader, "_read_plan", spy)
    return read
