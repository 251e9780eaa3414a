"""Batch SGP4: error codes and NaN rows, worker-count independence, shapes and inputs."""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import numpy as np
import pytest
from sgp4.api import SatrecArray

from kizuna.catalog.elements import ElementSet
from kizuna.catalog.snapshot import CatalogSnapshot
from kizuna.catalog.tle import parse_tle
from kizuna.parallel import WorkerError
from kizuna.propagation import Ephemeris, error_summary, propagate, propagate_snapshot
from kizuna.propagation.sgp4 import (
    BYTES_PER_SAMPLE,
    PropagationInputError,
    _balanced_bounds,
)

DATA = Path(__file__).resolve().parents[1] / "data"

# python-sgp4 issue #87 (its test_whether_array_logic_writes_nan_values_to_correct_row):
# a debris object, epoch 2020-06-10, that decays in early July 2020.
DECAYING_TLE = (
    "1 44160U 19006AX  20162.79712247 +.00816806 +19088-3 +34711-2 0  9997\n"
    "2 44160 095.2472 272.0808 0216413 032.6694 328.7739 15.58006382062511\n"
)
JD_2020_06_10 = 2459010.5


def _decaying() -> ElementSet:
    result = parse_tle(DECAYING_TLE, file="issue87.tle")
    assert result.rejected == []
    return result.element_sets[0]


def _from_elements(norad_id: int, mean_motion_rev_day: float, inclination_deg: float) -> ElementSet:
    """A healthy object with the same epoch, built from elements (no TLE lines)."""
    return ElementSet(
        norad_id=norad_id,
        epoch_jd=JD_2020_06_10,
        epoch_fr=0.5,
        mean_motion_rev_day=mean_motion_rev_day,
        eccentricity=0.0002,
        inclination_deg=inclination_deg,
        raan_deg=120.0,
        arg_perigee_deg=90.0,
        mean_anomaly_deg=10.0,
        bstar=1e-5,
    )


@pytest.fixture(scope="module")
def catalog_sample() -> list:
    """Every 8th object of the real 2023-09-09 Space-Track catalog (LEO to GEO)."""
    path = DATA / "catalogs" / "spacetrack_3le_full_2023-09-09.txt.gz"
    text = gzip.decompress(path.read_bytes()).decode("ascii")
    element_sets = parse_tle(text, file=path.name).element_sets[::8]
    return [es.to_satrec() for es in element_sets]


def test_decayed_object_gets_error_code_and_nan_row_only_in_its_row():
    leo = _from_elements(90001, 15.05, 53.0)
    geo = _from_elements(90002, 1.0027, 0.05)  # deep space (SDP4) path
    satrecs = [leo.to_satrec(), _decaying().to_satrec(), geo.to_satrec()]
    jd = np.full(60, JD_2020_06_10)
    fr = np.arange(60, dtype=np.float64)  # daily for 60 days: the object decays

    error, r_km, v_km_s = propagate(satrecs, jd, fr, workers=1)

    assert error.dtype == np.uint8 and error.shape == (3, 60)
    assert not error[0].any() and not error[2].any()
    decayed = error[1] != 0
    # Good at first, decayed (6) in the window, then eccentricity out of range (1).
    assert not decayed[:20].any() and decayed[-10:].all()
    assert set(np.unique(error[1][decayed]).tolist()) == {1, 6}
    # NaN exactly where the code is nonzero, in that row only (code 6 included,
    # which python-sgp4 itself leaves filled with a position inside the Earth).
    for array in (r_km, v_km_s):
        assert np.isnan(array[1]).any(axis=-1).tolist() == decayed.tolist()
        assert np.isnan(array[1]).all(axis=-1).tolist() == decayed.tolist()
        assert np.isfinite(array[[0, 2]]).all()
    # The neighbours are exactly what they are when propagated alone.
    for row in (0, 2):
        _, r_alone, v_alone = propagate([satrecs[row]], jd, fr, workers=1)
        assert r_alone[0].tobytes() == r_km[row].tobytes()
        assert v_alone[0].tobytes() == v_km_s[row].tobytes()


def test_decayed_object_codes_match_python_sgp4_issue_87():
    satrec = _decaying().to_satrec()
    jd = np.array([2459054.5, 2459055.5])
    fr = np.array([0.79712247, 0.79712247])
    error, r_km, _ = propagate([satrec], jd, fr, workers=1)
    assert error[0].tolist() == [6, 1]
    assert np.isnan(r_km[0]).all()


def test_result_does_not_depend_on_worker_count_bit_for_bit(catalog_sample):
    jd = np.full(97, 2460196.5)
    fr = np.arange(97) / 96.0  # 2023-09-09, one day at 15 min
    single = propagate(catalog_sample, jd, fr, workers=1)
    for workers in (2, 3):
        multi = propagate(catalog_sample, jd, fr, workers=workers)
        for a, b in zip(single, multi, strict=True):
            assert a.dtype == b.dtype and a.shape == b.shape
            assert a.tobytes() == b.tobytes()


