"""Benchmark: 3D Monte Carlo Pc (numba kernel) against CARA's 1e8-trial Monte Carlo.

For every Alfano (2009) case 1-12: ``kizuna.collision.montecarlo.pc_mc_3d``
(Gaussian equinoctial elements at TCA, exact two-body motion, first contact
with the hard-body sphere during +/- Tlimit: CARA's ``Pc_MC_Kep2body``
model; ``--sampling cartesian`` for a Gaussian Cartesian state) with N seeded draws
on ``--workers`` forked processes and the encounter-plane control variate
(the default). Prints one markdown row per case: CARA_PcMC and its 95%
interval (tests/data/pc/A09TestCases_01_12_Distributed.csv), our estimate
and its 95% interval, the estimator actually used (``cv`` regression,
``diff`` difference estimator with exact bounds when fewer than 20 draws
disagree with the control, ``plain`` hit fraction and Wilson interval),
whether our estimate is inside CARA's interval, whether CARA's estimate is
inside ours, z = (ours - CARA) / sqrt(se_ours^2 + se_CARA^2), the estimated
variance-reduction factor (vrf, var(plain) / var(ours)), the draws that
disagree with the control, the plain estimate with its own z, and draws per
second (wall clock, all workers).

"Ours inside CARA's" can only be expected where our interval is narrower
than CARA's (vrf x N well above 1e8); "CARA inside ours" should fail for
about 1 case in 20 where ours is wider, and |z| > 2 about as often.

Before each timed run the first 32,768 draws of the case are evaluated on
the benchmark grid and on a 4x finer grid; the number of draws whose
decision differs is printed (grid convergence).

``--omitron08 N`` adds CARA's Omitron Test08 CDM (HBR 20 m, hall3d's default
window) with N draws each of equinoctial-element and Cartesian sampling,
beside hall3d's two models and CARA's Pc3D_Hall.

    .venv/bin/python bench/bench_pc_montecarlo.py [--draws N] [--workers 2] [--quick]
        [--plain]

The defaults (3 x 2^22 draws per case on a 32-point grid, 2e7 per sampling
for Test08) were sized from a measured 2^20-draw run of case 1 (350,000
draws/s with 2 workers) to take under 10 minutes on the shared 2-core
development machine (the run in docs/design/collision.md took 470 s).
``--plain`` turns the control variate off.
"""

from __future__ import annotations

import argparse
import gzip
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "collision"))

from pc_cases import alfano_case, cara_unit_json  # noqa: E402

from kizuna.collision.hall3d import MU_EARTH_KM3_S2, pc_hall3d  # noqa: E402
from kizuna.collision.montecarlo import (  # noqa: E402
    _COUNTS,
    MC_BLOCK,
    Z95,
    _hits_numba,
    _Sampler,
    pc_mc_3d,
)

T08 = ROOT / "tests" / "data" / "ccsds" / "cdm" / "cara" / "OmitronTestCase_Test08_3DNc.cdm.gz"


def _se(p: float, n: int) -> float:
    return math.sqrt(max(p * (1 - p), 0.0) / n)


def grid_check(n_case: int, window, n_grid: int, seed: int, count: str, sampling: str) -> int:
    """Draws (of the first block) whose decision changes on a 4x finer grid."""
    c = alfano_case(n_case)
    x1 = np.concatenate([c.r1_km, c.v1_km_s])
    x2 = np.concatenate([c.r2_km, c.v2_km_s])
    s = _Sampler(x1, c.cov1, x2, c.cov2, sampling, MU_EARTH_KM3_S2)
    s1, s2 = s.draws(seed, 0, MC_BLOCK)
    a = _hits_numba(s1, s2, np.linspace(*window, n_grid), MU_EARTH_KM3_S2, c.hbr_km, count,
                    ref=s.ref)
    b = _hits_numba(s1, s2, np.linspace(*window, 4 * n_grid - 3), MU_EARTH_KM3_S2, c.hbr_km,
                    count, ref=s.ref)
    return int(np.count_nonzero(a != b))


_SHORT = {"control_variate": "cv", "difference": "diff", "plain": "plain"}


