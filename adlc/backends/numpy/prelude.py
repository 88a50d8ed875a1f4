"""Helpers every generated numpy module starts with (copied into its source, so that
`adlc dump --stage code --backend numpy` shows everything the kernel runs).

They are the array forms of the numba prelude's per-event helpers (adlc/backends/numba/prelude.py)
and compute the same float64 operations in the same order, so results agree bit for bit except
where numpy's vectorised transcendental functions (sin, cos, exp, log, ...) round differently
from libm (at most 1 ulp). The array module is `xp` (numpy here, cupy in the CuPy backend,
which appends its own versions of the few helpers marked "host" or "cupy" below).

Vocabulary: a *row* is one iteration of the numba kernel's loops (an event, an element of a
collection in an event, a tuple of placeholder objects); a *loop* expands every row of a parent
into rows for the elements of a collection; `up` maps each row to its parent row, `seg` holds the
offsets of each parent row's child rows (rows are ordered by parent, like the loops' order).
"""

PRELUDE = '''\
import math
import numpy as np
{xp_import}

UNRESOLVED = 98765432.1   # what an unresolved ~= placeholder reads (quirk 21)


# --- arrays between host and device (numpy: no-ops) -------------------------------------------

def _dev(a):
    return xp.asarray(a)


def _host(a):
    return np.asarray(a)


def _f64(a):
    return xp.asarray(a, dtype=np.float64)


def _int(x):
    # Python's int(): truncation toward zero
    return xp.asarray(x).astype(np.int64)


def _full(x, n):
    """`x` (an array of n rows or a constant) as an array of n rows."""
    return xp.broadcast_to(xp.asarray(x), (n,))


# --- rows and loops ---------------------------------------------------------------------------

def _offsets(counts):
    out = xp.zeros(counts.shape[0] + 1, dtype=np.int64)
    xp.cumsum(counts, out=out[1:])
    return out


def _rows(counts):
    """Row r repeated counts[r] times: the parent row of every child row."""
    return xp.repeat(xp.arange(counts.shape[0]), counts)


def _grow(ev, off, start):
    """Extend every row (in event ev[r]) by the local indices start[r] <= j < n(ev[r]) of a
    collection with offsets `off`: (parent row of each new row, its j, seg offsets)."""
    n = off[1:] - off[:-1]
    counts = xp.maximum(n[ev] - start, 0)
    up = _rows(counts)
    seg = _offsets(counts)
    j = start[up] + (xp.arange(up.shape[0]) - seg[up])
    return up, j, seg


def _loop(ev, off, first=None, last=None):
    """The rows of `for j in range(first, last + 1)` over a collection (offsets `off`) inside
    rows in events `ev` (first/last: per-row bounds of a slice, else the whole collection):
    (up, seg, flat index of the element, event)."""
    if first is None:
        start = xp.zeros(ev.shape[0], dtype=np.int64)
        up, j, seg = _grow(ev, off, start)
    else:
        n = off[1:] - off[:-1]
        counts = xp.maximum(xp.minimum(last, n[ev] - 1) - first + 1, 0)
        up = _rows(counts)
        seg = _offsets(counts)
        j = first[up] + (xp.arange(up.shape[0]) - seg[up])
    e = ev[up]
    return up, seg, off[e] + j, e


def _slice_bounds(a, b, nrows):
    """numba's `first = max(int(a), 0)` and `last = n - 1 if b < 0 else min(int(b), n - 1)`
    (the `n - 1` cap is applied by _loop); b < 0 means to the end."""
    first = xp.maximum(_int(_full(a, nrows)), 0)
    bb = _full(b, nrows)
    last = xp.where(bb < 0, np.iinfo(np.int64).max, _int(bb))
    return first, last


def _sort_in_events(key, ev):
    """The order sorting rows by event, then by key (stable, NaN last: numba's mergesort)."""
    return xp.lexsort((key, ev))


# --- segmented reductions (child rows -> parent rows) -------------------------------------------

def _segsum(v, up, n):
    # bincount adds in row order from 0.0, the order of numba's `acc += v` loop
    return xp.bincount(up, weights=_full(v, up.shape[0]).astype(np.float64), minlength=n)


def _segcount(mask, up, n):
    return xp.bincount(up[_full(mask, up.shape[0])], minlength=n)


def _segmin(v, up, n):
    # numba: `if v < acc: acc = v` from 999999999999.9, so NaN never wins
    out = xp.full(n, 999999999999.9)
    v = _full(v, up.shape[0])
    xp.minimum.at(out, up, xp.where(xp.isnan(v), np.inf, v))
    return out


def _segmax(v, up, n):
    out = xp.full(n, -999999999999.9)
    v = _full(v, up.shape[0])
    xp.maximum.at(out, up, xp.where(xp.isnan(v), -np.inf, v))
    return out


def _segfirst(mask, up, n):
    """Index of the first row of each segment where `mask` holds, -1 where none does."""
    big = np.iinfo(np.int64).max
    out = xp.full(n, big, dtype=np.int64)
    xp.minimum.at(out, up, xp.where(mask, xp.arange(up.shape[0]), big))
    return xp.where(out == big, -1, out)


def _seglast(up, n):
    """Index of the last row of each segment, -1 for an empty one."""
    out = xp.full(n, -1, dtype=np.int64)
    xp.maximum.at(out, up, xp.arange(up.shape[0]))
    return out


# --- reading objects ----------------------------------------------------------------------------

def _at(buf, off, ev, i):
    """buf[off[ev] + int(i)] where 0 <= int(i) < n(ev), else 0.0 (quirk 5)."""
    i = _int(_full(i, ev.shape[0]))
    start = off[ev]
    ok = (i >= 0) & (i < off[ev + 1] - start)
    if buf.shape[0] == 0:
        return xp.zeros(ev.shape[0])
    return xp.where(ok, buf[xp.where(ok, start + i, 0)], 0.0)


def _at_slot(buf, off, ev, sl, missing=UNRESOLVED):
    """buf[off[ev] + sl] for a chosen ~= placeholder, `missing` where none is (sl == -1)."""
    ok = sl >= 0
    if buf.shape[0] == 0:
        return xp.full(ev.shape[0], missing)
    return xp.where(ok, buf[xp.where(ok, off[ev] + sl, 0)], missing)


def _index_ok(off, ev, i):
    i = _int(_full(i, ev.shape[0]))
    return (i >= 0) & (i < off[ev + 1] - off[ev])


# --- four-vectors (numba prelude, element by element) -------------------------------------------

def _ptetaphim(pt, eta, phi, m):
    # TLorentzVector::SetPtEtaPhiM
    px = pt * xp.cos(phi)
    py = pt * xp.sin(phi)
    pz = pt * xp.sinh(eta)
    p2 = px * px + py * py + pz * pz
    e = xp.where(m >= 0, xp.sqrt(p2 + m * m), xp.sqrt(xp.maximum(p2 - m * m, 0.0)))
    return px, py, pz, e


def _p4_unresolved():
    # the four-vector numba computes (with libm, as math does) for an unresolved placeholder:
    # UNRESOLVED in every attribute
    u = UNRESOLVED
    sinh = math.sinh(u) if abs(u) < 710.0 else math.copysign(math.inf, u)  # overflow: inf
    px, py, pz = u * math.cos(u), u * math.sin(u), u * sinh
    return [px, py, pz, math.sqrt(px * px + py * py + pz * pz + u * u)]


_P4_UNRESOLVED = _p4_unresolved()


def _metxy(pt, phi):
    # TVector2::SetMagPhi
    return pt * xp.cos(phi), pt * xp.sin(phi)


def _met(pt, phi):
    x, y = _metxy(_f64(pt), _f64(phi))
    return xp.sqrt(x * x + y * y)


def _v_pt(px, py, pz, e):
    return xp.sqrt(px * px + py * py)


def _v_m(px, py, pz, e):
    m2 = e * e - (px * px + py * py + pz * pz)
    # numba's `-sqrt(-m2) if m2 < 0 else sqrt(m2)`, one square root per value
    return xp.copysign(xp.sqrt(xp.abs(m2)), m2)


def _v_p(px, py, pz, e):
    return xp.sqrt(px * px + py * py + pz * pz)


def _v_eta(px, py, pz, e):
    # TVector3::PseudoRapidity
    p = xp.sqrt(px * px + py * py + pz * pz)
    c = xp.where(p == 0, 1.0, pz / p)
    inside = -0.5 * xp.log((1.0 - c) / (1.0 + c))
    edge = xp.where(pz == 0, 0.0, xp.where(pz > 0, 10e10, -10e10))
    return xp.where(c * c < 1, inside, edge)


def _v_phi(px, py, pz, e):
    return xp.where((px == 0.0) & (py == 0.0), 0.0, xp.arctan2(py, px))


def _v_e(px, py, pz, e):
    return e


def _v_pz(px, py, pz, e):
    return pz


def _v_px(px, py, pz, e):
    return px


def _v_py(px, py, pz, e):
    return py


def _v_rap(px, py, pz, e):
    return 0.5 * xp.log((e + pz) / (e - pz))


def _v_theta(px, py, pz, e):
    zero = (px == 0.0) & (py == 0.0) & (pz == 0.0)
    return xp.where(zero, 0.0, xp.arctan2(xp.sqrt(px * px + py * py), pz))


def _v_abseta(px, py, pz, e):
    return xp.abs(_v_eta(px, py, pz, e))


def _kin(pt, eta, phi, m, which):
    px, py, pz, e = _ptetaphim(pt, eta, phi, m)
    if which == 0:
        return e
    if which == 1:
        return _v_p(px, py, pz, e)
    if which == 2:
        return pz
    if which == 3:
        return _v_rap(px, py, pz, e)
    if which == 4:
        return _v_theta(px, py, pz, e)
    return xp.abs(eta)


# --- applyHM's generator (numba prelude's _mix64 / _hm_uniform, element by element) ----------

def _mix64(x):
    # splitmix64's finaliser on uint64 arrays (the multiplications wrap, as in numba)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _hm_uniform(run, event, index, site, n):
    """applyHM's number in [0, 1) for each of n rows: a hash of (run, event, object index + 1,
    call site); each value is taken as an int64 (truncated), then as its uint64 bits."""
    golden = np.uint64(0x9E3779B97F4A7C15)
    x = xp.zeros(n, dtype=np.uint64)
    for k, v in enumerate((run, event, index, site)):
        v = _int(_full(v, n))
        if k == 2:
            v = v + 1
        x = _mix64(x + golden + v.astype(np.uint64))
    return (x >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


# --- angles, min/max, histogram bins ------------------------------------------------------------

def _phi_mpi_pi(x):
    # TVector2::Phi_mpi_pi: numba's `while x >= pi: x -= 2 pi` then `while x < -pi: x += 2 pi`,
    # with the same roundings (-fl(-x - c) == fl(x + c), so the second loop is the first one on
    # -x with a strict bound). An infinite x, on which numba loops forever, is left as it is.
    x = xp.asarray(x, dtype=np.float64)
    x = xp.where(x >= math.pi, _unwind(xp.where(x >= math.pi, x, 0.0), False), x)
    return xp.where(x < -math.pi, -_unwind(xp.where(x < -math.pi, -x, 0.0), True), x)


def _unwind(y, strict):
    """`while y >= pi (y > pi if strict): y -= fl(2 pi)` for y >= 0, element by element."""
    c = 2.0 * math.pi
    todo = xp.isfinite(y)
    # Far from 0 the loop would take up to ~1e15 steps, so whole runs of steps are jumped: in
    # the binade [2^e, 2^(e+1)) with e >= 7 every step subtracts exactly d = rint(c / u) * u
    # (u the binade's ulp; c / u is never a half-integer there) while the result stays above
    # 2^e, so k steps are one exact integer subtraction in units of u. The step leaving the
    # binade is done as numba does it.
    while True:
        big = todo & (y >= 128.0)
        if not bool(big.any()):
            break
        e = xp.frexp(xp.where(big, y, 1.0))[1].astype(np.int64) - 1
        u = xp.ldexp(xp.ones_like(y), e - 52)
        units = (y / u).astype(np.int64)
        d = xp.rint(c / u).astype(np.int64)
        k = xp.maximum((units - (np.int64(1) << 52) - 1) // d, 0)
        jumped = (units - k * d).astype(np.float64) * u
        y = xp.where(big, jumped - c, y)
    while True:
        step = todo & ((y > math.pi) if strict else (y >= math.pi))
        if not bool(step.any()):
            return y
        y = xp.where(step, y - c, y)


def _dphi(eta1, phi1, eta2, phi2):
    return xp.abs(_phi_mpi_pi(phi1 - phi2))


def _deta(eta1, phi1, eta2, phi2):
    return xp.abs(eta1 - eta2)


def _dr(eta1, phi1, eta2, phi2):
    de = eta1 - eta2
    dp = _phi_mpi_pi(phi1 - phi2)
    return xp.sqrt(de * de + dp * dp)


def _min2(a, b):
    # CutLang: (a<b)*a + (a>b)*b, so 0 on a tie (quirk 15)
    return xp.where(a < b, a, 0.0) + xp.where(a > b, b, 0.0)


def _max2(a, b):
    return xp.where(a > b, a, 0.0) + xp.where(a < b, b, 0.0)


def _min(*args):
    # numba's min(): a left fold of `v if v < acc else acc` (Python's NaN rules)
    acc = args[0]
    for v in args[1:]:
        acc = xp.where(v < acc, v, acc)
    return acc


def _max(*args):
    acc = args[0]
    for v in args[1:]:
        acc = xp.where(v > acc, v, acc)
    return acc


def _bin_reg(nb, lo, hi, x):
    # TAxis::FindFixBin (flow bins 0 and nb + 1; NaN goes to the overflow)
    inside = _int(xp.where((x >= lo) & (x < hi), nb * (x - lo) / (hi - lo), 0.0))
    return xp.where(x < lo, 0, xp.where(x < hi, 1 + inside, nb + 1))


def _bin_var(edges, x):
    inside = xp.searchsorted(edges, xp.where(xp.isnan(x), edges[0], x), side="right")
    return xp.where(x < edges[0], 0, xp.where(x < edges[-1], inside, edges.shape[0]))


def _pick_best(d, up, n, init, furthest):
    """First row of each segment with the best d, -1 where no row beats `init`: numba's scan
    `if d < best: best = d` (`>` for furthest) from best = init keeps the first strict best."""
    if furthest:
        valid = d > init
        best = xp.full(n, -np.inf)
        xp.maximum.at(best, up, xp.where(valid, d, -np.inf))
    else:
        valid = d < init
        best = xp.full(n, np.inf)
        xp.minimum.at(best, up, xp.where(valid, d, np.inf))
    return _segfirst(valid & (d == best[up]), up, n)


def _picked(loc, pick):
    """The local index chosen in each event (`pick`: a row of the tuples or -1), -1 if none."""
    if loc.shape[0] == 0:
        return xp.full(pick.shape[0], -1, dtype=np.int64)
    return xp.where(pick >= 0, loc[xp.where(pick >= 0, pick, 0)], -1)


def _table(rows, xs, n):
    """Value of the first table row whose ranges contain every x (edges inclusive), else 0."""
    out = xp.zeros(n)
    done = xp.zeros(n, dtype=bool)
    for r in range(rows.shape[0]):
        hit = ~done
        for i, x in enumerate(xs):
            hit = hit & (float(rows[r, 1 + 2 * i]) <= x) & (x <= float(rows[r, 2 + 2 * i]))
        out = xp.where(hit, float(rows[r, 0]), out)
        done = done | hit
    return out


# --- accumulators (host arrays, filled in the numba kernel's order) -----------------------------

def _acc(arr, idx, vals):
    """arr[idx[r]] += vals[r] for every row r, in row order (sequential sums, as numba adds)."""
    np.add.at(arr, _host(idx), _host(vals))


def _count(cf_w, cf_w2, cf_n, row, mask, w):
    """Cutflow (or search-bin) row `row` counts the events in `mask` with weights `w`."""
    ws = _full(w, mask.shape[0])[mask]
    idx = xp.full(ws.shape[0], row, dtype=np.int64)
    _acc(cf_w, idx, ws)
    _acc(cf_w2, idx, ws * ws)
    cf_n[row] += int(ws.shape[0])


def _fill(h_w, h_w2, h_n, h, offset, parts):
    """Histogram `h` (cells from `offset`) gets the fills of every step filling it."""
    ev, cell, w = _in_event_order(parts)
    _acc(h_w, cell + offset, w)
    _acc(h_w2, cell + offset, w * w)
    h_n[h] += int(cell.shape[0])


def _record(t_buf, t_n, t, col0, parts):
    """Table `t` (columns from `col0`) gets a row per event reaching a print/save step."""
    ev, *values = _in_event_order(parts)
    r, k = int(t_n[t]), int(ev.shape[0])
    for j, v in enumerate(values):
        t_buf[r:r + k, col0 + j] = _host(v)
    t_n[t] = r + k


def _in_event_order(parts):
    """Concatenate (events, *arrays) parts filled by successive steps and order the rows by
    event, steps in program order within an event: the order numba appends them in."""
    if len(parts) == 1:
        return parts[0]
    cols = [xp.concatenate([p[k] for p in parts]) for k in range(len(parts[0]))]
    order = xp.argsort(cols[0], kind="stable")
    return [c[order] for c in cols]


# --- external functions (stdlib): a per-row loop over numba-compiled code ----------------------

def _extcall(fn, ev, args):
    """FALLBACK LOOP, the only per-row Python loop of this module: the stdlib implementations are
    per-event numba functions, called here once per row with the numba kernel's arguments.
    args: ("p", px, py, pz, e) particle, ("c", off, px, py, pz, e) collection (the row's event
    slice), ("s", x) scalar."""
    ev = _host(ev)
    n = ev.shape[0]
    host = []
    for kind, *arrays in args:
        if kind == "c":
            host.append((kind, [_host(a) for a in arrays]))
        else:
            host.append((kind, [np.broadcast_to(_host(a), (n,)) for a in arrays]))
    out = np.empty(n)
    for r in range(n):
        flat = []
        for kind, arrays in host:
            if kind == "c":
                off, e = arrays[0], ev[r]
                flat.extend(a[off[e]:off[e + 1]] for a in arrays[1:])
            else:
                flat.extend(np.float64(a[r]) for a in arrays)
        out[r] = fn(*flat)
    return _dev(out)


def _extcoll(fn, nev, args):
    """FALLBACK LOOP: a collection made per event by an external function (fmegajets), called
    once per event with the arguments of _extcall; (counts, px, py, pz, e) of the objects it
    returns, concatenated in event order."""
    host = []
    for kind, *arrays in args:
        if kind == "c":
            host.append((kind, [_host(a) for a in arrays]))
        else:
            host.append((kind, [np.broadcast_to(_host(a), (nev,)) for a in arrays]))
    counts = np.zeros(nev, dtype=np.int64)
    parts = [[], [], [], []]
    for r in range(nev):
        flat = []
        for kind, arrays in host:
            if kind == "c":
                off = arrays[0]
                flat.extend(a[off[r]:off[r + 1]] for a in arrays[1:])
            else:
                flat.extend(np.float64(a[r]) for a in arrays)
        out = fn(*flat)
        counts[r] = len(out[0])
        for c in range(4):
            parts[c].append(np.asarray(out[c], dtype=np.float64)[:counts[r]])
    cols = [np.concatenate(p) if p else np.zeros(0) for p in parts]
    return (_dev(counts), *(_dev(c) for c in cols))
'''
