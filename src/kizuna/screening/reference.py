"""Brute-force reference screener: simple, slow, independent of the engine. For tests only.

Exact SGP4 (``SatrecArray``) on a uniform grid of step ``dt``; every pair is
examined at every step (O(N^2) per step, numpy). Between grid times ``t_k``
and ``t_k+1`` the distance has a local minimum iff the range rate changes sign
(``dt`` is far below the shortest time between two minima of one pair, about a
quarter of an orbit), and the minimum can be below ``threshold`` only if

    min(|d_k|, |d_k+1|) <= threshold + vmax*dt/2 + A*dt**2/8,

``vmax = max(|w_k|, |w_k+1|) + A*dt`` (relative speed bound over the step) and
``A = 0.02 km/s^2`` (twice surface gravity bounds any relative acceleration).
Each such bracket is solved with scipy's ``brentq`` on the derivative of the
squared SGP4 *position* distance (central differences, 0.5 s), scalar
``Satrec.sgp4`` calls, no interpolation, no velocity from SGP4.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq
from sgp4.api import SatrecArray

from kizuna.timelib import SECONDS_PER_DAY

A_MAX_KM_S2 = 0.02
_FD_S = 0.5


def _pos(sat, jd0, fr0, t):
    e, r, _ = sat.sgp4(jd0, fr0 + t / SECONDS_PER_DAY)
    return e, np.array(r)


def _ddist2(sa, sb, jd0, fr0, t):
    """Derivative of |d|^2 / 2 from positions only."""
    _, ap = _pos(sa, jd0, fr0, t + _FD_S)
    _, am = _pos(sa, jd0, fr0, t - _FD_S)
    _, bp = _pos(sb, jd0, fr0, t + _FD_S)
    _, bm = _pos(sb, jd0, fr0, t - _FD_S)
    dp, dm = bp - ap, bm - am
    return float(np.dot(0.5 * (dp + dm), (dp - dm) / (2 * _FD_S)))


def brute_force_screen(satrecs, norad_ids, jd0, fr0, duration_s, threshold_km, *, dt_s=60.0,
                       pairs_mask=None):
    """All local minima of the SGP4 distance below ``threshold_km`` in ``[0, duration_s]``.

    Returns a list of ``(id_a, id_b, t_s, miss_km)`` with ``id_a < id_b``.
    Objects are dropped from the step where SGP4 first fails.
    ``pairs_mask``: optional ``(N, N)`` boolean; only pairs with ``mask[i, j]`` are examined.
    """
    n = len(satrecs)
    ids = np.asarray(norad_ids)
    n_step = int(np.ceil(duration_s / dt_s))
    ts = np.minimum(np.arange(n_step + 1) * dt_s, duration_s)
    e, r, v = SatrecArray(list(satrecs)).sgp4(np.full(len(ts), jd0), fr0 + ts / SECONDS_PER_DAY)
    dead = np.cumsum(e != 0, axis=1) > 0  # dead from the first failure on
    iu, ju = np.triu_indices(n, 1)
    if pairs_mask is not None:
        keep = pairs_mask[iu, ju]
        iu, ju = iu[keep], ju[keep]
    out = []
    d_prev = w_prev = None
    for k in range(len(ts)):
        d = r[ju, k] - r[iu, k]
        w = v[ju, k] - v[iu, k]
        if k > 0:
            step = ts[k] - ts[k - 1]
            dn, dpn = np.linalg.norm(d, axis=1), np.linalg.norm(d_prev, axis=1)
            g, gp = np.einsum("ij,ij->i", d, w), np.einsum("ij,ij->i", d_prev, w_prev)
            vmax = np.maximum(np.linalg.norm(w, axis=1), np.linalg.norm(w_prev, axis=1))
            vmax += A_MAX_KM_S2 * step
            near = np.minimum(dn, dpn) <= threshold_km + vmax * step / 2 + A_MAX_KM_S2 * step**2 / 8
            alive = ~dead[iu, k] & ~dead[ju, k]
            # generous sign test: any change of sign of the range rate, or a minimum right at t_k
            cand = np.flatnonzero(near & alive & (gp < 0.0) & (g >= 0.0))
            for c in cand:
                a, b = satrecs[iu[c]], satrecs[ju[c]]
                lo, hi = ts[k - 1], ts[k]
                flo, fhi = _ddist2(a, b, jd0, fr0, lo), _ddist2(a, b, jd0, fr0, hi)
                # SGP4's velocity is not the derivative of its position: for slow pairs
                # the two range rates change sign minutes apart. Walk outward until the
                # position-only derivative brackets the minimum.
                for _ in range(60):
                    if flo < 0.0 or lo <= 0.0:
                        break
                    lo = max(lo - step, 0.0)
                    flo = _ddist2(a, b, jd0, fr0, lo)
                for _ in range(60):
                    if fhi >= 0.0 or hi >= duration_s:
                        break
                    hi = min(hi + step, duration_s)
                    fhi = _ddist2(a, b, jd0, fr0, hi)
                if not (flo < 0.0 <= fhi):
                    continue
                t = brentq(lambda x, a=a, b=b: _ddist2(a, b, jd0, fr0, x), lo, hi,
                           xtol=1e-7, rtol=1e-15, maxiter=200)
                ea, ra = _pos(a, jd0, fr0, t)
                eb, rb = _pos(b, jd0, fr0, t)
                if ea or eb:
                    continue
                miss = float(np.linalg.norm(rb - ra))
                if miss < threshold_km:
                    ia, ib = int(ids[iu[c]]), int(ids[ju[c]])
                    out.append((min(ia, ib), max(ia, ib), float(t), miss))
        d_prev, w_prev = d, w
    # widened brackets can find one minimum twice
    out.sort()
    dedup = []
    for ev in out:
        if dedup and dedup[-1][:2] == ev[:2] and abs(dedup[-1][2] - ev[2]) < 1e-3:
            continue
        dedup.append(ev)
    return dedup
