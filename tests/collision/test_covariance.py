"""Covariance from element-set history: pairs, growth fit, frames, defaults, calibration, store.

References are independent of the code under test: direct python-sgp4 calls
with a RIC frame built here by hand, Monte Carlo samples of known
distributions, and held-out real ISS element sets.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from sgp4.api import WGS72, Satrec
from sqlalchemy import func, select

from kizuna.catalog.elements import ParseResult
from kizuna.catalog.reader import read_catalog
from kizuna.collision.covariance import (
    COMPONENTS,
    CovarianceError,
    CovarianceModel,
    PairErrors,
    default_model,
    fit_covariance_model,
    history_errors,
    model_for_history,
    ric_to_inertial,
    rolling_calibration,
)
from kizuna.store.covariances import (
    fit_store_covariances,
    intersect_releasability,
    load_covariance_models,
    save_covariance_models,
)
from kizuna.store.models import element_sets, object_covariances
from kizuna.store.repository import add_parse_result
from kizuna.store.session import open_store
from kizuna.timelib import jd_fr_from_datetime

ISS_HISTORY = (Path(__file__).resolve().parents[1] / "data" / "tle-history"
               / "iss_25544_gp_history_2020-2024.csv.gz")


@pytest.fixture(scope="module")
def iss_sets():
    result = read_catalog(ISS_HISTORY)
    assert len(result.element_sets) == 9571  # the published row count of the file
    return result.element_sets


@pytest.fixture(scope="module")
def iss_pairs(iss_sets) -> PairErrors:
    return history_errors(iss_sets, max_age_days=7.0)


# ------------------------------------------------------------------ pair errors


def _hand_ric(r, v, d):
    r, v, d = (np.asarray(x, dtype=float) for x in (r, v, d))
    rhat = r / np.linalg.norm(r)
    chat = np.cross(r, v) / np.linalg.norm(np.cross(r, v))
    ihat = np.cross(chat, rhat)
    return np.array([d @ rhat, d @ ihat, d @ chat])


def test_pair_errors_match_direct_sgp4_calls(iss_sets) -> None:
    sets = iss_sets[:40]
    pairs = history_errors(sets, max_age_days=2.0)
    assert len(pairs) > 100
    for k in (0, 17, len(pairs) - 1):
        old, new = sets[pairs.i_old[k]], sets[pairs.i_new[k]]
        s_old = Satrec.twoline2rv(old.tle_line1, old.tle_line2, WGS72)
        s_new = Satrec.twoline2rv(new.tle_line1, new.tle_line2, WGS72)
        _, r1, v1 = s_old.sgp4(new.epoch_jd, new.epoch_fr)
        _, r2, v2 = s_new.sgp4(new.epoch_jd, new.epoch_fr)
        expected_pos = _hand_ric(r2, v2, np.subtract(r1, r2))
        expected_vel = _hand_ric(r2, v2, np.subtract(v1, v2))
        np.testing.assert_allclose(pairs.err_ric[k, :3], expected_pos, atol=1e-9)
        np.testing.assert_allclose(pairs.err_ric[k, 3:], expected_vel, atol=1e-12)
        age = (new.epoch_jd - old.epoch_jd) + (new.epoch_fr - old.epoch_fr)
        assert pairs.age_days[k] == pytest.approx(age, abs=1e-9)
        assert 0 < pairs.age_days[k] <= 2.0


def test_order_and_duplicates_do_not_change_the_pairs(iss_sets) -> None:
    sets = list(iss_sets[:60])
    reference = history_errors(sets, max_age_days=3.0)
    rng = np.random.default_rng(7)
    shuffled = [sets[i] for i in rng.permutation(len(sets))] + sets[10:15]  # 5 duplicates
    again = history_errors(shuffled, max_age_days=3.0)
    assert again.epoch_jd.size == 60
    np.testing.assert_array_equal(again.err_ric, reference.err_ric)
    np.testing.assert_array_equal(again.age_days, reference.age_days)


def test_history_errors_rejects_mixed_objects(iss_sets) -> None:
    other = dataclasses.replace(iss_sets[1], norad_id=99999)
    with pytest.raises(CovarianceError, match="group the history by norad_id"):
        history_errors([iss_sets[0], other])


# ------------------------------------------------------------------ growth fit (Monte Carlo)


def _synthetic_pairs(coef, corr, n, rng, outlier_fraction=0.0) -> PairErrors:
    age = rng.uniform(0.01, 7.0, n)
    truth = CovarianceModel(norad_id=1, coefficients=coef, correlation=corr)
    sig = truth.sigma(age)
    z = rng.multivariate_normal(np.zeros(6), np.asarray(corr), size=n)
    err = z * sig
    bad = rng.random(n) < outlier_fraction
    err[bad] *= 50.0  # maneuver-like: far outside, in every component
    jd = np.full(2, 2460000.5)
    return PairErrors(1, age, err, np.zeros(n, int), np.ones(n, int), jd, np.zeros(2), "x")


COEF = ((0.05, 0.04, 0.02), (0.5, 1.6, 2.9), (0.07, 0.15, 0.01),
        (5e-4, 2e-3, 3e-3), (6e-5, 5e-5, 2e-5), (7e-5, 2e-4, 1e-5))
CORR = np.eye(6)
CORR[1, 3] = CORR[3, 1] = -0.9
CORR[0, 4] = CORR[4, 0] = -0.8
CORR[0, 2] = CORR[2, 0] = 0.3


def test_fit_recovers_known_growth_and_correlation() -> None:
    rng = np.random.default_rng(20261122)
    pairs = _synthetic_pairs(COEF, CORR, 60_000, rng)
    model = fit_covariance_model(pairs)
    assert model is not None and model.source == "history"
    truth = CovarianceModel(norad_id=1, coefficients=COEF, correlation=CORR)
    ages = np.array([0.2, 1.0, 3.0, 6.0])
    np.testing.assert_allclose(model.sigma(ages), truth.sigma(ages), rtol=0.06)
    np.testing.assert_allclose(np.asarray(model.correlation), CORR, atol=0.04)


def test_fit_shrugs_off_ten_percent_maneuver_outliers() -> None:
    # A plain standard deviation would be ~16x too large here; the percentile
    # scale moves by the expected ~17 % (q68.3 of a 90/10 mixture is the
    # clean q75.9 = 1.17 sigma).
    rng = np.random.default_rng(5)
    pairs = _synthetic_pairs(COEF, CORR, 60_000, rng, outlier_fraction=0.10)
    model = fit_covariance_model(pairs)
    truth = CovarianceModel(norad_id=1, coefficients=COEF, correlation=CORR)
    ratio = model.sigma(np.array([0.5, 2.0, 5.0])) / truth.sigma(np.array([0.5, 2.0, 5.0]))
    assert np.all((ratio > 1.0) & (ratio < 1.35))
    assert np.asarray(model.correlation)[1, 3] < -0.8


def test_too_few_pairs_gives_none_and_the_default() -> None:
    rng = np.random.default_rng(1)
    assert fit_covariance_model(_synthetic_pairs(COEF, CORR, 30, rng)) is None


# ------------------------------------------------------------------ frames


def test_ric_to_inertial_agrees_with_rotated_monte_carlo_samples() -> None:
    rng = np.random.default_rng(3)
    model = default_model("LEO", "PAYLOAD")
    r = np.array([-4000.0, 5200.0, 1900.0])
    v = np.array([-5.1, -2.9, 5.0])
    cov_ric = model.covariance_ric(2.0)
    samples = rng.multivariate_normal(np.zeros(6), cov_ric, size=200_000)
    # Rotate each sample back by hand: x_inertial = sum_k x_k * unit_k.
    rhat = r / np.linalg.norm(r)
    chat = np.cross(r, v) / np.linalg.norm(np.cross(r, v))
    ihat = np.cross(chat, rhat)
    units = np.stack([rhat, ihat, chat])
    inertial = np.concatenate([samples[:, :3] @ units, samples[:, 3:] @ units], axis=1)
    cov = model.covariance_inertial(2.0, r, v)
    sample_cov = np.cov(inertial.T)
    scale = np.sqrt(np.outer(np.diag(cov), np.diag(cov)))
    np.testing.assert_allclose(sample_cov / scale, cov / scale, atol=0.01)
    # Exact: the variance along the radial unit vector is the RIC radial variance.
    assert rhat @ cov[:3, :3] @ rhat == pytest.approx(cov_ric[0, 0], rel=1e-12)
    assert ric_to_inertial(cov_ric[:3, :3], r, v).shape == (3, 3)


# ------------------------------------------------------------------ defaults


def test_short_history_falls_back_to_the_documented_default(iss_sets) -> None:
    model = model_for_history(iss_sets[:8], object_type="DEBRIS")
    assert model.source == "default" and model.norad_id == 25544
    assert (model.regime, model.object_type) == ("LEO", "DEBRIS")
    assert model.provenance["calibrated"] is False
    payload = default_model("LEO", "PAYLOAD")
    assert payload.provenance["calibrated"] is True
    assert np.all(model.sigma(1.0)[:3] > payload.sigma(1.0)[:3])
    for regime in ("LEO", "MEO", "GEO", "HEO", None):
        for kind in ("PAYLOAD", "ROCKET BODY", "DEBRIS", None):
            cov = default_model(regime, kind).covariance_ric(np.array([0.0, 3.0]))
            assert np.all(np.linalg.eigvalsh(cov) > 0)


# ------------------------------------------------------------------ calibration on real history


def test_iss_rolling_fit_calibrates_on_held_out_years(iss_pairs) -> None:
    """Refit on the last 90 days every 30 days; test on the next 30 days, 2023-2024.

    Tolerances: the errors are heavy-tailed (maneuvers, and 2023-2024 was near
    solar maximum), so no single Gaussian can give 68/95/99.7 %. The fit puts
    the 1-sigma percentile where Gaussian errors would have it, so on unseen
    data we require 55-80 % within 1 sigma (measured: 61.6 / 62.5 / 65.6 % for
    R / I / C) and at least 70 % within 2 sigma (72.4 / 74.2 / 91.5 %); the
    3-sigma shortfall is reported in docs/design/covariance.md, not hidden.
    """
    def days(iso: str) -> float:
        jd, fr = jd_fr_from_datetime(datetime.fromisoformat(iso).replace(tzinfo=UTC))
        return (jd - iss_pairs.epoch_jd[0]) + (fr - iss_pairs.epoch_fr[0])

    cal = rolling_calibration(iss_pairs, start_days=days("2023-01-01"),
                              end_days=days("2025-01-01"))
    assert cal.n_test_pairs > 150_000
    one, two, three = cal.fractions
    assert np.all((one[:3] >= 0.55) & (one[:3] <= 0.80)), one
    assert np.all(two[:3] >= 0.70), two
    assert np.all((one < two) & (two < three))
    assert all(m is not None for m in cal.models)


# ------------------------------------------------------------------ store (SQLite and PostgreSQL)


def test_store_fits_saves_and_loads_models_without_touching_history(db_url, iss_sets) -> None:
    store = open_store(db_url)
    try:
        history = [es for es in iss_sets if es.epoch < datetime(2020, 4, 1, tzinfo=UTC)]
        short = [dataclasses.replace(es, norad_id=99901, tle_line1=None, tle_line2=None,
                                     name="SOME DEB") for es in history[:6]]
        late = history[-1]
        restricted = dataclasses.replace(
            late, epoch_fr=late.epoch_fr + 0.01, tle_line1=None, tle_line2=None)
        with store.begin_write() as session:
            add_parse_result(session=session, result=ParseResult(
                file="iss.csv", format="omm-csv", element_sets=history + short,
                n_records=len(history) + 6, sha256="a" * 64))
            add_parse_result(session=session, result=ParseResult(
                file="jpn.csv", format="omm-csv", element_sets=[restricted], n_records=1,
                sha256="b" * 64), releasable_to="JPN")
        with store.begin() as session:
            n_sets = session.execute(select(func.count()).select_from(element_sets)).scalar_one()
        with store.begin_write() as session:
            models = fit_store_covariances(session=session)
        by_id = {m.norad_id: m for m in models}
        assert by_id[25544].source == "history" and by_id[25544].n_pairs > 1000
        assert by_id[99901].source == "default" and by_id[99901].object_type == "DEBRIS"

        with store.begin() as session:
            loaded = load_covariance_models(session=session)
            public = load_covariance_models(session=session, releasable_to="ALL")
            japan = load_covariance_models(session=session, releasable_to="JPN")
            assert session.execute(select(func.count()).select_from(element_sets)).scalar_one() \
                == n_sets
        assert set(loaded) == {25544, 99901}
        # The ISS model used the JPN-only set, so only Japan (and trusted readers) see it.
        assert set(public) == {99901} and set(japan) == {25544, 99901}
        iss = loaded[25544]
        np.testing.assert_allclose(np.asarray(iss.coefficients),
                                   np.asarray(by_id[25544].coefficients), rtol=1e-15)
        np.testing.assert_allclose(np.asarray(iss.correlation),
                                   np.asarray(by_id[25544].correlation), rtol=1e-15)
        assert iss.epoch_end == by_id[25544].epoch_end
        assert iss.provenance["history_sha256"] == by_id[25544].provenance["history_sha256"]

        # A new fit replaces the row, never adds a second one.
        replaced = dataclasses.replace(iss, n_pairs=1, provenance={})
        with store.begin_write() as session:
            save_covariance_models(session=session, models=[replaced], releasable_to="ALL")
        with store.begin() as session:
            assert session.execute(
                select(func.count()).select_from(object_covariances)).scalar_one() == 2
            assert load_covariance_models(session=session, norad_ids=[25544])[25544].n_pairs == 1
    finally:
        store.dispose()


def test_intersect_releasability() -> None:
    assert intersect_releasability(["ALL", "ALL"]) == "ALL"
    assert intersect_releasability(["ALL", "JPN,USA", "GBR,JPN"]) == "JPN"
    assert intersect_releasability(["USA", "JPN"]) == ""


def test_components_are_named_in_ric_order() -> None:
    assert COMPONENTS[:3] == ("radial", "in_track", "cross_track")
