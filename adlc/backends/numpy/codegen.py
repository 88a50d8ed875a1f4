"""IR Program -> Python source of one vectorised array kernel (the numpy backend).

The kernel has the numba kernel's signature and fills the same accumulators (adlc/runtime/
execute.py runs either unchanged), but computes every value for all rows of a chunk at once:

* a *domain* is the set of rows one expression is evaluated over: the events (`E`), the elements
  of a collection in every row of a parent domain (a loop: filter predicates, reducers,
  quantifiers, per-element histograms), or the placeholder tuples of a COMB, composite or `~=`;
* each domain has per-row arrays `<d>_ev` (event), `<d>_up` (parent row), `<d>_seg` (child-row
  offsets per parent row) and, for what it binds, the flat index of the bound object;
* an expression is evaluated in the outermost domain that binds everything it reads (a `size()`
  inside a filter predicate is an event value, gathered to the elements), and cached there;
* collections are materialised once per chunk as offsets + flat float64 attribute arrays.

Every IR op the numba backend supports is supported, with its semantics (quirks included); the
only per-row Python loops call external (stdlib) functions, see prelude `_extcall` and
`_extcoll` (collections they make: fmegajets, fhemisphere).
The array module is `xp`, so the CuPy backend reuses this generator (`xp="cupy"`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from adlc.backends.common import SchemaBindings, direct_branch
from adlc.backends.numba.codegen import (  # the layout the runtime reads is shared
    COMB_MEMBER,
    COMB_SUMS,
    DERIVED_KIN,
    ORIGIN,
    ORIGIN_STRIDE,
    VEC_FUNCS,
    GeneratedModule,
    Layout,
    _bases,
    symmetric_slots,
)
from adlc.errors import Diagnostic
from adlc.ir import nodes as N
from adlc.ir.nodes import Node
from adlc.runtime import schemas as S

from .prelude import PRELUDE

CODEGEN_VERSION = "1"
MATH = {"abs": "xp.abs", "sqrt": "xp.sqrt", "cos": "xp.cos", "sin": "xp.sin", "tan": "xp.tan",
        "sinh": "xp.sinh", "cosh": "xp.cosh", "tanh": "xp.tanh", "exp": "xp.exp",
        "log": "xp.log"}
# elementwise ops whose result is a constant when all their arguments are
ELEMENTWISE = frozenset({"arith", "neg", "b2n", "func", "minmax2", "minmaxn", "ternary", "cmp",
                         "range", "and", "or", "not"})
FULL_SLICE = (0.0, -1.0)   # reducer bounds meaning the whole collection
XP_NUMPY = "import numpy as xp"


def _num(x: float) -> str:
    if math.isnan(x):
        return "np.float64(np.nan)"
    if math.isinf(x):
        return "np.float64(np.inf)" if x > 0 else "np.float64(-np.inf)"
    return f"np.float64({float(x)!r})"


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name)


@dataclass(eq=False)
class Dom:
    """A domain: `binds` maps what its rows bind (("loop", coll) or a placeholder node) to the
    name of the array holding the bound object's flat index in its collection."""

    name: str
    parent: Dom | None
    binds: dict = field(default_factory=dict)
    locs: dict = field(default_factory=dict)     # placeholder -> local index array (tuples)

    @property
    def ev(self) -> str:
        return f"{self.name}_ev"

    @property
    def up(self) -> str:
        return f"{self.name}_up"

    @property
    def size(self) -> str:
        return "nev" if self.parent is None else f"{self.name}_ev.shape[0]"


