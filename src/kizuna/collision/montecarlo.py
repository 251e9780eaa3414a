"""Seeded Monte Carlo reference for the collision probability.

Two estimators, both counting hits among ``n_samples`` seeded draws (same
seed -> same answer) and reporting a 95% interval (Wilson score interval for
the hit fraction; for :func:`pc_mc_3d` by default a control-variate
estimate and its interval, see below):

* :func:`pc_mc_2d` - draws the relative position in the encounter plane from
  N(miss, C) and counts draws inside the hard-body disc (checks the 2D
  methods, same assumptions);
* :func:`pc_mc_3d` - draws both objects' TCA states (a Gaussian in the
  equinoctial elements, as :mod:`kizuna.collision.hall3d`'s default model and
  CARA's Monte Carlo, or with ``sampling="cartesian"`` in the Cartesian state), propagates
  each draw by two-body motion over the time window, and counts draws whose
  relative position enters the hard-body sphere during the window (checks
  the 3D method, no short-encounter assumption). Entries are found on a time
  grid, with the closest approach between grid points refined by Newton
  steps on d|r|^2/dt = 0 with exact Kepler propagation (see ``count`` of
  :func:`pc_mc_3d` for the other conventions).

The 3D draws are evaluated by a numba kernel (default) or by the numpy
reference :func:`_min_distance`. The kernel solves the same Kepler equation
to the same tolerance and makes the same per-draw decision (tested draw by
draw); it skips only draws that provably stay outside the sphere
(:func:`_window_clear`, :func:`_segment_clear`). Random numbers come in
fixed blocks of :data:`MC_BLOCK` draws, block ``b`` from
``SeedSequence(seed, spawn_key=(b,))``, so the draws depend only on ``seed``
and ``n_samples``, not on ``chunk`` or the number of worker processes.

Control variate (``pc_mc_3d(..., control_variate=True)``, the default). Every
draw is a linear function of 12 standard normal deviates ``z`` plus, for
equinoctial sampling, a nonlinear conversion. The *linear image* of the draw
(``x_mean + M z`` with ``M M^T = P``: the Cartesian draw itself, or ``x_mean
+ J (e - e_mean)``, ``J = dX/dE`` at the mean, for equinoctial draws) gives
the control ``C = 1`` if its relative position, projected on the encounter
plane of the mean states (perpendicular to the mean relative velocity), lies
inside the hard-body disc. That projection is exactly N(miss, A A^T), so
E[C] is the Foster 2D Pc of ``(miss, A A^T)`` - known, not sampled (adaptive
quadrature; a direct 2D quadrature agrees to ~1e-14 on the Alfano cases, the
tests require 1e-10).
:func:`control_variate_estimate` combines the hit indicator ``Y`` with ``C``:
``pc = mean(Y) - beta (mean(C) - E[C])``. Its variance is that of ``Y``
times ``1 - corr(Y, C)^2``: large gains when the encounter is short and
nearly linear (the 3D hits are then mostly the 2D ones), little when hits
come from a long, curved relative path.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from scipy import special

from kizuna.collision.encounter import (
    FCLIP,
    CollisionInputError,
    PcResult,
    encounter_basis,
    project_encounter,
    remediate_covariance,
)
from kizuna.collision.foster import _principal, pc_circle_2d_adaptive
from kizuna.collision.hall3d import (
    MU_EARTH_KM3_S2,
    _EquinoctialPop,
    _eq_state_and_jacobian,
    _reorient_if_retrograde,
    equinoctial_to_cartesian,
    kepler_propagate,
)
from kizuna.parallel import run_parts, shared_array, split

Z95 = 1.959963984540054

#: Draws per random-number block of :func:`pc_mc_3d` (the unit of seeding).
MC_BLOCK = 32_768

_COUNTS = ("entry", "closest_approach", "window_min", "first_contact")

#: Fewest discordant draws (hit indicator != control) for the control-variate
#: normal-approximation interval; below it :func:`control_variate_estimate`
#: uses the difference estimator with exact (Clopper-Pearson) bounds.
CV_MIN_DISCORDANT = 20
#: The control-variate interval is reported only if at most this fraction of
#: the plain Wilson interval's width (variance reduction >~ 1.2); otherwise
#: the plain estimate, which needs no normal approximation, is as good.
CV_MAX_WIDTH_RATIO = 0.9


def wilson_interval(hits: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (default 95%)."""
    if n <= 0:
        raise CollisionInputError("n_samples must be > 0")
    p = hits / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, centre - half), min(1.0, centre + half)


def _plain_estimate(hits: int, n: int, z: float = Z95) -> dict:
    """The hit fraction, its Wilson interval and standard error (the ``*_plain`` extras)."""
    y = hits / n
    return {"pc_plain": y, "ci95_plain": wilson_interval(hits, n, z),
            "se_plain": math.sqrt(y * (1 - y) / n)}


def _clopper_pearson(k: int, n: int, alpha: float) -> tuple[float, float]:
    """Exact (Clopper-Pearson) two-sided 1 - alpha interval for k successes in n."""
    lo = 0.0 if k == 0 else float(special.betaincinv(k, n - k + 1, alpha / 2))
    hi = 1.0 if k == n else float(special.betaincinv(k + 1, n - k, 1 - alpha / 2))
    return lo, hi


