"""Chan, Alfano 2005 and max-Pc methods against Orekit's published values
and brute-force checks."""

from __future__ import annotations

import numpy as np
import pytest
from pc_cases import alfano_case, orekit_json

from kizuna.collision.alfano import alfano_pc, pc_alfano_2d
from kizuna.collision.chan import chan_pc, pc_chan_2d
from kizuna.collision.foster import foster_pc
from kizuna.collision.maxpc import max_pc_alfriend, max_pc_frisbee


def _cases(method):
    return [pytest.param(c, id=c["test"]) for c in orekit_json()["encounter_plane_2d_cases"]
            if c["method"] == method]


@pytest.mark.parametrize("case", _cases("Chan1997"))
def test_chan_orekit_cases(case):
    pc = pc_chan_2d(case["xm"], case["ym"], case["sigmaX"], case["sigmaY"], case["radius"])
    assert abs(pc - case["expected_pc"]) <= case["abs_tol"]


@pytest.mark.parametrize("case", _cases("Alfano2005"))
def test_alfano2005_orekit_cases(case):
    pc = pc_alfano_2d(case["xm"], case["ym"], case["sigmaX"], case["sigmaY"], case["radius"])
    assert abs(pc - case["expected_pc"]) <= case["abs_tol"]


@pytest.mark.parametrize("case", [pytest.param(c, id=c["test"])
                                  for c in orekit_json()["cdm_cases"]
                                  if c["method"] == "Alfano2005"])
def test_alfano2005_orekit_cdm_cases_from_alfano_tca_tables(case):
    # Orekit reads Alfano's cases from CDMs; the same states are in CARA's
    # at-TCA tables, which we read here (no CDM reader needed).
    n = int(case["cdm_file"][len("AlfanoTestCase"):len("AlfanoTestCase") + 2])
    c = alfano_case(n)
    pc = alfano_pc(c.r1_km, c.v1_km_s, c.cov1, c.r2_km, c.v2_km_s, c.cov2,
                   case["combined_hbr_m"] / 1e3).pc
    assert abs(pc - case["expected_pc"]) <= case["abs_tol"]


def _synthetic():
    # Miss 200 m (outside the 10 m disc), covariance tens of metres.
    r1 = np.array([7000.0, 0.0, 0.0])
    v1 = np.array([0.0, 7.5, 0.0])
    r2 = r1 + np.array([0.0, 0.0, 0.2])
    v2 = np.array([0.0, 0.0, 7.5])
    cov1 = np.diag([0.01, 0.04, 0.0025])
    cov2 = np.diag([0.0004, 0.0009, 0.0016])
    return r1, v1, cov1, r2, v2, cov2, 0.01


def test_chan_matches_foster_when_disc_is_small_against_both_sigmas():
    args = _synthetic()
    assert chan_pc(*args).pc == pytest.approx(foster_pc(*args).pc, rel=1e-3)
    assert alfano_pc(*args).pc == pytest.approx(foster_pc(*args).pc, rel=1e-4)


def test_max_alfriend_is_the_maximum_over_scale():
    r1, v1, cov1, r2, v2, cov2, hbr = _synthetic()
    res = max_pc_alfriend(r1, v1, cov1, r2, v2, cov2, hbr)
    k = res.extras["scale_k"]
    # Brute force: scan the covariance scale on a fine grid with the exact Pc.
    grid = np.geomspace(k / 3, k * 3, 41)
    scanned = [foster_pc(r1, v1, cov1 * g * g, r2, v2, cov2 * g * g, hbr).pc for g in grid]
    assert res.pc >= max(scanned) * (1 - 1e-9)
    assert res.pc > res.extras["pc_nominal"]
    # Small disc: the closed form of Alfriend et al. is close to the exact maximum.
    assert res.extras["pc_max_closed_form"] == pytest.approx(res.pc, rel=0.02)


def test_max_alfriend_miss_inside_hbr_is_one():
    c = alfano_case(7)
    res = max_pc_alfriend(c.r1_km, c.v1_km_s, c.cov1, c.r2_km, c.v2_km_s, c.cov2, c.hbr_km)
    assert res.pc == 1.0 and res.extras["miss_inside_hbr"]


def test_max_frisbee_bounds_nominal_and_handles_missing_secondary():
    r1, v1, cov1, r2, v2, cov2, hbr = _synthetic()
    res = max_pc_frisbee(r1, v1, cov1, r2, v2, cov2, hbr)
    assert res.pc >= foster_pc(r1, v1, cov1, r2, v2, cov2, hbr).pc
    res_none = max_pc_frisbee(r1, v1, cov1, r2, v2, None, hbr)
    assert 0 < res_none.pc <= 1
    assert res_none.extras["secondary_covariance_given"] is False
