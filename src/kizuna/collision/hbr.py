"""Hard-body radius (HBR) per object from NASA CARA's HBR/mass table.

Bundled table: ``kizuna/data/hbr/cara_hbr_20260601.csv.gz`` - the CARA
"HBR_Mass_Estimates_20260601_ForDistribution" file reduced to the rows that
carry an HBR (columns ObjectID, HBR_m, HBRSigma_m, HBRSource; 23,583 objects;
DISCOS-sourced rows are blank upstream for licence reasons and are dropped).

Lookup order of :func:`hbr_m`:

1. ``overrides[norad_id]`` (caller-supplied, metres);
2. the CARA table (protected primary, override, Space Fence RCS estimate or
   CARA default);
3. ``DEFAULT_HBR_M[object_type]`` - Kizuna's fallback by object type;
4. ``DEFAULT_HBR_M["UNKNOWN"]``.

The combined HBR of a conjunction is the sum of the two radii; with
uncertainties, :func:`combined_hbr_m` uses Baars & Hall (2022, eq. 8):
``sqrt((R1 + R2)^2 + s1^2 + s2^2)``.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources

from kizuna.collision.encounter import CollisionInputError

TABLE = "cara_hbr_20260601.csv.gz"

#: Fallback radii (m) by object type when the table has no entry. Chosen from
#: the CARA table's own default values: 1.1 m is its most common default
#: (small debris), 4.1 m a typical rocket-body/payload size; UNKNOWN takes the
#: larger, conservative value.
DEFAULT_HBR_M = {
    "PAYLOAD": 4.1,
    "ROCKET BODY": 4.1,
    "DEBRIS": 1.1,
    "UNKNOWN": 4.1,
}


@dataclass(frozen=True, slots=True)
class HbrEstimate:
    """Radius (m), its 1-sigma (m) and where it came from."""

    hbr_m: float
    sigma_m: float
    source: str


@cache
def load_table() -> dict[int, HbrEstimate]:
    """The bundled CARA table as ``{norad_id: HbrEstimate}``."""
    raw = resources.files("kizuna").joinpath("data").joinpath("hbr").joinpath(TABLE).read_bytes()
    out: dict[int, HbrEstimate] = {}
    with io.TextIOWrapper(gzip.GzipFile(fileobj=io.BytesIO(raw)), encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            sigma = float(row["HBRSigma_m"]) if row["HBRSigma_m"] else 0.0
            out[int(row["ObjectID"])] = HbrEstimate(float(row["HBR_m"]), sigma,
                                                     "CARA: " + row["HBRSource"])
    return out


def hbr_estimate(norad_id: int | None = None, object_type: str | None = None,
                 overrides: dict[int, float] | None = None) -> HbrEstimate:
    """HBR estimate with its source (see module docstring for the order)."""
    if norad_id is not None:
        if overrides and norad_id in overrides:
            value = float(overrides[norad_id])
            if not value > 0:
                raise CollisionInputError(f"override HBR for {norad_id} must be > 0 m; got {value}")
            return HbrEstimate(value, 0.0, "override")
        found = load_table().get(int(norad_id))
        if found is not None:
            return found
    key = (object_type or "UNKNOWN").strip().upper().replace("_", " ")
    if key in ("R/B", "ROCKET"):
        key = "ROCKET BODY"
    if key in ("DEB",):
        key = "DEBRIS"
    if key not in DEFAULT_HBR_M:
        key = "UNKNOWN"
    return HbrEstimate(DEFAULT_HBR_M[key], 0.0, f"default ({key})")


def hbr_m(norad_id: int | None = None, object_type: str | None = None,
          overrides: dict[int, float] | None = None) -> float:
    """Hard-body radius of one object, metres (see :func:`hbr_estimate`)."""
    return hbr_estimate(norad_id, object_type, overrides).hbr_m


def combined_hbr_m(a: HbrEstimate, b: HbrEstimate) -> float:
    """Combined HBR of two objects (m), inflated by their radius sigmas."""
    return math.sqrt((a.hbr_m + b.hbr_m) ** 2 + a.sigma_m ** 2 + b.sigma_m ** 2)