class _Gen(SchemaBindings):
    def __init__(self, prog: N.Program, schema: S.Schema, *, xp_import: str = XP_NUMPY,
                 backend: str = "numpy", extra_prelude: str = ""):
        self.prog = prog
        self.schema = schema
        self.xp_import = xp_import
        self.backend = backend
        self.extra_prelude = extra_prelude
        self.lines: list[str] = []
        self.scopes: list[dict] = [{}]
        self.tmp = 0
        self.columns: dict[str, str] = {}
        self.object_columns: dict[str, str] = {}  # per-object column -> its offsets key
        self.coll_id: dict[Node, int] = {}
        self.needs: dict[Node, set[str]] = {}
        self.consts: list[str] = []
        self.diags: list[Diagnostic] = []
        self.p4_colls: set[Node] = set()          # passed to external functions
        self.vec_colls: set[Node] = set()         # whose objects' four-vectors are read
        self.externals: dict[str, str] = {}
        self.tables: dict[tuple, str] = {}
        self.scalar: set[str] = set()             # codes that are constants, not row arrays
        self.free_memo: dict[Node, frozenset] = {}
        self.slotdep_memo: dict[Node, bool] = {}
        self.loop_doms: dict[tuple, Dom] = {}
        self.E = Dom("E", None)
        self.slot_var: dict[Node, str] = {}       # ~= placeholder -> event array of local index
        self.chosen: list[tuple[Node, str]] = []
        self.region_mask = False  # whether `ok` (the events reaching the line) is defined

    # --- small helpers -------------------------------------------------------------------
    def emit(self, text: str) -> None:
        self.lines.append("        " + text)

    def new(self, prefix: str = "t") -> str:
        self.tmp += 1
        return f"{prefix}{self.tmp}"

    def col(self, key: str) -> str:
        if key not in self.columns:
            self.columns[key] = f"a{len(self.columns)}_{_safe(key)}"
        return self.columns[key]


    def buf(self, c: Node, attr: str) -> str:
        return f"c{self.coll_id[c]}_{_safe(attr)}"

    def assign(self, code: str, prefix: str = "t", scalar: bool = False) -> str:
        var = self.new(prefix)
        self.emit(f"{var} = {code}")
        if scalar:
            self.scalar.add(var)
        return var

    # --- what an expression reads ---------------------------------------------------------
    def free(self, n: Node) -> frozenset:
        """The loop elements and placeholders `n` reads that `n` does not bind itself."""
        hit = self.free_memo.get(n)
        if hit is not None:
            return hit
        op = n.op
        if n.type == "coll":
            out: frozenset = frozenset()    # collections are event values
        elif op == "elem":
            out = frozenset({("loop", n.args[0])})
        elif op in ("slot", "member"):
            out = frozenset({n})
        elif op == "reduce":
            coll, body, lo, hi = n.args
            out = (self.free(body) - {("loop", coll)}) | self.free(lo) | self.free(hi)
        elif op == "quant":
            out = self.free(n.args[1]) - {("loop", n.args[0])}
        elif op == "optimise":
            out = frozenset().union(*(self.free(a) for a in n.args[:2])) - set(n.args[2:])
        else:
            out = frozenset().union(*(self.free(a) for a in n.args))
        self.free_memo[n] = out
        return out

    def slot_dependent(self, n: Node) -> bool:
        """Whether `n` reads a ~= placeholder (its value changes when a ~= chooses one)."""
        hit = self.slotdep_memo.get(n)
        if hit is None:
            hit = n.op in ("slot", "optimise") or (n.type != "coll" and any(
                self.slot_dependent(a) for a in n.args))
            self.slotdep_memo[n] = hit
        return hit

    def lookup(self, key):
        for scope in reversed(self.scopes):
            if key in scope:
                return scope[key]
        return None

    # --- collections ---------------------------------------------------------------------
    def plan_collections(self) -> list[Node]:
        """Collections in dependency order and the attributes each must provide (the numba
        backend's plan, so that both read the same columns and fail on the same programs)."""
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
                    self.vec_colls.add(n.args[0].args[0])
                elif n.op == "vec_csum":
                    self.needs[n.args[0]].update(("pT", "eta", "phi", "m"))
                    self.vec_colls.add(n.args[0])
                elif n.op in ("extcall", "extcoll"):
                    for kind, a in zip(n.attrs[2:], n.args, strict=True):
                        if kind == "collection":
                            self.needs[a].update(("pT", "eta", "phi", "m"))
                            self.p4_colls.add(a)
        for c in reversed(order):
            if c.op in ("filter", "sorted"):
                self.needs[c.args[0]] |= self.needs[c]
            elif c.op == "vsumobj":  # the vector sum of the parent's objects
                self.needs[c.args[0]] |= {"pT", "eta", "phi", "m"}
                self.vec_colls.add(c.args[0])
            elif c.op == "rescale":  # new kinematics from the old pT, eta, phi, m
                self.needs[c.args[0]] |= {a for a in self.needs[c]
                                          if (S.canonical_attribute(a) or a) not in DERIVED_KIN}
                self.needs[c.args[0]] |= {"pT", "eta", "phi", "m"}
            elif c.op == "union":
                for p in c.args:
                    self.needs[p] |= self.needs[c]
            elif c.op == "comb":
                # The members' kinematics only where the candidates' summed vectors are read
                # (their criteria ask for what they use): the base collections are read
                # eagerly here, so an unused Tau_mass would be read (numba reads in place).
                summed = bool(self.needs[c] & VEC_FUNCS.keys())
                for m in c.args[:-1]:
                    self.needs[m.args[0]] |= self.needs[c] & COMB_SUMS
                    if summed:
                        self.needs[m.args[0]] |= {"pT", "eta", "phi", "m"}
                        self.vec_colls.add(m.args[0])
            elif c.op == "composite":
                for m in c.args[:-2]:
                    self.needs[m.args[0]] |= self.needs[c] & COMB_SUMS
                for a, b in self.origin_pairs(c):
                    self.needs[a.args[0]].add(ORIGIN)
                    self.needs[b.args[0]].add(ORIGIN)
        return order

    def origin_pairs(self, c: Node) -> list[tuple[Node, Node]]:
        """Members of a `disjoint` composite from different collections that may hold the same
        object (they share a base collection): candidates pairing an object with itself go."""
        if c.attrs[0] != "disjoint":
            return []
        members = c.args[:-2]
        return [(a, b) for i, a in enumerate(members) for b in members[i + 1:]
                if a.args[0] is not b.args[0] and _bases(a.args[0]) & _bases(b.args[0])]

    def materialise(self, c: Node) -> None:
        """Offsets o<k>, counts n<k> and one flat float64 array per needed attribute."""
        k = self.coll_id[c]
        needs = sorted(self.needs[c])
        self.emit(f"# collection {k}: {c.op}{' ' + c.attrs[0] if c.op == 'base' else ''}")
        if c.op == "base":
            self.materialise_base(c, k, needs)
        elif c.op == "filter":
            parent, pred = c.args
            loop = self.loop_dom(self.E, parent)
            keep = self.assign(f"_full({self.ex(pred, loop)}, {loop.size})", "keep")
            self.emit(f"n{k} = _segcount({keep}, {loop.up}, nev)")
            self.emit(f"o{k} = _offsets(n{k})")
            sel = self.assign(f"{loop.binds[('loop', parent)]}[{keep}]", "sel")
            for a in needs:
                self.emit(f"{self.buf(c, a)} = {self.buf(parent, a)}[{sel}]")
        elif c.op == "sorted":
            # `sort KEY(coll) ascend|descend`: stable within each event, NaN last (as numba)
            parent, key = c.args
            loop = self.loop_dom(self.E, parent)
            sign = "-" if c.attrs[0] else ""
            sk = self.assign(f"_full({sign}{self.ex(key, loop)}, {loop.size})", "sk")
            order = self.assign(f"{loop.binds[('loop', parent)]}[_sort_in_events({sk}, "
                                f"{loop.ev})]", "order")
            pk = self.coll_id[parent]
            self.emit(f"n{k}, o{k} = n{pk}, o{pk}")
            for a in needs:
                self.emit(f"{self.buf(c, a)} = {self.buf(parent, a)}[{order}]")
        elif c.op in ("comb", "composite"):
            self.materialise_tuples(c, k, needs)
        elif c.op == "extcoll":
            self.materialise_external(c, k, needs)
        elif c.op == "rescale":
            self.materialise_rescaled(c, k, needs)
        elif c.op == "vsumobj":
            self.materialise_vsum(c, k, needs)
        else:
            self.materialise_union(c, k, needs)
        if c in self.vec_colls or (c in self.p4_colls and c.op != "extcoll"):
            self.emit(f"{', '.join(self.buf(c, '_' + a) for a in ('px', 'py', 'pz', 'e'))} = "
                      f"_ptetaphim({', '.join(self.buf(c, a) for a in ('pT', 'eta', 'phi', 'm'))})")

    def materialise_external(self, c: Node, k: int, needs: list[str]) -> None:
        """A collection made per event by an external function (fmegajets): its px, py, pz, E
        arrays, kept as they are for functions that take the collection (fMR); attributes of
        its objects are computed from them (numba: materialise_external)."""
        raw = tuple(self.buf(c, "_raw" + a) for a in ("px", "py", "pz", "e"))
        fn = self.external(c.attrs[0], c.attrs[1])
        args = self.ext_args(c, self.E)
        self.emit(f"n{k}, {', '.join(raw)} = _extcoll({fn}, nev, [{', '.join(args)}])")
        self.emit(f"o{k} = _offsets(n{k})")
        for a in needs:
            if a not in VEC_FUNCS:
                self.fail(f"attribute {a!r} of objects made by {c.attrs[0]} is not defined "
                          "(they are four-vectors)", c)
                continue
            self.emit(f"{self.buf(c, a)} = {VEC_FUNCS[a]}({', '.join(raw)})")

    def materialise_rescaled(self, c: Node, k: int, needs: list[str]) -> None:
        """applyPTF / applyEF: each candidate's pT (for E its mass too) times its factor, eta
        and phi kept; derived kinematics (E, p, pz, ...) from the new values; the rest copied
        (numba: materialise_rescaled)."""
        parent, factor = c.args
        p = self.coll_id[parent]
        loop = self.loop_dom(self.E, parent)
        sel = loop.binds[("loop", parent)]
        f = self.assign(f"_full({self.ex(factor, loop)}, {loop.size})", "f")
        self.emit(f"n{k}, o{k} = n{p}, o{p}")
        old = {a: f"{self.buf(parent, a)}[{sel}]" for a in ("pT", "eta", "phi", "m")}
        new = dict(old, pT=f"{old['pT']} * {f}")
        if c.attrs[0] == "E":
            new["m"] = f"{old['m']} * {f}"
        for a in needs:
            canon = S.canonical_attribute(a) or a
            if a in new:
                value = new[a]
            elif canon in DERIVED_KIN:
                value = (f"_kin({new['pT']}, {new['eta']}, {new['phi']}, {new['m']}, "
                         f"{DERIVED_KIN[canon]})")
            else:
                value = f"{self.buf(parent, a)}[{sel}]"
            self.emit(f"{self.buf(c, a)} = {value}")

    def materialise_vsum(self, c: Node, k: int, needs: list[str]) -> None:
        """One candidate per event: the (negated if attrs[0]) vector sum of the collection."""
        total = N.make("vec_csum", (c.args[0],), (), "vec")
        if c.attrs[0]:
            total = N.make("vec_neg", (total,), (), "vec")
        vec = self.ex(total, self.E)
        self.emit(f"n{k} = xp.ones(nev, dtype=np.int64)")
        self.emit(f"o{k} = _offsets(n{k})")
        for a in needs:
            if a not in VEC_FUNCS:
                self.fail(f"attribute {a!r} of a vector sum is not defined", c)
                continue
            self.emit(f"{self.buf(c, a)} = {VEC_FUNCS[a]}({', '.join(vec)})")

    def materialise_base(self, c: Node, k: int, needs: list[str]) -> None:
        cs = self.coll_schema(c)
        if cs is None:
            self.emit(f"n{k} = xp.zeros(nev, dtype=np.int64)")
            self.emit(f"o{k} = _offsets(n{k})")
            return
        self.emit(f"o{k} = {self.col(cs.offsets_key)}.astype(np.int64)")
        self.emit(f"n{k} = o{k}[1:] - o{k}[:-1]")
        if any(a in (ORIGIN, "index") or S.canonical_attribute(a) == "index" for a in needs):
            # the local index j of every element: numba's `for j in range(n)`
            self.emit(f"j{k} = xp.arange(int(o{k}[-1])) - o{k}[_rows(n{k})]")
        for a in needs:
            self.emit(f"{self.buf(c, a)} = {self.base_value(c, cs, a, k)}")

    def base_value(self, c: Node, cs: S.CollectionSchema, attr: str, k: int) -> str:
        if attr == ORIGIN:  # which object this is: base collection and index in the event
            return f"{float(k) * ORIGIN_STRIDE!r} + j{k}"
        ref = S.resolve_attribute(self.schema, c.attrs[0], attr)
        canon = S.canonical_attribute(attr) or attr
        if ref is None:
            if cs.prefix:  # direct branch read, exactly (ADL.md §8.7): Muon_tightId(Muon),
                # btagDeepB(Jet) is Jet_btagDeepB; a missing branch fails when the file is read
                branch = direct_branch(attr, cs.prefix)
                self.object_columns[branch] = cs.offsets_key
                return f"_f64({self.col(branch)})"
            self.fail(f"collection {c.attrs[0]!r} has no attribute {attr!r} in the input "
                      f"format {self.schema.name!r}")
            return "0.0"
        if ref.kind == "branch":
            self.object_columns[ref.branch] = cs.offsets_key
            return f"_f64({self.col(ref.branch)})"
        if ref.kind == "fixed":
            return f"xp.full(int(o{k}[-1]), {_num(ref.value)})"
        if canon in DERIVED_KIN:
            args = ", ".join(self.base_value(c, cs, a, k) for a in ("pT", "eta", "phi", "m"))
            return f"_kin({args}, {DERIVED_KIN[canon]})"
        if canon == "pdgid":
            pdg = S.PDG_CODES.get(cs.name, 0)
            return f"-{float(pdg)!r} * {self.base_value(c, cs, 'q', k)}"
        if canon == "btag":
            flav = self.base_value(c, cs, "flavor", k)
            return f"xp.where({flav} > {S.BTAG_THRESHOLD!r}, 1.0, 0.0)"
        if canon == "index":
            return f"j{k}.astype(np.float64)"
        self.fail(f"attribute {attr!r} of {c.attrs[0]!r} is not implemented")
        return "0.0"

    def materialise_union(self, c: Node, k: int, needs: list[str]) -> None:
        """Plain concatenation per event, first argument first (quirk 2)."""
        counts = [f"n{self.coll_id[p]}" for p in c.args]
        self.emit(f"n{k} = {' + '.join(counts)}")
        self.emit(f"o{k} = _offsets(n{k})")
        for a in needs:
            self.emit(f"{self.buf(c, a)} = xp.zeros(int(o{k}[-1]))")
        before = "0"   # elements of the earlier parts in each event
        for i, p in enumerate(c.args):
            pk = self.coll_id[p]
            if needs:
                ev = self.assign(f"_rows(n{pk})", "ue")
                pos = self.assign(f"o{k}[{ev}] + {before}[{ev}] + (xp.arange({ev}.shape[0]) "
                                  f"- o{pk}[{ev}])" if before != "0" else
                                  f"o{k}[{ev}] + (xp.arange({ev}.shape[0]) - o{pk}[{ev}])",
                                  "pos")
                for a in needs:
                    self.emit(f"{self.buf(c, a)}[{pos}] = {self.buf(p, a)}")
            if i + 1 < len(c.args):
                before = f"n{pk}" if before == "0" else self.assign(f"{before} + n{pk}", "nb")

    def materialise_tuples(self, c: Node, k: int, needs: list[str]) -> None:
        """COMB (unordered member tuples, quirk 23) and learn-adl composites (disjoint or
        cartesian): the tuples passing the block's criteria, in the numba loops' order."""
        if c.op == "comb":
            *members, pred = c.args
            cand = N.make("vec_sum", tuple(N.make("vec_obj", (m,), (), "vec") for m in members),
                          (), "vec")
            dom = self.tuple_dom(self.E, members)
        else:
            *members, pred, cand = c.args
            dom = self.tuple_dom(self.E, members, mode=c.attrs[0],
                                 origins=set(self.origin_pairs(c)))
        self.scopes.append({})
        keep = self.assign(f"_full({self.ex(pred, dom)}, {dom.size})", "keep")
        self.emit(f"n{k} = xp.bincount({dom.ev}[{keep}], minlength=nev)")
        self.emit(f"o{k} = _offsets(n{k})")
        for a in needs:
            if a.startswith(COMB_MEMBER) and c.op == "comb":
                # daughters(): the member's position in its collection, plus one
                loc = dom.locs[members[int(a[len(COMB_MEMBER):])]]
                value = f"({loc} + 1).astype(np.float64)"
            elif a in VEC_FUNCS:
                value = f"{VEC_FUNCS[a]}({', '.join(self.ex(cand, dom))})"
            elif a in COMB_SUMS:
                value = self.member_sum(a, cand, dom)
            else:
                what = "a COMB object" if c.op == "comb" else "a composite candidate"
                self.fail(f"attribute {a!r} of {what} is not implemented", c)
                value = "0.0"
            self.emit(f"{self.buf(c, a)} = _full({value}, {dom.size})[{keep}]")
        self.scopes.pop()

    def member_sum(self, attr: str, v: Node, dom: Dom) -> str:
        """q or pdgID of a four-vector expression: the sum over its objects (quirk 4)."""
        if v.op == "vec_obj":
            return self.ex(N.make("attr", (v.args[0],), (attr,)), dom)
        if v.op == "vec_neg":
            return f"(-{self.member_sum(attr, v.args[0], dom)})"
        if v.op == "vec_sum":
            return "(" + " + ".join(self.member_sum(attr, t, dom) for t in v.args) + ")"
        return "np.float64(0.0)"

    # --- domains -------------------------------------------------------------------------
    def loop_dom(self, parent: Dom, coll: Node) -> Dom:
        """The rows of a loop over every element of `coll` in each row of `parent`."""
        key = (parent, coll)
        dom = self.loop_doms.get(key)
        if dom is None:
            dom = self.loop_doms[key] = self._loop(parent, coll, None)
        return dom

    def _loop(self, parent: Dom, coll: Node, bounds: tuple[str, str] | None) -> Dom:
        dom = Dom(self.new("L"), parent)
        k = self.coll_id[coll]
        extra = f", {bounds[0]}, {bounds[1]}" if bounds else ""
        self.emit(f"{dom.up}, {dom.name}_seg, {dom.name}_ix, {dom.ev} = "
                  f"_loop({parent.ev}, o{k}{extra})")
        dom.binds[("loop", coll)] = f"{dom.name}_ix"
        return dom

    def tuple_dom(self, parent: Dom, members, exclude=(), mode: str = "comb",
                  origins=(), unordered=frozenset(), rows: str | None = None) -> Dom:
        """Rows giving each placeholder an object, in the numba kernel's loop order: members of
        one collection are distinct, increasing within one placeholder number and for COMB
        members (quirk 23) and among the `unordered` placeholders (codegen.symmetric_slots,
        as the numba kernel scans them); indices in `exclude` ([(coll, event array)], earlier
        ~= choices) are skipped; "disjoint" also drops tuples using one object twice across
        collections (`origins` pairs); "cartesian" takes every combination. `rows`: the
        parent rows to build tuples in (the events a ~= line is reached in), else all."""
        dom = Dom(self.new("T"), parent)
        d = dom.name
        self.emit(f"# tuples of {len(members)} placeholder objects")
        if rows is None:
            self.emit(f"{d}_up = xp.arange({parent.size})")
            self.emit(f"{dom.ev} = {parent.ev}")
        else:
            self.emit(f"{d}_up = {rows}")
            self.emit(f"{dom.ev} = {parent.ev}[{d}_up]")
        locs: list[str] = []
        for i, m in enumerate(members):
            coll = m.args[0]
            k = self.coll_id[coll]
            start = f"xp.zeros({d}_up.shape[0], dtype=np.int64)"
            for prev, loc in zip(members[:i], locs, strict=True):
                if mode != "cartesian" and prev.args[0] is coll and (
                        m.op == "member" or prev.attrs[0] == m.attrs[0]
                        or (m in unordered and prev in unordered)):
                    start = f"{loc} + 1"
            loc = f"{d}_j{i}"
            self.emit(f"g, {loc}, _ = _grow({dom.ev}, o{k}, {start})")
            self.emit(f"{', '.join([f'{d}_up', dom.ev, *locs])} = "
                      f"{', '.join(f'{a}[g]' for a in [f'{d}_up', dom.ev, *locs])}")
            conds = [f"({loc} != {pl})" for prev, pl in zip(members[:i], locs, strict=True)
                     if prev.args[0] is coll and prev.attrs[0] != m.attrs[0]
                     and m.op == "slot" and not (m in unordered and prev in unordered)]
            conds += [f"({loc} != {var}[{dom.ev}])" for c, var in exclude if c is coll]
            for prev, pl in zip(members[:i], locs, strict=True):
                if (prev, m) in origins:
                    pc = prev.args[0]
                    conds.append(f"({self.buf(pc, ORIGIN)}[o{self.coll_id[pc]}[{dom.ev}] + {pl}]"
                                 f" != {self.buf(coll, ORIGIN)}[o{k}[{dom.ev}] + {loc}])")
            locs.append(loc)
            if conds:
                self.emit(f"g = {' & '.join(conds)}")
                self.emit(f"{', '.join([f'{d}_up', dom.ev, *locs])} = "
                          f"{', '.join(f'{a}[g]' for a in [f'{d}_up', dom.ev, *locs])}")
        for i, (m, loc) in enumerate(zip(members, locs, strict=True)):
            self.emit(f"{d}_ix{i} = o{self.coll_id[m.args[0]]}[{dom.ev}] + {loc}")
            dom.binds[m] = f"{d}_ix{i}"
            dom.locs[m] = loc
        return dom

    def lift(self, code, dom: Dom):
        """A value of `dom.parent`'s rows gathered to `dom`'s rows."""
        if isinstance(code, tuple):
            return tuple(self.lift(c, dom) for c in code)
        if code in self.scalar:
            return code
        return self.assign(f"{code}[{dom.up}]")

    # --- expressions ---------------------------------------------------------------------
    def ex(self, node: Node, dom: Dom):
        key = (node, dom)
        hit = self.lookup(key)
        if hit is not None:
            return hit
        if dom.parent is not None and not (self.free(node) & dom.binds.keys()):
            code = self.lift(self.ex(node, dom.parent), dom)
        else:
            code = self._ex(node, dom)
            if isinstance(code, str) and not code.isidentifier() and node.op not in (
                    "const", "bool"):
                scalar = code in self.scalar
                code = self.assign(code, scalar=scalar)
        # values that no ~= can change are computed once per chunk, the others once per step
        scope = self.scopes[-1] if self.slot_dependent(node) else self.scopes[0]
        scope[key] = code
        return code

    def _ex(self, n: Node, dom: Dom):  # noqa: C901
        op = n.op
        if op == "const":
            return self.const(_num(n.attrs[0]))
        if op == "bool":
            return self.const("np.True_" if n.attrs[0] else "np.False_")
        if op == "met":
            if not n.attrs:  # the format's MET pT as it is (Lowerer.met)
                return f"_f64({self.col('MET_pt')})"
            return f"_met({self.col('MET_pt')}, {self.col('MET_phi')})"  # CutLang's |METLV|
        if op == "branch":
            return f"_f64({self.col(n.attrs[0])})"
        if op == "evq":
            if n.attrs[-1] == "or0" and n.attrs[0] not in self.schema.event:
                # an event list (`save NAME`) where the format lacks a number
                return self.const("np.float64(0.0)")
            return f"_f64({self.col(self.event_branch(n))})"
        if op == "hitmiss":
            return self.hit_and_miss(n, dom)
        if op == "size":
            return f"n{self.coll_id[n.args[0]]}.astype(np.float64)"
        if op == "attr":
            return self.attr(n, dom)
        if op in ("vec_obj", "vec_sum", "vec_neg", "metlv", "vec_csum"):
            return self.vec(n, dom)
        if op == "vattr":
            return f"{VEC_FUNCS[n.attrs[0]]}({', '.join(self.ex(n.args[0], dom))})"
        if op == "reduce":
            return self.reduce(n, dom)
        if op == "quant":
            return self.quant(n, dom)
        if op == "extcall":
            return self.extcall(n, dom)
        if op == "table":
            return self.table(n, dom)
        if op == "optimise":
            return self.optimise(n, dom)
        if op in ELEMENTWISE:
            args = [self.ex(a, dom) for a in n.args]
            code = self.elementwise(n, args)
            if code is not None and all(a in self.scalar for a in args):
                self.scalar.add(code)
            if code is not None:
                return code
        self.fail(f"IR node {op!r} has no numpy implementation", n)
        return "np.float64(0.0)"

    def hit_and_miss(self, n: Node, dom: Dom) -> str:
        """applyHM: the hits (u < efficiency) or the misses, u = _hm_uniform(run, event,
        index of the candidate in its collection (-1 at event level), call site)."""
        site, keep_hits = n.attrs
        prob = self.ex(n.args[0], dom)
        index = "-1"
        if len(n.args) > 1:
            obj = n.args[1]
            where = self.locate(obj, dom)
            if where is not None:
                kind, at = where
                if kind == "ix":   # flat index -> index in the row's event
                    index = f"({at} - o{self.coll_id[obj.args[0]]}[{dom.ev}])"
                elif kind == "slot":
                    index = at
                else:
                    index = f"_int({at})"
        # Delphes has an event number but no run number: the run then counts as 0
        run = (self.col(self.schema.event["runno"]) if "runno" in self.schema.event else None)
        event = self.col(self.event_branch(N.make("evq", (), ("eventno",))))
        if dom.parent is not None:
            run = run and f"{run}[{dom.ev}]"
            event = f"{event}[{dom.ev}]"
        u = self.assign(f"_hm_uniform({run or 0}, {event}, {index}, {site}, {dom.size})", "u")
        return f"({u} < {prob})" if keep_hits else f"(~({u} < {prob}))"

    def const(self, code: str) -> str:
        self.scalar.add(code)
        return code

    def elementwise(self, n: Node, args: list[str]) -> str | None:  # noqa: C901
        op = n.op
        if op == "arith":
            a, b = args
            o = n.attrs[0]
            if o == "^":
                return f"({a} ** {b})"
            if o in ("&", "|", "<<", ">>"):
                return f"(_int({a}) {o} _int({b})).astype(np.float64)"
            return f"({a} {o} {b})"
        if op == "neg":
            return f"(-{args[0]})"
        if op == "b2n":
            return f"xp.where({args[0]}, 1.0, 0.0)"
        if op == "func":
            f = n.attrs[0]
            if f in MATH:
                return f"{MATH[f]}({args[0]})"
            if f == "hstep":
                return f"xp.where({args[0]} > 0, 1.0, 0.0)"
            if f == "delta":
                return f"xp.where({args[0]} == 0, 1.0, 0.0)"
            if f in ("dR", "dPhi", "dEta"):
                return f"_{f.lower()}({', '.join(args)})"
            self.fail(f"function {f!r} has no numpy implementation", n)
            return "np.float64(0.0)"
        if op == "minmax2":
            if n.attrs[-1] == "cutlang":  # CutLang's (a<b)*a + (a>b)*b: 0 on a tie (quirk 15)
                return f"_{n.attrs[0]}2({args[0]}, {args[1]})"
            return f"_{n.attrs[0]}({args[0]}, {args[1]})"
        if op == "minmaxn":
            return f"_{n.attrs[0]}({', '.join(args)})"
        if op == "ternary":
            return f"xp.where({args[0]}, {args[1]}, {args[2]})"
        if op == "cmp":
            return f"({args[0]} {n.attrs[0]} {args[1]})"
        if op == "range":
            v, lo, hi = args
            if n.attrs[0] == "[]":
                return f"(({lo} <= {v}) & ({v} <= {hi}))"
            return f"(({v} <= {lo}) | ({v} >= {hi}))"
        if op == "and":
            return f"({args[0]} & {args[1]})"
        if op == "or":
            return f"({args[0]} | {args[1]})"
        if op == "not":
            return f"(~{args[0]})"
        return None

    def locate(self, obj: Node, dom: Dom) -> tuple[str, str] | None:
        """Where object `obj` is in each row of `dom`: ("ix", flat index array) when a loop or
        tuple binds it, ("slot", chosen local index) for a ~= placeholder, ("index", index
        value) for coll[i]; None (an error is recorded) when nothing binds it."""
        coll = obj.args[0]
        if obj.op in ("slot", "member"):
            if obj in dom.binds:
                return "ix", dom.binds[obj]
            if obj.op == "slot" and obj in self.slot_var and dom.parent is None:
                return "slot", self.slot_var[obj]
            self.fail("a placeholder (coll[-1]) outside a ~= search or COMB", obj)
            return None
        if obj.op == "elem":
            key = ("loop", coll)
            if key not in dom.binds:
                self.fail("an element of a collection used outside a loop over it", obj)
                return None
            return "ix", dom.binds[key]
        return "index", self.ex(obj.args[1], dom)

    def read(self, obj: Node, attr: str, dom: Dom, missing: str = "UNRESOLVED") -> str:
        """Attribute `attr` (a buffer name when it starts with "_") of object `obj` in every
        row of `dom`; an unresolved placeholder reads `missing`."""
        where = self.locate(obj, dom)
        k = self.coll_id[obj.args[0]]
        buf = self.buf(obj.args[0], attr)
        if where is None:
            return "np.float64(0.0)"
        kind, at = where
        if kind == "ix":
            return f"{buf}[{at}]"
        if kind == "slot":  # an unresolved placeholder (quirk 21)
            return f"_at_slot({buf}, o{k}, {dom.ev}, {at}, {missing})"
        return f"_at({buf}, o{k}, {dom.ev}, {at})"   # out of range reads 0 (quirk 5)

    def attr(self, n: Node, dom: Dom) -> str:
        return self.read(n.args[0], n.attrs[0], dom)

    def vec(self, n: Node, dom: Dom):
        names = tuple(self.new(p) for p in ("px", "py", "pz", "e"))
        lhs = ", ".join(names)
        if n.op == "vec_obj":
            # the object's four-vector, computed once per collection (_ptetaphim of its
            # pT, eta, phi, m, as numba computes it per object); a missing object reads zeros
            # (_ptetaphim of zeros is zeros), an unresolved placeholder _ptetaphim(UNRESOLVED, ..)
            self.emit(f"{lhs} = " + ", ".join(
                self.read(n.args[0], "_" + a, dom, f"_P4_UNRESOLVED[{c}]")
                for c, a in enumerate(("px", "py", "pz", "e"))))
        elif n.op == "metlv":
            x, y = self.new("mx"), self.new("my")
            self.emit(f"{x}, {y} = _metxy(_f64({self.col('MET_pt')}), "
                      f"_f64({self.col('MET_phi')}))")
            self.emit(f"{lhs} = {x}, {y}, xp.zeros(nev), xp.sqrt({x} * {x} + {y} * {y})")
        elif n.op == "vec_csum":  # the vector sum of a whole collection, in its order
            c = n.args[0]
            k = self.coll_id[c]
            up = self.assign(f"_rows(n{k})", "cu")
            sums = [f"_segsum({self.buf(c, '_' + a)}, {up}, nev)"
                    for a in ("px", "py", "pz", "e")]
            if dom.parent is not None:
                sums = [f"{s}[{dom.ev}]" for s in sums]
            self.emit(f"{lhs} = " + ", ".join(sums))
        elif n.op == "vec_neg":
            src = self.ex(n.args[0], dom)
            self.emit(f"{lhs} = " + ", ".join(f"-{s}" for s in src))
        else:
            parts = [self.ex(a, dom) for a in n.args]
            self.emit(f"{lhs} = " + ", ".join(" + ".join(p[c] for p in parts)
                                              for c in range(4)))
        return names

    def reduce(self, n: Node, dom: Dom) -> str:
        coll, body, lo, hi = n.args
        kind = n.attrs[0]
        if (lo.op, hi.op) == ("const", "const") and (lo.attrs[0], hi.attrs[0]) == FULL_SLICE:
            loop = self.loop_dom(dom, coll)
        else:  # an inclusive slice [lo:hi] of the collection (hi < 0: to the end)
            first, last = self.new("lo"), self.new("hi")
            self.emit(f"{first}, {last} = _slice_bounds({self.ex(lo, dom)}, {self.ex(hi, dom)}, "
                      f"{dom.size})")
            loop = self._loop(dom, coll, (first, last))
        v = self.ex(body, loop)
        if kind == "sum":
            return f"_segsum({v}, {loop.up}, {dom.size})"
        if kind == "ave":
            s = self.assign(f"_segsum({v}, {loop.up}, {dom.size})", "s")
            cnt = self.assign(f"xp.bincount({loop.up}, minlength={dom.size})", "cnt")
            return f"xp.where({cnt} > 0, {s} / xp.maximum({cnt}, 1), 0.0)"
        return f"_seg{kind}({v}, {loop.up}, {dom.size})"

    def quant(self, n: Node, dom: Dom) -> str:
        coll, pred = n.args
        loop = self.loop_dom(dom, coll)
        v = self.ex(pred, loop)
        if n.attrs[0] == "all":
            res = f"(_segcount(~{v}, {loop.up}, {dom.size}) == 0)"
            if n.attrs[-1] == "cutlang":
                # CutLang: an empty partner collection fails the cut, allof and anyof alike
                # (quirk 14)
                res = f"((n{self.coll_id[coll]}[{dom.ev}] > 0) & {res})"
            return res
        return f"(_segcount({v}, {loop.up}, {dom.size}) > 0)"

    def optimise(self, n: Node, dom: Dom) -> str:
        """`~=`/`~!`: over the placeholder tuples (quirk 21) keep the first strict best
        |value - target| per event and bind the placeholders for the rest of the region; the
        row passes. CutLang's `~!` keeps the last tuple scanned (quirk 22, compat mode)."""
        value, target, *slots = n.args
        if dom.parent is not None:
            self.fail("a ~= search inside a loop over a collection", n)
            return "np.True_"
        furthest = n.attrs[0] == "furthest"
        last = furthest and n.attrs[-1] == "cutlang"
        t = self.ex(target, dom)
        # the last tuple scanned depends on the order of the scan: all of them then
        unordered = frozenset() if last else symmetric_slots(value, slots)
        # tuples only in the events that reach the line: elsewhere the choice is never read
        rows = "xp.flatnonzero(ok)" if self.region_mask else None
        tup = self.tuple_dom(dom, slots, exclude=list(self.chosen), unordered=unordered,
                             rows=rows)
        self.scopes.append({})
        d = self.assign(f"xp.abs({self.ex(value, tup)} - {self.lift(t, tup)})", "d")
        self.scopes.pop()
        if last:
            pick = self.assign(f"_seglast({tup.up}, nev)", "pick")
        elif furthest:  # numba: `if d > best` from best = -1.0
            pick = self.assign(f"_pick_best(_full({d}, {tup.size}), {tup.up}, nev, -1.0, "
                               f"True)", "pick")
        else:           # numba: `if d < best` from best = 9999999999.9
            pick = self.assign(f"_pick_best(_full({d}, {tup.size}), {tup.up}, nev, "
                               f"9999999999.9, False)", "pick")
        for m in slots:
            var = self.assign(f"_picked({tup.locs[m]}, {pick})", "sl")
            self.slot_var[m] = var
            self.chosen.append((m.args[0], var))
        return self.const("np.True_")

    def table(self, n: Node, dom: Dom) -> str:
        """First row whose ranges contain every value (edges inclusive) wins; outside: 0."""
        name, nvars, rows = n.attrs
        const = self.tables.get(n.attrs)
        if const is None:
            const = self.tables[n.attrs] = f"_T{len(self.tables)}_{_safe(name)}"
            body = ", ".join("[" + ", ".join(repr(float(v)) for v in r) + "]" for r in rows)
            self.consts.append(f"{const} = np.array([{body}], dtype=np.float64).reshape("
                               f"{len(rows)}, {1 + 2 * nvars})")
        xs = [self.ex(a, dom) for a in n.args]
        return f"_table({const}, [{', '.join(xs)}], {dom.size})"

    def extcall(self, n: Node, dom: Dom) -> str:
        """An external function (adlc.stdlib calling convention: a particle is 4 floats, a
        collection 4 arrays px, py, pz, E of the row's event, a scalar 1 float)."""
        name, impl = n.attrs[0], n.attrs[1]
        fn = self.external(name, impl)
        return f"_extcall({fn}, {dom.ev}, [{', '.join(self.ext_args(n, dom))}])"

    def ext_args(self, n: Node, dom: Dom) -> list[str]:
        """The arguments of an external call (extcall, extcoll) as _extcall takes them."""
        args: list[str] = []
        for kind, a in zip(n.attrs[2:], n.args, strict=True):
            if kind == "particle":
                args.append(f"('p', {', '.join(self.ex(a, dom))})")
            elif kind == "collection":
                # objects made by an external function: their px, py, pz, E as it made them
                pre = "_raw" if a.op == "extcoll" else "_"
                bufs = ", ".join(self.buf(a, pre + c) for c in ("px", "py", "pz", "e"))
                args.append(f"('c', o{self.coll_id[a]}, {bufs})")
            else:
                args.append(f"('s', {self.ex(a, dom)})")
        return args

    # --- regions -------------------------------------------------------------------------
    def layout(self) -> Layout:
        layout = Layout(columns=[])
        offset = 0
        for h in self.prog.histograms:
            size = 1
            for ax in h.axes:
                size *= ax.bins + 2
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
                    edges = ", ".join(repr(float(e)) for e in ax.edges)
                    self.consts.append(f"_E{i}_{j} = xp.asarray(np.array([{edges}]))")
        col0 = 0
        for t in self.prog.tables:
            layout.tables.append({"name": t.name, "kind": t.kind, "columns": list(t.columns),
                                  "label": t.label, "region": t.region, "col0": col0})
            col0 += len(t.columns)
        layout.n_table_cols = col0
        return layout

    def generate(self) -> GeneratedModule:
        order = self.plan_collections()
        layout = self.layout()
        self.emit("E_ev = xp.arange(nev)")
        for c in order:
            self.materialise(c)
        fills: set[int] = set()
        records: set[int] = set()
        row = nbin = 0
        self.region_mask = True  # `ok`: the events reaching the current line
        for region in self.prog.regions:
            info = {"name": region.name, "row0": row, "labels": ["all Events"],
                    "bin0": nbin, "bin_labels": [b.label for b in region.bins], "hists": []}
            self.emit(f"# region {region.name}")
            self.emit("w = xp.ones(nev)")
            self.emit("ok = xp.ones(nev, dtype=bool)")
            self.start_slots(region)
            self.emit(f"_count(cf_w, cf_w2, cf_n, {row}, ok, w)")
            row += 1
            for step in region.steps:
                self.scopes.append({})
                if isinstance(step, N.Record):  # print/save: a row per event, no cutflow row
                    self.record(step)
                    records.add(step.table)
                    self.scopes.pop()
                    continue
                info["labels"].append(step.label)
                if isinstance(step, N.Cut):
                    self.emit(f"ok = ok & {self.ex(step.cond, self.E)}")
                    self.emit(f"_count(cf_w, cf_w2, cf_n, {row}, ok, w)")
                elif isinstance(step, N.Weight):
                    self.emit(f"w = xp.where(ok, w * {self.ex(step.value, self.E)}, w)")
                    self.emit(f"_count(cf_w, cf_w2, cf_n, {row}, ok, w)")
                else:
                    self.emit(f"_count(cf_w, cf_w2, cf_n, {row}, ok, w)")
                    self.fill(step)
                    fills.add(step.hist)
                    info["hists"].append(step.hist)
                self.scopes.pop()
                row += 1
            if region.bins:
                self.emit("matched = xp.zeros(nev, dtype=bool)")
                for b in region.bins:
                    self.scopes.append({})
                    self.emit(f"hit = ok & ~matched & {self.ex(b.cond, self.E)}")
                    self.emit("matched = matched | hit")
                    self.emit(f"_count(bn_w, bn_w2, bn_n, {nbin}, hit, w)")
                    self.scopes.pop()
                    nbin += 1
            info["hists"].extend(region.fixed)
            layout.regions.append(info)
        for h in sorted(fills):
            self.emit(f"_fill(h_w, h_w2, h_n, {h}, {layout.histograms[h]['offset']}, F{h})")
        for t in sorted(records):
            self.emit(f"_record(t_buf, t_n, {t}, {layout.tables[t]['col0']}, R{t})")
        layout.n_rows, layout.n_bins = row, nbin
        layout.columns = list(self.columns)
        self.raise_errors()
        return GeneratedModule(self.source(fills, records), "kernel", layout,
                               self.schema.missing_reads_zero, dict(self.object_columns))

    def source(self, fills: set[int], records: set[int]) -> str:
        args = ", ".join(["nev", *self.columns.values(), "cf_w", "cf_w2", "cf_n", "bn_w",
                          "bn_w2", "bn_n", "h_w", "h_w2", "h_n", "t_buf", "t_n"])
        head = [f"{a} = _dev({a})" for a in self.columns.values()]
        head += [f"F{h} = []  # histogram {h}: (events, cells, weights) per fill step"
                 for h in sorted(fills)]
        head += [f"R{t} = []  # table {t}: (events, *values) per print/save step"
                 for t in sorted(records)]
        header = (f"# generated by adlc ({self.backend} backend {CODEGEN_VERSION}) from "
                  f"{self.prog.source_file or '<input>'}; schema {self.schema.name}\n")
        consts = list(self.consts)
        if self.externals:
            consts.insert(0, "import importlib\nfrom adlc.stdlib.jit import jit_namespace "
                             "as _jit_namespace\n")
        prelude = PRELUDE.replace("{xp_import}", self.xp_import) + self.extra_prelude
        body = "\n".join(["        " + h for h in head] + self.lines)
        return (header + prelude + "\n" + "\n".join(consts) + "\n\n\n"
                + f"def kernel({args}):\n"
                + "    with np.errstate(all='ignore'):  # numba's error_model='numpy'\n"
                + body + "\n")

    def start_slots(self, region: N.Region) -> None:
        """Every placeholder of the region starts unresolved (-1) in each event."""
        from adlc.semantic.lower import walk_values

        self.chosen = []
        self.slot_var = {}
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
            for node in walk_values(root):
                if node.op == "slot" and node not in self.slot_var:
                    self.slot_var[node] = self.assign("xp.full(nev, -1, dtype=np.int64)", "sl")

    def record(self, step: N.Record) -> None:
        """One row of values per event reaching the step, in event order."""
        sel = "ok"
        if step.when is not None:  # `c ? print ... : all`: the events where c holds
            sel = self.assign(f"ok & {self.ex(step.when, self.E)}", "sel")
        vals = [f"_full({self.ex(v, self.E)}, nev)[{sel}]" for v in step.values]
        self.emit(f"R{step.table}.append((E_ev[{sel}], {', '.join(vals)}))")

    def fill(self, step: N.Fill) -> None:
        dom = self.E if step.loop is None else self.loop_dom(self.E, step.loop)
        h = self.prog.histograms[step.hist]
        bins = []
        for j, (ax, v) in enumerate(zip(h.axes, step.values, strict=False)):
            x = f"_full({self.ex(v, dom)}, {dom.size})"
            if ax.edges is not None:
                bins.append(self.assign(f"_bin_var(_E{step.hist}_{j}, {x})", "b"))
            else:
                bins.append(self.assign(f"_bin_reg({ax.bins}, {ax.low!r}, {ax.high!r}, {x})",
                                        "b"))
        cell = bins[0] if len(bins) == 1 else f"{bins[0]} * {h.axes[1].bins + 2} + {bins[1]}"
        if dom is self.E:
            self.emit(f"F{step.hist}.append((E_ev[ok], ({cell})[ok], w[ok]))")
        else:
            sel = self.assign(f"ok[{dom.ev}]", "sel")
            self.emit(f"F{step.hist}.append(({dom.ev}[{sel}], ({cell})[{sel}], "
                      f"w[{dom.ev}][{sel}]))")


def generate(prog: N.Program, schema: S.Schema, *, xp_import: str = XP_NUMPY,
             backend: str = "numpy", extra_prelude: str = "") -> GeneratedModule:
    """The array module for `prog` reading inputs laid out as `schema` says. `xp_import` is the
    statement binding the array module `xp` (numpy here; the CuPy backend passes its own, with
    `extra_prelude` replacing the helpers that differ on a GPU)."""
    return _Gen(prog, schema, xp_import=xp_import, backend=backend,
                extra_prelude=extra_prelude).generate()
