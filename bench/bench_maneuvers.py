"""Benchmark and validation of maneuver detection (issue 5).

Validation: ISS 2020-2024 history against the published reboost list
(recall within +-1 day, precision, unmatched detections per year).

Throughput: element sets per second of :func:`detect_maneuvers` on real data,
side by side with a straightforward per-pair Python loop (the same features
computed with ``math`` one consecutive pair at a time, no trend/noise
windows: a lower bound of what a loop version costs):

* ``catalog``: every element set of the six real catalog snapshots in
  tests/data/catalogs (2019-03, 2019-12, 2022-01, 2023-09 full 3LE; the
  2026-06 LEO-payload 3LE and the 2026-07 active OMM CSV) plus the ISS
  history, as one multi-object history. Sparse: most objects have 2-6 sets
  months apart, so this measures cost per set, not detection quality.
* ``iss``: the dense ISS history alone (9,571 sets).
* ``histories``: every element-set history in tests/data/tle-history (the
  ISS 2020-2024 and 2025, eleven LEO and five GEO satellites) as one
  multi-object history: dense, like a catalog's history.

Parsing is excluded (measured in bench_ingest.py); ``from_element_sets``
(ElementSet objects -> arrays) is timed separately.

Usage::

    .venv/bin/python bench/bench_maneuvers.py [--repeat 3] [--validate-only]
"""

from __future__ import annotations

import argparse
import csv
import math
import time
from datetime import datetime
from pathlib import Path

import numpy as np

from kizuna.catalog.reader import read_catalog
from kizuna.detection.maneuvers import ElementHistory, detect_maneuvers

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
ISS = DATA / "tle-history" / "iss_25544_gp_history_2020-2024.csv.gz"
REBOOSTS = DATA / "tle-history" / "iss_reboosts_published_2020-2025.csv"
CATALOGS = [
    "spacetrack_3le_full_2019-03-23.txt.gz", "spacetrack_3le_full_2019-12-23.txt.gz",
    "spacetrack_3le_full_2022-01-25.txt.gz", "spacetrack_3le_full_2023-09-09.txt.gz",
    "spacetrack_3le_leo_payloads_2026-06-10.txt.gz", "celestrak_active_gp_2026-07-12.csv.gz",
]
J2000 = datetime(2000, 1, 1, 12)


def validate(sets) -> None:
    res = detect_maneuvers(sets)
    tb = (res.burn_jd - 2451545.0) + res.burn_fr
    rows = []
    with open(REBOOSTS) as f:
        for r in csv.DictReader(f):
            s = r["burn_start_utc"]
            w = datetime.fromisoformat(s if "T" in s else s + "T12:00")
            if w.year <= 2024:
                rows.append(((w - J2000).total_seconds() / 86400, r["status"]))
    ref = np.array([d for d, _ in rows])
    actual = np.array([s.startswith("actual") for _, s in rows])
    gap = np.abs(tb[:, None] - ref[None, :])
    hit = gap.min(axis=0) <= 1.0
    matched = gap.min(axis=1) <= 1.0
    small = np.abs(res.delta_a_km) < 0.2
    years = 5.0
    print("ISS 25544, 2020-01-01 .. 2024-12-31, default settings")
    print(f"  element sets {res.n_sets_in}, used {res.n_sets_used}, duplicates {res.n_duplicates}")
    print(f"  detections {len(res)}")
    print(f"  recall actual rows {hit[actual].sum()}/{actual.sum()}, all rows {hit.sum()}/{len(hit)}")
    print(f"  detections matching a published row {matched.sum()} -> precision "
          f"{matched.mean():.3f}")
    print(f"  unmatched {int((~matched).sum())} ({(~matched).sum() / years:.1f}/yr): "
          f"|da|>=0.2 km {int((~matched & ~small).sum())}, |da|<0.2 km "
          f"{int((~matched & small).sum())} ({(~matched & small).sum() / years:.1f}/yr)")
    years_of = 2000 + (tb - 0.5) / 365.25
    for y in range(2020, 2025):
        m = (years_of >= y) & (years_of < y + 1)
        print(f"  {y}: detections {m.sum()}, matched {int((m & matched).sum())}, unmatched "
              f"{int((m & ~matched).sum())} (small {int((m & ~matched & small).sum())})")


