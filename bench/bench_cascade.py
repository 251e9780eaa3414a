"""Side by side: esa-cascade (peer) and Kizuna's screening engine, 1 day, 5 km, same objects.

Objects: the real 2023-09-09 catalog (25,587), minus the objects whose SGP4
fails at the window start (71) and the objects whose osculating apocentre at
the start is above 100,000 km (38: with them in its domain cascade is ~6x
slower, see MAX_APO_KM; ``--all-objects`` keeps them), the same set for both.
Window start: the engine's default, the newest epoch of the catalog.
``--leo``: only the objects whose apocentre is below 2,000 km altitude
(20,758); ``--quick``: 5,000 of those, drawn with a fixed seed.

Kizuna screens the element sets with SGP4. cascade 0.1.7 can only fly pure
Keplerian orbits here (see bench/peers/setup_peers.py): it starts from the
SGP4 TEME states at the window start, converted to its non-dimensional units
(length L = 6378.135 km, mu = 398600.8 km^3/s^2, the WGS72 values SGP4 uses,
so the time unit is sqrt(L^3/mu) = 806.8 s). Its domain: re-entry radius
L (SGP4 also gives up below one Earth radius), exit radius 1.1 times the
largest distance any object can reach in the window (so no object leaves);
ct = 135 s, n_par_ct = 20 (one day = 32 super-steps exactly), 2 threads.

Each tool runs in a subprocess of its own (cascade in the peer venv, created
on first use by bench/peers/setup_peers.py), so wall time and peak RSS are per
tool; catalog loading and the SGP4 start states are not timed.

The pair lists differ by construction (Keplerian vs SGP4 motion); the script
measures by how much: Keplerian vs SGP4 position divergence over the day,
and the overlap of events by TCA and relative speed.

Usage: ``python bench/bench_cascade.py [--quick | --leo | --all-objects] [--threads 2]
[--json FILE]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
CATALOG = ROOT / "tests" / "data" / "catalogs" / "spacetrack_3le_full_2023-09-09.txt.gz"

MU_KM3_S2 = 398600.8  # WGS72, as SGP4
L_KM = 6378.135  # WGS72 Earth radius: cascade length unit
T_S = float(np.sqrt(L_KM**3 / MU_KM3_S2))  # cascade time unit
V_KM_S = L_KM / T_S
DAY_S = 86400.0
THRESHOLD_KM = 5.0
CT_S = 135.0
N_PAR_CT = 20
QUICK_N = 5000
QUICK_APO_ALT_KM = 2000.0
MATCH_TOL_S = 60.0
# cascade's cost explodes with a few very distant objects in the domain (measured: the
# 38 objects of the 2023-09-09 catalog with apocentre > 100,000 km make 1.5 h of the
# whole catalog cost 63 CPU-s instead of 11, same conjunctions); left out for both tools.
MAX_APO_KM = 100_000.0


def _cpu_s() -> float:
    """CPU seconds (user + system) of this process and its waited-for children."""
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def _peak_rss_mb() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(me, kids) / 1024.0


def load_objects(quick: bool, leo: bool = False, max_apo_km: float | None = MAX_APO_KM):
    """Snapshot, window start, and the object set: (snap, start, ids, r_km, v_km_s) at start.

    Objects whose osculating apocentre at the start exceeds ``max_apo_km``
    are left out (None keeps all); ``leo``: only objects whose apocentre is
    below 2,000 km altitude; ``quick``: 5,000 of those (seeded choice).
    """
    from sgp4.api import SatrecArray

    from kizuna.api import load_catalog
    from kizuna.screening.engine import newest_epoch
    from kizuna.timelib import jd_fr_from_datetime

    snap, _ = load_catalog(CATALOG)
    start = newest_epoch(snap)
    jd0, fr0 = jd_fr_from_datetime(start)
    e, r, v = SatrecArray(snap.satrecs()).sgp4(np.array([jd0]), np.array([fr0]))
    ok = (e[:, 0] == 0) & np.isfinite(r[:, 0]).all(axis=1)
    ids, r, v = snap.norad_id[ok], r[ok, 0], v[ok, 0]
    n_fail = int((~ok).sum())
    _, ecc, a = osculating(r, v)
    if max_apo_km is not None:
        near = a * (1 + ecc) <= max_apo_km
        ids, r, v, ecc, a = ids[near], r[near], v[near], ecc[near], a[near]
    if quick or leo:
        pick = np.flatnonzero(a * (1 + ecc) < L_KM + QUICK_APO_ALT_KM)
        if quick:
            pick = np.sort(np.random.default_rng(2023).choice(pick, QUICK_N, replace=False))
        ids, r, v = ids[pick], r[pick], v[pick]
    return snap, start, ids, r, v, n_fail


def osculating(r, v):
    """Two-body energy, eccentricity and semi-major axis (km) of TEME states."""
    rn = np.linalg.norm(r, axis=1)
    en = 0.5 * np.einsum("ij,ij->i", v, v) - MU_KM3_S2 / rn
    h = np.cross(r, v)
    ev = np.cross(v, h) / MU_KM3_S2 - r / rn[:, None]
    return en, np.linalg.norm(ev, axis=1), -MU_KM3_S2 / (2 * en)


def kepler(r0, v0, t_s):
    """Two-body states after ``t_s`` seconds from ``r0, v0`` (km, km/s; elliptic orbits only).

    Kepler's equation in eccentric anomaly (Newton from Danby's starting
    value, good for any e < 1), then Lagrange f and g in the anomaly change.
    """
    rn = np.linalg.norm(r0, axis=1)
    sig = np.einsum("ij,ij->i", r0, v0) / np.sqrt(MU_KM3_S2)
    _, ecc, a = osculating(r0, v0)
    n = np.sqrt(MU_KM3_S2 / a**3)
    E0 = np.arctan2(sig / np.sqrt(a), 1 - rn / a)  # e sin E0, e cos E0
    M1 = E0 - ecc * np.sin(E0) + n * t_s
    E1 = M1 + 0.85 * ecc * np.sign(np.sin(M1))
    for _ in range(60):
        step = (E1 - ecc * np.sin(E1) - M1) / (1 - ecc * np.cos(E1))
        E1 -= step
        if np.max(np.abs(step)) < 1e-14:
            break
    dE = E1 - E0
    r1n = a + (rn - a) * np.cos(dE) + sig * np.sqrt(a) * np.sin(dE)
    f_ = 1 - a / rn * (1 - np.cos(dE))
    g_ = t_s + np.sqrt(a**3 / MU_KM3_S2) * (np.sin(dE) - dE)
    fd = -np.sqrt(MU_KM3_S2 * a) / (r1n * rn) * np.sin(dE)
    gd = 1 - a / r1n * (1 - np.cos(dE))
    r1 = f_[:, None] * r0 + g_[:, None] * v0
    v1 = fd[:, None] * r0 + gd[:, None] * v0
    return r1, v1


def max_reach_km(r, v, t_s):
    """Upper bound of the distance from the centre any object reaches within ``t_s``."""
    _, ecc, a = osculating(r, v)
    rn, vn = np.linalg.norm(r, axis=1), np.linalg.norm(v, axis=1)
    return float(np.minimum(a * (1 + ecc), rn + vn * t_s).max())


# --- the two runs (each in its own process) --------------------------------------------------

def run_kizuna(ids_file: str, out_file: str, workers: int) -> dict:
    from kizuna.screening import screen

    snap, start, *_ = load_objects(False)
    ids = np.load(ids_file)
    sub = snap.subset(ids)
    assert len(sub) == len(ids)
    t = time.perf_counter()
    cpu0 = _cpu_s()
    res = screen(sub, start=start, duration_s=DAY_S, threshold_km=THRESHOLD_KM, workers=workers)
    wall = time.perf_counter() - t
    cpu = _cpu_s() - cpu0
    ev = res.events
    np.savez(out_file, a=np.minimum(ev["primary_norad_id"], ev["secondary_norad_id"]),
             b=np.maximum(ev["primary_norad_id"], ev["secondary_norad_id"]), t_s=ev["t_s"],
             miss_km=ev["miss_km"], rel_speed_km_s=ev["rel_speed_km_s"],
             shared=np.array([x for g in res.summary.shared_element_sets for x in g],
                             dtype=np.int64))
    s = res.summary
    return dict(wall_s=wall, cpu_s=cpu, events=len(ev), timings_s=s.timings_s,
                n_screened=s.n_screened, n_failed=s.n_failed,
                n_shared_groups=len(s.shared_element_sets),
                peak_rss_mb=_peak_rss_mb(), workers=workers)


def run_cascade(r, v, start_out: Path, threads: int) -> tuple[dict, dict]:
    from peers.setup_peers import ensure_peer_venv

    py = ensure_peer_venv()
    state = np.zeros((len(r), 7))
    state[:, :3] = r / L_KM
    state[:, 3:6] = v / V_KM_S
    exit_km = 1.1 * max_reach_km(r, v, DAY_S)
    inp, out = start_out / "cascade_in.npz", start_out / "cascade_out.npz"
    np.savez(inp, state=state, t_end=DAY_S / T_S, ct=CT_S / T_S, n_par_ct=N_PAR_CT,
             conj_thresh=THRESHOLD_KM / L_KM, reentry_radius=1.0, exit_radius=exit_km / L_KM,
             nthreads=threads)
    t = time.perf_counter()
    proc = subprocess.run([str(py), str(ROOT / "bench" / "peers" / "cascade_runner.py"),
                           str(inp), str(out)], check=True, capture_output=True, text=True)
    outer = time.perf_counter() - t
    rep = json.loads(proc.stdout.strip().splitlines()[-1])
    rep["process_wall_s"] = outer
    rep["exit_radius_km"] = exit_km
    rep["peak_rss_children_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    with np.load(out) as z:
        arrays = {k: z[k] for k in z.files}
    return rep, arrays


# --- comparison -------------------------------------------------------------------------------

def divergence(snap, start, ids, r, v, hours=(1, 3, 6, 12, 24)):
    """Keplerian vs SGP4 position difference (km) quantiles at a few times."""
    from sgp4.api import SatrecArray

    from kizuna.timelib import jd_fr_from_datetime

    jd0, fr0 = jd_fr_from_datetime(start)
    sats = SatrecArray(snap.subset(ids).satrecs())
    ts = np.array(hours, dtype=float) * 3600.0
    e, rs, _ = sats.sgp4(np.full(len(ts), jd0), fr0 + ts / DAY_S)
    out = {}
    for k, (h, t) in enumerate(zip(hours, ts, strict=True)):
        rk, _ = kepler(r, v, t)
        d = np.linalg.norm(rk - rs[:, k], axis=1)[e[:, k] == 0]
        out[f"{h}h"] = {f"q{int(q * 100)}": float(np.quantile(d, q))
                        for q in (0.1, 0.5, 0.9)} | {"frac_lt_5km": float((d < 5).mean())}
    return out


def compare(ids, kz, cs) -> dict:
    """Match events on (pair, |dTCA| <= 60 s); overlap by TCA bin and relative speed."""
    # cascade: rows -> NORAD ids, TCA seconds, relative speed
    ia, ib = ids[cs["i"]], ids[cs["j"]]
    c_a, c_b = np.minimum(ia, ib), np.maximum(ia, ib)
    c_t = cs["time"] * T_S
    c_vrel = np.linalg.norm(cs["state_i"][:, 3:] - cs["state_j"][:, 3:], axis=1) * V_KM_S
    k_a, k_b, k_t, k_vrel = kz["a"], kz["b"], kz["t_s"], kz["rel_speed_km_s"]
    k_match = np.zeros(len(k_a), dtype=bool)
    c_match = np.zeros(len(c_a), dtype=bool)
    by_pair: dict[tuple[int, int], list[int]] = {}
    links = []
    for n, (a, b) in enumerate(zip(c_a.tolist(), c_b.tolist(), strict=True)):
        by_pair.setdefault((a, b), []).append(n)
    for n, (a, b, t) in enumerate(zip(k_a.tolist(), k_b.tolist(), k_t.tolist(), strict=True)):
        for m in by_pair.get((a, b), ()):
            if not c_match[m] and abs(c_t[m] - t) <= MATCH_TOL_S:
                c_match[m] = k_match[n] = True
                links.append((n, m))
                break
    pk = set(zip(k_a.tolist(), k_b.tolist(), strict=True))
    pc = set(by_pair)
    shared = set(kz["shared"].tolist())
    c_shared = np.array([a in shared and b in shared for a, b in zip(c_a, c_b, strict=True)],
                        dtype=bool)
    bins_h = [0, 0.25, 1, 3, 6, 12, 24]
    by_t = []
    for lo, hi in zip(bins_h[:-1], bins_h[1:], strict=True):
        ks = (k_t >= lo * 3600) & (k_t < hi * 3600 + (hi == 24))
        cs_ = (c_t >= lo * 3600) & (c_t < hi * 3600 + (hi == 24))
        by_t.append(dict(tca_h=f"{lo:g}-{hi:g}", kizuna=int(ks.sum()), cascade=int(cs_.sum()),
                         matched=int(k_match[ks].sum())))
    by_v = []
    for lo, hi in ((0, 0.1), (0.1, 1), (1, 5), (5, 20)):
        ks = (k_vrel >= lo) & (k_vrel < hi)
        cs_ = (c_vrel >= lo) & (c_vrel < hi)
        by_v.append(dict(vrel_km_s=f"{lo}-{hi}", kizuna=int(ks.sum()), cascade=int(cs_.sum()),
                         matched=int(k_match[ks].sum())))
    nk, mc = (np.array([x[q] for x in links], dtype=np.int64) for q in (0, 1))
    early = k_t[nk] < 900.0
    matched_diffs = {
        which: dict(n=int(sel.sum()),
                    median_abs_dtca_s=float(np.median(np.abs(k_t[nk] - c_t[mc])[sel]))
                    if sel.any() else None,
                    median_abs_dmiss_km=float(np.median(np.abs(kz["miss_km"][nk]
                                                               - cs["dist"][mc] * L_KM)[sel]))
                    if sel.any() else None)
        for which, sel in (("tca_lt_15min", early), ("tca_ge_15min", ~early))}
    return dict(events_kizuna=len(k_a), events_cascade=len(c_a), events_matched=int(k_match.sum()),
                matched_diffs=matched_diffs,
                pairs_kizuna=len(pk), pairs_cascade=len(pc), pairs_both=len(pk & pc),
                cascade_events_between_shared_element_sets=int(c_shared.sum()),
                by_tca=by_t, by_rel_speed=by_v)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help=f"{QUICK_N} LEO objects instead of all")
    ap.add_argument("--leo", action="store_true",
                    help="all objects with apocentre below 2,000 km altitude (for both tools)")
    ap.add_argument("--all-objects", action="store_true",
                    help=f"keep the objects with apocentre > {MAX_APO_KM:,.0f} km too")
    ap.add_argument("--threads", type=int, default=2, help="cascade threads = Kizuna workers")
    ap.add_argument("--json", help="also write the results to this file")
    ap.add_argument("--kizuna", nargs=2, metavar=("IDS", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.kizuna:
        print(json.dumps(run_kizuna(*args.kizuna, args.threads)))
        return

    t0 = time.perf_counter()
    snap, start, ids, r, v, n_fail = load_objects(args.quick, args.leo,
                                                  None if args.all_objects else MAX_APO_KM)
    what = ("quick: 5,000 LEO" if args.quick else "LEO: apocentre < 2,000 km altitude"
            if args.leo else "whole catalog" if args.all_objects
            else f"whole catalog less apocentre > {MAX_APO_KM:,.0f} km")
    print(f"objects: {len(ids)} ({what}; "
          f"{n_fail} dropped: SGP4 fails at start {start.isoformat()}); "
          f"prepared in {time.perf_counter() - t0:.1f} s", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench_cascade_") as tmp:
        tmp = Path(tmp)
        c_rep, c_arr = run_cascade(r, v, tmp, args.threads)
        print(f"cascade {c_rep['cascade_version']} ({args.threads} thr): wall "
              f"{c_rep['wall_s']:.1f} s, CPU {c_rep['cpu_s']:.1f} s (build/JIT "
              f"{c_rep['t_build_s']:.1f} + propagate "
              f"{c_rep['t_propagate_s']:.1f}; process {c_rep['process_wall_s']:.1f}), "
              f"{c_rep['n_conjunctions']} conjunctions, peak RSS {c_rep['peak_rss_mb']:.0f} MB, "
              f"re-entries {c_rep['n_removed_reentry']}, exits {c_rep['n_removed_exit']}",
              flush=True)
        np.save(tmp / "ids.npy", ids)
        cmd = [sys.executable, __file__, "--threads", str(args.threads),
               "--kizuna", str(tmp / "ids.npy"), str(tmp / "kizuna.npz")]
        proc = subprocess.run(cmd, check=True, capture_output=True, text=True)
        k_rep = json.loads(proc.stdout.strip().splitlines()[-1])
        with np.load(tmp / "kizuna.npz") as z:
            k_arr = {k: z[k] for k in z.files}
    print(f"kizuna ({args.threads} workers): wall {k_rep['wall_s']:.1f} s, CPU "
          f"{k_rep['cpu_s']:.1f} s, {k_rep['events']} "
          f"events, peak RSS {k_rep['peak_rss_mb']:.0f} MB, "
          + " ".join(f"{k}={x:.1f}" for k, x in k_rep["timings_s"].items()), flush=True)
    # sanity: our Kepler propagation reproduces cascade's final states (checks the units too)
    rows = c_arr["final_rows"]
    rk, _ = kepler(r[rows], v[rows], float(c_arr["final_time"]) * T_S)
    kep_check_km = float(np.abs(rk - c_arr["final_state"][:, :3] * L_KM).max())
    div = divergence(snap, start, ids, r, v)
    cmp_ = compare(ids, k_arr, c_arr)
    res = dict(n_objects=len(ids), quick=args.quick, leo=args.leo,
               all_objects=args.all_objects, start=start.isoformat(),
               threads=args.threads,
               cascade=c_rep, kizuna=k_rep, wall_ratio_cascade_over_kizuna=c_rep["wall_s"]
               / k_rep["wall_s"], rss_ratio_cascade_over_kizuna=c_rep["peak_rss_mb"]
               / k_rep["peak_rss_mb"], kepler_vs_cascade_final_max_km=kep_check_km,
               kepler_vs_sgp4_km=div, comparison=cmp_)
    res["cpu_ratio_cascade_over_kizuna"] = c_rep["cpu_s"] / k_rep["cpu_s"]
    print(f"wall cascade/kizuna = {res['wall_ratio_cascade_over_kizuna']:.2f}x, CPU "
          f"{res['cpu_ratio_cascade_over_kizuna']:.2f}x, "
          f"peak RSS cascade/kizuna = {res['rss_ratio_cascade_over_kizuna']:.2f}x")
    print(f"own Kepler vs cascade final states: max {kep_check_km * 1e3:.2f} m")
    print("Keplerian vs SGP4 position difference from the same start state (km):")
    for h, q in div.items():
        print(f"  {h:>4s}: q10 {q['q10']:9.2f}  median {q['q50']:9.2f}  q90 {q['q90']:9.2f}  "
              f"< 5 km: {100 * q['frac_lt_5km']:5.1f} %")
    c = cmp_
    print(f"events: kizuna {c['events_kizuna']}, cascade {c['events_cascade']}, matched "
          f"(same pair, |dTCA| <= {MATCH_TOL_S:.0f} s) {c['events_matched']}; pairs: kizuna "
          f"{c['pairs_kizuna']}, cascade {c['pairs_cascade']}, both {c['pairs_both']}; cascade "
          f"events between objects sharing one element set: "
          f"{c['cascade_events_between_shared_element_sets']}")
    for which, d in c["matched_diffs"].items():
        if d["n"]:
            print(f"  matched events with {which}: {d['n']}, median |dTCA| "
                  f"{d['median_abs_dtca_s']:.2f} s, median |dmiss| "
                  f"{d['median_abs_dmiss_km']:.3f} km")
    print("| TCA (h) | kizuna | cascade | matched |")
    for row in c["by_tca"]:
        print(f"| {row['tca_h']} | {row['kizuna']} | {row['cascade']} | {row['matched']} |")
    print("| rel. speed (km/s) | kizuna | cascade | matched |")
    for row in c["by_rel_speed"]:
        print(f"| {row['vrel_km_s']} | {row['kizuna']} | {row['cascade']} | {row['matched']} |")
    la = os.getloadavg()
    print(f"load average at the end: {la[0]:.2f} {la[1]:.2f} {la[2]:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
