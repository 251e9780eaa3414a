"""Maneuver detection on LEO histories against complete operator maneuver files.

Eleven satellites: Sentinel-6A, Jason-3, Jason-2, Jason-1 and TOPEX/Poseidon (1,336 km,
66 degrees), Sentinel-3A and Sentinel-3B (about 800 km, sun-synchronous), SARAL (about
790 km, sun-synchronous), CryoSat-2 (about 720 km, 92 degrees), Haiyang-2A (about
970 km, sun-synchronous) and Envisat (about 780 km, sun-synchronous): TLE histories and the
maneuver files the operators publish through the International DORIS Service for precise
orbit determination, which list every burn with its time, duration and delta-v
(TOPEX/Poseidon's gives only the time), copied unchanged from the benchmark data set of
Shorten et al. (Envisat's history from the SOrbitBench data set; DATA_SOURCES.md). Unlike
the ISS lists compiled from press reports, these lists are complete, so a detection far
from every listed burn is a false alarm. Most listed burns are tiny (a few mm/s), far
below what element sets can show; recall is therefore reported against the burn size.

No threshold of :mod:`kizuna.detection.maneuvers` was chosen on these data. Sentinel-6A
and Sentinel-3B were added in the fifth session, Sentinel-3A, Jason-3, SARAL and
CryoSat-2 in the sixth, Jason-1, Jason-2, Haiyang-2A and TOPEX/Poseidon in the seventh,
Envisat in the eighth, each run once with the detector as it was. The seventh session then applied the noise
floors at each pair's gap instead of before the gap factor, a change found on the first
six and adopted by a rule written down before the last four were run (docs/design/
maneuvers.md, "LEO: ten satellites against complete operator files", which keeps the
first-run numbers); the numbers asserted are those of the detector as it is.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from kizuna.catalog.reader import read_catalog
from kizuna.detection.maneuvers import (
    MANEUVER_KINDS,
    ManeuverSettings,
    detect_maneuvers,
    maneuver_residuals,
)

SATELLITES = {
    "Sentinel-6A": ("sentinel-6a_46984_tle_2020-2022.txt.gz", "ids_maneuvers_s6a.txt"),
    "Sentinel-3B": ("sentinel-3b_43437_tle_2018-2022.txt.gz", "ids_maneuvers_s3b.txt"),
    "Sentinel-3A": ("sentinel-3a_41335_tle_2016-2022.txt.gz", "ids_maneuvers_s3a.txt"),
    "Jason-3": ("jason-3_41240_tle_2016-2022.txt.gz", "ids_maneuvers_ja3.txt"),
    "SARAL": ("saral_39086_tle_2013-2022.txt.gz", "ids_maneuvers_srl.txt"),
    "CryoSat-2": ("cryosat-2_36508_tle_2010-2022.txt.gz", "ids_maneuvers_cs2.txt"),
    # held out in the seventh session (docs): copied, then run once
    "Jason-1": ("jason-1_26997_tle_2001-2013.txt.gz", "ids_maneuvers_ja1.txt"),
    "Jason-2": ("jason-2_33105_tle_2008-2019.txt.gz", "ids_maneuvers_ja2.txt"),
    "Haiyang-2A": ("haiyang-2a_37781_tle_2011-2020.txt.gz", "ids_maneuvers_h2a.txt"),
    "TOPEX": ("topex_22076_tle_1992-2004.txt.gz", "ids_maneuvers_top.txt"),
    # held out in the eighth session (docs): copied, then run once
    "Envisat": ("envisat_27386_tle_2004-2012.txt.gz", "ids_maneuvers_en1.txt"),
}
J2000 = datetime(2000, 1, 1, 12, tzinfo=timezone.utc)
MATCH_DAYS = 1.0
DETECTABLE_M_S = 0.1  # the size classes reported (not a threshold of the detector)


def _doy(year: str, doy: str, hh: str, mm: str, ss: str = "0") -> float:
    """Days since J2000 of a year / day-of-year / time triple (UTC)."""
    when = datetime(int(year), 1, 1, tzinfo=timezone.utc) + timedelta(
        days=int(doy) - 1, hours=int(hh), minutes=int(mm), seconds=float(ss))
    return (when - J2000).total_seconds() / 86400.0


def read_ids_maneuvers(path: Path) -> list[dict]:
    """Burns of an IDS maneuver file: one dict per burn (time, duration, |delta-v|).

    A line is one maneuver: satellite code, start and end (year, day of year, hour,
    minute), a type code, the number of burns N, then per burn its median time (year,
    day of year, hour, minute, seconds), duration (s), three delta-v components (m/s)
    and six further numbers. Entries with no delta-v at all are left out: SARAL's file
    brackets some burns with two 0.001 s entries of zero delta-v, 9 minutes before and
    after the real one.
    """
    burns = []
    for k, line in enumerate(path.read_text(encoding="ascii").splitlines(), start=1):
        f = line.split()
        if not f:
            continue
        n_burns = int(f[10])
        for b in range(n_burns):
            g = f[11 + 15 * b: 11 + 15 * (b + 1)]
            if len(g) != 15:
                raise ValueError(f"{path.name} line {k}: burn {b + 1} of {n_burns} is "
                                 f"incomplete ({len(g)} of 15 fields)")
            dv = np.array([float(x) for x in g[6:9]])
            if not np.any(dv):
                continue
            burns.append({"line": k, "t": _doy(*g[0:5]), "duration_s": float(g[5]),
                          "dv_m_s": float(np.linalg.norm(dv))})
    return burns


def read_maneuver_times(path: Path) -> list[dict]:
    """Maneuvers of a list that gives only their start and end (TOPEX/Poseidon's: satellite,
    then start and end as year, day of year, hour, minute; the same minute on every line).
    Size unknown: ``dv_m_s`` and ``duration_s`` are NaN."""
    burns = []
    for k, line in enumerate(path.read_text(encoding="ascii").splitlines(), start=1):
        f = line.split()
        if not f:
            continue
        if len(f) != 9:
            raise ValueError(f"{path.name} line {k}: expected 9 fields, found {len(f)}")
        burns.append({"line": k, "t": _doy(*f[1:5]), "duration_s": float("nan"),
                      "dv_m_s": float("nan")})
    return burns


def read_burns(path: Path) -> list[dict]:
    """The IDS reader, or the times-only one for TOPEX/Poseidon's list."""
    return read_maneuver_times(path) if path.name.endswith("_top.txt") else read_ids_maneuvers(path)


