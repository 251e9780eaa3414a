"""Orbit regimes (LEO, MEO, GEO, HEO) from mean motion and eccentricity.

The boundaries, tested in this order:

``GEO``
    ``GEO_MEAN_MOTION_MIN <= n <= GEO_MEAN_MOTION_MAX`` (0.99–1.01 rev/day) and
    ``e < GEO_ECCENTRICITY_MAX`` (0.01): near-synchronous, near-circular.
``HEO``
    ``e >= HEO_ECCENTRICITY_MIN`` (0.25): Molniya, Tundra, GTO and other
    highly elliptical orbits, whatever their period.
``LEO``
    ``n > LEO_MEAN_MOTION_MIN`` (11.25 rev/day, i.e. period < 128 min).
``MEO``
    everything else: navigation constellations, but also near-GEO drifters,
    super-synchronous graveyard orbits and mildly elliptical orbits.

A mean motion that is not a positive finite number gives ``UNKNOWN``.
These are the catalog-summary classes of Kizuna; screening never uses them.

>>> orbit_regime(15.5, 0.0005), orbit_regime(2.0, 0.01), orbit_regime(1.0027, 0.0002)
('LEO', 'MEO', 'GEO')
>>> orbit_regime(2.006, 0.72)
'HEO'
"""

from __future__ import annotations

import math

import numpy as np

LEO_MEAN_MOTION_MIN = 11.25
GEO_MEAN_MOTION_MIN = 0.99
GEO_MEAN_MOTION_MAX = 1.01
GEO_ECCENTRICITY_MAX = 0.01
HEO_ECCENTRICITY_MIN = 0.25

REGIMES = ("LEO", "MEO", "GEO", "HEO")
UNKNOWN = "UNKNOWN"


def orbit_regime(mean_motion_rev_day: float, eccentricity: float) -> str:
    """Regime of one orbit: ``"LEO"``, ``"MEO"``, ``"GEO"``, ``"HEO"`` or ``"UNKNOWN"``.

    Parameters
    ----------
    mean_motion_rev_day : float
        SGP4 (Kozai) mean motion, revolutions per day.
    eccentricity : float
        Mean eccentricity.
    """
    n = float(mean_motion_rev_day)
    e = float(eccentricity)
    if not (math.isfinite(n) and n > 0 and math.isfinite(e)):
        return UNKNOWN
    if GEO_MEAN_MOTION_MIN <= n <= GEO_MEAN_MOTION_MAX and e < GEO_ECCENTRICITY_MAX:
        return "GEO"
    if e >= HEO_ECCENTRICITY_MIN:
        return "HEO"
    if n > LEO_MEAN_MOTION_MIN:
        return "LEO"
    return "MEO"


def orbit_regimes(mean_motion_rev_day: np.ndarray, eccentricity: np.ndarray) -> np.ndarray:
    """Vectorised :func:`orbit_regime`: ``(n_obj,)`` arrays in, ``(n_obj,)`` str array out."""
    n = np.asarray(mean_motion_rev_day, dtype=np.float64)
    e = np.asarray(eccentricity, dtype=np.float64)
    valid = np.isfinite(n) & (n > 0) & np.isfinite(e)
    geo = (n >= GEO_MEAN_MOTION_MIN) & (n <= GEO_MEAN_MOTION_MAX) & (e < GEO_ECCENTRICITY_MAX)
    heo = e >= HEO_ECCENTRICITY_MIN
    leo = n > LEO_MEAN_MOTION_MIN
    return np.select(
        [~valid, geo, heo, leo], [UNKNOWN, "GEO", "HEO", "LEO"], default="MEO"
    ).astype(str)
