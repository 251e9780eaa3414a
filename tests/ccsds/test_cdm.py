"""CCSDS CDM: real samples read with their published values, write/read round trips,
malformed inputs rejected with file, line and keyword, frames checked against
published relative geometry and CARA's ECI covariances."""

from __future__ import annotations

import csv
import gzip
import importlib
import math
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from kizuna.ccsds.cdm import (
    Cdm,
    CdmWriteError,
    cdm_states_inertial,
    format_cdm,
    parse_cdm,
    read_cdm,
    write_cdm,
)
from kizuna.errors import CdmFormatError, InputError
from kizuna.frames import ric_basis

DATA = Path(__file__).resolve().parents[1] / "data" / "ccsds" / "cdm"

# Samples that are malformed on purpose: (file, keyword named, line named).
MALFORMED = {
    "orekit/CDM-covariance-wrong-entry-format.txt.gz": ("CRDOT_T", 65),
    "orekit/CDM-missing-TCA.txt.gz": ("TCA", 6),
    "orekit/CDM-missing-object1-covariance-block.xml.gz": ("CR_R", 100),
    "orekit/CDM-missing-object2-state-vector.txt.gz": ("X", 77),
    "orekit/CDM-wrong-key-word.txt.gz": ("WRONG_KEYWORD", 6),
    "orekit/CDMExample1InvalidTca.txt.gz": ("TCA", 5),
    "orekit/CDMExample_issue1319_mandatory_empty_value.xml.gz": ("X", 88),
}
ALL_SAMPLES = sorted(str(p.relative_to(DATA)) for p in DATA.glob("*/*.gz")
                     if not p.name.endswith(".csv.gz"))
GOOD_SAMPLES = [s for s in ALL_SAMPLES if s not in MALFORMED]


def _text(name: str) -> str:
    with gzip.open(DATA / name, "rt", encoding="utf-8") as handle:
        return handle.read()


def _read(name: str) -> Cdm:
    return parse_cdm(_text(name), file=name)


def test_sample_inventory():
    # 39 Orekit + 38 CARA + 2 blue-book files; the 7 malformed ones are all Orekit's.
    assert len(ALL_SAMPLES) == 79
    assert len(GOOD_SAMPLES) == 72


# --------------------------------------------------------------------------
# Published values


def test_blue_book_example_values():
    cdm = _read("ccsds-ndm/cdm_example_section4.kvn.gz")
    assert cdm.version == "1.0"
    assert cdm.creation_date == datetime(2010, 3, 12, 22, 31, 12, tzinfo=UTC)
    assert (cdm.originator, cdm.message_for, cdm.message_id) == (
        "JSPOC", "SATELLITE A", "20111371985")
    assert cdm.tca == datetime(2010, 3, 13, 22, 37, 52, 618000, tzinfo=UTC)
    assert cdm.miss_distance_m == 715.0
    assert cdm.relative_speed_m_s == 14762.0
    assert cdm.relative_position_rtn_m.tolist() == [27.4, -70.2, 711.8]
    assert cdm.relative_velocity_rtn_m_s.tolist() == [-7.2, -14692.0, -1437.2]
    assert (cdm.screen_volume_frame, cdm.screen_volume_shape) == ("RTN", "ELLIPSOID")
    assert (cdm.screen_volume_x_m, cdm.screen_volume_y_m, cdm.screen_volume_z_m) == (
        200.0, 1000.0, 1000.0)
    assert cdm.collision_probability == 4.835e-05
    assert cdm.collision_probability_method == "FOSTER-1992"
    o1, o2 = cdm.objects
    assert (o1.object_designator, o1.international_designator, o1.object_name) == (
        "12345", "1997-030E", "SATELLITE A")
    assert (o2.object_designator, o2.object_name, o2.object_type) == (
        "30337", "FENGYUN 1C DEB", "DEBRIS")
    assert o1.ref_frame == o2.ref_frame == "EME2000"
    assert (o1.maneuverable, o2.maneuverable) == ("YES", "NO")
    assert o1.r_km.tolist() == [2570.097065, 2244.654904, 6281.497978]
    assert o2.v_km_s.tolist() == [-2.8886125, -6.007247516, 3.328770172]
    assert (o1.obs_available, o1.obs_used, o1.tracks_used) == (592, 59, 119)
    assert o1.recommended_od_span_d == 7.88 and o1.residuals_accepted_pct == 97.8
    assert o1.mass_kg == 2516.0 and o2.mass_kg is None
    assert o1.time_lastob_start == datetime(2010, 3, 12, 2, 14, 12, 746000, tzinfo=UTC)
    cov1 = o1.covariance_rtn
    assert cov1[0, 0] == 41.42 and cov1[1, 0] == cov1[0, 1] == -8.579
    assert cov1[5, 5] == 5.529e-05 and cov1[4, 3] == -1.502e-05
    assert o2.covariance_rtn[1, 1] == 2.492e6
    assert o1.covariance_rtn_ext is None
    assert o2.comments["additional"] == (
        "Object2 Additional Parameters", "Apogee Altitude=768 km",
        "Perigee Altitude=414 km", "Inclination=98.8 deg")


