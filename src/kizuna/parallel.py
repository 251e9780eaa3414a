"""Work on every core with forked processes writing into shared memory.

python-sgp4's C++ loop holds the GIL (it never releases it and is built
without OpenMP; measured: two threads are no faster than two sequential
calls), so threads do not help SGP4. Instead the parent forks
``n_parts - 1`` children and runs part 0 itself; the children inherit every
Python object (``Satrec`` records included, nothing is pickled) and write
their results into anonymous ``MAP_SHARED`` mappings made by
:func:`shared_array`, which the parent then holds as ordinary numpy arrays.
Children run numpy and SGP4 only, never numba's threading layer, and leave
with ``os._exit``. Where ``os.fork`` does not exist the parts run in turn.

Call these from a single-threaded program: fork copies only the calling
thread.
"""

from __future__ import annotations

import mmap
import os
import signal
import sys
import traceback
import warnings
from collections.abc import Callable

import numpy as np

from kizuna.errors import KizunaError


class WorkerError(KizunaError, RuntimeError):
    """A forked worker process failed; its traceback (if any) went to stderr."""


def shared_array(shape: tuple[int, ...], dtype: np.dtype | type) -> np.ndarray:
    """A zero-filled array in an anonymous MAP_SHARED mapping, visible to forked children.

    The mapping lives as long as the array (numpy keeps the mmap as its base)
    and needs no cleanup.
    """
    dtype = np.dtype(dtype)
    n = int(np.prod(shape, dtype=np.int64))
    buffer = mmap.mmap(-1, max(1, n * dtype.itemsize))
    return np.frombuffer(buffer, dtype=dtype, count=n).reshape(shape)


def split(n: int, n_parts: int) -> list[tuple[int, int]]:
    """``n_parts`` contiguous ``[start, stop)`` ranges of about equal size covering ``range(n)``."""
    edges = np.linspace(0, n, n_parts + 1).round().astype(int)
    return [(int(edges[k]), int(edges[k + 1])) for k in range(n_parts)]


def run_parts(work: Callable[[int], None], n_parts: int) -> None:
    """Call ``work(p)`` for every ``p`` in ``range(n_parts)``: part 0 here, the others forked.

    Raises
    ------
    WorkerError
        If a child failed or was killed (its traceback went to stderr). If
        part 0 raises, the children are killed and the exception propagates.
    """
    if n_parts <= 1 or not hasattr(os, "fork"):
        for p in range(n_parts):
            work(p)
        return
    children: list[int] = []
    try:
        for p in range(1, n_parts):
            children.append(_fork(work, p))
        work(0)
    except BaseException:
        for pid in children:
            _kill_quietly(pid)
        _reap(children)
        raise
    failures = _reap(children)
    if failures:
        raise WorkerError(
            f"{len(failures)} of {n_parts} worker processes failed (exit statuses {failures}); "
            "see stderr, or retry with workers=1"
        )


def _fork(work: Callable[[int], None], p: int) -> int:
    """Run ``work(p)`` in a forked child; return its pid."""
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:  # flush now, or the child would write the buffer again
            stream.flush()
    with warnings.catch_warnings():
        # Python >= 3.12 warns on fork() with threads alive (numpy's BLAS pool).
        # The child runs only numpy/SGP4 on inherited memory and leaves with
        # os._exit, taking no lock another thread might hold.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # child
        status = 1
        try:
            work(p)
            status = 0
        except BaseException:  # noqa: BLE001 - never return into the parent's code
            traceback.print_exc()
            sys.stderr.flush()
        finally:
            # Skip interpreter teardown: atexit handlers and buffers are the parent's.
            os._exit(status)
    return pid


def _reap(pids: list[int]) -> list[int]:
    """Wait for every child; return the nonzero exit codes (negative: killed by a signal)."""
    failures = []
    for pid in pids:
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            failures.append(code)
    return failures


def _kill_quietly(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
