"""CCSDS OMM in KVN, XML, JSON and CSV: real samples, SGP4 agreement and rejections.

Samples: the CCSDS blue-book derived files shipped with the ``ccsds-ndm``
package and Orekit's OMM test resources (including its deliberately broken
ones), copied into tests/data/ccsds/omm/. Where Orekit's own test states the
expected error (OmmParserTest: line 9 ``WRONG_KEYWORD``, line 15
``ARG_OF_PERICENTER``, ``OBJECT_ID`` uninitialised, line 17 ``metadata``),
we expect the same line and keyword.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest

from kizuna.catalog.elements import ElementSet
from kizuna.catalog.omm import parse_omm_csv, parse_omm_json, parse_omm_kvn, parse_omm_xml
from kizuna.errors import UnusableInputError

DATA = Path(__file__).resolve().parents[1] / "data"
OMM = DATA / "ccsds" / "omm"

# OMM and TLE carry the same SGP4 elements. When the OMM has the TLE's digits
# (CelesTrak, the ISS CSV) the two paths agree to far better than a metre a day
# after epoch; Space-Track's OMM has more digits than its TLE (e.g. inclination
# 51.632516 vs 51.6325 deg, 2 m of arc), so there the TLE rounding shows.
SAME_DIGITS_KM = 1e-3       # 1 m at epoch + 1 day
TLE_ROUNDING_KM = 0.05      # 50 m at epoch + 1 day (measured max 13 m over 304 ISS sets)


def _read(path: Path) -> str:
    raw = path.read_bytes()
    return (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode("utf-8")


def _position_km(es: ElementSet, days: float) -> np.ndarray:
    error, r_km, _v = es.to_satrec().sgp4(es.epoch_jd, es.epoch_fr + days)
    assert error == 0
    return np.array(r_km)


def _where(result):
    return [(r.line, r.record, r.field) for r in result.rejected]


# --------------------------------------------------------------------------- KVN


def test_celestrak_kvn_fields():
    result = parse_omm_kvn(_read(OMM / "ccsds-ndm" / "omm1_ct.kvn"), file="ct.kvn")
    assert result.format == "omm-kvn"
    assert result.rejected == []
    (es,) = result.element_sets
    assert es.norad_id == 45018
    assert es.name == "NUSAT-8 (MARIE)"
    assert es.intl_designator == "2020-003C"
    assert es.epoch == datetime(2020, 12, 29, 11, 59, 56, 951808, tzinfo=UTC)
    assert es.mean_motion_rev_day == 15.27990594
    assert es.eccentricity == 0.0013363
    assert es.inclination_deg == 97.2970
    assert es.raan_deg == 66.7438
    assert es.arg_perigee_deg == 109.4976
    assert es.mean_anomaly_deg == 15.7307
    assert es.bstar == 0.83483e-4            # written ".83483E-4"
    assert es.mean_motion_dot == 0.2212e-4   # written ".2212E-4"
    assert es.mean_motion_ddot == 0.0
    assert (es.element_set_no, es.rev_at_epoch, es.classification) == (999, 5332, "U")
    assert es.tle_line1 is None


def test_space_track_kvn_user_defined_metadata():
    result = parse_omm_kvn(_read(OMM / "ccsds-ndm" / "omm1_st.kvn"))
    assert result.rejected == []
    (obj,) = result.objects
    assert (obj.norad_id, obj.object_type, obj.owner, obj.rcs_size, obj.launch_date) == (
        45018, "PAYLOAD", "ARGN", "MEDIUM", date(2020, 1, 15))
    assert obj.decay_date is None


def test_orekit_kvn_examples_with_day_of_year_epochs():
    for name in ("OMMExample1.txt", "OMMExample2.txt"):  # Example 2 adds a covariance block
        (es,) = parse_omm_kvn(_read(OMM / "orekit" / name)).element_sets
        assert (es.norad_id, es.name, es.intl_designator) == (23581, "GOES 9", "1995-025A")
        # EPOCH = 2007-064T10:34:41.4264: day 64 of 2007 is 5 March
        assert es.epoch == datetime(2007, 3, 5, 10, 34, 41, 426400, tzinfo=UTC)
        assert (es.element_set_no, es.mean_motion_dot) == (925, -0.00000113)


def test_kvn_and_xml_of_the_same_message_give_the_same_element_set():
    kvn = parse_omm_kvn(_read(OMM / "orekit" / "OMMExample4.txt")).element_sets
    xml = parse_omm_xml(_read(OMM / "orekit" / "OMMExample4.xml")).element_sets
    assert kvn == xml
    assert kvn[0].bstar == -0.47102e-5


def test_several_messages_in_one_kvn_file_are_records():
    good = _read(OMM / "ccsds-ndm" / "omm1_ct.kvn")
    wrong = _read(OMM / "orekit" / "OMM-wrong-keyword.txt")
    other = _read(OMM / "orekit" / "OMMExample4.txt")
    text = good + "\n" + wrong + "\n" + other
    offset = len(good.split("\n"))  # lines before the second message
    result = parse_omm_kvn(text, file="multi.kvn")
    assert [es.norad_id for es in result.element_sets] == [45018, 7646]
    assert _where(result) == [(offset + 9, 1, "WRONG_KEYWORD")]
    assert result.n_records == 3


def test_kvn_units_are_checked():
    text = _read(OMM / "orekit" / "OMMExample1.txt")
    with_units = text.replace("INCLINATION       =   3.0539", "INCLINATION = 3.0539 [deg]")
    assert parse_omm_kvn(with_units).element_sets[0].inclination_deg == 3.0539
    wrong = text.replace("INCLINATION       =   3.0539", "INCLINATION = 0.0533 [rad]")
    assert _where(parse_omm_kvn(wrong)) == [(15, 0, "INCLINATION")]


# --------------------------------------------------------------------------- XML


def test_ndm_with_many_omms_and_an_undeclared_xsi_prefix():
    result = parse_omm_xml(_read(OMM / "ccsds-ndm" / "omm_combined.xml"))
    assert result.format == "omm-xml"
    assert result.rejected == []
    assert len(result.element_sets) == 19
    first, last = result.element_sets[0], result.element_sets[-1]
    assert (first.norad_id, first.name, first.intl_designator) == (
        41558, "NUSAT-2 (BATATA)", "2016-033C")
    assert (last.norad_id, last.name) == (46840, "NUSAT-16 (LISE)")
    assert first.bstar == 0.15913e-3 and first.mean_motion_dot == 4.64e-5
    (es,) = parse_omm_xml(_read(OMM / "ccsds-ndm" / "omm_single_ndm.xml")).element_sets
    assert es.epoch == datetime(2020, 11, 26, 10, 16, 15, 146112, tzinfo=UTC)


def test_namespaces_and_prefixes_do_not_matter():
    plain = _read(OMM / "orekit" / "OMMExample4.xml")
    expected = parse_omm_xml(plain).element_sets
    default_ns = plain.replace('<omm id=', '<omm xmlns="urn:ccsds:schema:ndmxml" id=')
    prefixed = plain.replace("<", "<n:").replace("<n:/", "</n:").replace("<n:?", "<?").replace(
        '<n:omm id=', '<n:omm xmlns:n="urn:ccsds:schema:ndmxml" id=')
    assert parse_omm_xml(default_ns).element_sets == expected
    assert parse_omm_xml(prefixed).element_sets == expected


def test_space_track_xml_with_user_defined_parameters():
    result = parse_omm_xml(_read(OMM / "ccsds-ndm" / "omm1_st.xml"))
    (obj,) = result.objects
    assert (obj.owner, obj.rcs_size, obj.object_type) == ("ARGN", "MEDIUM", "PAYLOAD")


def test_ndmxml_sample_theory_tle_and_missing_optional_tle_parameters():
    # MEAN_ELEMENT_THEORY = TLE with "USAF SGP4 IS THE ONLY PROPAGATOR THAT SHOULD BE USED";
    # EPHEMERIS_TYPE and CLASSIFICATION_TYPE are optional and absent.
    result = parse_omm_xml(_read(OMM / "ccsds-ndm" / "ndmxml-1.0-omm-2.0.xml"))
    (es,) = result.element_sets
    assert (es.norad_id, es.name, es.classification, es.ephemeris_type) == (
        23581, "GOES-9", "U", 0)
    assert es.epoch == datetime(2007, 3, 5, 10, 34, 41, 426400, tzinfo=UTC)


def test_xml_units_attributes():
    text = _read(OMM / "orekit" / "OMM-with-units.xml")
    (es,) = parse_omm_xml(text).element_sets
    assert es.mean_motion_rev_day == 1.00273272
    wrong = text.replace('<INCLINATION units="deg">', '<INCLINATION units="rad">')
    result = parse_omm_xml(wrong, file="u.xml")
    assert _where(result) == [(29, 0, "INCLINATION")]
    assert "[rad]" in result.rejected[0].reason


# --------------------------------------------------------------------------- malformed samples


@pytest.mark.parametrize(
    ("name", "line", "field", "words"),
    [
        ("OMM-number-format-error.txt", 15, "ARG_OF_PERICENTER", "not a number"),
        ("OMM-wrong-keyword.txt", 9, "WRONG_KEYWORD", "unexpected keyword"),
        ("OMM-empty-object-id.txt", 6, "OBJECT_ID", "empty"),
        ("OMM-empty-object-id.xml", 11, "OBJECT_ID", "empty"),
        ("spurious-metadata.xml", 17, "metadata", "second <metadata>"),
        ("OMMExample3.txt", 11, "REF_FRAME", "'TOD'"),
        ("OMMExample3_utc.txt", 11, "REF_FRAME", "'TOD'"),
        ("OMMExample5.txt", 10, "MEAN_ELEMENT_THEORY", "'SGP4-XP'"),
    ],
)
def test_orekit_broken_and_non_sgp4_samples_are_clear_rejections(name, line, field, words):
    parse = parse_omm_xml if name.endswith(".xml") else parse_omm_kvn
    result = parse(_read(OMM / "orekit" / name), file=name)
    assert result.element_sets == []
    (rejection,) = result.rejected
    assert (rejection.file, rejection.line, rejection.record, rejection.field) == (
        name, line, 0, field)
    assert words in rejection.reason


@pytest.mark.parametrize(
    ("old", "new", "line", "field"),
    [
        ("TIME_SYSTEM     = UTC", "TIME_SYSTEM     = TAI", 9, "TIME_SYSTEM"),
        ("REF_FRAME       = TEME", "REF_FRAME       = GCRF", 8, "REF_FRAME"),
        ("CENTER_NAME     = EARTH", "CENTER_NAME     = MOON", 7, "CENTER_NAME"),
        ("MEAN_ELEMENT_THEORY = SGP/SGP4", "MEAN_ELEMENT_THEORY = DSST", 10,
         "MEAN_ELEMENT_THEORY"),
        ("MEAN_MOTION       = 1.00273272\n", "", 1, "MEAN_MOTION"),  # missing: message line
        ("BSTAR             = 0.0001", "BSTAR             = ", 25, "BSTAR"),
        ("ECCENTRICITY      = 0.0005013", "ECCENTRICITY      = 1.5", 14, "ECCENTRICITY"),
        ("EPOCH             = 2007-064T10:34:41.4264", "EPOCH = 2007-366T10:34:41", 12,
         "EPOCH"),
        ("EPOCH             = 2007-064T10:34:41.4264", "EPOCH = 2007-02-30T10:34:41", 12,
         "EPOCH"),
        ("NORAD_CAT_ID      = 23581", "NORAD_CAT_ID      = 23581.5", 22, "NORAD_CAT_ID"),
        ("EPHEMERIS_TYPE    = 0", "EPHEMERIS_TYPE    = 4", 20, "EPHEMERIS_TYPE"),
        ("MEAN_ANOMALY      = 150.1602", "MEAN_ANOMALY      = 150.1602\nMEAN_ANOMALY = 1.0",
         19, "MEAN_ANOMALY"),
        ("GM                = 398600.8", "GM 398600.8", 19, "GM"),
    ],
)
def test_each_kind_of_kvn_problem_names_line_record_and_keyword(old, new, line, field):
    text = _read(OMM / "orekit" / "OMMExample1.txt")
    assert old in text
    bad = text.replace(old, new)
    good = _read(OMM / "ccsds-ndm" / "omm1_ct.kvn")
    result = parse_omm_kvn(good + "\n" + bad + "\n" + good, file="x.kvn")
    offset = len(good.split("\n"))
    assert _where(result) == [(offset + line, 1, field)]
    assert [es.norad_id for es in result.element_sets] == [45018, 45018]


def test_unusable_xml_and_kvn():
    with pytest.raises(UnusableInputError) as info:
        parse_omm_xml("<omm>\n<header>\n</omm>", file="broken.xml")
    assert (info.value.file, info.value.line) == ("broken.xml", 3)
    with pytest.raises(UnusableInputError, match="DOCTYPE"):
        parse_omm_xml('<?xml version="1.0"?>\n<!DOCTYPE omm [<!ENTITY a "aaaa">]>\n<omm>&a;</omm>')
    with pytest.raises(UnusableInputError, match="<oem>"):
        parse_omm_xml("<oem/>")
    with pytest.raises(UnusableInputError, match="no OMM"):
        parse_omm_xml("<ndm>\n</ndm>")
    with pytest.raises(UnusableInputError, match="CCSDS_OMM_VERS"):
        parse_omm_kvn("OBJECT_NAME = X\n")


def test_other_messages_inside_an_ndm_are_reported():
    omm = _read(OMM / "orekit" / "OMMExample4.xml").split("\n", 1)[1]  # drop the <?xml?>
    text = f"<ndm>\n{omm}\n<opm id=\"CCSDS_OPM_VERS\" version=\"3.0\"/>\n</ndm>"
    result = parse_omm_xml(text)
    assert [es.norad_id for es in result.element_sets] == [7646]
    assert [(r.record, r.field) for r in result.rejected] == [(1, "opm")]


# --------------------------------------------------------------------------- JSON


def test_celestrak_and_space_track_json_of_the_same_object():
    ct = parse_omm_json(_read(OMM / "ccsds-ndm" / "omm1_ct.json"), file="ct.json")
    st = parse_omm_json(_read(OMM / "ccsds-ndm" / "omm1_st.json"), file="st.json")
    assert ct.format == st.format == "omm-json"
    assert ct.rejected == st.rejected == []
    (from_omm,), (from_tle,) = ct.element_sets, st.element_sets
    assert from_omm.tle_line1 is None  # CelesTrak: numbers, SGP4 through sgp4init
    assert from_tle.tle_line1 == (
        "1 45018U 20003C   20364.16527091  .00002241  00000-0  84553-4 0  9997")
    assert from_tle.tle_line2 == (
        "2 45018  97.2970  66.4161 0013356 110.6345 334.7107 15.27989249 53274")
    assert from_tle.name == "NUSAT-8 (MARIE)"
    assert st.objects[0].object_type == "PAYLOAD" and st.objects[0].owner == "ARGN"
    # CelesTrak's OMM has exactly the TLE's digits: the twins fly together.
    for days in (0.0, 1.0):
        gap_km = np.linalg.norm(_position_km(from_omm, days) - _position_km(from_tle, days))
        assert gap_km < SAME_DIGITS_KM


def test_space_track_history_json_keeps_tle_lines_and_splits_microseconds():
    text = _read(DATA / "tle-history" / "iss_25544_spacetrack_omm_2025-09-27_to_2025-12-25.json.gz")
    records = json.loads(text)
    result = parse_omm_json(text)
    assert result.rejected == []
    assert len(result.element_sets) == 304
    first = result.element_sets[0]
    assert first.tle_line1 == records[0]["TLE_LINE1"]
    assert first.epoch.isoformat().startswith("2025-09-27T19:46:00.52")
    # EPOCH_MICROSECONDS is a count, not digits after the point: "26944" is 0.026944 s.
    short = next(i for i, r in enumerate(records) if len(r["EPOCH_MICROSECONDS"]) == 5)
    as_omm = parse_omm_json(json.dumps(
        [{k: v for k, v in records[short].items() if not k.startswith("TLE_")}])).element_sets[0]
    assert as_omm.epoch.microsecond == int(records[short]["EPOCH_MICROSECONDS"])
    assert abs(as_omm.epoch - result.element_sets[short].epoch).total_seconds() < 1e-3


def test_space_track_omm_numbers_and_its_tle_agree_within_the_tle_rounding():
    text = _read(DATA / "tle-history" / "iss_25544_spacetrack_omm_2025-09-27_to_2025-12-25.json.gz")
    records = json.loads(text)
    from_tle = parse_omm_json(text).element_sets
    from_omm = parse_omm_json(json.dumps(
        [{k: v for k, v in r.items() if not k.startswith("TLE_")} for r in records]
    )).element_sets
    assert all(es.tle_line1 is None for es in from_omm)
    gaps_km = [np.linalg.norm(_position_km(a, 1.0) - _position_km(b, 1.0))
               for a, b in zip(from_tle, from_omm, strict=True)]
    assert max(gaps_km) < TLE_ROUNDING_KM


def test_nine_digit_catalog_number_builds_a_satrec_and_propagates():
    record = json.loads(_read(OMM / "ccsds-ndm" / "omm1_ct.json"))[0]
    record["NORAD_CAT_ID"] = 123456789
    record["OBJECT_ID"] = "2026-999A"
    (es,) = parse_omm_json(json.dumps([record])).element_sets
    assert es.norad_id == 123456789
    r_km = _position_km(es, 1.0)
    assert 6800 < np.linalg.norm(r_km) < 6900  # a 475 km LEO orbit, propagated
    as_text = dict(record, NORAD_CAT_ID="999999999")
    assert parse_omm_json(json.dumps(as_text)).element_sets[0].norad_id == 999_999_999


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"MEAN_MOTION": None}, "MEAN_MOTION"),
        ({"MEAN_MOTION": "fast"}, "MEAN_MOTION"),
        ({"MEAN_MOTION": True}, "MEAN_MOTION"),
        ({"ECCENTRICITY": {"value": 0.1}}, "ECCENTRICITY"),
        ({"BSTAR": "NaN"}, "BSTAR"),
        ({"INCLINATION": 1e400}, "INCLINATION"),
        ({"NORAD_CAT_ID": 0}, "NORAD_CAT_ID"),
        ({"NORAD_CAT_ID": 1234567890}, "NORAD_CAT_ID"),
        ({"NORAD_CAT_ID": "25 544"}, "NORAD_CAT_ID"),
        ({"EPOCH": "29/12/2020"}, "EPOCH"),
        ({"EPOCH": 2459212.5}, "EPOCH"),
        ({"OBJECT_ID": "NUSAT"}, "OBJECT_ID"),
        ({"REF_FRAME": "ITRF"}, "REF_FRAME"),
        ({"MEAN_ELEMENT_THEORY": "SGP4-XP"}, "MEAN_ELEMENT_THEORY"),
        ({"EPHEMERIS_TYPE": 4}, "EPHEMERIS_TYPE"),
        ({"CLASSIFICATION_TYPE": "UC"}, "CLASSIFICATION_TYPE"),
        ({"TLE_LINE1": "1 45018U 20003C   20364.16527091  .00002241  00000-0  84553-4 0  9997"},
         "TLE_LINE2"),
    ],
)
def test_each_kind_of_json_problem_names_record_and_keyword(change, field):
    good = json.loads(_read(OMM / "ccsds-ndm" / "omm1_ct.json"))[0]
    bad = {**good, **change}
    bad = {k: v for k, v in bad.items() if v is not None}
    text = json.dumps([good, bad, good]).replace("Infinity", "1e400")
    result = parse_omm_json(text, file="x.json")
    assert _where(result) == [(None, 1, field)], result.rejected
    assert len(result.element_sets) == 2
    assert result.n_records == 3


def test_tle_lines_must_agree_with_the_omm():
    st = json.loads(_read(OMM / "ccsds-ndm" / "omm1_st.json"))[0]
    line1 = st["TLE_LINE1"]
    cases = [
        ({"NORAD_CAT_ID": "45019"}, "TLE_LINE1", "catalog number"),
        ({"EPOCH": "2020-12-29T03:58:00.406624"}, "TLE_LINE1", "differs from EPOCH"),
        ({"TLE_LINE1": line1[:-1] + "0"}, "TLE_LINE1", "checksum"),
        ({"TLE_LINE2": st["TLE_LINE2"][:13] + "8" + st["TLE_LINE2"][14:]}, "TLE_LINE2",
         "checksum"),
    ]
    for change, field, words in cases:
        result = parse_omm_json(json.dumps([{**st, **change}]))
        (rejection,) = result.rejected
        assert rejection.field == field and words in rejection.reason, rejection


def test_unusable_json():
    with pytest.raises(UnusableInputError) as info:
        parse_omm_json('[\n{"NORAD_CAT_ID": 5,\n', file="cut.json")
    assert info.value.file == "cut.json" and info.value.line == 3
    with pytest.raises(UnusableInputError):
        parse_omm_json('"just a string"')
    with pytest.raises(UnusableInputError):
        parse_omm_json("[" * 100_000)  # nesting deeper than the decoder's recursion limit
    result = parse_omm_json('[1, "x"]')
    assert _where(result) == [(None, 0, "-"), (None, 1, "-")]


# --------------------------------------------------------------------------- CSV


def test_celestrak_csv_first_row_against_its_text():
    text = _read(DATA / "catalogs" / "celestrak_active_gp_2026-07-12.csv.gz")
    head = "\n".join(text.split("\n")[:3])
    result = parse_omm_csv(head, file="gp.csv")
    assert result.format == "omm-csv"
    assert result.rejected == []
    es = result.element_sets[0]
    # CALSPHERE 1,1964-063C,2026-07-10T03:44:00.383136,13.76647064,.00234977,90.2216,72.3098,
    # 220.5925,303.3745,0,U,900,999,7458,.40393571E-3,.406E-5,0
    assert (es.norad_id, es.name, es.intl_designator) == (900, "CALSPHERE 1", "1964-063C")
    assert es.epoch == datetime(2026, 7, 10, 3, 44, 0, 383136, tzinfo=UTC)
    assert es.mean_motion_rev_day == 13.76647064
    assert es.eccentricity == 0.00234977
    assert es.bstar == 0.40393571e-3
    assert es.mean_motion_dot == 0.406e-5
    assert (es.element_set_no, es.rev_at_epoch) == (999, 7458)
    assert result.objects[0].object_type == "PAYLOAD"


def test_iss_history_csv_tle_lines_are_the_authority():
    text = _read(DATA / "tle-history" / "iss_25544_gp_history_2020-2024.csv.gz")
    head = "\n".join(text.split("\n")[:3])
    (first, second) = parse_omm_csv(head).element_sets
    assert first.tle_line1 == (
        "1 25544U 98067A   20001.25776601  .00001469  00000-0  34254-4 0  9999")
    assert first.mean_motion_dot == 0.00001469  # from the TLE: the CSV has no such column
    assert first.epoch == datetime(2020, 1, 1, 6, 11, 10, 983264, tzinfo=UTC)
    assert second.norad_id == 25544


def test_iss_history_csv_omm_columns_and_tle_twins_agree():
    """The CSV's element columns have the TLE's digits: sgp4init and twoline2rv agree."""
    text = _read(DATA / "tle-history" / "iss_25544_gp_history_2020-2024.csv.gz")
    rows = list(csv.reader(io.StringIO(text)))[:400]
    keep = [i for i, name in enumerate(rows[0]) if not name.startswith("TLE_")]
    out = io.StringIO()
    csv.writer(out).writerows([[row[i] for i in keep] for row in rows])
    from_omm = parse_omm_csv(out.getvalue()).element_sets
    from_tle = parse_omm_csv("\n".join(text.split("\n")[:400])).element_sets
    assert len(from_omm) == len(from_tle) == 399
    worst_km = max(np.linalg.norm(_position_km(a, 1.0) - _position_km(b, 1.0))
                   for a, b in zip(from_omm, from_tle, strict=True))
    assert worst_km < SAME_DIGITS_KM


def test_csv_problems_name_line_record_and_column():
    text = _read(DATA / "catalogs" / "celestrak_active_gp_2026-07-12.csv.gz")
    lines = text.split("\n")[:6]
    lines[2] = lines[2].replace(",13.52902187,", ",13.5x902187,")
    lines[4] = lines[4] + ",extra"
    result = parse_omm_csv("\n".join(lines), file="gp.csv")
    assert _where(result) == [(3, 1, "MEAN_MOTION"), (5, 3, "-")]
    assert len(result.element_sets) == 3
    assert result.n_records == 5


def test_csv_without_the_needed_columns_is_unusable():
    with pytest.raises(UnusableInputError) as info:
        parse_omm_csv("NORAD_CAT_ID,EPOCH\n5,2020-01-01T00:00:00\n", file="thin.csv")
    assert info.value.field == "MEAN_MOTION" and info.value.file == "thin.csv"


def test_csv_of_tle_lines_only():
    text = (
        "NORAD_CAT_ID,TLE_LINE1,TLE_LINE2\n"
        "25544,1 25544U 98067A   20001.25776601  .00001469  00000-0  34254-4 0  9999,"
        "2 25544  51.6446  99.4171 0005055  90.7711   3.7257 15.49530329205988\n"
    )
    (es,) = parse_omm_csv(text).element_sets
    assert es.epoch == datetime(2020, 1, 1, 6, 11, 10, 983264, tzinfo=UTC)


@pytest.mark.parametrize(
    ("epoch", "ok"),
    [
        ("2016-12-31T23:59:60.5", True),   # a real leap second
        ("2016-12-31 12:00:60", False),
        ("2020-01-01T24:00:00", False),
        ("2020-366T00:00:00Z", True),      # day of year, leap year
        ("2021-366T00:00:00", False),
        ("2020-01-01T00:00:00+00:00", True),
        ("2020-01-01T00:00:00+01:00", False),  # not UTC
        ("2020-01-01", False),
        ("٢٠٢٠-01-01T00:00:00", False),   # non-ASCII digits
    ],
)
def test_epoch_forms(epoch, ok):
    record = json.loads(_read(OMM / "ccsds-ndm" / "omm1_ct.json"))[0]
    result = parse_omm_json(json.dumps([dict(record, EPOCH=epoch)]))
    assert len(result.element_sets) == ok
    assert [r.field for r in result.rejected] == ([] if ok else ["EPOCH"])
