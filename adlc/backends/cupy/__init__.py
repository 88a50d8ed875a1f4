"""The CuPy backend: the numpy backend's array program with `xp = cupy` (GPU)."""

from adlc.backends.cupy.codegen import CODEGEN_VERSION, generate

NAME = "cupy"

__all__ = ["CODEGEN_VERSION", "NAME", "generate"]
