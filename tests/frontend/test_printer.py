"""`adlc fmt`: the canonical printer. Round trips over every ADL file we have, exact output for
each construct, comments, numbers, and deep trees."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from adlc.errors import AdlError
from adlc.frontend import ast as A
from adlc.frontend.parser import parse
from adlc.frontend.printer import format_analysis, format_expr

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("ADLC_SHARED", ROOT.parent / "shared"))


def _adl_files() -> list[Path]:
    files = sorted((SHARED / "conformance" / "adl").glob("*.adl"))
    for folder in (ROOT / "tests", ROOT / "examples"):
        files.extend(sorted(folder.rglob("*.adl")))
    return files


def _id(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return path.name


def fmt(source: str) -> str:
    return format_analysis(parse(source))


def expr_of(text: str) -> A.Expr:
    return parse(f"region r\n  select {text}\n").items[0].commands[0].cond


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("path", _adl_files(), ids=_id)
def test_file_round_trips(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    try:
        original = parse(source, str(path))
    except AdlError:
        pytest.skip("not valid ADL (a malformed-input test file)")
    text = format_analysis(original)
    again = parse(text, str(path))
    assert again == original
    assert again.dialect == original.dialect
    assert format_analysis(again) == text, "formatting is not idempotent"
    assert text.endswith("\n") and not text.endswith("\n\n")


def test_there_are_files_to_round_trip() -> None:
    if not (SHARED / "conformance").is_dir():
        pytest.skip("../shared/conformance is not available")
    assert len(_adl_files()) >= 30


# --------------------------------------------------------------------------- expressions


@pytest.mark.parametrize(("source", "expected"), [
    # precedence: the fewest parentheses
    ("(a + b) * c", "(a + b) * c"),
    ("a + (b * c)", "a + b * c"),
    ("a - (b - c)", "a - (b - c)"),
    ("(a - b) - c", "a - b - c"),
    ("a / (b * c)", "a / (b * c)"),
    ("(a ^ b) ^ c", "(a^b)^c"),
    ("a ^ (b ^ c)", "a^b^c"),
    ("-x^2", "-x^2"),
    ("(-x)^2", "(-x)^2"),
    ("-(a*b)", "-(a * b)"),
    ("-a * b", "-a * b"),
    ("a * -b", "a * -b"),
    ("(a or b) and c", "(a OR b) AND c"),
    ("a or b and c", "a OR b AND c"),
    ("a && b || !c", "a AND b OR NOT c"),
    ("not (a and b)", "NOT (a AND b)"),
    ("(a < b) == c", "(a < b) == c"),
    ("a EQ b", "a == b"),
    ("(a + b) [] 1 2", "a + b [] 1 2"),
    ("x [] (a + b) -3", "x [] (a + b) -3"),
    ("x ][ (a) (b)", "x ][ a b"),
    ("x [] (a) (b + c)", "x [] (a) (b + c)"),
    ("x [] -a b", "x [] (-a) b"),
    ("c ? a : b", "c ? a : b"),
    ("c ? (d ? 1 : 2) : 3", "c ? d ? 1 : 2 : 3"),
    ("(c ? d : e) ? 1 : 2", "(c ? d : e) ? 1 : 2"),
    ("(a or b) ? 1 : 2", "a OR b ? 1 : 2"),
    ("a & 3", "a & 3"),
    ("a ~= 91.2", "a ~= 91.2"),
    # negative numbers: glued to the digits they are part of the literal
    ("-3^2", "-3^2"),
    ("- 3^2", "- 3^2"),
    ("-(3^2)", "- 3^2"),
    ("a - -3", "a - -3"),
    ("a - 3", "a - 3"),
    ("2^-3", "2^-3"),
    ("- 3", "-3"),
    ("-(3)", "-3"),
    ("- -3", "3"),
    ("-.5", "-.5"),
    # numbers keep their spelling
    ("0.20", "0.20"),
    ("1e5", "1e5"),
    ("5.", "5."),
    # particles, four-vectors, lists
    ("{Jet}Pt", "pT(Jet)"),
    ("jets[0].pt", "pT(jets[0])"),
    ("|eta(j)|", "abs(eta(j))"),
    ("m(a[0] b[1])", "m(a[0] b[1])"),
    ("{a[0] a[1]}m", "m(a[0] a[1])"),
    ("-METLV[0]", "-METLV[0]"),
    ("{ size(JET) pT(JET[0]) MET }", "{ size(JET) pT(JET[0]) MET }"),
    ("{ a, b + 1 }", "{ a, b + 1 }"),
    ("union(a, b)", "Union(a, b)"),
    ("comb(a[-1] b[-2])", "COMB(a[-1] b[-2])"),
    ("disjoint(leptons l1, leptons l2)", "disjoint(leptons l1, leptons l2)"),
    ("jets[1:3]", "jets[1:3]"),
    ("jets[:3]", "jets[:3]"),
    ("jets[1:]", "jets[1:]"),
    ("jets[-1]", "jets[-1]"),
    ("f()", "f()"),
    ('"text"', '"text"'),
])
def test_expression_text(source: str, expected: str) -> None:
    tree = expr_of(source)
    assert format_expr(tree) == expected
    assert expr_of(expected) == tree


def test_index_of_index_is_spaced() -> None:
    # `a[0][1]` lexes `][` as the outside-range operator.
    tree = A.Index(A.Index(A.Name("aa"), A.Number(0)), A.Number(1))
    assert format_expr(tree) == "aa[0] [1]"
    assert expr_of("aa[0] [1]") == tree


def test_unary_minus_of_a_number_prints_as_the_literal() -> None:
    # Not the parser's normal form, but it must not print `--3` or `-3` wrongly.
    assert format_expr(A.Unary("-", A.Number(3))) == "- 3"
    assert format_expr(A.Unary("-", A.Binary("^", A.Number(3), A.Number(2)))) == "- 3^2"
    assert format_expr(A.Binary("^", A.Number(-3), A.Number(2))) == "-3^2"


@pytest.mark.parametrize(("value", "text"), [
    (3, "3"), (-3, "-3"), (3.0, "3.0"), (0.1, "0.1"), (-2.5, "-2.5"), (1e20, "1e+20"),
    (1.5e-7, "1.5e-07"),
])
def test_numbers_without_text(value: float, text: str) -> None:
    assert format_expr(A.Number(value)) == text
    back = expr_of(text)
    assert back == A.Number(value) and type(back.value) is type(value)


def test_number_text_that_does_not_match_the_value_is_ignored() -> None:
    assert format_expr(A.Number(-3, "3")) == "-3"
    assert format_expr(A.Number(2.5, "nonsense")) == "2.5"


def test_this_and_bound() -> None:
    assert format_expr(A.Call("pT", (A.This(),))) == "pT(this)"
    assert format_expr(A.Bound(A.Name("leptons"), "l1")) == "leptons l1"


@pytest.mark.parametrize("depth", [500, 3000])
def test_deep_expressions_do_not_hit_the_recursion_limit(depth: int) -> None:
    left: A.Expr = A.Name("aa")
    right: A.Expr = A.Name("aa")
    unary: A.Expr = A.Name("aa")
    calls: A.Expr = A.Name("aa")
    for i in range(depth):
        left = A.Binary("-", left, A.Number(i))
        right = A.Binary("-", A.Number(i), right)
        unary = A.Unary("-" if i % 2 else "not", unary)
        calls = A.Call("abs", (A.Index(calls, A.Number(0)),))
    assert format_expr(left).count("(") == 0
    assert format_expr(right).count("(") == depth - 1
    assert format_expr(unary).startswith("-(NOT -(NOT")
    assert format_expr(calls).count("abs(") == depth


def test_shallow_long_chain_round_trips() -> None:
    tree: A.Expr = A.Name("aa")
    for i in range(200):
        tree = A.Binary("+" if i % 2 else "*", tree, A.Number(i))
    assert expr_of(format_expr(tree)) == tree


def test_unknown_node_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        format_expr(object())  # type: ignore[arg-type]


# --------------------------------------------------------------------------- statements

EVERYTHING = """\
TRGe = 2
SkipHistos = 1
systematic on "w_up" "w_down" weight_pileup
systematic off "t_up" "t_down" ttree
info analysis
  title "A toy: # not a comment"
  experiment CMS
  id SUS-19-006
  sqrtS 13.0
