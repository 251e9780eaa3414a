"""Each fast part against a brute-force twin (STYLE.md 5.6): the broad phase must never
drop a pair the O(N^2) linear-motion test keeps, and the interpolation pads must bound
the true SGP4 error."""

from __future__ import annotations

import numpy as np
import pytest
from screening_subsets import FULL_2023, dense_leo, eccentric, geo_neighbours, load_snapshot

from kizuna.screening import broadphase
from kizuna.screening.engine import newest_epoch
from kizuna.screening.filters import radial_shells, shells_within
from kizuna.screening.knots import KnotPropagator, knot_multiples
from kizuna.screening.tca import sgp4_at
from kizuna.timelib import jd_fr_from_datetime

T = 30.0
THR = 5.0


def _knot_population(snap, ids):
    """Satrecs of ``ids`` sorted by knot multiple (1 km target), their multiples, and the start."""
    sats = snap.subset(ids).satrecs()
    mult = knot_multiples(np.array([s.no_kozai for s in sats]), np.array([s.ecco for s in sats]),
                          sample_step_s=T, target_km=1.0, max_step_s=3840.0)
    order = np.argsort(mult, kind="stable")
    return [sats[k] for k in order], mult[order], *jd_fr_from_datetime(newest_epoch(snap))


@pytest.fixture(scope="module")
def chunk():
    snap = load_snapshot(FULL_2023)
    ids = np.concatenate([dense_leo(snap, 500, seed=3), eccentric(snap, 40),
                          geo_neighbours(snap)[:60]])
    sats, mult, jd0, fr0 = _knot_population(snap, ids)
    kp = KnotPropagator(sats, mult, sample_step_s=T, chunk_s=7200.0, jd0=jd0, fr0=fr0,
                        workers=1, stride=4, safety=2.0, floor_km=0.005)
    return sats, kp.chunk(3600.0, 10800.0), jd0, fr0


def test_interpolation_error_stays_below_the_pad(chunk):
    sats, ck, jd0, fr0 = chunk
    rng = np.random.default_rng(0)
    n = len(sats)
    obj = np.repeat(np.arange(n), 40)
    t_rel = rng.uniform(0.0, ck.length_s, size=obj.size)
    usable = t_rel <= ck.valid_end[obj]
    obj, t_rel = obj[usable], t_rel[usable]
    e, r, _ = sgp4_at(sats, obj, ck.c0_s + t_rel, jd0, fr0)
    p = np.empty((len(obj), 3))
    v = np.empty(3)
    for k in range(len(obj)):
        broadphase._eval(obj[k], t_rel[k], ck.t_first, ck.h, ck.nk, ck.off, ck.r_km, ck.v_km_s,
                         p[k], v)
    err = np.linalg.norm(p - r, axis=1)[e == 0]
    pad = ck.pad_km[obj][e == 0]
    assert (err <= pad).all(), f"worst excess {np.max(err - pad):.4f} km"
    assert np.median(pad) < 1.5


def test_packed_segments_are_segment_major_per_knot_group_and_never_overlap(chunk):
    """The layout checked from its definition, not from the koff/kstride it is read with:
    each (object, segment) gets its own record holding that knot's state, and at a given
    segment the objects of one knot step sit in consecutive records."""
    _, ck, _, _ = chunk
    K = broadphase.cubic_coefficients(ck.r_km, ck.v_km_s, ck.h, ck.off, ck.nk, ck.koff,
                                      ck.kstride)
    owner = {}
    for i in range(len(ck.h)):
        for s in range(int(ck.nk[i])):
            q = int(ck.koff[i] + s * ck.kstride[i])
            assert 0 <= q < K.shape[0]
            assert owner.setdefault(q, (i, s)) == (i, s), f"record {q} shared"
            assert np.array_equal(K[q, 0], ck.r_km[ck.off[i] + s])
            assert np.array_equal(K[q, 1], ck.v_km_s[ck.off[i] + s])
    steps = np.unique(ck.h)
    assert len(steps) > 1
    for h in steps:
        members = np.flatnonzero(ck.h == h)
        assert np.array_equal(members, np.arange(members[0], members[-1] + 1))
        for s in (0, int(ck.nk[members[0]]) - 1):
            q = ck.koff[members] + s * ck.kstride[members]
            assert np.array_equal(np.diff(q), np.ones(len(members) - 1, dtype=np.int64))


