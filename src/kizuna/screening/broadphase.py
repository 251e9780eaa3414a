"""Broad phase: which pairs can come within the threshold in which time cell. numba kernels.

Time is cut into cells ``[kT, (k+1)T]``. In each cell every object follows one
cubic Hermite segment (knots at multiples of ``T``), which differs from SGP4
by at most ``pad[i]``. At the cell midpoint each object has position ``p``,
velocity ``v`` and a bound ``dev`` on how far its cubic leaves the straight
line ``p + v*tau`` over the half-width ``hw``. So over the cell

    |d(tau) - (d + w*tau)| <= dev_i + dev_j       (d, w: relative p, v)

and a pair can be within ``thr`` of each other on SGP4 only if the straight
line ``d + w*tau`` (``|tau| <= hw``) comes within ``thr + pad_i + pad_j +
dev_i + dev_j``: the *linear-motion test*, exact and conservative. To avoid
testing all pairs, a pair can pass only if ``|d| <= reach_i + reach_j`` with
``reach = thr/2 + pad + dev + |v|*hw``; objects are binned into cubic cells of
side ``C = 2*r_small`` so that two "small" objects (``reach <= r_small``)
within reach are in the same or adjacent cells. All-vs-all sorts the cell
indices and sweeps them (:func:`all_pairs_kernel`); protected-vs-all hashes the
primaries' neighbourhoods (:func:`primary_pairs_kernel`). Objects with a larger
reach (fast, at perigee) scan a wider stencil, and large-large pairs are tested
directly.

Kernels take the chunk's knot arrays (see :class:`~kizuna.screening.knots.ChunkKnots`)
and write ``(i, j, k)`` triples (internal indices, ``i < j``) into per-block
buffers; blocks of time cells run in parallel (``prange``). Results do not
depend on the number of threads.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

@njit(cache=True, inline="always")
def _cell_pack(cx, cy, cz):
    """One int64 key per grid cell (21 bits per axis, offset so that either sign fits)."""
    return ((cx + _PACK_HALF) << 42) | ((cy + _PACK_HALF) << 21) | (cz + _PACK_HALF)


@njit(cache=True, inline="always")
def _hash(cx, cy, cz, mask):
    return ((cx * 73856093) ^ (cy * 19349663) ^ (cz * 83492791)) & mask


def cubic_coefficients(R, V, h, off, nk, koff, kstride, out=None):
    """:func:`_cubic_coefficients` into ``out`` when it has the right shape (a buffer kept
    from chunk to chunk: no 100+ MB allocation and page faults per chunk)."""
    if out is None or out.shape != (R.shape[0], 4, 3):
        out = np.empty((R.shape[0], 4, 3))
    _cubic_coefficients(R, V, h, off, nk, koff, kstride, out)
    return out


@njit(cache=True, parallel=True)
def _cubic_coefficients(R, V, h, off, nk, koff, kstride, K):
    """Packed cubic of every knot segment: ``K[q] = (R, V, A2, A3)`` of object ``i``'s segment
    ``s`` at ``q = koff[i] + s * kstride[i]`` (:attr:`ChunkKnots.koff`), so that
    ``p(t) = K[q,0] + t*K[q,1] + t**2*K[q,2] + t**3*K[q,3]`` for ``0 <= t <= h``.

    One object's segment is 96 contiguous bytes, and at a given time the objects of a
    knot group read consecutive segments. Rows of unused slots, and the A2/A3 rows of an
    object's last knot, are left as they are: no kernel reads them (segments are clamped
    to ``nk - 2``).
    """
    for i in prange(h.shape[0]):
        hi = h[i]
        for s in range(nk[i]):
            r = off[i] + s
            q = koff[i] + s * kstride[i]
            for x in range(3):
                K[q, 0, x] = R[r, x]
                K[q, 1, x] = V[r, x]
            if s == nk[i] - 1:
                continue
            for x in range(3):
                p0 = R[r, x]
                p1 = R[r + 1, x]
                v0 = V[r, x]
                v1 = V[r + 1, x]
                K[q, 2, x] = (3.0 * (p1 - p0) / hi - 2.0 * v0 - v1) / hi
                K[q, 3, x] = (2.0 * (p0 - p1) / hi + v0 + v1) / (hi * hi)
    return K


@njit(cache=True)
def _states(k, T, L, t_first, h, nk, koff, kstride, K, valid_end, pad, thr, pos, vel, dev,
            reach, act):
    """Midpoint state, cubic deviation bound and reach of every object in cell ``k``.

    Same arithmetic as :func:`_state_one` with ``full=True``, written out on
    purpose: calling it here measured 10-15 % slower over the whole broad phase
    (1 day, full 2023 catalog), with bit-identical results.
    """
    ta = k * T
    tb = min(ta + T, L)
    hw = 0.5 * (tb - ta)
    tm = ta + hw
    hw2 = hw * hw
    hw3 = hw2 * hw
    n = t_first.shape[0]
    for i in range(n):
        if valid_end[i] < tb - 1e-6 or nk[i] < 2:
            act[i] = False
            continue
        act[i] = True
        hi = h[i]
        s = int((tm - t_first[i]) / hi)
        if s > nk[i] - 2:
            s = nk[i] - 2
        sig = tm - (t_first[i] + s * hi)
        q = koff[i] + s * kstride[i]
        c2n = 0.0
        c3n = 0.0
        vn = 0.0
        for x in range(3):
            v0 = K[q, 1, x]
            a2 = K[q, 2, x]
            a3 = K[q, 3, x]
            pos[i, x] = K[q, 0, x] + sig * (v0 + sig * (a2 + sig * a3))
            vv = v0 + sig * (2.0 * a2 + 3.0 * sig * a3)
            vel[i, x] = vv
            c2 = a2 + 3.0 * a3 * sig
            c2n += c2 * c2
            c3n += a3 * a3
            vn += vv * vv
        dev[i] = math.sqrt(c2n) * hw2 + math.sqrt(c3n) * hw3
        reach[i] = 0.5 * thr + pad[i] + dev[i] + math.sqrt(vn) * hw
    return hw


@njit(cache=True, inline="always")
def _pair_passes(i, j, pos, vel, dev, reach, pad, thr, hw):
    d0 = pos[j, 0] - pos[i, 0]
    d1 = pos[j, 1] - pos[i, 1]
    d2 = pos[j, 2] - pos[i, 2]
    rr = reach[i] + reach[j]
    dd = d0 * d0 + d1 * d1 + d2 * d2
    if dd > rr * rr:
        return False
    w0 = vel[j, 0] - vel[i, 0]
    w1 = vel[j, 1] - vel[i, 1]
    w2 = vel[j, 2] - vel[i, 2]
    ww = w0 * w0 + w1 * w1 + w2 * w2
    tau = 0.0
    if ww > 0.0:
        tau = -(d0 * w0 + d1 * w1 + d2 * w2) / ww
        if tau > hw:
            tau = hw
        elif tau < -hw:
            tau = -hw
    m0 = d0 + w0 * tau
    m1 = d1 + w1 * tau
    m2 = d2 + w2 * tau
    lim = thr + pad[i] + pad[j] + dev[i] + dev[j]
    return m0 * m0 + m1 * m1 + m2 * m2 <= lim * lim


@njit(cache=True, inline="always")
def _emit(out, counts, b, i, j, k):
    c = counts[b]
    if c < out.shape[1]:
        if i < j:
            out[b, c, 0] = i
            out[b, c, 1] = j
        else:
            out[b, c, 0] = j
            out[b, c, 1] = i
        out[b, c, 2] = k
    counts[b] = c + 1


@njit(cache=True, inline="always")
def _passes_sorted(x0, x1, x2, w0_, w1_, w2_, dev_i, reach_i, pad_i, q, SP, SV, SD, SR, SPAD,
                   thr, hw):
    d0 = SP[q, 0] - x0
    d1 = SP[q, 1] - x1
    d2 = SP[q, 2] - x2
    rr = reach_i + SR[q]
    dd = d0 * d0 + d1 * d1 + d2 * d2
    if dd > rr * rr:
        return False
    w0 = SV[q, 0] - w0_
    w1 = SV[q, 1] - w1_
    w2 = SV[q, 2] - w2_
    ww = w0 * w0 + w1 * w1 + w2 * w2
    tau = 0.0
    if ww > 0.0:
        tau = -(d0 * w0 + d1 * w1 + d2 * w2) / ww
        if tau > hw:
            tau = hw
        elif tau < -hw:
            tau = -hw
    m0 = d0 + w0 * tau
    m1 = d1 + w1 * tau
    m2 = d2 + w2 * tau
    lim = thr + pad_i + SPAD[q] + dev_i + SD[q]
    return m0 * m0 + m1 * m1 + m2 * m2 <= lim * lim


_PACK_HALF = 1 << 20
_KEY_BITS = 10
_KEY_SPAN = 1 << _KEY_BITS
_KEY_HALF = _KEY_SPAN // 2


@njit(cache=True, inline="always")
def _cell_key(x, y, z, invC):
    """Lexicographic cell index (no hashing, no collisions); cells beyond +-512 are clamped
    to the border (objects beyond ~90,000 km from Earth are still screened, only slower)."""
    cx = min(max(int(math.floor(x * invC)) + _KEY_HALF, 0), _KEY_SPAN - 1)
    cy = min(max(int(math.floor(y * invC)) + _KEY_HALF, 0), _KEY_SPAN - 1)
    cz = min(max(int(math.floor(z * invC)) + _KEY_HALF, 0), _KEY_SPAN - 1)
    return (cx * _KEY_SPAN + cy) * _KEY_SPAN + cz


@njit(cache=True, parallel=True)
def all_pairs_kernel(T, L, n_cells, t_first, h, nk, koff, kstride, K, valid_end, pad, thr,
                     r_small,
                     n_blocks, cap):
    """Candidate ``(i, j, k)`` of every pair in every time cell (all-vs-all).

    Small objects are radix-sorted by lexicographic cell index ``(cx, cy, cz)``.
    The 13 forward neighbour cells of a cell (plus its own) form 5 runs of
    consecutive indices (columns ``(dx, dy)``, ``cz-1..cz+1``) at fixed offsets,
    so one monotone pointer per column sweeps the sorted list: no hash table,
    no random access.
    """
    n = t_first.shape[0]
    out = np.empty((n_blocks, cap, 3), dtype=np.int32)
    counts = np.zeros(n_blocks, dtype=np.int64)
    # cells a hair wider than 2*r_small (so that rounding can never split two small
    # objects within 2*r_small by more than one cell), indexed by a multiplication per axis
    invC = 1.0 / (2.0 * r_small * (1.0 + 1e-12))
    # forward neighbour columns (dx, dy): own (0, 0), (0, 1), (1, -1), (1, 0), (1, 1)
    n_col = 5
    col_off = np.empty(n_col, dtype=np.int64)
    col_off[0] = 0
    col_off[1] = _KEY_SPAN
    col_off[2] = _KEY_SPAN * _KEY_SPAN - _KEY_SPAN
    col_off[3] = _KEY_SPAN * _KEY_SPAN
    col_off[4] = _KEY_SPAN * _KEY_SPAN + _KEY_SPAN
    for b in prange(n_blocks):
        k_lo = b * n_cells // n_blocks
        k_hi = (b + 1) * n_cells // n_blocks
        pos = np.empty((n, 3))
        vel = np.empty((n, 3))
        dev = np.empty(n)
        reach = np.empty(n)
        act = np.empty(n, dtype=np.bool_)
        big = np.empty(n, dtype=np.int64)
        keyA = np.empty(n, dtype=np.int64)
        keyB = np.empty(n, dtype=np.int64)
        idxA = np.empty(n, dtype=np.int64)
        idxB = np.empty(n, dtype=np.int64)
        hist = np.empty(_KEY_SPAN + 1, dtype=np.int64)
        SK = np.empty(n + 1, dtype=np.int64)
        SP = np.empty((n, 3))
        SV = np.empty((n, 3))
        SD = np.empty(n)
        SR = np.empty(n)
        SPAD = np.empty(n)
        ptr = np.empty(n_col, dtype=np.int64)
        for k in range(k_lo, k_hi):
            hw = _states(k, T, L, t_first, h, nk, koff, kstride, K, valid_end, pad, thr,
                         pos, vel, dev, reach, act)
            nbig = 0
            ns = 0
            for i in range(n):
                if not act[i]:
                    continue
                if reach[i] > r_small:
                    big[nbig] = i
                    nbig += 1
                    continue
                keyA[ns] = _cell_key(pos[i, 0], pos[i, 1], pos[i, 2], invC)
                idxA[ns] = i
                ns += 1
            # LSD radix sort of (key, idx), 3 passes of 10 bits; stable
            for ps in range(3):
                shift = ps * _KEY_BITS
                hist[:] = 0
                if ps % 2 == 0:
                    for q in range(ns):
                        hist[((keyA[q] >> shift) & (_KEY_SPAN - 1)) + 1] += 1
                    for q in range(1, _KEY_SPAN + 1):
                        hist[q] += hist[q - 1]
                    for q in range(ns):
                        dgt = (keyA[q] >> shift) & (_KEY_SPAN - 1)
                        t = hist[dgt]
                        keyB[t] = keyA[q]
                        idxB[t] = idxA[q]
                        hist[dgt] = t + 1
                else:
                    for q in range(ns):
                        hist[((keyB[q] >> shift) & (_KEY_SPAN - 1)) + 1] += 1
                    for q in range(1, _KEY_SPAN + 1):
                        hist[q] += hist[q - 1]
                    for q in range(ns):
                        dgt = (keyB[q] >> shift) & (_KEY_SPAN - 1)
                        t = hist[dgt]
                        keyA[t] = keyB[q]
                        idxA[t] = idxB[q]
                        hist[dgt] = t + 1
            # after 3 passes the result is in (keyB, idxB)
            for q in range(ns):
                i = idxB[q]
                SK[q] = keyB[q]
                for x in range(3):
                    SP[q, x] = pos[i, x]
                    SV[q, x] = vel[i, x]
                SD[q] = dev[i]
                SR[q] = reach[i]
                SPAD[q] = pad[i]
            SK[ns] = 1 << 62  # sentinel
            for s in range(n_col):
                ptr[s] = 0
            for p in range(ns):
                kp_ = SK[p]
                x0 = SP[p, 0]
                x1 = SP[p, 1]
                x2 = SP[p, 2]
                v0 = SV[p, 0]
                v1 = SV[p, 1]
                v2 = SV[p, 2]
                for s in range(n_col):
                    # keys of cells (cz-1, cz, cz+1) of one neighbour column are consecutive
                    if s == 0:
                        q = p + 1
                        hi_key = kp_ + 1
                    else:
                        lo_key = kp_ + col_off[s] - 1
                        hi_key = lo_key + 2
                        q = ptr[s]
                        while SK[q] < lo_key:
                            q += 1
                        ptr[s] = q
                    while SK[q] <= hi_key:
                        if _passes_sorted(x0, x1, x2, v0, v1, v2, SD[p], SR[p], SPAD[p], q,
                                          SP, SV, SD, SR, SPAD, thr, hw):
                            _emit(out, counts, b, idxB[p], idxB[q], k)
                        q += 1
            for u in range(nbig):
                i = big[u]
                x0 = pos[i, 0]
                x1 = pos[i, 1]
                x2 = pos[i, 2]
                v0 = vel[i, 0]
                v1 = vel[i, 1]
                v2 = vel[i, 2]
                rb = int(math.ceil((reach[i] + r_small) * invC))
                kc = _cell_key(x0, x1, x2, invC)
                cz = kc % _KEY_SPAN
                cy = (kc // _KEY_SPAN) % _KEY_SPAN
                cx = kc // (_KEY_SPAN * _KEY_SPAN)
                if (2 * rb + 1) ** 2 * 8 > ns or cx - rb < 0 or cx + rb >= _KEY_SPAN \
                        or cy - rb < 0 or cy + rb >= _KEY_SPAN or cz - rb < 0 \
                        or cz + rb >= _KEY_SPAN:
                    for q in range(ns):
                        if _passes_sorted(x0, x1, x2, v0, v1, v2, dev[i], reach[i], pad[i], q,
                                          SP, SV, SD, SR, SPAD, thr, hw):
                            _emit(out, counts, b, i, idxB[q], k)
                else:
                    for tx in range(cx - rb, cx + rb + 1):
                        for ty in range(cy - rb, cy + rb + 1):
                            lo_key = (tx * _KEY_SPAN + ty) * _KEY_SPAN + cz - rb
                            hi_key = lo_key + 2 * rb
                            q = np.searchsorted(SK[:ns], lo_key)
                            while q < ns and SK[q] <= hi_key:
                                if _passes_sorted(x0, x1, x2, v0, v1, v2, dev[i], reach[i],
                                                  pad[i], q, SP, SV, SD, SR, SPAD, thr, hw):
                                    _emit(out, counts, b, i, idxB[q], k)
                                q += 1
                for u2 in range(u + 1, nbig):
                    j = big[u2]
                    if _pair_passes(i, j, pos, vel, dev, reach, pad, thr, hw):
                        _emit(out, counts, b, i, j, k)
    return out, counts


@njit(cache=True, parallel=True)
def reach_bounds(T, thr, h, nk, koff, kstride, K, pad):
    """Upper bound, over every time cell of the chunk, of each object's ``reach``."""
    n = h.shape[0]
    out = np.empty(n)
    hw = 0.5 * T
    for i in prange(n):
        hi = h[i]
        best = 0.0
        for s in range(max(nk[i] - 1, 0)):
            q = koff[i] + s * kstride[i]
            q1 = q + kstride[i]
            v0 = math.sqrt(K[q, 1, 0] ** 2 + K[q, 1, 1] ** 2 + K[q, 1, 2] ** 2)
            v1 = math.sqrt(K[q1, 1, 0] ** 2 + K[q1, 1, 1] ** 2 + K[q1, 1, 2] ** 2)
            a2 = math.sqrt(K[q, 2, 0] ** 2 + K[q, 2, 1] ** 2 + K[q, 2, 2] ** 2)
            a3 = math.sqrt(K[q, 3, 0] ** 2 + K[q, 3, 1] ** 2 + K[q, 3, 2] ** 2)
            # v(s) is quadratic: it leaves the chord from v0 to v1 by at most 3|a3| h^2 / 4
            vmax = max(v0, v1) + 0.75 * a3 * hi * hi
            devmax = (a2 + 3.0 * a3 * hi) * hw * hw + a3 * hw * hw * hw
            best = max(best, devmax + vmax * hw)
        out[i] = 0.5 * thr + pad[i] + best
    return out