countsformat results
  process est, "Estimated", stat, syst
  process obs, "Observed"
object muons
  take Muon
  select pt > 10
  define iso = miniiso(this) / pt
  reject iso > 0.2
  histo hmu, "muon pT", 10, 0, 100, pT(Muon)
object jets : JET
  select {JET}Pt > 30
object leps : Union(muons, ELE)
obj pairs : COMB( muons[-1] muons[-2] ) alias aZ
  select m(aZ) [] 60 120
object Y alias aY
object W
  take Jet j
  take a, b
  select pT(j) > 20
def Zmm : muons[0] muons[1]
define HT2 = sum(pT(jets))
table eff
  tabletype efficiency
  nvars 1
  errors false
  0.50  5.0 20.0
  0.80 20.0 -40.0
histoList plots
  histo hnj, "N jets", 10, 0, 10, size(jets)
algo base
  cmd ALL
  select size(jets) >= 2
  weight lumi 137.0
  histo h2, "MET vs HT", 40, 0, 1000, 40, 0, 2000, MET, HT2
  histo hv, "var", 0 50 100.5 -3, MET
  histo hn, 5, 0, 5, size(jets)
  counts results 410 +- 20 +- 31 , 402
  counts results 30.5 + 6.7 - 5.0 +- 5.1 , 29
