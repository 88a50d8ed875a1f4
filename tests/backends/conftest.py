"""The backends every end-to-end backend test runs on: each expectation (computed in the test,
independently of adlc) must hold for the numba kernel and for the numpy array program."""

from __future__ import annotations

import pytest

BACKENDS = ("numba", "numpy")


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param
