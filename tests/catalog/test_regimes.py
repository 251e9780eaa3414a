"""Orbit regime classification (LEO/MEO/GEO/HEO) used by catalog summaries."""

from __future__ import annotations

import numpy as np
import pytest

from kizuna.catalog.regimes import (
    GEO_ECCENTRICITY_MAX,
    GEO_MEAN_MOTION_MAX,
    GEO_MEAN_MOTION_MIN,
    HEO_ECCENTRICITY_MIN,
    LEO_MEAN_MOTION_MIN,
    orbit_regime,
    orbit_regimes,
)


@pytest.mark.parametrize(
    ("name", "mean_motion_rev_day", "eccentricity", "regime"),
    [
        # Real elements from the 2023-09-09 Space-Track catalog.
        ("ISS (ZARYA)", 15.50168434, 0.0006370, "LEO"),
        ("VANGUARD 1", 10.85082828, 0.1846599, "MEO"),  # period 133 min: above the LEO cut
        ("NAVSTAR 65", 2.00561945, 0.0109195, "MEO"),
        ("INTELSAT 901", 1.00271292, 0.0000661, "GEO"),
        ("MOLNIYA 1-91", 2.36441283, 0.6799154, "HEO"),
    ],
)
def test_real_orbits_fall_in_their_regime(
    name: str, mean_motion_rev_day: float, eccentricity: float, regime: str
) -> None:
    assert orbit_regime(mean_motion_rev_day, eccentricity) == regime, name


def test_boundaries_are_as_documented() -> None:
    assert orbit_regime(LEO_MEAN_MOTION_MIN, 0.0) == "MEO"  # period exactly 128 min
    assert orbit_regime(np.nextafter(LEO_MEAN_MOTION_MIN, 99), 0.0) == "LEO"
    assert orbit_regime(GEO_MEAN_MOTION_MIN, 0.0) == "GEO"
    assert orbit_regime(GEO_MEAN_MOTION_MAX, 0.0) == "GEO"
    assert orbit_regime(np.nextafter(GEO_MEAN_MOTION_MAX, 99), 0.0) == "MEO"
    assert orbit_regime(1.0, GEO_ECCENTRICITY_MAX) == "MEO"  # near-synchronous but elliptic
    assert orbit_regime(1.0, HEO_ECCENTRICITY_MIN) == "HEO"
    assert orbit_regime(15.0, HEO_ECCENTRICITY_MIN) == "HEO"


def test_invalid_mean_motion_is_unknown() -> None:
    for n in (0.0, -1.0, float("nan"), float("inf")):
        assert orbit_regime(n, 0.001) == "UNKNOWN"


def test_vectorised_form_agrees_with_the_scalar_one() -> None:
    rng = np.random.default_rng(7)
    n = rng.uniform(0.5, 17.0, 2000)
    e = rng.uniform(0.0, 0.8, 2000)
    n[:6] = [np.nan, -1.0, 0.0, 1.0, 11.25, 0.99]
    out = orbit_regimes(n, e)
    assert out.shape == (2000,)
    assert list(out) == [orbit_regime(a, b) for a, b in zip(n, e, strict=True)]