def measure(sets, result, burns, window_d: float = MATCH_DAYS) -> dict:
    t = np.array([s.epoch_jd - 2451545.0 + s.epoch_fr for s in sets])
    inside = [b for b in burns if t.min() <= b["t"] <= t.max()]
    tb = (result.burn_jd - 2451545.0) + result.burn_fr
    tl = np.array([b["t"] for b in inside])
    found = [bool(np.any(np.abs(tb - b["t"]) <= window_d)) for b in inside]
    size = [b["dv_m_s"] for b in inside]

    def found_of(in_class) -> tuple[int, int]:
        pick = [in_class(x) for x in size]
        return (sum(f for f, p in zip(found, pick, strict=True) if p), sum(pick))

    matched = np.array([np.any(np.abs(tl - x) <= window_d) for x in tb], dtype=bool)
    years = (t.max() - t.min()) / 365.25
    return {
        "n_sets": len(sets), "years": years, "n_burns": len(inside),
        "big_found": found_of(lambda x: x >= DETECTABLE_M_S),
        "small_found": found_of(lambda x: x < DETECTABLE_M_S),
        "unsized_found": found_of(math.isnan),
        "n_detections": len(result), "false": np.flatnonzero(~matched),
        "false_per_year": float((~matched).sum() / years),
    }


@pytest.fixture(scope="module", params=list(SATELLITES))
def case(request, runs):
    return (request.param, *runs[request.param])


@pytest.fixture(scope="module")
def runs(data_dir):
    """Each satellite's sets, listed burns and default detection, computed once."""
    return {name: _run(data_dir / "tle-history", name) for name in SATELLITES}


