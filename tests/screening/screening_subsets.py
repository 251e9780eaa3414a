"""Real-object test populations for the screening tests and benchmark (deterministic).

All read ``tests/data/catalogs`` through the project's own reader.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

from kizuna.catalog.reader import read_catalog
from kizuna.catalog.snapshot import CatalogSnapshot

CATALOGS = Path(__file__).resolve().parents[1] / "data" / "catalogs"
FULL_2023 = CATALOGS / "spacetrack_3le_full_2023-09-09.txt.gz"
FULL_2022 = CATALOGS / "spacetrack_3le_full_2022-01-25.txt.gz"
RE_KM = 6378.135
MU = 398600.8


@cache
def load_snapshot(path: Path) -> CatalogSnapshot:
    res = read_catalog(path)
    return CatalogSnapshot.from_element_sets(res.element_sets, res.objects)


def _shell(snap: CatalogSnapshot) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n = np.array([es.mean_motion_rev_day for es in snap.element_sets]) * 2 * np.pi / 86400
    e = np.array([es.eccentricity for es in snap.element_sets])
    a = (MU / n**2) ** (1 / 3)
    return a * (1 - e) - RE_KM, a * (1 + e) - RE_KM, n * 86400 / (2 * np.pi), e


def dense_leo(snap: CatalogSnapshot, n_max: int = 700, seed: int = 7) -> np.ndarray:
    """Objects through the crowded Starlink shell (540-560 km): payloads and crossing debris."""
    hp, ha, _, _ = _shell(snap)
    through = np.flatnonzero((hp <= 560) & (ha >= 540))
    rng = np.random.default_rng(seed)
    pick = rng.choice(through, size=min(n_max, len(through)), replace=False)
    return snap.norad_id[np.sort(pick)]


def geo_cluster(snap: CatalogSnapshot, n_max: int = 250) -> np.ndarray:
    """Near-geostationary objects (co-located and drifting): slow pairs."""
    _, _, n, e = _shell(snap)
    geo = np.flatnonzero((np.abs(n - 1.0027) < 0.02) & (e < 0.02))
    return snap.norad_id[geo[:n_max]]


def eccentric(snap: CatalogSnapshot, n_max: int = 60) -> np.ndarray:
    """Highly eccentric orbits (GTO, Molniya) with perigee in LEO: fast, deep-space crossings."""
    hp, _, _, e = _shell(snap)
    ecc = np.flatnonzero((e > 0.5) & (hp < 1500))
    return snap.norad_id[ecc[:n_max]]


def geo_neighbours(snap: CatalogSnapshot, radius_km: float = 200.0) -> np.ndarray:
    """Near-geostationary objects with another one within ``radius_km`` at the newest epoch
    (co-located clusters and slow drifters): slow pairs, flat minima."""
    from sgp4.api import SatrecArray

    from kizuna.screening.engine import newest_epoch
    from kizuna.timelib import jd_fr_from_datetime

    _, _, n, e = _shell(snap)
    geo = np.flatnonzero((np.abs(n - 1.0027) < 0.01) & (e < 0.01))
    jd, fr = jd_fr_from_datetime(newest_epoch(snap))
    sats = [snap.element_sets[k].to_satrec() for k in geo]
    err, r, _ = SatrecArray(sats).sgp4(np.array([jd]), np.array([fr]))
    r = r[:, 0]
    d = np.linalg.norm(r[:, None] - r[None, :], axis=-1)
    np.fill_diagonal(d, np.inf)
    close = (d.min(axis=1) < radius_km) & (err[:, 0] == 0)
    return snap.norad_id[geo[close]]
