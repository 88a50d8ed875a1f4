"""User schema files (TOML, docs/schemas.md): loading, every kind of mistake, and analyses run
end to end on a custom flat ntuple written here with uproot, against numbers computed with
awkward from the same file.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ak = pytest.importorskip("awkward")
uproot = pytest.importorskip("uproot")
pytest.importorskip("numba")

from adlc.driver import run_analysis  # noqa: E402
from adlc.errors import AdlInputError, AdlUsageError  # noqa: E402
from adlc.runtime.generate import generate  # noqa: E402
from adlc.runtime.schemas import RUN2012, load_schema_file, resolve_attribute  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
ZMUMU = REPO / "examples" / "zmumu.adl"
MUON_MASS = 0.105658

SCHEMA = """\
# My ntuple: muons and AK4 jets, MET as two floats.
[schema]
name = "myntuple"
description = "a flat ntuple from my framework"

[tree]
name = "mytree"

[collections.Muon]
counter = "nmu"
attributes = {pt = "mu_pt", eta = "mu_eta", phi = "mu_phi", q = "mu_q"}
fixed = {m = 0.105658}

[collections.JET]
counter = "njet"
prefix = "jet_ak4_"
attributes = {pt = "jet_ak4_pt", eta = "jet_ak4_eta", phi = "jet_ak4_phi", m = "jet_ak4_m"}

[event]
MET = "met"
METphi = "met_phi"
"""

ANA = """\
object muons
  take Muon
  select pT(Muon) > 15

object jets
  take Jet
  select pT(Jet) > 30

region dimuon
  select size(muons) >= 2
  select q(muons[0]) + q(muons[1]) == 0
  histo hm, "m(mumu) (GeV)", 40, 0, 200, m(muons[0] muons[1])
  histo hmet, "MET (GeV)", 20, 0, 200, MET

region jetty
  select size(jets) >= 2
  histo hdphi, "dPhi(j0, MET)", 16, 0, 3.2, dPhi(jets[0], METLV[0])
"""


def _write_ntuple(path: Path, n: int = 4000, seed: int = 5) -> None:
    """A flat ntuple in nobody's format: `nmu`/`mu_*`, `njet`/`jet_ak4_*` (a prefix with an
    underscore inside), `met`; and a second tree, so the schema's tree name matters."""
    rng = np.random.default_rng(seed)
    nmu, njet = rng.poisson(1.6, n), rng.poisson(2.5, n)
    m, j = int(nmu.sum()), int(njet.sum())

    def jagged(counts: np.ndarray, values: np.ndarray) -> ak.Array:
        return ak.unflatten(values, counts)

    data = {
        "mu_pt": jagged(nmu, rng.exponential(30.0, m).astype(np.float32) + 5),
        "mu_eta": jagged(nmu, rng.uniform(-2.4, 2.4, m).astype(np.float32)),
        "mu_phi": jagged(nmu, rng.uniform(-np.pi, np.pi, m).astype(np.float32)),
        "mu_q": jagged(nmu, rng.choice(np.array([-1, 1], np.int32), m)),
        "jet_ak4_pt": jagged(njet, rng.exponential(40.0, j).astype(np.float32) + 20),
        "jet_ak4_eta": jagged(njet, rng.uniform(-4, 4, j).astype(np.float32)),
        "jet_ak4_phi": jagged(njet, rng.uniform(-np.pi, np.pi, j).astype(np.float32)),
        "jet_ak4_m": jagged(njet, rng.uniform(2, 20, j).astype(np.float32)),
        "met": rng.exponential(40.0, n).astype(np.float32),
        "met_phi": rng.uniform(-np.pi, np.pi, n).astype(np.float32),
    }
    types = {k: (ak.types.ListType(ak.types.NumpyType(str(v.layout.content.dtype)))
                 if isinstance(v, ak.Array) else v.dtype) for k, v in data.items()}
    with uproot.recreate(path) as f:
        f["other"] = {"x": np.arange(10, dtype=np.float32)}
        tree = f.mktree("mytree", types,
                        counter_name=lambda b: "nmu" if b.startswith("mu_") else "njet")
        tree.extend(data)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("userschema")
    _write_ntuple(d / "my.root")
    (d / "my.toml").write_text(SCHEMA)
    (d / "ana.adl").write_text(ANA)
    return {"data": d / "my.root", "schema": d / "my.toml", "ana": d / "ana.adl", "dir": d}