def control_variate_estimate(n: int, n_y: int, n_c: int, n_yc: int, pc_control: float,
                             min_discordant: int = CV_MIN_DISCORDANT, z: float = Z95) -> dict:
    """Pc from hit counts and a binary control of known mean (see module docstring).

    Parameters
    ----------
    n : draws.
    n_y, n_c, n_yc : draws with Y = 1 (hits), with C = 1, and with both.
    pc_control : exact E[C].
    min_discordant : fewest draws with Y != C for the normal interval.
    z : normal quantile of the interval (default 95%).

    Returns
    -------
    dict with ``pc``, ``ci95``, ``se``, ``estimator``, ``beta``, ``vrf`` and
    the plain estimate (``pc_plain``, its Wilson interval ``ci95_plain``,
    ``se_plain``).

    Notes
    -----
    ``"control_variate"``: the regression estimator ``mean(Y) - beta
    (mean(C) - E[C])``, ``beta = cov(Y, C) / var(C)`` from the same draws
    (its O(1/n) bias is far below the standard error), with a normal-
    approximation interval ``pc +/- z se``, ``se^2 = var(Y - beta C) /
    (n - 2)``. That residual is nonzero essentially only on the draws where
    Y != C, so the interval is as reliable as a normal approximation to a
    count of those draws: used from ``min_discordant`` (20) of them.

    ``"difference"``: with fewer discordant draws (or C constant in the
    sample), ``E[C] + (n_10 - n_01) / n`` (beta = 1, exactly unbiased) with
    ``n_10`` hits whose control is 0 and ``n_01`` the reverse; the interval
    combines exact Clopper-Pearson bounds at level 1 - (1 - 0.95) / 2 for the
    two discordance rates, so it covers with probability >= 95% (Bonferroni)
    even with no discordant draw; ``se`` is then its half-width / z.

    ``"plain"``: unless the above interval is narrower than
    :data:`CV_MAX_WIDTH_RATIO` times the Wilson interval of the plain hit
    fraction (the control helps little), the plain estimate and its Wilson
    interval are reported instead.

    ``vrf`` (variance-reduction factor) is the estimated var(Y) / var(Y -
    beta C): the number of plain draws one controlled draw is worth; inf if
    no draw is discordant.
    """
    n, n_y, n_c, n_yc = int(n), int(n_y), int(n_c), int(n_yc)
    if not (n > 0 and 0 <= n_yc <= min(n_y, n_c) and n_y + n_c - n_yc <= n):
        raise CollisionInputError(f"inconsistent counts n={n}, n_y={n_y}, n_c={n_c}, n_yc={n_yc}")
    y, c = n_y / n, n_c / n
    s_yy = y * (1 - y)
    s_cc = c * (1 - c)
    s_yc = n_yc / n - y * c
    n10, n01 = n_y - n_yc, n_c - n_yc
    out = _plain_estimate(n_y, n, z)
    out["n_discordant"] = n10 + n01
    plain_ci = out["ci95_plain"]
    if n10 + n01 >= min_discordant and s_cc > 0:
        beta = s_yc / s_cc
        resid = max(s_yy - s_yc * s_yc / s_cc, 0.0)
        pc = y - beta * (c - pc_control)
        se = math.sqrt(resid / max(n - 2, 1))
        ci = (pc - z * se, pc + z * se)
        out.update(estimator="control_variate", beta=beta,
                   vrf=s_yy / resid if resid > 0 else math.inf)
    else:
        # each rate at level 1 - (1 - 0.95) / 2: both hold with probability >= 95%
        alpha = 0.5 * math.erfc(z / math.sqrt(2.0))
        lo10, hi10 = _clopper_pearson(n10, n, alpha)
        lo01, hi01 = _clopper_pearson(n01, n, alpha)
        pc = pc_control + (n10 - n01) / n
        ci = (pc_control + lo10 - hi01, pc_control + hi10 - lo01)
        se = 0.5 * (ci[1] - ci[0]) / z
        resid = (n10 + n01) / n - ((n10 - n01) / n) ** 2
        out.update(estimator="difference", beta=1.0,
                   vrf=s_yy / resid if resid > 0 else math.inf)
    ci = (max(0.0, ci[0]), min(1.0, ci[1]))
    if ci[1] - ci[0] > CV_MAX_WIDTH_RATIO * (plain_ci[1] - plain_ci[0]):
        out.update(estimator="plain", pc=y, ci95=plain_ci, se=out["se_plain"])
    else:
        out.update(pc=min(max(pc, 0.0), 1.0), ci95=ci, se=se)
    return out


def _sqrt_cov(cov):
    w, q = np.linalg.eigh(cov)
    return q * np.sqrt(np.maximum(w, 0.0))


def pc_mc_2d(miss_km, cov_km2, hbr_km, n_samples: int = 1_000_000, seed: int = 0,
             chunk: int = 1_000_000) -> PcResult:
    """Monte Carlo Pc in the encounter plane (see module docstring)."""
    rng = np.random.default_rng(seed)
    miss = np.asarray(miss_km, float)
    a = _sqrt_cov(np.asarray(cov_km2, float))
    r2 = float(hbr_km) ** 2
    hits = 0
    done = 0
    while done < n_samples:
        m = min(chunk, n_samples - done)
        x = miss + rng.standard_normal((m, 2)) @ a.T
        hits += int(np.count_nonzero(np.einsum("ij,ij->i", x, x) < r2))
        done += m
    return PcResult(hits / n_samples, "mc2d", ci95=wilson_interval(hits, n_samples),
                    n_samples=n_samples, n_hits=hits)


def mc_2d_from_states(r1_km, v1_km_s, cov1_km2, r2_km, v2_km_s, cov2_km2, hbr_km,
                      n_samples: int = 1_000_000, seed: int = 0,
                      fclip: float = FCLIP) -> PcResult:
    """:func:`pc_mc_2d` for TCA states and covariances (projected first)."""
    enc = project_encounter(r1_km, v1_km_s, cov1_km2, r2_km, v2_km_s, cov2_km2,
                            hbr_km=hbr_km, fclip=fclip)
    res = pc_mc_2d(enc.miss_km, enc.cov_km2, hbr_km, n_samples, seed)
    return PcResult(res.pc, "mc2d", bool(enc.remediated), res.ci95, res.n_samples, res.n_hits)