def test_blue_book_kvn_and_xml_read_the_same():
    kvn = _read("ccsds-ndm/cdm_example_section4.kvn.gz")
    xml = _read("ccsds-ndm/cdm_example_section4.xml.gz")
    assert kvn == xml
    assert kvn.comments["relative"] == ("Relative Metadata/Data",)
    # KVN "COMMENT Object1 Data" and XML <data><COMMENT> both go with the OD block.
    assert kvn.object1.comments["od"] == ("Object1 Data", "Object1 OD Parameters")


def test_orekit_example1_kvn_and_xml_agree_on_values():
    kvn = _read("orekit/CDMExample1.txt.gz")
    xml = _read("orekit/CDMExample1.xml.gz")
    # CDMExample1.txt writes its designator with a Unicode minus (kept verbatim).
    assert kvn.object1.international_designator == "1997\u2212030E"
    assert xml.object1.international_designator == "1997-030E"
    for a, b in zip(kvn.objects, xml.objects, strict=True):
        assert a.r_km.tolist() == b.r_km.tolist()
        assert np.array_equal(a.covariance_rtn, b.covariance_rtn)
    assert kvn.tca == xml.tca and kvn.miss_distance_m == xml.miss_distance_m


def test_cara_comment_hbr_nan_counts_and_mislabelled_units():
    cdm = _read("cara/OmitronTestCase_Test01_HighPc.cdm.gz")
    assert cdm.hbr_m_from_comment == 20.0
    # CARA labels relative velocities "[m]": units are not checked there.
    assert cdm.relative_velocity_rtn_m_s.tolist() == [36.122142, 13928.205451, -3822.602697]
    o1 = cdm.object1
    assert o1.obs_available is None and o1.tracks_used is None  # "NaN" counts
    assert math.isnan(o1.area_pc_m2) and math.isnan(o1.recommended_od_span_d)
    ext = o1.covariance_rtn_ext
    assert ext[6, 6] == 1e-12 and ext[7, 7] == 1e-12 and ext[7, 6] == 0.0
    assert np.isnan(ext[8]).all()  # no thrust row in this CDM
    assert [_read(f"cara/AlfanoTestCase{n:02d}.cdm.gz").hbr_m_from_comment
            for n in (1, 2, 5, 9)] == [15.0, 4.0, 10.0, 6.0]
    assert _read("orekit/CDMExample1.txt.gz").hbr_m_from_comment is None


def test_cara_broken_unit_bracket_is_read():
    # SingleCovTestCase CDMs write "RESIDUALS_ACCEPTED = 85.4 [" (the "%]" is lost).
    cdm = _read("cara/SingleCovTestCase1-1.cdm.gz")
    assert cdm.object1.residuals_accepted_pct == 85.4
    assert cdm.object2.residuals_accepted_pct == 98.4


