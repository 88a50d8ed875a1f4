"""Dead-column elimination: objects and defines no output needs leave the program.

A backend reads the branches of everything the Program holds: it materialises every named
collection once per event and reads the attributes every node asks for. An object defined but
used by no region, or a define never used, would still cost its branches (and the work). The
outputs are the regions' steps and search bins; whatever they do not reach is dropped, so the
reader loads exactly the branches the cutflows, bins, histograms and tables need. (Within the
live nodes, each collection's attributes are those its uses ask for: the numba backend reads
only those, so `size(jets)` alone reads the jet counter and the branches of jets' own cuts.)
"""

from __future__ import annotations

import dataclasses

from adlc.ir.nodes import Cut, Node, Program, Weight

from .context import OptContext
from .rewrite import walk_all


def eliminate_dead_columns(prog: Program, ctx: OptContext) -> Program:
    """`prog` without the objects and defines that no region, bin or variation uses."""
    live = set(walk_all(output_roots(prog)))
    collections = tuple((name, n) for name, n in prog.collections if n in live)
    defines = tuple((name, n) for name, n in prog.defines if n in live)
    ctx.count("dce.removed_objects", len(prog.collections) - len(collections))
    ctx.count("dce.removed_defines", len(prog.defines) - len(defines))
    return dataclasses.replace(prog, collections=collections, defines=defines)


def output_roots(prog: Program) -> list[Node]:
    """The nodes the outputs are computed from: every region step and bin, and variations."""
    out: list[Node] = []
    for region in prog.regions:
        for step in region.steps:
            if isinstance(step, Cut):
                out.append(step.cond)
            elif isinstance(step, Weight):
                out.append(step.value)
            else:  # Fill, Record
                out.extend(step.values)
                if getattr(step, "loop", None) is not None:
                    out.append(step.loop)
        out.extend(b.cond for b in region.bins)
    for v in prog.variations:
        for old, new in v.replaces:
            out.extend((old, new))
    return out
