"""Helpers the end-to-end backend tests share: a generated sample file with its events read
back by uproot (the independent side of each comparison), and a region's cutflow counts and
histogram contents in the layout the expectations are written in."""

from __future__ import annotations

import numpy as np


def generated_sample(tmp_path_factory, name: str, n_events: int, schema: str, seed: int,
                     branches=None):
    """(folder, path, events): `n_events` generated events of `schema`, and their arrays."""
    import uproot

    from adlc.runtime.generate import generate

    d = tmp_path_factory.mktemp(name)
    path = d / "sample.root"
    generate(str(path), n_events, schema=schema, seed=seed)
    with uproot.open(path) as f:
        events = f["Events"].arrays(branches)
    return d, path, events


def rows(result, region):
    """Raw event counts of `region`'s cutflow rows."""
    return [c.raw for c in result.regions[region].cutflow]


def hist(result, region, name):
    """Contents of histogram `name` of `region`, under- and overflow included."""
    return result.regions[region].histograms[name].values(flow=True)


def fill(values, bins, lo, hi):
    """Contents with under- and overflow, as a TH1D fill of `values` would give."""
    values = np.asarray(values, dtype=np.float64)
    edges = np.linspace(lo, hi, bins + 1)
    inner = np.histogram(values[(values >= lo) & (values < hi)], edges)[0]
    return np.concatenate([[np.sum(values < lo)], inner, [np.sum(values >= hi)]])
