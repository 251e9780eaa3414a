"""The synthetic-population generator of bench/population.py (used by bench_population.py).

References are the real 2023-09-09 catalog's own distributions, computed here
from its parsed mean elements, and SGP4 itself (python-sgp4).
"""

from __future__ import annotations

import math
import sys
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from sgp4.api import SatrecArray

from kizuna.api import load_catalog
from kizuna.screening import screen
from kizuna.screening.engine import newest_epoch
from kizuna.timelib import jd_fr_from_datetime

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from population import (
    FIRST_SYNTHETIC_ID,
    PopulationError,
    population,
    synthetic_element_sets,
)

N_SYN = 4000
# bands (km) of perigee altitude: VLEO, LEO shells, upper LEO, MEO, GEO region, beyond
HP_BANDS = (-1e9, 400, 500, 600, 800, 1200, 2000, 30000, 37000, 1e9)
INC_BANDS = (-1, 10, 40, 60, 80, 95, 100, 181)


@cache
def real():
    snap, rejected = load_catalog(Path(__file__).parent / "data" / "catalogs"
                                  / "spacetrack_3le_full_2023-09-09.txt.gz")
    assert not rejected and len(snap) == 25587
    return snap


def _hp_km(sets) -> np.ndarray:
    # perigee altitude straight from Kepler's third law, WGS72 (independent of the generator)
    mu, re = 398600.8, 6378.135
    n = np.array([s.mean_motion_rev_day for s in sets]) * 2 * math.pi / 86400.0
    e = np.array([s.eccentricity for s in sets])
    return (mu / n**2) ** (1 / 3) * (1 - e) - re


def _fractions(x, bands):
    return np.histogram(x, bins=bands)[0] / len(x)


def test_deterministic_given_seed():
    base = real().element_sets
    a = synthetic_element_sets(base, 300, seed=7)
    b = synthetic_element_sets(base, 300, seed=7)
    c = synthetic_element_sets(base, 300, seed=8)
    assert a == b
    assert a != c
    assert sum(x.mean_anomaly_deg == y.mean_anomaly_deg for x, y in zip(a, c, strict=True)) == 0


def test_count_and_unique_ids():
    snap = real()
    pop = population(snap, len(snap) + 1234, seed=1)
    ids = pop.norad_id
    assert len(pop) == len(snap) + 1234
    assert len(np.unique(ids)) == len(ids)
    syn = ids[ids >= FIRST_SYNTHETIC_ID]
    assert len(syn) == 1234 and syn.min() == FIRST_SYNTHETIC_ID
    assert snap.norad_id.max() < FIRST_SYNTHETIC_ID
    # the real objects are kept untouched
    keep = {es.norad_id: es for es in pop.element_sets}
    assert all(keep[es.norad_id] == es for es in snap.element_sets)
    # the default window start (newest epoch) does not move
    assert newest_epoch(pop) == newest_epoch(snap)


def test_bad_requests_raise():
    snap = real()
    with pytest.raises(PopulationError, match="below the base catalog"):
        population(snap, len(snap) - 1)
    with pytest.raises(PopulationError, match="collide"):
        synthetic_element_sets(snap.element_sets, 10, first_id=int(snap.norad_id[5]) - 3)
    with pytest.raises(PopulationError, match="empty"):
        synthetic_element_sets((), 10)


