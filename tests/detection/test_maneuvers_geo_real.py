"""Maneuver detection on real GEO histories against the operator's maneuver lists.

Fengyun-4A (41882, three-axis stabilized, east-west station keeping about monthly and
north-south about twice a year) and Fengyun-2H (43491, spin-stabilized, east-west only),
TLE histories 2018-2022 and the operator's lists with times (China Meteorological
Administration files, as collected in the benchmark data set of Shorten et al.; see
DATA_SOURCES.md). No threshold or window of :mod:`kizuna.detection.maneuvers` was chosen
on these data: the defaults come from the ISS, and the GEO noise scale (tau = 3 d) is an
assumption made before any real GEO history was in the repository. The numbers asserted
are the ones measured on the first run with the defaults, recorded as measured, not as
targets (docs/design/maneuvers.md, "GEO: Fengyun-4A and Fengyun-2H"), except one change
made after the first run and reported there: a detection led by a plane change is timed
at its pair's midpoint, not by the along-track formula of tangential burns.

The lists are known to be imperfect, so false alarms against them are upper bounds:
FY-4A's monthly east-west cadence has gaps (no burn listed in July, October and November
2019 or February 2020), and three FY-4A lines are out of sequence in the newest-first
source file. For each of them a detection of the same kind falls near the same date one
year earlier (within a day for the two east-west lines, 2.7 days for the north-south one),
where the list has no event: a wrong year is one reading, not a proven one (the 2021-09-21
north-south line is also the day before a listed north-south burn, and a detection falls
4.4 days after the 2020-06-14 line, in a month with no other listed burn).
"""

from __future__ import annotations

import csv
from datetime import datetime, timezone

import numpy as np
import pytest

from kizuna.catalog.reader import read_catalog
from kizuna.detection.maneuvers import detect_maneuvers

HISTORIES = {41882: "fengyun-4a_41882_tle_2018-2022.txt.gz",
             43491: "fengyun-2h_43491_tle_2019-2022.txt.gz"}
EVENTS = "fengyun_geo_maneuvers_operator.csv"
J2000 = datetime(2000, 1, 1, 12, tzinfo=timezone.utc)
EW, NS = "GEO-EW-STATION-KEEPING", "GEO-NS-STATION-KEEPING"
PLANE_DEG = 0.1  # detections turning the plane by more are north-south burns


def _days(text: str) -> float:
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (when - J2000).total_seconds() / 86400.0


def _burn_days(result) -> np.ndarray:
    return (result.burn_jd - 2451545.0) + result.burn_fr


