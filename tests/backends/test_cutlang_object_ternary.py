"""A ternary inside an object block, as CutLang computes it (docs/cutlang-differences.md):
each candidate is kept when `c(candidate) ? a : b` holds, where every `f(source)` in the
branches is the SUM of f over the whole source collection (CutLang's IfNode binds only its
condition's particles; FuncNode sums over all objects for the unbound index 6213). The
expected jet counts below are worked out by hand from the seven events written here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ak = pytest.importorskip("awkward")
uproot = pytest.importorskip("uproot")
pytest.importorskip("numba")

# (pT, eta) of each jet; phi 0.3 and mass 5 for all.
EVENTS = [
    [(22.0, 0.5)],                             # E0
    [(22.0, 0.5), (8.0, 1.0)],                 # E1
    [(30.0, 2.5), (21.0, 3.0)],                # E2
    [(35.0, 2.5)],                             # E3
    [(35.0, 2.5), (10.0, 0.0)],                # E4
    [],                                        # E5
    [(50.0, 0.1), (45.0, 2.2), (5.0, 4.0)],    # E6
]

BODY = """\
object jets
  take Jet
  select pT(Jet) > 20
  select abs(eta(Jet)) < 2.0 ? pT(Jet) > 25 : pT(Jet) > 40

object cjets
  take jets
  select abs(eta(jets)) < 2.0 ? pT(jets) > 25 : pT(jets) > 40

region counts
  select ALL
  histo hnj, "jets", 4, 0, 4, size(jets)
  histo hcj, "cjets", 4, 0, 4, size(cjets)
"""

# jets, CutLang: after pT > 20, a central jet needs sum(pT(all Jet)) > 25, a forward one > 40.
#   E0: 22 central, sum 22 -> removed (0)     E1: 22 central, sum 30 -> kept (1)
#   E2: 30, 21 forward, sum 51 -> both (2)    E3: 35 forward, sum 35 -> removed (0)
#   E4: 35 forward, sum 45 -> kept (1)        E5: no jet (0)
#   E6: 50 central, 45 forward, sum 100 -> both (2)
# cjets sums over `jets` (the pT > 20 jets), not over all jets:
#   E0: 0   E1: 22 central, sum 22 -> 0   E2: sum 51 -> 2   E3: 0
#   E4: 35 forward, sum 35 -> 0   E5: 0   E6: sum 95 -> 2
CUTLANG_JETS = [0, 1, 2, 0, 1, 0, 2]
CUTLANG_CJETS = [0, 0, 2, 0, 0, 0, 2]
# The per-candidate reading (c and a) or (not c and b), kept by learn-adl files:
#   jets: only E6 (50 > 25 central, 45 > 40 forward); cjets: the same jets again.
PER_CANDIDATE_JETS = [0, 0, 0, 0, 0, 0, 2]
PER_CANDIDATE_CJETS = [0, 0, 0, 0, 0, 0, 2]


def _hist(sizes: list[int]) -> np.ndarray:
    """values(flow=True) of a 4-bin [0, 4) histogram of the sizes."""
    return np.concatenate([[0.0], np.bincount(sizes, minlength=4).astype(float), [0.0]])


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("object_ternary") / "jets.root"
    pt = ak.Array([[np.float32(p) for p, _ in ev] for ev in EVENTS])
    eta = ak.Array([[np.float32(e) for _, e in ev] for ev in EVENTS])
    jets = ak.zip({"pt": ak.values_astype(pt, np.float32),
                   "eta": ak.values_astype(eta, np.float32),
                   "phi": ak.values_astype(ak.ones_like(pt) * 0.3, np.float32),
                   "mass": ak.values_astype(ak.ones_like(pt) * 5.0, np.float32)})
    out = {"Jet": jets, "MET_pt": np.full(len(EVENTS), 10.0, np.float32),
           "MET_phi": np.zeros(len(EVENTS), np.float32)}
    with uproot.recreate(path) as f:  # mktree: `f[name] = arrays` would write an RNTuple
        f.mktree("Events", {k: (v.type if isinstance(v, ak.Array) else v.dtype)
                            for k, v in out.items()})
        f["Events"].extend(out)
    return path


def _run(tmp_path: Path, sample: Path, text: str, backend: str):
    from adlc.driver import run_analysis

    adl = tmp_path / "ternary.adl"
    adl.write_text(text)
    result = run_analysis(adl, [sample], backend=backend)
    hists = result.regions["counts"].histograms
    return hists["hnj"].values(flow=True), hists["hcj"].values(flow=True)


def test_cutlang_dialect_sums_the_source_in_the_branches(tmp_path, sample, backend: str):
    jets, cjets = _run(tmp_path, sample, BODY, backend)
    np.testing.assert_array_equal(jets, _hist(CUTLANG_JETS))
    np.testing.assert_array_equal(cjets, _hist(CUTLANG_CJETS))


def test_learn_adl_dialect_keeps_the_per_candidate_reading(tmp_path, sample, backend: str):
    jets, cjets = _run(tmp_path, sample, "# adlc: dialect=learn-adl\n" + BODY, backend)
    np.testing.assert_array_equal(jets, _hist(PER_CANDIDATE_JETS))
    np.testing.assert_array_equal(cjets, _hist(PER_CANDIDATE_CJETS))


def test_front_end_form_and_printer_round_trip() -> None:
    from adlc.frontend import ast as A
    from adlc.frontend.parser import parse
    from adlc.frontend.printer import format_analysis

    analysis = parse(BODY)
    made = [i for i in analysis.items if isinstance(i, A.Define)]
    assert [(d.name, d.generated) for d in made] == [("cutlangSum_pT_Jet", True),
                                                     ("cutlangSum_pT_jets", True)]
    assert format_analysis(analysis) == BODY
    assert parse(format_analysis(analysis)) == analysis
    # a second object over the same source shares the define
    twice = parse(BODY.replace("object cjets\n  take jets\n  select abs(eta(jets)) < 2.0 ? "
                               "pT(jets) > 25 : pT(jets) > 40",
                               "object jets2\n  take Jet\n  select abs(eta(Jet)) < 1.0 ? "
                               "pT(Jet) > 30 : ALL"))
    (jets2,) = [i for i in twice.items if getattr(i, "name", "") == "jets2"]
    assert jets2.commands[0].cond.then == A.Binary(">", A.Name("cutlangSum_pT_Jet"),
                                                   A.Number(30))
    assert [i.name for i in twice.items if isinstance(i, A.Define)] == ["cutlangSum_pT_Jet"]
    # learn-adl: no rewrite
    assert not any(isinstance(i, A.Define)
                   for i in parse("# adlc: dialect=learn-adl\n" + BODY).items)


@pytest.mark.parametrize("line", [
    "  select MET > 50 ? pT(Jet) > 25 : pT(Jet) > 40\n",           # condition without Jet
    "  select abs(eta(Jet)) < 2.0 ? dR(Jet, METLV[0]) > 1 : ALL\n",  # Jet not as f(Jet)
    "  select abs(eta(Jet)) < 2.0 ? MET > 25 : ALL\n",               # branches without Jet
])
def test_other_object_ternaries_are_left_per_candidate(line: str) -> None:
    from adlc.frontend import ast as A
    from adlc.frontend.parser import parse

    analysis = parse("object jets\n  take Jet\n" + line)
    assert not any(isinstance(i, A.Define) for i in analysis.items)
