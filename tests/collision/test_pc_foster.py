"""Foster 2D Pc against CARA's published values, Orekit's exact-method values
and a brute-force dblquad; vectorized path against the adaptive one."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pc_cases import alfano_case, cara_unit_json, orekit_json
from scipy import integrate

from kizuna.collision.encounter import CollisionInputError, project_encounter
from kizuna.collision.foster import foster_pc, foster_pc_batch, pc_circle_2d, pc_circle_2d_adaptive


def _args(c, hbr=None):
    return (c.r1_km, c.v1_km_s, c.cov1, c.r2_km, c.v2_km_s, c.cov2, c.hbr_km if hbr is None else hbr)


@pytest.mark.parametrize("n", range(1, 12))
def test_alfano2009_2d_matches_cara_pc2d(n):
    c = alfano_case(n)
    res = foster_pc(*_args(c))
    assert res.pc == pytest.approx(c.expected["CARA_Pc2D"], rel=1e-3)
    assert not res.covariance_remediated


def test_alfano2009_case12_zero_relative_velocity_has_no_2d_pc():
    # CARA reports NaN for the 2D Pc of case 12 (identical velocities).
    with pytest.raises(CollisionInputError, match="zero relative velocity"):
        foster_pc(*_args(alfano_case(12)))


def test_vectorized_batch_matches_cara_for_all_alfano_cases():
    cases = [alfano_case(n) for n in range(1, 12)]
    stack = [np.stack([getattr(c, f) for c in cases])
             for f in ("r1_km", "v1_km_s", "cov1", "r2_km", "v2_km_s", "cov2")]
    pc, rem = foster_pc_batch(*stack, np.array([c.hbr_km for c in cases]))
    expected = np.array([c.expected["CARA_Pc2D"] for c in cases])
    np.testing.assert_allclose(pc, expected, rtol=1e-3)
    assert not rem.any()


def test_omitron_case1_circle_and_square():
    o = cara_unit_json()["omitron_case1"]
    args = (o["r1"], o["v1"], o["cov1_pos"], o["r2"], o["v2"], o["cov2_pos"], o["HBR_km"])
    exp = o["expected"]
    for shape, key in (("circle", "Pc2D_Foster_circle"), ("square", "Pc2D_Foster_square"),
                       ("square_equal_area", "Pc2D_Foster_squareEquArea")):
        assert foster_pc(*args, shape=shape).pc == pytest.approx(exp[key]["value"],
                                                                 rel=exp[key]["reltol"])


def test_omitron_case2_miss_inside_hbr():
    o = cara_unit_json()["omitron_case2_PcCircle"]
    cov1 = np.array(o["cov1_pos_times_1e-3"]) * o["cov1_scale"]
    res = foster_pc(o["r1"], o["v1"], cov1, o["r2"], o["v2"], o["cov2_pos"], o["HBR_km"])
    # CARA's PcElrod tolerance (1e-3); our value differs from PcCircle by 1.6e-4.
    assert res.pc == pytest.approx(o["expected"]["PcElrod"]["value"], rel=1e-3)


def _orekit_exact_cases():
    out = []
    for c in orekit_json()["encounter_plane_2d_cases"]:
        if c["method"] not in ("Patera2005", "Laas2015") or "Custom" in c["test"]:
            continue
        # Laas 2015's truncated series is 2.9e-6 (abs) off the exact value on
        # this very thin ellipse (Patera's, marked unstable upstream, agrees with us).
        if c["method"] == "Laas2015" and c["test"] == "AlfanoTestCase5":
            continue
        out.append(pytest.param(c, id=f'{c["method"]}-{c["test"]}'))
    return out


@pytest.mark.parametrize("case", _orekit_exact_cases())
def test_orekit_encounter_plane_cases_exact_methods(case):
    xm, ym, sx, sy, r = (case[k] for k in ("xm", "ym", "sigmaX", "sigmaY", "radius"))
    # Encounter-plane inputs: axes are principal; pass the major axis first.
    if sx >= sy:
        pc = pc_circle_2d_adaptive(xm, ym, sx, sy, r)
    else:
        pc = pc_circle_2d_adaptive(ym, xm, sy, sx, r)
    assert abs(pc - case["expected_pc"]) <= case["abs_tol"]
    vec = pc_circle_2d(np.array([[xm, ym]]), np.array([[[sx * sx, 0], [0, sy * sy]]]), r)[0]
    assert abs(vec - case["expected_pc"]) <= case["abs_tol"]


def _brute(miss, cov, r):
    inv = np.linalg.inv(cov)
    norm = 1.0 / (2 * math.pi * math.sqrt(np.linalg.det(cov)))

    def f(y, x):
        d = np.array([x, y]) - miss
        return norm * math.exp(-0.5 * d @ inv @ d)

    val, _ = integrate.dblquad(f, -r, r, lambda x: -math.sqrt(r * r - x * x),
                               lambda x: math.sqrt(r * r - x * x), epsabs=0, epsrel=1e-10)
    return val


@pytest.mark.parametrize("miss,cov,r", [
    ([0.01, -0.02], [[4e-4, 1e-4], [1e-4, 9e-4]], 0.015),
    ([0.3, 0.1], [[0.04, -0.01], [-0.01, 0.01]], 0.02),
    ([0.002, 0.001], [[1e-6, 0.0], [0.0, 4e-4]], 0.01),
])
def test_against_bruteforce_dblquad(miss, cov, r):
    miss, cov = np.array(miss), np.array(cov)
    ref = _brute(miss, cov, r)
    assert pc_circle_2d(miss[None], cov[None], r)[0] == pytest.approx(ref, rel=1e-6)


def test_vectorized_matches_adaptive_on_random_geometries():
    rng = np.random.default_rng(7)
    n = 400
    s1 = 10 ** rng.uniform(-3, 0.5, n)
    s2 = s1 * 10 ** rng.uniform(-3.5, 0, n)
    ang = rng.uniform(0, np.pi, n)
    c, s = np.cos(ang), np.sin(ang)
    r = 10 ** rng.uniform(-3, -1.3, n)
    miss = rng.normal(size=(n, 2)) * s1[:, None] * rng.uniform(0, 3, (n, 1))
    cov = np.empty((n, 2, 2))
    cov[:, 0, 0] = s1 ** 2 * c * c + s2 ** 2 * s * s
    cov[:, 1, 1] = s1 ** 2 * s * s + s2 ** 2 * c * c
    cov[:, 0, 1] = cov[:, 1, 0] = (s1 ** 2 - s2 ** 2) * c * s
    vec = pc_circle_2d(miss, cov, r)
    m1 = miss[:, 0] * c + miss[:, 1] * s
    m2 = -miss[:, 0] * s + miss[:, 1] * c
    ref = np.array([pc_circle_2d_adaptive(m1[i], m2[i], s1[i], s2[i], r[i]) for i in range(n)])
    big = ref > 1e-10
    # 192-node composite Gauss-Legendre: ~1e-6 relative at worst.
    np.testing.assert_allclose(vec[big], ref[big], rtol=5e-6)


def test_non_positive_definite_covariance_is_clipped_and_flagged():
    c = alfano_case(5)
    bad = c.cov1.copy()
    # A rank-deficient combined covariance: remove the secondary's and make the
    # primary's position block singular with a negative eigenvalue.
    w, q = np.linalg.eigh(bad[:3, :3])
    w[0] = -abs(w[0]) - 1e-3
    bad[:3, :3] = q @ np.diag(w) @ q.T
    enc = project_encounter(c.r1_km, c.v1_km_s, bad, c.r2_km, c.v2_km_s, np.zeros((3, 3)))
    if np.linalg.eigvalsh(enc.cov_km2).min() >= (1e-4 * c.hbr_km) ** 2:
        pytest.skip("projection removed the negative direction")
    res = foster_pc(c.r1_km, c.v1_km_s, bad, c.r2_km, c.v2_km_s, np.zeros((3, 3)), c.hbr_km)
    assert res.covariance_remediated
    assert 0.0 <= res.pc <= 1.0


def test_bad_shapes_raise():
    with pytest.raises(CollisionInputError):
        foster_pc([0, 0], [1, 0, 0], np.eye(3), [1, 0, 0], [0, 1, 0], np.eye(3), 0.01)
    with pytest.raises(CollisionInputError):
        foster_pc([0, 0, 0], [1, 0, 0], np.eye(4), [1, 0, 0], [0, 1, 0], np.eye(3), 0.01)
    with pytest.raises(CollisionInputError):
        foster_pc([0, 0, 0], [1, 0, 0], np.eye(3), [1, 0, 0], [0, 1, 0], np.eye(3), 0.01,
                  shape="hexagon")
