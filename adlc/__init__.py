"""adlc: a compiler for the HEP Analysis Description Language.

`import adlc` stays light: numba, uproot, awkward, cupy and dask load only when used.
"""

__version__ = "0.1.0"

from adlc.errors import AdlError, Diagnostic, Span  # noqa: E402

__all__ = ["AdlError", "Diagnostic", "Span", "__version__"]
