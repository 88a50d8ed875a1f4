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
