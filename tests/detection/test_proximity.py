"""Proximity operations: SJ-21 with Compass G2 (real case), docked and leader-follower pairs,
maneuver before an approach, an isolated asset, the CSV contract.

References are independent of the code under test: brute-force SGP4 range on a 30 s
grid (python-sgp4 directly) and the published orbits in the 2022-01-25 catalog.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest
from sgp4.api import WGS72, Satrec, SatrecArray

from kizuna.catalog.snapshot import CatalogSnapshot
from kizuna.detection.maneuvers import ManeuverResult
from kizuna.detection.proximity import (
    PROXIMITY_CSV_COLUMNS,
    ProximityError,
    detect_proximity,
    limits_class,
    proximity_report,
)
from kizuna.timelib import SECONDS_PER_DAY, jd_fr_from_datetime

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "screening"))
from screening_subsets import FULL_2022, FULL_2023, load_snapshot

COMPASS_G2, SJ21, ISS = 34779, 49330, 25544
# As published in tests/data/catalogs/spacetrack_3le_full_2022-01-25.txt.gz.
COMPASS_G2_TLE = ("1 34779U 09018A   22021.98733229 -.00000337  00000-0  00000-0 0  9992",
                  "2 34779   8.2459  50.5852 0100490 238.8628 286.5633  1.00362661 46969")
SJ21_TLE = ("1 49330U 21094A   22021.69149823 -.00000336  00000-0  00000+0 0  9996",
            "2 49330   8.2457  50.5913 0100155 238.6281 179.9098  1.00359772  1145")
DAY = 86400.0


@pytest.fixture(scope="module")
def geo_2022() -> CatalogSnapshot:
    """Near-synchronous objects of the 2022-01-25 catalog (the neighbourhood of Compass G2)."""
    snap = load_snapshot(FULL_2022)
    keep = [es.norad_id for es in snap.element_sets
            if 0.8 <= es.mean_motion_rev_day <= 1.2 and es.eccentricity < 0.1]
    return snap.subset(keep)


def _brute_range(tle_a, tle_b, start, duration_s, step_s=30.0):
    jd0, fr0 = jd_fr_from_datetime(start)
    t = np.arange(0.0, duration_s + 1e-9, step_s)
    fr = fr0 + t / SECONDS_PER_DAY
    sats = SatrecArray([Satrec.twoline2rv(*tle_a, WGS72), Satrec.twoline2rv(*tle_b, WGS72)])
    e, r, _ = sats.sgp4(np.full_like(fr, jd0), fr)
    assert (e == 0).all()
    return t, np.linalg.norm(r[1] - r[0], axis=-1)


def test_sj21_docked_with_compass_g2_is_flagged(geo_2022: CatalogSnapshot) -> None:
    es = {e.norad_id: e for e in geo_2022.element_sets}
    assert (es[SJ21].tle_line1, es[COMPASS_G2].tle_line1) == (SJ21_TLE[0], COMPASS_G2_TLE[0])
    rep = detect_proximity(geo_2022, [COMPASS_G2], duration_s=DAY, workers=1)
    assert rep.asset_regimes[COMPASS_G2] == "GEO"
    pair = [e for e in rep.events if e.other_norad_id == SJ21]
    assert len(pair) == 1
    ev = pair[0]
    assert ev.kind == "proximity" and ev.co_orbital
    # brute force: within the 75 km GEO range for the whole day, closest at the start
    t, d = _brute_range(COMPASS_G2_TLE, SJ21_TLE, rep.start, DAY)
    assert d.max() < 75.0
    assert ev.start_s == 0.0 and ev.end_s == DAY
    assert ev.min_range_km == pytest.approx(d.min(), abs=0.01)
    assert ev.min_range_s == pytest.approx(t[np.argmin(d)], abs=60.0)
    assert ev.max_range_km == pytest.approx(d.max(), abs=0.05)
    assert ev.range_history_km[0] == pytest.approx(d[0], abs=0.01)
    # SJ-21's set says it trails Compass G2 along the orbit, a few km/day apart
    assert ev.ric_at_min_km[1] < 0 and "trailing" in ev.motion
    assert abs(ev.range_rate_m_s) < 1.0
    assert not ev.maneuver_before and rep.maneuver_source == "none"


def test_an_isolated_asset_has_no_events(geo_2022: CatalogSnapshot) -> None:
    # brute force over the whole subset: the object whose nearest neighbour stays furthest
    from kizuna.screening.engine import newest_epoch

    start = newest_epoch(geo_2022)
    jd0, fr0 = jd_fr_from_datetime(start)
    fr = fr0 + np.arange(0.0, DAY + 1, 60.0) / SECONDS_PER_DAY
    e, r, _ = SatrecArray(geo_2022.satrecs()).sgp4(np.full_like(fr, jd0), fr)
    r[e != 0] = np.nan
    ids = geo_2022.norad_id
    ok = np.flatnonzero((e == 0).all(axis=1))
    # candidates: GEO-class objects; nearest-neighbour distance over the day
    best, best_d = None, 0.0
    for k in ok[::25]:
        d = np.linalg.norm(r - r[k], axis=-1)
        d[k] = np.inf
        dmin = np.nanmin(d)
        if dmin > best_d:
            best, best_d = int(ids[k]), dmin
    assert best is not None and best_d > 600.0  # further than any range or co-orbital limit
    rep = detect_proximity(geo_2022, [best], duration_s=DAY, workers=1)
    assert rep.events == ()
    assert rep.to_csv().splitlines() == [",".join(PROXIMITY_CSV_COLUMNS)]


@pytest.fixture(scope="module")
def iss_pair():
    snap = load_snapshot(FULL_2022)
    iss = next(es for es in snap.element_sets if es.norad_id == ISS)
    base = dataclasses.replace(iss, tle_line1=None, tle_line2=None)
    return base


def test_identical_element_sets_are_a_docked_event(iss_pair) -> None:
    docked = dataclasses.replace(iss_pair, norad_id=99001, name="VISITING VEHICLE")
    snap = CatalogSnapshot.from_element_sets([iss_pair, docked])
    rep = detect_proximity(snap, [ISS], duration_s=DAY / 2, workers=1)
    [ev] = rep.events
    assert (ev.other_norad_id, ev.kind, ev.shared_element_set) == (99001, "proximity", True)
    assert ev.min_range_km == 0.0 and ev.max_range_km == 0.0
    assert (ev.start_s, ev.end_s) == (0.0, DAY / 2)
    assert "docked" in ev.motion


def test_leader_follower_in_track(iss_pair) -> None:
    # 0.1 deg further along the same orbit: leading by a * 0.1 deg ~ 11.7 km
    lead = dataclasses.replace(iss_pair, norad_id=99002,
                               mean_anomaly_deg=iss_pair.mean_anomaly_deg + 0.1)
    snap = CatalogSnapshot.from_element_sets([iss_pair, lead])
    rep = detect_proximity(snap, [ISS], duration_s=DAY / 2, workers=1)
    [ev] = rep.events
    a_km = (398600.8 / (iss_pair.mean_motion_rev_day * 2 * np.pi / 86400.0) ** 2) ** (1 / 3)
    assert ev.kind == "proximity" and ev.co_orbital and not ev.shared_element_set
    assert ev.ric_mean_km[1] == pytest.approx(a_km * np.radians(0.1), rel=0.05)
    assert "leading" in ev.motion
    assert limits_class(iss_pair.mean_motion_rev_day, iss_pair.eccentricity) == "LEO"


def _maneuvers(norad_id, burn_jd, burn_fr) -> ManeuverResult:
    ids, jd, fr = (np.atleast_1d(np.asarray(x)) for x in (norad_id, burn_jd, burn_fr))
    one = np.ones(len(ids))
    return ManeuverResult(
        norad_id=ids, burn_jd=jd, burn_fr=fr,
        time_sigma_s=one, delta_a_km=one, delta_v_m_s=0.5 * one,
        dv_in_plane_m_s=one, dv_out_of_plane_m_s=one, delta_i_deg=one, plane_change_deg=one,
        delta_e=one, score=one, before_jd=jd, before_fr=fr,
        after_jd=jd, after_fr=fr, regime=np.array(["LEO"] * len(ids)),
        kind=np.array(["raise"] * len(ids)))


def test_a_maneuver_before_the_approach_is_reported(iss_pair) -> None:
    lead = dataclasses.replace(iss_pair, norad_id=99002,
                               mean_anomaly_deg=iss_pair.mean_anomaly_deg + 0.1)
    snap = CatalogSnapshot.from_element_sets([iss_pair, lead])
    from kizuna.screening.engine import newest_epoch

    jd0, fr0 = jd_fr_from_datetime(newest_epoch(snap))
    recent = detect_proximity(snap, [ISS], duration_s=DAY / 2, workers=1,
                              maneuvers=_maneuvers(99002, jd0, fr0 - 1.0))
    old = detect_proximity(snap, [ISS], duration_s=DAY / 2, workers=1,
                           maneuvers=_maneuvers(99002, jd0, fr0 - 10.0))
    [ev] = recent.events
    assert ev.maneuver_before and ev.maneuver.seconds_before_start == pytest.approx(DAY, abs=1)
    assert recent.rows()[0]["maneuver_before"] == "true"
    # a found burn answers "did it maneuver?": checked, in the event and in the CSV alike
    assert ev.maneuver_checked and recent.rows()[0]["maneuver_checked"] == "true"
    assert not old.events[0].maneuver_before  # 10 days > the 3-day LEO lookback
    # a list of maneuvers says nothing about the span of a history: unchecked
    assert not old.events[0].maneuver_checked and old.rows()[0]["maneuver_checked"] == "false"


def test_csv_contract_and_report_helper(iss_pair) -> None:
    lead = dataclasses.replace(iss_pair, norad_id=99002,
                               mean_anomaly_deg=iss_pair.mean_anomaly_deg + 0.1)
    snap = CatalogSnapshot.from_element_sets([iss_pair, lead])
    rep = proximity_report(snap, [ISS], days=0.5, workers=1)
    lines = rep.to_csv().splitlines()
    assert lines[0].split(",")[:6] == ["protected_norad_id", "other_norad_id", "start_utc",
                                       "end_utc", "min_range_km", "min_range_utc"]
    first = lines[1].split(",")
    assert first[0] == str(ISS) and first[1] == "99002"
    assert first[2].endswith("Z") and len(first[2]) == 24
    assert rep.to_csv() == proximity_report(snap, [ISS], days=0.5, workers=1).to_csv()


def test_unknown_asset_is_a_caller_error(iss_pair) -> None:
    snap = CatalogSnapshot.from_element_sets([iss_pair])
    with pytest.raises(ProximityError, match="not in the catalog"):
        detect_proximity(snap, [12345])
    with pytest.raises(ProximityError, match="no protected assets"):
        detect_proximity(snap, [])


def test_allied_assets_are_in_the_bundled_catalog() -> None:
    import tomllib
    from importlib.resources import files

    from kizuna.catalog.reader import read_catalog

    data = files("kizuna") / "data"
    assets = tomllib.loads((data / "allied_assets.toml").read_text())["asset"]
    names = {es.norad_id: es.name for es in
             read_catalog(Path(str(data / "celestrak_active_gp_2026-07-12.csv.gz"))).element_sets}
    assert len(assets) >= 10
    for a in assets:
        assert names.get(a["norad_id"]) == a["name"], a


def _keys(rep):
    return sorted((e.protected_norad_id, e.other_norad_id, e.kind, round(e.start_s),
                   round(e.end_s)) for e in rep.events)


def test_element_broad_phase_keeps_every_screen_event(geo_2022: CatalogSnapshot) -> None:
    # Reference: the screening engine over the whole subset (broad_phase="screen").
    # Assets: Compass G2 (SJ-21 docked) and every 15th near-synchronous object.
    from kizuna.detection.proximity import ProximitySettings

    # Fly-bys count only after a maneuver: every even-numbered object maneuvered 2 days
    # before the window, so the elements path must screen exactly those.
    ids = sorted({COMPASS_G2, SJ21} | set(int(x) for x in geo_2022.norad_id[::15]))
    from kizuna.screening.engine import newest_epoch

    jd0, fr0 = jd_fr_from_datetime(newest_epoch(geo_2022))
    burned = geo_2022.norad_id[geo_2022.norad_id % 2 == 0]
    man = _maneuvers(burned, np.full(len(burned), jd0), np.full(len(burned), fr0 - 2.0))
    new = detect_proximity(geo_2022, ids, duration_s=DAY, workers=1, maneuvers=man)
    ref = detect_proximity(geo_2022, ids, duration_s=DAY, workers=1, maneuvers=man,
                           settings=ProximitySettings(broad_phase="screen"))
    assert new.broad_phase == "elements" and ref.broad_phase == "screen"
    assert new.n_stay_candidates > 0
    assert new.n_screened_objects == len(set(ids) | set(burned.tolist()))
    assert len(ref.events) >= 5  # the comparison has something to compare
    assert any(e.kind == "approach_after_maneuver" for e in ref.events)
    assert _keys(new) == _keys(ref)
    old = {(e.protected_norad_id, e.other_norad_id, e.kind, round(e.start_s)): e
           for e in ref.events}
    for e in new.events:
        o = old[(e.protected_norad_id, e.other_norad_id, e.kind, round(e.start_s))]
        # without screening minima the minimum is refined by SGP4 around the grid one
        assert e.min_range_km <= o.min_range_km + 0.01
        assert e.min_range_km >= o.min_range_km - 0.5
    assert {(COMPASS_G2, SJ21), (SJ21, COMPASS_G2)} <= {(e.protected_norad_id, e.other_norad_id)
                                                      for e in new.events}


def test_broad_phase_setting_is_checked() -> None:
    from kizuna.detection.proximity import ProximitySettings

    with pytest.raises(ProximityError, match="broad_phase"):
        ProximitySettings(broad_phase="fast")


# ------------------------------------------------------------------ history after the search

NAUKA, CYGNUS_NG19 = 49044, 57488


def test_history_added_after_the_search_gives_what_the_search_with_history_gives(data_dir):
    """Cygnus NG-19 with the ISS (2023-09-09 catalog) after the 2023-09-08 ISS reboost."""
    from datetime import UTC, datetime

    from kizuna.catalog.reader import read_catalog
    from kizuna.detection.proximity import with_maneuver_history

    snap = load_snapshot(FULL_2023).subset([ISS, NAUKA, CYGNUS_NG19])
    iss_sets = read_catalog(data_dir / "tle-history" /
                            "iss_25544_gp_history_2020-2024.csv.gz").element_sets
    start = datetime(2023, 9, 9, tzinfo=UTC)
    during = detect_proximity(snap, [CYGNUS_NG19], start=start, duration_s=DAY, workers=1,
                              history=iss_sets)
    plain = detect_proximity(snap, [CYGNUS_NG19], start=start, duration_s=DAY, workers=1)
    assert plain.maneuver_source == "none"
    assert not any(e.maneuver_before or e.maneuver_checked for e in plain.events)
    # sets of objects that are in no event are ignored
    other = [dataclasses.replace(es, norad_id=99999) for es in iss_sets[:200]]
    after = with_maneuver_history(plain, other + list(iss_sets))
    assert after.events == during.events
    assert after.maneuver_source == during.maneuver_source == "history"
    by_other = {e.other_norad_id: e for e in after.events}
    assert by_other[ISS].maneuver_before and by_other[ISS].maneuver_checked
    assert not (by_other[NAUKA].maneuver_before or by_other[NAUKA].maneuver_checked)

    # the latest maneuver wins: a later one already in the report is kept, an earlier one
    # is replaced by the reboost found in the history
    jd0, fr0 = jd_fr_from_datetime(start)
    burn_s = by_other[ISS].start_s - by_other[ISS].maneuver.seconds_before_start
    for offset_s, kept in ((+600.0, True), (-86400.0, False)):
        listed = detect_proximity(snap, [CYGNUS_NG19], start=start, duration_s=DAY, workers=1,
                                  maneuvers=_maneuvers(ISS, jd0, fr0 + (burn_s + offset_s) / DAY))
        merged = {e.other_norad_id: e for e in
                  with_maneuver_history(listed, iss_sets, source="store").events}[ISS]
        want = burn_s + offset_s if kept else burn_s
        assert merged.start_s - merged.maneuver.seconds_before_start == pytest.approx(want,
                                                                                     abs=1e-3)
        assert merged.maneuver_checked
