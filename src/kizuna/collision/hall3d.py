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

* default model (``propagation="equinoctial"``, Hall 2021 and CARA's
  Pc3D_Hall): each object's equinoctial elements at TCA are Gaussian, with
  the covariance mapped from the given Cartesian one by the Jacobian at the
  mean; two-body motion advances the mean longitude only. At each time the
  element-to-state map is linearized about the peak-overlap states (the pair
  of states, one per object, at the common position where the product of the
  two position densities peaks, found by iterating the linearization), so the
  relative state is Gaussian and accurate near the hard-body sphere even when
  that lies many sigmas from the means;
* alternatives: a Gaussian Cartesian state whose mean is carried by exact
  two-body motion (universal-variable Kepler solver) and covariance by the
  two-body state transition matrix about the mean (``"linear"``) or a
  12-point unscented transform (``"unscented"``). When the sphere is reached
  only after a large in-track excursion the two PDF models give different
  Nc (Omitron Test08: 1.926e-5 vs 1.468e-5); each agrees with a Monte Carlo
  that samples its own Gaussian;
* conditional on ``r = R n`` the relative velocity is Gaussian, so the
  expected inward normal speed is ``mu Phi(mu/s) + s phi(mu/s)`` in closed form;
* the sphere integral uses Gauss-Legendre in ``cos(theta)`` about the
  *thinnest* axis of the position covariance (restricted to the band where
  the density is not negligible) times the trapezoid rule in azimuth;
* the time integral uses the trapezoid rule on a uniform grid, refined by
  bisection where the rate is significant.

Validation against CARA's values and Monte Carlo is in tests/collision/ and
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


# ---------------------------------------------------------------- equinoctial model
#
# Equinoctial elements E = (n, af, ag, chi, psi, lambda_M) (Broucke & Cefola,
# prograde form): n mean motion (rad/s), (af, ag) eccentricity vector in the
# equinoctial frame, (chi, psi) = tan(i/2) (sin, cos) of the node, lambda_M
# mean longitude (rad). Two-body motion only advances lambda_M by n t.

#: Central-difference steps in (n, af, ag, chi, psi, lambda_M); n's is relative.
_EQ_STEP = np.array([1e-7, 1e-7, 1e-7, 1e-7, 1e-7, 1e-7])


def _eq_basis(chi, psi):
    den = 1 + chi * chi + psi * psi
    f = np.stack([1 - chi * chi + psi * psi, 2 * chi * psi, -2 * chi], axis=-1) / den[..., None]
    g = np.stack([2 * chi * psi, 1 + chi * chi - psi * psi, 2 * psi], axis=-1) / den[..., None]
    return f, g


def cartesian_to_equinoctial(x6, mu: float = MU_EARTH_KM3_S2):
    """Equinoctial elements (n, af, ag, chi, psi, lambda_M) of elliptic states.

    Parameters
    ----------
    x6 : (..., 6) inertial position (km) and velocity (km/s).

    Returns
    -------
    (..., 6): n (rad/s), af, ag, chi, psi, lambda_M (rad, in (-pi, pi]).
    Singular for exactly retrograde equatorial orbits (chi, psi -> inf).
    """
    x = np.asarray(x6, dtype=float)
    r, v = x[..., :3], x[..., 3:]
    rn = np.linalg.norm(r, axis=-1)
    h = np.cross(r, v)
    w = h / np.linalg.norm(h, axis=-1)[..., None]
    chi = w[..., 0] / (1 + w[..., 2])
    psi = -w[..., 1] / (1 + w[..., 2])
    f, g = _eq_basis(chi, psi)
    ecc = np.cross(v, h) / mu - r / rn[..., None]
    af = np.einsum("...i,...i->...", ecc, f)
    ag = np.einsum("...i,...i->...", ecc, g)
    xx = np.einsum("...i,...i->...", r, f)
    yy = np.einsum("...i,...i->...", r, g)
    a = 1.0 / (2.0 / rn - np.einsum("...i,...i->...", v, v) / mu)
    if np.any(a <= 0):
        raise CollisionInputError(
            "hall3d's equinoctial model needs elliptic orbits; use propagation='linear'")
    root = np.sqrt(1 - af * af - ag * ag)
    b = 1 / (1 + root)
    sin_f = ag + ((1 - ag * ag * b) * yy - af * ag * b * xx) / (a * root)
    cos_f = af + ((1 - af * af * b) * xx - af * ag * b * yy) / (a * root)
    ecc_lon = np.arctan2(sin_f, cos_f)
    lam = ecc_lon + ag * np.cos(ecc_lon) - af * np.sin(ecc_lon)
    return np.stack([np.sqrt(mu / a ** 3), af, ag, chi, psi, lam], axis=-1)


