"""Benchmark: what a fresh KnotPropagator costs per chunk, against the chunk's knot work.

The Dask path (:mod:`kizuna.screening.distributed`) builds a new
:class:`~kizuna.screening.knots.KnotPropagator` for every chunk. This measures, in
one process on one core, the construction (the first one includes loading the
compiled kernels and heyoka's JIT) and one chunk's knots, ``--repeat`` times, on
the 2023-09-09 full catalog, all-vs-all plan of ``--days`` days
(docs/design/screening.md, "Scale-out on a Dask cluster").

    .venv/bin/python bench/bench_knot_propagator.py [--days 7] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "screening"))

from screening_subsets import FULL_2023, load_snapshot  # noqa: E402

from kizuna.screening.base import ScreeningConfig  # noqa: E402
from kizuna.screening.engine import _plan, newest_epoch  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=7.0, help="window, days (default 7)")
    ap.add_argument("--repeat", type=int, default=3, help="propagators built (default 3)")
    args = ap.parse_args(argv)
    snap = load_snapshot(FULL_2023)
    plan = _plan(snap, newest_epoch(snap), args.days * 86400.0, 10.0, None, ScreeningConfig())[0]
    chunks = plan.chunks()
    print(f"{FULL_2023.name}: {len(plan.obj):,} objects after the prefilter, "
          f"{args.days:g}-day window, {len(chunks)} chunks")
    print("| build | construct s | one chunk's knots s | R and V buffers MB |")
    print("|---:|---:|---:|---:|")
    for k in range(args.repeat):
        t0 = time.perf_counter()
        kp = plan.knot_propagator(1)
        t1 = time.perf_counter()
        kp.chunk(*chunks[k % len(chunks)])
        t2 = time.perf_counter()
        print(f"| {k + 1} | {t1 - t0:.2f} | {t2 - t1:.2f} | "
              f"{(kp.R.nbytes + kp.V.nbytes) / 1e6:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
