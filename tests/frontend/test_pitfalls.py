"""`adlc check` warnings about CutLang pitfalls (W510-W514): every case gets the exact warning.

W510 overlapping bins, W511 an index read without a size guard, W512 a Union indexed as if
it were sorted by pT, W513 a slice whose meaning depends on the dialect, W514 an unknown
dialect directive. Each positive case is paired with negative ones: a warning that fires on
correct ADL is a bug too. See docs/design.md, "Warnings".
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from adlc.cli import main
from adlc.frontend.parser import parse
from adlc.semantic.check import check_analysis

JETS = "object jets\n  take Jet\n  select pT(Jet) > 30\n"
LEPS = "object leps : Union(ELE, MUO)\n"
BIN_HINT = ("CutLang counts an event only in the first bin it matches; make the bins disjoint "
            "(`<` on one side of a shared edge)")
COVER_HINT = ("a single-line `bin VAR e1 ... en` covers every value (with under- and overflow), "
              "so no later bin of the region gets an event; give it a region of its own")
SLICE_HINT = "state the dialect: add `# adlc: dialect=cutlang` (or `learn-adl`) at the top"


def _guard_hint(name: str, n: int) -> str:
    return f"add `select size({name}) >= {n}` before this line; out of range reads 0 (CutLang)"


def _union_hint(name: str) -> str:
    return f"add `sort pT({name}) descend` before this line, or index the parts"


def pitfalls(source: str) -> list[tuple]:
    """(code, message, line, column, end column, hint) of every W51x warning."""
    out = []
    for d in check_analysis(parse(source, "t.adl")):
        assert d.severity == "warning" or not d.code.startswith("W51")
        if d.code.startswith("W51"):
            out.append((d.code, d.message, d.span.line, d.span.column, d.span.end_column,
                        d.hint))
    return out


def errors(source: str) -> list:
    return [d for d in check_analysis(parse(source, "t.adl")) if d.severity == "error"]


# ------------------------------------------------------------------ W510: overlapping bins

def test_overlapping_named_bins():
    source = JETS + 'region r\n  bin "a" MET [] 10 40\n  bin "b" MET [] 20 30\n'
    assert pitfalls(source) == [
        ("W510", 'bin "b" overlaps bin "a" (line 5): an event with 20 <= MET <= 30 matches both '
                 "and is counted only in the first", 6, 11, 23, BIN_HINT)]


def test_overlapping_unnamed_bins_on_different_variables():
    source = JETS + "region r\n  bin MET > 40\n  bin size(jets) >= 2 and MET > 100\n"
    assert pitfalls(source) == [
        ("W510", "`bin size(jets) >= 2 AND MET > 100` overlaps `bin MET > 40` (line 5): an "
                 "event with MET > 100 and size(jets) >= 2 matches both and is counted only in "
                 "the first", 6, 7, 36, BIN_HINT)]


def test_a_count_on_a_shared_edge_overlaps():
    source = JETS + 'region r\n  bin "x" size(jets) [] 2 3\n  bin "y" size(jets) [] 3 4\n'
    assert pitfalls(source) == [
        ("W510", 'bin "y" overlaps bin "x" (line 5): an event with size(jets) == 3 matches both '
                 "and is counted only in the first", 6, 11, 28, BIN_HINT)]


def test_a_bin_after_a_single_line_bin_is_dead():
    source = 'region r\n  bin MET 20 40 80\n  bin "late" MET > 500\n'
    assert pitfalls(source) == [
        ("W510", 'bin "late" overlaps `bin MET 20 40 80` (line 2): an event with MET > 500 '
                 "matches both and is counted only in the first", 3, 14, 23, COVER_HINT)]


def test_a_dead_single_line_bin_is_reported_once():
    source = ('region r\n  bin size(ELE) 0 1\n  bin MET > 500\n  bin MET < 100\n')
    assert pitfalls(source) == [
        ("W510", "`bin MET > 500` overlaps `bin size(ELE) 0 1` (line 2): an event with "
                 "size(ELE) == 0 and MET > 500 matches both and is counted only in the first",
         3, 7, 16, COVER_HINT)]


def test_only_the_first_overlap_of_a_bin_is_reported():
    source = 'region r\n  bin MET > 10\n  bin MET > 20\n  bin MET > 30\n'
    assert [(w[0], w[2]) for w in pitfalls(source)] == [("W510", 3), ("W510", 4)]


def test_overlap_with_an_inherited_bin_is_reported_in_the_child():
    source = 'region p\n  bin "a" MET > 100\nregion c\n  p\n  bin "b" MET > 200\n'
    assert pitfalls(source) == [
        ("W510", 'bin "b" overlaps bin "a" (line 2): an event with MET > 200 matches both and '
                 "is counted only in the first", 5, 11, 20, BIN_HINT)]


@pytest.mark.parametrize("bins", [
    pytest.param('  bin "a" MET [] 10 40\n  bin "b" MET [] 40 80\n', id="shared-edge-continuous"),
    pytest.param("  bin MET < 40\n  bin MET >= 40\n", id="half-open-edges"),
    pytest.param("  bin size(jets) [] 2 3\n  bin size(jets) [] 4 5\n", id="disjoint-counts"),
    pytest.param("  bin size(jets) > 2\n  bin size(jets) == 2\n", id="count-strict"),
    pytest.param("  bin MET > 100 and HT < 200\n  bin MET > 100 and HT > 300\n", id="2d-disjoint"),
    pytest.param("  bin MET 20 40 80 150\n", id="single-line-form"),
    pytest.param("  bin MET > 40 or HT > 3\n  bin MET > 50\n", id="or-not-analysed"),
    pytest.param("  bin MET ][ 10 20\n  bin MET > 50\n", id="outside-range-not-analysed"),
    pytest.param("  bin MET != 3\n  bin MET > 50\n", id="not-equal-not-analysed"),
    pytest.param("  bin fX(MET) > 3\n  bin fX(MET) < 2\n", id="same-call-disjoint"),
    pytest.param("  select MET > 100\n  bin MET < 50\n  bin MET < 60\n", id="outside-the-cuts"),
    pytest.param("  bins MET 20 40\n  bin MET > 50\n", id="learn-adl-bins-not-analysed"),
])
def test_no_overlap_warning(bins: str):
    assert pitfalls(JETS + "region r\n" + bins) == []


def test_bins_compare_defines_by_value():
    source = JETS + "define nj = size(jets)\nregion r\n  bin nj >= 2\n  bin size(jets) == 3\n"
    assert pitfalls(source) == [
        ("W510", "`bin size(jets) == 3` overlaps `bin nj >= 2` (line 6): an event with "
                 "nj == 3 matches both and is counted only in the first", 7, 7, 22,
         BIN_HINT)]


# ------------------------------------------------------------------ W511: index without guard

def test_histogram_of_an_unguarded_index():
    source = JETS + 'region r\n  histo h, "t", 10, 0, 100, pT(jets[1])\n'
    assert pitfalls(source) == [
        ("W511", "`jets[1]` is read without a check that `jets` has at least 2 elements",
         5, 32, 39, _guard_hint("jets", 2))]


def test_an_index_through_a_define_is_reported_where_it_is_used():
    source = JETS + "define Z = jets[0] jets[1]\nregion r\n  select m(Z) > 10\n"
    assert pitfalls(source) == [
        ("W511", "`Z` reads `jets[1]` without a check that `jets` has at least 2 elements",
         6, 12, 13, _guard_hint("jets", 2))]


def test_a_guard_that_is_too_small_and_one_warning_per_index():
    source = JETS + ("region r\n  select size(jets) >= 2\n  select eta(jets[2]) < 1\n"
                     "  select eta(jets[2]) > -1\n  select eta(jets[1]) < 1\n")
    assert pitfalls(source) == [
        ("W511", "`jets[2]` is read without a check that `jets` has at least 3 elements",
         6, 14, 21, _guard_hint("jets", 3))]


def test_a_cut_on_an_index_that_passes_at_zero_is_no_guard():
    source = JETS + "region r\n  select abs(eta(jets[0])) < 2.4\n"
    assert pitfalls(source) == [
        ("W511", "`jets[0]` is read without a check that `jets` has at least 1 element",
         5, 18, 25, _guard_hint("jets", 1))]


def test_an_inherited_command_is_not_reported_again():
    source = JETS + ('region p\n  histo h, "t", 10, 0, 100, pT(jets[1])\n'
                     'region c\n  p\n  histo h2, "t", 10, 0, 100, eta(jets[1])\n')
    assert [(w[0], w[2]) for w in pitfalls(source)] == [("W511", 5)]


def test_a_raw_collection_is_reported_too():
    source = 'region r\n  histo h, "t", 10, 0, 100, pT(Jet[0])\n'
    assert pitfalls(source) == [
        ("W511", "`Jet[0]` is read without a check that `Jet` has at least 1 element",
         2, 32, 38, _guard_hint("Jet", 1))]


@pytest.mark.parametrize("region", [
    pytest.param("  select size(jets) >= 2\n  select eta(jets[1]) < 1\n", id="size-ge"),
    pytest.param("  select size(jets) > 1\n  select eta(jets[1]) < 1\n", id="size-gt"),
    pytest.param("  select size(jets) == 3\n  select eta(jets[2]) < 1\n", id="size-eq"),
    pytest.param("  select size(jets) [] 2 4\n  select eta(jets[1]) < 1\n", id="size-range"),
    pytest.param("  select size(jets) != 0\n  select eta(jets[0]) < 1\n", id="size-ne-zero"),
    pytest.param("  reject size(jets) < 2\n  select eta(jets[1]) < 1\n", id="reject"),
    pytest.param("  reject size(jets) == 0\n  select eta(jets[0]) < 1\n", id="reject-eq-zero"),
    pytest.param("  select size(jets) >= 2 and eta(jets[1]) < 1\n", id="same-command-and"),
    pytest.param("  select eta(jets[1]) < 1 and size(jets) >= 2\n", id="same-command-and-after"),
    pytest.param("  select size(jets) < 2 or eta(jets[1]) < 1\n", id="same-command-or"),
    pytest.param("  select size(jets) >= 2 ? eta(jets[1]) < 1 : ALL\n", id="ternary-then"),
    pytest.param("  select size(jets) < 2 ? ALL : eta(jets[1]) < 1\n", id="ternary-else"),
    pytest.param("  select pT(jets[1]) > 40\n  select eta(jets[1]) < 1\n", id="pt-cut-guards"),
    pytest.param("  select pT(jets[1]) > 40\n", id="pt-cut-guards-itself"),
    pytest.param("  select m(jets[0]) [] 60 100\n", id="mass-window-guards-itself"),
    pytest.param("  reject pT(jets[0]) < 30\n  select eta(jets[0]) < 1\n", id="reject-soft-jet"),
    pytest.param("  select nj >= 2\n  select eta(jets[1]) < 1\n", id="guard-through-define"),
    pytest.param("  select ptj1 > 40\n", id="zero-through-define"),
    pytest.param("  select sqrt(2 * pT(jets[0]) * MET * (1 - cos(phi(jets[0])))) > 50\n",
                 id="transverse-mass-is-zero-without-the-jet"),
    pytest.param("  select pT(jets[-1]) > 3\n", id="negative-placeholder"),
    pytest.param("  select eta(jets[i]) < 1\n", id="non-literal-index"),
    pytest.param("  select size(jets) + size(ELE) == 1\n  select eta(jets[0]) < 1\n",
                 id="sum-of-sizes-not-analysed"),
    pytest.param("  select size(jets) == 2 or size(ELE) == 2\n"
                 "  select size(ELE) == 2 ? ALL : eta(jets[1]) < 1\n", id="case-split-not-followed"),
    pytest.param("  bin eta(jets[5]) > 1\n  select size(jets) >= 6\n", id="bins-after-all-cuts"),
    pytest.param("  select OME(\"m.onnx\", {pT(jets[0]) pT(jets[3])}) > 0.5\n",
                 id="onnx-inputs-are-zero-padded"),
    pytest.param("  select size(goodJets) >= 2\n  select eta(jets[1]) < 1\n",
                 id="a-filtered-object-guards-its-source"),
    pytest.param("  select size(mj) >= 0\n  select eta(mj[1]) < 1\n",
                 id="object-made-by-a-function"),
    pytest.param("  select METLV[0] > 0\n", id="met-four-vector"),
])
def test_no_index_warning(region: str):
    source = (JETS + "object goodJets\n  take jets\n  select pT(jets) > 50\n"
              "object mj\n  take fmegajets(jets)\n"
              "define nj = size(jets)\ndefine ptj1 = pT(jets[0]) / 1000\nregion r\n" + region)
    assert [w for w in pitfalls(source) if w[0] == "W511"] == []


def test_object_commands_are_not_checked():
    source = "object jets\n  take Jet\n  select dR(Jet, MUO[0]) > 0.4\n"
    assert pitfalls(source) == []


def test_a_guard_in_the_parent_region_counts():
    source = JETS + "region p\n  select size(jets) >= 2\nregion c\n  p\n  select eta(jets[1]) < 1\n"
    assert pitfalls(source) == []


def test_a_histolist_is_checked_where_it_is_pasted():
    source = JETS + ('histoList plots\n  histo h, "t", 10, 0, 100, eta(jets[0])\n'
                     "region r\n  select size(jets) >= 1\n  plots\n"
                     "region s\n  plots\n")
    assert pitfalls(source) == [
        ("W511", "`jets[0]` is read without a check that `jets` has at least 1 element",
         5, 33, 40, _guard_hint("jets", 1))]


# ------------------------------------------------------------------ W512: Union indexed

def test_union_indexed_before_a_sort():
    source = LEPS + ("region r\n  select size(leps) >= 2\n  select pT(leps[0]) > 20\n"
                     "  sort pT(leps) descend\n  select pT(leps[1]) > 10\n")
    assert pitfalls(source) == [
        ("W512", "`leps` is a Union: its elements are not sorted by pT (first argument first)",
         4, 13, 20, _union_hint("leps"))]


def test_union_through_a_define_and_a_filtered_union():
    source = (LEPS + "object good\n  take leps\n  select pT(leps) > 10\n"
              "define ll = good[0] good[1]\nregion r\n  select size(good) >= 2\n"
              "  select m(ll) > 12\n")
    assert pitfalls(source) == [
        ("W512", "`good` is a Union: its elements are not sorted by pT (first argument first)",
         8, 12, 14, _union_hint("good"))]


def test_union_of_several_takes():
    source = "object leps\n  take ELE\n  take MUO\nregion r\n  select q(leps[0]) == 1\n"
    assert [w[:4] for w in pitfalls(source) if w[0] == "W512"] == [
        ("W512", "`leps` is a Union: its elements are not sorted by pT (first argument first)",
         5, 12)]


@pytest.mark.parametrize("region", [
    pytest.param("  sort pT(leps) descend\n  select pT(leps[0]) > 20\n", id="sorted"),
    pytest.param("  sort m(leps) ascend\n  select pT(leps[0]) > 20\n", id="sorted-by-another-key"),
    pytest.param("  select size(leps) == 1\n  select pT(leps[0]) > 20\n", id="one-element"),
    pytest.param("  select size(ELE) == 0\n  select pT(leps[0]) > 20\n", id="one-part-empty"),
    pytest.param("  select size(leps) >= 1\n", id="not-indexed"),
    pytest.param("  select m(leps[-1] leps[-2]) ~= 91\n", id="placeholders"),
    pytest.param("  select size(ELE) == 1 or size(MUO) == 1\n  select pT(leps[0]) > 20\n",
                 id="case-split-not-followed"),
])
def test_no_union_warning(region: str):
    assert pitfalls(LEPS + "region r\n" + region) == []


# ------------------------------------------------------------------ W513/W514: dialects

def test_slices_without_a_directive():
    source = JETS + "define n = 3\ndefine a = sum(pT(jets[0:2]))\ndefine b = sum(pT(jets[:n]))\n"
    assert pitfalls(source) == [
        ("W513", "`jets[0:2]` is inclusive in CutLang (0..2), half-open in learn-adl (0..1); "
                 "this file is read as CutLang", 5, 19, 28, SLICE_HINT),
        ("W513", "`jets[:n]` is inclusive in CutLang (0..n), half-open in learn-adl (0..n-1); "
                 "this file is read as CutLang", 6, 19, 27, SLICE_HINT)]


def test_an_open_ended_slice_means_the_same_in_both_dialects():
    assert pitfalls(JETS + "define c = sum(pT(jets[1:]))\n") == []


@pytest.mark.parametrize("directive", ["# adlc: dialect=cutlang", "# adlc: dialect=learn-adl",
                                       "#adlc:dialect=LEARN-ADL"])
def test_a_stated_dialect_silences_the_slice_warning(directive: str):
    assert pitfalls(directive + "\n" + JETS + "define a = sum(pT(jets[0:2]))\n") == []


def test_unknown_dialect():
    source = "# adlc: dialect=lhada\n" + JETS + "define a = sum(pT(jets[0:2]))\n"
    assert pitfalls(source) == [
        ("W514", "unknown dialect `lhada` (adlc knows `cutlang` and `learn-adl`)", 1, 17, 22,
         "write `# adlc: dialect=cutlang` or `# adlc: dialect=learn-adl`; as it is, slices in "
         "this file are read half-open")]


# ------------------------------------------------------------------ the command line

def test_warnings_alone_exit_0_and_show_in_json(tmp_path: Path):
    path = tmp_path / "w.adl"
    path.write_text(JETS + 'region r\n  histo h, "t", 10, 0, 100, pT(jets[1])\n'
                    "  bin MET > 1\n  bin MET > 2\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--format", "json", str(path)])
    assert result.exit_code == 0
    (record,) = json.loads(result.output)
    codes = [(d["code"], d["severity"], d["line"]) for d in record["diagnostics"]]
    assert codes == [("W511", "warning", 5), ("W510", "warning", 7)]


def test_pitfall_warnings_are_not_errors():
    source = LEPS + JETS + "region r\n  bin MET > 1\n  bin MET > 2\n  select pT(leps[0]) > 1\n"
    assert errors(source) == []
    assert {w[0] for w in pitfalls(source)} == {"W510", "W512"}
