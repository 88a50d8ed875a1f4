"""Input formats: how ADL's collections and attributes map onto the branches of a file.

ADL names physics objects format-neutrally (`MUO`, `Jet`, `pT`, `flavor`); every input format stores
them under its own branch names. A `Schema` holds that mapping for one format, so that an ADL file
written for one format runs on another as long as it only uses standard attributes (ADL.md §9).

Names used here:

* **canonical collection**: CutLang's internal collection names, `MUO ELE TAU PHO JET FJET GEN`.
  `canonical_collection("Muon") == "MUO"`.
* **canonical attribute**: a lowercase key, `pt eta phi m q e p pz ... flavor btag ...`.
  `canonical_attribute("pT") == "pt"`, `canonical_attribute("E") == "e"`.
* **stored attribute**: one the schema maps to a branch (`pt` → `Muon_pt`).
* **fixed attribute**: one CutLang sets to a constant instead of reading a branch (muon mass
  0.105658 GeV, electron mass 0.000511, photon mass and charge 0, jet charge −99).
* **derived attribute** (`DERIVED_ATTRIBUTES`): computed by the compiler from others (E, P, pz,
  rapidity, θ, |η|, pdgID = −13·q for muons, BTag = flavor > 0.8, ...). A collection that stores
  one of these (GEN stores pdgID) uses the stored branch; `resolve_attribute` says which applies.

Collections in a file are addressed by their branch prefix (`Muon_`, or `Jet.` in Delphes); the
reader names a collection's offsets array `"<group>@offsets"` (`Muon@offsets`, see
`CollectionSchema.offsets_key`).

Built-in schemas: `nanoaod`, `run2012`, `delphes`. Any other flat ntuple is described by a TOML
schema file (`load_schema_file`, `adlc run --schema-file`, docs/schemas.md).

This module imports nothing heavy: the semantic pass calls it while compiling.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Literal

from adlc.errors import AdlInputError, AdlUsageError, Diagnostic, Span
from adlc.frontend import names

# --- spellings -----------------------------------------------------------------------------------

# The ADL spellings live in one place, `adlc.frontend.names`; here they are keyed the way the
# schemas are: the CutLang reader's collection names and lower-case attribute names.
_SCHEMA_COLLECTION = {"Electron": "ELE", "Muon": "MUO", "Tau": "TAU", "Photon": "PHO",
                      "Jet": "JET", "FatJet": "FJET", "GenPart": "GEN"}
COLLECTION_SPELLINGS: Mapping[str, str] = MappingProxyType({
    spelling: _SCHEMA_COLLECTION[canon] for spelling, canon in names.COLLECTIONS.items()
    if canon in _SCHEMA_COLLECTION})
_SCHEMA_ATTRIBUTE = {"IDX": "index"}  # otherwise the lower-cased canonical ADL name

# Computed by the compiler from stored attributes; never read from a branch (unless a
# collection stores it, see `resolve_attribute`). `index` is the position in the file's collection.
DERIVED_ATTRIBUTES: frozenset[str] = frozenset({
    "e", "p", "pz", "rap", "theta", "abseta", "pdgid", "btag", "index", "tau32",
})

# pdgID = -pdg * q (CutLang, quirk 4): a mu- (q = -1) has pdgID +13.
PDG_CODES: Mapping[str, int] = MappingProxyType({"MUO": 13, "ELE": 11, "TAU": 15})

# BTag(jet) = flavor(jet) > BTAG_THRESHOLD in CutLang's CMSNANO reader (quirk 4).
BTAG_THRESHOLD = 0.8

# Event-level names: ADL spelling -> canonical key. `MET` is exact-case (ADL.md §1); CutLang's
# `metsig runno lbno eventno` tokens are case-insensitive. The schemas also map `metphi` (for
# METLV), which has no ADL spelling of its own.
_EXACT_EVENT_NAMES: Mapping[str, str] = MappingProxyType({"MET": "met"})
_CASELESS_EVENT_NAMES: Mapping[str, str] = MappingProxyType({
    "metsig": "metsig", "runno": "runno", "lbno": "lbno", "eventno": "eventno",
})
# Event-level keys a schema may map (schema files, `with_overrides`): the names above plus
# `METphi` (any case).
EVENT_KEYS: frozenset[str] = frozenset({"met", "metphi", "metsig", "runno", "lbno", "eventno"})

# The chunk keys under which the numba backend reads MET and its direction. A schema whose MET
# is stored elsewhere (Delphes `MissingET.MET`, a user ntuple's `met`) gets reader aliases from
# these (`Schema.column_aliases`).
BACKEND_EVENT_COLUMNS: Mapping[str, str] = MappingProxyType({"met": "MET_pt",
                                                             "metphi": "MET_phi"})


def canonical_collection(name: str) -> str | None:
    """`"Muon"` → `"MUO"`; None for a name that is not a built-in collection."""
    return COLLECTION_SPELLINGS.get(name)


def canonical_attribute(name: str) -> str | None:
    """`"pT"` → `"pt"`, `"d0"` → `"dxy"`, `"E"` → `"e"`; None if `name` is no built-in attribute."""
    # Schema keys (`--map JET.m=...`) follow CutLang's lexer: of one-letter names only `m q E P`.
    canon = names.canonical_attribute(name) if len(name) > 1 or name in "mqEP" else None
    if canon is None:
        return None
    return _SCHEMA_ATTRIBUTE.get(canon, canon.lower())


def canonical_event_name(name: str) -> str | None:
    """`"MET"` → `"met"`, `"runNo"` → `"runno"`; None if `name` is no built-in event quantity."""
    return _EXACT_EVENT_NAMES.get(name) or _CASELESS_EVENT_NAMES.get(name.lower())


def _event_key(name: str) -> str | None:
    """An event-level key of a schema: any ADL spelling, `METphi`, or a canonical key."""
    key = canonical_event_name(name)
    if key is None and name.lower() in EVENT_KEYS:
        key = name.lower()
    return key


# --- schemas -------------------------------------------------------------------------------------


# What separates a collection's name from its attribute in a branch name: `Muon_pt`, `Jet.PT`.
SEPARATORS = "_."


def branch_group(branch: str) -> str:
    """The collection a branch belongs to: the text before its first `_` or `.`.

    `Muon_pt` → `Muon`, `Jet.PT` → `Jet`, `Jet_size` → `Jet`, `LHEPdfWeight` → itself. The
    reader also honours longer groups a schema asks for (`jet_ak4_pt` in group `jet_ak4`).
    """
    cut = min((i for i in (branch.find(c) for c in SEPARATORS) if i > 0), default=-1)
    return branch[:cut] if cut > 0 else branch


def _frozen(mapping: Mapping[str, str] | Mapping[str, float]) -> Mapping:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class CollectionSchema:
    """How one ADL collection is stored: `nMuon` counts, `Muon_<x>` branches hold attributes."""

    name: str                     # canonical ADL collection, e.g. "MUO"
    counter: str                  # the per-event count branch, e.g. "nMuon"
    prefix: str                   # branch prefix including the separator, e.g. "Muon_"
    attributes: Mapping[str, str] = field(default_factory=dict, hash=False)  # attr -> branch
    fixed: Mapping[str, float] = field(default_factory=dict, hash=False)     # attr -> constant

    def __post_init__(self) -> None:
        object.__setattr__(self, "attributes", _frozen(self.attributes))
        object.__setattr__(self, "fixed", _frozen(self.fixed))

    @property
    def group(self) -> str:
        """The prefix without its separator (`Muon`): the reader's name for the collection."""
        return self.prefix[:-1] if self.prefix[-1:] in SEPARATORS else self.prefix

    @property
    def offsets_key(self) -> str:
        """Key of this collection's offsets in a reader `Chunk` (`"Muon@offsets"`)."""
        return offsets_key(self.group)

    @property
    def fixed_mass(self) -> float | None:
        """The mass CutLang fixes for this collection (GeV), or None if it reads a branch."""
        return self.fixed.get("m")

    def branch(self, attribute: str) -> str | None:
        """The branch storing canonical `attribute`, or None."""
        return self.attributes.get(attribute)


