"""The function registry: specs, lookup, registration, plug-ins, lazy and compiled loading."""

from __future__ import annotations

import importlib.util
import inspect
import subprocess
import sys
import textwrap
from pathlib import Path

import adlc.stdlib as stdlib
import pytest
from adlc.stdlib import (
    BUILTINS,
    FUNCTIONS,
    FunctionPluginError,
    FunctionSpec,
    impl_fingerprint,
    load_impl,
    load_module_functions,
    load_plugins,
    lookup,
    register,
    unregister,
)
from adlc.stdlib import registry as registry_module

STDLIB_DIR = Path(stdlib.__file__).resolve().parent
HAVE_NUMBA = importlib.util.find_spec("numba") is not None

EXPECTED = {
    "fHT": "fHT([collection]) -> scalar",
    "fMT": "fMT(particle, particle) -> scalar",
    "fMll": "fMll(particle, particle) -> scalar",
    "fMEToverSqrtSumET": "fMEToverSqrtSumET(particle, scalar) -> scalar",
    "fMT2": "fMT2(particle, particle, particle) -> scalar",
    "fMTauTau": "fMTauTau(particle, particle, [particle]) -> scalar",
    "fMtautau": "fMtautau(particle, particle, [particle]) -> scalar",
    "fmegajets": "fmegajets(collection) -> collection",
    "fhemisphere": "fhemisphere(collection, scalar, scalar) -> collection",
    "fMR": "fMR(collection) -> scalar",
    "fMTR": "fMTR(collection, particle) -> scalar",
    "fAplanarity": "fAplanarity([collection]) -> scalar",
    "fSphericity": "fSphericity([collection]) -> scalar",
}


@pytest.fixture
def clean_registry(monkeypatch, tmp_path_factory):
    """Undo registrations and forget the plug-in files imported from pytest's temporary
    directories (only those: the checkout itself may live under /tmp, as CI's clone can)."""
    before = dict(FUNCTIONS)
    monkeypatch.setattr(registry_module, "_plugins_loaded", True)
    yield
    FUNCTIONS.clear()
    FUNCTIONS.update(before)
    tmp = str(tmp_path_factory.getbasetemp())
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", "") or "").startswith(tmp):
            del sys.modules[name]


# ------------------------------------------------------------------------------ built-ins

@pytest.mark.parametrize(("name", "signature"), sorted(EXPECTED.items()))
def test_builtin_signatures(name, signature):
    spec = lookup(name)
    assert spec is not None
    assert spec.signature() == signature
    assert spec.doc and spec.source


def test_every_builtin_is_listed():
    assert {spec.name for spec in BUILTINS} == set(EXPECTED)


@pytest.mark.parametrize("spec", BUILTINS, ids=lambda s: s.name)
def test_builtin_implementation_takes_the_flattened_arguments(spec):
    fn = load_impl(spec)
    assert len(inspect.signature(fn).parameters) == spec.flat_arity()


def test_lookup_is_case_sensitive(clean_registry):
    assert lookup("fMT2") is not None
    assert lookup("fmt2") is None
    assert lookup("FMT2") is None


def test_optional_arguments_have_defaults():
    spec = lookup("fMTauTau")
    assert spec is not None
    assert (spec.min_args, spec.max_args, spec.defaults) == (2, 3, ("METLV[0]",))
    assert spec.accepts(2) and spec.accepts(3) and not spec.accepts(1)
    aplanarity = lookup("fAplanarity")
    assert aplanarity is not None and aplanarity.defaults == ("JET",)


