"""The numpy backend: vectorised array code over the same flat arrays, the correctness reference."""

from adlc.backends.numpy.codegen import CODEGEN_VERSION, generate

NAME = "numpy"

__all__ = ["CODEGEN_VERSION", "NAME", "generate"]
