"""HBR table lookups (values from CARA's distributed table) and the registry."""

from __future__ import annotations

import numpy as np
import pytest
from pc_cases import alfano_case

from kizuna.collision import METHODS, CollisionInputError, compute_pc, get_method
from kizuna.collision.hbr import DEFAULT_HBR_M, combined_hbr_m, hbr_estimate, hbr_m, load_table


def test_table_values_from_cara_file():
    # Rows of HBR_Mass_Estimates_20260601_ForDistribution.csv:
    # 25544,66.1,0,CARA Protected Primary ; 51,0.9642...,1.1329...,SFK RCS Estimate
    assert hbr_m(25544) == 66.1
    est = hbr_estimate(51)
    assert est.hbr_m == pytest.approx(0.964231173853356)
    assert est.sigma_m == pytest.approx(1.13290042146033)
    assert "SFK RCS" in est.source
    assert hbr_m(74) == 3.7  # a CARA "Default" row
    assert len(load_table()) == 23583


def test_fallback_and_override():
    assert hbr_m(1) == DEFAULT_HBR_M["UNKNOWN"]  # DISCOS row, blank upstream
    assert hbr_m(None, "debris") == 1.1
    assert hbr_m(None, "R/B") == DEFAULT_HBR_M["ROCKET BODY"]
    assert hbr_m(25544, overrides={25544: 50.0}) == 50.0
    with pytest.raises(CollisionInputError):
        hbr_m(25544, overrides={25544: -1.0})


def test_combined_hbr_baars_hall():
    a = hbr_estimate(51)
    b = hbr_estimate(25544)
    expected = np.sqrt((a.hbr_m + 66.1) ** 2 + a.sigma_m ** 2)
    assert combined_hbr_m(a, b) == pytest.approx(expected)


def test_registry_runs_the_2d_methods_through_one_interface():
    c = alfano_case(6)
    args = (c.r1_km, c.v1_km_s, c.cov1, c.r2_km, c.v2_km_s, c.cov2, c.hbr_km)
    for name in ("foster", "alfano2005"):
        res = compute_pc(name, *args)
        assert res.method == name
        assert res.pc == pytest.approx(c.expected["CARA_Pc2D"], rel=1e-3)
    # Chan's equal-area disc is poor when sigma_min < HBR (here 0.2 HBR).
    assert 0.0 <= compute_pc("chan", *args).pc <= 1.0
    assert {"foster", "chan", "alfano2005", "max_alfriend", "max_frisbee", "hall3d",
            "mc2d", "mc3d"} <= set(METHODS)
    with pytest.raises(CollisionInputError, match="unknown Pc method"):
        get_method("nope")