def run_alfano(args) -> None:
    tlimit = cara_unit_json()["alfano2009_cases"]["Tlimit_s"]
    print("| case | CARA_PcMC | CARA 95% | ours | our 95% | est. | ours in CARA's | CARA in ours "
          "| z | vrf | discordant | plain | plain z | draws/s | grid check |")
    print("|---:|---:|---|---:|---|:-:|:-:|:-:|---:|---:|---:|---:|---:|---:|---:|")
    n_in = n_cara_in = n_narrower = 0
    zs, zs_plain = [], []
    total = 0.0
    for n in args.cases:
        c = alfano_case(n)
        e = c.expected
        half = args.half_window if args.half_window else tlimit[n - 1]
        window = (-half, half)
        changed = (grid_check(n, window, args.n_grid, args.seed, args.count, args.sampling)
                   if args.grid_check else None)
        t0 = time.perf_counter()
        res = pc_mc_3d(c.r1_km, c.v1_km_s, c.cov1, c.r2_km, c.v2_km_s, c.cov2, c.hbr_km, window,
                       n_samples=args.draws, seed=args.seed, n_grid=args.n_grid,
                       workers=args.workers, control_variate=not args.plain,
                       count=args.count, sampling=args.sampling)
        wall = time.perf_counter() - t0
        total += wall
        x = res.extras
        lo, hi = res.ci95
        cara, clo, chi = e["CARA_PcMC"], e["CARA_PcMCLo95"], e["CARA_PcMCHi95"]
        se_cara = _se(cara, int(e["CARA_MCTrials"]))
        inside = clo <= res.pc <= chi
        cara_inside = lo <= cara <= hi
        n_in += inside
        n_cara_in += cara_inside
        n_narrower += (hi - lo) < (chi - clo)
        z = (res.pc - cara) / math.hypot(x["se"], se_cara)
        z_plain = (x["pc_plain"] - cara) / math.hypot(x["se_plain"], se_cara)
        zs.append(z)
        zs_plain.append(z_plain)
        vrf = x.get("vrf")
        vrf_s = "-" if vrf is None else ("inf" if math.isinf(vrf) else f"{vrf:,.1f}")
        disc = x.get("n_discordant", "-")
        grid = "-" if changed is None else f"{changed}/{MC_BLOCK}"
        print(f"| {n} | {cara:.6g} | [{clo:.6g}, {chi:.6g}] | {res.pc:.6g} | [{lo:.6g}, {hi:.6g}] "
              f"| {_SHORT[x['estimator']]} | {'yes' if inside else 'no'} "
              f"| {'yes' if cara_inside else 'no'} | {z:+.2f} | {vrf_s} | {disc} "
              f"| {x['pc_plain']:.6g} | {z_plain:+.2f} | {res.n_samples / wall:,.0f} | {grid} |",
              flush=True)
    print()
    rms = math.sqrt(sum(v * v for v in zs) / len(zs))
    rms_plain = math.sqrt(sum(v * v for v in zs_plain) / len(zs_plain))
    k = len(zs)
    print(f"ours inside CARA's interval: {n_in}/{k}; CARA's estimate inside ours: {n_cara_in}/{k}; "
          f"our interval narrower than CARA's: {n_narrower}/{k}; z mean {sum(zs) / len(zs):+.2f} "
          f"RMS {rms:.2f} (plain: mean {sum(zs_plain) / len(zs_plain):+.2f} RMS {rms_plain:.2f}); "
          f"Monte Carlo wall time {total:.0f} s")