def _min_distance(x1, x2, t_grid, mu, newton_steps: int = 4, interior_only: bool = True,
                  hbr_km: float | None = None):
    """Per-sample closest-approach distance in [t_grid[0], t_grid[-1]] (km).

    The numpy reference for the 3D draws (:func:`_mc3d_kernel` makes the same
    decisions). ``interior_only``: only local minima of the separation
    strictly inside the window count (a closest approach *in* the window);
    samples whose distance is monotonic over the window get ``inf``.
    Otherwise the minimum over the window, edges included. With ``hbr_km``
    given, returns instead a bool array: the sample *enters* the sphere of
    that radius during the window (a grid step from >= R to < R, or a
    refined interior minimum < R between grid points that are both >= R).
    """
    n = x1.shape[0]
    d = np.empty((t_grid.size, n))
    for k, t in enumerate(t_grid):
        ra, _ = kepler_propagate(x1[:, :3], x1[:, 3:], t, mu)
        rb, _ = kepler_propagate(x2[:, :3], x2[:, 3:], t, mu)
        d[k] = np.linalg.norm(rb - ra, axis=-1)
    if interior_only and t_grid.size >= 3:
        # Smallest interior grid local minimum; the true minimum lies within
        # one grid step of it.
        local = np.full(d.shape, np.inf)
        is_min = (d[1:-1] <= d[:-2]) & (d[1:-1] <= d[2:])
        local[1:-1] = np.where(is_min, d[1:-1], np.inf)
        k_best = np.argmin(local, axis=0)
        best = local[k_best, np.arange(n)]
    else:
        k_best = np.argmin(d, axis=0)
        best = d[k_best, np.arange(n)]
    t_best = t_grid[k_best]
    grid_best = best.copy()
    # Newton on f(t) = dr . dv, f' = |dv|^2 + dr . da (two-body accelerations),
    # kept within one grid step of the grid minimum.
    t = t_best.copy()
    step = (t_grid[1] - t_grid[0]) if t_grid.size > 1 else 0.0
    lo = np.maximum(t_best - step, t_grid[0])
    hi = np.minimum(t_best + step, t_grid[-1])
    for _ in range(newton_steps):
        ra, va = kepler_propagate(x1[:, :3], x1[:, 3:], t, mu)
        rb, vb = kepler_propagate(x2[:, :3], x2[:, 3:], t, mu)
        dr, dv = rb - ra, vb - va
        aa = -mu * ra / np.linalg.norm(ra, axis=-1, keepdims=True) ** 3
        ab = -mu * rb / np.linalg.norm(rb, axis=-1, keepdims=True) ** 3
        f = np.einsum("ij,ij->i", dr, dv)
        fp = np.einsum("ij,ij->i", dv, dv) + np.einsum("ij,ij->i", dr, ab - aa)
        with np.errstate(divide="ignore", invalid="ignore"):
            dt = np.where(fp > 0, -f / fp, 0.0)
        t = np.clip(t + dt, lo, hi)
        best = np.where(np.isfinite(best), np.minimum(best, np.linalg.norm(dr, axis=-1)), best)
    ra, _ = kepler_propagate(x1[:, :3], x1[:, 3:], t, mu)
    rb, _ = kepler_propagate(x2[:, :3], x2[:, 3:], t, mu)
    best = np.where(np.isfinite(best), np.minimum(best, np.linalg.norm(rb - ra, axis=-1)), best)
    if hbr_km is None:
        return best
    entered_on_grid = np.any((d[:-1] >= hbr_km) & (d[1:] < hbr_km), axis=0)
    return entered_on_grid | ((best < hbr_km) & (grid_best >= hbr_km))


def _hits_numpy(s1, s2, t_grid, mu, hbr_km, count, chunk):
    """Per-draw status with the numpy reference: 0 miss, 1 hit, 2 invalid draw."""
    status = np.zeros(s1.shape[0], dtype=np.int8)
    bad = ~(np.isfinite(s1).all(axis=1) & np.isfinite(s2).all(axis=1))
    status[bad] = 2
    ok = np.flatnonzero(~bad)
    for lo in range(0, ok.size, chunk):
        i = ok[lo:lo + chunk]
        if count in ("entry", "first_contact"):
            hit = _min_distance(s1[i], s2[i], t_grid, mu, hbr_km=hbr_km)
            if count == "first_contact":  # not already inside at the window start
                ra, _ = kepler_propagate(s1[i, :3], s1[i, 3:], t_grid[0], mu)
                rb, _ = kepler_propagate(s2[i, :3], s2[i, 3:], t_grid[0], mu)
                hit &= np.linalg.norm(rb - ra, axis=-1) >= hbr_km
        else:
            hit = _min_distance(s1[i], s2[i], t_grid, mu,
                                interior_only=count == "closest_approach") < hbr_km
        status[i] = hit.astype(np.int8)
    return status


# ---------------------------------------------------------------- numba kernel
#
# Scalar twin of hall3d.kepler_propagate (same universal-variable equation,
# same stopping rule |step| <= 1e-13 max(|chi|, 1)) so that every draw gets
# the decision _min_distance would give. Only the path to the root differs:
# Halley steps from a neighbouring solution instead of Newton steps from
# sqrt(mu) alpha dt, so the states agree to the solver tolerance, not bit for
# bit.

#: Pruning intervals are at most sqrt(8 C / K) long, K = 2 mu / r_p^3: then the
#: relative path departs from the chord by at most ~C times its length scale.
_PRUNE_C = 0.02


@njit(cache=True, inline="always")
def _stumpff(z):
    if z > 1e-6:
        sz = math.sqrt(z)
        return (1.0 - math.cos(sz)) / z, (sz - math.sin(sz)) / (sz * sz * sz)
    if z < -1e-6:
        sz = math.sqrt(-z)
        return (math.cosh(sz) - 1.0) / (-z), (math.sinh(sz) - sz) / (sz * sz * sz)
    return 0.5 - z / 24.0 + z * z / 720.0, 1.0 / 6.0 - z / 120.0 + z * z / 5040.0


@njit(cache=True, inline="always")
def _chi_start(alpha, rn0, dt_s, smu):
    """hall3d.kepler_propagate's first guess of the universal anomaly."""
    if alpha > 1e-12:
        return smu * abs(alpha) * dt_s
    return smu * dt_s / rn0


@njit(cache=True)
def _kepler(x, rn0, rv0, alpha, dt_s, smu, chi, out):
    """Two-body state ``dt_s`` after ``x`` (6,) into ``out`` (6,), starting from ``chi``.

    Halley steps on the universal Kepler equation F(chi) = 0 (F' = r,
    F'' = dr/dchi; a Newton step if Halley's denominator is not positive),
    stopped as kepler_propagate: |step| <= 1e-13 max(|chi|, 1). From a
    neighbouring solution that is one step and the confirming one. Returns
    the root, the next call's starting point. The state reuses the Stumpff
    values of the last iterate, within that tolerance of the root.
    """
    q = 1.0 - alpha * rn0
    rvs = rv0 / smu
    z = 0.0
    c = 0.5
    s = 1.0 / 6.0
    for _ in range(60):
        z = alpha * chi * chi
        c, s = _stumpff(z)
        chi2 = chi * chi
        f = rvs * chi2 * c + q * chi2 * chi * s + rn0 * chi - smu * dt_s
        fp = rvs * chi * (1.0 - z * s) + q * chi2 * c + rn0
        fpp = rvs * (1.0 - z * c) + q * chi * (1.0 - z * s)
        den = 2.0 * fp * fp - f * fpp
        step = 2.0 * f * fp / den if den > 0 else f / fp
        chi = chi - step
        if abs(step) <= 1e-13 * max(abs(chi), 1.0):
            break
    chi2 = chi * chi
    f = 1.0 - chi2 / rn0 * c
    g = dt_s - chi2 * chi / smu * s
    for j in range(3):
        out[j] = f * x[j] + g * x[3 + j]
    rn = math.sqrt(out[0] * out[0] + out[1] * out[1] + out[2] * out[2])
    fd = smu / (rn * rn0) * (z * s - 1.0) * chi
    gd = 1.0 - chi2 / rn * c
    for j in range(3):
        out[3 + j] = fd * x[j] + gd * x[3 + j]
    return chi


