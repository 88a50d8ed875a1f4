"""Normalisations that need to see the whole file, not one line.

* `jets_0` is `jets[0]` (old CutLang indexing) when `jets` is a collection and `jets_0`
  itself is not defined, so `s_2` stays an identifier.
* Inside an object or composite block, a bare attribute (`select pt > 30`, adl2tnm and
  learn-adl) is that attribute of the current candidate: `pT(this)`.
* CutLang dialect: a ternary inside an object block (`select abs(eta(Jet)) < 2 ? pT(Jet) > 25
  : pT(Jet) > 40`) is what CutLang computes, not the per-candidate `(c and a) or (not c and
  b)`: the condition is per candidate, each `f(Jet)` in the branches is the SUM of f over the
  whole source collection (`_cutlang_object_ternaries`, docs/cutlang-differences.md).
"""

from __future__ import annotations

import re
from dataclasses import replace

from adlc.frontend import ast as A
from adlc.frontend.names import COLLECTIONS, EVENT_NAMES, canonical_attribute

_OLD_INDEX = re.compile(r"^(.*[A-Za-z].*?)_(-?\d+)$")


def normalise(analysis: A.Analysis) -> A.Analysis:
    defined = _defined_names(analysis)
    # METLV_0 is METLV[0], the MET four-vector, in CutLang's old index syntax.
    collections = set(COLLECTIONS) | {"METLV"} | {i.name for i in analysis.items
                                      if isinstance(i, (A.ObjectDef, A.Composite))}

    def old_index(node):
        if isinstance(node, A.Name) and node.id.endswith("_") and node.id[:-1] in collections:
            return A.Name(node.id[:-1], span=node.span)  # CutLang's `jets_`: the collection
        if isinstance(node, A.Name) and node.id not in defined:
            match = _OLD_INDEX.match(node.id)
            if match and match.group(1) in collections:
                base = A.Name(match.group(1), span=node.span)
                return A.Index(base, A.Number(int(match.group(2)), match.group(2)),
                               span=node.span)
        return node

    regions = {i.name for i in analysis.items if isinstance(i, A.Region)}
    items = []
    for item in analysis.items:
        if any(isinstance(n, A.Name) and "_" in n.id for n in A.walk(item)):
            item = A.rewrite(item, old_index)
        if isinstance(item, A.ObjectDef):
            item = _delphes_takes(item, defined)
        if isinstance(item, (A.ObjectDef, A.Composite)):
            item = _bare_attributes(item, defined | collections)
        elif isinstance(item, A.Region):
            item = _select_region(item, regions)
        items.append(item)
    if analysis.dialect == "cutlang" and not lhada_file(items):
        items = _cutlang_object_ternaries(items, defined)
    return replace(analysis, items=tuple(items))


# adl2tnm's early Delphes examples (monophoton ATLASEXOT1704.0384_Delphes.adl) take the
# ntuple's collections with a `Delphes_` prefix: `take Delphes_Photon`, `take Delphes_scalarHT`.
_DELPHES_TAKES = {name.lower(): name for name in
                  ("Photon", "Electron", "Muon", "Jet", "FatJet", "Tau", "Track", "Particle",
                   "GenPart", "MissingET", "ScalarHT")}


def _delphes_takes(obj: A.ObjectDef, defined: set[str]) -> A.ObjectDef:
    """`take Delphes_Photon` is `take Photon` (unless the file defines that name)."""
    def fix(take: A.Take) -> A.Take:
        src = take.source
        if (isinstance(src, A.Name) and src.id.startswith("Delphes_")
                and src.id not in defined
                and (name := _DELPHES_TAKES.get(src.id[len("Delphes_"):].lower()))):
            return replace(take, source=A.Name(name, span=src.span))
        return take

    takes = tuple(fix(t) for t in obj.take)
    return obj if all(a is b for a, b in zip(takes, obj.take, strict=True)) \
        else replace(obj, take=takes)


def _select_region(region: A.Region, regions: set[str]) -> A.Region:
    """adl2tnm inherits with `select regionName`: the same as a bare `regionName` line."""
    commands = tuple(
        A.Use(c.cond.id, span=c.span)
        if isinstance(c, A.Select) and isinstance(c.cond, A.Name) and c.cond.id in regions
        else c for c in region.commands)
    return replace(region, commands=commands)


def _defined_names(analysis: A.Analysis) -> set[str]:
    names: set[str] = set()
    for item in analysis.items:
        name = getattr(item, "name", None)
        if isinstance(name, str):
            names.add(name)
    return names


def _bare_attributes(block, defined: set[str]):
    """`pt` alone inside an object means the candidate's pT (unless a define is named so)."""
    bindings = {t.binding for t in block.take if t.binding}
    if getattr(block, "alias", None):
        bindings.add(block.alias)
    bindings |= {n.name for t in block.take for n in A.walk(t) if isinstance(n, A.Bound)}
    bindings |= {c.name for c in block.commands if isinstance(c, A.Member)}
    local = {c.name for c in block.commands if isinstance(c, A.DefineAttr)}

    def fix(node):
        if (isinstance(node, A.Name) and node.id not in defined and node.id not in bindings
                and node.id not in EVENT_NAMES and node.id not in COLLECTIONS):
            attribute = canonical_attribute(node.id)
            # Any other unknown bare name is an attribute of the candidate too (adl2tnm:
            # `select btagDeepB > 0.4`); names with `_` are left for branch lookup.
            if attribute is not None or node.id in local or "_" not in node.id:
                return A.Call(attribute or node.id, (A.This(span=node.span),), span=node.span)
        return node

    if not any(isinstance(n, A.Name) and n.id not in defined
               for c in block.commands for n in A.walk(c)):
        return block
    commands = tuple(A.rewrite(c, fix) for c in block.commands)
    return replace(block, commands=commands)


