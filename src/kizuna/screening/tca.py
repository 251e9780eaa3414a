"""Narrow phase: time and distance of closest approach ON SGP4, batched.

For each candidate (pair, time cell ``[ta, tb]``, interpolated guess):

1. SGP4 at both ends of the cell: the cell owns a local minimum of the
   distance iff ``g = d . w`` (``d = r_j - r_i``, ``w = v_j - v_i``) goes from
   negative at ``ta`` to non-negative at ``tb``. Cells partition the window and
   ``g`` at a shared end is computed from the same inputs, so every minimum is
   owned by exactly one cell: no duplicates by construction.
2. Safeguarded Newton on ``g`` inside the bracket, with
   ``g' = |w|^2 + d . (a_j - a_i)`` (two-body accelerations), bisection when a
   step leaves the bracket, to ``tol`` seconds.
3. Polish: SGP4's velocity is not exactly the derivative of its position
   (up to ~1 mm/s in LEO, ~3 m/s in deep space), which moves the root of ``g``
   for slow pairs. Two Newton steps on ``d(t) . (d(t+e) - d(t-e)) / 2e``
   (``e = 0.1 s``: SGP4 position noise, ~1e-12 relative, makes shorter steps noisy for slow pairs) put the TCA on the minimum of the SGP4 *position* distance.
4. SGP4 at the TCA: miss vector (secondary minus primary), relative speed, and
   the miss vector in the primary's RIC frame.

Every SGP4 call goes through :func:`sgp4_at`, one ``Satrec.sgp4_array`` per
object with all its times. Candidates are split between forked workers.
"""

from __future__ import annotations

import numpy as np

from kizuna.frames import to_ric
from kizuna.parallel import run_parts, shared_array, split
from kizuna.screening.knots import MAX_RADIUS_KM, MAX_SPEED_KM_S, MIN_RADIUS_KM, MU_WGS72_KM3_S2
from kizuna.timelib import SECONDS_PER_DAY

_FD_STEP_S = 0.1


def sgp4_at(satrecs, obj: np.ndarray, t_s: np.ndarray, jd0: float, fr0: float):
    """SGP4 of object ``obj[k]`` at ``t_s[k]`` seconds from ``(jd0, fr0)``; returns ``(e, r, v)``."""
    n = len(obj)
    e = np.zeros(n, dtype=np.uint8)
    r = np.empty((n, 3))
    v = np.empty((n, 3))
    if n == 0:
        return e, r, v
    order = np.lexsort((t_s, obj))
    so = obj[order]
    fr = fr0 + t_s[order] / SECONDS_PER_DAY
    jd = np.full(n, jd0)
    cuts = np.flatnonzero(so[1:] != so[:-1]) + 1
    starts = np.concatenate([[0], cuts])
    stops = np.concatenate([cuts, [n]])
    es = np.empty(n, dtype=np.uint8)
    rs = np.empty((n, 3))
    vs = np.empty((n, 3))
    for a, b in zip(starts.tolist(), stops.tolist(), strict=True):
        ee, rr, vv = satrecs[so[a]].sgp4_array(jd[a:b], fr[a:b])
        es[a:b] = ee
        rs[a:b] = rr
        vs[a:b] = vv
    e[order] = es
    r[order] = rs
    v[order] = vs
    with np.errstate(invalid="ignore"):
        rad = np.linalg.norm(r, axis=1)
        spd = np.linalg.norm(v, axis=1)
        bad = (e != 0) | ~(rad > MIN_RADIUS_KM) | ~(rad < MAX_RADIUS_KM) | ~(spd < MAX_SPEED_KM_S)
    e[bad & (e == 0)] = 255
    return e, r, v


def _pair_state(satrecs, i, j, t, jd0, fr0):
    n = len(i)
    e, r, v = sgp4_at(satrecs, np.concatenate([i, j]), np.concatenate([t, t]), jd0, fr0)
    ok = (e[:n] == 0) & (e[n:] == 0)
    return ok, r[:n], v[:n], r[n:], v[n:]


def _gdot(ri, vi, rj, vj):
    d = rj - ri
    w = vj - vi
    ai = -MU_WGS72_KM3_S2 * ri / np.linalg.norm(ri, axis=1, keepdims=True) ** 3
    aj = -MU_WGS72_KM3_S2 * rj / np.linalg.norm(rj, axis=1, keepdims=True) ** 3
    g = np.einsum("ij,ij->i", d, w)
    gp = np.einsum("ij,ij->i", w, w) + np.einsum("ij,ij->i", d, aj - ai)
    return g, gp


