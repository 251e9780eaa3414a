"""Encounter-plane geometry shared by the collision-probability methods.

The short-encounter (2D) methods assume straight-line relative motion and a
fixed, Gaussian relative-position uncertainty during the encounter. The
probability then reduces to the integral of a bivariate normal over the
hard-body disc in the *encounter plane*, the plane through the primary
perpendicular to the relative velocity at TCA.

Frame used here (rows of ``basis``), built from relative position
``r = r2 - r1`` and relative velocity ``v = v2 - v1``:

* ``y`` along ``v`` (collapsed by the 2D integral),
* ``z`` along ``r x v`` (normal to the relative orbit plane),
* ``x = y x z``, which equals the unit miss vector when ``r . v = 0``.

The 2D quantities are the projections on ``(x, z)``: the miss vector
``miss_km`` and the combined position covariance ``cov_km2 = P(C1 + C2)P^T``
(the two objects' errors are assumed uncorrelated).

All kernels broadcast over leading axes; xyz is the last axis.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kizuna.errors import KizunaError


class CollisionInputError(KizunaError, ValueError):
    """Inputs to a collision-probability method have the wrong shape or value."""


#: CARA-style clipping factor: eigenvalues of a 2x2 encounter-plane covariance
#: below ``(FCLIP * hbr)**2`` are raised to that floor.
FCLIP = 1e-4


@dataclass(frozen=True, slots=True)
class EncounterPlane:
    """Encounter-plane projection of one conjunction (or a batch).

    Attributes
    ----------
    miss_km : (..., 2) miss vector in the plane (x, z components), km.
    cov_km2 : (..., 2, 2) combined position covariance in the plane, km^2.
    basis : (..., 3, 3) rows x, y, z of the encounter frame in the input frame.
    rel_speed_km_s : (...) relative speed, km/s.
    remediated : (...) bool, the 2x2 covariance needed eigenvalue clipping.
    """

    miss_km: np.ndarray
    cov_km2: np.ndarray
    basis: np.ndarray
    rel_speed_km_s: np.ndarray
    remediated: np.ndarray


def _as_vec3(a, name: str) -> np.ndarray:
    arr = np.asarray(a, dtype=float)
    if arr.shape[-1:] != (3,):
        raise CollisionInputError(
            f"{name} must have xyz on the last axis (shape (..., 3)); got {arr.shape}"
        )
    return arr


def position_block(cov, name: str = "covariance") -> np.ndarray:
    """Return the 3x3 position block of a 3x3 or 6x6 covariance (km^2).

    Parameters
    ----------
    cov : (..., 3, 3) or (..., 6, 6) array-like, position first (km, km/s).
    """
    c = np.asarray(cov, dtype=float)
    if c.shape[-2:] == (6, 6):
        return c[..., :3, :3]
    if c.shape[-2:] == (3, 3):
        return c
    raise CollisionInputError(
        f"{name} must be 3x3 (position, km^2) or 6x6 (position-velocity); got {c.shape}"
    )


def encounter_basis(r_rel_km, v_rel_km_s) -> np.ndarray:
    """Rows (x, y, z) of the encounter frame for relative states (..., 3).

    Raises :class:`CollisionInputError` when the relative velocity is zero or
    parallel to the relative position: the encounter plane is then undefined
    (use :func:`kizuna.collision.hall3d.pc_hall3d` or Monte Carlo instead).
    """
    r = _as_vec3(r_rel_km, "relative position")
    v = _as_vec3(v_rel_km_s, "relative velocity")
    vn = np.linalg.norm(v, axis=-1, keepdims=True)
    if np.any(vn == 0):
        raise CollisionInputError(
            "zero relative velocity: the 2D encounter plane is undefined; "
            "use the 3D (hall3d) or Monte Carlo method"
        )
    y = v / vn
    h = np.cross(r, v)
    hn = np.linalg.norm(h, axis=-1, keepdims=True)
    # Zero miss (or miss along v): any normal to v works; pick one stably.
    bad = (hn[..., 0] <= 1e-15 * np.maximum(vn[..., 0], 1.0) * np.maximum(
        np.linalg.norm(r, axis=-1), 1e-300))
    if np.any(bad):
        helper = np.where(np.abs(y[..., :1]) < 0.9, [1.0, 0.0, 0.0], [0.0, 1.0, 0.0])
        h = np.where(bad[..., None], np.cross(helper, y), h)
        hn = np.linalg.norm(h, axis=-1, keepdims=True)
    z = h / hn
    x = np.cross(y, z)
    return np.stack([x, y, z], axis=-2)


def project_encounter(r1_km, v1_km_s, cov1_km2, r2_km, v2_km_s, cov2_km2,
                      hbr_km=None, fclip: float = FCLIP) -> EncounterPlane:
    """Project a conjunction onto the encounter plane.

    Parameters
    ----------
    r1_km, v1_km_s, r2_km, v2_km_s : (..., 3) primary/secondary state at TCA,
        same inertial frame, km and km/s.
    cov1_km2, cov2_km2 : (..., 3, 3) or (..., 6, 6) covariances in that frame
        (km^2 for the position block); only the position block is used.
    hbr_km : scalar or (...), optional. When given, 2x2 eigenvalues below
        ``(fclip * hbr_km)**2`` are clipped to that floor and flagged.

    Returns
    -------
    EncounterPlane
    """
    r1 = _as_vec3(r1_km, "r1_km")
    r2 = _as_vec3(r2_km, "r2_km")
    v1 = _as_vec3(v1_km_s, "v1_km_s")
    v2 = _as_vec3(v2_km_s, "v2_km_s")
    c = position_block(cov1_km2, "cov1_km2") + position_block(cov2_km2, "cov2_km2")
    r = r2 - r1
    v = v2 - v1
    basis = encounter_basis(r, v)
    p = basis[..., [0, 2], :]  # (..., 2, 3)
    miss = np.einsum("...ij,...j->...i", p, r)
    cov2 = np.einsum("...ij,...jk,...lk->...il", p, c, p)
    cov2 = 0.5 * (cov2 + np.swapaxes(cov2, -1, -2))
    remediated = np.zeros(cov2.shape[:-2], dtype=bool)
    if hbr_km is not None:
        floor = (fclip * np.asarray(hbr_km, dtype=float)) ** 2
        cov2, remediated = clip_covariance_2x2(cov2, floor)
    return EncounterPlane(miss, cov2, basis, np.linalg.norm(v, axis=-1), remediated)


def clip_covariance_2x2(cov_km2, floor_km2):
    """Raise eigenvalues of symmetric 2x2 matrices below ``floor_km2`` to it.

    Returns ``(cov, remediated)`` where ``remediated`` marks the matrices that
    changed. Closed-form eigen-decomposition so it vectorizes cheaply.
    """
    c = np.asarray(cov_km2, dtype=float)
    a, b, d = c[..., 0, 0], 0.5 * (c[..., 0, 1] + c[..., 1, 0]), c[..., 1, 1]
    lam1, lam2, ct, st = eig2x2(a, b, d)
    floor = np.broadcast_to(np.asarray(floor_km2, dtype=float), lam1.shape)
    bad = lam2 < floor
    if not np.any(bad):
        return c, bad
    l1 = np.maximum(lam1, floor)
    l2 = np.maximum(lam2, floor)
    out = np.empty_like(c)
    out[..., 0, 0] = l1 * ct * ct + l2 * st * st
    out[..., 1, 1] = l1 * st * st + l2 * ct * ct
    out[..., 0, 1] = out[..., 1, 0] = (l1 - l2) * ct * st
    out = np.where(bad[..., None, None], out, c)
    return out, bad


def eig2x2(a, b, d):
    """Eigen-decomposition of symmetric [[a, b], [b, d]] (vectorized).

    Returns ``(lam_major, lam_minor, cos_t, sin_t)``; the major eigenvector is
    ``(cos_t, sin_t)``, the minor one ``(-sin_t, cos_t)``.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    d = np.asarray(d, dtype=float)
    half_tr = 0.5 * (a + d)
    rad = np.hypot(0.5 * (a - d), b)
    lam1 = half_tr + rad
    # Product form keeps the small eigenvalue accurate for thin ellipses.
    det = a * d - b * b
    with np.errstate(divide="ignore", invalid="ignore"):
        lam2 = np.where(lam1 > 0, det / lam1, half_tr - rad)
    theta = 0.5 * np.arctan2(2.0 * b, a - d)
    return lam1, lam2, np.cos(theta), np.sin(theta)


