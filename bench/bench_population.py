"""Scaling benchmark: all-vs-all screening of a 100,000-object population, 1 day, 5 km.

The population is the real 2023-09-09 catalog (25,587 objects) plus 74,413
synthetic objects drawn from its own orbit distribution (bench/population.py,
seed 20230909). Window start: the engine's default (the newest epoch, which
the synthetic objects do not change).

Prints wall time, the engine's stage timings, event counts (split into
real-real, real-synthetic and synthetic-synthetic pairs: for objects drawn
from one distribution they should scale as the number of pairs), and peak
RSS (this process and its SGP4 worker processes).

Usage: ``python bench/bench_population.py [--quick] [--n 100000] [--workers 2] [--days 1]
[--json FILE]``. ``--quick``: 5,000 real objects (seeded choice) grown to 10,000.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from population import (
    DEFAULT_SEED,
    FIRST_SYNTHETIC_ID,
    load_real_catalog,
    population,
)


def _peak_rss_mb() -> tuple[float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    return me, kids


def main() -> None:
    from kizuna.screening import screen
    from kizuna.screening.engine import default_workers

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="5,000 real objects grown to 10,000")
    ap.add_argument("--n", type=int, default=100_000, help="total objects (default 100,000)")
    ap.add_argument("--workers", type=int, default=min(2, default_workers()))
    ap.add_argument("--days", type=float, default=1.0)
    ap.add_argument("--threshold-km", type=float, default=5.0)
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args()

    t0 = time.perf_counter()
    real = load_real_catalog()
    n_total = args.n
    if args.quick:
        rng = np.random.default_rng(2023)
        real = real.subset(rng.choice(real.norad_id, 5000, replace=False))
        n_total = 10_000
    t1 = time.perf_counter()
    pop = population(real, n_total, seed=args.seed)
    t2 = time.perf_counter()
    n_syn = len(pop) - len(real)
    print(f"population: {len(pop)} objects ({len(real)} real + {n_syn} synthetic, seed "
          f"{args.seed}, digest {pop.digest()[:16]}); load {t1 - t0:.1f} s, generate "
          f"{t2 - t1:.1f} s; RSS so far {_peak_rss_mb()[0]:.0f} MB", flush=True)

    t = time.perf_counter()
    r0, c0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    res = screen(pop, duration_s=args.days * 86400.0, threshold_km=args.threshold_km,
                 workers=args.workers)
    wall = time.perf_counter() - t
    r1, c1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU of the SGP4 worker processes is only counted once they have been waited for
    cpu = sum(getattr(b, f) - getattr(a, f) for a, b in ((r0, r1), (c0, c1))
              for f in ("ru_utime", "ru_stime"))
    me, kids = _peak_rss_mb()
    s = res.summary
    ev = res.events
    syn_a = ev["primary_norad_id"] >= FIRST_SYNTHETIC_ID
    syn_b = ev["secondary_norad_id"] >= FIRST_SYNTHETIC_ID
    n_rr = int((~syn_a & ~syn_b).sum())
    n_rs = int((syn_a ^ syn_b).sum())
    n_ss = int((syn_a & syn_b).sum())
    nr, ns = len(real), n_syn
    out = dict(
        n_objects=len(pop), n_real=nr, n_synthetic=ns, seed=args.seed, days=args.days,
        threshold_km=args.threshold_km, workers=args.workers, start=res.start.isoformat(),
        wall_s=wall, cpu_s=cpu, timings_s=s.timings_s, events=len(ev),
        events_real_real=n_rr, events_real_syn=n_rs, events_syn_syn=n_ss,
        n_screened=s.n_screened, n_prefiltered=s.n_prefiltered, n_failed=s.n_failed,
        n_candidates_broad=s.n_candidates_broad, n_candidates_narrow=s.n_candidates_narrow,
        n_sgp4_knots=s.n_sgp4_knots, n_sgp4_refine=s.n_sgp4_refine,
        max_interp_pad_km=s.max_interp_pad_km, n_shared_groups=len(s.shared_element_sets),
        peak_rss_mb=me, peak_rss_children_mb=kids,
        generate_s=t2 - t1, load_s=t1 - t0,
    )
    print(f"screen all-vs-all {args.days:g} d, {args.threshold_km:g} km, {args.workers} workers: "
          f"wall {wall:.1f} s (CPU {cpu:.1f} s); events {len(ev)}; peak RSS {me:.0f} MB (main), "
          f"{kids:.0f} MB (largest worker)")
    print("stage timings (s): " + " ".join(f"{k}={v:.1f}" for k, v in s.timings_s.items()))
    print(f"screened {s.n_screened}, prefiltered {s.n_prefiltered}, failed {s.n_failed}; "
          f"candidates broad {s.n_candidates_broad}, narrow {s.n_candidates_narrow}; SGP4 "
          f"knots {s.n_sgp4_knots}, refine {s.n_sgp4_refine}")
    # pairs scale: real-real ~ nr^2/2, real-syn ~ nr*ns, syn-syn ~ ns^2/2
    if nr > 1 and n_rr:
        rate = n_rr / (nr * (nr - 1) / 2)
        print(f"events real-real {n_rr}, real-synthetic {n_rs} (pair-count scaling predicts "
              f"{rate * nr * ns:.0f}), synthetic-synthetic {n_ss} (predicts "
              f"{rate * ns * (ns - 1) / 2:.0f})")
    la = os.getloadavg()
    print(f"load average at the end: {la[0]:.2f} {la[1]:.2f} {la[2]:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