def _q(satrecs, i, j, t, jd0, fr0):
    """d . d' with d' from central differences of SGP4 positions (no SGP4 velocity)."""
    okp, rip, _, rjp, _ = _pair_state(satrecs, i, j, t + _FD_STEP_S, jd0, fr0)
    okm, rim, _, rjm, _ = _pair_state(satrecs, i, j, t - _FD_STEP_S, jd0, fr0)
    dp, dm = rjp - rip, rjm - rim
    q = np.einsum("ij,ij->i", 0.5 * (dp + dm), (dp - dm) / (2 * _FD_STEP_S))
    return okp & okm, q


def _polish(satrecs, i, j, t0, slope, jd0, fr0, tol_s, max_iter=60, max_shift_s=1800.0):
    """Root of the position-only range-rate near ``t0``: Newton guess, bracket, Illinois.

    For fast pairs the first Newton step already lands within microseconds; slow
    pairs (GEO, co-located) can move by minutes and need the bracketed search.
    Returns ``(t, ok, n_sgp4)``.
    """
    m = len(i)
    n_sgp4 = 0
    if m == 0:
        return t0, np.ones(0, dtype=bool), 0
    ok, q0 = _q(satrecs, i, j, t0, jd0, fr0)
    n_sgp4 += 4 * m
    slope = np.where(slope > 0, slope, 1e-12)
    step = np.clip(-q0 / slope, -max_shift_s, max_shift_s)
    step = np.where(np.abs(step) < tol_s, np.sign(step + 1e-300) * tol_s, step)
    a, qa = t0.copy(), q0.copy()
    b = t0 + step
    okb, qb = _q(satrecs, i, j, b, jd0, fr0)
    n_sgp4 += 4 * m
    ok &= okb
    # expand until the sign changes (q rises through zero at a minimum)
    for _ in range(12):
        need = ok & ((qa < 0) == (qb < 0)) & (qa != 0) & (qb != 0)
        if not need.any():
            break
        k = np.flatnonzero(need)
        grow = np.clip(2.0 * (b[k] - a[k]), -max_shift_s, max_shift_s)
        a[k], qa[k] = b[k], qb[k]
        b[k] = b[k] + grow
        okk, qk = _q(satrecs, i[k], j[k], b[k], jd0, fr0)
        n_sgp4 += 4 * len(k)
        qb[k] = qk
        ok[k] &= okk
    bracketed = ok & ((qa < 0) != (qb < 0)) | (qa == 0) | (qb == 0)
    # Illinois regula falsi inside [a, b] (either order)
    t = np.where(np.abs(qa) <= np.abs(qb), a, b)
    act = np.flatnonzero(bracketed & (qa != 0) & (qb != 0))
    for _ in range(max_iter):
        if len(act) == 0:
            break
        den = qb[act] - qa[act]
        tn = np.where(den != 0, b[act] - qb[act] * (b[act] - a[act]) / np.where(den != 0, den, 1),
                      0.5 * (a[act] + b[act]))
        okn, qn = _q(satrecs, i[act], j[act], tn, jd0, fr0)
        n_sgp4 += 4 * len(act)
        ok[act] &= okn
        same_as_b = (qn < 0) == (qb[act] < 0)
        # replace the end with the same sign; halve the other's value (Illinois)
        a_new = np.where(same_as_b, a[act], b[act])
        qa_new = np.where(same_as_b, qa[act] * 0.5, qb[act])
        b[act], qb[act] = tn, qn
        a[act], qa[act] = a_new, qa_new
        t[act] = tn
        done = (np.abs(b[act] - a[act]) < tol_s) | (qn == 0) | ~okn
        act = act[~done]
    t = np.where(qa == 0, a, t)
    t = np.where(qb == 0, b, t)
    return t, ok & bracketed, n_sgp4


