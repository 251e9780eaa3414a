"""Batch SGP4 over a whole catalog, on every core, with python-sgp4's C++ ``SatrecArray``.

Why processes and not threads
-----------------------------
python-sgp4 2.27's C++ loop (``SatrecArray._sgp4``) holds the GIL: its
extension never calls ``Py_BEGIN_ALLOW_THREADS`` (``vallado_cpp.abi3.so``
imports no ``PyEval_SaveThread``) and is built without OpenMP. Measured on
this 2-core machine, two threads each propagating 2,000 objects x 1,000
times took 1.59 s, two sequential calls 1.44 s: no gain. So
:func:`propagate` forks ``workers - 1`` child processes (the parent computes
the first chunk itself). The children inherit the ``Satrec`` objects through
fork, so nothing is pickled or rebuilt, and each one makes the C++ kernel
write straight into a shared anonymous memory map that the parent then
returns as ordinary numpy arrays: no copies, no named shared memory to clean
up. Where ``os.fork`` does not exist (Windows) the work runs in-process.

Objects are split into contiguous chunks of about equal cost (deep-space
SDP4 objects count 1.3 times a near-Earth one: 1.2-1.5 was measured on the
2023-09-09 catalog, e.g. 2.07 M against 1.6 M propagations/s). Every object is
propagated over the same times in the same order whatever the number of
workers, so the results are bit-identical to a single-process run (this
matters for the 12 h / 24 h resonant objects, whose integrator keeps state
between calls).

Memory
------
Outputs need 49 bytes per sample (object x time): 8 bytes x 3 for ``r``,
8 x 3 for ``v`` and 1 for the error code, e.g. 25,000 objects x 1,441 times
(1 day at 60 s) = 1.77 GB. Nothing else of that size is allocated. Split
longer windows into time blocks (the screening engine streams windows).

Errors
------
A failing object never raises. Its ``error`` entries carry the SGP4 code
(:data:`SGP4_ERRORS`) and its position and velocity are NaN at those
times. Unlike python-sgp4, which leaves the computed (meaningless, inside
the Earth) position in place for code 6 ("decayed"), every nonzero code
gives NaN here, so nothing downstream can screen against a decayed orbit.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike
from sgp4.api import SGP4_ERRORS as _SGP4_API_ERRORS
from sgp4.api import Satrec, SatrecArray

from kizuna.catalog.snapshot import CatalogSnapshot
from kizuna.errors import KizunaError
from kizuna.parallel import run_parts, shared_array
from kizuna.propagation.ephemeris import Ephemeris, error_summary

__all__ = [
    "BYTES_PER_SAMPLE",
    "SGP4_ERRORS",
    "PropagationInputError",
    "default_workers",
    "error_summary",
    "propagate",
    "propagate_snapshot",
]

BYTES_PER_SAMPLE = 2 * 3 * 8 + 1
"""Output memory per (object, time) sample: r and v as float64 xyz, plus a uint8 code."""

SGP4_ERRORS: dict[int, str] = dict(_SGP4_API_ERRORS)
"""SGP4 error codes and their meaning (python-sgp4's ``sgp4.api.SGP4_ERRORS``)."""

# Relative cost of one SDP4 (deep-space, period >= 225 min) propagation
# against one near-Earth SGP4 propagation, for balancing the chunks.
DEEP_SPACE_COST = 1.3

# With workers=None, use one process per MIN_SAMPLES_PER_WORKER samples at
# most: below ~100k samples (about 0.05 s of SGP4) a fork costs more than
# it saves.
MIN_SAMPLES_PER_WORKER = 100_000


class PropagationInputError(KizunaError, ValueError):
    """Times or worker counts given to the propagator are malformed."""


def default_workers() -> int:
    """Number of CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def propagate(
    satrecs: Sequence[Satrec],
    jd: ArrayLike,
    fr: ArrayLike,
    *,
    workers: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Propagate every object to every time with SGP4 (TEME, km, km/s).

    Parameters
    ----------
    satrecs : sequence of sgp4.api.Satrec
        One record per object, e.g. from :meth:`kizuna.catalog.elements.ElementSet.to_satrec`.
    jd, fr : array_like, ``(n_time,)``
        Split UTC Julian dates (whole part at midnight, and fraction; ``fr``
        may exceed 1). Scalars are broadcast against each other.
    workers : int, optional
        Processes to use (the calling one included). Default: one per
        available CPU, fewer for small jobs. Values above ``len(satrecs)``
        are reduced to it.

    Returns
    -------
    error : ndarray of uint8, ``(n_obj, n_time)``
        0 where SGP4 succeeded, else a code of :data:`SGP4_ERRORS`.
    r_teme_km : ndarray of float64, ``(n_obj, n_time, 3)``
        Positions in TEME, km; NaN wherever ``error != 0``.
    v_teme_km_s : ndarray of float64, ``(n_obj, n_time, 3)``
        Velocities in TEME, km/s; NaN wherever ``error != 0``.

    Notes
    -----
    Memory is :data:`BYTES_PER_SAMPLE` (49) bytes per object and time. The
    result does not depend on ``workers``, bit for bit.

    With ``workers > 1`` the process forks. Call it from the main thread of
    a single-threaded program (the CLI, a batch job); inside a threaded
    server pass ``workers=1`` or run it in a separate process. The arrays
    then live in a shared anonymous mapping: a process forked *later* shares
    them instead of getting a copy-on-write copy, so do not write to them
    from such a child.

    Examples
    --------
    >>> from sgp4.api import Satrec
    >>> iss = Satrec.twoline2rv(
    ...     "1 25544U 98067A   23248.21590435  .00012534  00000-0  22537-3 0  9995",
    ...     "2 25544  51.6427 292.0790 0005543  28.9934  77.7697 15.50229801414205")
    >>> error, r, v = propagate([iss], [2460196.5, 2460196.5], [0.0, 0.5], workers=1)
    >>> error.tolist(), r.shape
    ([[0, 0]], (1, 2, 3))
    """
    jd_arr, fr_arr = _as_time_arrays(jd, fr)
    n_obj = len(satrecs)
    n_time = jd_arr.shape[0]
    n_workers = _resolve_workers(workers, n_obj, n_time)

    if n_workers == 1 or n_obj * n_time == 0 or not hasattr(os, "fork"):
        error = np.empty((n_obj, n_time), dtype=np.uint8)
        r_km = np.empty((n_obj, n_time, 3))
        v_km_s = np.empty((n_obj, n_time, 3))
        if n_obj * n_time:
            _propagate_into(satrecs, jd_arr, fr_arr, error, r_km, v_km_s)
    else:
        error, r_km, v_km_s = _shared_outputs(n_obj, n_time)
        bounds = _balanced_bounds(satrecs, n_workers)
        _run_chunks(satrecs, jd_arr, fr_arr, error, r_km, v_km_s, bounds)

    failed = error != 0
    if failed.any():
        r_km[failed] = np.nan
        v_km_s[failed] = np.nan
    return error, r_km, v_km_s


def propagate_snapshot(
    snapshot: CatalogSnapshot,
    jd: ArrayLike,
    fr: ArrayLike,
    *,
    workers: int | None = None,
) -> Ephemeris:
    """Propagate a catalog snapshot; see :func:`propagate` for the arguments.

    Returns an :class:`~kizuna.propagation.ephemeris.Ephemeris` whose rows
    follow the snapshot order (ascending ``norad_id``).
    """
    jd_arr, fr_arr = _as_time_arrays(jd, fr)
    error, r_km, v_km_s = propagate(snapshot.satrecs(), jd_arr, fr_arr, workers=workers)
    return Ephemeris(
        norad_id=snapshot.norad_id,
        jd=jd_arr,
        fr=fr_arr,
        r_teme_km=r_km,
        v_teme_km_s=v_km_s,
        error=error,
    )


# --------------------------------------------------------------------------
# Internals


def _as_time_arrays(jd: ArrayLike, fr: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    jd_arr, fr_arr = np.broadcast_arrays(
        np.asarray(jd, dtype=np.float64), np.asarray(fr, dtype=np.float64)
    )
    if jd_arr.ndim == 0:
        jd_arr, fr_arr = jd_arr.reshape(1), fr_arr.reshape(1)
    if jd_arr.ndim != 1:
        raise PropagationInputError(
            f"jd and fr must be 1-D (n_time,), got shape {jd_arr.shape}; "
            "pass .ravel() arrays and reshape the result"
        )
    # SGP4 reads these buffers directly: they must be contiguous float64.
    return np.ascontiguousarray(jd_arr), np.ascontiguousarray(fr_arr)


def _resolve_workers(workers: int | None, n_obj: int, n_time: int) -> int:
    if workers is None:
        by_size = max(1, (n_obj * n_time) // MIN_SAMPLES_PER_WORKER)
        return max(1, min(default_workers(), by_size, n_obj))
    if isinstance(workers, bool) or not isinstance(workers, int | np.integer) or workers < 1:
        raise PropagationInputError(f"workers must be a positive int or None, got {workers!r}")
    return max(1, min(int(workers), n_obj))


def _balanced_bounds(satrecs: Sequence[Satrec], n_chunks: int) -> list[tuple[int, int]]:
    """Contiguous ``[start, stop)`` object ranges of about equal SGP4 cost."""
    cost = np.fromiter(
        (DEEP_SPACE_COST if s.method == "d" else 1.0 for s in satrecs),
        dtype=np.float64,
        count=len(satrecs),
    )
    cumulative = np.cumsum(cost)
    targets = cumulative[-1] * np.arange(1, n_chunks) / n_chunks
    cuts = np.searchsorted(cumulative, targets, side="right")
    edges = np.concatenate([[0], cuts, [len(satrecs)]]).astype(int)
    # Keep every chunk non-empty (n_chunks <= n_obj is guaranteed).
    for k in range(1, n_chunks):
        edges[k] = max(edges[k], edges[k - 1] + 1)
    for k in range(n_chunks - 1, 0, -1):
        edges[k] = min(edges[k], edges[k + 1] - 1)
    return [(int(edges[k]), int(edges[k + 1])) for k in range(n_chunks)]


def _propagate_into(
    satrecs: Sequence[Satrec],
    jd: np.ndarray,
    fr: np.ndarray,
    error: np.ndarray,
    r_km: np.ndarray,
    v_km_s: np.ndarray,
) -> None:
    """Fill the given (contiguous) output arrays for ``satrecs``."""
    array = SatrecArray(list(satrecs))
    kernel = getattr(array, "_sgp4", None)
    if kernel is not None:
        # The C++ kernel writes into caller-allocated buffers, exactly as
        # python-sgp4's own SatrecArray.sgp4 wrapper calls it.
        kernel(jd, fr, error, r_km, v_km_s)
    else:
        # Pure-Python fallback (sgp4 built without its extension).
        e, r, v = array.sgp4(jd, fr)
        error[...] = e
        r_km[...] = r
        v_km_s[...] = v


def _shared_outputs(n_obj: int, n_time: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Output arrays in shared memory, visible to the forked workers."""
    return (
        shared_array((n_obj, n_time), np.uint8),
        shared_array((n_obj, n_time, 3), np.float64),
        shared_array((n_obj, n_time, 3), np.float64),
    )


def _run_chunks(
    satrecs: Sequence[Satrec],
    jd: np.ndarray,
    fr: np.ndarray,
    error: np.ndarray,
    r_km: np.ndarray,
    v_km_s: np.ndarray,
    bounds: list[tuple[int, int]],
) -> None:
    """Chunk 0 in this process, the others in forked children, all into shared outputs."""

    def work(part: int) -> None:
        start, stop = bounds[part]
        # Row slices of C-ordered arrays are contiguous: the kernel writes in place.
        _propagate_into(
            satrecs[start:stop], jd, fr, error[start:stop], r_km[start:stop], v_km_s[start:stop]
        )

    run_parts(work, len(bounds))
