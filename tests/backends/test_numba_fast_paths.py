"""The numba backend's shortcuts give the results of the plain semantics: unordered `~=`
scans where the scanned value is symmetric, the input opened once per run, the input's
digest remembered between runs. (Their speed is measured by `make bench`, not here.)"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("numba")
uproot = pytest.importorskip("uproot")

TRIJET = """\
define top = JET[-1] JET[-2] JET[-3]
region best
  select size(JET) >= 3
  select m(top) ~= 172.5
  histo hpt, "trijet pT", 50, 0, 300, pT(top)
"""

# not symmetric: the first jet's pT counts twice
LOPSIDED = """\
define pair = JET[-1] JET[-2]
region best
  select size(JET) >= 2
  select m(pair) + pT(JET[-1]) ~= 150
  histo hpt, "first jet pT", 50, 0, 300, pT(JET[-1])
"""


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from adlc.runtime.generate import generate

    path = tmp_path_factory.mktemp("fast") / "run2012_3k.root"
    generate(str(path), 3000, schema="run2012", seed=11)
    return path


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "analysis.adl"
    path.write_text(text)
    return path


def _scan(adl: Path):
    """(value, slots) of the analysis's only `~=` search."""
    from adlc.driver import lower_file
    from adlc.ir import nodes as N

    prog = lower_file(adl)
    found = [n for r in prog.roots() for n in N.walk(r) if n.op == "optimise"]
    assert len(found) == 1
    value, _target, *slots = found[0].args
    return value, slots


def test_symmetric_placeholders_are_found(tmp_path: Path) -> None:
    from adlc.backends.numba.codegen import symmetric_slots

    value, slots = _scan(_write(tmp_path, TRIJET))
    assert symmetric_slots(value, slots) == frozenset(slots)
    value, slots = _scan(_write(tmp_path, LOPSIDED))
    assert symmetric_slots(value, slots) == frozenset()


def _p4(pt: float, eta: float, phi: float, m: float) -> tuple[float, float, float, float]:
    px, py, pz = pt * math.cos(phi), pt * math.sin(phi), pt * math.sinh(eta)
    p2 = px * px + py * py + pz * pz
    e = math.sqrt(p2 + m * m) if m >= 0 else math.sqrt(max(p2 - m * m, 0.0))
    return px, py, pz, e


def _mass(v) -> float:
    m2 = v[3] ** 2 - (v[0] ** 2 + v[1] ** 2 + v[2] ** 2)
    return math.sqrt(m2) if m2 >= 0 else -math.sqrt(-m2)


def _ordered_search(sample: Path, value, fill, arity: int) -> np.ndarray:
    """The plain semantics: every ordered tuple of distinct jets, the first strict minimum
    of |value - target| wins; the histogram of `fill` of the winner (50 bins 0-300)."""
    from itertools import permutations

    with uproot.open(sample) as f:
        jets = f["Events"].arrays(["Jet_pt", "Jet_eta", "Jet_phi", "Jet_mass"], library="np")
    counts = np.zeros(52)
    for pt, eta, phi, m in zip(*(jets[k] for k in ("Jet_pt", "Jet_eta", "Jet_phi",
                                                   "Jet_mass")), strict=True):
        if len(pt) < arity:
            continue
        vecs = [_p4(float(a), float(b), float(c), float(d))
                for a, b, c, d in zip(pt, eta, phi, m, strict=True)]
        best, pick = 9999999999.9, None
        for tup in permutations(range(len(pt)), arity):
            d = value(vecs, pt, tup)
            if d < best:
                best, pick = d, tup
        x = fill(vecs, pt, pick)
        counts[0 if x < 0 else 51 if not x < 300 else 1 + int(50 * x / 300)] += 1
    return counts


def _vsum(vecs, tup):
    out = [0.0, 0.0, 0.0, 0.0]
    for i in tup:
        out = [a + b for a, b in zip(out, vecs[i], strict=True)]
    return out


def _histogram(adl: Path, sample: Path) -> np.ndarray:
    from adlc.driver import run_analysis

    result = run_analysis(str(adl), [str(sample)], schema="run2012", chunk_size=1000)
    return result.regions["best"].histograms["hpt"].view(flow=True).value


def test_unordered_trijet_scan_picks_the_ordered_scans_winner(tmp_path: Path,
                                                              sample: Path) -> None:
    expected = _ordered_search(
        sample, lambda v, pt, t: abs(_mass(_vsum(v, t)) - 172.5),
        lambda v, pt, t: math.hypot(*_vsum(v, t)[:2]), 3)
    assert np.array_equal(_histogram(_write(tmp_path, TRIJET), sample), expected)


def test_asymmetric_scan_stays_ordered(tmp_path: Path, sample: Path) -> None:
    expected = _ordered_search(
        sample, lambda v, pt, t: abs(_mass(_vsum(v, t)) + float(pt[t[0]]) - 150),
        lambda v, pt, t: float(pt[t[0]]), 2)
    assert np.array_equal(_histogram(_write(tmp_path, LOPSIDED), sample), expected)


def test_a_run_opens_its_input_once(tmp_path: Path, sample: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from adlc.runtime import reader

    opened: list[str] = []
    real = reader._open_file

    def counting(path: str):
        opened.append(path)
        return real(path)

    monkeypatch.setattr(reader, "_open_file", counting)
    _histogram(_write(tmp_path, TRIJET), sample)
    assert opened == [str(sample)]


def test_input_digest_is_remembered_until_the_file_changes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    from adlc.runtime import reader

    data = tmp_path / "input.root"
    data.write_bytes(b"root" + bytes(100))
    hashed: list[str] = []
    real = reader._sha256

    def counting(path: str) -> str:
        hashed.append(path)
        return real(path)

    monkeypatch.setattr(reader, "_sha256", counting)
    first = reader.file_info(str(data))
    assert reader.file_info(str(data)) == first and len(hashed) == 1
    with data.open("ab") as fh:
        fh.write(b"more")
    again = reader.file_info(str(data))
    assert len(hashed) == 2
    assert again["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest() != first["sha256"]
