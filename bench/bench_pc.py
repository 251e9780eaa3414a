"""Benchmark: vectorized Foster 2D Pc against a straightforward dblquad.

Builds N synthetic LEO-like conjunctions (seeded): random TCA states, random
positive-definite 3x3 covariances (metres to kilometres), combined HBR 5-50
m. Then, in one run:

(a) ``kizuna.collision.foster_pc_batch`` on all N (projection + 2x2
    clipping + 192-node composite Gauss-Legendre), wall clock;
(b) a textbook ``scipy.integrate.dblquad`` of the bivariate normal over the
    disc (encounter plane from the same projection) on a SUBSET of
    ``--ref`` conjunctions; its per-conjunction time is extrapolated to N;
(c) agreement of (a) and (b) on the subset (max relative difference where
    Pc > 1e-10, max absolute difference overall).

Prints a markdown table and the command. Timings are wall clock on a shared
machine; the load average is printed too.
Run: ``python bench/bench_pc.py`` (defaults: N = 100000, --ref 300).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time

import numpy as np
from scipy import integrate

from kizuna.collision.encounter import project_encounter
from kizuna.collision.foster import foster_pc_batch


def synthetic(n: int, seed: int = 2026):
    rng = np.random.default_rng(seed)
    r1 = rng.normal(size=(n, 3))
    r1 *= (6800 + rng.uniform(0, 1200, (n, 1))) / np.linalg.norm(r1, axis=1, keepdims=True)
    v1 = np.cross(r1, rng.normal(size=(n, 3)))
    v1 *= 7.5 / np.linalg.norm(v1, axis=1, keepdims=True)
    v2 = np.cross(r1, rng.normal(size=(n, 3)))
    v2 *= 7.5 / np.linalg.norm(v2, axis=1, keepdims=True)
    scale = 10 ** rng.uniform(-2.5, 0.0, (n, 1, 1))  # ~3 m to 1 km sigmas
    a = rng.normal(size=(n, 3, 3)) * scale
    b = rng.normal(size=(n, 3, 3)) * scale
    c1 = a @ a.transpose(0, 2, 1)
    c2 = b @ b.transpose(0, 2, 1)
    miss = rng.normal(size=(n, 3)) * np.sqrt(np.trace(c1 + c2, axis1=1, axis2=2))[:, None] / 2
    r2 = r1 + miss
    hbr = rng.uniform(0.005, 0.05, n)
    return r1, v1, c1, r2, v2, c2, hbr


def dblquad_pc(miss, cov, r):
    inv = np.linalg.inv(cov)
    norm = 1.0 / (2 * math.pi * math.sqrt(np.linalg.det(cov)))
    mx, mz = miss
    i00, i01, i11 = inv[0, 0], inv[0, 1], inv[1, 1]

    def f(z, x):
        dx, dz = x - mx, z - mz
        return norm * math.exp(-0.5 * (i00 * dx * dx + 2 * i01 * dx * dz + i11 * dz * dz))

    val, _ = integrate.dblquad(f, -r, r, lambda x: -math.sqrt(max(r * r - x * x, 0.0)),
                               lambda x: math.sqrt(max(r * r - x * x, 0.0)),
                               epsabs=1e-13, epsrel=1e-8)
    return val


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=100_000, help="conjunctions (default 100000)")
    ap.add_argument("--ref", type=int, default=300, help="dblquad subset size (default 300)")
    ap.add_argument("--quick", action="store_true", help="10,000 conjunctions, 50 by dblquad")
    args = ap.parse_args(argv)
    if args.quick:
        args.n, args.ref = 10_000, 50
    r1, v1, c1, r2, v2, c2, hbr = synthetic(args.n)

    foster_pc_batch(r1[:100], v1[:100], c1[:100], r2[:100], v2[:100], c2[:100], hbr[:100])
    t0 = time.perf_counter()
    pc, rem = foster_pc_batch(r1, v1, c1, r2, v2, c2, hbr)
    t_vec = time.perf_counter() - t0

    m = min(args.ref, args.n)
    enc = project_encounter(r1[:m], v1[:m], c1[:m], r2[:m], v2[:m], c2[:m])
    t0 = time.perf_counter()
    ref = np.array([dblquad_pc(enc.miss_km[i], enc.cov_km2[i], hbr[i]) for i in range(m)])
    t_ref = time.perf_counter() - t0
    per_ref = t_ref / m

    big = ref > 1e-10
    rel = np.abs(pc[:m] - ref)[big] / ref[big]
    absd = np.abs(pc[:m] - ref).max()
    ok = (rel.max() if rel.size else 0.0) < 1e-4 and absd < 1e-8

    print(f"command: python bench/bench_pc.py -n {args.n} --ref {args.ref}")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpu, "
          f"load avg {os.getloadavg()[0]:.2f}; numpy {np.__version__}")
    print()
    print("| method | conjunctions | wall time (s) | per conjunction (us) | time for N (s) |")
    print("|---|---:|---:|---:|---:|")
    print(f"| kizuna foster_pc_batch (vectorized, 192-node GL) | {args.n} | {t_vec:.2f} | "
          f"{1e6 * t_vec / args.n:.1f} | {t_vec:.2f} (measured) |")
    print(f"| scipy dblquad (textbook, per conjunction) | {m} (subset) | {t_ref:.2f} | "
          f"{1e6 * per_ref:.0f} | {per_ref * args.n:.0f} (extrapolated) |")
    print()
    print(f"agreement on the {m}-conjunction subset: max rel diff (Pc > 1e-10, "
          f"{int(big.sum())} cases) = {rel.max() if rel.size else 0:.2e}, "
          f"max abs diff = {absd:.2e}; {'AGREE' if ok else 'DISAGREE'}")
    print(f"Pc > 1e-4 in {int((pc > 1e-4).sum())} of {args.n}; remediated {int(rem.sum())}; "
          f"speed-up x{per_ref * args.n / t_vec:.0f}; target <= 5 s for 100k: "
          f"{'met' if t_vec <= 5 and args.n >= 100_000 else 'n/a' if args.n < 100_000 else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
