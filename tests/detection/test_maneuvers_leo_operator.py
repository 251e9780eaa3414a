"""Maneuver detection on LEO histories against complete operator maneuver files.

Six satellites: Sentinel-6A and Jason-3 (1,336 km, non-sun-synchronous), Sentinel-3A and
Sentinel-3B (about 800 km, sun-synchronous), SARAL (about 790 km, sun-synchronous) and
CryoSat-2 (about 720 km, 92 degrees): TLE histories and the maneuver files the operators
publish through the International DORIS
Service for precise orbit determination, which list every burn with its time, duration and
delta-v (copied unchanged from the benchmark data set of Shorten et al.; DATA_SOURCES.md).
Unlike the ISS lists compiled from press reports, these lists are complete, so a detection
far from every listed burn is a false alarm. Most listed burns are tiny (a few mm/s), far
below what element sets can show; recall is therefore reported against the burn size.

Nothing of :mod:`kizuna.detection.maneuvers` was chosen on these data. The numbers asserted
are the ones measured on the first run with the defaults, recorded as measured, not as
targets (docs/design/maneuvers.md, "LEO: six satellites against complete operator files").
Sentinel-6A and Sentinel-3B were added in the fifth session, the other four in the sixth,
each measured once, with the detector unchanged since.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from kizuna.catalog.reader import read_catalog
from kizuna.detection.maneuvers import ManeuverSettings, detect_maneuvers

SATELLITES = {
    "Sentinel-6A": ("sentinel-6a_46984_tle_2020-2022.txt.gz", "ids_maneuvers_s6a.txt"),
    "Sentinel-3B": ("sentinel-3b_43437_tle_2018-2022.txt.gz", "ids_maneuvers_s3b.txt"),
    "Sentinel-3A": ("sentinel-3a_41335_tle_2016-2022.txt.gz", "ids_maneuvers_s3a.txt"),
    "Jason-3": ("jason-3_41240_tle_2016-2022.txt.gz", "ids_maneuvers_ja3.txt"),
    "SARAL": ("saral_39086_tle_2013-2022.txt.gz", "ids_maneuvers_srl.txt"),
    "CryoSat-2": ("cryosat-2_36508_tle_2010-2022.txt.gz", "ids_maneuvers_cs2.txt"),
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


def measure(sets, result, burns, window_d: float = MATCH_DAYS) -> dict:
    t = np.array([s.epoch_jd - 2451545.0 + s.epoch_fr for s in sets])
    inside = [b for b in burns if t.min() <= b["t"] <= t.max()]
    tb = (result.burn_jd - 2451545.0) + result.burn_fr
    tl = np.array([b["t"] for b in inside])
    found = [bool(np.any(np.abs(tb - b["t"]) <= window_d)) for b in inside]
    big = [b["dv_m_s"] >= DETECTABLE_M_S for b in inside]
    matched = np.array([np.any(np.abs(tl - x) <= window_d) for x in tb], dtype=bool)
    years = (t.max() - t.min()) / 365.25
    return {
        "n_sets": len(sets), "years": years, "n_burns": len(inside),
        "big_found": (sum(f for f, g in zip(found, big, strict=True) if g), sum(big)),
        "small_found": (sum(f for f, g in zip(found, big, strict=True) if not g),
                        len(big) - sum(big)),
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
    return sets, read_ids_maneuvers(data / man), detect_maneuvers(sets)


MEASURED = {  # first run, defaults: (big found, big), (small found, small), detections, false
    "Sentinel-6A": ((2, 6), (0, 8), 2, 0),
    "Sentinel-3B": ((24, 29), (0, 28), 19, 0),
    "Sentinel-3A": ((19, 26), (0, 36), 18, 0),
    "Jason-3": ((13, 26), (0, 27), 7, 1),
    "SARAL": ((2, 7), (2, 48), 5, 1),
    "CryoSat-2": ((2, 2), (29, 184), 10, 1),
}


def test_operator_files_parse_into_every_burn(data_dir):
    counts = {}
    for name, (_, man) in SATELLITES.items():
        burns = read_ids_maneuvers(data_dir / "tle-history" / man)
        counts[name] = (len({b["line"] for b in burns}), len(burns))
        assert all(b["duration_s"] > 0 and b["dv_m_s"] > 0 for b in burns)
    assert counts == {"Sentinel-6A": (18, 19), "Sentinel-3B": (56, 64),
                      "Sentinel-3A": (64, 70), "Jason-3": (43, 58), "SARAL": (62, 62),
                      "CryoSat-2": (168, 190)}


def test_recall_and_false_alarms_against_complete_operator_lists(case):
    name, sets, burns, res = case
    m = measure(sets, res, burns)
    big, small, n_det, n_false = MEASURED[name]
    assert (m["big_found"], m["small_found"], m["n_detections"], len(m["false"])) == (
        big, small, n_det, n_false)
    # each false alarm lies within 3 days of a listed burn (campaigns, commissioning)
    tb = (res.burn_jd - 2451545.0) + res.burn_fr
    for k in m["false"]:
        assert min(abs(b["t"] - tb[k]) for b in burns) < 3.0, (name, k)


def test_pooled_false_alarm_rate_is_far_below_two_per_year(runs):
    """41.5 satellite-years, 3 false alarms (0.07 per year; docs)."""
    years = n_false = 0.0
    for sets, burns, res in runs.values():
        m = measure(sets, res, burns)
        years += m["years"]
        n_false += len(m["false"])
    assert years == pytest.approx(41.46, abs=0.01)
    assert n_false == 3


ISOLATED = {  # measured: isolated detections matched within a day (in-plane, plane-led)
    "Sentinel-6A": (0, 0), "Sentinel-3B": (2, 11), "Sentinel-3A": (0, 17), "Jason-3": (0, 0),
    "SARAL": (3, 0), "CryoSat-2": (0, 0),
}


def test_delta_v_and_burn_time_against_the_operator(case):
    """Each detection with exactly one listed burn within 3 days (and 3 days of history
    before it), that burn within a day: the estimated delta-v against the operator's, and
    the burn time. (Sentinel-6A's and Jason-3's burns come in campaigns; CryoSat-2's only
    isolated detection is its false alarm.)"""
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
    # a lower bound of the impulse (docs): 6.3% below to 2.1% above the operator's
    assert all(0.93 < x < 1.03 for x in ratio)
    # in-plane: within 40 minutes (Sentinel-3B's within 20), except SARAL's 2013-03-13 burn,
    # placed 7 hours late
    assert all(abs(x) < 0.31 for x in dt_in)
    assert sum(abs(x) < 0.03 for x in dt_in) >= len(dt_in) - 1
    assert all(0.05 < x < 0.65 for x in dt_plane)  # plane changes: the pair's midpoint


def test_a_single_outlier_set_in_real_history_is_stopped_by_the_step_test(data_dir):
    """SARAL's set of 2017-06-15 10:12 UTC (kept as published) is off in inclination,
    eccentricity and perigee while its neighbours agree; the next set returns. Its jump
    scores about 10, half the default threshold of 20. Even at a threshold of 4 the
    step test (medians of 5 sets before and after) does not flag it, while comparing
    single sets (``step_sets=1``) does: one bad set moves two pair residuals, not the
    medians."""
    sets = sorted(read_catalog(data_dir / "tle-history" / SATELLITES["SARAL"][0]).element_sets,
                  key=lambda e: e.epoch)
    k = next(i for i, e in enumerate(sets) if e.epoch.strftime("%y%j.%H%M") == "17166.1012")
    before, bad, after = sets[k - 1], sets[k], sets[k + 1]
    assert abs(before.inclination_deg - after.inclination_deg) < 0.0005
    assert abs(bad.inclination_deg - after.inclination_deg) > 0.002
    assert bad.eccentricity > 1.3 * max(before.eccentricity, after.eccentricity)
    t_bad = bad.epoch_jd - 2451545.0 + bad.epoch_fr

    def nearest(**kw) -> tuple[float, float]:
        res = detect_maneuvers(sets, settings=ManeuverSettings(
            z_threshold=4.0, plane_z_threshold=6.0, e_z_threshold=6.0, **kw))
        d = np.abs((res.burn_jd - 2451545.0) + res.burn_fr - t_bad)
        return float(d.min()), float(res.score[np.argmin(d)])

    assert nearest()[0] > 5.0
    days, score = nearest(step_sets=1)
    assert days < 0.5
    assert 8.0 < score < 13.0  # measured 10.4: under the default threshold of 20


def test_the_two_missed_inclination_burns_lie_just_below_the_plane_threshold(data_dir):
    """Sentinel-3B's isolated 1.5 m/s inclination burns of 2018-12-12 and 2019-06-19 are
    missed at the default plane threshold (30) and found at 29, the second timed 1.3 days
    after the burn: their plane steps score 29-30 sigma (docs)."""
    tle, man = SATELLITES["Sentinel-3B"]
    sets = read_catalog(data_dir / "tle-history" / tle).element_sets
    burns = [b for b in read_ids_maneuvers(data_dir / "tle-history" / man)
             if b["line"] in (25, 28)]
    assert [round(b["dv_m_s"], 2) for b in burns] == [1.53, 1.56]
    for z, far in ((30.0, True), (29.0, False)):
        res = detect_maneuvers(sets, settings=ManeuverSettings(plane_z_threshold=z))
        tb = (res.burn_jd - 2451545.0) + res.burn_fr
        gaps = [float(np.min(np.abs(tb - b["t"]))) for b in burns]
        if far:
            assert min(gaps) > 10.0
        else:
            assert gaps[0] < 0.7 and 1.0 < gaps[1] < 1.4


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
