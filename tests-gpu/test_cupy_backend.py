"""The CuPy backend on a GPU: CutLang's conformance goldens (as tests/conformance runs them for
the CPU backends) and the numba backend's numbers. Counts are exact; weighted sums are added on
the device in another order than numba's loop, so they agree to a relative 1e-12.

Run: `pytest tests-gpu` (skipped without cupy or a CUDA device)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from adlc.runtime.conformance import compare_to_golden, result_to_golden_dict

SHARED = Path(os.environ.get("ADLC_SHARED", Path(__file__).resolve().parents[2] / "shared"))
CONFORMANCE = SHARED / "conformance"
GOLDENS = sorted(CONFORMANCE.glob("golden/*.json"))
# the CPU suite's exclusions (tests/conformance/test_goldens.py), for the same reasons
SKIP: set[str] = set()
SKIP_REGIONS = {"f21_sort": {"sorted": "CutLang's int-pivot quicksort (quirk 24)"}}
REL = 1e-12

pytestmark = pytest.mark.skipif(not GOLDENS, reason="../shared/conformance is not available")


def _case(path: Path):
    adl, inp = path.name[: -len(".json")].split(".", 1)
    marks = [pytest.mark.skip(reason="excluded in the CPU suite too")] if adl in SKIP else []
    return pytest.param(adl, inp, id=f"{adl}.{inp}", marks=marks)


@pytest.mark.parametrize(("adl", "inp"), [_case(p) for p in GOLDENS])
def test_golden_on_gpu(adl: str, inp: str) -> None:
    from adlc.driver import run_analysis

    golden = json.loads((CONFORMANCE / "golden" / f"{adl}.{inp}.json").read_text())
    result = run_analysis(CONFORMANCE / "adl" / f"{adl}.adl", [SHARED / "data" / f"{inp}.root"],
                          backend="cupy")
    diffs = compare_to_golden(result_to_golden_dict(result), golden,
                              skip_regions=SKIP_REGIONS.get(adl, {}))
    assert not diffs, "\n".join(diffs[:40])


@pytest.mark.parametrize("adl", sorted({p.name.split(".", 1)[0] for p in GOLDENS}))
def test_cupy_matches_numba(adl: str) -> None:
    from adlc.driver import run_analysis

    args = (CONFORMANCE / "adl" / f"{adl}.adl", [SHARED / "data" / "Run2012B_SingleMu_1000.root"])
    a = run_analysis(*args, backend="numba")
    b = run_analysis(*args, backend="cupy")
    for name, ra in a.regions.items():
        rb = b.regions[name]
        for ca, cb in zip([*ra.cutflow, *ra.bins], [*rb.cutflow, *rb.bins], strict=True):
            assert (ca.label, ca.raw) == (cb.label, cb.raw)
            np.testing.assert_allclose([cb.sumw, cb.sumw2], [ca.sumw, ca.sumw2], rtol=REL)
        for h in ra.histograms:
            va, vb = ra.histograms[h].view(flow=True), rb.histograms[h].view(flow=True)
            np.testing.assert_allclose(vb.value, va.value, rtol=REL, err_msg=f"{name}/{h}")
            np.testing.assert_allclose(vb.variance, va.variance, rtol=REL)
            assert ra.entries[h] == rb.entries[h]
    for ta, tb in zip(a.tables, b.tables, strict=True):
        np.testing.assert_array_equal(ta.rows, tb.rows)
