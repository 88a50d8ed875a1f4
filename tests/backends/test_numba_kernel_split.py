"""The numba backend's shortcuts for large analyses give the results of the plain semantics:
values several search bins test computed once before the bins, the cutflow rows of an
inherited selection copied after the event loop instead of counted again, and the kernel
split in several functions (the selection state crossing from one to the next in arrays).
Compile time itself is measured in docs/performance.md, not here."""

from __future__ import annotations

import numpy as np
import pytest

ak = pytest.importorskip("awkward")
uproot = pytest.importorskip("uproot")
pytest.importorskip("numba")

ADL = """\
object jets
  take Jet
  select pT(Jet) > 25

object muons
  take Muon
  select pT(Muon) > 10

define ht = sum(pT(jets))
define mjj = m(jets[0] jets[1])

region base
  select size(jets) >= 1
  weight w1 0.9
  select ht > 40
  select size(muons) >= 0

# base's rows copied, base's state to start from
region child
  base
  select size(jets) >= 2
  bin size(jets) == 2 and mjj < 100
  bin size(jets) == 2 and mjj >= 100
  bin size(jets) >= 3 and mjj < 100
  bin size(jets) >= 3 and mjj >= 100

# a chain: base's rows through child's, child's state after its own cut
region grandchild
  child
  select mjj > 50
  histo hmjj, "mjj", 20, 0, 400, mjj

# a histogram inside the shared gates: only the first one is copied
region filled
  select size(jets) >= 1
  histo hht, "HT", 20, 0, 400, ht
  weight w1 0.9
  select ht > 40
  select pT(jets[0]) > 30
  bin mjj < 100 and ht < 200
  bin mjj < 100 and ht >= 200
  bin ALL
"""


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory):
    rng = np.random.default_rng(5)
    n = 2000
    nmu, njet = rng.poisson(1.0, n), rng.poisson(3.0, n)

    def jag(counts, values):
        return ak.unflatten(values.astype(np.float32), counts)

    tot_mu, tot_jet = int(nmu.sum()), int(njet.sum())
    data = {
        "Muon": ak.zip({"pt": jag(nmu, rng.exponential(20, tot_mu)),
                        "eta": jag(nmu, rng.uniform(-2.5, 2.5, tot_mu)),
                        "phi": jag(nmu, rng.uniform(-np.pi, np.pi, tot_mu))}),
        "Jet": ak.zip({"pt": jag(njet, rng.exponential(40, tot_jet)),
                       "eta": jag(njet, rng.uniform(-3, 3, tot_jet)),
                       "phi": jag(njet, rng.uniform(-np.pi, np.pi, tot_jet)),
                       "mass": jag(njet, rng.uniform(0, 10, tot_jet))}),
        "MET_pt": rng.exponential(30, n).astype(np.float32),
        "MET_phi": rng.uniform(-np.pi, np.pi, n).astype(np.float32),
    }
    d = tmp_path_factory.mktemp("split")
    path = d / "sample.root"
    with uproot.recreate(path) as f:
        f.mktree("Events", {k: (v.type if isinstance(v, ak.Array) else v.dtype)
                            for k, v in data.items()}, counter_name=lambda b: "n" + b)
        f["Events"].extend(data)
    adl = d / "split.adl"
    adl.write_text(ADL)
    return path, adl


def _numbers(result) -> dict:
    """Every number of the result, histograms' sums of squared weights included."""
    out = {}
    for name, r in result.regions.items():
        out[name] = {
            "cutflow": [(c.label, c.sumw, c.sumw2, c.raw) for c in r.cutflow],
            "bins": [(c.label, c.sumw, c.sumw2, c.raw) for c in r.bins],
            "histograms": {h: (r.histograms[h].values(flow=True).tolist(),
                               r.histograms[h].variances(flow=True).tolist(), r.entries[h])
                           for h in r.histograms},
        }
    return out


def _run(sample, backend: str = "numba", chunk_size: int = 700):
    from adlc.driver import run_analysis

    path, adl = sample
    return run_analysis(adl, [str(path)], schema="nanoaod", chunk_size=chunk_size,
                        backend=backend)


def test_split_kernels_give_the_numbers_of_one(sample, monkeypatch: pytest.MonkeyPatch) -> None:
    from adlc.backends.numba import codegen
    from adlc.driver import compile_analysis

    whole = _numbers(_run(sample))
    monkeypatch.setattr(codegen, "KERNEL_LINES", 1)  # a kernel per region
    source = compile_analysis(sample[1], schema="nanoaod")[1].source
    assert "def kernel_3(" in source and "g_ok[ev, " in source
    assert _numbers(_run(sample)) == whole


def test_copied_rows_match_the_array_backend(sample) -> None:
    ours, ref = _run(sample), _run(sample, backend="numpy")
    assert ours.regions.keys() == ref.regions.keys()
    for name, region in ours.regions.items():
        theirs = ref.regions[name]
        assert [(c.label, c.raw) for c in region.cutflow] == \
            [(c.label, c.raw) for c in theirs.cutflow], name
        assert [c.sumw for c in region.cutflow] == pytest.approx(
            [c.sumw for c in theirs.cutflow], rel=1e-12), name
        assert [c.raw for c in region.bins] == [c.raw for c in theirs.bins], name
    child = ours.regions["child"].cutflow
    base = ours.regions["base"].cutflow
    assert [c.sumw for c in child[:len(base)]] == [c.sumw for c in base]
    assert child[-1].raw > 0 and sum(c.raw for c in ours.regions["child"].bins) > 0


def test_shared_bin_values_are_computed_once(sample) -> None:
    from adlc.backends.numba.codegen import _shared_values
    from adlc.driver import compile_analysis

    prog, gen = compile_analysis(sample[1], schema="nanoaod")
    child = next(r for r in prog.regions if r.name == "child")
    shared = _shared_values([b.cond for b in child.bins])
    assert {n.op for n in shared} >= {"vattr", "cmp"}  # mjj, size(jets) == 2
    assert all(n.type not in ("coll", "obj") for n in shared)
    # mjj: once before child's bins; in grandchild for its cut, its histogram and once
    # before the bins it inherits; once before filled's bins (not once per bin: 11)
    assert gen.source.count(" = _v_m(") == 5
