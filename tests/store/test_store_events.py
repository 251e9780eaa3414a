"""Events in the store (both backends): proximity and maneuver events with evidence, queries."""

from __future__ import annotations

import dataclasses
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from kizuna.catalog.snapshot import CatalogSnapshot
from kizuna.detection.maneuvers import ManeuverResult
from kizuna.detection.proximity import detect_proximity
from kizuna.store.events import (
    EVENTS_CSV_COLUMNS,
    EventStoreError,
    NewEvent,
    add_events,
    events_csv,
    find_events,
    record_maneuvers,
    record_proximity,
)
from kizuna.store.repository import start_run
from kizuna.store.session import Store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "screening"))
from screening_subsets import FULL_2022, load_snapshot

ISS = 25544


@pytest.fixture(scope="module")
def report():
    snap = load_snapshot(FULL_2022)
    iss = dataclasses.replace(next(es for es in snap.element_sets if es.norad_id == ISS))
    docked = dataclasses.replace(iss, norad_id=99001, tle_line1=None, tle_line2=None)
    lead = dataclasses.replace(iss, norad_id=99002, tle_line1=None, tle_line2=None,
                               mean_anomaly_deg=iss.mean_anomaly_deg + 0.1)
    return detect_proximity(CatalogSnapshot.from_element_sets([iss, docked, lead]), [ISS],
                            duration_s=43200.0, workers=1)


def _maneuver() -> ManeuverResult:
    one = np.array([1.0])
    jd = np.array([2459601.5])  # 2022-01-22, before the window (ISS epoch 21:57)
    return ManeuverResult(
        norad_id=np.array([99002]), burn_jd=jd, burn_fr=np.array([0.25]), time_sigma_s=one,
        delta_a_km=np.array([0.8]), delta_v_m_s=np.array([0.45]), dv_in_plane_m_s=one,
        dv_out_of_plane_m_s=one, delta_i_deg=one, plane_change_deg=one, delta_e=one,
        score=np.array([42.0]), before_jd=jd, before_fr=np.array([0.0]), after_jd=jd,
        after_fr=np.array([0.5]), regime=np.array(["LEO"]), kind=np.array(["raise"]))


def test_proximity_events_round_trip_with_evidence(store: Store, report) -> None:
    assert len(report) == 2
    with store.begin_write() as session:
        run_id = start_run(session=session, kind="proximity")
        ids = record_proximity(session=session, report=report, run_id=run_id)
    assert len(ids) == 2
    with store.begin() as session:
        got = find_events(session=session, kind="proximity")
    assert [(r.primary_norad_id, r.secondary_norad_id) for r in got] == \
        [(e.protected_norad_id, e.other_norad_id) for e in report.events]
    docked = next(r for r in got if r.secondary_norad_id == 99001)
    assert docked.min_range_km == 0.0 and docked.run_id == run_id
    assert docked.start == report.start
    assert docked.end == report.start + timedelta(seconds=43200.0)
    assert "docked" in docked.summary and docked.subkind == "proximity"
    ev = docked.evidence
    assert ev["row"]["shared_element_set"] == "true"
    assert ev["element_sets"][0]["tle_line1"].startswith("1 25544U")
    assert ev["element_sets"][1]["norad_id"] == 99001
    assert ev["limits"]["range_km"] == 25.0


def test_events_are_queryable_by_object_time_kind_and_viewer(store: Store, report) -> None:
    t0 = report.start
    with store.begin_write() as session:
        record_proximity(session=session, report=report)
        record_maneuvers(session=session, result=_maneuver(), releasable_to="JPN,USA")
        add_events(session=session, releasable_to="USA", new_events=[NewEvent(
            kind="breakup", primary_norad_id=12345, start=t0 + timedelta(days=30),
            end=t0 + timedelta(days=30), event_time=t0 + timedelta(days=30), n_fragments=7,
            summary="7 fragments")])
    with store.begin() as session:
        assert len(find_events(session=session)) == 4
        assert [r.kind for r in find_events(session=session, norad_id=99002)] == \
            ["maneuver", "proximity"]  # the burn (2022-01-22 06:00) is first
        man = find_events(session=session, kind="maneuver")[0]
        assert man.delta_v_m_s == pytest.approx(0.45) and man.score == pytest.approx(42.0)
        assert man.subkind == "raise" and man.summary.startswith("LEO raise: delta-v 0.450")
        assert man.event_time == datetime(2022, 1, 22, 6, 0, tzinfo=UTC)
        assert man.start == datetime(2022, 1, 22, 0, 0, tzinfo=UTC)
        # time windows select events that overlap them
        late = find_events(session=session, since=t0 + timedelta(days=1))
        assert [r.kind for r in late] == ["breakup"]
        assert len(find_events(session=session, until=t0 - timedelta(days=1))) == 0
        assert len(find_events(session=session, since=t0 + timedelta(hours=1),
                               until=t0 + timedelta(hours=2))) == 2
        # releasability: JPN sees ALL and JPN,USA records, not USA-only ones
        assert sorted(r.kind for r in find_events(session=session, releasable_to="JPN")) == \
            ["maneuver", "proximity", "proximity"]
        assert len(find_events(session=session, releasable_to="ALL")) == 2
        text = events_csv(find_events(session=session, kind="breakup"))
    lines = text.splitlines()
    assert lines[0] == ",".join(EVENTS_CSV_COLUMNS)
    fields = lines[1].split(",")
    assert fields[1:5] == ["breakup", "", "12345", ""] and fields[10] == "7"


def test_bad_events_are_refused(store: Store) -> None:
    now = datetime.now(UTC)
    with store.begin_write() as session, pytest.raises(EventStoreError, match="before its start"):
        add_events(session=session, new_events=[NewEvent(
            kind="maneuver", primary_norad_id=1, start=now, end=now - timedelta(hours=1),
            event_time=now)])