def run_omitron08(args) -> None:
    from kizuna.ccsds.cdm import cdm_states_inertial, parse_cdm
    states = cdm_states_inertial(parse_cdm(gzip.open(T08, "rt").read(), file=str(T08)))
    cara = cara_unit_json()["OmitronTestCase_Test08_3DNc_cdm"]["expected"]["Pc3D_Hall"]
    hall = {p: pc_hall3d(*states, 0.020, propagation=p) for p in ("equinoctial", "linear")}
    window = hall["equinoctial"].extras["t_window_s"]
    print(f"Omitron Test08 (HBR 20 m, window {window[0]:.1f} .. {window[1]:.1f} s, "
          f"{args.omitron08:,} draws each, seed {args.seed}); CARA Pc3D_Hall {cara:.6g}; "
          f"hall3d equinoctial {hall['equinoctial'].pc:.6g}, linear {hall['linear'].pc:.6g}")
    print()
    print("| sampling | hits | ours | 95% | est. | hall3d equinoctial inside | "
          "hall3d linear inside | CARA inside | draws/s |")
    print("|---|---:|---:|---|:-:|:-:|:-:|:-:|---:|")
    for sampling in ("equinoctial", "cartesian"):
        t0 = time.perf_counter()
        res = pc_mc_3d(*states, 0.020, window, n_samples=args.omitron08, seed=args.seed,
                       n_grid=27, sampling=sampling, workers=args.workers,
                       control_variate=not args.plain)
        wall = time.perf_counter() - t0
        lo, hi = res.ci95

        def yn(v, lo=lo, hi=hi):
            return "yes" if lo <= v <= hi else "no"

        print(f"| {sampling} | {res.n_hits} | {res.pc:.4g} | [{lo:.4g}, {hi:.4g}] "
              f"| {_SHORT[res.extras['estimator']]} "
              f"| {yn(hall['equinoctial'].pc)} | {yn(hall['linear'].pc)} | {yn(cara)} "
              f"| {res.n_samples / wall:,.0f} |", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=12_582_912,
                    help="draws per Alfano case (default 12,582,912 = 3 x 2^22)")
    ap.add_argument("--workers", type=int, default=2, help="forked processes (default 2)")
    ap.add_argument("--n-grid", type=int, default=32, help="time-grid points (default 32)")
    ap.add_argument("--seed", type=int, default=2009, help="seed (default 2009)")
    ap.add_argument("--omitron08", type=int, default=20_000_000,
                    help="draws per sampling for Omitron Test08 (0: skip; default 20,000,000)")
    ap.add_argument("--no-grid-check", dest="grid_check", action="store_false",
                    help="skip the 4x-finer-grid comparison")
    ap.add_argument("--plain", action="store_true",
                    help="plain hit fraction and Wilson interval (no control variate)")
    ap.add_argument("--count", default="first_contact", choices=_COUNTS,
                    help="hit rule of the Alfano runs (default first_contact)")
    ap.add_argument("--sampling", default="equinoctial", choices=("cartesian", "equinoctial"),
                    help="what is Gaussian in the Alfano runs (default equinoctial, as CARA)")
    ap.add_argument("--half-window", type=float, default=None,
                    help="half-width of every Alfano window, s (default: each case's Tlimit)")
    ap.add_argument("--cases", type=lambda v: [int(x) for x in v.split(",")],
                    default=list(range(1, 13)), help="Alfano cases, e.g. 11,12 (default all 12)")
    ap.add_argument("--quick", action="store_true",
                    help="2^17 draws per case, 1,000,000 for Test08, no grid check")
    args = ap.parse_args(argv)
    if args.quick:
        args.draws, args.omitron08, args.grid_check = 2 ** 17, 1_000_000, False
    cmd = " ".join(["python bench/bench_pc_montecarlo.py", *(argv if argv is not None
                                                               else sys.argv[1:])])
    print(f"command: {cmd}")
    print(f"draws per case {args.draws:,}, workers {args.workers}, grid {args.n_grid} points, "
          f"seed {args.seed}, count {args.count}, sampling {args.sampling}, "
          f"window +/-{args.half_window or 'Tlimit'} s, 95% z = {Z95:.4f}, "
          f"{'plain estimator' if args.plain else 'control variate'}")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpu, "
          f"load avg {os.getloadavg()[0]:.2f} at start; numpy {np.__version__}")
    print()
    t0 = time.perf_counter()
    run_alfano(args)
    if args.omitron08 > 0:
        print()
        run_omitron08(args)
    print()
    print(f"total wall time {time.perf_counter() - t0:.0f} s; load avg {os.getloadavg()[0]:.2f} "
          f"at end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