@dataclass(frozen=True)
class Schema:
    """One input format: tree name, collections, event-level quantities.

    `missing_reads_zero` lists branches that CutLang reads as 0 when a file lacks them (its
    MakeClass reader skips missing branches silently). The reader fills them with zeros instead of
    failing; every other missing branch is an error.
    """

    name: str
    tree: str
    collections: Mapping[str, CollectionSchema] = field(default_factory=dict, hash=False)
    event: Mapping[str, str] = field(default_factory=dict, hash=False)  # canonical -> branch
    missing_reads_zero: frozenset[str] = frozenset()
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "collections", _frozen(self.collections))
        object.__setattr__(self, "event", _frozen(self.event))
        object.__setattr__(self, "missing_reads_zero", frozenset(self.missing_reads_zero))

    def collection(self, name: str) -> CollectionSchema | None:
        """Look up by any ADL spelling (`Muon`, `MUO`, ...) or the branch group (`Muon`)."""
        canon = canonical_collection(name)
        if canon is not None:
            return self.collections.get(canon)
        return next((c for c in self.collections.values() if c.group == name), None)

    def with_overrides(self, overrides: Mapping[str, str]) -> Schema:
        """A copy with user overrides: `{"JET.flavor": "Jet_btag", "MET": "PuppiMET_pt"}`.

        Keys are `COLLECTION.attribute` (any spellings) or an event-level name. An overridden
        branch no longer reads as zero when missing: the user asked for it explicitly.
        """
        collections = dict(self.collections)
        event = dict(self.event)
        zero = set(self.missing_reads_zero)
        for key, branch in overrides.items():
            coll_name, dot, attr_name = key.partition(".")
            if dot:
                coll = self.collection(coll_name)
                attr = canonical_attribute(attr_name)
                if coll is None or attr is None:
                    raise AdlUsageError.one(
                        f"cannot override {key!r}: unknown collection or attribute",
                        hint="write COLLECTION.attribute, e.g. JET.flavor=Jet_btag")
                old = coll.attributes.get(attr)
                fixed = {k: v for k, v in coll.fixed.items() if k != attr}
                attrs = {**coll.attributes, attr: branch}
                collections[coll.name] = replace(coll, attributes=attrs, fixed=fixed)
            else:
                attr = _event_key(key)
                if attr is None:
                    raise AdlUsageError.one(
                        f"cannot override {key!r}: not an event-level quantity",
                        hint="event-level names are MET, METphi, MetSig, runNo, lbNo, eventNo")
                old = event.get(attr)
                event[attr] = branch
            zero.discard(old or "")
        return replace(self, collections=collections, event=event,
                       missing_reads_zero=frozenset(zero))

    @property
    def column_aliases(self) -> Mapping[str, str]:
        """Reader aliases: chunk key the backend reads → the branch this schema stores it in.

        The numba backend reads MET as the columns `MET_pt`/`MET_phi`; for Delphes this gives
        `{"MET_pt": "MissingET.MET", "MET_phi": "MissingET.Phi"}`, and nothing for NanoAOD.
        Bind them to the inputs with `InputSet.with_schema`.
        """
        return MappingProxyType({col: self.event[key] for key, col in BACKEND_EVENT_COLUMNS.items()
                                 if self.event.get(key, col) != col})


