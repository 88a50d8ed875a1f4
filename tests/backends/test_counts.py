"""`countsformat` + `counts` (ADL.md §3.7): the external numbers become histograms
`<process>`, `<process>_up`, `<process>_down` in the region, added once per run whatever the
chunking. Expected numbers are worked out by hand here."""

from __future__ import annotations

import math
import os
import textwrap

import numpy as np
import pytest

pytest.importorskip("uproot")
pytest.importorskip("numba")

ADL = """\
countsformat results
  process estbg, "Total estimated BG", stat, syst
  process obsdata, "Observed data"

region SR
  select MET > 0
  counts results 120 +- 11 +- 15 , 118
  bin MET [] 0 50
  counts results 30.5 + 6.7 - 5.0 +- 5.1 , 29
  bin MET > 50
  counts results 0.1 , 3

region child
  SR
  select MET > 10
"""


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    from adlc.runtime.generate import generate

    os.environ["ADLC_CACHE_DIR"] = str(tmp_path_factory.getbasetemp() / "adlc-cache")
    d = tmp_path_factory.mktemp("counts")
    generate(str(d / "sample.root"), 1000, schema="nanoaod", seed=3)
    (d / "counts.adl").write_text(textwrap.dedent(ADL))
    return d


def f32(x: float) -> float:
    return float(np.float32(x))


EXPECTED = {
    "estbg": [120.0, 30.5, 0.1],
    "estbg_up": [math.sqrt(11 ** 2 + 15 ** 2), math.sqrt(6.7 ** 2 + 5.1 ** 2), 0.0],
    "estbg_down": [math.sqrt(11 ** 2 + 15 ** 2), math.sqrt(5.0 ** 2 + 5.1 ** 2), 0.0],
    "obsdata": [118.0, 29.0, 3.0],
    "obsdata_up": [0.0, 0.0, 0.0],
    "obsdata_down": [0.0, 0.0, 0.0],
}
TITLES = {"estbg": '"Total estimated BG"', "obsdata": '"Observed data"'}


@pytest.mark.parametrize(("chunk_size", "jobs"), [(200_000, 1), (97, 1), (250, 2)])
def test_counts_histograms_added_once(sample, chunk_size, jobs, backend):
    from adlc.driver import run_analysis

    result = run_analysis(sample / "counts.adl", [str(sample / "sample.root")],
                          schema="nanoaod", chunk_size=chunk_size, jobs=jobs,
                          backend=backend)
    for region in ("SR", "child"):  # an inheriting region repeats its parent's counts
        reg = result.regions[region]
        assert set(reg.histograms) == set(EXPECTED)
        for name, values in EXPECTED.items():
            h = reg.histograms[name]
            np.testing.assert_allclose(h.axes[0].edges, [0.5, 1.5, 2.5, 3.5])
            np.testing.assert_array_equal(h.values(flow=True),
                                          [0.0, *(f32(v) for v in values), 0.0])
            assert reg.entries[name] == 3
            assert reg.titles[name] == TITLES[name.split("_")[0]]
        # counts add no cutflow rows
        assert [c.label for c in reg.cutflow][:2] == ["all Events", "MET > 0"]
    assert len(result.regions["SR"].cutflow) == 2


def test_counts_in_the_ir():
    from adlc.frontend.parser import parse
    from adlc.ir.printer import print_program
    from adlc.semantic.lower import lower

    prog = lower(parse(textwrap.dedent(ADL), "counts.adl"))
    (sr, child) = prog.regions
    assert len(sr.fixed) == 6 and len(child.fixed) == 6
    assert prog.histograms[sr.fixed[0]].fixed == (120.0, 30.5, f32(0.1))
    assert "fixed #" in print_program(prog)


def test_counts_with_an_unknown_format_is_an_error():
    from adlc.errors import AdlSemanticError
    from adlc.frontend.parser import parse
    from adlc.semantic.lower import lower

    with pytest.raises(AdlSemanticError, match="unknown countsformat"):
        lower(parse("region SR\n  select ALL\n  counts nope 1 , 2\n", "x.adl"))
