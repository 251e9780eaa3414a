"""maneuver_residuals: the per-pair evidence behind detect_maneuvers, on the real ISS history."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from kizuna.detection.maneuvers import (
    RESIDUAL_COLUMNS,
    ManeuverError,
    detect_maneuvers,
    maneuver_residuals,
)

J2000 = datetime(2000, 1, 1, 12)


def _days(pr_jd, pr_fr):
    return (pr_jd - 2451545.0) + pr_fr


def test_pairs_and_noise_are_the_ones_the_detector_uses(iss_sets):
    res = detect_maneuvers(iss_sets)
    pr = maneuver_residuals(iss_sets)
    assert len(pr) == res.n_sets_used - res.n_objects
    assert int(pr.assessed.sum()) == res.n_pairs_assessed
    assert pr.residual.shape == pr.sigma.shape == (len(pr), len(RESIDUAL_COLUMNS))
    assert np.median(pr.sigma[:, 0]) == pytest.approx(res.span_sigma_a_km[0], rel=1e-12)
    t0 = _days(pr.before_jd, pr.before_fr)
    t1 = _days(pr.after_jd, pr.after_fr)
    assert np.all(t1 > t0)
    assert np.allclose(t1 - t0, pr.dt_days)
    # g >= 1 (noise only grows with the gap); every sigma positive and finite (floors)
    assert np.all(pr.gap_factor >= 1.0)
    assert np.all(np.isfinite(pr.sigma)) and np.all(pr.sigma > 0)


def test_a_published_reboost_is_a_large_positive_step_of_a(iss_sets):
    """2023-07-04 Progress MS-23 reboost (published: 1.85 m/s, about +3.2 km); the pair
    spanning it has the largest a residual of the month, tens of sigmas."""
    pr = maneuver_residuals(iss_sets)
    burn = (datetime(2023, 7, 4, 10, 3) - J2000).total_seconds() / 86400.0
    t0 = _days(pr.before_jd, pr.before_fr)
    t1 = _days(pr.after_jd, pr.after_fr)
    month = (t0 > burn - 15) & (t1 < burn + 15)
    k = np.flatnonzero(month)[np.argmax(np.abs(pr.residual[month, 0]))]
    assert t0[k] - 0.5 <= burn <= t1[k]
    z = pr.residual[k, 0] / pr.sigma[k, 0]
    assert pr.residual[k, 0] > 1.0  # km, a raise
    assert z > 20.0


def test_objects_and_errors_follow_detect_maneuvers(iss_sets):
    few = iss_sets[:3]  # too few sets: skipped, so no pairs
    assert len(maneuver_residuals(few)) == 0
    with pytest.raises(ManeuverError, match="no element sets"):
        maneuver_residuals(iss_sets[:3], norad_id=99999)
    one = maneuver_residuals(iss_sets[:50], norad_id=25544)
    assert len(one) == detect_maneuvers(iss_sets[:50], norad_id=25544).n_sets_used - 1
    assert set(one.norad_id.tolist()) == {25544}
