"""`save NAME csv v1, v2, ...` and `print ["label"] v ...` in a region (ADL.md §7): one row per
event reaching the command, in input order whatever the chunking and -j; no cutflow row.
Expected rows are computed here with uproot/numpy, independently of adlc."""

from __future__ import annotations

import csv
import math
import os
import textwrap

import numpy as np
import pytest

uproot = pytest.importorskip("uproot")
pytest.importorskip("numba")

ADL = """\
object goodJets
  take Jet
  select pT(Jet) > 30

region presel
  select MET > 50
  save sel csv MET, size(goodJets)
  select size(goodJets) >= 1
  print "lead" pT(goodJets[0]) eta(goodJets[0])
  save lead csv pT(goodJets[0]), eta(goodJets[0])

region child
  presel
  select MET > 100
"""


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    from adlc.runtime.generate import generate

    os.environ["ADLC_CACHE_DIR"] = str(tmp_path_factory.getbasetemp() / "adlc-cache")
    d = tmp_path_factory.mktemp("printsave")
    generate(str(d / "sample.root"), 3000, schema="nanoaod", seed=5)
    (d / "ps.adl").write_text(textwrap.dedent(ADL))
    return d


@pytest.fixture(scope="module")
def expected(sample):
    t = uproot.open(sample / "sample.root")["Events"]
    a = t.arrays(["MET_pt", "MET_phi", "Jet_pt", "Jet_eta"], library="np")
    sel, lead = [], []
    for mpt, mphi, pt, eta in zip(a["MET_pt"], a["MET_phi"], a["Jet_pt"], a["Jet_eta"],
                                  strict=True):
        # adlc's MET is |(pt cos phi, pt sin phi)| (CutLang's TVector2), within an ulp of MET_pt
        met = math.hypot(float(mpt) * math.cos(float(mphi)), float(mpt) * math.sin(float(mphi)))
        if not met > 50:
            continue
        good = np.asarray(pt) > 30
        sel.append((float(met), float(good.sum())))
        if good.sum() >= 1:
            lead.append((float(pt[good][0]), float(eta[good][0])))
    return {"sel": np.array(sel), "lead": np.array(lead)}


def same(actual, desired):
    """Exact, except MET (column 0 of `sel`), whose last bit depends on libm's cos/sin."""
    actual, desired = np.asarray(actual), np.asarray(desired)
    assert actual.shape == desired.shape
    np.testing.assert_array_equal(actual[:, 1:], desired[:, 1:])
    np.testing.assert_allclose(actual[:, 0], desired[:, 0], rtol=1e-14)


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], np.array([[float(x) for x in r] for r in rows[1:]])


@pytest.mark.parametrize(("chunk_size", "jobs"), [(200_000, 1), (97, 1), (700, 2)])
def test_rows_in_input_order(sample, expected, chunk_size, jobs, backend):
    from adlc.driver import run_analysis

    result = run_analysis(sample / "ps.adl", [str(sample / "sample.root")], schema="nanoaod",
                          chunk_size=chunk_size, jobs=jobs, backend=backend)
    tables = {(t.kind, t.name): t for t in result.tables}
    assert set(tables) == {("save", "sel"), ("save", "lead"), ("print", "presel")}
    for name in ("sel", "lead"):
        t = tables["save", name]
        assert t.total == len(expected[name])
        same(t.rows, expected[name])
    p = tables["print", "presel"]
    assert p.label == "lead" and p.total == len(expected["lead"])
    np.testing.assert_array_equal(p.rows, expected["lead"][:1000])
    np.testing.assert_array_equal(tables["save", "lead"].rows, expected["lead"])
    # print/save add no cutflow rows; the inheriting region does not save again
    assert [c.label for c in result.regions["presel"].cutflow] == [
        "all Events", "MET > 50", "size(goodJets) >= 1"]
    assert len(result.regions["child"].cutflow) == 4


def test_csv_files_identical_for_any_chunking(sample, expected, tmp_path, capsys, backend):
    from adlc.driver import run_command

    texts = []
    for i, (chunk_size, jobs) in enumerate([(200_000, 1), (97, 1), (700, 2)]):
        out = tmp_path / f"out{i}"
        run_command(sample / "ps.adl", [str(sample / "sample.root")], outdir=out,
                    schema="nanoaod", chunk_size=chunk_size, jobs=jobs, progress=False,
                    backend=backend)
        for name in ("sel", "lead"):
            header, rows = read_csv(out / f"{name}.csv")
            same(rows, expected[name])
        assert read_csv(out / "sel.csv")[0] == ["MET", "size(goodJets)"]
        assert read_csv(out / "lead.csv")[0] == ["pT(goodJets[0])", "eta(goodJets[0])"]
        manifest = (out / ".adlc-manifest.json").read_text()
        assert "sel.csv" in manifest and "lead.csv" in manifest
        # %.17g reads back bit-exact
        np.testing.assert_array_equal(read_csv(out / "sel.csv")[1],
                                      run_tables(sample, backend)["sel"].rows)
        texts.append([(out / f"{n}.csv").read_bytes() for n in ("sel", "lead")])
        stdout = capsys.readouterr().out
        lines = [ln for ln in stdout.splitlines() if ln.startswith("lead: ")]
        assert len(lines) == len(expected["lead"])
        pt, eta = expected["lead"][0]
        assert lines[0] == f"lead: {pt:.17g} {eta:.17g}"
    assert texts[0] == texts[1] == texts[2]


def run_tables(sample, backend="numba"):
    from adlc.driver import run_analysis

    result = run_analysis(sample / "ps.adl", [str(sample / "sample.root")], schema="nanoaod",
                          backend=backend)
    return {t.name: t for t in result.tables if t.kind == "save"}


def test_print_is_bounded():
    from adlc.runtime.results import PRINT_LIMIT, RunResult, Table
    from adlc.runtime.writers import format_prints

    def part(lo, hi):
        rows = np.arange(lo, hi, dtype=float).reshape(-1, 1)
        return RunResult({}, hi - lo, [Table("r", "print", ["x"], rows, hi - lo, None, "r")])

    merged = part(0, 700) + part(700, 1400) + part(1400, 1500)
    t = merged.tables[0]
    assert t.total == 1500 and len(t.rows) == PRINT_LIMIT == 1000
    np.testing.assert_array_equal(t.rows[:, 0], np.arange(1000.0))
    text = format_prints(merged).splitlines()
    assert text[0] == "r: 0" and text[999] == "r: 999" and text[-1] == "r: ... 500 more"


def test_save_errors(tmp_path):
    from adlc.driver import lower_file
    from adlc.errors import AdlError

    f = tmp_path / "bad.adl"
    f.write_text("region r\n  select MET > 0\n  save a csv MET\n  save a csv MET\n")
    with pytest.raises(AdlError, match="E291|twice"):
        lower_file(f)
    f.write_text("region r\n  select MET > 0\n  save a\n  save a\n")  # event lists too
    with pytest.raises(AdlError, match="E291|twice"):
        lower_file(f)
