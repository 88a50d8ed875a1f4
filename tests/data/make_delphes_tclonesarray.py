"""Writes tests/data/delphes_tclonesarray.root, used by tests/runtime/test_delphes.py.

Delphes' real layout, which uproot cannot write: split TClonesArrays of Delphes-named classes
(`Jet.PT` is a sub-branch of `Jet`, counted by the leaf `Jet_`) plus the Int_t `Jet_size`
branches Delphes adds; 60 events. Needs PyROOT; run once: `python make_delphes_tclonesarray.py
OUT.root`. Not run by the tests: the file is committed.
"""

import array
import math
import random
import sys

import ROOT

ROOT.gInterpreter.Declare("""
#include "TObject.h"
#include "TClonesArray.h"
class Event : public TObject { public: Long64_t Number = 0; Float_t ReadTime = 0;
  ClassDef(Event, 1) };
class Jet : public TObject { public: Float_t PT = 0, Eta = 0, Phi = 0, Mass = 0;
  UInt_t Flavor = 0, BTag = 0, TauTag = 0; Int_t Charge = 0; ClassDef(Jet, 3) };
class Muon : public TObject { public: Float_t PT = 0, Eta = 0, Phi = 0, T = 0; Int_t Charge = 0;
  Float_t D0 = 0, DZ = 0, IsolationVar = 0; ClassDef(Muon, 3) };
class Electron : public TObject { public: Float_t PT = 0, Eta = 0, Phi = 0, T = 0;
  Int_t Charge = 0; Float_t EhadOverEem = 0, D0 = 0, DZ = 0, IsolationVar = 0;
  ClassDef(Electron, 3) };
class MissingET : public TObject { public: Float_t MET = 0, Eta = 0, Phi = 0;
  ClassDef(MissingET, 1) };
""")


def jet(o, ev):
    o.PT = 200.0 * random.random() ** 2 + 20
    o.Eta = random.uniform(-3, 3)
    o.Phi = random.uniform(-math.pi, math.pi)
    o.Mass = o.PT * random.uniform(0.05, 0.3)
    o.BTag = int(random.random() < 0.25)
    o.Flavor = 5 if o.BTag else 21
    o.Charge = random.choice((-1, 0, 1))


def lepton(o, ev):
    o.PT = 80.0 * random.random() + 5
    o.Eta = random.uniform(-2.5, 2.5)
    o.Phi = random.uniform(-math.pi, math.pi)
    o.Charge = random.choice((-1, 1))
    o.D0 = random.gauss(0, 0.01)
    o.DZ = random.gauss(0, 0.03)
    o.IsolationVar = random.expovariate(10)


def met(o, ev):
    o.MET = random.expovariate(1 / 30)
    o.Phi = random.uniform(-math.pi, math.pi)


def event(o, ev):
    o.Number = ev + 1


def main(path: str) -> None:
    random.seed(7)
    out = ROOT.TFile(path, "RECREATE")
    tree = ROOT.TTree("Delphes", "Analysis tree")
    arrays, sizes = {}, {}
    for name in ("Event", "Jet", "Electron", "Muon", "MissingET"):
        arrays[name] = ROOT.TClonesArray(name)
        tree.Branch(name, arrays[name], 64000, 99)
        sizes[name] = array.array("i", [0])
        tree.Branch(name + "_size", sizes[name], name + "_size/I")

    def fill(name, n, setter, ev):
        arrays[name].Clear()
        for i in range(n):
            setter(arrays[name].ConstructedAt(i), ev)
        sizes[name][0] = n

    for ev in range(60):
        fill("Event", 1, event, ev)
        fill("Jet", random.choice((0, 1, 2, 3, 4, 6)), jet, ev)
        fill("Electron", random.choice((0, 0, 1, 2)), lepton, ev)
        fill("Muon", random.choice((0, 1, 2, 2, 3)), lepton, ev)
        fill("MissingET", 1, met, ev)
        tree.Fill()
    tree.Write()
    out.Close()


if __name__ == "__main__":
    main(sys.argv[1])
