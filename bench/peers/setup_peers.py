"""Create the peer venv (``.venv-peers`` at the repository root) on first use.

The peers are benchmarked in a venv of their own so that they can never
change Kizuna's ``.venv`` and so that their memory is measured in their own
process. Only esa-cascade lives there for now.

Why ``--no-deps``: the only cp311 wheels of esa-cascade on PyPI (0.1.3, 0.1.6,
0.1.7) require ``heyoka==3.0.*`` or ``heyoka==0.21.*``, and PyPI only carries
heyoka 7.x, so a plain ``pip install esa-cascade`` stops with
ResolutionImpossible. The 0.1.7 wheel bundles its own libheyoka (with LLVM,
TBB, SLEEF, Boost), so it runs without the Python heyoka package once
``cascade_runner.py`` puts a stub ``heyoka`` module in ``sys.modules`` and
preloads the bundled libsleef. numpy stays on 1.x: the 2023 wheel was built
against the numpy 1 C API.

Usage: ``python bench/peers/setup_peers.py [--force]``; prints the venv's
python path. Idempotent: a stamp file names the pins it was built with, and a
venv built with other pins is rebuilt.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PEER_VENV = ROOT / ".venv-peers"
# Exact pins (installed with --no-deps, so nothing else is resolved).
PINS = ("esa-cascade==0.1.7", "numpy==1.26.4")
_STAMP = ".peers-installed"


def peer_python() -> Path:
    return PEER_VENV / "bin" / "python"


def ensure_peer_venv(force: bool = False, quiet: bool = True) -> Path:
    """Build the peer venv if missing or built with other pins; return its python."""
    stamp = PEER_VENV / _STAMP
    want = "\n".join(PINS) + "\n"
    if not force and stamp.exists() and stamp.read_text() == want and peer_python().exists():
        return peer_python()
    if PEER_VENV.exists():
        shutil.rmtree(PEER_VENV)
    print(f"creating peer venv {PEER_VENV} ({', '.join(PINS)}) ...", file=sys.stderr, flush=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(PEER_VENV)
    cmd = [str(peer_python()), "-m", "pip", "install", "--disable-pip-version-check",
           "--no-deps", *PINS]
    if quiet:
        cmd.insert(4, "--quiet")
    subprocess.run(cmd, check=True)
    # smoke test: import through the runner's loader shim and build a 2-body sim
    subprocess.run([str(peer_python()), str(Path(__file__).with_name("cascade_runner.py")),
                    "--self-test"], check=True)
    stamp.write_text(want)
    return peer_python()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--force", action="store_true", help="rebuild even if up to date")
    args = ap.parse_args()
    print(ensure_peer_venv(force=args.force, quiet=False))


if __name__ == "__main__":
    main()
