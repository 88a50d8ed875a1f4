"""A column read per object of a collection must be a list per event with that collection's
counts. The corpus file exName.adl reads the quoted branch `"mu_phi"(MUO)`; a file where
`mu_phi` is one value per event made the numpy backend raise IndexError (and a numba kernel
would read past the end of the column). Now the reader says what is wrong, with an E709."""

from __future__ import annotations

from pathlib import Path

import awkward as ak
import numpy as np
import pytest
import uproot

from adlc.errors import AdlInputError
from adlc.runtime.reader import iterate_chunks, open_inputs

MUON_PT = [[30.0, 20.0], [], [50.0]]          # nMuon = 2, 0, 1


def write(path: Path, **extra) -> str:
    """Events with Muon_pt (counter nMuon) and the extra branches given (ak arrays: jagged,
    named `<group>_<field>` with counter `n<group>`; numpy arrays: one value per event)."""
    out = {"Muon": ak.zip({"pt": ak.Array(MUON_PT)})}
    out.update(extra)
    with uproot.recreate(path) as f:
        f.mktree("Events", {k: (v.type if isinstance(v, ak.Array) else v.dtype)
                            for k, v in out.items()})
        f["Events"].extend(out)
    return str(path)


def read(path: str, names: list[str], object_columns=None) -> dict[str, np.ndarray]:
    chunk, = iterate_chunks(open_inputs([path]), names, 1000, object_columns=object_columns)
    return chunk.arrays


def test_flat_branch_read_per_object_is_a_clear_error(tmp_path: Path) -> None:
    path = write(tmp_path / "flat.root", mu_phi=np.array([0.1, 0.2, 0.3]))
    with pytest.raises(AdlInputError) as info:
        read(path, ["Muon@offsets", "Muon_pt", "mu_phi"], {"mu_phi": "Muon@offsets"})
    (d,) = info.value.diagnostics
    assert d.code == "E709"
    assert "'mu_phi'" in d.message and "'Muon'" in d.message
    assert "one value per event (3 values for 3 events)" in d.message
    assert d.hint and "nMuon" in d.hint


def test_other_counts_are_a_clear_error(tmp_path: Path) -> None:
    # counter nmu = 1, 1, 1 against nMuon = 2, 0, 1: the first event already differs
    path = write(tmp_path / "other.root", mu=ak.zip({"phi": ak.Array([[0.1], [0.2], [0.3]])}))
    with pytest.raises(AdlInputError, match=r"other counts \(entry 0 of the chunk: 1 values "
                                            r"for 2 Muon objects\)"):
        read(path, ["Muon@offsets", "Muon_pt", "mu_phi"], {"mu_phi": "Muon@offsets"})


def test_same_counts_under_another_counter_are_read(tmp_path: Path) -> None:
    phi = [[0.5, -0.5], [], [1.5]]
    path = write(tmp_path / "same.root", mu=ak.zip({"phi": ak.Array(phi)}))
    arrays = read(path, ["Muon@offsets", "mu_phi"], {"mu_phi": "Muon@offsets"})
    assert arrays["Muon@offsets"].tolist() == [0, 2, 2, 3]
    assert arrays["mu_phi"].tolist() == [0.5, -0.5, 1.5]


def test_a_flat_branch_named_like_the_collection_is_checked_by_name(tmp_path: Path) -> None:
    """`Muon_iso` stored one value per event: no mapping needed, its name says `Muon`."""
    path = write(tmp_path / "iso.root", Muon_iso=np.array([1.0, 2.0, 3.0]))
    with pytest.raises(AdlInputError, match="'Muon_iso'.*per object of collection 'Muon'"):
        read(path, ["Muon@offsets", "Muon_iso"])


def test_event_level_branches_are_not_checked(tmp_path: Path) -> None:
    path = write(tmp_path / "met.root", MET_pt=np.array([10.0, 20.0, 30.0]))
    arrays = read(path, ["Muon@offsets", "Muon_pt", "MET_pt"])
    assert arrays["MET_pt"].tolist() == [10.0, 20.0, 30.0]


