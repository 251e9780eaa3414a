"""Chan's (1997, 2008) series for the 2D collision probability.

Chan replaces the integration disc by the region of equal probability-area
in the isotropic (whitened) plane, a disc of radius^2 ``u = R^2/(sx sy)``,
whose mean is at Mahalanobis distance^2 ``v = (xm/sx)^2 + (ym/sy)^2``. The
probability is then a non-central chi-square CDF with two degrees of freedom,
written as the double series

    Pc = sum_{m=0}^{M-1} e^{-v/2} (v/2)^m / m! * [1 - e^{-u/2} sum_{k=0}^{m} (u/2)^k / k!].

Accurate when the ellipse is not much flatter than the disc is wide
(``R`` small against both sigmas); it degrades for very thin ellipses
(e.g. Alfano case 5). ``M`` follows Chan's recommendation: 3, 10, 20 or 60
terms depending on ``u`` and ``v``.
"""

from __future__ import annotations

import math

import numpy as np

from kizuna.collision.encounter import (
    FCLIP,
    CollisionInputError,
    PcResult,
    eig2x2,
    project_encounter,
)


def chan_terms(u: float, v: float) -> int:
    """Number of series terms Chan recommends for ``u`` and ``v``."""
    if u <= 0.01 or v <= 1:
        return 3
    if u <= 1 or v <= 9:
        return 10
    if u <= 25 or v <= 25:
        return 20
    return 60


def pc_chan_2d(xm: float, ym: float, sigma_x: float, sigma_y: float, hbr: float,
               n_terms: int | None = None) -> float:
    """Chan series Pc from principal-frame encounter-plane values.

    Parameters
    ----------
    xm, ym : miss components along the covariance principal axes.
    sigma_x, sigma_y : standard deviations along those axes (same unit).
    hbr : combined hard-body radius (same unit).
    n_terms : series terms; default from :func:`chan_terms`.
    """
    if hbr <= 0:
        return 0.0
    if sigma_x <= 0 or sigma_y <= 0:
        raise CollisionInputError("sigma_x and sigma_y must be > 0")
    u = hbr * hbr / (sigma_x * sigma_y)
    v = (xm / sigma_x) ** 2 + (ym / sigma_y) ** 2
    m_terms = chan_terms(u, v) if n_terms is None else int(n_terms)
    ev = math.exp(-0.5 * v)
    euv = math.exp(-0.5 * (u + v))
    t = 1.0  # (v/2)^m / m!
    s = 1.0  # (u/2)^m / m!
    partial = 1.0  # sum_{k<=m} (u/2)^k / k!
    total = ev - euv
    for m in range(1, m_terms):
        t *= 0.5 * v / m
        s *= 0.5 * u / m
        partial += s
        total += ev * t - euv * t * partial
    return min(max(total, 0.0), 1.0)


def chan_pc(r1_km, v1_km_s, cov1_km2, r2_km, v2_km_s, cov2_km2, hbr_km,
            n_terms: int | None = None, fclip: float = FCLIP) -> PcResult:
    """Chan series Pc of one conjunction from TCA states and covariances (km)."""
    enc = project_encounter(r1_km, v1_km_s, cov1_km2, r2_km, v2_km_s, cov2_km2,
                            hbr_km=hbr_km, fclip=fclip)
    xm, ym, sx, sy = principal_minor_major(enc.miss_km, enc.cov_km2)
    pc = pc_chan_2d(xm, ym, sx, sy, float(hbr_km), n_terms)
    return PcResult(pc=pc, method="chan", covariance_remediated=bool(enc.remediated))


def principal_minor_major(miss_km, cov_km2):
    """(xm, ym, sigma_x, sigma_y) with x along the *minor* axis (Orekit's convention)."""
    c = np.asarray(cov_km2, dtype=float)
    lam1, lam2, ct, st = eig2x2(c[0, 0], 0.5 * (c[0, 1] + c[1, 0]), c[1, 1])
    major = miss_km[0] * ct + miss_km[1] * st
    minor = -miss_km[0] * st + miss_km[1] * ct
    return float(minor), float(major), math.sqrt(max(float(lam2), 0.0)), math.sqrt(float(lam1))
