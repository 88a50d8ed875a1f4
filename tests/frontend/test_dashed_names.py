"""CutLang accepts dashes in region and histogram names (`algo FTFT-resolved`, a public
analysis); elsewhere `a-b` stays a subtraction."""

from __future__ import annotations

from adlc.frontend import ast as A
from adlc.frontend.parser import parse
from adlc.frontend.printer import format_analysis

SOURCE = """\
object jets
  take Jet
region FTFT-resolved
  select size(jets) > 1
  histo h-abc1, "t", 10, 0, 10, size(jets)
region b-c
  FTFT-resolved
  select MET-5 > 0
"""


def test_dashed_region_histogram_and_inheritance_names():
    tree = parse(SOURCE, "t.adl")
    regions = [i for i in tree.items if isinstance(i, A.Region)]
    assert [r.name for r in regions] == ["FTFT-resolved", "b-c"]
    assert regions[0].commands[1].name == "h-abc1"
    assert isinstance(regions[1].commands[0], A.Use)
    assert regions[1].commands[0].name == "FTFT-resolved"
    cut = regions[1].commands[1].cond
    assert isinstance(cut.left, A.Binary) and cut.left.op == "-"  # still MET minus 5


def test_dashed_names_round_trip():
    tree = parse(SOURCE, "t.adl")
    assert parse(format_analysis(tree), "t.adl") == tree
