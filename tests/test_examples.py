"""Every example analysis runs end to end on a generated sample of each input format, and a
collection that is only counted (`size(leptons)`) counts right (a regression: its copy loop was
generated with an empty body)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("numba")
uproot = pytest.importorskip("uproot")

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").rglob("*.adl"))


@pytest.fixture(scope="module", params=["nanoaod", "run2012"])
def sample(request, tmp_path_factory) -> Path:
    from adlc.runtime.generate import generate

    path = tmp_path_factory.mktemp(request.param) / "sample.root"
    generate(path, 2000, schema=request.param, seed=5)
    return path


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs(example: Path, sample: Path) -> None:
    from adlc.driver import run_analysis

    result = run_analysis(example, [sample])
    for region in result.regions.values():
        assert region.cutflow[0].label == "all Events"
        assert region.cutflow[0].raw == 2000


def test_counted_only_collections(sample: Path, tmp_path: Path) -> None:
    from adlc.driver import run_analysis

    adl = tmp_path / "count.adl"
    adl.write_text("object leptons : Union(ELE, MUO)\n\n"
                   "region r\n  select size(leptons) >= 2\n  select size(MUO) >= 1\n")
    result = run_analysis(adl, [sample])
    events = uproot.open(sample)["Events"].arrays(["nElectron", "nMuon"], library="np")
    n_lep = events["nElectron"].astype(int) + events["nMuon"].astype(int)
    expected = [int(np.sum(n_lep >= 2)), int(np.sum((n_lep >= 2) & (events["nMuon"] >= 1)))]
    assert [c.raw for c in result.regions["r"].cutflow[1:]] == expected
