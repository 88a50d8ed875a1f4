"""The numba backend: fused per-event loops over flat arrays, compiled with @njit."""

from adlc.backends.numba.codegen import CODEGEN_VERSION, GeneratedModule, Layout, generate

NAME = "numba"

__all__ = ["CODEGEN_VERSION", "NAME", "GeneratedModule", "Layout", "generate"]
