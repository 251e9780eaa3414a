"""TLE/3LE parser: fields, epochs and SGP4 records against python-sgp4, and rejections.

The authority is python-sgp4's ``Satrec.twoline2rv`` (Vallado's reference
reader): our epoch must be its ``(jdsatepoch, jdsatepochF)`` bit for bit, and
an element set built from our numbers alone (the OMM path, ``sgp4init``) must
propagate to the same place.
"""

from __future__ import annotations

import dataclasses
import gzip
import pkgutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from sgp4.api import WGS72, Satrec

from kizuna.catalog.tle import decode_alpha5, element_set_from_lines, parse_tle, tle_checksum
from kizuna.errors import InputError, TleFormatError

DATA = Path(__file__).resolve().parents[1] / "data"

# Two meters of the old (2019) Space-Track style, then the current style.
VANGUARD_2019 = (
    "0 VANGUARD 1\n"
    "1     5U 58002B   19078.66404675 -.00000160 +00000-0 -18194-3 0  9998\n"
    "2     5 034.2430 192.1354 1845120 101.4954 279.7521 10.84774727155756\n"
)
ISS_2020 = (
    "1 25544U 98067A   20001.25776601  .00001469  00000-0  34254-4 0  9999\n"
    "2 25544  51.6446  99.4171 0005055  90.7711   3.7257 15.49530329205988\n"
)
# From the 2023-09-09 Space-Track catalog: an Alpha-5 analyst object (T0288 = 270288).
ALPHA5_2023 = (
    "0 TBA - TO BE ASSIGNED\n"
    "1 T0288U          23247.54771900  .00000040  00000-0  11838-3 0  9997\n"
)
# Position agreement between the sgp4init path and twoline2rv: both run the same
# SGP4 on the same numbers; only the epoch's floating-point sum differs.
SAME_ORBIT_KM = 1e-5  # 1 cm


def _catalog(name: str) -> str:
    return gzip.decompress((DATA / "catalogs" / name).read_bytes()).decode("ascii")


def _with_checksum(line: str) -> str:
    """Re-stamp column 69 after a deliberate edit, so only the edited field is wrong."""
    return line[:68] + str(tle_checksum(line))


def _position_km(sat: Satrec, jd: float, fr: float) -> tuple[int, np.ndarray]:
    error, r_km, _v = sat.sgp4(jd, fr)
    return error, np.array(r_km)


# --------------------------------------------------------------------------- fields


def test_old_style_vanguard_fields_match_the_raw_text():
    result = parse_tle(VANGUARD_2019, file="v.tle")
    assert result.rejected == []
    (es,) = result.element_sets
    assert es.norad_id == 5
    assert es.name == "VANGUARD 1"
    assert es.intl_designator == "1958-002B"
    assert es.classification == "U"
    assert es.inclination_deg == 34.2430
    assert es.raan_deg == 192.1354
    assert es.eccentricity == 0.1845120
    assert es.arg_perigee_deg == 101.4954
    assert es.mean_anomaly_deg == 279.7521
    assert es.mean_motion_rev_day == 10.84774727
    assert es.rev_at_epoch == 15575
    assert es.element_set_no == 999
    assert es.mean_motion_dot == -0.00000160
    assert es.mean_motion_ddot == 0.0
    assert es.bstar == pytest.approx(-0.18194e-3, rel=1e-15)
    assert es.epoch.isoformat().startswith("2019-03-19T15:56:13")
    # the original lines are kept as the SGP4 authority
    assert es.tle_line1 == VANGUARD_2019.split("\n")[1]
    assert es.tle_line2 == VANGUARD_2019.split("\n")[2]
    assert [(o.norad_id, o.name, o.intl_designator, o.object_type) for o in result.objects] == [
        (5, "VANGUARD 1", "1958-002B", "PAYLOAD")]


def test_two_line_tle_has_no_name_and_a_21st_century_designator():
    (es,) = parse_tle(ISS_2020).element_sets
    assert es.name is None
    assert es.norad_id == 25544
    assert es.intl_designator == "1998-067A"
    assert es.bstar == pytest.approx(0.34254e-4, rel=1e-15)
    assert es.mean_motion_dot == 0.00001469
    assert es.epoch == datetime(2020, 1, 1, 6, 11, 10, 983264, tzinfo=UTC)
    (es,) = parse_tle(ISS_2020.replace("98067A", "20067A").replace(
        "1 25544U 20067A   20001.25776601  .00001469  00000-0  34254-4 0  9999",
        _with_checksum("1 25544U 20067A   20001.25776601  .00001469  00000-0  34254-4 0  999")),
    ).element_sets
    assert es.intl_designator == "2020-067A"


def test_right_justified_piece_of_older_histories():
    """TOPEX/Poseidon's sets until 1995 (tests/data/tle-history) write 92052  A."""
    text = ("1 22076U 92052  A 92238.06805350  .00000009 +00000-0 +00000-4 0  9999\n"
            "2 22076 066.0797 224.2935 0003086 359.0164 001.0847 12.82723417001813\n")
    result = parse_tle(text)
    assert result.rejected == []
    assert result.element_sets[0].intl_designator == "1992-052A"
    bad = _with_checksum("1 22076U 92052A A 92238.06805350  .00000009 +00000-0 +00000-4 0  999")
    result = parse_tle(bad + "\n" + text.split("\n")[1] + "\n")
    assert [r.field for r in result.rejected] == ["intl_designator"]