def refine_serial(satrecs, i, j, ta, tb, tg, jd0, fr0, tol_s=1e-6, max_iter=40):
    """Refine candidates in this process; returns ``(status, t, ri, vi, rj, vj, n_sgp4)``.

    ``status``: 0 event found, 1 no minimum in the cell, 2 SGP4 failed.
    """
    m = len(i)
    status = np.ones(m, dtype=np.int8)
    t_out = np.full(m, np.nan)
    out = [np.full((m, 3), np.nan) for _ in range(4)]
    n_sgp4 = 0
    if m == 0:
        return status, t_out, *out, n_sgp4
    ok_a, ria, via, rja, vja = _pair_state(satrecs, i, j, ta, jd0, fr0)
    ok_b, rib, vib, rjb, vjb = _pair_state(satrecs, i, j, tb, jd0, fr0)
    n_sgp4 += 4 * m
    ga, _ = _gdot(ria, via, rja, vja)
    gb, _ = _gdot(rib, vib, rjb, vjb)
    failed = ~(ok_a & ok_b)
    status[failed] = 2
    live = ~failed & (ga < 0.0) & (gb >= 0.0)
    idx = np.flatnonzero(live)
    lo = ta[idx].copy()
    hi = tb[idx].copy()
    t = np.clip(tg[idx], lo, hi)
    at_end = (t <= lo) | (t >= hi)
    t[at_end] = 0.5 * (lo[at_end] + hi[at_end])
    active = np.ones(len(idx), dtype=bool)
    gp_last = np.ones(len(idx))
    for _ in range(max_iter):
        act = np.flatnonzero(active)
        if len(act) == 0:
            break
        ii, jj = i[idx[act]], j[idx[act]]
        ok, ri, vi, rj, vj = _pair_state(satrecs, ii, jj, t[act], jd0, fr0)
        n_sgp4 += 2 * len(act)
        g, gp = _gdot(ri, vi, rj, vj)
        bad = ~ok
        status[idx[act[bad]]] = 2
        active[act[bad]] = False
        neg = g < 0.0
        lo[act[neg]] = t[act[neg]]
        hi[act[~neg]] = t[act[~neg]]
        with np.errstate(divide="ignore", invalid="ignore"):
            tn = t[act] - g / gp
        inside = (gp > 0) & (tn > lo[act]) & (tn < hi[act]) & np.isfinite(tn)
        tn = np.where(inside, tn, 0.5 * (lo[act] + hi[act]))
        done = (np.abs(tn - t[act]) < tol_s) | (hi[act] - lo[act] < tol_s) | (g == 0.0)
        t[act] = tn
        gp_last[act] = np.where(gp > 0, gp, gp_last[act])
        active[act[done & ok]] = False
    good = status[idx] != 2
    idx, t, gp_last = idx[good], t[good], gp_last[good]
    # polish on the position-only derivative of the distance
    t, polish_ok, n_pol = _polish(satrecs, i[idx], j[idx], t, gp_last, jd0, fr0, tol_s)
    n_sgp4 += n_pol
    status[idx[~polish_ok]] = 2
    idx, t = idx[polish_ok], t[polish_ok]
    ok, ri, vi, rj, vj = _pair_state(satrecs, i[idx], j[idx], t, jd0, fr0)
    n_sgp4 += 2 * len(idx)
    status[idx[~ok]] = 2
    status[idx[ok]] = 0
    t_out[idx] = t
    for arr, val in zip(out, (ri, vi, rj, vj), strict=True):
        arr[idx] = val
    return status, t_out, *out, n_sgp4


def refine(satrecs, i, j, ta, tb, tg, jd0, fr0, *, workers=1, tol_s=1e-6):
    """:func:`refine_serial` split over ``workers`` forked processes (same results)."""
    m = len(i)
    n_parts = max(1, min(int(workers), m // 2000 + 1))
    if n_parts == 1:
        return refine_serial(satrecs, i, j, ta, tb, tg, jd0, fr0, tol_s)
    status = shared_array((m,), np.int8)
    t_out = shared_array((m,), np.float64)
    vecs = [shared_array((m, 3), np.float64) for _ in range(4)]
    nsg = shared_array((n_parts,), np.int64)
    parts = split(m, n_parts)

    def work(p: int) -> None:
        a, b = parts[p]
        res = refine_serial(satrecs, i[a:b], j[a:b], ta[a:b], tb[a:b], tg[a:b], jd0, fr0, tol_s)
        status[a:b] = res[0]
        t_out[a:b] = res[1]
        for arr, val in zip(vecs, res[2:6], strict=True):
            arr[a:b] = val
        nsg[p] = res[6]

    run_parts(work, n_parts)
    return (np.array(status), np.array(t_out), *(np.array(x) for x in vecs), int(nsg.sum()))


def event_geometry(ri, vi, rj, vj):
    """Miss distance, relative speed and RIC miss components (secondary minus primary)."""
    d = rj - ri
    miss = np.linalg.norm(d, axis=-1)
    speed = np.linalg.norm(vj - vi, axis=-1)
    ric = to_ric(ri, vi, d)
    return miss, speed, ric