region sig
  base
  take plots
  select MET > 250
  bin "SR1" MET [] 250 400
  bin MET > 400
  bin MET 250 400 800
  bin abs(eta(jets[0])) * 2 0 1 2
  sort pT(jets) descend
  sort m(jets) ascend
  print "jets", pT(jets[0]), MET
  print MET
  print
  save out csv MET, HT2
  save raw
"""

EVERYTHING_FORMATTED = """\
TRGe = 2
SkipHistos = 1

systematic on "w_up" "w_down" weight_pileup
systematic off "t_up" "t_down" ttree

info analysis
  title "A toy: # not a comment"
  experiment CMS
  id SUS-19-006
  sqrtS 13.0

countsformat results
  process est, "Estimated", stat, syst
  process obs, "Observed"

object muons
  take Muon
  select pT(this) > 10
  define iso = miniiso(this) / pT(this)
  reject iso(this) > 0.2
  histo hmu, "muon pT", 10, 0, 100, pT(Muon)

object jets
  take JET
  select pT(JET) > 30

object leps
  take Union(muons, ELE)

object pairs
  take COMB(muons[-1] muons[-2]) alias aZ
  select m(aZ) [] 60 120

object Y alias aY

object W
  take Jet j
  take a
  take b
  select pT(j) > 20

define Zmm = muons[0] muons[1]
define HT2 = sum(pT(jets))

table eff
  tabletype efficiency
  nvars 1
  errors false
  0.5   5   20
  0.8  20  -40

histoList plots
  histo hnj, "N jets", 10, 0, 10, size(jets)

region base
  select ALL
  select size(jets) >= 2
  weight lumi 137.0
  histo h2, "MET vs HT", 40, 0, 1000, 40, 0, 2000, MET, HT2
  histo hv, "var", 0 50 100.5 -3, MET
  histo hn, 5, 0, 5, size(jets)
  counts results 410 +- 20 +- 31 , 402
  counts results 30.5 + 6.7 - 5 +- 5.1 , 29

region sig
  base
  plots
  select MET > 250
  bin "SR1" MET [] 250 400
  bin MET > 400
  bin MET 250 400 800
  bin (abs(eta(jets[0])) * 2) 0 1 2
  sort pT(jets) descend
  sort m(jets) ascend
  print "jets", pT(jets[0]), MET
  print MET
  print
  save out csv MET, HT2
  save raw
"""


def test_every_statement_form() -> None:
    original = parse(EVERYTHING)
    text = format_analysis(original)
    assert text == EVERYTHING_FORMATTED
    assert parse(text) == original
    assert fmt(text) == text


def test_learn_adl_bins() -> None:
    source = "region r\n  bins HT 300 500 700\n  bins (HT * 2) 1 2\n"
    assert fmt(source) == source
    assert parse(source).items[0].commands[0] == A.BinEdges(A.Name("HT"), (300, 500, 700), "bins")


def test_bin_edges_after_a_value_that_is_not_one_operand() -> None:
    tree = A.BinEdges(A.FourSum((A.Name("aa"), A.Name("bb"))), (1.0, -2.5), "bin")
    text = format_analysis(A.Analysis((A.Region("r", (tree,)),)))
    assert text == "region r\n  bin (aa bb) 1 -2.5\n"
    assert parse(text).items[0].commands[0] == tree


def test_composite() -> None:
    source = ("composite Zc\n  take cartesian(muons l1, electrons l2)\n  object Z = l1 + l2\n"
              "  define ok = 1\n  select q(l1) + q(l2) == 0\n")
    original = parse(source)
    text = format_analysis(original)
    assert text.startswith("composite Zc\n  take cartesian(muons l1, electrons l2)\n  object Z = ")
    assert parse(text) == original
    assert fmt(text) == text


def test_learn_adl_dialect_survives_without_its_comment() -> None:
    analysis = parse("object a\n  take Jet\n  select pt > 1\n")
    learn = A.Analysis(analysis.items, "learn-adl")
    text = format_analysis(learn)
    assert text.startswith("# adlc: dialect=learn-adl\n")
    assert parse(text) == learn
    assert fmt(text) == text


def test_dialect_comment_is_kept_once() -> None:
    source = "# adlc: dialect=learn-adl\nregion r\n  select jets[1:] > 0\n"
    assert fmt(source) == source
    assert parse(fmt(source)).dialect == "learn-adl"


def test_empty_file() -> None:
    assert fmt("") == ""
    assert fmt("\n\n") == ""
    assert fmt("# only a comment\n\n\n") == "# only a comment\n"


def test_one_trailing_newline_and_blank_lines_collapsed() -> None:
    text = fmt("\n\n\nregion r\n\n\n   select ALL\n\n\n\nregion s\n  select ALL\n\n\n")
    assert text == "region r\n  select ALL\n\nregion s\n  select ALL\n"


def test_continued_lines_are_joined() -> None:
    source = "region r\n  select a > 1 and \\\n    b < 2\n  select f(a,\n    b) > 1\n"
    assert fmt(source) == "region r\n  select a > 1 AND b < 2\n  select f(a, b) > 1\n"


def test_hand_built_analysis_with_no_spans() -> None:
    analysis = A.Analysis((
        A.Define("x", A.Binary("+", A.Number(1), A.Number(2))),
        A.Region("r", (A.Select(A.Name("ALL")), A.Use("base"))),
    ), comments=(A.Comment(1, "# stray", False),))
    text = format_analysis(analysis)
    assert text == "define x = 1 + 2\n\nregion r\n  select ALL\n  base\n\n# stray\n"
    assert parse(text) == analysis


# --------------------------------------------------------------------------- comments

COMMENTED = """\
# file header

