"""SGP4 at knots only: per-object knot steps, chunked propagation and interpolation bounds.

Each object gets a knot step ``h = m * T`` (``T`` the broad-phase sample step,
``m`` an integer) chosen from its orbit so that cubic Hermite interpolation
between knots (positions and SGP4 velocities) stays near ``knot_error_km``:

    err(h) ~ h**4 / 384 * |r''''|  +  0.3 * h * dv

``|r''''| ~ r_p * w_p**4`` at perigee (``w_p`` the perigee angular rate) and
``dv`` bounds the gap between SGP4's velocity and the derivative of its
position (measured on the 2023-09-09 catalog: p99 0.9 m/s near-Earth,
2.7 m/s deep space). Knots sit at multiples of ``h`` from the window start so
every broad-phase sample cell ``[kT, (k+1)T]`` lies inside one knot segment
of every object.

The interpolation error actually used by the broad phase is measured, per
object and chunk, from the knots themselves: the larger of (a) the error at
a check point of every ``stride``-th segment against SGP4 evaluated there,
and (b) ``h**3/384 * |jump of the cubic's third derivative|`` over all
segments; times ``safety``, plus a floor. The check point is a quarter of the
way along the segment, not the midpoint: a near-constant bias of SGP4's
velocity against its position's derivative (up to 3 m/s in deep space) gives
an error ``0.096 h dv`` at ``s = 0.21`` and none at all at ``s = 1/2``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from kizuna.parallel import run_parts, shared_array
from kizuna.propagation.backends import BatchSgp4, aligned_split, lane_width, on_heyoka
from kizuna.timelib import SECONDS_PER_DAY

MU_WGS72_KM3_S2 = 398600.8
_DV_NEAR_EARTH_KM_S = 1.0e-3
# Interpolation check point inside a segment. At s = 1/4 a velocity bias (SGP4's velocity
# is not the derivative of its position) shows at 98 % of its worst case (s = 0.21),
# while the midpoint would not see it at all; the h**4 term shows at 56 % of its
# worst case (s = 1/2), hence the gain.
_CHECK_S = 0.25
_CHECK_GAIN = 0.5625
MIN_RADIUS_KM = 6378.135 - 50.0
MAX_RADIUS_KM = 2.0e6
MAX_SPEED_KM_S = 12.0
_DV_DEEP_SPACE_KM_S = 3.0e-3


def knot_multiples(
    no_kozai_rad_min: np.ndarray,
    ecco: np.ndarray,
    *,
    sample_step_s: float,
    target_km: float,
    max_step_s: float,
) -> np.ndarray:
    """Knot step of each object as an integer multiple ``m >= 1`` of ``sample_step_s``."""
    n = np.asarray(no_kozai_rad_min, dtype=np.float64) / 60.0
    e = np.clip(np.asarray(ecco, dtype=np.float64), 0.0, 0.999)
    ok = np.isfinite(n) & (n > 0)
    n = np.where(ok, n, 1e-3)
    a = (MU_WGS72_KM3_S2 / n**2) ** (1.0 / 3.0)
    rp = np.maximum(a * (1 - e), 6378.0 * 0.9)
    wp = np.sqrt(MU_WGS72_KM3_S2 * (1 + e) / rp) / rp
    m4 = 2.0 * rp * wp**4 * (1 + 3 * e)
    dv = np.where(2 * np.pi / n >= 225 * 60, _DV_DEEP_SPACE_KM_S, _DV_NEAR_EARTH_KM_S)
    m_max = max(1, int(max_step_s // sample_step_s))
    cands = np.array(sorted({1, 2, 3} | {k * 2**p for p in range(12) for k in (2, 3)}))
    cands = cands[cands <= m_max]
    h = cands[None, :] * sample_step_s
    err = h**4 / 384.0 * m4[:, None] + 0.3 * h * dv[:, None]
    fits = err <= target_km
    # largest candidate that fits (cands ascending); at least 1
    idx = np.where(fits.any(axis=1), fits.shape[1] - 1 - np.argmax(fits[:, ::-1], axis=1), 0)
    return cands[idx].astype(np.int64)


@dataclass
class ChunkKnots:
    """Knot data of one chunk in the engine's internal object order.

    Times are seconds from the chunk start. Object ``i``'s knots are rows
    ``off[i] : off[i] + nk[i]`` of ``r_km``/``v_km_s``, at ``t_first[i] + k * h[i]``.
    ``valid_end[i]`` is the last time its interpolant may be used (-inf if never).
    ``koff``/``kstride`` say where the broad phase packs object ``i``'s segment ``s``:
    record ``koff[i] + s * kstride[i]`` (see :attr:`KnotPropagator.koff`).
    """

    c0_s: float
    length_s: float
    t_first: np.ndarray
    h: np.ndarray
    nk: np.ndarray
    off: np.ndarray
    r_km: np.ndarray
    v_km_s: np.ndarray
    valid_end: np.ndarray
    pad_km: np.ndarray
    koff: np.ndarray
    kstride: np.ndarray


def _check_segments(mids: np.ndarray, knots: np.ndarray, h: float) -> np.ndarray:
    """Index, from the chunk's first knot, of the segment each check point lies in."""
    if not len(mids):
        return np.zeros(0, dtype=np.int64)
    return np.rint(mids / h - _CHECK_S).astype(np.int64) - int(round(knots[0] / h))


