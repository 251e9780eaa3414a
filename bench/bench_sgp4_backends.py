"""SGP4 throughput of the knots' two backends on the real 2023-09-09 catalog, one process each.

heyoka's compiled SGP4 (near-Earth objects) against python-sgp4's ``SatrecArray`` on the
same objects and times (every near-Earth object of the catalog, 7 days at 600 s), plus the
largest position difference between them. Run: ``.venv/bin/python bench/bench_sgp4_backends.py``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "tests" / "data" / "catalogs" / "spacetrack_3le_full_2023-09-09.txt.gz"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1 day instead of 7")
    args = ap.parse_args()
    from kizuna.catalog.reader import read_catalog
    from kizuna.propagation.backends import BatchSgp4
    from kizuna.screening.knots import MAX_RADIUS_KM, MAX_SPEED_KM_S, MIN_RADIUS_KM

    res = read_catalog(CATALOG)
    sats = [es.to_satrec() for es in res.element_sets]
    near = [s for s in sats if s.method == "n"]
    jd0 = max(s.jdsatepoch + s.jdsatepochF for s in sats)
    days = 1.0 if args.quick else 7.0
    t_s = np.arange(0.0, days * 86400.0 + 1.0, 600.0)
    jd = np.full(len(t_s), np.floor(jd0))
    fr = (jd0 - np.floor(jd0)) + t_s / 86400.0
    n_props = len(near) * len(t_s)
    out = {}
    for backend in ("sgp4", "heyoka"):
        b = BatchSgp4(near, backend)
        b.sgp4(jd[:2], fr[:2])  # compile / warm up
        t0 = time.perf_counter()
        out[backend] = b.sgp4(jd, fr)
        dt = time.perf_counter() - t0
        print(f"| {backend:7s} | {len(near):6d} near-Earth objects x {len(t_s)} times | "
              f"{dt:6.2f} s | {n_props / dt / 1e6:5.2f} M propagations/s |", flush=True)
    (e0, r0, v0), (e1, r1, _) = out["sgp4"], out["heyoka"]
    # Decaying objects' last SGP4 states can be no orbit at all (1e7 km, 1e6 km/s) with no
    # error code; the knots treat them as failures (kizuna.screening.knots), and there the
    # two backends differ by up to ~100 km: compare physical states only.
    rad = np.linalg.norm(r0, axis=-1)
    spd = np.linalg.norm(v0, axis=-1)
    ok = (e0 == 0) & (rad > MIN_RADIUS_KM) & (rad < MAX_RADIUS_KM) & (spd < MAX_SPEED_KM_S)
    dr = np.linalg.norm(r1 - r0, axis=-1)[ok]
    print(f"error codes identical: {bool((e0 == e1).all())}; non-physical states without an "
          f"error code: {int(((e0 == 0) & ~ok).sum())}; |dr| over {ok.sum()} physical states: "
          f"max {dr.max() * 1e5:.3f} cm, p99.99 {np.percentile(dr, 99.99) * 1e5:.5f} cm, "
          f"median {np.median(dr) * 1e5:.2e} cm")


if __name__ == "__main__":
    main()