def _expected(path: Path) -> dict[str, object]:
    with uproot.open(path) as f:
        a = f["mytree"].arrays(library="ak", how=dict)
    f64 = {k: ak.values_astype(v, np.float64) for k, v in a.items()}
    n = len(a["met"])
    sel = f64["mu_pt"] > 15
    pt, eta, phi, q = (f64[k][sel] for k in ("mu_pt", "mu_eta", "mu_phi", "mu_q"))
    two = ak.to_numpy(ak.num(pt) >= 2)
    pt, eta, phi, q = (ak.pad_none(x, 2)[two][:, :2] for x in (pt, eta, phi, q))
    os_ = ak.to_numpy(q[:, 0] + q[:, 1] == 0)
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    e = np.sqrt(px**2 + py**2 + pz**2 + MUON_MASS**2)
    mass = np.sqrt(np.maximum(ak.sum(e, 1)**2 - ak.sum(px, 1)**2 - ak.sum(py, 1)**2
                              - ak.sum(pz, 1)**2, 0))
    mass = ak.to_numpy(mass)[os_]
    met = ak.to_numpy(f64["met"])
    passed = np.flatnonzero(two)[os_]
    jets = f64["jet_ak4_pt"] > 30
    two_jets = ak.to_numpy(ak.sum(jets, 1) >= 2)
    jphi = ak.to_numpy(ak.firsts(f64["jet_ak4_phi"][jets])[two_jets])
    dphi = np.abs((jphi - ak.to_numpy(f64["met_phi"])[two_jets] + np.pi) % (2 * np.pi) - np.pi)
    return {
        "dimuon": [n, int(two.sum()), int(os_.sum()), int(os_.sum()), int(os_.sum())],
        "jetty": [n, int(two_jets.sum()), int(two_jets.sum())],
        "hm": np.histogram(mass, bins=40, range=(0, 200))[0],
        "hmet": np.histogram(met[passed], bins=20, range=(0, 200))[0],
        "hdphi": np.histogram(dphi, bins=16, range=(0, 3.2))[0],
    }


# --- loading ---------------------------------------------------------------------------------


def test_load_schema_file(files: dict[str, Path]) -> None:
    schema = load_schema_file(files["schema"])
    assert (schema.name, schema.tree) == ("myntuple", "mytree")
    mu, jet = schema.collection("MUO"), schema.collection("Jet")
    assert (mu.counter, mu.prefix, mu.group) == ("nmu", "mu_", "mu")  # prefix inferred
    assert (jet.counter, jet.prefix, jet.group) == ("njet", "jet_ak4_", "jet_ak4")
    assert resolve_attribute(schema, "Muon", "pT").branch == "mu_pt"
    assert resolve_attribute(schema, "Muon", "m").value == MUON_MASS
    assert resolve_attribute(schema, "Muon", "E").kind == "derived"
    assert schema.collection("ELE") is None
    assert dict(schema.column_aliases) == {"MET_pt": "met", "MET_phi": "met_phi"}