@njit(cache=True, inline="always")
def _state_one(i, tm, hw, t_first, h, nk, koff, kstride, K, pad, thr, pos, vel, dev, reach,
               full):
    """Position (and, if ``full``, velocity, deviation bound and reach) of object ``i`` at ``tm``."""
    hi = h[i]
    s = int((tm - t_first[i]) / hi)
    if s > nk[i] - 2:
        s = nk[i] - 2
    sig = tm - (t_first[i] + s * hi)
    q = koff[i] + s * kstride[i]
    if not full:
        for x in range(3):
            pos[i, x] = K[q, 0, x] + sig * (K[q, 1, x] + sig * (K[q, 2, x] + sig * K[q, 3, x]))
        return
    c2n = 0.0
    c3n = 0.0
    vn = 0.0
    for x in range(3):
        v0 = K[q, 1, x]
        a2 = K[q, 2, x]
        a3 = K[q, 3, x]
        pos[i, x] = K[q, 0, x] + sig * (v0 + sig * (a2 + sig * a3))
        vv = v0 + sig * (2.0 * a2 + 3.0 * sig * a3)
        vel[i, x] = vv
        c2 = a2 + 3.0 * a3 * sig
        c2n += c2 * c2
        c3n += a3 * a3
        vn += vv * vv
    dev[i] = math.sqrt(c2n) * hw * hw + math.sqrt(c3n) * hw * hw * hw
    reach[i] = 0.5 * thr + pad[i] + dev[i] + math.sqrt(vn) * hw


