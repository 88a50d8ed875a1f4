"""Golden AST tests: every tests/golden/**/NAME.adl parses to the tree recorded in NAME.ast.

The .ast files are `adlc.frontend.dump.dump_ast(parse_file(path))`. Regenerate them with
`pytest tests/frontend/test_golden_ast.py --update-goldens`, then READ the diff: a golden that
records a wrong tree is worse than none.

Files in XFAIL have a hand-written .ast with the tree the parser *should* give; they are not
rewritten by --update-goldens.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from adlc.frontend.dump import dump_ast
from adlc.frontend.parser import parse_file
from adlc.semantic.check import check_file

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
FILES = sorted(GOLDEN.rglob("*.adl"))

# Known parser bugs: the .ast beside these files holds the RIGHT tree (written by hand). Fixed
# so far: bit operators `|`/`<<`/`>>`, learn-adl `bins`, composite bound names and members.
XFAIL: dict[str, str] = {}

# Known checker bugs: these golden files are valid, but `adlc check` reports an error.
CHECK_XFAIL: dict[str, str] = {}

# Valid files on which `adlc check` wrongly warns (the files use nothing unknown).
WARN_XFAIL: dict[str, str] = {}
WARN_XFAIL.update({k: v for k, v in CHECK_XFAIL.items() if k not in WARN_XFAIL})

# Files that parse but that adlc refuses to run by design: `check` reports only these codes.
NOT_RUNNABLE: dict[str, str] = {"defines/ome_varlist.adl": "E291"}  # OME: no ONNX in adlc


def _by_design(path: Path, code: str) -> bool:
    return NOT_RUNNABLE.get(_rel(path)) == code


def _rel(path: Path) -> str:
    return path.relative_to(GOLDEN).as_posix()


def _params(xfail: dict[str, str]) -> list:
    out = []
    for path in FILES:
        rel = _rel(path)
        marks = [pytest.mark.xfail(reason=xfail[rel], strict=True)] if rel in xfail else []
        out.append(pytest.param(path, id=rel, marks=marks))
    return out


def test_enough_golden_files():
    assert len(FILES) >= 45
    topics = {path.parent.name for path in FILES}
    assert len(topics) >= 10


def test_every_ast_has_its_adl():
    for golden in GOLDEN.rglob("*.ast"):
        assert golden.with_suffix(".adl").exists(), f"orphan golden {golden}"


def test_xfail_lists_name_real_files():
    names = {_rel(p) for p in FILES}
    for table in (XFAIL, CHECK_XFAIL, WARN_XFAIL):
        assert set(table) <= names


@pytest.mark.parametrize("path", _params(XFAIL))
def test_golden_ast(path: Path, update_goldens: bool):
    golden = path.with_suffix(".ast")
    if update_goldens and _rel(path) in XFAIL:
        pytest.skip("hand-written golden for a known bug; edit it by hand")
    actual = dump_ast(parse_file(path))
    if update_goldens:
        golden.write_text(actual, encoding="utf-8")
        return
    assert golden.exists(), f"no golden for {path}; run pytest with --update-goldens"
    assert actual == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", _params(CHECK_XFAIL))
def test_golden_passes_check(path: Path):
    diagnostics, _ = check_file(str(path))
    errors = [f"{d.span.line}:{d.span.column} {d.code} {d.message}" for d in diagnostics
              if d.severity == "error" and not _by_design(path, d.code)]
    assert errors == []


@pytest.mark.parametrize("path", _params(WARN_XFAIL))
def test_golden_has_no_warnings(path: Path):
    # The golden files show syntax, not good practice: they may index without a size guard
    # or overlap bins on purpose. Those pitfall warnings (W51x) have their own tests in
    # test_pitfalls.py; every other warning would mean the front end misread the file.
    diagnostics, _ = check_file(str(path))
    assert [f"{d.span.line}:{d.span.column} {d.code} {d.message}" for d in diagnostics
            if not d.code.startswith("W51") and not _by_design(path, d.code)] == []


def test_golden_dump_is_deterministic():
    path = GOLDEN / "analyses" / "zmumu_jets.adl"
    assert dump_ast(parse_file(path)) == dump_ast(parse_file(path))


# ------------------------------------------------------------------ spot checks of normalisation
# These pin the trees the brief singles out, independently of the golden files.

def _dump(source: str, tmp_path: Path) -> str:
    path = tmp_path / "t.adl"
    path.write_text(source, encoding="utf-8")
    return dump_ast(parse_file(path))


@pytest.mark.parametrize("source, expected", [
    ("define a = {Jet[0] Jet[1]}m\n",
     "    value=Call func='m'\n      args[0]=FourSum\n"),
    ("object jets\n  take Jet\ndefine a = pT(jets_0)\n",
     "      args[0]=Index\n        base=Name id='jets'\n        index=Number value=0\n"),
    ("object jets\n  take Jet\n  select pt > 30\n",
     "        left=Call func='pT'\n          args[0]=This\n"),
    ("object jets\n  take Jet j\n  select j.pt > 30\n",
     "    take[0]=Take binding='j'\n      source=Name id='Jet'\n"),
    ("define a = -3^2\n",
     "    value=Binary op='^'\n      left=Number value=-3\n      right=Number value=2\n"),
    ("define a = m(Jet[0])-91\n",
     "    value=Binary op='-'\n"),
    ("define s_2 = 1\ndefine b = s_2\n",
     "    value=Name id='s_2'\n"),
])
def test_normalisation_spot_checks(source: str, expected: str, tmp_path: Path):
    assert expected in _dump(source, tmp_path)


def test_mixed_spellings_give_equal_trees(tmp_path: Path):
    a = tmp_path / "a.adl"
    b = tmp_path / "b.adl"
    a.write_text("object j\n  take Jet\n  select pT(Jet) > 3\nregion r\n  select size(j) >= 1 "
                 "AND MET > 2\n")
    b.write_text("OBJ j : Jet\n  cut {Jet}Pt GT 3\nalgo r\n  cmd Size(j) GE 1 && MET > 2\n")
    assert dump_ast(parse_file(a)) == dump_ast(parse_file(b))
