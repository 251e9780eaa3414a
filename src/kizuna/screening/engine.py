"""Screening engine: prefilter -> knots -> broad phase -> interpolated minimum -> SGP4 TCA.

:func:`screen` is the whole pipeline; each stage is a module of its own
(``filters``, ``knots``, ``broadphase``, ``tca``) and the engine only wires
them, streams the window in chunks and times the stages. See
docs/design/screening.md for the algorithm, its cost model and why it cannot
miss an event.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

import numba
import numpy as np

from kizuna.catalog.snapshot import CatalogSnapshot
from kizuna.screening import broadphase
from kizuna.screening.base import (
    EVENT_DTYPE,
    ScreeningConfig,
    ScreeningInputError,
    ScreeningResult,
    ScreeningSummary,
)
from kizuna.screening.filters import near_any_shell, radial_shells
from kizuna.screening.knots import KnotPropagator, knot_multiples
from kizuna.screening.tca import event_geometry, refine
from kizuna.timelib import as_utc, datetime_from_jd_fr, jd_fr_from_datetime

DEFAULT_DURATION_S = 7 * 86400.0
DEFAULT_THRESHOLD_KM = 5.0
_N_BLOCKS = 64
_V_SMALL_KM_S = 7.95
_CAP0 = 8192


def default_workers() -> int:
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def newest_epoch(snapshot: CatalogSnapshot) -> datetime:
    """Newest element-set epoch of the snapshot (the default window start)."""
    best = max(snapshot.element_sets, key=lambda es: (es.epoch_jd + es.epoch_fr, es.epoch_fr))
    return datetime_from_jd_fr(best.epoch_jd, best.epoch_fr)


def screen(
    snapshot: CatalogSnapshot,
    *,
    start: datetime | None = None,
    duration_s: float = DEFAULT_DURATION_S,
    threshold_km: float = DEFAULT_THRESHOLD_KM,
    primaries: Iterable[int] | None = None,
    workers: int | None = None,
    config: ScreeningConfig | None = None,
    scheduler: object | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ScreeningResult:
    """Conjunction screening of a catalog snapshot (all-vs-all, or primaries-vs-all).

    Parameters
    ----------
    snapshot : CatalogSnapshot
        One element set per object.
    start : datetime, optional
        Aware UTC start of the window; default the newest epoch in the snapshot.
    duration_s : float
        Window length, seconds (default 7 days).
    threshold_km : float
        Report local minima of the SGP4 distance below this (default 5 km).
    primaries : iterable of int, optional
        NORAD ids to screen against everything else; default all-vs-all.
    workers : int, optional
        CPU cores to use (SGP4 processes and numba threads); default all available.
    config : ScreeningConfig, optional
        Engine tuning; the defaults are the measured choices.
    scheduler : str or distributed.Client, optional
        Run the chunks of the window on a Dask distributed cluster (scheduler
        address, or a connected client) instead of this machine's cores; the
        events are identical. Needs the ``distributed`` package.
    progress : callable, optional
        Called as ``progress(done, total)`` after each chunk of the window
        (``total`` is the number of chunks plus one for the narrow phase).

    Returns
    -------
    ScreeningResult
        ``events`` (:data:`~kizuna.screening.base.EVENT_DTYPE`, sorted by TCA,
        primary, secondary) and a :class:`~kizuna.screening.base.ScreeningSummary`
        with counts (failed/decayed objects are skipped from their first SGP4
        failure on and counted, never fatal) and per-stage timings.
    """
    cfg = config or ScreeningConfig()
    timings: dict[str, float] = {}
    t_all = time.perf_counter()
    workers = default_workers() if workers is None else int(workers)
    if workers < 1:
        raise ScreeningInputError(f"workers must be >= 1, got {workers}")
    t0 = time.perf_counter()
    plan, err0, n_prefiltered = _plan(snapshot, start, duration_s, threshold_km, primaries, cfg)
    timings["prefilter"] = time.perf_counter() - t0
    timings.update(setup=0.0, knots=0.0, broad=0.0, interp=0.0)

    if scheduler is not None:
        from kizuna.screening.distributed import run_on_cluster

        t0 = time.perf_counter()
        out = run_on_cluster(snapshot, plan, scheduler, progress=progress)
        timings["cluster"] = time.perf_counter() - t0
    else:
        out = _run_local(plan, workers, timings, progress)

    # 5. events
    t0 = time.perf_counter()
    ev = _events(plan, snapshot.norad_id, out)
    timings["output"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - t_all

    norad = snapshot.norad_id
    failed_int = np.flatnonzero(np.isfinite(out.failed_at_s))
    failed_ids = np.union1d(norad[err0 != 0], norad[plan.obj[failed_int]])
    summary = ScreeningSummary(
        n_objects=len(snapshot),
        n_screened=plan.n,
        n_prefiltered=n_prefiltered,
        n_failed=len(failed_ids),
        failed_norad_ids=tuple(int(x) for x in failed_ids),
        n_candidates_broad=int(out.n_broad),
        n_candidates_narrow=len(out.ci),
        n_sgp4_knots=int(out.n_knot_props),
        n_sgp4_refine=int(out.n_refine_props),
        n_refine_failed=int((out.status == 2).sum()),
        max_interp_pad_km=out.max_pad_km,
        timings_s=timings,
        shared_element_sets=shared_element_sets(plan.satrecs_all, norad),
    )
    return ScreeningResult(events=ev, start=plan.start, duration_s=plan.W,
                           threshold_km=plan.thr, summary=summary)


@dataclass(frozen=True, kw_only=True)
class Plan:
    """Everything a chunk of the window needs; the same on every machine for the same inputs.

    Objects are in the engine's internal order (sorted by knot multiple, then
    catalog order); ``obj`` maps an internal index to the snapshot index.
    """

    start: datetime
    jd0: float
    fr0: float
    W: float
    thr: float
    T: float
    chunk_s: float
    target_km: float
    protected: bool
    obj: np.ndarray
    mult: np.ndarray
    is_prim: np.ndarray
    prim_idx: np.ndarray
    cfg: ScreeningConfig
    satrecs: list = field(repr=False)
    satrecs_all: list = field(repr=False)

    @property
    def n(self) -> int:
        return len(self.obj)

    def chunks(self) -> list[tuple[float, float]]:
        """``(c0, c1)`` seconds from the window start; the window is streamed in these."""
        out = []
        c0 = 0.0
        while c0 < self.W - 1e-9 and self.n > 1:
            c1 = min(c0 + self.chunk_s, self.W)
            out.append((c0, c1))
            c0 = c1
        return out

    def knot_propagator(self, workers: int, satrecs=None) -> KnotPropagator:
        cfg = self.cfg
        return KnotPropagator(satrecs if satrecs is not None else self.satrecs, self.mult,
                              sample_step_s=self.T, chunk_s=self.chunk_s, jd0=self.jd0,
                              fr0=self.fr0, workers=workers, stride=cfg.error_check_stride,
                              safety=cfg.error_safety, floor_km=cfg.error_floor_km,
                              max_pad_km=max(cfg.max_interp_error_km, 4.0 * self.target_km),
                              backend=cfg.sgp4_backend)


@dataclass
class Refined:
    """Candidates of the whole window after the SGP4 narrow phase, sorted by (i, j, ta)."""

    ci: np.ndarray
    cj: np.ndarray
    status: np.ndarray
    t_tca: np.ndarray
    ri: np.ndarray
    vi: np.ndarray
    rj: np.ndarray
    vj: np.ndarray
    failed_at_s: np.ndarray
    n_broad: int
    n_knot_props: int
    n_refine_props: int
    max_pad_km: float


def _plan(snapshot, start, duration_s, threshold_km, primaries, cfg):
    """Check the arguments, prefilter, choose knot steps: ``(plan, err0, n_prefiltered)``."""
    if len(snapshot) == 0:
        raise ScreeningInputError("the catalog snapshot is empty: nothing to screen")
    if not (threshold_km > 0 and np.isfinite(threshold_km)):
        raise ScreeningInputError(f"threshold_km must be a positive number, got {threshold_km!r}")
    if not (duration_s > 0 and np.isfinite(duration_s)):
        raise ScreeningInputError(f"duration_s must be a positive number, got {duration_s!r}")
    start = newest_epoch(snapshot) if start is None else as_utc(start)
    jd0, fr0 = jd_fr_from_datetime(start)
    W = float(duration_s)
    thr = float(threshold_km)

    norad = snapshot.norad_id
    satrecs_all = snapshot.satrecs()
    protected = primaries is not None
    T = float(cfg.protected_sample_step_s if protected else cfg.sample_step_s)
    if protected:
        wanted = np.unique(np.fromiter((int(p) for p in primaries), dtype=np.int64))
        missing = np.setdiff1d(wanted, norad)
        if len(wanted) == 0:
            raise ScreeningInputError("primaries is empty: pass NORAD ids, or None for all-vs-all")
        if len(missing):
            raise ScreeningInputError(
                f"primaries not in the catalog: {missing[:10].tolist()}"
                f"{' ...' if len(missing) > 10 else ''}; check the NORAD ids"
            )
        is_prim_all = np.isin(norad, wanted)

    # 1. prefilter: radial shells (and objects that fail at the start)
    rmin, rmax, err0 = radial_shells(satrecs_all, jd0, fr0, W, margin_km=cfg.shell_margin_km)
    keep = err0 == 0
    if protected:
        keep &= near_any_shell(rmin, rmax, np.flatnonzero(is_prim_all & keep), thr)
    n_prefiltered = int((err0 == 0).sum() - keep.sum())

    # 2. knot steps: internal order sorted by knot multiple, then catalog order
    sel = np.flatnonzero(keep)
    no = np.array([satrecs_all[k].no_kozai for k in sel], dtype=np.float64)
    ec = np.array([satrecs_all[k].ecco for k in sel], dtype=np.float64)
    target_km = cfg.protected_knot_error_km if protected else cfg.knot_error_km
    mult = knot_multiples(no, ec, sample_step_s=T, target_km=target_km,
                          max_step_s=cfg.max_knot_step_s)
    order = np.argsort(mult, kind="stable")
    obj = sel[order]
    is_prim = is_prim_all[obj] if protected else np.zeros(len(obj), dtype=bool)
    plan = Plan(start=start, jd0=jd0, fr0=fr0, W=W, thr=thr, T=T,
                chunk_s=max(T, np.floor(cfg.chunk_s / T) * T), target_km=target_km,
                protected=protected, obj=obj, mult=mult[order], is_prim=is_prim,
                prim_idx=np.flatnonzero(is_prim).astype(np.int64), cfg=cfg,
                satrecs=[satrecs_all[k] for k in obj], satrecs_all=satrecs_all)
    return plan, err0, n_prefiltered


def _run_local(plan: Plan, workers: int, timings: dict[str, float], progress=None) -> Refined:
    """Knots, broad phase and interpolated filter chunk after chunk, then the SGP4 narrow phase."""
    t0 = time.perf_counter()
    kp = plan.knot_propagator(workers)
    timings["setup"] = time.perf_counter() - t0
    cand = []
    n_broad = 0
    max_pad = 0.0
    cap = _CAP0
    prev_threads = numba.get_num_threads()
    numba.set_num_threads(max(1, min(workers, numba.config.NUMBA_NUM_THREADS)))
    chunks = plan.chunks()
    scratch: dict = {}
    try:
        for k, (c0, c1) in enumerate(chunks):
            if progress is not None:
                progress(k, len(chunks) + 1)
            t0 = time.perf_counter()
            ck = kp.chunk(c0, c1)
            timings["knots"] += time.perf_counter() - t0
            found, nb, pad, cap = chunk_candidates(plan, ck, c0, c1, cap, timings, scratch)
            cand.append(found)
            n_broad += nb
            max_pad = max(max_pad, pad)
    finally:
        numba.set_num_threads(prev_threads)

    # 4. narrow phase on SGP4
    if progress is not None:
        progress(len(chunks), len(chunks) + 1)
    t0 = time.perf_counter()
    ci, cj, ta, tb, tg = sort_candidates(cand)
    status, t_tca, ri, vi, rj, vj, n_ref = refine(plan.satrecs, ci, cj, ta, tb, tg, plan.jd0,
                                                  plan.fr0, workers=workers,
                                                  tol_s=plan.cfg.tca_tolerance_s)
    timings["narrow"] = time.perf_counter() - t0
    if progress is not None:
        progress(len(chunks) + 1, len(chunks) + 1)
    return Refined(ci=ci, cj=cj, status=status, t_tca=t_tca, ri=ri, vi=vi, rj=rj, vj=vj,
                   failed_at_s=np.array(kp.failed_at_s), n_broad=n_broad,
                   n_knot_props=kp.n_props, n_refine_props=n_ref, max_pad_km=max_pad)


def sort_candidates(cand):
    """Concatenate per-chunk candidates ``(i, j, ta, tb, tg)`` and sort them by (i, j, ta)."""
    if cand:
        ci, cj, ta, tb, tg = (np.concatenate(x) for x in zip(*cand, strict=True))
    else:
        ci = cj = np.empty(0, dtype=np.int64)
        ta = tb = tg = np.empty(0)
    o = np.lexsort((ta, cj, ci))
    return ci[o], cj[o], ta[o], tb[o], tg[o]


def chunk_candidates(plan: Plan, ck, c0: float, c1: float, cap: int, timings: dict[str, float],
                     scratch: dict | None = None):
    """Broad phase and interpolated-minimum filter of one chunk.

    Returns ``((i, j, ta, tb, tg), n_broad, max_pad_km, cap)``: internal indices
    of candidate pairs, their cell ``[ta, tb]`` and interpolated TCA guess ``tg``
    (seconds from the window start). Depends only on the plan and this chunk's
    knots, so chunks can run anywhere in any order.
    """
    T, thr, W = plan.T, plan.thr, plan.W
    t0 = time.perf_counter()
    L = c1 - c0
    n_cells = int(np.ceil(L / T - 1e-9))
    good = np.isfinite(ck.valid_end)
    max_pad = float(ck.pad_km[good].max(initial=0.0))
    pad_q = float(np.quantile(ck.pad_km[good], 0.99)) if good.any() else 0.0
    koff, kstride = ck.koff, ck.kstride
    # ``scratch`` (one per run, from the caller) keeps the previous chunk's packed cubic
    # as the buffer of this one: same shape for every chunk of a window
    scratch = {} if scratch is None else scratch
    K = broadphase.cubic_coefficients(ck.r_km, ck.v_km_s, ck.h, ck.off, ck.nk, koff, kstride,
                                      out=scratch.get("K"))
    scratch["K"] = K
    hw = 0.5 * T
    r_small = 0.5 * thr + pad_q + _V_SMALL_KM_S * hw + 0.006 * hw * hw
    if plan.protected:
        bound = broadphase.reach_bounds(T, thr, ck.h, ck.nk, koff, kstride, K, ck.pad_km)
        ok_b = np.isfinite(ck.valid_end) & ~plan.is_prim
        r_small_p = float(np.quantile(bound[ok_b], 0.99)) if ok_b.any() else r_small
    while True:
        if plan.protected:
            out, counts = broadphase.primary_pairs_kernel(
                T, L, n_cells, ck.t_first, ck.h, ck.nk, koff, kstride, K, ck.valid_end, ck.pad_km,
                thr, r_small_p, bound, plan.is_prim, plan.prim_idx, _N_BLOCKS, cap)
        else:
            out, counts = broadphase.all_pairs_kernel(
                T, L, n_cells, ck.t_first, ck.h, ck.nk, koff, kstride, K, ck.valid_end, ck.pad_km,
                thr, r_small, _N_BLOCKS, cap)
        if counts.max(initial=0) <= cap:
            break
        cap = int(2 ** np.ceil(np.log2(counts.max() * 1.25)))
    trip = np.concatenate([out[b, : counts[b]] for b in range(_N_BLOCKS)])
    timings["broad"] = timings.get("broad", 0.0) + time.perf_counter() - t0
    t0 = time.perf_counter()
    ci = np.ascontiguousarray(trip[:, 0]).astype(np.int64)
    cj = np.ascontiguousarray(trip[:, 1]).astype(np.int64)
    kk = np.ascontiguousarray(trip[:, 2]).astype(np.int64)
    dmin, tg = broadphase.interpolated_minimum(ci, cj, kk, T, L, ck.t_first, ck.h, ck.nk,
                                               ck.off, ck.r_km, ck.v_km_s)
    near = dmin <= thr + ck.pad_km[ci] + ck.pad_km[cj]
    ta = c0 + kk[near] * T
    found = (ci[near], cj[near], ta, np.minimum(ta + T, W), c0 + tg[near])
    timings["interp"] = timings.get("interp", 0.0) + time.perf_counter() - t0
    return found, len(trip), max_pad, cap


def _events(plan: Plan, norad: np.ndarray, out: Refined) -> np.ndarray:
    """Event records from the refined candidates (primary first, sorted, deduplicated)."""
    thr, W, obj, is_prim = plan.thr, plan.W, plan.obj, plan.is_prim
    found = out.status == 0
    miss, speed, _ = event_geometry(out.ri[found], out.vi[found], out.rj[found], out.vj[found])
    ok = (miss < thr) & (out.t_tca[found] >= 0.0) & (out.t_tca[found] <= W)
    fi = np.flatnonzero(found)[ok]
    a_int, b_int = out.ci[fi], out.cj[fi]
    ida, idb = norad[obj[a_int]], norad[obj[b_int]]
    if plan.protected:
        # the protected object is the primary; two protected objects: the lower id
        a_first = np.where(is_prim[a_int] & is_prim[b_int], ida < idb, is_prim[a_int])
    else:
        a_first = ida < idb
    p_r = np.where(a_first[:, None], out.ri[fi], out.rj[fi])
    p_v = np.where(a_first[:, None], out.vi[fi], out.vj[fi])
    s_r = np.where(a_first[:, None], out.rj[fi], out.ri[fi])
    s_v = np.where(a_first[:, None], out.vj[fi], out.vi[fi])
    miss, speed, ric = event_geometry(p_r, p_v, s_r, s_v)
    ev = np.zeros(len(fi), dtype=EVENT_DTYPE)
    ev["primary_norad_id"] = np.where(a_first, ida, idb)
    ev["secondary_norad_id"] = np.where(a_first, idb, ida)
    ev["t_s"] = out.t_tca[fi]
    ev["miss_km"] = miss
    ev["rel_speed_km_s"] = speed
    ev["radial_km"] = ric[:, 0]
    ev["in_track_km"] = ric[:, 1]
    ev["cross_track_km"] = ric[:, 2]
    return _dedupe(ev)


def shared_element_sets(satrecs, norad_id: np.ndarray) -> tuple[tuple[int, ...], ...]:
    """Groups (sorted NORAD ids) of objects whose SGP4 records are identical.

    Identical means the same epoch and the same mean elements and drag term,
    so SGP4 gives them the same position at every time.
    """
    groups: dict[tuple[float, ...], list[int]] = {}
    for sat, nid in zip(satrecs, norad_id.tolist(), strict=True):
        key = (sat.jdsatepoch, sat.jdsatepochF, sat.no_kozai, sat.ecco, sat.inclo,
               sat.nodeo, sat.argpo, sat.mo, sat.bstar)
        groups.setdefault(key, []).append(int(nid))
    return tuple(sorted(tuple(sorted(g)) for g in groups.values() if len(g) > 1))


def _dedupe(ev: np.ndarray, min_separation_s: float = 1.0) -> np.ndarray:
    """Sort by (TCA, primary, secondary); merge minima of one pair closer than ``min_separation_s``.

    Cells own minima exactly once, but the position-derivative polish can move two
    nearby roots of ``d.w`` (a shallow max/min pair of a slow pair) onto one minimum.
    """
    if len(ev) == 0:
        return ev
    o = np.lexsort((ev["miss_km"], ev["t_s"], ev["secondary_norad_id"], ev["primary_norad_id"]))
    ev = ev[o]
    same_pair = (ev["primary_norad_id"][1:] == ev["primary_norad_id"][:-1]) & (
        ev["secondary_norad_id"][1:] == ev["secondary_norad_id"][:-1])
    close = np.diff(ev["t_s"]) < min_separation_s
    drop = np.zeros(len(ev), dtype=bool)
    # keep the first of each run of near-identical minima (then the smaller miss wins below)
    for k in np.flatnonzero(same_pair & close):
        a, b = k, k + 1
        if ev["miss_km"][b] < ev["miss_km"][a]:
            drop[a] = True
        else:
            drop[b] = True
    ev = ev[~drop]
    o = np.lexsort((ev["secondary_norad_id"], ev["primary_norad_id"], ev["t_s"]))
    return ev[o]