# --------------------------------------------------------------------------- object ternaries
# CutLang (master 0865701, CLA v2.15.1) evaluates `select c ? a : b` inside an object block so:
# ObjectNode.cpp createNewJet (and createNewEle/Muo/...) asks each criterion for its particles
# (`getParticlesAt(particles, 0)`) and, for each candidate from the last down, points THOSE
# particles at the candidate before evaluating the criterion, erasing the candidate if it fails.
# IfNode hands over only its condition's particles (`condition->getParticlesAt`), so in the
# branches `Jet` keeps the index parse.y gave it, 6213 ("all of them", collection "JET" or the
# object's name), and FuncNode::evaluate returns, for index 6213, the sum of f over every
# element of that collection. So per candidate: c(candidate) ? a(sums) : b(sums), the sums
# taken over the whole source collection (before this block's own selections). adlc writes each
# such sum as an event-level define, `sum(f(Union(source)))`: the one-part Union keeps the sum's
# loop apart from the candidate's own loop over the same collection (the semantic pass refuses a
# reducer over the candidate's collection in its object, and the numba backend would reuse the
# candidate's value inside such a loop).
_SUM_PREFIX = "cutlangSum"


def lhada_file(items) -> bool:
    """An adl2tnm/LHADA or learn-adl file written without the dialect directive (the same test
    as the semantic pass's): there `?:` is C++'s, per candidate."""
    return any(isinstance(i, A.Composite) or (isinstance(i, A.ObjectDef) and (
        len(i.take) > 1 or any(t.binding for t in i.take))) for i in items)


def _cutlang_object_ternaries(items: list, defined: set[str]) -> list:
    out: list = []
    made: dict[str, str] = {}  # (attribute, source) key -> define name
    taken = set(defined)
    for item in items:
        if isinstance(item, A.ObjectDef):
            item, defines = _object_ternaries(item, made, taken)
            out.extend(defines)
        out.append(item)
    return out


def _object_ternaries(obj: A.ObjectDef, made: dict[str, str], taken: set[str]):
    if len(obj.take) != 1 or obj.take[0].binding or obj.alias:
        return obj, []
    source = obj.take[0].source
    if not isinstance(source, A.Name):
        return obj, []
    names = {source.id, COLLECTIONS.get(source.id, source.id)}

    def mentions(e) -> bool:
        return any(isinstance(n, A.This) or (isinstance(n, A.Name) and n.id in names)
                   for n in A.walk(e))

    defines: list[A.Define] = []

    def define_for(call: A.Call) -> str:
        key = f"{call.func}\0{source.id}"
        if key not in made:
            name = f"{_SUM_PREFIX}_{call.func}_{source.id}"
            while name in taken:
                name += "_"
            taken.add(name)
            made[key] = name
            whole = A.Union((A.Name(source.id, span=call.span),), span=call.span)
            value = A.Call("sum", (A.Call(call.func, (whole,), span=call.span),), span=call.span)
            defines.append(A.Define(name, value, span=call.span, generated=True))
        return made[key]

    def attribute_of_candidate(node) -> bool:
        return (isinstance(node, A.Call) and len(node.args) == 1
                and isinstance(node.args[0], A.Name) and node.args[0].id in names
                and canonical_attribute(node.func) is not None)

    def summed(node):
        return A.Name(define_for(node), span=node.span) if attribute_of_candidate(node) else node

    def unsummed_use(e) -> bool:
        """A candidate used other than as `f(candidate)` (dR(Jet, x), ...)."""
        marker = A.Number(0)
        return mentions(A.rewrite(e, lambda n: marker if attribute_of_candidate(n) else n))

    commands, changed = [], False
    for cmd in obj.commands:
        if isinstance(cmd, A.Select) and isinstance(cmd.cond, A.Ternary):
            t = cmd.cond
            if (mentions(t.cond) and not any(isinstance(n, A.This) for n in A.walk(t))
                    and not unsummed_use(t.then) and not unsummed_use(t.other)
                    and mentions(A.Binary("and", t.then, t.other))):
                then, other = A.rewrite(t.then, summed), A.rewrite(t.other, summed)
                cmd = replace(cmd, cond=replace(t, then=then, other=other))
                changed = True
        commands.append(cmd)
    if not changed:
        return obj, []
    return replace(obj, commands=tuple(commands)), defines


def restore_object_ternaries(analysis: A.Analysis) -> A.Analysis:
    """`analysis` without the defines `_cutlang_object_ternaries` made, each use of one written
    back as the `f(source)` it stands for (the printer writes the file as it was)."""
    made = {i.name: i.value.args[0] for i in analysis.items
            if isinstance(i, A.Define) and i.generated}
    if not made:
        return analysis

    def back(node):
        if isinstance(node, A.Name) and node.id in made:
            call = made[node.id]  # f(Union(source))
            return A.Call(call.func, (call.args[0].parts[0],), span=node.span)
        return node

    items = tuple(A.rewrite(i, back) for i in analysis.items
                  if not (isinstance(i, A.Define) and i.generated))
    return replace(analysis, items=items)
