"""Ephemeris container and its CSV export."""

from __future__ import annotations

import io

import numpy as np
import pytest

from kizuna import frames
from kizuna.propagation.ephemeris import CSV_COLUMNS, Ephemeris, EphemerisError

JD = 2460196.5  # 2023-09-09


def _small_ephemeris() -> Ephemeris:
    r = np.array([
        [[7000.0, 0.0, 0.0], [6999.123456789, 10.5, -0.0000004], [1.0, 2.0, 3.0]],
        [[-42164.0001, 5.25, 0.125], [np.nan] * 3, [np.nan] * 3],
    ])
    v = np.array([
        [[0.0, 7.5, 0.0], [-0.01, 7.4999999996, 1e-10], [0.1, 0.2, 0.3]],
        [[0.0, -3.0746, 0.0], [np.nan] * 3, [np.nan] * 3],
    ])
    error = np.array([[0, 0, 0], [0, 6, 1]], dtype=np.uint8)
    return Ephemeris(
        norad_id=np.array([25544, 100000123]),
        jd=np.full(3, JD),
        fr=np.array([0.0, 60.0 / 86400.0, 1.0 + 0.5 / 86400.0]),
        r_teme_km=r,
        v_teme_km_s=v,
        error=error,
    )


def test_csv_has_contract_columns_fixed_decimals_and_skips_failed_times():
    out = io.StringIO()
    n_rows = _small_ephemeris().to_csv(out)
    assert n_rows == 4
    assert out.getvalue() == (
        "# frame=TEME time_system=UTC\n"
        "norad_id,time_utc,x_km,y_km,z_km,vx_km_s,vy_km_s,vz_km_s\n"
        "25544,2023-09-09T00:00:00.000Z,7000.000000,0.000000,0.000000,"
        "0.000000000,7.500000000,0.000000000\n"
        "25544,2023-09-09T00:01:00.000Z,6999.123457,10.500000,-0.000000,"
        "-0.010000000,7.500000000,0.000000000\n"
        "25544,2023-09-10T00:00:00.500Z,1.000000,2.000000,3.000000,"
        "0.100000000,0.200000000,0.300000000\n"
        "100000123,2023-09-09T00:00:00.000Z,-42164.000100,5.250000,0.125000,"
        "0.000000000,-3.074600000,0.000000000\n"
    )
    assert CSV_COLUMNS[0] == "norad_id" and len(CSV_COLUMNS) == 8


def test_csv_is_byte_identical_between_runs_and_between_file_and_path(tmp_path):
    eph = _small_ephemeris()
    path = tmp_path / "eph.csv"
    eph.to_csv(path, header_comment=False)
    eph.to_csv(tmp_path / "again.csv", header_comment=False)
    buffer = io.StringIO()
    eph.to_csv(buffer, header_comment=False)
    assert path.read_bytes() == (tmp_path / "again.csv").read_bytes()
    assert path.read_bytes() == buffer.getvalue().encode("ascii")
    assert path.read_bytes().startswith(b"norad_id,")
    assert b"\r" not in path.read_bytes()


def test_csv_written_in_chunks_equals_csv_written_at_once():
    eph = _small_ephemeris()
    whole, chunked = io.StringIO(), io.StringIO()
    eph.to_csv(whole)
    for row in range(eph.n_obj):
        part = Ephemeris(norad_id=eph.norad_id[row:row + 1], jd=eph.jd, fr=eph.fr,
                         r_teme_km=eph.r_teme_km[row:row + 1],
                         v_teme_km_s=eph.v_teme_km_s[row:row + 1], error=eph.error[row:row + 1])
        part.to_csv(chunked, header=row == 0)
    assert chunked.getvalue() == whole.getvalue()


def test_csv_in_itrf_holds_converted_vectors():
    eph = _small_ephemeris()
    out = io.StringIO()
    eph.to_csv(out, frame="itrf", xp_arcsec=0.1, yp_arcsec=0.3)
    lines = out.getvalue().splitlines()
    assert lines[0] == "# frame=ITRF time_system=UTC"
    r_itrf, v_itrf = frames.teme_to_itrf(eph.r_teme_km, eph.v_teme_km_s, eph.jd, eph.fr,
                                         xp_arcsec=0.1, yp_arcsec=0.3)
    fields = lines[2].split(",")
    assert [float(x) for x in fields[2:5]] == pytest.approx(r_itrf[0, 0], abs=5e-7)
    assert [float(x) for x in fields[5:8]] == pytest.approx(v_itrf[0, 0], abs=5e-10)


def test_states_row_lookup_and_summary():
    eph = _small_ephemeris()
    r, v = eph.states("GCRS")
    assert r.shape == v.shape == (2, 3, 3)
    assert np.isnan(r[1, 1:]).all()
    assert eph.row(100000123) == 1
    with pytest.raises(EphemerisError, match="not in this ephemeris"):
        eph.row(5)
    assert eph.error_summary() == {6: 1}
    assert eph.time_utc().tolist()[1] == "2023-09-09T00:01:00.000Z"


def test_inconsistent_shapes_are_refused():
    eph = _small_ephemeris()
    with pytest.raises(EphemerisError, match=r"r_teme_km has shape \(2, 2, 3\)"):
        Ephemeris(norad_id=eph.norad_id, jd=eph.jd, fr=eph.fr,
                  r_teme_km=eph.r_teme_km[:, :2], v_teme_km_s=eph.v_teme_km_s,
                  error=eph.error)
