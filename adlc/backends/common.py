"""What every backend's code generator resolves the same way: which branch holds an event
quantity or a direct per-object read, a base collection's binding in the input format, and
how a stdlib function is bound in the generated module. Backend-neutral:
nothing here imports numba, numpy or cupy."""

from __future__ import annotations

from pathlib import Path

from adlc.errors import AdlSemanticError, Diagnostic, Span
from adlc.frontend.names import COLLECTIONS
from adlc.ir.nodes import Node


def direct_branch(attr: str, prefix: str) -> str:
    """The branch a direct read `attr(obj)` names (ADL.md §8.7): `Muon_tightId` as it is,
    `tightId` with the collection's prefix, and a quoted name (`"mu_phi"(MUO)`, an older
    CutLang's spelling of a branch name) exactly, without its quotes."""
    if attr.startswith('"'):
        return attr.strip('"')
    return attr if attr.startswith(prefix) else prefix + attr


def program_source(prog) -> str | None:
    """The text of the ADL file `prog` was lowered from, for the source line and caret of a
    code generator's error (None when there is no such file any more)."""
    path = getattr(prog, "source_file", "")
    if not path or path.startswith("<"):
        return None
    try:
        text = Path(path).read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return None
    return text[1:] if text.startswith("\ufeff") else text  # as the parser reads it


class SchemaBindings:
    """Mixin for a generator with `prog`, `schema`, `diags`, `externals` (impl -> global
    name) and `consts` (module-level lines)."""

    def fail(self, message: str, node: Node | None = None, hint: str | None = None) -> None:
        """Record an error at `node`'s source position (the file's, when it has none)."""
        span = self.prog.spans.get(node) if node is not None else None
        span = span or Span(file=self.prog.source_file or "<input>")
        self.diags.append(Diagnostic(message, span, "E300", hint=hint))

    def raise_errors(self) -> None:
        """Raise the recorded errors, each once, with the source lines for their carets."""
        if self.diags:
            raise AdlSemanticError(list(dict.fromkeys(self.diags)), program_source(self.prog))

    def written(self, node: Node) -> str | None:
        """The text at `node`'s (one-line) source position: the name as the file writes it."""
        span = self.prog.spans.get(node)
        if span is None or not span.line or span.end_line != span.line:
            return None
        if not hasattr(self, "_source_lines"):
            self._source_lines = (program_source(self.prog) or "").splitlines()
        if span.line > len(self._source_lines):
            return None
        return self._source_lines[span.line - 1][span.column - 1:span.end_column - 1] or None

    def coll_schema(self, c: Node):
        """The input format's binding of base collection `c` (None, after an error, when the
        format lacks it: the error names the formats that have it and those this one has)."""
        cs = self.schema.collection(c.attrs[0])
        if cs is None:
            self.missing_collection(c)
        return cs

    def missing_collection(self, c: Node) -> None:
        from adlc.runtime.schemas import SCHEMAS

        name, fmt = c.attrs[0], self.schema.name
        written = self.written(c)
        if COLLECTIONS.get(written or "") != name:
            written = None  # the position is that of a larger expression (`HT`, say)
        shown = f"`{written}` ({name})" if written and written != name else f"`{name}`"
        others = [s.name for s in SCHEMAS.values() if s.name != fmt and s.collection(name)]
        has = ", ".join(sorted(self.schema.collections))
        if others:
            hint = (f"the {' and '.join(others)} format{'s' * (len(others) > 1)} "
                    f"{'have' if len(others) > 1 else 'has'} {name}: choose it with "
                    f"--format {others[0]}; this format has {has}")
        else:
            hint = (f"no input format of adlc has {name} (docs/schemas.md), so the lines "
                    f"that use `{written or name}` cannot run; this format has {has}")
        self.fail(f"the input format {fmt!r} has no collection {shown}", c, hint)

    def event_branch(self, n: Node) -> str:
        """The branch holding event quantity `n` (runNo, eventNo, MetSig, ...) in this format."""
        branch = self.schema.event.get(n.attrs[0])
        if branch is None:
            self.fail(f"the input format {self.schema.name!r} has no {n.attrs[0]!r} branch; "
                      "name it in a schema file ([event] section, docs/schemas.md)", n)
            return "MET_pt"
        return branch

    def external(self, name: str, impl: str) -> str:
        """The module-level name of stdlib function `name` (implementation `impl`), bound once:
        its numba-compiled implementation, which every backend calls."""
        glb = self.externals.get(impl)
        if glb is None:
            from adlc.stdlib import impl_fingerprint, lookup

            glb = f"_X{len(self.externals)}_{name}"
            self.externals[impl] = glb
            module, _, func = impl.partition(":")
            spec = lookup(name)
            stamp = impl_fingerprint(spec) if spec is not None and spec.impl == impl else ""
            # the fingerprint puts the implementation's source into the module's cache key
            self.consts.append(f"{glb} = _jit_namespace(importlib.import_module("
                               f"{module!r}))[{func!r}]  # {impl} {stamp}")
        return glb
