"""An adlc bug must not show the user a traceback: one line, exit 3 (ADLC_DEBUG shows it)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from adlc import cli, driver


def _broken(*args, **kwargs):
    raise RuntimeError("kernel generator fell over")


def test_internal_error_is_one_line_and_exit_3(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.delenv("ADLC_DEBUG", raising=False)
    monkeypatch.setattr(driver, "run_command", _broken)
    result = CliRunner().invoke(cli.main, ["run", "x.adl", "-i", "x.root", "-o",
                                           str(tmp_path / "o")])
    assert result.exit_code == 3
    assert "adlc: internal error: RuntimeError: kernel generator fell over" in result.output
    assert "Traceback" not in result.output


def test_adlc_debug_shows_the_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADLC_DEBUG", "1")
    monkeypatch.setattr(driver, "dump", _broken)
    result = CliRunner().invoke(cli.main, ["dump", "x.adl"])
    assert isinstance(result.exception, RuntimeError)