def test_xml_nil_and_empty_elements_read_as_absent():
    cdm = _read("orekit/CDMExample_issue1319.xml.gz")
    assert cdm.start_screen_period is None and cdm.screen_volume_x_m is None
    assert cdm.collision_probability is None and cdm.collision_probability_method is None
    o1 = cdm.object1
    assert o1.orbit_center is None and o1.obs_available is None and o1.mass_kg is None
    assert o1.area_pc_m2 == 10.0 and o1.ref_frame == "ITRF"
    ext = o1.covariance_rtn_ext
    assert ext[6, 6] == 0.0 and np.isnan(ext[8, 8])  # CTHR_* all nil
    assert "Operator Hard Body Radius = 10.0 [m]" in o1.comments["additional"]
    # <COLLISION_PROBABILITY/>, <RESIDUALS_ACCEPTED units=""/>: empty, not errors.
    other = _read("orekit/CDMExample_issue1458.xml.gz")
    assert other.collision_probability is None
    assert other.object1.residuals_accepted_pct is None and other.object1.time_lastob_start is None


def test_kvn_empty_value_reads_as_absent():
    text = _text("orekit/CDMExample1.txt.gz").replace(
        "MESSAGE_ID", "MESSAGE_FOR                   =\nMESSAGE_ID", 1)
    assert parse_cdm(text).message_for is None


def test_cdm_2_keywords():
    cdm = _read("orekit/CDMExample_issue_940.txt.gz")
    assert cdm.version == "2.0"
    assert cdm.extra["CONJUNCTION_ID"] == "20220708T10hz SATELLITEA SATELLITEB"
    assert cdm.extra["CLASSIFICATION"].startswith('"Free text')
    assert cdm.extra["COLLISION_PERCENTILE"] == "50 51 52"
    o1, o2 = cdm.objects
    assert o1.hbr_m == 2.5 and o1.od_epoch == datetime(2010, 3, 12, 22, 31, 12, tzinfo=UTC)
    assert o1.extra["ALT_COV_TYPE"] == "XYZ" and o1.extra["CX_X"] == "0.1"
    assert o1.extra["CTHR_THR"] == "0.006"  # the XYZ block's term, not the RTN one
    assert o1.covariance_rtn_ext is None
    assert o1.extra["DCP_SENSITIVITY_VECTOR_POSITION"] == "1.0 2.0 3.0"
    assert o2.extra["CSIG3EIGVEC3"] == " ".join(str(i) for i in range(1, 13))
    assert o2.extra["USER_DEFINED_OBJ1_TIME_LASTOB_START"] == "2020-01-29T13:30:00"
    xml = _read("orekit/CDMExample_issue_940.xml.gz")
    assert xml.version == "2.0" and xml.object1.extra["CX_X"] == "0.1"
    assert xml.object2.extra["CSIG3EIGVEC3"] == o2.extra["CSIG3EIGVEC3"]


def test_thrust_row_of_the_rtn_covariance():
    o1 = _read("orekit/CDMExample4.txt.gz").object1
    ext = o1.covariance_rtn_ext
    assert ext[8, 0] == ext[0, 8] == -1.803e-06
    assert ext[8, 7] == 6.876e03 and ext[8, 8] == -2.986e-02
    assert np.array_equal(ext[:6, :6], o1.covariance_rtn)


def test_orbit_center_is_optional():
    # Orekit's "no orbit center" case is a valid CDM 1.0 for us (ORBIT_CENTER is optional).
    cdm = _read("orekit/CDM-no-orbit-center-defined-obj1.txt.gz")
    assert cdm.object1.orbit_center is None
    assert _read("orekit/CDMExample2.txt.gz").object1.orbit_center == "EARTH"


def test_read_cdm_from_path_and_file(tmp_path):
    path = tmp_path / "x.cdm"
    path.write_text(_text("orekit/CDMExample1.xml.gz"), encoding="utf-8")
    with open(path, encoding="utf-8") as handle:
        assert read_cdm(path) == read_cdm(handle)
    assert read_cdm(path).file == str(path)