@pytest.fixture(scope="module")
def events(data_dir):
    with open(data_dir / "tle-history" / EVENTS, encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def results(data_dir):
    out = {}
    for norad, name in HISTORIES.items():
        sets = read_catalog(data_dir / "tle-history" / name).element_sets
        assert {s.norad_id for s in sets} == {norad}
        out[norad] = (sets, detect_maneuvers(sets))
    return out


def measure(sets, result, events, norad: int, window_d: float) -> dict:
    """Recall per kind, unmatched detections and their rate, for one satellite."""
    t = np.array([s.epoch_jd - 2451545.0 + s.epoch_fr for s in sets])
    rows = [r for r in events if int(r["norad_id"]) == norad]
    mid = np.array([0.5 * (_days(r["start_utc"]) + _days(r["end_utc"])) for r in rows])
    inside = (mid >= t.min()) & (mid <= t.max())
    tb = _burn_days(result)
    recall: dict[str, list[int]] = {}
    for r, m, ok in zip(rows, mid, inside, strict=True):
        if ok:
            hit = bool(np.any(np.abs(tb - m) <= window_d))
            got = recall.setdefault(r["kind"], [0, 0])
            got[0] += hit
            got[1] += 1
    matched = np.array([np.any(np.abs(mid - x) <= window_d) for x in tb], dtype=bool)
    years = (t.max() - t.min()) / 365.25
    return {"recall": {k: tuple(v) for k, v in recall.items()},
            "n_detections": len(result), "unmatched": np.flatnonzero(~matched),
            "per_year": float((~matched).sum() / years), "years": years}


def test_operator_list_and_histories_are_what_the_docs_describe(results, events):
    kinds = {}
    for r in events:
        kinds.setdefault((int(r["norad_id"]), r["kind"]), 0)
        kinds[(int(r["norad_id"]), r["kind"])] += 1
    assert kinds == {(41882, EW): 42, (41882, NS): 7, (43491, EW): 11,
                     (43491, "GEO-ATTITUDE-CONTROL"): 1}
    for r in events:  # UTC is China Standard Time minus 8 h
        local = datetime.fromisoformat(r["start_source_time"].removesuffix(" CST"))
        assert (_days(r["start_utc"]) - (local - J2000.replace(tzinfo=None)).total_seconds()
                / 86400.0) == pytest.approx(-8 / 24, abs=1e-9)
    assert [len(results[k][0]) for k in (41882, 43491)] == [1307, 1055]


def test_learned_geo_noise_is_far_below_the_synthetic_assumption(results):
    # measured (docs/design/maneuvers.md): 0.019 km (FY-4A) and 0.009 km (FY-2H) per pair of
    # daily sets, against 0.15 km in the synthetic GEO test (0.1 km per set)
    sig = {k: results[k][1].span_sigma_a_km for k in (41882, 43491)}
    assert [len(v) for v in sig.values()] == [1, 1]
    assert 0.015 <= sig[41882][0] <= 0.023
    assert 0.007 <= sig[43491][0] <= 0.011


def test_east_west_station_keeping_found_within_a_day(results, events):
    fy4 = measure(*results[41882], events, 41882, 1.0)
    fy2 = measure(*results[43491], events, 43491, 1.0)
    assert fy4["recall"][EW] == (37, 42)
    assert fy2["recall"][EW] == (8, 11)
    fy4_2 = measure(*results[41882], events, 41882, 2.0)
    fy2_2 = measure(*results[43491], events, 43491, 2.0)
    assert fy4_2["recall"][EW] == (40, 42)
    assert fy2_2["recall"][EW] == (10, 11)


def test_north_south_burns_found_and_timed_at_the_pair_midpoint(results, events):
    """Every north-south burn shows as a large plane change. Timed at the pair's midpoint
    (the plane change leads), 4 of 7 are within a day; the first run, which timed them by
    the along-track formula of tangential burns, had 1 of 7 (docs)."""
    sets, res = results[41882]
    fy4 = measure(sets, res, events, 41882, 2.0)
    assert fy4["recall"][NS] == (5, 7)
    assert measure(sets, res, events, 41882, 1.0)["recall"][NS] == (4, 7)
    ns = res.plane_change_deg >= PLANE_DEG
    assert ns.sum() == 8
    # 0.39-0.46 deg per burn: inclination kept inside a small box by twice-yearly burns
    assert np.all((res.plane_change_deg[ns] > 0.38) & (res.plane_change_deg[ns] < 0.46))
    tb = _burn_days(res)
    for r in events:
        if r["kind"] == NS:
            m = 0.5 * (_days(r["start_utc"]) + _days(r["end_utc"]))
            assert np.min(np.abs(tb[ns] - m)) <= 3.0 or r["note"], r["start_utc"]


def test_east_west_burns_have_the_signature_of_station_keeping(results):
    """All 47 FY-4A in-plane detections of more than 1 km lower the orbit, by 1.6-5.5 km:
    the satellite is pushed back against the same longitude drift every month."""
    _, res = results[41882]
    big = (res.plane_change_deg < PLANE_DEG) & (np.abs(res.delta_a_km) > 1.0)
    assert big.sum() == 47
    assert np.all((res.delta_a_km[big] > -5.6) & (res.delta_a_km[big] < -1.5))


def test_out_of_sequence_lines_fall_one_year_after_a_detection(results, events):
    sets, res = results[41882]
    tb = _burn_days(res)
    odd = [r for r in events if r["note"]]
    assert len(odd) == 3
    for r in odd:
        m = 0.5 * (_days(r["start_utc"]) + _days(r["end_utc"]))
        a_year_before = m - (366.0 if r["start_utc"].startswith("2020") else 365.0)
        gap = np.abs(tb - a_year_before)
        k = int(np.argmin(gap))
        # east-west: within a day; north-south (timed at its pair's midpoint): 2.7 days
        assert gap[k] <= (1.0 if r["kind"] == EW else 3.0), r["start_utc"]
        is_ns = res.plane_change_deg[k] >= PLANE_DEG
        assert is_ns == (r["kind"] == NS)


def test_false_alarms_against_the_operator_lists(results, events):
    fy4 = measure(*results[41882], events, 41882, 1.0)
    fy2 = measure(*results[43491], events, 43491, 1.0)
    assert (fy4["n_detections"], len(fy4["unmatched"])) == (58, 18)
    assert (fy2["n_detections"], len(fy2["unmatched"])) == (17, 9)


# ------------------------------------------------------------------ held out: FY-2D, 2E, 2F

HELD_OUT = {29640: "fengyun-2d_29640_tle_2011-2015.txt.gz",
            33463: "fengyun-2e_33463_tle_2011-2018.txt.gz",
            38049: "fengyun-2f_38049_tle_2012-2022.txt.gz"}
EVENTS_HELD_OUT = "fengyun2def_maneuvers_operator.csv"
# Measured on the first run (seventh session), defaults; per satellite: detections,
# (east-west found, listed) and (north-south found, listed) within +-1 d, then +-2 d,
# detections more than 1 day from every listed maneuver.
HELD_OUT_MEASURED = {
    29640: (47, (19, 21), (0, 1), (19, 21), (0, 1), 27),
    33463: (103, (44, 47), (1, 1), (46, 47), (1, 1), 57),
    38049: (114, (64, 67), (1, 1), (65, 67), (1, 1), 51),
}


@pytest.fixture(scope="module")
def held_out(data_dir):
    with open(data_dir / "tle-history" / EVENTS_HELD_OUT, encoding="utf-8") as f:
        ev = list(csv.DictReader(f))
    out = {}
    for norad, name in HELD_OUT.items():
        sets = read_catalog(data_dir / "tle-history" / name).element_sets
        assert {s.norad_id for s in sets} == {norad}
        out[norad] = (sets, detect_maneuvers(sets))
    return ev, out


def test_held_out_operator_lists_are_what_the_docs_describe(held_out):
    ev, out = held_out
    kinds: dict[tuple[int, str], int] = {}
    for r in ev:
        kinds[(int(r["norad_id"]), r["kind"])] = kinds.get((int(r["norad_id"]), r["kind"]), 0) + 1
        local = datetime.fromisoformat(r["start_source_time"].removesuffix(" CST"))
        assert (_days(r["start_utc"]) - (local - J2000.replace(tzinfo=None)).total_seconds()
                / 86400.0) == pytest.approx(-8 / 24, abs=1e-9)
    assert kinds == {(29640, EW): 21, (29640, NS): 1, (33463, EW): 47, (33463, NS): 1,
                     (38049, EW): 67, (38049, NS): 1}
    assert [len(out[k][0]) for k in HELD_OUT] == [1189, 2377, 2987]
    assert sum(1 for r in ev if r["note"]) == 4  # 3 out of sequence, 1 repeated line


def test_held_out_geo_recall_and_unmatched_detections(held_out):
    """FY-2D/2E/2F, run once with the detector as it was: east-west station keeping is
    found (127 of 135 within a day), but 135 detections match no listed maneuver. Of those,
    32 are steps of 1 km or more, all but one lowering the orbit like the listed east-west
    burns (likely burns the lists lack); the rest are small steps, 0.006-0.99 km, median
    0.29 km, against 2.4-9.4 km for the matched east-west burns."""
    ev, out = held_out
    small, big = [], []
    for norad, (sets, res) in out.items():
        m1 = measure(sets, res, ev, norad, 1.0)
        m2 = measure(sets, res, ev, norad, 2.0)
        got = (m1["n_detections"], m1["recall"][EW], m1["recall"][NS], m2["recall"][EW],
               m2["recall"][NS], len(m1["unmatched"]))
        assert got == HELD_OUT_MEASURED[norad], norad
        da = res.delta_a_km[m1["unmatched"]]
        big += da[np.abs(da) >= 1.0].tolist()
        small += da[np.abs(da) < 1.0].tolist()
    assert len(big) == 32 and sum(x < 0 for x in big) == 31
    assert len(small) == 103
    assert 0.25 < float(np.median(np.abs(small))) < 0.33


def test_held_out_geo_decides_against_the_fitted_noise_time_constant(held_out, monkeypatch):
    """The pre-registered comparison: tau = 0.44 d for GEO (fitted without labels on FY-4A
    and FY-2H by bench/maneuver_noise_vs_gap.py) instead of the assumed 3 d, to be adopted
    only if, on FY-2D/2E/2F, it neither loses a listed burn within a day nor adds unmatched
    detections. Run before the seventh session's floor change, it removed 11 unmatched
    detections (135 to 124) but lost one FY-2F east-west burn, so 3 d stayed. With the
    floors now applied at each pair's gap it loses the same burn and adds one unmatched
    detection (136)."""
    import kizuna.detection.maneuvers as maneuvers

    ev, out = held_out
    monkeypatch.setitem(maneuvers._TAU_DAYS, "GEO", 0.44)
    found = unmatched = 0
    for norad, (sets, _) in out.items():
        m = measure(sets, detect_maneuvers(sets), ev, norad, 1.0)
        found += m["recall"][EW][0] + m["recall"][NS][0]
        unmatched += len(m["unmatched"])
    assert (found, unmatched) == (128, 136)  # 3 d: 129 and 135 (HELD_OUT_MEASURED)


def test_unmatched_geo_steps_mostly_have_no_burn_time(held_out, results, events):
    """A burn changes the along-track drift from its time on, so the along-track residual
    fixes the burn time; for most of the small unmatched steps it does not: their
    ``time_sigma_s`` exceeds a day, which no matched FY-2D/2E/2F maneuver's does (found in
    the seventh session on these three, after their held-out run; on FY-4A and FY-2H, not
    looked at for this, 7 of the 27 unmatched and 1 of the 48 matched exceed a day)."""
    ev, out = held_out
    counts = {"small": [0, 0], "big": [0, 0], "matched": [0, 0]}
    matched_sigma = []
    for norad, (sets, res) in out.items():
        un = np.zeros(len(res), dtype=bool)
        un[measure(sets, res, ev, norad, 1.0)["unmatched"]] = True
        matched_sigma += res.time_sigma_s[~un].tolist()
        long = res.time_sigma_s > 86400.0
        for key, sel in (("small", un & (np.abs(res.delta_a_km) < 1.0)),
                         ("big", un & (np.abs(res.delta_a_km) >= 1.0)), ("matched", ~un)):
            counts[key][0] += int((long & sel).sum())
            counts[key][1] += int(sel.sum())
    assert counts == {"small": [70, 103], "big": [9, 32], "matched": [0, 129]}
    assert 3.8 < np.median(matched_sigma) / 3600.0 < 4.0  # measured 3.9 h
    first = [0, 0, 0, 0]  # unmatched long, unmatched, matched long, matched
    for norad, (sets, res) in results.items():
        un = np.zeros(len(res), dtype=bool)
        un[measure(sets, res, events, norad, 1.0)["unmatched"]] = True
        long = res.time_sigma_s > 86400.0
        first = [first[0] + int((long & un).sum()), first[1] + int(un.sum()),
                 first[2] + int((long & ~un).sum()), first[3] + int((~un).sum())]
    assert first == [7, 27, 1, 48]


if __name__ == "__main__":  # docs table: .venv/bin/python tests/detection/<this file>
    from pathlib import Path

    data = Path(__file__).resolve().parents[1] / "data"
    ev = []
    for events_file in (EVENTS, EVENTS_HELD_OUT):
        with open(data / "tle-history" / events_file, encoding="utf-8") as f:
            ev += list(csv.DictReader(f))
    for norad, name in {**HISTORIES, **HELD_OUT}.items():
        s = read_catalog(data / "tle-history" / name).element_sets
        res = detect_maneuvers(s)
        for w in (1.0, 2.0):
            m = measure(s, res, ev, norad, w)
            recall = ", ".join(f"{k.removeprefix('GEO-').lower()} {a}/{b}"
                               for k, (a, b) in m["recall"].items())
            print(f"{name}: {len(s)} sets over {m['years']:.2f} yr, {m['n_detections']} "
                  f"detections; within +/-{w:g} d: {recall}; unmatched {len(m['unmatched'])} "
                  f"({m['per_year']:.1f}/yr)")
        rows = res.rows()
        for k in measure(s, res, ev, norad, 1.0)["unmatched"]:
            r = rows[k]
            print(f"    unmatched {r['time_utc'][:16]}  da {r['delta_a_km']} km  plane "
                  f"{r['plane_change_deg']} deg  dv {r['delta_v_m_s']} m/s  score {r['score']}")


def test_kind_agrees_with_the_operators_maneuver_type(results, events, held_out):
    """Every detection within a day of a listed maneuver has the kind of that maneuver on
    all five satellites: 171 "east-west" for east-west station keeping, 5 "north-south"
    for north-south (the listed types are the operator's; the detector decides from which
    series steps most, not from delta-v: a plane wobble of a few millidegrees asks for
    more delta-v than an east-west burn). One FY-4A detection lies within a day of both
    kinds and is left out."""
    held_events, held_results = held_out
    got = {EW: [0, 0], NS: [0, 0]}
    both = 0
    for evs, res_by_id in ((events, results), (held_events, held_results)):
        for norad, (_, res) in res_by_id.items():
            rows = [r for r in evs if int(r["norad_id"]) == norad]
            mid = np.array([0.5 * (_days(r["start_utc"]) + _days(r["end_utc"])) for r in rows])
            tb = _burn_days(res)
            for k in range(len(res)):
                near = np.flatnonzero(np.abs(mid - tb[k]) <= 1.0)
                if near.size == 0:
                    continue
                listed = {rows[j]["kind"] for j in near}
                if len(listed) > 1:
                    both += 1
                    continue
                (kind,) = listed
                got[kind][0] += res.kind[k] == ("east-west" if kind == EW else "north-south")
                got[kind][1] += 1
    assert got == {EW: [171, 171], NS: [5, 5]} and both == 1
