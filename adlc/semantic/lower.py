"""The semantic pass: resolve names, check types and lower the AST to IR (`adlc.ir.nodes`).

Region inheritance and histoList pastes are expanded here, structurally (steps of the parent
region, histograms of the list), never textually. Every problem is collected as a Diagnostic and
raised together as one `AdlSemanticError` at the end.

CutLang semantics fixed here (conformance README §4): cleaning cuts against an un-indexed second
collection become `quant` nodes (default allof). Two CutLang bugs are reproduced only with
`cutlang_compat=True` (`adlc run --cutlang-compat`), and adlc otherwise does what the cut says
(docs/cutlang-differences.md): cleaning against an empty partner removes every candidate
(quirk 14; adlc: allof over nothing is true, anyof false), and two-argument min/max return 0 on
a tie (quirk 15; adlc: the true min/max). Constant weights are float32 (quirk 12);
histogram and single-line bin edges are float32 (quirk 18); slices are inclusive (quirk 9).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from adlc.errors import AdlSemanticError, Diagnostic, Span
from adlc.frontend import ast as A
from adlc.frontend.names import COLLECTIONS
from adlc.frontend.normalise import lhada_file
from adlc.frontend.printer import format_expr
from adlc.ir import nodes as N
from adlc.ir.nodes import Node, make
from adlc.runtime.schemas import canonical_event_name
from adlc.semantic.labels import SourceText

# Event quantities whose branch each input format names (runtime/schemas.py, `event`).
SCHEMA_EVENT_KEYS = frozenset({"runno", "lbno", "eventno", "metsig"})
# Object commands that rescale the candidates' momenta: which quantity they scale.
RESCALES = {"applyPTF": "pT", "scalePT": "pT", "applyEF": "E", "scaleE": "E"}
# What `save NAME` writes for each event: its numbers (0 where the input format has none).
EVENT_ID_KEYS = ("runno", "lbno", "eventno")
EVENT_ID_COLUMNS = ("runNo", "lbNo", "eventNo")

ATTRIBUTES = frozenset({
    "pT", "eta", "phi", "m", "q", "E", "P", "pz", "rap", "theta", "absEta", "flavor", "BTag",
    "CTag", "TauTag", "pdgID", "IDX", "dxy", "edxy", "dz", "edz", "z0", "miniiso", "absiso",
    "ptcone", "etcone", "isTight", "isMedium", "isLoose", "genPartIdx", "tau32",
})
MATH = frozenset({"abs", "sqrt", "cos", "sin", "tan", "sinh", "cosh", "tanh", "exp", "log",
                  "hstep", "delta"})
REDUCERS = frozenset({"sum", "min", "max", "ave"})
COMPARISONS = {"==": "==", "!=": "!=", "<": "<", ">": ">", "<=": "<=", ">=": ">="}
NEGATED = {"==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}
VEC_ATTRS = frozenset({"pT", "eta", "phi", "m", "E", "P", "pz", "rap", "theta", "absEta"})
BINDERS = frozenset({"reduce", "quant"})
# CutLang's lexer tokens for NanoAOD branches whose names it spells without the underscore
# (parse.l: relIsoall, pfRelIso03all, miniPFRelIsoAll): the branch suffix each one reads.
CUTLANG_BRANCH_ATTRS = {"relIsoall": "relIso_all", "pfRelIso03all": "pfRelIso03_all",
                        "miniPFRelIsoAll": "miniPFRelIso_all"}
# Hidden attribute of a COMB candidate: member k's position in its collection, plus one.
COMB_MEMBER = "_member"
MET_NAMES = frozenset({"MET", "MissingET"})


# Errors that an error inside their span causes (an expression that failed is lowered as
# the number 0): reported only where no error was reported inside them.
FOLLOW_ON_CODES = frozenset({"E220", "E230", "E232", "E236"})


def _within(inner: Span, outer: Span) -> bool:
    """Whether span `inner` lies inside span `outer` (both in the same file)."""
    if not inner.line or not outer.line or inner.file != outer.file:
        return False
    return ((outer.line, outer.column) <= (inner.line, inner.column)
            and (inner.end_line, inner.end_column) <= (outer.end_line, outer.end_column))


# OME (ONNX model evaluation) and its `{ ... }` input list: CutLang only, when built with ONNX
OME_HINT = ("evaluate the network outside adlc and add its output to the input file as a "
            "branch (then use it by name), or register it as an external function "
            "(docs/functions.md)")


def _is_condition(e: A.Expr) -> bool:
    """A comparison, `and`/`or` or `not`, read from the syntax alone."""
    if isinstance(e, A.Binary):
        return e.op in COMPARISONS or e.op in ("and", "or")
    return isinstance(e, A.Unary) and e.op == "not"


class Unsupported(Exception):
    """A construct the IR can express later (issue 4) but this pass does not lower yet."""


def elem(coll: Node) -> Node:
    return make("elem", (coll,), (), "obj")


def b_jets() -> Node:
    """CutLang's built-in `BJET` (parse.y: type bjet_t over JET; FuncNode.cpp reads it through
    tagJets(ao, 1, "JET")): the jets whose b-tag bit is set, i.e. JET with BTag(JET) == 1.
    A file's own `object BJET` takes precedence (looked up first)."""
    jets = make("base", (), ("Jet",), "coll")
    tagged = make("cmp", (make("attr", (elem(jets),), ("BTag",)), N.const(1.0)), ("==",),
                  "bool")
    return make("filter", (jets, tagged), (), "coll")


def free_elems(node: Node, memo: dict | None = None) -> frozenset[Node]:
    """Collections whose loop element `node` uses without a reducer/quantifier binding it."""
    memo = {} if memo is None else memo
    for n in N.walk(node):
        if n in memo:
            continue
        if n.op == "elem":
            memo[n] = frozenset({n.args[0]})
        elif n.type == "coll":
            memo[n] = frozenset()
        elif n.op in BINDERS:
            inner = memo[n.args[1]] - {n.args[0]}
            memo[n] = inner.union(*(memo[a] for a in n.args[2:]))
        else:
            memo[n] = frozenset().union(*(memo[a] for a in n.args))
    return memo[node]


@dataclass
class _Scope:
    cand_names: frozenset[str] = frozenset()
    cand: Node | None = None
    quant: dict = field(default_factory=dict)     # coll -> "all" | "any"
    slices: dict = field(default_factory=dict)    # coll -> (lo, hi)
    members: bool = False                          # placeholders are COMB members here
    occurrences: dict = field(default_factory=dict)  # (coll, k) -> uses so far
    local: dict = field(default_factory=dict)     # composite member names -> nodes
    attr_defs: dict = field(default_factory=dict)  # per-candidate defines -> their AST