def _run(data: Path, name: str):
    tle, man = SATELLITES[name]
    sets = read_catalog(data / tle).element_sets
    return sets, read_burns(data / man), detect_maneuvers(sets)


MEASURED = {  # defaults: (found, listed) for >= 0.1 m/s, < 0.1 m/s and unknown size;
    # detections; false alarms. Since the seventh session's floor change (docs: the first-run
    # numbers of the six, and of the four held out, are kept there with their commit).
    "Sentinel-6A": ((2, 6), (0, 8), (0, 0), 2, 0),
    "Sentinel-3B": ((23, 29), (1, 28), (0, 0), 21, 1),
    "Sentinel-3A": ((21, 26), (1, 36), (0, 0), 21, 0),
    "Jason-3": ((14, 26), (0, 27), (0, 0), 7, 1),
    "SARAL": ((2, 7), (13, 48), (0, 0), 15, 0),
    "CryoSat-2": ((2, 2), (39, 184), (0, 0), 24, 3),
    "Jason-1": ((26, 69), (0, 122), (0, 0), 20, 11),
    "Jason-2": ((13, 76), (4, 59), (0, 0), 9, 1),
    "Haiyang-2A": ((0, 0), (0, 56), (0, 0), 1, 1),
    "TOPEX": ((0, 0), (0, 0), (10, 39), 18, 8),
    "Envisat": ((4, 32), (0, 145), (0, 0), 2, 0),
}
HELD_OUT = ("Jason-1", "Jason-2", "Haiyang-2A", "TOPEX", "Envisat")
HELD_OUT_8 = ("Envisat",)  # eighth session; the other four in the seventh


def test_operator_files_parse_into_every_burn(data_dir):
    counts = {}
    for name, (_, man) in SATELLITES.items():
        burns = read_burns(data_dir / "tle-history" / man)
        counts[name] = (len({b["line"] for b in burns}), len(burns))
        if name != "TOPEX":
            assert all(b["duration_s"] > 0 and b["dv_m_s"] > 0 for b in burns)
    assert counts == {"Sentinel-6A": (18, 19), "Sentinel-3B": (56, 64),
                      "Sentinel-3A": (64, 70), "Jason-3": (43, 58), "SARAL": (62, 62),
                      "CryoSat-2": (168, 190), "Jason-1": (119, 198), "Jason-2": (109, 159),
                      "Haiyang-2A": (58, 58), "TOPEX": (43, 43), "Envisat": (177, 220)}


def test_recall_and_false_alarms_against_complete_operator_lists(case):
    name, sets, burns, res = case
    m = measure(sets, res, burns)
    assert (m["big_found"], m["small_found"], m["unsized_found"], m["n_detections"],
            len(m["false"])) == MEASURED[name]


def _days_to_nearest_burn(res, burns) -> list[float]:
    tb = (res.burn_jd - 2451545.0) + res.burn_fr
    return [min(abs(b["t"] - tb[k]) for b in burns) for k in range(len(res))]


def test_where_the_false_alarms_lie(runs):
    """The first six: every false alarm lies within 3 days of a listed burn (campaigns,
    commissioning, a plane change timed at its pair's midpoint) except CryoSat-2's
    e-vector step of 2015-02-27, 14.6 days from any. Jason-1's and TOPEX's: 8 of their 19
    lie 20 days or more from any listed maneuver (27-384 days). Haiyang-2A's one is a
    clean +2.06 km raise (1.03 m/s, score 66.9, burn time to 23 min) 5.5 days from the
    nearest listed burn, which is of 0.013 m/s (docs)."""
    far = {}
    for name, (sets, burns, res) in runs.items():
        d = _days_to_nearest_burn(res, burns)
        far[name] = sorted(round(d[k], 1) for k in measure(sets, res, burns)["false"]
                           if d[k] >= 3.0)
    assert {k: v for k, v in far.items() if k not in HELD_OUT and v} == {"CryoSat-2": [14.6]}
    old = far["Jason-1"] + far["TOPEX"]
    assert sum(x >= 20.0 for x in old) == 8 and 27.0 < min(x for x in old if x >= 20.0)
    assert max(old) == pytest.approx(383.9, abs=0.1)
    sets, burns, res = runs["Haiyang-2A"]
    (k,) = measure(sets, res, burns)["false"]
    assert res.delta_a_km[k] == pytest.approx(2.06, abs=0.01)
    assert res.delta_v_m_s[k] == pytest.approx(1.03, abs=0.01)
    assert res.score[k] == pytest.approx(66.9, abs=0.1)
    assert 1300.0 < res.time_sigma_s[k] < 1400.0
    assert _days_to_nearest_burn(res, burns)[k] == pytest.approx(5.54, abs=0.01)
    assert max(b["dv_m_s"] for b in burns) < 0.013