def test_base_schema_and_defaults(tmp_path: Path) -> None:
    path = tmp_path / "puppi.toml"
    path.write_text('[schema]\nbase = "run2012"\n\n[event]\nMET = "MET_sumet"\n')
    schema = load_schema_file(path)
    assert schema.name == "puppi"  # the file name when [schema] name is absent
    assert schema.tree == "Events"
    assert schema.collections == RUN2012.collections
    assert schema.event["met"] == "MET_sumet" and schema.event["metphi"] == "MET_phi"
    assert schema.missing_reads_zero == RUN2012.missing_reads_zero
    path.write_text('[collections.ELE]\nattributes = {pt = "el_pt", eta = "el_eta"}\n')
    ele = load_schema_file(path).collection("Electron")
    assert (ele.counter, ele.prefix) == ("nel", "el_")


def test_documented_example_loads(tmp_path: Path) -> None:
    """The complete example of docs/schemas.md is a valid schema file."""
    import re

    text = (REPO / "docs" / "schemas.md").read_text()
    path = tmp_path / "my-ntuple.toml"
    path.write_text(re.search(r"```toml\n(.*?)```", text, re.S)[1])
    schema = load_schema_file(path)
    assert (schema.name, schema.tree) == ("myntuple", "mytree")
    assert set(schema.collections) == {"MUO", "ELE", "JET"}
    assert schema.collection("ELE").branch("dxy") == "el_d0"
    assert schema.collection("JET").group == "jet_ak4"
    assert dict(schema.event) == {"met": "met", "metphi": "met_phi", "runno": "run",
                                  "eventno": "evt"}


