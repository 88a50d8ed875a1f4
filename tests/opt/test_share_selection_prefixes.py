"""Shared selection prefixes: which regions share, and the numba kernel's use of it."""

from __future__ import annotations

import numpy as np
import pytest

from adlc.frontend.parser import parse
from adlc.opt import OptContext, SharedPrefixRegion, optimise
from adlc.opt.share_selection_prefixes import share_selection_prefixes
from adlc.semantic.lower import lower

SRC = """\
object jets
  take Jet
  select pT(Jet) > 30

region pre
  select ALL
  select MET > 31.5
  histo hmet, "MET", 20, 0, 200, MET
  select size(jets) >= 1

region child
  pre
  weight half 0.5
  select size(jets) >= 2

region grandchild
  child
  select pT(jets[1]) > 50

region repeated
  select ALL
  select MET > 31.5
  select pT(jets[0]) > 60

region other
  select ALL
  select size(jets) >= 3
"""


def _marks(src: str) -> dict[str, tuple[int, int]]:
    prog = share_selection_prefixes(lower(parse(src, "t.adl"), src), OptContext())
    return {r.name: (r.prefix_source, r.prefix_gates) for r in prog.regions
            if isinstance(r, SharedPrefixRegion)}


def test_inheriting_and_repeating_regions_share_their_common_first_cuts():
    # gates (cuts and weights) of pre: ALL, MET, size>=1; child: those, half, size>=2
    assert _marks(SRC) == {"child": (0, 3), "grandchild": (1, 5), "repeated": (0, 2)}


def test_a_common_prefix_of_constant_cuts_only_is_not_shared():
    assert "other" not in _marks(SRC)  # only `select ALL` in common


def test_a_placeholder_search_ends_the_shared_prefix():
    src = """\
region z
  select size(Muon) >= 2
  select m(Muon[-1] Muon[-2]) ~= 91.2
  select pT(Muon[-1]) > 20

region zchild
  z
  select MET > 20
"""
    assert _marks(src) == {"zchild": (0, 1)}


@pytest.fixture(scope="module")
def expected(nano_file):
    """The cutflows of SRC computed with awkward, independently of adlc."""
    ak = pytest.importorskip("awkward")
    uproot = pytest.importorskip("uproot")
    with uproot.open(nano_file) as f:
        ev = f["Events"].arrays(["Jet_pt", "MET_pt", "MET_phi"])
    met = np.hypot(ev.MET_pt * np.cos(ev.MET_phi.to_numpy().astype(np.float64)),
                   ev.MET_pt * np.sin(ev.MET_phi.to_numpy().astype(np.float64)))
    jets = ev.Jet_pt[ev.Jet_pt > 30]
    n = ak.to_numpy(ak.num(jets))
    lead = ak.to_numpy(ak.fill_none(ak.pad_none(jets, 2)[:, 0], 0.0))
    sub = ak.to_numpy(ak.fill_none(ak.pad_none(jets, 2)[:, 1], 0.0))
    total = len(n)
    m = np.asarray(met) > 31.5
    pre = [total, total, m.sum(), m.sum(), (m & (n >= 1)).sum()]
    child = pre + [0.5 * pre[-1], 0.5 * (m & (n >= 2)).sum()]
    grand = child + [0.5 * (m & (n >= 2) & (sub > 50)).sum()]
    repeated = [total, total, m.sum(), (m & (lead > 60)).sum()]
    return {"pre": pre, "child": child, "grandchild": grand, "repeated": repeated}


@pytest.mark.parametrize("opt", [True, False])
def test_the_kernel_gives_the_independently_computed_cutflows(nano_file, tmp_path, expected,
                                                              opt):
    from adlc.driver import run_analysis

    adl = tmp_path / "t.adl"
    adl.write_text(SRC)
    result = run_analysis(adl, [str(nano_file)], optimise=opt)
    for name, rows in expected.items():
        got = [c.sumw for c in result.regions[name].cutflow]
        assert got == pytest.approx(rows, abs=0), name


def test_the_kernel_evaluates_a_shared_cut_once(tmp_path):
    from adlc.driver import compile_analysis

    adl = tmp_path / "t.adl"
    adl.write_text(SRC)
    _, plain = compile_analysis(adl, optimise=False)
    _, shared = compile_analysis(adl, optimise=True)
    # MET > 31.5 is written in pre, inherited by child and grandchild, repeated in repeated
    assert plain.source.count("> 31.5") == 4
    assert shared.source.count("> 31.5") == 1
    assert plain.layout.regions == shared.layout.regions


def test_the_optimised_ir_names_the_source_region(tmp_path):
    from adlc.ir.printer import print_program

    prog = optimise(lower(parse(SRC, "t.adl"), SRC), verify=True)
    text = print_program(prog)
    assert "region grandchild    # first 5 cuts/weights shared with region child" in text