def offsets_key(group: str) -> str:
    """Key of a collection's offsets array in a reader chunk: `offsets_key("Muon") == "Muon@offsets"`."""
    return f"{group}@offsets"


AttributeKind = Literal["branch", "fixed", "derived"]


@dataclass(frozen=True)
class AttributeRef:
    """How to get one attribute of one collection in one schema."""

    kind: AttributeKind
    branch: str | None = None     # kind == "branch"
    value: float | None = None    # kind == "fixed"


def resolve_attribute(schema: Schema, collection: str, attribute: str) -> AttributeRef | None:
    """Stored beats fixed beats derived. None when the schema cannot provide it at all.

    `attribute` may be any spelling (`pT`); `collection` any spelling (`Muon`).
    """
    coll = schema.collection(collection)
    attr = canonical_attribute(attribute) or attribute
    if coll is None:
        return None
    if attr in coll.attributes:
        return AttributeRef("branch", branch=coll.attributes[attr])
    if attr in coll.fixed:
        return AttributeRef("fixed", value=coll.fixed[attr])
    if attr in DERIVED_ATTRIBUTES:
        return AttributeRef("derived")
    return None


def _nano_collections(jet_flavor: str) -> dict[str, CollectionSchema]:
    """NanoAOD as CutLang's CMSNANO reader sees it (ADL.md §9, conformance README quirk 1)."""
    def attrs(prefix: str, **extra: str) -> dict[str, str]:
        base = {"pt": "pt", "eta": "eta", "phi": "phi"}
        return {k: prefix + v for k, v in {**base, **extra}.items()}

    return {
        "MUO": CollectionSchema(
            "MUO", "nMuon", "Muon_",
            attrs("Muon_", q="charge", dxy="dxy", dz="dz", miniiso="miniPFRelIso_all",
                  genpartidx="genPartIdx"),
            # CutLang ignores Muon_mass and uses 105.658 MeV.
            fixed={"m": 0.105658}),
        "ELE": CollectionSchema(
            "ELE", "nElectron", "Electron_",
            attrs("Electron_", q="charge", dxy="dxy", dz="dz", miniiso="miniPFRelIso_all",
                  genpartidx="genPartIdx"),
            fixed={"m": 0.000511}),
        "TAU": CollectionSchema(
            "TAU", "nTau", "Tau_",
            attrs("Tau_", m="mass", q="charge", genpartidx="genPartIdx")),
        # Photons: mass and charge are set to 0 by CutLang, not read.
        "PHO": CollectionSchema(
            "PHO", "nPhoton", "Photon_", attrs("Photon_"), fixed={"m": 0.0, "q": 0.0}),
        # Jets: CutLang sets every jet's charge to -99 (setCharge(-99) in its reader).
        "JET": CollectionSchema(
            "JET", "nJet", "Jet_", attrs("Jet_", m="mass", flavor=jet_flavor),
            fixed={"q": -99.0}),
        "FJET": CollectionSchema(
            "FJET", "nFatJet", "FatJet_", attrs("FatJet_", m="mass")),
        "GEN": CollectionSchema(
            "GEN", "nGenPart", "GenPart_", attrs("GenPart_", m="mass", pdgid="pdgId")),
    }