class Lowerer:
    def __init__(self, analysis: A.Analysis, source: str | None, cutlang_compat: bool = False):
        self.analysis = analysis
        # Reproduce CutLang's bugs (quirks 14 and 15) instead of the documented semantics.
        # The marker goes into the nodes' attributes, so each mode is its own kernel.
        self.compat = ("cutlang",) if cutlang_compat else ()
        # adl2tnm (LHADA) files are C++ underneath: a particle where a number is expected is
        # its pT (TNMObject's `operator double() { return Pt(); }`), e.g. `select MHT > 300`.
        self.adl2tnm = (analysis.dialect == "cutlang" and lhada_file(analysis.items)
                        and not any(isinstance(i, A.Composite) for i in analysis.items))
        self.text = SourceText(source)
        self.diags: list[Diagnostic] = []
        self.objects: dict[str, Node] = {}
        self.defines: dict[str, Node] = {}
        self.histolists: dict[str, A.HistoList] = {}
        self.tables: dict[str, A.Table] = {}
        self.regions: dict[str, N.Region] = {}
        self.histograms: list[N.Histogram] = []
        self.records: list[N.Table] = []
        self.scope = _Scope()
        self.spans: dict[Node, Span] = {}
        self.chosen: dict[Node, None] = {}  # placeholders chosen so far in the region
        self.sorts: dict[Node, Node] = {}        # collection -> its sorted version, in a region
        self.in_region = False
        # object -> (names of its candidate, its per-candidate defines): `ptsq(goodjets[0])`
        self.object_attrs: dict[str, tuple[frozenset, dict[str, A.Expr]]] = {}
        self.leaked_sorts: dict[Node, Node] = {}
        self.region_sorts: dict[str, dict[Node, Node]] = {}
        self.countsformats: dict[str, A.CountsFormat] = {}
        self.region_counts: dict[str, list[A.Counts]] = {}
        self.failed: set[str] = set()   # objects and defines whose lowering reported an error
        # defines given to OME by name: their `{ ... }` lists are the network's inputs
        self.ome_inputs = {a.id for n in A.walk(analysis)
                           if isinstance(n, A.Call) and n.func == "OME"
                           for a in n.args if isinstance(a, A.Name)}

    # --- errors ----------------------------------------------------------------------------
    def error(self, message: str, span: Span, code: str = "E200", hint: str | None = None):
        if code in FOLLOW_ON_CODES and any(_within(d.span, span) for d in self.diags):
            # a wrong type or an empty reducer around an error already reported (the 0 that
            # stands in for the bad part): a consequence of that error, not another one
            return
        self.diags.append(Diagnostic(message, span, code, "error", hint))

    # --- top level -------------------------------------------------------------------------
    def run(self) -> N.Program:
        for item in dependency_order(self.analysis.items):
            errors, abandoned = len(self.diags), False
            try:
                if isinstance(item, A.ObjectDef):
                    self.objects[item.name] = self.lower_object(item)
                elif isinstance(item, A.Define):
                    self.defines[item.name] = self.lower_define(item)
                elif isinstance(item, A.HistoList):
                    self.histolists[item.name] = item
                elif isinstance(item, A.Table):
                    self.tables[item.name] = item
                elif isinstance(item, A.Region):
                    self.regions[item.name] = self.lower_region(item)
                elif isinstance(item, A.Composite):
                    self.objects[item.name] = self.lower_composite(item)
                elif isinstance(item, A.CountsFormat):
                    self.countsformats[item.name] = item
            except Unsupported as exc:
                self.error(f"{exc} not supported yet", item.span, "E290",
                           "this construct is planned for the next release")
            except _Recovered as exc:  # the error is recorded; go on to report the others
                abandoned = isinstance(exc, _Abandoned)
            if (abandoned or len(self.diags) > errors) and isinstance(item, (A.ObjectDef,
                                                                              A.Define)):
                self.failed.add(item.name)  # its uses are not reported again
        if self.diags:
            raise AdlSemanticError(self.diags, self.text.source)
        return N.Program(tuple(self.objects.items()), tuple(self.defines.items()),
                         tuple(self.regions.values()), tuple(self.histograms), (),
                         self.spans, self.analysis.file, tuple(self.records))

    def lower_define(self, d: A.Define) -> Node:
        self.scope = _Scope()
        if isinstance(d.value, A.VarList) and d.name in self.ome_inputs:
            # CutLang's `define NNin = { a b c }`, the input list of `OME(model, NNin)`
            self.error("a variable list `{ ... }` is the input of OME (ONNX model evaluation), "
                       "which adlc does not support", d.value.span, "E291", OME_HINT)
            raise _Recovered()
        node = self.expr(d.value)
        if node.type == "coll":
            name = d.value.id if isinstance(d.value, A.Name) else "coll"
            self.error(f"define {d.name!r} is a collection; use an object block", d.span,
                       hint=f"for its four-vector sum write sum({name}); for the negative "
                            f"sum (MHT) write sum(-{name}) or -{name}_")
        if free_elems(node):
            self.error(f"define {d.name!r} uses an un-indexed collection outside a reducer",
                       d.span, hint="index it (coll[0]) or reduce it (sum(...), size(...))")
        return node

    def met(self) -> Node:
        """MET, the magnitude of the missing transverse momentum: the format's MET pT branch
        as it is. CutLang instead takes the length of the TVector2 it builds from pT and phi,
        which can differ from MET_pt in the last bit (and needs MET_phi read); that is what
        `--cutlang-compat` computes (docs/cutlang-differences.md)."""
        return make("met", (), self.compat)

    # --- objects ---------------------------------------------------------------------------
    def lower_object(self, obj: A.ObjectDef) -> Node:
        source = obj.take[0].source if len(obj.take) == 1 else None
        if isinstance(source, A.Name) and source.id in MET_NAMES and not obj.commands:
            # adl2tnm: `object MET / take MissingET` names the event's missing momentum,
            # read as a number (MET) or, where a particle is expected, as METLV[0]
            return self.met()
        if len(obj.take) == 1 and isinstance(obj.take[0].source, A.Comb):
            return self.lower_comb(obj, obj.take[0].source)
        self.scope = _Scope()
        if isinstance(source, A.Name) and not obj.commands:
            value = self.expr(source)
            if value.type == "num":
                # adl2tnm: `object scalarHT / take ScalarHT` names a one-value-per-event
                # ntuple quantity (read as a number wherever the object is used)
                return value
        if len(obj.take) > 1:
            parent = make("union", tuple(self.coll(t.source) for t in obj.take), (), "coll")
        else:
            source = obj.take[0].source
            if isinstance(source, A.Comb):
                raise Unsupported("COMB objects")
            parent = self.coll(source)
        if not obj.commands:
            return parent
        names = set()
        source = obj.take[0].source
        if isinstance(source, A.Name):
            names = {source.id, COLLECTIONS.get(source.id, source.id)}
        if obj.take[0].binding:
            names.add(obj.take[0].binding)
        preds = []
        attr_defs: dict[str, A.Expr] = {}
        self.object_attrs[obj.name] = (frozenset(names), attr_defs)
        for cmd in obj.commands:
            self.scope = _Scope(frozenset(names), elem(parent), attr_defs=attr_defs)
            if isinstance(cmd, A.DefineAttr):
                # learn-adl: a per-candidate attribute, evaluated where it is used
                self.num(cmd.value)  # its errors are reported here, once
                attr_defs[cmd.name] = cmd.value
                continue
            if (isinstance(cmd, A.Select) and isinstance(cmd.cond, A.Call)
                    and cmd.cond.func in RESCALES):
                # the criteria so far select, then the survivors' momenta are rescaled and
                # the later criteria see the new values
                parent = self.rescale(self.filtered(parent, preds), cmd.cond)
                preds = []
                continue
            if isinstance(cmd, A.Select) and (made := self.object_result(cmd.cond, names)):
                # CutLang's object-level forms that replace the object's candidates:
                # `select sum(-jets) > 0` (CMS-SUS-19-006's MHT: one candidate, the negated
                # vector sum) and `select fhemisphere(jets, 2, 3) == 2` (the function's
                # objects). The comparison only makes the line a condition: it is not applied.
                current = self.filtered(parent, preds)
                if made[0] == "sum":
                    parent = make("vsumobj", (current,), (made[1],), "coll")
                else:
                    self.scope = _Scope()
                    call = self.expr(made[1])
                    parent = substitute(call, {self.coll(obj.take[0].source): current})
                preds = []
                continue
            if isinstance(cmd, (A.Select, A.Reject)):
                cond = cmd.cond
                pred = self.cond(cond)
                if isinstance(cmd, A.Reject):
                    if free_elems(pred) - {parent}:
                        self.scope = _Scope(frozenset(names), elem(parent))
                        pred = self.cond(negate(cond))
                    else:
                        pred = make("not", (pred,), (), "bool")
                preds.append(self.quantify(pred, cmd.span))
            elif isinstance(cmd, (A.Histo, A.Print)):
                continue  # object-level histos/prints have no effect on the physics
            else:
                raise Unsupported(f"'{type(cmd).__name__}' in an object")
        return self.filtered(parent, preds)

    @staticmethod
    def object_result(cond: A.Expr, names: set[str]):
        """("sum", negated) for `sum(coll) OP x` / `sum(-coll) OP x` on the object's own
        collection, ("call", the call) for `f(coll, ...) OP x` with `f` an external function
        that makes a collection; else None."""
        if not (isinstance(cond, A.Binary) and cond.op in COMPARISONS
                and isinstance(cond.left, A.Call) and cond.left.args):
            return None
        call, arg = cond.left, cond.left.args[0]
        if call.func == "sum" and len(call.args) == 1:
            negated = isinstance(arg, A.Unary) and arg.op == "-"
            inner = arg.operand if negated else arg
            if isinstance(inner, A.Name) and inner.id in names:
                return "sum", negated
            return None
        spec = _stdlib_lookup(call.func)
        if (spec is not None and spec.returns == "collection" and isinstance(arg, A.Name)
                and arg.id in names):
            return "call", call
        return None

    @staticmethod
    def filtered(parent: Node, preds: list[Node]) -> Node:
        if not preds:
            return parent
        pred = preds[0]
        for p in preds[1:]:
            pred = make("and", (pred, p), (), "bool")
        return make("filter", (parent, pred), (), "coll")

    def rescale(self, parent: Node, call: A.Call) -> Node:
        """`applyPTF(f)`/`scalePT(f)`: pT times f (eta, phi, mass kept); `applyEF(f)`/
        `scaleE(f)`: the whole four-vector times f (so E, pT and mass). f may depend on the
        candidate (a table of pT and eta, say)."""
        if len(call.args) != 1:
            self.error(f"{call.func} takes one factor", call.span, "E242",
                       f"write select {call.func}(1.05) or {call.func}(table(pT(jets)))")
            raise _Recovered()
        factor = self.num(call.args[0])
        return make("rescale", (parent, factor), (RESCALES[call.func],), "coll")

    def lower_comb(self, obj: A.ObjectDef, comb: A.Comb) -> Node:
        """`COMB(a[-1] b[-2]) alias x`: the summed four-vectors of the member tuples passing
        the criteria. Members of one collection form unordered tuples i < j (quirk 23)."""
        if comb.kind != "comb":
            raise Unsupported(f"{comb.kind}() combinations")
        self.scope = _Scope(members=True)
        members = []
        for m in comb.members:
            node = self.expr(m)
            if node.op != "member":
                self.error("COMB takes placeholder-indexed collections: COMB(a[-1] b[-2])",
                           m.span, "E234")
                raise _Recovered()
            members.append(node)
        alias = make("vec_sum", tuple(make("vec_obj", (m,), (), "vec") for m in members), (),
                     "vec")
        names = frozenset({obj.alias}) if obj.alias else frozenset()
        preds = []
        for cmd in obj.commands:
            self.scope = _Scope(names, alias, members=True)
            if isinstance(cmd, (A.Select, A.Reject)):
                preds.append(self.tuple_criterion(cmd, "a COMB"))
            elif not isinstance(cmd, (A.Histo, A.Print)):
                raise Unsupported(f"'{type(cmd).__name__}' in a COMB object")
        return make("comb", (*members, _conjunction(preds)), (), "coll")

    def lower_composite(self, comp: A.Composite) -> Node:
        """learn-adl `composite`: candidate tuples of `take disjoint(a x, b y)` (distinct
        objects: unordered i < j within one collection; across collections, any pair but
        never the same object twice) or `cartesian(...)` (every combination), kept when they
        pass the block's selects. `object Z = x + y` names a four-vector of the members; the
        last one is the candidate's four-vector (the sum of all members when there is none),
        so `m(Zcands[0])` is the mass of the first candidate's Z."""
        comb = comp.take[0].source if len(comp.take) == 1 else None
        if not isinstance(comb, A.Comb) or comb.kind not in ("disjoint", "cartesian"):
            self.error("a composite takes disjoint(a x, b y) or cartesian(a x, b y)",
                       comp.span, "E234")
            raise _Recovered()
        self.scope = _Scope()
        members, local = [], {}
        for b in comb.members:
            if not isinstance(b, A.Bound):
                self.error(f"name each member of {comb.kind}(): {comb.kind}(leptons l1, "
                           "leptons l2)", b.span, "E234")
                raise _Recovered()
            node = make("member", (self.coll(b.source),), ("bound", comp.name, b.name), "obj")
            members.append(node)
            local[b.name] = node
        cand = make("vec_sum", tuple(make("vec_obj", (m,), (), "vec") for m in members), (),
                    "vec")
        preds = []
        for cmd in comp.commands:
            self.scope = _Scope(cand=cand, local=dict(local))
            if isinstance(cmd, A.Member):
                cand = local[cmd.name] = self.vec(cmd.value)
            elif isinstance(cmd, (A.Select, A.Reject)):
                preds.append(self.tuple_criterion(cmd, "a composite"))
            elif not isinstance(cmd, (A.Histo, A.Print)):
                raise Unsupported(f"'{type(cmd).__name__}' in a composite")
        return make("composite", (*members, _conjunction(preds), cand), (comb.kind,), "coll")

    def tuple_criterion(self, cmd: A.Select | A.Reject, where: str) -> Node:
        """One select/reject line of a COMB object or composite: a condition on the tuple."""
        pred = self.cond(cmd.cond)
        if isinstance(cmd, A.Reject):
            pred = make("not", (pred,), (), "bool")
        if free_elems(pred):
            self.error(f"an un-indexed collection in {where} criterion must be reduced",
                       cmd.span, "E220", "use any(), all(), size(), sum(), min() or max()")
        return pred

    def quantify(self, pred: Node, span: Span) -> Node:
        """Wrap each comparison that reads an un-indexed second collection in allof/anyof."""
        cand = self.scope.cand.args[0]
        memo: dict = {}
        done: dict[Node, Node] = {}
        bound = {b for n in N.walk(pred) if n.op in BINDERS for b in N.walk(n.args[1])}
        for n in N.walk(pred):
            if n.type == "coll" or n in bound:
                # a collection is closed (its own cuts are already lowered); a reducer's or
                # any()/all()'s body is quantified by that reducer
                done[n] = n
                continue
            args = tuple(done.get(a, a) for a in n.args)
            new = make(n.op, args, n.attrs, n.type) if args != n.args else n
            if n.op in ("cmp", "range"):
                partners = free_elems(new, memo) - {cand}
                for coll in partners:
                    kind = self.scope.quant.get(coll, "all")
                    new = make("quant", (coll, new), (kind, *self.compat), "bool")
            done[n] = new
        result = done[pred]
        if free_elems(result) - {cand}:
            self.error("an un-indexed collection here must be inside a comparison", span)
        return result

    # --- regions ---------------------------------------------------------------------------
    def lower_region(self, region: A.Region) -> N.Region:
        self.chosen = {}
        # sort: later commands of the region see the sorted collection (ADL.md §7.4). adlc
        # keeps it inside the region (and the regions inheriting it); CutLang's sort leaks
        # into later regions (quirk 24), reproduced with cutlang_compat.
        self.sorts = dict(self.leaked_sorts) if self.compat else {}
        self.in_region = True
        try:
            return self.lower_region_commands(region)
        finally:
            self.in_region = False

    def lower_region_commands(self, region: A.Region) -> N.Region:
        steps: list[N.Step] = []
        bins: list[N.SearchBin] = []
        uses: dict[str, int] = {}
        external: list[A.Counts] = []   # `counts` lines, in order (inherited ones first)
        counts = {}
        for c in region.commands:
            if isinstance(c, A.Use) and c.name in self.histolists:
                counts[c.name] = counts.get(c.name, 0) + 1
        for cmd in region.commands:
            self.scope = _Scope()
            first_step, first_bin = len(steps), len(bins)
            try:
                if isinstance(cmd, A.Use):
                    if cmd.name in self.regions:
                        first_bin = len(bins) + len(self.regions[cmd.name].bins)
                        self.sorts.update(self.region_sorts.get(cmd.name, {}))
                        parent = self.regions[cmd.name]
                        # print/save run only in the region that writes them
                        steps.extend(s for s in map(self.copy_step, parent.steps)
                                     if s is not None)
                        first_step = len(steps)
                        for step in parent.steps:
                            if isinstance(step, N.Cut):
                                for n in walk_values(step.cond):
                                    if n.op == "optimise":
                                        self.chosen.update(dict.fromkeys(n.args[2:]))
                        bins.extend(parent.bins)
                        external.extend(self.region_counts.get(cmd.name, ()))
                    elif cmd.name in self.histolists:
                        k = uses.get(cmd.name, 0)
                        uses[cmd.name] = k + 1
                        suffix = str(k) if counts[cmd.name] > 1 else ""
                        histos = self.histolists[cmd.name].histos
                        if k % 2 == 1:
                            histos = tuple(reversed(histos))  # quirk 19
                        steps.extend(self.histo(h, suffix) for h in histos)
                    else:
                        self.error(f"{cmd.name!r} is neither an earlier region nor a histoList",
                                   cmd.span, "E240",
                                   "a bare name in a region inherits a region defined above it")
                elif isinstance(cmd, A.Select) and has_print_action(cmd.cond):
                    steps.extend(self.print_actions(cmd, region.name))
                elif isinstance(cmd, A.Select):
                    steps.append(N.Cut(self.event_cond(cmd.cond, cmd.span),
                                       self.text.label(cmd.span)))
                elif isinstance(cmd, A.Reject):
                    cond = make("not", (self.event_cond(cmd.cond, cmd.span),), (), "bool")
                    steps.append(N.Cut(cond, self.text.label(cmd.span)))
                elif isinstance(cmd, A.Weight):
                    value = self.num(cmd.value)
                    if value.op == "const":  # CutLang stores constant weights as float (quirk 12)
                        value = N.const(float(np.float32(value.attrs[0])))
                    self.check_event(value, cmd.span)
                    steps.append(N.Weight(value, self.text.label(cmd.span)))
                elif isinstance(cmd, A.Histo):
                    steps.append(self.histo(cmd, ""))
                elif isinstance(cmd, A.Bin):
                    cond = self.event_cond(cmd.cond, cmd.span)
                    label = f'"{cmd.name}"' if cmd.name is not None else self.text.label(cmd.span)
                    bins.append(N.SearchBin(label, cond))
                elif isinstance(cmd, A.BinEdges):
                    bins.extend(self.bin_edges(cmd))
                elif isinstance(cmd, A.Sort):
                    steps.append(self.sort(cmd))
                    first_step += 1
                elif isinstance(cmd, A.Counts):
                    self.check_counts(cmd)
                    external.append(cmd)
                elif isinstance(cmd, (A.Print, A.Save)):
                    steps.append(self.record(cmd, region.name))
                else:
                    raise Unsupported(f"'{type(cmd).__name__.lower()}' in a region")
            except Unsupported as exc:
                self.error(f"{exc} not supported yet", cmd.span, "E290")
            except _Recovered:
                pass
            if self.sorts:
                steps[first_step:] = [self.sorted_step(s) for s in steps[first_step:]]
                bins[first_bin:] = [N.SearchBin(b.label, substitute(b.cond, self.sorts))
                                    for b in bins[first_bin:]]
        self.region_sorts[region.name] = dict(self.sorts)
        self.region_counts[region.name] = external
        if self.compat:
            self.leaked_sorts = dict(self.sorts)
        return N.Region(region.name, tuple(steps), tuple(bins), self.counts_histograms(external))

    def check_counts(self, cmd: A.Counts) -> None:
        fmt = self.countsformats.get(cmd.format)
        if fmt is None:
            self.error(f"unknown countsformat {cmd.format!r}", cmd.span, "E412",
                       "declare it above: countsformat NAME, then process lines")
            raise _Recovered()
        if len(cmd.entries) != len(fmt.processes):
            self.error(f"'counts {cmd.format}' gives {len(cmd.entries)} value(s) for "
                       f"{len(fmt.processes)} process(es)", cmd.span, "E413")
            raise _Recovered()

    def counts_histograms(self, lines: list[A.Counts]) -> tuple[int, ...]:
        """`counts` lines as CutLang writes them (ADL.md §3.7): per process of the format, the
        histograms `<process>`, `<process>_up`, `<process>_down` with one bin per counts line
        of that format (axis 0.5 .. n + 0.5); the errors of each kind combine in quadrature;
        contents are float32 (CutLang's TH1 fills). The numbers are external: the runtime
        adds them once to the merged result."""
        by_format: dict[str, list[A.Counts]] = {}
        for c in lines:
            by_format.setdefault(c.format, []).append(c)
        out: list[int] = []
        for name, group in by_format.items():
            axis = N.Axis(len(group), 0.5, len(group) + 0.5)
            for i, proc in enumerate(self.countsformats[name].processes):
                entries = [c.entries[i] for c in group]
                title = f'"{proc.description}"'
                columns = {
                    "": [e.value for e in entries],
                    "_up": [float(np.sqrt(sum(u * u for u, _ in e.errors))) for e in entries],
                    "_down": [float(np.sqrt(sum(d * d for _, d in e.errors))) for e in entries],
                }
                for suffix, values in columns.items():
                    fixed = tuple(float(np.float32(v)) for v in values)
                    self.histograms.append(N.Histogram(proc.name + suffix, title, (axis,),
                                                       fixed, len(group)))
                    out.append(len(self.histograms) - 1)
        return tuple(out)

    def sort(self, cmd: A.Sort) -> N.Cut:
        key = substitute(self.num(cmd.key), self.sorts)
        loops = free_elems(key)
        if len(loops) != 1:
            self.error("sort needs a key over one un-indexed collection: sort pT(jets) "
                       "descend", cmd.span, "E236")
            raise _Recovered()
        coll = next(iter(loops))
        original = next((c for c, v in self.sorts.items() if v is coll), coll)
        self.sorts[original] = make("sorted", (coll, key), (cmd.descending,), "coll")
        return N.Cut(N.TRUE, self.text.label(cmd.span))

    def sorted_step(self, step: N.Step) -> N.Step:
        if isinstance(step, N.Cut):
            return N.Cut(substitute(step.cond, self.sorts), step.label)
        if isinstance(step, N.Weight):
            return N.Weight(substitute(step.value, self.sorts), step.label)
        if isinstance(step, N.Record):
            when = substitute(step.when, self.sorts) if step.when is not None else None
            return N.Record(step.table, tuple(substitute(v, self.sorts) for v in step.values),
                            step.label, when)
        loop = substitute(step.loop, self.sorts) if step.loop is not None else None
        return N.Fill(step.hist, tuple(substitute(v, self.sorts) for v in step.values), loop,
                      step.label)

    def copy_step(self, step: N.Step) -> N.Step | None:
        if isinstance(step, N.Record):
            return None
        if isinstance(step, N.Fill):
            self.histograms.append(self.histograms[step.hist])
            return N.Fill(len(self.histograms) - 1, step.values, step.loop, step.label)
        return step

    def print_actions(self, cmd: A.Select, region: str) -> list[N.Step]:
        """`select c ? print a b : all` (CutLang runs/E62dbg.adl): a print row in the events
        reaching the line that take the print's branch, then the line as a cut in which each
        print passes (CutLang's print action is true), so a cutflow row as for any select."""
        steps: list[N.Step] = []
        todo: list[tuple[A.Expr, Node]] = [(cmd.cond, N.TRUE)]
        while todo:
            e, when = todo.pop()
            if isinstance(e, A.PrintAction):
                record = self.record(e, region)
                steps.append(dataclasses.replace(record, when=when))
            elif isinstance(e, A.Ternary):
                c = self.event_cond(e.cond, e.cond.span)
                todo.append((e.other, _conj(when, make("not", (c,), (), "bool"))))
                todo.append((e.then, _conj(when, c)))
        cut = A.rewrite(cmd.cond, lambda n: A.Name("ALL", span=n.span)
                        if isinstance(n, A.PrintAction) else n)
        cond = N.TRUE if _passes_all(cut) else self.event_cond(cut, cmd.span)
        steps.append(N.Cut(cond, self.text.label(cmd.span)))
        return steps

    def record(self, cmd: A.Print | A.PrintAction | A.Save, region: str) -> N.Record:
        """`save NAME csv v1, v2, ...` / `print ["label"] v1 v2 ...`: one row per event."""
        if isinstance(cmd, A.Save):
            event_list = not cmd.format and not cmd.values
            if not event_list and (cmd.format != "csv" or not cmd.values):
                raise Unsupported(f"'save' with format {cmd.format!r}")
            if any(t.kind == "save" and t.name == cmd.name for t in self.records):
                self.error(f"'save {cmd.name}' appears twice: both would write {cmd.name}.csv",
                           cmd.span, "E291", "give each save its own name")
                raise _Recovered()
            kind, name, label = "save", cmd.name, None
        else:
            kind, name, label = "print", region, cmd.label
        if isinstance(cmd, A.Save) and event_list:
            # `save NAME`: the list of events that reach it, NAME.csv with their numbers
            # (CutLang writes a ROOT file of them; docs/cutlang-differences.md)
            values = tuple(make("evq", (), (key, "or0"), "num") for key in EVENT_ID_KEYS)
            columns = EVENT_ID_COLUMNS
        else:
            values = tuple(self.num(v) for v in cmd.values)
            for v in values:
                self.check_event(v, cmd.span)
            columns = tuple(self.expr_text(v) for v in cmd.values)
        self.records.append(N.Table(name, kind, columns, region, label))
        return N.Record(len(self.records) - 1, values, f"[{kind}] {name}")

    def expr_text(self, e: A.Expr) -> str:
        """The source text of `e` (one line), else its canonical form."""
        sp = e.span
        if sp.line and sp.line == sp.end_line and sp.line <= len(self.text.lines) \
                and sp.end_column > sp.column:
            text = self.text.lines[sp.line - 1][sp.column - 1:sp.end_column - 1].strip()
            if text:
                return text
        return format_expr(e)

    def bin_edges(self, cmd: A.BinEdges) -> list[N.SearchBin]:
        value = self.num(cmd.value)
        self.check_event(value, cmd.span)
        words = self.text.label(cmd.span).split()
        var, texts = words[0], words[1:]
        if len(texts) != len(cmd.edges):
            texts = [format(e, "g") for e in cmd.edges]
            var = self.text.label(cmd.span).split()[0]
        if cmd.keyword == "bins":
            # learn-adl: n edges give n - 1 half-open bins [e_i, e_i+1), no under/overflow;
            # edges are kept in float64 (CutLang's float32 edges are a CutLang artefact)
            edges = [N.const(float(e)) for e in cmd.edges]
            return [N.SearchBin(f"{var} [{texts[i]}, {texts[i + 1]})",
                                make("and", (self.cmp(">=", value, edges[i]),
                                             self.cmp("<", value, edges[i + 1])), (), "bool"))
                    for i in range(len(edges) - 1)]
        edges = [N.const(float(np.float32(e))) for e in cmd.edges]
        out = [N.SearchBin(f"{var} <= {texts[0]}", self.cmp("<=", value, edges[0]))]
        for i in range(len(edges) - 1):
            out.append(N.SearchBin(f"{var} [] {texts[i]} {texts[i + 1]}",
                                   make("range", (value, edges[i], edges[i + 1]), ("[]",),
                                        "bool")))
        out.append(N.SearchBin(f"{var} >= {texts[-1]}", self.cmp(">=", value, edges[-1])))
        return out

    def histo(self, h: A.Histo, suffix: str) -> N.Fill:
        axes = []
        for ax in h.axes:
            if isinstance(ax, A.RegularAxis):
                axes.append(N.Axis(int(ax.bins), float(np.float32(ax.low)),
                                   float(np.float32(ax.high))))
            else:
                edges = tuple(float(np.float32(e)) for e in ax.edges)
                axes.append(N.Axis(len(edges) - 1, edges[0], edges[-1], edges))
        if len(h.values) != len(axes):
            self.error(f"histogram {h.name!r} has {len(axes)} axes but {len(h.values)} values",
                       h.span, "E210")
        values = tuple(self.num(v) for v in h.values)
        loops = frozenset().union(*(free_elems(v) for v in values))
        if len(loops) > 1:
            self.error(f"histogram {h.name!r} loops over several collections at once", h.span)
        loop = next(iter(loops)) if len(loops) == 1 else None
        title = f'"{h.title}"' if h.title is not None else f'"{h.name}"'
        self.histograms.append(N.Histogram(h.name + suffix, title, tuple(axes)))
        raw = self.text.histo_name_text(h.span)
        if raw is None:
            raw = h.name + " "
        if suffix:
            raw = raw.replace(h.name, h.name + suffix, 1)
        # CutLang drops the last character of the name text (quirk 10: `hmZ,` -> `hm`).
        name = raw[:-1] if self.compat else raw.strip()
        return N.Fill(len(self.histograms) - 1, values, loop, "[Histo] " + name)

    def event_cond(self, e: A.Expr, span: Span) -> Node:
        node = self.cond(e)
        self.check_event(node, span)
        return node

    def check_event(self, node: Node, span: Span) -> None:
        if not free_elems(node):
            return
        if self.scope.slices:
            # `select dR(jets[0:1], METLV[0]) > 0.3`: whether every or some sliced element
            # must pass is not written, and CutLang's meaning is undocumented
            self.error("a slice in a region command must be reduced", span, "E220",
                       "wrap the comparison in all(...) (every element passes) or any(...) "
                       "(some element passes), e.g. all(dR(jets[0:1], METLV[0]) > 0.3)")
            return
        self.error("an un-indexed collection in a region command must be reduced", span,
                   "E220", "use size(), sum(), min(), max() or ave(), or index it: x[0]")

    # --- expressions -----------------------------------------------------------------------
    def cond(self, e: A.Expr) -> Node:
        node = self.expr(e)
        if node.type == "bool":
            return node
        if node.type == "num":
            return make("cmp", (node, N.const(0.0)), ("!=",), "bool")
        raise self.type_error(e, "a condition", node)

    def num(self, e: A.Expr) -> Node:
        node = self.expr(e)
        if node.type == "num":
            return node
        if node.op == "extcoll" and self.in_region and node.args and node.args[0].type == "coll":
            # CutLang's userfuncA in a region (`select fmegajets(jets) == 2`): the result
            # replaces its input collection for the rest of the region; the value is its size
            self.sorts[node.args[0]] = node
            return make("size", (node,), (), "num")
        if node.type == "bool":
            return make("b2n", (node,), (), "num")
        if self.adl2tnm and node.type in ("obj", "vec"):
            return make("attr" if node.type == "obj" else "vattr", (node,), ("pT",))
        raise self.type_error(e, "a number", node)

    def vec(self, e: A.Expr) -> Node:
        return self.to_vec(self.expr(e), e)

    def to_vec(self, node: Node, e: A.Expr) -> Node:
        node = as_particle(node)
        if node.type == "vec":
            return node
        if node.type == "obj":
            return make("vec_obj", (node,), (), "vec")
        raise self.type_error(e, "a particle or four-vector", node)

    def type_error(self, e: A.Expr, wanted: str, node: Node) -> Exception:
        what = {"coll": "a collection", "vec": "a four-vector", "obj": "a particle",
                "num": "a number", "bool": "a condition"}[node.type]
        hint = None
        if wanted == "a number" and node.type in ("obj", "vec"):
            hint = "read one of its attributes: pT(x), m(x) (or x.pT)"
        elif wanted == "a number" and node.type == "coll":
            hint = "reduce it: size(x), sum(pT(x)), min(...), max(...); or index it: x[0]"
        self.error(f"expected {wanted} here, found {what}", e.span, "E230", hint)
        return _Recovered()

    def coll(self, e: A.Expr) -> Node:
        node = self.expr(e)
        if node.type != "coll":
            raise self.type_error(e, "a collection", node)
        return node

    def cmp(self, op: str, a: Node, b: Node) -> Node:
        return make("cmp", (a, b), (op,), "bool")

    def expr(self, e: A.Expr) -> Node:
        try:
            node = self._expr(e)
        except _Abandoned:
            raise
        except _Recovered:
            return N.const(0.0)
        if e.span.line and node not in self.spans:
            self.spans[node] = e.span
        return node

    def _expr(self, e: A.Expr) -> Node:  # noqa: C901 - one case per AST class
        if isinstance(e, A.Number):
            return N.const(e.value)
        if isinstance(e, A.Name):
            return self.name(e)
        if isinstance(e, A.This):
            if self.scope.cand is None:
                self.error("'this' outside an object block", e.span)
                raise _Recovered()
            return self.scope.cand
        if isinstance(e, A.Index):
            return self.index(e)
        if isinstance(e, A.Slice):
            coll = self.coll(e.base)
            lo = self.num(e.start) if e.start is not None else N.const(0.0)
            hi = self.num(e.stop) if e.stop is not None else N.const(-1.0)
            if self.analysis.dialect != "cutlang" and e.stop is not None:
                # half-open [i:j] is i .. j - 1 inclusive; a stop of 0 is empty (not "to the
                # end", which is what a negative last index means to the reducers)
                if hi.op == "const":
                    hi = N.const(hi.attrs[0] - 1.0)
                    if hi.attrs[0] < 0:
                        lo, hi = N.const(1.0), N.const(0.0)
                else:
                    hi = make("arith", (hi, N.const(1.0)), ("-",), "num")
            self.scope.slices[coll] = (lo, hi)
            return elem(coll)
        if isinstance(e, A.Call):
            return self.call(e)
        if isinstance(e, A.FourSum):
            for t in e.terms:  # `JET constituents`: that, not JET's type, is the problem
                if isinstance(t, A.Name) and t.id in ("constituents", "daughters"):
                    self.no_constituents(t.id, t.span)
            return make("vec_sum", tuple(self.vec(t) for t in e.terms), (), "vec")
        if isinstance(e, A.Unary):
            if e.op == "-":
                x = self.expr(e.operand)
                if x.type in ("vec", "obj"):
                    return make("vec_neg", (self.to_vec(x, e.operand),), (), "vec")
                if x.type == "coll":
                    # CutLang's `-jets_` (a whole collection, negated): the negative
                    # four-vector sum, as in `sum(-jets)` (ADL.md §5.5, MHT)
                    return make("vec_neg", (make("vec_csum", (x,), (), "vec"),), (), "vec")
                if x.type == "bool":
                    x = make("b2n", (x,), (), "num")
                if x.op == "const":
                    return N.const(-x.attrs[0])
                return make("neg", (x,), (), "num")
            return make("not", (self.cond(e.operand),), (), "bool")
        if isinstance(e, A.Binary):
            return self.binary(e)
        if isinstance(e, A.Range):
            if e.op not in ("[]", "]["):
                raise Unsupported(f"range {e.op}")
            return make("range", (self.num(e.value), self.num(e.low), self.num(e.high)),
                        (e.op,), "bool")
        if isinstance(e, A.Ternary):
            c = self.cond(e.cond)
            a, b = self.expr(e.then), self.expr(e.other)
            if a.type == "bool" or b.type == "bool":
                a = a if a.type == "bool" else self.cond(e.then)
                b = b if b.type == "bool" else self.cond(e.other)
                return make("or", (make("and", (c, a), (), "bool"),
                                   make("and", (make("not", (c,), (), "bool"), b), (), "bool")),
                            (), "bool")
            return make("ternary", (c, self.num(e.then), self.num(e.other)), (), "num")
        if isinstance(e, A.Union):
            parts = [self.expr(p) for p in e.parts]
            if any(p.type in ("vec", "obj") for p in parts):
                self.particle_union(e, parts)
            return make("union", tuple(p if p.type == "coll" else self.coll(a)
                                       for a, p in zip(e.parts, parts, strict=True)),
                        (), "coll")
        if isinstance(e, A.Comb):
            raise Unsupported("COMB")
        if isinstance(e, A.String):
            self.error("a string is not a value", e.span)
            raise _Recovered()
        if isinstance(e, A.PrintAction):
            self.error("`print` as an action is allowed only in a ternary of a region's "
                       "select line", e.span, "E290",
                       "write `select c ? print v1 v2 : all` in a region, or a `print` line")
            raise _Recovered()
        if isinstance(e, A.VarList):
            self.var_list(e)
        raise Unsupported(type(e).__name__)

    def var_list(self, e: A.VarList) -> None:
        """A `{ ... }` list where a value is expected. CutLang writes braces around particles
        only before an attribute (`{ MUO_0 MUO_1 }m`, `{a, b}dR`); a list on its own is the
        input of OME (`define NNin = { ... }`, handled in `lower_define`). Its particle lists
        are juxtaposed (`MUO_0 MUO_1`, the four-vector sum); a particle cannot begin with `{`,
        so CutLang's parse.y rejects `dPhi({MUO_0, MUO_1}, {JET_0})` (runs/ex8.adl)."""
        joined = " ".join(self.text.written(i.span) or format_expr(i) for i in e.items)
        numbers = any(isinstance(i, A.Number) for i in e.items)
        if e.commas and len(e.items) > 1 and not numbers:
            self.error("a `{ ... }` list with commas is not a particle sum", e.span, "E237",
                       f"CutLang's particle list has no commas: `{joined}` (the sum of their "
                       f"four-vectors), or `{{ {joined} }}` before an attribute, e.g. "
                       f"`{{ {joined} }}m`")
        elif numbers:
            self.error("a `{ ... }` list of values is not a value itself", e.span, "E237",
                       "CutLang reads a list with numbers in it only as the input of OME "
                       "(ONNX model evaluation), which adlc does not support")
        else:
            what = "a particle" if len(e.items) == 1 else "particles"
            self.error(f"braces around {what} make a `{{ ... }}` list, not a value", e.span,
                       "E237", f"write `{joined}` without the braces; CutLang puts braces "
                       f"around particles only before an attribute: `{{ {joined} }}m`")
        raise _Recovered()

    def particle_union(self, e: A.Union, parts: list[Node]) -> None:
        """`Union(higgsR, higgsB)` of particles (CutLang runs/test.adl): CutLang's Union
        takes objects only (parse.y looks each name up among the objects and stops with
        "Object not defined"), and a per-event list of chosen particles is no collection."""
        names = [format_expr(a) for a, p in zip(e.parts, parts, strict=True)
                 if p.type in ("vec", "obj")]
        self.error(f"Union joins collections (objects); {', '.join(names)} "
                   f"{'is a particle' if len(names) == 1 else 'are particles'}", e.span,
                   "E230", "Union takes objects (`Union(goodEles, goodMuos)`); to choose "
                   "between candidate particles, compare them in a region, e.g. "
                   "`select chi2R < chi2B`")
        raise _Abandoned()

    def name(self, e: A.Name) -> Node:
        name = e.id
        if name in self.scope.cand_names:
            return self.scope.cand
        if name in self.scope.local:
            return self.scope.local[name]
        if name == "ALL":
            return N.TRUE
        if name == "NONE":
            return N.FALSE
        if name == "MET":
            return self.met()
        if name in self.failed:
            raise _Abandoned()
        if name in self.defines:
            return self.defines[name]
        if name in self.objects:
            return self.objects[name]
        if name in COLLECTIONS and COLLECTIONS[name] == "BJet":
            return b_jets()
        if name in COLLECTIONS:
            return make("base", (), (COLLECTIONS[name],), "coll")
        if name == "HT":
            return self.reduce("sum", make("attr", (elem(make("base", (), ("Jet",), "coll")),),
                                           ("pT",)), e)
        if name in ("METLV",):
            self.error("METLV must be indexed: METLV[0]", e.span, "E231")
            raise _Recovered()
        if name in ("constituents", "daughters"):
            self.no_constituents(name, e.span)
        if name in self.tables:
            raise Unsupported("tables")
        if name in self.regions or name in self.histolists:
            self.error(f"{name!r} is a region/histoList, not a value", e.span, "E241")
            raise _Recovered()
        key = canonical_event_name(name)
        if key in SCHEMA_EVENT_KEYS:  # runNo, lbNo, eventNo, MetSig: the schema names the branch
            return make("evq", (), (key,), "num")
        return make("branch", (), (name,), "num")  # event-level branch (ADL.md §8.7)

    def index(self, e: A.Index) -> Node:
        if isinstance(e.base, A.Name) and e.base.id == "METLV":
            return make("metlv", (), (), "vec")
        if (isinstance(e.base, A.Name) and isinstance(e.index, A.Number) and e.index.value == 0
                and (e.base.id == "MET" or self.objects.get(e.base.id) is self.met())):
            # adl2tnm `MET[0].Phi` (monophoton): the missing momentum, one per event
            return make("metlv", (), (), "vec")
        coll = self.coll(e.base)
        i = self.num(e.index)
        if i.op == "const" and i.attrs[0] < 0:
            # A placeholder (ADL.md §5.3): the same negative index written again in one
            # expression is another member of an unordered tuple, so occurrences count.
            k = int(i.attrs[0])
            occ = self.scope.occurrences.get((coll, k), 0)
            self.scope.occurrences[(coll, k)] = occ + 1
            return make("member" if self.scope.members else "slot", (coll,), (k, occ), "obj")
        return make("index", (coll, i), (), "obj")

    def binary(self, e: A.Binary) -> Node:
        op = e.op
        if op in ("and", "or"):
            return make(op, (self.cond(e.left), self.cond(e.right)), (), "bool")
        if op in COMPARISONS:
            return self.cmp(op, self.num(e.left), self.num(e.right))
        if op in ("~=", "~!"):
            return self.optimise(e)
        a, b = self.expr(e.left), self.expr(e.right)
        if op == "+" and a.type == "coll" and b.type == "coll":
            # CutLang `object leps : eles + muons`: one collection after the other (a Union)
            return make("union", (a, b), (), "coll")
        if op in ("+", "-") and (a.type in ("vec", "obj") or b.type in ("vec", "obj")):
            va, vb = self.to_vec(a, e.left), self.to_vec(b, e.right)
            if op == "-":
                vb = make("vec_neg", (vb,), (), "vec")
            return make("vec_sum", (va, vb), (), "vec")
        a = a if a.type == "num" else self.num(e.left)
        b = b if b.type == "num" else self.num(e.right)
        if op not in ("+", "-", "*", "/", "^", "&", "|", "<<", ">>"):
            raise Unsupported(f"operator {op}")
        return make("arith", (a, b), (op,), "num")

    def optimise(self, e: A.Binary) -> Node:
        """`value ~= target` (closest) / `~!` (furthest): choose objects for the placeholders
        of `value` not chosen by an earlier `~=` of the region (conformance quirk 21)."""
        value, target = self.num(e.left), self.num(e.right)
        if self.scope.members:
            # In a COMB block CutLang (ObjectNode.cpp createNewParti) binds every
            # placeholder of a criterion to the tuple's members before evaluating it, and a
            # search with no free placeholder left (SearchNode::evaluate) is the test
            # value == target: `max(pT(mus)) - pT(mus[-1]) ~= 0` keeps the tuples whose
            # muon is the leading one, for ~= and ~! alike.
            return self.cmp("==", value, target)
        free = [n for n in walk_values(value) if n.op == "slot" and n not in self.chosen]
        if not free:
            self.error(f"'{e.op}' needs a placeholder (coll[-1]) that is not chosen yet",
                       e.span, "E235")
            raise _Recovered()
        for slot in free:
            self.chosen[slot] = None
        mode = "closest" if e.op == "~=" else "furthest"
        return make("optimise", (value, target, *free), (mode, *self.compat), "bool")

    def reduce(self, kind: str, body: Node, e: A.Expr) -> Node:
        loops = free_elems(body) - ({self.scope.cand.args[0]} if self.scope.cand else set())
        if len(loops) != 1:
            self.error(f"{kind}() needs exactly one un-indexed collection inside, found "
                       f"{len(loops)}", e.span, "E232")
            raise _Recovered()
        coll = next(iter(loops))
        lo, hi = self.scope.slices.pop(coll, (N.const(0.0), N.const(-1.0)))
        return make("reduce", (coll, body, lo, hi), (kind,), "num")

    def collection_sum(self, arg: A.Expr) -> Node | None:
        """`sum(coll)` is the four-vector sum of the collection, `sum(-coll)` its negative
        (ADL.md §5.5, MHT); None when `arg` is no whole collection (a number to add up)."""
        negate = isinstance(arg, A.Unary) and arg.op == "-"
        inner = arg.operand if negate else arg
        whole = isinstance(inner, A.Union) or (isinstance(inner, A.Name) and (
            inner.id in self.objects or inner.id in COLLECTIONS))
        if not whole:
            return None
        coll = self.expr(inner)
        if coll.type != "coll":
            return None
        total = make("vec_csum", (coll,), (), "vec")
        return make("vec_neg", (total,), (), "vec") if negate else total

    def add_term(self, arg: A.Expr) -> Node:
        """One argument of ADD: a whole collection (its four-vector sum), a particle, a slice
        or particles written next to each other (`ADD(goodJets[0:1] goodEles[0])`)."""
        if isinstance(arg, A.FourSum):
            return make("vec_sum", tuple(self.add_term(t) for t in arg.terms), (), "vec")
        if isinstance(arg, A.Slice):
            return self.slice_sum(arg)
        total = self.collection_sum(arg)
        if total is not None:
            return total
        x = self.expr(arg)
        if x.type not in ("vec", "obj"):
            raise self.type_error(arg, "a collection or a particle", x)
        return self.to_vec(x, arg)

    def slice_sum(self, e: A.Slice) -> Node:
        """The four-vector sum of the objects of a slice with constant ends inside ADD:
        `goodJets[0:1]` is goodJets[0] + goodJets[1] (CutLang slices include both ends; a
        learn-adl slice is half-open). An object past the end of the collection reads 0,
        as any out-of-range index does, so it adds nothing."""
        coll = self.coll(e.base)
        ends = [self.num(x) if x is not None else None for x in (e.start, e.stop)]
        lo = 0.0 if ends[0] is None else ends[0].attrs[0] if ends[0].op == "const" else None
        hi = None if ends[1] is None or ends[1].op != "const" else ends[1].attrs[0]
        if hi is not None and self.analysis.dialect != "cutlang":
            hi -= 1.0
        if (lo is None or hi is None or lo != int(lo) or hi != int(hi) or lo < 0
                or not 0 <= hi - lo <= 63):
            self.error("a slice inside ADD needs two constant, non-negative ends, at most 64 "
                       "objects apart", e.span, "E200",
                       "write the objects, ADD(jets[0] jets[1] jets[2]), or the whole "
                       "collection, ADD(jets)")
            raise _Recovered()
        terms = tuple(
            make("vec_obj", (make("index", (coll, N.const(float(i))), (), "obj"),), (), "vec")
            for i in range(int(lo), int(hi) + 1))
        return terms[0] if len(terms) == 1 else make("vec_sum", terms, (), "vec")

    def any_all(self, kind: str, arg: A.Expr, e: A.Expr) -> Node:
        """learn-adl `any(cond)`/`all(cond)` over the one un-indexed collection in `cond`
        (a slice of it included): true if some / every element passes; over no element,
        any is false and all is true."""
        body = self.cond(arg)
        loops = free_elems(body) - ({self.scope.cand.args[0]} if self.scope.cand else set())
        if len(loops) != 1:
            self.error(f"{kind}() needs exactly one un-indexed collection inside, found "
                       f"{len(loops)}", e.span, "E232")
            raise _Recovered()
        coll = next(iter(loops))
        if coll not in self.scope.slices:
            return make("quant", (coll, body), (kind,), "bool")
        # a slice: the max (any) or min (all) of the condition over the sliced elements
        flag = self.reduce("max" if kind == "any" else "min", make("b2n", (body,), (), "num"),
                           e)
        return make("cmp", (flag, N.const(0.5)), (">",), "bool")

    def no_constituents(self, name: str, span: Span) -> None:
        """CutLang's `pT(JET constituents)` (runs/exCon.adl, LLP.adl): the constituents of
        each jet, which CutLang reads only from Delphes (with CMSNANO it aborts, ADL.md §6)
        and which no input format of adlc maps."""
        self.error(f"'{name}' of each object (`pT(JET {name})`, `{name}(GEN)`) is not "
                   "supported: no input format of adlc maps jet constituents or decay products",
                   span, "E233", f"{name}(X[i], a[-k]) of a COMB object is supported")
        raise _Recovered()

    def call(self, e: A.Call) -> Node:  # noqa: C901
        f, args = e.func, e.args
        if f.upper() == "HLT" and args and all(isinstance(a, A.String) for a in args):
            # `select HLT "Mu50"` (runs/test.adl): a trigger list for CutLang's CLA.sh
            first = args[0].value
            branch = first if first.startswith("HLT_") else "HLT_" + first
            self.error("a trigger list `select HLT \"...\"` (read by CutLang's CLA.sh) is "
                       "not supported", e.span, "E290",
                       f"select the trigger's branch instead, e.g. `select {branch} == 1`")
            raise _Recovered()
        if len(args) == 1 and (attr := self.candidate_define(f, args[0])) is not None:
            return attr
        if f in ATTRIBUTES and len(args) == 1:
            return self.attribute(f, args[0], e)
        if f == "size" and len(args) == 1:
            arg = args[0]
            if (isinstance(arg, A.Binary) and arg.op in COMPARISONS
                    and isinstance(arg.left, A.Name)
                    and (arg.left.id in self.objects or arg.left.id in COLLECTIONS)):
                # CMS-SUS-16-035_Delphes: `size(leptons > 2)` for `size(leptons) > 2`
                left, right = format_expr(arg.left), format_expr(arg.right)
                self.error("size() takes a collection, not a comparison", e.span, "E230",
                           f"close the parenthesis before the comparison: size({left}) "
                           f"{arg.op} {right}")
                raise _Recovered()
            coll = self.coll(args[0])
            return make("size", (coll,), (), "num")
        if f == "sum" and len(args) == 1 and (vsum := self.collection_sum(args[0])):
            return vsum
        if f == "ADD" and args:  # CutLang: every member of each collection, one four-vector
            sums = [self.add_term(a) for a in args]
            return sums[0] if len(sums) == 1 else make("vec_sum", tuple(sums), (), "vec")
        if f in REDUCERS and len(args) == 1:
            body = self.num(args[0])
            return self.reduce(f, body, e)
        if f == "MET" and len(args) == 1 and self.expr(args[0]).op == "met":
            return self.met()  # adl2tnm `MET.MET`
        if f in ("any", "all") and len(args) == 1:
            return self.any_all(f, args[0], e)
        if f in ("min", "max") and len(args) == 2:  # quirk 15
            return make("minmax2", (self.num(args[0]), self.num(args[1])), (f, *self.compat),
                        "num")
        if f in ("min", "max") and len(args) > 2:
            return make("minmaxn", tuple(self.num(a) for a in args), (f,), "num")
        if f == "fHT" and len(args) == 1:
            coll = self.coll(args[0])
            return make("reduce", (coll, make("attr", (elem(coll),), ("pT",)), N.const(0.0),
                                   N.const(-1.0)), ("sum",), "num")
        if f in ("dR", "dPhi", "dEta") and len(args) == 2:
            xs = [self.expr(a) for a in args]
            if f != "dR" and all(x.type == "num" and x.op != "met" for x in xs):
                # adl2tnm `dPhi(cj.Phi, MET.Phi)`: the difference of two angles (or etas)
                zero = N.const(0.0)
                ends = [zero, xs[0], zero, xs[1]] if f == "dPhi" else [xs[0], zero, xs[1], zero]
                return make("func", tuple(ends), (f,), "num")
            ends = []
            # lowered once: lowering a placeholder again would count another occurrence
            for a, x in zip(args, xs, strict=True):
                x = as_particle(x)
                if x.type == "coll":
                    x = elem(x)
                if x.type == "obj":
                    ends += [make("attr", (x,), ("eta",)), make("attr", (x,), ("phi",))]
                elif x.type == "vec":
                    ends += [make("vattr", (x,), ("eta",)), make("vattr", (x,), ("phi",))]
                else:
                    raise self.type_error(a, "a particle", x)
            return make("func", tuple(ends), (f,), "num")
        if f in ("Cross", "Dot") and len(args) == 2:
            return self.vector_product(f, args)
        if f in ("daughters", "constituents") and len(args) == 1:
            self.no_constituents(f, e.span)
        if f in ("daughters", "constituents") and len(args) == 2:
            return self.daughter(e)
        if f in ("allof", "anyof") and len(args) == 1 and _is_condition(args[0]):
            # `allof(dR(Jet, electrons) > 0.4)`: the condition form, learn-adl's all()/any()
            return self.any_all(f[:3], args[0], e)
        if f in ("allof", "anyof") and len(args) == 1:
            coll = self.coll(args[0])
            self.scope.quant[coll] = "all" if f == "allof" else "any"
            return elem(coll)
        if f in MATH and len(args) == 1:
            x = self.expr(args[0])
            x = make("b2n", (x,), (), "num") if x.type == "bool" else x
            if x.type != "num":
                raise self.type_error(args[0], "a number", x)
            return make("func", (x,), (f,), "num")
        if f in ("pow",) and len(args) == 2:
            return make("arith", (self.num(args[0]), self.num(args[1])), ("^",), "num")
        if f in self.tables:
            return self.table(self.tables[f], e)
        spec = _stdlib_lookup(f)
        if spec is not None:
            return self.external(spec, e)
        if f == "applyHM" and len(args) == 1:
            return self.hit_and_miss(args[0], e)
        if f == "OME":
            self.error("OME (ONNX model evaluation) is not supported by adlc", e.span, "E291",
                       OME_HINT)
            raise _Recovered()
        if f.startswith("f") and f[1:2].isupper():
            self.error(f"unknown external function {f!r}", e.span, "E242",
                       "register it with --functions (docs/functions.md)")
            raise _Recovered()
        if len(args) == 1:  # a branch read for each object: Muon_tightId(Muon) (§8.7)
            x = self.expr(args[0])
            if x.type == "coll":
                x = elem(x)
            if x.type == "obj":
                return make("attr", (x,), (CUTLANG_BRANCH_ATTRS.get(f, f),), "num")
        self.error(f"unknown function {f!r} with {len(args)} argument(s)", e.span, "E242")
        raise _Recovered()

    def vector_product(self, f: str, args: tuple[A.Expr, ...]) -> Node:
        """CutLang's `Cross(a, b)` = |a x b| and `Dot(a, b)` = a . b of the two particles'
        three-momenta, in TVector3's order of operations (Cross, then Mag = sqrt(x² + y² +
        z²); Dot = ax bx + ay by + az bz), so the result rounds as CutLang's does."""
        a, b = (self.vec(x) for x in args)
        ax, ay, az = (make("vattr", (a,), (c,)) for c in ("px", "py", "pz"))
        bx, by, bz = (make("vattr", (b,), (c,)) for c in ("px", "py", "pz"))

        def op(sym: str, x: Node, y: Node) -> Node:
            return make("arith", (x, y), (sym,))

        if f == "Dot":
            return op("+", op("+", op("*", ax, bx), op("*", ay, by)), op("*", az, bz))
        cx = op("-", op("*", ay, bz), op("*", by, az))
        cy = op("-", op("*", az, bx), op("*", bz, ax))
        cz = op("-", op("*", ax, by), op("*", bx, ay))
        mag2 = op("+", op("+", op("*", cx, cx), op("*", cy, cy)), op("*", cz, cz))
        return make("func", (mag2,), ("sqrt",))

    def daughter(self, e: A.Call) -> Node:
        """`daughters(C[i], a[-k])`: the object of `a` that fills placeholder `a[-k]` in the
        i-th tuple of the COMB object C (CutLang's `define X = daughters(C[0], a[-1])`).
        C stores, per tuple, each member's position in its collection plus one; when C[i] is
        out of range that reads 0, so the object's index is -1, also out of range, and its
        attributes read 0 (quirk 5)."""
        combo, member = e.args
        cnode = self.expr(combo)
        slot = None
        k = self.num(member.index) if isinstance(member, A.Index) else None
        if (cnode.op == "index" and cnode.args[0].op == "comb" and k is not None
                and k.op == "const" and k.attrs[0] < 0):
            coll, k = self.coll(member.base), int(k.attrs[0])
            members = cnode.args[0].args[:-1]
            slot = next((p for p, m in enumerate(members)
                         if m.args[0] is coll and m.attrs[0] == k), None)
        if slot is None:
            self.error("daughters() takes a COMB candidate and one of its placeholders",
                       e.span, "E234", "write daughters(Zs[0], muons[-1]) for object Zs : "
                       "COMB(muons[-1] muons[-2])")
            raise _Recovered()
        position = make("attr", (cnode,), (f"{COMB_MEMBER}{slot}",), "num")
        index = make("arith", (position, N.const(1.0)), ("-",), "num")
        return make("index", (coll, index), (), "obj")

    def candidate_define(self, f: str, arg: A.Expr) -> Node | None:
        """A learn-adl per-candidate define `f` of the object that `arg` is a candidate of:
        its expression lowered with `arg` as the candidate; None if `f` is no such define."""
        if isinstance(arg, A.This) and f in self.scope.attr_defs:
            return self.num(self.scope.attr_defs[f])
        for name, (names, defs) in self.object_attrs.items():
            if f not in defs:
                continue
            cand = self.expr(arg)
            if cand.type == "coll":
                cand = elem(cand)
            if cand.type != "obj" or cand.args[0] is not self.objects.get(name):
                continue
            saved = self.scope
            self.scope = _Scope(names | {name}, cand, attr_defs=defs)
            try:
                return self.num(defs[f])
            finally:
                self.scope = saved
        return None

    def hit_and_miss(self, arg: A.Expr, e: A.Call) -> Node:
        """`applyHM(eff(...) == 1)`: pass with probability eff (`== 0`: the misses instead),
        drawn from a counter-based generator of (run, event, object index, call site), so a
        rerun, any chunking and any -j give the same choices (ADL.md §6)."""
        ok = (isinstance(arg, A.Binary) and arg.op == "==" and isinstance(arg.right, A.Number)
              and arg.right.value in (0, 1))
        if not ok:
            self.error("applyHM takes an efficiency compared with 1 (keep the hits) or 0 "
                       "(keep the misses)", e.span, "E244",
                       "write applyHM(table(pT(jets)) == 1)")
            raise _Recovered()
        prob = self.num(arg.left)
        site = e.span.line * 4096 + e.span.column  # the same command draws the same numbers
        keep_hits = arg.right.value == 1
        cand = () if self.scope.cand is None else (self.scope.cand,)
        return make("hitmiss", (prob, *cand), (site, keep_hits), "bool")

    def table(self, t: A.Table, e: A.Call) -> Node:
        """A table used as a function: the value of the first row whose ranges contain every
        argument (edges inclusive), 0 outside every row; values are float32 (quirk 12)."""
        nvars = t.row_vars()  # what the rows hold; CutLang ignores the nvars line
        if len(e.args) != nvars:
            self.error(f"table {t.name!r} has nvars {nvars} but is called with "
                       f"{len(e.args)} argument(s)", e.span, "E242")
            raise _Recovered()
        skip = 3 if t.errors else 1
        rows = []
        for row in t.rows:
            if len(row) != skip + 2 * nvars:
                self.error(f"table {t.name!r}: a row needs {skip + 2 * nvars} numbers, "
                           f"found {len(row)}", t.span, "E243")
                raise _Recovered()
            rows.append((float(np.float32(row[0])), *map(float, row[skip:])))
        return make("table", tuple(self.num(a) for a in e.args), (t.name, nvars, tuple(rows)),
                    "num")

    def external(self, spec, e: A.Call) -> Node:
        """A call of a registered external function (adlc.stdlib): `extcall` node whose
        arguments follow the spec's parameter kinds; omitted optional arguments get the
        spec's default ADL text."""
        if not spec.accepts(len(e.args)):
            self.error(f"{spec.signature()} cannot take {len(e.args)} argument(s)", e.span,
                       "E242")
            raise _Recovered()
        if spec.returns not in ("scalar", "collection"):
            raise Unsupported(f"external function {spec.name} returning a {spec.returns}")
        args = list(e.args) + [_parse_default(text) for text in
                               spec.defaults[len(e.args) - spec.min_args:]]
        nodes = []
        for kind, a in zip(spec.params, args, strict=True):
            if kind == "particle":
                nodes.append(self.vec(a))
            elif kind == "collection":
                nodes.append(self.coll(a))
            else:
                nodes.append(self.num(a))
        if spec.returns == "collection":  # `take fmegajets(jets)`: objects made per event
            return make("extcoll", tuple(nodes), (spec.name, spec.impl, *spec.params), "coll")
        return make("extcall", tuple(nodes), (spec.name, spec.impl, *spec.params), "num")

    def attribute(self, f: str, arg: A.Expr, e: A.Expr) -> Node:
        x = as_particle(self.expr(arg))
        if x.type == "coll":
            x = elem(x)
        if x.type == "obj":
            return make("attr", (x,), (f,))
        if x.type == "vec":
            if f in ("q", "pdgID"):  # sums of the members' values (quirk 4)
                return self.vec_member_sum(f, x, e)
            if f not in VEC_ATTRS:
                self.error(f"{f}() of a four-vector sum is not defined", e.span, "E233")
                raise _Recovered()
            return make("vattr", (x,), (f,))
        raise self.type_error(arg, "a particle", x)

    def vec_member_sum(self, f: str, v: Node, e: A.Expr) -> Node:
        if v.op == "vec_obj":
            return make("attr", (v.args[0],), (f,))
        if v.op == "metlv":
            return N.const(0.0)
        if v.op == "vec_neg":
            return make("neg", (self.vec_member_sum(f, v.args[0], e),))
        if v.op == "vec_sum":
            total = self.vec_member_sum(f, v.args[0], e)
            for t in v.args[1:]:
                total = make("arith", (total, self.vec_member_sum(f, t, e)), ("+",))
            return total
        if v.op == "vec_csum":  # a whole collection in ADD or sum(): over all its members
            coll = v.args[0]
            return make("reduce", (coll, make("attr", (elem(coll),), (f,)), N.const(0.0),
                                   N.const(-1.0)), ("sum",), "num")
        self.error(f"{f}() of this four-vector is not defined", e.span, "E233")
        raise _Recovered()