@pytest.mark.parametrize(("text", "line", "needle"), [
    ('[tree]\nname = "t"\n[collections.MUO]\nattributes = {pt = "mu_pt"\n', 4,
     "malformed schema file"),
    ('[tree]\nname = "t"\nname = "u"\n', 3, "malformed schema file"),
    ('[collections.MUON]\nattributes = {pt = "mu_pt"}\n', 1, "'MUON' is not a built-in ADL"),
    ('\n[collections.MUO]\natributes = {pt = "mu_pt"}\n', 3, "did you mean 'attributes'"),
    ('[collections.MUO]\nattributes = {pt = "mu_pt", foo = "mu_foo"}\n', 2,
     "'foo' is not an ADL attribute"),
    ('[collections.MUO]\nattributes = {pt = "mu_pt", eta = 3}\n', 2, "must be a branch name"),
    ('[collections.MUO]\nattributes = {pt = "mu_pt"}\nfixed = {m = "heavy"}\n', 3,
     "must be a number"),
    ('[collections.MUO]\nprefix = "mu_"\nattributes = {pt = "muon_pt"}\n', 3,
     "does not start with the collection's prefix 'mu_'"),
    ('[collections.MUO]\nattributes = {pt = "pt", eta = "eta"}\n', 1, "share no prefix"),
    ('[collections.MUO]\nprefix = "mu"\nattributes = {pt = "mu_pt"}\n', 2,
     "must end in '_' or '.'"),
    ('[collections.MUO]\nattributes = {eta = "mu_eta"}\n', 2, "has no pt branch"),
    ('[event]\nMET = "met"\nHT = "ht"\n', 3, "'HT' is not an event-level quantity"),
    ('[schema]\nbase = "cms"\n', 2, "unknown base schema"),
    ('[tree]\nname = "t"\n', 0, "the schema maps nothing"),
    ('trees = 1\n[event]\nMET = "met"\n', 1, "unknown key 'trees'"),
])
def test_bad_schema_files(tmp_path: Path, text: str, line: int, needle: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(AdlUsageError) as info:
        load_schema_file(path)
    diag = next(d for d in info.value.diagnostics if needle in d.message + (d.hint or ""))
    assert diag.span.file == str(path)
    assert diag.span.line == line
    assert diag.code == "E720"
    rendered = info.value.render()
    assert (f"{path}:{line}:" if line else f"{path}: error") in rendered


def test_unreadable_schema_files(tmp_path: Path) -> None:
    with pytest.raises(AdlUsageError, match="cannot read schema file"):
        load_schema_file(tmp_path / "absent.toml")
    (tmp_path / "latin1.toml").write_bytes(b'[event]\nMET = "m\xe9t"\n')
    with pytest.raises(AdlUsageError, match="not UTF-8"):
        load_schema_file(tmp_path / "latin1.toml")


# --- running ---------------------------------------------------------------------------------


@pytest.mark.parametrize("jobs", [1, 2])
def test_analysis_with_schema_file(files: dict[str, Path], jobs: int) -> None:
    result = run_analysis(files["ana"], [str(files["data"])], schema_file=files["schema"],
                          jobs=jobs, chunk_size=1500)
    exp = _expected(files["data"])
    for region in ("dimuon", "jetty"):
        assert [c.raw for c in result.regions[region].cutflow] == exp[region], region
    hists = {**result.regions["dimuon"].histograms, **result.regions["jetty"].histograms}
    for name in ("hm", "hmet", "hdphi"):
        np.testing.assert_array_equal(hists[name].values(), exp[name], err_msg=name)
    assert exp["dimuon"][-1] > 100 and exp["jetty"][-1] > 100


def test_zmumu_with_schema_file(files: dict[str, Path]) -> None:
    """The demo analysis (Muon, Jet, dR cleaning, fHT, bins) runs on the custom ntuple."""
    result = run_analysis(ZMUMU, [str(files["data"])], schema_file=files["schema"])
    assert result.regions["Zsel"].cutflow[0].raw == 4000
    assert result.regions["Zjets"].cutflow[-1].raw <= result.regions["Zsel"].cutflow[-1].raw


def test_base_schema_file_changes_met(tmp_path: Path) -> None:
    data = tmp_path / "run2012.root"
    generate(str(data), 2000, schema="run2012", seed=2)
    schema = tmp_path / "sumet.toml"
    schema.write_text('[schema]\nbase = "run2012"\n[event]\nMET = "MET_sumet"\n')
    ana = tmp_path / "met.adl"
    ana.write_text('region r\n  select ALL\n  histo h, "MET", 50, 0, 1000, MET\n')
    result = run_analysis(ana, [str(data)], schema_file=schema)
    with uproot.open(data) as f:
        sumet = f["Events"]["MET_sumet"].array(library="np").astype(np.float64)
    h = result.regions["r"].histograms["h"]
    np.testing.assert_array_equal(h.values(), np.histogram(sumet, bins=50, range=(0, 1000))[0])


def test_schema_branch_missing_from_file(files: dict[str, Path], tmp_path: Path) -> None:
    bad = tmp_path / "charge.toml"
    bad.write_text(SCHEMA.replace('q = "mu_q"', 'q = "mu_charge"'))
    with pytest.raises(AdlInputError, match="mu_charge") as info:
        run_analysis(files["ana"], [str(files["data"])], schema_file=bad)
    assert "mu_q" in (info.value.diagnostics[0].hint or "")


def test_format_and_schema_file_exclusive(files: dict[str, Path]) -> None:
    with pytest.raises(AdlUsageError, match="not both"):
        run_analysis(files["ana"], [str(files["data"])], schema="nanoaod",
                     schema_file=files["schema"])


def _adlc(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "adlc", *map(str, args)], capture_output=True,
                          text=True, timeout=300)


def test_cli_schema_file(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = _adlc("run", files["ana"], "-i", files["data"], "--schema-file", files["schema"],
                 "-o", out, "-q")
    assert proc.returncode == 0, proc.stderr
    assert {p.suffix for p in out.iterdir() if p.is_file()} >= {".json", ".root"}
    bad = tmp_path / "bad.toml"
    bad.write_text('[tree]\nname = "mytree"\n[event]\nMET = met\n')
    proc = _adlc("run", files["ana"], "-i", files["data"], "--schema-file", bad, "-o",
                 tmp_path / "out2", "-q")
    assert proc.returncode == 2
    assert f"{bad}:4:" in proc.stderr and "malformed schema file" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out2").exists()
