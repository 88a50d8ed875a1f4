"""`adlc dump --stage opt [--dump-after PASS]`, `adlc run --no-opt` and the driver's flag."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from adlc.cli import main
from adlc.opt import PASS_NAMES, IRVerificationError, OptContext, optimise, verify_program

SRC = """\
object jets
  take Jet
  select pT(Jet) > 20 + 10

object unused
  take Muon

region r
  select size(jets) >= 1 and ALL
"""


@pytest.fixture
def adl(tmp_path):
    path = tmp_path / "t.adl"
    path.write_text(SRC)
    return path


def _dump(*args: str):
    return CliRunner().invoke(main, ["dump", *args])


def test_stage_opt_prints_the_optimised_ir(adl):
    lowered, opt = _dump("--stage", "ir", str(adl)), _dump("--stage", "opt", str(adl))
    assert lowered.exit_code == 0 and opt.exit_code == 0
    assert "object unused" in lowered.output and "object unused" not in opt.output
    assert "const[30.0]" in opt.output and "const[30.0]" not in lowered.output


def test_dump_after_stops_after_the_named_pass(adl):
    folded = _dump("--stage", "opt", "--dump-after", "fold_constants", str(adl))
    assert folded.exit_code == 0
    assert "const[30.0]" in folded.output      # folded ...
    assert "and(" in folded.output              # ... but `and ALL` not simplified yet
    assert "object unused" in folded.output     # ... and dead objects still there
    simplified = _dump("--dump-after", "simplify", str(adl))  # implies --stage opt
    assert simplified.exit_code == 0 and "and(" not in simplified.output


def test_an_unknown_pass_is_a_usage_error_listing_the_passes(adl):
    result = _dump("--stage", "opt", "--dump-after", "fold", str(adl))
    assert result.exit_code == 2
    assert "unknown optimiser pass 'fold'" in result.output
    assert ", ".join(PASS_NAMES) in result.output


def test_dump_after_needs_the_opt_stage(adl):
    result = _dump("--stage", "code", "--dump-after", "simplify", str(adl))
    assert result.exit_code == 2 and "--stage opt" in result.output


def test_compile_analysis_optimises_unless_told_not_to(adl):
    from adlc.driver import compile_analysis

    plain, _ = compile_analysis(adl, optimise=False)
    opt, _ = compile_analysis(adl)
    assert [n for n, _ in plain.collections] == ["jets", "unused"]
    assert [n for n, _ in opt.collections] == ["jets"]


def test_run_no_opt_gives_the_same_numbers(adl, nano_file, tmp_path):
    import json

    regions = []
    for flags in ([], ["--no-opt"]):
        out = tmp_path / ("plain" if flags else "opt")
        result = CliRunner().invoke(main, ["run", str(adl), "-i", str(nano_file), "-o", str(out),
                                           "-q", *flags])
        assert result.exit_code == 0, result.output
        regions.append(json.loads((out / "t.json").read_text())["regions"])
    assert regions[0] == regions[1]
    assert "r" in str(regions[0])


def test_optimise_times_each_pass_and_verifies(adl):
    from adlc.driver import lower_file

    ctx = OptContext()
    optimise(lower_file(adl), ctx, verify=True)
    assert list(ctx.timings) == list(PASS_NAMES)


def test_the_verifier_catches_a_broken_program(adl):
    import dataclasses

    from adlc.driver import lower_file
    from adlc.ir import nodes as N

    prog = lower_file(adl)
    region = prog.regions[0]
    bad = dataclasses.replace(prog, regions=(dataclasses.replace(
        region, steps=(N.Cut(N.const(1.0), "a number as a cut"),)),))
    with pytest.raises(IRVerificationError, match="cut a number as a cut is a num"):
        verify_program(bad, "test")
