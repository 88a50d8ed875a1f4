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

Collections in a file are addressed by their branch prefix (`Muon_`); the reader names a
collection's offsets array `"<group>@offsets"` (`Muon@offsets`, see `CollectionSchema.offsets_key`).

This module imports nothing heavy: the semantic pass calls it while compiling.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Literal

from adlc.errors import AdlInputError, AdlUsageError
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


# --- schemas -------------------------------------------------------------------------------------


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
        return self.prefix.rstrip("_.")

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
                attr = canonical_event_name(key) or (key.lower() if key.lower() in event else None)
                if attr is None:
                    raise AdlUsageError.one(
                        f"cannot override {key!r}: not an event-level quantity",
                        hint="event-level names are MET, METphi, MetSig, runNo, lbNo, eventNo")
                old = event.get(attr)
                event[attr] = branch
            zero.discard(old or "")
        return replace(self, collections=collections, event=event,
                       missing_reads_zero=frozenset(zero))


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

SCHEMAS: Mapping[str, Schema] = MappingProxyType({s.name: s for s in (NANOAOD, RUN2012)})


def get_schema(name: str) -> Schema:
    """The schema called `name` (case-insensitive); AdlUsageError listing the known ones."""
    schema = SCHEMAS.get(name.lower())
    if schema is None:
        raise AdlUsageError.one(f"unknown input schema {name!r}",
                                hint=f"known schemas: {', '.join(sorted(SCHEMAS))}")
    return schema


def detect_schema(branch_names: Iterable[str]) -> Schema:
    """Guess the format from a tree's branch names.

    `Jet_btagDeepB` → nanoaod; `Jet_btag` without `Jet_btagDeepB` → run2012; any other
    NanoAOD-looking tree (an `nX` counter with `X_pt`) → nanoaod. AdlInputError otherwise.
    """
    names = set(branch_names)
    if "Jet_btagDeepB" in names:
        return NANOAOD
    if "Jet_btag" in names:
        return RUN2012
    if any(c.counter in names and c.prefix + "pt" in names for c in NANOAOD.collections.values()):
        return NANOAOD
    if {"MET_pt", "run", "event"} <= names:  # event-level NanoAOD, no collections
        return NANOAOD
    raise AdlInputError.one(
        "cannot tell the input format from its branches (no nMuon/Muon_pt, nJet/Jet_pt, MET_pt...)",
        code="E708", hint=f"choose one with --schema ({', '.join(sorted(SCHEMAS))})")


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
        head = name.partition("_")[0] + "_"
        close = [n for n in names if n.startswith(head)][:5]
    where = f" in {where}" if where else ""
    hint = f"did you mean {', '.join(close)}?" if close else "no branch has a similar name"
    return AdlInputError.one(f"no branch {name!r}{where}", code="E705", hint=hint)