def test_one_leo_detection_has_a_burn_time_sigma_over_a_day(runs):
    """Against 70 of the 103 small unmatched GEO steps of FY-2D/2E/2F (docs): among the
    eleven satellites' 140 detections one, a matched Sentinel-3A burn."""
    untimed = {name: int((res.time_sigma_s > 86400.0).sum()) for name, (_, _, res) in runs.items()}
    assert sum(len(res) for _, _, res in runs.values()) == 140
    assert {k: v for k, v in untimed.items() if v} == {"Sentinel-3A": 1}
    sets, burns, res = runs["Sentinel-3A"]
    (k,) = np.flatnonzero(res.time_sigma_s > 86400.0)
    assert k not in measure(sets, res, burns)["false"]


def test_lower_noise_floors_trade_small_burns_for_false_alarms(runs, monkeypatch):
    """On the first six satellites, floors at a third and a tenth of their values find 157
    and 206 of the 331 listed burns below 0.1 m/s (54 at the defaults) at 13 and 37 false
    alarms (5): measured, not adopted (docs: the values would be chosen on these lists)."""
    import kizuna.detection.maneuvers as maneuvers

    six = [name for name in SATELLITES if name not in HELD_OUT]
    base = {k: getattr(maneuvers, k) for k in ("_FLOOR_A_KM", "_FLOOR_ANGLE_RAD", "_FLOOR_E",
                                               "_FLOOR_AT_KM")}
    got = []
    for scale in (1.0, 1.0 / 3.0, 0.1):
        for k, v in base.items():
            monkeypatch.setattr(maneuvers, k, v * scale)
        small = false = 0
        for name in six:
            sets, burns, _ = runs[name]
            m = measure(sets, detect_maneuvers(sets), burns)
            small += m["small_found"][0]
            false += len(m["false"])
        got.append((small, false))
    assert got == [(54, 5), (157, 13), (206, 37)]


def test_small_burns_after_a_raise_are_chained_into_its_event(runs):
    """Sentinel-3B's 0.12 and 0.16 m/s burns of 2018-11-22/23 show as pair steps of 116
    and 155 sigma, but the pair after the 2018-11-20 raise (settling, -0.13 km at 64 sigma)
    is a candidate too, and consecutive candidate pairs make one event: both are merged
    into the raise's, timed 2018-11-20 (a limit, docs)."""
    sets, burns, res = runs["Sentinel-3B"]
    pr = maneuver_residuals(sets)
    t0 = (pr.before_jd - 2451545.0) + pr.before_fr
    window = np.flatnonzero((t0 > 6897.5) & (t0 < 6901.0))
    z = [round(float(pr.residual[k, 0] / pr.sigma[k, 0]), 1) for k in window]
    assert z == [2036.0, -64.2, 115.6, 155.1]
    assert pr.residual[window[1], 0] == pytest.approx(-0.128, abs=0.001)
    small = [b["t"] for b in burns if 6900.0 < b["t"] < 6902.0]
    assert [round(b["dv_m_s"], 2) for b in burns if 6900.0 < b["t"] < 6902.0] == [0.12, 0.16]
    tb = (res.burn_jd - 2451545.0) + res.burn_fr
    assert all(np.min(np.abs(tb - x)) > 2.0 for x in small)
    assert np.any(np.abs(tb - 6898.14) < 0.05)


