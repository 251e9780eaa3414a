"""SATCAT CSV (CelesTrak layout) and the UCS Satellite Database: owners for attribution.

``celestrak_satcat_handmade.csv`` is HAND-MADE (no real CelesTrak satcat.csv
is available to us): CelesTrak's column layout, public identities and owners,
rounded orbit values. See tests/data/satcat/README.md. The UCS file is the
real 2021 edition (pandas export).
"""

from __future__ import annotations

import csv
import gzip
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from kizuna.catalog.satcat import normalize_object_type, parse_satcat_csv, parse_ucs_csv
from kizuna.errors import UnusableInputError

SATCAT = Path(__file__).resolve().parents[1] / "data" / "satcat"
HANDMADE = SATCAT / "celestrak_satcat_handmade.csv"
UCS = SATCAT / "UCS-Satellite-Database_2021-pandas-export.csv.gz"


def _ucs_text() -> str:
    return gzip.decompress(UCS.read_bytes()).decode("utf-8")


def test_object_type_codes_and_words():
    assert [normalize_object_type(t) for t in ("PAY", "R/B", "DEB", "UNK", "payload",
                                               "ROCKET BODY", "TBA", "", "SHIP")] == [
        "PAYLOAD", "ROCKET BODY", "DEBRIS", "UNKNOWN", "PAYLOAD", "ROCKET BODY", "UNKNOWN",
        None, None]


def test_handmade_celestrak_satcat():
    result = parse_satcat_csv(HANDMADE.read_text(encoding="utf-8"), file="satcat.csv")
    assert result.format == "satcat-csv"
    assert result.rejected == [] and result.element_sets == []
    assert result.n_records == len(result.objects) == 10
    by_id = {o.norad_id: o for o in result.objects}
    iss = by_id[25544]
    assert (iss.name, iss.intl_designator, iss.object_type, iss.owner) == (
        "ISS (ZARYA)", "1998-067A", "PAYLOAD", "ISS")
    assert iss.launch_date == date(1998, 11, 20) and iss.decay_date is None
    assert iss.rcs_size == "LARGE"  # 399 m^2
    assert iss.extra["OPS_STATUS_CODE"] == "+" and iss.extra["LAUNCH_SITE"] == "TTMTR"
    assert (by_id[40267].name, by_id[40267].owner) == ("HIMAWARI-8", "JPN")
    assert by_id[40268].object_type == "ROCKET BODY"
    assert (by_id[29733].object_type, by_id[29733].owner, by_id[29733].rcs_size) == (
        "DEBRIS", "PRC", "SMALL")
    assert by_id[81123].object_type == "UNKNOWN" and by_id[81123].intl_designator == "1970-025"
    assert by_id[5].rcs_size == "MEDIUM"
    assert by_id[2].decay_date == date(1958, 1, 4)


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        (",25544,", ",25S44,", "NORAD_CAT_ID"),
        (",25544,PAY,", ",25544,SHIP,", "OBJECT_TYPE"),
        ("ISS (ZARYA),1998-067A,", "ISS (ZARYA),98067A,", "OBJECT_ID"),
        ("1998-11-20", "1998-11-31", "LAUNCH_DATE"),
        ("TTMTR,,92.90", "TTMTR,2030-02-30,92.90", "DECAY_DATE"),
        (",25544,", ",40267,", "NORAD_CAT_ID"),  # duplicate of a later row: the later is refused
        ("ISS (ZARYA),", "ISS, ZARYA,", "-"),
    ],
)
def test_satcat_row_problems_name_line_and_column(old, new, field):
    lines = HANDMADE.read_text(encoding="utf-8").split("\n")
    iss_line = next(i for i, line in enumerate(lines) if line.startswith("ISS (ZARYA)"))
    lines[iss_line] = lines[iss_line].replace(old, new)
    result = parse_satcat_csv("\n".join(lines), file="s.csv")
    rejected_line = iss_line + 1
    if new == ",40267,":
        rejected_line = next(i for i, line in enumerate(lines) if "HIMAWARI-8" in line) + 1
    assert [(r.file, r.line, r.field) for r in result.rejected] == [
        ("s.csv", rejected_line, field)]
    assert len(result.objects) == 9
    assert result.n_records == 10


def test_satcat_without_catalog_numbers_is_unusable():
    with pytest.raises(UnusableInputError, match="NORAD_CAT_ID"):
        parse_satcat_csv("OBJECT_NAME,OWNER\nISS,ISS\n", file="x.csv")


