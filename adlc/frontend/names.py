"""Canonical spellings of ADL's built-in names, shared by the front end and the semantic pass."""

from __future__ import annotations

# Per-object attributes (ADL.md §8.1) and the spellings seen in the three dialects. This is
# the one spelling table of adlc: the runtime schemas derive their keys from it.
# Exact case, as in CutLang's lexer: the one-letter tokens (`e`, `p`, `M` are not attributes)
# and `dxy dz edz Z0 genPartIdx daughterX daughterY`; `mass`/`charge` are adl2tnm/learn-adl.
# `M` and `e` are not CutLang tokens but public files write `{x}M`: the front end accepts them.
_EXACT_ATTRIBUTES = {
    "m": "m", "M": "m", "q": "q", "E": "E", "e": "E", "P": "P", "mass": "m", "charge": "q",
    "dxy": "dxy", "dz": "dz", "edz": "edz", "Z0": "z0", "z0": "z0", "genPartIdx": "genPartIdx",
    "daughterX": "daughterX", "daughterY": "daughterY", "isTight": "isTight",
    "isMedium": "isMedium", "isLoose": "isLoose", "IDX": "IDX", "AbsEta": "absEta",
}
# Case-insensitive keywords, keyed by their lower-case form.
_ATTRIBUTES = {
    "pt": "pT", "eta": "eta", "phi": "phi", "pz": "pz", "abseta": "absEta", "rap": "rap",
    "theta": "theta", "flavor": "flavor", "flavour": "flavor", "btagger": "flavor",
    "btag": "BTag", "ctag": "CTag", "tautag": "TauTag", "pdgid": "pdgID", "idx": "IDX",
    "index": "IDX", "d0": "dxy", "edxy": "edxy", "ed0": "edxy",
    "ptcone": "ptcone", "etcone": "etcone", "absiso": "absiso",
    "miniiso": "miniiso", "istight": "isTight", "ismedium": "isMedium", "medium": "isMedium",
    "isloose": "isLoose", "loose": "isLoose", "tau32": "tau32",
    "vertexx": "vertexX", "vertexy": "vertexY", "vertexz": "vertexZ", "vertext": "vertexT",
    "vertextr": "vertexTR", "energy": "E", "nbj": "nbj", "constituents": "constituents",
    "daughters": "daughters",
}

# Functions of several arguments, reducers and maths (§8.2-8.4, §5.7); lower-case keys.
_FUNCTIONS = {
    "dr": "dR", "dphi": "dPhi", "deta": "dEta", "cross": "Cross", "dot": "Dot",
    "size": "size", "count": "size", "numof": "size", "sum": "sum", "min": "min", "max": "max",
    "ave": "ave", "any": "any", "all": "all", "anyof": "anyof", "allof": "allof",
    "abs": "abs", "sqrt": "sqrt", "cos": "cos", "sin": "sin", "tan": "tan", "sinh": "sinh",
    "cosh": "cosh", "tanh": "tanh", "exp": "exp", "log": "log", "hstep": "hstep",
    "delta": "delta", "pow": "pow", "fht": "fHT", "ht": "fHT", "add": "ADD",
    "applyhm": "applyHM", "applyptf": "applyPTF", "scalept": "scalePT", "applyef": "applyEF",
    "scalee": "scaleE",
}

# Event-level built-in names (§8.3), exact case as CutLang's lexer has most of them.
EVENT_NAMES = {
    "MET": "MET", "METLV": "METLV", "MetSig": "MetSig", "metsig": "MetSig",
    "hardMET": "hardMET", "hardMETphi": "hardMETphi", "HT": "HT", "runNo": "runNo",
    "runno": "runNo", "lbNo": "lbNo", "lbno": "lbNo", "eventNo": "eventNo",
    "eventno": "eventNo", "RunYear": "RunYear", "mcChannelNumber": "mcChannelNumber",
    "ALL": "ALL", "all": "ALL", "All": "ALL", "NONE": "NONE", "none": "NONE", "None": "NONE",
    "fAplanarity": "fAplanarity", "fSphericity": "fSphericity",
    # CutLang's built-in scale factors (`cmd LEPsf`): commands that pass every event.
    "LEPsf": "LEPsf", "bTagSF": "bTagSF", "XSLumiCorrSF": "XSLumiCorrSF",
}

# Built-in collections (§9): every lexer spelling to one canonical name.
COLLECTIONS = {
    "ELE": "Electron", "Ele": "Electron", "ele": "Electron", "Electron": "Electron",
    "electron": "Electron",
    "MUO": "Muon", "Muo": "Muon", "muo": "Muon", "Muon": "Muon", "muon": "Muon",
    "TAU": "Tau", "Tau": "Tau", "tau": "Tau",
    "PHO": "Photon", "Pho": "Photon", "pho": "Photon", "Photon": "Photon",
    "JET": "Jet", "Jet": "Jet", "jet": "Jet",
    "FJET": "FatJet", "FatJet": "FatJet", "fjet": "FatJet",
    "GEN": "GenPart", "gen": "GenPart", "TRK": "Track", "trk": "Track",
    "photon": "Photon", "Truth": "GenPart",
    "LEP": "Lepton", "BJET": "BJet", "QGJET": "QGJet", "NUMET": "Neutrino",
    # Delphes and adl2tnm spell collections as the ntuple does.
    "FJet": "FatJet", "Gen": "GenPart", "GenPart": "GenPart", "Particle": "GenPart",
    "Track": "Track", "EFlowTrack": "Track", "Trk": "Track", "MissingET": "MissingET",
}


def canonical_attribute(name: str) -> str | None:
    """`Pt`, `PT`, `pt` -> `pT`; None when `name` is not a built-in attribute."""
    if name in _EXACT_ATTRIBUTES:
        return _EXACT_ATTRIBUTES[name]
    return _ATTRIBUTES.get(name.lower())


def canonical_function(name: str) -> str:
    """The canonical spelling of a built-in attribute or function; other names unchanged."""
    attribute = canonical_attribute(name)
    if attribute is not None:
        return attribute
    return _FUNCTIONS.get(name.lower(), name)


def is_builtin_function(name: str) -> bool:
    return canonical_attribute(name) is not None or name.lower() in _FUNCTIONS