def test_celestrak_bare_name_line_and_comments_and_blank_lines():
    text = "# a comment\n\nISS (ZARYA)             \r\n" + ISS_2020.replace("\n", "\r\n") + "\n\n"
    result = parse_tle(text)
    assert result.rejected == []
    assert result.element_sets[0].name == "ISS (ZARYA)"
    assert result.element_sets[0].tle_line2.endswith("15.49530329205988")
    assert result.n_records == 1


def test_alpha5_catalog_numbers():
    assert decode_alpha5("A0000") == 100000
    assert decode_alpha5("Z9999") == 339999
    assert decode_alpha5("J0001") == 180001  # I is skipped: J is 18
    assert decode_alpha5("P1234") == 231234  # O is skipped: P is 23
    assert decode_alpha5("    5") == 5
    for bad in ("I0000", "O0000", "a0000", "A00X0", "     "):
        with pytest.raises(ValueError):
            decode_alpha5(bad)
    line2 = _with_checksum(
        "2 T0288  50.0000 100.0000 0001000  90.0000 270.0000 15.00000000 12345")
    result = parse_tle(ALPHA5_2023 + line2 + "\n")
    assert result.rejected == []
    (es,) = result.element_sets
    assert es.norad_id == 270288
    assert es.intl_designator is None  # blank in the catalog
    assert es.to_satrec().satnum == 270288  # python-sgp4 decodes Alpha-5 the same way


def test_columns_after_69_are_ignored_and_lines_are_normalised():
    text = pkgutil.get_data("sgp4", "SGP4-VER.TLE").decode("ascii")
    result = parse_tle(text, file="SGP4-VER.TLE")
    assert len(result.element_sets) == 30
    # Vallado made 33333-33335 by editing catalog numbers without fixing the checksum.
    assert [(r.line, r.field) for r in result.rejected] == [
        (100, "checksum"), (103, "checksum"), (106, "checksum")]
    assert all(r.file == "SGP4-VER.TLE" for r in result.rejected)
    for es in result.element_sets:
        assert len(es.tle_line1) == len(es.tle_line2) == 69
    first = result.element_sets[0]
    assert first.tle_line2 == (
        "2 00005  34.2682 348.7242 1859667 331.7664  19.3264 10.82419157413667")


def test_every_field_agrees_with_twoline2rv_on_vallados_cases():
    text = pkgutil.get_data("sgp4", "SGP4-VER.TLE").decode("ascii")
    for es in parse_tle(text).element_sets:
        ref = Satrec.twoline2rv(es.tle_line1, es.tle_line2, WGS72)
        ours = dataclasses.replace(es, tle_line1=None, tle_line2=None).to_satrec()
        assert (ref.jdsatepoch, ref.jdsatepochF) == (es.epoch_jd, es.epoch_fr)
        for name in ("inclo", "nodeo", "ecco", "argpo", "mo", "no_kozai", "bstar", "ndot",
                     "nddot"):
            # ndot/nddot: the TLE prints ndot/2 and nddot/6; to_satrec must land on the
            # same rad/min^2 and rad/min^3 as twoline2rv (16925 has a non-zero nddot).
            assert getattr(ours, name) == pytest.approx(getattr(ref, name), rel=1e-13,
                                                        abs=1e-300), (es.norad_id, name)


# --------------------------------------------------------------------------- vs python-sgp4


@pytest.mark.parametrize("name", ["spacetrack_3le_full_2019-03-23.txt.gz",
                                  "spacetrack_3le_full_2023-09-09.txt.gz"])
def test_epoch_is_bit_identical_to_twoline2rv_for_a_whole_catalog(name):
    result = parse_tle(_catalog(name))
    mismatched = []
    for es in result.element_sets:
        sat = Satrec.twoline2rv(es.tle_line1, es.tle_line2, WGS72)
        if (sat.jdsatepoch, sat.jdsatepochF) != (es.epoch_jd, es.epoch_fr):
            mismatched.append(es.norad_id)
    assert len(result.element_sets) > 17000
    assert mismatched == []


def test_sgp4init_path_matches_twoline2rv_positions():
    """Every 10th object of the 2023 catalog (LEO to GEO, 2,559 objects), at epoch and +1 day."""
    element_sets = parse_tle(_catalog("spacetrack_3le_full_2023-09-09.txt.gz")).element_sets[::10]
    worst_km = 0.0
    for es in element_sets:
        ref = Satrec.twoline2rv(es.tle_line1, es.tle_line2, WGS72)
        with_lines = es.to_satrec()
        from_numbers = dataclasses.replace(es, tle_line1=None, tle_line2=None).to_satrec()
        for days in (0.0, 1.0):
            e_ref, r_ref = _position_km(ref, es.epoch_jd, es.epoch_fr + days)
            e_lines, r_lines = _position_km(with_lines, es.epoch_jd, es.epoch_fr + days)
            e_num, r_num = _position_km(from_numbers, es.epoch_jd, es.epoch_fr + days)
            assert e_ref == e_lines == e_num
            if e_ref == 0:
                assert np.array_equal(r_ref, r_lines)  # the TLE path *is* twoline2rv
                worst_km = max(worst_km, float(np.linalg.norm(r_ref - r_num)))
    assert worst_km < SAME_ORBIT_KM