@njit(cache=True, inline="always")
def _orbit_constants(x, mu):
    """|r|, r.v, 2/|r| - v^2/mu, perigee radius and perigee (= maximum) speed of ``x``."""
    rn = math.sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2])
    v2 = x[3] * x[3] + x[4] * x[4] + x[5] * x[5]
    rv = x[0] * x[3] + x[1] * x[4] + x[2] * x[5]
    alpha = 2.0 / rn - v2 / mu
    hx = x[1] * x[5] - x[2] * x[4]
    hy = x[2] * x[3] - x[0] * x[5]
    hz = x[0] * x[4] - x[1] * x[3]
    h2 = hx * hx + hy * hy + hz * hz
    k = v2 - mu / rn
    ex = (k * x[0] - rv * x[3]) / mu
    ey = (k * x[1] - rv * x[4]) / mu
    ez = (k * x[2] - rv * x[5]) / mu
    ecc = math.sqrt(ex * ex + ey * ey + ez * ez)
    rp = h2 / mu / (1.0 + ecc)
    vp = math.sqrt(max(mu * (2.0 / rp - alpha), 0.0)) if rp > 0 else math.inf
    return rn, rv, alpha, rp, vp


@njit(cache=True, inline="always")
def _gradient_bound(a_km, rp_min_km, mu):
    """K with |g(r2) - g(r1)| <= K |r2 - r1| while |r2 - r1| <= a_km (inf if none).

    Both radii are >= rp_min (perigees), so every point between the two
    objects is >= sqrt(rp_min^2 - a^2/4) from the centre, where the gravity
    gradient's norm is 2 mu / r^3.
    """
    if not a_km < 2.0 * rp_min_km:
        return math.inf
    rho = math.sqrt(rp_min_km * rp_min_km - 0.25 * a_km * a_km)
    return 2.0 * mu / (rho * rho * rho)


@njit(cache=True, inline="always")
def _clear_margin(hbr_km, d_km):
    # the Kepler solutions' own error (~1e-13 relative) and rounding
    return hbr_km + 1e-7 + 1e-9 * d_km


@njit(cache=True, inline="always")
def _window_clear(x1, x2, t0_s, t1_s, rp_min_km, v_max_km_s, mu, hbr_km):
    """True if the relative position provably stays outside the sphere over [t0, t1].

    No propagation: with P0, V0 the relative state at the epoch, the
    departure e(t) of P from P0 + V0 t obeys |e''| <= K (L + |e|), L =
    |P0| + |V0| T, T = max(|t0|, |t1|), hence |e| <= L (cosh(sqrt(K) T) - 1)
    (comparison with u'' = K (L + u), u(0) = u'(0) = 0). K from
    :func:`_gradient_bound` with |P| <= |P0| + T v_max a priori.
    """
    px = x2[0] - x1[0]
    py = x2[1] - x1[1]
    pz = x2[2] - x1[2]
    vx = x2[3] - x1[3]
    vy = x2[4] - x1[4]
    vz = x2[5] - x1[5]
    p0 = math.sqrt(px * px + py * py + pz * pz)
    vv = vx * vx + vy * vy + vz * vz
    big_t = max(abs(t0_s), abs(t1_s))
    k = _gradient_bound(p0 + big_t * v_max_km_s, rp_min_km, mu)
    if not k * big_t * big_t < 1.0:
        return False
    lin = p0 + math.sqrt(vv) * big_t
    dev = lin * (math.cosh(math.sqrt(k) * big_t) - 1.0)
    t = 0.0
    if vv > 0:
        t = min(max(-(px * vx + py * vy + pz * vz) / vv, t0_s), t1_s)
    else:
        t = min(max(0.0, t0_s), t1_s)
    qx = px + t * vx
    qy = py + t * vy
    qz = pz + t * vz
    return math.sqrt(qx * qx + qy * qy + qz * qz) - dev > _clear_margin(hbr_km, lin)


@njit(cache=True, inline="always")
def _segment_clear(pa, pb, h_s, rp_min_km, v_max_km_s, mu, hbr_km):
    """True if the relative position provably stays outside the sphere between two times.

    ``pa``, ``pb``: relative positions at the ends of an interval of ``h_s``
    seconds. Speeds are at most the perigee speeds, so |P| <= A = (|pa| +
    |pb| + h v_max)/2 on the interval and the relative acceleration is at
    most K |P| (:func:`_gradient_bound`); P then departs from the chord
    pa -> pb by at most K h^2/8 max|P| <= c D / (1 - c), c = K h^2/8,
    D = max(|pa|, |pb|).
    """
    na = math.sqrt(pa[0] * pa[0] + pa[1] * pa[1] + pa[2] * pa[2])
    nb = math.sqrt(pb[0] * pb[0] + pb[1] * pb[1] + pb[2] * pb[2])
    c = _gradient_bound(0.5 * (na + nb + h_s * v_max_km_s), rp_min_km, mu) * h_s * h_s / 8.0
    if not c < 0.5:
        return False
    d_km = max(na, nb)
    dev = c * d_km / (1.0 - c)
    ux = pb[0] - pa[0]
    uy = pb[1] - pa[1]
    uz = pb[2] - pa[2]
    uu = ux * ux + uy * uy + uz * uz
    s = 0.0
    if uu > 0:
        s = min(max(-(pa[0] * ux + pa[1] * uy + pa[2] * uz) / uu, 0.0), 1.0)
    qx = pa[0] + s * ux
    qy = pa[1] + s * uy
    qz = pa[2] + s * uz
    return math.sqrt(qx * qx + qy * qy + qz * qz) - dev > _clear_margin(hbr_km, d_km)