# --------------------------------------------------------------------------
# Round trips


@pytest.mark.parametrize("name", GOOD_SAMPLES)
def test_every_sample_round_trips_through_kvn_and_xml(name, tmp_path):
    cdm = _read(name)
    for fmt in ("kvn", "xml"):
        path = tmp_path / f"out.{fmt}"
        text = write_cdm(cdm, path, fmt=fmt)
        again = read_cdm(path)
        assert again == cdm, fmt
        assert format_cdm(again, fmt) == text  # writing is deterministic


def test_equality_sees_changes():
    cdm = _read("orekit/CDMExample1.txt.gz")
    other = _read("orekit/CDMExample1.txt.gz")
    assert cdm == other
    changed = parse_cdm(_text("orekit/CDMExample1.txt.gz").replace("5.178E-05", "5.179E-05"))
    assert changed != cdm


def test_writer_refuses_what_it_cannot_write():
    cdm = _read("orekit/CDMExample1.txt.gz")
    with pytest.raises(CdmWriteError, match="format"):
        format_cdm(cdm, "json")
    cdm.object1.extra["NOT_A_KEYWORD"] = "1"
    with pytest.raises(CdmWriteError, match="NOT_A_KEYWORD"):
        format_cdm(cdm, "kvn")


# --------------------------------------------------------------------------
# Malformed input


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_samples_name_keyword_and_line(name):
    keyword, line = MALFORMED[name]
    with pytest.raises(CdmFormatError) as info:
        _read(name)
    err = info.value
    assert isinstance(err, InputError)
    assert (err.field, err.line, err.file) == (keyword, line, name)
    assert keyword in str(err) and f"{name}:{line}" in str(err)


BASE = "orekit/CDMExample1.txt.gz"


def _mutated(old: str, new: str, count: int = 1) -> str:
    text = _text(BASE)
    assert text.count(old) >= count
    return text.replace(old, new, count)


@pytest.mark.parametrize(("old", "new", "field", "line", "reason"), [
    ("MESSAGE_ID                    = 201113719185\n", "", "MESSAGE_ID", 4,
     "missing from the header"),
    ("OBJECT_DESIGNATOR             = 30337\n", "", "OBJECT_DESIGNATOR", 77,
     "missing from the OBJECT2"),
    ("X                             = 2570.097065", "X                             = 2570.0.97",
     "X", 16, "not a number"),
    ("CREATION_DATE                 = 2010-03-12T22:31:12.000",
     "CREATION_DATE                 = 2010-13-12T22:31:12.000", "CREATION_DATE", 2,
     "not a valid CCSDS time"),
    ("CREATION_DATE                 = 2010-03-12T22:31:12.000",
     "CREATION_DATE                 = 12/03/2010", "CREATION_DATE", 2, "not a valid"),
    ("REF_FRAME                     = EME2000", "REF_FRAME                     = MARSIAU",
     "REF_FRAME", 15, "not supported"),
    ("MISS_DISTANCE                 = 715", "MISS_DISTANCE = 715\nMISS_DISTANCE = 715",
     "MISS_DISTANCE", 7, "appears twice"),
    ("X                             = 2570.097065                          [km]",
     "X                             = 2570097.065                          [m]",
     "X", 16, "must be in [km]"),
    ("CCSDS_CDM_VERS                = 1.0", "CCSDS_CDM_VERS                = 3.0",
     "CCSDS_CDM_VERS", 1, "unsupported"),
    ("CCSDS_CDM_VERS                = 1.0\n", "", "CREATION_DATE", 1, "first keyword"),
    ("OBJECT                        = OBJECT2", "OBJECT                        = OBJECT1",
     "OBJECT", 43, "must be OBJECT2"),
    ("OBJECT_DESIGNATOR             = 30337", "ORIGINATOR = X", "ORIGINATOR", 44,
     "after the header"),
    ("OBJECT_DESIGNATOR             = 30337", "TCA = 2010-03-13T22:37:52.618", "TCA", 44,
     "relative-metadata keyword"),
    ("CRDOT_R                       = 2.520E-03", "CRDOT_R                       =",
     "CRDOT_R", 28, "has no value"),
    ("MANEUVERABLE                  = YES", "MANEUVERABLE                  = YES\nbad line",
     "-", 15, "expected 'KEYWORD = value'"),
])
def test_kvn_mutations_name_keyword_and_line(old, new, field, line, reason):
    text = _mutated(old, new)
    with pytest.raises(CdmFormatError) as info:
        parse_cdm(text, file="mutant.cdm")
    err = info.value
    assert (err.field, err.line) == (field, line), str(err)
    assert reason in err.reason
    assert err.file == "mutant.cdm"


