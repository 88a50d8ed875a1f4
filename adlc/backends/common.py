"""What every backend's code generator resolves the same way: which branch holds an event
quantity or a direct per-object read, a base collection's binding in the input format, and
how a stdlib function is bound in the generated module. Backend-neutral:
nothing here imports numba, numpy or cupy."""

from __future__ import annotations

from adlc.ir.nodes import Node


def direct_branch(attr: str, prefix: str) -> str:
    """The branch a direct read `attr(obj)` names (ADL.md §8.7): `Muon_tightId` as it is,
    `tightId` with the collection's prefix, and a quoted name (`"mu_phi"(MUO)`, an older
    CutLang's spelling of a branch name) exactly, without its quotes."""
    if attr.startswith('"'):
        return attr.strip('"')
    return attr if attr.startswith(prefix) else prefix + attr


class SchemaBindings:
    """Mixin for a generator with `schema`, `fail(message, node)`, `externals` (impl ->
    global name) and `consts` (module-level lines)."""

    def coll_schema(self, c: Node):
        """The input format's binding of base collection `c` (None, after an error, when the
        format lacks it: the error lists the collections it has)."""
        cs = self.schema.collection(c.attrs[0])
        if cs is None:
            self.fail(f"the input format {self.schema.name!r} has no collection {c.attrs[0]!r}",
                      c, f"instead of {c.attrs[0]}, this format has "
                         + ", ".join(sorted(self.schema.collections)))
        return cs

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