@njit(cache=True)
def _reference_chi(ref, t_grid, mu):
    """Universal anomaly of state ``ref`` at every grid time (the draws' starting points)."""
    smu = math.sqrt(mu)
    rn, rv, al, _, _ = _orbit_constants(ref, mu)
    out = np.empty(t_grid.size)
    st = np.empty(6)
    for k in range(t_grid.size):
        out[k] = _kepler(ref, rn, rv, al, t_grid[k], smu, _chi_start(al, rn, t_grid[k], smu),
                         st)
    return out


@njit(cache=True)
def _mc3d_kernel(s1, s2, ref1, ref2, t_grid, mu, hbr_km, mode, newton_steps, stride, prune,
                 out):
    """Per-draw status into ``out``: 0 miss, 1 hit, 2 invalid (non-finite) draw.

    Same decision as :func:`_min_distance` (``mode`` 0: entry, 1: interior
    closest approach, 2: minimum over the window, 3: entry from outside the
    sphere at the window start). With ``prune``, a draw is
    a miss without the full grid and the Newton steps (which could not find
    a distance below R) when its relative motion provably stays outside the
    sphere: over the whole window from the epoch state alone
    (:func:`_window_clear`), or on every interval of ``stride`` grid steps
    (:func:`_segment_clear`). ``ref1``, ``ref2``: states near the draws
    (e.g. the means) whose Kepler solutions start the draws' solver.
    """
    n = s1.shape[0]
    ng = t_grid.size
    smu = math.sqrt(mu)
    d = np.empty(ng)
    ch1 = np.empty(ng)
    ch2 = np.empty(ng)
    rel = np.empty((ng, 3))
    st1 = np.empty(6)
    st2 = np.empty(6)
    stride = max(1, stride)
    n_coarse = (ng - 1 + stride - 1) // stride + 1 if ng > 1 else 1
    coarse = np.empty(n_coarse, dtype=np.int64)
    for j in range(n_coarse):
        coarse[j] = min(j * stride, ng - 1)
    cr1 = _reference_chi(ref1, t_grid, mu)
    cr2 = _reference_chi(ref2, t_grid, mu)
    al_ref1 = _orbit_constants(ref1, mu)[2]
    al_ref2 = _orbit_constants(ref2, mu)[2]
    h_grid = t_grid[1] - t_grid[0] if ng > 1 else 0.0
    interior = mode != 2
    for i in range(n):
        x1 = s1[i]
        x2 = s2[i]
        finite = True
        for j in range(6):
            if not (math.isfinite(x1[j]) and math.isfinite(x2[j])):
                finite = False
        if not finite:
            out[i] = 2
            continue
        rn1, rv1, al1, rp1, vp1 = _orbit_constants(x1, mu)
        rn2, rv2, al2, rp2, vp2 = _orbit_constants(x2, mu)
        rp_min = min(rp1, rp2)
        v_max = vp1 + vp2
        if prune and _window_clear(x1, x2, t_grid[0], t_grid[ng - 1], rp_min, v_max, mu,
                                   hbr_km):
            out[i] = 0
            continue
        # Starting points: the reference solution scaled by the mean-motion
        # ratio (chi ~ sqrt(mu) alpha dt), plus a linearly extrapolated
        # (coarse points) or interpolated (other grid points) correction.
        sc1 = al1 / al_ref1 if al1 > 1e-12 and al_ref1 > 1e-12 else 1.0
        sc2 = al2 / al_ref2 if al2 > 1e-12 and al_ref2 > 1e-12 else 1.0
        for j in range(n_coarse):
            k = coarse[j]
            t = t_grid[k]
            e1 = 0.0
            e2 = 0.0
            if j >= 1:
                ka = coarse[j - 1]
                e1 = ch1[ka] - sc1 * cr1[ka]
                e2 = ch2[ka] - sc2 * cr2[ka]
                if j >= 2:
                    kb = coarse[j - 2]
                    w = (t - t_grid[ka]) / (t_grid[ka] - t_grid[kb])
                    e1 += w * (e1 - (ch1[kb] - sc1 * cr1[kb]))
                    e2 += w * (e2 - (ch2[kb] - sc2 * cr2[kb]))
            ch1[k] = _kepler(x1, rn1, rv1, al1, t, smu, sc1 * cr1[k] + e1, st1)
            ch2[k] = _kepler(x2, rn2, rv2, al2, t, smu, sc2 * cr2[k] + e2, st2)
            for m in range(3):
                rel[k, m] = st2[m] - st1[m]
            d[k] = math.sqrt(rel[k, 0] ** 2 + rel[k, 1] ** 2 + rel[k, 2] ** 2)
        if prune and n_coarse > 1:
            clear = True
            for j in range(n_coarse - 1):
                ka = coarse[j]
                kb = coarse[j + 1]
                if not _segment_clear(rel[ka], rel[kb], t_grid[kb] - t_grid[ka], rp_min, v_max,
                                      mu, hbr_km):
                    clear = False
                    break
            if clear:
                out[i] = 0
                continue
        for j in range(n_coarse - 1):
            ka = coarse[j]
            kb = coarse[j + 1]
            ea1 = ch1[ka] - sc1 * cr1[ka]
            ea2 = ch2[ka] - sc2 * cr2[ka]
            eb1 = ch1[kb] - sc1 * cr1[kb]
            eb2 = ch2[kb] - sc2 * cr2[kb]
            for k in range(ka + 1, kb):
                t = t_grid[k]
                w = (t - t_grid[ka]) / (t_grid[kb] - t_grid[ka])
                ch1[k] = _kepler(x1, rn1, rv1, al1, t, smu, sc1 * cr1[k] + ea1 + w * (eb1 - ea1),
                                 st1)
                ch2[k] = _kepler(x2, rn2, rv2, al2, t, smu, sc2 * cr2[k] + ea2 + w * (eb2 - ea2),
                                 st2)
                dd = 0.0
                for m in range(3):
                    dd += (st2[m] - st1[m]) ** 2
                d[k] = math.sqrt(dd)
        # grid minimum (first occurrence, as numpy's argmin)
        k_best = 0
        best = math.inf
        if interior and ng >= 3:
            for k in range(1, ng - 1):
                if d[k] <= d[k - 1] and d[k] <= d[k + 1] and d[k] < best:
                    best = d[k]
                    k_best = k
        else:
            best = d[0]
            for k in range(1, ng):
                if d[k] < best:
                    best = d[k]
                    k_best = k
        grid_best = best
        t = t_grid[k_best]
        lo = max(t - h_grid, t_grid[0])
        hi = min(t + h_grid, t_grid[ng - 1])
        # Newton on f = dr . dv, f' = |dv|^2 + dr . (a2 - a1), as _min_distance
        for it in range(newton_steps + 1):
            if ng > 1:
                kk = min(max(int((t - t_grid[0]) / h_grid), 0), ng - 2)
                w = (t - t_grid[kk]) / h_grid
                g1 = ch1[kk] + w * (ch1[kk + 1] - ch1[kk])
                g2 = ch2[kk] + w * (ch2[kk + 1] - ch2[kk])
            else:
                g1 = ch1[0]
                g2 = ch2[0]
            _kepler(x1, rn1, rv1, al1, t, smu, g1, st1)
            _kepler(x2, rn2, rv2, al2, t, smu, g2, st2)
            dr2 = 0.0
            f = 0.0
            fp = 0.0
            r1c = math.sqrt(st1[0] ** 2 + st1[1] ** 2 + st1[2] ** 2) ** 3
            r2c = math.sqrt(st2[0] ** 2 + st2[1] ** 2 + st2[2] ** 2) ** 3
            for m in range(3):
                dr = st2[m] - st1[m]
                dv = st2[3 + m] - st1[3 + m]
                dr2 += dr * dr
                f += dr * dv
                fp += dv * dv + dr * (-mu * st2[m] / r2c + mu * st1[m] / r1c)
            if math.isfinite(best):
                best = min(best, math.sqrt(dr2))
            if it == newton_steps:
                break
            step = -f / fp if fp > 0 else 0.0
            t = min(max(t + step, lo), hi)
        if mode == 0 or mode == 3:
            hit = best < hbr_km and grid_best >= hbr_km
            if not hit:
                for k in range(ng - 1):
                    if d[k] >= hbr_km and d[k + 1] < hbr_km:
                        hit = True
                        break
        else:
            hit = best < hbr_km
        if mode == 3 and d[0] < hbr_km:
            hit = False
        out[i] = 1 if hit else 0


