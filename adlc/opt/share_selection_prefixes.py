"""Shared selection prefixes: a region that inherits or repeats the first cuts of an earlier
region reuses that region's selection state instead of evaluating the cuts again.

The state of a region after each of its cuts and weights (its "gates") is (passed so far,
weight so far); Fill and Record steps do not change it. If region R's first m gates are the
same nodes as region P's first m gates (P before R), R's state after each of them is P's, so
a backend can copy P's state there (and still count R's cutflow rows, fill R's histograms and
run R's prints). The pass marks R as a `SharedPrefixRegion(prefix_source=P's index,
prefix_gates=m)`; a backend that ignores the mark computes the same numbers.

A gate holding a `~=` (it binds the region's placeholders) or a placeholder ends a prefix:
placeholders are per region. A prefix of constant gates only (`select ALL`) is not marked;
there is nothing to save.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from adlc.ir import nodes as N
from adlc.ir.nodes import Node, Program, Region

from .context import OptContext
from .rewrite import is_const

PER_REGION = frozenset({"optimise", "slot"})


@dataclass(frozen=True, slots=True)
class SharedPrefixRegion(Region):
    """A region whose first `prefix_gates` cuts/weights are those of region number
    `prefix_source` (an earlier region of the same Program)."""

    prefix_source: int = -1
    prefix_gates: int = 0


def share_selection_prefixes(prog: Program, ctx: OptContext) -> Program:
    """`prog` with each region that starts like an earlier one marked to reuse its state."""
    gates = [_gates(r) for r in prog.regions]
    regions = []
    for i, region in enumerate(prog.regions):
        plain = _unmarked(region)
        source, m = _longest_prefix(gates, i)
        if m:
            regions.append(SharedPrefixRegion(plain.name, plain.steps, plain.bins, plain.fixed,
                                              prefix_source=source, prefix_gates=m))
            ctx.count("prefix.regions")
            ctx.count("prefix.shared_gates", m)
        else:
            regions.append(plain)
    return dataclasses.replace(prog, regions=tuple(regions))


def gate_steps(region: Region) -> list[N.Cut | N.Weight]:
    """The steps of `region` that change its selection state, in order."""
    return [s for s in region.steps if isinstance(s, (N.Cut, N.Weight))]


def _gates(region: Region) -> list[tuple[str, Node]]:
    """The shareable leading gates of `region`, as (kind, node)."""
    out = []
    for step in gate_steps(region):
        node = step.cond if isinstance(step, N.Cut) else step.value
        if any(n.op in PER_REGION for n in N.walk(node)):
            break
        out.append((type(step).__name__, node))
    return out


def _longest_prefix(gates: list[list[tuple[str, Node]]], i: int) -> tuple[int, int]:
    """(earlier region, gates shared) with the most shared gates, the earliest on a tie;
    (-1, 0) when no earlier region shares a gate that is not constant."""
    best, best_m = -1, 0
    for j in range(i):
        m = 0
        for mine, theirs in zip(gates[i], gates[j], strict=False):
            if mine[0] != theirs[0] or mine[1] is not theirs[1]:
                break
            m += 1
        if m > best_m and any(not is_const(node) for _, node in gates[i][:m]):
            best, best_m = j, m
    return best, best_m


def _unmarked(region: Region) -> Region:
    if isinstance(region, SharedPrefixRegion):
        return Region(region.name, region.steps, region.bins, region.fixed)
    return region