def test_integer_with_a_fraction():
    text = _text("ccsds-ndm/cdm_example_section4.kvn.gz").replace(
        "OBS_USED = 59\n", "OBS_USED = 59.5\n", 1)
    with pytest.raises(CdmFormatError, match="not an integer") as info:
        parse_cdm(text)
    assert (info.value.field, info.value.line) == ("OBS_USED", 62)


def test_truncated_files():
    text = _text(BASE)
    lines = text.splitlines(keepends=True)
    # Cut inside object 2's covariance (after CT_T): the first missing term is named.
    with pytest.raises(CdmFormatError) as info:
        parse_cdm("".join(lines[:60]), file="cut.cdm")
    assert (info.value.field, info.value.line) == ("CN_R", 60)
    # Cut before object 2.
    with pytest.raises(CdmFormatError, match="no OBJECT2") as info:
        parse_cdm("".join(lines[:40]), file="cut.cdm")
    assert info.value.field == "OBJECT"
    # Truncated XML: the parser's line is reported.
    xml = _text("orekit/CDMExample1.xml.gz").splitlines(keepends=True)
    with pytest.raises(CdmFormatError, match="not well-formed") as info:
        parse_cdm("".join(xml[:120]), file="cut.xml")
    assert info.value.field == "XML" and info.value.line == 121
    with pytest.raises(CdmFormatError, match="no CCSDS_CDM_VERS"):
        parse_cdm("", file="empty.cdm")


def test_xml_mutations():
    text = _text("orekit/CDMExample1.xml.gz")
    with pytest.raises(CdmFormatError) as info:
        parse_cdm(text.replace("<TCA>", "<TCA_WRONG>").replace("</TCA>", "</TCA_WRONG>"))
    assert (info.value.field, info.value.line) == ("TCA_WRONG", 15)
    with pytest.raises(CdmFormatError) as info:
        parse_cdm(text.replace('version="1.0"', 'version="x"'))
    assert info.value.field == "CCSDS_CDM_VERS"
    with pytest.raises(CdmFormatError) as info:
        parse_cdm(text.replace("<REF_FRAME>EME2000", "<REF_FRAME>TOD", 1))
    assert (info.value.field, info.value.line) == ("REF_FRAME", 54)
    with pytest.raises(CdmFormatError, match="root element is <opm>"):
        parse_cdm('<?xml version="1.0"?>\n<opm id="CCSDS_OPM_VERS" version="2.0"/>')


# --------------------------------------------------------------------------
# Frames


def test_itrf_states_reproduce_the_published_relative_geometry():
    # ION SCV-008 vs STARLINK-1233 (CSpOC CDM, states in ITRF): the published
    # relative position/velocity are in object 1's RTN frame, 0.1 m (m/s) steps.
    cdm = _read("orekit/ION_SCV8_vs_STARLINK_1233.txt.gz")
    assert cdm.object1.ref_frame == cdm.object2.ref_frame == "ITRF"
    r1, v1, _c1, r2, v2, _c2 = cdm_states_inertial(cdm)
    basis = ric_basis(r1, v1)
    rel_r_m = basis @ (r2 - r1) * 1e3
    rel_v_m_s = basis @ (v2 - v1) * 1e3
    np.testing.assert_allclose(rel_r_m, cdm.relative_position_rtn_m, atol=0.051)
    np.testing.assert_allclose(rel_v_m_s, cdm.relative_velocity_rtn_m_s, atol=0.051)
    assert abs(np.linalg.norm(v2 - v1) * 1e3 - cdm.relative_speed_m_s) < 1.0
    # The check discriminates: RTN axes from the Earth-fixed state miss by ~3 m.
    raw = ric_basis(cdm.object1.r_km, cdm.object1.v_km_s)
    assert abs((raw @ (cdm.object2.r_km - cdm.object1.r_km) * 1e3)[1]
               - cdm.relative_position_t_m) > 2.5


