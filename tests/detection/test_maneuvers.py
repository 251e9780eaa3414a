"""Maneuver detection: ISS 2020-2024 against the published reboosts, synthetic GEO
station keeping, and bad or sparse histories.

The ISS numbers asserted here are the ones recorded in docs/design/maneuvers.md
(command: ``.venv/bin/python bench/bench_maneuvers.py --validate-only``).
"""

from __future__ import annotations

import csv
import math
import random
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import pytest

from kizuna.catalog.elements import ElementSet
from kizuna.catalog.reader import read_catalog
from kizuna.catalog.tle import parse_tle
from kizuna.detection.maneuvers import (
    MANEUVER_CSV_COLUMNS,
    ElementHistory,
    ManeuverError,
    ManeuverSettings,
    detect_maneuvers,
)

J2000 = datetime(2000, 1, 1, 12)


@pytest.fixture(scope="module")
def iss_result(iss_sets):
    return detect_maneuvers(iss_sets)


def _published(data_dir):
    rows = []
    with open(data_dir / "tle-history" / "iss_reboosts_published_2020-2025.csv") as f:
        for r in csv.DictReader(f):
            s = r["burn_start_utc"]
            when = datetime.fromisoformat(s if "T" in s else s + "T12:00")
            if when.year <= 2024:
                rows.append((when, r))
    return rows


def _days(dt: datetime) -> float:
    return (dt - J2000).total_seconds() / 86400.0


def _burn_days(result) -> np.ndarray:
    return (result.burn_jd - 2451545.0) + result.burn_fr


def test_iss_every_published_reboost_detected_within_one_day(iss_result, data_dir):
    rows = _published(data_dir)
    assert len(rows) == 19  # 15 "actual" + 4 "planned" in 2020-2024
    tb = _burn_days(iss_result)
    for when, row in rows:
        gap = np.min(np.abs(tb - _days(when)))
        assert gap <= 1.0, f"published {row['status']} burn {when} not detected (nearest {gap:.2f} d)"
    actual = [w for w, r in rows if r["status"].startswith("actual")]
    assert len(actual) == 15


def test_iss_burn_time_and_delta_v_against_published(iss_result, data_dir):
    tb = _burn_days(iss_result)
    errors_h = []
    for when, row in _published(data_dir):
        if "T" not in row["burn_start_utc"]:
            continue  # date only
        mid = when + timedelta(seconds=float(row["burn_duration_s"] or 0) / 2)
        k = int(np.argmin(np.abs(tb - _days(mid))))
        errors_h.append(abs(tb[k] - _days(mid)) * 24)
        if row["delta_v_mps"] and row["burn_start_utc"][:10] not in ("2022-03-11", "2022-09-15",
                                                                      "2023-11-09", "2023-03-14"):
            # Published dv vs n*da/2; the excluded rows: announced values that the
            # TLEs contradict (README check) or a second burn merged in (2023-11-09).
            assert iss_result.delta_v_m_s[k] == pytest.approx(float(row["delta_v_mps"]), rel=0.1)
        if row["mean_altitude_change_km"] and row["burn_start_utc"][:10] not in (
                "2022-08-10", "2022-09-15", "2023-11-09"):
            assert iss_result.delta_a_km[k] == pytest.approx(
                float(row["mean_altitude_change_km"]), abs=0.3)
    # Measured: median 0.68 h, worst 4.3 h (2021-03-12, a planned-only row).
    assert np.median(errors_h) < 1.0
    assert max(errors_h) < 6.0


def test_iss_false_alarms_per_year(iss_result, data_dir):
    """Unmatched detections, and those that do not look like a burn (|da| < 0.2 km)."""
    refs = np.array([_days(w) for w, _ in _published(data_dir)])
    tb = _burn_days(iss_result)
    matched = np.min(np.abs(tb[:, None] - refs[None, :]), axis=1) <= 1.0
    unmatched = ~matched
    small = np.abs(iss_result.delta_a_km) < 0.2
    years = 5.0
    # Measured (docs/design/maneuvers.md): 85 detections, 19 matched, 66 unmatched of
    # which 57 are clean steps >= 0.2 km (ISS burns missing from the list) and 9 small.
    assert len(iss_result) == 85
    assert int(matched.sum()) == 19
    assert int((unmatched & ~small).sum()) == 57
    assert int((unmatched & small).sum()) / years <= 2.0


