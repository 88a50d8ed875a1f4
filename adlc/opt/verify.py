"""An IR checker run between optimiser passes (in tests, and with ADLC_DEBUG=1): a pass that
breaks the IR's invariants fails here, naming the pass, instead of in a backend later."""

from __future__ import annotations

from adlc.ir import nodes as N
from adlc.ir.nodes import Node, Program, make

from .rewrite import program_roots

# op -> (argument types, result type); "*" after a type: any number of them
SIGNATURES: dict[str, tuple[tuple[str, ...], str]] = {
    "const": ((), "num"), "bool": ((), "bool"),
    "arith": (("num", "num"), "num"), "neg": (("num",), "num"), "b2n": (("bool",), "num"),
    "cmp": (("num", "num"), "bool"), "range": (("num", "num", "num"), "bool"),
    "and": (("bool", "bool"), "bool"), "or": (("bool", "bool"), "bool"),
    "not": (("bool",), "bool"), "ternary": (("bool", "num", "num"), "num"),
    "elem": (("coll",), "obj"), "attr": (("obj",), "num"), "size": (("coll",), "num"),
    "filter": (("coll", "bool"), "coll"), "quant": (("coll", "bool"), "bool"),
    "reduce": (("coll", "num", "num", "num"), "num"), "index": (("coll", "num"), "obj"),
    "union": (("coll*",), "coll"), "minmaxn": (("num*",), "num"),
    "minmax2": (("num", "num"), "num"), "vec_obj": (("obj",), "vec"),
    "vec_neg": (("vec",), "vec"), "vec_sum": (("vec*",), "vec"), "vattr": (("vec",), "num"),
}


class IRVerificationError(Exception):
    """The IR broke an invariant: a bug in the pass that produced it."""


def verify_program(prog: Program, after: str = "") -> None:
    """Raise IRVerificationError listing every problem found in `prog`."""
    problems = _node_problems(prog) + _program_problems(prog)
    if problems:
        where = f" after pass {after}" if after else ""
        raise IRVerificationError(f"invalid IR{where}:\n  " + "\n  ".join(problems[:20]))


def _node_problems(prog: Program) -> list[str]:
    out = []
    for n in N.walk(*program_roots(prog)):
        if make(n.op, n.args, n.attrs, n.type) is not n:
            out.append(f"{n!r} is not interned")
        sig = SIGNATURES.get(n.op)
        if sig is None:
            continue
        args, result = sig
        types = tuple(a.type for a in n.args)
        if n.type != result or not _matches(types, args):
            out.append(f"{n!r}: {n.op} of {list(types)} typed {n.type}, expected "
                       f"{list(args)} -> {result}")
    return out


def _matches(types: tuple[str, ...], expected: tuple[str, ...]) -> bool:
    if len(expected) == 1 and expected[0].endswith("*"):
        return len(types) > 0 and all(t == expected[0][:-1] for t in types)
    return types == expected


def _program_problems(prog: Program) -> list[str]:
    out = [f"object {name} is a {n.type}" for name, n in prog.collections
           if n.type != "coll" and n.op != "met"]
    out += [f"define {name} is a collection" for name, n in prog.defines if n.type == "coll"]
    for i, region in enumerate(prog.regions):
        out += [f"region {region.name}: {p}" for p in _step_problems(prog, region)]
        out += [f"region {region.name}: bin {b.label} is not a condition"
                for b in region.bins if b.cond.type != "bool"]
        out += _prefix_problems(prog, i, region)
    return out


def _step_problems(prog: Program, region: N.Region) -> list[str]:
    out = []
    for step in region.steps:
        if isinstance(step, N.Cut) and step.cond.type != "bool":
            out.append(f"cut {step.label} is a {step.cond.type}")
        elif isinstance(step, N.Weight) and step.value.type != "num":
            out.append(f"weight {step.label} is a {step.value.type}")
        elif isinstance(step, N.Fill):
            if not 0 <= step.hist < len(prog.histograms):
                out.append(f"fill of histogram #{step.hist}, which does not exist")
            if step.loop is not None and step.loop.type != "coll":
                out.append(f"fill {step.label} loops over a {step.loop.type}")
            out += [f"fill {step.label} of a {v.type}" for v in step.values if v.type != "num"]
        elif isinstance(step, N.Record):
            if not 0 <= step.table < len(prog.tables):
                out.append(f"record into table #{step.table}, which does not exist")
            if step.when is not None and step.when.type != "bool":
                out.append(f"record {step.label} is kept when a {step.when.type} holds")
    return out


def _prefix_problems(prog: Program, i: int, region: N.Region) -> list[str]:
    m = getattr(region, "prefix_gates", 0)
    if not m:
        return []
    source = getattr(region, "prefix_source", -1)
    if not 0 <= source < i:
        return [f"region {region.name} shares the gates of region #{source}, not an earlier one"]
    mine, theirs = _gates(region)[:m], _gates(prog.regions[source])[:m]
    if len(mine) < m or len(theirs) < m or any(a is not b for a, b in zip(mine, theirs,
                                                                          strict=True)):
        return [f"region {region.name}: its first {m} cuts/weights are not those of "
                f"{prog.regions[source].name}"]
    return []


def _gates(region: N.Region) -> list[Node]:
    return [s.cond if isinstance(s, N.Cut) else s.value for s in region.steps
            if isinstance(s, (N.Cut, N.Weight))]
