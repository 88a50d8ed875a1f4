"""Delphes input: the schema, `generate(schema="delphes")`, the reader on both Delphes layouts,
and analyses run end to end against numbers computed here with uproot and awkward.

Two files: a generated one (flat, Delphes' names and types: uproot cannot write split
TClonesArrays) and tests/data/delphes_tclonesarray.root, written by ROOT itself in Delphes' real
layout (split TClonesArrays of Delphes-named classes, `Jet.PT` under `Jet`, counted by the leaf
`Jet_`, plus the Int_t `Jet_size` branches; tests/data/make_delphes_tclonesarray.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ak = pytest.importorskip("awkward")
uproot = pytest.importorskip("uproot")
pytest.importorskip("numba")

from adlc.driver import run_analysis  # noqa: E402
from adlc.errors import AdlInputError  # noqa: E402
from adlc.runtime.generate import branch_typenames, generate  # noqa: E402
from adlc.runtime.reader import branch_group, iterate_chunks, open_inputs  # noqa: E402
from adlc.runtime.schemas import (  # noqa: E402
    DELPHES,
    NANOAOD,
    detect_schema,
    get_schema,
    resolve_attribute,
)

REPO = Path(__file__).resolve().parents[2]
ZMUMU = REPO / "examples" / "zmumu.adl"
REAL = REPO / "tests" / "data" / "delphes_tclonesarray.root"
MUON_MASS = 0.105658  # CutLang's fixed muon mass, also for Delphes

ADL = """\
object jets
  take Jet
  select pT(Jet) > 30

object bjets
  take jets
  select BTag(jets) == 1

object muons
  take Muon
  select pT(Muon) > 10

region btagged
  select size(jets) >= 2
  select size(bjets) >= 1
  histo hmet, "MET (GeV)", 20, 0, 200, MET

region muon
  select size(muons) >= 1
  histo hq, "charge of the first muon", 3, -1.5, 1.5, q(muons[0])
  histo hmpt, "pT of the first muon", 10, 0, 100, pT(muons[0])