_NANO_EVENT = {
    "met": "MET_pt", "metphi": "MET_phi", "metsig": "MET_significance",
    "runno": "run", "lbno": "luminosityBlock", "eventno": "event",
}

NANOAOD = Schema(
    name="nanoaod",
    tree="Events",
    collections=_nano_collections(jet_flavor="btagDeepB"),
    event=_NANO_EVENT,
    description="CMS NanoAOD (CutLang CMSNANO): flavor = Jet_btagDeepB",
)

# CMS 2012 open data in the IRIS-HEP benchmark's NanoAOD-like layout. Its b-tag score is
# `Jet_btag`, but CutLang's CMSNANO reader reads `Jet_btagDeepB`, which this file lacks, so
# CutLang's flavor() and BTag() are 0 on it, and the conformance goldens (f03) were made that
# way. To reproduce them, flavor stays mapped to Jet_btagDeepB and reads as zero when missing;
# `--map JET.flavor=Jet_btag` (Schema.with_overrides) gives the real score. Likewise the
# miniPFRelIso_all and Photon_sieie branches are absent and read 0 in CutLang. Jet_puId is Bool_t
# here, which CutLang misreads as Int_t; adlc reads the bool correctly (a deliberate difference).
RUN2012 = Schema(
    name="run2012",
    tree="Events",
    collections=_nano_collections(jet_flavor="btagDeepB"),
    event=_NANO_EVENT,
    missing_reads_zero=frozenset({
        "Jet_btagDeepB", "Muon_miniPFRelIso_all", "Electron_miniPFRelIso_all", "Photon_sieie",
    }),
    description="CMS 2012 open data, IRIS-HEP NanoAOD-like layout (Jet_btag, no Jet_btagDeepB)",
)



