"""What every backend's code generator resolves the same way: which branch holds an event
quantity, and how a stdlib function is bound in the generated module. Backend-neutral:
nothing here imports numba, numpy or cupy."""

from __future__ import annotations

from adlc.ir.nodes import Node


class SchemaBindings:
    """Mixin for a generator with `schema`, `fail(message, node)`, `externals` (impl ->
    global name) and `consts` (module-level lines)."""

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
