"""IR Program -> Python source of one fused @njit kernel (one pass over a chunk for all regions).

Per event the kernel materialises every collection in dependency order into preallocated
float64 buffers (one per needed attribute: base collections copy and widen their branches,
`filter` keeps the candidates passing the object cuts, `union` concatenates), then runs every
region's steps in order, with flat `if ok:` blocks (no deep nesting), and fills the cutflow,
bin and histogram accumulators.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from adlc.errors import AdlSemanticError, Diagnostic
from adlc.ir import nodes as N
from adlc.ir.nodes import Node
from adlc.runtime import schemas as S

from .prelude import PRELUDE

DERIVED_KIN = {"e": 0, "p": 1, "pz": 2, "rap": 3, "theta": 4, "abseta": 5}
VEC_FUNCS = {"pT": "_v_pt", "m": "_v_m", "eta": "_v_eta", "phi": "_v_phi", "E": "_v_e",
             "P": "_v_p", "pz": "_v_pz", "rap": "_v_rap", "theta": "_v_theta",
             "absEta": "_v_abseta"}
MATH = {"abs": "abs", "sqrt": "np.sqrt", "cos": "np.cos", "sin": "np.sin", "tan": "np.tan",
        "sinh": "np.sinh", "cosh": "np.cosh", "tanh": "np.tanh", "exp": "np.exp",
        "log": "np.log"}
BASE_NEEDS = {"e", "p", "pz", "rap", "theta", "abseta"}
CODEGEN_VERSION = "1"


@dataclass
class Layout:
    """Where each region's numbers live in the accumulator arrays (for the runtime)."""

    columns: list[str]                                   # chunk keys, in kernel-argument order
    regions: list[dict] = field(default_factory=list)    # name, rows, labels, bins, hists
    histograms: list[dict] = field(default_factory=list)  # name, title, axes, offset, size
    n_rows: int = 0
    n_bins: int = 0
    n_hist_cells: int = 0


@dataclass
class GeneratedModule:
    source: str
    entry: str
    layout: Layout
    missing_as_zero: frozenset[str] = frozenset()


def _num(x: float) -> str:
    if math.isnan(x):
        return "np.nan"
    if math.isinf(x):
        return "np.inf" if x > 0 else "-np.inf"
    return repr(float(x))