def _delphes_collections() -> dict[str, CollectionSchema]:
    """Delphes as CutLang's DELPHES reader sees it (ADL.md §9). Collections are split
    TClonesArrays: `Jet_size` counts, `Jet.PT` holds the attribute."""
    def coll(canon: str, name: str, fixed: Mapping[str, float] | None = None,
             **attrs: str) -> CollectionSchema:
        kin = {"pt": "PT", "eta": "Eta", "phi": "Phi", **attrs}
        return CollectionSchema(canon, f"{name}_size", f"{name}.",
                                {k: f"{name}.{v}" for k, v in kin.items()}, fixed or {})

    return {
        "MUO": coll("MUO", "Muon", {"m": 0.105658}, q="Charge", dxy="D0", dz="DZ"),
        "ELE": coll("ELE", "Electron", {"m": 0.000511}, q="Charge", dxy="D0", dz="DZ"),
        "PHO": coll("PHO", "Photon", {"m": 0.0, "q": 0.0}),
        # Delphes stores the b-tag decision (a bit per working point) and the tag flavour:
        # BTag(jet) reads Jet.BTag instead of thresholding flavor.
        "JET": coll("JET", "Jet", m="Mass", q="Charge", btag="BTag", flavor="Flavor",
                    tautag="TauTag"),
        "FJET": coll("FJET", "FatJet", m="Mass", q="Charge", btag="BTag", flavor="Flavor"),
        "GEN": coll("GEN", "Particle", m="Mass", q="Charge", pdgid="PID"),
    }


# Delphes ROOT output (tree `Delphes`). Taus are jets with Jet.TauTag, so there is no TAU.
# MissingET is a one-element collection per event; the reader takes its first element.
DELPHES = Schema(
    name="delphes",
    tree="Delphes",
    collections=_delphes_collections(),
    event={"met": "MissingET.MET", "metphi": "MissingET.Phi", "eventno": "Event.Number"},
    description="Delphes ROOT output (CutLang DELPHES): Jet.PT, Muon.Charge, MissingET.MET",
)

SCHEMAS: Mapping[str, Schema] = MappingProxyType({s.name: s for s in (NANOAOD, RUN2012,
                                                                      DELPHES)})


def get_schema(name: str) -> Schema:
    """The schema called `name` (case-insensitive); AdlUsageError listing the known ones."""
    schema = SCHEMAS.get(name.lower())
    if schema is None:
        raise AdlUsageError.one(f"unknown input schema {name!r}",
                                hint=f"known schemas: {', '.join(sorted(SCHEMAS))}")
    return schema


def detect_schema(branch_names: Iterable[str], tree: str | None = None) -> Schema:
    """Guess the format from a tree's branch names (and its name, if given).

    A tree called `Delphes`, or Delphes branches (`Jet.PT`, `Muon.PT`, `MissingET.MET`) →
    delphes; `Jet_btagDeepB` → nanoaod; `Jet_btag` without `Jet_btagDeepB` → run2012; any
    other NanoAOD-looking tree (an `nX` counter with `X_pt`) → nanoaod. AdlInputError otherwise.
    """
    names = set(branch_names)
    if tree == "Delphes" or any(c.branch("pt") in names for c in DELPHES.collections.values()) \
            or DELPHES.event["met"] in names:
        return DELPHES
    if "Jet_btagDeepB" in names:
        return NANOAOD
    if "Jet_btag" in names:
        return RUN2012
    if any(c.counter in names and c.prefix + "pt" in names for c in NANOAOD.collections.values()):
        return NANOAOD
    if {"MET_pt", "run", "event"} <= names:  # event-level NanoAOD, no collections
        return NANOAOD
    raise AdlInputError.one(
        "cannot tell the input format from its branches (no nMuon/Muon_pt, nJet/Jet_pt, MET_pt, "
        "Jet.PT...)",
        code="E708", hint=f"choose one with --format ({', '.join(sorted(SCHEMAS))}), or describe the "
             "file in a schema file (--schema-file, docs/schemas.md)")


def resolve_branch(schema: Schema, branch_names: Iterable[str], name: str,
                   collection: str | None = None) -> str:
    """Resolve a direct branch read (ADL.md §8.7) exactly, never fuzzily.

    `Muon_tightId(Muon)` → `"Muon_tightId"`; the old form `tightId(Muon)` → `"Muon_tightId"`
    (the collection's prefix, exactly); a bare `HLT_IsoMu24` (no collection) → the event-level
    branch. Raises AdlInputError naming the closest branches when nothing matches exactly, or
    when the branch belongs to another collection. Never returns None.
    """
    names = list(branch_names)
    known = set(names)
    coll = schema.collection(collection) if collection is not None else None
    if collection is not None and coll is None:
        raise AdlInputError.one(f"unknown collection {collection!r} for branch {name!r}",
                                code="E705")
    candidates = [name] if coll is None else [name, coll.prefix + name]
    for cand in candidates:
        if cand in known or cand in schema.missing_reads_zero:
            if coll is not None and not cand.startswith(coll.prefix):
                raise AdlInputError.one(
                    f"branch {cand!r} does not belong to collection {collection!r} "
                    f"(its branches start with {coll.prefix!r})", code="E705",
                    hint=f"read a {coll.prefix}* branch of {collection}, or the branch "
                         f"{cand!r} of its own collection")
            return cand
    raise missing_branch_error(name if coll is None else candidates[-1], names)


