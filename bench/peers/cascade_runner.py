"""Run esa-cascade's all-vs-all conjunction detection (runs in the peer venv, not .venv).

Input: an ``.npz`` written by ``bench/bench_cascade.py`` with

* ``state``: ``(n, 7)`` float64, x y z vx vy vz radius in cascade's
  non-dimensional units (length ``L``, ``mu = 1``, time ``sqrt(L^3 / mu)``),
* scalars ``t_end``, ``ct``, ``n_par_ct``, ``conj_thresh``, ``reentry_radius``,
  ``exit_radius``, ``nthreads`` (same units).

Output: an ``.npz`` with the conjunctions (``i``, ``j`` as *input row indices*,
``time``, ``dist``, ``state_i``, ``state_j``), the final state of every
particle still in the simulation, and the indices removed on re-entry/exit;
plus one JSON line on stdout with timings and peak RSS.

Only the default (pure Keplerian, mu = 1) dynamics can be used: cascade
0.1.7's other dynamics need heyoka.py 3.0 expressions, which PyPI no longer
carries (see setup_peers.py). Loader shim, needed because the heyoka wheel on
PyPI (7.x) is not the one this cascade was built against:

* ``cascade/__init__.py`` imports ``heyoka`` only so that pybind11 knows the
  expression type, and ``cascade.dynamics`` names ``heyoka.expression`` in
  annotations; a stub module with a placeholder class is enough for the
  default dynamics;
* the JIT compiled by the bundled libheyoka resolves SLEEF vector maths
  symbols in the global namespace, so the bundled libsleef is loaded first
  with ``RTLD_GLOBAL``.

Usage: ``python cascade_runner.py IN.npz OUT.npz`` or ``--self-test``.
"""

from __future__ import annotations

import ctypes
import glob
import importlib.util
import json
import os
import resource
import sys
import time
import types

import numpy as np


def import_cascade():
    """Import cascade 0.1.7 without the Python heyoka package (see module docstring)."""
    spec = importlib.util.find_spec("cascade")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("esa-cascade is not installed in this interpreter; "
                         "run bench/peers/setup_peers.py")
    site = os.path.dirname(list(spec.submodule_search_locations)[0])
    libs = glob.glob(os.path.join(site, "esa_cascade.libs", "libsleef*.so*"))
    if not libs:
        raise SystemExit(f"bundled libsleef not found under {site}/esa_cascade.libs")
    ctypes.CDLL(libs[0], mode=ctypes.RTLD_GLOBAL)
    if "heyoka" not in sys.modules:
        stub = types.ModuleType("heyoka")
        stub.__doc__ = "stub: cascade only imports heyoka to register expression types"
        # cascade.dynamics names hy.expression in annotations at import time
        stub.expression = type("expression", (), {})
        sys.modules["heyoka"] = stub
    import cascade

    return cascade


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _cpu_s() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def run(cfg: dict) -> tuple[dict, dict]:
    """Build the simulation, propagate to ``t_end``; return (arrays, report)."""
    t0 = time.perf_counter()
    csc = import_cascade()
    csc.set_nthreads(int(cfg["nthreads"]))
    state = np.ascontiguousarray(cfg["state"], dtype=np.float64)
    n = len(state)
    t_import = time.perf_counter() - t0

    t0 = time.perf_counter()
    cpu0 = _cpu_s()
    # min_coll_radius = inf: no particle is big enough to collide, we only want
    # conjunctions (a real collision would stop the run as an event).
    sim = csc.sim(state, float(cfg["ct"]), conj_thresh=float(cfg["conj_thresh"]),
                  min_coll_radius=float("inf"), n_par_ct=int(cfg["n_par_ct"]),
                  reentry_radius=float(cfg["reentry_radius"]),
                  exit_radius=float(cfg["exit_radius"]))
    t_build = time.perf_counter() - t0

    t_end = float(cfg["t_end"])
    alive = np.arange(n)  # current sim row -> input row
    conj_parts = []
    removed = {"reentry": [], "exit": [], "nf_state": [], "collision": []}
    t0 = time.perf_counter()
    n_interrupts = 0
    while True:
        oc = sim.propagate_until(t_end)
        if oc == csc.outcome.time_limit:
            break
        n_interrupts += 1
        # interrupt: keep the conjunctions found so far under input indices,
        # then drop the offending particle(s) and go on.
        c = sim.conjunctions
        if len(c):
            conj_parts.append(_remap(c, alive))
        sim.reset_conjunctions()
        info = sim.interrupt_info
        if oc == csc.outcome.reentry:
            idx = [int(info)]
            removed["reentry"] += alive[idx].tolist()
        elif oc == csc.outcome.exit:
            idx = [int(info)]
            removed["exit"] += alive[idx].tolist()
        elif oc == csc.outcome.collision:
            idx = sorted({int(info[0]), int(info[1])})
            removed["collision"] += alive[idx].tolist()
        elif oc == csc.outcome.err_nf_state:
            idx = [int(info[0])]
            removed["nf_state"] += alive[idx].tolist()
        else:
            raise RuntimeError(f"unexpected cascade outcome {oc}")
        sim.remove_particles(idx)
        alive = np.delete(alive, idx)
    t_prop = time.perf_counter() - t0
    cpu = _cpu_s() - cpu0
    c = sim.conjunctions
    if len(c):
        conj_parts.append(_remap(c, alive))
    conj = (np.concatenate(conj_parts) if conj_parts
            else np.zeros(0, dtype=[("i", "i8"), ("j", "i8"), ("time", "f8"), ("dist", "f8"),
                                    ("state_i", "f8", 6), ("state_j", "f8", 6)]))
    n_raw = len(conj)
    # conjunctions are found per super-step (ct * n_par_ct): drop any past t_end,
    # and duplicates if an interrupted super-step was replayed.
    conj = conj[conj["time"] <= t_end]
    n_past_end = n_raw - len(conj)
    key = np.stack([conj["i"], conj["j"], np.round(conj["time"] * 1e6)], axis=1)
    _, first = np.unique(key, axis=0, return_index=True)
    conj = conj[np.sort(first)]
    arrays = dict(i=conj["i"], j=conj["j"], time=conj["time"], dist=conj["dist"],
                  state_i=conj["state_i"], state_j=conj["state_j"],
                  final_state=np.asarray(sim.state)[:, :6], final_rows=alive,
                  final_time=np.float64(sim.time),
                  **{f"removed_{k}": np.asarray(v, dtype=np.int64) for k, v in removed.items()})
    report = dict(n_particles=n, nthreads=int(cfg["nthreads"]), t_import_s=t_import,
                  t_build_s=t_build, t_propagate_s=t_prop, wall_s=t_build + t_prop, cpu_s=cpu,
                  n_conjunctions=len(conj), n_past_end_dropped=n_past_end,
                  n_duplicates_dropped=n_raw - n_past_end - len(conj),
                  n_interrupts=n_interrupts,
                  **{f"n_removed_{k}": len(v) for k, v in removed.items()},
                  cascade_version=csc.__version__, numpy_version=np.__version__,
                  peak_rss_mb=_peak_rss_mb())
    return arrays, report


