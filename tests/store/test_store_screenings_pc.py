"""Pc per stored conjunction (migration 0005), both backends: record, query, CSV export."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from alembic import command
from sqlalchemy import create_engine, inspect

from kizuna.api import load_catalog
from kizuna.collision.screening_csv import screening_csv_with_pc
from kizuna.collision.screening_pc import pc_for_events
from kizuna.screening import screen
from kizuna.screening.base import format_pc
from kizuna.store.screenings import (
    ScreeningStoreError,
    conjunctions_csv,
    find_conjunctions,
    get_run,
    record_screening,
    run_has_pc,
)
from kizuna.store.session import Store, alembic_config, open_store, upgrade

IRIDIUM33_DEBRIS = (Path(__file__).resolve().parents[1] / "data" / "catalogs" / "debris-clouds"
                    / "gp-debris-iridium33.json.gz")
STARTED = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def screened():
    snapshot, _ = load_catalog(IRIDIUM33_DEBRIS)
    result = screen(snapshot, duration_s=86400.0, threshold_km=50.0, workers=1)
    pc, pc_method, _ = pc_for_events(result.events, snapshot, result.start)
    assert len(result) > 20 and np.all(np.isfinite(pc))
    # One undefined value, as pc_for_events gives for a zero relative speed.
    pc = pc.copy()
    pc_method = pc_method.astype(object)
    pc[3], pc_method[3] = np.nan, "none:zero_rel_speed"
    return snapshot, result, pc, pc_method.astype(str)


def _record(store: Store, screened, with_pc: bool) -> int:
    snapshot, result, pc, pc_method = screened
    kwargs = {"pc": pc, "pc_method": pc_method,
              "pc_parameters": {"method": "foster"}} if with_pc else {}
    with store.begin_write() as session:
        return record_screening(session=session, result=result, snapshot=snapshot,
                                catalog_source={}, started_at=STARTED, **kwargs)


def test_pc_is_stored_exactly_and_exported_as_the_screen_wrote_it(store: Store, screened):
    snapshot, result, pc, pc_method = screened
    run_id = _record(store, screened, with_pc=True)
    with store.begin() as session:
        run = get_run(session=session, run_id=run_id)
        records = find_conjunctions(session=session, run_id=run_id)
    assert run is not None and run_has_pc(run) and run.parameters["pc"] == {"method": "foster"}
    got = np.array([np.nan if r.pc is None else r.pc for r in records])
    # Doubles round-trip bit for bit; NaN is stored as NULL.
    np.testing.assert_array_equal(got, pc)
    assert records[3].pc is None and records[3].pc_method == "none:zero_rel_speed"
    assert [r.pc_method for r in records] == list(pc_method)
    # The microsecond TCA (for rebuilding events) is start + t_s.
    t_s = [(r.tca - result.start).total_seconds() for r in records]
    np.testing.assert_allclose(t_s, result.events["t_s"], atol=1e-6)
    expected = screening_csv_with_pc(result, pc, pc_method)
    assert conjunctions_csv(records) == expected
    assert conjunctions_csv(records, with_pc=run_has_pc(run)) == expected
    row3 = expected.splitlines()[4]
    assert row3.endswith(",,none:zero_rel_speed")


def test_a_run_without_pc_still_exports_the_plain_contract_csv(store: Store, screened):
    _, result, _, _ = screened
    run_id = _record(store, screened, with_pc=False)
    with store.begin() as session:
        run = get_run(session=session, run_id=run_id)
        records = find_conjunctions(session=session, run_id=run_id)
    assert run is not None and not run_has_pc(run)
    assert all(r.pc is None and r.pc_method is None for r in records)
    assert conjunctions_csv(records) == result.to_csv()
    assert conjunctions_csv(records, with_pc=False) == result.to_csv()


def test_min_pc_filter_and_runs_side_by_side(store: Store, screened):
    _, result, pc, _ = screened
    with_pc = _record(store, screened, with_pc=True)
    without = _record(store, screened, with_pc=False)
    threshold = float(np.sort(pc[np.isfinite(pc)])[-5])
    with store.begin() as session:
        high = find_conjunctions(session=session, min_pc=threshold)
        assert get_run(session=session, run_id=without + 100) is None
    assert len(high) == 5 and {r.run_id for r in high} == {with_pc}
    assert all(r.pc >= threshold for r in high)


def test_pc_arguments_must_fit_the_events(store: Store, screened):
    snapshot, result, pc, pc_method = screened
    bad = [
        ({"pc": pc}, "both"),
        ({"pc": pc[:-1], "pc_method": pc_method[:-1]}, "one value per event"),
        ({"pc": pc, "pc_method": ["x" * 33] * len(pc)}, "longer than 32"),
    ]
    for kwargs, message in bad:
        with store.begin_write() as session, pytest.raises(ScreeningStoreError, match=message):
            record_screening(session=session, result=result, snapshot=snapshot,
                             catalog_source={}, started_at=STARTED, **kwargs)


def test_pc_cells_are_6e_and_empty_where_undefined():
    expected = {0.0: "0.000000e+00", 1.0: "1.000000e+00", 1.234567891e-7: "1.234568e-07",
                5e-300: "5.000000e-300", 0.999999951: "1.000000e+00"}
    for v, cell in expected.items():
        assert format_pc(v) == cell
    assert format_pc(float("nan")) == "" and format_pc(None) == ""
    assert format_pc(1.234567891e-7) == "1.234568e-07" and format_pc(None) == ""


def test_migration_0005_adds_nullable_columns_to_existing_rows(db_url: str, screened):
    snapshot, result, _, _ = screened
    upgrade(db_url, revision="0004")
    engine = create_engine(db_url)
    try:
        cols = {c["name"] for c in inspect(engine).get_columns("conjunctions")}
        assert "pc" not in cols
        # A run stored before 0005 (columns of 0002 only).
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO runs (kind, started_at, parameters, status) "
                                 "VALUES ('screening', '2026-11-22 00:00:00', '{}', 'done')")
            conn.exec_driver_sql(
                "INSERT INTO conjunctions (run_id, primary_norad_id, secondary_norad_id, tca, "
                "tca_utc, miss_km, rel_speed_km_s, radial_km, in_track_km, cross_track_km) "
                "VALUES (1, 1, 2, '2026-11-22 01:00:00', '2026-11-22T01:00:00.000Z', 1.5, 7.0, "
                "0.1, 0.2, 0.3)")
        upgrade(db_url)
        cols = {c["name"]: c for c in inspect(engine).get_columns("conjunctions")}
        assert cols["pc"]["nullable"] and cols["pc_method"]["nullable"]
    finally:
        engine.dispose()
    store = open_store(db_url)
    try:
        with store.begin() as session:
            [old] = find_conjunctions(session=session, run_id=1)
            run = get_run(session=session, run_id=1)
        assert old.pc is None and old.pc_method is None and run is not None
        assert not run_has_pc(run)
        assert conjunctions_csv([old]).splitlines() == [
            "primary_norad_id,secondary_norad_id,tca_utc,miss_km,rel_speed_km_s,radial_km,"
            "in_track_km,cross_track_km",
            "1,2,2026-11-22T01:00:00.000Z,1.500000,7.000000,0.100000,0.200000,0.300000"]
    finally:
        store.dispose()
    engine = create_engine(db_url)
    try:
        # The downgrade works and keeps the rows.
        with engine.begin() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0004")
        assert "pc" not in {c["name"] for c in inspect(engine).get_columns("conjunctions")}
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM conjunctions").scalar_one() == 1
    finally:
        engine.dispose()
