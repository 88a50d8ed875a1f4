"""GPU tests: skipped unless CuPy is installed and reaches a CUDA device."""

from __future__ import annotations

import pytest


def _gpu_reason() -> str | None:
    try:
        import cupy
    except ImportError:
        return "cupy is not installed (pip install cupy-cuda12x)"
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return "no CUDA device"
        cupy.zeros(1).sum().item()  # a kernel really runs
    except Exception as exc:  # noqa: BLE001 - any driver/runtime failure means no GPU here
        return f"cupy cannot use a GPU: {exc}"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _gpu_reason()
    if reason is not None:
        for item in items:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(autouse=True)
def _kernel_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ADLC_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "adlc-cache"))