def test_iss_kind_follows_the_published_direction(iss_result, data_dir):
    """The 19 detections of the published reboosts are all "raise". Against the second
    list's rows that give a signed altitude change: 30 detections of raises are "raise",
    5 of lowerings "lower" (15 more detections match only rows without a size)."""
    tb = _burn_days(iss_result)
    ref = np.array([_days(w) for w, _ in _published(data_dir)])
    first = np.min(np.abs(tb[:, None] - ref[None, :]), axis=1) <= 1.0
    assert first.sum() == 19 and set(iss_result.kind[first].tolist()) == {"raise"}
    rows = [r for _, r in _additional(data_dir)]
    ref2 = np.array([_days(w) for w, _ in _additional(data_dir)])
    got = {"+": [0, 0], "-": [0, 0]}
    for k in range(len(iss_result)):
        signs = {rows[j]["mean_altitude_change_km"].lstrip("~")[0]
                 for j in np.flatnonzero(np.abs(ref2 - tb[k]) <= 1.0)
                 if rows[j]["mean_altitude_change_km"]}
        if len(signs) == 1:
            (sign,) = signs
            got[sign][0] += iss_result.kind[k] == ("raise" if sign == "+" else "lower")
            got[sign][1] += 1
    assert got == {"+": [30, 30], "-": [5, 5]}


# ------------------------------------------------------------------ second public list

ADDITIONAL = "iss_orbit_changes_additional_2020-2024.csv"
YEARS = 5.0  # 2020-01-01 .. 2024-12-31
MATCH_DAYS = 1.0