def _auto_stride(t_grid, ref1, ref2, mu) -> int:
    """Grid steps per pruning interval: intervals of at most sqrt(8 C / K) (see _PRUNE_C)."""
    if t_grid.size < 2:
        return 1
    rp = min(_orbit_constants(np.asarray(ref1, float), mu)[3],
             _orbit_constants(np.asarray(ref2, float), mu)[3])
    if not rp > 0:
        return 1
    h_max = math.sqrt(8.0 * _PRUNE_C * rp ** 3 / (2.0 * mu))
    return int(min(max(h_max // (t_grid[1] - t_grid[0]), 1), t_grid.size - 1))


def _hits_numba(s1, s2, t_grid, mu, hbr_km, count, newton_steps: int = 4,
                stride: int | None = None, prune: bool = True, ref=None):
    """Per-draw status with :func:`_mc3d_kernel`: 0 miss, 1 hit, 2 invalid draw.

    ``ref``: (ref1, ref2) starting states of the solver; default the mean of
    the finite draws.
    """
    s1 = np.ascontiguousarray(s1, dtype=np.float64)
    s2 = np.ascontiguousarray(s2, dtype=np.float64)
    t_grid = np.ascontiguousarray(t_grid, dtype=np.float64)
    out = np.zeros(s1.shape[0], dtype=np.int8)
    if s1.shape[0] == 0:
        return out
    if ref is None:
        ok = np.isfinite(s1).all(axis=1) & np.isfinite(s2).all(axis=1)
        if not ok.any():
            out[:] = 2
            return out
        ref = (s1[ok].mean(axis=0), s2[ok].mean(axis=0))
    ref1 = np.ascontiguousarray(ref[0], dtype=np.float64)
    ref2 = np.ascontiguousarray(ref[1], dtype=np.float64)
    if stride is None:
        stride = _auto_stride(t_grid, ref1, ref2, mu)
    _mc3d_kernel(s1, s2, ref1, ref2, t_grid, float(mu), float(hbr_km), _COUNTS.index(count),
                 int(newton_steps), int(stride), bool(prune), out)
    return out


class _Control:
    """Linear control of :func:`pc_mc_3d` (see the module docstring).

    ``map_km`` (2, 12) takes the 12 normal deviates of a draw to the
    relative position of its linear image in the encounter plane of the
    mean states, ``miss_km`` (2,) is that of the means; the projection is
    N(miss, A A^T) with ``cov_km2 = A A^T``, and ``pc2d`` = P(inside the
    hard-body disc) is the control's exact expectation.
    """

    def __init__(self, map_km, miss_km, hbr_km):
        self.map_km = map_km
        self.miss_km = miss_km
        self.hbr_km = hbr_km
        self.cov_km2 = map_km @ map_km.T
        m1, m2, s1, s2 = (float(v) for v in _principal(miss_km, self.cov_km2))
        self.sigmas_km = (s1, s2)
        self.pc2d = pc_circle_2d_adaptive(m1, m2, s1, s2, hbr_km)

    @classmethod
    def build(cls, mean, root, hbr_km):
        """The control for linear images ``mean[i] + root[i] z_i``, or None if undefined.

        Undefined: zero mean relative velocity (no encounter plane) or a
        degenerate projected covariance (no density to integrate).
        """
        dr = mean[1][:3] - mean[0][:3]
        try:
            basis = encounter_basis(dr, mean[1][3:] - mean[0][3:])
        except CollisionInputError:
            return None
        p = basis[[0, 2]]
        ctl = cls(np.hstack([-p @ root[0][:3], p @ root[1][:3]]), p @ dr, float(hbr_km))
        s1, s2 = ctl.sigmas_km
        if not (s2 > 1e-9 * max(s1, ctl.hbr_km) and math.isfinite(ctl.pc2d)):
            return None
        return ctl

    def indicator(self, z):
        """C for the (n, 12) normal deviates ``z``: bool (n,)."""
        u = self.miss_km + np.einsum("nj,ij->ni", z, self.map_km)  # einsum: see draws
        return np.einsum("ni,ni->n", u, u) < self.hbr_km * self.hbr_km


class _Sampler:
    """Draws of both objects' TCA states, block by block (see :data:`MC_BLOCK`).

    ``"cartesian"``: N(x, P) in the given frame. ``"equinoctial"``: the
    elements of :class:`kizuna.collision.hall3d._EquinoctialPop` (same
    element set, covariance ``K P K^T`` with ``K = dE/dX`` at the mean, same
    common rotation of near-retrograde pairs) are Gaussian; each draw is
    converted back to a Cartesian state. Draws with a non-positive mean
    motion or an eccentricity >= 1 are invalid (NaN rows, reported, never
    hits).

    With ``hbr_km`` given, ``control`` is the :class:`_Control` of the
    draws (None if undefined). Its linear images are the Cartesian draws
    themselves, or ``x + J (e - e_mean)`` with ``J = K^-1`` (the Jacobian
    hall3d inverted) and the same deviates, in the same (possibly rotated)
    frame as the draws; their covariance is ``J K P K^T J^T = P`` to
    rounding, and the control's expectation uses the product actually
    formed, so it is exact for the control as computed.
    """

    def __init__(self, x1, c1, x2, c2, sampling, mu, hbr_km=None):
        self.sampling = sampling
        self.mu = mu
        self.ref = (x1, x2)  # the kernel's solver starting states (rotation-invariant)
        if sampling == "cartesian":
            self.mean = (x1, x2)
            self.root = (_sqrt_cov(c1), _sqrt_cov(c2))
            lin_mean, lin_root = self.mean, self.root
        else:
            xr1, cr1, xr2, cr2 = _reorient_if_retrograde(x1, c1, x2, c2)
            pop = _EquinoctialPop(xr1, cr1, xr2, cr2, mu)
            self.mean = tuple(pop.mean)
            self.root = tuple(_sqrt_cov(q) for q in pop.cov)
            lin_mean = (xr1, xr2)
            # the same finite-difference Jacobian _EquinoctialPop inverted
            lin_root = tuple(_eq_state_and_jacobian(e[None, :], np.zeros(1), mu)[1][0] @ r
                             for e, r in zip(self.mean, self.root, strict=True))
        self.control = None if hbr_km is None else _Control.build(lin_mean, lin_root, hbr_km)

    def draws(self, seed: int, block: int, n: int, control: bool = False):
        """The first ``n`` draws (``(n, 6)`` states of each object) of block ``block``.

        With ``control``, also the control indicator of each draw (bool (n,)).
        """
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(block,)))
        z = rng.standard_normal((n, 12))
        out = []
        for i in range(2):
            # einsum, not matmul: no BLAS threads (measured 3-7x faster for 6
            # columns on the shared 2-core machine), same bits whatever the
            # BLAS thread count
            y = self.mean[i] + np.einsum("nj,ij->ni", z[:, 6 * i:6 * i + 6], self.root[i])
            if self.sampling == "equinoctial":
                bad = ~((y[:, 0] > 0) & (y[:, 1] ** 2 + y[:, 2] ** 2 < 1.0))
                y[bad] = self.mean[i]  # converted, then discarded
                for lo in range(0, n, 4096):  # cache-sized pieces: measured ~1.4x faster
                    y[lo:lo + 4096] = equinoctial_to_cartesian(y[lo:lo + 4096], 0.0, self.mu)
                y[bad] = np.nan
            out.append(y)
        if control:
            return out[0], out[1], self.control.indicator(z)
        return out[0], out[1]


def pc_mc_3d(r1_km, v1_km_s, cov1, r2_km, v2_km_s, cov2, hbr_km,
             t_window_s: tuple[float, float], n_samples: int = 100_000, seed: int = 0,
             n_grid: int = 200, chunk: int = 20_000, mu: float = MU_EARTH_KM3_S2,
             count: str = "first_contact", sampling: str = "equinoctial", backend: str = "numba",
             workers: int = 1, control_variate: bool = True) -> PcResult:
    """Two-body Monte Carlo Pc from TCA states and 6x6 covariances.

    Parameters
    ----------
    r1_km, v1_km_s, r2_km, v2_km_s : (3,) inertial states at the reference epoch.
    cov1, cov2 : (6, 6) covariances (km^2, km^2/s, km^2/s^2); NPD ones are
        eigenvalue-clipped and flagged.
    hbr_km : combined hard-body radius, km.
    t_window_s : (t_min, t_max) relative to the epoch, s, searched for the
        minimum separation of each draw.
    n_samples, seed : number of draws and seed. Draws come in blocks of
        :data:`MC_BLOCK`, block ``b`` from ``numpy.random.SeedSequence(seed,
        spawn_key=(b,))``: the same ``(seed, n_samples)`` gives the same
        draws, hence the same hits, whatever ``chunk`` and ``workers``.
    n_grid : time-grid points before Newton refinement of each minimum.
    chunk : draws the numpy backend evaluates at once (memory ~ 8 n_grid
        bytes per draw); the numba backend needs O(n_grid) per process.
    count : what makes a draw a hit.
        ``"first_contact"`` (default): the relative position is outside the
        hard-body sphere at the window start and enters it during the
        window, i.e. the first contact falls in the window. This is the
        convention of CARA's two-body Monte Carlo (``Pc_MC_Kep2body``:
        draws that overlap at the window start are counted apart and left
        out of its attenuated Pc).
        ``"entry"``: the relative position enters the sphere during the
        window, also after starting inside and leaving (every entry is one
        of those the 3D Nc counts).
        ``"closest_approach"``: a local minimum of the separation strictly
        inside the window is below ``hbr_km`` (also counts draws that stay
        inside over the window but have an interior minimum).
        ``"window_min"``: the minimum over the window, edges included, is
        below ``hbr_km``.
        They differ only when draws can be inside the hard body at the
        window start: Alfano 2009 case 12 (identical mean states, a nearly
        rank-one covariance) gives 0.00245 / 0.00248 / 0.00333 / 0.00436
        (first_contact / entry / closest_approach / window_min; 2^18
        equinoctial draws, seed 1, 60-point grid).
    sampling : what is Gaussian at the epoch. ``"equinoctial"`` (default): each
        object's equinoctial elements (n, af, ag, chi, psi, lambda_M), with
        hall3d's element set and Jacobian: the model of hall3d's default and of
        CARA's two-body Monte Carlo (``Pc_MC_Kep2body`` samples these elements
        at TCA). ``"cartesian"``: the 6D state (the
        :func:`~kizuna.collision.hall3d.pc_hall3d` model
        ``propagation="linear"``). They differ when the sphere is reached only
        after a large in-track excursion (Omitron Test08) and agree on the
        Alfano 2009 cases; see docs/design/collision.md.
    backend : ``"numba"`` (default, :func:`_mc3d_kernel`) or ``"numpy"``
        (:func:`_min_distance`, measured 4-20x slower); the same decision for every
        draw in the tests (they differ only within the Kepler solver's
        1e-13 relative tolerance).
    workers : forked processes (:func:`kizuna.parallel.run_parts`), each
        taking a contiguous range of blocks.
    control_variate : combine the hits with the linear encounter-plane
        control of known mean (module docstring,
        :func:`control_variate_estimate`). Same draws, same hits; only the
        estimate and its interval change. Unavailable (plain estimate, with
        ``extras["control_note"]``) when the mean relative velocity is zero
        or the projected covariance is degenerate.

    Returns
    -------
    PcResult with ``pc`` and ``ci95`` the control-variate estimate and its
    95% interval (normal approximation; see
    :func:`control_variate_estimate` for the exact fallback with few
    discordant draws and the switch to the plain estimate), or, with
    ``control_variate=False``, the hit fraction and its Wilson interval;
    ``n_samples`` and ``n_hits`` (hits of the plain estimator). ``extras``
    has the window, seed, count, sampling, backend, ``n_invalid``
    (equinoctial draws that are not elliptic orbits: misses for the hit
    indicator; the control, from the linear image, is defined for them
    too), ``estimator`` (``"control_variate"``, ``"difference"`` or
    ``"plain"``), ``se`` (standard error of ``pc``), ``pc_plain``,
    ``ci95_plain`` (Wilson) and ``se_plain``; with the control also
    ``pc2d_control`` (its exact mean), ``n_control`` (draws with C = 1),
    ``n_both`` (C = 1 and a hit), ``n_discordant``, ``beta`` and ``vrf``
    (estimated variance-reduction factor).
    """
    if count not in _COUNTS:
        raise CollisionInputError(
            f"count must be one of {', '.join(_COUNTS)}; got {count!r}")
    if sampling not in ("cartesian", "equinoctial"):
        raise CollisionInputError(
            f"sampling must be 'cartesian' or 'equinoctial'; got {sampling!r}")
    if backend not in ("numba", "numpy"):
        raise CollisionInputError(f"backend must be 'numba' or 'numpy'; got {backend!r}")
    n_samples = int(n_samples)
    if n_samples <= 0:
        raise CollisionInputError("n_samples must be > 0")
    if int(n_grid) < 1:
        raise CollisionInputError(f"n_grid must be >= 1; got {n_grid}")
    if not float(t_window_s[0]) < float(t_window_s[1]):
        raise CollisionInputError(
            f"t_window_s must be (t_min, t_max) with t_min < t_max; got {tuple(t_window_s)}")
    c1, rem1 = remediate_covariance(np.asarray(cov1, float))
    c2, rem2 = remediate_covariance(np.asarray(cov2, float))
    if c1.shape != (6, 6) or c2.shape != (6, 6):
        raise CollisionInputError("pc_mc_3d needs 6x6 position-velocity covariances")
    x1 = np.concatenate([np.asarray(r1_km, float), np.asarray(v1_km_s, float)])
    x2 = np.concatenate([np.asarray(r2_km, float), np.asarray(v2_km_s, float)])
    sampler = _Sampler(x1, c1, x2, c2, sampling, mu,
                       hbr_km=float(hbr_km) if control_variate else None)
    use_cv = sampler.control is not None
    t_grid = np.linspace(float(t_window_s[0]), float(t_window_s[1]), int(n_grid))
    hbr = float(hbr_km)

    def status_of(s1, s2):
        if backend == "numba":
            return _hits_numba(s1, s2, t_grid, mu, hbr, count, ref=sampler.ref)
        return _hits_numpy(s1, s2, t_grid, mu, hbr, count, max(1, int(chunk)))

    n_blocks = -(-n_samples // MC_BLOCK)
    # per block: hits, invalid, control = 1, control = 1 and hit (integers:
    # the same totals whatever the split into workers)
    counts = shared_array((n_blocks, 4), np.int64)
    parts = split(n_blocks, max(1, min(int(workers), n_blocks)))

    def work(p):
        for b in range(*parts[p]):
            m = min(MC_BLOCK, n_samples - b * MC_BLOCK)
            if use_cv:
                s1, s2, ctl = sampler.draws(seed, b, m, control=True)
            else:
                s1, s2 = sampler.draws(seed, b, m)
            status = status_of(s1, s2)
            counts[b, 0] = np.count_nonzero(status == 1)
            counts[b, 1] = np.count_nonzero(status == 2)
            if use_cv:
                counts[b, 2] = np.count_nonzero(ctl)
                counts[b, 3] = np.count_nonzero(ctl & (status == 1))

    if backend == "numba" and len(parts) > 1:
        status_of(*sampler.draws(seed, 0, 1))  # compile (or load) once, before forking
    run_parts(work, len(parts))
    hits = int(counts[:, 0].sum())
    extras = {"t_window_s": tuple(t_window_s), "seed": seed, "count": count,
              "sampling": sampling, "backend": backend, "n_invalid": int(counts[:, 1].sum())}
    if use_cv:
        est = control_variate_estimate(n_samples, hits, int(counts[:, 2].sum()),
                                       int(counts[:, 3].sum()), sampler.control.pc2d)
        est.update(pc2d_control=sampler.control.pc2d, n_control=int(counts[:, 2].sum()),
                   n_both=int(counts[:, 3].sum()))
    else:
        est = _plain_estimate(hits, n_samples)
        est.update(estimator="plain", pc=est["pc_plain"], ci95=est["ci95_plain"],
                   se=est["se_plain"])
        if control_variate:
            extras["control_note"] = ("no control: zero mean relative velocity or degenerate "
                                      "encounter-plane covariance")
    pc, ci = est.pop("pc"), est.pop("ci95")
    extras.update(est)
    return PcResult(pc, "mc3d", bool(rem1 or rem2), ci95=ci, n_samples=n_samples,
                    n_hits=hits, extras=extras)