def test_pooled_false_alarm_rate_is_far_below_two_per_year(runs):
    """93.3 satellite-years, 26 false alarms (0.28 per year): 5 in the 41.5 years of the
    six first satellites, 21 in the 43.6 years of the four held out in the seventh
    session (0.48 per year), none in Envisat's 8.3 years, held out in the eighth (docs)."""
    group = {name: (2 if name in HELD_OUT_8 else 1 if name in HELD_OUT else 0)
             for name in SATELLITES}
    years = [0.0, 0.0, 0.0]
    n_false = [0, 0, 0]
    for name, (sets, burns, res) in runs.items():
        m = measure(sets, res, burns)
        years[group[name]] += m["years"]
        n_false[group[name]] += len(m["false"])
    assert years == pytest.approx([41.46, 43.57, 8.27], abs=0.01)
    assert n_false == [5, 21, 0]
    assert sum(n_false) / sum(years) < 0.3


def test_held_out_false_alarms_of_jason1_and_topex_are_mostly_element_set_steps(runs):
    """The 19 false alarms of Jason-1 and TOPEX/Poseidon (1,336 km, 66 degrees): 13 plane
    steps of 0.005-0.036 degrees with |delta-a| under 0.1 km, reported as 0.9-4.5 m/s
    out of plane; 4 eccentricity steps of 2.1-2.8e-4 with no change of a, in two
    up-and-back pairs 5-6 days apart (2004-11, 2008-05/06: a block of sets off in e); and 2
    small in-plane steps (+0.47 and -0.07 km). Neither satellite made plane changes or
    eccentricity changes of those sizes outside its listed maneuvers: these are steps of
    their 1990s-2000s element sets that persist over more than the 5 sets the step test
    compares (docs)."""
    kinds = {"plane": 0, "e": 0, "in-plane": 0}
    for name in ("Jason-1", "TOPEX"):
        sets, burns, res = runs[name]
        for k in measure(sets, res, burns)["false"]:
            if res.dv_out_of_plane_m_s[k] > res.dv_in_plane_m_s[k]:
                assert abs(res.delta_a_km[k]) < 0.1
                assert 0.005 <= res.plane_change_deg[k] <= 0.037
                kinds["plane"] += 1
            elif res.delta_e[k] > 2e-4:
                assert abs(res.delta_a_km[k]) < 0.01
                kinds["e"] += 1
            else:
                kinds["in-plane"] += 1
    assert kinds == {"plane": 13, "e": 4, "in-plane": 2}


ISOLATED = {  # measured: isolated detections matched within a day (in-plane, plane-led)
    "Sentinel-6A": (0, 0), "Sentinel-3B": (3, 12), "Sentinel-3A": (1, 19), "Jason-3": (0, 0),
    "SARAL": (13, 0), "CryoSat-2": (8, 0), "Jason-1": (0, 0), "Jason-2": (4, 0),
    "Haiyang-2A": (0, 0), "TOPEX": (9, 0), "Envisat": (0, 0),
}


def test_delta_v_and_burn_time_against_the_operator(case):
    """Each detection with exactly one listed burn within 3 days (and 3 days of history
    before it), that burn within a day: the estimated delta-v against the operator's, and
    the burn time. (Sentinel-6A's and Jason-3's burns come in campaigns.)"""
    name, sets, burns, res = case
    tb = (res.burn_jd - 2451545.0) + res.burn_fr
    t0 = min(s.epoch_jd - 2451545.0 + s.epoch_fr for s in sets)
    ratio, dt_in, dt_plane = [], [], []
    for k in range(len(res)):
        near = [b for b in burns if abs(b["t"] - tb[k]) <= 3.0]
        if len(near) != 1 or tb[k] - t0 <= 3.0 or abs(tb[k] - near[0]["t"]) > MATCH_DAYS:
            continue
        ratio.append(res.delta_v_m_s[k] / near[0]["dv_m_s"])
        plane = res.dv_out_of_plane_m_s[k] > res.dv_in_plane_m_s[k]
        (dt_plane if plane else dt_in).append(tb[k] - near[0]["t"])
    assert (len(dt_in), len(dt_plane)) == ISOLATED[name]
    sized = [x for x in ratio if not math.isnan(x)]  # TOPEX's list gives no delta-v
    # a lower bound of the impulse (docs): 14% below to 6% above the operator's, except
    # SARAL 2015-06-16, 0.07 d from a listed burn of 1 mm/s, where the sets show 28 mm/s
    odd = [x for x in sized if not 0.85 < x < 1.06]
    assert len(odd) == (1 if name == "SARAL" else 0)
    assert all(20.0 < x < 35.0 for x in odd)
    # in-plane: within 0.38 d (Sentinel-3B's and Jason-2's within 0.085 d)
    assert all(abs(x) < 0.38 for x in dt_in)
    if name in ("Sentinel-3B", "Jason-2"):
        assert all(abs(x) < 0.085 for x in dt_in)
    assert all(-0.3 < x < 0.65 for x in dt_plane)  # plane changes: the pair's midpoint


