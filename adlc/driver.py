"""What `adlc run` and `adlc dump` do: parse, check, lower, generate, compile, execute, write.

Public API:
  compile_analysis(path_or_source, *, schema, backend="numba", file=None) -> (Program, GeneratedModule)
  run_analysis(analysis, inputs, *, schema=None, chunk_size, max_events, jobs, backend,
               progress=None) -> RunResult
  run_command(analysis, inputs, *, outdir, schema, chunk_size, max_events, jobs, backend,
              plots, force, optimise, quiet) -> RunResult
  dump(analysis, *, stage, backend, schema) -> str       # stage: ast | ir | opt | code
"""

from __future__ import annotations

import sys
from pathlib import Path

from adlc.errors import AdlError


def _parse(analysis: str | Path):
    from adlc.frontend.parser import parse, read_source

    source = read_source(Path(analysis))
    return parse(source, str(analysis)), source


def lower_file(analysis: str | Path):
    """The IR Program of an ADL file (AdlSyntaxError / AdlSemanticError on bad input)."""
    from adlc.semantic.lower import lower

    tree, source = _parse(analysis)
    return lower(tree, source)


def _schema(schema):
    from adlc.runtime.schemas import Schema, get_schema

    if isinstance(schema, Schema):
        return schema
    return get_schema(schema or "nanoaod")


def compile_analysis(analysis: str | Path, *, schema=None, backend: str = "numba"):
    """(Program, GeneratedModule) for an ADL file and an input schema."""
    from adlc.backends import get_backend

    program = lower_file(analysis)
    return program, get_backend(backend).generate(program, _schema(schema))


def run_analysis(analysis: str | Path, inputs, *, schema=None, chunk_size: int = 200_000,
                 max_events: int | None = None, jobs: int = 1, backend: str = "numba",
                 progress=None, tree: str | None = None):
    """Compile `analysis` and run it over `inputs` (paths or globs); the merged RunResult."""
    from adlc.runtime.execute import execute
    from adlc.runtime.reader import open_inputs

    program = lower_file(analysis)  # syntax/semantic errors before touching the data
    input_set = open_inputs(list(inputs), tree)
    resolved = _schema(schema) if schema else input_set.schema()
    from adlc.backends import get_backend

    gen = get_backend(backend).generate(program, resolved)
    return execute(gen, input_set, chunk_size=chunk_size, max_events=max_events, jobs=jobs,
                   progress=progress)


class _Progress:
    def __init__(self, total: int):
        self.total = total

    def __call__(self, done: int, elapsed: float) -> None:
        rate = done / elapsed if elapsed > 0 else 0.0
        frac = done / self.total if self.total else 1.0
        bar = "#" * int(30 * frac)
        sys.stderr.write(f"\r[{bar:<30}] {done}/{self.total} events  {rate:,.0f} ev/s")
        sys.stderr.flush()
        if done >= self.total:
            sys.stderr.write("\n")


def run_command(analysis, inputs, *, outdir=None, schema=None, chunk_size=200_000,
                max_events=None, jobs=1, backend="numba", plots=False, force=False,
                optimise=True, quiet=False):
    """`adlc run`: run, print the cutflow table, write ROOT/JSON (and plots) to `outdir`."""
    from adlc.runtime.reader import file_info, open_inputs
    from adlc.runtime.writers import default_versions, format_cutflow, write_outputs

    stem = Path(analysis).stem
    outdir = Path(outdir) if outdir else Path("adlc-out") / stem
    program = lower_file(analysis)
    input_set = open_inputs(list(inputs))
    resolved = _schema(schema) if schema else input_set.schema()
    from adlc.backends import get_backend
    from adlc.runtime.execute import execute

    gen = get_backend(backend).generate(program, resolved)
    total = input_set.num_entries if max_events is None else min(max_events,
                                                                 input_set.num_entries)
    progress = _Progress(total) if (not quiet and sys.stderr.isatty()) else None
    result = execute(gen, input_set, chunk_size=chunk_size, max_events=max_events, jobs=jobs,
                     progress=progress)
    if not quiet:
        print(format_cutflow(result))
    infos = []
    for path in input_set.paths:
        try:
            infos.append(file_info(path))
        except AdlError:
            infos.append({"path": path})
    write_outputs(result, outdir, analysis=stem, plots=plots, overwrite=force, inputs=infos,
                  versions=default_versions())
    return result


def dump(analysis, *, stage: str = "ir", backend: str = "numba", schema: str = "nanoaod") -> str:
    """The AST, IR (`ir`/`opt`: no optimiser passes yet, so the same) or generated code."""
    if stage == "ast":
        tree, _ = _parse(analysis)
        try:
            from adlc.frontend.dump import dump_ast  # type: ignore[attr-defined]

            return dump_ast(tree)
        except ImportError:
            return repr(tree) + "\n"
    if stage in ("ir", "opt"):
        from adlc.ir.printer import print_program

        return print_program(lower_file(analysis))
    if stage == "code":
        _, gen = compile_analysis(analysis, schema=schema, backend=backend)
        return gen.source
    raise ValueError(f"unknown stage {stage!r}")
