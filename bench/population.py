"""A larger-than-real catalog for scaling benchmarks: the real catalog plus synthetic objects.

The synthetic objects are drawn from the real catalog's own orbit
distribution: each one copies a real object chosen uniformly at random (its
epoch, drag term ``bstar`` and mean-motion derivatives) and perturbs its mean
elements:

* mean anomaly: uniform in [0, 360) deg (a random phase, so the copy is never
  near its parent);
* RAAN and argument of perigee: parent + N(0, ``angle_sigma_deg``) (keeps the
  clustering of planes and of Molniya/GTO perigees that uniform angles would
  wash out);
* semi-major axis: parent + N(0, ``sma_sigma_km``) (mean motion follows);
* inclination: parent + N(0, ``inc_sigma_deg``), folded into [0, 180];
* eccentricity: |parent + N(0, ``ecc_sigma``)|, kept below 0.99, and reset to
  the parent's if the jitter would put the perigee lower than both the
  parent's perigee and 120 km altitude (such a copy would only decay).

Synthetic ids are ``first_id + k`` with ``first_id`` = 900,000,000 by default:
9-digit numbers, outside the 5-digit and Alpha-5 (<= 339,999) ranges real
catalogs use, so they never collide with a real object. Such ids do not fit a
TLE, so the element sets carry no TLE lines and SGP4 records are built with
``sgp4init`` from the mean elements (:meth:`ElementSet.to_satrec`).

Deterministic: the same base catalog, count and seed give the same
population (one seeded :class:`numpy.random.Generator`, draws in a fixed order).

>>> # python bench/population.py --n 100000   (prints a summary of the population)
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from kizuna.catalog.elements import ElementSet
from kizuna.catalog.snapshot import CatalogSnapshot
from kizuna.errors import KizunaError

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "tests" / "data" / "catalogs" / "spacetrack_3le_full_2023-09-09.txt.gz"

DEFAULT_SEED = 20230909
FIRST_SYNTHETIC_ID = 900_000_000
MU_KM3_S2 = 398600.8  # WGS72, as SGP4
R_EARTH_KM = 6378.135  # WGS72
_MIN_PERIGEE_ALT_KM = 120.0
_SECONDS_PER_DAY = 86400.0


class PopulationError(KizunaError, ValueError):
    """A population request that cannot be met (count below the base catalog, empty base...)."""


def sma_km(mean_motion_rev_day: np.ndarray) -> np.ndarray:
    """Two-body semi-major axis (km) of a mean motion in rev/day (Kepler's third law)."""
    n_rad_s = np.asarray(mean_motion_rev_day, dtype=float) * 2 * math.pi / _SECONDS_PER_DAY
    return np.cbrt(MU_KM3_S2 / n_rad_s**2)


def perigee_alt_km(element_sets: Sequence[ElementSet]) -> np.ndarray:
    """Perigee altitude (km) over the WGS72 equatorial radius, from the mean elements."""
    n = np.array([es.mean_motion_rev_day for es in element_sets])
    e = np.array([es.eccentricity for es in element_sets])
    return sma_km(n) * (1 - e) - R_EARTH_KM


def synthetic_element_sets(
    base: Sequence[ElementSet],
    n: int,
    *,
    seed: int = DEFAULT_SEED,
    first_id: int = FIRST_SYNTHETIC_ID,
    sma_sigma_km: float = 5.0,
    inc_sigma_deg: float = 0.1,
    ecc_sigma: float = 2e-4,
    angle_sigma_deg: float | None = 5.0,
) -> list[ElementSet]:
    """``n`` synthetic element sets drawn from the orbits of ``base`` (see module docstring).

    Parameters
    ----------
    base : sequence of ElementSet
        The real catalog to draw parents from (its order matters for determinism).
    n : int
        Number of synthetic objects.
    seed : int
        Seed of the numpy Generator.
    first_id : int
        NORAD id of the first synthetic object; ids are ``first_id .. first_id + n - 1``.
    sma_sigma_km, inc_sigma_deg, ecc_sigma, angle_sigma_deg : float
        Standard deviations of the jitter of semi-major axis (km), inclination
        (deg), eccentricity, and RAAN/argument of perigee (deg);
        ``angle_sigma_deg=None`` draws RAAN and argument of perigee uniformly.
    """
    if n < 0:
        raise PopulationError(f"n must be >= 0, got {n}")
    if n and not base:
        raise PopulationError("the base catalog is empty: nothing to draw orbits from")
    base_ids = {es.norad_id for es in base}
    if n and (first_id in base_ids or any(first_id <= i < first_id + n for i in base_ids)):
        raise PopulationError(f"synthetic ids {first_id}..{first_id + n - 1} collide with the base "
                              "catalog; pass another first_id")
    rng = np.random.default_rng(seed)
    parent = rng.integers(0, len(base), size=n) if n else np.zeros(0, dtype=np.int64)
    m_deg = rng.uniform(0.0, 360.0, size=n)
    if angle_sigma_deg is None:  # uniform: the parent's plane and perigee are forgotten
        d_raan = rng.uniform(0.0, 360.0, size=n)
        d_argp = rng.uniform(0.0, 360.0, size=n)
    else:
        d_raan = rng.normal(0.0, angle_sigma_deg, size=n)
        d_argp = rng.normal(0.0, angle_sigma_deg, size=n)
    d_a = rng.normal(0.0, sma_sigma_km, size=n)
    d_i = rng.normal(0.0, inc_sigma_deg, size=n)
    d_e = rng.normal(0.0, ecc_sigma, size=n)

    p_n = np.array([base[k].mean_motion_rev_day for k in parent])
    p_e = np.array([base[k].eccentricity for k in parent])
    p_i = np.array([base[k].inclination_deg for k in parent])
    p_a = sma_km(p_n)
    a = p_a + d_a
    # keep a above the Earth even for a very low parent (then the e rule below applies)
    a = np.maximum(a, R_EARTH_KM + _MIN_PERIGEE_ALT_KM)
    mm = p_n * (p_a / a) ** 1.5
    ecc = np.minimum(np.abs(p_e + d_e), 0.99)
    low = a * (1 - ecc) - R_EARTH_KM < np.minimum(p_a * (1 - p_e) - R_EARTH_KM,
                                                  _MIN_PERIGEE_ALT_KM)
    ecc = np.where(low, p_e, ecc)
    inc = p_i + d_i
    inc = np.where(inc < 0, -inc, inc)
    inc = np.where(inc > 180, 360 - inc, inc)

    out = []
    for k in range(n):
        src = base[parent[k]]
        out.append(replace(
            src,
            norad_id=first_id + k,
            mean_motion_rev_day=float(mm[k]),
            eccentricity=float(ecc[k]),
            inclination_deg=float(inc[k]),
            raan_deg=float((src.raan_deg + d_raan[k]) % 360.0),
            arg_perigee_deg=float((src.arg_perigee_deg + d_argp[k]) % 360.0),
            mean_anomaly_deg=float(m_deg[k]),
            name=f"SYN {first_id + k} OF {src.norad_id}",
            intl_designator=None,
            element_set_no=None,
            rev_at_epoch=None,
            tle_line1=None,
            tle_line2=None,
            omm_text=None,
        ))
    return out


def population(
    base: CatalogSnapshot,
    n_total: int,
    *,
    seed: int = DEFAULT_SEED,
    **jitter: float,
) -> CatalogSnapshot:
    """The base catalog plus ``n_total - len(base)`` synthetic objects, as one snapshot.

    ``jitter`` passes the ``*_sigma*`` keywords to :func:`synthetic_element_sets`.
    The synthetic objects keep their parents' epochs, so the newest epoch (the
    engine's default window start) is the base catalog's.
    """
    n_syn = int(n_total) - len(base)
    if n_syn < 0:
        raise PopulationError(f"n_total={n_total} is below the base catalog's {len(base)} "
                              "objects; use CatalogSnapshot.subset for a smaller catalog")
    syn = synthetic_element_sets(base.element_sets, n_syn, seed=seed, **jitter)
    return CatalogSnapshot.from_element_sets([*base.element_sets, *syn], base.objects.values(),
                                             as_of=base.as_of)


def load_real_catalog() -> CatalogSnapshot:
    """The real 2023-09-09 Space-Track catalog (25,587 objects) from tests/data."""
    from kizuna.api import load_catalog

    snap, _ = load_catalog(CATALOG)
    return snap


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="total objects (default 100,000)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = ap.parse_args()
    t0 = time.perf_counter()
    real = load_real_catalog()
    t1 = time.perf_counter()
    pop = population(real, args.n, seed=args.seed)
    t2 = time.perf_counter()
    hp_r = perigee_alt_km(real.element_sets)
    hp_p = perigee_alt_km(pop.element_sets)
    q = (0.1, 0.25, 0.5, 0.75, 0.9)
    print(f"{len(pop)} objects ({len(real)} real + {len(pop) - len(real)} synthetic), seed "
          f"{args.seed}; load {t1 - t0:.1f} s, generate {t2 - t1:.1f} s; "
          f"digest {pop.digest()[:16]}")
    print("perigee altitude quantiles (km) real:       "
          + " ".join(f"{x:8.1f}" for x in np.quantile(hp_r, q)))
    print("perigee altitude quantiles (km) population: "
          + " ".join(f"{x:8.1f}" for x in np.quantile(hp_p, q)))


if __name__ == "__main__":
    main()
