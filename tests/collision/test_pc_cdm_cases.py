"""Pc from CDM files (read_cdm + cdm_states_inertial + methods) vs published values.

References: CARA unit tests (tests/data/pc/expected_values_from_cara_unit_tests.json),
Alfano (2009) table (A09TestCases_01_12_Distributed.csv) and Orekit's CDM tests
(orekit_pc_expected_values.json). The Pc is always recomputed from the states
and covariances; the CDMs' own COLLISION_PROBABILITY is not used.
"""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import numpy as np
import pytest
from pc_cases import cara_unit_json, expected_table, orekit_json

from kizuna.ccsds.cdm import parse_cdm
from kizuna.collision.foster import foster_pc
from kizuna.collision.pc_cdm import ALL, hbr_for_cdm, pc_from_cdm

CDM_DIR = Path(__file__).resolve().parents[1] / "data" / "ccsds" / "cdm"


def _cdm(name: str, source: str = "cara"):
    path = CDM_DIR / source / (name + ".gz")
    return parse_cdm(gzip.open(path, "rt").read(), file=str(path))


def _pc(cdm, method, **kw):
    ((_, res),) = pc_from_cdm(cdm, method, **kw)
    return res


# ---------------------------------------------------------------- Alfano 2009 CDMs

ALFANO_CDMS = [n for n in range(1, 12)]


@pytest.mark.parametrize("n", ALFANO_CDMS)
def test_alfano_cdm_foster_vs_cara_pc2d(n):
    cdm = _cdm(f"AlfanoTestCase{n:02d}.cdm")
    hbr, source = hbr_for_cdm(cdm)
    assert source == "comment"
    assert hbr == expected_table()[n]["HBR"]
    res = _pc(cdm, "foster")
    assert res.pc == pytest.approx(expected_table()[n]["CARA_Pc2D"], rel=1e-3)


ORE_CDM = [c for c in orekit_json()["cdm_cases"] if c["cdm_file"].startswith("Alfano")]


@pytest.mark.parametrize("case", ORE_CDM, ids=[c["test"] for c in ORE_CDM])
def test_alfano_cdm_alfano2005_vs_orekit(case):
    # Orekit's copies of the CDMs, HBR from its test inputs.
    cdm = _cdm(case["cdm_file"], "orekit")
    res = _pc(cdm, "alfano2005", hbr_m=case["combined_hbr_m"])
    assert res.pc == pytest.approx(case["expected_pc"], abs=case["abs_tol"])


def test_alfano_cdm07_hall3d_vs_cara():
    # CARA's Pc3D_Hall unit test on the CDM (reltol 0.5%); the window is the
    # case's Tlimit (+/-1419 s): a longer one picks up the neighbouring orbits'
    # encounters of this slow pair.
    exp = cara_unit_json()["AlfanoTestCase07_cdm_Pc3D_Hall"]
    cdm = _cdm("AlfanoTestCase07.cdm")
    from kizuna.ccsds.cdm import cdm_states_inertial
    from kizuna.collision.hall3d import pc_hall3d
    res = pc_hall3d(*cdm_states_inertial(cdm), exp["HBR_m"] / 1e3, t_window_s=(-1419.0, 1419.0))
    assert res.pc == pytest.approx(exp["expected"]["Pc3D_Hall"], rel=exp["expected"]["reltol"])


# ---------------------------------------------------------------- Omitron CDMs


def test_omitron08_3dnc_2d_and_3d():
    exp = cara_unit_json()["OmitronTestCase_Test08_3DNc_cdm"]
    cdm = _cdm("OmitronTestCase_Test08_3DNc.cdm")
    hbr = exp["HBR_m"]
    rel = exp["expected"]["reltol"]
    assert _pc(cdm, "foster", hbr_m=hbr).pc == pytest.approx(
        exp["expected"]["Pc2D_Foster_circle"], rel=rel)
    # 3D Nc with hall3d's default model (Gaussian equinoctial elements,
    # linearized at the peak overlap, as CARA): 1.9261e-5 vs 1.9271e-5. The
    # Cartesian-Gaussian model gives 1.468e-5 here; both are checked against
    # Monte Carlo in test_pc_hall3d.py.
    nc = _pc(cdm, "hall3d", hbr_m=hbr).pc
    assert nc == pytest.approx(exp["expected"]["Pc3D_Hall"], rel=rel)
    # ... and the 3D Nc is 1e14 times the 2D Pc, as CARA's case intends.
    assert nc > 1e14 * exp["expected"]["Pc2D_Foster_circle"]


def test_omitron07_non_pd_covariance_gives_zero_and_flags_remediation():
    exp = cara_unit_json()["OmitronTestCase_Test07_NonPDCovariance_cdm"]["expected"]
    cdm = _cdm("OmitronTestCase_Test07_NonPDCovariance.cdm")
    for method, key in (("foster", "Pc2D_Foster"), ("hall3d", "Pc3D_Hall")):
        res = _pc(cdm, method)
        assert res.pc == pytest.approx(exp[key], abs=exp["abstol"])
        assert res.covariance_remediated


