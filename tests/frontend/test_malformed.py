"""Malformed ADL: every input gets the exact diagnostic (code, message, line, column, hint).

Each case is written to a file and checked with `adlc.semantic.check.check_file`, the function
behind `adlc check`. Cases marked `xfail` describe the RIGHT diagnostic for a known bug (see the
reason); for those, `match="contains"` lets the fix choose its own wording around the key part.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from adlc.cli import main
from adlc.errors import Span
from adlc.frontend import ast as A
from adlc.semantic.check import check_analysis, check_file

ANY = object()  # "not checked"


@dataclass(frozen=True)
class D:
    """One expected diagnostic."""

    code: str
    message: str
    line: int | None
    column: int | None
    hint: object = ANY


@dataclass(frozen=True)
class Case:
    id: str
    source: str | bytes
    expected: tuple[D, ...]
    xfail: str | None = None
    match: str = "exact"  # or "contains" (message and hint are substrings)
    marks: tuple = field(default=())


def case(id: str, source: str | bytes, *expected: D, xfail: str | None = None,
         match: str = "exact") -> Case:
    return Case(id, source, expected, xfail, match)


BLOCK_HINT = "commands belong inside an `object`, `region` (or `table`, `info`...) block"
REGION_KW_HINT = ("a region line starts with `select`, `reject`, `histo`, ...; "
                  "is a keyword missing?")
MINUS_HINT = "write a space after a minus sign: `x - 3`"

CASES = [
    # ------------------------------------------------------------ syntax: brackets, operators
    case("unclosed-paren-define", "define a = sqrt(MET\n",
         D("E103", "this line ends too early: expected `,`, `}`, `)`", 1, 17,
           "a `(` is not closed")),
    case("unclosed-paren-select", "region r\n  select (MET > 3\n",
         D("E103", "this line ends too early: expected `)`", 2, 17, "a `(` is not closed")),
    case("unclosed-paren-swallows-next-command",
         "region r\n  select (MET > 3\n  select MET > 2\n",
         D("E103", "this line ends too early: expected `)`", 2, 17, "a `(` is not closed")),
    case("unclosed-bracket", "define a = pT(Jet[0)\n",
         D("E104", "unexpected `)`: expected `:`, `]`", 1, 20, None)),
    case("extra-paren", "define a = pT(Jet[0]))\n",
         D("E104", "unexpected `)`: expected the end of the line", 1, 22,
           "there is one `)` too many")),
    case("trailing-operator", "define a = MET +\n",
         D("E103", 'this line ends too early: expected an expression, a "string"', 1, 16, None)),
    case("trailing-operator-before-command", "region r\n  select MET +\n  select ALL\n",
         D("E103", "this line ends too early", 2, None),
         match="contains"),
    case("double-operator", "region r\n  select MET > > 1\n",
         D("E104", 'unexpected `>`: expected an expression, a "string"', 2, 16, None)),
    case("assign-instead-of-compare", "region r\n  select MET = 3\n",
         D("E104", "unexpected `=`", 2, 14, "compare with `==`"),
         match="contains"),
    case("glued-minus-after-space", "region r\n  select MET -3 > 0\n",
         D("E104", "unexpected number `-3`", 2, 14, MINUS_HINT),
         match="contains"),
    case("garbage-dollar", "define a = MET $ 3\n",
         D("E104", "unexpected `$`: expected an operator, an expression, `:`, `,`, `}`, `)`, ...",
           1, 16, None)),
    case("garbage-at-sign", "region r\n  select @MET > 3\n",
         D("E104", 'unexpected `@MET`: expected an expression, a "string"', 2, 10, None)),
    case("semicolon", "define a = 1;\n",
         D("E104", "unexpected `;`: expected an operator, an expression, `:`, `,`, `}`, `)`, ...",
           1, 13, None)),
    case("unclosed-string", 'region r\n  histo h1, "MET, 10, 0, 100, MET\n',
         D("E104", "unexpected `\"MET,`", 2, 13, "not closed"),
         match="contains"),
    case("define-without-name", "define = 3\n",
         D("E104", "unexpected `=`: expected a name", 1, 8, None)),
    case("select-without-condition", "region r\n  select\n",
         D("E103", 'this line ends too early: expected an expression, a "string"', 2, 3, None)),
    case("weight-without-value", "region r\n  weight w\n",
         D("E103", 'this line ends too early: expected an expression, a "string"', 2, 10, None)),
    case("sort-without-order", "region r\n  sort pT(Jet)\n",
         D("E103", "`ascend` or `descend`", 2, None),
         match="contains"),
    case("systematic-too-short", 'systematic on "a"\n',
         D("E103", 'this line ends too early: expected a "string"', 1, 15, None)),
    case("counts-not-a-number",
         'countsformat res\n  process a, "A"\nregion r\n  select ALL\n  counts res abc\n',
         D("E104", "unexpected name `abc`: expected a number", 5, 14, None)),
    case("process-missing-comma", 'countsformat res\n  process a "A"\n',
         D("E104", 'unexpected `"A"`: expected `,`', 2, 13, None)),
    case("binary-garbage", b"\x00\x01\x02\xff\xfe object\n",
         D("E101", "the file contains bytes that are not text", 1, 1,
           "is this an ADL file? It must be UTF-8 text")),
    # ------------------------------------------------------------ lines in the wrong place
    case("unknown-keyword-in-region", "region r\n  selec MET > 3\n",
         D("E207", "unexpected text after `selec`", 2, 3, REGION_KW_HINT)),
    case("unknown-keyword-in-object", "object o\n  take Jet\n  slect pT(Jet) > 3\n",
         D("E207", "unexpected text after `slect`", 3, 3,
           "an object line starts with `select`, `reject`, `histo`, ...; is a keyword missing?")),
    case("info-key-in-region", 'region r\n  title "x"\n',
         D("E207", "unexpected text after `title`", 2, 3, REGION_KW_HINT)),
    case("select-outside-block", "select MET > 3\n",
         D("E202", "`select` outside any block", 1, 1, BLOCK_HINT)),
    case("take-outside-block", "take Jet\n",
         D("E202", "`take` outside any block", 1, 1, BLOCK_HINT)),
    case("numbers-outside-block", "1 2 3\n",
         D("E202", "a line of numbers outside any block", 1, 1, BLOCK_HINT)),
    case("take-in-table", "table t\n  nvars 1\n  take Jet\n  1 0 10\n",
         D("E204", "`take` does not belong in a table block", 3, 3, None)),
    case("row-in-region", "region r\n  select MET > 3\n  1 2 3\n",
         D("E205", "a line of numbers outside a table", 3, 3,
           "table rows go inside a `table` block")),
    case("take-with-binding-in-region", "region r\n  take Jet j\n",
         D("E203", "`take` in a region names the region to inherit", 2, 3,
           "write `take baseline`")),
    case("bare-name-in-object", "object o\n  take Jet\n  baseline\n",
         D("E206", "`baseline` does not belong in an object block", 3, 3,
           "an object starts with `take COLLECTION`")),
    case("process-in-region", 'region r\n  process a, "A"\n',
         D("E206", "`process` does not belong in a region block", 2, 3, None)),
    case("header-without-name", "region\n  select ALL\n",
         D("E103", "this line ends too early: expected a name", 1, 1, None),
         D("E202", "`select` outside any block", 2, 3, BLOCK_HINT)),
    case("setting-not-a-number", "TRGe = x\n",
         D("E201", "`TRGe` needs a number", 1, 1, "write `TRGe = 1`")),
    # ------------------------------------------------------------ histograms
    case("histo-no-binning", 'region r\n  histo h1, "t", MET\n',
         D("E302", "histogram `h1` has no binning", 2, 3,
           "give `nbins, low, high` (or edges `0 50 100`) before the value")),
    case("histo-no-title", "region r\n  histo h1, 10, 0, 100, MET\n",
         D("E301", "histogram `h1` has no title", 2, 3,
           'write `histo h1, "title", 50, 0, 500, value`')),
    case("histo-no-value", 'region r\n  histo h1, "t", 10, 0, 100\n',
         D("E303", "histogram `h1` has no value to fill", 2, 3,
           "add the expression to histogram after the binning")),
    case("histo-2d-one-value", 'region r\n  histo h1, "t", 10, 0, 100, 10, 0, 100, MET\n',
         D("E305", "histogram `h1` is 2D but has 1 value(s)", 2, 3,
           "a 2D histogram needs an x and a y value")),
    case("histo-1d-two-values", 'region r\n  histo h1, "t", 10, 0, 100, MET, MET\n',
         D("E306", "histogram `h1` has one axis but 2 values", 2, 3,
           "for 2D give two binnings: `nx, xlo, xhi, ny, ylo, yhi, x, y`")),
    case("histo-three-axes",
         'region r\n  histo h1, "t", 10, 0, 1, 10, 0, 1, 10, 0, 1, MET, MET, MET\n',
         D("E304", "histogram `h1` has 3 axes; at most 2 are supported", 2, 3, None)),
    case("histo-decreasing-edges", 'region r\n  histo h1, "t", 0 100 50 200, MET\n',
         D("E310", "histogram `h1`: bin edges must increase, but 100 is followed by 50 "
           "(edges 2 and 3)", 2, 20, "write the edges from low to high, each once: "
           "0 50 100 200")),
    case("histo-low-not-below-high", 'region r\n  histo h1, "t", 10, 100, 100, MET\n',
         D("E308", "histogram `h1`: the low edge 100 is not below the high edge 100", 2, 22,
           "in CutLang, ROOT reads high <= low as automatic binning (the range taken from "
           "the data); adlc needs the range: write `nbins, low, high` with low < high "
           "(docs/cutlang-differences.md)")),
    case("histo-zero-bins", 'region r\n  histo h1, "t", 0, 0, 100, MET\n',
         D("E307", "histogram `h1`: the number of bins must be positive", 2, 3, None)),
    case("histo-edges-after-values", 'region r\n  histo h, "t", MET, 0 10 20\n',
         D("E313", "histogram `h`: bin edges after the values", 2, 3,
           "write the binning before the values")),
    case("bin-edges-decreasing", "region r\n  bin MET 300 200 400\n",
         D("E310", "bin edges must increase, but 300 is followed by 200 (edges 1 and 2)", 2,
           11, "write the edges from low to high, each once: 200 300 400")),
    # ------------------------------------------------------------ tables
    case("table-row-wrong-width-where", "table t\n  nvars 1\n  errors false\n  0.9 0 10\n"
         "  0.8 10\n",
         D("E311", "table `t` row 2 has 2 numbers, expected 3", 5, 3,
           "each row is: value min max")),
    case("table-row-wrong-width-with-errors",
         "table t\n  nvars 1\n  errors true\n  0.9 0.1 0.1 0 10\n  0.8 0.1 10 20\n",
         D("E311", "table `t` row 2 has 4 numbers, expected 5", None, None,
           "each row is: value err- err+ min max")),
    case("table-nvars-not-a-number", "table t\n  nvars two\n  0.9 0 10\n",
         D("E314", "`nvars` needs a whole number, not `two`", 2, 3, None)),
    case("table-errors-not-boolean", "table t\n  nvars 1\n  errors maybe\n  0.9 0 10\n",
         D("E315", "`errors` is `true` or `false`, not `maybe`", 3, 3, None)),
    case("table-without-rows", "table t\n  nvars 1\n",
         D("E312", "table `t` has no rows", 1, 1, None)),
    case("table-wrong-number-of-values", "table t\n  nvars 2\n  0.9 0 10 0 1\n"
         "define a = t(MET)\n",
         D("E410", "table `t` takes 2 values, not 1", 4, 12, None)),
    # ------------------------------------------------------------ names
    case("undefined-name-did-you-mean", "object goodJets\n  take Jet\nregion r\n"
         "  select size(goodJet) > 1\n",
         D("E409", "undefined name `goodJet`", 4, 15, "did you mean `goodJets`?")),
    case("defined-twice", "define a = 1\ndefine a = 2\n",
         D("E401", "`a` is defined twice (first on line 1)", 2, 1,
           "give one of them another name")),
    case("object-defined-twice", "object o\n  take Jet\nobject o\n  take Muon\n",
         D("E401", "`o` is defined twice (first on line 1)", 3, 1,
           "give one of them another name")),
    case("object-used-before-defined", "define a = size(jets)\nobject jets\n  take Jet\n",
         D("E407", "`jets` is used before it is defined (line 2)", 1, 17,
           "move its definition above this line")),
    case("object-without-take", "object o\n  select pT(Jet) > 3\n",
         D("E402", "object `o` does not say what it is made from", 1, 1,
           "add `take Jet` (or another collection)")),
    case("region-used-as-value", "region r\n  select ALL\nregion s\n  select r > 1\n",
         D("E408", "`r` is a region, not a value", 4, 10,
           "to inherit from it, write `r` alone on a line")),
    case("inherit-unknown-region", "region r\n  foo\n",
         D("E405", "unknown region or histoList `foo`", 2, 3, None)),
    case("inherit-region-defined-later", "region rr\n  ss\nregion ss\n  select ALL\n",
         D("E404", "`ss` is used before it is defined (line 3)", 2, 3,
           "a region can only inherit from a region defined above it")),
    case("inherit-itself", "region rr\n  rr\n",
         D("E403", "region `rr` inherits from itself", 2, 3, None)),
    case("inherit-from-object", "object jets\n  take Jet\nregion r\n  jets\n",
         D("E405", "`jets`", 4, 3, "object"),
         match="contains"),
    case("this-outside-object", "define a = pT(this)\n",
         D("E406", "`this` only means something inside an object block", 1, 15, None)),
    # ------------------------------------------------------------ argument counts
    case("dR-one-argument", "define a = dR(Jet[0])\n",
         D("E411", "`dR` takes 2 arguments, not 1", 1, 12, None)),
    case("size-two-arguments", "define a = size(Jet, Muon)\n",
         D("E411", "`size` takes 1 argument, not 2", 1, 12, None)),
    # ------------------------------------------------------------ counts
    case("unknown-countsformat", "region r\n  select ALL\n  counts res 1 , 2\n",
         D("E412", "unknown countsformat `res`", 3, 3, None)),
    case("counts-wrong-number-of-entries",
         'countsformat res\n  process a, "A"\n  process b, "B"\nregion r\n  select ALL\n'
         "  counts res 1\n",
         D("E413", "`counts res` gives 1 value(s) for 2 process(es)", 6, 3, None)),
    # ------------------------------------------------------------ whitespace
    case("tab-columns-count-one", "region r\n\tselect\tsize(goodJet) > 1\n",
         D("E409", "undefined name `goodJet`", 2, 14, "did you mean `Jet`?")),
]


def _write(tmp_path: Path, source: str | bytes, name: str = "input.adl") -> Path:
    path = tmp_path / name
    if isinstance(source, bytes):
        path.write_bytes(source)
    else:
        path.write_bytes(source.encode("utf-8"))
    return path


def _errors(path: Path):
    diagnostics, _ = check_file(str(path))
    return [d for d in diagnostics if d.severity == "error"]


def _matches(d, want: D, mode: str) -> list[str]:
    problems = []
    if d.code != want.code:
        problems.append(f"code {d.code} != {want.code}")
    if mode == "exact":
        if d.message != want.message:
            problems.append(f"message {d.message!r} != {want.message!r}")
        if want.hint is not ANY and d.hint != want.hint:
            problems.append(f"hint {d.hint!r} != {want.hint!r}")
    else:
        if want.message not in d.message:
            problems.append(f"{want.message!r} not in message {d.message!r}")
        if want.hint is not ANY and (d.hint is None or str(want.hint) not in d.hint):
            problems.append(f"{want.hint!r} not in hint {d.hint!r}")
    if want.line is not None and d.span.line != want.line:
        problems.append(f"line {d.span.line} != {want.line}")
    if want.column is not None and d.span.column != want.column:
        problems.append(f"column {d.span.column} != {want.column}")
    return problems


def _params():
    out = []
    for c in CASES:
        marks = [pytest.mark.xfail(reason=c.xfail, strict=True)] if c.xfail else []
        out.append(pytest.param(c, id=c.id, marks=marks))
    return out


def test_case_ids_are_unique_and_enough():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
    assert len(CASES) >= 35


@pytest.mark.parametrize("c", _params())
def test_malformed(c: Case, tmp_path: Path):
    errors = _errors(_write(tmp_path, c.source))
    got = [(d.code, d.message, d.span.line, d.span.column, d.hint) for d in errors]
    assert len(errors) == len(c.expected), got
    for d, want in zip(errors, c.expected, strict=True):
        assert _matches(d, want, c.match) == [], got


# ------------------------------------------------------------------ inputs that are fine

@pytest.mark.parametrize("source", [
    pytest.param("", id="empty"),
    pytest.param("# just a comment\n   # another one\n\n", id="only-comments"),
    pytest.param("# no newline at the end", id="comment-without-newline"),
    pytest.param("\n\n\n   \n\t\n", id="only-blank-lines"),
    pytest.param("object o\r\n  take Jet\r\nregion r\r\n  select size(o) > 0\r\n", id="crlf"),
    pytest.param("object o\r  take Jet\rregion r\r  select size(o) > 0\r", id="cr-only"),
    pytest.param("object\to\n\ttake\tJet\nregion\tr\n\tselect\tsize(o)\t>\t0\n", id="tabs"),
    pytest.param("object o\n  take Jet\nregion r\n  select size(o) > 0", id="no-final-newline"),
    pytest.param("define a = " + "(" * 200 + "MET" + ")" * 200 + "\n", id="nested-200"),
    pytest.param("\ufeffobject o\n  take Jet\nregion r\n  select size(o) > 0\n",
                 id="utf8-bom"),
])
def test_no_error(source: str, tmp_path: Path):
    diagnostics, _ = check_file(str(_write(tmp_path, source)))
    assert [(d.code, d.message, d.span.line) for d in diagnostics] == []


# ------------------------------------------------------------------ several errors in one file

FIVE_SEMANTIC = (
    "define a = size(goodJet)\n"      # 1: undefined name
    "define b = dR(Jet[0])\n"         # 2: wrong argument count
    "define a = 3\n"                  # 3: defined twice
    "region r\n"
    "  nowhere\n"                     # 5: unknown region
    "  select pT(this) > 3\n"         # 6: this outside an object
)

FIVE_SYNTAX = (
    "region r\n"
    "  select MET == 3\n"
    "  select MET > > 1\n"            # 3: unexpected `>`
    "  sort MET\n"                    # 4: ends too early
    "  select MET $ 2\n"              # 5: unexpected `$`
    "  weight w\n"                    # 6: ends too early
    "  select (MET > 3))\n"           # 7: one `)` too many
)

FIVE_MIXED = (
    "region r\n"
    "  select MET > > 1\n"            # 2: syntax
    "  bogus words here\n"            # 3: line not understood in a region
    "  sort MET\n"                    # 4: syntax
    "  1 2 3\n"                       # 5: numbers outside a table
    "  select MET $ 2\n"              # 6: syntax
)


def test_five_semantic_errors_all_reported_in_line_order(tmp_path: Path):
    errors = _errors(_write(tmp_path, FIVE_SEMANTIC))
    assert [(d.span.line, d.code) for d in errors] == [
        (1, "E409"), (2, "E411"), (3, "E401"), (5, "E405"), (6, "E406")]


def test_five_syntax_errors_all_reported_in_line_order(tmp_path: Path):
    errors = _errors(_write(tmp_path, FIVE_SYNTAX))
    assert [(d.span.line, d.code) for d in errors] == [
        (3, "E104"), (4, "E103"), (5, "E104"), (6, "E103"), (7, "E104")]


def test_five_mixed_errors_all_reported_in_line_order(tmp_path: Path):
    errors = _errors(_write(tmp_path, FIVE_MIXED))
    assert [(d.span.line, d.code) for d in errors] == [
        (2, "E104"), (3, "E207"), (4, "E103"), (5, "E205"), (6, "E104")]


def test_five_mixed_errors_are_all_reported(tmp_path: Path):
    errors = _errors(_write(tmp_path, FIVE_MIXED))
    assert sorted((d.span.line, d.code) for d in errors) == [
        (2, "E104"), (3, "E207"), (4, "E103"), (5, "E205"), (6, "E104")]


def test_syntax_errors_stop_semantic_checks(tmp_path: Path):
    # An undefined name next to a syntax error: only the syntax error is reported.
    errors = _errors(_write(tmp_path, "define a = size(goodJet)\nregion r\n  select MET > > 1\n"))
    assert [(d.span.line, d.code) for d in errors] == [(3, "E104")]


def test_diagnostics_are_capped(tmp_path: Path):
    source = "".join(f"define v{i} = undefinedThing{i}\n" for i in range(150))
    diagnostics, _ = check_file(str(_write(tmp_path, source)))
    assert len(diagnostics) == 101
    assert diagnostics[-1].message == "... and 50 more problems"


def test_each_code_has_one_meaning(tmp_path: Path):
    def code_of(source: str) -> str:
        (error,) = _errors(_write(tmp_path, source))
        return error.code

    assert code_of('region r\n  histo h1, 10, 0, 100, MET\n') != code_of(
        'region r\n  histo h, "t", MET, 0 10 20\n')
    assert code_of('region r\n  histo h1, "t", MET\n') != code_of(
        "table t\n  nvars two\n  0.9 0 10\n")
    assert code_of("table t\n  nvars 1\n  errors maybe\n  0.9 0 10\n") not in (
        "E303",)  # E303 is also `histogram has no value to fill`


# ------------------------------------------------------------------ the CLI's rendering

def _cli(args: list[str]):
    return CliRunner().invoke(main, args)


def test_cli_renders_file_line_col_source_caret_hint(tmp_path: Path):
    path = _write(tmp_path, "object goodJets\n  take Jet\nregion r\n  select size(goodJet) > 1\n")
    result = _cli(["check", str(path)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{path}:4:15: error: undefined name `goodJet` [E409]",
        "      select size(goodJet) > 1",
        "                  ^^^^^^^",
        "  hint: did you mean `goodJets`?",
    ]


def test_cli_renders_every_error(tmp_path: Path):
    path = _write(tmp_path, FIVE_SEMANTIC)
    result = _cli(["check", str(path)])
    assert result.exit_code == 1
    heads = [line for line in result.output.splitlines() if line.startswith(str(path))]
    assert [h.split(": error: ")[0] for h in heads] == [
        f"{path}:1:17", f"{path}:2:12", f"{path}:3:1", f"{path}:5:3", f"{path}:6:13"]
    assert "Traceback" not in result.output


def test_cli_render_without_hint(tmp_path: Path):
    path = _write(tmp_path, "define a = dR(Jet[0])\n")
    result = _cli(["check", str(path)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{path}:1:12: error: `dR` takes 2 arguments, not 1 [E411]",
        "    define a = dR(Jet[0])",
        "               ^^^^^^^^^^",
    ]


def test_cli_caret_under_tab_indented_source(tmp_path: Path):
    path = _write(tmp_path, "region r\n\tselect\tsize(goodJet) > 1\n")
    lines = _cli(["check", str(path)]).output.splitlines()
    source_line, caret_line = lines[1], lines[2]
    # The caret sits under `goodJet` in the line as printed (tabs shown as one space).
    start = caret_line.index("^")
    assert source_line[start:start + len("goodJet")] == "goodJet"
    assert caret_line.strip() == "^" * len("goodJet")


@pytest.mark.parametrize("args, code", [
    pytest.param(["check"], 2, id="missing-file-argument"),
    pytest.param(["check", "--bogus", "x.adl"], 2, id="unknown-option"),
    pytest.param(["check", "--format", "xml", "x.adl"], 2, id="bad-format-choice"),
    pytest.param(["no-such-command"], 2, id="unknown-command"),
])
def test_cli_usage_errors_exit_2(args: list[str], code: int):
    result = _cli(args)
    assert result.exit_code == code
    assert "Traceback" not in result.output


def test_cli_clean_file_exits_0(tmp_path: Path):
    path = _write(tmp_path, "object o\n  take Jet\nregion r\n  select size(o) > 0\n")
    result = _cli(["check", str(path)])
    assert result.exit_code == 0
    assert result.output == "1 file checked, no errors\n"


def test_cli_missing_file_is_a_clean_error(tmp_path: Path):
    path = tmp_path / "does-not-exist.adl"
    result = _cli(["check", str(path)])
    assert result.exit_code == 1
    assert result.output.startswith(f"{path}: error: cannot read {path}")
    assert result.output.rstrip().endswith("[E001]")


def test_cli_warnings_alone_exit_0(tmp_path: Path):
    path = _write(tmp_path,
                  "object jets\n  take Jet\nregion r\n  select sum(pT(jets[0:1])) > 50\n")
    result = _cli(["check", str(path)])
    assert result.exit_code == 0
    assert "is inclusive in CutLang (0..1), half-open in learn-adl (0..0)" in result.output
    assert "[W513]" in result.output


def test_cli_unregistered_external_function_is_an_error(tmp_path: Path):
    # `adlc run` cannot lower it, so `check` says so (once: the error replaces the warning)
    path = _write(tmp_path, "define a = fNotAFunction(MET)\n")
    result = _cli(["check", str(path)])
    assert result.exit_code == 1
    assert "error: unknown external function 'fNotAFunction' [E242]" in result.output
    assert "[W501]" not in result.output


# ------------------------------------------------------------------ numbers next to values

@pytest.mark.parametrize("source", [
    pytest.param("define a = { MET pT(Jet[0]) 1 -2100 }\n", id="brace-list"),
    pytest.param("region r\n  bin MET -500 250 350\n", id="bin-edges"),
    pytest.param("region r\n  bins MET 250 350\n  bins (MET * 2) 1 2\n", id="bins-edges"),
    pytest.param('region r\n  print "x" MET 3\n  save out csv MET 3\n', id="print-save"),
])
def test_numbers_next_to_values_where_allowed(source: str, tmp_path: Path):
    # a `{ ... }` list parses; that it is no value (E237; OME, its only use, is E291) is
    # the semantic pass's business
    assert [d for d in _errors(_write(tmp_path, source)) if d.code not in ("E237", "E291")] == []


@pytest.mark.parametrize("source, column", [
    pytest.param("define a = MET 3\n", 16, id="define"),
    pytest.param("define a = { MET 3, HT }\n", 18, id="list-with-commas"),
    pytest.param('region r\n  bin "SR" MET 250 350\n', 16, id="labelled-bin"),
    pytest.param("object o\n  take Jet -1\n", 12, id="take"),
])
def test_numbers_next_to_values_elsewhere_are_syntax_errors(source: str, column: int,
                                                             tmp_path: Path):
    (error,) = _errors(_write(tmp_path, source))
    assert (error.code, error.span.column) == ("E104", column)
    assert error.message.startswith("unexpected number")


def test_check_rejects_a_number_in_a_four_vector_sum_built_by_hand():
    three = A.Number(-3, "-3", span=Span(1, 16, 1, 18))
    tree = A.Analysis((A.Define("a", A.FourSum((A.Name("MET"), three))),))
    (error,) = check_analysis(tree)
    assert (error.code, error.span.column) == ("E414", 16)
    assert error.hint == MINUS_HINT
