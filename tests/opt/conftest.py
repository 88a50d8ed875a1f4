"""A small generated NanoAOD-like file shared by the optimiser tests of one session."""

from __future__ import annotations

from pathlib import Path

import pytest

EVENTS = 3000


@pytest.fixture(scope="session")
def nano_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("uproot")
    from adlc.runtime.generate import generate

    path = tmp_path_factory.mktemp("opt-data") / "sample.root"
    generate(str(path), EVENTS, schema="nanoaod", seed=11)
    return path
