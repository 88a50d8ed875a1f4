"""Error messages for mistakes and unsupported forms found in the public ADL corpus
(docs/corpus.md, "Notes on adlc's messages"): each names the real problem, at its position,
once, with a hint, and without follow-on errors caused by it. The inputs are small files
written here in the corpus files' style, not copies of them."""

from __future__ import annotations

import textwrap

import pytest

from adlc.driver import compile_analysis, lower_file
from adlc.errors import AdlError, Diagnostic


def _write(tmp_path, text: str):
    path = tmp_path / "t.adl"
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def diagnostics(tmp_path, text: str) -> list[Diagnostic]:
    """The errors `lower_file` (what `adlc run` does first) reports for `text`."""
    with pytest.raises(AdlError) as info:
        lower_file(_write(tmp_path, text))
    return [d for d in info.value.diagnostics if d.severity == "error"]


def codes(diags: list[Diagnostic]) -> list[tuple[str, int, int]]:
    return [(d.code, d.span.line, d.span.column) for d in diags]


# --- 1. `{ ... }` lists that are not OME's input (runs/ex8.adl) ----------------------------------

EX8 = """
    region test
      select Size(MUO) >= 2
      select min(dPhi({MUO_0, MUO_1}, {JET_0}) ) > 0.2
    """


def test_brace_list_with_commas_is_not_called_ome_input(tmp_path):
    first, second = diags = diagnostics(tmp_path, EX8)
    # one error per list (the caret from `{` to `}`), no follow-on E232 from min()
    assert codes(diags) == [("E237", 3, 19), ("E237", 3, 35)]
    assert (first.span.end_column, second.span.end_column) == (33, 42)
    assert first.message == "a `{ ... }` list with commas is not a particle sum"
    assert "`MUO_0 MUO_1`" in first.hint and "{ MUO_0 MUO_1 }m" in first.hint
    assert second.message == "braces around a particle make a `{ ... }` list, not a value"
    assert "write `JET_0` without the braces" in second.hint
    for d in diags:
        assert "OME" not in d.message and "OME" not in (d.hint or "")


@pytest.mark.parametrize("value, message, hint", [
    ("{ ELE_0 ELE_1 }", "braces around particles make a `{ ... }` list, not a value",
     "write `ELE_0 ELE_1` without the braces"),
    ("{ MET 1 2 }", "a `{ ... }` list of values is not a value itself",
     "CutLang reads a list with numbers in it only as the input of OME"),
])
def test_other_brace_lists_where_a_value_is_expected(tmp_path, value, message, hint):
    (d,) = diagnostics(tmp_path, f"region r\n  select size(ELE) >= 2\n  select m({value}) > 3\n")
    assert (d.code, d.span.line, d.span.column, d.message) == ("E237", 3, 12, message)
    assert d.hint.startswith(hint)


def test_brace_list_given_to_ome_is_still_called_ome_input(tmp_path):
    diags = diagnostics(tmp_path, """
        define NNin = { MET, size(JET) }
        define NNout = OME("m.onnx", NNin)
        region r
          select NNout > 0.5
        """)
    assert codes(diags) == [("E291", 1, 15), ("E291", 2, 16)]
    assert "input of OME" in diags[0].message


def test_brace_list_rendered_with_source_line_and_caret(tmp_path):
    with pytest.raises(AdlError) as info:
        lower_file(_write(tmp_path, EX8))
    text = info.value.render()
    assert "t.adl:3:19: error: a `{ ... }` list with commas is not a particle sum [E237]" in text
    assert "\n                      ^^^^^^^^^^^^^^\n" in text


# --- 2. jet constituents / daughters: the E233 alone (runs/exCon.adl, runs/LLP.adl) -------------

