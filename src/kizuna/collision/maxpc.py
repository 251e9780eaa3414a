"""Maximum 2D Pc when a covariance is missing or not trusted.

* Alfriend et al. (1999): keep the *shape* (orientation and aspect ratio) of
  the combined encounter-plane covariance and let its size vary,
  ``C(k) = k^2 C``. Pc(k) rises then falls; its maximum is an upper bound
  that does not depend on the (untrusted) covariance size. For a small disc
  the closed form is ``Pc_max ~ R^2 / (e * sx * sy * d2)`` with ``d2`` the
  squared Mahalanobis miss of the unscaled covariance, reached at
  ``k^2 = d2 / 2``. We maximize the exact Foster Pc numerically and report the
  closed form alongside.
* Frisbee's variant: the primary covariance is trusted, only the secondary
  one is scaled, ``C(k) = C1 + k^2 C2``; with no secondary covariance at all an
  isotropic unit covariance in the encounter plane stands in for ``C2``.

Both return :class:`~kizuna.collision.encounter.PcResult` with the optimal
scale ``k`` in ``extras``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize

from kizuna.collision.encounter import (
    FCLIP,
    CollisionInputError,
    PcResult,
    clip_covariance_2x2,
    encounter_basis,
    position_block,
    project_encounter,
)
from kizuna.collision.foster import _principal, pc_circle_2d_adaptive


def _pc2(miss, cov, r):
    m1, m2, s1, s2 = _principal(miss, cov)
    return pc_circle_2d_adaptive(float(m1), float(m2), float(s1), float(s2), r)


def _maximize(fun, k_lo: float, k_hi: float):
    """Maximize fun(k) over log k; coarse grid then bounded Brent refinement."""
    grid = np.geomspace(k_lo, k_hi, 61)
    vals = np.array([fun(k) for k in grid])
    i = int(np.argmax(vals))
    a = math.log(grid[max(i - 1, 0)])
    b = math.log(grid[min(i + 1, len(grid) - 1)])
    if b <= a:
        return float(grid[i]), float(vals[i])
    res = optimize.minimize_scalar(lambda lk: -fun(math.exp(lk)), bounds=(a, b),
                                   method="bounded", options={"xatol": 1e-6})
    if -res.fun >= vals[i]:
        return math.exp(res.x), float(-res.fun)
    return float(grid[i]), float(vals[i])


def max_pc_alfriend(r1_km, v1_km_s, cov1_km2, r2_km, v2_km_s, cov2_km2, hbr_km,
                    fclip: float = FCLIP) -> PcResult:
    """Alfriend (1999) maximum Pc over the size of the combined covariance.

    Inputs as for :func:`kizuna.collision.foster.foster_pc`; the covariances
    give only the shape. ``extras``: ``scale_k`` (sigma multiplier at the
    maximum), ``pc_max_closed_form``, ``pc_nominal`` (k = 1).
    """
    enc = project_encounter(r1_km, v1_km_s, cov1_km2, r2_km, v2_km_s, cov2_km2,
                            hbr_km=hbr_km, fclip=fclip)
    r = float(hbr_km)
    miss, cov = enc.miss_km, enc.cov_km2
    d2 = float(miss @ np.linalg.solve(cov, miss))
    sx_sy = math.sqrt(float(np.linalg.det(cov)))
    closed = r * r / (math.e * sx_sy * d2) if d2 > 0 else 1.0
    if float(np.linalg.norm(miss)) < r:
        # Miss inside the hard body: Pc -> 1 as the covariance shrinks.
        return PcResult(1.0, "max_alfriend", bool(enc.remediated),
                        extras={"scale_k": 0.0, "pc_max_closed_form": 1.0,
                                "pc_nominal": _pc2(miss, cov, r), "miss_inside_hbr": True})
    k_star = math.sqrt(d2 / 2.0)
    k, pc = _maximize(lambda k: _pc2(miss, k * k * cov, r), k_star / 100.0, k_star * 100.0)
    return PcResult(pc, "max_alfriend", bool(enc.remediated),
                    extras={"scale_k": k, "pc_max_closed_form": min(closed, 1.0),
                            "pc_nominal": _pc2(miss, cov, r)})


def max_pc_frisbee(r1_km, v1_km_s, cov1_km2, r2_km, v2_km_s, cov2_km2, hbr_km,
                   fclip: float = FCLIP) -> PcResult:
    """Frisbee-style maximum Pc: scale only the secondary covariance.

    ``cov2_km2`` may be ``None`` (no secondary covariance); an isotropic unit
    (1 km^2) covariance in the encounter plane then gives the shape.
    ``extras``: ``scale_k`` (secondary sigma multiplier at the maximum).
    """
    if cov1_km2 is None:
        raise CollisionInputError("the primary covariance is required for the Frisbee max Pc")
    r1 = np.asarray(r1_km, float)
    r2 = np.asarray(r2_km, float)
    v1 = np.asarray(v1_km_s, float)
    v2 = np.asarray(v2_km_s, float)
    basis = encounter_basis(r2 - r1, v2 - v1)
    p = basis[[0, 2], :]
    miss = p @ (r2 - r1)
    c1 = p @ position_block(cov1_km2, "cov1_km2") @ p.T
    c2 = np.eye(2) if cov2_km2 is None else p @ position_block(cov2_km2, "cov2_km2") @ p.T
    r = float(hbr_km)
    def fun(k):
        c, _ = clip_covariance_2x2(c1 + k * k * c2, (fclip * r) ** 2)
        return _pc2(miss, c, r)

    scale = math.sqrt(max(np.trace(c2), 1e-300))
    dist = max(float(np.linalg.norm(miss)), r)
    k, pc = _maximize(fun, 1e-4 * dist / scale, 1e3 * dist / scale)
    _, rem = clip_covariance_2x2(c1 + k * k * c2, (fclip * r) ** 2)
    return PcResult(pc, "max_frisbee", bool(rem),
                    extras={"scale_k": k, "secondary_covariance_given": cov2_km2 is not None})
