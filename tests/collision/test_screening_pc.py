"""Pc of real screening events (kizuna.collision.screening_pc) vs independent per-event values."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "screening"))
from screening_subsets import FULL_2023, dense_leo, load_snapshot

from kizuna.collision.covariance import CovarianceModel
from kizuna.collision.foster import foster_pc
from kizuna.collision.hbr import combined_hbr_m, hbr_estimate
from kizuna.collision.montecarlo import mc_2d_from_states
from kizuna.collision.screening_pc import model_for, pc_for_events
from kizuna.screening import screen
from kizuna.screening.engine import newest_epoch
from kizuna.timelib import jd_fr_from_datetime


@cache
def _screen():
    snap = load_snapshot(FULL_2023)
    sub = snap.subset(dense_leo(snap, 400, seed=3))
    start = newest_epoch(sub)
    res = screen(sub, start=start, duration_s=86400.0, threshold_km=10.0, workers=1)
    assert len(res) > 100
    return sub, start, res.events


def _independent(sub, start, e):
    """One event from scratch: Satrec SGP4, model covariance in TEME, table HBR, scalar Foster."""
    jd, fr = jd_fr_from_datetime(start)
    fr = fr + e["t_s"] / 86400.0
    out = []
    for nid in (int(e["primary_norad_id"]), int(e["secondary_norad_id"])):
        es = next(s for s in sub.element_sets if s.norad_id == nid)
        err, r, v = es.to_satrec().sgp4(jd, fr)
        assert err == 0
        age = (jd - es.epoch_jd) + (fr - es.epoch_fr)
        out += [np.array(r), np.array(v),
                model_for(sub, nid).covariance_inertial(age, np.array(r), np.array(v))]
    hbr = combined_hbr_m(hbr_estimate(int(e["primary_norad_id"]), None),
                         hbr_estimate(int(e["secondary_norad_id"]), None))
    return out, hbr


def test_pc_matches_independent_scalar_foster_on_real_events():
    sub, start, ev = _screen()
    pc, pm, det = pc_for_events(ev, sub, start)
    assert np.all((pc >= 0) & (pc <= 1))
    assert set(pm) <= {"foster", "foster+remediated"}
    # TCA states recomputed from SGP4 give the screen's own miss distances.
    np.testing.assert_allclose(det["miss_km"], ev["miss_km"], atol=1e-6)
    top = np.argsort(pc)[-8:]
    for i in top:
        (r1, v1, c1, r2, v2, c2), hbr = _independent(sub, start, ev[i])
        ref = foster_pc(r1, v1, c1, r2, v2, c2, det["hbr_m"][i] / 1e3).pc
        assert pc[i] == pytest.approx(ref, rel=1e-6)
        assert det["hbr_m"][i] == pytest.approx(hbr, rel=1e-12) or hbr_estimate(
            int(ev[i]["primary_norad_id"])).source.startswith("default")


def test_pc_matches_monte_carlo_with_inflated_covariance():
    # A larger-Pc variant (one shared small covariance) checked against 2D MC.
    sub, start, ev = _screen()
    coeff = ((1.0, 0.0, 0.0), (3.0, 0.0, 0.0), (1.0, 0.0, 0.0),
             (3e-3, 0.0, 0.0), (1e-3, 0.0, 0.0), (1e-3, 0.0, 0.0))
    ids = np.unique(np.concatenate([ev["primary_norad_id"], ev["secondary_norad_id"]]))
    models = {int(i): CovarianceModel(norad_id=int(i), coefficients=coeff) for i in ids}
    pc, pm, det = pc_for_events(ev, sub, start, models=models,
                                hbr_overrides={int(i): 10.0 for i in ids})
    assert set(det["cov1_source"]) == {"history"}
    i = int(np.nanargmax(pc))
    assert pc[i] > 2e-5
    jd, fr = jd_fr_from_datetime(start)
    out = []
    for nid in (int(ev[i]["primary_norad_id"]), int(ev[i]["secondary_norad_id"])):
        es = next(s for s in sub.element_sets if s.norad_id == nid)
        _, r, v = es.to_satrec().sgp4(jd, fr + ev[i]["t_s"] / 86400.0)
        out += [np.array(r), np.array(v), models[nid].covariance_inertial(0.0, r, v)]
    assert det["hbr_m"][i] == pytest.approx(20.0)
    mc = mc_2d_from_states(*out, 0.02, n_samples=2_000_000, seed=5)
    assert mc.ci95[0] <= pc[i] <= mc.ci95[1]


def test_equal_isotropic_covariances_pc_decreases_with_miss():
    sub, start, ev = _screen()
    iso = ((0.3, 0.0, 0.0),) * 3 + ((1e-4, 0.0, 0.0),) * 3
    ids = np.unique(np.concatenate([ev["primary_norad_id"], ev["secondary_norad_id"]]))
    models = {int(i): CovarianceModel(norad_id=int(i), coefficients=iso) for i in ids}
    pc, _, _ = pc_for_events(ev, sub, start, models=models,
                             hbr_overrides={int(i): 5.0 for i in ids})
    order = np.argsort(ev["miss_km"])
    assert np.all(np.diff(pc[order]) <= 1e-15)
    assert pc[order[0]] > pc[order[-1]]


def test_zero_relative_speed_flagged_not_computed():
    sub, start, ev = _screen()
    same = ev[:2].copy()
    same["secondary_norad_id"] = same["primary_norad_id"]
    pc, pm, _ = pc_for_events(same, sub, start)
    assert np.all(np.isnan(pc))
    assert list(pm) == ["none:zero_rel_speed"] * 2


def test_per_event_registry_method_agrees_with_batch():
    sub, start, ev = _screen()
    pc, _, _ = pc_for_events(ev[:20], sub, start)
    pc_alf, pm, _ = pc_for_events(ev[:20], sub, start, method="alfano2005")
    assert set(pm) <= {"alfano2005", "alfano2005+remediated"}
    big = pc > 1e-12
    np.testing.assert_allclose(pc_alf[big], pc[big], rtol=1e-3)
