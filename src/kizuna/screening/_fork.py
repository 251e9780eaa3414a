"""Run SGP4 work on every core: python-sgp4's C++ loop holds the GIL, so threads do not help.

The parent forks ``n_parts - 1`` children (it runs part 0 itself); each one
inherits the ``Satrec`` objects and writes its results into anonymous shared
memory maps made by :func:`shared_array`. Children run only numpy and SGP4
(never numba) and leave with ``os._exit``.
"""

from __future__ import annotations

import mmap
import os
import sys
import traceback
import warnings
from collections.abc import Callable

import numpy as np

from kizuna.errors import KizunaError


class WorkerError(KizunaError, RuntimeError):
    """A forked SGP4 worker failed; its traceback went to stderr."""


def shared_array(shape: tuple[int, ...], dtype: np.dtype | type) -> np.ndarray:
    """A zero-filled array in an anonymous MAP_SHARED mapping (visible to forked children)."""
    dtype = np.dtype(dtype)
    n = int(np.prod(shape, dtype=np.int64))
    buf = mmap.mmap(-1, max(1, n * dtype.itemsize))
    return np.frombuffer(buf, dtype=dtype, count=n).reshape(shape)


def run_parts(work: Callable[[int], None], n_parts: int) -> None:
    """Call ``work(p)`` for ``p`` in ``range(n_parts)``: part 0 here, the others in forked children."""
    if n_parts <= 1 or not hasattr(os, "fork"):
        for p in range(n_parts):
            work(p)
        return
    children = []
    try:
        for p in range(1, n_parts):
            sys.stdout.flush()
            sys.stderr.flush()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
            if pid == 0:  # child
                status = 1
                try:
                    work(p)
                    status = 0
                except BaseException:
                    traceback.print_exc()
                finally:
                    os._exit(status)
            children.append(pid)
        work(0)
    finally:
        failed = []
        for pid in children:
            _, status = os.waitpid(pid, 0)
            if status != 0:
                failed.append(status)
    if failed:
        raise WorkerError(f"{len(failed)} SGP4 worker process(es) failed: statuses {failed}; "
                          "see stderr, or retry with workers=1")


def split(n: int, n_parts: int) -> list[tuple[int, int]]:
    """``n_parts`` contiguous ``[start, stop)`` ranges covering ``range(n)``."""
    edges = np.linspace(0, n, n_parts + 1).round().astype(int)
    return [(int(edges[k]), int(edges[k + 1])) for k in range(n_parts)]
