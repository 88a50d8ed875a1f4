"""The synthetic-input generator: exact branch layouts, plausible physics, determinism."""

from __future__ import annotations

import os

import awkward as ak
import numpy as np
import pytest
import uproot

from adlc.errors import AdlUsageError
from adlc.runtime import generate as gen
from adlc.runtime.generate import LAYOUTS, branch_typenames, generate
from adlc.runtime.reader import iterate_chunks, open_inputs
from adlc.runtime.schemas import NANOAOD, RUN2012, detect_schema

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data")
REFERENCE = {"nanoaod": os.path.join(SHARED, "tiny_nano.root"),
             "run2012": os.path.join(SHARED, "Run2012B_SingleMu_1000.root")}
N = 20_000
MUON_MASS = 0.10565837


def _spec(text: str) -> list[tuple[str, str]]:
    out = []
    for item in text.split():
        name, _, typename = item.partition(":")
        out.append((name, typename))
    return out


# Copied from the reference files (uproot TBranch.typename), so this test runs without ../shared.
EXPECTED = {
    "nanoaod": _spec(
        "run:uint32_t luminosityBlock:uint32_t event:uint64_t "
        "HLT_IsoMu17_eta2p1_LooseIsoPFTau20:bool nMuon:uint32_t Muon_pt:float[] Muon_eta:float[] "
        "Muon_phi:float[] Muon_mass:float[] Muon_charge:int32_t[] Muon_dz:float[] "
        "Muon_dxy:float[] Muon_miniPFRelIso_all:float[] Muon_pfRelIso03_all:float[] "
        "Muon_softId:bool[] Muon_tightId:bool[] Muon_genPartIdx:int32_t[] nElectron:uint32_t "
        "Electron_pt:float[] Electron_eta:float[] Electron_phi:float[] Electron_mass:float[] "
        "Electron_charge:int32_t[] Electron_dz:float[] Electron_dxy:float[] "
        "Electron_miniPFRelIso_all:float[] nJet:uint32_t Jet_pt:float[] Jet_eta:float[] "
        "Jet_phi:float[] Jet_mass:float[] Jet_btagDeepB:float[] Jet_btag:float[] "
        "Jet_puId:int32_t[] nPhoton:uint32_t Photon_pt:float[] Photon_eta:float[] "
        "Photon_phi:float[] Photon_mass:float[] Photon_sieie:float[] nTau:uint32_t "
        "nFatJet:uint32_t nGenPart:uint32_t MET_pt:float MET_phi:float"),
    "run2012": _spec(
        "run:int32_t luminosityBlock:uint32_t event:uint64_t HLT_IsoMu24_eta2p1:bool "
        "HLT_IsoMu24:bool HLT_IsoMu17_eta2p1_LooseIsoPFTau20:bool PV_npvs:int32_t PV_x:float "
        "PV_y:float PV_z:float nMuon:uint32_t Muon_pt:float[] Muon_eta:float[] Muon_phi:float[] "
        "Muon_mass:float[] Muon_charge:int32_t[] Muon_pfRelIso03_all:float[] "
        "Muon_pfRelIso04_all:float[] Muon_tightId:bool[] Muon_softId:bool[] Muon_dxy:float[] "
        "Muon_dxyErr:float[] Muon_dz:float[] Muon_dzErr:float[] Muon_jetIdx:int32_t[] "
        "Muon_genPartIdx:int32_t[] nElectron:uint32_t Electron_pt:float[] Electron_eta:float[] "
        "Electron_phi:float[] Electron_mass:float[] Electron_charge:int32_t[] "
        "Electron_pfRelIso03_all:float[] Electron_dxy:float[] Electron_dxyErr:float[] "
        "Electron_dz:float[] Electron_dzErr:float[] Electron_cutBasedId:bool[] "
        "Electron_pfId:bool[] Electron_jetIdx:int32_t[] Electron_genPartIdx:int32_t[] "
        "nTau:uint32_t Tau_pt:float[] Tau_eta:float[] Tau_phi:float[] Tau_mass:float[] "
        "Tau_charge:int32_t[] Tau_decayMode:int32_t[] Tau_relIso_all:float[] "
        "Tau_jetIdx:int32_t[] Tau_genPartIdx:int32_t[] Tau_idDecayMode:bool[] "
        "Tau_idIsoRaw:float[] Tau_idIsoVLoose:bool[] Tau_idIsoLoose:bool[] "
        "Tau_idIsoMedium:bool[] Tau_idIsoTight:bool[] Tau_idAntiEleLoose:bool[] "
        "Tau_idAntiEleMedium:bool[] Tau_idAntiEleTight:bool[] Tau_idAntiMuLoose:bool[] "
        "Tau_idAntiMuMedium:bool[] Tau_idAntiMuTight:bool[] nPhoton:uint32_t Photon_pt:float[] "
        "Photon_eta:float[] Photon_phi:float[] Photon_mass:float[] Photon_charge:int32_t[] "
        "Photon_pfRelIso03_all:float[] Photon_jetIdx:int32_t[] Photon_genPartIdx:int32_t[] "
        "MET_pt:float MET_phi:float MET_sumet:float MET_significance:float MET_CovXX:float "
        "MET_CovXY:float MET_CovYY:float nJet:uint32_t Jet_pt:float[] Jet_eta:float[] "
        "Jet_phi:float[] Jet_mass:float[] Jet_puId:bool[] Jet_btag:float[]"),
}


