"""A deterministic text form of a Program: nodes numbered in first-use order, then regions."""

from __future__ import annotations

import hashlib

from adlc.ir.nodes import Cut, Fill, Node, Program, Record, Weight, walk


def _fmt_attr(a) -> str:
    if isinstance(a, float):
        return repr(a)
    return str(a)


def print_program(prog: Program) -> str:
    ids: dict[Node, str] = {}
    lines: list[str] = []
    names = {}
    for name, node in prog.collections:
        names.setdefault(node, name)

    def number(root: Node) -> str:
        for node in walk(root):
            if node in ids:
                continue
            ids[node] = f"%{len(ids)}"
            attrs = f"[{', '.join(_fmt_attr(a) for a in node.attrs)}]" if node.attrs else ""
            args = ", ".join(ids[a] for a in node.args)
            note = f"    # {names[node]}" if node in names else ""
            lines.append(f"{ids[node]} : {node.type} = {node.op}{attrs}({args}){note}")
        return ids[root]

    out: list[str] = []
    for name, node in prog.collections:
        out.append(f"object {name} = {number(node)}")
    for name, node in prog.defines:
        out.append(f"define {name} = {number(node)}")
    for i, h in enumerate(prog.histograms):
        axes = "; ".join(f"edges {list(a.edges)}" if a.edges else f"{a.bins} {a.low!r} {a.high!r}"
                         for a in h.axes)
        fixed = f" fixed {list(h.fixed)} entries {h.fixed_entries}" if h.fixed is not None else ""
        out.append(f"histogram #{i} {h.name} {h.title} {axes}{fixed}")
    for region in prog.regions:
        shared = getattr(region, "prefix_gates", 0)  # adlc.opt.share_selection_prefixes
        note = (f"    # first {shared} cuts/weights shared with region "
                f"{prog.regions[region.prefix_source].name}" if shared else "")
        out.append(f"region {region.name}{note}")
        for step in region.steps:
            if isinstance(step, Cut):
                out.append(f"  cut {number(step.cond)}    # {step.label}")
            elif isinstance(step, Weight):
                out.append(f"  weight {number(step.value)}    # {step.label}")
            elif isinstance(step, Fill):
                vals = ", ".join(number(v) for v in step.values)
                loop = f" per element of {number(step.loop)}" if step.loop is not None else ""
                out.append(f"  fill #{step.hist} ({vals}){loop}    # {step.label}")
            elif isinstance(step, Record):
                vals = ", ".join(number(v) for v in step.values)
                t = prog.tables[step.table]
                when = f" when {number(step.when)}" if step.when is not None else ""
                out.append(f"  {t.kind} #{step.table} {t.name} ({vals}){when}")
        for b in region.bins:
            out.append(f"  bin {number(b.cond)}    # {b.label}")
        for index in region.fixed:
            out.append(f"  fixed #{index}")
    if prog.variations:
        out.extend(f"variation {v.name}" for v in prog.variations)
    return "\n".join(lines + [""] + out) + "\n"


def program_hash(prog: Program) -> str:
    return hashlib.sha256(print_program(prog).encode()).hexdigest()
