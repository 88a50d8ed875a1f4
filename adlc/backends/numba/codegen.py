"""IR Program -> Python source of one fused @njit kernel (one pass over a chunk for all regions).

Per event the kernel sets up every collection in dependency order: input collections are
read in place from the flat input arrays (widened to float64 where read), `filter` and `sort`
keep index lists into their parent's storage, and only built collections (`union`, COMB,
composites, rescaled objects) and derived kinematics are copied into preallocated float64
buffers. Then it runs every region's steps in order, with flat `if ok:` blocks (no deep
nesting), and fills the cutflow, bin and histogram accumulators; a region that starts with
the cuts of an earlier one starts from that region's state, and its rows for those cuts are
copied after the loop (plan_prefixes). A long kernel is split into several functions, each
with its own event loop (KERNEL_LINES), as numba's compile time grows faster than linearly
with the size of one function. Searches over tuples (`~=`, COMB) compute each object's
four-vector once per event before their loops and, where the searched value is symmetric in
its placeholders, visit unordered tuples only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from adlc.backends.common import SchemaBindings, direct_branch
from adlc.errors import Diagnostic
from adlc.ir import nodes as N
from adlc.ir.nodes import Node
from adlc.runtime import schemas as S

from .prelude import PRELUDE

UNRESOLVED = 98765432.1   # what an unresolved ~= placeholder reads (quirk 21)
COMB_SUMS = frozenset({"q", "pdgID"})   # attributes of a COMB candidate summed over members
DERIVED_KIN = {"e": 0, "p": 1, "pz": 2, "rap": 3, "theta": 4, "abseta": 5}
VEC_FUNCS = {"pT": "_v_pt", "m": "_v_m", "eta": "_v_eta", "phi": "_v_phi", "E": "_v_e",
             "P": "_v_p", "pz": "_v_pz", "rap": "_v_rap", "theta": "_v_theta",
             "absEta": "_v_abseta", "px": "_v_px", "py": "_v_py"}
MATH = {"abs": "abs", "sqrt": "np.sqrt", "cos": "np.cos", "sin": "np.sin", "tan": "np.tan",
        "sinh": "np.sinh", "cosh": "np.cosh", "tanh": "np.tanh", "exp": "np.exp",
        "log": "np.log"}
BASE_NEEDS = {"e", "p", "pz", "rap", "theta", "abseta"}
COMB_MEMBER = "_member"   # hidden attribute of a COMB candidate (Lowerer.daughter)
ORIGIN = "_origin"       # hidden attribute: which input object a candidate is (disjoint)
ORIGIN_STRIDE = 1e9      # origin = base collection number * stride + index in the event
CODEGEN_VERSION = "3"
KERNEL_LINES = 1000      # a kernel longer than this continues in another one (see generate)


@dataclass
class Layout:
    """Where each region's numbers live in the accumulator arrays (for the runtime)."""

    columns: list[str]                                   # chunk keys, in kernel-argument order
    regions: list[dict] = field(default_factory=list)    # name, rows, labels, bins, hists
    histograms: list[dict] = field(default_factory=list)  # name, title, axes, offset, size
    n_rows: int = 0
    n_bins: int = 0
    n_hist_cells: int = 0
    tables: list[dict] = field(default_factory=list)     # name, kind, columns, label, col0
    n_table_cols: int = 0


@dataclass
class GeneratedModule:
    source: str
    entry: str
    layout: Layout
    missing_as_zero: frozenset[str] = frozenset()
    # per-object column -> its collection's offsets key: the reader checks each is a list per
    # event with those counts (runtime.execute.object_columns), so no kernel reads past its end
    object_columns: dict[str, str] = field(default_factory=dict)


def _num(x: float) -> str:
    if math.isnan(x):
        return "np.nan"
    if math.isinf(x):
        return "np.inf" if x > 0 else "-np.inf"
    return repr(float(x))


def _walk_values(root: Node) -> list[Node]:
    from adlc.semantic.lower import walk_values

    return walk_values(root)


def _row(values) -> str:
    return ", ".join(_num(v) for v in values)