def _layout(path: str) -> list[tuple[str, str]]:
    with uproot.open(path) as f:
        return [(b.name, b.typename) for b in f["Events"].branches]


def _leaf_titles(path: str) -> list[str]:
    with uproot.open(path) as f:
        return [b.title for b in f["Events"].branches]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("generate")
    out = {}
    for schema in ("nanoaod", "run2012"):  # delphes: tests/runtime/test_delphes.py
        assert schema in LAYOUTS
        out[schema] = str(d / f"{schema}.root")
        assert generate(out[schema], N, schema, seed=7, chunk_size=8000) == N
    return out


@pytest.fixture(scope="module")
def events(files: dict[str, str]) -> dict[str, ak.Array]:
    out = {}
    for schema, path in files.items():
        with uproot.open(path) as f:
            out[schema] = f["Events"].arrays(library="ak")
    return out


@pytest.mark.parametrize("schema", ["nanoaod", "run2012"])
def test_exact_branch_layout(files: dict[str, str], schema: str) -> None:
    assert branch_typenames(schema) == EXPECTED[schema]
    assert _layout(files[schema]) == EXPECTED[schema]


@pytest.mark.parametrize("schema", ["nanoaod", "run2012"])
def test_layout_matches_reference_file(files: dict[str, str], schema: str) -> None:
    ref = REFERENCE[schema]
    if not os.path.exists(ref):
        pytest.skip("needs ../shared/data")
    assert _layout(files[schema]) == _layout(ref)
    assert _leaf_titles(files[schema]) == _leaf_titles(ref)  # `nMuon/i`, `Muon_pt[nMuon]/F`


def test_counters_are_unsigned(files: dict[str, str]) -> None:
    with uproot.open(files["nanoaod"]) as f:
        leaf = f["Events"]["nMuon"].member("fLeaves")[0]
        assert leaf.member("fIsUnsigned") and leaf.member("fIsRange")
        assert f["Events"]["Muon_pt"].count_leaf.member("fName") == "nMuon"


def test_schema_detection_on_generated_files(files: dict[str, str]) -> None:
    assert open_inputs([files["nanoaod"]]).schema() is NANOAOD
    assert open_inputs([files["run2012"]]).schema() is RUN2012
    assert detect_schema(n for n, _ in EXPECTED["run2012"]) is RUN2012