def equinoctial_to_cartesian(e6, dt_s=0.0, mu: float = MU_EARTH_KM3_S2):
    """Inertial state (..., 6) at ``dt_s`` after the epoch of elements ``e6`` (two-body)."""
    e = np.asarray(e6, dtype=float)
    n, af, ag, chi, psi = (e[..., i] for i in range(5))
    lam = e[..., 5] + n * np.asarray(dt_s, dtype=float)
    a = np.cbrt(mu / (n * n))
    # Generalized Kepler equation lambda = F + ag cos F - af sin F (Newton).
    ecc_lon = lam.copy()
    for _ in range(30):
        c, s = np.cos(ecc_lon), np.sin(ecc_lon)
        step = (ecc_lon + ag * c - af * s - lam) / (1 - ag * s - af * c)
        ecc_lon = ecc_lon - step
        if np.all(np.abs(step) < 1e-15):
            break
    c, s = np.cos(ecc_lon), np.sin(ecc_lon)
    root = np.sqrt(1 - af * af - ag * ag)
    b = 1 / (1 + root)
    xx = a * ((1 - ag * ag * b) * c + af * ag * b * s - af)
    yy = a * ((1 - af * af * b) * s + af * ag * b * c - ag)
    rn = a * (1 - af * c - ag * s)
    k = n * a * a / rn
    xd = k * (af * ag * b * c - (1 - ag * ag * b) * s)
    yd = k * ((1 - af * af * b) * c - af * ag * b * s)
    f, g = _eq_basis(chi, psi)
    r = xx[..., None] * f + yy[..., None] * g
    v = xd[..., None] * f + yd[..., None] * g
    return np.concatenate([r, v], axis=-1)


def _eq_state_and_jacobian(e0, times_s, mu):
    """State at t and Jacobian dX(t)/dE0 (central differences), (nt, 6) and (nt, 6, 6)."""
    x = equinoctial_to_cartesian(e0, times_s, mu)
    jac = np.empty(x.shape + (6,))
    for i in range(6):
        h = _EQ_STEP[i] * (np.abs(e0[..., 0]) if i == 0 else 1.0)
        d = np.zeros(e0.shape)
        d[..., i] = h
        jac[..., i] = (equinoctial_to_cartesian(e0 + d, times_s, mu)
                       - equinoctial_to_cartesian(e0 - d, times_s, mu)) / (2 * h)[..., None]
    return x, jac


def _reorient_if_retrograde(x1, p1, x2, p2):
    """Rotate both states/covariances so neither orbit is near-retrograde.

    The prograde equinoctial elements are singular at i = 180 deg; Nc depends
    only on the relative geometry, so one common rotation is harmless. Applied
    only when needed (i > ~154 deg), to leave other cases untouched.
    """
    w = [np.cross(x[:3], x[3:]) for x in (x1, x2)]
    w = [u / np.linalg.norm(u) for u in w]
    if min(w[0][2], w[1][2]) > -0.9:
        return x1, p1, x2, p2
    z = w[0] + w[1]
    if np.linalg.norm(z) > 0.5:
        z = z / np.linalg.norm(z)
    else:  # nearly opposite planes: a new pole perpendicular to both (i ~ 90 deg)
        z = np.cross(w[0], np.eye(3)[int(np.argmin(np.abs(w[0])))])
        z = z / np.linalg.norm(z)
    xa = np.cross(np.eye(3)[int(np.argmin(np.abs(z)))], z)
    xa = xa / np.linalg.norm(xa)
    rot = np.stack([xa, np.cross(z, xa), z])  # rows: new axes
    b = np.zeros((6, 6))
    b[:3, :3] = rot
    b[3:, 3:] = rot
    return b @ x1, b @ p1 @ b.T, b @ x2, b @ p2 @ b.T


