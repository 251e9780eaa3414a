"""Calibration of the element-set-history covariance on the ISS history 2020-2024.

Run from the repository root::

    .venv/bin/python bench/calibrate_covariance.py

Prints the markdown tables of docs/design/covariance.md: timing, the fitted
ISS model, and the fraction of held-out RIC errors within 1, 2 and 3 sigma
for (a) one fit on 2020-2022 tested on 2023-2024 and (b) a fit on the last
90 days refitted every 30 days through 2023-2024. Also the median of the
monthly 90-day fits over 2020-2024, the source of the LEO/PAYLOAD default.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from kizuna.catalog.reader import read_catalog
from kizuna.collision.covariance import (
    COMPONENTS,
    calibration_fractions,
    fit_covariance_model,
    history_errors,
    rolling_calibration,
)
from kizuna.timelib import jd_fr_from_datetime, parse_utc

HISTORY = (Path(__file__).resolve().parents[1] / "tests" / "data" / "tle-history"
           / "iss_25544_gp_history_2020-2024.csv.gz")
GAUSS = (0.6827, 0.9545, 0.9973)
NAMES = ("R", "I", "C", "Rdot", "Idot", "Cdot")


def _days(pairs, iso: str) -> float:
    jd, fr = jd_fr_from_datetime(parse_utc(iso))
    return (jd - pairs.epoch_jd[0]) + (fr - pairs.epoch_fr[0])


def _table(title: str, fractions: np.ndarray, n: int) -> None:
    print(f"\n{title} ({n:,} held-out pairs)\n")
    print("| within | " + " | ".join(NAMES) + " | Gaussian |")
    print("|---|" + "---:|" * (len(NAMES) + 1))
    for k, row in enumerate(fractions):
        cells = " | ".join(f"{100 * x:.1f}" for x in row)
        print(f"| {k + 1} sigma | {cells} | {100 * GAUSS[k]:.1f} |")


def _coefficients(title: str, coef: np.ndarray) -> None:
    print(f"\n{title}\n")
    print("| component | a | b (/day) | c (/day^2) | sigma(1 d) | sigma(3 d) | sigma(7 d) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, unit, (a, b, c) in zip(COMPONENTS, ["km"] * 3 + ["m/s"] * 3, coef, strict=True):
        scale = 1.0 if unit == "km" else 1000.0
        sig = [np.sqrt(a**2 + (b * t) ** 2 + (c * t**2) ** 2) * scale for t in (1.0, 3.0, 7.0)]
        print(f"| {name} ({unit}) | {a * scale:.4g} | {b * scale:.4g} | {c * scale:.4g} | "
              + " | ".join(f"{x:.3g}" for x in sig) + " |")


def main() -> None:
    t0 = time.perf_counter()
    result = read_catalog(HISTORY)
    t1 = time.perf_counter()
    pairs = history_errors(result.element_sets, max_age_days=7.0)
    t2 = time.perf_counter()
    model = fit_covariance_model(pairs)
    t3 = time.perf_counter()
    assert model is not None
    print(f"ISS history: {len(result.element_sets):,} sets read in {t1 - t0:.2f} s; "
          f"{pairs.epoch_jd.size:,} after dedupe; {len(pairs):,} pairs (age <= 7 d) "
          f"propagated and rotated to RIC in {t2 - t1:.2f} s; fit in {t3 - t2:.2f} s")
    _coefficients("Whole-history fit 2020-2024", np.array(model.coefficients))
    print("\ncorrelation (R, I, C, Rdot, Idot, Cdot):")
    for row in model.correlation:
        print("  " + " ".join(f"{x:+.2f}" for x in row))

    split = _days(pairs, "2023-01-01T00:00:00Z")
    end = _days(pairs, "2025-01-01T00:00:00Z")
    t = (pairs.epoch_jd - pairs.epoch_jd[0]) + (pairs.epoch_fr - pairs.epoch_fr[0])
    train = t[pairs.i_new] < split
    test = t[pairs.i_old] >= split
    static = fit_covariance_model(pairs.select(train))
    assert static is not None
    held = pairs.select(test)
    _coefficients("Fit on 2020-2022", np.array(static.coefficients))
    _table("(a) fit 2020-2022, tested on 2023-2024", calibration_fractions(static, held),
           len(held))
    t4 = time.perf_counter()
    rolling = rolling_calibration(pairs, start_days=split, end_days=end)
    t5 = time.perf_counter()
    _table("(b) 90-day fit refitted every 30 days, tested on the next 30 days, 2023-2024",
           rolling.fractions, rolling.n_test_pairs)
    print(f"\n{len(rolling.models)} rolling fits in {t5 - t4:.2f} s")

    # LEO/PAYLOAD default: the median coefficients of monthly 90-day fits over
    # the whole history (a typical recent-history ISS model).
    every = rolling_calibration(pairs, start_days=90.0, end_days=end)
    coefs = np.array([m.coefficients for m in every.models if m is not None])
    _coefficients(f"Median of {len(coefs)} monthly 90-day fits 2020-2024 (LEO/PAYLOAD default)",
                  np.median(coefs, axis=0))
    _table("(c) same rolling scheme over 2020-04 .. 2024-12", every.fractions, every.n_test_pairs)


if __name__ == "__main__":
    main()
