"""Breakup detection: geometry kernels, simulated fragmentations, launches are not breakups."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from kizuna.api import load_catalog
from kizuna.catalog.snapshot import CatalogSnapshot
from kizuna.detection.breakups import (
    BREAKUP_CSV_COLUMNS,
    BreakupInputError,
    breakups_to_csv,
    detect_breakups,
    distance_to_orbit_km,
    launch_of,
    orbit_geometry,
)

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = ROOT / "tests" / "data" / "catalogs"
MU = 398600.8


def _bench():
    spec = importlib.util.spec_from_file_location("validate_breakups",
                                                  ROOT / "bench" / "validate_breakups.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["validate_breakups"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def catalog_2023() -> CatalogSnapshot:
    return load_catalog(CATALOGS / "spacetrack_3le_full_2023-09-09.txt.gz")[0]


def test_launch_of_keeps_year_and_launch_number():
    assert launch_of("1999-025ABC") == "1999-025"
    assert launch_of("2019-006A") == "2019-006"
    assert launch_of(None) is None
    assert launch_of("") is None


def test_distance_to_orbit_is_zero_on_the_orbit_and_matches_brute_force_off_it():
    rng = np.random.default_rng(3)
    r = np.array([7000.0, 300.0, -200.0])
    v = np.array([0.2, 6.9, 3.1])
    h_hat, e_vec, p = orbit_geometry(r, v)
    assert distance_to_orbit_km(r, h_hat, e_vec, p) == pytest.approx(0.0, abs=1e-6)
    # Brute force: sample the conic densely and take the nearest point.
    ecc = np.linalg.norm(e_vec)
    p_hat = e_vec / ecc
    q_hat = np.cross(h_hat, p_hat)
    nu = np.linspace(0, 2 * np.pi, 200_001)
    pts = (p / (1 + ecc * np.cos(nu)))[:, None] * (np.cos(nu)[:, None] * p_hat
                                                   + np.sin(nu)[:, None] * q_hat)
    for _ in range(5):
        x = r + rng.normal(0.0, 5.0, size=3)  # km off the orbit
        brute = np.min(np.linalg.norm(pts - x, axis=1))
        assert distance_to_orbit_km(x, h_hat, e_vec, p) == pytest.approx(brute, rel=0.02,
                                                                         abs=0.01)


def test_orbit_geometry_recovers_vis_viva_and_angular_momentum():
    r = np.array([6800.0, 0.0, 0.0])
    v = np.array([0.0, 7.0, 2.0])
    h_hat, e_vec, p = orbit_geometry(r, v)
    h = np.cross(r, v)
    assert np.allclose(h_hat, h / np.linalg.norm(h))
    a = 1 / (2 / 6800.0 - (v @ v) / MU)
    assert p == pytest.approx(a * (1 - e_vec @ e_vec), rel=1e-12)


def test_simulated_breakups_are_found_with_parent_and_time_within_an_hour(catalog_2023):
    """NASA-SBM fragments of real parents, seen 1-3 days later as fitted element sets."""
    bench = _bench()
    trials = bench.run_trials(catalog_2023, n_trials=3, seed=11, pieces=(8, 14))
    successes = sum(t.found for t in trials)
    assert successes >= 3 * 0.9, [(t.parent, t.time_error_s) for t in trials]
    for t in trials:
        # Median dv of the detected pieces against the sampled truth (SBM draw).
        assert t.dv_est_median_m_s == pytest.approx(t.dv_true_median_m_s, rel=0.35)


def test_new_launches_are_not_breakups(catalog_2023):
    """Objects of launches absent from the old snapshot, even named DEB, give no event."""
    old_launches = {launch_of(es.intl_designator) for es in catalog_2023.element_sets}
    new_2026, _ = load_catalog(CATALOGS / "spacetrack_3le_leo_payloads_2026-06-10.txt.gz")
    launched = [es for es in new_2026.element_sets
                if launch_of(es.intl_designator) not in old_launches]
    assert len(launched) > 1000  # Starlink, Qianfan, Kuiper ... launched 2023-2026
    new = CatalogSnapshot.from_element_sets(list(catalog_2023.element_sets) + launched)
    assert detect_breakups(catalog_2023, new) == []


def test_late_catalogued_pieces_of_an_old_breakup_are_not_a_new_event(catalog_2023):
    """Fengyun-1C (2007 ASAT) pieces catalogued later do not converge inside the window."""
    old = load_catalog(CATALOGS / "spacetrack_3le_full_2019-03-23.txt.gz")[0]
    new = load_catalog(CATALOGS / "spacetrack_3le_full_2019-12-23.txt.gz")[0]
    events = detect_breakups(old, new)
    assert all(e.launch != "1999-025" for e in events)
    # Atlas V Centaur of AFSPC-11 (2018-079B, 43652) broke up on 2019-04-06
    # (18th Space Control Squadron): it is reported with that parent.
    assert any(e.parent_norad_id == 43652 for e in events)


def test_csv_contract_columns_and_empty_input_errors(catalog_2023):
    text = breakups_to_csv([])
    assert text.splitlines()[0].split(",")[:3] == ["parent_norad_id", "time_utc", "n_fragments"]
    assert tuple(text.splitlines()[0].split(",")) == BREAKUP_CSV_COLUMNS
    with pytest.raises(BreakupInputError, match="both snapshots"):
        detect_breakups(CatalogSnapshot(()), catalog_2023)
    with pytest.raises(BreakupInputError, match="min_fragments"):
        detect_breakups(catalog_2023, catalog_2023, min_fragments=1)
    assert math.isfinite(len(detect_breakups(catalog_2023, catalog_2023)))
