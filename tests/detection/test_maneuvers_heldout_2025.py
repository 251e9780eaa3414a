"""Maneuver detection on a held-out ISS history: Space-Track OMM, 2025-09-27 to 2025-12-25.

Neither this history nor its event list was used to choose any threshold or window
of :mod:`kizuna.detection.maneuvers`; the defaults were set on the ISS 2020-2024
(docs/design/maneuvers.md). The event list,
``tests/data/tle-history/iss_orbit_changes_2025-09_to_2025-12.csv``, was compiled
from public reports *before* the detector was run on this history, with the same
columns and conventions as ``iss_orbit_changes_additional_2020-2024.csv``.

The numbers asserted below are the ones measured on the first run (default
settings, match window +/-1 day); they are recorded as measured, not as targets.
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from kizuna.catalog.reader import read_catalog
from kizuna.detection.maneuvers import detect_maneuvers

HISTORY = "iss_25544_spacetrack_omm_2025-09-27_to_2025-12-25.json.gz"
EVENTS = "iss_orbit_changes_2025-09_to_2025-12.csv"
MATCH_DAYS = 1.0
J2000 = datetime(2000, 1, 1, 12, tzinfo=timezone.utc)
MU_KM3_S2 = 398600.4418


def _days(dt: datetime) -> float:
    return (dt - J2000).total_seconds() / 86400.0


def _when(row: dict[str, str]) -> datetime:
    """Burn start in UTC; a date-only row is taken at noon, as in the 2020-2024 tests."""
    s = row["burn_start_utc"]
    return datetime.fromisoformat(s if "T" in s else s + "T12:00").replace(tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def sets(data_dir):
    return read_catalog(data_dir / "tle-history" / HISTORY).element_sets


@pytest.fixture(scope="module")
def result(sets):
    return detect_maneuvers(sets)


@pytest.fixture(scope="module")
def rows(data_dir):
    with open(data_dir / "tle-history" / EVENTS, encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _span_days(sets) -> tuple[float, float]:
    t = np.array([s.epoch_jd - 2451545.0 + s.epoch_fr for s in sets])
    return float(t.min()), float(t.max())


def _events_in_span(rows, sets) -> list[tuple[datetime, dict[str, str]]]:
    """Orbit changes inside the history (the aborted partial burn is kept as a fact only)."""
    t0, t1 = _span_days(sets)
    out = []
    for r in rows:
        if r["status"] == "aborted":
            continue
        when = _when(r)
        if t0 <= _days(when) <= t1:
            out.append((when, r))
    return out


def _burn_days(result) -> np.ndarray:
    return (result.burn_jd - 2451545.0) + result.burn_fr


def test_event_list_follows_the_2020_2024_conventions(rows):
    assert len(rows) == 3
    for r in rows:
        assert r["source_url"].startswith(("https://", "http://")), r
        assert r["time_given"] in ("time", "date only"), r
        assert ("T" in r["burn_start_utc"]) == (r["time_given"] == "time"), r
        assert r["status"] in ("actual", "planned (announcement)", "aborted"), r
        assert datetime(2025, 9, 20) <= _when(r).replace(tzinfo=None) <= datetime(2025, 12, 31)


def test_heldout_recall_and_unmatched_detections(result, rows, sets):
    """Measured: 3 detections; 2 listed events in the span, 1 detected; 2 detections unmatched.

    Detected: Progress MS-32, 2025-11-19 (16:04 MSK, 847 s, +2.7 km). Missed: the
    Dragon CRS-33 retry reboost dated 2025-09-29 by one secondary source (see
    ``test_missed_event_is_not_in_the_mean_motion``). Unmatched: 2025-10-14
    (+2.41 km) and 2025-11-07 (+1.20 km), both orbit raises during or just after
    the U.S. government shutdown, when NASA published no station reboosts; no
    dated report was found for either.
    """
    events = _events_in_span(rows, sets)
    assert [r["burn_start_utc"] for _, r in events] == ["2025-09-29", "2025-11-19T13:04"]
    tb = _burn_days(result)
    ref = np.array([_days(w) for w, _ in events])
    gap_event = np.min(np.abs(tb[:, None] - ref[None, :]), axis=0)
    detected = gap_event <= MATCH_DAYS
    matched = np.min(np.abs(tb[:, None] - ref[None, :]), axis=1) <= MATCH_DAYS

    assert len(result) == 3
    assert int(detected.sum()) == 1
    assert [events[k][1]["burn_start_utc"] for k in np.flatnonzero(~detected)] == ["2025-09-29"]
    assert int((~matched).sum()) == 2
    # both unmatched steps are clean orbit raises, not noise at the threshold
    for k in np.flatnonzero(~matched):
        assert result.delta_a_km[k] >= 1.0, k
        assert result.score[k] >= 100.0, k


def test_detected_burn_time_and_size_against_the_source(result, rows):
    """Progress MS-32, 2025-11-19: 16:04 MSK, 847.47 s, 1.55 m/s, +2.7 km (Roscosmos).

    Measured: detected 9.5 min after mid-burn (time sigma 4.5 min), delta-a 2.721 km,
    delta-v 1.533 m/s, although the burn falls in a 21.7 h gap between two sets.
    """
    row = next(r for r in rows if r["burn_start_utc"] == "2025-11-19T13:04")
    mid = _when(row) + timedelta(seconds=float(row["burn_duration_s"]) / 2.0)
    tb = _burn_days(result)
    k = int(np.argmin(np.abs(tb - _days(mid))))
    assert abs(tb[k] - _days(mid)) * 24.0 < 0.25
    assert result.delta_a_km[k] == pytest.approx(float(row["mean_altitude_change_km"]), abs=0.05)
    assert result.delta_v_m_s[k] == pytest.approx(float(row["delta_v_mps"]), rel=0.02)


def test_missed_event_is_not_in_the_mean_motion(sets):
    """The 2025-09-29 Dragon reboost (about 15 min of boost-trunk Dracos) has no trace.

    Independent of the detector: the Kozai semi-major axis from the raw mean motion of
    every set between the start of the history and the first detection (2025-10-14)
    follows one quadratic in time to 0.020 km rms, 0.036 km at worst (measured). A
    burn of that length moves ``a`` by kilometres (the 5 min test burn of 2025-09-03
    raised perigee by about 1.6 km), so the list and the element sets disagree on the
    date; the retry may have come before the first set (2025-09-27 19:46 UTC).
    """
    end = _days(datetime(2025, 10, 14, 18, tzinfo=timezone.utc))
    t = np.array([s.epoch_jd - 2451545.0 + s.epoch_fr for s in sets])
    n_rev_day = np.array([s.mean_motion_rev_day for s in sets])
    t, idx = np.unique(t, return_index=True)  # duplicates: one set per epoch
    n_rev_day = n_rev_day[idx]
    keep = t < end
    n_rad_s = n_rev_day[keep] * 2.0 * np.pi / 86400.0
    a_km = (MU_KM3_S2 / n_rad_s**2) ** (1.0 / 3.0)
    tk = t[keep] - t[keep][0]
    resid_km = a_km - np.polyval(np.polyfit(tk, a_km, 2), tk)
    assert keep.sum() >= 40
    assert np.max(np.abs(resid_km)) < 0.05