class _Gen(SchemaBindings):
    def __init__(self, prog: N.Program, schema: S.Schema):
        self.prog = prog
        self.schema = schema
        self.lines: list[str] = []
        self.ind = 1
        self.scopes: list[dict[Node, object]] = [{}]
        self.tmp = 0
        self.columns: dict[str, str] = {}      # chunk key -> argument name
        self.object_columns: dict[str, str] = {}  # per-object column -> its offsets key
        self.loops: dict[Node, str] = {}       # coll -> loop variable
        # (scope depth, coll) of each loop that rebinds a collection an enclosing loop already
        # walks (`sum(pT(Jet))` inside the candidate loop of an object taking Jet): values of
        # the outer element cached below that depth are not the inner element's
        self.shadows: list[tuple[int, Node]] = []
        self._reads: dict[tuple[Node, Node], bool] = {}
        self.coll_id: dict[Node, int] = {}
        self.needs: dict[Node, set[str]] = {}
        self.consts: list[str] = []
        self.diags: list[Diagnostic] = []
        self.p4_colls: set[Node] = set()         # collections passed to external functions
        self.externals: dict[str, str] = {}      # impl "module:function" -> global name
        self.tables: dict[tuple, str] = {}       # table attrs -> global array name
        # placeholder (slot/member) -> (index variable, whether it may be unresolved: -1)
        self.bound: dict[Node, tuple[str, bool]] = {}
        # collections whose objects' four-vectors sit in p4x{k}.. during a scan (scan_p4)
        self.p4_live: dict[Node, int] = {}
        self.view: dict[Node, tuple[Node, str]] = {}   # filter/sorted -> (root, index list)
        self.p4_alloc: set[int] = set()
        self.alloc_end = 0       # where late allocations go (before the event loop)

    # --- small helpers -------------------------------------------------------------------
    def emit(self, text: str) -> None:
        self.lines.append("    " * self.ind + text)

    def new(self, prefix: str = "t") -> str:
        self.tmp += 1
        return f"{prefix}{self.tmp}"

    def col(self, key: str) -> str:
        if key not in self.columns:
            safe = "".join(ch if ch.isalnum() else "_" for ch in key)
            self.columns[key] = f"a{len(self.columns)}_{safe}"
        return self.columns[key]

    def lookup(self, node: Node):
        for depth in range(len(self.scopes) - 1, -1, -1):
            if node in self.scopes[depth]:
                if any(depth < level and self.reads_elem(node, coll)
                       for level, coll in self.shadows):
                    return None  # the outer loop's element: computed again for this one
                return self.scopes[depth][node]
        return None

    def reads_elem(self, node: Node, coll: Node) -> bool:
        key = (node, coll)
        if key not in self._reads:
            self._reads[key] = any(n.op == "elem" and n.args[0] == coll for n in N.walk(node))
        return self._reads[key]

    def loop_over(self, coll: Node, var: str) -> str | None:
        """Bind `coll`'s element to `var` for a nested loop (call after `push`); the binding
        it replaces, which `_restore_loop` puts back (after `pop`)."""
        outer = self.loops.get(coll)
        self.loops[coll] = var
        if outer is not None:
            self.shadows.append((len(self.scopes) - 1, coll))
        return outer

    def push(self):
        self.scopes.append({})
        self.ind += 1

    def pop(self):
        self.scopes.pop()
        self.ind -= 1


    # --- collections ---------------------------------------------------------------------
    def plan_collections(self) -> list[Node]:
        order: list[Node] = []
        for root in self.prog.roots():
            for n in N.walk(root):
                if n.type == "coll" and n not in self.coll_id:
                    self.coll_id[n] = len(order)
                    order.append(n)
                    self.needs[n] = set()
        for root in self.prog.roots():
            for n in N.walk(root):
                if n.op == "attr":
                    self.needs[n.args[0].args[0]].add(n.attrs[0])
                elif n.op == "vec_obj":
                    self.needs[n.args[0].args[0]].update(("pT", "eta", "phi", "m"))
                elif n.op == "vec_csum":
                    self.needs[n.args[0]].update(("pT", "eta", "phi", "m"))
                elif n.op in ("extcall", "extcoll"):
                    for kind, a in zip(n.attrs[2:], n.args, strict=True):
                        if kind == "collection":
                            self.needs[a].update(("pT", "eta", "phi", "m"))
                            self.p4_colls.add(a)
        for c in reversed(order):
            if c.op == "filter":
                self.needs[c.args[0]] |= self.needs[c]
            elif c.op == "union":
                for p in c.args:
                    self.needs[p] |= self.needs[c]
            elif c.op == "sorted":
                self.needs[c.args[0]] |= self.needs[c]
            elif c.op == "vsumobj":
                self.needs[c.args[0]] |= {"pT", "eta", "phi", "m"}
            elif c.op == "rescale":  # new kinematics from the old pT, eta, phi, m
                self.needs[c.args[0]] |= {a for a in self.needs[c]
                                          if (S.canonical_attribute(a) or a) not in DERIVED_KIN}
                self.needs[c.args[0]] |= {"pT", "eta", "phi", "m"}
            elif c.op == "comb":
                for m in c.args[:-1]:
                    self.needs[m.args[0]] |= {"pT", "eta", "phi", "m"} | (
                        self.needs[c] & COMB_SUMS)
            elif c.op == "composite":
                members = c.args[:-2]
                for m in members:
                    self.needs[m.args[0]] |= self.needs[c] & COMB_SUMS
                for a, b in self.origin_pairs(c):
                    self.needs[a.args[0]].add(ORIGIN)
                    self.needs[b.args[0]].add(ORIGIN)
        return order

    def origin_pairs(self, c: Node) -> list[tuple[Node, Node]]:
        """Members of a `disjoint` composite from different collections that may hold the same
        object (they share a base collection): their origins are compared in the loops."""
        if c.attrs[0] != "disjoint":
            return []
        members = c.args[:-2]
        return [(a, b) for i, a in enumerate(members) for b in members[i + 1:]
                if a.args[0] is not b.args[0] and _bases(a.args[0]) & _bases(b.args[0])]

    def buf(self, c: Node, attr: str) -> str:
        return f"c{self.coll_id[c]}_{''.join(ch if ch.isalnum() else '_' for ch in attr)}"

    def at(self, c: Node, attr: str, idx: str) -> str:
        """Attribute `attr` of object `idx` of collection `c`. Input collections, and filtered
        or sorted views of them (index lists), are read in place from the input arrays;
        only derived kinematics (E, p, ...) and built collections (unions, combinations)
        have per-event buffers."""
        root, ix = self.view.get(c, (c, None))
        if ix is not None:
            idx = f"{ix}[{idx}]"
        if root.op == "base" and not _buffered(attr):
            cs = self.schema.collection(root.attrs[0])
            if cs is None:  # reported by coll_schema
                return "0.0"
            return self.base_value(root, cs, attr, self.coll_id[root], idx)
        return f"{self.buf(root, attr)}[{idx}]"

    def position(self, c: Node, idx: str) -> str:
        """Where object `idx` of `c` sits in the storage of c's root collection."""
        ix = self.view.get(c, (c, None))[1]
        return idx if ix is None else f"{ix}[{idx}]"

    def alloc(self, order: list[Node]) -> None:
        for c in order:
            k = self.coll_id[c]
            if c.op == "base":
                cs = self.coll_schema(c)
                if cs is None:
                    continue
                self.emit(f"mx{k} = _maxcount({self.col(cs.offsets_key)})")
            elif c.op == "vsumobj":
                self.emit(f"mx{k} = 1")
            elif c.op in ("filter", "sorted", "rescale"):
                self.emit(f"mx{k} = mx{self.coll_id[c.args[0]]}")
                if c.op == "sorted":
                    self.emit(f"sk{k} = np.zeros(mx{k} + 1)")
                if c.op in VIEWS:  # an index list into the storage of its parent's root
                    self.view[c] = (self.view.get(c.args[0], (c.args[0], None))[0], f"ix{k}")
                    self.emit(f"ix{k} = np.zeros(mx{k} + 1, np.int64)")
            elif c.op == "extcoll":  # at most max(2, its inputs' sizes) objects
                inputs = [f"mx{self.coll_id[a]}" for a in c.args if a.type == "coll"]
                self.emit(f"mx{k} = max(2, {' + '.join(inputs) or '0'})")
            elif c.op in ("comb", "composite"):
                members = c.args[:-1] if c.op == "comb" else c.args[:-2]
                self.emit(f"mx{k} = " + " * ".join(f"mx{self.coll_id[m.args[0]]}"
                                                   for m in members))
            else:
                self.emit(f"mx{k} = " + " + ".join(f"mx{self.coll_id[p]}" for p in c.args))
            for a in sorted(self.needs[c]):
                if c.op not in VIEWS and (c.op != "base" or _buffered(a)):
                    self.emit(f"{self.buf(c, a)} = np.zeros(mx{k} + 1)")
            if c in self.p4_colls:
                for a in ("px", "py", "pz", "e"):
                    self.emit(f"{self.buf(c, '_' + a)} = np.zeros(mx{k} + 1)")

    def materialise(self, c: Node) -> None:
        k = self.coll_id[c]
        needs = sorted(self.needs[c])
        if c.op == "base":
            cs = self.coll_schema(c)
            if cs is None:
                self.emit(f"n{k} = 0")
                return
            off = self.col(cs.offsets_key)
            self.emit(f"o{k} = {off}[ev]")
            self.emit(f"n{k} = {off}[ev + 1] - o{k}")
            buffered = [a for a in needs if _buffered(a)]
            if buffered:  # the rest is read in place (`at`)
                self.emit(f"for j in range(n{k}):")
                self.ind += 1
                for a in buffered:
                    self.emit(f"{self.buf(c, a)}[j] = {self.base_value(c, cs, a, k)}")
                self.ind -= 1
        elif c.op == "filter":
            parent, pred = c.args
            self.emit(f"n{k} = 0")
            var = self.new("k")
            self.emit(f"for {var} in range(n{self.coll_id[parent]}):")
            self.loops[parent] = var
            self.push()
            ok = self.cond(pred)
            self.emit(f"if {ok}:")
            self.ind += 1
            self.emit(f"ix{k}[n{k}] = {self.position(parent, var)}")
            self.emit(f"n{k} += 1")
            self.ind -= 1
            self.pop()
            del self.loops[parent]
        elif c.op == "extcoll":
            self.materialise_external(c, k, needs)
        elif c.op == "rescale":
            self.materialise_rescaled(c, k, needs)
        elif c.op == "vsumobj":  # one candidate: the (negated) vector sum of the collection
            total = N.make("vec_csum", (c.args[0],), (), "vec")
            if c.attrs[0]:
                total = N.make("vec_neg", (total,), (), "vec")
            vec = self.vec(total)
            self.emit(f"n{k} = 1")
            for a in needs:
                if a not in VEC_FUNCS:
                    self.fail(f"attribute {a!r} of a vector sum is not defined", c)
                    continue
                self.emit(f"{self.buf(c, a)}[0] = {VEC_FUNCS[a]}({', '.join(vec)})")
        elif c.op == "comb":
            self.materialise_comb(c, k, needs)
        elif c.op == "composite":
            self.materialise_composite(c, k, needs)
        elif c.op == "sorted":
            self.materialise_sorted(c, k, needs)
        else:  # union: plain concatenation, first argument first (quirk 2)
            self.emit(f"n{k} = 0")
            for p in c.args:
                pk = self.coll_id[p]
                if needs:
                    self.emit(f"for j in range(n{pk}):")
                    self.ind += 1
                    for a in needs:
                        self.emit(f"{self.buf(c, a)}[n{k} + j] = {self.at(p, a, 'j')}")
                    self.ind -= 1
                self.emit(f"n{k} += n{pk}")

    def tuple_loops(self, members, exclude=(), mode: str = "comb",
                    origins=(), unordered: frozenset = frozenset(),
                    hoist: Callable[[int], None] | None = None) -> list[str]:
        """Open nested loops giving each placeholder an object: members of one collection
        are distinct, in increasing order within one placeholder number (an unordered
        tuple) and for COMB members (quirk 23); indices in `exclude` ([(coll, var)]) are
        skipped. `mode` "disjoint" (learn-adl) is COMB's rule plus: members of different
        collections in `origins` pairs are never the same object; "cartesian" takes every
        combination. Placeholders in `unordered` (different numbers, but the scanned value
        is symmetric in them: `symmetric_slots`) are also taken in increasing order.
        `hoist(i)` emits code at the top of loop i (sums of the objects bound so far).
        Returns the loop variables; the caller closes the loops (self.ind)."""
        out: list[str] = []
        for i, m in enumerate(members):
            coll = m.args[0]
            n = f"n{self.coll_id[coll]}"
            var = self.new("p")
            start = "0"
            for prev, pv in zip(members[:i], out, strict=True):
                if mode != "cartesian" and prev.args[0] is coll and (
                        m.op == "member" or prev.attrs[0] == m.attrs[0]
                        or (prev in unordered and m in unordered)):
                    start = f"{pv} + 1"
            self.emit(f"for {var} in range({start}, {n}):")
            self.ind += 1
            clash = [pv for prev, pv in zip(members[:i], out, strict=True)
                     if prev.args[0] is coll and prev.attrs[0] != m.attrs[0]
                     and m.op == "slot" and not (prev in unordered and m in unordered)]
            clash += [v for c, v in exclude if c is coll]
            same = [f"{self.at(prev.args[0], ORIGIN, pv)} != {self.at(coll, ORIGIN, var)}"
                    for prev, pv in zip(members[:i], out, strict=True)
                    if (prev, m) in origins]
            if same:
                self.emit(f"if {' and '.join(same)}:")
                self.ind += 1
            if clash:
                self.emit(f"if {' and '.join(f'{var} != {v}' for v in clash)}:")
                self.ind += 1
            out.append(var)
            self.bound[m] = (var, False)
            if hoist is not None:
                hoist(i)
        return out

    def hoist_sums(self, value: Node, slots, depth: int) -> None:
        """In a scan's loop `depth`, the leading terms of a four-vector sum of placeholders
        (j[-1] + j[-2] of j[-1] j[-2] j[-3]) once all of them are bound and the rest is not:
        the inner loop adds the last term only. `vec` reuses them; (a + b) + c rounds the
        same either way."""
        for node in _walk_values(value):
            if node.op != "vec_sum" or len(node.args) < 3:
                continue
            depths = [slots.index(a.args[0]) if a.op == "vec_obj" and a.args[0] in slots
                      else None for a in node.args]
            if None in depths or max(depths) <= depth:
                continue
            for k in range(2, len(node.args)):
                if max(depths[:k]) == depth:
                    self.vec(N.make("vec_sum", node.args[:k], (), "vec"))

    def scan_p4(self, roots, members) -> None:
        """Each object's four-vector once per event, before a scan over tuples of `members`,
        instead of once per tuple it is in (the tuples read p4x{k}.. via `p4_live`). The
        members of one collection are distinct objects, so with fewer objects than members
        there is no tuple, and nothing to compute (a lone muon in a dimuon search)."""
        wanted = set(members)
        colls: list[Node] = []
        for root in roots:
            for node in _walk_values(root):
                if node.op == "vec_obj" and node.args[0] in wanted \
                        and node.args[0].args[0] not in colls:
                    colls.append(node.args[0].args[0])
        for c in colls:
            k = self.coll_id[c]
            names = [f"p4{a}{k}" for a in "xyze"]
            if k not in self.p4_alloc:
                self.p4_alloc.add(k)
                for name in names:
                    self.lines.insert(self.alloc_end, f"    {name} = np.zeros(mx{k} + 1)")
                    self.alloc_end += 1
            var = self.new("k")
            fewest = sum(1 for m in members if m.args[0] is c)
            self.emit(f"for {var} in range(n{k} if n{k} >= {fewest} else 0):")
            self.emit(f"    {', '.join(f'{b}[{var}]' for b in names)} = _ptetaphim("
                      + ", ".join(self.at(c, a, var) for a in ("pT", "eta", "phi", "m"))
                      + ")")
            self.p4_live[c] = k

    def materialise_sorted(self, c: Node, k: int, needs: list[str]) -> None:
        """`sort KEY(coll) ascend|descend`: a stable sort of the collection by the key."""
        parent, key = c.args
        pk = self.coll_id[parent]
        var = self.new("k")
        self.emit(f"n{k} = n{pk}")
        self.emit(f"for {var} in range(n{pk}):")
        self.loops[parent] = var
        self.push()
        value = self.ex(key)
        sign = "-" if c.attrs[0] else ""
        self.emit(f"sk{k}[{var}] = {sign}{value}")
        self.pop()
        del self.loops[parent]
        order = self.new("order")
        self.emit(f"{order} = np.argsort(sk{k}[:n{k}], kind='mergesort')")
        self.emit(f"for j in range(n{k}):")
        self.emit(f"    ix{k}[j] = {self.position(parent, f'{order}[j]')}")

    def materialise_rescaled(self, c: Node, k: int, needs: list[str]) -> None:
        """applyPTF / applyEF: each candidate's pT (and for E its mass too) times its factor;
        derived kinematics (E, p, pz, ...) from the new values."""
        parent, factor = c.args
        p = self.coll_id[parent]
        var = self.new("k")
        self.emit(f"n{k} = n{p}")
        self.emit(f"for {var} in range(n{p}):")
        self.loops[parent] = var
        self.push()
        f = self.new("f")
        self.emit(f"{f} = {self.ex(factor)}")
        old = {a: self.at(parent, a, var) for a in ("pT", "eta", "phi", "m")}
        new = dict(old, pT=f"{old['pT']} * {f}")
        if c.attrs[0] == "E":
            new["m"] = f"{old['m']} * {f}"
        for a in needs:
            canon = S.canonical_attribute(a) or a
            if a in new:
                value = new[a]
            elif canon in DERIVED_KIN:
                value = f"_kin({new['pT']}, {new['eta']}, {new['phi']}, {new['m']}, " \
                        f"{DERIVED_KIN[canon]})"
            else:
                value = self.at(parent, a, var)
            self.emit(f"{self.buf(c, a)}[{var}] = {value}")
        self.pop()
        del self.loops[parent]

    def materialise_external(self, c: Node, k: int, needs: list[str]) -> None:
        """A collection made by an external function (fmegajets): its px, py, pz, E arrays;
        kept as they are for functions that take the collection (fMR), so no precision is
        lost going through pT, eta, phi, m."""
        comp = tuple(self.new(p) for p in ("qx", "qy", "qz", "qe"))
        call = self.extcall(c)
        self.emit(f"{', '.join(comp)} = {call}")
        self.emit(f"n{k} = min(len({comp[0]}), mx{k} + 1)")
        if not needs and c not in self.p4_colls:
            return  # only counted
        self.emit(f"for j in range(n{k}):")
        self.ind += 1
        for a in needs:
            if a not in VEC_FUNCS:
                self.fail(f"attribute {a!r} of objects made by {c.attrs[0]} is not defined "
                          "(they are four-vectors)", c)
                continue
            self.emit(f"{self.buf(c, a)}[j] = {VEC_FUNCS[a]}("
                      + ", ".join(f"{q}[j]" for q in comp) + ")")
        if c in self.p4_colls:
            for q, a in zip(comp, ("px", "py", "pz", "e"), strict=True):
                self.emit(f"{self.buf(c, '_' + a)}[j] = {q}[j]")
        self.ind -= 1
        if c in self.p4_colls:
            key = N.make("p4arrays", (c,), (), "p4arrays")
            self.scopes[-1][key] = tuple(f"{self.buf(c, '_' + a)}[:n{k}]"
                                         for a in ("px", "py", "pz", "e"))

    def materialise_comb(self, c: Node, k: int, needs: list[str]) -> None:
        *members, pred = c.args
        total = N.make("vec_sum", tuple(N.make("vec_obj", (m,), (), "vec") for m in members),
                       (), "vec")
        self.emit(f"n{k} = 0")
        ind = self.ind
        self.scan_p4([pred, total] if any(a in VEC_FUNCS for a in needs) else [pred], members)
        loop_vars = self.tuple_loops(members)
        self.push()
        ok = self.cond(pred)
        self.emit(f"if {ok}:")
        self.ind += 1
        vec = None
        for a in needs:
            if a.startswith(COMB_MEMBER):  # daughters(): the member's position, plus one
                value = f"np.float64({loop_vars[int(a[len(COMB_MEMBER):])]} + 1)"
            elif a in VEC_FUNCS:
                if vec is None:
                    vec = self.vec(total)
                value = f"{VEC_FUNCS[a]}({', '.join(vec)})"
            elif a in COMB_SUMS:
                value = " + ".join(self.attr(N.make("attr", (m,), (a,))) for m in members)
            else:
                self.fail(f"attribute {a!r} of a COMB object is not implemented", c)
                value = "0.0"
            self.emit(f"{self.buf(c, a)}[n{k}] = {value}")
        self.emit(f"n{k} += 1")
        self.pop()
        self.p4_live.clear()
        for m in members:
            del self.bound[m]
        self.ind = ind

    def materialise_composite(self, c: Node, k: int, needs: list[str]) -> None:
        """learn-adl composite: the member tuples (disjoint or cartesian) passing the block's
        criteria; each candidate's four-vector is the block's last `object` line."""
        *members, pred, cand = c.args
        self.emit(f"n{k} = 0")
        ind = self.ind
        self.tuple_loops(members, mode=c.attrs[0], origins=set(self.origin_pairs(c)))
        self.push()
        ok = self.cond(pred)
        self.emit(f"if {ok}:")
        self.ind += 1
        for a in needs:
            if a in VEC_FUNCS:
                value = f"{VEC_FUNCS[a]}({', '.join(self.ex(cand))})"
            elif a in COMB_SUMS:
                value = self.member_sum(a, cand)
            else:
                self.fail(f"attribute {a!r} of a composite candidate is not defined: only its "
                          f"four-vector (pT, eta, phi, m, ...), q and pdgID are", c)
                value = "0.0"
            self.emit(f"{self.buf(c, a)}[n{k}] = {value}")
        self.emit(f"n{k} += 1")
        self.pop()
        for m in members:
            del self.bound[m]
        self.ind = ind

    def member_sum(self, attr: str, v: Node) -> str:
        """q or pdgID of a four-vector expression: the sum over its objects (quirk 4)."""
        if v.op == "vec_obj":
            return self.attr(N.make("attr", (v.args[0],), (attr,)))
        if v.op == "vec_neg":
            return f"(-{self.member_sum(attr, v.args[0])})"
        if v.op == "vec_sum":
            return "(" + " + ".join(self.member_sum(attr, t) for t in v.args) + ")"
        return "0.0"

    def base_value(self, c: Node, cs: S.CollectionSchema, attr: str, k: int,
                   j: str = "j") -> str:
        """Attribute `attr` of object `j` (an index expression) of input collection `c`."""
        if attr == ORIGIN:  # which object this is: base collection and index in it
            return f"({float(k) * ORIGIN_STRIDE!r} + {j})"
        ref = S.resolve_attribute(self.schema, c.attrs[0], attr)
        canon = S.canonical_attribute(attr) or attr
        if ref is None:
            if cs.prefix:  # direct branch read, exactly (ADL.md §8.7): Muon_tightId(Muon),
                # btagDeepB(Jet) is Jet_btagDeepB; a missing branch fails when the file is read
                branch = direct_branch(attr, cs.prefix)
                self.object_columns[branch] = cs.offsets_key
                return f"np.float64({self.col(branch)}[o{k} + {j}])"
            self.fail(f"collection {c.attrs[0]!r} has no attribute {attr!r} in the input "
                      f"format {self.schema.name!r}")
            return "0.0"
        if ref.kind == "branch":
            self.object_columns[ref.branch] = cs.offsets_key
            return f"np.float64({self.col(ref.branch)}[o{k} + {j}])"
        if ref.kind == "fixed":
            return _num(ref.value)
        if canon in DERIVED_KIN:
            args = ", ".join(self.base_value(c, cs, a, k, j) for a in ("pT", "eta", "phi", "m"))
            return f"_kin({args}, {DERIVED_KIN[canon]})"
        if canon == "pdgid":
            pdg = S.PDG_CODES.get(cs.name, 0)
            return f"(-{float(pdg)!r} * {self.base_value(c, cs, 'q', k, j)})"
        if canon == "btag":
            flav = self.base_value(c, cs, "flavor", k, j)
            return f"(1.0 if {flav} > {S.BTAG_THRESHOLD!r} else 0.0)"
        if canon == "index":
            return f"np.float64({j})"
        self.fail(f"attribute {attr!r} of {c.attrs[0]!r} is not implemented")
        return "0.0"

    # --- expressions ---------------------------------------------------------------------
    def cond(self, node: Node) -> str:
        return self.ex(node)

    def ex(self, node: Node):  # noqa: C901
        hit = self.lookup(node)
        if hit is not None:
            return hit
        code = self._ex(node)
        if isinstance(code, str) and not code.isidentifier() and node.op not in (
                "const", "bool"):
            var = self.new()
            self.emit(f"{var} = {code}")
            code = var
        self.scopes[-1][node] = code
        return code

    def _ex(self, n: Node):  # noqa: C901
        op = n.op
        if op == "const":
            return _num(n.attrs[0])
        if op == "bool":
            return "True" if n.attrs[0] else "False"
        if op == "met":
            if not n.attrs:  # the format's MET pT as it is (Lowerer.met)
                return f"np.float64({self.col('MET_pt')}[ev])"
            # CutLang's |METLV|: the vector is built once, whether MET or METLV asks first
            return self.vec(N.make("metlv", (), (), "vec"))[3]
        if op == "branch":
            return f"np.float64({self.col(n.attrs[0])}[ev])"
        if op == "hitmiss":
            return self.hit_and_miss(n)
        if op == "evq":
            if n.attrs[-1] == "or0" and n.attrs[0] not in self.schema.event:
                return "0.0"  # an event list (`save NAME`) where the format lacks a number
            return f"np.float64({self.col(self.event_branch(n))}[ev])"
        if op == "arith":
            a, b = self.ex(n.args[0]), self.ex(n.args[1])
            o = n.attrs[0]
            if o == "^":
                # Parenthesised: a negative literal base is (-3) ** 2 in ADL, -(3 ** 2) in Python.
                return f"(({a}) ** ({b}))"
            if o in ("&", "|", "<<", ">>"):
                return f"np.float64(np.int64({a}) {o} np.int64({b}))"
            return f"({a} {o} {b})"
        if op == "neg":
            return f"(-{self.ex(n.args[0])})"
        if op == "b2n":
            return f"(1.0 if {self.ex(n.args[0])} else 0.0)"
        if op == "func":
            f = n.attrs[0]
            args = [self.ex(a) for a in n.args]
            if f in MATH:
                return f"{MATH[f]}({args[0]})"
            if f == "hstep":
                return f"(1.0 if {args[0]} > 0 else 0.0)"
            if f == "delta":
                return f"(1.0 if {args[0]} == 0 else 0.0)"
            if f in ("dR", "dPhi", "dEta"):
                return f"_{f.lower()}({', '.join(args)})"
            self.fail(f"function {f!r} has no numba implementation", n)
            return "0.0"
        if op == "minmax2":
            a, b = self.ex(n.args[0]), self.ex(n.args[1])
            if n.attrs[-1] == "cutlang":  # CutLang's (a<b)*a + (a>b)*b: 0 on a tie (quirk 15)
                return f"_{n.attrs[0]}2({a}, {b})"
            return f"{n.attrs[0]}({a}, {b})"
        if op == "minmaxn":
            return f"{n.attrs[0]}({', '.join(self.ex(a) for a in n.args)})"
        if op == "ternary":
            c, a, b = (self.ex(x) for x in n.args)
            return f"({a} if {c} else {b})"
        if op == "cmp":
            return f"({self.ex(n.args[0])} {n.attrs[0]} {self.ex(n.args[1])})"
        if op == "range":
            v, lo, hi = (self.ex(x) for x in n.args)
            if n.attrs[0] == "[]":
                return f"({lo} <= {v} and {v} <= {hi})"
            return f"({v} <= {lo} or {v} >= {hi})"
        if op in ("and", "or"):
            return self.logic(n)
        if op == "not":
            return f"(not {self.ex(n.args[0])})"
        if op == "size":
            return f"np.float64(n{self.coll_id[n.args[0]]})"
        if op == "attr":
            return self.attr(n)
        if op in ("vec_obj", "vec_sum", "vec_neg", "metlv", "vec_csum"):
            return self.vec(n)
        if op == "vattr":
            px, py, pz, e = self.ex(n.args[0])
            return f"{VEC_FUNCS[n.attrs[0]]}({px}, {py}, {pz}, {e})"
        if op == "reduce":
            return self.reduce(n)
        if op == "quant":
            return self.quant(n)
        if op == "extcall":
            return self.extcall(n)
        if op == "table":
            return self.table(n)
        if op == "optimise":
            return self.optimise(n)
        self.fail(f"IR node {op!r} has no numba implementation", n)
        return "0.0"

    def hit_and_miss(self, n: Node) -> str:
        """applyHM: the hits (u < efficiency) or the misses, u from _hm_uniform."""
        site, keep_hits = n.attrs
        prob = self.ex(n.args[0])
        index = self.obj_index(n.args[1])[1] if len(n.args) > 1 else "-1"
        # Delphes has an event number but no run number: the run then counts as 0
        run = (f"{self.col(self.schema.event['runno'])}[ev]" if "runno" in self.schema.event
               else "0")
        event = f"{self.col(self.event_branch(N.make('evq', (), ('eventno',))))}[ev]"
        u = self.new("u")
        self.emit(f"{u} = _hm_uniform({run}, {event}, {index}, {site})")
        return f"({u} < {prob})" if keep_hits else f"(not ({u} < {prob}))"

    def logic(self, n: Node) -> str:
        """`a and b`, `a or b`: b is computed only where it decides (a pair's mass only for
        opposite charges), unless it holds a ~= search, which binds its placeholders
        whatever a is. The values are pure, so only the time changes."""
        a = self.ex(n.args[0])
        right = n.args[1]
        if any(x.op == "optimise" for x in _walk_values(right)):
            return f"({a} {n.op} {self.ex(right)})"
        res = self.new("c")
        self.emit(f"{res} = {a}")
        self.emit(f"if {res}:" if n.op == "and" else f"if not {res}:")
        self.push()
        self.emit(f"{res} = {self.ex(right)}")
        self.pop()
        return res

    def obj_index(self, obj: Node) -> tuple[Node, str, bool]:
        """(collection, index variable, may be out of range)."""
        coll = obj.args[0]
        if obj.op in ("slot", "member"):
            hit = self.bound.get(obj)
            if hit is None:
                self.fail("a placeholder (coll[-1]) outside a ~= search or COMB", obj)
                return coll, "0", True
            return coll, hit[0], hit[1]
        if obj.op == "elem":
            if coll not in self.loops:
                self.fail("an element of a collection used outside a loop over it", obj)
                return coll, "0", True
            return coll, self.loops[coll], False
        i = self.ex(obj.args[1])
        var = self.new("i")
        self.emit(f"{var} = int({i})")
        return coll, var, True

    def attr(self, n: Node) -> str:
        coll, i, check = self.obj_index(n.args[0])
        k = self.coll_id[coll]
        value = self.at(coll, n.attrs[0], i)
        if check and n.args[0].op == "slot":  # unresolved placeholder (quirk 21)
            return f"({value} if {i} >= 0 else {UNRESOLVED!r})"
        if check:  # out of range reads 0 (quirk 5)
            return f"({value} if 0 <= {i} < n{k} else 0.0)"
        return value

    def vec(self, n: Node):
        hit = self.lookup(n)
        if hit is not None:
            return hit
        names = tuple(self.new(p) for p in ("px", "py", "pz", "e"))
        lhs = ", ".join(names)
        if n.op == "vec_obj":
            coll, i, check = self.obj_index(n.args[0])
            k = self.coll_id[coll]
            vals = [self.at(coll, a, i) for a in ("pT", "eta", "phi", "m")]
            if check and n.args[0].op == "slot":  # unresolved placeholder (quirk 21)
                self.emit(f"if {i} >= 0:")
                self.emit(f"    {lhs} = _ptetaphim({', '.join(vals)})")
                self.emit("else:")
                self.emit(f"    {lhs} = _ptetaphim({', '.join([repr(UNRESOLVED)] * 4)})")
            elif check:
                self.emit(f"if 0 <= {i} < n{k}:")
                self.emit(f"    {lhs} = _ptetaphim({', '.join(vals)})")
                self.emit("else:")
                self.emit(f"    {lhs} = 0.0, 0.0, 0.0, 0.0")
            elif coll in self.p4_live:  # computed once per object before this scan
                self.emit(f"{lhs} = " + ", ".join(f"p4{a}{k}[{i}]" for a in "xyze"))
            else:
                self.emit(f"{lhs} = _ptetaphim({', '.join(vals)})")
        elif n.op == "metlv":
            x, y = self.new("mx"), self.new("my")
            self.emit(f"{x}, {y} = _metxy(np.float64({self.col('MET_pt')}[ev]), "
                      f"np.float64({self.col('MET_phi')}[ev]))")
            self.emit(f"{lhs} = {x}, {y}, 0.0, math.sqrt({x} * {x} + {y} * {y})")
        elif n.op == "vec_csum":  # the vector sum of a whole collection
            k, var = self.coll_id[n.args[0]], self.new("k")
            comp = tuple(self.new(p) for p in ("qx", "qy", "qz", "qe"))
            self.emit(f"{lhs} = 0.0, 0.0, 0.0, 0.0")
            self.emit(f"for {var} in range(n{k}):")
            self.emit(f"    {', '.join(comp)} = _ptetaphim("
                      + ", ".join(self.at(n.args[0], a, var)
                                  for a in ("pT", "eta", "phi", "m")) + ")")
            self.emit(f"    {lhs} = " + ", ".join(f"{a} + {b}"
                                              for a, b in zip(names, comp, strict=True)))
        elif n.op == "vec_neg":
            src = self.ex(n.args[0])
            self.emit(f"{lhs} = " + ", ".join(f"-{s}" for s in src))
        else:
            head = self.lookup(N.make("vec_sum", n.args[:-1], (), "vec")) \
                if n.op == "vec_sum" and len(n.args) > 2 else None
            # a hoisted leading sum (hoist_sums): the same (a + b) + c, fewer additions here
            parts = [head, self.ex(n.args[-1])] if head else [self.ex(a) for a in n.args]
            self.emit(f"{lhs} = " + ", ".join(" + ".join(p[c] for p in parts)
                                              for c in range(4)))
        self.scopes[-1][n] = names
        return names

    def reduce(self, n: Node) -> str:
        coll, body, lo, hi = n.args
        kind = n.attrs[0]
        k = self.coll_id[coll]
        acc, cnt, var = self.new("acc"), self.new("cnt"), self.new("k")
        init = {"sum": "0.0", "ave": "0.0", "min": "999999999999.9",
                "max": "-999999999999.9"}[kind]
        a, b = self.ex(lo), self.ex(hi)
        first, last = self.new("lo"), self.new("hi")
        self.emit(f"{acc} = {init}")
        self.emit(f"{cnt} = 0")
        self.emit(f"{first} = max(int({a}), 0)")
        self.emit(f"{last} = n{k} - 1 if {b} < 0 else min(int({b}), n{k} - 1)")
        self.emit(f"for {var} in range({first}, {last} + 1):")
        self.push()
        outer = self.loop_over(coll, var)
        v = self.ex(body)
        if kind in ("sum", "ave"):
            self.emit(f"{acc} += {v}")
        elif kind == "min":
            self.emit(f"if {v} < {acc}:")
            self.emit(f"    {acc} = {v}")
        else:
            self.emit(f"if {v} > {acc}:")
            self.emit(f"    {acc} = {v}")
        self.emit(f"{cnt} += 1")
        self.pop()
        self._restore_loop(coll, outer)
        if kind == "ave":
            self.emit(f"{acc} = {acc} / {cnt} if {cnt} > 0 else 0.0")
        return acc

    def optimise(self, n: Node) -> str:
        """`~=`/`~!`: scan the placeholder tuples (quirk 21), keep the first strict best
        |value - target|, bind the placeholders for the rest of the region; the row passes.
        CutLang's `~!` never accepts a candidate and keeps the last tuple scanned (quirk 22):
        reproduced only in CutLang-compatible mode."""
        value, target, *slots = n.args
        furthest = n.attrs[0] == "furthest"
        last = furthest and n.attrs[-1] == "cutlang"
        t = self.ex(target)
        best = self.new("best")
        picks = [self.new("pick") for _ in slots]
        self.emit(f"{best} = {-1.0 if furthest else 9999999999.9!r}")
        for p in picks:
            self.emit(f"{p} = -1")
        exclude = [(c, var) for c, var in self.chosen]
        ind = self.ind
        # the last tuple scanned depends on the order of the scan: all of them then
        unordered = frozenset() if last else symmetric_slots(value, slots)
        self.scan_p4([value], slots)
        self.scopes.append({})  # the sums hoisted into the loops are valid inside them only
        loop_vars = self.tuple_loops(slots, exclude, unordered=unordered,
                                     hoist=lambda i: self.hoist_sums(value, slots, i))
        self.push()
        d = self.new("d")
        self.emit(f"{d} = abs({self.ex(value)} - {t})")
        if last:
            self.emit("if True:")
        else:
            self.emit(f"if {d} {'>' if furthest else '<'} {best}:")
        self.emit(f"    {best} = {d}")
        for p, v in zip(picks, loop_vars, strict=True):
            self.emit(f"    {p} = {v}")
        self.pop()
        self.scopes.pop()
        self.ind = ind
        self.p4_live.clear()
        for m, p in zip(slots, picks, strict=True):
            var = self.region_slots[m]
            self.emit(f"{var} = {p}")
            self.bound[m] = (var, True)
            self.chosen.append((m.args[0], var))
        return "True"

    def table(self, n: Node) -> str:
        """First row whose ranges contain every value (edges inclusive) wins; outside: 0."""
        name, nvars, rows = n.attrs
        const = self.tables.get(n.attrs)
        if const is None:
            const = self.tables[n.attrs] = f"_T{len(self.tables)}_{name}"
            self.consts.append(f"{const} = np.array([{', '.join(f'[{_row(r)}]' for r in rows)}]"
                               f", dtype=np.float64).reshape({len(rows)}, {1 + 2 * nvars})")
        xs = [self.ex(a) for a in n.args]
        res, r = self.new("tv"), self.new("r")
        inside = " and ".join(f"{const}[{r}, {1 + 2 * i}] <= {x} <= {const}[{r}, {2 + 2 * i}]"
                              for i, x in enumerate(xs))
        self.emit(f"{res} = 0.0")
        self.emit(f"for {r} in range({len(rows)}):")
        self.emit(f"    if {inside}:")
        self.emit(f"        {res} = {const}[{r}, 0]")
        self.emit("        break")
        return res

    def extcall(self, n: Node) -> str:
        """An external function (adlc.stdlib calling convention: a particle is 4 floats, a
        collection 4 arrays px, py, pz, E in its current order, a scalar 1 float)."""
        name, impl = n.attrs[0], n.attrs[1]
        fn = self.external(name, impl)
        args: list[str] = []
        for kind, a in zip(n.attrs[2:], n.args, strict=True):
            if kind == "particle":
                args.extend(self.ex(a))
            elif kind == "collection":
                args.extend(self.p4_arrays(a))
            else:
                args.append(f"np.float64({self.ex(a)})")
        return f"{fn}({', '.join(args)})"

    def p4_arrays(self, c: Node) -> tuple[str, ...]:
        key = N.make("p4arrays", (c,), (), "p4arrays")
        hit = self.lookup(key)
        if hit is not None:
            return hit
        k = self.coll_id[c]
        bufs = [self.buf(c, "_" + a) for a in ("px", "py", "pz", "e")]
        var = self.new("k")
        self.emit(f"for {var} in range(n{k}):")
        self.emit(f"    {', '.join(f'{b}[{var}]' for b in bufs)} = _ptetaphim("
                  + ", ".join(self.at(c, a, var) for a in ("pT", "eta", "phi", "m"))
                  + ")")
        out = tuple(f"{b}[:n{k}]" for b in bufs)
        self.scopes[-1][key] = out
        return out

    def _restore_loop(self, coll: Node, outer: str | None) -> None:
        if outer is None:
            del self.loops[coll]
        else:
            self.loops[coll] = outer
            self.shadows.pop()  # loop_over's entry

    def quant(self, n: Node) -> str:
        coll, pred = n.args
        k = self.coll_id[coll]
        res, var = self.new("q"), self.new("k")
        every = n.attrs[0] == "all"
        if n.attrs[-1] == "cutlang":
            # CutLang: an empty partner collection fails the cut, allof and anyof alike (quirk 14).
            start = f"n{k} > 0" if every else "False"
        else:
            start = "True" if every else "False"
        self.emit(f"{res} = {start}")
        self.emit(f"for {var} in range(n{k}):")
        self.push()
        outer = self.loop_over(coll, var)
        v = self.ex(pred)
        if every:
            self.emit(f"if not {v}:")
            self.emit(f"    {res} = False")
            self.emit("    break")
        else:
            self.emit(f"if {v}:")
            self.emit(f"    {res} = True")
            self.emit("    break")
        self.pop()
        self._restore_loop(coll, outer)
        return res

    # --- regions -------------------------------------------------------------------------
    def generate(self) -> GeneratedModule:
        order = self.plan_collections()
        layout = Layout(columns=[])
        hist_offsets = []
        offset = 0
        for h in self.prog.histograms:
            size = 1
            for ax in h.axes:
                size *= ax.bins + 2
            hist_offsets.append(offset)
            spec = {"name": h.name, "title": h.title, "offset": offset, "size": size,
                    "axes": [(ax.bins, ax.low, ax.high, ax.edges) for ax in h.axes]}
            if h.fixed is not None:  # added once to the merged result (to_result)
                spec["fixed"], spec["fixed_entries"] = list(h.fixed), h.fixed_entries
            layout.histograms.append(spec)
            offset += size
        layout.n_hist_cells = offset
        for i, h in enumerate(self.prog.histograms):
            for j, ax in enumerate(h.axes):
                if ax.edges is not None:
                    self.consts.append(f"_E{i}_{j} = np.array([{', '.join(map(_num, ax.edges))}])")

        col0 = 0
        for t in self.prog.tables:
            layout.tables.append({"name": t.name, "kind": t.kind, "columns": list(t.columns),
                                  "label": t.label, "region": t.region, "col0": col0})
            col0 += len(t.columns)
        layout.n_table_cols = col0
        kernels: list[list[str]] = []
        row = nbin = 0
        self.plan_prefixes()
        regions = list(enumerate(self.prog.regions))
        k = 0
        while k < len(regions) or not kernels:
            # A new kernel once this one is long: numba's compile time and memory grow
            # faster than linearly with one function's size (a 285-bin analysis needed 24 GB)
            self.lines, self.scopes, self.ind, self.loops = [], [{}], 1, {}
            self.alloc(order)
            self.alloc_end = len(self.lines)
            self.emit("for ev in range(nev):")
            self.push()
            for c in order:
                self.materialise(c)
            if len(self.lines) == self.alloc_end + 1:  # no collection: the body may be empty
                self.emit("pass")
            while k < len(regions):
                ri, region = regions[k]
                self.kernel_of[ri] = len(kernels)   # the kernel being written
                row, nbin = self.emit_region(ri, region, layout, hist_offsets, row, nbin)
                k += 1
                if len(self.lines) > KERNEL_LINES:
                    break
            self.pop()
            kernels.append(self.lines)
        layout.n_rows, layout.n_bins = row, nbin
        names = ["nev", *self.columns.values(), "cf_w", "cf_w2", "cf_n", "bn_w", "bn_w2",
                 "bn_n", "h_w", "h_w2", "h_n", "t_buf", "t_n"]
        args = ", ".join(names)
        inner = ", ".join(names + ["g_ok", "g_w"] if self.state_slots else names)
        layout.columns = list(self.columns)
        header = f"# generated by adlc (numba backend {CODEGEN_VERSION}) from " \
                 f"{self.prog.source_file or '<input>'}; schema {self.schema.name}\n"
        if self.externals:
            self.consts.insert(0, "import importlib\nfrom adlc.stdlib.jit import jit_namespace "
                                  "as _jit_namespace\n")
        before, after = self.copy_rows()
        if len(kernels) == 1:
            body = kernels[0]
            functions = f"@njit(**_JIT)\ndef kernel({args}):\n" + "\n".join(
                before + body + after) + "\n"
        else:
            functions = "".join(f"@njit(**_JIT)\ndef kernel_{i}({inner}):\n"
                                + "\n".join(body) + "\n\n\n" for i, body in enumerate(kernels))
            if self.state_slots:  # gate states a later kernel starts from (state)
                before = before + [
                    f"    g_ok = np.zeros((nev, {len(self.state_slots)}), np.bool_)",
                    f"    g_w = np.zeros((nev, {len(self.state_slots)}))"]
            functions += f"@njit(**_JIT)\ndef kernel({args}):\n" + "\n".join(
                before + [f"    kernel_{i}({inner})" for i in range(len(kernels))]
                + after) + "\n"
        source = (header + PRELUDE + "\n" + "\n".join(self.consts) + "\n\n\n" + functions)
        self.raise_errors()
        return GeneratedModule(source, "kernel", layout, self.schema.missing_reads_zero,
                               dict(self.object_columns))

    def emit_region(self, ri: int, region: N.Region, layout: Layout, hist_offsets: list[int],
                    row: int, nbin: int) -> tuple[int, int]:
        """The region's cutflow rows, histogram fills and search bins, inside the event loop;
        the next free cutflow row and bin."""
        info = {"name": region.name, "row0": row, "labels": ["all Events"],
                "bin0": nbin, "bin_labels": [b.label for b in region.bins], "hists": []}
        self.emit(f"# region {region.name}")
        copied = self.copied.get(ri, 0)
        if copied:  # rows counted by an earlier region (copy_rows); its state after them
            self.emit(f"ok, w = {self.state(region.prefix_source, copied)}")
        else:
            self.emit("w = 1.0")
            self.emit("ok = True")
        self.start_slots(region)
        if not copied:
            self.count(row)
        row += 1
        gate = 0  # cuts and weights so far: the steps that change (ok, w)
        for step in region.steps:
            if gate < copied:  # the leading gates are all cuts and weights (plan_prefixes)
                info["labels"].append(step.label)
                gate += 1
                row += 1
                continue
            if isinstance(step, N.Record):  # print/save: a row per event, no cutflow row
                self.emit("if ok:")
                self.push()
                if step.when is not None:  # `c ? print ... : all`: the events where c holds
                    self.emit(f"if {self.cond(step.when)}:")
                    self.push()
                    self.record(step, layout.tables[step.table]["col0"])
                    self.pop()
                else:
                    self.record(step, layout.tables[step.table]["col0"])
                self.pop()
                continue
            info["labels"].append(step.label)
            if isinstance(step, (N.Cut, N.Weight)):
                gate += 1
                if self.reuse_gate(region, gate, row):
                    self.save_gate(ri, gate)
                    row += 1
                    continue
            self.emit("if ok:")
            self.push()
            if isinstance(step, N.Cut):
                c = self.cond(step.cond)
                self.emit(f"if {c}:")
                self.ind += 1
                self.count(row)
                self.ind -= 1
                self.emit("else:")
                self.emit("    ok = False")
            elif isinstance(step, N.Weight):
                v = self.ex(step.value)
                self.emit(f"w = w * {v}")
                self.count(row)
            else:
                self.count(row)
                self.fill(step, hist_offsets[step.hist])
                info["hists"].append(step.hist)
            self.pop()
            if isinstance(step, (N.Cut, N.Weight)):
                self.save_gate(ri, gate)
            row += 1
        if region.bins and not any(n.op in ("optimise", "slot") for b in region.bins
                                   for n in _walk_values(b.cond)):
            self.search_bins(region.bins, nbin)
            nbin += len(region.bins)
        elif region.bins:  # a `~=` chooses objects as it is evaluated: keep the order
            self.emit("matched = False")
            for b in region.bins:
                self.emit("if ok and not matched:")
                self.push()
                c = self.cond(b.cond)
                self.emit(f"if {c}:")
                self.emit("    matched = True")
                self.emit(f"    bn_w[{nbin}] += w")
                self.emit(f"    bn_w2[{nbin}] += w * w")
                self.emit(f"    bn_n[{nbin}] += 1")
                self.pop()
                nbin += 1
        info["hists"].extend(region.fixed)
        layout.regions.append(info)
        return row, nbin

    # --- shared selection prefixes (adlc.opt.share_selection_prefixes) --------------------
    def plan_prefixes(self) -> None:
        """A region marked `prefix_gates=m, prefix_source=p` has p's state (ok, w) after each
        of its first m gates. Where they lead the region (no histogram or print before them),
        their cutflow rows are p's too: they are not counted in the event loop but copied
        once after it (copy_rows), and the region starts from p's state after the last one.
        Its other shared gates copy p's state and count their row (reuse_gate). A state is
        that of the region that computes it (`owner`): in this kernel a local variable, from
        an earlier kernel a per-event array (g_ok, g_w) that kernel fills."""
        regions = self.prog.regions
        self.copied: dict[int, int] = {}             # region -> leading gates copied
        self.saves: set[tuple[int, int]] = set()     # (region, gate) states others start from
        self.saved: dict[tuple[int, int], tuple[list[str], int]] = {}  # -> its line
        self.state_slots: dict[tuple[int, int], int] = {}  # -> column of g_ok, g_w
        self.kernel_of: dict[int, int] = {}
        self.row_copies: list[tuple[int, int]] = []  # (row, row counted in the event loop)
        first: list[int] = []   # each region's first row
        gate_rows: list[list[int]] = []   # each region's row of gate g (g - 1)
        row = 0
        for region in regions:
            first.append(row)
            rows = []
            for step in region.steps:
                if isinstance(step, N.Record):
                    continue
                row += 1
                if isinstance(step, (N.Cut, N.Weight)):
                    rows.append(row)
            gate_rows.append(rows)
            row += 1
        for ri, region in enumerate(regions):
            m = getattr(region, "prefix_gates", 0)
            if not m:
                continue
            p = region.prefix_source
            lead = 0
            for step in region.steps:
                if not isinstance(step, (N.Cut, N.Weight)):
                    break
                lead += 1
            copied = min(m, lead)
            if copied:
                self.copied[ri] = copied
                self.row_copies.append((first[ri], first[self.owner(p, 0)]))
                for g in range(1, copied + 1):
                    self.row_copies.append((gate_rows[ri][g - 1],
                                            gate_rows[self.owner(p, g)][g - 1]))
            for g in range(max(copied, 1), m + 1):
                self.saves.add((self.owner(p, g), g))

    def owner(self, p: int, gate: int) -> int:
        """The region that computes region p's state after gate `gate` (0: its first row)."""
        while self.copied.get(p, -1) >= gate:
            p = self.prog.regions[p].prefix_source
        return p

    def state(self, p: int, gate: int) -> str:
        """Region p's (ok, w) after gate `gate`, as code: the owner's saved variables, or
        the arrays its kernel fills when that kernel is an earlier one."""
        key = (self.owner(p, gate), gate)
        if self.kernel_of[key[0]] == max(self.kernel_of.values()):  # the kernel being written
            return f"ok_r{key[0]}_{gate}, w_r{key[0]}_{gate}"
        if key not in self.state_slots:
            s = self.state_slots[key] = len(self.state_slots)
            lines, i = self.saved[key]
            pad = lines[i][:len(lines[i]) - len(lines[i].lstrip())]
            lines[i] += f"\n{pad}g_ok[ev, {s}], g_w[ev, {s}] = ok, w"
        s = self.state_slots[key]
        return f"g_ok[ev, {s}], g_w[ev, {s}]"

    def save_gate(self, ri: int, gate: int) -> None:
        """After gate `gate` of region number `ri`, keep its state for the regions sharing it
        (at event level, so the variables exist on every path)."""
        if (ri, gate) in self.saves:
            self.emit(f"ok_r{ri}_{gate}, w_r{ri}_{gate} = ok, w")
            self.saved[(ri, gate)] = (self.lines, len(self.lines) - 1)

    def reuse_gate(self, region: N.Region, gate: int, row: int) -> bool:
        """Gate `gate` of a region sharing its prefix: the source region's state instead of
        evaluating the cut again; the row is still counted. False past the shared prefix."""
        if gate > getattr(region, "prefix_gates", 0):
            return False
        self.emit(f"ok, w = {self.state(region.prefix_source, gate)}")
        self.emit("if ok:")
        self.ind += 1
        self.count(row)
        self.ind -= 1
        return True

    def copy_rows(self) -> tuple[list[str], list[str]]:
        """Code before and after the event loop(s) of the entry kernel: the cutflow rows of
        the copied prefixes (plan_prefixes) get what their source rows got in this call."""
        if not self.row_copies:
            return [], []
        dst, src = zip(*self.row_copies, strict=True)
        self.consts.append(f"_ROWS_TO = np.array([{', '.join(map(str, dst))}], np.int64)")
        self.consts.append(f"_ROWS_FROM = np.array([{', '.join(map(str, src))}], np.int64)")
        before = ["    cp_w = cf_w[_ROWS_FROM]", "    cp_w2 = cf_w2[_ROWS_FROM]",
                  "    cp_n = cf_n[_ROWS_FROM]"]
        after = ["    for j in range(_ROWS_TO.shape[0]):",
                 "        cf_w[_ROWS_TO[j]] += cf_w[_ROWS_FROM[j]] - cp_w[j]",
                 "        cf_w2[_ROWS_TO[j]] += cf_w2[_ROWS_FROM[j]] - cp_w2[j]",
                 "        cf_n[_ROWS_TO[j]] += cf_n[_ROWS_FROM[j]] - cp_n[j]"]
        return before, after

    def search_bins(self, bins, first: int) -> None:
        """The first bin whose condition holds gets the event. The conditions are evaluated
        in one scope, so the values they share (HT, MT2, ...) are computed once per event:
        an analysis with hundreds of bins stays a kernel numba can compile. The values
        several bins test (MT2, a jet count, `nj in [2, 3] and nb == 0`) are computed once,
        before the first bin, even where a bin would test them only behind an `and`: they
        are pure, so only the time changes, and the bins' code is a few lines each."""
        self.emit("if ok:")
        self.push()
        for node in _shared_values([b.cond for b in bins]):
            self.ex(node)
        flags = []
        for b in bins:
            flag = self.new("bn")
            self.emit(f"{flag} = {self.cond(b.cond)}")
            flags.append(flag)
        for j, flag in enumerate(flags):
            self.emit(f"{'if' if j == 0 else 'elif'} {flag}:")
            self.emit(f"    bn_w[{first + j}] += w")
            self.emit(f"    bn_w2[{first + j}] += w * w")
            self.emit(f"    bn_n[{first + j}] += 1")
        self.pop()

    def start_slots(self, region: N.Region) -> None:
        """Every placeholder of the region starts unresolved (-1) in each event."""
        for m in list(self.bound):
            if m.op == "slot":
                del self.bound[m]
        self.chosen: list[tuple[Node, str]] = []
        self.region_slots: dict[Node, str] = {}
        roots = [s.cond if isinstance(s, N.Cut) else s.value if isinstance(s, N.Weight)
                 else None for s in region.steps]
        for s in region.steps:
            if isinstance(s, (N.Fill, N.Record)):
                roots.extend(s.values)
            if isinstance(s, N.Record) and s.when is not None:
                roots.append(s.when)
        roots.extend(b.cond for b in region.bins)
        for root in roots:
            if root is None:
                continue
            for node in _walk_values(root):
                if node.op == "slot" and node not in self.region_slots:
                    var = self.region_slots[node] = self.new("sl")
                    self.emit(f"{var} = -1")
                    self.bound[node] = (var, True)

    def count(self, row: int) -> None:
        self.emit(f"cf_w[{row}] += w")
        self.emit(f"cf_w2[{row}] += w * w")
        self.emit(f"cf_n[{row}] += 1")

    def record(self, step: N.Record, col0: int) -> None:
        """Row t_n[table] of t_buf (one row per event at most) gets the values."""
        r = self.new("r")
        self.emit(f"{r} = t_n[{step.table}]")
        for j, v in enumerate(step.values):
            x = self.ex(v)
            self.emit(f"t_buf[{r}, {col0 + j}] = {x}")
        self.emit(f"t_n[{step.table}] = {r} + 1")

    def fill(self, step: N.Fill, offset: int) -> None:
        loop = step.loop
        if loop is not None:
            var = self.new("k")
            self.emit(f"for {var} in range(n{self.coll_id[loop]}):")
            self.loops[loop] = var
            self.push()
        h = self.prog.histograms[step.hist]
        bins = []
        for j, (ax, v) in enumerate(zip(h.axes, step.values, strict=False)):
            x = self.ex(v)
            b = self.new("b")
            if ax.edges is not None:
                self.emit(f"{b} = _bin_var(_E{step.hist}_{j}, {x})")
            else:
                self.emit(f"{b} = _bin_reg({ax.bins}, {_num(ax.low)}, {_num(ax.high)}, {x})")
            bins.append(b)
        if len(bins) == 1:
            cell = f"{offset} + {bins[0]}"
        else:
            cell = f"{offset} + {bins[0]} * {h.axes[1].bins + 2} + {bins[1]}"
        self.emit(f"h_w[{cell}] += w")
        self.emit(f"h_w2[{cell}] += w * w")
        self.emit(f"h_n[{step.hist}] += 1")
        if loop is not None:
            self.pop()
            del self.loops[loop]


