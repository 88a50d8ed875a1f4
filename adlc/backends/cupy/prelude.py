"""The helpers of the numpy prelude that the CuPy backend replaces (appended after it, so these
definitions win). Each uses only array operations CuPy provides (no array-valued `repeat`, no
`ufunc.at` on floats, `lexsort` of one stacked array) and still runs with numpy as `xp`, which is
how the tests check them. Segment reductions rely on child rows being grouped by parent row in
order, which every domain of the generated code guarantees. The numpy prelude's applyHM hash
(`_mix64`, `_hm_uniform`: wrapping uint64 arithmetic) and `_extcoll` (a host loop, like
`_extcall`, moving its results with `_dev`) need no CuPy version."""

CUPY_PRELUDE = '''

# --- CuPy versions of the helpers above (they run with numpy as xp too) -----------------------

def _host(a):
    return xp.asnumpy(a) if hasattr(xp, "asnumpy") else np.asarray(a)


def _offsets(counts):
    return xp.concatenate([xp.zeros(1, dtype=np.int64), xp.cumsum(counts).astype(np.int64)])


def _rows(counts):
    # cupy.repeat takes no array of repeats: each child row finds its parent by binary search
    ends = xp.cumsum(counts)
    total = int(ends[-1]) if counts.shape[0] else 0
    return xp.searchsorted(ends, xp.arange(total), side="right")


def _sort_in_events(key, ev):
    # cupy.lexsort takes one (k, N) array (events are exact in float64)
    return xp.lexsort(xp.stack([key, ev.astype(np.float64)]))


def _segbounds(up, n):
    seg = _offsets(xp.bincount(up, minlength=n))
    return seg[:-1], seg[1:]


def _segextreme(v, up, n, init, largest):
    """min (max if largest) of init and the non-NaN v of each segment: sort rows by (segment,
    value) and take each segment's first row."""
    if up.shape[0] == 0:
        return xp.full(n, init)
    v = _full(v, up.shape[0]).astype(np.float64)
    key = xp.where(xp.isnan(v), np.inf, -v if largest else v)
    order = xp.lexsort(xp.stack([key, up.astype(np.float64)]))
    start, end = _segbounds(up, n)
    first = key[order][xp.minimum(start, up.shape[0] - 1)]
    first = -first if largest else first
    pick = xp.maximum(first, init) if largest else xp.minimum(first, init)
    return xp.where(end > start, pick, init)


def _segmin(v, up, n):
    return _segextreme(v, up, n, 999999999999.9, False)


def _segmax(v, up, n):
    return _segextreme(v, up, n, -999999999999.9, True)


def _segfirst(mask, up, n):
    """Index of the first row of each segment where `mask` holds, -1 where none does."""
    if up.shape[0] == 0:
        return xp.full(n, -1, dtype=np.int64)
    start, end = _segbounds(up, n)
    c = xp.cumsum(_full(mask, up.shape[0]).astype(np.int64))
    before = xp.where(start > 0, c[xp.maximum(start - 1, 0)], 0)
    inside = xp.where(end > 0, c[xp.maximum(end - 1, 0)], 0) - before
    return xp.where(inside > 0, xp.searchsorted(c, before + 1, side="left"), -1)


def _seglast(up, n):
    start, end = _segbounds(up, n)
    return xp.where(end > start, end - 1, -1)


def _pick_best(d, up, n, init, furthest):
    valid = (d > init) if furthest else (d < init)
    none = -np.inf if furthest else np.inf
    best = _segextreme(xp.where(valid, d, none), up, n, none, furthest)
    return _segfirst(valid & (d == best[up]), up, n)


def _acc(arr, idx, vals):
    # summed on the device, then added to the host accumulator
    if idx.shape[0]:
        arr += _host(xp.bincount(idx, weights=vals, minlength=arr.shape[0]))
'''