def dependency_order(items):
    """The file's items, each after the objects, defines and tables it names (adl2tnm files
    may use an object defined further down; `adlc check` warns, E407). A stable topological
    sort: file order wherever it already works, and for cycles (reported elsewhere)."""
    named = {getattr(i, "name", None): k for k, i in enumerate(items)
             if isinstance(i, (A.ObjectDef, A.Define, A.Composite, A.Table))}
    deps = []
    for k, item in enumerate(items):
        refs = {named.get(n.id) for n in A.walk(item) if isinstance(n, A.Name)}
        refs |= {named.get(n.func) for n in A.walk(item) if isinstance(n, A.Call)}
        deps.append(sorted(r for r in refs if r is not None and r > k))
    if not any(deps):
        return list(items)
    order: list[int] = []
    state = [0] * len(items)  # 0 new, 1 on the stack, 2 placed
    for root in range(len(items)):
        stack = [(root, iter(deps[root]))]
        if state[root]:
            continue
        state[root] = 1
        while stack:
            k, it = stack[-1]
            nxt = next((d for d in it if state[d] == 0), None)
            if nxt is None:
                stack.pop()
                state[k] = 2
                order.append(k)
            else:
                state[nxt] = 1
                stack.append((nxt, iter(deps[nxt])))
    return [items[k] for k in order]