@pytest.mark.parametrize("name", [
    "OmitronTestCase_Test01_HighPc", "OmitronTestCase_Test02_MaxRadialSigma",
    "OmitronTestCase_Test03_MaxIntrackSigma", "OmitronTestCase_Test04_MaxCrossTrackSigma",
    "OmitronTestCase_Test05_MinMiss"])
def test_omitron_fast_cases_foster_vs_3d_and_mc(name):
    # No published value for these: the 2D Pc must agree with the 2D Monte
    # Carlo (1e6 draws, within 4 binomial sigmas) and, for these fast
    # encounters, with the 3D Nc (1%).
    cdm = _cdm(name + ".cdm")
    (_, f), (_, h), (_, m) = pc_from_cdm(cdm, ["foster", "hall3d", "mc2d"])
    assert abs(m.pc - f.pc) <= 4 * math.sqrt(f.pc * (1 - f.pc) / m.n_samples)
    assert h.pc == pytest.approx(f.pc, rel=0.01)


# ---------------------------------------------------------------- Orekit ITRF CDM


def test_ion_scv8_vs_starlink_itrf_cdm_vs_orekit_patera():
    case = next(c for c in orekit_json()["cdm_cases"] if c["cdm_file"].startswith("ION"))
    cdm = _cdm("ION_SCV8_vs_STARLINK_1233.txt", "orekit")
    assert cdm.object1.is_earth_fixed
    hbr = case["primary_radius_m"] + case["secondary_radius_m"]
    for method in ("foster", "alfano2005"):
        # Orekit's 1e-18 absolute tolerance is its own regression value; the
        # two exact integrals agree with it to 1e-8 relative (Foster) and
        # 6e-6 (Alfano's Simpson rule).
        assert _pc(cdm, method, hbr_m=hbr).pc == pytest.approx(case["expected_pc"], rel=1e-5)


# ---------------------------------------------------------------- Frisbee max Pc


def test_frisbee_max_pc_vs_brute_force_scale_search():
    # No published value: compare with a brute-force scan of the secondary
    # covariance scale (Foster Pc of C1 + k^2 C2 on a fine log grid).
    cdm = _cdm("FrisbeeMaxPcTestCase_Test01.cdm")
    res = _pc(cdm, "max_frisbee")
    from kizuna.ccsds.cdm import cdm_states_inertial
    r1, v1, c1, r2, v2, c2 = cdm_states_inertial(cdm)
    hbr_km = cdm.hbr_m_from_comment / 1e3
    ks = np.geomspace(1e-3, 1e3, 601)
    brute = [foster_pc(r1, v1, c1, r2, v2, k * k * c2, hbr_km).pc for k in ks]
    i = int(np.argmax(brute))
    assert res.pc >= brute[i] * (1 - 1e-9)
    assert res.pc == pytest.approx(brute[i], rel=1e-3)
    assert res.extras["scale_k"] == pytest.approx(ks[i], rel=0.03)
    assert res.pc >= _pc(cdm, "foster").pc


# ---------------------------------------------------------------- interface


def test_hbr_order_argument_comment_table():
    cdm = _cdm("OmitronTestCase_Test01_HighPc.cdm")
    assert hbr_for_cdm(cdm, 7.5) == (7.5, "argument")
    assert hbr_for_cdm(cdm) == (20.0, "comment")
    # Test08 has no HBR comment: table value of both objects (METOP-A, 31746).
    from kizuna.collision.hbr import combined_hbr_m, hbr_estimate
    t08 = _cdm("OmitronTestCase_Test08_3DNc.cdm")
    hbr, source = hbr_for_cdm(t08)
    assert source == "table"
    assert hbr == pytest.approx(combined_hbr_m(hbr_estimate(29499), hbr_estimate(31746)))


def test_all_methods_and_cdm_pc_not_copied():
    cdm = _cdm("OmitronTestCase_Test07_NonPDCovariance.cdm")
    assert cdm.collision_probability == 0.0
    cdm = _cdm("SingleCovTestCase1-12.cdm")
    out = pc_from_cdm(cdm, "all")
    assert [m for m, _ in out] == list(ALL)
    for _, res in out:
        assert 0.0 <= res.pc or math.isnan(res.pc)
        assert res.extras["hbr_source"] == "table"
    # Our value is recomputed (with the table HBR), not the message's 0.0633.
    assert out[0][1].pc != pytest.approx(cdm.collision_probability, rel=1e-3)


def test_zero_relative_velocity_all_reports_error_single_raises():
    from dataclasses import replace

    from kizuna.collision.encounter import CollisionInputError
    cdm = _cdm("OmitronTestCase_Test01_HighPc.cdm")
    # Give object 2 object 1's inertial velocity (same frame, EME2000).
    o1, o2 = cdm.objects
    still = replace(cdm, object2=replace(o2, r_km=o1.r_km + np.array([0.001, 0, 0]),
                                         v_km_s=o1.v_km_s, covariance_rtn=o1.covariance_rtn))
    with pytest.raises(CollisionInputError):
        pc_from_cdm(still, "foster")
    out = dict(pc_from_cdm(still, "all"))
    assert math.isnan(out["foster"].pc) and "velocity" in out["foster"].extras["error"]