def test_cara_itrf_cdm_relative_geometry():
    cdm = _read("cara/DensityDecorrelationTestCaseCDM01.txt.gz")
    r1, v1, _c1, r2, v2, _c2 = cdm_states_inertial(cdm)
    basis = ric_basis(r1, v1)
    np.testing.assert_allclose(basis @ (r2 - r1) * 1e3, cdm.relative_position_rtn_m,
                               atol=0.051)
    np.testing.assert_allclose(basis @ (v2 - v1) * 1e3, cdm.relative_velocity_rtn_m_s,
                               atol=0.051)


def test_itrf_conversion_matches_skyfield_itrs():
    # Independent path: skyfield's IAU 2000 ITRS rotation (no polar motion,
    # like ours) and v = R^T (v_itrf + omega x r_itrf).
    from skyfield.framelib import itrs

    from kizuna.frames import timescale

    cdm = _read("orekit/ION_SCV8_vs_STARLINK_1233.txt.gz")
    r1, v1, _c1, r2, v2, _c2 = cdm_states_inertial(cdm)
    rot = itrs.rotation_at(timescale().from_datetime(cdm.tca))
    omega = np.array([0.0, 0.0, 7.292115146706979e-5])
    for obj, r, v in ((cdm.object1, r1, v1), (cdm.object2, r2, v2)):
        np.testing.assert_allclose(rot.T @ obj.r_km, r, atol=1e-6)  # 1 mm
        np.testing.assert_allclose(rot.T @ (obj.v_km_s + np.cross(omega, obj.r_km)), v,
                                   atol=1e-7)  # 0.1 mm/s


def _alfano_eci(n: int) -> list[np.ndarray]:
    """r1, v1, cov1, r2, v2, cov2 (m, m/s) from CARA's Alfano case spreadsheet."""
    rows = []
    with open(DATA / "cara" / f"alfano2009_case{n}_tca_eci.csv", newline="") as handle:
        for row in csv.reader(handle):
            try:
                values = [float(x) for x in row if x != ""]
            except ValueError:
                continue
            if values:
                rows.append(values)
    return [np.array(rows[0]), np.array(rows[1]), np.array(rows[2:8]),
            np.array(rows[8]), np.array(rows[9]), np.array(rows[10:16])]


@pytest.mark.parametrize("case", [1, 5])
def test_rtn_covariance_to_eci_matches_cara_alfano_cases(case):
    cdm = _read(f"cara/AlfanoTestCase{case:02d}.cdm.gz")
    assert cdm.object1.ref_frame == "EME2000"
    expected = _alfano_eci(case)
    got = cdm_states_inertial(cdm)
    for i, scale in enumerate((1e3, 1e3, 1e6, 1e3, 1e3, 1e6)):
        value = got[i] * scale
        ref = expected[i]
        # CDM states carry 1 mm / 1 um/s; covariances 16 digits.
        tol = 1e-3 if i in (0, 3) else 1e-6 if i in (1, 4) else 1e-8 * np.abs(ref).max()
        np.testing.assert_allclose(value, ref, rtol=0, atol=tol)


