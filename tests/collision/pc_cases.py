"""Loaders for the published collision-probability cases in tests/data/pc/.

Alfano (2009) cases come as the CSV conversion of CARA's "CaseN data at
TCA.xls" (ECI metres, m/s, 6x6 covariance in m and s); they are returned in
km, km/s and km^2 (km^2/s, km^2/s^2) as the collision package expects.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

PC_DIR = Path(__file__).resolve().parents[1] / "data" / "pc"


@dataclass(frozen=True)
class AlfanoCase:
    number: int
    r1_km: np.ndarray
    v1_km_s: np.ndarray
    cov1: np.ndarray
    r2_km: np.ndarray
    v2_km_s: np.ndarray
    cov2: np.ndarray
    hbr_km: float
    expected: dict


def _numeric_rows(path: Path) -> list[list[float]]:
    rows = []
    with path.open(newline="") as fh:
        for row in csv.reader(fh):
            vals = [c for c in row if c.strip() != ""]
            try:
                rows.append([float(c) for c in vals])
            except ValueError:
                continue  # a label row
    return [r for r in rows if r]


@cache
def expected_table() -> dict[int, dict]:
    out = {}
    with (PC_DIR / "A09TestCases_01_12_Distributed.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            out[int(row["Case"])] = {k: float(v) for k, v in row.items() if k != "Case"}
    return out


@cache
def alfano_case(n: int) -> AlfanoCase:
    rows = _numeric_rows(PC_DIR / f"alfano2009_case{n}_tca.csv")
    # Layout: r1, v1, 6 cov rows, r2, v2, 6 cov rows (m, m/s).
    r1, v1 = np.array(rows[0]), np.array(rows[1])
    c1 = np.array(rows[2:8])
    r2, v2 = np.array(rows[8]), np.array(rows[9])
    c2 = np.array(rows[10:16])
    assert c1.shape == (6, 6) and c2.shape == (6, 6)
    exp = expected_table()[n]
    return AlfanoCase(n, r1 / 1e3, v1 / 1e3, c1 / 1e6, r2 / 1e3, v2 / 1e3, c2 / 1e6,
                      exp["HBR"] / 1e3, exp)


@cache
def cara_unit_json() -> dict:
    return json.loads((PC_DIR / "expected_values_from_cara_unit_tests.json").read_text())


@cache
def orekit_json() -> dict:
    return json.loads((PC_DIR / "orekit_pc_expected_values.json").read_text())
