"""Backend registry: name -> module with `generate(program, schema) -> GeneratedModule`.

Backends are imported lazily, so `import adlc` pulls in neither numba nor cupy.
"""

from __future__ import annotations

import importlib

from adlc.errors import AdlUsageError

BACKENDS: dict[str, str] = {"numba": "adlc.backends.numba", "numpy": "adlc.backends.numpy",
                             "cupy": "adlc.backends.cupy"}


def get_backend(name: str):
    module = BACKENDS.get(name)
    if module is None:
        raise AdlUsageError.one(f"unknown backend {name!r}",
                                hint=f"available: {', '.join(sorted(BACKENDS))}")
    return importlib.import_module(module)
