"""`adlc check` reports what lowering to the IR rejects, so a file it passes does not fail in
`adlc run` before any data is read; OME (ONNX) gets its own error and hint."""

from __future__ import annotations

from adlc.semantic.check import check_file

OME = """define NNin = { MET }
define NNout = OME("model.onnx", NNin)
region r
  select NNout > 0.5
"""


def _check(tmp_path, text: str):
    file = tmp_path / "a.adl"
    file.write_text(text)
    diagnostics, _ = check_file(str(file))
    return [(d.code, d.span.line, d.span.column) for d in diagnostics if d.severity == "error"]


def test_check_reports_ome_and_its_variable_list(tmp_path):
    assert _check(tmp_path, OME) == [("E291", 1, 15), ("E291", 2, 16)]  # 15: the `{`


def test_check_reports_lowering_errors(tmp_path):
    # a region cut over a slice is rejected by lowering (E220), not by the name checks
    text = ("object jets\n  take Jet\nregion r\n  select size(jets) >= 2\n"
            "  select dR(jets[0:1], METLV[0]) > 0.3\n")
    assert [code for code, *_ in _check(tmp_path, text)] == ["E220"]


def test_check_passes_a_good_file(tmp_path):
    assert _check(tmp_path, "object jets\n  take Jet\nregion r\n  select size(jets) >= 2\n") == []


OBJECT_TERNARY = """object jets
  take Jet
  select abs(eta(Jet)) < 2.0 ? pT(Jet) > 25 : pT(Jet) > 40
"""


def test_object_ternary_warns_about_cutlangs_sum(tmp_path):
    file = tmp_path / "t.adl"
    file.write_text(OBJECT_TERNARY)
    diagnostics, _ = check_file(str(file))
    (w,) = diagnostics
    assert (w.code, w.severity, w.span.line, w.span.column) == ("W516", "warning", 3, 32)
    assert "sum of pT over all of `Jet`" in w.message
    # learn-adl reads the ternary per candidate: nothing to warn about
    file.write_text("# adlc: dialect=learn-adl\n" + OBJECT_TERNARY)
    assert check_file(str(file))[0] == []
