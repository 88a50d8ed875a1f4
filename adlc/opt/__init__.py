"""The optimiser: a tuple of pure passes, Program -> Program, one module each (DESIGN.md §4).

    PIPELINE = (fold_constants, simplify, eliminate_common_subexpressions,
                share_selection_prefixes, eliminate_dead_columns)

Every pass keeps the numbers bit for bit: the cutflows, bins, histograms and tables of an
optimised run are those of the unoptimised one (tests/opt checks this on generated analyses).
`optimise` runs the pipeline, times each pass into `ctx.timings`, and can stop after a named
pass (`adlc dump --stage opt --dump-after PASS`) or check the IR after each (`verify=True`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from adlc.errors import AdlUsageError
from adlc.ir.nodes import Program

from .context import OptContext
from .eliminate_common_subexpressions import eliminate_common_subexpressions
from .eliminate_dead_columns import eliminate_dead_columns
from .fold_constants import fold_constants
from .share_selection_prefixes import SharedPrefixRegion, share_selection_prefixes
from .simplify import simplify
from .verify import IRVerificationError, verify_program

Pass = Callable[[Program, OptContext], Program]

PIPELINE: tuple[Pass, ...] = (
    fold_constants,
    simplify,
    eliminate_common_subexpressions,
    share_selection_prefixes,
    eliminate_dead_columns,
)
PASS_NAMES: tuple[str, ...] = tuple(p.__name__ for p in PIPELINE)

__all__ = ["PASS_NAMES", "PIPELINE", "IRVerificationError", "OptContext", "SharedPrefixRegion",
           "check_pass_name", "optimise", "verify_program"]


def check_pass_name(name: str) -> str:
    """`name` if it is a pass of the pipeline, else an AdlUsageError listing them."""
    if name not in PASS_NAMES:
        raise AdlUsageError.one(f"unknown optimiser pass {name!r}",
                                hint=f"the passes, in order: {', '.join(PASS_NAMES)}")
    return name


def optimise(prog: Program, ctx: OptContext | None = None, *, dump_after: str | None = None,
             verify: bool = False) -> Program:
    """`prog` after the PIPELINE (after its passes up to `dump_after` when given).

    `verify`: check the IR after every pass (IRVerificationError names the culprit)."""
    ctx = ctx if ctx is not None else OptContext()
    if dump_after is not None:
        check_pass_name(dump_after)
    if verify:
        verify_program(prog, "lowering")
    for opt_pass in PIPELINE:
        start = time.perf_counter()
        prog = opt_pass(prog, ctx)
        ctx.timings[opt_pass.__name__] = time.perf_counter() - start
        if verify:
            verify_program(prog, opt_pass.__name__)
        if opt_pass.__name__ == dump_after:
            break
    return prog
