"""Storing parsed files: counts, dedupe, re-ingest, rejections, object upserts."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import date

from sqlalchemy import func, select
from store_samples import ISS_TLES, MakeResult, element_set, iss_sets, regime_sets

from kizuna.catalog.elements import SpaceObject
from kizuna.errors import Rejection
from kizuna.store.models import element_sets, sources, space_objects
from kizuna.store.repository import (
    _epochs_naive_utc,
    add_parse_result,
    element_set_history,
    get_object,
    latest_element_sets,
    list_sources,
)
from kizuna.store.session import Store


def _count(store: Store, table) -> int:  # type: ignore[no-untyped-def]
    with store.begin() as session:
        return int(session.execute(select(func.count()).select_from(table)).scalar_one())


def _ingest(store: Store, result, **kw):  # type: ignore[no-untyped-def]
    with store.begin_write() as session:
        return add_parse_result(session=session, result=result, **kw)


def test_ingest_stores_exactly_what_the_file_held(store: Store, make_result: MakeResult) -> None:
    sets = iss_sets() + regime_sets()
    result = make_result(sets, file="/some/dir/catalog.txt", sha256="ab" * 32)
    report = _ingest(store, result, origin="space-track")

    assert not report.already_ingested
    assert (report.n_records, report.n_element_sets, report.n_element_sets_added) == (12, 12, 12)
    assert (report.n_duplicates, report.n_objects_upserted, report.n_rejected) == (0, 5, 0)
    assert _count(store, element_sets) == 12
    assert _count(store, space_objects) == 5
    [source] = list_sources(session=store())
    assert source.id == report.source_id
    assert (source.file_name, source.sha256, source.format, source.origin) == (
        "catalog.txt", "ab" * 32, "tle", "space-track")
    assert (source.n_records, source.n_element_sets_added, source.n_rejected) == (12, 12, 0)
    assert source.releasable_to == "ALL"
    assert source.ingested_at.tzinfo is not None


def test_element_sets_round_trip_field_for_field(store: Store, make_result: MakeResult) -> None:
    sets = iss_sets() + regime_sets()
    _ingest(store, make_result(sets))
    with store.begin() as session:
        stored = [es for n in {s.norad_id for s in sets}
                  for es in element_set_history(session=session, norad_id=n)]
    def key(es):  # type: ignore[no-untyped-def]
        return (es.norad_id, es.epoch_jd + es.epoch_fr)

    assert sorted(stored, key=key) == sorted(sets, key=key)


def test_reingesting_the_same_file_adds_nothing(store: Store, make_result: MakeResult) -> None:
    result = make_result(iss_sets(), sha256="cd" * 32)
    first = _ingest(store, result)
    # Same bytes under another name: still the same file.
    again = _ingest(store, replace(result, file="renamed.txt"))
    assert again.already_ingested
    assert again.source_id == first.source_id
    assert (again.n_element_sets_added, again.n_duplicates, again.n_objects_upserted) == (0, 8, 0)
    assert _count(store, element_sets) == 8
    assert _count(store, sources) == 1


def test_a_second_file_with_overlapping_sets_adds_only_the_new_ones(
    store: Store, make_result: MakeResult
) -> None:
    first = _ingest(store, make_result(iss_sets([0, 1, 2, 3])))
    second = _ingest(store, make_result(iss_sets([2, 3, 4, 5, 6])))
    assert first.n_element_sets_added == 4
    assert (second.n_element_sets_added, second.n_duplicates) == (3, 2)
    assert _count(store, element_sets) == 7
    assert [s.n_element_sets_added for s in list_sources(session=store())] == [3, 4]


def test_the_same_set_from_another_provider_is_kept_apart(
    store: Store, make_result: MakeResult
) -> None:
    _ingest(store, make_result(iss_sets([0, 1])), origin="space-track")
    report = _ingest(store, make_result(iss_sets([0, 1])), origin="celestrak")
    assert report.n_element_sets_added == 2
    assert _count(store, element_sets) == 4


def test_duplicates_inside_one_file_are_stored_once(store: Store, make_result: MakeResult) -> None:
    report = _ingest(store, make_result(iss_sets([0, 1, 0, 1, 1])))
    assert (report.n_element_sets, report.n_element_sets_added, report.n_duplicates) == (5, 2, 3)
    assert _count(store, element_sets) == 2


def test_a_set_reissued_for_the_same_epoch_in_one_file_keeps_the_later_issue(
    store: Store, make_result: MakeResult
) -> None:
    # Space-Track history files list a set re-issued for the same epoch (a correction,
    # or the full-precision copy) after the first issue; the later one is stored, as
    # the maneuver detector keeps it when it reads the file. A later file does not
    # replace what is stored.
    first, second = iss_sets([0, 1])
    corrected = replace(first, mean_anomaly_deg=first.mean_anomaly_deg + 0.11)
    _ingest(store, make_result([first, second, corrected]))
    with store.begin() as session:
        history = element_set_history(session=session, norad_id=25544)
    assert history == [corrected, second]
    again = replace(first, mean_anomaly_deg=first.mean_anomaly_deg + 0.2)
    report = _ingest(store, make_result([again], sha256="cd" * 32))
    assert report.n_element_sets_added == 0
    with store.begin() as session:
        assert element_set_history(session=session, norad_id=25544) == [corrected, second]


def test_history_is_append_only_and_ordered_by_epoch(store: Store, make_result: MakeResult) -> None:
    # Files arrive out of time order; the history still reads oldest first,
    # and rows already stored are never rewritten.
    _ingest(store, make_result(iss_sets([5, 6, 7])))
    with store.begin() as session:
        before = session.execute(select(element_sets).order_by(element_sets.c.id)).all()
    _ingest(store, make_result(iss_sets([0, 1, 2, 6])))
    _ingest(store, make_result(iss_sets([3, 4])))
    with store.begin() as session:
        after = session.execute(select(element_sets).order_by(element_sets.c.id)).all()
        history = element_set_history(session=session, norad_id=25544)
    assert after[: len(before)] == before
    assert history == iss_sets()
    epochs = [es.epoch for es in history]
    assert epochs == sorted(epochs)


def test_a_file_with_bad_records_stores_the_good_ones_and_reports_the_bad(
    store: Store, make_result: MakeResult
) -> None:
    bad = [
        Rejection("mixed.txt", 4, None, "checksum", "line 1 checksum is 3, expected 7"),
        Rejection("mixed.txt", 9, None, "eccentricity", "eccentricity 1.2 is not below 1"),
    ]
    report = _ingest(store, make_result(regime_sets(), rejected=bad, file="mixed.txt"))
    assert (report.n_records, report.n_element_sets_added, report.n_rejected) == (6, 4, 2)
    assert report.rejected == tuple(bad)
    assert _count(store, element_sets) == 4
    [source] = list_sources(session=store())
    assert source.n_rejected == 2


def test_objects_upsert_keeps_known_fields(store: Store, make_result: MakeResult) -> None:
    iss = iss_sets([0])
    # 1. A TLE file names the object (and a type is guessed from the name).
    _ingest(store, make_result(iss))
    with store.begin() as session:
        obj = get_object(session=session, norad_id=25544)
    assert obj is not None
    assert (obj.name, obj.object_type, obj.owner) == ("ISS (ZARYA)", "PAYLOAD", None)

    # 2. SATCAT metadata fills owner, type and dates, and may correct the name.
    satcat = SpaceObject(norad_id=25544, name="ISS (ZARYA)", intl_designator="1998-067A",
                         object_type="PAYLOAD", owner="ISS", launch_date=date(1998, 11, 20),
                         rcs_size="LARGE", extra={"OPS_STATUS_CODE": "+"})
    report = _ingest(store, make_result(objects=[satcat], format="satcat-csv"))
    assert report.n_objects_upserted == 1

    # 3. A later catalog file with another name, no designator, and a blank
    #    field neither overwrites nor blanks what is known.
    renamed = [replace(es, name="ZARYA", intl_designator="") for es in iss_sets([1])]
    blank = SpaceObject(norad_id=25544, name="", owner=None, rcs_size="")
    report = _ingest(store, make_result(renamed, objects=[blank], format="omm-json"))
    assert report.n_objects_upserted == 0

    # 4. An owner-database file without some fields keeps the others.
    ucs = SpaceObject(norad_id=25544, owner="Multinational", operator="NASA/Multinational",
                      purpose="Space Science", extra={"Users": "Government"})
    _ingest(store, make_result(objects=[ucs], format="ucs-csv"))

    with store.begin() as session:
        obj = get_object(session=session, norad_id=25544)
    assert obj == SpaceObject(
        norad_id=25544, name="ISS (ZARYA)", intl_designator="1998-067A", object_type="PAYLOAD",
        owner="Multinational", operator="NASA/Multinational", purpose="Space Science",
        launch_date=date(1998, 11, 20), rcs_size="LARGE",
    )
    assert obj.extra == {"OPS_STATUS_CODE": "+", "Users": "Government"}


def test_satcat_only_objects_are_stored_without_element_sets(
    store: Store, make_result: MakeResult
) -> None:
    objs = [SpaceObject(norad_id=n, name=f"OBJ {n}", object_type="DEBRIS", owner="PRC")
            for n in (25730, 29228, 31141)]
    report = _ingest(store, make_result(objects=objs, format="satcat-csv"))
    assert (report.n_objects_upserted, report.n_element_sets_added) == (3, 0)
    assert _count(store, space_objects) == 3
    assert _count(store, element_sets) == 0


def test_nine_digit_catalog_numbers_round_trip(store: Store, make_result: MakeResult) -> None:
    big = 123_456_789
    es = element_set(*ISS_TLES[0], name="OBJECT A", norad_id=big)
    obj = SpaceObject(norad_id=big, name="OBJECT A", owner="JPN")
    _ingest(store, make_result([es], objects=[obj]))
    with store.begin() as session:
        assert latest_element_sets(session=session, norad_ids=[big]) == [es]
        assert element_set_history(session=session, norad_id=big) == [es]
        stored = get_object(session=session, norad_id=big)
        assert stored is not None and stored.norad_id == big and stored.owner == "JPN"
        assert session.execute(select(space_objects.c.norad_id)).scalar_one() == big


def test_epoch_key_equals_element_set_epoch_to_the_microsecond() -> None:
    import numpy as np

    sets = iss_sets() + regime_sets()
    jd = np.array([s.epoch_jd for s in sets])
    fr = np.array([s.epoch_fr for s in sets])
    assert _epochs_naive_utc(jd, fr) == [s.epoch.replace(tzinfo=None) for s in sets]


def test_a_concurrent_ingest_of_the_same_file_reports_already_ingested(
    store: Store, make_result: MakeResult
) -> None:
    # The second writer starts while the first holds its transaction open: it
    # waits (SQLite write lock, PostgreSQL unique index) and then sees the file.
    result = make_result(iss_sets())
    outcome: dict[str, object] = {}

    def second() -> None:
        try:
            with store.begin_write() as session:
                outcome["report"] = add_parse_result(session=session, result=result)
        except Exception as exc:  # noqa: BLE001 - reported below
            outcome["error"] = exc

    with store.begin_write() as session:
        first = add_parse_result(session=session, result=result)
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.5)
    thread.join(timeout=60)
    assert "error" not in outcome, outcome.get("error")
    report = outcome["report"]
    assert report.already_ingested and report.source_id == first.source_id  # type: ignore[attr-defined]
    assert _count(store, element_sets) == 8


def test_an_omm_record_keeps_its_raw_text_through_the_store(
    store: Store, make_result: MakeResult
) -> None:
    from kizuna.catalog.omm import parse_omm_csv

    csv_text = (
        "OBJECT_NAME,OBJECT_ID,EPOCH,MEAN_MOTION,ECCENTRICITY,INCLINATION,RA_OF_ASC_NODE,"
        "ARG_OF_PERICENTER,MEAN_ANOMALY,EPHEMERIS_TYPE,CLASSIFICATION_TYPE,NORAD_CAT_ID,"
        "ELEMENT_SET_NO,REV_AT_EPOCH,BSTAR,MEAN_MOTION_DOT,MEAN_MOTION_DDOT\n"
        "CALSPHERE 1,1964-063C,2026-07-10T03:44:00.383136,13.76647064,.00234977,90.2216,"
        "72.3098,220.5925,303.3745,0,U,900,999,7458,.40393571E-3,.406E-5,0\n"
    )
    parsed = parse_omm_csv(csv_text, file="calsphere.csv")
    [es] = parsed.element_sets
    assert es.tle_line1 is None and es.omm_text is not None
    assert '"MEAN_MOTION":"13.76647064"' in es.omm_text and '"BSTAR":".40393571E-3"' in es.omm_text
    _ingest(store, make_result(parsed.element_sets, parsed.objects, format="omm-csv"))
    with store.begin() as session:
        [stored] = element_set_history(session=session, norad_id=900)
    assert stored.omm_text == es.omm_text
