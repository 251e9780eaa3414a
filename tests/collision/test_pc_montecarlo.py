"""Seeded Monte Carlo against the exact 2D value, CARA's 1e8-trial MC and Hall's 3D Nc."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from pc_cases import alfano_case, cara_unit_json

from kizuna.collision.encounter import CollisionInputError
from kizuna.collision.foster import foster_pc
from kizuna.collision.hall3d import (
    MU_EARTH_KM3_S2,
    _EquinoctialPop,
    cartesian_to_equinoctial,
    kepler_propagate,
    pc_hall3d,
)
from kizuna.collision.montecarlo import (
    MC_BLOCK,
    _hits_numba,
    _hits_numpy,
    _orbit_constants,
    _Sampler,
    _segment_clear,
    _window_clear,
    mc_2d_from_states,
    pc_mc_3d,
    wilson_interval,
)

TLIMIT = cara_unit_json()["alfano2009_cases"]["Tlimit_s"]
T08 = Path(__file__).resolve().parents[1] / "data" / "ccsds" / "cdm" / "cara" / \
    "OmitronTestCase_Test08_3DNc.cdm.gz"


def _args(n):
    c = alfano_case(n)
    return c, (c.r1_km, c.v1_km_s, c.cov1, c.r2_km, c.v2_km_s, c.cov2, c.hbr_km)


def _draws(n, count, seed=1, sampling="cartesian"):
    c, a = _args(n)
    x1, x2 = np.concatenate([c.r1_km, c.v1_km_s]), np.concatenate([c.r2_km, c.v2_km_s])
    s = _Sampler(x1, c.cov1, x2, c.cov2, sampling, MU_EARTH_KM3_S2)
    return c, s, *s.draws(seed, 0, count)


def test_wilson_interval_textbook_value():
    # 50 of 100: 0.5 +/- 0.0962 (Wilson, z = 1.96).
    lo, hi = wilson_interval(50, 100)
    assert lo == pytest.approx(0.40383, abs=1e-4)
    assert hi == pytest.approx(0.59617, abs=1e-4)


@pytest.mark.parametrize("n", [3, 6])
def test_mc2d_interval_contains_exact_2d(n):
    c = alfano_case(n)
    args = (c.r1_km, c.v1_km_s, c.cov1, c.r2_km, c.v2_km_s, c.cov2, c.hbr_km)
    mc = mc_2d_from_states(*args, n_samples=2_000_000, seed=11)
    lo, hi = mc.ci95
    assert lo <= foster_pc(*args).pc <= hi
    again = mc_2d_from_states(*args, n_samples=2_000_000, seed=11)
    assert again.n_hits == mc.n_hits  # seeded


@pytest.mark.parametrize("n", [5, 8])
def test_mc3d_consistent_with_cara_monte_carlo(n):
    # 2^18 two-body draws: our 95% interval (about +/-1.8% for case 5) must
    # contain CARA's 1e8-trial estimate (CARA's own interval is ~20x narrower).
    c, args = _args(n)
    t = TLIMIT[n - 1]
    res = pc_mc_3d(*args, (-t, t), n_samples=2 ** 18, seed=1, n_grid=50)
    lo, hi = res.ci95
    assert lo <= c.expected["CARA_PcMC"] <= hi


def test_mc3d_case12_zero_relative_velocity_entry_convention():
    # Identical mean states and a nearly rank-one covariance: ~0.2% of the
    # draws sit inside the 4 m sphere for the whole +/-1420 s window. CARA's
    # MC (1e8 trials, 0.00242) and the 3D Nc count entries into the sphere;
    # our default does too, and its interval must contain CARA's value.
    c, a = _args(12)
    args = (*a, (-1420.0, 1420.0))
    res = pc_mc_3d(*args, n_samples=2 ** 18, seed=1, n_grid=60)
    lo, hi = res.ci95
    assert lo <= c.expected["CARA_PcMC"] <= hi
    # The minimum-over-window convention counts the always-inside draws and
    # lands well above CARA's interval (0.0044 measured).
    wide = pc_mc_3d(*args, n_samples=2 ** 18, seed=1, n_grid=60, count="window_min")
    assert wide.ci95[0] > c.expected["CARA_PcMCHi95"]


# ---------------------------------------------------------------- numba kernel


@pytest.mark.parametrize("n, hbr_scale", [(5, 1.0), (5, 4.0), (9, 1.0), (12, 3.0)])
def test_numba_kernel_makes_the_numpy_reference_decision_for_every_draw(n, hbr_scale):
    # Same draws, both evaluators, every count convention, pruning on and
    # off; case 9 is eccentric (e ~ 0.7), case 12 has draws inside the
    # sphere over the whole window. A NaN row is an invalid draw in both.
    c, _, s1, s2 = _draws(n, 3000)
    s1[17] = np.nan
    t = TLIMIT[n - 1] if n != 12 else 1420.0
    grid = np.linspace(-t, t, 40)
    hbr = c.hbr_km * hbr_scale
    for count in ("entry", "closest_approach", "window_min"):
        ref = _hits_numpy(s1, s2, grid, MU_EARTH_KM3_S2, hbr, count, 1000)
        assert ref[17] == 2 and 5 < np.count_nonzero(ref == 1) < 2900
        for prune in (True, False):
            got = _hits_numba(s1, s2, grid, MU_EARTH_KM3_S2, hbr, count, prune=prune)
            np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("sampling", ["cartesian", "equinoctial"])
def test_numba_kernel_matches_numpy_on_a_short_window(sampling):
    # Omitron Test08's +/-131 s window exercises the propagation-free bound
    # (_window_clear); R = 1 km so that a few percent of the draws hit.
    args = _t08_states()
    x1, x2 = np.concatenate(args[:2]), np.concatenate(args[3:5])
    s1, s2 = _Sampler(x1, args[2], x2, args[5], sampling, MU_EARTH_KM3_S2).draws(6, 0, 4000)
    grid = np.linspace(-131.0, 131.0, 27)
    for count in ("entry", "window_min"):
        ref = _hits_numpy(s1, s2, grid, MU_EARTH_KM3_S2, 1.0, count, 4000)
        assert 20 < np.count_nonzero(ref == 1) < 1000
        np.testing.assert_array_equal(_hits_numba(s1, s2, grid, MU_EARTH_KM3_S2, 1.0, count),
                                      ref)


def test_same_seed_same_hits_whatever_chunk_backend_or_workers():
    _, args = _args(5)
    kw = {"t_window_s": (-1419.0, 1419.0), "n_samples": MC_BLOCK + 5000, "seed": 3,
          "n_grid": 30}
    one = pc_mc_3d(*args, **kw)
    assert one.n_hits > 0
    assert pc_mc_3d(*args, **kw, workers=2).n_hits == one.n_hits
    assert pc_mc_3d(*args, **kw, backend="numpy", chunk=7000).n_hits == one.n_hits
    assert pc_mc_3d(*args, **kw, backend="numpy", chunk=40_000).n_hits == one.n_hits


def _dense_min(x1, x2, t_lo, t_hi, n=2001):
    t = np.linspace(t_lo, t_hi, n)
    ra, _ = kepler_propagate(x1[:3], x1[3:], t)
    rb, _ = kepler_propagate(x2[:3], x2[3:], t)
    return np.linalg.norm(rb - ra, axis=-1).min()


@pytest.mark.parametrize("n, window", [(5, (-1419.0, 1419.0)), (1, (-21600.0, 21600.0)),
                                       (9, (-1200.0, 1200.0))])
def test_segment_bound_never_clears_an_interval_the_draw_enters(n, window):
    # Brute force: the minimum distance on each of 8 intervals (about the
    # kernel's own length for these orbits) from 2001 exact Kepler states.
    # With R just above it the bound must not clear the interval; with R at
    # half of it, it should clear most of them.
    _, _, s1, s2 = _draws(n, 30, seed=5)
    edges = np.linspace(*window, 9)
    cleared = 0
    for x1, x2 in zip(s1, s2, strict=True):
        c1, c2 = _orbit_constants(x1, MU_EARTH_KM3_S2), _orbit_constants(x2, MU_EARTH_KM3_S2)
        rp, vmax = min(c1[3], c2[3]), c1[4] + c2[4]
        for a, b in zip(edges[:-1], edges[1:], strict=True):
            pa = kepler_propagate(x2[:3], x2[3:], a)[0] - kepler_propagate(x1[:3], x1[3:], a)[0]
            pb = kepler_propagate(x2[:3], x2[3:], b)[0] - kepler_propagate(x1[:3], x1[3:], b)[0]
            dmin = _dense_min(x1, x2, a, b)
            assert not _segment_clear(pa, pb, b - a, rp, vmax, MU_EARTH_KM3_S2,
                                      dmin * (1 + 1e-9))
            cleared += _segment_clear(pa, pb, b - a, rp, vmax, MU_EARTH_KM3_S2, 0.5 * dmin)
    assert cleared > 0.5 * 30 * 8


def test_window_bound_never_clears_a_draw_that_enters():
    # The propagation-free bound from the epoch state (used for short
    # windows such as Omitron Test08's +/-131 s), against brute force.
    args = _t08_states()
    x1 = np.concatenate(args[:2])
    x2 = np.concatenate(args[3:5])
    s = _Sampler(x1, args[2], x2, args[5], "cartesian", MU_EARTH_KM3_S2)
    s1, s2 = s.draws(2, 0, 300)
    cleared = 0
    for y1, y2 in zip(s1, s2, strict=True):
        c1, c2 = _orbit_constants(y1, MU_EARTH_KM3_S2), _orbit_constants(y2, MU_EARTH_KM3_S2)
        rp, vmax = min(c1[3], c2[3]), c1[4] + c2[4]
        dmin = _dense_min(y1, y2, -131.0, 131.0)
        assert not _window_clear(y1, y2, -131.0, 131.0, rp, vmax, MU_EARTH_KM3_S2,
                                 dmin * (1 + 1e-9))
        cleared += _window_clear(y1, y2, -131.0, 131.0, rp, vmax, MU_EARTH_KM3_S2, 0.02)
    assert cleared > 0.9 * 300


# ---------------------------------------------------------------- Omitron Test08
#
# 2D Pc 2e-20, 3D Nc 1.93e-5 (CARA) with Gaussian equinoctial elements and
# 1.47e-5 with a Gaussian Cartesian state: plain Monte Carlo with each
# sampling must agree with the hall3d model that makes the same assumption.


def _t08_states():
    from kizuna.ccsds.cdm import cdm_states_inertial, parse_cdm
    return cdm_states_inertial(parse_cdm(gzip.open(T08, "rt").read(), file=str(T08)))


@pytest.fixture(scope="module")
def t08_hall():
    args = _t08_states()
    return {p: pc_hall3d(*args, 0.020, propagation=p) for p in ("equinoctial", "linear")}


def test_equinoctial_draws_have_hall3d_element_mean_and_covariance():
    # The Cartesian draws, converted back to elements, must have the mean and
    # covariance of hall3d's element Gaussian (2e5 draws: correlations to
    # ~0.002, means to ~0.002 sigma).
    r1, v1, c1, r2, v2, c2 = _t08_states()
    x1, x2 = np.concatenate([r1, v1]), np.concatenate([r2, v2])
    pop = _EquinoctialPop(x1, c1, x2, c2, MU_EARTH_KM3_S2)
    s = _Sampler(x1, c1, x2, c2, "equinoctial", MU_EARTH_KM3_S2)
    draws = [[], []]
    for b in range(7):
        for i, d in enumerate(s.draws(4, b, MC_BLOCK)):
            draws[i].append(d)
    for i in range(2):
        e = cartesian_to_equinoctial(np.concatenate(draws[i]))
        sd = np.sqrt(np.diag(pop.cov[i]))
        np.testing.assert_allclose((e.mean(axis=0) - pop.mean[i]) / sd, 0.0, atol=0.01)
        np.testing.assert_allclose(np.cov(e.T) / np.outer(sd, sd),
                                   pop.cov[i] / np.outer(sd, sd), atol=0.01)


def test_omitron08_equinoctial_sampling_contains_hall3d_default_and_cara(t08_hall):
    # 4e6 draws (~70 hits, about +/-24% at 95%) over hall3d's own window.
    hall = t08_hall["equinoctial"]
    mc = pc_mc_3d(*_t08_states(), 0.020, hall.extras["t_window_s"], n_samples=4_000_000,
                  seed=1, n_grid=27, sampling="equinoctial")
    lo, hi = mc.ci95
    cara = cara_unit_json()["OmitronTestCase_Test08_3DNc_cdm"]["expected"]["Pc3D_Hall"]
    assert lo <= hall.pc <= hi
    assert lo <= cara <= hi
    assert mc.extras["n_invalid"] == 0


def test_omitron08_cartesian_sampling_contains_hall3d_linear(t08_hall):
    hall = t08_hall["linear"]
    mc = pc_mc_3d(*_t08_states(), 0.020, hall.extras["t_window_s"], n_samples=4_000_000,
                  seed=1, n_grid=27)
    lo, hi = mc.ci95
    assert lo <= hall.pc <= hi


def test_bad_options_are_named():
    _, args = _args(5)
    for kw, word in (({"sampling": "keplerian"}, "sampling"), ({"backend": "cuda"}, "backend"),
                     ({"count": "any"}, "count"), ({"n_samples": 0}, "n_samples"),
                     ({"n_grid": 0}, "n_grid"), ({"t_window_s": (5.0, -5.0)}, "t_window_s")):
        with pytest.raises(CollisionInputError, match=word):
            pc_mc_3d(*args, **{"t_window_s": (-10.0, 10.0), **kw})
