"""Seeded Monte Carlo reference for the collision probability.

Two estimators, both counting hits among ``n_samples`` draws from a
``numpy.random.Generator`` (same seed -> same answer) and reporting a 95%
Wilson score interval for the hit fraction:

* :func:`pc_mc_2d` - draws the relative position in the encounter plane from
  N(miss, C) and counts draws inside the hard-body disc (checks the 2D
  methods, same assumptions);
* :func:`pc_mc_3d` - draws both objects' 6D TCA states from their 6x6
  covariances in the inertial frame, propagates each draw by two-body motion
  over the time window, and counts draws whose minimum separation in the
  window is below the hard-body radius (checks the 3D method, no
  short-encounter assumption). The minimum is found on a time grid and then
  refined by Newton steps on d|r|^2/dt = 0 with exact Kepler propagation.
"""

from __future__ import annotations

import math

import numpy as np

from kizuna.collision.encounter import (
    FCLIP,
    CollisionInputError,
    PcResult,
    project_encounter,
    remediate_covariance,
)
from kizuna.collision.hall3d import MU_EARTH_KM3_S2, kepler_propagate

Z95 = 1.959963984540054


def wilson_interval(hits: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (default 95%)."""
    if n <= 0:
        raise CollisionInputError("n_samples must be > 0")
    p = hits / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, centre - half), min(1.0, centre + half)


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


def _min_distance(x1, x2, t_grid, mu, newton_steps: int = 4):
    """Per-sample minimum separation over [t_grid[0], t_grid[-1]] (km)."""
    n = x1.shape[0]
    best = np.full(n, np.inf)
    t_best = np.zeros(n)
    for t in t_grid:
        ra, _ = kepler_propagate(x1[:, :3], x1[:, 3:], t, mu)
        rb, _ = kepler_propagate(x2[:, :3], x2[:, 3:], t, mu)
        d = np.linalg.norm(rb - ra, axis=-1)
        better = d < best
        best = np.where(better, d, best)
        t_best = np.where(better, t, t_best)
    # Newton on f(t) = dr . dv, f' = |dv|^2 + dr . da (two-body accelerations).
    t = t_best.copy()
    lo, hi = t_grid[0], t_grid[-1]
    step_max = (t_grid[1] - t_grid[0]) if t_grid.size > 1 else 0.0
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
        t = np.clip(t + np.clip(dt, -step_max, step_max), lo, hi)
        best = np.minimum(best, np.linalg.norm(dr, axis=-1))
    ra, _ = kepler_propagate(x1[:, :3], x1[:, 3:], t, mu)
    rb, _ = kepler_propagate(x2[:, :3], x2[:, 3:], t, mu)
    return np.minimum(best, np.linalg.norm(rb - ra, axis=-1))


def pc_mc_3d(r1_km, v1_km_s, cov1, r2_km, v2_km_s, cov2, hbr_km,
             t_window_s: tuple[float, float], n_samples: int = 100_000, seed: int = 0,
             n_grid: int = 200, chunk: int = 20_000, mu: float = MU_EARTH_KM3_S2) -> PcResult:
    """Two-body Monte Carlo Pc from TCA states and 6x6 covariances.

    Parameters
    ----------
    r1_km, v1_km_s, r2_km, v2_km_s : (3,) inertial states at the reference epoch.
    cov1, cov2 : (6, 6) covariances (km^2, km^2/s, km^2/s^2); NPD ones are
        eigenvalue-clipped and flagged.
    hbr_km : combined hard-body radius, km.
    t_window_s : (t_min, t_max) relative to the epoch, s, searched for the
        minimum separation of each draw.
    n_samples, seed : draws and ``numpy.random.default_rng`` seed.
    n_grid : time-grid points before Newton refinement of each minimum.
    """
    c1, rem1 = remediate_covariance(np.asarray(cov1, float))
    c2, rem2 = remediate_covariance(np.asarray(cov2, float))
    if c1.shape != (6, 6) or c2.shape != (6, 6):
        raise CollisionInputError("pc_mc_3d needs 6x6 position-velocity covariances")
    x1 = np.concatenate([np.asarray(r1_km, float), np.asarray(v1_km_s, float)])
    x2 = np.concatenate([np.asarray(r2_km, float), np.asarray(v2_km_s, float)])
    a1, a2 = _sqrt_cov(c1), _sqrt_cov(c2)
    rng = np.random.default_rng(seed)
    t_grid = np.linspace(float(t_window_s[0]), float(t_window_s[1]), int(n_grid))
    hits = 0
    done = 0
    while done < n_samples:
        m = min(chunk, n_samples - done)
        s1 = x1 + rng.standard_normal((m, 6)) @ a1.T
        s2 = x2 + rng.standard_normal((m, 6)) @ a2.T
        dmin = _min_distance(s1, s2, t_grid, mu)
        hits += int(np.count_nonzero(dmin < float(hbr_km)))
        done += m
    return PcResult(hits / n_samples, "mc3d", bool(rem1 or rem2),
                    ci95=wilson_interval(hits, n_samples), n_samples=n_samples, n_hits=hits,
                    extras={"t_window_s": tuple(t_window_s), "seed": seed})