# --------------------------------------------------------------------------- rejections


def _three_records() -> list[str]:
    return [*VANGUARD_2019.rstrip("\n").split("\n"), "0 ISS (ZARYA)",
            *ISS_2020.rstrip("\n").split("\n")]


def test_bad_checksum_is_rejected_and_the_next_record_kept():
    lines = _three_records()
    lines[2] = lines[2][:10] + "5" + lines[2][11:]  # 034.2430 -> 035.2430, checksum stale
    result = parse_tle("\n".join(lines), file="cat.tle")
    (rej,) = result.rejected
    assert (rej.file, rej.line, rej.record, rej.field) == ("cat.tle", 3, None, "checksum")
    assert "checksum" in rej.reason
    assert [es.norad_id for es in result.element_sets] == [25544]
    assert result.n_records == 2


@pytest.mark.parametrize(
    ("line_index", "start", "new", "field"),
    [
        (2, 26, "18X5120", "eccentricity"),
        (2, 8, "034.24.0", "inclination"),
        (2, 8, "190.0000", "inclination"),
        (2, 17, "400.0000", "raan"),
        (2, 34, "abc.defg", "arg_perigee"),
        (2, 43, "361.0000", "mean_anomaly"),
        (2, 52, "00.00000000", "mean_motion"),
        (1, 20, "400.66404675", "epoch"),
        (1, 18, "x9", "epoch"),
        (1, 33, "-.000X0160", "mean_motion_dot"),
        (1, 53, "-18194*3", "bstar"),
        (1, 44, "+0000A-0", "mean_motion_ddot"),
        (1, 9, "58-02B", "intl_designator"),
        (1, 62, "4", "ephemeris_type"),
        (1, 7, "7", "classification"),
        (2, 2, "    6", "norad_id"),
        (1, 2, "I0005", "norad_id"),
        (1, 23, " ", "format"),
        (2, 0, "3", "line2"),
    ],
)
def test_bad_field_is_named_with_its_line(line_index, start, new, field):
    lines = _three_records()
    line = lines[line_index]
    lines[line_index] = _with_checksum(line[:start] + new + line[start + len(new):])
    result = parse_tle("\n".join(lines) + "\n", file="f.tle")
    assert [(r.line, r.field) for r in result.rejected] == [(line_index + 1, field)], \
        result.rejected
    assert [es.norad_id for es in result.element_sets] == [25544]


def test_missing_line2_resynchronises_on_the_next_line1():
    lines = _three_records()
    del lines[2]  # Vanguard's line 2
    result = parse_tle("\n".join(lines), file="f.tle")
    assert [(r.line, r.field) for r in result.rejected] == [(2, "line2")]
    assert [(es.norad_id, es.name) for es in result.element_sets] == [(25544, "ISS (ZARYA)")]


def test_stray_line2_and_stray_name_are_rejected():
    text = ISS_2020.split("\n")[1] + "\nLONELY NAME\n0 ISS (ZARYA)\n" + ISS_2020 + "0 TRAILING\n"
    result = parse_tle(text)
    assert [(r.line, r.field) for r in result.rejected] == [
        (1, "line1"), (2, "line1"), (6, "line1")]
    assert "LONELY NAME" in result.rejected[1].reason
    assert [es.name for es in result.element_sets] == ["ISS (ZARYA)"]
    assert result.n_records == len(result.element_sets) + len(result.rejected)


def test_short_line_is_rejected_for_its_length():
    lines = _three_records()
    lines[5] = lines[5][:68]
    result = parse_tle("\n".join(lines))
    assert [(r.line, r.field) for r in result.rejected] == [(6, "line_length")]
    assert [es.norad_id for es in result.element_sets] == [5]


def test_element_set_from_lines_raises_input_errors():
    line1, line2 = ISS_2020.split("\n")[:2]
    assert element_set_from_lines(line1, line2, name="ISS").name == "ISS"
    with pytest.raises(TleFormatError) as info:
        element_set_from_lines(line1, line2[:-1] + "0", line1_no=7, line2_no=8)
    assert (info.value.line, info.value.field) == (8, "checksum")
    assert isinstance(info.value, InputError)


def test_tle_history_keeps_every_set_and_one_object():
    second = (
        "1 25544U 98067A   20001.51653453  .00000882  00000-0  23811-4 0  9992\n"
        "2 25544  51.6442  98.1370 0005144  91.7041   7.2280 15.49528784206020\n"
    )
    result = parse_tle("0 ISS (ZARYA)\n" + ISS_2020 + second)
    assert len(result.element_sets) == 2
    assert [(o.norad_id, o.name) for o in result.objects] == [(25544, "ISS (ZARYA)")]