def test_ucs_2021_real_file():
    result = parse_ucs_csv(_ucs_text(), file="ucs.csv")
    assert result.format == "ucs-csv"
    # 4,554 data rows: 4,550 satellites, three rows holding only a stray source URL
    # (spill-over of the Ziyuan 3-3 row) and one empty padding row (skipped).
    assert result.n_records == 4553
    no_number = [r for r in result.rejected if "no NORAD number" in r.reason]
    assert [(r.line, r.field) for r in no_number] == [
        (4553, "NORAD Number"), (4554, "NORAD Number"), (4555, "NORAD Number")]
    # Eight catalog numbers appear twice (e.g. 45123 for MakerSat-1 and Starlink-1239):
    # the first row is kept, the second rejected.
    duplicates = [r for r in result.rejected if "already given" in r.reason]
    assert len(duplicates) == 8
    assert (duplicates[2].line, duplicates[2].field) == (2712, "NORAD Number")
    assert "line 1463" in duplicates[2].reason
    assert len(result.objects) == 4550 - 8 == 4542
    assert len({o.norad_id for o in result.objects}) == 4542
    assert all(o.object_type == "PAYLOAD" for o in result.objects)
    owners = Counter(o.owner for o in result.objects)
    rejected_owner_rows = {"USA": 5, "China": 1, "Japan": 0}  # rows of the duplicates
    # The data README's row counts (USA 2,769, China 461, Japan 84) hold per row:
    assert owners["USA"] + rejected_owner_rows["USA"] == 2769
    assert owners["China"] + rejected_owner_rows["China"] == 461
    assert owners["Japan"] == 84
    assert owners["United Kingdom"] == 345 and owners["Russia"] == 165


def test_ucs_known_rows():
    objects = {o.norad_id: o for o in parse_ucs_csv(_ucs_text()).objects}
    himawari = objects[40267]
    assert (himawari.name, himawari.owner, himawari.intl_designator, himawari.purpose) == (
        "Himawari 8", "Japan", "2014-060A", "Earth Observation")
    assert himawari.operator.startswith("Japan Meteorological Agency")
    assert himawari.launch_date == date(2014, 10, 7)  # written 10/7/2014
    assert himawari.extra["Class of Orbit"] == "GEO"
    iss = objects[25544]
    assert (iss.name, iss.owner, iss.launch_date) == (
        "International Space Station", "Multinational", date(1998, 11, 20))
    # The file is UTF-8 (not Latin-1 as pandas' read hint suggests): names read cleanly.
    assert any(o.extra.get("Name of Satellite, Alternate Names")
               == "COMSATBw-1 (COmmunications SATellite für BundesWehr)"
               for o in objects.values())
    # A malformed COSPAR number ("2020--019BK") costs the designator, not the owner.
    odd = [o for o in objects.values() if o.extra.get("COSPAR Number") == "2020--019BK"]
    assert len(odd) == 1 and odd[0].intl_designator is None and odd[0].owner == "USA"


def test_ucs_with_the_header_on_the_first_line_and_bad_rows():
    lines = _ucs_text().split("\n")
    header = lines[1].split(",", 1)[1]  # drop pandas' index column and index row
    himawari = next(line for line in lines if ",Himawari 8,Himawari 8," in line).split(",", 1)[1]
    bad_date = himawari.replace("10/7/2014", "2014-10-07").replace("40267", "40268")
    no_number = himawari.replace(",40267,", ",,")
    text = f"{header}\n{himawari}\n{bad_date}\n{no_number}\n"
    result = parse_ucs_csv(text, file="u.csv")
    assert [o.norad_id for o in result.objects] == [40267]
    assert [(r.line, r.record, r.field) for r in result.rejected] == [
        (3, 1, "Date of Launch"), (4, 2, "NORAD Number")]


def test_ucs_tab_separated_text():
    lines = _ucs_text().split("\n")
    rows = list(csv.reader(lines[1:4]))
    text = "\n".join("\t".join(row[1:]) for row in rows) + "\n"
    objects = parse_ucs_csv(text).objects
    assert [(o.norad_id, o.owner) for o in objects] == [(44859, "USA"), (42775, "Finland")]


def test_not_a_ucs_file():
    with pytest.raises(UnusableInputError, match="NORAD Number"):
        parse_ucs_csv("a,b\n1,2\n", file="x.csv")