ADL = """\
object goodMuons
  take Muon
  select "mu_phi"(Muon) > 0

region r
  select size(goodMuons) >= 1
"""


@pytest.mark.parametrize("backend", ["numpy"])
def test_quoted_branch_end_to_end(tmp_path: Path, backend: str) -> None:
    from adlc.driver import run_analysis

    (tmp_path / "a.adl").write_text(ADL)
    # by hand: event 0 has one muon with phi > 0, event 1 none, event 2 none (phi = -1.5)
    good = write(tmp_path / "good.root",
                 mu=ak.zip({"phi": ak.Array([[0.5, -0.5], [], [-1.5]])}))
    result = run_analysis(tmp_path / "a.adl", [good], schema="nanoaod", backend=backend)
    assert [c.raw for c in result.regions["r"].cutflow] == [3, 1]
    flat = write(tmp_path / "flat.root", mu_phi=np.array([0.1, 0.2, 0.3]))
    with pytest.raises(AdlInputError, match="'mu_phi'.*per object of collection 'Muon'"):
        run_analysis(tmp_path / "a.adl", [flat], schema="nanoaod", backend=backend)


# --- the converse: a column read one value per event must not be a list ---------------------
# With a backend's complete `object_columns` (numpy's), every other column is event-level.

def test_list_read_per_event_is_a_clear_error(tmp_path: Path) -> None:
    path = write(tmp_path / "list.root")
    with pytest.raises(AdlInputError) as info:
        read(path, ["Muon_pt"], {})
    (d,) = info.value.diagnostics
    assert d.code == "E709"
    assert "'Muon_pt'" in d.message and "one value per event" in d.message
    assert "list per event (collection 'Muon')" in d.message
    assert d.hint and "Muon_pt(Muon[0])" in d.hint


def test_one_element_list_per_event_reads_as_event_level(tmp_path: Path) -> None:
    """Delphes keeps `Event.Number` as a one-element list per event."""
    path = write(tmp_path / "one.root", Event=ak.zip({"Number": ak.Array([[7.0], [8.0], [9.0]])}))
    assert read(path, ["Event_Number"], {})["Event_Number"].tolist() == [7.0, 8.0, 9.0]


def test_without_a_mapping_lists_are_not_checked_per_event(tmp_path: Path) -> None:
    """A backend that lists no object_columns (None): `mu_phi` may be any collection's."""
    path = write(tmp_path / "nomap.root", mu=ak.zip({"phi": ak.Array([[0.1], [], [0.3, 0.4]])}))
    assert read(path, ["mu_phi"])["mu_phi"].tolist() == [0.1, 0.3, 0.4]


EVENT_ADL = """\
region r
  select Muon_pt > 25
"""


def test_list_branch_in_an_event_cut_end_to_end(tmp_path: Path) -> None:
    """numpy raised ValueError (operands could not be broadcast) here."""
    from adlc.driver import run_analysis

    (tmp_path / "e.adl").write_text(EVENT_ADL)
    path = write(tmp_path / "e.root")
    with pytest.raises(AdlInputError, match="'Muon_pt'.*one value per event"):
        run_analysis(tmp_path / "e.adl", [path], schema="nanoaod", backend="numpy")
    # a flat Muon_pt (one value per event) is what `select Muon_pt > 25` means: by hand 2 of 3
    flat = tmp_path / "flat.root"
    with uproot.recreate(flat) as f:
        f.mktree("Events", {"Muon_pt": np.float64})
        f["Events"].extend({"Muon_pt": np.array([30.0, 20.0, 50.0])})
    result = run_analysis(tmp_path / "e.adl", [str(flat)], schema="nanoaod", backend="numpy")
    assert [c.raw for c in result.regions["r"].cutflow] == [3, 2]


def test_missing_hard_met_hints_at_the_jets_missing_momentum() -> None:
    from adlc.runtime.schemas import missing_branch_error

    err = missing_branch_error("hardMET", ["MET_pt", "MET_phi", "nJet"])
    (diag,) = err.diagnostics
    assert diag.code == "E705" and "`define MHTv = -jets_`" in diag.hint
    assert "pT(MHTv)" in diag.hint