# about the setting
TRGe = 2
# a define
define a = 1   # trailing on a define
define b = 2
# a paragraph of its own

object X  # on the header
  # before take
  take Jet
  select pT(Jet) > 3 and \\
     eta(Jet) < 2  # on a continuation line

  # inside, after a blank line
  select pT(Jet) < 1000
  # at the end of the object

table t
  nvars 1
  errors false
  # value lo hi
  0.5 0 10   # on a row
  0.7 10 20
# just before the region
region R
  select ALL
# the very end
"""

COMMENTED_FORMATTED = """\
# file header

# about the setting
TRGe = 2

# a define
define a = 1  # trailing on a define
define b = 2

# a paragraph of its own

object X  # on the header
  # before take
  take Jet
  select pT(Jet) > 3 AND eta(Jet) < 2  # on a continuation line
  # inside, after a blank line
  select pT(Jet) < 1000

# at the end of the object

table t
  nvars 1
  errors false
  # value lo hi
  0.5   0  10  # on a row
  0.7  10  20

# just before the region
region R
  select ALL
  # the very end
"""


def test_comments_stay_in_place() -> None:
    text = fmt(COMMENTED)
    assert text == COMMENTED_FORMATTED
    assert fmt(text) == text
    assert parse(text) == parse(COMMENTED)


def test_comment_at_the_end_after_a_blank_line() -> None:
    source = "region r\n  select ALL\n\n# done\n"
    assert fmt(source) == source
    assert fmt("region r\n  select ALL\n  # done\n") == "region r\n  select ALL\n  # done\n"


def test_several_trailing_comments_on_one_statement() -> None:
    source = "region r\n  select a > 1 and  # one\n    b < 2  # two\n"
    text = fmt(source)
    assert text == "region r\n  select a > 1 AND b < 2  # one # two\n"
    assert fmt(text) == text


def test_comments_never_crash_the_printer() -> None:
    analysis = parse("region r\n  select ALL\n")
    weird = (A.Comment(0, "# line zero", True), A.Comment(99, "# far away", True),
             A.Comment(2, "#x", False), A.Comment(2, "# same line", False))
    text = format_analysis(A.Analysis(analysis.items, comments=weird))
    assert parse(text) == analysis
    for comment in weird:
        assert comment.text.strip() in text


# --------------------------------------------------------------------------- command line


def test_fmt_command(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from adlc.cli import main

    path = tmp_path / "a.adl"
    path.write_text("algo r\n  cmd {JET_0}Pt > 30\n", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(main, ["fmt", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output == "region r\n  select pT(JET[0]) > 30\n"
    assert runner.invoke(main, ["fmt", "--check", str(path)]).exit_code == 1
    assert runner.invoke(main, ["fmt", "-w", str(path)]).exit_code == 0
    assert path.read_text(encoding="utf-8") == "region r\n  select pT(JET[0]) > 30\n"
    assert runner.invoke(main, ["fmt", "--check", str(path)]).exit_code == 0
