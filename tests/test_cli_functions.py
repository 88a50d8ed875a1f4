"""`--functions FILE.py` on the command line (docs/functions.md, "A Python file on the command
line"): `check`, `dump` and `run` register the file's functions before reading the ADL. The
expected histogram is computed here with awkward from the same file, independently of adlc."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ak = pytest.importorskip("awkward")
uproot = pytest.importorskip("uproot")
pytest.importorskip("numba")

ROOT = Path(__file__).resolve().parents[1]

FUNCTIONS = '''\
import math

from adlc.stdlib import FunctionSpec


def n_above(px, py, pz, e, cut):
    n = 0
    for i in range(len(px)):
        if math.sqrt(px[i] * px[i] + py[i] * py[i]) > cut:
            n += 1
    return float(n)


ADL_FUNCTIONS = [FunctionSpec(name="fCliNAbove", params=("collection", "scalar"),
                              returns="scalar", impl=":n_above")]
'''

ADL = """object jets
  take Jet
  select abs(eta(Jet)) < 2.4
region r
  select ALL
  histo hn, "jets above 50", 10, 0, 10, fCliNAbove(jets, 50)
"""


def _adlc(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "adlc", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


def test_functions_file_on_the_command_line(tmp_path):
    from adlc.runtime.generate import generate

    data = tmp_path / "sample.root"
    generate(str(data), 500, schema="nanoaod", seed=5)
    funcs = tmp_path / "cli_functions_mod.py"
    funcs.write_text(FUNCTIONS)
    adl = tmp_path / "a.adl"
    adl.write_text(ADL)

    missing = _adlc("check", str(adl), cwd=tmp_path)
    assert missing.returncode == 1 and "fCliNAbove" in missing.stderr
    ok = _adlc("check", str(adl), "--functions", str(funcs), cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    code = _adlc("dump", str(adl), "--stage", "code", "--functions", str(funcs), cwd=tmp_path)
    assert code.returncode == 0 and "n_above" in code.stdout
    out = tmp_path / "out"
    run = _adlc("run", str(adl), "-i", str(data), "-o", str(out), "-q",
                "--functions", str(funcs), cwd=tmp_path)
    assert run.returncode == 0, run.stderr

    with uproot.open(data) as f:
        ev = f["Events"].arrays(["Jet_pt", "Jet_eta"])
    pt = ev["Jet_pt"][abs(ev["Jet_eta"]) < 2.4]
    n = ak.to_numpy(ak.sum(pt > 50, axis=1))
    want = np.histogram(n[n < 10], np.arange(11))[0]
    summary = out / "a.json"
    got = json.loads(summary.read_text())["regions"]["r"]["histograms"]["hn"]["values"]
    assert np.array_equal(got, want)


def test_functions_file_that_does_not_exist_is_a_usage_error(tmp_path):
    adl = tmp_path / "a.adl"
    adl.write_text(ADL)
    result = _adlc("check", str(adl), "--functions", str(tmp_path / "nope.py"), cwd=tmp_path)
    assert result.returncode != 0
    assert "nope.py" in result.stderr and "Traceback" not in result.stderr
