"""Normalisations that need to see the whole file, not one line.

* `jets_0` is `jets[0]` (old CutLang indexing) when `jets` is a collection and `jets_0`
  itself is not defined, so `s_2` stays an identifier.
* Inside an object or composite block, a bare attribute (`select pt > 30`, adl2tnm and
  learn-adl) is that attribute of the current candidate: `pT(this)`.
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
        if isinstance(item, (A.ObjectDef, A.Composite)):
            item = _bare_attributes(item, defined | collections)
        elif isinstance(item, A.Region):
            item = _select_region(item, regions)
        items.append(item)
    return replace(analysis, items=tuple(items))


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
