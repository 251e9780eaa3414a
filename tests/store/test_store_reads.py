"""Reading the store: snapshots as of T, history, releasability, summaries, listings."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Double, literal, select, union_all
from store_samples import MakeResult, iss_sets, regime_sets

from kizuna.catalog.elements import SpaceObject
from kizuna.catalog.regimes import orbit_regime
from kizuna.catalog.snapshot import CatalogSnapshot
from kizuna.store.models import runs
from kizuna.store.releasability import ReleasabilityError
from kizuna.store.repository import (
    add_parse_result,
    catalog_summary,
    count_objects,
    element_set_histories,
    element_set_history,
    finish_run,
    get_object,
    latest_element_sets,
    list_objects,
    list_sources,
    load_snapshot,
    regime_expression,
    start_run,
)
from kizuna.store.session import Store


def _ingest(store: Store, result, **kw):  # type: ignore[no-untyped-def]
    with store.begin_write() as session:
        return add_parse_result(session=session, result=result, **kw)


# ------------------------------------------------------------------ snapshot as of T


def test_snapshot_as_of_t_picks_the_newest_set_at_or_before_t(
    store: Store, make_result: MakeResult
) -> None:
    iss = iss_sets()
    # Two files, history out of order, plus objects in other regimes.
    _ingest(store, make_result(iss[4:] + regime_sets()))
    _ingest(store, make_result(iss[:4]))
    day = iss[2].epoch  # 2021-09-16 00:15:26.645184 UTC, first of four sets that day
    cases = {
        day - timedelta(microseconds=1): iss[1],  # just before: the 2020 set
        day: iss[2],  # exactly at an epoch: that set (inclusive)
        day + timedelta(hours=6): iss[3],
        iss[5].epoch + timedelta(seconds=1): iss[5],
        datetime(2030, 1, 1, tzinfo=UTC): iss[7],
    }
    with store.begin() as session:
        for as_of, expected in cases.items():
            snap = load_snapshot(session=session, as_of=as_of)
            by_id = {es.norad_id: es for es in snap.element_sets}
            assert by_id[25544] == expected, as_of
            assert snap.as_of == as_of
            # The SQL answer equals the in-memory reference on the same sets.
            reference = CatalogSnapshot.from_element_sets(iss + regime_sets(), as_of=as_of)
            assert snap.element_sets == reference.element_sets
        newest = load_snapshot(session=session)
        assert {es.norad_id: es for es in newest.element_sets}[25544] == iss[7]
        assert newest.as_of is None


def test_objects_without_a_set_before_t_are_left_out(store: Store, make_result: MakeResult) -> None:
    iss = iss_sets()
    _ingest(store, make_result(iss + regime_sets()))
    with store.begin() as session:
        snap = load_snapshot(session=session, as_of=iss[0].epoch - timedelta(seconds=1))
        assert len(snap) == 0
        snap = load_snapshot(session=session, as_of=datetime(2022, 1, 1, tzinfo=UTC))
        assert [es.norad_id for es in snap.element_sets] == [25544]
        assert snap.objects[25544].name == "ISS (ZARYA)"


def test_snapshot_is_sorted_by_norad_id_and_carries_metadata(
    store: Store, make_result: MakeResult
) -> None:
    objs = [SpaceObject(norad_id=25485, name="MOLNIYA 1-91", owner="CIS", object_type="PAYLOAD")]
    _ingest(store, make_result(regime_sets() + iss_sets([7])))
    _ingest(store, make_result(objects=objs, format="satcat-csv"))
    with store.begin() as session:
        snap = load_snapshot(session=session)
    ids = [int(i) for i in snap.norad_id]
    assert ids == sorted(ids) == [25485, 25544, 26824, 36585, 44713]
    assert snap.objects[25485].owner == "CIS"
    assert snap.name(44713) == "STARLINK-1007"


def test_latest_element_sets_can_be_limited_to_some_objects(
    store: Store, make_result: MakeResult
) -> None:
    _ingest(store, make_result(regime_sets() + iss_sets()))
    with store.begin() as session:
        found = latest_element_sets(session=session, norad_ids=[25544, 26824, 999])
        assert [es.norad_id for es in found] == [25544, 26824]
        assert latest_element_sets(session=session, norad_ids=[]) == []


def test_histories_of_many_objects_equal_their_single_object_histories(
    store: Store, make_result: MakeResult
) -> None:
    _ingest(store, make_result(regime_sets() + iss_sets()))
    with store.begin() as session:
        ids = [26824, 25544, 999, 25544]
        many = element_set_histories(session=session, norad_ids=ids)
        one_by_one = [es for i in sorted(set(ids))
                      for es in element_set_history(session=session, norad_id=i)]
        assert many == one_by_one
        assert len([es for es in many if es.norad_id == 25544]) == len(iss_sets())
        start = iss_sets()[3].epoch + timedelta(seconds=1)  # between two sets
        end = iss_sets()[-2].epoch
        late = element_set_histories(session=session, norad_ids=ids, start=start, end=end)
        assert element_set_histories(session=session, norad_ids=[]) == []
    # Independent of both reads: the ingested sample sets themselves, filtered
    # and ordered by hand (NORAD id, then epoch).
    def key(es):
        return es.norad_id, es.epoch, es.mean_motion_rev_day, es.eccentricity

    ingested = sorted((es for es in regime_sets() + iss_sets() if es.norad_id in {26824, 25544}),
                      key=lambda es: (es.norad_id, es.epoch))
    assert [key(es) for es in many] == [key(es) for es in ingested]
    assert [key(es) for es in late] == [key(es) for es in ingested
                                        if start <= es.epoch <= end]
    assert 0 < len(late) < len(many) - 2  # the window really cuts both ends


def test_naive_as_of_is_refused(store: Store) -> None:
    with store.begin() as session, pytest.raises(ValueError, match="naive datetime"):
        load_snapshot(session=session, as_of=datetime(2023, 1, 1))


# ------------------------------------------------------------------ releasability


def test_releasability_hides_records_from_nations_not_in_the_set(
    store: Store, make_result: MakeResult
) -> None:
    iss = iss_sets()
    # Public history up to 2022; a newer set and a new object only USA and GBR may see.
    _ingest(store, make_result(iss[:7]))
    secret_obj = SpaceObject(norad_id=26824, name="INTELSAT 901", owner="ITSO")
    secret = make_result([iss[7], regime_sets()[2]], objects=[secret_obj], format="omm-xml")
    _ingest(store, secret, origin="allied-sensor", releasable_to="usa, gbr")

    with store.begin() as session:
        for nation in ("JPN", "jpn", "ALL"):
            latest = latest_element_sets(session=session, releasable_to=nation)
            assert [es.norad_id for es in latest] == [25544]
            assert latest[0] == iss[6]  # the newest set JPN may see
            assert len(element_set_history(session=session, norad_id=25544,
                                           releasable_to=nation)) == 7
            assert get_object(session=session, norad_id=26824, releasable_to=nation) is None
            assert element_set_history(session=session, norad_id=26824,
                                       releasable_to=nation) == []
            assert [s.releasable_to for s in list_sources(session=session,
                                                          releasable_to=nation)] == ["ALL"]
        for nation in ("USA", "GBR", None):
            latest = latest_element_sets(session=session, releasable_to=nation)
            assert [es.norad_id for es in latest] == [25544, 26824]
            assert latest[0] == iss[7]
            assert len(element_set_history(session=session, norad_id=25544,
                                           releasable_to=nation)) == 8
            obj = get_object(session=session, norad_id=26824, releasable_to=nation)
            assert obj is not None and obj.owner == "ITSO"
        snap = load_snapshot(session=session, releasable_to="JPN")
        assert 26824 not in snap.objects and len(snap) == 1
        assert len(load_snapshot(session=session, releasable_to="GBR")) == 2
        # The public object stays visible to everyone.
        assert get_object(session=session, norad_id=25544, releasable_to="JPN") is not None


def test_a_viewer_code_must_be_three_letters(store: Store) -> None:
    with store.begin() as session, pytest.raises(ReleasabilityError, match="alpha-3"):
        latest_element_sets(session=session, releasable_to="J%")


def test_restricted_metadata_never_widens_to_more_nations(
    store: Store, make_result: MakeResult
) -> None:
    # A JPN-only file describes an object first; public data arriving later
    # replaces the row rather than publishing JPN's fields.
    jpn = SpaceObject(norad_id=44713, name="STARLINK-1007", operator="Secret op")
    _ingest(store, make_result(objects=[jpn], format="satcat-csv"), releasable_to="JPN")
    public = SpaceObject(norad_id=44713, name="STARLINK-1007", owner="US")
    _ingest(store, make_result(objects=[public], format="satcat-csv"))
    # A narrower file no longer touches the public row.
    _ingest(store, make_result(objects=[jpn], format="satcat-csv"), releasable_to="JPN,USA")
    with store.begin() as session:
        obj = get_object(session=session, norad_id=44713, releasable_to="FRA")
        assert obj is not None
        assert (obj.owner, obj.operator) == ("US", None)


# ------------------------------------------------------------------ summary and listings


def test_summary_counts_objects_by_regime_type_and_owner(
    store: Store, make_result: MakeResult
) -> None:
    _ingest(store, make_result(regime_sets() + iss_sets()))
    owners = [SpaceObject(norad_id=25485, owner="CIS", object_type="PAYLOAD"),
              SpaceObject(norad_id=36585, owner="US", object_type="PAYLOAD"),
              SpaceObject(norad_id=44713, owner="US", object_type="PAYLOAD")]
    _ingest(store, make_result(objects=owners, format="satcat-csv"))
    with store.begin() as session:
        summary = catalog_summary(session=session)
        assert summary["by_regime"] == {"LEO": 2, "MEO": 1, "GEO": 1, "HEO": 1}
        assert summary["n_objects"] == 5
        assert summary["n_element_sets"] == 12
        assert summary["n_sources"] == 2
        assert summary["by_object_type"] == {"PAYLOAD": 5}
        assert summary["by_owner"] == {"US": 2, "CIS": 1}
        assert summary["as_of"] is None

        as_of = datetime(2022, 1, 1, tzinfo=UTC)
        early = catalog_summary(session=session, as_of=as_of)
        assert early["by_regime"] == {"LEO": 1, "MEO": 0, "GEO": 0, "HEO": 0}
        assert (early["n_objects"], early["n_element_sets"]) == (1, 6)
        assert early["as_of"] == "2022-01-01T00:00:00+00:00"
        assert early["by_owner"] == {}


def test_regime_sql_twin_agrees_with_the_python_classification(store: Store) -> None:
    # Boundaries of every regime and both sides of them.
    grid_n = [0.5, 0.98, 0.99, 1.0, 1.0027, 1.01, 1.02, 2.0, 2.006, 11.25, 11.2501, 15.5, 16.5]
    grid_e = [0.0, 0.0001, 0.0099, 0.01, 0.1, 0.2499, 0.25, 0.7]
    pairs = [(n, e) for n in grid_n for e in grid_e]
    # UNION ALL of one-row SELECTs: SQLite has no named VALUES table.
    grid = union_all(
        *(select(literal(n, Double).label("n"), literal(e, Double).label("e")) for n, e in pairs)
    ).subquery("grid")
    stmt = select(grid.c.n, grid.c.e, regime_expression(grid.c.n, grid.c.e))
    with store.begin() as session:
        rows = session.execute(stmt).all()
    assert len(rows) == len(pairs)
    for n, e, regime in rows:
        assert regime == orbit_regime(n, e), (n, e)


def test_list_objects_filters_and_pages(store: Store, make_result: MakeResult) -> None:
    _ingest(store, make_result(regime_sets() + iss_sets()))
    owners = [SpaceObject(norad_id=36585, owner="US"), SpaceObject(norad_id=44713, owner="US"),
              SpaceObject(norad_id=20580, name="HST", owner="US", object_type="PAYLOAD")]
    _ingest(store, make_result(objects=owners, format="satcat-csv"))
    with store.begin() as session:
        everything = list_objects(session=session)
        assert [o.norad_id for o in everything] == [20580, 25485, 25544, 26824, 36585, 44713]
        assert count_objects(session=session) == 6
        leo = list_objects(session=session, regime="leo")
        assert [o.norad_id for o in leo] == [25544, 44713]
        assert count_objects(session=session, regime="LEO") == 2
        # HST has no element set stored: its regime is unknown.
        assert [o.norad_id for o in list_objects(session=session, regime="UNKNOWN")] == [20580]
        us = list_objects(session=session, owner="US")
        assert [o.norad_id for o in us] == [20580, 36585, 44713]
        assert [o.norad_id for o in list_objects(session=session, owner="US", regime="MEO")] \
            == [36585]
        page = list_objects(session=session, limit=2, offset=2)
        assert [o.norad_id for o in page] == [25544, 26824]
        assert [o.norad_id for o in list_objects(session=session, object_type="payload",
                                                 regime="GEO")] == [26824]


def test_list_sources_is_newest_first(store: Store, make_result: MakeResult) -> None:
    for i in range(3):
        _ingest(store, make_result(iss_sets([i]), file=f"f{i}.txt"))
    with store.begin() as session:
        assert [s.file_name for s in list_sources(session=session)] == ["f2.txt", "f1.txt",
                                                                         "f0.txt"]
        assert [s.file_name for s in list_sources(session=session, limit=1, offset=1)] \
            == ["f1.txt"]


def test_runs_are_recorded(store: Store) -> None:
    with store.begin() as session:
        run_id = start_run(session=session, kind="screening",
                           parameters={"threshold_km": 5.0, "days": 7})
    with store.begin() as session:
        finish_run(session=session, run_id=run_id, status="done")
    with store.begin() as session:
        row = session.execute(select(runs)).one()
    assert (row.kind, row.status) == ("screening", "done")
    assert json.loads(row.parameters) == {"days": 7, "threshold_km": 5.0}
    assert row.finished_at >= row.started_at

