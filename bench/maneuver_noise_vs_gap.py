"""How the maneuver detector's residual noise grows with the gap between sets.

The detector scales each object's residual noise with ``g(dt) = sqrt(1 + (dt/tau)^2)``
(levels) and ``g**2`` (along-track), ``tau`` = 0.35 d for LEO. This script measures
that growth on the real histories in tests/data/tle-history, using only the
residuals (no maneuver list): pairs within +-2 days of one of the detector's own
detections are left out, the rest are binned by gap, and per bin it prints the robust
sigma (1.4826 x median |x|) of the semi-major-axis, orbit-plane (per component) and
along-track residuals. For each object it then fits ``s * g(dt; tau)`` to the binned
semi-major-axis and plane sigmas (least squares in log sigma, weighted by pair count,
tau on a grid), and prints the ratio of the observed sigma to ``g``'s prediction at
each bin (1.0 = the model's growth, with the detector's tau for the object's regime).

Usage::

    .venv/bin/python bench/maneuver_noise_vs_gap.py [--margin-days 2] [--min-pairs 15]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from kizuna.catalog.reader import read_catalog
from kizuna.detection.maneuvers import detect_maneuvers, maneuver_residuals

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "tle-history"
HISTORIES = {
    "ISS": "iss_25544_gp_history_2020-2024.csv.gz",
    "Sentinel-6A": "sentinel-6a_46984_tle_2020-2022.txt.gz",
    "Sentinel-3B": "sentinel-3b_43437_tle_2018-2022.txt.gz",
    "Sentinel-3A": "sentinel-3a_41335_tle_2016-2022.txt.gz",
    "Jason-3": "jason-3_41240_tle_2016-2022.txt.gz",
    "SARAL": "saral_39086_tle_2013-2022.txt.gz",
    "CryoSat-2": "cryosat-2_36508_tle_2010-2022.txt.gz",
    "Jason-1": "jason-1_26997_tle_2001-2013.txt.gz",
    "Jason-2": "jason-2_33105_tle_2008-2019.txt.gz",
    "Haiyang-2A": "haiyang-2a_37781_tle_2011-2020.txt.gz",
    "TOPEX": "topex_22076_tle_1992-2004.txt.gz",
    "Fengyun-4A": "fengyun-4a_41882_tle_2018-2022.txt.gz",
    "Fengyun-2H": "fengyun-2h_43491_tle_2019-2022.txt.gz",
}
EDGES_H = (1, 3, 6, 12, 18, 24, 30, 36, 48, 72, 240)
TAU_GRID_D = np.round(0.05 * 2.0 ** (np.arange(0, 25) / 4.0), 4)  # 0.05 to 3.2 d
ROBUST = 1.4826


def quiet_pairs(sets, margin_days: float):
    """The pair residuals of a history and a mask of pairs away from its detections."""
    res = detect_maneuvers(sets)
    pr = maneuver_residuals(sets)
    burns = (res.burn_jd - 2451545.0) + res.burn_fr
    t0 = (pr.before_jd - 2451545.0) + pr.before_fr
    t1 = (pr.after_jd - 2451545.0) + pr.after_fr
    near = np.zeros(len(pr), dtype=bool)
    for b in burns:
        near |= (t1 > b - margin_days) & (t0 < b + margin_days)
    return pr, pr.assessed & ~near


def binned_sigma(pr, keep, min_pairs: int):
    """Per bin: lo_h, hi_h, n, mean gap d, sigma_a_km, sigma_plane, sigma_at_km, median g."""
    rows = []
    dt_h = pr.dt_days * 24.0
    for lo, hi in zip(EDGES_H[:-1], EDGES_H[1:], strict=True):
        m = keep & (dt_h >= lo) & (dt_h < hi)
        if m.sum() < min_pairs:
            continue
        r = pr.residual[m]
        rows.append((lo, hi, int(m.sum()), float(pr.dt_days[m].mean()),
                     ROBUST * float(np.median(np.abs(r[:, 0]))),
                     ROBUST * float(np.median(np.abs(r[:, 1:4]))),
                     ROBUST * float(np.median(np.abs(r[:, 6]))),
                     float(np.median(pr.gap_factor[m]))))
    return rows


def fit_tau(dt_d: np.ndarray, sigma: np.ndarray, weight: np.ndarray) -> tuple[float, float]:
    """(tau_d, s) of s * sqrt(1 + (dt/tau)^2) fitted to binned sigmas (log, weighted)."""
    best = (np.inf, float("nan"), float("nan"))
    for tau in TAU_GRID_D:
        lg = 0.5 * np.log1p((dt_d / tau) ** 2)
        log_s = np.sum(weight * (np.log(sigma) - lg)) / np.sum(weight)
        cost = float(np.sum(weight * (np.log(sigma) - lg - log_s) ** 2))
        if cost < best[0]:
            best = (cost, float(tau), float(np.exp(log_s)))
    return best[1], best[2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--margin-days", type=float, default=2.0)
    ap.add_argument("--min-pairs", type=int, default=15)
    args = ap.parse_args()
    for name, fname in HISTORIES.items():
        sets = read_catalog(DATA / fname).element_sets
        pr, keep = quiet_pairs(sets, args.margin_days)
        rows = binned_sigma(pr, keep, args.min_pairs)
        print(f"{name}: {len(pr)} pairs, {int(keep.sum())} away from detections")
        if len(rows) < 2:
            print("  fewer than two populated gap bins: no fit")
            continue
        dt = np.array([r[3] for r in rows])
        w = np.array([r[2] for r in rows], dtype=float)
        fits = {}
        for col, label in ((4, "a"), (5, "plane")):
            fits[label] = fit_tau(dt, np.array([r[col] for r in rows]), w)
        g = np.array([r[7] for r in rows])
        ref = int(np.argmax(w))  # the most populated bin anchors the ratios
        print(f"  {'gap h':>9} {'pairs':>6} {'mean d':>7} {'sig a m':>8} {'sig plane urad':>14} "
              f"{'sig at km':>9} {'a/g':>5} {'plane/g':>7} {'at/g^2':>6}  (ratios to the "
              f"{rows[ref][0]}-{rows[ref][1]} h bin; g as the detector uses it)")
        for k, (lo, hi, n, mdt, sa, sp, sat, _) in enumerate(rows):
            ra = (sa / rows[ref][4]) / (g[k] / g[ref])
            rp = (sp / rows[ref][5]) / (g[k] / g[ref])
            rt = (sat / rows[ref][6]) / (g[k] / g[ref]) ** 2
            print(f"  {lo:>4}-{hi:<4} {n:6d} {mdt:7.3f} {sa * 1e3:8.2f} {sp * 1e6:14.2f} "
                  f"{sat:9.3f} {ra:5.2f} {rp:7.2f} {rt:6.2f}")
        print(f"  fitted tau: a {fits['a'][0]:.3f} d, plane {fits['plane'][0]:.3f} d "
              f"(grid {TAU_GRID_D[0]}-{TAU_GRID_D[-1]} d)")


if __name__ == "__main__":
    main()