def test_importing_the_registry_does_not_import_numba():
    root = STDLIB_DIR.parent
    code = textwrap.dedent(f"""
        import importlib.util, sys
        try:
            import adlc.stdlib as s
        except ModuleNotFoundError:
            import adlc
            spec = importlib.util.spec_from_file_location(
                "adlc.stdlib", {str(STDLIB_DIR / "__init__.py")!r},
                submodule_search_locations=[{str(STDLIB_DIR)!r}])
            s = importlib.util.module_from_spec(spec)
            sys.modules["adlc.stdlib"] = s
            spec.loader.exec_module(s)
        f = s.load_impl(s.lookup("fMT2"))
        assert f(10, 0, 0, 10, -10, 0, 0, 10, 0, 0, 0, 0) == 0.0
        print("numba" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------------------------ FunctionSpec

@pytest.mark.parametrize(("kwargs", "fragment"), [
    (dict(params=("vector",)), "unknown parameter kind"),
    (dict(returns="list"), "unknown return kind"),
    (dict(impl="no_colon"), "is not 'module:function'"),
    (dict(impl="mod:not a name"), "is not 'module:function'"),
    (dict(min_args=2), "outside 0..1"),
    (dict(max_args=2), "params are listed"),
    (dict(min_args=0), "need as many defaults"),
    (dict(name="f-x"), "must be an identifier"),
])
def test_invalid_specs_are_rejected(kwargs, fragment):
    base = dict(name="fX", params=("particle",), returns="scalar", impl="mod:f")
    with pytest.raises(FunctionPluginError, match=fragment) as info:
        FunctionSpec(**{**base, **kwargs})
    assert info.value.diagnostics[0].code == "E601"


def test_spec_is_frozen_and_normalised():
    spec = FunctionSpec(name="fX", params=["particle", "scalar"], returns="scalar",
                        impl="mod:f", min_args=1, defaults=["2.0"])
    assert spec.params == ("particle", "scalar") and spec.defaults == ("2.0",)
    assert (spec.min_args, spec.max_args, spec.flat_arity()) == (1, 2, 5)
    with pytest.raises(AttributeError):
        spec.name = "fY"  # type: ignore[misc]


# ------------------------------------------------------------------------------ register

def test_register_conflicts(clean_registry):
    spec = FunctionSpec(name="fTwice", params=("scalar",), returns="scalar", impl="math:sqrt")
    assert register(spec) is spec
    assert register(spec) == spec  # the same spec again: fine
    other = FunctionSpec(name="fTwice", params=("scalar",), returns="scalar", impl="math:log")
    with pytest.raises(FunctionPluginError, match="already registered") as info:
        register(other)
    assert info.value.diagnostics[0].code == "E602"
    register(other, replace=True)
    assert lookup("fTwice") == other
    assert load_impl(other)(1.0) == 0.0
    assert unregister("fTwice") == other and lookup("fTwice") is None


def test_relative_impl_outside_a_functions_file_is_an_error(clean_registry):
    spec = FunctionSpec(name="fRel", params=("scalar",), returns="scalar", impl=":f")
    with pytest.raises(FunctionPluginError, match="no module"):
        register(spec)


def test_load_impl_reports_missing_code(clean_registry):
    missing_module = FunctionSpec(name="fA", params=(), returns="scalar", impl="no_such_mod:f")
    missing_function = FunctionSpec(name="fB", params=(), returns="scalar", impl="math:nope")
    for spec in (missing_module, missing_function):
        with pytest.raises(FunctionPluginError) as info:
            load_impl(spec)
        assert info.value.diagnostics[0].code == "E604"


def test_fingerprint_is_stable():
    spec = lookup("fMT2")
    assert spec is not None
    assert impl_fingerprint(spec) == impl_fingerprint(spec)
    assert len(impl_fingerprint(spec)) == 16


# ------------------------------------------------------------------------------ --functions files

PLUGIN = '''
import math

from adlc.stdlib import FunctionSpec, register


def _pt(px, py):
    return math.sqrt(px * px + py * py)


def fPtRatio(apx, apy, apz, ae, bpx, bpy, bpz, be):
    """pT(a) / pT(b), calling a helper (so the compiled version must compile it too)."""
    return _pt(apx, apy) / _pt(bpx, bpy)


def fNAbove(px, py, pz, e, cut):
    n = 0
    for i in range(len(px)):
        if _pt(px[i], py[i]) > cut:
            n += 1
    return float(n)


register(FunctionSpec(name="fPtRatio", params=("particle", "particle"), returns="scalar",
                      impl=":fPtRatio", doc="pT(a) / pT(b)"))

ADL_FUNCTIONS = [
    FunctionSpec(name="fNAbove", params=("collection", "scalar"), min_args=1, defaults=("30",),
                 returns="scalar", impl="{module}:fNAbove", doc="objects above a pT cut"),
]
'''


def write_plugin(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / f"{name}.py"
    path.write_text(body.replace("{module}", name))
    return path


@pytest.mark.parametrize("jit", [False, pytest.param(True, marks=pytest.mark.skipif(
    not HAVE_NUMBA, reason="numba is not installed"))])
def test_functions_file(clean_registry, tmp_path, jit):
    import numpy as np

    path = write_plugin(tmp_path, f"my_functions_{int(jit)}", PLUGIN)
    specs = load_module_functions(path)
    assert {s.name for s in specs} == {"fPtRatio", "fNAbove"}
    ratio, above = lookup("fPtRatio"), lookup("fNAbove")
    assert ratio is not None and above is not None
    assert ratio.impl == f"{path.stem}:fPtRatio"  # ":f" made absolute
    assert load_impl(ratio, jit=jit)(3.0, 4.0, 0.0, 5.0, 0.0, 10.0, 0.0, 10.0) == 0.5
    px = np.array([10.0, 40.0, 0.0])
    py = np.array([0.0, 30.0, 35.0])
    zeros = np.zeros(3)
    assert load_impl(above, jit=jit)(px, py, zeros, zeros, 30.0) == 2.0
    # Loading the same file again is harmless.
    assert {s.name for s in load_module_functions(path)} == {"fPtRatio", "fNAbove"}


def test_functions_file_errors(clean_registry, tmp_path):
    with pytest.raises(FunctionPluginError, match="does not exist"):
        load_module_functions(tmp_path / "absent.py")
    broken = write_plugin(tmp_path, "broken_functions", "def f(:\n")
    with pytest.raises(FunctionPluginError, match="SyntaxError") as info:
        load_module_functions(broken)
    assert info.value.diagnostics[0].code == "E603"
    assert "broken_functions" not in sys.modules
    clash = write_plugin(tmp_path, "clash_functions", textwrap.dedent('''
        from adlc.stdlib import FunctionSpec, register
        register(FunctionSpec(name="fMT2", params=(), returns="scalar", impl=":g"))
        def g():
            return 0.0
    '''))
    with pytest.raises(FunctionPluginError, match="already registered"):
        load_module_functions(clash)
    shadow = write_plugin(tmp_path, "os", "ADL_FUNCTIONS = []\n")
    with pytest.raises(FunctionPluginError, match="already imported"):
        load_module_functions(shadow)


# ------------------------------------------------------------------------------ entry points

class FakeEntryPoint:
    def __init__(self, name, obj):
        self.name, self.value, self.obj = name, f"fake:{name}", obj

    def load(self):
        if isinstance(self.obj, Exception):
            raise self.obj
        return self.obj


def test_entry_points_are_loaded_lazily(clean_registry, monkeypatch):
    single = FunctionSpec(name="fFromEp", params=("scalar",), returns="scalar", impl="math:fabs")
    several = [FunctionSpec(name="fEpA", params=(), returns="scalar", impl="math:pi"),
               FunctionSpec(name="fEpB", params=("scalar",), returns="scalar", impl="math:exp")]
    calls = []

    def fake(group):
        calls.append(group)
        return [FakeEntryPoint("one", single), FakeEntryPoint("many", lambda: several)]

    monkeypatch.setattr(registry_module.importlib.metadata, "entry_points", fake)
    monkeypatch.setattr(registry_module, "_plugins_loaded", False)
    assert lookup("fMT2") is not None and calls == []  # a hit does not load plug-ins
    assert lookup("fFromEp") == single and calls == ["adlc.functions"]
    assert lookup("fEpB") == several[1]
    assert lookup("fNowhere") is None and calls == ["adlc.functions"]  # loaded only once
    assert load_plugins() == []
    assert {s.name for s in load_plugins(reload=True)} == {"fFromEp", "fEpA", "fEpB"}


@pytest.mark.parametrize("bad", [ImportError("no module named x"), 42, lambda: ["not a spec"]])
def test_broken_entry_points_are_reported(clean_registry, monkeypatch, bad):
    monkeypatch.setattr(registry_module.importlib.metadata, "entry_points",
                        lambda group: [FakeEntryPoint("bad", bad)])
    with pytest.raises(FunctionPluginError, match="entry point 'bad'") as info:
        load_plugins(reload=True)
    assert info.value.diagnostics[0].code == "E603"


# ------------------------------------------------------------------------------ the documentation

DOCS = STDLIB_DIR.parent / "docs" / "functions.md"


@pytest.mark.skipif(not DOCS.is_file(), reason="docs/functions.md is not in this checkout")
@pytest.mark.parametrize("jit", [False, pytest.param(True, marks=pytest.mark.skipif(
    not HAVE_NUMBA, reason="numba is not installed"))])
def test_documented_plugin_example_works(clean_registry, tmp_path, jit):
    import numpy as np

    text = DOCS.read_text()
    section = text[text.index("### (a)"):]
    code = section[section.index("```python\n") + len("```python\n"):]
    code = code[:code.index("```")]
    path = tmp_path / f"doc_example_{int(jit)}.py"
    path.write_text(code)
    assert {s.name for s in load_module_functions(path)} == {"fPtRatio", "fNAbove", "fLeadingTwo"}
    ratio, above, lead = (lookup(n) for n in ("fPtRatio", "fNAbove", "fLeadingTwo"))
    assert above is not None and above.defaults == ("30",)
    assert load_impl(ratio, jit=jit)(30.0, 40.0, 0.0, 50.0, 10.0, 0.0, 0.0, 10.0) == 5.0
    assert np.isnan(load_impl(ratio, jit=jit)(1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0))
    px = np.array([10.0, 40.0, 0.0])
    py = np.array([0.0, 30.0, 35.0])
    z = np.zeros(3)
    assert load_impl(above, jit=jit)(px, py, z, z, 30.0) == 2.0
    got = load_impl(lead, jit=jit)(px, py, z, z)
    assert got[0].tolist() == [40.0, 0.0] and got[1].tolist() == [30.0, 35.0]
