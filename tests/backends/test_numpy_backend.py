"""The numpy backend (and the CuPy backend's code, run with numpy as `xp`) against the numba
backend: the same numbers, bit for bit, on the conformance analyses and on generated analyses
over generated data; their helpers against numba's per-event loops; compile-time errors."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("numba")
pytest.importorskip("uproot")

SHARED = Path(__file__).resolve().parents[3] / "shared"
CONFORMANCE = SHARED / "conformance"
ADL_FILES = sorted((CONFORMANCE / "adl").glob("*.adl"))
# analyses whose quirk regions (CutLang-compatible mode) differ from the default mode
COMPAT_FILES = ("f09_arithmetic", "f14_bins_named", "f20_cleaning", "f21_sort", "f23_optimise_z")


def assert_same(a, b) -> None:
    """Identical cutflows, bins, histograms (contents, variances, entries) and table rows."""
    assert a.events == b.events
    assert list(a.regions) == list(b.regions)
    for name, ra in a.regions.items():
        rb = b.regions[name]
        for rows in ("cutflow", "bins"):
            ca, cb = getattr(ra, rows), getattr(rb, rows)
            assert [(c.label, c.raw) for c in ca] == [(c.label, c.raw) for c in cb], name
            np.testing.assert_array_equal([(c.sumw, c.sumw2) for c in ca],
                                          [(c.sumw, c.sumw2) for c in cb], err_msg=name)
        assert list(ra.histograms) == list(rb.histograms)
        for h in ra.histograms:
            va, vb = ra.histograms[h].view(flow=True), rb.histograms[h].view(flow=True)
            np.testing.assert_array_equal(va.value, vb.value, err_msg=f"{name}/{h}")
            np.testing.assert_array_equal(va.variance, vb.variance, err_msg=f"{name}/{h}")
            assert ra.entries[h] == rb.entries[h], f"{name}/{h}"
    assert [(t.name, t.kind, t.total) for t in a.tables] == \
        [(t.name, t.kind, t.total) for t in b.tables]
    for ta, tb in zip(a.tables, b.tables, strict=True):
        np.testing.assert_array_equal(ta.rows, tb.rows, err_msg=ta.name)


def run_cupy_on_numpy(adl, inputs, *, schema=None, cutlang_compat=False, chunk_size=200_000):
    """The CuPy backend's generated module, executed with numpy as its array module."""
    from adlc.backends.cupy import generate
    from adlc.driver import lower_file
    from adlc.runtime.execute import execute
    from adlc.runtime.reader import open_inputs
    from adlc.runtime.schemas import get_schema

    program = lower_file(adl, cutlang_compat=cutlang_compat)
    input_set = open_inputs([str(p) for p in inputs], None)
    resolved = get_schema(schema) if schema else input_set.schema()
    input_set = input_set.with_schema(resolved)
    return execute(generate(program, resolved, xp="numpy"), input_set, chunk_size=chunk_size)


def _cases():
    for path in ADL_FILES:
        for inp in ("tiny_nano", "Run2012B_SingleMu_1000"):
            yield pytest.param(path.stem, inp, False, id=f"{path.stem}.{inp}")
            if path.stem in COMPAT_FILES:
                yield pytest.param(path.stem, inp, True, id=f"{path.stem}.{inp}.compat")


needs_shared = pytest.mark.skipif(not (CONFORMANCE / "adl").is_dir(),
                                  reason="../shared/conformance is not available")


@needs_shared
@pytest.mark.parametrize(("stem", "inp", "compat"), list(_cases()))
def test_conformance_analyses_match_numba(stem: str, inp: str, compat: bool) -> None:
    from adlc.driver import run_analysis

    adl, data = CONFORMANCE / "adl" / f"{stem}.adl", [SHARED / "data" / f"{inp}.root"]
    expected = run_analysis(adl, data, backend="numba", cutlang_compat=compat)
    assert_same(expected, run_analysis(adl, data, backend="numpy", cutlang_compat=compat))
    # several chunks (chunk sums are added in chunk order, so numba runs the same chunks)
    expected = run_analysis(adl, data, backend="numba", cutlang_compat=compat, chunk_size=333)
    assert_same(expected, run_analysis(adl, data, backend="numpy", cutlang_compat=compat,
                                       chunk_size=333))
    assert_same(expected, run_cupy_on_numpy(adl, data, cutlang_compat=compat, chunk_size=333))