def test_a_single_outlier_set_in_real_history_is_stopped_by_the_step_test(data_dir):
    """SARAL's set of 2017-06-15 10:12 UTC (kept as published) is off in inclination,
    eccentricity and perigee while its neighbours agree; the next set returns. Comparing
    single sets (``step_sets=1``) flags its jump with a score of about 27, above the
    default threshold of 20; the step test (medians of 5 sets before and after) does not
    flag it even at a threshold of 4: one bad set moves two pair residuals, not the
    medians. (Before the seventh session's floor change it scored 10.4.)"""
    sets = sorted(read_catalog(data_dir / "tle-history" / SATELLITES["SARAL"][0]).element_sets,
                  key=lambda e: e.epoch)
    k = next(i for i, e in enumerate(sets) if e.epoch.strftime("%y%j.%H%M") == "17166.1012")
    before, bad, after = sets[k - 1], sets[k], sets[k + 1]
    assert abs(before.inclination_deg - after.inclination_deg) < 0.0005
    assert abs(bad.inclination_deg - after.inclination_deg) > 0.002
    assert bad.eccentricity > 1.3 * max(before.eccentricity, after.eccentricity)
    t_bad = bad.epoch_jd - 2451545.0 + bad.epoch_fr

    def nearest(z: float, **kw) -> tuple[float, float]:
        res = detect_maneuvers(sets, settings=ManeuverSettings(
            z_threshold=z, plane_z_threshold=1.5 * z, e_z_threshold=1.5 * z, **kw))
        d = np.abs((res.burn_jd - 2451545.0) + res.burn_fr - t_bad)
        return float(d.min()), float(res.score[np.argmin(d)])

    assert nearest(4.0)[0] > 5.0
    days, score = nearest(20.0, step_sets=1)
    assert days < 0.7  # the midpoint of the pair after the bad set
    assert 24.0 < score < 30.0  # measured 27.1


def test_isolated_inclination_burns_are_found_since_the_floor_change(data_dir):
    """Sentinel-3B's isolated 1.5 m/s inclination burns of 2018-12-12 and 2019-06-19 scored
    29.2-29.7 sigma against the plane threshold of 30 while the noise floor was multiplied
    by the gap factor (missed; docs). With the floor applied at the pair's gap they score
    70.3 and 65.3 (after the 20/30 scaling of plane scores) and are found, even at a plane
    threshold of 40; the second is timed 1.33 days after the burn, the pair's midpoint."""
    tle, man = SATELLITES["Sentinel-3B"]
    sets = read_catalog(data_dir / "tle-history" / tle).element_sets
    burns = [b for b in read_ids_maneuvers(data_dir / "tle-history" / man)
             if b["line"] in (25, 28)]
    assert [round(b["dv_m_s"], 2) for b in burns] == [1.53, 1.56]
    for z in (30.0, 40.0):
        res = detect_maneuvers(sets, settings=ManeuverSettings(plane_z_threshold=z))
        tb = (res.burn_jd - 2451545.0) + res.burn_fr
        near = [int(np.argmin(np.abs(tb - b["t"]))) for b in burns]
        gaps = [float(abs(tb[k] - b["t"])) for k, b in zip(near, burns, strict=True)]
        assert gaps[0] < 0.7 and 1.2 < gaps[1] < 1.4
        if z == 30.0:
            assert [round(float(res.score[k]), 1) for k in near] == [70.3, 65.3]