class _Gen:
    def __init__(self, prog: N.Program, schema: S.Schema):
        self.prog = prog
        self.schema = schema
        self.lines: list[str] = []
        self.ind = 1
        self.scopes: list[dict[Node, object]] = [{}]
        self.tmp = 0
        self.columns: dict[str, str] = {}      # chunk key -> argument name
        self.loops: dict[Node, str] = {}       # coll -> loop variable
        self.coll_id: dict[Node, int] = {}
        self.needs: dict[Node, set[str]] = {}
        self.consts: list[str] = []
        self.diags: list[Diagnostic] = []

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
        for scope in reversed(self.scopes):
            if node in scope:
                return scope[node]
        return None

    def push(self):
        self.scopes.append({})
        self.ind += 1

    def pop(self):
        self.scopes.pop()
        self.ind -= 1

    def fail(self, message: str, node: Node | None = None) -> None:
        span = self.prog.spans.get(node) if node is not None else None
        kw = {"span": span} if span is not None else {}
        self.diags.append(Diagnostic(message, code="E300", **kw))

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
        for c in reversed(order):
            if c.op == "filter":
                self.needs[c.args[0]] |= self.needs[c]
            elif c.op == "union":
                for p in c.args:
                    self.needs[p] |= self.needs[c]
        return order

    def buf(self, c: Node, attr: str) -> str:
        return f"c{self.coll_id[c]}_{''.join(ch if ch.isalnum() else '_' for ch in attr)}"

    def alloc(self, order: list[Node]) -> None:
        for c in order:
            k = self.coll_id[c]
            if c.op == "base":
                cs = self.coll_schema(c)
                if cs is None:
                    continue
                self.emit(f"mx{k} = _maxcount({self.col(cs.offsets_key)})")
            elif c.op == "filter":
                self.emit(f"mx{k} = mx{self.coll_id[c.args[0]]}")
            else:
                self.emit(f"mx{k} = " + " + ".join(f"mx{self.coll_id[p]}" for p in c.args))
            for a in sorted(self.needs[c]):
                self.emit(f"{self.buf(c, a)} = np.zeros(mx{k} + 1)")

    def coll_schema(self, c: Node):
        cs = self.schema.collection(c.attrs[0])
        if cs is None:
            self.fail(f"the input format {self.schema.name!r} has no collection {c.attrs[0]!r}")
        return cs

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
            self.emit(f"for j in range(n{k}):")
            self.ind += 1
            for a in needs:
                self.emit(f"{self.buf(c, a)}[j] = {self.base_value(c, cs, a, k, needs)}")
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
            for a in needs:
                self.emit(f"{self.buf(c, a)}[n{k}] = {self.buf(parent, a)}[{var}]")
            self.emit(f"n{k} += 1")
            self.ind -= 1
            self.pop()
            del self.loops[parent]
        else:  # union: plain concatenation, first argument first (quirk 2)
            self.emit(f"n{k} = 0")
            for p in c.args:
                pk = self.coll_id[p]
                self.emit(f"for j in range(n{pk}):")
                self.ind += 1
                for a in needs:
                    self.emit(f"{self.buf(c, a)}[n{k} + j] = {self.buf(p, a)}[j]")
                self.ind -= 1
                self.emit(f"n{k} += n{pk}")

    def base_value(self, c: Node, cs: S.CollectionSchema, attr: str, k: int,
                   needs: list[str]) -> str:
        ref = S.resolve_attribute(self.schema, c.attrs[0], attr)
        canon = S.canonical_attribute(attr) or attr
        if ref is None:
            if attr.startswith(cs.prefix):  # direct branch read: Muon_tightId(Muon)
                return f"np.float64({self.col(attr)}[o{k} + j])"
            self.fail(f"collection {c.attrs[0]!r} has no attribute {attr!r} in the input "
                      f"format {self.schema.name!r}")
            return "0.0"
        if ref.kind == "branch":
            return f"np.float64({self.col(ref.branch)}[o{k} + j])"
        if ref.kind == "fixed":
            return _num(ref.value)
        if canon in DERIVED_KIN:
            args = ", ".join(self.base_value(c, cs, a, k, needs)
                             for a in ("pT", "eta", "phi", "m"))
            return f"_kin({args}, {DERIVED_KIN[canon]})"
        if canon == "pdgid":
            pdg = S.PDG_CODES.get(cs.name, 0)
            return f"-{float(pdg)!r} * {self.base_value(c, cs, 'q', k, needs)}"
        if canon == "btag":
            flav = self.base_value(c, cs, "flavor", k, needs)
            return f"(1.0 if {flav} > {S.BTAG_THRESHOLD!r} else 0.0)"
        if canon == "index":
            return "np.float64(j)"
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
            return f"_met({self.col('MET_pt')}[ev], {self.col('MET_phi')}[ev])"
        if op == "branch":
            return f"np.float64({self.col(n.attrs[0])}[ev])"
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
            return f"({self.ex(n.args[0])} {op} {self.ex(n.args[1])})"
        if op == "not":
            return f"(not {self.ex(n.args[0])})"
        if op == "size":
            return f"np.float64(n{self.coll_id[n.args[0]]})"
        if op == "attr":
            return self.attr(n)
        if op in ("vec_obj", "vec_sum", "vec_neg", "metlv"):
            return self.vec(n)
        if op == "vattr":
            px, py, pz, e = self.ex(n.args[0])
            return f"{VEC_FUNCS[n.attrs[0]]}({px}, {py}, {pz}, {e})"
        if op == "reduce":
            return self.reduce(n)
        if op == "quant":
            return self.quant(n)
        self.fail(f"IR node {op!r} has no numba implementation", n)
        return "0.0"

    def obj_index(self, obj: Node) -> tuple[Node, str, bool]:
        """(collection, index variable, may be out of range)."""
        coll = obj.args[0]
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
        value = f"{self.buf(coll, n.attrs[0])}[{i}]"
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
            vals = [f"{self.buf(coll, a)}[{i}]" for a in ("pT", "eta", "phi", "m")]
            if check:
                self.emit(f"if 0 <= {i} < n{k}:")
                self.emit(f"    {lhs} = _ptetaphim({', '.join(vals)})")
                self.emit("else:")
                self.emit(f"    {lhs} = 0.0, 0.0, 0.0, 0.0")
            else:
                self.emit(f"{lhs} = _ptetaphim({', '.join(vals)})")
        elif n.op == "metlv":
            x, y = self.new("mx"), self.new("my")
            self.emit(f"{x}, {y} = _metxy(np.float64({self.col('MET_pt')}[ev]), "
                      f"np.float64({self.col('MET_phi')}[ev]))")
            self.emit(f"{lhs} = {x}, {y}, 0.0, math.sqrt({x} * {x} + {y} * {y})")
        elif n.op == "vec_neg":
            src = self.ex(n.args[0])
            self.emit(f"{lhs} = " + ", ".join(f"-{s}" for s in src))
        else:
            parts = [self.ex(a) for a in n.args]
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
        outer = self.loops.get(coll)
        self.loops[coll] = var
        self.push()
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

    def _restore_loop(self, coll: Node, outer: str | None) -> None:
        if outer is None:
            del self.loops[coll]
        else:
            self.loops[coll] = outer

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
        outer = self.loops.get(coll)
        self.loops[coll] = var
        self.push()
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
            layout.histograms.append({"name": h.name, "title": h.title, "offset": offset,
                                      "size": size, "axes": [
                                          (ax.bins, ax.low, ax.high, ax.edges) for ax in h.axes]})
            offset += size
        layout.n_hist_cells = offset
        for i, h in enumerate(self.prog.histograms):
            for j, ax in enumerate(h.axes):
                if ax.edges is not None:
                    self.consts.append(f"_E{i}_{j} = np.array([{', '.join(map(_num, ax.edges))}])")

        body_start = len(self.lines)
        self.alloc(order)
        self.emit("for ev in range(nev):")
        self.push()
        for c in order:
            self.materialise(c)
        row = 0
        nbin = 0
        for region in self.prog.regions:
            info = {"name": region.name, "row0": row, "labels": ["all Events"],
                    "bin0": nbin, "bin_labels": [b.label for b in region.bins], "hists": []}
            self.emit(f"# region {region.name}")
            self.emit("w = 1.0")
            self.emit("ok = True")
            self.count(row)
            row += 1
            for step in region.steps:
                info["labels"].append(step.label)
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
                row += 1
            if region.bins:
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
            layout.regions.append(info)
        self.pop()
        layout.n_rows, layout.n_bins = row, nbin
        body = self.lines[body_start:]
        args = ", ".join(["nev", *self.columns.values(), "cf_w", "cf_w2", "cf_n", "bn_w",
                          "bn_w2", "bn_n", "h_w", "h_w2", "h_n"])
        layout.columns = list(self.columns)
        header = f"# generated by adlc (numba backend {CODEGEN_VERSION}) from " \
                 f"{self.prog.source_file or '<input>'}; schema {self.schema.name}\n"
        source = (header + PRELUDE + "\n" + "\n".join(self.consts) + "\n\n\n"
                  + "@njit(**_JIT)\n" + f"def kernel({args}):\n" + "\n".join(body) + "\n")
        if self.diags:
            raise AdlSemanticError(self.diags)
        return GeneratedModule(source, "kernel", layout, self.schema.missing_reads_zero)

    def count(self, row: int) -> None:
        self.emit(f"cf_w[{row}] += w")
        self.emit(f"cf_w2[{row}] += w * w")
        self.emit(f"cf_n[{row}] += 1")

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


def generate(prog: N.Program, schema: S.Schema) -> GeneratedModule:
    """The numba module for `prog` reading inputs laid out as `schema` says."""
    return _Gen(prog, schema).generate()
