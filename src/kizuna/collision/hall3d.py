"""Hall's 3D-Nc method: expected number of collisions for any encounter.

For slow, long or curvilinear encounters the 2D assumptions (straight lines,
frozen covariance, instantaneous passage) break down. Hall (2021, "Expected
Collision Rates for Tracked Satellites", JSR 58(3)) instead integrates the
rate at which the relative position enters the combined hard-body sphere:

    Nc = int dt Ncdot(t),
    Ncdot(t) = R^2 int_{unit sphere} dOmega  p_r(R n)  E[ max(0, -n . v) | r = R n ],

with ``r = r2 - r1`` and ``v = v2 - v1`` the relative position and velocity
at time ``t`` and ``p_r`` the density of ``r``. Nc >= Pc, and Nc ~ Pc when
Nc << 1 and re-entries are rare.

Implementation (our own, from the published formulation):

* each object's TCA mean state is carried to time ``t`` by exact two-body
  motion (universal-variable Kepler solver) and its 6x6 covariance by the
  two-body state transition matrix about that mean (default; the same
  covariance as CARA's linearization in equinoctial elements), or optionally
  by a 12-point unscented transform;
* the relative state at ``t`` is Gaussian with mean ``m2 - m1`` and
  covariance ``P1 + P2`` (objects independent);
* conditional on ``r = R n`` the relative velocity is Gaussian, so the
  expected inward normal speed is ``mu Phi(mu/s) + s phi(mu/s)`` in closed form;
* the sphere integral uses Gauss-Legendre in ``cos(theta)`` about the
  *thinnest* axis of the position covariance (restricted to the band where
  the density is not negligible) times the trapezoid rule in azimuth;
* the time integral uses the trapezoid rule on a uniform grid.

Differences from CARA's Pc3D_Hall: CARA can re-linearize about the
peak-overlap point for strongly nonlinear cases; we linearize about the mean
orbit only. Validation against CARA's values is in tests/collision/ and
docs/design/collision.md.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from kizuna.collision.encounter import (
    CollisionInputError,
    PcResult,
    remediate_covariance,
)

#: Earth GM (EGM-96), km^3/s^2.
MU_EARTH_KM3_S2 = 398600.4418


def _stumpff(z):
    c = np.empty_like(z)
    s = np.empty_like(z)
    pos = z > 1e-6
    neg = z < -1e-6
    mid = ~(pos | neg)
    sz = np.sqrt(z[pos])
    c[pos] = (1 - np.cos(sz)) / z[pos]
    s[pos] = (sz - np.sin(sz)) / sz ** 3
    sz = np.sqrt(-z[neg])
    c[neg] = (np.cosh(sz) - 1) / (-z[neg])
    s[neg] = (np.sinh(sz) - sz) / sz ** 3
    zm = z[mid]
    c[mid] = 0.5 - zm / 24 + zm * zm / 720
    s[mid] = 1 / 6 - zm / 120 + zm * zm / 5040
    return c, s


def kepler_propagate(r_km, v_km_s, dt_s, mu: float = MU_EARTH_KM3_S2):
    """Two-body propagation by universal variables (vectorized).

    Parameters
    ----------
    r_km, v_km_s : (..., 3) initial inertial states.
    dt_s : (...) or scalar time offsets, broadcast against the states.

    Returns
    -------
    (r_km, v_km_s) at ``t0 + dt_s``, shape (..., 3).
    """
    r0v, v0v, dt = np.broadcast_arrays(np.asarray(r_km, float), np.asarray(v_km_s, float),
                                       np.asarray(dt_s, float)[..., None])
    dt = dt[..., 0]
    r0 = np.linalg.norm(r0v, axis=-1)
    v2 = np.einsum("...i,...i->...", v0v, v0v)
    rv = np.einsum("...i,...i->...", r0v, v0v)
    alpha = 2.0 / r0 - v2 / mu
    smu = math.sqrt(mu)
    chi = smu * np.abs(alpha) * dt
    # Near-parabolic/hyperbolic starts: fall back to a first-order guess.
    chi = np.where(alpha > 1e-12, chi, smu * dt / r0)
    for _ in range(60):
        z = alpha * chi * chi
        c, s = _stumpff(z)
        chi2 = chi * chi
        f = rv / smu * chi2 * c + (1 - alpha * r0) * chi2 * chi * s + r0 * chi - smu * dt
        fp = rv / smu * chi * (1 - z * s) + (1 - alpha * r0) * chi2 * c + r0
        step = f / fp
        chi = chi - step
        if np.all(np.abs(step) <= 1e-13 * np.maximum(np.abs(chi), 1.0)):
            break
    z = alpha * chi * chi
    c, s = _stumpff(z)
    chi2 = chi * chi
    f = 1 - chi2 / r0 * c
    g = dt - chi2 * chi / smu * s
    r = f[..., None] * r0v + g[..., None] * v0v
    rn = np.linalg.norm(r, axis=-1)
    fd = smu / (rn * r0) * (z * s - 1) * chi
    gd = 1 - chi2 / rn * c
    v = fd[..., None] * r0v + gd[..., None] * v0v
    return r, v


def _sigma_points(x6, p6):
    """12 symmetric unscented sigma points (weights 1/12) of N(x6, p6)."""
    w, q = np.linalg.eigh(p6)
    sq = q * np.sqrt(np.maximum(w, 0.0) * 6.0)  # columns scaled by sqrt(n lambda)
    return np.concatenate([x6 + sq.T, x6 - sq.T], axis=0)  # (12, 6)


def _propagate_moments(x6, p6, times_s, mu):
    """Mean (Nt, 6) and covariance (Nt, 6, 6) at each time via the unscented transform."""
    pts = _sigma_points(x6, p6)  # (12, 6)
    r, v = kepler_propagate(pts[None, :, :3], pts[None, :, 3:], times_s[:, None], mu)
    s = np.concatenate([r, v], axis=-1)  # (Nt, 12, 6)
    mean = s.mean(axis=1)
    d = s - mean[:, None, :]
    cov = np.einsum("tki,tkj->tij", d, d) / s.shape[1]
    return mean, cov


#: Central-difference steps of the state transition matrix, km and km/s.
#: Truncation error ~ (h/r)^2 and round-off ~ 1e-16 r/h are both < 1e-8.
_STM_STEP = np.array([1e-4, 1e-4, 1e-4, 1e-7, 1e-7, 1e-7])


def _propagate_linear(x6, p6, times_s, mu):
    """Mean (Nt, 6) and covariance (Nt, 6, 6): two-body mean, covariance by the STM.

    ``P(t) = Phi(t) P0 Phi(t)^T`` with ``Phi`` the two-body state transition
    matrix about the mean orbit (central differences of the exact Kepler
    propagation). Linearizing in equinoctial elements about the mean, as
    CARA's Pc3D_Hall does, gives the same ``P(t)``: element propagation is
    ``lambda += n(a) dt`` and the chain rule through the element Jacobians
    collapses to this ``Phi``.
    """
    r, v = kepler_propagate(x6[:3], x6[3:], times_s, mu)
    mean = np.concatenate([r, v], axis=-1)
    phi = np.empty((times_s.size, 6, 6))
    for i in range(6):
        d = np.zeros(6)
        d[i] = _STM_STEP[i]
        ra, va = kepler_propagate(x6[:3] + d[:3], x6[3:] + d[3:], times_s, mu)
        rb, vb = kepler_propagate(x6[:3] - d[:3], x6[3:] - d[3:], times_s, mu)
        phi[:, :3, i] = (ra - rb) / (2 * d[i])
        phi[:, 3:, i] = (va - vb) / (2 * d[i])
    cov = phi @ p6 @ np.swapaxes(phi, -1, -2)
    return mean, 0.5 * (cov + np.swapaxes(cov, -1, -2))


def _default_window(x1, p1, x2, p2, hbr_km):
    """Linear-motion encounter duration, +/- ~8.5 sigma of the crossing time."""
    dv = x2[3:] - x1[3:]
    speed = float(np.linalg.norm(dv))
    if speed == 0:
        raise CollisionInputError(
            "zero relative velocity: pass t_window_s=(t_min, t_max) to pc_hall3d"
        )
    yhat = dv / speed
    prr = p1[:3, :3] + p2[:3, :3]
    sig_along = math.sqrt(max(float(yhat @ prr @ yhat), 0.0))
    dr = x2[:3] - x1[:3]
    t_ca = -float(dr @ dv) / speed ** 2
    half = (8.5 * sig_along + 2 * hbr_km) / speed
    return t_ca - half, t_ca + half


def _ncdot(mean_rel, cov_rel, hbr_km, n_mu: int, n_phi: int):
    """Collision rate Ncdot at each time (vectorized over the time axis)."""
    nt = mean_rel.shape[0]
    out = np.zeros(nt)
    mr, mv = mean_rel[:, :3], mean_rel[:, 3:]
    prr = cov_rel[:, :3, :3]
    pvr = cov_rel[:, 3:, :3]
    pvv = cov_rel[:, 3:, 3:]
    floor = (1e-4 * hbr_km) ** 2
    w, q = np.linalg.eigh(prr)
    w = np.maximum(w, floor)
    prr_inv = np.einsum("tij,tj,tkj->tik", q, 1.0 / w, q)
    logdet = np.log(w).sum(axis=-1)
    gain = np.einsum("tij,tjk->tik", pvr, prr_inv)  # (nt, 3, 3)
    pc_cond = pvv - np.einsum("tij,tkj->tik", gain, pvr)
    # Polar axis = thinnest principal axis of the position covariance.
    axis_w = q[:, :, 0]
    axis_a = q[:, :, 1]
    axis_b = q[:, :, 2]
    sig_w = np.sqrt(w[:, 0])
    m_w = np.einsum("ti,ti->t", mr, axis_w)
    k = 9.0
    lo = np.clip((m_w - k * sig_w) / hbr_km, -1.0, 1.0)
    hi = np.clip((m_w + k * sig_w) / hbr_km, -1.0, 1.0)
    live = hi > lo
    xg, wg = np.polynomial.legendre.leggauss(n_mu)
    phi = 2 * math.pi * np.arange(n_phi) / n_phi
    cphi, sphi = np.cos(phi), np.sin(phi)
    half = 0.5 * (hi - lo)
    mu_nodes = (0.5 * (hi + lo))[:, None] + half[:, None] * xg[None, :]  # (nt, n_mu)
    sin_t = np.sqrt(np.maximum(1 - mu_nodes ** 2, 0.0))
    # unit normals n (nt, n_mu, n_phi, 3)
    n = (mu_nodes[..., None, None] * axis_w[:, None, None, :]
         + (sin_t[..., None] * cphi)[..., None] * axis_a[:, None, None, :]
         + (sin_t[..., None] * sphi)[..., None] * axis_b[:, None, None, :])
    d = hbr_km * n - mr[:, None, None, :]
    maha = np.einsum("tabi,tij,tabj->tab", d, prr_inv, d)
    dens = np.exp(-0.5 * maha - 0.5 * logdet[:, None, None]) / (2 * math.pi) ** 1.5
    mu_c = mv[:, None, None, :] + np.einsum("tij,tabj->tabi", gain, d)
    m = -np.einsum("tabi,tabi->tab", n, mu_c)
    s2 = np.einsum("tabi,tij,tabj->tab", n, pc_cond, n)
    s = np.sqrt(np.maximum(s2, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        zz = np.where(s > 0, m / s, 0.0)
    flux = np.where(s > 0, m * special.ndtr(zz) + s * np.exp(-0.5 * zz * zz) / math.sqrt(2 * math.pi),
                    np.maximum(m, 0.0))
    integrand = dens * flux
    sphere = (integrand.sum(axis=-1) * (2 * math.pi / n_phi)) @ wg * half
    out = np.where(live, hbr_km ** 2 * sphere, 0.0)
    return out


def pc_hall3d(r1_km, v1_km_s, cov1, r2_km, v2_km_s, cov2, hbr_km,
              t_window_s: tuple[float, float] | None = None, n_times: int = 201,
              n_mu: int = 32, n_phi: int = 64, mu: float = MU_EARTH_KM3_S2,
              chunk: int = 32, max_refine: int = 6,
              propagation: str = "linear") -> PcResult:
    """Hall 3D-Nc collision probability from TCA states and 6x6 covariances.

    Parameters
    ----------
    r1_km, v1_km_s, r2_km, v2_km_s : (3,) inertial states at (or near) TCA.
    cov1, cov2 : (6, 6) position-velocity covariances in that frame
        (km^2, km^2/s, km^2/s^2). NPD matrices are eigenvalue-clipped and flagged.
    hbr_km : combined hard-body radius, km.
    t_window_s : (t_min, t_max) integration limits relative to the given
        epoch, s. Default: the linear-motion encounter duration (+/- ~8.5
        sigma of the crossing time, plus the hard-body transit).
    n_times : time nodes of the initial grids (uniform over the window and
        over the linear-motion encounter interval); intervals where the rate
        is significant and poorly resolved are then bisected up to
        ``max_refine`` times. Integration is by the trapezoid rule.
    n_mu, n_phi : unit-sphere nodes (Gauss-Legendre in cos, uniform azimuth).
    propagation : ``"linear"`` (default): each object's covariance is carried
        by the two-body state transition matrix about its mean orbit, which
        is CARA's model (equinoctial linearization, see
        :func:`_propagate_linear`); ``"unscented"``: 12-point unscented
        transform of the Cartesian Gaussian (keeps second-order effects of
        the Kepler map; 2% higher than CARA on Alfano 2009 cases 11-12).

    Returns
    -------
    PcResult with ``pc = Nc``; ``extras`` has ``t_s`` and ``ncdot_per_s``.
    """
    c1 = np.asarray(cov1, dtype=float)
    c2 = np.asarray(cov2, dtype=float)
    if c1.shape != (6, 6) or c2.shape != (6, 6):
        raise CollisionInputError(
            "pc_hall3d needs 6x6 position-velocity covariances; a 3x3 position "
            "covariance has no velocity uncertainty (use foster_pc instead)"
        )
    if propagation not in ("linear", "unscented"):
        raise CollisionInputError(
            f"propagation must be 'linear' or 'unscented'; got {propagation!r}")
    moments = _propagate_linear if propagation == "linear" else _propagate_moments
    c1, rem1 = remediate_covariance(c1)
    c2, rem2 = remediate_covariance(c2)
    x1 = np.concatenate([np.asarray(r1_km, float), np.asarray(v1_km_s, float)])
    x2 = np.concatenate([np.asarray(r2_km, float), np.asarray(v2_km_s, float)])
    if t_window_s is None:
        t_window_s = _default_window(x1, c1, x2, c2, float(hbr_km))
    t_lo, t_hi = float(t_window_s[0]), float(t_window_s[1])
    grids = [np.linspace(t_lo, t_hi, int(n_times))]
    try:
        # Short encounters hide inside a long window: always sample the
        # linear-motion encounter interval densely too.
        a, b = _default_window(x1, c1, x2, c2, float(hbr_km))
        a, b = max(a, t_lo), min(b, t_hi)
        if b > a:
            grids.append(np.linspace(a, b, int(n_times)))
    except CollisionInputError:
        pass
    t = np.unique(np.concatenate(grids))

    def rate(tt):
        out = np.empty(tt.size)
        for lo in range(0, tt.size, chunk):
            ts = tt[lo:lo + chunk]
            m1, p1 = moments(x1, c1, ts, mu)
            m2, p2 = moments(x2, c2, ts, mu)
            out[lo:lo + chunk] = _ncdot(m2 - m1, p1 + p2, float(hbr_km), n_mu, n_phi)
        return out

    ncdot = rate(t)
    for _ in range(max_refine):
        # Bisect intervals whose trapezoid contribution is significant and
        # whose end values differ a lot (peak not resolved).
        top = ncdot.max()
        if top <= 0:
            break
        hi_end = np.maximum(ncdot[1:], ncdot[:-1])
        lo_end = np.minimum(ncdot[1:], ncdot[:-1])
        contrib = 0.5 * (ncdot[1:] + ncdot[:-1]) * np.diff(t)
        total = contrib.sum()
        need = (hi_end > 1e-4 * top) & ((hi_end > 1.2 * lo_end) | (contrib > 0.02 * total))
        if not np.any(need):
            break
        mids = 0.5 * (t[1:] + t[:-1])[need]
        t = np.concatenate([t, mids])
        ncdot = np.concatenate([ncdot, rate(mids)])
        order = np.argsort(t)
        t, ncdot = t[order], ncdot[order]
    nc = float(np.trapezoid(ncdot, t))
    return PcResult(pc=nc, method="hall3d", covariance_remediated=bool(rem1 or rem2),
                    extras={"t_s": t, "ncdot_per_s": ncdot, "t_window_s": tuple(t_window_s),
                            "propagation": propagation})