COMMUTATIVE = frozenset({"vec_sum", "minmaxn"})
VIEWS = frozenset({"filter", "sorted"})   # collections kept as index lists, not copies
LOOPS = frozenset({"reduce", "quant"})    # values computed by a loop over a collection


def _buffered(attr: str) -> bool:
    """Attributes of input objects computed into a per-event buffer once rather than at
    every use: the derived kinematics (a cos, sin, sinh and sqrt each)."""
    return (S.canonical_attribute(attr) or attr) in DERIVED_KIN


def _canonical(root: Node, swap: dict[Node, Node]) -> Node:
    """`root` with the placeholders in `swap` exchanged and the arguments of commutative
    operations in a fixed order: equal results mean equal values, up to the rounding order
    of a sum of three or more four-vectors. Nodes are interned, so `is` compares them."""
    memo: dict[Node, Node] = {}
    for node in _walk_values(root):
        if node in swap:
            memo[node] = swap[node]
            continue
        args = tuple(memo.get(a, a) for a in node.args)
        if node.op in COMMUTATIVE or (node.op == "arith" and node.attrs[0] in ("+", "*")):
            args = tuple(sorted(args, key=id))
        memo[node] = N.make(node.op, args, node.attrs, node.type)
    return memo[root]


def symmetric_slots(value: Node, slots) -> frozenset[Node]:
    """The placeholders of a `~=` scan that may be visited as unordered tuples (i < j < k)
    instead of every ordering: those of one collection, each number used once, in which
    `value` is symmetric (a trijet mass: m(j[-1] j[-2] j[-3])). The first strict best of
    the ordered scan is then the same tuple, in increasing order: each unordered tuple's
    first ordering in the scan is its increasing one (ADL.md 5.3; quirk 21)."""
    numbers: dict[tuple[Node, object], int] = {}
    for s in slots:
        key = (s.args[0], s.attrs[0])
        numbers[key] = numbers.get(key, 0) + 1
    groups: dict[Node, list[Node]] = {}
    for s in slots:
        if s.op == "slot" and numbers[(s.args[0], s.attrs[0])] == 1:
            groups.setdefault(s.args[0], []).append(s)
    out: set[Node] = set()
    for group in groups.values():
        if len(group) < 2:
            continue
        base = _canonical(value, {})
        # adjacent transpositions generate every permutation of the group
        if all(_canonical(value, {a: b, b: a}) is base for a, b in zip(group, group[1:], strict=False)):
            out.update(group)
    return frozenset(out)


def _shared_values(roots: list[Node]) -> list[Node]:
    """The values more than one of `roots` computes in its own scope (not inside a loop's
    body: `sum(pT(jets))` counts, not the `pT(jets)` in it), children before parents."""
    uses: dict[Node, int] = {}
    order: list[Node] = []
    for root in roots:
        for node in N.walk(root, enter=lambda n: n.type != "coll" and n.op not in LOOPS):
            if node.type in ("coll", "obj") or node.op in ("const", "bool"):
                continue
            if node not in uses:
                uses[node] = 0
                order.append(node)
            uses[node] += 1
    return [node for node in order if uses[node] > 1]


def _bases(c: Node) -> frozenset[Node]:
    """The input collections whose objects `c` holds."""
    out: set[Node] = set()
    stack = [c]
    while stack:
        n = stack.pop()
        if n.op == "base":
            out.add(n)
        elif n.op in ("filter", "sorted"):
            stack.append(n.args[0])
        elif n.op == "union":
            stack.extend(n.args)
    return frozenset(out)


def generate(prog: N.Program, schema: S.Schema) -> GeneratedModule:
    """The numba module for `prog` reading inputs laid out as `schema` says."""
    return _Gen(prog, schema).generate()
