"""Every real catalog file reads with exactly its documented count and no rejection.

Counts are those of the data README (tests/data is a copy of the team's data
folder; origins in DATA_SOURCES.md), read through ``read_catalog`` so that
gzip and format detection are exercised on the real bytes.
"""

from __future__ import annotations

import gzip
import hashlib
from functools import cache
from pathlib import Path

import pytest

from kizuna.catalog.elements import ParseResult
from kizuna.catalog.reader import read_catalog

DATA = Path(__file__).resolve().parents[1] / "data"


@cache
def _read(name: str) -> ParseResult:
    """Each big file is read once per test session (the tests only look)."""
    return read_catalog(DATA / name)

CATALOGS = [
    ("catalogs/spacetrack_3le_full_2019-03-23.txt.gz", "tle", 17892),
    ("catalogs/spacetrack_3le_full_2019-12-23.txt.gz", "tle", 18470),
    ("catalogs/spacetrack_3le_full_2022-01-25.txt.gz", "tle", 23939),
    ("catalogs/spacetrack_3le_full_2023-09-09.txt.gz", "tle", 25587),
    ("catalogs/spacetrack_3le_leo_payloads_2026-06-10.txt.gz", "tle", 16032),
    ("catalogs/celestrak_active_gp_2026-07-12.csv.gz", "omm-csv", 15985),
    ("catalogs/debris-clouds/gp-debris-fengyun1c.json.gz", "omm-json", 1938),
    ("catalogs/debris-clouds/gp-debris-cosmos2251.json.gz", "omm-json", 595),
    ("catalogs/debris-clouds/gp-debris-iridium33.json.gz", "omm-json", 111),
    ("catalogs/debris-clouds/gp-debris.json.gz", "omm-json", 2647),
]


@pytest.mark.parametrize(("name", "fmt", "count"), CATALOGS)
def test_catalog_reads_completely(name, fmt, count):
    path = DATA / name
    result = _read(name)
    assert result.format == fmt
    assert result.rejected == []
    assert len(result.element_sets) == result.n_records == count
    # one object per catalog number, as each snapshot lists each object once
    assert len({es.norad_id for es in result.element_sets}) == count
    assert len(result.objects) == count
    assert result.file == str(path)
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_vanguard_1_in_the_2019_snapshot():
    result = _read("catalogs/spacetrack_3le_full_2019-03-23.txt.gz")
    es = result.element_sets[0]
    # 0 VANGUARD 1
    # 1     5U 58002B   19078.66404675 -.00000160 +00000-0 -18194-3 0  9998
    # 2     5 034.2430 192.1354 1845120 101.4954 279.7521 10.84774727155756
    assert (es.norad_id, es.name, es.intl_designator) == (5, "VANGUARD 1", "1958-002B")
    assert (es.inclination_deg, es.eccentricity, es.raan_deg) == (34.2430, 0.1845120, 192.1354)
    assert es.mean_motion_rev_day == 10.84774727


def test_docked_pair_and_alpha5_in_later_snapshots():
    by_id = {es.norad_id: es for es in _read(
        "catalogs/spacetrack_3le_full_2022-01-25.txt.gz").element_sets}
    # SJ-21 towing the dead Compass G2 in January 2022 (data README)
    assert by_id[49330].name == "SJ-21" and by_id[34779].name.startswith("COMPASS G2")
    assert by_id[49330].intl_designator == "2021-094A"
    alpha5 = [es for es in _read(
        "catalogs/spacetrack_3le_full_2023-09-09.txt.gz").element_sets
        if es.norad_id >= 100000]
    assert alpha5 and all(es.tle_line1[2].isalpha() for es in alpha5)
    assert 270288 in {es.norad_id for es in alpha5}


def test_object_types_of_the_2023_snapshot():
    result = _read("catalogs/spacetrack_3le_full_2023-09-09.txt.gz")
    types = [o.object_type for o in result.objects]
    # The data README counts 11,337 names containing "DEB"; one of them is the payload
    # DEBUT (ORIZURU), so 11,336 debris. Its 2,110 "R/B" names are rocket bodies, and
    # the AKM/PKM upper stages (named without R/B) are too.
    assert types.count("DEBRIS") == 11336
    assert sum("R/B" in o.name for o in result.objects) == 2110
    assert types.count("ROCKET BODY") == 2138
    debut = next(o for o in result.objects if o.name == "DEBUT (ORIZURU)")
    assert debut.object_type == "PAYLOAD"


def test_iss_history_csv():
    result = read_catalog(DATA / "tle-history" / "iss_25544_gp_history_2020-2024.csv.gz")
    assert result.format == "omm-csv"
    assert result.rejected == []
    assert len(result.element_sets) == 9571
    assert {es.norad_id for es in result.element_sets} == {25544}
    assert all(es.tle_line1 and es.tle_line2 for es in result.element_sets)
    epochs = [es.epoch for es in result.element_sets]
    assert epochs[0].isoformat() == "2020-01-01T06:11:10.983264+00:00"
    assert epochs[-1].year == 2024
    (iss,) = result.objects
    assert iss.norad_id == 25544


def test_iss_space_track_json():
    result = read_catalog(
        DATA / "tle-history" / "iss_25544_spacetrack_omm_2025-09-27_to_2025-12-25.json.gz")
    assert result.format == "omm-json"
    assert result.rejected == []
    assert len(result.element_sets) == 304
    assert {es.name for es in result.element_sets} == {"ISS (ZARYA)"}
    (iss,) = result.objects
    assert (iss.norad_id, iss.object_type, iss.intl_designator) == (25544, "PAYLOAD", "1998-067A")


def test_celestrak_csv_spot_checks_against_raw_rows():
    path = DATA / "catalogs" / "celestrak_active_gp_2026-07-12.csv.gz"
    rows = gzip.decompress(path.read_bytes()).decode("utf-8").split("\n")
    by_id = {es.norad_id: es for es in _read("catalogs/celestrak_active_gp_2026-07-12.csv.gz")
             .element_sets}
    header = rows[0].split(",")
    for raw in (rows[1], rows[5000], rows[15985]):
        cells = dict(zip(header, raw.split(","), strict=True))
        es = by_id[int(cells["NORAD_CAT_ID"])]
        assert es.name == cells["OBJECT_NAME"]
        assert es.mean_motion_rev_day == float(cells["MEAN_MOTION"])
        assert es.bstar == float(cells["BSTAR"])
        assert es.epoch.isoformat() == cells["EPOCH"] + "+00:00"