@pytest.mark.parametrize("schema", ["nanoaod", "run2012"])
def test_multiplicities(events: dict[str, ak.Array], schema: str) -> None:
    ev = events[schema]
    assert len(ev) == N
    assert ak.mean(ev.nMuon) == pytest.approx(1.4, abs=0.1)
    assert ak.mean(ev.nElectron) == pytest.approx(0.2, abs=0.04)
    assert ak.mean(ev.nJet) == pytest.approx(3.2, abs=0.15)
    assert ak.max(ev.nJet) > 20  # long negative-binomial tail
    assert ak.mean(ev.MET_pt) == pytest.approx(30.0, rel=0.05)
    if schema == "run2012":
        assert ak.mean(ev.nTau) == pytest.approx(2.5, abs=0.15)
    else:
        assert not ak.any(ev.nTau) and not ak.any(ev.nFatJet) and not ak.any(ev.nGenPart)


def _os_pair_masses(ev: ak.Array) -> ak.Array:
    """Invariant masses of opposite-sign muon pairs, per event, from first principles."""
    pt, eta, phi = (ak.values_astype(ev[f"Muon_{k}"], np.float64) for k in ("pt", "eta", "phi"))
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    e = np.sqrt(px**2 + py**2 + pz**2 + MUON_MASS**2)
    i, j = ak.unzip(ak.argcombinations(pt, 2))
    m2 = (e[i] + e[j])**2 - (px[i] + px[j])**2 - (py[i] + py[j])**2 - (pz[i] + pz[j])**2
    mass = np.sqrt(np.maximum(m2, 0.0))
    return mass[ev.Muon_charge[i] != ev.Muon_charge[j]]


@pytest.mark.parametrize("schema", ["nanoaod", "run2012"])
def test_z_peak(events: dict[str, ak.Array], schema: str) -> None:
    masses = _os_pair_masses(events[schema])
    in_window = ak.any((masses > 81) & (masses < 101), axis=1)
    assert 0.2 <= ak.mean(in_window) <= 0.3  # ~25% of events hold a Z candidate
    flat = ak.to_numpy(ak.flatten(masses))
    counts, edges = np.histogram(flat, bins=40, range=(71, 111))
    assert 89 <= edges[np.argmax(counts)] <= 92
    # Breit-Wigner with width 2.5: ~70% of the 71-111 pairs within one width of the pole
    core = np.mean(np.abs(flat[(flat > 71) & (flat < 111)] - 91.19) < 2.5)
    assert 0.55 <= core <= 0.8


@pytest.mark.parametrize("schema", ["nanoaod", "run2012"])
def test_object_kinematics(events: dict[str, ak.Array], schema: str) -> None:
    ev = events[schema]
    jet_pt, mu_pt = ak.flatten(ev.Jet_pt), ak.flatten(ev.Muon_pt)
    assert ak.min(jet_pt) >= 15 and ak.max(abs(ev.Jet_eta)) < 4.7
    assert 20 < np.median(ak.to_numpy(jet_pt)) < 35  # falling spectrum
    assert ak.all(ev.Jet_pt[:, :-1] >= ev.Jet_pt[:, 1:])  # jets pT-ordered
    assert ak.min(mu_pt) > 3 and ak.max(abs(ev.Muon_eta)) < 2.4
    assert set(np.unique(ak.to_numpy(ak.flatten(ev.Muon_charge)))) == {-1, 1}
    assert np.allclose(ak.to_numpy(ak.flatten(ev.Muon_mass)), MUON_MASS)
    phi = ak.to_numpy(ak.flatten(ev.Jet_phi))
    assert phi.min() >= -np.pi and phi.max() <= np.pi and abs(phi.mean()) < 0.05
    ordered = ak.mean(ak.all(ev.Muon_pt[:, :-1] >= ev.Muon_pt[:, 1:], axis=1)[ev.nMuon > 1])
    if schema == "nanoaod":
        assert ordered == 1.0
        np.testing.assert_array_equal(ak.to_numpy(ev.event), np.arange(1, N + 1))
    else:
        assert ordered < 0.9  # like the real 2012 file, muons are not pT-ordered


