"""Proximity screening of 50 protected payloads over 7 days (issue 5 performance target).

Same catalog (2023-09-09) and the same seeded 50 payloads as the protected conjunction screen
of bench_screening.py. Runs both broad phases in one process, side by side:

* ``elements`` (default): mean-element + sampled-phase prefilter, screening engine only
  against objects with a known maneuver (none here: a snapshot has no history);
* ``screen``: the screening engine against the whole catalog at the largest range (75 km).

and compares the event lists (recall of ``elements`` against ``screen``). Prints a table with
wall time, process CPU time (this process and its worker processes), stage times, candidate
counts and events by kind, then the comparison and peak RSS.

    .venv/bin/python bench/bench_proximity.py [--days 7] [--workers 2] [--paths elements,screen]
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

from bench_screening import protected_ids
from screening_subsets import FULL_2023, load_snapshot


def _cpu_s() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _key(e):
    return (e.protected_norad_id, e.other_norad_id, e.kind, round(e.start_s), round(e.end_s))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=float, default=7.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--paths", default="elements,screen",
                    help="broad phases to run, comma-separated (elements, screen)")
    ap.add_argument("--quick", action="store_true", help="1 day")
    args = ap.parse_args()
    if args.quick:
        args.days = 1.0
    from kizuna.detection.proximity import ProximitySettings, detect_proximity

    snap = load_snapshot(FULL_2023)
    ids = protected_ids(snap)
    W = args.days * 86400.0
    print(f"catalog {FULL_2023.name}: {len(snap):,} objects, {len(ids)} protected payloads, "
          f"{args.days:g} days, workers={args.workers}")
    reps, rows = {}, []
    for path in [p.strip() for p in args.paths.split(",") if p.strip()]:
        c0, t0 = _cpu_s(), time.perf_counter()
        rep = detect_proximity(snap, ids, duration_s=W, workers=args.workers,
                               settings=ProximitySettings(broad_phase=path))
        wall, cpu = time.perf_counter() - t0, _cpu_s() - c0
        reps[path] = rep
        st = rep.timings_s
        kinds = Counter(e.kind for e in rep.events)
        rows.append((path, f"{wall:.1f}", f"{cpu:.1f}", f"{st.get('screen', 0):.1f}",
                     f"{st.get('candidates', 0):.1f}", f"{st.get('histories', 0):.1f}",
                     f"{rep.n_screening_events:,}", f"{rep.n_stay_candidates:,}",
                     f"{rep.n_candidate_pairs:,}", str(len(rep)),
                     " ".join(f"{k}={v}" for k, v in sorted(kinds.items()))))
    head = ("broad phase", "wall s", "CPU s", "screen s", "candidates s", "histories s",
            "screening minima", "stay candidates", "pairs with histories", "events", "by kind")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        print("| " + " | ".join(r) + " |")
    if {"elements", "screen"} <= set(reps):
        new = {_key(e): e for e in reps["elements"].events}
        ref = {_key(e): e for e in reps["screen"].events}
        missing = sorted(set(ref) - set(new))
        extra = sorted(set(new) - set(ref))
        both = [k for k in ref if k in new]
        d_km = [new[k].min_range_km - ref[k].min_range_km for k in both]
        print(f"recall: {len(both)}/{len(ref)} screen-path events also from the elements path; "
              f"missing {missing}; extra {extra}")
        if d_km:
            print(f"min range elements - screen: {min(d_km):+.4f} .. {max(d_km):+.4f} km")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
