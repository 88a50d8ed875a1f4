"""The wheel carries the grammar and stdlib: install it into a fresh venv and use it from
outside the checkout. Also: `import adlc` stays light."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, check=False)


@pytest.mark.slow
def test_wheel_installs_and_checks_outside_the_checkout(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    built = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                 "-w", wheels, ROOT)
    assert built.returncode == 0, built.stderr
    wheel = next(wheels.glob("adlc-*.whl"))

    venv = tmp_path / "fresh"
    assert _run(sys.executable, "-m", "venv", venv).returncode == 0
    python = venv / "bin" / "python"
    installed = _run(python, "-m", "pip", "install", "--no-deps", "--no-index", wheel)
    assert installed.returncode == 0, installed.stderr
    # Dependencies come from the test environment's site-packages (no network needed); a .pth
    # line adds the directory without running the editable-install hook found there.
    purelib = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
                   .stdout.strip())
    (purelib / "zz_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    work = tmp_path / "elsewhere"
    work.mkdir()
    shutil.copy(ROOT / "examples" / "zmumu.adl", work)
    where = _run(python, "-c", "import adlc, adlc._grammar; print(adlc.__file__)", cwd=work)
    assert str(venv) in where.stdout, where.stdout + where.stderr
    checked = _run(venv / "bin" / "adlc", "check", "zmumu.adl", cwd=work)
    assert checked.returncode == 0, checked.stderr
    assert "no errors" in checked.stdout
    broken = work / "broken.adl"
    broken.write_text("region r\n  select MET >\n")
    failed = _run(venv / "bin" / "adlc", "check", "broken.adl", cwd=work)
    assert failed.returncode == 1
    assert "broken.adl:2:" in failed.stderr


def test_import_adlc_is_light() -> None:
    code = ("import sys, adlc, adlc.cli, adlc.frontend.parser, adlc.semantic.check; "
            "heavy = [m for m in ('numba', 'uproot', 'awkward', 'cupy', 'dask', 'hist', "
            "'matplotlib') if m in sys.modules]; print(heavy)")
    out = _run(sys.executable, "-c", code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_every_package_is_shipped() -> None:
    # setup.py finds adlc.* packages automatically; the two mapped folders must stay mapped.
    text = (ROOT / "setup.py").read_text()
    assert '"adlc._grammar": "grammar"' in text and '"adlc.stdlib": "stdlib"' in text
    assert (ROOT / "grammar" / "adl.lark").is_file()