def test_run2012_btag_sentinels(events: dict[str, ak.Array]) -> None:
    btag = ak.to_numpy(ak.flatten(events["run2012"].Jet_btag))
    assert np.mean(btag == -10) == pytest.approx(0.23, abs=0.02)
    assert np.mean(btag == -1) == pytest.approx(0.12, abs=0.02)
    valid = btag[btag >= 0]
    assert valid.max() <= 1 and np.all((btag >= 0) | (btag == -1) | (btag == -10))
    nano = events["nanoaod"]
    assert ak.all(nano.Jet_btag == nano.Jet_btagDeepB) and ak.min(nano.Jet_btag) >= 0
    ev = events["run2012"]
    assert ak.all(np.diff(ak.to_numpy(ev.event).astype(np.int64)) > 0)
    assert ak.mean(ev.HLT_IsoMu24) > ak.mean(ev.HLT_IsoMu24_eta2p1) > 0.4


def test_deterministic(tmp_path) -> None:
    def read(seed: int, chunk_size: int = 1000) -> ak.Array:
        path = str(tmp_path / f"s{seed}_{chunk_size}.root")
        generate(path, 2500, "run2012", seed=seed, chunk_size=chunk_size)
        with uproot.open(path) as f:
            return f["Events"].arrays(library="ak")

    first, again = read(7), read(7)
    for k in first.fields:  # assert_array_equal counts NaN == NaN (Tau_relIso_all has NaNs)
        np.testing.assert_array_equal(ak.to_numpy(ak.ravel(first[k])),
                                      ak.to_numpy(ak.ravel(again[k])))
    assert not ak.all(ak.num(read(8).Jet_pt) == ak.num(first.Jet_pt))
    assert not ak.all(ak.num(read(7, 700).Jet_pt) == ak.num(first.Jet_pt))  # chunking matters


def test_reader_round_trip(files: dict[str, str], events: dict[str, ak.Array]) -> None:
    inputs = open_inputs([files["nanoaod"]])
    chunks = list(iterate_chunks(inputs, ["Jet_pt", "MET_pt"], 6000))
    np.testing.assert_array_equal(np.concatenate([c.arrays["Jet_pt"] for c in chunks]),
                                  ak.to_numpy(ak.flatten(events["nanoaod"].Jet_pt)))


def test_zero_events(tmp_path) -> None:
    path = str(tmp_path / "empty.root")
    assert generate(path, 0, "nanoaod") == 0
    assert _layout(path) == EXPECTED["nanoaod"]
    assert open_inputs([path]).num_entries == 0


def test_bad_arguments(tmp_path) -> None:
    with pytest.raises(AdlUsageError):
        generate(str(tmp_path / "x.root"), 10, "delphes2")
    with pytest.raises(AdlUsageError):
        generate(str(tmp_path / "x.root"), -1)
    with pytest.raises(AdlUsageError):
        generate(str(tmp_path / "x.root"), 10, chunk_size=200_000)
    with pytest.raises(AdlUsageError):
        generate(str(tmp_path / "no" / "such" / "dir.root"), 10)
    os.mkdir(tmp_path / "taken.root")
    with pytest.raises(AdlUsageError):  # the output path is a directory
        generate(str(tmp_path / "taken.root"), 10)
    assert os.listdir(tmp_path) == ["taken.root"]


def test_failure_leaves_no_file(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args, **kwargs):  # noqa: ANN002, ANN003
        raise RuntimeError("disk full")

    monkeypatch.setattr(gen, "_chunk_columns", broken)
    with pytest.raises(RuntimeError):
        generate(str(tmp_path / "partial.root"), 10)
    assert not os.listdir(tmp_path)