@njit(cache=True, parallel=True)
def primary_pairs_kernel(T, L, n_cells, t_first, h, nk, koff, kstride, K, valid_end, pad, thr,
                         r_small,
                         reach_bound, is_primary, primaries, n_blocks, cap,
                         cell_factor=2.0):
    """Candidate ``(i, j, k)`` of pairs with at least one primary (protected-vs-all).

    The primaries' neighbourhoods (cells within ``reach_p + r_small``) go into a
    small hash table; every other object needs only its position to look up its
    own cell, and its full state only when a primary is near. Objects whose
    ``reach_bound`` exceeds ``r_small`` are tested against every primary.
    """
    n = t_first.shape[0]
    n_p = primaries.shape[0]
    out = np.empty((n_blocks, cap, 3), dtype=np.int32)
    counts = np.zeros(n_blocks, dtype=np.int64)
    # cells of width 1/invC: a multiplication per axis and object-cell, not a division
    invC = 1.0 / (cell_factor * r_small)
    inv_h = 1.0 / h
    rb_typ = int(math.ceil(2.0 / cell_factor)) + 1
    M = 1024
    while M < 4 * n_p * (2 * rb_typ + 1) ** 3:
        M *= 2
    for b in prange(n_blocks):
        k_lo = b * n_cells // n_blocks
        k_hi = (b + 1) * n_cells // n_blocks
        pos = np.empty((n, 3))
        vel = np.empty((n, 3))
        dev = np.empty(n)
        reach = np.empty(n)
        pact = np.zeros(n_p, dtype=np.bool_)
        tkey = np.empty(M, dtype=np.int64)
        thead = np.full(M, -1, dtype=np.int64)
        used = np.empty(M, dtype=np.int64)
        ent_p = np.empty(M, dtype=np.int64)
        ent_next = np.empty(M, dtype=np.int64)
        direct = np.empty(n_p, dtype=np.int64)
        rbs = np.zeros(n_p, dtype=np.int64)
        for k in range(k_lo, k_hi):
            ta = k * T
            tb = min(ta + T, L)
            hw = 0.5 * (tb - ta)
            tm = ta + hw
            n_used = 0
            n_ent = 0
            n_direct = 0
            n_keys = 0
            for a in range(n_p):
                p = primaries[a]
                pact[a] = valid_end[p] >= tb - 1e-6 and nk[p] >= 2
                if not pact[a]:
                    continue
                _state_one(p, tm, hw, t_first, h, nk, koff, kstride, K, pad, thr, pos, vel, dev,
                           reach, True)
                rb = int(math.ceil((reach[p] + r_small) * invC * (1.0 + 1e-9)))
                rbs[a] = rb
                if (2 * rb + 1) ** 3 > M // 8:
                    direct[n_direct] = p
                    n_direct += 1
                    rbs[a] = -1
                    continue
                n_keys += (2 * rb + 1) ** 3
            # the table only as large as this cell needs (load <= 1/2): a few tens of
            # KiB that stay in L2, where every object probes it (most objects of the
            # LEO shell are in some primary's neighbourhood at this cell size)
            m_eff = 64
            while m_eff < 2 * n_keys and m_eff < M:
                m_eff *= 2
            mask_eff = m_eff - 1
            for a in range(n_p):
                p = primaries[a]
                if not pact[a] or rbs[a] < 0:
                    continue
                rb = rbs[a]
                cx = int(math.floor(pos[p, 0] * invC))
                cy = int(math.floor(pos[p, 1] * invC))
                cz = int(math.floor(pos[p, 2] * invC))
                for tx in range(cx - rb, cx + rb + 1):
                    for ty in range(cy - rb, cy + rb + 1):
                        for tz in range(cz - rb, cz + rb + 1):
                            if n_ent >= M // 2:
                                continue  # table full: everything is tested directly below
                            key = _cell_pack(tx, ty, tz)
                            slot = _hash(tx, ty, tz, mask_eff)
                            while thead[slot] >= 0 and tkey[slot] != key:
                                slot = (slot + 1) & mask_eff
                            if thead[slot] < 0:
                                tkey[slot] = key
                                used[n_used] = slot
                                n_used += 1
                            ent_p[n_ent] = p
                            ent_next[n_ent] = thead[slot]
                            thead[slot] = n_ent
                            n_ent += 1
            full = n_ent >= M // 2
            for i in range(n):
                if is_primary[i] or valid_end[i] < tb - 1e-6 or nk[i] < 2:
                    continue
                if reach_bound[i] > r_small or full:
                    _state_one(i, tm, hw, t_first, h, nk, koff, kstride, K, pad, thr, pos, vel,
                               dev, reach, True)
                    for a in range(n_p):
                        p = primaries[a]
                        if pact[a] and _pair_passes(p, i, pos, vel, dev, reach, pad, thr, hw):
                            _emit(out, counts, b, p, i, k)
                    continue
                # position only (segment by multiplication with 1/h): enough for the cell
                s_ = int((tm - t_first[i]) * inv_h[i])
                if s_ > nk[i] - 2:
                    s_ = nk[i] - 2
                sig = tm - (t_first[i] + s_ * h[i])
                q_ = koff[i] + s_ * kstride[i]
                x0 = K[q_, 0, 0] + sig * (K[q_, 1, 0] + sig * (K[q_, 2, 0] + sig * K[q_, 3, 0]))
                x1 = K[q_, 0, 1] + sig * (K[q_, 1, 1] + sig * (K[q_, 2, 1] + sig * K[q_, 3, 1]))
                x2 = K[q_, 0, 2] + sig * (K[q_, 1, 2] + sig * (K[q_, 2, 2] + sig * K[q_, 3, 2]))
                have_state = False
                if n_direct > 0:
                    _state_one(i, tm, hw, t_first, h, nk, koff, kstride, K, pad, thr, pos, vel,
                               dev, reach, True)
                    have_state = True
                    for a in range(n_direct):
                        p = direct[a]
                        if _pair_passes(p, i, pos, vel, dev, reach, pad, thr, hw):
                            _emit(out, counts, b, p, i, k)
                cx = int(math.floor(x0 * invC))
                cy = int(math.floor(x1 * invC))
                cz = int(math.floor(x2 * invC))
                key = _cell_pack(cx, cy, cz)
                slot = _hash(cx, cy, cz, mask_eff)
                while thead[slot] >= 0:
                    if tkey[slot] == key:
                        e = thead[slot]
                        while e >= 0:
                            p = ent_p[e]
                            # Most hits are primaries hundreds of km away: reject them on
                            # position and the chunk's reach bound before computing the
                            # full state (reach_bound[i] >= reach[i], so never a loss).
                            d0 = pos[p, 0] - x0
                            d1 = pos[p, 1] - x1
                            d2 = pos[p, 2] - x2
                            rr = (reach_bound[i] + reach[p]) * (1.0 + 1e-9)
                            if d0 * d0 + d1 * d1 + d2 * d2 <= rr * rr:
                                if not have_state:
                                    _state_one(i, tm, hw, t_first, h, nk, koff, kstride, K,
                                               pad, thr, pos, vel, dev, reach, True)
                                    have_state = True
                                if _pair_passes(p, i, pos, vel, dev, reach, pad, thr, hw):
                                    _emit(out, counts, b, p, i, k)
                            e = ent_next[e]
                        break
                    slot = (slot + 1) & mask_eff
            for a in range(n_p):
                p = primaries[a]
                if not pact[a]:
                    continue
                for a2 in range(a + 1, n_p):
                    p2 = primaries[a2]
                    if pact[a2] and _pair_passes(p, p2, pos, vel, dev, reach, pad, thr, hw):
                        _emit(out, counts, b, p, p2, k)
            for u in range(n_used):
                thead[used[u]] = -1
    return out, counts