class _EquinoctialPop:
    """Gaussian in equinoctial elements at epoch, linearized at the peak overlap.

    Each object's TCA covariance ``P0`` is mapped to its equinoctial elements
    (``Q = K P0 K^T``, ``K = dE/dX`` at the mean) and the elements are taken
    as Gaussian - Hall's (2021) model, under which a large in-track error
    moves the object *along its curved orbit* and turns its velocity with
    it. At each time the element-to-state map is linearized not about the
    mean but about the states whose positions coincide at the peak of the
    product of the two position densities (the peak-overlap point, found by
    iterating the linearization), because Ncdot is only sensitive to the
    densities near the hard-body sphere, which may lie many sigmas out.
    """

    def __init__(self, x1, p1, x2, p2, mu, max_iter: int = 30, tol: float = 1e-4):
        # tol: element change per iteration, in element sigmas. The iteration
        # converges quadratically to a noise floor of ~1e-5 sigma set by the
        # finite-difference Jacobians.
        self.mu = mu
        self.max_iter = max_iter
        self.tol = tol
        self.mean, self.cov, self.sig = [], [], []
        for x, p in ((x1, p1), (x2, p2)):
            e = cartesian_to_equinoctial(x, mu)
            _, jac = _eq_state_and_jacobian(e[None, :], np.zeros(1), mu)
            k = np.linalg.inv(jac[0])
            q = k @ p @ k.T
            q = 0.5 * (q + q.T)
            self.mean.append(e)
            self.cov.append(q)
            self.sig.append(np.sqrt(np.maximum(np.diag(q), 1e-300)))

    def _linearize(self, es, times_s):
        """Gaussian of each object's state at t, linearized about elements ``es``."""
        out = []
        for i in range(2):
            xs, jac = _eq_state_and_jacobian(es[i], times_s, self.mu)
            mean = xs + np.einsum("tij,tj->ti", jac, self.mean[i] - es[i])
            out.append((mean, jac, np.einsum("tij,jk,tlk->til", jac, self.cov[i], jac)))
        return out

    def relative(self, times_s):
        """Relative mean (nt, 6), covariance (nt, 6, 6) and convergence flags (nt,)."""
        nt = times_s.size
        es = [np.broadcast_to(m, (nt, 6)).copy() for m in self.mean]
        conv = np.zeros(nt, dtype=bool)
        stuck = np.zeros(nt, dtype=bool)
        for _ in range(self.max_iter):
            act = ~(conv | stuck)
            if not act.any():
                break
            ea = [e[act] for e in es]
            (m1, j1, p1), (m2, j2, p2) = self._linearize(ea, times_s[act])
            # Peak overlap of the two position densities:
            # r* = m1 + P1 S^-1 (m2 - m1) = m2 - P2 S^-1 (m2 - m1), S = P1 + P2;
            # each object's most likely elements given that its position is r*
            # are  E + Q J_r^T P_r^-1 (r* - m_r)  (linear-Gaussian conditioning).
            # (pseudo-inverse: a zero position covariance is a valid input)
            s_inv = np.linalg.pinv(p1[:, :3, :3] + p2[:, :3, :3], hermitian=True)
            y = np.einsum("tij,tj->ti", s_inv, m2[:, :3] - m1[:, :3])
            delta = np.zeros(int(act.sum()))
            new = []
            for i, jac, sign in ((0, j1, 1.0), (1, j2, -1.0)):
                new.append(self.mean[i] + sign * np.einsum("ij,tkj,tk->ti", self.cov[i],
                                                           jac[:, :3, :], y))
                change = np.max(np.abs(new[i] - ea[i]) / self.sig[i], axis=-1)
                delta = np.maximum(delta, change)
            # A peak overlap that needs an unbound or degenerate orbit (only
            # with absurd covariances) stops at the last valid expansion point.
            ok = np.all([(e[:, 0] > 0) & (e[:, 1] ** 2 + e[:, 2] ** 2 < 0.999) for e in new],
                        axis=0)
            ok &= np.all(np.isfinite(new[0]) & np.isfinite(new[1]), axis=-1)
            idx = np.flatnonzero(act)
            for i in range(2):
                es[i][idx[ok]] = new[i][ok]
            stuck[idx[~ok]] = True
            conv[idx[ok]] = delta[ok] <= self.tol
        (m1, _, p1), (m2, _, p2) = self._linearize(es, times_s)
        p = p1 + p2
        return m2 - m1, 0.5 * (p + np.swapaxes(p, -1, -2)), conv


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
    flux = np.where(s > 0,
                    m * special.ndtr(zz) + s * np.exp(-0.5 * zz * zz) / math.sqrt(2 * math.pi),
                    np.maximum(m, 0.0))
    integrand = dens * flux
    sphere = (integrand.sum(axis=-1) * (2 * math.pi / n_phi)) @ wg * half
    out = np.where(live, hbr_km ** 2 * sphere, 0.0)
    return out


