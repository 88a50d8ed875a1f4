"""What `adlc run` and `adlc dump` do: parse, check, lower, generate, compile, execute, write.

Public API:
  compile_analysis(path_or_source, *, schema, backend="numba", file=None,
                   optimise=True) -> (Program, GeneratedModule)
  run_analysis(analysis, inputs, *, schema=None, chunk_size, max_events, jobs, backend,
               progress=None, tree=None, cutlang_compat=False, schema_file=None,
               optimise=True) -> RunResult
  run_command(analysis, inputs, *, outdir, schema, chunk_size, max_events, jobs, backend,
              plots, force, optimise, quiet, cutlang_compat, tree, progress,
              schema_file) -> RunResult
  dump(analysis, *, stage, backend, schema, dump_after=None) -> str  # ast | ir | opt | code
  optimise_program(program, *, optimise=True, dump_after=None) -> Program
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from adlc.errors import AdlError


def _parse(analysis: str | Path):
    from adlc.frontend.parser import parse, read_source

    source = read_source(Path(analysis))
    return parse(source, str(analysis)), source


def lower_file(analysis: str | Path, *, cutlang_compat: bool = False):
    """The IR Program of an ADL file (AdlSyntaxError / AdlSemanticError on bad input).

    The checks of `adlc check` run first, so `adlc run` reports the same errors (an undefined
    name as such, with its did-you-mean hint) before lowering looks at types.
    """
    from adlc.errors import AdlSemanticError
    from adlc.semantic.check import check_analysis
    from adlc.semantic.lower import lower

    tree, source = _parse(analysis)
    errors = [d for d in check_analysis(tree) if d.severity == "error"]
    if errors:
        raise AdlSemanticError(errors, source)
    return lower(tree, source, cutlang_compat=cutlang_compat)


def optimise_program(program, *, optimise: bool = True, dump_after: str | None = None):
    """`program` after the optimiser (adlc.opt.PIPELINE), or as it is with `optimise=False`.
    With ADLC_DEBUG set, the IR is verified after each pass and the passes' times and
    counters go to stderr."""
    if not optimise:
        return program
    from adlc.opt import OptContext
    from adlc.opt import optimise as run_pipeline

    debug = bool(os.environ.get("ADLC_DEBUG"))
    ctx = OptContext()
    program = run_pipeline(program, ctx, dump_after=dump_after, verify=debug)
    if debug:
        for name, seconds in ctx.timings.items():
            print(f"adlc: opt {name}: {seconds * 1e3:.2f} ms", file=sys.stderr)
        stats = ", ".join(f"{k}={v}" for k, v in ctx.stats.items() if v)
        print(f"adlc: opt stats: {stats or 'nothing changed'}", file=sys.stderr)
    return program


def _schema(schema):
    from adlc.runtime.schemas import Schema, get_schema

    if isinstance(schema, Schema):
        return schema
    return get_schema(schema or "nanoaod")


def compile_analysis(analysis: str | Path, *, schema=None, backend: str = "numba",
                     cutlang_compat: bool = False, optimise: bool = True):
    """(Program, GeneratedModule) for an ADL file and an input schema; the Program is the
    optimised one unless `optimise=False`."""
    from adlc.backends import get_backend

    program = optimise_program(lower_file(analysis, cutlang_compat=cutlang_compat),
                               optimise=optimise)
    return program, get_backend(backend).generate(program, _schema(schema))


def _prepare(analysis, inputs, *, schema, backend, tree, cutlang_compat, program=None,
             schema_file=None, optimise=True, count_all=True):
    """(GeneratedModule, InputSet). Analysis errors come before any file is opened, and bad
    inputs before anything is compiled. `schema_file`: a TOML schema (docs/schemas.md), which
    also names the tree unless `tree` does. `count_all=False`: see `open_inputs` (a file
    whose tree turns out corrupt is then reported after compiling)."""
    from adlc.backends import get_backend
    from adlc.runtime.reader import open_inputs
    from adlc.runtime.schemas import load_schema_file

    if program is None:
        program = lower_file(analysis, cutlang_compat=cutlang_compat)
    program = optimise_program(program, optimise=optimise)
    if schema_file is not None:
        if schema:
            from adlc.errors import AdlUsageError

            raise AdlUsageError.one("give either --format or --schema-file, not both")
        schema = load_schema_file(schema_file)
        tree = tree or schema.tree or None
    input_set = open_inputs(list(inputs), tree, count_all=count_all)
    resolved = _schema(schema) if schema else input_set.schema()
    input_set = input_set.with_schema(resolved)  # e.g. MET from Delphes' MissingET.MET
    return get_backend(backend).generate(program, resolved), input_set


def run_analysis(analysis: str | Path, inputs, *, schema=None, chunk_size: int = 200_000,
                 max_events: int | None = None, jobs: int = 1, backend: str = "numba",
                 progress=None, tree: str | None = None, cutlang_compat: bool = False,
                 schema_file=None, optimise: bool = True):
    """Compile `analysis` and run it over `inputs` (paths or globs); the merged RunResult.
    `optimise=False` skips the optimiser (`adlc run --no-opt`)."""
    from adlc.runtime.execute import execute

    gen, input_set = _prepare(analysis, inputs, schema=schema, backend=backend, tree=tree,
                              cutlang_compat=cutlang_compat, schema_file=schema_file,
                              optimise=optimise, count_all=_count_all(jobs, max_events))
    return execute(gen, input_set, chunk_size=chunk_size, max_events=max_events, jobs=jobs,
                   progress=progress)


def _count_all(jobs: int, max_events: int | None) -> bool:
    """Whether the parent counts every input before the run. A -j run leaves the files
    between the first and the last to the processes that read them, which count them in
    parallel (~20 ms each); `--max-events` needs every count first, to know where to stop."""
    return jobs <= 1 or max_events is not None


class _Progress:
    """`[####      ] 400000/1000000 events  512,345 ev/s` on one line of a terminal; without
    a total (files not counted yet, `-j`), `400000 events  512,345 ev/s`, ended by `end()`."""

    def __init__(self, total: int | None, stream=None):
        self.total = total
        self.stream = stream or sys.stderr
        self.open = False   # a line is written and not ended yet

    def __call__(self, done: int, elapsed: float) -> None:
        rate = done / elapsed if elapsed > 0 else 0.0
        if self.total is None:
            self.stream.write(f"\r{done} events  {rate:,.0f} ev/s")
            self.open = True
        else:
            frac = min(done / self.total, 1.0) if self.total else 1.0
            bar = "#" * int(30 * frac)
            self.stream.write(f"\r[{bar:<30}] {done}/{self.total} events  {rate:,.0f} ev/s")
            self.open = done < self.total
            if not self.open:
                self.stream.write("\n")
        self.stream.flush()

    def end(self) -> None:
        if self.open:
            self.stream.write("\n")
            self.stream.flush()
            self.open = False


def run_command(analysis, inputs, *, outdir=None, schema=None, chunk_size=200_000,
                max_events=None, jobs=1, backend="numba", plots=False, force=False,
                optimise=True, quiet=False, cutlang_compat=False, tree=None, progress=None,
                schema_file=None):
    """`adlc run`: run, print the cutflow table, write ROOT/JSON (and plots) to `outdir`.

    `progress`: None shows the progress bar when stderr is a terminal and not `quiet`; True or
    False forces it. Everything is checked before any data is read (the analysis, whether
    `outdir` would be overwritten, the inputs and their tree), and the outputs are written
    only once the whole run succeeded, all together (see writers.write_outputs).
    """
    from adlc.runtime.execute import execute
    from adlc.runtime.reader import file_info
    from adlc.runtime.writers import (
        check_outdir,
        default_versions,
        format_cutflow,
        format_prints,
        write_outputs,
    )

    stem = Path(analysis).stem
    outdir = Path(outdir) if outdir else Path("adlc-out") / stem
    program = lower_file(analysis, cutlang_compat=cutlang_compat)  # before touching any data
    check_outdir(outdir, analysis=stem, plots=plots, overwrite=force)
    gen, input_set = _prepare(analysis, inputs, schema=schema, backend=backend, tree=tree,
                              cutlang_compat=cutlang_compat, program=program,
                              schema_file=schema_file, optimise=optimise,
                              count_all=_count_all(jobs, max_events))
    if progress is None:
        progress = not quiet and sys.stderr.isatty()
    total = input_set.num_entries  # None while some files are not counted
    if max_events is not None and total is not None:
        total = min(max_events, total)
    bar = _Progress(total) if progress else None
    try:
        result = execute(gen, input_set, chunk_size=chunk_size, max_events=max_events,
                         jobs=jobs, progress=bar)
    finally:
        if bar is not None:
            bar.end()
    infos = []
    for path in input_set.paths:
        try:
            infos.append(file_info(path))
        except AdlError:  # a URL, or a file gone since it was read: record what we know
            infos.append({"path": path})
    written = write_outputs(result, outdir, analysis=stem, plots=plots, overwrite=force,
                            inputs=infos, versions=default_versions())
    prints = format_prints(result)
    if prints:  # a debugging aid: shown even with quiet
        print(prints)
    if not quiet:
        print(format_cutflow(result))
        shown = [p.name for p in written if p.parent == outdir]
        if plots:
            shown.append(f"plots/ ({sum(p.parent != outdir for p in written)} PNG)")
        print(f"\nwrote {', '.join(shown)} to {outdir}")
    return result


def dump(analysis, *, stage: str = "ir", backend: str = "numba", schema: str = "nanoaod",
         dump_after: str | None = None) -> str:
    """The AST, the IR as lowered (`ir`), the optimised IR (`opt`; with `dump_after`, the IR
    after that optimiser pass) or the generated code (of the optimised IR)."""
    if dump_after is not None:
        from adlc.errors import AdlUsageError
        from adlc.opt import check_pass_name

        check_pass_name(dump_after)
        if stage != "opt":
            raise AdlUsageError.one("--dump-after shows the IR after an optimiser pass",
                                    hint="use it with --stage opt")
    if stage == "ast":
        tree, _ = _parse(analysis)
        try:
            from adlc.frontend.dump import dump_ast  # type: ignore[attr-defined]

            return dump_ast(tree)
        except ImportError:
            return repr(tree) + "\n"
    if stage in ("ir", "opt"):
        from adlc.ir.printer import print_program

        program = lower_file(analysis)
        if stage == "opt":
            program = optimise_program(program, dump_after=dump_after)
        return print_program(program)
    if stage == "code":
        _, gen = compile_analysis(analysis, schema=schema, backend=backend)
        return gen.source
    raise ValueError(f"unknown stage {stage!r}")
