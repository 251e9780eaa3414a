"""Foster's 2D probability: bivariate normal integrated over the hard-body disc.

Exact for the short-encounter model (see :mod:`kizuna.collision.encounter`).
The double integral is reduced to one dimension: in the principal frame of
the 2x2 covariance (major axis u, minor axis w, sigmas s1 >= s2, miss
(m1, m2)), the inner integral over w across the chord of half-length
``h(u) = sqrt(R^2 - u^2)`` is a difference of normal CDFs, leaving

    Pc = int_{-R}^{R} phi((u - m1)/s1)/s1 * [Phi((h - m2)/s2) - Phi((-h - m2)/s2)] du.

With ``u = R sin(t)`` the square-root endpoint behaviour disappears. The
outer variable is the major axis, so a very thin ellipse turns into steps of
the inner term rather than a spike of the outer density; both are then cut to
the range where they are not negligible (``K_SIGMA`` sigmas) before
integrating.

Two paths share this integrand:

* :func:`pc_circle_2d` - fixed Gauss-Legendre rule over arrays of N
  conjunctions (the screening-scale path, pure numpy, chunked);
* :func:`foster_pc` - one conjunction, adaptive ``scipy.integrate.quad`` to
  ~1e-12 relative; also offers the square hard-body shapes.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import integrate, special

from kizuna.collision.encounter import (
    FCLIP,
    CollisionInputError,
    PcResult,
    clip_covariance_2x2,
    eig2x2,
    project_encounter,
)

#: Half-width, in sigmas, of the integration window kept around the density
#: and the chord term; exp(-K^2/2) ~ 2.6e-18 of the peak is dropped.
K_SIGMA = 9.0
#: Gauss-Legendre nodes of the vectorized path (see bench/bench_pc.py and
#: tests/collision/test_foster.py for the agreement with adaptive quadrature).
N_NODES = 192
_CHUNK = 16384


def _phi_diff(hi, lo):
    """Phi(hi) - Phi(lo) for hi >= lo without cancellation in the upper tail."""
    return np.where(lo > 0.0, special.ndtr(-lo) - special.ndtr(-hi),
                    special.ndtr(hi) - special.ndtr(lo))


def _principal(miss_km, cov_km2):
    a, b, d = cov_km2[..., 0, 0], 0.5 * (cov_km2[..., 0, 1] + cov_km2[..., 1, 0]), cov_km2[..., 1, 1]
    lam1, lam2, ct, st = eig2x2(a, b, d)
    m1 = miss_km[..., 0] * ct + miss_km[..., 1] * st
    m2 = -miss_km[..., 0] * st + miss_km[..., 1] * ct
    return m1, m2, np.sqrt(np.maximum(lam1, 0.0)), np.sqrt(np.maximum(lam2, 0.0))


def _theta_window(m1, m2, s1, s2, r):
    """Integration limits in t (u = R sin t) keeping the non-negligible part."""
    cen = np.clip(m1, -r, r)
    ua = np.maximum(-r, cen - K_SIGMA * s1)
    ub = np.minimum(r, cen + K_SIGMA * s1)
    g = np.abs(m2) - K_SIGMA * s2
    use = (g > 0) & (g < r)
    w = np.sqrt(np.maximum(r * r - np.where(use, g, 0.0) ** 2, 0.0))
    ua2 = np.where(use, np.maximum(ua, -w), ua)
    ub2 = np.where(use, np.minimum(ub, w), ub)
    ok = ua2 < ub2
    ua = np.where(ok, ua2, ua)
    ub = np.where(ok, ub2, ub)
    with np.errstate(invalid="ignore", divide="ignore"):
        ta = np.arcsin(np.clip(ua / r, -1.0, 1.0))
        tb = np.arcsin(np.clip(ub / r, -1.0, 1.0))
    return ta, tb


def _integrand_t(t, m1, m2, s1, s2, r):
    u = r * np.sin(t)
    h = r * np.cos(t)
    z = (u - m1) / s1
    dens = np.exp(-0.5 * z * z) / (s1 * math.sqrt(2.0 * math.pi))
    chord = _phi_diff((h - m2) / s2, (-h - m2) / s2)
    return dens * chord * h  # du = R cos t dt = h dt


def pc_circle_2d(miss_km, cov_km2, hbr_km, n_nodes: int = N_NODES) -> np.ndarray:
    """Foster 2D Pc for arrays of encounter-plane inputs (vectorized).

    Parameters
    ----------
    miss_km : (N, 2) miss vectors in the encounter plane, km.
    cov_km2 : (N, 2, 2) combined covariances in the plane, km^2 (positive
        definite; see :func:`kizuna.collision.encounter.clip_covariance_2x2`).
    hbr_km : scalar or (N,) combined hard-body radius, km.
    n_nodes : Gauss-Legendre nodes per conjunction.

    Returns
    -------
    (N,) Pc values; 0 where ``hbr_km == 0``.
    """
    miss = np.atleast_2d(np.asarray(miss_km, dtype=float))
    cov = np.asarray(cov_km2, dtype=float).reshape(-1, 2, 2)
    n = miss.shape[0]
    if cov.shape[0] != n or miss.shape[1] != 2:
        raise CollisionInputError(
            f"miss_km must be (N, 2) and cov_km2 (N, 2, 2); got {miss.shape} and {cov.shape}"
        )
    r_all = np.broadcast_to(np.asarray(hbr_km, dtype=float), (n,))
    # Composite Gauss-Legendre: panels break where the chord term switches
    # on/off (|w| = |m2| -/+ K sigmas), so thin ellipses give smooth panels...
    n_panel = max(n_nodes // 8, 4)
    xg, wg = np.polynomial.legendre.leggauss(n_panel)
    out = np.empty(n)
    for lo in range(0, n, _CHUNK):
        sl = slice(lo, min(n, lo + _CHUNK))
        m1, m2, s1, s2 = _principal(miss[sl], cov[sl])
        r = r_all[sl]
        rr = np.where(r > 0, r, 1.0)
        ta, tb = _theta_window(m1, m2, s1, s2, rr)
        t_in = np.arccos(np.clip((np.abs(m2) + K_SIGMA * s2) / rr, -1.0, 1.0))
        t_out = np.arccos(np.clip((np.abs(m2) - K_SIGMA * s2) / rr, -1.0, 1.0))
        # ... and around the density peak (u = m1, m1 +/- 3 s1).
        dens_pts = [np.arcsin(np.clip((m1 + k * s1) / rr, -1.0, 1.0)) for k in (-3.0, 0.0, 3.0)]
        brk = np.stack([ta, -t_out, -t_in, t_in, t_out, *dens_pts, tb], axis=-1)
        brk = np.sort(np.clip(brk, ta[:, None], tb[:, None]), axis=-1)
        args = (m1[:, None], m2[:, None], s1[:, None], s2[:, None], r[:, None])
        pc = np.zeros(ta.shape)
        for k in range(brk.shape[-1] - 1):
            a, b = brk[:, k], brk[:, k + 1]
            half = 0.5 * (b - a)
            t = (0.5 * (a + b))[:, None] + half[:, None] * xg[None, :]
            pc += half * (_integrand_t(t, *args) @ wg)
        out[sl] = np.where(r > 0, np.clip(pc, 0.0, 1.0), 0.0)
    return out


def pc_circle_2d_adaptive(m1, m2, s1, s2, r, rtol: float = 1e-12) -> float:
    """Foster 2D Pc for one conjunction in its principal frame (adaptive quad).

    ``m1, m2`` miss along the major/minor axes, ``s1 >= s2`` their sigmas,
    ``r`` the hard-body radius, all in the same length unit.
    """
    if r <= 0:
        return 0.0
    ta, tb = _theta_window(np.float64(m1), np.float64(m2), np.float64(s1), np.float64(s2),
                           np.float64(r))
    # Breakpoints where the chord term switches on/off help quad with thin ellipses.
    pts = []
    for edge in (abs(m2) - 3 * s2, abs(m2), abs(m2) + 3 * s2):
        if 0 < edge < r:
            tt = math.acos(edge / r)
            pts += [t for t in (tt, -tt) if ta < t < tb]
    val, _ = integrate.quad(
        lambda t: float(_integrand_t(t, m1, m2, s1, s2, r)), float(ta), float(tb),
        points=sorted(pts) or None, epsabs=0.0, epsrel=rtol, limit=500,
    )
    return min(max(val, 0.0), 1.0)


def pc_square_2d(miss_km, cov_km2, half_side_km, rtol: float = 1e-12) -> float:
    """2D Pc over a square of half-side ``half_side_km`` aligned with the plane axes."""
    mx, mz = float(miss_km[0]), float(miss_km[1])
    sxx, sxz, szz = float(cov_km2[0][0]), float(cov_km2[0][1]), float(cov_km2[1][1])
    sx = math.sqrt(sxx)
    cond_sd = math.sqrt(max(szz - sxz * sxz / sxx, 0.0))
    a = half_side_km

    def f(x):
        # The square is centred on the primary: integrate the relative-position
        # density (mean = miss) over |x|, |z| <= a.
        mu = mz + sxz / sxx * (x - mx)
        dens = math.exp(-0.5 * ((x - mx) / sx) ** 2) / (sx * math.sqrt(2 * math.pi))
        return dens * float(_phi_diff(np.float64((a - mu) / cond_sd),
                                      np.float64((-a - mu) / cond_sd)))

    lo = max(-a, mx - K_SIGMA * sx)
    hi = min(a, mx + K_SIGMA * sx)
    if lo >= hi:
        lo, hi = -a, a
    val, _ = integrate.quad(f, lo, hi, epsabs=0.0, epsrel=rtol, limit=500)
    return min(max(val, 0.0), 1.0)


def foster_pc(r1_km, v1_km_s, cov1_km2, r2_km, v2_km_s, cov2_km2, hbr_km,
              shape: str = "circle", fclip: float = FCLIP) -> PcResult:
    """Foster 2D Pc of one conjunction from TCA states and covariances.

    Parameters
    ----------
    r1_km, v1_km_s, r2_km, v2_km_s : (3,) states at TCA, same inertial frame.
    cov1_km2, cov2_km2 : (3, 3) or (6, 6) covariances in that frame (km, km/s).
    hbr_km : combined hard-body radius, km.
    shape : ``"circle"`` (default), ``"square"`` (half-side = HBR, axes of the
        encounter frame) or ``"square_equal_area"`` (same area as the circle).

    Returns
    -------
    PcResult with ``covariance_remediated`` set when the projected 2x2
    covariance had an eigenvalue below ``(fclip * hbr_km)**2``.
    """
    if hbr_km < 0:
        raise CollisionInputError(f"hbr_km must be >= 0; got {hbr_km}")
    enc = project_encounter(r1_km, v1_km_s, cov1_km2, r2_km, v2_km_s, cov2_km2,
                            hbr_km=hbr_km, fclip=fclip)
    rem = bool(enc.remediated)
    if shape == "circle":
        m1, m2, s1, s2 = _principal(enc.miss_km, enc.cov_km2)
        pc = pc_circle_2d_adaptive(float(m1), float(m2), float(s1), float(s2), float(hbr_km))
    elif shape == "square":
        pc = pc_square_2d(enc.miss_km, enc.cov_km2, hbr_km)
    elif shape == "square_equal_area":
        pc = pc_square_2d(enc.miss_km, enc.cov_km2, hbr_km * math.sqrt(math.pi) / 2.0)
    else:
        raise CollisionInputError(
            f"unknown hard-body shape {shape!r}; use 'circle', 'square' or 'square_equal_area'"
        )
    return PcResult(pc=pc, method="foster", covariance_remediated=rem,
                    extras={"shape": shape, "miss_km": enc.miss_km.tolist(),
                            "cov_2d_km2": enc.cov_km2.tolist()})


def foster_pc_batch(r1_km, v1_km_s, cov1_km2, r2_km, v2_km_s, cov2_km2, hbr_km,
                    n_nodes: int = N_NODES, fclip: float = FCLIP):
    """Vectorized Foster circle Pc for N conjunctions.

    Arrays are (N, 3) states and (N, 3, 3) or (N, 6, 6) covariances; ``hbr_km``
    scalar or (N,). Returns ``(pc (N,), remediated (N,) bool)``.
    """
    enc = project_encounter(r1_km, v1_km_s, cov1_km2, r2_km, v2_km_s, cov2_km2)
    hbr = np.broadcast_to(np.asarray(hbr_km, dtype=float), enc.miss_km.shape[:-1])
    cov, rem = clip_covariance_2x2(enc.cov_km2, (fclip * hbr) ** 2)
    return pc_circle_2d(enc.miss_km, cov, hbr, n_nodes=n_nodes), rem