def pc_hall3d(r1_km, v1_km_s, cov1, r2_km, v2_km_s, cov2, hbr_km,
              t_window_s: tuple[float, float] | None = None, n_times: int = 201,
              n_mu: int = 32, n_phi: int = 64, mu: float = MU_EARTH_KM3_S2,
              chunk: int = 32, max_refine: int = 6,
              propagation: str = "equinoctial") -> PcResult:
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
    propagation : what is Gaussian, and where the motion is linearized.
        ``"equinoctial"`` (default; Hall 2021 and CARA's Pc3D_Hall): each
        object's equinoctial elements at the epoch are Gaussian (covariance
        mapped from ``cov`` by the Jacobian at the mean), and at each time
        the two-body element-to-state map is linearized about the
        peak-overlap states (:class:`_EquinoctialPop`). Needs elliptic
        orbits. ``"linear"``: the Cartesian state is Gaussian, carried by
        the two-body state transition matrix about the mean orbit
        (:func:`_propagate_linear`). ``"unscented"``: Cartesian Gaussian,
        12-point unscented transform. The models agree when the hard-body
        sphere is reached within a few sigmas of the means; they differ when
        it takes a large in-track excursion (Omitron Test08: equinoctial
        1.926e-5 as CARA, linear 1.468e-5; docs/design/collision.md).

    Returns
    -------
    PcResult with ``pc = Nc``; ``extras`` has ``t_s``, ``ncdot_per_s``,
    ``propagation`` and, for ``"equinoctial"``, ``pop_converged`` (False if
    the peak-overlap iteration did not converge at a time whose rate is not
    negligible; CARA returns NaN in that case, we return the last iterate).
    """
    c1 = np.asarray(cov1, dtype=float)
    c2 = np.asarray(cov2, dtype=float)
    if c1.shape != (6, 6) or c2.shape != (6, 6):
        raise CollisionInputError(
            "pc_hall3d needs 6x6 position-velocity covariances; a 3x3 position "
            "covariance has no velocity uncertainty (use foster_pc instead)"
        )
    if propagation not in ("equinoctial", "linear", "unscented"):
        raise CollisionInputError(
            "propagation must be 'equinoctial', 'linear' or 'unscented'; "
            f"got {propagation!r}")
    moments = _propagate_linear if propagation == "linear" else _propagate_moments
    c1, rem1 = remediate_covariance(c1)
    c2, rem2 = remediate_covariance(c2)
    x1 = np.concatenate([np.asarray(r1_km, float), np.asarray(v1_km_s, float)])
    x2 = np.concatenate([np.asarray(r2_km, float), np.asarray(v2_km_s, float)])
    pop = None
    if propagation == "equinoctial":
        pop = _EquinoctialPop(*_reorient_if_retrograde(x1, c1, x2, c2), mu)
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
            if pop is not None:
                m_rel, p_rel, conv = pop.relative(ts)
            else:
                m1, p1 = moments(x1, c1, ts, mu)
                m2, p2 = moments(x2, c2, ts, mu)
                m_rel, p_rel = m2 - m1, p1 + p2
                conv = np.ones(ts.size, dtype=bool)
            out[lo:lo + chunk] = _ncdot(m_rel, p_rel, float(hbr_km), n_mu, n_phi)
            failed.append(out[lo:lo + chunk][~conv])
        return out

    failed: list[np.ndarray] = []

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
    extras = {"t_s": t, "ncdot_per_s": ncdot, "t_window_s": tuple(t_window_s),
              "propagation": propagation}
    if pop is not None:
        # Unconverged peak-overlap iterations matter only where the rate does.
        worst = max((float(f.max()) for f in failed if f.size), default=0.0)
        extras["pop_converged"] = bool(worst <= 1e-6 * max(float(ncdot.max()), 1e-300))
    return PcResult(pc=nc, method="hall3d", covariance_remediated=bool(rem1 or rem2),
                    extras=extras)