def missing_branch_error(name: str, branch_names: Iterable[str], where: str = "") -> AdlInputError:
    """An AdlInputError for an absent branch that lists the nearest existing names."""
    names = list(branch_names)
    close = difflib.get_close_matches(name, names, n=5, cutoff=0.6)
    if not close:  # fall back to same-prefix names: `Muon_tightID` -> the Muon_ branches
        head = branch_group(name)
        close = [n for n in names if n != head and branch_group(n) == head][:5]
    where = f" in {where}" if where else ""
    hint = f"did you mean {', '.join(close)}?" if close else "no branch has a similar name"
    if name in _DERIVED_HINTS:
        hint = f"{_DERIVED_HINTS[name]}; {hint}"
    return AdlInputError.one(f"no branch {name!r}{where}", code="E705", hint=hint)


# Event variables that some ntuples store and NanoAOD/Delphes do not: what to write instead.
_MHT = ("`{0}` is read from a branch of that name (TreeMaker-style ntuples have one); "
        "without it, build the missing momentum of your jets: `define MHTv = -jets_`, "
        "then `{1}(MHTv)`")
_DERIVED_HINTS = {"hardMET": _MHT.format("hardMET", "pT"),
                  "hardMETphi": _MHT.format("hardMETphi", "phi")}


# --- schema files --------------------------------------------------------------------------------

_TOP_KEYS = ("schema", "tree", "collections", "event", "missing_reads_zero")
_COLLECTION_KEYS = ("counter", "prefix", "attributes", "fixed")


