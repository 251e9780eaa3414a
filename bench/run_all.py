"""Run every benchmark in bench/ one after the other (``make bench``).

Each script prints its own markdown table; results are recorded by hand in
docs/benchmarks.md together with this command. Extra arguments (e.g.
``--quick``) are passed to every script.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ("bench_ingest.py", "bench_propagation.py", "bench_sgp4_backends.py", "bench_screening.py",
           "bench_cascade.py", "bench_population.py", "bench_pc.py", "bench_pc_montecarlo.py",
           "bench_maneuvers.py", "bench_proximity.py")


def main() -> int:
    failed = []
    for name in SCRIPTS:
        script = HERE / name
        if not script.exists():
            print(f"## {name}: missing", flush=True)
            failed.append(name)
            continue
        print(f"## {name}", flush=True)
        t0 = time.perf_counter()
        code = subprocess.call([sys.executable, str(script), *sys.argv[1:]])
        print(f"({name} exit {code}, {time.perf_counter() - t0:.0f} s wall)\n", flush=True)
        if code:
            failed.append(name)
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