@njit(cache=True, inline="always")
def _eval(i, t, t_first, h, nk, off, R, V, out_p, out_v):
    hi = h[i]
    s = int(math.floor((t - t_first[i]) / hi))
    if s > nk[i] - 2:
        s = nk[i] - 2
    if s < 0:
        s = 0
    sig = t - (t_first[i] + s * hi)
    q = off[i] + s
    for x in range(3):
        p0 = R[q, x]
        p1 = R[q + 1, x]
        v0 = V[q, x]
        v1 = V[q + 1, x]
        a2 = (3.0 * (p1 - p0) / hi - 2.0 * v0 - v1) / hi
        a3 = (2.0 * (p0 - p1) / hi + v0 + v1) / (hi * hi)
        out_p[x] = p0 + sig * (v0 + sig * (a2 + sig * a3))
        out_v[x] = v0 + sig * (2.0 * a2 + 3.0 * sig * a3)


@njit(cache=True, inline="always")
def _rel(i, j, t, t_first, h, nk, off, R, V, pi, vi, pj, vj):
    """Relative distance and range-rate numerator d.w on the interpolants at ``t``."""
    _eval(i, t, t_first, h, nk, off, R, V, pi, vi)
    _eval(j, t, t_first, h, nk, off, R, V, pj, vj)
    dd = 0.0
    dw = 0.0
    for x in range(3):
        d = pj[x] - pi[x]
        dd += d * d
        dw += d * (vj[x] - vi[x])
    return math.sqrt(dd), dw


