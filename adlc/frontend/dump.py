"""A deterministic, indented text dump of an AST (`adlc dump --stage ast`, golden tests)."""

from __future__ import annotations

from adlc.frontend import ast as A


def dump_ast(node: object) -> str:
    """One line per node: its class, its scalar fields, then its children indented below."""
    lines: list[str] = []
    stack: list[tuple[object, int, str]] = [(node, 0, "")]
    while stack:
        current, depth, label = stack.pop()
        pad = "  " * depth + (f"{label}=" if label else "")
        if not hasattr(current, "__dataclass_fields__"):
            lines.append(pad + repr(current))
            continue
        scalars, nested = [], []
        for name in current.__dataclass_fields__:  # type: ignore[attr-defined]
            field = current.__dataclass_fields__[name]  # type: ignore[attr-defined]
            if not field.compare:
                continue
            value = getattr(current, name)
            if isinstance(value, tuple) and any(hasattr(v, "__dataclass_fields__") for v in value):
                nested.extend((v, f"{name}[{i}]") for i, v in enumerate(value))
            elif hasattr(value, "__dataclass_fields__"):
                nested.append((value, name))
            elif value is not None and value != ():
                scalars.append(f"{name}={value!r}")
        lines.append(pad + type(current).__name__ + (" " + " ".join(scalars) if scalars else ""))
        stack.extend((child, depth + 1, lab) for child, lab in reversed(nested))
    return "\n".join(lines) + "\n"


__all__ = ["dump_ast", "A"]