def as_particle(node: Node) -> Node:
    """`MET` where a particle is expected (adl2tnm `MET.phi`, `dphi(jets[0], MET)`) is the
    missing-momentum four-vector METLV[0]."""
    if node.op == "neg" and node.args[0].op == "met":  # `dphi(photons[0], -MET)`
        return make("vec_neg", (make("metlv", (), (), "vec"),), (), "vec")
    return make("metlv", (), (), "vec") if node.op == "met" else node


def substitute(root: Node, mapping: dict[Node, Node]) -> Node:
    """`root` rebuilt with every node in `mapping` replaced (not inside the replacements)."""
    done: dict[Node, Node] = {}
    results = set(mapping.values())
    for n in N.walk(root):
        if n in mapping:
            done[n] = mapping[n]
            continue
        if n.op == "sorted" or n in results:  # already the replacement of a collection
            done[n] = n
            continue
        args = tuple(done.get(a, a) for a in n.args)
        done[n] = make(n.op, args, n.attrs, n.type) if args != n.args else n
    return done[root]


def walk_values(root: Node) -> list[Node]:
    """`N.walk` that does not enter collections (their placeholders are COMB members)."""
    return N.walk(root, enter=lambda n: n.type != "coll")


def _stdlib_lookup(name: str):
    from adlc.stdlib import lookup

    return lookup(name)