"""


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("delphes") / "delphes.root"
    generate(str(path), 3000, schema="delphes", seed=11, chunk_size=1000)
    return path


def _arrays(path: Path, names: list[str]) -> dict:
    with uproot.open(path) as f:
        return f["Delphes"].arrays(names, library="ak", how=dict)


def _counts(result, region: str) -> list[int]:
    return [c.raw for c in result.regions[region].cutflow]


# --- schema --------------------------------------------------------------------------------------


def test_branch_groups() -> None:
    assert branch_group("Jet.PT") == "Jet"
    assert branch_group("Jet_size") == "Jet"
    assert branch_group("MissingET.MET") == "MissingET"
    assert branch_group("Muon_pt") == "Muon"
    assert branch_group("LHEPdfWeight") == "LHEPdfWeight"


def test_delphes_schema() -> None:
    assert get_schema("delphes") is get_schema("DELPHES") is DELPHES
    assert DELPHES.tree == "Delphes"
    jet = DELPHES.collection("Jet")
    assert (jet.counter, jet.prefix, jet.group, jet.offsets_key) == (
        "Jet_size", "Jet.", "Jet", "Jet@offsets")
    assert resolve_attribute(DELPHES, "JET", "pT").branch == "Jet.PT"
    assert resolve_attribute(DELPHES, "Jet", "m").branch == "Jet.Mass"
    # Delphes stores the b-tag decision: BTag reads it instead of thresholding flavor.
    assert resolve_attribute(DELPHES, "Jet", "BTag").branch == "Jet.BTag"
    assert resolve_attribute(DELPHES, "MUO", "q").branch == "Muon.Charge"
    assert resolve_attribute(DELPHES, "MUO", "m").value == MUON_MASS
    assert resolve_attribute(DELPHES, "Particle", "pdgID").branch == "Particle.PID"
    assert DELPHES.column_aliases == {"MET_pt": "MissingET.MET", "MET_phi": "MissingET.Phi"}
    assert NANOAOD.column_aliases == {}


def test_detect_delphes() -> None:
    assert detect_schema(["Jet_size", "Jet.PT", "Jet.Eta"]) is DELPHES
    assert detect_schema(["MissingET.MET"]) is DELPHES
    assert detect_schema(["Jet", "Jet_size"], tree="Delphes") is DELPHES
    assert detect_schema(["nMuon", "Muon_pt"]) is NANOAOD
    with pytest.raises(AdlInputError, match="Jet.PT"):
        detect_schema(["foo", "bar"])


# --- the generated file --------------------------------------------------------------------------


def test_generated_layout(generated: Path) -> None:
    with uproot.open(generated) as f:
        assert f.keys(cycle=False) == ["Delphes"]
        tree = f["Delphes"]
        got = [(b.name, b.typename) for b in tree.branches]
        assert got == branch_typenames("delphes")
        assert tree["Jet.PT"].count_leaf.member("fName") == "Jet_size"
        assert tree.num_entries == 3000
    types = dict(got)
    assert types["Jet_size"] == "int32_t"        # Int_t in Delphes, not NanoAOD's UInt_t
    assert types["Jet.BTag"] == "uint32_t[]"
    assert types["Muon.Charge"] == "int32_t[]"
    assert types["Event.Number"] == "int64_t[]"
    arrays = _arrays(generated, ["MissingET.MET", "Jet.PT", "Jet.BTag", "Event.Number"])
    assert ak.all(ak.num(arrays["MissingET.MET"]) == 1)  # a one-element collection
    assert ak.to_numpy(ak.flatten(arrays["Event.Number"])).tolist() == list(range(1, 3001))
    assert set(np.unique(ak.to_numpy(ak.flatten(arrays["Jet.BTag"])))) == {0, 1}
    pts = arrays["Jet.PT"]
    assert ak.all(pts[:, :-1] >= pts[:, 1:])  # pT-ordered, as Delphes writes jets


def test_generate_is_deterministic(generated: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.root"
    generate(str(again), 3000, schema="delphes", seed=11, chunk_size=1000)
    a, b = (_arrays(p, ["Muon.PT", "MissingET.MET"]) for p in (generated, again))
    assert all(ak.all(a[k] == b[k]) for k in a)


def test_reader_aliases_and_offsets(generated: Path) -> None:
    inputs = open_inputs([str(generated)])
    assert inputs.tree == "Delphes"
    assert inputs.schema() is DELPHES
    bound = inputs.with_schema(DELPHES)
    assert dict(bound.aliases) == {"MET_pt": "MissingET.MET", "MET_phi": "MissingET.Phi"}
    expect = _arrays(generated, ["MissingET.MET", "MissingET.Phi", "Muon.PT", "Jet_size"])
    chunks = list(iterate_chunks(bound, ["MET_pt", "MET_phi", "Muon.PT", "Muon@offsets",
                                         "Jet@offsets"], chunk_size=700))
    assert len(chunks) == 5

    def cat(key: str) -> np.ndarray:
        return np.concatenate([c.arrays[key] for c in chunks])

    np.testing.assert_array_equal(cat("MET_pt"), ak.to_numpy(expect["MissingET.MET"][:, 0]))
    np.testing.assert_array_equal(cat("MET_phi"), ak.to_numpy(expect["MissingET.Phi"][:, 0]))
    np.testing.assert_array_equal(cat("Muon.PT"), ak.to_numpy(ak.flatten(expect["Muon.PT"])))
    jet_counts = np.concatenate([np.diff(c.arrays["Jet@offsets"]) for c in chunks])
    np.testing.assert_array_equal(jet_counts, ak.to_numpy(expect["Jet_size"]))
    # Without the schema's aliases, MET_pt is simply not in a Delphes file.
    with pytest.raises(AdlInputError, match="MET_pt"):
        next(iterate_chunks(inputs, ["MET_pt"], chunk_size=700))


def _zmumu_expected(path: Path) -> tuple[list[int], list[int], np.ndarray]:
    """examples/zmumu.adl computed with awkward: Zsel and Zjets cutflow rows, hmZ contents."""
    a = _arrays(path, ["Muon.PT", "Muon.Eta", "Muon.Phi", "Muon.Charge",
                       "Jet.PT", "Jet.Eta", "Jet.Phi"])
    n = len(a["Muon.PT"])
    sel = (a["Muon.PT"] > 20) & (abs(a["Muon.Eta"]) < 2.4)
    pt, eta, phi, q = (ak.values_astype(a[f"Muon.{k}"][sel], np.float64)
                       for k in ("PT", "Eta", "Phi", "Charge"))
    two = ak.num(pt) == 2
    pt, eta, phi, q = (x[two] for x in (pt, eta, phi, q))
    os_ = (q[:, 0] + q[:, 1]) == 0
    px, py = pt * np.cos(phi), pt * np.sin(phi)
    pz = pt * np.sinh(eta)
    e = np.sqrt(px**2 + py**2 + pz**2 + MUON_MASS**2)
    m = np.sqrt(np.maximum(ak.sum(e, axis=1)**2 - ak.sum(px, axis=1)**2 - ak.sum(py, axis=1)**2
                           - ak.sum(pz, axis=1)**2, 0))
    in_window = os_ & (m >= 76) & (m <= 106)
    n_z = int(ak.sum(in_window))
    zsel = [n, n, int(ak.sum(two)), int(ak.sum(os_)), n_z, n_z, n_z]
    hist = np.histogram(ak.to_numpy(m[in_window]), bins=60, range=(60, 120))[0]
    # Zjets: jets pT > 30, |eta| < 2.4, not within dR 0.4 of a selected muon.
    jets = ak.zip({k: ak.values_astype(a[f"Jet.{k}"], np.float64) for k in ("PT", "Eta", "Phi")})
    jets = jets[(jets.PT > 30) & (abs(jets.Eta) < 2.4)]
    mu = ak.zip({"Eta": ak.values_astype(a["Muon.Eta"][sel], np.float64),
                 "Phi": ak.values_astype(a["Muon.Phi"][sel], np.float64)})
    pairs = ak.cartesian([jets, mu], nested=True)
    j, u = ak.unzip(pairs)
    dphi = (j.Phi - u.Phi + np.pi) % (2 * np.pi) - np.pi
    near = ak.any(np.hypot(j.Eta - u.Eta, dphi) < 0.4, axis=2)
    n_jets = ak.num(jets[~near])
    ones = [n, n, int(ak.sum(two)), int(ak.sum(os_)), n_z, n_z, n_z]
    zjets_pass = int(ak.sum(n_jets[two][in_window] >= 1))
    return zsel, ones + [zjets_pass], hist


@pytest.mark.parametrize("jobs", [1, 2])
def test_zmumu_on_generated_delphes(generated: Path, jobs: int) -> None:
    """The demo analysis, written for NanoAOD names, runs unchanged on a Delphes file."""
    result = run_analysis(ZMUMU, [str(generated)], jobs=jobs, chunk_size=1000)
    zsel, zjets, hist = _zmumu_expected(generated)
    assert zsel[4] > 100  # the toy has a real Z peak
    assert _counts(result, "Zsel") == zsel
    assert _counts(result, "Zjets")[:len(zjets)] == zjets
    np.testing.assert_array_equal(result.regions["Zsel"].histograms["hmZ"].values(), hist)


def _analysis_expected(path: Path) -> dict[str, object]:
    a = _arrays(path, ["Jet.PT", "Jet.BTag", "Muon.PT", "Muon.Charge", "MissingET.MET"])
    n = len(a["Jet.PT"])
    hard = a["Jet.PT"] > 30
    nj, nb = ak.sum(hard, axis=1), ak.sum(hard & (a["Jet.BTag"] == 1), axis=1)
    btagged = ak.to_numpy((nj >= 2) & (nb >= 1))
    met = ak.to_numpy(a["MissingET.MET"][:, 0]).astype(np.float64)
    mu = a["Muon.PT"] > 10
    has_mu = ak.to_numpy(ak.sum(mu, axis=1) >= 1)
    first_q = ak.to_numpy(ak.firsts(a["Muon.Charge"][mu])[has_mu]).astype(np.float64)
    first_pt = ak.to_numpy(ak.firsts(a["Muon.PT"][mu])[has_mu]).astype(np.float64)
    return {
        "btagged": [n, int(np.sum(ak.to_numpy(nj >= 2))), int(btagged.sum()), int(btagged.sum())],
        "muon": [n, int(has_mu.sum()), int(has_mu.sum()), int(has_mu.sum())],
        "hmet": np.histogram(met[btagged], bins=20, range=(0, 200))[0],
        "met_overflow": int(np.sum(met[btagged] >= 200)),
        "hq": np.histogram(first_q, bins=3, range=(-1.5, 1.5))[0],
        "hmpt": np.histogram(first_pt, bins=10, range=(0, 100))[0],
    }


@pytest.mark.parametrize("which", ["generated", "tclonesarray"])
def test_analysis_on_both_layouts(generated: Path, tmp_path: Path, which: str) -> None:
    path = generated if which == "generated" else REAL
    ana = tmp_path / "ana.adl"
    ana.write_text(ADL)
    result = run_analysis(ana, [str(path)], chunk_size=25 if which != "generated" else 1000)
    exp = _analysis_expected(path)
    assert _counts(result, "btagged") == exp["btagged"]
    assert _counts(result, "muon") == exp["muon"]
    assert exp["btagged"][-1] > 0 and exp["muon"][-1] > 0
    hmet = result.regions["btagged"].histograms["hmet"]
    np.testing.assert_array_equal(hmet.values(), exp["hmet"])
    assert hmet.values(flow=True)[-1] == exp["met_overflow"]
    np.testing.assert_array_equal(result.regions["muon"].histograms["hq"].values(), exp["hq"])
    np.testing.assert_array_equal(result.regions["muon"].histograms["hmpt"].values(),
                                  exp["hmpt"])


def test_real_tclonesarray_layout() -> None:
    """The reader finds split TClonesArray leaves at any depth and detects the format."""
    with uproot.open(REAL) as f:
        tree = f["Delphes"]
        assert "Jet.PT" not in [b.name for b in tree.branches]     # it is under `Jet`
        assert tree["Jet.PT"].count_leaf.member("fName") == "Jet_"  # not a branch
    inputs = open_inputs([str(REAL)])
    assert {"Jet.PT", "Muon.Charge", "MissingET.MET", "Jet_size"} <= set(inputs.branch_names)
    assert inputs.schema() is DELPHES
    bound = inputs.with_schema(DELPHES)
    expect = _arrays(REAL, ["Jet_size", "Muon_size", "Muon.PT", "MissingET.MET"])
    # Offsets alone come from Jet_size; with a Muon branch, from that branch.
    chunk, = iterate_chunks(bound, ["Jet@offsets", "Muon.PT", "Muon@offsets", "MET_pt"], 100)
    np.testing.assert_array_equal(np.diff(chunk.arrays["Jet@offsets"]),
                                  ak.to_numpy(expect["Jet_size"]))
    np.testing.assert_array_equal(np.diff(chunk.arrays["Muon@offsets"]),
                                  ak.to_numpy(expect["Muon_size"]))
    np.testing.assert_array_equal(chunk.arrays["Muon.PT"],
                                  ak.to_numpy(ak.flatten(expect["Muon.PT"])))
    np.testing.assert_array_equal(chunk.arrays["MET_pt"],
                                  ak.to_numpy(expect["MissingET.MET"][:, 0]))


def test_missing_delphes_branch_names_the_branch(generated: Path, tmp_path: Path) -> None:
    ana = tmp_path / "fat.adl"
    ana.write_text("region r\n  select size(FatJet) >= 1\n  histo h, \"pT\", 10, 0, 100, "
                   "pT(FatJet[0])\n")
    with pytest.raises(AdlInputError, match="FatJet"):
        run_analysis(ana, [str(generated)])