# --- generated analyses over generated data (hypothesis) ------------------------------------

ATOMS = ["MET", "size(jets)", "size(muons)", "size(clean)", "pT(jets[0])", "eta(jets[1])",
         "phi(muons[0])", "pT(jets[5])", "q(muons[0])", "sum(pT(jets))",
         "sum(pT(jets[1:2]))", "max(pT(jets))", "min(eta(jets))", "m(muons[0] + muons[1])",
         "dR(jets[0], muons[0])", "dPhi(jets[0], jets[1])", "abs(eta(jets[0]))",
         "sqrt(MET)", "E(jets[0])", "m(METLV[0] + jets[0])", "0.5", "40"]


def _strategies():
    from hypothesis import strategies as st

    number = st.recursive(
        st.sampled_from(ATOMS),
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*", "/"]), inner).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(inner, inner, inner).map(
                lambda t: f"(size(jets) > 2 ? {t[0]} : {t[1]}) + 0 * {t[2]}"),
            inner.map(lambda a: f"abs({a})")),
        max_leaves=4)
    const = st.sampled_from(["0", "1", "2.5", "30", "50.5", "100"])
    simple = st.one_of(
        st.tuples(number, st.sampled_from([">", "<", ">=", "<=", "==", "!="]), const).map(
            " ".join),
        st.tuples(number, st.sampled_from(["[]", "]["]), const, const).map(" ".join))
    cond = st.recursive(simple, lambda inner: st.tuples(
        inner, st.sampled_from(["and", "or"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        max_leaves=3)
    step = st.one_of(
        cond.map(lambda c: f"select {c}"),
        number.map(lambda v: f"histo h{{n}}, \"t\", 12, -20, 200, {v}"),
        st.sampled_from(["pT(jets)", "eta(muons)", "dR(clean, muons[0])"]).map(
            lambda v: f"histo h{{n}}, \"t\", 8, 0, 100, {v}"),
        number.map(lambda v: f"weight w{{n}} 0.5 + 0 * {v}"),
        st.just("sort pT(jets) ascend"),
        st.just("select m(muons[-1] + muons[-2]) ~= 91.2\n"
                "  histo h{n}, \"m\", 10, 0, 200, m(muons[-1] + muons[-2])"),
        st.just("save s{n} csv MET, pT(jets[0])"))
    return st.fixed_dictionaries({
        "mupt": st.sampled_from([3, 10, 25]), "jetpt": st.sampled_from([15, 30]),
        "steps": st.lists(step, min_size=1, max_size=5),
        "bins": st.lists(cond, max_size=2), "seed": st.sampled_from([1, 2])})


def _analysis(spec) -> str:
    steps = "\n  ".join(s.format(n=i) for i, s in enumerate(spec["steps"]))
    bins = "".join(f"\n  bin {b}" for b in spec["bins"])
    return textwrap.dedent(f"""\
        object muons
          take Muon
          select pT(Muon) > {spec["mupt"]}

        object jets
          take Jet
          select pT(Jet) > {spec["jetpt"]}

        object clean
          take jets
          select dR(jets, muons) > 0.4

        region r
          select ALL
        """) + f"  {steps}{bins}\n"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    from adlc.runtime.generate import generate

    d = tmp_path_factory.mktemp("numpy_hypothesis")
    files = {}
    for seed in (1, 2):
        files[seed] = d / f"s{seed}.root"
        generate(str(files[seed]), 1500, schema="nanoaod", seed=seed)
    return d, files


def test_generated_analyses_match_numba(generated) -> None:
    from hypothesis import HealthCheck, Phase, given, settings

    from adlc.driver import run_analysis
    from adlc.errors import AdlError

    d, files = generated

    # each example compiles one numba kernel (seconds): few examples, no deadline, and no
    # shrinking (minutes); a failure prints its analysis as generated
    @settings(max_examples=6, deadline=None, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(_strategies())
    def check(spec) -> None:
        adl = d / "gen.adl"
        adl.write_text(_analysis(spec))
        data = [files[spec["seed"]]]
        try:
            expected = run_analysis(adl, data, schema="nanoaod", backend="numba",
                                    chunk_size=700)
        except AdlError:  # an analysis numba rejects must be rejected by numpy too
            with pytest.raises(AdlError):
                run_analysis(adl, data, schema="nanoaod", backend="numpy")
            return
        assert_same(expected, run_analysis(adl, data, schema="nanoaod", backend="numpy",
                                           chunk_size=700))

    check()


# --- helpers against numba's per-event loops ---------------------------------------------------

def _prelude(cupy: bool = False) -> dict:
    from adlc.backends.cupy.prelude import CUPY_PRELUDE
    from adlc.backends.numpy.prelude import PRELUDE

    ns: dict = {}
    exec(PRELUDE.replace("{xp_import}", "import numpy as xp") + (CUPY_PRELUDE if cupy else ""),
         ns)
    return ns


@pytest.mark.parametrize("cupy", [False, True], ids=["numpy", "cupy-on-numpy"])
def test_phi_wrapping_repeats_numbas_roundings(cupy: bool) -> None:
    """Phi_mpi_pi subtracts 2 pi one step at a time: far from 0 the result carries the rounding
    of every step, which the vectorised jump reproduces exactly."""
    from numba import njit

    @njit
    def reference(x):
        while x >= math.pi:
            x -= 2.0 * math.pi
        while x < -math.pi:
            x += 2.0 * math.pi
        return x

    rng = np.random.default_rng(3)
    powers = np.ldexp(1.0, np.arange(6, 26))
    xs = np.concatenate([rng.uniform(-300, 300, 3000), rng.uniform(-1e7, 1e7, 200),
                         powers, -powers, np.nextafter(powers, 0), np.nextafter(-powers, 0),
                         [98765432.1, -98765432.1, math.pi, -math.pi, 2 * math.pi, 0.0, -0.0,
                          np.nan]])
    got = _prelude(cupy)["_phi_mpi_pi"](xs)
    expected = np.array([reference(x) if not math.isnan(x) else x for x in xs])
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("cupy", [False, True], ids=["numpy", "cupy-on-numpy"])
def test_segment_reductions_with_empty_segments_and_nan(cupy: bool) -> None:
    ns = _prelude(cupy)
    counts = np.array([0, 3, 0, 2, 1, 0])
    up = np.repeat(np.arange(counts.size), counts)
    v = np.array([4.0, np.nan, -1.0, 7.0, 7.0, np.nan])
    n = counts.size
    np.testing.assert_array_equal(ns["_rows"](counts), up)
    np.testing.assert_array_equal(ns["_offsets"](counts), [0, 0, 3, 3, 5, 6, 6])
    init = 999999999999.9
    np.testing.assert_array_equal(ns["_segmin"](v, up, n), [init, -1.0, init, 7.0, init, init])
    np.testing.assert_array_equal(ns["_segmax"](v, up, n),
                                  [-init, 4.0, -init, 7.0, -init, -init])
    mask = np.array([False, True, True, True, False, False])
    np.testing.assert_array_equal(ns["_segfirst"](mask, up, n), [-1, 1, -1, 3, -1, -1])
    np.testing.assert_array_equal(ns["_seglast"](up, n), [-1, 2, -1, 4, 5, -1])
    # ~=: the first strictly best row; NaN never chosen; a segment with nothing: -1
    d = np.array([3.0, 1.0, 1.0, np.nan, 2.0, np.nan])
    np.testing.assert_array_equal(ns["_pick_best"](d, up, n, 9999999999.9, False),
                                  [-1, 1, -1, 4, -1, -1])
    np.testing.assert_array_equal(ns["_pick_best"](d, up, n, -1.0, True),
                                  [-1, 0, -1, 4, -1, -1])
    key, ev = np.array([2.0, np.nan, 1.0, 5.0, 0.0]), np.array([0, 0, 0, 1, 1])
    np.testing.assert_array_equal(ns["_sort_in_events"](key, ev), [2, 0, 1, 4, 3])


@pytest.mark.parametrize("cupy", [False, True], ids=["numpy", "cupy-on-numpy"])
def test_histogram_bins_match_numba(cupy: bool) -> None:
    from adlc.backends.numba.prelude import PRELUDE as NUMBA_PRELUDE

    numba_ns: dict = {}
    exec(NUMBA_PRELUDE.replace("cache=True", "cache=False"), numba_ns)  # no file to cache by
    ns = _prelude(cupy)
    lo, hi = float(np.float32(0.1)), float(np.float32(200.3))
    edges = np.array([0.0, 1.5, 10.0, 10.0 + 1e-9, 50.0])
    xs = np.concatenate([np.linspace(-5, 205, 4001), [lo, hi, np.nextafter(hi, 0), np.nan,
                                                      np.inf, -np.inf], edges])
    reg = [numba_ns["_bin_reg"](37, lo, hi, x) for x in xs]
    var = [numba_ns["_bin_var"](edges, x) for x in xs]
    np.testing.assert_array_equal(ns["_bin_reg"](37, lo, hi, xs), reg)
    np.testing.assert_array_equal(ns["_bin_var"](edges, xs), var)


# --- compile time ------------------------------------------------------------------------------

def test_unsupported_ir_node_is_a_compile_error_with_its_span(tmp_path) -> None:
    import dataclasses

    from adlc.backends.numpy import generate
    from adlc.driver import lower_file
    from adlc.errors import AdlSemanticError, Span
    from adlc.ir import nodes as N
    from adlc.runtime.schemas import get_schema

    adl = tmp_path / "t.adl"
    adl.write_text("region r\n  select MET > 10\n")
    prog = lower_file(adl)
    bogus = N.make("bogus_op", (N.const(1.0),), (), "bool")
    span = Span(2, 10, 2, 18, str(adl))
    region = prog.regions[0]
    step = dataclasses.replace(region.steps[-1], cond=bogus)
    prog = dataclasses.replace(prog, regions=(dataclasses.replace(
        region, steps=(*region.steps[:-1], step)),), spans={bogus: span})
    with pytest.raises(AdlSemanticError) as err:
        generate(prog, get_schema("nanoaod"))
    assert "'bogus_op'" in str(err.value)
    assert err.value.diagnostics[0].span == span


SMALL = "object jets\n  take Jet\n  select pT(Jet) > 30\nregion r\n  select size(jets) >= 2\n"


def test_generated_code_is_plain_array_code(tmp_path) -> None:
    from adlc.driver import dump

    src = tmp_path / "t.adl"
    src.write_text(SMALL)
    numpy_code = dump(src, stage="code", backend="numpy")
    assert "def kernel(" in numpy_code and "import numpy as xp" in numpy_code
    assert "import numba" not in numpy_code and "@njit" not in numpy_code
    assert "for ev in" not in numpy_code
    cupy_code = dump(src, stage="code", backend="cupy")
    assert "import cupy as xp" in cupy_code and "pip install cupy-cuda12x" in cupy_code
    # the same body: only the prelude differs
    assert numpy_code.split("def kernel(")[1] == cupy_code.split("def kernel(")[1]


def test_generating_imports_neither_numba_nor_cupy(tmp_path) -> None:
    (tmp_path / "t.adl").write_text(SMALL)
    code = textwrap.dedent(f"""\
        import sys
        from adlc.driver import compile_analysis
        src = {str(tmp_path / "t.adl")!r}
        compile_analysis(src, backend="numpy")
        compile_analysis(src, backend="cupy")
        print(sorted(m for m in ("numba", "cupy") if m in sys.modules))
        """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert json.loads(out.stdout.strip().replace("'", '"')) == []


def test_cupy_backend_without_cupy_says_how_to_install(tmp_path) -> None:
    pytest.importorskip("awkward")
    try:
        import cupy  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("cupy is installed")
    from adlc.driver import run_analysis
    from adlc.errors import AdlError
    from adlc.runtime.generate import generate

    path = tmp_path / "s.root"
    generate(str(path), 10, schema="nanoaod", seed=1)
    adl = tmp_path / "t.adl"
    adl.write_text("region r\n  select MET > 10\n")
    with pytest.raises(AdlError, match="pip install cupy-cuda12x"):
        run_analysis(adl, [str(path)], schema="nanoaod", backend="cupy")