def test_broad_phase_keeps_every_pair_the_brute_force_linear_test_keeps(chunk):
    sats, ck, _, _ = chunk
    L = ck.length_s
    n_cells = int(np.ceil(L / T))
    koff, kstride = ck.koff, ck.kstride
    K = broadphase.cubic_coefficients(ck.r_km, ck.v_km_s, ck.h, ck.off, ck.nk, koff, kstride)
    r_small = 0.5 * THR + 1.0 + 7.95 * T / 2 + 0.006 * (T / 2) ** 2
    out, counts = broadphase.all_pairs_kernel(T, L, n_cells, ck.t_first, ck.h, ck.nk, koff,
                                              kstride, K, ck.valid_end, ck.pad_km, THR, r_small,
                                              8, 1 << 16)
    assert counts.max() <= out.shape[1]
    fast = {tuple(x) for b in range(8) for x in out[b, : counts[b]].tolist()}
    # brute force twin: every pair, every cell, same exact linear-motion test
    n = len(sats)
    # zeros, not empty: _states leaves inactive objects' rows alone, and garbage there can
    # be NaN (a warning, hence an error, in the arithmetic below; the rows are masked anyway)
    pos, vel = np.zeros((n, 3)), np.zeros((n, 3))
    dev, reach = np.zeros(n), np.zeros(n)
    act = np.empty(n, dtype=bool)
    slow = set()
    iu, ju = np.triu_indices(n, 1)
    for k in range(n_cells):
        hw = broadphase._states(k, T, L, ck.t_first, ck.h, ck.nk, koff, kstride, K, ck.valid_end,
                                ck.pad_km, THR, pos, vel, dev, reach, act)
        d = pos[ju] - pos[iu]
        w = vel[ju] - vel[iu]
        ww = np.einsum("ij,ij->i", w, w)
        tau = np.clip(-np.einsum("ij,ij->i", d, w) / np.where(ww > 0, ww, 1.0), -hw, hw)
        m = np.linalg.norm(d + w * tau[:, None], axis=1)
        lim = THR + ck.pad_km[iu] + ck.pad_km[ju] + dev[iu] + dev[ju]
        hit = np.flatnonzero((m <= lim) & act[iu] & act[ju])
        slow |= {(int(iu[h]), int(ju[h]), k) for h in hit}
    assert slow, "the twin found nothing: the test population is not dense enough"
    assert slow <= fast
    assert fast <= slow  # and nothing the exact test would not keep


def test_shell_prefilter_never_drops_a_pair_that_comes_close(chunk):
    snap = load_snapshot(FULL_2023)
    sub = snap.subset(np.concatenate([dense_leo(snap, 300, seed=9), eccentric(snap, 40)]))
    sats = sub.satrecs()
    jd0, fr0 = jd_fr_from_datetime(newest_epoch(snap))
    rmin, rmax, err0 = radial_shells(sats, jd0, fr0, 86400.0, margin_km=60.0)
    ts = np.arange(0.0, 86400.0, 20.0)
    rad = np.full((len(sats), len(ts)), np.nan)
    for k, s in enumerate(sats):
        e, r, _ = s.sgp4_array(np.full(len(ts), jd0), fr0 + ts / 86400.0)
        rad[k] = np.where(e == 0, np.linalg.norm(r, axis=1), np.nan)
    inside = np.nanmin(rad, axis=1) >= rmin - 1e-9
    inside &= np.nanmax(rad, axis=1) <= rmax + 1e-9
    assert inside[err0 == 0].all()
    assert shells_within(6900.0, 6910.0, 6914.0, 6920.0, 5.0)
    assert not shells_within(6900.0, 6910.0, 6916.0, 6920.0, 5.0)


class _NumpyPost(KnotPropagator):
    def _post(self, *args):
        self._post_numpy(*args)


def test_compiled_knot_bookkeeping_equals_its_numpy_definition():
    # LEO objects of which some decay within the day, a pad cap low enough that some
    # segments blow it (both end an object's usable time), two chunks, plus HEO and GEO.
    snap = load_snapshot(FULL_2023)
    ids = np.concatenate([dense_leo(snap, 4000, seed=1), eccentric(snap, 40),
                          geo_neighbours(snap)[:60]])
    sats, mult, jd0, fr0 = _knot_population(snap, np.unique(ids))
    args = dict(sample_step_s=T, chunk_s=43200.0, jd0=jd0, fr0=fr0, workers=1, stride=8,
                safety=2.0, floor_km=0.005, max_pad_km=0.9)
    fast, twin = KnotPropagator(sats, mult, **args), _NumpyPost(sats, mult, **args)
    for c0, c1 in [(0.0, 43200.0), (43200.0, 86400.0)]:
        a, b = fast.chunk(c0, c1), twin.chunk(c0, c1)
        np.testing.assert_array_equal(a.r_km, b.r_km)
        np.testing.assert_array_equal(a.nk, b.nk)
        np.testing.assert_array_equal(a.t_first, b.t_first)
        np.testing.assert_array_equal(a.valid_end, b.valid_end)
        np.testing.assert_array_equal(fast.failed_at_s, twin.failed_at_s)
        np.testing.assert_allclose(a.pad_km, b.pad_km, rtol=1e-12, atol=0)
    failed = np.isfinite(fast.failed_at_s)
    # measured: 3 SGP4 failures (decays) and 8 more whose segments exceed the 0.9 km cap
    assert failed.sum() == 11
    assert (a.pad_km > 0.005).mean() > 0.5


def test_knots_are_bit_identical_whatever_the_number_of_workers():
    # heyoka's SIMD batches make a satellite's last bits depend on its batch-mates: the
    # parts are cut at multiples of its lane width so that any split gives the same knots
    # (and the same CSV locally and on a Dask cluster).
    snap = load_snapshot(FULL_2023)
    ids = np.concatenate([dense_leo(snap, 997, seed=4), eccentric(snap, 41),
                          geo_neighbours(snap)[:61]])
    sats, mult, jd0, fr0 = _knot_population(snap, np.unique(ids))
    runs = []
    for workers in (1, 2, 3):
        kp = KnotPropagator(sats, mult, sample_step_s=T, chunk_s=7200.0, jd0=jd0, fr0=fr0,
                            workers=workers, stride=8, safety=2.0, floor_km=0.005)
        ck = kp.chunk(0.0, 7200.0)
        runs.append((np.array(ck.r_km), np.array(ck.v_km_s), np.array(ck.pad_km)))
    for r, v, pad in runs[1:]:
        assert np.array_equal(r, runs[0][0], equal_nan=True)
        assert np.array_equal(v, runs[0][1], equal_nan=True)
        assert np.array_equal(pad, runs[0][2])