@pytest.mark.parametrize("take, line", [
    ("JET", "select q(JET constituents ) == 0"),
    ("JET", "select Sum(pT(JET constituents ) ) < 40"),
    ("JET", "select anyof(pt(JET constituents)) > 20"),
    ("GEN", "select pT(GEN daughters) > 1"),
    ("GEN", "select abs(d0(GEN daughters)) > 2"),
    ("GEN", "select daughters( GEN ) > 1"),
])
def test_constituents_report_only_e233(tmp_path, take, line):
    diags = diagnostics(tmp_path, f"object cands : {take}\n  {line}\n"
                                  "region r\n  select size(cands) >= 1\n")
    word = "constituents" if take == "JET" else "daughters"
    assert codes(diags) == [("E233", 2, 3 + line.index(word))]
    assert "is not supported" in diags[0].message


def test_each_constituents_line_is_reported_once(tmp_path):
    diags = diagnostics(tmp_path, """
        object goodJet using JET
          select q(JET constituents ) == 0
          select pT( JET ) > 50
          select Sum(pT(JET constituents ) ) < 40
        region r
          select size(goodJet) >= 1
        """)
    assert codes(diags) == [("E233", 2, 16), ("E233", 4, 21)]


def test_an_error_elsewhere_on_the_line_is_still_reported(tmp_path):
    # only the errors caused by the E233 go; a wrong type beside it is its own mistake
    diags = diagnostics(tmp_path, """
        object cands : GEN
          select pT(GEN daughters) > 1 and GEN[0] > 2
        region r
          select size(cands) >= 1
        """)
    assert [d.code for d in diags] == ["E233", "E230"]


# --- 3. a collection the input format lacks (runs/exTrack.adl with NanoAOD) ---------------------

TRACKS = """
    obj goodTRK : TRK
      select            Pt(TRK)   >   5
      select       abs(Eta(TRK))  <   2
    region TRTeTracks
      select Size(TRK    ) > 0
      select Size(goodTRK) > 0
    """


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_missing_collection_reported_once_where_the_file_writes_it(tmp_path, backend):
    with pytest.raises(AdlError) as info:
        compile_analysis(_write(tmp_path, TRACKS), schema="nanoaod", backend=backend)
    (d,) = info.value.diagnostics
    assert (d.code, d.span.line, d.span.column, d.span.end_column) == ("E300", 1, 15, 18)
    assert d.message == "the input format 'nanoaod' has no collection `TRK` (Track)"
    assert d.hint.startswith("no input format of adlc has Track")
    assert "ELE, FJET, GEN, JET, MUO, PHO, TAU" in d.hint
    text = info.value.render()
    assert text.count("[E300]") == 1
    assert "t.adl:1:15: error:" in text
    assert "\n    obj goodTRK : TRK\n                  ^^^\n" in text


def test_missing_collection_hint_names_the_formats_that_have_it(tmp_path):
    path = _write(tmp_path, """
        object taus : TAU
          select pT(TAU) > 20
        region r
          select size(taus) >= 1
        """)
    with pytest.raises(AdlError) as info:
        compile_analysis(path, schema="delphes", backend="numpy")
    (d,) = info.value.diagnostics
    assert d.message == "the input format 'delphes' has no collection `TAU` (Tau)"
    assert d.hint.startswith("the nanoaod and run2012 formats have Tau: choose it with "
                             "--format nanoaod")


# --- 4. `select NAME` naming a region that does not exist (CMS-SUS-16-041_Delphes.adl) ----------

REGIONS = """
    object electrons
      take Electron
    region baseline
      select size(electrons) >= 1
    region onZ
      select preselection
      select MET > 50
    region offZ
      select baselin
    """


def test_undefined_region_in_select_is_called_a_region(tmp_path):
    first, second = diags = diagnostics(tmp_path, REGIONS)
    assert codes(diags) == [("E409", 6, 10), ("E409", 9, 10)]
    assert first.message == ("undefined name `preselection`: `select preselection` would "
                             "inherit a region `preselection`, and there is none (nor an "
                             "object or define of that name)")
    # no "did you mean `electrons`?": the regions are listed, and how one is inherited
    assert first.hint == ("the regions defined above are `baseline`; to inherit a region, "
                          "write its name alone on a line of a later region (`select NAME` "
                          "also works)")
    assert second.hint.startswith("did you mean `baseline`? the regions defined above are "
                                  "`baseline`, `onZ`;")


