"""Seeded Monte Carlo against the exact 2D value, CARA's 1e8-trial MC and Hall's 3D Nc."""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import numpy as np
import pytest
from pc_cases import alfano_case, cara_unit_json
from scipy import integrate

from kizuna.collision.encounter import (
    CollisionInputError,
    encounter_basis,
    project_encounter,
    remediate_covariance,
)
from kizuna.collision.foster import foster_pc
from kizuna.collision.hall3d import (
    MU_EARTH_KM3_S2,
    _EquinoctialPop,
    _reorient_if_retrograde,
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
    control_variate_estimate,
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


@pytest.mark.parametrize("n", [5, 6, 7, 8, 11, 12])
def test_alfano_window_is_a_quarter_of_the_shorter_period(n):
    """CARA's SDMC, without Nc bounds, spans +/- a quarter of the shorter two-body period
    (docs/design/collision.md); for these cases that equals Alfano's Tlimit within a
    second, so the window cannot explain the case-11 difference."""
    c = alfano_case(n)
    periods = []
    for r, v in ((c.r1_km, c.v1_km_s), (c.r2_km, c.v2_km_s)):
        a = 1.0 / (2.0 / np.linalg.norm(r) - np.dot(v, v) / MU_EARTH_KM3_S2)
        periods.append(2.0 * math.pi * math.sqrt(a**3 / MU_EARTH_KM3_S2))
    assert min(periods) / 4.0 == pytest.approx(TLIMIT[n - 1], abs=1.0)


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
    # 2^18 two-body draws, plain estimator: our 95% Wilson interval (about
    # +/-1.8% for case 5) must contain CARA's 1e8-trial estimate (CARA's own
    # interval is ~20x narrower). The control variate is tested below.
    c, args = _args(n)
    t = TLIMIT[n - 1]
    res = pc_mc_3d(*args, (-t, t), n_samples=2 ** 18, seed=1, n_grid=50,
                   control_variate=False)
    lo, hi = res.ci95
    assert lo <= c.expected["CARA_PcMC"] <= hi


def test_mc3d_case12_zero_relative_velocity_first_contact_convention():
    # Identical mean states and a nearly rank-one covariance: ~0.2% of the
    # draws sit inside the 4 m sphere for the whole +/-1420 s window, and
    # about 1% of the hits start inside, leave and come back. CARA's MC
    # (1e8 trials, 0.00242) counts a draw only if it is outside at the window
    # start and then makes contact (Pc_MC_Kep2body); our default does too,
    # and its interval must contain CARA's value.
    c, a = _args(12)
    args = (*a, (-1420.0, 1420.0))
    res = pc_mc_3d(*args, n_samples=2 ** 18, seed=1, n_grid=60, control_variate=False)
    lo, hi = res.ci95
    assert lo <= c.expected["CARA_PcMC"] <= hi
    # Counting every entry (also after starting inside) adds the draws that
    # start inside and re-enter (checked draw by draw in the next test).
    ent = pc_mc_3d(*args, n_samples=2 ** 18, seed=1, n_grid=60, count="entry",
                   control_variate=False)
    assert ent.n_hits >= res.n_hits
    # The minimum-over-window convention counts the always-inside draws and
    # lands well above CARA's interval (0.0044 measured).
    wide = pc_mc_3d(*args, n_samples=2 ** 18, seed=1, n_grid=60, count="window_min",
                    control_variate=False)
    assert wide.ci95[0] > c.expected["CARA_PcMCHi95"]


def test_first_contact_is_entry_without_the_draws_inside_at_the_start():
    # Case 11 (76 m miss, 8 cm/s): about 1% of the hits start inside the
    # 4 m sphere, leave and come back. Independently of both kernels, the
    # draws inside at the window start are found by propagating to t_min;
    # first_contact must be exactly entry minus those of them.
    c, _, s1, s2 = _draws(11, 300_000)
    grid = np.linspace(-1420.0, 1420.0, 60)
    hbr = c.hbr_km
    ra, _ = kepler_propagate(s1[:, :3], s1[:, 3:], grid[0], MU_EARTH_KM3_S2)
    rb, _ = kepler_propagate(s2[:, :3], s2[:, 3:], grid[0], MU_EARTH_KM3_S2)
    inside0 = np.linalg.norm(rb - ra, axis=-1) < hbr
    ent = _hits_numba(s1, s2, grid, MU_EARTH_KM3_S2, hbr, "entry")
    first = _hits_numba(s1, s2, grid, MU_EARTH_KM3_S2, hbr, "first_contact")
    assert np.count_nonzero(inside0 & (ent == 1)) >= 5  # re-entries exist here
    assert np.count_nonzero(first == 1) > 500
    np.testing.assert_array_equal(first, np.where(inside0, 0, ent))


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
    for count in ("entry", "closest_approach", "window_min", "first_contact"):
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
    for count in ("entry", "window_min", "first_contact"):
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
    assert pc_mc_3d(*args, **kw, workers=2, control_variate=False).n_hits == one.n_hits
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
    # With the control variate (default): the 2D value is ~1e-20, no draw has
    # C = 1, so the control cannot help and the plain estimate is reported.
    x = mc.extras
    assert x["pc2d_control"] == pytest.approx(foster_pc(*_t08_states(), 0.020).pc, rel=1e-6)
    assert x["pc2d_control"] < 1e-15 and x["n_control"] == 0
    assert x["estimator"] == "plain" and mc.pc == mc.n_hits / mc.n_samples


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


# ---------------------------------------------------------------- control variate
#
# C = 1 when the linear image of a draw, projected on the mean states'
# encounter plane, is inside the hard-body disc; E[C] is a 2D integral.


def _sampler_with_control(n, sampling):
    c, _ = _args(n)
    x1, x2 = np.concatenate([c.r1_km, c.v1_km_s]), np.concatenate([c.r2_km, c.v2_km_s])
    p1, p2 = remediate_covariance(c.cov1)[0], remediate_covariance(c.cov2)[0]
    return c, _Sampler(x1, p1, x2, p2, sampling, MU_EARTH_KM3_S2, hbr_km=c.hbr_km), (p1, p2)


def _disc_integral_dblquad(miss, cov, r):
    # Independent of foster.py: the bivariate density in the plane's own
    # axes (no principal frame, no erf reduction) over the disc, 2D adaptive.
    ci, det = np.linalg.inv(cov), np.linalg.det(cov)
    mx, my = miss

    def f(y, x):
        dx, dy = x - mx, y - my
        q = ci[0, 0] * dx * dx + 2 * ci[0, 1] * dx * dy + ci[1, 1] * dy * dy
        return math.exp(-0.5 * q) / (2 * math.pi * math.sqrt(det))

    val, _ = integrate.dblquad(f, -r, r, lambda x: -math.sqrt(r * r - x * x),
                               lambda x: math.sqrt(r * r - x * x), epsabs=0.0, epsrel=1e-12)
    return val


@pytest.mark.parametrize("n, sampling", [(3, "cartesian"), (6, "cartesian"),
                                         (3, "equinoctial"), (8, "equinoctial")])
def test_control_expectation_is_the_2d_integral_to_1e10(n, sampling):
    # Case 3 is near-retrograde: its equinoctial draws live in a rotated
    # frame. The control's (miss, covariance) must be the encounter-plane
    # projection of the inputs, and its mean a direct 2D quadrature of it.
    c, s, (p1, p2) = _sampler_with_control(n, sampling)
    enc = project_encounter(c.r1_km, c.v1_km_s, p1, c.r2_km, c.v2_km_s, p2)
    ctl = s.control
    scale = np.abs(enc.cov_km2).max()
    np.testing.assert_allclose(ctl.cov_km2 / scale, enc.cov_km2 / scale, rtol=0, atol=1e-9)
    # km; the rotated frame rounds ~7000 km positions (1e-16 relative)
    np.testing.assert_allclose(np.abs(ctl.miss_km), np.abs(enc.miss_km), rtol=0, atol=1e-11)
    assert ctl.pc2d == pytest.approx(_disc_integral_dblquad(ctl.miss_km, ctl.cov_km2, c.hbr_km),
                                     rel=1e-10)
    # and CARA's 2D value (to CARA's own 2D accuracy)
    assert ctl.pc2d == pytest.approx(c.expected["CARA_Pc2D"], rel=1e-6)


@pytest.mark.parametrize("n, sampling", [(3, "cartesian"), (6, "cartesian"),
                                         (3, "equinoctial")])
def test_control_sample_mean_matches_its_exact_expectation(n, sampling):
    # 30 blocks (983,040 draws, as pc_mc_3d makes them): the fraction of
    # C = 1 must contain E[C] in its 99.9% Wilson interval. A wrong frame or
    # projection (e.g. the unrotated basis on case 3's rotated equinoctial
    # draws) moves it by many intervals.
    _, s, _ = _sampler_with_control(n, sampling)
    hits = 0
    for b in range(30):
        hits += int(np.count_nonzero(s.draws(5, b, MC_BLOCK, control=True)[2]))
    lo, hi = wilson_interval(hits, 30 * MC_BLOCK, z=3.29)
    assert lo <= s.control.pc2d <= hi


@pytest.mark.parametrize("sampling", ["cartesian", "equinoctial"])
def test_control_agrees_with_the_draws_own_projection(sampling):
    # The control uses the linear image of each draw; for Cartesian draws
    # that is the draw itself (identical indicator), for equinoctial ones
    # it differs only through the element-to-state nonlinearity (case 3,
    # rotated frame: no draw differs among 32,768).
    c, s, (p1, p2) = _sampler_with_control(3, sampling)
    x1, x2 = np.concatenate([c.r1_km, c.v1_km_s]), np.concatenate([c.r2_km, c.v2_km_s])
    y1, _, y2, _ = _reorient_if_retrograde(x1, p1, x2, p2) if sampling == "equinoctial" \
        else (x1, p1, x2, p2)
    s1, s2, ctl = s.draws(2, 0, MC_BLOCK, control=True)
    basis = encounter_basis(y2[:3] - y1[:3], y2[3:] - y1[3:])[[0, 2]]
    u = (s2[:, :3] - s1[:, :3]) @ basis.T
    own = np.einsum("ni,ni->n", u, u) < c.hbr_km ** 2
    assert 1000 < np.count_nonzero(own) < 10_000
    assert np.count_nonzero(own != ctl) <= (0 if sampling == "cartesian" else 3)


def _cv_coverage(cells, n, reps, seed):
    # cells: P(Y=1,C=1), P(Y=1,C=0), P(Y=0,C=1); returns (coverage, mean pc,
    # sd of pc, estimators) of control_variate_estimate over multinomial draws.
    p = np.array([*cells, 1.0 - sum(cells)])
    counts = np.random.default_rng(seed).multinomial(n, p, size=reps)
    truth, pc_c = cells[0] + cells[1], cells[0] + cells[2]
    est = [control_variate_estimate(n, k[0] + k[1], k[0] + k[2], k[0], pc_c) for k in counts]
    pcs = np.array([e["pc"] for e in est])
    cover = np.mean([e["ci95"][0] <= truth <= e["ci95"][1] for e in est])
    return cover, pcs.mean(), pcs.std(), [e["estimator"] for e in est], est


def test_control_variate_estimator_unbiased_with_95pct_coverage():
    # Synthetic (Y, C) pairs with a known E[Y]: 4000 replications of 20,000
    # draws, ~120 discordant draws each (the normal-approximation path).
    cover, mean, sd, kinds, est = _cv_coverage((0.04, 0.004, 0.002), 20_000, 4000, 1)
    assert kinds.count("control_variate") == 4000
    assert 0.935 <= cover <= 0.965  # +/-4.4 sigma of 4000 Bernoulli(0.95)
    assert abs(mean - 0.044) < 4 * sd / math.sqrt(4000)
    # the variance really is reduced ~ var(Y) / var(Y - C)
    assert np.median([e["vrf"] for e in est]) == pytest.approx(
        0.044 * 0.956 / (0.006 - 0.002 ** 2), rel=0.15)
    assert sd < math.sqrt(0.044 * 0.956 / 20_000) / 2.5


def test_control_variate_few_discordant_draws_exact_conservative_interval():
    # ~6 discordant draws per run: the difference estimator with
    # Clopper-Pearson bounds, which must cover at least 95%.
    cover, mean, sd, kinds, _ = _cv_coverage((0.01, 2e-5, 1e-5), 200_000, 4000, 2)
    assert kinds.count("difference") > 3900
    assert cover >= 0.95
    assert abs(mean - 0.01002) < 4 * sd / math.sqrt(4000)
    # No discordant draw at all: E[C] with a ~4.4/n half-width, not a point.
    e = control_variate_estimate(100_000, 5000, 5000, 5000, 0.0501)
    assert e["estimator"] == "difference" and e["pc"] == 0.0501 and e["vrf"] == math.inf
    assert 4.0 / 100_000 < e["ci95"][1] - 0.0501 < 5.0 / 100_000
    # A useless control (independent of Y) or a weak one (vrf ~1.1) hands
    # back the plain Wilson interval; a fair one (vrf ~1.5) does not.
    for n_yc, kind in ((1, "plain"), (40, "plain"), (60, "control_variate")):
        e = control_variate_estimate(10_000, 100, 120, n_yc, 0.012)
        assert e["estimator"] == kind
    e = control_variate_estimate(10_000, 100, 120, 1, 0.012)
    assert e["ci95"] == wilson_interval(100, 10_000) and e["pc"] == 0.01


@pytest.mark.parametrize("n, vrf_min", [(5, math.inf), (8, 5.0)])
def test_control_variate_consistent_with_cara_monte_carlo_with_few_draws(n, vrf_min):
    # 2^18 draws. Case 5 (short encounter): no draw of the 3D kernel differs
    # from its 2D control, so the estimate is E[C] with the exact
    # conservative interval (~1/50 of the plain Wilson width, ~2.4x
    # narrower than CARA's 1e8-trial interval). Case 8 (measured: vrf 8.3,
    # 1143 discordant draws) by the regression. The wider of the two 95%
    # intervals must contain the other estimate, and the difference must be
    # within 3 combined standard errors.
    c, args = _args(n)
    t = TLIMIT[n - 1]
    res = pc_mc_3d(*args, (-t, t), n_samples=2 ** 18, seed=1, n_grid=32)
    x = res.extras
    lo, hi = res.ci95
    cara, clo, chi = (c.expected[k] for k in ("CARA_PcMC", "CARA_PcMCLo95", "CARA_PcMCHi95"))
    se_cara = math.sqrt(cara * (1 - cara) / c.expected["CARA_MCTrials"])
    assert abs(res.pc - cara) < 3 * math.hypot(x["se"], se_cara)
    if hi - lo > chi - clo:
        assert lo <= cara <= hi
    else:
        assert clo <= res.pc <= chi
    assert x["vrf"] >= vrf_min
    wilson = x["ci95_plain"][1] - x["ci95_plain"][0]
    assert hi - lo < wilson / (30 if math.isinf(vrf_min) else 2.2)
    assert x["n_both"] <= min(x["n_control"], res.n_hits)
    assert x["pc_plain"] == res.n_hits / res.n_samples
    # the plain estimate is unchanged by the option
    plain = pc_mc_3d(*args, (-t, t), n_samples=2 ** 18, seed=1, n_grid=32,
                     control_variate=False)
    assert plain.n_hits == res.n_hits and plain.pc == x["pc_plain"]
    assert plain.ci95 == x["ci95_plain"] and plain.extras["estimator"] == "plain"


@pytest.mark.parametrize("n", [6, 9])
def test_control_variate_estimate_consistent_with_plain(n):
    # Same draws: plain - CV = beta (mean(C) - E[C]), a zero-mean error of
    # sd beta sqrt(E[C] (1 - E[C]) / N). Case 6 is short and nearly linear
    # (vrf ~ 290), case 9 long and eccentric (vrf ~ 7).
    c, args = _args(n)
    t = TLIMIT[n - 1]
    res = pc_mc_3d(*args, (-t, t), n_samples=4 * MC_BLOCK, seed=4, n_grid=32)
    x = res.extras
    p2 = x["pc2d_control"]
    sd = x["beta"] * math.sqrt(p2 * (1 - p2) / res.n_samples)
    assert abs(x["pc_plain"] - res.pc) < 4 * sd
    assert x["ci95_plain"][0] <= res.pc <= x["ci95_plain"][1]
    assert x["vrf"] > 3.0


def test_control_variate_same_answer_for_any_workers_and_chunk():
    _, args = _args(8)
    kw = {"t_window_s": (-TLIMIT[7], TLIMIT[7]), "n_samples": 2 * MC_BLOCK + 3000, "seed": 9,
          "n_grid": 30}
    one = pc_mc_3d(*args, **kw)
    assert one.extras["estimator"] == "control_variate"
    for other in (pc_mc_3d(*args, **kw, workers=2),
                  pc_mc_3d(*args, **kw, backend="numpy", chunk=9000)):
        assert (other.pc, other.ci95) == (one.pc, one.ci95)
        for key in ("n_control", "n_both", "beta", "vrf"):
            assert other.extras[key] == one.extras[key]


def test_control_variate_unavailable_at_zero_relative_velocity():
    c, a = _args(12)
    res = pc_mc_3d(*a, (-1420.0, 1420.0), n_samples=MC_BLOCK, seed=1, n_grid=30)
    assert res.extras["estimator"] == "plain" and "control_note" in res.extras
    assert res.pc == res.n_hits / res.n_samples