@njit(cache=True, parallel=True)
def interpolated_minimum(ci, cj, ck, T, L, t_first, h, nk, off, R, V):
    """Minimum distance over time cell ``ck`` of pair ``(ci, cj)`` on the interpolants.

    Returns ``(dmin_km, t_guess)``: the smallest distance in the cell (at a
    local minimum or an end) and where it is, chunk-relative seconds.
    """
    m = ci.shape[0]
    dmin = np.empty(m)
    tg = np.empty(m)
    n_sub = 8
    for c in prange(m):
        i = ci[c]
        j = cj[c]
        ta = ck[c] * T
        tb = min(ta + T, L)
        pi = np.empty(3)
        vi = np.empty(3)
        pj = np.empty(3)
        vj = np.empty(3)
        best = np.inf
        tbest = ta
        d_prev, f_prev = _rel(i, j, ta, t_first, h, nk, off, R, V, pi, vi, pj, vj)
        t_prev = ta
        if d_prev < best:
            best = d_prev
            tbest = ta
        for u in range(1, n_sub + 1):
            t = ta + (tb - ta) * u / n_sub
            d, f = _rel(i, j, t, t_first, h, nk, off, R, V, pi, vi, pj, vj)
            if d < best:
                best = d
                tbest = t
            if f_prev < 0.0 <= f:
                lo = t_prev
                hi_ = t
                for _ in range(40):
                    mid = 0.5 * (lo + hi_)
                    dm, fm = _rel(i, j, mid, t_first, h, nk, off, R, V, pi, vi, pj, vj)
                    if fm < 0.0:
                        lo = mid
                    else:
                        hi_ = mid
                    if hi_ - lo < 1e-6:
                        break
                dm, fm = _rel(i, j, 0.5 * (lo + hi_), t_first, h, nk, off, R, V, pi, vi, pj, vj)
                if dm < best:
                    best = dm
                    tbest = 0.5 * (lo + hi_)
            d_prev = d
            f_prev = f
            t_prev = t
        dmin[c] = best
        tg[c] = tbest
    return dmin, tg