def _parse_default(text: str) -> A.Expr:
    """The AST of a FunctionSpec default (`METLV[0]`, `JET`)."""
    from adlc.frontend.parser import parse

    tree = parse(f"define adlcDefault = {text}\n", "<default>")
    (define,) = [i for i in tree.items if isinstance(i, A.Define)]
    return define.value


class _Recovered(Exception):
    """An error was recorded; the caller substitutes a placeholder and carries on."""


class _Abandoned(_Recovered):
    """The line (or block) cannot be lowered because of an error recorded elsewhere (a use of
    a define or object that failed): drop it without reporting a follow-on type error."""


def _conjunction(preds: list[Node]) -> Node:
    pred = N.TRUE
    for p in preds:
        pred = p if pred is N.TRUE else make("and", (pred, p), (), "bool")
    return pred


def _conj(a: Node, b: Node) -> Node:
    return b if a is N.TRUE else make("and", (a, b), (), "bool")


def _passes_all(e: A.Expr) -> bool:
    """`ALL`, or a ternary (at any depth) whose every branch is `ALL`."""
    todo = [e]
    while todo:
        e = todo.pop()
        if isinstance(e, A.Ternary):
            todo += [e.then, e.other]
        elif not (isinstance(e, A.Name) and e.id == "ALL"):
            return False
    return True


def has_print_action(e: A.Expr) -> bool:
    """Whether a branch of the ternary `e` (at any depth) is a `print` action."""
    todo = [e]
    while todo:
        e = todo.pop()
        if isinstance(e, A.PrintAction):
            return True
        if isinstance(e, A.Ternary):
            todo += [e.then, e.other]
    return False


def negate(e: A.Expr) -> A.Expr:
    """`not e` pushed down to the comparisons (reject with a cleaning partner, §8.6)."""
    if isinstance(e, A.Binary) and e.op in NEGATED:
        return A.Binary(NEGATED[e.op], e.left, e.right, span=e.span)
    if isinstance(e, A.Binary) and e.op in ("and", "or"):
        return A.Binary("or" if e.op == "and" else "and", negate(e.left), negate(e.right),
                        span=e.span)
    if isinstance(e, A.Unary) and e.op == "not":
        return e.operand
    return A.Unary("not", e, span=e.span)


def lower(analysis: A.Analysis, source: str | None = None, *,
          cutlang_compat: bool = False) -> N.Program:
    """The IR Program of a parsed analysis; AdlSemanticError with every problem found."""
    return Lowerer(analysis, source, cutlang_compat).run()