def test_matches_python_sgp4_satrec_array_except_nan_for_decayed(catalog_sample):
    jd = np.full(25, 2460196.5)
    fr = np.arange(25) / 24.0
    error, r_km, v_km_s = propagate(catalog_sample, jd, fr, workers=2)
    e_ref, r_ref, v_ref = SatrecArray(catalog_sample).sgp4(jd, fr)
    assert np.array_equal(error, e_ref)
    good = error == 0
    assert good.sum() > 0.95 * good.size
    assert r_km[good].tobytes() == r_ref[good].tobytes()
    assert v_km_s[good].tobytes() == v_ref[good].tobytes()
    assert np.isnan(r_km[~good]).all() and np.isnan(v_km_s[~good]).all()


def test_forked_outputs_are_ordinary_writable_arrays(catalog_sample):
    jd = np.full(3, 2460196.5)
    fr = np.array([0.0, 0.25, 0.5])
    error, r_km, v_km_s = propagate(catalog_sample[:50], jd, fr, workers=2)
    for array in (error, r_km, v_km_s):
        assert array.flags.c_contiguous and array.flags.writeable
        assert np.array_equal(pickle.loads(pickle.dumps(array)), array, equal_nan=True)
    r_km[0, 0, 0] = 1.0  # writable without touching anything shared with a child


def test_failed_worker_raises_with_a_hint(capfd):
    class NotASatrec:
        method = "n"  # enough for the chunk balancing, not for SatrecArray

    good = _from_elements(90001, 15.05, 53.0).to_satrec()
    with pytest.raises(WorkerError, match="workers=1"):
        propagate([good, good, good, NotASatrec()], [JD_2020_06_10], [0.5], workers=2)
    assert "Satrec" in capfd.readouterr().err  # the child's traceback went to stderr


def test_shapes_for_empty_inputs_and_scalar_times():
    sat = _from_elements(90001, 15.05, 53.0).to_satrec()
    error, r_km, v_km_s = propagate([], [JD_2020_06_10] * 4, [0.0, 0.1, 0.2, 0.3])
    assert error.shape == (0, 4) and r_km.shape == v_km_s.shape == (0, 4, 3)
    error, r_km, _ = propagate([sat, sat], np.array([]), np.array([]), workers=2)
    assert error.shape == (2, 0) and r_km.shape == (2, 0, 3)
    error, r_km, _ = propagate([sat], JD_2020_06_10, 0.6)
    assert error.shape == (1, 1) and r_km.shape == (1, 1, 3)


@pytest.mark.parametrize("workers", [0, -1, True, 1.5, "2"])
def test_bad_worker_counts_are_refused(workers):
    sat = _from_elements(90001, 15.05, 53.0).to_satrec()
    with pytest.raises(PropagationInputError, match="workers"):
        propagate([sat], [JD_2020_06_10], [0.5], workers=workers)


def test_two_dimensional_times_are_refused_with_a_fix():
    sat = _from_elements(90001, 15.05, 53.0).to_satrec()
    with pytest.raises(PropagationInputError, match="ravel"):
        propagate([sat], np.full((2, 2), JD_2020_06_10), np.zeros((2, 2)))


def test_chunks_are_contiguous_non_empty_and_balance_deep_space_cost():
    leo = _from_elements(90001, 15.05, 53.0).to_satrec()
    geo = _from_elements(90002, 1.0027, 0.05).to_satrec()
    assert (leo.method, geo.method) == ("n", "d")
    satrecs = [leo] * 130 + [geo] * 100  # cost 130 + 130
    assert _balanced_bounds(satrecs, 2) == [(0, 130), (130, 230)]
    assert _balanced_bounds([leo, leo, leo], 3) == [(0, 1), (1, 2), (2, 3)]


def test_error_summary_counts_objects_by_first_code():
    error = np.array([[0, 0, 0], [0, 6, 1], [1, 1, 1], [0, 0, 6]], dtype=np.uint8)
    assert error_summary(error) == {1: 1, 6: 2}
    assert error_summary(np.zeros((3, 2), dtype=np.uint8)) == {}


def test_propagate_snapshot_returns_ephemeris_in_norad_order():
    sets = [_from_elements(90002, 1.0027, 0.05), _decaying(), _from_elements(90001, 15.05, 53.0)]
    snapshot = CatalogSnapshot.from_element_sets(sets)
    jd = np.full(40, JD_2020_06_10)
    fr = np.arange(40, dtype=np.float64)
    eph = propagate_snapshot(snapshot, jd, fr, workers=2)
    assert isinstance(eph, Ephemeris)
    assert eph.norad_id.tolist() == [44160, 90001, 90002]
    assert (eph.n_obj, eph.n_time) == (3, 40)
    error, r_km, _ = propagate(snapshot.satrecs(), jd, fr, workers=1)
    assert eph.error.tobytes() == error.tobytes()
    assert eph.r_teme_km.tobytes() == r_km.tobytes()
    assert eph.error_summary() == {6: 1}


def test_memory_per_sample_is_documented_size():
    assert BYTES_PER_SAMPLE == 49


def test_chunk_edges_stay_inside_the_catalog_when_costs_are_lopsided(monkeypatch):
    leo = _from_elements(90001, 15.05, 53.0).to_satrec()
    monkeypatch.setattr("kizuna.propagation.sgp4.DEEP_SPACE_COST", 100.0)
    geo = _from_elements(90002, 1.0027, 0.05).to_satrec()
    assert _balanced_bounds([leo, leo, geo], 3) == [(0, 1), (1, 2), (2, 3)]
    assert _balanced_bounds([geo, leo, leo, leo], 2) == [(0, 1), (1, 4)]