def test_inertial_states_pass_through_and_covariance_stays_symmetric():
    cdm = _read("ccsds-ndm/cdm_example_section4.kvn.gz")
    r1, v1, c1, r2, v2, c2 = cdm_states_inertial(cdm)
    assert r1.tolist() == cdm.object1.r_km.tolist() and v2.tolist() == cdm.object2.v_km_s.tolist()
    for c, obj in ((c1, cdm.object1), (c2, cdm.object2)):
        assert np.array_equal(c, c.T)
        # A rotation keeps the trace of each 3x3 block.
        assert np.trace(c[:3, :3]) * 1e6 == pytest.approx(np.trace(obj.covariance_rtn[:3, :3]))
        assert np.trace(c[3:, 3:]) * 1e6 == pytest.approx(np.trace(obj.covariance_rtn[3:, 3:]))


# --------------------------------------------------------------------------
# Independent reader: ccsds-ndm (CDM 1.0 only)


def _ndm_value(x):
    return None if x is None else float(getattr(x, "value", x))


CDM1_PLAIN = [s for s in GOOD_SAMPLES
              if "issue_940" not in s and "frame-mapper" not in s]


@pytest.mark.parametrize("fmt", ["kvn", "xml"])
def test_ccsds_ndm_reads_what_we_write(fmt):
    ndm_io = importlib.import_module("ccsds_ndm.ndm_io")  # test dependency: fail if missing
    reader = ndm_io.NdmIo()
    for name in CDM1_PLAIN:
        cdm = _read(name)
        other = reader.from_string(format_cdm(cdm, fmt))
        rel = other.body.relative_metadata_data
        assert rel.tca == cdm.tca.strftime("%Y-%m-%dT%H:%M:%S.%f"), name
        assert _ndm_value(rel.miss_distance) == cdm.miss_distance_m, name
        assert _ndm_value(rel.collision_probability) == cdm.collision_probability, name
        for seg, obj in zip(other.body.segment, cdm.objects, strict=True):
            meta, data = seg.metadata, seg.data
            assert meta.object_designator == obj.object_designator, name
            assert meta.object_name == obj.object_name, name
            assert getattr(meta.ref_frame, "value", meta.ref_frame) == obj.ref_frame, name
            sv = data.state_vector
            assert [_ndm_value(getattr(sv, a)) for a in ("x", "y", "z", "x_dot", "y_dot",
                                                         "z_dot")] == [
                *obj.r_km.tolist(), *obj.v_km_s.tolist()], name
            cov = data.covariance_matrix
            for attr, (i, j) in {"cr_r": (0, 0), "ct_r": (1, 0), "cn_t": (2, 1),
                                 "crdot_n": (3, 2), "ctdot_rdot": (4, 3),
                                 "cndot_tdot": (5, 4), "cndot_ndot": (5, 5)}.items():
                assert _ndm_value(getattr(cov, attr)) == obj.covariance_rtn[i, j], name


def test_xml_inside_an_ndm_and_with_a_namespace_prefix():
    text = _text("orekit/CDMExample1.xml.gz")
    body = text.split("?>", 1)[1]
    plain = parse_cdm(text)
    assert parse_cdm(f"<ndm>{body}</ndm>") == plain
    prefixed = body.replace("<", "<n:").replace("<n:/", "</n:").replace(
        "<n:cdm ", '<n:cdm xmlns:n="urn:ccsds:schema:ndmxml" ', 1)
    assert parse_cdm(prefixed) == plain
    with pytest.raises(CdmFormatError, match="holds 2 <cdm>"):
        parse_cdm(f"<ndm>{body}{body}</ndm>")


def test_read_cdm_reads_gzip_and_names_the_file_of_binary_garbage(tmp_path):
    import gzip as gz

    from kizuna.ccsds.cdm import read_cdm
    from kizuna.errors import CdmFormatError

    src = Path(__file__).resolve().parents[1] / "data" / "ccsds" / "cdm" / "cara"
    packed = src / "AlfanoTestCase05.cdm.gz"
    plain = tmp_path / "case05.cdm"
    plain.write_bytes(gz.decompress(packed.read_bytes()))
    assert read_cdm(packed).tca == read_cdm(plain).tca
    junk = tmp_path / "junk.cdm"
    junk.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(CdmFormatError, match="junk.cdm"):
        read_cdm(junk)