class _SchemaFile:
    """Builds a Schema from a parsed TOML document, collecting every problem found.

    tomllib keeps no positions, so a problem is placed by searching the text: the header of
    the table it is about (`[collections.MUO]`), then the line of the key inside it.
    """

    def __init__(self, path: str, source: str):
        self.path = path
        self.lines = [line.split("#", 1)[0] for line in source.splitlines()]
        self.diags: list[Diagnostic] = []

    def locate(self, table: str | None, key: str | None) -> tuple[int, int]:
        """(line, column) of `key` inside `[table]` (or of the header), (0, 0) if not found."""
        start, stop, found = 0, len(self.lines), (0, 0)
        if table is not None:
            parts = r"\s*\.\s*".join(rf'"?{re.escape(p)}"?' for p in table.split("."))
            header = re.compile(rf"^\s*\[\s*{parts}\s*\]")
            for i, line in enumerate(self.lines):
                if header.match(line):
                    start, found = i, (i + 1, line.index("[") + 1)
                    stop = next((j for j in range(i + 1, len(self.lines))
                                 if self.lines[j].lstrip().startswith("[")), len(self.lines))
                    break
        if key is not None:
            pattern = re.compile(rf'(?:^|[\s{{,.]){re.escape(key)}"?\s*=|^\s*"{re.escape(key)}"')
            for i in range(start, stop):
                hit = pattern.search(self.lines[i])
                if hit:
                    return i + 1, self.lines[i].index(key, hit.start()) + 1
        return found

    def error(self, message: str, table: str | None = None, key: str | None = None,
              hint: str | None = None) -> None:
        line, col = self.locate(table, key) if table or key else (0, 0)
        self.diags.append(Diagnostic(message, Span(line, col, line, col + len(key or "") or col,
                                                   file=self.path), "E720", "error", hint))

    def table(self, doc: Mapping, key: str) -> Mapping:
        value = doc.get(key, {})
        if not isinstance(value, dict):
            self.error(f"'{key}' must be a table, not {type(value).__name__}", None, key)
            return {}
        return value

    def unknown_keys(self, table: Mapping, known: tuple[str, ...], where: str | None) -> None:
        for key in table:
            if key not in known:
                close = difflib.get_close_matches(key, list(known), n=1)
                self.error(f"unknown key {key!r} in {f'[{where}]' if where else 'the schema file'}",
                           where, key, hint=f"did you mean {close[0]!r}?" if close
                           else f"known keys: {', '.join(known)}")

    def branch_name(self, value: object, what: str, table: str, key: str) -> str | None:
        if isinstance(value, str) and value.strip():
            return value
        self.error(f"{what} must be a branch name (a non-empty string), not {value!r}",
                   table, key)
        return None

    def build(self, doc: Mapping) -> Schema:
        self.unknown_keys(doc, _TOP_KEYS, None)
        meta = self.table(doc, "schema")
        self.unknown_keys(meta, ("name", "description", "base"), "schema")
        base = None
        if "base" in meta:
            base = SCHEMAS.get(str(meta["base"]).lower())
            if base is None:
                self.error(f"unknown base schema {meta['base']!r}", "schema", "base",
                           hint=f"known schemas: {', '.join(sorted(SCHEMAS))}")
        name = meta.get("name", os.path.splitext(os.path.basename(self.path))[0])
        tree = self.table(doc, "tree")
        self.unknown_keys(tree, ("name",), "tree")
        tree_name = tree.get("name", base.tree if base else "")
        if not isinstance(tree_name, str):
            self.error(f"the tree name must be a string, not {tree_name!r}", "tree", "name")
            tree_name = ""
        collections = dict(base.collections) if base else {}
        for key, table in self.table(doc, "collections").items():
            coll = self.collection(key, table)
            if coll is not None:
                collections[coll.name] = coll
        event = dict(base.event) if base else {}
        for key, branch in self.table(doc, "event").items():
            canon = _event_key(key)
            if canon is None:
                self.error(f"{key!r} is not an event-level quantity", "event", key,
                           hint="a top-level key must come before the first table in TOML"
                           if key in _TOP_KEYS else
                           "event-level names are MET, METphi, MetSig, runNo, lbNo, eventNo")
            elif (b := self.branch_name(branch, f"[event] {key}", "event", key)) is not None:
                event[canon] = b
        zero = doc.get("missing_reads_zero", [])
        if not isinstance(zero, list) or not all(isinstance(z, str) for z in zero):
            self.error("'missing_reads_zero' must be a list of branch names", None,
                       "missing_reads_zero")
            zero = []
        if not collections and not event:
            self.error("the schema maps nothing: add [collections.NAME] or [event] tables",
                       hint="see docs/schemas.md for a complete example")
        if self.diags:
            raise AdlUsageError(self.diags)
        zero_set = set(zero) | (set(base.missing_reads_zero) if base else set())
        return Schema(name=str(name), tree=tree_name, collections=collections, event=event,
                      missing_reads_zero=frozenset(zero_set),
                      description=str(meta.get("description", f"schema file {self.path}")))

    def collection(self, key: str, table: object) -> CollectionSchema | None:
        where = f"collections.{key}"
        canon = canonical_collection(key)
        if canon is None:
            known = sorted(set(COLLECTION_SPELLINGS.values()))
            self.error(f"{key!r} is not a built-in ADL collection", where,
                       hint=f"use one of {', '.join(known)} (or another ADL spelling: Muon, Jet)")
            return None
        if not isinstance(table, dict):
            self.error(f"collections.{key} must be a table", "collections", key)
            return None
        self.unknown_keys(table, _COLLECTION_KEYS, where)
        attrs: dict[str, str] = {}
        raw_attrs = table.get("attributes", {})
        if not isinstance(raw_attrs, dict) or not raw_attrs:
            self.error(f"[{where}] needs 'attributes', a table such as "
                       "{pt = \"mu_pt\", eta = \"mu_eta\"}", where)
            raw_attrs = {}
        for attr_name, branch in raw_attrs.items():
            attr = canonical_attribute(attr_name)
            if attr is None:
                self.error(f"{attr_name!r} is not an ADL attribute", where, attr_name,
                           hint="write pt, eta, phi, m, q, flavor, dxy, ... (ADL.md §8.1)")
            elif (b := self.branch_name(branch, f"attribute {attr_name}", where, attr_name)):
                attrs[attr] = b
        fixed: dict[str, float] = {}
        raw_fixed = table.get("fixed", {})
        if not isinstance(raw_fixed, dict):
            self.error("'fixed' must be a table such as {m = 0.105658}", where, "fixed")
            raw_fixed = {}
        for attr_name, value in raw_fixed.items():
            attr = canonical_attribute(attr_name)
            if attr is None:
                self.error(f"fixed attribute {attr_name!r} is not an ADL attribute", where,
                           "fixed")
            elif isinstance(value, bool) or not isinstance(value, int | float):
                self.error(f"fixed {attr_name} must be a number, not {value!r}", where, "fixed")
            elif attr in attrs:
                self.error(f"{attr_name} is both a branch and fixed", where, "fixed",
                           hint="keep one of them")
            else:
                fixed[attr] = float(value)
        if "pt" not in attrs and raw_attrs:
            self.error(f"[{where}] has no pt branch: every collection needs one", where,
                       "attributes")
        prefix = table.get("prefix")
        if prefix is None:
            prefix = _common_prefix(list(attrs.values()))
            if prefix is None:
                if attrs:
                    self.error(f"the branches of [{where}] share no prefix ending in '_' or '.'",
                               where, hint="every branch of a collection must start with its "
                                           "prefix (mu_pt, mu_eta: prefix = \"mu_\")")
                return None
        elif not isinstance(prefix, str) or prefix[-1:] not in SEPARATORS or len(prefix) < 2:
            self.error(f"the prefix must end in '_' or '.', got {prefix!r}", where, "prefix")
            return None
        for attr_name, branch in raw_attrs.items():
            if isinstance(branch, str) and (not branch.startswith(prefix)
                                            or len(branch) == len(prefix)):
                self.error(f"branch {branch!r} does not start with the collection's prefix "
                           f"{prefix!r}", where, attr_name,
                           hint="all branches of one collection share one prefix and counter")
        counter = table.get("counter", "n" + prefix[:-1])
        if not isinstance(counter, str) or not counter:
            self.error("the counter must be a branch name", where, "counter")
            counter = ""
        return CollectionSchema(canon, counter, prefix, attrs, fixed)