def _additional(data_dir):
    """Orbit changes of the second list, without the aborted 5-second firing (no orbit change)."""
    rows = []
    with open(data_dir / "tle-history" / ADDITIONAL, encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["status"] == "aborted":
                continue
            s = r["burn_start_utc"]
            rows.append((datetime.fromisoformat(s if "T" in s else s + "T12:00"), r))
    return rows


def union_measurement(result, first, additional):
    """Detections against the published list and the union of both lists (docs table).

    ``first`` and ``additional`` are ``(datetime, row)`` lists; an event is detected
    and a detection matched when they are within ``MATCH_DAYS``.
    """
    tb = _burn_days(result)
    ref_first = np.array([_days(w) for w, _ in first])
    ref_union = np.array([_days(w) for w, _ in first + additional])
    gap_event = np.min(np.abs(tb[:, None] - ref_union[None, :]), axis=0)
    matched_first = np.min(np.abs(tb[:, None] - ref_first[None, :]), axis=1) <= MATCH_DAYS
    matched_union = np.min(np.abs(tb[:, None] - ref_union[None, :]), axis=1) <= MATCH_DAYS
    small = np.abs(result.delta_a_km) < 0.2
    rows = first + additional
    return {
        "n_detections": len(result),
        "n_events_first": len(first),
        "n_events_additional": len(additional),
        "missed_events": [rows[k] for k in np.flatnonzero(gap_event > MATCH_DAYS)],
        "unmatched_first": int((~matched_first).sum()),
        "explained_by_additional": int((matched_union & ~matched_first).sum()),
        "unmatched_union": np.flatnonzero(~matched_union),
        "unmatched_union_small": int((~matched_union & small).sum()),
        "unmatched_union_large": int((~matched_union & ~small).sum()),
    }


def test_iss_additional_list_rows_have_a_source_and_say_whether_the_time_is_known(data_dir):
    with open(data_dir / "tle-history" / ADDITIONAL, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows
    for r in rows:
        assert r["source_url"].startswith(("https://", "http://")), r
        assert r["time_given"] in ("time", "date only"), r
        assert ("T" in r["burn_start_utc"]) == (r["time_given"] == "time"), r
        assert 2020 <= datetime.fromisoformat(r["burn_start_utc"][:10]).year <= 2024, r
        assert r["status"] in ("actual", "planned (announcement)", "aborted"), r


def test_iss_both_public_lists_against_the_detections(iss_result, data_dir):
    """The second list explains most detections the first list leaves unmatched.

    Measured (docs/design/maneuvers.md): 70 of the 72 events of both lists detected
    within a day; the misses are the 2023-08-06 debris avoidance (196 s, +0.5 km), a
    step at the detection limit of the 2023 noise (20 sigma of about 20 m per set
    pair), and the 2024-11-25 one (+0.5 km, across a 20.5-hour gap: 12.9 sigma).
    Of the 66 detections the first list leaves unmatched, 49 fall on a second-list
    event; 17 remain (3.4 per year): 8 orbit raises of 0.9-5 km and 9 steps under
    0.2 km.
    """
    m = union_measurement(iss_result, _published(data_dir), _additional(data_dir))
    n_events = m["n_events_first"] + m["n_events_additional"]
    # recall: only burns at the detection limit (reported change <= 0.5 km) may be missed
    assert len(m["missed_events"]) <= 0.05 * n_events
    for _, row in m["missed_events"]:
        assert row["mean_altitude_change_km"], f"missed {row['burn_start_utc']} of unknown size"
        assert abs(float(row["mean_altitude_change_km"])) <= 0.5, row["burn_start_utc"]
    # most of the first list's unmatched detections are events of the second list
    assert m["explained_by_additional"] >= 0.7 * m["unmatched_first"]
    # false alarms against the union: still above the 2/yr target (said so in the docs)
    assert len(m["unmatched_union"]) / YEARS <= 3.5
    assert m["unmatched_union_small"] / YEARS <= 2.0
    # what is left at >= 0.2 km looks like unlisted reboosts: every one raises the orbit
    # and has a burn time fixed to better than an hour by its along-track residual
    for k in m["unmatched_union"]:
        if abs(iss_result.delta_a_km[k]) >= 0.2:
            assert iss_result.delta_a_km[k] > 0.0, k
            assert iss_result.time_sigma_s[k] < 3600.0, k


def test_iss_history_is_order_and_duplicate_insensitive(iss_sets, iss_result):
    sets = list(iss_sets[:3000])
    base = detect_maneuvers(sets).csv_text()
    shuffled = sets[:]
    random.Random(1).shuffle(shuffled)
    assert detect_maneuvers(shuffled).csv_text() == base
    doubled = sets + [replace(s) for s in sets[::7]]  # re-issued copies
    res = detect_maneuvers(doubled)
    assert res.csv_text() == base
    assert res.n_duplicates == len(sets[::7]) + detect_maneuvers(sets).n_duplicates


def test_csv_contract(iss_result, tmp_path):
    out = tmp_path / "m.csv"
    n = iss_result.to_csv(out)
    lines = out.read_text().splitlines()
    assert lines[0].split(",")[:4] == ["norad_id", "time_utc", "delta_a_km", "delta_v_m_s"]
    assert tuple(lines[0].split(",")) == MANEUVER_CSV_COLUMNS
    assert n == len(lines) - 1 == len(iss_result)
    first = lines[1].split(",")
    assert first[0] == "25544"
    assert len(first[1]) == 24 and first[1].endswith("Z") and first[1][19] == "."


# ------------------------------------------------------------------ bad input


def _iss_like(n=10, start=2458849.5, step=0.2, **kw):
    return [ElementSet(norad_id=kw.get("norad_id", 25544), epoch_jd=start, epoch_fr=k * step,
                       mean_motion_rev_day=15.5, eccentricity=0.0005, inclination_deg=51.64,
                       raan_deg=100.0, arg_perigee_deg=90.0, mean_anomaly_deg=10.0)
            for k in range(n)]


def test_empty_single_and_wrong_input_give_clear_errors():
    with pytest.raises(ManeuverError, match="no element sets"):
        detect_maneuvers([])
    one = _iss_like(1)
    with pytest.raises(ManeuverError, match="25544.*1 usable element set"):
        detect_maneuvers(one, norad_id=25544)
    with pytest.raises(ManeuverError, match="has no element sets"):
        detect_maneuvers(one, norad_id=99999)
    with pytest.raises(ManeuverError, match="not a file name"):
        detect_maneuvers("history.txt")  # type: ignore[arg-type]
    with pytest.raises(ManeuverError, match="ElementSet"):
        detect_maneuvers([1, 2, 3])  # type: ignore[list-item]
    with pytest.raises(ManeuverError):
        ManeuverSettings(z_threshold=0)


def test_sparse_objects_are_skipped_not_fatal():
    sets = _iss_like(2, norad_id=1) + _iss_like(8, norad_id=2)
    res = detect_maneuvers(sets)
    assert res.skipped == {1: "2 usable element set(s) after removing duplicates and invalid "
                               "sets; need 5"}
    assert res.n_objects == 1 and len(res) == 0


def test_a_history_whose_every_object_is_too_short_is_an_empty_result():
    """Every object skipped (none named): an empty result listing them, not a crash
    (it raised IndexError until the seventh session)."""
    res = detect_maneuvers(_iss_like(2, norad_id=1) + _iss_like(4, norad_id=2))
    assert len(res) == 0 and res.n_objects == 0 and res.n_sets_used == 0
    assert sorted(res.skipped) == [1, 2]
    assert res.span_norad_id.size == res.span_first_day.size == res.span_last_day.size == 0


def test_invalid_sets_and_gaps_are_counted():
    sets = _iss_like(12)
    sets[3] = replace(sets[3], eccentricity=1.5)
    sets[5] = replace(sets[5], mean_motion_rev_day=0.0)
    sets += [replace(s, epoch_jd=s.epoch_jd + 40.0) for s in _iss_like(6)]
    res = detect_maneuvers(sets)
    assert res.n_invalid == 2
    assert res.n_gaps == 1
    assert res.n_sets_used == 16


def test_spans_are_the_first_and_last_usable_set_of_each_analysed_object():
    """What proximity uses to tell "no maneuver" from "not looked at"."""
    a = _iss_like(9, norad_id=7, start=2458849.5)
    a[0] = replace(a[0], eccentricity=1.5)  # invalid: the span starts at the second set
    a.append(replace(a[-1], epoch_fr=a[-1].epoch_fr + 10.0 / 86400.0))  # duplicate, later
    b = _iss_like(6, norad_id=3, start=2458900.5, step=0.5)
    sparse = _iss_like(3, norad_id=5)
    res = detect_maneuvers(list(reversed(a)) + sparse + b)
    assert res.span_norad_id.tolist() == [3, 7]  # 5 is skipped
    j2000 = 2451545.0
    assert res.span_first_day.tolist() == pytest.approx(
        [b[0].epoch_jd - j2000 + b[0].epoch_fr, a[1].epoch_jd - j2000 + a[1].epoch_fr],
        abs=1e-9)
    assert res.span_last_day.tolist() == pytest.approx(
        [b[-1].epoch_jd - j2000 + b[-1].epoch_fr, a[-1].epoch_jd - j2000 + a[-1].epoch_fr],
        abs=1e-9)


# ------------------------------------------------------------------ synthetic GEO

# INTELSAT 901 in tests/data/catalogs/spacetrack_3le_full_2023-09-09.txt.gz.
GEO_TLE = ("1 26824U 01024A   23247.76627722 -.00000214  00000-0  00000+0 0  9993",
           "2 26824   0.0453 272.4504 0000661 295.3934  24.1326  1.00271292 81391")
MU = 398600.8


def _synthetic_geo(seed=0, days=360):
    """Daily sets of a station-kept GEO satellite with known burns and TLE-like noise.

    Truth: the real INTELSAT 901 set, mean elements moved by J2 secular rates
    and a lunisolar inclination drift of 0.85 deg/year; east-west burns every
    14 days (tangential, 0.15-0.3 m/s, alternating sign; the detection limit is
    z_threshold * sqrt(2) * sigma_a * n / 2 = 20 * 0.14 km * n / 2 = 0.10 m/s, and
    burns of 0.10-0.11 m/s were indeed missed with another draw), north-south burns
    every 28 days (0.03-0.05 deg). Noise per set (1 sigma): a 0.1 km,
    inclination vector 2e-4 deg, eccentricity vector 1e-5, mean longitude
    0.002 deg; epochs jittered by +-0.2 d.
    """
    base = parse_tle("\n".join(GEO_TLE)).element_sets[0]
    rng = np.random.default_rng(seed)
    n0 = base.mean_motion_rev_day * 2 * math.pi / 86400
    a0 = (MU / n0**2) ** (1 / 3)
    burns = []
    for k, day in enumerate(np.arange(7.3, days, 14.0)):
        dv = rng.uniform(0.15, 0.3) * (1 if k % 2 else -1)
        burns.append((day, "EW", dv))
    for day in np.arange(14.6 + 3.1, days, 28.0):
        burns.append((day, "NS", rng.uniform(0.03, 0.05)))
    burns.sort()
    # integrate truth along a fine time line in mean elements (drift-free longitude)
    epochs = np.sort(np.arange(0.5, days, 1.0) + rng.uniform(-0.2, 0.2, int(days - 0.5) + 1)[:len(np.arange(0.5, days, 1.0))])
    a, i_deg, ex, ey = a0, base.inclination_deg, 6.6e-5, 0.0
    raan = base.raan_deg
    lam = 0.0  # mean longitude (deg) relative to the start
    t_prev = 0.0
    sets = []
    bi = 0
    for te in epochs:
        while bi < len(burns) and burns[bi][0] <= te:
            tb, kind, x = burns[bi]
            n = math.sqrt(MU / a**3)
            lam += math.degrees(n) * (tb - t_prev) * 86400
            i_deg += 0.85 / 365.25 * (tb - t_prev)
            t_prev = tb
            if kind == "EW":
                v = n * a
                a += 2 * x / 1000 / n
                theta = rng.uniform(0, 2 * math.pi)
                ex += 2 * x / 1000 / v * math.cos(theta)
                ey += 2 * x / 1000 / v * math.sin(theta)
            else:
                i_deg -= x
            bi += 1
        n = math.sqrt(MU / a**3)
        lam += math.degrees(n) * (te - t_prev) * 86400
        i_deg += 0.85 / 365.25 * (te - t_prev)
        t_prev = te
        a_obs = a + rng.normal(0, 0.1)
        n_obs = math.sqrt(MU / a_obs**3) * 86400 / (2 * math.pi)
        e_x, e_y = ex + rng.normal(0, 1e-5), ey + rng.normal(0, 1e-5)
        ecc = math.hypot(e_x, e_y)
        argp = math.degrees(math.atan2(e_y, e_x)) % 360
        inc = abs(i_deg + rng.normal(0, 2e-4))
        lam_obs = lam + rng.normal(0, 0.002)
        mean_anom = (lam_obs - argp - raan + base.mean_anomaly_deg) % 360
        jd = base.epoch_jd + math.floor(base.epoch_fr + te)
        sets.append(replace(base, epoch_jd=jd, epoch_fr=(base.epoch_fr + te) % 1.0,
                            mean_motion_rev_day=n_obs, eccentricity=ecc, inclination_deg=inc,
                            arg_perigee_deg=argp, mean_anomaly_deg=mean_anom, raan_deg=raan,
                            tle_line1=None, tle_line2=None, mean_motion_dot=0.0))
    t0 = base.epoch_jd - 2451545.0 + base.epoch_fr
    return sets, [(t0 + d, kind, x) for d, kind, x in burns]


def test_geo_station_keeping_synthetic():
    sets, burns = _synthetic_geo()
    res = detect_maneuvers(sets)
    tb = _burn_days(res)
    assert set(res.regime.tolist()) == {"GEO"}
    found = 0
    for when, kind, x in burns:
        d = np.abs(tb - when)
        k = int(np.argmin(d))
        assert d[k] <= 1.0, f"{kind} burn at day {when:.1f} ({x}) missed"
        found += 1
        if kind == "EW":
            assert res.dv_in_plane_m_s[k] == pytest.approx(abs(x), rel=0.2, abs=0.02)
        else:
            assert abs(res.delta_i_deg[k]) == pytest.approx(x, abs=0.005)
            v = math.sqrt(MU / 42164.0) * 1000
            assert res.dv_out_of_plane_m_s[k] == pytest.approx(v * math.radians(x), rel=0.15)
    # no detection away from a burn
    far = np.min(np.abs(tb[:, None] - np.array([b[0] for b in burns])[None, :]), axis=1) > 1.0
    assert int(far.sum()) == 0
    assert found == len(burns)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_learned_noise_recovers_the_injected_noise(seed):
    # 0.1 km per set makes the pair difference 0.1 * sqrt(2) km; at the ~1-day spacing the
    # GEO gap factor sqrt(1 + (dt / 3 d)^2) adds about 5 %
    sets, _ = _synthetic_geo(seed=seed)
    res = detect_maneuvers(sets)
    expected = 0.1 * math.sqrt(2.0) * math.sqrt(1.0 + (1.0 / 3.0) ** 2)
    assert res.span_norad_id.tolist() == [sets[0].norad_id]
    assert res.span_sigma_a_km[0] == pytest.approx(expected, rel=0.2)


def test_history_arrays_match_element_sets(iss_sets):
    h = ElementHistory.from_element_sets(iss_sets[:50])
    assert len(h) == 50
    assert detect_maneuvers(h).csv_text() == detect_maneuvers(iss_sets[:50]).csv_text()
    with pytest.raises(ManeuverError, match="same length"):
        ElementHistory(h.norad_id, h.epoch_jd[:3], *(getattr(h, f) for f in list(
            h.__dataclass_fields__)[2:]))


def _print_union_table(res, data) -> None:
    m = union_measurement(res, _published(data), _additional(data))
    n_events = m["n_events_first"] + m["n_events_additional"]
    print(f"detections {m['n_detections']}; events: first list {m['n_events_first']}, "
          f"second list {m['n_events_additional']}")
    print(f"events detected within {MATCH_DAYS:g} d: {n_events - len(m['missed_events'])}"
          f"/{n_events}; missed: {[r['burn_start_utc'] for _, r in m['missed_events']]}")
    print(f"unmatched against the first list {m['unmatched_first']} "
          f"({m['unmatched_first'] / YEARS:.1f}/yr); explained by the second list "
          f"{m['explained_by_additional']}")
    n_left = len(m["unmatched_union"])
    print(f"unmatched against the union {n_left} ({n_left / YEARS:.1f}/yr): "
          f"|da| >= 0.2 km {m['unmatched_union_large']} "
          f"({m['unmatched_union_large'] / YEARS:.1f}/yr), |da| < 0.2 km "
          f"{m['unmatched_union_small']} ({m['unmatched_union_small'] / YEARS:.1f}/yr)")
    rows = res.rows()
    for k in m["unmatched_union"]:
        r = rows[k]
        print(f"  {r['time_utc']}  da {r['delta_a_km']:>8} km  dv {r['delta_v_m_s']} m/s  "
              f"time sigma {r['time_sigma_s']:>6} s  score {r['score']}")


if __name__ == "__main__":
    # The docs tables: .venv/bin/python tests/detection/test_maneuvers.py [--z 20,17,15]
    # (--z: the z-threshold table, plane and e-vector thresholds at 1.5 z).
    import argparse
    from pathlib import Path

    ap = argparse.ArgumentParser()
    ap.add_argument("--z", type=lambda v: [float(x) for x in v.split(",")], default=None,
                    help="z thresholds to compare, e.g. 20,17,15")
    args = ap.parse_args()
    data = Path(__file__).resolve().parents[1] / "data"
    sets = read_catalog(data / "tle-history" / "iss_25544_gp_history_2020-2024.csv.gz").element_sets
    if args.z is None:
        _print_union_table(detect_maneuvers(sets), data)
    else:
        print("| z threshold (plane, e: 1.5x) | detections | union events missed "
              "| unmatched (/yr) | of which |da| < 0.2 km |")
        print("|---|---|---|---|---|")
        for z in args.z:
            res = detect_maneuvers(sets, settings=ManeuverSettings(
                z_threshold=z, plane_z_threshold=1.5 * z, e_z_threshold=1.5 * z))
            m = union_measurement(res, _published(data), _additional(data))
            n_left = len(m["unmatched_union"])
            print(f"| {z:g} | {m['n_detections']} | {len(m['missed_events'])} "
                  f"| {n_left} ({n_left / YEARS:.1f}) | {m['unmatched_union_small']} |")


def test_a_set_beyond_the_gap_limit_changes_nothing_before_it(iss_sets):
    """A pair further apart than ``max_gap_days`` is not assessed, and must not shape
    the trend or the noise of the pairs that are: a real set months after the end of
    a history leaves its detections as they were, to the last digit. The history ends
    10 sets after a detected reboost, so the gap pair falls inside that pair's trend
    and noise windows (before the fix its burn-time sigma went from 172 s to 160 s)."""
    epochs = np.array([s.epoch_jd + s.epoch_fr for s in iss_sets])
    order = np.argsort(epochs, kind="stable")
    ordered, epochs = [iss_sets[k] for k in order], epochs[order]
    full = detect_maneuvers(ordered)
    cut = int(np.searchsorted(epochs, full.after_jd[3] + full.after_fr[3])) + 10
    head, later = ordered[:cut], ordered[cut + 600]
    assert epochs[cut + 600] - epochs[cut - 1] > ManeuverSettings().max_gap_days
    alone = detect_maneuvers(head)
    joined = detect_maneuvers(head + [later])
    assert len(alone) == 4 and joined.n_sets_used == alone.n_sets_used + 1
    assert joined.n_gaps == alone.n_gaps + 1
    assert joined.rows() == alone.rows()
