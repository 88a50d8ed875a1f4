"""The built-in external functions: their signatures, where each definition comes from."""

from __future__ import annotations

from adlc.stdlib.registry import FunctionSpec

_HEP = "adlc.stdlib.hep"
_RAZOR = "CutLang analysis_core/Razorfunc.h"
_SFUNC = "CutLang analysis_core/SFuncNode.cpp"

BUILTINS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        name="fHT", params=("collection",), min_args=0, defaults=("JET",), returns="scalar",
        impl=f"{_HEP}:fHT", source=f"{_SFUNC} (ht)",
        doc="Scalar sum of pT of a collection; without an argument, of all jets (CutLang's HT)."),
    FunctionSpec(
        name="fMT", params=("particle", "particle"), returns="scalar", impl=f"{_HEP}:fMT",
        source=f"{_RAZOR}; ADLLHCanalyses CMS-SUS-16-048_functions.h",
        doc="Transverse mass sqrt(2 pT1 pT2 (1 - cos(phi2 - phi1))), e.g. fMT(lep, MET)."),
    FunctionSpec(
        name="fMll", params=("particle", "particle"), returns="scalar", impl=f"{_HEP}:fMll",
        source="adl2tnm / ADLLHCanalyses *_functions.h",
        doc="Invariant mass of the sum of two particles."),
    FunctionSpec(
        name="fMEToverSqrtSumET", params=("particle", "scalar"), returns="scalar",
        impl=f"{_HEP}:fMEToverSqrtSumET",
        source="ADLLHCanalyses ATLAS-EXOT-2016-32 (fMEToverSqrtSumET(MET, ScalarHT.HT))",
        doc="pT of the MET particle divided by sqrt(sum ET)."),
    FunctionSpec(
        name="fMT2", params=("particle", "particle", "particle"), returns="scalar",
        impl=f"{_HEP}:fMT2", source=f"{_SFUNC} (fMT2 -> mt2_bisect, arXiv:0810.5178)",
        doc="Stransverse mass of two visible particles and the MET, massless invisible particles."),
    FunctionSpec(
        name="fMTauTau", params=("particle", "particle", "particle"), min_args=2,
        defaults=("METLV[0]",), returns="scalar", impl=f"{_HEP}:fMTauTau",
        source="CutLang analysis_core/CMSSUS16048_functions.h (fMtautau)",
        doc="Di-tau mass in the collinear approximation from two leptons and the MET."),
    FunctionSpec(
        name="fMtautau", params=("particle", "particle", "particle"), min_args=2,
        defaults=("METLV[0]",), returns="scalar", impl=f"{_HEP}:fMTauTau",
        source="ADLLHCanalyses CMS-SUS-16-048 (adl2tnm spelling)",
        doc="Alias of fMTauTau, the spelling of the adl2tnm files."),
    FunctionSpec(
        name="fmegajets", params=("collection",), returns="collection",
        impl=f"{_HEP}:fmegajets", source=f"{_RAZOR} (fmegajets)",
        doc="The two razor megajets minimising m1^2 + m2^2 over all splits, leading pT first."),
    FunctionSpec(
        name="fhemisphere", params=("collection", "scalar", "scalar"), returns="collection",
        impl=f"{_HEP}:fhemisphere",
        source=f"{_SFUNC} (fhemisphere) + CutLang analysis_core/Hemisphere.cpp",
        doc="Two hemisphere objects from the Hemisphere algorithm (seed method, association "
            "method)."),
    FunctionSpec(
        name="fMR", params=("collection",), returns="scalar", impl=f"{_HEP}:fMR",
        source=f"{_RAZOR} (fMR)",
        doc="Razor MR (gamma_R* MR*) of the first two objects, normally fMR(megajets)."),
    FunctionSpec(
        name="fMTR", params=("collection", "particle"), returns="scalar", impl=f"{_HEP}:fMTR",
        source=f"{_RAZOR} (fMTR)",
        doc="Razor MTR of the first two objects and the MET, fMTR(megajets, METLV[0])."),
    FunctionSpec(
        name="fAplanarity", params=("collection",), min_args=0, defaults=("JET",),
        returns="scalar", impl=f"{_HEP}:fAplanarity", source=f"{_SFUNC} (fAplanarity)",
        doc="3/2 of the smallest eigenvalue of the normalised momentum tensor (0 below 3 objects)."),
    FunctionSpec(
        name="fSphericity", params=("collection",), min_args=0, defaults=("JET",),
        returns="scalar", impl=f"{_HEP}:fSphericity", source=f"{_SFUNC} (fSphericity)",
        doc="3/2 of the sum of the two smallest eigenvalues of the normalised momentum tensor."),
)