def _ids_burn_vectors(path: Path) -> list[tuple[float, np.ndarray]]:
    """(time, delta-v components) of every burn of an IDS file; the third component is
    the one normal to the orbit plane (Envisat's inclination burns have it alone)."""
    out = []
    for line in path.read_text(encoding="ascii").splitlines():
        f = line.split()
        for b in range(int(f[10])):
            g = f[11 + 15 * b: 11 + 15 * (b + 1)]
            out.append((_doy(*g[0:5]), np.array([float(x) for x in g[6:9]])))
    return out


def test_envisats_inclination_burns_are_spread_over_days_by_its_element_sets(runs, data_dir):
    """Envisat, held out in the eighth session: no false alarm in 8.3 years, but only 4 of
    its 32 burns >= 0.1 m/s are found, the four of the October 2010 orbit lowering
    (2.0-2.5 m/s along track). The other 28 are out-of-plane inclination burns of 0.23-2.28
    m/s and none is found: the 2004-2012 element sets take the plane change in over about
    five days, so no pair steps. The burn of 2004-02-04 05:52 UTC (1.75 m/s, a plane
    change of 0.0134 deg) shows as +0.0119 deg of inclination between the last set before
    it and the sets five days later; within six days after each of the 28, the largest
    pair plane score is 2.5-41.6 sigma, under the threshold of 30 for 27 (a limit, docs)."""
    sets, burns, res = runs["Envisat"]
    t = np.array([s.epoch_jd - 2451545.0 + s.epoch_fr for s in sets])
    big = [(x, dv) for x, dv in _ids_burn_vectors(data_dir / "tle-history"
                                                  / SATELLITES["Envisat"][1])
           if t.min() <= x <= t.max() and np.linalg.norm(dv) >= DETECTABLE_M_S]
    plane = [(x, dv) for x, dv in big if abs(dv[2]) > max(abs(dv[0]), abs(dv[1]))]
    in_plane = [(x, dv) for x, dv in big if abs(dv[2]) <= max(abs(dv[0]), abs(dv[1]))]
    assert (len(big), len(plane)) == (32, 28)
    assert 0.23 < min(np.linalg.norm(dv) for _, dv in plane) < 0.24
    assert 2.28 < max(np.linalg.norm(dv) for _, dv in plane) < 2.29
    tb = (res.burn_jd - 2451545.0) + res.burn_fr
    assert not any(np.any(np.abs(tb - x) <= MATCH_DAYS) for x, _ in plane)
    assert all(np.any(np.abs(tb - x) <= MATCH_DAYS) for x, _ in in_plane)
    assert all(2.0 < abs(dv[1]) < 2.5 for _, dv in in_plane)

    first = min(plane, key=lambda b: b[0])
    assert np.linalg.norm(first[1]) == pytest.approx(1.747, abs=0.001)
    v_m_s = 1000.0 * math.sqrt(398600.4418 / 7160.0)  # near-circular at about 780 km
    assert math.degrees(np.linalg.norm(first[1]) / v_m_s) == pytest.approx(0.0134, abs=0.0003)
    inc = np.array([s.inclination_deg for s in sets])
    k0 = int(np.flatnonzero(t < first[0]).max())
    k5 = int(np.flatnonzero(t > first[0] + 5.0).min())
    assert inc[k5] - inc[k0] == pytest.approx(0.0119, abs=0.0002)

    pr = maneuver_residuals(sets)
    t0 = (pr.before_jd - 2451545.0) + pr.before_fr
    t1 = (pr.after_jd - 2451545.0) + pr.after_fr
    zp = np.sqrt(np.sum((pr.residual[:, 1:4] / pr.sigma[:, 1:4]) ** 2, axis=1))
    peak = sorted(float(zp[(t1 > x) & (t0 < x + 6.0)].max()) for x, _ in plane)
    assert peak[0] == pytest.approx(2.5, abs=0.05) and peak[-1] == pytest.approx(41.6, abs=0.05)
    assert sum(p < 30.0 for p in peak) == 27