def _remap(c, alive):
    out = np.zeros(len(c), dtype=[("i", "i8"), ("j", "i8"), ("time", "f8"), ("dist", "f8"),
                                  ("state_i", "f8", 6), ("state_j", "f8", 6)])
    a, b = alive[c["i"]], alive[c["j"]]
    out["i"], out["j"] = np.minimum(a, b), np.maximum(a, b)
    swap = a > b
    out["time"], out["dist"] = c["time"], c["dist"]
    out["state_i"] = np.where(swap[:, None], c["state_j"], c["state_i"])
    out["state_j"] = np.where(swap[:, None], c["state_i"], c["state_j"])
    return out


def self_test() -> None:
    """Row 0 falls below r = 1 at once (so rows shift); rows 1 and 2 fly crossing circular
    orbits 1e-4 apart at t = 0 and meet again after half a period."""
    st = np.zeros((3, 7))
    st[0, :6] = [1.1, 0, 0, 0, 0.1, 0]                   # re-enters: tests the remapping
    st[1, :6] = [1.2, 0, 0, 0, 1 / np.sqrt(1.2), 0]      # equatorial circular
    st[2, :6] = [1.2, 1e-4, 0, 0, 0, 1 / np.sqrt(1.2)]   # polar circular, offset 1e-4
    period = 2 * np.pi * 1.2**1.5
    arrays, rep = run(dict(state=st, t_end=period * 0.6, ct=0.05, n_par_ct=5, conj_thresh=1e-3,
                           reentry_radius=1.0, exit_radius=100.0, nthreads=1))
    assert rep["n_removed_reentry"] == 1 and arrays["removed_reentry"].tolist() == [0], rep
    assert (arrays["i"] == 1).all() and (arrays["j"] == 2).all(), arrays
    assert len(arrays["time"]) == 2 and np.all(arrays["dist"] < 2e-4), arrays
    assert abs(arrays["time"][1] - period / 2) < 1e-3, arrays["time"]
    assert arrays["final_rows"].tolist() == [1, 2]
    assert np.allclose(np.linalg.norm(arrays["final_state"][:, :3], axis=1), 1.2)
    print(json.dumps(dict(self_test="ok", **{k: rep[k] for k in ("n_conjunctions",
                                                                  "cascade_version")})))


def main() -> None:
    if sys.argv[1:] == ["--self-test"]:
        self_test()
        return
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    with np.load(sys.argv[1]) as z:
        cfg = {k: z[k] for k in z.files}
    arrays, report = run(cfg)
    np.savez(sys.argv[2], **arrays)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