class KnotPropagator:
    """Propagates the catalog at its knots, chunk after chunk, on ``workers`` processes.

    ``satrecs`` are in the engine's internal order; objects are grouped by knot step.
    """

    def __init__(self, satrecs, mult, *, sample_step_s, chunk_s, jd0, fr0, workers,
                 stride, safety, floor_km, max_pad_km=25.0, backend="heyoka"):
        self.satrecs = satrecs
        self.mult = np.asarray(mult, dtype=np.int64)
        self.T = float(sample_step_s)
        self.jd0, self.fr0 = float(jd0), float(fr0)
        self.workers = max(1, int(workers))
        self.stride = max(1, int(stride))
        self.safety, self.floor_km = float(safety), float(floor_km)
        self.max_pad_km = float(max_pad_km)
        n = len(satrecs)
        order = np.argsort(self.mult, kind="stable")
        if not np.array_equal(order, np.arange(n)):
            raise ValueError("satrecs must be sorted by knot multiple")
        self.h = self.mult * self.T
        self.groups = []  # (m, start, stop, n_slots, n_mid_slots, [BatchSgp4 per part])
        lane = lane_width(backend)
        ms, starts = np.unique(self.mult, return_index=True)
        stops = np.append(starts[1:], n)
        self.slots = np.zeros(n, dtype=np.int64)
        self.mid_slots = np.zeros(n, dtype=np.int64)
        for m, a, b in zip(ms, starts, stops, strict=True):
            h = m * self.T
            ns = int(np.ceil(chunk_s / h)) + 2
            nm = ns // self.stride + 2
            # parts cut at multiples of heyoka's SIMD lanes: the same knots, bit for bit,
            # whatever the number of workers (or Dask tasks)
            parts = [(a + p0, a + p1) for p0, p1 in
                     aligned_split(on_heyoka(satrecs[a:b], backend), self.workers, lane)]
            arrays = [BatchSgp4(satrecs[p0:p1], backend) if p1 > p0 else None
                      for p0, p1 in parts]
            self.groups.append((int(m), int(a), int(b), ns, nm, parts, arrays))
            self.slots[a:b] = ns
            self.mid_slots[a:b] = nm
        self.off = np.concatenate([[0], np.cumsum(self.slots)[:-1]]).astype(np.int64)
        self.mid_off = np.concatenate([[0], np.cumsum(self.mid_slots)[:-1]]).astype(np.int64)
        # Packed-segment layout of the broad phase, segment-major within a knot group:
        # the group's objects share their knot times, so at any time cell they read
        # consecutive 96-byte records (a stream the prefetcher follows) instead of one
        # record every ``ns``. Fixed by the groups, so computed once per run.
        self.koff = np.empty(n, dtype=np.int64)
        self.kstride = np.empty(n, dtype=np.int64)
        for _, a, b, *_ in self.groups:
            self.koff[a:b] = self.off[a] + np.arange(b - a)
            self.kstride[a:b] = b - a
        tot, totm = int(self.slots.sum()), int(self.mid_slots.sum())
        self.R = shared_array((tot, 3), np.float64)
        self.V = shared_array((tot, 3), np.float64)
        self.E = shared_array((tot,), np.uint8)
        self.RM = shared_array((totm, 3), np.float64)
        self.EM = shared_array((totm,), np.uint8)
        self.failed_at_s = shared_array((n,), np.float64)  # global time of the first failure
        self.failed_at_s[:] = np.inf
        self.t_first = shared_array((n,), np.float64)
        self.nk = shared_array((n,), np.int64)
        self.valid_end = shared_array((n,), np.float64)
        self.pad = shared_array((n,), np.float64)
        self.n_props = 0
        _warm_up_post_kernel()  # here, once, not in every forked worker of every chunk

    def _times(self, m, c0, c1):
        h = m * self.T
        k0 = int(np.floor(c0 / h + 1e-9))
        k1 = int(np.ceil(c1 / h - 1e-9))
        knots = (k0 + np.arange(k1 - k0 + 1)) * h
        segs = np.arange(k0, k1)
        segs = segs[segs % self.stride == 0]
        mids = (segs + _CHECK_S) * h
        return knots, mids

    def chunk(self, c0: float, c1: float) -> ChunkKnots:
        """Propagate every object at its knots covering ``[c0, c1]`` (seconds from the window start)."""
        plan = [self._times(g[0], c0, c1) for g in self.groups]

        def work(p: int) -> None:
            for (m, a, b, ns, nm, parts, arrays), (knots, mids) in zip(self.groups, plan,
                                                                        strict=True):
                p0, p1 = parts[p]
                if p1 <= p0:
                    continue
                sa = arrays[p]
                nt, nmid = len(knots), len(mids)
                jd = np.full(nt, self.jd0)
                base = self.off[p0]
                blk = slice(base, base + (p1 - p0) * ns)
                sa.sgp4_into(jd, self.fr0 + knots / SECONDS_PER_DAY,
                             self.E[blk].reshape(p1 - p0, ns)[:, :nt],
                             self.R[blk].reshape(p1 - p0, ns, 3)[:, :nt],
                             self.V[blk].reshape(p1 - p0, ns, 3)[:, :nt])
                if nmid:
                    mb = self.mid_off[p0]
                    mblk = slice(mb, mb + (p1 - p0) * nm)
                    sa.sgp4_into(np.full(nmid, self.jd0), self.fr0 + mids / SECONDS_PER_DAY,
                                 self.EM[mblk].reshape(p1 - p0, nm)[:, :nmid],
                                 self.RM[mblk].reshape(p1 - p0, nm, 3)[:, :nmid],
                                 np.empty((p1 - p0, nmid, 3)))  # check velocities unused
                self._post(m, p0, p1, ns, nm, knots, mids, c0)

        run_parts(work, self.workers)
        for (m, a, b, ns, nm, _, _), (knots, mids) in zip(self.groups, plan, strict=True):
            self.n_props += (b - a) * (len(knots) + len(mids))
        return ChunkKnots(c0_s=c0, length_s=c1 - c0, t_first=np.array(self.t_first),
                          h=self.h.astype(np.float64), nk=np.array(self.nk), off=self.off,
                          r_km=self.R, v_km_s=self.V, valid_end=np.array(self.valid_end),
                          pad_km=np.array(self.pad), koff=self.koff, kstride=self.kstride)

    def _post(self, m, a, b, ns, nm, knots, mids, c0):
        """Validity and interpolation pads of objects ``a:b`` (one knot group) for this chunk."""
        nt, nmid = len(knots), len(mids)
        h = m * self.T
        base, mb = self.off[a], self.mid_off[a]
        r = self.R[base:base + (b - a) * ns].reshape(b - a, ns, 3)
        v = self.V[base:base + (b - a) * ns].reshape(b - a, ns, 3)
        e = self.E[base:base + (b - a) * ns].reshape(b - a, ns)
        rm = self.RM[mb:mb + (b - a) * nm].reshape(b - a, nm, 3)
        em = self.EM[mb:mb + (b - a) * nm].reshape(b - a, nm)
        kseg = _check_segments(mids, knots, h)
        _post_kernel(r, v, e, nt, rm, em, kseg, np.asarray(knots, dtype=np.float64), float(h),
                     float(c0), self.safety, self.floor_km, self.max_pad_km,
                     self.failed_at_s[a:b], self.t_first[a:b], self.nk[a:b],
                     self.valid_end[a:b], self.pad[a:b])

    def _post_numpy(self, m, a, b, ns, nm, knots, mids, c0):
        """numpy twin of :meth:`_post` (the definition; the kernel is tested against it)."""
        t_first, nk, valid_end, pad = self.t_first, self.nk, self.valid_end, self.pad
        nt, nmid = len(knots), len(mids)
        h = m * self.T
        base = self.off[a]
        blk = slice(base, base + (b - a) * ns)
        r = self.R[blk].reshape(b - a, ns, 3)[:, :nt]
        v = self.V[blk].reshape(b - a, ns, 3)[:, :nt]
        e = self.E[blk].reshape(b - a, ns)[:, :nt]
        with np.errstate(invalid="ignore"):
            rad = np.linalg.norm(r, axis=-1)
            spd = np.linalg.norm(v, axis=-1)
            # SGP4 sometimes returns no error code for states that are no orbit at
            # all (a decaying object thrown to 1e8 km): treat them as failures too.
            bad = (e != 0) | ~(rad > MIN_RADIUS_KM) | ~(rad < MAX_RADIUS_KM) | ~(spd < MAX_SPEED_KM_S)
        first_bad = np.where(bad.any(1), np.argmax(bad, axis=1), nt)
        fail_t = np.where(first_bad < nt, knots[np.minimum(first_bad, nt - 1)], np.inf)
        self.failed_at_s[a:b] = np.minimum(self.failed_at_s[a:b], fail_t)
        t_first[a:b] = knots[0] - c0
        nk[a:b] = nt
        # usable up to the last good knot before the first failure, ever
        last_good = np.minimum(first_bad, nt) - 1
        ve = np.where(last_good >= 1, knots[np.maximum(last_good, 0)] - c0, -np.inf)
        earlier = self.failed_at_s[a:b] <= knots[0]
        ve[earlier] = -np.inf
        valid_end[a:b] = ve
        # interpolation error bound per segment: (b) the jump of the cubic's third
        # derivative at both its knots, (a) the measured error at sampled midpoints
        with np.errstate(invalid="ignore"):
            c3 = (2 * (r[:, :-1] - r[:, 1:]) + h * (v[:, :-1] + v[:, 1:])) * (6 / h**3)
            jump = np.linalg.norm(np.diff(c3, axis=1), axis=-1) * (h**3 / 384.0)
        jump = np.nan_to_num(jump, nan=np.inf)
        seg_est = np.zeros((b - a, nt - 1))
        if nt > 2:
            seg_est[:, 1:] = jump
            seg_est[:, :-1] = np.maximum(seg_est[:, :-1], jump)
        if nmid:
            mb = self.mid_off[a]
            mblk = slice(mb, mb + (b - a) * nm)
            rm = self.RM[mblk].reshape(b - a, nm, 3)[:, :nmid]
            em = self.EM[mblk].reshape(b - a, nm)[:, :nmid]
            kseg = _check_segments(mids, knots, h)
            s_ = _CHECK_S
            p = ((2 * s_**3 - 3 * s_**2 + 1) * r[:, kseg] + (s_**3 - 2 * s_**2 + s_) * h * v[:, kseg]
                 + (3 * s_**2 - 2 * s_**3) * r[:, kseg + 1] + (s_**3 - s_**2) * h * v[:, kseg + 1])
            with np.errstate(invalid="ignore"):
                err = np.linalg.norm(p - rm, axis=-1) / _CHECK_GAIN
            err = np.where(em == 0, np.nan_to_num(err, nan=np.inf), 0.0)
            seg_est[:, kseg] = np.maximum(seg_est[:, kseg], err)
        seg_pad = self.safety * seg_est + self.floor_km
        # A segment SGP4 cannot be interpolated over (a decaying object in its last
        # revolutions) ends the object's usable time like an SGP4 error does.
        seg_ok = np.arange(nt - 1)[None, :] < last_good[:, None]
        blown = seg_ok & ~(seg_pad <= self.max_pad_km)
        first_blown = np.where(blown.any(1), np.argmax(blown, axis=1), nt)
        hit = first_blown < nt
        if hit.any():
            t_blow = knots[np.minimum(first_blown, nt - 1)]
            self.failed_at_s[a:b] = np.where(hit, np.minimum(self.failed_at_s[a:b], t_blow),
                                             self.failed_at_s[a:b])
            lim = np.minimum(last_good, first_blown)
            ve = np.where(lim >= 1, knots[np.maximum(lim, 0)] - c0, -np.inf)
            ve[earlier] = -np.inf
            valid_end[a:b] = ve
            seg_ok &= np.arange(nt - 1)[None, :] < first_blown[:, None]
        pad[a:b] = np.where(seg_ok, seg_pad, 0.0).max(axis=1, initial=self.floor_km)