def test_orbit_distributions_match_the_real_catalog():
    base = real().element_sets
    syn = synthetic_element_sets(base, N_SYN, seed=3)
    # perigee altitude and inclination: share of objects per band within 2.5 points
    # (binomial sd for 4,000 draws is <= 0.8 points)
    f_real, f_syn = _fractions(_hp_km(base), HP_BANDS), _fractions(_hp_km(syn), HP_BANDS)
    assert np.abs(f_real - f_syn).max() < 0.025, (f_real, f_syn)
    inc_r = np.array([s.inclination_deg for s in base])
    inc_s = np.array([s.inclination_deg for s in syn])
    f_real, f_syn = _fractions(inc_r, INC_BANDS), _fractions(inc_s, INC_BANDS)
    assert np.abs(f_real - f_syn).max() < 0.025, (f_real, f_syn)
    # median perigee altitude within 10 km, median inclination within 1 deg
    assert abs(np.median(_hp_km(base)) - np.median(_hp_km(syn))) < 10.0
    assert abs(np.median(inc_r) - np.median(inc_s)) < 1.0
    # the mean anomaly is a random phase: uniform (each quarter 25 % +- 2.5 points)
    q = _fractions(np.array([s.mean_anomaly_deg for s in syn]), (0, 90, 180, 270, 360))
    assert np.abs(q - 0.25).max() < 0.025


def test_synthetic_objects_propagate_like_real_ones():
    snap = real()
    syn = synthetic_element_sets(snap.element_sets, 2000, seed=5)
    start = newest_epoch(snap)
    jd0, fr0 = jd_fr_from_datetime(start)
    jd, fr = np.full(3, jd0), fr0 + np.array([0.0, 0.5, 1.0])
    e_s, r_s, _ = SatrecArray([s.to_satrec() for s in syn]).sgp4(jd, fr)
    e_r, _, _ = SatrecArray(snap.satrecs()).sgp4(jd, fr)
    # the real catalog: 0.28 % fail at the start (decayed / bad sets); copies fail alike
    assert (e_r[:, 0] != 0).mean() < 0.01
    assert (e_s[:, 0] != 0).mean() < 0.01
    # SGP4 radius stays within the mean perigee/apogee band (+- 60 km of short-period terms)
    ok = (e_s == 0).all(axis=1)
    a = np.array([(398600.8 / (s.mean_motion_rev_day * 2 * math.pi / 86400.0) ** 2) ** (1 / 3)
                  for s in syn])
    ecc = np.array([s.eccentricity for s in syn])
    rn = np.linalg.norm(r_s, axis=2)
    lo = (a * (1 - ecc))[:, None] - 60.0
    hi = (a * (1 + ecc))[:, None] + 60.0
    inside = ((rn >= lo) & (rn <= hi)).all(axis=1)
    assert inside[ok].mean() > 0.99


def test_engine_screens_a_population():
    snap = real()
    leo = [es.norad_id for es in snap.element_sets if 14.0 < es.mean_motion_rev_day < 16.0]
    base = snap.subset(leo[:300])
    pop = population(base, 600, seed=11)
    res = screen(pop, duration_s=86400.0, threshold_km=5.0, workers=1)
    assert res.summary.n_objects == 600
    assert res.summary.n_screened + res.summary.n_failed + res.summary.n_prefiltered == 600
    ev = res.events
    assert np.all(ev["miss_km"] < 5.0)
    # a synthetic event's miss is SGP4's: check a few against a brute-force fine grid
    syn = np.flatnonzero(ev["secondary_norad_id"] >= FIRST_SYNTHETIC_ID)[:5]
    jd0, fr0 = jd_fr_from_datetime(res.start)
    sets = {es.norad_id: es for es in pop.element_sets}
    checked = 0
    for k in syn:
        pa, pb = (sets[int(ev[f][k])].to_satrec() for f in ("primary_norad_id",
                                                            "secondary_norad_id"))
        t = ev["t_s"][k] + np.linspace(-2.0, 2.0, 4001)
        for _ in range(2):  # 1 ms grid, then 1 us around its minimum
            _, ra, _ = pa.sgp4_array(np.full(len(t), jd0), fr0 + t / 86400.0)
            _, rb, _ = pb.sgp4_array(np.full(len(t), jd0), fr0 + t / 86400.0)
            d = np.linalg.norm(ra - rb, axis=1)
            t = t[np.argmin(d)] + np.linspace(-1e-3, 1e-3, 2001)
        assert abs(d.min() - ev["miss_km"][k]) < 1e-3
        checked += 1
    assert checked == 5  # the population does give synthetic events to check
