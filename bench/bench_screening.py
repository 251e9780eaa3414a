"""Benchmark of conjunction screening on the real 2023-09-09 catalog (25,587 objects).

Scenarios (each in its own process, so peak RSS is per scenario):

* ``all7``: all-vs-all, 7 days, 5 km, all cores (the issue's target: <= 4 min, design < 1 min)
* ``prot7``: 50 protected objects vs all, 7 days, 5 km (target <= 15 s)
* ``all1`` and ``naive1``: 1 day, 5 km: the engine, and beside it the naive padded
  per-time-step KD-tree screener of PEERS.md (SGP4 on a 60 s grid, ``cKDTree.query_pairs``
  with radius ``threshold + 15.8 km/s * 30 s + 1 km``, linear-motion filter, Newton on the
  cubic Hermite between grid points), single process as in PEERS.md.

Usage: ``python bench/bench_screening.py [--quick] [--workers N] [--only all7,prot7,...]``.
``--quick`` runs 1 day on a 5,000-object subset instead. Results print as a table and JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "tests" / "data" / "catalogs" / "spacetrack_3le_full_2023-09-09.txt.gz"


def _peak_rss_mb() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(me, kids) / 1024.0


def _snapshot(quick: bool):
    from kizuna.catalog.reader import read_catalog
    from kizuna.catalog.snapshot import CatalogSnapshot

    res = read_catalog(CATALOG)
    snap = CatalogSnapshot.from_element_sets(res.element_sets, res.objects)
    full = snap
    if quick:
        rng = np.random.default_rng(2023)
        snap = snap.subset(rng.choice(snap.norad_id, 5000, replace=False))
    return full, snap


def protected_ids(snap, n=50, seed=50):
    """50 payloads (names without DEB or R/B), seeded choice: a realistic protected list."""
    names = [(es.name or "").upper() for es in snap.element_sets]
    ok = [k for k, nm in enumerate(names) if nm and "DEB" not in nm and "R/B" not in nm]
    rng = np.random.default_rng(seed)
    return sorted(int(snap.norad_id[k]) for k in rng.choice(ok, n, replace=False))


def run_engine(snap, start, days, workers, primaries=None, backend="heyoka"):
    from kizuna.screening import ScreeningConfig, screen

    t = time.perf_counter()
    res = screen(snap, start=start, duration_s=days * 86400.0, threshold_km=5.0,
                 primaries=primaries, workers=workers,
                 config=ScreeningConfig(sgp4_backend=backend))
    wall = time.perf_counter() - t
    s = res.summary
    csv = res.to_csv()
    return dict(wall_s=wall, events=len(res.events), timings_s=s.timings_s,
                n_screened=s.n_screened, n_prefiltered=s.n_prefiltered, n_failed=s.n_failed,
                n_candidates_broad=s.n_candidates_broad, n_candidates_narrow=s.n_candidates_narrow,
                n_sgp4_knots=s.n_sgp4_knots, n_sgp4_refine=s.n_sgp4_refine,
                max_interp_pad_km=s.max_interp_pad_km,
                csv_sha256=hashlib.sha256(csv.encode()).hexdigest(),
                pairs=sorted({(int(a), int(b)) for a, b in zip(res.events["primary_norad_id"],
                                                               res.events["secondary_norad_id"],
                                                               strict=True)}))


def naive_kdtree(snap, start, days, threshold_km=5.0, step_s=60.0):
    """The PEERS.md baseline: padded per-time-step KD-tree on a 60 s SGP4 grid (1 process)."""
    from scipy.spatial import cKDTree
    from sgp4.api import SatrecArray

    from kizuna.timelib import jd_fr_from_datetime

    t0 = time.perf_counter()
    jd0, fr0 = jd_fr_from_datetime(start)
    ts = np.arange(0.0, days * 86400.0 + step_s / 2, step_s)
    sats = SatrecArray(snap.satrecs())
    e, r, v = sats.sgp4(np.full(len(ts), jd0), fr0 + ts / 86400.0)
    ok = e == 0
    t_prop = time.perf_counter() - t0
    radius = threshold_km + 15.8 * step_s / 2 + 1.0
    t_tree = t_ref = 0.0
    found = {}
    for k in range(len(ts)):
        t1 = time.perf_counter()
        idx = np.flatnonzero(ok[:, k])
        pairs = cKDTree(r[idx, k]).query_pairs(radius, output_type="ndarray")
        i, j = idx[pairs[:, 0]], idx[pairs[:, 1]]
        t2 = time.perf_counter()
        t_tree += t2 - t1
        d = r[j, k] - r[i, k]
        w = v[j, k] - v[i, k]
        ww = np.einsum("ij,ij->i", w, w)
        tau = -np.einsum("ij,ij->i", d, w) / np.where(ww > 0, ww, 1.0)
        lin = np.linalg.norm(d + w * tau[:, None], axis=1)
        keep = (np.abs(tau) <= step_s / 2) & (lin <= threshold_km + 1.0)
        i, j, tau = i[keep], j[keep], tau[keep]
        # Newton on the cubic Hermite of the segment containing t_k + tau
        tt = np.clip(ts[k] + tau, 0.0, ts[-1])
        seg = np.clip((tt // step_s).astype(int), 0, len(ts) - 2)
        good = ok[i, seg] & ok[i, seg + 1] & ok[j, seg] & ok[j, seg + 1]
        i, j, seg, tt = i[good], j[good], seg[good], tt[good]
        h = step_s
        s = (tt - ts[seg]) / h
        for _ in range(8):
            def herm(o, s):
                p0, p1, v0, v1 = r[o, seg], r[o, seg + 1], v[o, seg], v[o, seg + 1]
                s_ = s[:, None]
                pos = ((2 * s_**3 - 3 * s_**2 + 1) * p0 + (s_**3 - 2 * s_**2 + s_) * h * v0
                       + (-2 * s_**3 + 3 * s_**2) * p1 + (s_**3 - s_**2) * h * v1)
                vel = ((6 * s_**2 - 6 * s_) * p0 + (3 * s_**2 - 4 * s_ + 1) * h * v0
                       + (-6 * s_**2 + 6 * s_) * p1 + (3 * s_**2 - 2 * s_) * h * v1) / h
                return pos, vel
            pi, vi = herm(i, s)
            pj, vj = herm(j, s)
            dd, ww_ = pj - pi, vj - vi
            g = np.einsum("ij,ij->i", dd, ww_)
            gp = np.einsum("ij,ij->i", ww_, ww_)
            s = np.clip(s - g / np.where(gp > 0, gp, 1.0) / h, 0.0, 1.0)
        pi, _ = herm(i, s)
        pj, _ = herm(j, s)
        miss = np.linalg.norm(pj - pi, axis=1)
        tca = ts[seg] + s * h
        for a, b, t, m in zip(i[miss < threshold_km], j[miss < threshold_km],
                              tca[miss < threshold_km], miss[miss < threshold_km], strict=True):
            key = (min(int(snap.norad_id[a]), int(snap.norad_id[b])),
                   max(int(snap.norad_id[a]), int(snap.norad_id[b])), round(float(t)))
            found[key] = float(m)
        t_ref += time.perf_counter() - t2
    wall = time.perf_counter() - t0
    return dict(wall_s=wall, events=len(found), timings_s=dict(propagate=t_prop, kdtree=t_tree,
                                                                 refine=t_ref),
                pairs=sorted({k[:2] for k in found}))


def scenario(name: str, quick: bool, workers: int) -> dict:
    from kizuna.screening.engine import newest_epoch

    full, snap = _snapshot(quick)
    start = newest_epoch(full)
    days = 1.0 if quick else 7.0
    if name == "all7":
        out = run_engine(snap, start, days, workers)
    elif name == "prot7":
        out = run_engine(snap, start, days, workers, primaries=protected_ids(snap))
    elif name == "prot7_sgp4":  # baseline: the knots on python-sgp4 instead of heyoka
        out = run_engine(snap, start, days, workers, primaries=protected_ids(snap),
                         backend="sgp4")
    elif name == "all1":
        out = run_engine(snap, start, 1.0, workers)
    elif name == "naive1":
        out = naive_kdtree(snap, start, 1.0)
    else:
        raise SystemExit(f"unknown scenario {name}")
    out["peak_rss_mb"] = _peak_rss_mb()
    out["n_objects"] = len(snap)
    out["days"] = 1.0 if name in ("all1", "naive1") else days
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--only", default="all7,prot7,prot7_sgp4,all1,naive1")
    ap.add_argument("--scenario", help=argparse.SUPPRESS)
    ap.add_argument("--json", help="also write all results to this file")
    args = ap.parse_args()
    if args.scenario:
        print(json.dumps(scenario(args.scenario, args.quick, args.workers)))
        return
    results = {}
    for name in args.only.split(","):
        cmd = [sys.executable, __file__, "--scenario", name, "--workers", str(args.workers)]
        if args.quick:
            cmd.append("--quick")
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        results[name] = json.loads(out.strip().splitlines()[-1])
        r = results[name]
        print(f"{name:7s} N={r['n_objects']:6d} {r['days']:.0f} d  wall {r['wall_s']:8.1f} s  "
              f"events {r['events']:7d}  peak RSS {r['peak_rss_mb']:7.0f} MB  "
              + " ".join(f"{k}={v:.1f}" for k, v in r["timings_s"].items()), flush=True)
    if "all1" in results and "naive1" in results:
        a, nv = results["all1"], results["naive1"]
        pa, pn = {tuple(p) for p in a["pairs"]}, {tuple(p) for p in nv["pairs"]}
        print(f"1 day: naive/engine wall = {nv['wall_s'] / a['wall_s']:.1f}x "
              f"(naive on 1 core, engine on {args.workers}); pairs with events: engine {len(pa)}, "
              f"naive {len(pn)}, naive-only {len(pn - pa)}, engine-only {len(pa - pn)}")
    if "prot7" in results and "prot7_sgp4" in results:
        a, b = results["prot7"], results["prot7_sgp4"]
        print(f"protected: knots on heyoka {a['wall_s']:.1f} s, on python-sgp4 {b['wall_s']:.1f} s "
              f"({b['wall_s'] / a['wall_s']:.2f}x); same CSV: {a['csv_sha256'] == b['csv_sha256']}")
    for r in results.values():
        r.pop("pairs", None)
    uptime = os.getloadavg()
    print(f"load average at the end: {uptime[0]:.2f} {uptime[1]:.2f} {uptime[2]:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