def _common_prefix(branches: list[str]) -> str | None:
    """The longest common prefix of `branches` ending in a separator (`mu_`), or None."""
    if not branches:
        return None
    common = os.path.commonprefix(branches)
    cut = max(common.rfind(c) for c in SEPARATORS)
    return common[: cut + 1] if cut > 0 else None


def load_schema_file(path: str | os.PathLike[str]) -> Schema:
    """Read a TOML schema file (docs/schemas.md): an input format for any flat ntuple.

    Every problem is an AdlUsageError naming the file (and the line, where one can be told).
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise AdlUsageError([Diagnostic(f"cannot read schema file {path!r}: "
                                        f"{exc.strerror or exc}", Span(file=path), "E720")]
                            ) from exc
    try:
        source = data.decode("utf-8")
        doc = tomllib.loads(source)
    except UnicodeDecodeError as exc:
        raise AdlUsageError([Diagnostic(f"schema file {path!r} is not UTF-8 text",
                                        Span(file=path), "E720")]) from exc
    except tomllib.TOMLDecodeError as exc:
        # Python 3.14 has exc.lineno/colno; older ones only say "(at line L, column C)".
        line, col = getattr(exc, "lineno", 0), getattr(exc, "colno", 0)
        message = getattr(exc, "msg", None) or str(exc)
        if not line:
            found = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
            if found:
                line, col = int(found[1]), int(found[2])
            elif "end of document" in str(exc):
                line = max(1, len(source.splitlines()))
                col = len(source.splitlines()[-1]) + 1 if source.splitlines() else 1
            message = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", message)
        raise AdlUsageError([Diagnostic(f"malformed schema file: {message}",
                                        Span(line, col if line else 0, file=path), "E720",
                                        hint="the schema file is TOML (docs/schemas.md)")],
                            source) from exc
    builder = _SchemaFile(path, source)
    try:
        return builder.build(doc)
    except AdlUsageError as exc:
        exc.source = source
        raise