def loop_baseline(h: ElementHistory) -> int:
    """Per-pair Python loop: sort, then da, along-track residual and plane/e changes."""
    order = np.lexsort(((h.epoch_jd - 2451545.0) + h.epoch_fr, h.norad_id))
    rows = [(int(h.norad_id[k]), float(h.epoch_jd[k] - 2451545.0 + h.epoch_fr[k]),
             float(h.mean_motion_rev_day[k]), float(h.eccentricity[k]),
             math.radians(h.inclination_deg[k]), math.radians(h.raan_deg[k]),
             math.radians(h.arg_perigee_deg[k]), math.radians(h.mean_anomaly_deg[k]))
            for k in order]
    mu, re, j2 = 398600.8, 6378.135, 0.001082616
    flagged = 0
    for p, q in zip(rows, rows[1:], strict=False):
        if p[0] != q[0] or p[2] <= 0 or q[2] <= 0:
            continue
        dt = (q[1] - p[1]) * 86400.0
        n1 = p[2] * 2 * math.pi / 86400
        n2 = q[2] * 2 * math.pi / 86400
        a1 = (mu / n1**2) ** (1 / 3)
        a2 = (mu / n2**2) ** (1 / 3)
        k = 1.5 * j2 * (re / a1) ** 2 * n1
        ci = math.cos(p[4])
        u_pred = p[6] + p[7] + (n1 + k * (1.5 * ci * ci - 0.5) + 0.5 * k * (5 * ci * ci - 1)) * dt
        d_node = (q[5] - (p[5] - k * ci * dt) + math.pi) % (2 * math.pi) - math.pi
        at = ((q[6] + q[7] - u_pred + ci * d_node + math.pi) % (2 * math.pi) - math.pi) * a2
        plane = math.hypot(q[4] - p[4], math.sin(q[4]) * d_node)
        de = math.hypot(q[3] * math.cos(q[6]) - p[3] * math.cos(p[6]),
                        q[3] * math.sin(q[6]) - p[3] * math.sin(p[6]))
        if abs(a2 - a1) > 0.2 or abs(at) > 20 or plane > 1e-3 or de > 1e-3:
            flagged += 1
    return flagged


def bench(name: str, sets, repeat: int) -> None:
    t0 = time.perf_counter()
    h = ElementHistory.from_element_sets(sets)
    t_conv = time.perf_counter() - t0
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = detect_maneuvers(h)
        best = min(best, time.perf_counter() - t0)
    loop = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        loop_baseline(h)
        loop = min(loop, time.perf_counter() - t0)
    n = len(h)
    print(f"| {name} | {n:,} | {res.n_objects:,} analysed, {len(res.skipped):,} skipped | "
          f"{res.n_pairs_assessed:,} | {t_conv:.3f} | {best:.3f} ({n / best:,.0f}/s) | "
          f"{loop:.3f} ({n / loop:,.0f}/s) | {loop / best:.1f}x | {len(res)} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--validate-only", action="store_true")
    ap.add_argument("--quick", action="store_true", help="one repeat")
    args = ap.parse_args()
    if args.quick:
        args.repeat = 1
    iss = read_catalog(ISS).element_sets
    validate(iss)
    if args.validate_only:
        return
    catalog = list(iss)
    for name in CATALOGS:
        catalog.extend(read_catalog(DATA / "catalogs" / name).element_sets)
    print()
    print("| input | element sets | objects | pairs assessed | to arrays s | detect_maneuvers s "
          "(sets/s), best of N | per-pair loop s (sets/s) | speed-up | maneuvers |")
    print("|---|---|---|---|---|---|---|---|---|")
    bench("catalog snapshots + ISS", catalog, args.repeat)
    bench("ISS 2020-2024", iss, args.repeat)
    histories = []
    for path in sorted((DATA / "tle-history").glob("*.gz")):
        histories.extend(read_catalog(path).element_sets)
    bench("all real histories", histories, args.repeat)


if __name__ == "__main__":
    main()
