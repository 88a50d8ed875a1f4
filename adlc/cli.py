"""The `adlc` command line: check, fmt, run, dump, generate.

Exit codes: 0 success, 1 bad input (syntax, semantics, data), 2 usage errors. A user never
sees a Python traceback for bad input: every `AdlError` is printed as diagnostics.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from adlc import __version__
from adlc.errors import AdlError, AdlUsageError, Diagnostic, Span


def _fail(error: AdlError) -> None:
    click.echo(error.render(), err=True)
    sys.exit(2 if isinstance(error, AdlUsageError) else 1)


def _internal_error(exc: Exception) -> None:
    """An adlc bug, not the user's: one line to report, the traceback only with ADLC_DEBUG=1."""
    if os.environ.get("ADLC_DEBUG"):
        raise exc
    click.echo(f"adlc: internal error: {type(exc).__name__}: {exc}\n"
               "  this is a bug in adlc; please report it with the ADL file "
               "(ADLC_DEBUG=1 shows the traceback)", err=True)
    sys.exit(3)


def _functions_option(command):
    return click.option(
        "--functions", "functions", multiple=True, type=click.Path(dir_okay=False),
        metavar="FILE.py",
        help="A Python file of external functions to register (repeatable; docs/functions.md)."
    )(command)


def _load_functions(files: tuple[str, ...]) -> None:
    """Register the external functions of each `--functions` file before the ADL is read."""
    if files:
        from adlc.stdlib import load_module_functions

        for file in files:
            load_module_functions(file)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="adlc")
def main() -> None:
    """adlc: compile and run analyses written in the Analysis Description Language."""


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--syntax", is_flag=True, help="Stop after parsing (no name or type checks).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="json: one record per file, for editors and CI.")
@_functions_option
def check(files: tuple[str, ...], syntax: bool, fmt: str, functions: tuple[str, ...]) -> None:
    """Check ADL files for errors, without reading any data."""
    from adlc.semantic.check import check_file

    try:
        _load_functions(functions)
    except AdlError as error:
        _fail(error)
    records = []
    failed = False
    for file in files:
        diagnostics, source = check_file(file, syntax_only=syntax)
        failed |= any(d.severity == "error" for d in diagnostics)
        records.append({"file": file, "diagnostics": [d.to_json() for d in diagnostics]})
        if fmt == "text":
            for d in diagnostics:
                click.echo(d.render(source), err=True)
    if fmt == "json":
        click.echo(json.dumps(records, indent=1))
    elif not failed:
        click.echo(f"{len(files)} file{'s' if len(files) != 1 else ''} checked, no errors")
    sys.exit(1 if failed else 0)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-w", "--write", is_flag=True, help="Rewrite the files in place.")
@click.option("--check", "check_only", is_flag=True,
              help="Exit 1 if any file is not formatted canonically.")
def fmt(files: tuple[str, ...], write: bool, check_only: bool) -> None:
    """Print ADL files in canonical CutLang-dialect form."""
    from adlc.frontend.parser import parse, read_source
    from adlc.frontend.printer import format_analysis

    changed = False
    for file in files:
        try:
            source = read_source(Path(file))
            text = format_analysis(parse(source, file))
        except AdlError as error:
            _fail(error)
            return
        changed |= text != source
        if check_only:
            if text != source:
                click.echo(f"{file}: would be reformatted", err=True)
        elif write:
            if text != source:
                Path(file).write_text(text, encoding="utf-8")
        else:
            click.echo(text, nl=False)
    sys.exit(1 if check_only and changed else 0)


@main.command()
@click.argument("analysis", type=click.Path(dir_okay=False))
@click.option("-i", "--input", "inputs", multiple=True, required=True,
              help="ROOT file or glob; repeat for several.")
@click.option("-o", "--output", "outdir", default=None, type=click.Path(file_okay=False),
              help="Directory for the ROOT file, JSON and plots [default: adlc-out/<analysis>].")
@click.option("--format", "schema", default=None,
              help="Input format (nanoaod, run2012, delphes); detected from the branches if "
                   "omitted.")
