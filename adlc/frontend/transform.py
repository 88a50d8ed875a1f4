"""Lark parse tree -> AST statements, one logical line at a time, then lines -> blocks.

The grammar parses lines; this module turns each line into an AST statement (normalising
dialect spellings) and then groups the statements into blocks: every block header (`object`,
`region`, ...) opens a block and the command lines that follow belong to it. Problems are
collected as diagnostics, never raised one at a time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from lark import Token, Transformer, Tree, v_args

from adlc.errors import Span
from adlc.frontend import ast as A
from adlc.frontend.names import COLLECTIONS, EVENT_NAMES, canonical_attribute, canonical_function

_INT = re.compile(r"^-?\d+$")


def _number(token: Token) -> A.Number:
    text = str(token)
    value: float | int = int(text) if _INT.match(text) else float(text)
    return A.Number(value, text)


def _print_list(children) -> tuple[str | None, tuple[A.Expr, ...]]:
    """(label, values) of `print ["label"] v1 v2 ...`: juxtaposed values are a list."""
    values = [c for c in children if not isinstance(c, Token)]
    label = None
    if values and isinstance(values[0], A.String):
        label = values.pop(0).value
    flat: list[A.Expr] = []
    for v in values:
        flat.extend(v.terms if isinstance(v, A.FourSum) else (v,))
    return label, tuple(flat)


@dataclass
class Header:
    """A parsed block header line, before its body is attached."""

    kind: str
    name: str
    span: Span
    source: A.Expr | None = None
    alias: str | None = None
    extra: dict = field(default_factory=dict)


@dataclass
class KeyValue:
    key: str
    value: str
    span: Span


@dataclass
class Row:
    values: tuple[float, ...]
    span: Span


class LineTransformer(Transformer):
    """Builds AST nodes from one parse tree; positions come from `locate(offset)`."""

    def __init__(self, locate, file: str, text: str = "") -> None:
        super().__init__(visit_tokens=False)
        self._locate = locate
        self._file = file
        self._text = text
        # Set when a four-vector sum gets a number term (`MET -3`); the parser then looks for
        # one left outside the lists and bin edges that allow it.
        self.numbers_in_sums = False

    # Lark's propagate_positions doubles the parse time, so positions are computed here: a
    # rule spans its first to its last token; closing brackets (filtered out of the tree) are
    # added back by looking at the text.
    _CLOSERS = {"call": ")", "index": "]", "abs_bars": "|", "brace_list": "}",
                "brace_numbers": "}"}
    _OPENERS = {"brace_list": "{", "brace_numbers": "{"}

    def _call_userfunc(self, tree, new_children=None):
        start, end = None, None
        for child in tree.children:
            if isinstance(child, Token):
                lo, hi = child.start_pos, child.end_pos
            elif isinstance(child, Tree) and not child.meta.empty:
                lo, hi = child.meta.start_pos, child.meta.end_pos
            else:
                continue
            if lo is None:
                continue
            start = lo if start is None else min(start, lo)
            end = hi if end is None else max(end, hi)
        if start is not None:
            closer = self._CLOSERS.get(tree.data)
            if closer is not None:
                end = self._through(end, closer)
            opener = self._OPENERS.get(tree.data)
            if opener is not None:
                start = self._back_to(start, opener)
            meta = tree.meta
            meta.empty = False
            meta.start_pos, meta.end_pos = start, end
        return super()._call_userfunc(tree, new_children)

    def _through(self, end: int, closer: str) -> int:
        text = self._text
        i = end
        # `f()` has no argument tokens: step over the empty parentheses.
        while i < len(text) and text[i] in " \t(" and closer == ")":
            if text[i] == "(":
                i += 1
                break
            i += 1
        while i < len(text) and text[i] in " \t":
            i += 1
        return i + 1 if i < len(text) and text[i] == closer else end

    def _back_to(self, start: int, opener: str) -> int:
        """`start` moved back over blanks to the opening bracket before it, if there is one."""
        text = self._text
        i = start - 1
        while i >= 0 and text[i] in " \t\r\n":
            i -= 1
        return i if i >= 0 and text[i] == opener else start

    # ------------------------------------------------------------------ positions
    def span_of(self, start: int, end: int) -> Span:
        line, col = self._locate(start)
        end_line, end_col = self._locate(max(start, end - 1))
        return Span(line, col, end_line, end_col + 1, self._file)

    def _meta_span(self, meta) -> Span:
        if getattr(meta, "empty", True):
            return Span(file=self._file)
        return self.span_of(meta.start_pos, meta.end_pos)

    def _tok_span(self, token: Token) -> Span:
        return self.span_of(token.start_pos, token.end_pos)

    # ------------------------------------------------------------------ expressions
    @v_args(meta=True)
    def number(self, meta, children):
        return replace(_number(children[0]), span=self._meta_span(meta))

    @v_args(meta=True)
    def string(self, meta, children):
        return A.String(str(children[0])[1:-1], span=self._meta_span(meta))

    @v_args(meta=True)
    def name(self, meta, children):
        ident = str(children[0])
        if ident == "this":
            return A.This(span=self._meta_span(meta))
        ident = EVENT_NAMES.get(ident, ident)
        return A.Name(ident, span=self._meta_span(meta))

    @v_args(meta=True)
    def call(self, meta, children):
        func, args = str(children[0]), tuple(children[1] or ())
        span = self._meta_span(meta)
        lower = func.lower()
        if lower == "union":
            return A.Union(args, span=span)
        if lower in ("comb", "disjoint", "cartesian"):
            return A.Comb(lower, _comb_members(lower, args), span=span)
        return A.Call(canonical_function(func), args, span=span)

    @v_args(meta=True)
    def string_call(self, meta, children):
        # `"mu_phi"(MUO)` (CutLang runs/exName.adl): the branch of that exact name, read
        # for each object; the quotes stay in the name to mark it exact
        return A.Call(str(children[0]), tuple(children[1]), span=self._meta_span(meta))

    @v_args(meta=True)
    def brace_call(self, meta, children):
        args, func = tuple(children[0]), str(children[1])
        span = self._meta_span(meta)
        func = canonical_function(func)
        # `{a b}m` is the mass of the sum; `{a, b}dR` a two-argument function.
        return A.Call(func, args, span=span)

    @v_args(meta=True)
    def brace_list(self, meta, children):
        args = tuple(children[0])
        items = args[0].terms if len(args) == 1 and isinstance(args[0], A.FourSum) else args
        return A.VarList(tuple(items), len(args) > 1, span=self._meta_span(meta))

    @v_args(meta=True)
    def brace_numbers(self, meta, children):
        span = self._meta_span(meta)
        return A.VarList(tuple(A.Number(_edge_value(c), str(c)) for c in children), span=span)

    @v_args(meta=True)
    def dot(self, meta, children):
        base, attr = children[0], str(children[1])
        return A.Call(canonical_function(attr), (base,), span=self._meta_span(meta))

    @v_args(meta=True)
    def index(self, meta, children):
        base, idx = children
        span = self._meta_span(meta)
        if isinstance(idx, tuple):
            return A.Slice(base, idx[0], idx[1], span=span)
        return A.Index(base, idx, span=span)

    def index_single(self, children):
        return children[0]

    def index_slice(self, children):
        return (children[0], children[1])

    def args(self, children):
        return tuple(children)

    @v_args(meta=True)
    def foursum(self, meta, children):
        terms: list[A.Expr] = []
        for child in children:
            terms.extend(child.terms if isinstance(child, A.FourSum) else (child,))
            if isinstance(child, A.Number):
                self.numbers_in_sums = True
        return A.FourSum(tuple(terms), span=self._meta_span(meta))

    @v_args(meta=True)
    def abs_bars(self, meta, children):
        return A.Call("abs", (children[1],), span=self._meta_span(meta))

    @v_args(meta=True)
    def neg(self, meta, children):
        operand = children[1]
        if isinstance(operand, A.Number):
            value = -operand.value
            return A.Number(value, _negate_text(operand.text), span=self._meta_span(meta))
        return A.Unary("-", operand, span=self._meta_span(meta))

    @v_args(meta=True)
    def pow(self, meta, children):
        return A.Binary("^", children[0], children[1], span=self._meta_span(meta))

    @v_args(meta=True)
    def arith(self, meta, children):
        return A.Binary(str(children[1]), children[0], children[2], span=self._meta_span(meta))

    bit_op = arith

    @v_args(meta=True)
    def compare(self, meta, children):
        op = _CMP_WORDS.get(str(children[1]), str(children[1]))
        return A.Binary(op, children[0], children[2], span=self._meta_span(meta))

    @v_args(meta=True)
    def range(self, meta, children):
        return A.Range(str(children[1]), children[0], children[2], children[3],
                       span=self._meta_span(meta))

    @v_args(meta=True)
    def not_op(self, meta, children):
        return A.Unary("not", children[1], span=self._meta_span(meta))

    @v_args(meta=True)
    def and_op(self, meta, children):
        return A.Binary("and", children[0], children[2], span=self._meta_span(meta))

    @v_args(meta=True)
    def or_op(self, meta, children):
        return A.Binary("or", children[0], children[2], span=self._meta_span(meta))

    @v_args(meta=True)
    def ternary_pass(self, meta, children):
        # adl2tnm's `select c ? cut` without an else: events (objects) failing c pass.
        span = self._meta_span(meta)
        return A.Ternary(children[0], children[1], A.Name("ALL", span=span), span=span)

    @v_args(meta=True)
    def ternary(self, meta, children):
        return A.Ternary(children[0], children[1], children[2], span=self._meta_span(meta))

    # ------------------------------------------------------------------ headers
    @v_args(meta=True)
    def info_header(self, meta, children):
        return Header("info", str(children[1]), self._meta_span(meta))

    @v_args(meta=True)
    def object_header(self, meta, children):
        name = str(children[1])
        source = next((c for c in children[2:] if isinstance(c, A.Expr)), None)
        names = [c for c in children[2:] if isinstance(c, Token) and c.type == "NAME"]
        alias = str(names[-1]) if names else None
        return Header("object", name, self._meta_span(meta), source, alias)

    @v_args(meta=True)
    def member(self, meta, children):
        return A.Member(str(children[1]), children[2], span=self._meta_span(meta))

    @v_args(meta=True)
    def composite_header(self, meta, children):
        return Header("composite", str(children[1]), self._meta_span(meta))

    @v_args(meta=True)
    def define(self, meta, children):
        return A.Define(str(children[1]), children[2], span=self._meta_span(meta))

    @v_args(meta=True)
    def region_header(self, meta, children):
        return Header("region", str(children[1]), self._meta_span(meta))

    @v_args(meta=True)
    def table_header(self, meta, children):
        return Header("table", str(children[1]), self._meta_span(meta))

    @v_args(meta=True)
    def histolist_header(self, meta, children):
        return Header("histolist", str(children[1]), self._meta_span(meta))

    @v_args(meta=True)
    def countsformat_header(self, meta, children):
        return Header("countsformat", str(children[1]), self._meta_span(meta))

    @v_args(meta=True)
    def systematic(self, meta, children):
        _, state, up, down, kind = children
        enabled = str(state).lower() in ("on", "true")
        return A.Systematic(enabled, str(up)[1:-1], str(down)[1:-1], str(kind),
                            span=self._meta_span(meta))

    # ------------------------------------------------------------------ commands
    @v_args(meta=True)
    def select(self, meta, children):
        return A.Select(children[1], span=self._meta_span(meta))

    @v_args(meta=True)
    def select_trigger(self, meta, children):
        # `select HLT "Mu50" ...`: a trigger list, read by CutLang's shell preprocessor.
        span = self._meta_span(meta)
        names = tuple(A.String(str(c)[1:-1], span=span) for c in children[2:])
        return A.Select(A.Call(str(children[1]), names, span=span), span=span)

    @v_args(meta=True)
    def reject(self, meta, children):
        return A.Reject(children[1], span=self._meta_span(meta))

    @v_args(meta=True)
    def take(self, meta, children):
        span = self._meta_span(meta)
        items = [c for c in children[1:] if not isinstance(c, Token)]
        alias_tokens = [c for c in children[1:] if isinstance(c, Token) and c.type == "NAME"]
        alias = str(alias_tokens[0]) if alias_tokens else None
        return ("take", tuple(items), alias, span)

    @v_args(meta=True)
    def histo(self, meta, children):
        name = str(children[1])
        return ("histo", name, tuple(children[2:]), self._meta_span(meta))

    def edge_list(self, children):
        return ("edges", tuple(_edge_value(c) for c in children),
                tuple(self._edge_span(c) for c in children))

    def _edge_span(self, edge) -> Span:
        return edge.span if isinstance(edge, A.Number) else self._tok_span(edge)

    def edge(self, children):
        return children[0]

    @v_args(meta=True)
    def weight(self, meta, children):
        return A.Weight(str(children[1]), children[2], span=self._meta_span(meta))

    @v_args(meta=True)
    def bin(self, meta, children):
        label = next((c for c in children[1:-1] if isinstance(c, Token)), None)
        cond = children[-1]
        if label is None and isinstance(cond, A.FourSum) and _edges_after_value(cond.terms):
            # `bin MTl 250 350 500`: a value followed by its edges.
            edges = tuple(t.value for t in cond.terms[1:])
            return A.BinEdges(cond.terms[0], edges, "bin",
                              tuple(t.span for t in cond.terms[1:]), span=self._meta_span(meta))
        return A.Bin(str(label)[1:-1] if label is not None else None, cond,
                     span=self._meta_span(meta))

    @v_args(meta=True)
    def bin_edges(self, meta, children):
        edges = tuple(_edge_value(c) for c in children[2:])
        return A.BinEdges(children[1], edges, "bin",
                          tuple(self._edge_span(c) for c in children[2:]),
                          span=self._meta_span(meta))

    @v_args(meta=True)
    def bins_edges(self, meta, children):
        # After a name the numbers are read as part of it (`HT 300 500`): split them off.
        # After a value that cannot be juxtaposed (`(HT * 2) 1 2`) they are edges already.
        value = children[1]
        terms = value.terms if isinstance(value, A.FourSum) else (value,)
        count = len(terms)
        while count > 1 and isinstance(terms[count - 1], A.Number):
            count -= 1
        edges = tuple(t.value for t in terms[count:]) + tuple(
            _edge_value(c) for c in children[2:])
        spans = tuple(t.span for t in terms[count:]) + tuple(
            self._edge_span(c) for c in children[2:])
        head = terms[0] if count == 1 else A.FourSum(terms[:count], span=value.span)
        return A.BinEdges(head, edges, "bins", spans, span=self._meta_span(meta))

    @v_args(meta=True)
    def sort(self, meta, children):
        return A.Sort(children[1], str(children[2]).lower() == "descend",
                      span=self._meta_span(meta))

    @v_args(meta=True)
    def select_sort(self, meta, children):
        # `select SORT {goodEle_}E descend` (CutLang runs/example_sorting.adl): a sort
        return A.Sort(children[2], str(children[3]).lower() == "descend",
                      span=self._meta_span(meta))

    @v_args(meta=True)
    def print(self, meta, children):
        label, values = _print_list(children[1:])
        return A.Print(label, values, span=self._meta_span(meta))

    @v_args(meta=True)
    def print_action(self, meta, children):
        label, values = _print_list(children[1:])
        return A.PrintAction(label, values, span=self._meta_span(meta))

    @v_args(meta=True)
    def save(self, meta, children):
        name = str(children[1])
        fmt = None
        values: list[A.Expr] = []
        for c in children[2:]:
            if isinstance(c, Token):
                if c.type == "CSV":
                    fmt = "csv"
                continue
            values.extend(c.terms if isinstance(c, A.FourSum) else (c,))
        return A.Save(name, fmt, tuple(values), span=self._meta_span(meta))

    @v_args(meta=True)
    def counts(self, meta, children):
        entries = tuple(c for c in children[2:] if isinstance(c, A.CountEntry))
        return A.Counts(str(children[1]), entries, span=self._meta_span(meta))

    def count_entry(self, children):
        return A.CountEntry(_edge_value(children[0]), tuple(children[1:]))

    def sym_error(self, children):
        e = float(children[1])
        return (e, e)

    def asym_error(self, children):
        return (float(children[1]), float(children[3]))

    def up_error(self, children):
        return (float(children[1]), 0.0)

    def down_error(self, children):
        return (0.0, float(children[1]))

    @v_args(meta=True)
    def process(self, meta, children):
        name, desc = str(children[1]), str(children[2])[1:-1]
        kinds = tuple(str(c) for c in children[3:] if isinstance(c, Token))
        return A.Process(name, desc, kinds, span=self._meta_span(meta))

    @v_args(meta=True)
    def use(self, meta, children):
        return A.Use(str(children[0]), span=self._meta_span(meta))

    @v_args(meta=True)
    def key_value(self, meta, children):
        return KeyValue(str(children[0]), str(children[1]).strip(), self._meta_span(meta))

    @v_args(meta=True)
    def row(self, meta, children):
        return Row(tuple(_edge_value(c) for c in children), self._meta_span(meta))

    def start(self, children):
        return [c for c in children if c is not None]


_CMP_WORDS = {"EQ": "==", "NE": "!=", "LT": "<", "GT": ">", "LE": "<=", "GE": ">="}


def _edges_after_value(terms: tuple[A.Expr, ...]) -> bool:
    return len(terms) >= 2 and not isinstance(terms[0], A.Number) and all(
        isinstance(t, A.Number) for t in terms[1:])


def _negate_text(text: str) -> str:
    return text[1:] if text.startswith("-") else "-" + text


def _edge_value(token) -> float:
    if isinstance(token, A.Number):
        return token.value
    text = str(token)
    return int(text) if _INT.match(text) else float(text)


def _comb_members(kind: str, args: tuple[A.Expr, ...]) -> tuple[A.Expr, ...]:
    """COMB takes juxtaposed placeholder terms; disjoint/cartesian take `collection name` pairs."""
    if kind == "comb":
        members: list[A.Expr] = []
        for arg in args:
            members.extend(arg.terms if isinstance(arg, A.FourSum) else (arg,))
        return tuple(members)
    out: list[A.Expr] = []
    for arg in args:
        if (isinstance(arg, A.FourSum) and len(arg.terms) == 2
                and isinstance(arg.terms[1], A.Name)):
            out.append(A.Bound(arg.terms[0], arg.terms[1].id, span=arg.span))
        else:
            out.append(arg)
    return tuple(out)


__all__ = ["LineTransformer", "Header", "KeyValue", "Row", "COLLECTIONS",
           "canonical_attribute", "Tree"]
