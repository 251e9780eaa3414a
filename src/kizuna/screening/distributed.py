"""Screening on a Dask distributed cluster: the window's chunks run on the workers.

The engine streams the window in chunks, and a chunk's candidates depend only
on the plan and that chunk's knots, with one exception: an object that failed
(SGP4 error, decay) in an earlier chunk stays unusable. So the work is two
task layers per chunk:

1. ``knots``: SGP4 at the chunk's knots (a fresh propagator per chunk) and
   the object failure times seen in that chunk;
2. ``candidates``: the failures of all earlier chunks applied, then the broad
   phase, the interpolated filter and the SGP4 narrow phase of the chunk's
   candidates; it runs where its knots are (Dask moves the small failure
   vectors, not the ephemerides).

The client gathers the refined candidates, sorts them as the local engine
does and builds the events with the same code, so the CSV is byte-identical
to a single-machine run. Workers should have one thread each (SGP4 holds the
GIL): ``dask worker ADDRESS --nworkers N --nthreads 1``.
"""

from __future__ import annotations

import dataclasses
import threading
import uuid

import numba
import numpy as np

from kizuna.screening.base import ScreeningInputError
from kizuna.screening.tca import refine_serial

# one chunk at a time per worker process in numba (its default threading layer
# refuses concurrent parallel launches from several threads)
_NUMBA_LOCK = threading.Lock()
_SATRECS: dict[str, list] = {}  # per worker process: run token -> satrecs (internal order)


def run_on_cluster(snapshot, plan, scheduler, progress=None):
    """Run ``plan`` (see :mod:`kizuna.screening.engine`) on a Dask cluster; returns ``Refined``.

    ``scheduler`` is a scheduler address (``tcp://host:8786``) or a connected
    ``distributed.Client``.
    """
    try:
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - distributed is a dependency
        raise ScreeningInputError(
            "--scheduler needs the 'distributed' package: pip install distributed") from exc
    own = not isinstance(scheduler, Client)
    if own:
        try:
            client = Client(str(scheduler))  # dask config: distributed.comm.timeouts.connect
        except OSError as exc:
            raise ScreeningInputError(
                f"cannot reach the Dask scheduler at {scheduler!r} ({exc}); start one with "
                "'dask scheduler' and workers with 'dask worker ADDRESS --nthreads 1'") from exc
    else:
        client = scheduler
    try:
        return _run(client, snapshot, plan, progress)
    finally:
        if own:
            client.close()


def _run(client, snapshot, plan, progress=None):
    from distributed import as_completed

    from kizuna.screening.engine import Refined

    chunks = plan.chunks()
    light = dataclasses.replace(plan, satrecs=[], satrecs_all=[])
    sets = [snapshot.element_sets[k] for k in plan.obj]
    token = uuid.uuid4().hex
    payload = client.scatter((token, light, sets), broadcast=True)
    knots = [client.submit(_knots_task, payload, k, pure=False) for k in range(len(chunks))]
    fails = [client.submit(_second, f, pure=False) for f in knots]
    cands = [client.submit(_candidates_task, payload, k, knots[k], *fails[:k], pure=False)
             for k in range(len(chunks))]
    if progress is not None:
        progress(0, len(cands))
        for done, _ in enumerate(as_completed(cands), start=1):
            progress(done, len(cands))
    results = client.gather(cands)
    fail_vectors = client.gather(fails)
    n_knot_props = sum(client.gather([client.submit(_third, f, pure=False) for f in knots]))
    client.run(_forget, token)
    del knots, cands

    failed_at = np.full(plan.n, np.inf)
    for f in fail_vectors:
        failed_at = np.minimum(failed_at, f)

    def cat(key, pos=None, shape=(0,)):
        parts = [r[key] if pos is None else r[key][pos] for r in results]
        return np.concatenate(parts) if parts else np.empty(shape)

    ci, cj, ta = cat("found", 0).astype(np.int64), cat("found", 1).astype(np.int64), cat("found", 2)
    # the local engine refines in (i, j, ta) order; refinement is per candidate,
    # so sorting the refined rows the same way gives the same arrays
    o = np.lexsort((ta, cj, ci))
    return Refined(ci=ci[o], cj=cj[o], status=cat("status").astype(np.int8)[o],
                   t_tca=cat("t")[o], ri=cat("ri", shape=(0, 3))[o],
                   vi=cat("vi", shape=(0, 3))[o], rj=cat("rj", shape=(0, 3))[o],
                   vj=cat("vj", shape=(0, 3))[o], failed_at_s=failed_at,
                   n_broad=sum(r["n_broad"] for r in results), n_knot_props=n_knot_props,
                   n_refine_props=sum(r["n_ref"] for r in results),
                   max_pad_km=max((r["max_pad"] for r in results), default=0.0))


def retire_failed(ck, c0: float, failed_before_s: np.ndarray):
    """``ck`` with objects that failed at or before its first knot made unusable.

    ``failed_before_s``: each object's first failure time (seconds from the window
    start) in the earlier chunks. The local engine's propagator carries these from
    chunk to chunk; a fresh propagator per chunk gets them here instead.
    """
    gone = failed_before_s <= c0 + ck.t_first
    return dataclasses.replace(ck, valid_end=np.where(gone, -np.inf, ck.valid_end))


def _satrecs(payload):
    token, _, sets = payload
    if token not in _SATRECS:
        _SATRECS[token] = [es.to_satrec() for es in sets]
    return _SATRECS[token]


def _forget(token):
    _SATRECS.pop(token, None)


def _second(x):
    return x[1]


def _third(x):
    return x[2]


def _knots_task(payload, k):
    _, plan, _ = payload
    c0, c1 = plan.chunks()[k]
    kp = plan.knot_propagator(1, satrecs=_satrecs(payload))
    ck = kp.chunk(c0, c1)
    return ck, np.array(kp.failed_at_s), kp.n_props


def _candidates_task(payload, k, knots, *earlier_failures):
    from kizuna.screening.engine import chunk_candidates

    _, plan, _ = payload
    c0, c1 = plan.chunks()[k]
    ck = knots[0]
    if earlier_failures:
        ck = retire_failed(ck, c0, np.minimum.reduce(earlier_failures))
    timings: dict[str, float] = {}
    with _NUMBA_LOCK:
        prev = numba.get_num_threads()
        numba.set_num_threads(1)
        try:
            found, n_broad, max_pad, _ = chunk_candidates(plan, ck, c0, c1, 8192, timings)
        finally:
            numba.set_num_threads(prev)
    ci, cj, ta, tb, tg = found
    status, t, ri, vi, rj, vj, n_ref = refine_serial(_satrecs(payload), ci, cj, ta, tb, tg,
                                                     plan.jd0, plan.fr0, plan.cfg.tca_tolerance_s)
    return {"found": found, "status": status, "t": t, "ri": ri, "vi": vi, "rj": rj, "vj": vj,
            "n_broad": n_broad, "max_pad": max_pad, "n_ref": n_ref}