@click.option("--schema-file", default=None, type=click.Path(dir_okay=False),
              help="TOML file mapping ADL collections to the branches of any flat ntuple "
                   "(docs/schemas.md); instead of --format.")
@click.option("--tree", default=None,
              help="Name of the TTree to read [default: Events, or the file's only tree].")
@click.option("--chunk-size", default=200_000, show_default=True, type=click.IntRange(1))
@click.option("--max-events", default=None, type=click.IntRange(0))
@click.option("-j", "--jobs", default=1, show_default=True, type=click.IntRange(1))
@click.option("--backend", default="numba", show_default=True)
@click.option("--plots", is_flag=True, help="Also write a PNG per histogram.")
@click.option("--force", is_flag=True, help="Overwrite the results of an earlier run.")
@click.option("--no-opt", is_flag=True, help="Skip the optimiser.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar, no cutflow table.")
@click.option("--cutlang-compat", is_flag=True,
              help="Reproduce CutLang's bugs too (docs/cutlang-differences.md).")
@_functions_option
def run(analysis: str, inputs: tuple[str, ...], outdir: str | None, schema: str | None,
        schema_file: str | None, tree: str | None, chunk_size: int, max_events: int | None,
        jobs: int, backend: str, plots: bool, force: bool, no_opt: bool, quiet: bool,
        cutlang_compat: bool, functions: tuple[str, ...]) -> None:
    """Run an analysis over ROOT files: cutflows, bins and histograms."""
    from adlc import driver

    try:
        _load_functions(functions)
        driver.run_command(analysis, list(inputs), outdir=outdir, schema=schema,
                           chunk_size=chunk_size, max_events=max_events, jobs=jobs,
                           backend=backend, plots=plots, force=force, optimise=not no_opt,
                           quiet=quiet, cutlang_compat=cutlang_compat, tree=tree,
                           schema_file=schema_file)
    except AdlError as error:
        _fail(error)
    except (KeyboardInterrupt, SystemExit, click.exceptions.Exit, click.Abort):
        raise
    except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
        _internal_error(exc)


@main.command()
@click.argument("analysis", type=click.Path(dir_okay=False))
@click.option("--stage", type=click.Choice(["ast", "ir", "opt", "code"]), default=None,
              help="ir: as lowered; opt: optimised [default: ir, or opt with --dump-after].")
@click.option("--backend", default="numba", show_default=True)
@click.option("--format", "schema", default="nanoaod", show_default=True,
              help="Input format the code is generated for.")
@click.option("--dump-after", default=None, metavar="PASS",
              help="With --stage opt: the IR after this optimiser pass (e.g. fold_constants).")
@_functions_option
def dump(analysis: str, stage: str | None, backend: str, schema: str,
         dump_after: str | None, functions: tuple[str, ...]) -> None:
    """Print the AST, the IR (as lowered, or optimised) or the generated code of an analysis."""
    from adlc import driver

    try:
        _load_functions(functions)
        stage = stage or ("opt" if dump_after else "ir")
        click.echo(driver.dump(analysis, stage=stage, backend=backend, schema=schema,
                               dump_after=dump_after), nl=False)
    except AdlError as error:
        _fail(error)
    except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
        _internal_error(exc)


@main.command()
@click.option("--schema", type=click.Choice(["nanoaod", "run2012"]), default="nanoaod",
              show_default=True)
@click.option("-n", "--events", default=10_000, show_default=True, type=click.IntRange(1))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False))
@click.option("--seed", default=1, show_default=True, type=int)
def generate(schema: str, events: int, output: str, seed: int) -> None:
    """Write a sample ROOT file with realistic events, for tests and demos."""
    from adlc.runtime.generate import generate as write_sample

    try:
        n = write_sample(output, events, schema=schema, seed=seed)
    except AdlError as error:
        _fail(error)
        return
    except OSError as exc:
        _fail(AdlUsageError([Diagnostic(f"cannot write {output}: {exc}", Span(file=output))]))
        return
    click.echo(f"wrote {n} events ({schema}) to {output}")


if __name__ == "__main__":
    main()
