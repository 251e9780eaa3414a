"""Proximity screening of 50 protected payloads over 7 days (issue 5 performance target).

Same catalog and the same seeded 50 payloads as the protected conjunction screen of
bench_screening.py; runs that screen (5 km) and the proximity detection in the same
process so the two can be compared on a shared machine. Prints wall times, stage times,
event counts and peak RSS.

    .venv/bin/python bench/bench_proximity.py [--days 7] [--workers 2]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests" / "screening"))

from bench_screening import protected_ids  # noqa: E402
from screening_subsets import FULL_2023, load_snapshot  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=float, default=7.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--skip-screen", action="store_true")
    args = ap.parse_args()
    from kizuna.detection.proximity import detect_proximity
    from kizuna.screening import screen

    snap = load_snapshot(FULL_2023)
    ids = protected_ids(snap)
    W = args.days * 86400.0
    if not args.skip_screen:
        t = time.perf_counter()
        res = screen(snap, duration_s=W, threshold_km=5.0, primaries=ids, workers=args.workers)
        print(f"protected screen 5 km: {time.perf_counter() - t:.1f} s, {len(res)} events")
    t = time.perf_counter()
    rep = detect_proximity(snap, ids, duration_s=W, workers=args.workers)
    wall = time.perf_counter() - t
    kinds = Counter(e.kind for e in rep.events)
    print(f"proximity, {len(ids)} assets, {args.days:g} days: {wall:.1f} s, "
          f"{len(rep)} events {dict(kinds)}, {rep.n_candidate_pairs} candidate pairs, "
          f"{rep.n_screening_events} screening minima")
    print("stages s:", {k: round(v, 2) for k, v in rep.timings_s.items()})
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