def _warm_up_post_kernel() -> None:
    """Load the compiled kernel (about 0.6 s in a fresh process) before workers fork."""
    z3, z2 = np.zeros((1, 2, 3)), np.zeros((1, 2), dtype=np.uint8)
    _post_kernel(z3, z3, z2, 2, np.zeros((1, 1, 3)), np.zeros((1, 1), dtype=np.uint8),
                 np.zeros(1, dtype=np.int64), np.arange(2.0), 1.0, 0.0, 1.0, 0.0, 1.0,
                 np.full(1, np.inf), np.zeros(1), np.zeros(1, dtype=np.int64), np.zeros(1),
                 np.zeros(1))


@njit(cache=True)
def _post_kernel(r, v, e, nt, rm, em, kseg, knots, h, c0, safety, floor_km, max_pad_km,
                 failed_at_s, t_first, nk, valid_end, pad):
    """Per object of one knot group: first failure, usable end and interpolation pad.

    Same rules as :meth:`KnotPropagator._post_numpy`, one object at a time.
    """
    n = r.shape[0]
    nseg = nt - 1
    c3 = np.empty((max(nseg, 1), 3))
    seg_est = np.empty(max(nseg, 1))
    s_ = _CHECK_S
    h00 = 2 * s_**3 - 3 * s_**2 + 1
    h10 = (s_**3 - 2 * s_**2 + s_) * h
    h01 = 3 * s_**2 - 2 * s_**3
    h11 = (s_**3 - s_**2) * h
    k_c3 = 6.0 / h**3
    k_jump = h**3 / 384.0
    for i in range(n):
        first_bad = nt
        for k in range(nt):
            rad = np.sqrt(r[i, k, 0] ** 2 + r[i, k, 1] ** 2 + r[i, k, 2] ** 2)
            spd = np.sqrt(v[i, k, 0] ** 2 + v[i, k, 1] ** 2 + v[i, k, 2] ** 2)
            # SGP4 sometimes returns no error code for states that are no orbit at all.
            if e[i, k] != 0 or not (rad > MIN_RADIUS_KM) or not (rad < MAX_RADIUS_KM) \
                    or not (spd < MAX_SPEED_KM_S):
                first_bad = k
                break
        if first_bad < nt:
            failed_at_s[i] = min(failed_at_s[i], knots[first_bad])
        t_first[i] = knots[0] - c0
        nk[i] = nt
        last_good = first_bad - 1
        earlier = failed_at_s[i] <= knots[0]
        for k in range(nseg):
            for d in range(3):
                c3[k, d] = (2 * (r[i, k, d] - r[i, k + 1, d])
                            + h * (v[i, k, d] + v[i, k + 1, d])) * k_c3
            seg_est[k] = 0.0
        for k in range(nseg - 1):
            jump = np.sqrt((c3[k + 1, 0] - c3[k, 0]) ** 2 + (c3[k + 1, 1] - c3[k, 1]) ** 2
                           + (c3[k + 1, 2] - c3[k, 2]) ** 2) * k_jump
            if np.isnan(jump):
                jump = np.inf
            seg_est[k] = max(seg_est[k], jump)
            seg_est[k + 1] = max(seg_est[k + 1], jump)
        for q in range(len(kseg)):
            k = kseg[q]
            if em[i, q] != 0:
                continue
            err2 = 0.0
            for d in range(3):
                p = (h00 * r[i, k, d] + h10 * v[i, k, d] + h01 * r[i, k + 1, d]
                     + h11 * v[i, k + 1, d])
                err2 += (p - rm[i, q, d]) ** 2
            err = np.sqrt(err2) / _CHECK_GAIN
            if np.isnan(err):
                err = np.inf
            seg_est[k] = max(seg_est[k], err)
        # A segment SGP4 cannot be interpolated over (a decaying object in its last
        # revolutions) ends the object's usable time like an SGP4 error does.
        lim = last_good
        p_max = floor_km
        for k in range(min(last_good, nseg)):
            seg_pad = safety * seg_est[k] + floor_km
            if not (seg_pad <= max_pad_km):
                failed_at_s[i] = min(failed_at_s[i], knots[k])
                lim = min(lim, k)
                break
            p_max = max(p_max, seg_pad)
        pad[i] = p_max
        if earlier or lim < 1:
            valid_end[i] = -np.inf
        else:
            valid_end[i] = knots[lim] - c0
