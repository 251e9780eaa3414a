"""Screening runs recorded in the store (both backends): parameters, snapshot digest, events."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from kizuna.api import load_catalog
from kizuna.screening import screen
from kizuna.store.screenings import conjunctions_csv, find_conjunctions, list_runs, record_screening
from kizuna.store.session import Store

IRIDIUM33_DEBRIS = (Path(__file__).resolve().parents[1] / "data" / "catalogs" / "debris-clouds"
                    / "gp-debris-iridium33.json.gz")


@pytest.fixture(scope="module")
def screened():
    snapshot, _ = load_catalog(IRIDIUM33_DEBRIS)
    result = screen(snapshot, duration_s=86400.0, threshold_km=50.0, workers=1)
    assert len(result) > 0
    return snapshot, result


def test_a_recorded_run_gives_back_its_events_byte_for_byte(store: Store, screened) -> None:
    snapshot, result = screened
    started = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    with store.begin_write() as session:
        run_id = record_screening(session=session, result=result, snapshot=snapshot,
                                  catalog_source={"files": [{"path": IRIDIUM33_DEBRIS.name}]},
                                  started_at=started)
    with store.begin() as session:
        [run] = list_runs(session=session)
        records = find_conjunctions(session=session, run_id=run_id)
    assert run.id == run_id and run.kind == "screening" and run.status == "done"
    assert run.parameters["threshold_km"] == 50.0
    assert run.parameters["snapshot"] == {"n_objects": 111, "digest": snapshot.digest()}
    assert run.parameters["summary"]["n_events"] == len(result)
    assert conjunctions_csv(records) == result.to_csv()


def test_stored_conjunctions_are_queryable_by_object_time_and_miss(store: Store, screened) -> None:
    snapshot, result = screened
    with store.begin_write() as session:
        record_screening(session=session, result=result, snapshot=snapshot, catalog_source={},
                         started_at=datetime.now(UTC))
    events = result.events
    some_id = int(events["secondary_norad_id"][0])
    expected = sum(1 for e in events if some_id in (e["primary_norad_id"], e["secondary_norad_id"]))
    close = int((events["miss_km"] <= 10.0).sum())
    first_half_end = result.start.timestamp() + 43200.0
    early = int((events["t_s"] <= 43200.0).sum())
    with store.begin() as session:
        assert len(find_conjunctions(session=session, norad_id=some_id)) == expected
        assert len(find_conjunctions(session=session, max_miss_km=10.0)) == close
        end = datetime.fromtimestamp(first_half_end, UTC)
        assert len(find_conjunctions(session=session, end=end)) == early
