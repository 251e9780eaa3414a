"""Screening on a local two-worker Dask cluster gives the single-machine CSV, byte for byte."""

from __future__ import annotations

import numpy as np
import pytest
from screening_subsets import FULL_2023, dense_leo, geo_neighbours, load_snapshot

from kizuna.screening import ScreeningInputError, screen
from kizuna.screening.base import ScreeningConfig
from kizuna.screening.engine import newest_epoch


@pytest.fixture(scope="module")
def cluster():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=40) as lc, Client(lc) as client:
        yield lc, client


@pytest.fixture(scope="module")
def population():
    snap = load_snapshot(FULL_2023)
    start = newest_epoch(snap)
    # objects that fail SGP4 during the day (so a failure in one chunk must reach the
    # later chunks on other workers), the Starlink shell and co-located GEO objects
    probe = screen(snap.subset(dense_leo(snap, 4000, seed=1)), start=start, duration_s=86400.0,
                   threshold_km=1.0, workers=2)
    ids = np.union1d(np.union1d(probe.summary.failed_norad_ids, dense_leo(snap, 300, seed=3)),
                     geo_neighbours(snap)[:40])
    return snap.subset(ids), start, probe.summary.failed_norad_ids


# 3-hour chunks: eight chunks in the day, spread over both workers
_CFG = ScreeningConfig(chunk_s=3 * 3600.0)
# Interpolation pads capped at 20 m: dozens of objects are retired in the middle of the
# day and must stay retired in every later chunk, whichever worker computes it.
_RETIRING = ScreeningConfig(chunk_s=3 * 3600.0, knot_error_km=0.005, max_interp_error_km=0.0)


@pytest.mark.parametrize("cfg", [_CFG, _RETIRING], ids=["default", "objects-retired-mid-window"])
def test_all_vs_all_on_a_two_worker_cluster_gives_the_identical_csv(cluster, population, cfg):
    from distributed import get_task_stream

    _, client = cluster
    sub, start, decaying = population
    local = screen(sub, start=start, duration_s=86400.0, threshold_km=10.0, config=cfg)
    with get_task_stream(client) as stream:
        remote = screen(sub, start=start, duration_s=86400.0, threshold_km=10.0, config=cfg,
                        scheduler=client)
    assert len(local) > 50
    if cfg is _RETIRING:
        assert local.summary.n_failed > len(decaying) + 10
    assert remote.to_csv() == local.to_csv()
    assert remote.summary.failed_norad_ids == local.summary.failed_norad_ids
    assert set(decaying) <= set(local.summary.failed_norad_ids)
    for key in ("n_candidates_broad", "n_candidates_narrow", "n_sgp4_knots", "n_sgp4_refine"):
        assert getattr(remote.summary, key) == getattr(local.summary, key), key
    # both workers computed tasks (the task stream, not scheduler_info(), whose worker list
    # came back empty once in a fresh-clone CI run while the cluster had both workers)
    assert len({task["worker"] for task in stream.data}) == 2


def test_fresh_chunks_with_earlier_failures_applied_match_the_sequential_propagator(population):
    from kizuna.screening.distributed import retire_failed
    from kizuna.screening.engine import _plan

    sub, start, _ = population
    plan, _, _ = _plan(sub, start, 86400.0, 10.0, None, _RETIRING)
    sequential = plan.knot_propagator(1)
    failed_before = np.full(plan.n, np.inf)
    n_retired = 0
    for c0, c1 in plan.chunks():
        seq = sequential.chunk(c0, c1)
        fresh_kp = plan.knot_propagator(1)
        fresh = fresh_kp.chunk(c0, c1)
        np.testing.assert_array_equal(np.asarray(fresh.r_km), np.asarray(seq.r_km))
        np.testing.assert_array_equal(fresh.pad_km, seq.pad_km)
        n_retired += int((fresh.valid_end != seq.valid_end).sum())
        np.testing.assert_array_equal(retire_failed(fresh, c0, failed_before).valid_end,
                                      seq.valid_end)
        failed_before = np.minimum(failed_before, fresh_kp.failed_at_s)
    # the rule mattered: objects usable in a fresh chunk had failed in an earlier one
    assert n_retired > 50


def test_protected_vs_all_by_scheduler_address_gives_the_identical_csv(cluster, population):
    lc, _ = cluster
    sub, start, _ = population
    prim = sub.norad_id[::25]
    local = screen(sub, start=start, duration_s=86400.0, threshold_km=10.0, primaries=prim,
                   config=_CFG)
    remote = screen(sub, start=start, duration_s=86400.0, threshold_km=10.0, primaries=prim,
                    config=_CFG, scheduler=lc.scheduler_address)
    assert len(local) > 0
    assert remote.to_csv() == local.to_csv()


def test_an_unreachable_scheduler_is_a_clear_error(population):
    import dask

    sub, start, _ = population
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}), \
            pytest.raises(ScreeningInputError, match="Dask scheduler"):
        screen(sub.subset(sub.norad_id[:20]), start=start, duration_s=3600.0,
               scheduler="tcp://127.0.0.1:9")
