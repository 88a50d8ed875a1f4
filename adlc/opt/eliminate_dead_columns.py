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

from adlc.ir.nodes import Node, Program, walk

from .context import OptContext


def output_roots(prog: Program) -> list[Node]:
    """The nodes the outputs are computed from: region steps and bins, and variations."""
    out = prog.output_roots()
    for v in prog.variations:
        for old, new in v.replaces:
            out.extend((old, new))
    return out


def eliminate_dead_columns(prog: Program, ctx: OptContext) -> Program:
    """`prog` without the objects and defines that no region, bin or variation uses."""
    live = set(walk(*output_roots(prog)))
    collections = tuple((name, n) for name, n in prog.collections if n in live)
    defines = tuple((name, n) for name, n in prog.defines if n in live)
    ctx.count("dce.removed_objects", len(prog.collections) - len(collections))
    ctx.count("dce.removed_defines", len(prog.defines) - len(defines))
    return dataclasses.replace(prog, collections=collections, defines=defines)