def test_kind_agrees_with_the_operators_burn_direction(runs, data_dir):
    """``kind`` against the direction of the listed burns within a day of each detection
    (summed; the components read as radial, along-track, normal, the order Envisat's
    inclination burns and the Sentinel-3 plane changes confirm): the 31 detections of
    plane changes (all Sentinel-3A and 3B) are all "plane", the 71 of in-plane burns all
    "raise" or "lower", following the sign of the along-track component. Left out: TOPEX
    (no components listed) and two Jason-1 detections of 2010-07 whose nearby burns sum to
    zero (pairs of 0, 0, -2.45 and 0, 0, +2.45 m/s: that file's frame is not known)."""
    plane = in_plane = signed = 0
    plane_sats = set()
    for name, (sets, _, res) in runs.items():
        if name == "TOPEX":
            continue
        vectors = _ids_burn_vectors(data_dir / "tle-history" / SATELLITES[name][1])
        tb = (res.burn_jd - 2451545.0) + res.burn_fr
        for k in range(len(res)):
            near = [dv for x, dv in vectors if abs(x - tb[k]) <= MATCH_DAYS]
            if not near or not np.any(sum(near)):
                continue
            radial, along, normal = sum(near)
            if abs(normal) > math.hypot(radial, along):
                assert res.kind[k] == "plane", (name, k)
                plane += 1
                plane_sats.add(name)
            else:
                assert res.kind[k] in ("raise", "lower"), (name, k)
                in_plane += 1
                if along != 0.0:
                    assert (res.kind[k] == "raise") == (along > 0.0), (name, k)
                    signed += 1
    assert (plane, in_plane, signed) == (31, 71, 71)
    every = set(np.concatenate([res.kind for _, _, res in runs.values()]).tolist())
    assert every == {"raise", "lower", "eccentricity", "plane"} <= set(MANEUVER_KINDS)
    assert plane_sats == {"Sentinel-3A", "Sentinel-3B"}


if __name__ == "__main__":  # docs table: .venv/bin/python tests/detection/<this file>
    data = Path(__file__).resolve().parents[1] / "data" / "tle-history"
    for name in SATELLITES:
        s, bl, res = _run(data, name)
        m = measure(s, res, bl)
        print(f"{name}: {m['n_sets']} sets over {m['years']:.2f} yr; {m['n_burns']} listed burns "
              f"inside; found within +/-{MATCH_DAYS:g} d: dv >= {DETECTABLE_M_S} m/s "
              f"{m['big_found'][0]}/{m['big_found'][1]}, smaller {m['small_found'][0]}/"
              f"{m['small_found'][1]}; detections {m['n_detections']}, false alarms "
              f"{len(m['false'])} ({m['false_per_year']:.1f}/yr)")
        tb = (res.burn_jd - 2451545.0) + res.burn_fr
        rows = res.rows()
        for k, r in enumerate(rows):
            near = min(bl, key=lambda b: abs(b["t"] - tb[k]))
            print(f"    {r['time_utc'][:16]}  da {r['delta_a_km']:>8} km  dv {r['delta_v_m_s']:>7} "
                  f"m/s  score {r['score']:>7}  nearest listed burn {tb[k] - near['t']:+.2f} d "
                  f"({near['dv_m_s']:.3f} m/s)")
        t = np.array([e.epoch_jd - 2451545.0 + e.epoch_fr for e in s])
        inside = [b for b in bl if t.min() <= b["t"] <= t.max()]
        small = [b["dv_m_s"] for b in inside if b["dv_m_s"] < DETECTABLE_M_S]
        if small:
            print(f"  listed burns below {DETECTABLE_M_S} m/s: median {np.median(small):.4f} m/s")
        for b in inside:
            gap = float(np.min(np.abs(tb - b["t"]))) if len(tb) else np.inf
            if b["dv_m_s"] >= DETECTABLE_M_S and gap > MATCH_DAYS:
                when = J2000 + timedelta(days=b["t"])
                k = int(np.searchsorted(t, b["t"]))
                print(f"  missed {when:%Y-%m-%d %H:%M} {b['dv_m_s']:.2f} m/s: nearest detection "
                      f"{gap:.1f} d, set gap across the burn {t[k] - t[k - 1]:.2f} d")
