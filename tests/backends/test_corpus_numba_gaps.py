"""Two numba-backend gaps found by running the public corpus with numba (the default backend)
next to numpy, each as a tiny analysis, now fixed; both backends must give the right answer.

* `unelg__CutLang/runs/tutorials/ex0_info.adl`: an analysis with only an `info` block (no
  region) gives a numba kernel whose `for ev in range(nev):` has no body (IndentationError).
* `unelg__CutLang/runs/exName.adl`: `"mu_phi"(MUO)` reads the quoted branch per muon. numpy's
  GeneratedModule lists it in `object_columns`, so the reader checks that `mu_phi` is a list per
  event with nMuon's counts; numba's does not, so a flat `mu_phi` is read past its end (or,
  as here, silently paired with the wrong muons).
"""

from __future__ import annotations

from pathlib import Path

import awkward as ak
import numpy as np
import pytest
import uproot

from adlc.driver import run_analysis
from adlc.errors import AdlInputError

INFO_ONLY = """\
info analysisExample
  title "only an info block"
  experiment CMS
"""

QUOTED = """\
object goodMuons
  take Muon
  select "mu_phi"(Muon) > 0

region r
  select size(goodMuons) >= 1
"""


def write(path: Path, **branches) -> str:
    with uproot.recreate(path) as f:
        f.mktree("Events", {k: (v.type if isinstance(v, ak.Array) else v.dtype)
                            for k, v in branches.items()})
        f["Events"].extend(branches)
    return str(path)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_info_only_analysis_counts_events(tmp_path: Path, backend: str) -> None:
    (tmp_path / "a.adl").write_text(INFO_ONLY)
    path = write(tmp_path / "a.root", MET_pt=np.array([1.0, 2.0, 3.0, 4.0]))
    result = run_analysis(tmp_path / "a.adl", [path], schema="nanoaod", backend=backend)
    assert result.events == 4
    assert result.regions == {}


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_flat_quoted_branch_is_an_input_error(tmp_path: Path, backend: str) -> None:
    (tmp_path / "a.adl").write_text(QUOTED)
    # nMuon = 2, 0, 1: three muons for three events, so even an unchecked numba kernel stays
    # inside the flat three-value mu_phi (pairing event 1's value with event 0's 2nd muon)
    path = write(tmp_path / "a.root", Muon=ak.zip({"pt": ak.Array([[30.0, 20.0], [], [50.0]])}),
                 mu_phi=np.array([0.1, 0.2, 0.3]))
    with pytest.raises(AdlInputError, match="'mu_phi'.*per object of collection 'Muon'"):
        run_analysis(tmp_path / "a.adl", [path], schema="nanoaod", backend=backend)


EVENT_CUT = """\
region r
  select Muon_pt > 25
"""


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_list_branch_read_per_event_is_an_input_error(tmp_path: Path, backend: str) -> None:
    """numpy raised ValueError (could not broadcast); numba read Muon_pt's flat contents by
    event number (past their end when there are fewer muons than events)."""
    (tmp_path / "a.adl").write_text(EVENT_CUT)
    path = write(tmp_path / "a.root", Muon=ak.zip({"pt": ak.Array([[30.0, 20.0], [], [50.0]])}))
    with pytest.raises(AdlInputError, match="'Muon_pt'.*one value per event"):
        run_analysis(tmp_path / "a.adl", [path], schema="nanoaod", backend=backend)


# A reducer over an object's own source collection inside its candidate loop: the numba kernel
# reused the candidate's pT for every element of the sum (found by the f22 work).
OWN_SUM = """\
define s = sum(pT(Jet))
object big
  take Jet
  select pT(Jet) > 20
  select eta(Jet) > 0 or s > 60
region r
  select ALL
  histo h, "n", 5, 0, 5, size(big)
"""


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_sum_over_the_candidates_collection_inside_its_loop(tmp_path: Path, backend) -> None:
    (tmp_path / "a.adl").write_text(OWN_SUM)
    # event 0: jets 40 (eta +1), 25 (eta -1): sum 65 > 60, both pass -> 2
    # event 1: jets 35 (eta -1), 21 (eta -1): sum 56, neither passes -> 0
    # (the candidate's own pT reused in the sum gives 50 for the 25 and 70 for the 35: 1 and 1)
    jets = ak.zip({"pt": ak.Array([[40.0, 25.0], [35.0, 21.0]]),
                   "eta": ak.Array([[1.0, -1.0], [-1.0, -1.0]]),
                   "phi": ak.Array([[0.0, 1.0], [0.0, 1.0]]),
                   "mass": ak.Array([[0.0, 0.0], [0.0, 0.0]])})
    path = write(tmp_path / "a.root", Jet=jets, MET_pt=np.array([1.0, 2.0]))
    result = run_analysis(tmp_path / "a.adl", [path], schema="nanoaod", backend=backend)
    assert result.regions["r"].histograms["h"].values().tolist() == [1.0, 0.0, 1.0, 0.0, 0.0]
