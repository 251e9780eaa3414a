"""Decide, with exact SGP4, the pairs on which the engine and the naive screener disagree.

Runs ``kizuna.screening.screen`` (all-vs-all, 1 day, 5 km, start = newest epoch) and the
naive padded KD-tree screener of ``bench/bench_screening.py`` on the same snapshot and
window (the naive run is cached in ``--cache-dir``; delete it to rerun). For every
naive-only pair and a sample of engine-only pairs, the truth is decided independently
of both screeners: each object is propagated with ``Satrec.sgp4`` every 1 s over the
window, the pair distance's local minima on that grid are refined with
``scipy.optimize.minimize_scalar`` (bounded, +-1 s), and a pair is a true event if it
has a local minimum strictly inside ``(start, start + duration)`` below the threshold
with both objects free of SGP4 errors at the TCA (the engine's definition).

Classes:

* ``true-event``: a true event the engine reports; ``true-miss``: one it does not report;
* ``no-event-edge`` / ``no-event-above``: no local minimum below the threshold strictly
  inside the window (for a naive-only pair: a naive false positive). ``edge``: the
  distance is below the threshold at the window start or end and still falling there
  (a boundary minimum, not an event); ``above``: all interior minima are >= threshold;
* ``after-sgp4-error``: minima below the threshold exist, but only after the first SGP4
  error of one of the objects (SGP4 returns code 0 again later for some decaying objects;
  the engine drops an object from its first error on, the naive screener does not);
* ``constant-dist``: the distance is the same at every 1 s sample (objects with identical
  element sets, e.g. docked vehicles published with their station's TLE): no local minimum;
* ``other``: anything else.

Usage: ``python bench/check_naive_only.py [--workers 2] [--engine-sample 20]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import minimize_scalar

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_screening as bs

THR = 5.0
DAYS = 1.0


def engine_events(snap, start, workers, cache: Path):
    f = cache / "engine1.json"
    if f.exists():
        return json.loads(f.read_text())
    from kizuna.screening import screen

    t = time.perf_counter()
    res = screen(snap, start=start, duration_s=DAYS * 86400.0, threshold_km=THR, workers=workers)
    ev = res.events
    out = dict(wall_s=time.perf_counter() - t,
               events=[[int(a), int(b), float(t_), float(m), float(v)] for a, b, t_, m, v in zip(
                   ev["primary_norad_id"], ev["secondary_norad_id"], ev["t_s"], ev["miss_km"],
                   ev["rel_speed_km_s"], strict=True)],
               failed=list(res.summary.failed_norad_ids),
               n_refine_failed=res.summary.n_refine_failed,
               max_interp_pad_km=res.summary.max_interp_pad_km)
    f.write_text(json.dumps(out))
    return out


def naive_pairs(snap, start, cache: Path):
    f = cache / "naive1.json"
    if f.exists():
        return json.loads(f.read_text())
    out = bs.naive_kdtree(snap, start, DAYS)
    out["start"] = start.isoformat()
    f.write_text(json.dumps(out))
    return out


def exact_track(sat, jd0, fr0, ts):
    e, r, v = sat.sgp4_array(np.full(len(ts), jd0), fr0 + ts / 86400.0)
    return np.asarray(e), np.asarray(r), np.asarray(v)


def truth(sa, sb, jd0, fr0, W):
    """Local minima (< 2 * THR) of the exact SGP4 distance of a pair over [0, W]."""
    ts = np.arange(0.0, W + 0.5, 1.0)
    ea, ra, va = exact_track(sa, jd0, fr0, ts)
    eb, rb, vb = exact_track(sb, jd0, fr0, ts)
    ok = (ea == 0) & (eb == 0)
    d = np.linalg.norm(rb - ra, axis=1)
    d[~ok] = np.inf

    def dist(t):
        e1, r1, _ = sa.sgp4(jd0, fr0 + t / 86400.0)
        e2, r2, _ = sb.sgp4(jd0, fr0 + t / 86400.0)
        return np.inf if (e1 or e2) else float(np.linalg.norm(np.subtract(r2, r1)))

    mins = []
    k = np.flatnonzero((d[1:-1] <= d[:-2]) & (d[1:-1] < d[2:]) & (d[1:-1] < 2 * THR)) + 1
    for i in k:
        o = minimize_scalar(dist, bounds=(ts[i] - 1.0, ts[i] + 1.0), method="bounded",
                            options=dict(xatol=1e-4))
        t_, m = float(o.x), float(o.fun)
        _, _, v1 = sa.sgp4(jd0, fr0 + t_ / 86400.0)
        _, _, v2 = sb.sgp4(jd0, fr0 + t_ / 86400.0)
        mins.append(dict(t=t_, miss=m, speed=float(np.linalg.norm(np.subtract(v2, v1)))))
    edge = []
    if np.isfinite(d[0]) and d[0] < 2 * THR and d[1] > d[0]:
        edge.append(dict(where="start", miss=float(d[0])))
    if np.isfinite(d[-1]) and d[-1] < 2 * THR and d[-2] > d[-1]:
        edge.append(dict(where="end", miss=float(d[-1])))
    first_err = dict(a=float(ts[np.argmax(ea != 0)]) if (ea != 0).any() else None,
                     b=float(ts[np.argmax(eb != 0)]) if (eb != 0).any() else None,
                     a_code=int(ea[ea != 0][0]) if (ea != 0).any() else 0,
                     b_code=int(eb[eb != 0][0]) if (eb != 0).any() else 0)
    fin = d[np.isfinite(d)]
    constant = bool(len(fin) and fin.max() - fin.min() < 1e-9)
    return mins, edge, first_err, float(np.min(d)), constant


def orbit(sat):
    return dict(n_rev_day=sat.no_kozai * 1440 / (2 * np.pi), ecc=sat.ecco,
                inc_deg=np.degrees(sat.inclo), perigee_km=sat.altp * 6378.135,
                apogee_km=sat.alta * 6378.135, bstar=sat.bstar)


def classify(pair, sats, jd0, fr0, W, eng_by_pair, failed):
    a, b = pair
    sa, sb = sats[a], sats[b]
    mins, edge, ferr, dmin, constant = truth(sa, sb, jd0, fr0, W)
    inside = [m for m in mins if 0.0 < m["t"] < W and m["miss"] < THR]
    # the engine's definition: an object is dropped from its first SGP4 error on
    t_fail = min(x for x in (ferr["a"], ferr["b"], np.inf) if x is not None)
    valid = [m for m in inside if m["t"] < t_fail]
    eng = eng_by_pair.get(pair, [])
    if valid:
        cls = "true-event" if eng else "true-miss"
    elif inside:
        cls = "after-sgp4-error"
    elif edge and min(e["miss"] for e in edge) < THR:
        cls = "no-event-edge"
    elif mins:
        cls = "no-event-above"
    elif constant:
        cls = "constant-dist"
    else:
        cls = "other"
    return dict(pair=pair, cls=cls, exact_minima=mins, edge=edge, min_grid_km=dmin,
                engine=eng, first_sgp4_error_s=ferr,
                failed=[x for x in pair if x in failed], orb_a=orbit(sa), orb_b=orbit(sb))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--engine-sample", type=int, default=20)
    ap.add_argument("--cache-dir", default="/tmp/naive_check")
    ap.add_argument("--json", default="/tmp/naive_check/classified.json")
    args = ap.parse_args()
    cache = Path(args.cache_dir)
    cache.mkdir(parents=True, exist_ok=True)

    from kizuna.screening.engine import newest_epoch
    from kizuna.timelib import jd_fr_from_datetime

    full, snap = bs._snapshot(False)
    start = newest_epoch(full)
    jd0, fr0 = jd_fr_from_datetime(start)
    W = DAYS * 86400.0
    nv = naive_pairs(snap, start, cache)
    assert nv["start"] == start.isoformat(), (nv["start"], start)
    en = engine_events(snap, start, args.workers, cache)
    eng_by_pair: dict = {}
    for a, b, t, m, v in en["events"]:
        eng_by_pair.setdefault((a, b), []).append(dict(t=t, miss=m, speed=v))
    pn = {tuple(p) for p in nv["pairs"]}
    pe = set(eng_by_pair)
    failed = set(en["failed"])
    naive_only = sorted(pn - pe)
    engine_only = sorted(pe - pn)
    print(f"start {start.isoformat()}  N={len(snap)}  engine pairs {len(pe)}  naive pairs "
          f"{len(pn)}  naive-only {len(naive_only)}  engine-only {len(engine_only)}  "
          f"engine failed objects {len(failed)}  engine wall {en['wall_s']:.1f} s")

    satrecs = snap.satrecs()
    sats = {int(i): s for i, s in zip(snap.norad_id, satrecs, strict=True)}
    rng = np.random.default_rng(0)
    samp = [engine_only[k] for k in sorted(rng.choice(len(engine_only),
                                                      min(args.engine_sample, len(engine_only)),
                                                      replace=False))]
    rows = {"naive-only": [classify(p, sats, jd0, fr0, W, eng_by_pair, failed)
                           for p in naive_only],
            "engine-only-sample": [classify(p, sats, jd0, fr0, W, eng_by_pair, failed)
                                   for p in samp]}
    for group, rs in rows.items():
        print(f"\n== {group} ({len(rs)} pairs) ==")
        print(f"{'pair':>13s} {'class':15s} {'tca_s':>9s} {'miss':>7s} {'vrel':>6s} "
              f"{'gridmin':>8s} {'eng_miss':>8s} {'edge':>12s}  failed  "
              "n_a/e_a/i_a  n_b/e_b/i_b  sgp4err")
        for r in rs:
            m = min(r["exact_minima"], key=lambda x: x["miss"], default=None)
            em = min((e["miss"] for e in r["engine"]), default=None)
            ed = ",".join(f"{e['where']}:{e['miss']:.2f}" for e in r["edge"]) or "-"
            oa, ob = r["orb_a"], r["orb_b"]
            fe = r["first_sgp4_error_s"]
            err = "-" if fe["a"] is None and fe["b"] is None else (
                f"a@{fe['a']}({fe['a_code']}) b@{fe['b']}({fe['b_code']})")
            print(f"{r['pair'][0]:>6d}-{r['pair'][1]:<6d} {r['cls']:15s} "
                  + (f"{m['t']:9.1f} {m['miss']:7.4f} {m['speed']:6.2f} " if m else
                     f"{'-':>9s} {'-':>7s} {'-':>6s} ")
                  + f"{r['min_grid_km']:8.3f} "
                  + (f"{em:8.3f} " if em is not None else f"{'-':>8s} ")
                  + f"{ed:>12s}  {r['failed'] or '-'!s:6s}  "
                  f"{oa['n_rev_day']:.2f}/{oa['ecc']:.4f}/{oa['inc_deg']:.1f}  "
                  f"{ob['n_rev_day']:.2f}/{ob['ecc']:.4f}/{ob['inc_deg']:.1f}  {err}")
        counts: dict = {}
        for r in rs:
            counts[r["cls"]] = counts.get(r["cls"], 0) + 1
        print("counts:", counts)
    Path(args.json).write_text(json.dumps(rows, indent=1, default=str))


if __name__ == "__main__":
    main()