def remediate_covariance(cov, floor: float = 0.0):
    """Eigenvalue-clip a symmetric covariance (..., n, n) to be >= ``floor``.

    Used before sampling (Monte Carlo) or conditioning (3D method) a full
    3x3/6x6 covariance that is not positive semi-definite. Returns
    ``(cov_fixed, remediated)``; ``remediated`` is True where an eigenvalue was
    below ``floor`` (after symmetrizing).
    """
    c = np.asarray(cov, dtype=float)
    c = 0.5 * (c + np.swapaxes(c, -1, -2))
    w, q = np.linalg.eigh(c)
    bad = np.any(w < floor, axis=-1)
    if not np.any(bad):
        return c, bad
    w = np.maximum(w, floor)
    fixed = np.einsum("...ij,...j,...kj->...ik", q, w, q)
    return np.where(bad[..., None, None], fixed, c), bad


@dataclass(frozen=True, slots=True)
class PcResult:
    """Collision probability from one method, with method-specific extras.

    Attributes
    ----------
    pc : probability of collision (for ``hall3d`` the expected number of
        collisions Nc, which equals Pc when Nc << 1).
    method : registry name of the method that produced it.
    covariance_remediated : a covariance was not positive definite (or was
        degenerate) and was eigenvalue-clipped before use.
    ci95 : (low, high) 95% confidence interval (Monte Carlo only).
    n_samples, n_hits : Monte Carlo sample and hit counts.
    extras : other method-specific values (e.g. the max-Pc scale factor).
    """

    pc: float
    method: str
    covariance_remediated: bool = False
    ci95: tuple[float, float] | None = None
    n_samples: int | None = None
    n_hits: int | None = None
    extras: dict | None = None