def test_region_used_as_a_value_is_still_e408(tmp_path):
    diags = diagnostics(tmp_path, """
        region baseline
          select MET > 50
        region onZ
          select baseline and MET > 100
        """)
    assert [d.code for d in diags] == ["E408"]
    assert "alone on a line" in diags[0].hint


def test_undefined_name_in_an_expression_keeps_the_generic_message(tmp_path):
    diags = diagnostics(tmp_path, """
        define dphimin2j = 1
        region r
          select dphimin2 > 0.4
        """)
    assert codes(diags) == [("E409", 3, 10)]
    assert diags[0].message == "undefined name `dphimin2`"
    assert diags[0].hint == "did you mean `dphimin2j`?"


# --- 5. a command keyword inside an expression (runs/save_ex4.adl) -----------------------------

def test_select_inside_an_expression_is_the_error_reported(tmp_path):
    diags = diagnostics(tmp_path, """
        region test
          select Size(ELE) >= 2
          select min({mass ELE[0],mass ELE[1]},select (1 + 1) != (23 - 10))
        """)
    # the `select` is the mistake: not `mass` (E409), not an unknown function `select`
    (d,) = diags
    assert (d.code, d.span.line, d.span.column, d.span.end_column) == ("E415", 3, 40, 46)
    assert d.message == ("`select` inside an expression: `select` starts a command line, it "
                         "is not a function")
    assert "a `select` line of its own" in d.hint


def test_attribute_name_used_alone_hints_at_the_function_form(tmp_path):
    (d,) = diagnostics(tmp_path, """
        region test
          select Size(ELE) >= 2
          select min(mass ELE[0], 3) > 1
        """)
    assert (d.code, d.message) == ("E409", "undefined name `mass`")
    assert d.hint == "`mass` is the attribute m of a particle: write m(x) (or x.m)"


def test_constituents_in_a_region_reach_the_e233(tmp_path):
    diags = diagnostics(tmp_path, "region r\n  select pT(JET constituents) > 5\n")
    assert codes(diags) == [("E233", 2, 17)]


# --- 6. E310: which pair of edges does not increase -------------------------------------------

@pytest.mark.parametrize("line, message, column, end", [
    ("  bin MET 300 800 100 400",
     "bin edges must increase, but 800 is followed by 100 (edges 2 and 3)", 15, 22),
    ("  bins HT 300 500 500",
     "bin edges must increase, but 500 is followed by 500 (edges 2 and 3)", 15, 22),
    ('  histo h1, "t", 0 100 50 200, MET',
     "histogram `h1`: bin edges must increase, but 100 is followed by 50 (edges 2 and 3)",
     20, 26),
])
def test_decreasing_edges_name_the_pair(tmp_path, line, message, column, end):
    (d,) = diagnostics(tmp_path, f"region r\n  select ALL\n{line}\n")
    assert (d.code, d.message) == ("E310", message)
    assert (d.span.line, d.span.column, d.span.end_column) == (3, column, end)
    assert d.hint.startswith("write the edges from low to high, each once: ")


def test_decreasing_edges_caret_under_the_pair(tmp_path):
    with pytest.raises(AdlError) as info:
        lower_file(_write(tmp_path, "region r\n  bin MET 300 800 100 400\n"))
    assert "\n      bin MET 300 800 100 400\n                  ^^^^^^^\n" in info.value.render()


# --- 7. E308: lo >= hi is ROOT's automatic binning in CutLang (runs/Le6-hi.adl) ------------------

def test_empty_range_hints_at_roots_automatic_binning(tmp_path):
    (d,) = diagnostics(tmp_path, """
        object goodELE : ELE
          select pT(ELE) > 10
        region r
          select size(goodELE) >= 1
          histo eeta0 , "e_eta ", 50, 0, 0, { goodELE_0 }Eta
        """)
    assert d.code == "E308"
    assert d.message == "histogram `eeta0`: the low edge 0 is not below the high edge 0"
    assert (d.span.line, d.span.column, d.span.end_column) == (5, 31, 35)  # `0, 0`
    assert "automatic binning" in d.hint and "low < high" in d.hint
