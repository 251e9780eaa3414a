"""Position/velocity covariance of catalog (TLE/OMM) objects, from their own element-set history.

Element sets carry no covariance, so one is estimated from how far an
object's older sets land from its newer ones:

1. **Pairs.** Every set is propagated with SGP4 to the epochs of the newer
   sets of the same object that follow it within ``max_age_days``; the newer
   set, evaluated at its own epoch, stands for the truth. The difference
   (old minus new) is expressed in the RIC frame (radial, in-track,
   cross-track) of the newer set's state, for position and velocity.
2. **Binned robust scale.** Pairs are binned by propagation age and each bin
   gets a robust standard deviation per component: the 68.27th percentile of
   ``|x|`` (about zero, not about the median: a bias of the old sets is
   error too, and a covariance without a mean must cover it). For Gaussian
   errors it equals sigma; for the real, heavy-tailed errors it is the scale
   that puts 68.27 % of the errors inside 1 sigma, where the MAD
   (``1.4826 median|x|``) put only 60 % of the ISS errors there.
3. **Growth model.** Per component, ``sigma(t)^2 = a^2 + (b t)^2 + (c t^2)^2``
   (``t`` in days) is fitted to the binned variances by non-negative weighted
   least squares in ``(a^2, b^2, c^2)``: ``a`` is the error at the epoch,
   ``b t`` the linear growth (mean-motion / period error shows up in-track
   this way), ``c t^2`` the quadratic growth of an in-track error driven by a
   wrong drag term.
4. **Correlation.** The pair errors divided by ``sigma(t)`` give one robust
   6x6 correlation matrix (Gnanadesikan-Kettenring estimator on the MAD
   scale, then the nearest positive-definite correlation), taken as
   independent of age.

The covariance at age ``t`` is ``D(t) R D(t)`` with ``D = diag(sigma_k(t))``
in the RIC frame; :func:`ric_to_inertial` rotates it to TEME (or any inertial
frame the state is given in).

Why this is robust to maneuvers and bad sets
--------------------------------------------
A reboost, docking or collision-avoidance burn makes every pair that
straddles it wrong by up to tens of km in-track. A percentile scale ignores
how far such pairs are off, only that they are outside: its breakdown point
is 31.7 %, and on the ISS 2020-2024 about 18 % of the 7-day pairs are more
than 6 sigma off in some position component (maneuvers and the 2023-2024
solar-maximum drag errors; see docs/design/covariance.md). The correlation is
estimated without the pairs beyond :data:`OUTLIER_Z` sigma, so it describes
the core of the distribution. Maneuvers are *not* detected here: a
threshold on pair errors could not tell a burn from a stretch of high drag
(tried: it flagged most of 2024), which is error the covariance must keep.
Duplicate sets (epochs within ``duplicate_s``) are collapsed to the last one
received, and sets are sorted by epoch first, so out-of-order input does not
matter.

Caveats (see the design note): the newer set is itself noisy, so the model
describes the error of a propagated set *as measured against the next sets*
(the reference noise is included: ``a`` is roughly ``sqrt(2)`` times the
epoch error of one set when sets are independent). Consecutive sets are not
independent (their orbit-determination arcs overlap), which makes the
short-age differences smaller than the true error. Both effects are
measured on held-out data by the calibration in ``bench/calibrate_covariance.py``.

Units: positions km, velocities km/s, ages days; coefficients ``(a, b, c)``
in km, km/day, km/day^2 (position) and km/s, km/s/day, km/s/day^2
(velocity).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import combinations

import numpy as np
from numpy.typing import ArrayLike

from kizuna.catalog.elements import ElementSet
from kizuna.catalog.regimes import orbit_regime
from kizuna.errors import KizunaError
from kizuna.frames import ric_basis
from kizuna.timelib import datetime_from_jd_fr

__all__ = [
    "COMPONENTS",
    "DEFAULT_AGE_BINS_DAYS",
    "DEFAULT_POSITION_COEFFICIENTS",
    "CovarianceError",
    "CovarianceModel",
    "PairErrors",
    "RollingCalibration",
    "calibration_fractions",
    "default_model",
    "fit_covariance_model",
    "fit_from_history",
    "history_errors",
    "model_for_history",
    "recent_sets",
    "ric_to_inertial",
    "rolling_calibration",
]

COMPONENTS = ("radial", "in_track", "cross_track",
              "radial_rate", "in_track_rate", "cross_track_rate")
"""The six RIC components, in the order of every 6-vector and 6x6 matrix here."""

DEFAULT_AGE_BINS_DAYS = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 7.0)
"""Propagation-age bin edges (days) of the fit."""

MAD_TO_SIGMA = 1.482602218505602
"""1 / Phi^-1(3/4): ``MAD_TO_SIGMA * median(|x|)`` is sigma for zero-mean Gaussian x."""

ONE_SIGMA_QUANTILE = 0.6826894921370859
"""P(|x| <= sigma) for a Gaussian: the percentile of ``|x|`` taken as sigma."""

OUTLIER_Z = 6.0
"""Pairs beyond this many sigma (any position component) are left out of the correlation."""

DEFAULT_WINDOW_DAYS = 90.0
"""History used by :func:`fit_from_history`: the sets of the last 90 days before the newest."""

MIN_PAIRS_PER_BIN = 10
MIN_BINS = 3
MIN_PAIRS = 50

# Correlations are shrunk towards zero until the smallest eigenvalue of the
# correlation matrix is at least this (keeps 6x6 covariances invertible).
_MIN_CORRELATION_EIGENVALUE = 1e-3


class CovarianceError(KizunaError, ValueError):
    """Arguments to a covariance function are malformed."""


# ------------------------------------------------------------------ model


@dataclass(frozen=True, slots=True, kw_only=True)
class CovarianceModel:
    """Error growth of one object's element sets with propagation age.

    Attributes
    ----------
    norad_id : int
        Catalog number (0 for a default model not yet given to an object).
    coefficients : tuple of 6 (a, b, c) tuples
        ``sigma_k(t) = sqrt(a^2 + (b t)^2 + (c t^2)^2)`` for each of
        :data:`COMPONENTS`; position in km, km/day, km/day^2, velocity in
        km/s, km/s/day, km/s/day^2.
    correlation : tuple of 6 tuples of 6 floats
        RIC correlation matrix (symmetric, unit diagonal, positive definite).
    source : str
        ``"history"`` (fitted to this object's sets) or ``"default"``.
    n_pairs, n_element_sets : int
        Pairs and (deduplicated) sets used; 0 for defaults.
    age_min_days, age_max_days : float
        Range of the propagation ages fitted; beyond ``age_max_days`` the
        model is an extrapolation.
    epoch_start, epoch_end : datetime or None
        First and last epoch of the sets used (aware UTC).
    regime, object_type : str or None
        Orbit regime (:func:`kizuna.catalog.regimes.orbit_regime`) and SATCAT
        object type the model was made for.
    provenance : dict
        How it was made: history digest, fit settings, or the defaults table row.
    """

    norad_id: int
    coefficients: tuple[tuple[float, float, float], ...]
    correlation: tuple[tuple[float, ...], ...] = field(default_factory=lambda: _identity6())
    source: str = "history"
    n_pairs: int = 0
    n_element_sets: int = 0
    age_min_days: float = 0.0
    age_max_days: float = 0.0
    epoch_start: datetime | None = None
    epoch_end: datetime | None = None
    regime: str | None = None
    object_type: str | None = None
    provenance: dict[str, object] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        coef = np.asarray(self.coefficients, dtype=np.float64)
        if coef.shape != (6, 3) or not np.all(np.isfinite(coef)) or np.any(coef < 0):
            raise CovarianceError(
                f"coefficients must be 6 rows of three finite non-negative (a, b, c), "
                f"got {self.coefficients!r}"
            )
        corr = np.asarray(self.correlation, dtype=np.float64)
        if corr.shape != (6, 6) or not np.allclose(corr, corr.T) or not np.allclose(
                np.diag(corr), 1.0):
            raise CovarianceError("correlation must be a symmetric 6x6 matrix with unit diagonal")
        if self.source not in ("history", "default"):
            raise CovarianceError(f"source must be 'history' or 'default', got {self.source!r}")

    def sigma(self, age_days: ArrayLike) -> np.ndarray:
        """Standard deviations ``(..., 6)`` at propagation ages ``(...)`` (days; sign ignored)."""
        t = np.abs(np.asarray(age_days, dtype=np.float64))[..., None]
        a, b, c = np.asarray(self.coefficients, dtype=np.float64).T
        return np.sqrt(a**2 + (b * t) ** 2 + (c * t**2) ** 2)

    def covariance_ric(self, age_days: ArrayLike) -> np.ndarray:
        """6x6 RIC covariance ``(..., 6, 6)`` (km^2, km^2/s, km^2/s^2 blocks) at ``age_days``."""
        s = self.sigma(age_days)
        corr = np.asarray(self.correlation, dtype=np.float64)
        return s[..., :, None] * corr * s[..., None, :]

    def position_covariance_ric_km2(self, age_days: ArrayLike) -> np.ndarray:
        """3x3 RIC position covariance ``(..., 3, 3)``, km^2."""
        return self.covariance_ric(age_days)[..., :3, :3]

    def covariance_inertial(self, age_days: ArrayLike, r_km: ArrayLike,
                            v_km_s: ArrayLike) -> np.ndarray:
        """6x6 covariance in the inertial frame of the state ``(r, v)`` (e.g. TEME).

        ``age_days``, ``r_km (..., 3)`` and ``v_km_s (..., 3)`` broadcast; see
        :func:`ric_to_inertial`.
        """
        return ric_to_inertial(self.covariance_ric(age_days), r_km, v_km_s)


def _identity6() -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(i == j) for j in range(6)) for i in range(6))


def ric_to_inertial(cov_ric: ArrayLike, r_km: ArrayLike, v_km_s: ArrayLike) -> np.ndarray:
    """Rotate a RIC covariance (3x3 position or 6x6 state) to the frame of ``(r, v)``.

    ``C_inertial = M^T C_ric M`` with ``M = ric_basis(r, v)`` (block-diagonal
    for 6x6). The velocity block uses the same instantaneous rotation, without
    the rotating-frame term ``omega x r``, as CCSDS CDM RTN covariances are
    converted in practice; for element-set errors of hundreds of metres the
    term changes velocity variances by under a per cent in LEO.

    Parameters
    ----------
    cov_ric : array_like ``(..., 3, 3)`` or ``(..., 6, 6)``
    r_km, v_km_s : array_like ``(..., 3)``
        State the RIC frame is attached to, in the target inertial frame (TEME
        for SGP4 output).
    """
    cov = np.asarray(cov_ric, dtype=np.float64)
    if cov.shape[-2:] not in ((3, 3), (6, 6)):
        raise CovarianceError(f"cov_ric must be (..., 3, 3) or (..., 6, 6), got {cov.shape}")
    basis = ric_basis(r_km, v_km_s)
    if cov.shape[-1] == 6:
        m = np.zeros(basis.shape[:-2] + (6, 6))
        m[..., :3, :3] = basis
        m[..., 3:, 3:] = basis
    else:
        m = basis
    return np.swapaxes(m, -1, -2) @ cov @ m


# ------------------------------------------------------------------ pairs


@dataclass(frozen=True, slots=True)
class PairErrors:
    """Differences between older sets propagated forward and newer sets at their epochs.

    ``err_ric`` is ``(n_pair, 6)``: position (km) then velocity (km/s) of
    old minus new, in the RIC frame of the newer set's state. ``i_old`` and
    ``i_new`` index ``epoch_days`` (the deduplicated, sorted sets).
    """

    norad_id: int
    age_days: np.ndarray
    err_ric: np.ndarray
    i_old: np.ndarray
    i_new: np.ndarray
    epoch_jd: np.ndarray
    epoch_fr: np.ndarray
    digest: str

    def __len__(self) -> int:
        return int(self.age_days.shape[0])

    def select(self, mask: np.ndarray) -> PairErrors:
        return PairErrors(self.norad_id, self.age_days[mask], self.err_ric[mask],
                          self.i_old[mask], self.i_new[mask], self.epoch_jd, self.epoch_fr,
                          self.digest)


def _dedupe(element_sets: Sequence[ElementSet], duplicate_s: float) -> list[ElementSet]:
    """Sets sorted by epoch, one per cluster of epochs closer than ``duplicate_s``.

    Within a cluster the set given last wins (a re-issued set replaces the
    earlier one, as in :meth:`CatalogSnapshot.from_element_sets`).
    """
    order = sorted(range(len(element_sets)),
                   key=lambda k: ((element_sets[k].epoch_jd - 2451545.0)
                                  + element_sets[k].epoch_fr, k))
    kept: list[ElementSet] = []
    last_epoch = -math.inf
    for k in order:
        es = element_sets[k]
        epoch = (es.epoch_jd - 2451545.0) + es.epoch_fr
        if kept and (epoch - last_epoch) * 86400.0 < duplicate_s:
            kept[-1] = es
        else:
            kept.append(es)
        last_epoch = epoch
    return kept


def history_errors(
    element_sets: Sequence[ElementSet],
    *,
    max_age_days: float = 7.0,
    min_age_days: float = 0.0,
    duplicate_s: float = 60.0,
) -> PairErrors:
    """RIC errors of every (older, newer) pair of one object's sets within ``max_age_days``.

    Parameters
    ----------
    element_sets : sequence of ElementSet
        History of one object, any order; duplicates allowed.
    max_age_days, min_age_days : float
        Pairs with ``min_age_days < age <= max_age_days`` are kept.
    duplicate_s : float
        Sets whose epochs are closer than this (s) count as one (the last given).

    Returns
    -------
    PairErrors
        Pairs in order of the older set, then age. Pairs where SGP4 fails
        (decay, bad elements) are left out.

    Notes
    -----
    One SGP4 call per older set covers all its pairs (python-sgp4's C++
    ``sgp4_array``), so the cost is one Python iteration per set plus one
    SGP4 evaluation per pair: about 1 s for the 9,571 ISS sets of 2020-2024.
    """
    if not element_sets:
        raise CovarianceError("no element sets given; pass the history of one object")
    ids = {es.norad_id for es in element_sets}
    if len(ids) != 1:
        raise CovarianceError(f"element sets of several objects given ({sorted(ids)[:5]}...); "
                              "group the history by norad_id first")
    if not (max_age_days > min_age_days >= 0.0):
        raise CovarianceError("need 0 <= min_age_days < max_age_days")
    sets = _dedupe(element_sets, duplicate_s)
    n = len(sets)
    jd = np.array([es.epoch_jd for es in sets])
    fr = np.array([es.epoch_fr for es in sets])
    # Days relative to the first epoch, without the cancellation of jd + fr.
    t = (jd - jd[0]) + (fr - fr[0])
    hi = np.searchsorted(t, t + max_age_days, side="right")
    lo = np.searchsorted(t, t + min_age_days, side="right")
    lo = np.maximum(lo, np.arange(n) + 1)
    counts = np.maximum(hi - lo, 0)
    total = int(counts.sum())
    i_old = np.repeat(np.arange(n), counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    i_new = np.repeat(lo, counts) + (np.arange(total) - starts)

    # Own-epoch states of every set (the "truth" side of each pair), then each
    # older set at the epochs of its partners.
    r_own = np.full((n, 3), np.nan)
    v_own = np.full((n, 3), np.nan)
    r_old = np.full((total, 3), np.nan)
    v_old = np.full((total, 3), np.nan)
    satrecs = [es.to_satrec() for es in sets]
    pos = 0
    for k, sat in enumerate(satrecs):
        c = int(counts[k])
        sl = slice(lo[k], lo[k] + c)
        jd_k = np.concatenate(([jd[k]], jd[sl]))
        fr_k = np.concatenate(([fr[k]], fr[sl]))
        e, r, v = sat.sgp4_array(jd_k, fr_k)
        r[e != 0] = np.nan
        v[e != 0] = np.nan
        r_own[k], v_own[k] = r[0], v[0]
        r_old[pos:pos + c], v_old[pos:pos + c] = r[1:], v[1:]
        pos += c

    r_new, v_new = r_own[i_new], v_own[i_new]
    ok = np.all(np.isfinite(r_old) & np.isfinite(v_old) & np.isfinite(r_new)
                & np.isfinite(v_new), axis=1)
    basis = ric_basis(r_new[ok], v_new[ok])
    err = np.empty((int(ok.sum()), 6))
    err[:, :3] = np.einsum("nij,nj->ni", basis, r_old[ok] - r_new[ok])
    err[:, 3:] = np.einsum("nij,nj->ni", basis, v_old[ok] - v_new[ok])
    digest = hashlib.sha256(
        "\n".join(f"{es.norad_id} {es.epoch_jd!r} {es.epoch_fr!r}" for es in sets).encode()
    ).hexdigest()
    return PairErrors(next(iter(ids)), (t[i_new] - t[i_old])[ok], err, i_old[ok], i_new[ok],
                      jd, fr, digest)


# ------------------------------------------------------------------ fitting


def _robust_sigma(x: np.ndarray, axis: int = 0) -> np.ndarray:
    """MAD about zero, scaled to a Gaussian sigma."""
    return MAD_TO_SIGMA * np.median(np.abs(x), axis=axis)


def _one_sigma_scale(x: np.ndarray) -> np.ndarray:
    """68.27th percentile of ``|x|`` per column: sigma for zero-mean Gaussian x."""
    return np.quantile(np.abs(x), ONE_SIGMA_QUANTILE, axis=0)


def _nnls_small(a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Non-negative least squares for a handful of unknowns, by trying every active set.

    Exact for the 3-parameter growth model (8 subsets); avoids a SciPy dependency.
    """
    n = a.shape[1]
    best, best_cost = np.zeros(n), float(np.sum(y**2))
    for size in range(1, n + 1):
        for cols in combinations(range(n), size):
            sol, *_ = np.linalg.lstsq(a[:, cols], y, rcond=None)
            if np.any(sol < 0):
                continue
            x = np.zeros(n)
            x[list(cols)] = sol
            cost = float(np.sum((a @ x - y) ** 2))
            if cost < best_cost - 1e-15 * max(best_cost, 1.0):
                best, best_cost = x, cost
    return best


def _binned_sigma(age: np.ndarray, err: np.ndarray, edges: np.ndarray,
                  min_per_bin: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per usable bin: representative age, pair count, robust sigma ``(n_bin, n_comp)``."""
    which = np.digitize(age, edges[1:-1], right=True)
    inside = (age > edges[0]) & (age <= edges[-1])
    ages, counts, sigmas = [], [], []
    for b in range(len(edges) - 1):
        sel = inside & (which == b)
        m = int(sel.sum())
        if m < min_per_bin:
            continue
        # RMS age: the variance grows with age, so the bin's variance belongs
        # nearer its upper part than the median age would say.
        ages.append(math.sqrt(float(np.mean(age[sel] ** 2))))
        counts.append(m)
        sigmas.append(_one_sigma_scale(err[sel]))
    return np.array(ages), np.array(counts), np.array(sigmas).reshape(len(ages), err.shape[1])


def _fit_growth(ages: np.ndarray, counts: np.ndarray, sigmas: np.ndarray) -> np.ndarray:
    """``(n_comp, 3)`` coefficients ``(a, b, c)`` of ``sigma^2 = a^2 + b^2 t^2 + c^2 t^4``.

    Weighted on relative variance error: bin k counts ``sqrt(n_k)`` times its
    relative misfit, as the relative standard error of a variance estimated
    from n values scales as ``1/sqrt(n)``.
    """
    design = np.stack([np.ones_like(ages), ages**2, ages**4], axis=1)
    out = np.zeros((sigmas.shape[1], 3))
    for k in range(sigmas.shape[1]):
        var = np.maximum(sigmas[:, k] ** 2, np.finfo(float).tiny)
        w = np.sqrt(counts) / var
        out[k] = np.sqrt(_nnls_small(design * w[:, None], var * w))
    return out


def _robust_correlation(z: np.ndarray) -> np.ndarray:
    """Gnanadesikan-Kettenring correlation of standardised columns, made positive definite."""
    n_comp = z.shape[1]
    corr = np.eye(n_comp)
    for i, j in combinations(range(n_comp), 2):
        su = _robust_sigma(z[:, i] + z[:, j]) ** 2
        sd = _robust_sigma(z[:, i] - z[:, j]) ** 2
        corr[i, j] = corr[j, i] = (su - sd) / (su + sd) if su + sd > 0 else 0.0
    # Pairwise estimates need not form a valid correlation matrix: shrink the
    # off-diagonal part until the smallest eigenvalue is acceptable.
    off = corr - np.eye(n_comp)
    shrink = 1.0
    while np.linalg.eigvalsh(np.eye(n_comp) + shrink * off)[0] < _MIN_CORRELATION_EIGENVALUE:
        shrink *= 0.95
    return np.eye(n_comp) + shrink * off


def fit_covariance_model(
    pairs: PairErrors,
    *,
    age_bins_days: Sequence[float] = DEFAULT_AGE_BINS_DAYS,
    min_pairs_per_bin: int = MIN_PAIRS_PER_BIN,
    regime: str | None = None,
    object_type: str | None = None,
) -> CovarianceModel | None:
    """Fit the growth model and correlation to one object's pair errors.

    Returns None when there are too few pairs (fewer than :data:`MIN_PAIRS`
    in total or fewer than :data:`MIN_BINS` bins with ``min_pairs_per_bin``):
    the caller then uses :func:`default_model`.

    The correlation leaves out pairs whose position error exceeds
    :data:`OUTLIER_Z` sigmas in any component (maneuvers, bad sets).
    """
    edges = np.asarray(age_bins_days, dtype=np.float64)
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0) or edges[0] < 0:
        raise CovarianceError(f"age_bins_days must be increasing edges >= 0, got {age_bins_days}")
    in_range = (pairs.age_days > edges[0]) & (pairs.age_days <= edges[-1])
    age, err = pairs.age_days[in_range], pairs.err_ric[in_range]
    if age.size < MIN_PAIRS:
        return None
    ages, counts, sigmas = _binned_sigma(age, err, edges, min_pairs_per_bin)
    if ages.size < MIN_BINS:
        return None
    coef = _fit_growth(ages, counts, sigmas)

    sig = _sigma_of(coef, age)
    keep = np.all(np.abs(err[:, :3]) <= OUTLIER_Z * sig[:, :3], axis=1)
    corr = _robust_correlation(err[keep] / sig[keep])

    used = np.concatenate([pairs.i_old[in_range], pairs.i_new[in_range]])
    k0, k1 = int(used.min()), int(used.max())
    first = datetime_from_jd_fr(float(pairs.epoch_jd[k0]), float(pairs.epoch_fr[k0]))
    last = datetime_from_jd_fr(float(pairs.epoch_jd[k1]), float(pairs.epoch_fr[k1]))
    return CovarianceModel(
        norad_id=pairs.norad_id,
        coefficients=tuple(tuple(float(x) for x in row) for row in coef),
        correlation=tuple(tuple(float(x) for x in row) for row in corr),
        source="history",
        n_pairs=int(age.size),
        n_element_sets=k1 - k0 + 1,
        age_min_days=float(age.min()),
        age_max_days=float(age.max()),
        epoch_start=first,
        epoch_end=last,
        regime=regime,
        object_type=object_type,
        provenance={
            "method": "sgp4-pair-differences/binned-p68/nnls-growth",
            "history_sha256": pairs.digest,
            "age_bins_days": [float(x) for x in edges],
            "n_outlier_pairs": int((~keep).sum()),
            "outlier_z": OUTLIER_Z,
            "bins": {"age_days": [round(float(x), 4) for x in ages],
                     "n_pairs": [int(x) for x in counts],
                     "sigma": [[float(f"{x:.6g}") for x in row] for row in sigmas]},
        },
    )


def _sigma_of(coef: np.ndarray, age: np.ndarray) -> np.ndarray:
    t = np.abs(age)[:, None]
    a, b, c = coef.T
    return np.sqrt(a**2 + (b * t) ** 2 + (c * t**2) ** 2)


def _newest(element_sets: Sequence[ElementSet]) -> ElementSet:
    return max(element_sets, key=lambda es: (es.epoch_jd - 2451545.0) + es.epoch_fr)


def recent_sets(element_sets: Sequence[ElementSet], window_days: float | None) -> list[ElementSet]:
    """The sets with epochs within ``window_days`` before the newest one (all if None)."""
    if window_days is None or not element_sets:
        return list(element_sets)
    newest = _newest(element_sets)
    end = (newest.epoch_jd - 2451545.0) + newest.epoch_fr
    return [es for es in element_sets
            if end - ((es.epoch_jd - 2451545.0) + es.epoch_fr) <= window_days]


def fit_from_history(
    element_sets: Sequence[ElementSet],
    *,
    object_type: str | None = None,
    window_days: float | None = DEFAULT_WINDOW_DAYS,
    age_bins_days: Sequence[float] = DEFAULT_AGE_BINS_DAYS,
    duplicate_s: float = 60.0,
) -> CovarianceModel | None:
    """History of one object -> fitted model, or None if the history is too short.

    Only the last ``window_days`` of history are used (None: all of it):
    element-set errors follow solar activity and tracking, so a model made
    from the recent past predicts the near future best (on the ISS, 90-day
    fits refitted monthly held 62 % of 2023-2024 errors within 1 sigma, one
    fit on 2020-2022 only 44 %; docs/design/covariance.md). The regime is that
    of the newest set; pairs reach up to the last bin edge in age.
    """
    if not element_sets:
        raise CovarianceError("no element sets given; pass the history of one object")
    edges = tuple(float(x) for x in age_bins_days)
    sets = recent_sets(element_sets, window_days)
    pairs = history_errors(sets, max_age_days=edges[-1], duplicate_s=duplicate_s)
    newest = _newest(sets)
    model = fit_covariance_model(
        pairs, age_bins_days=edges,
        regime=orbit_regime(newest.mean_motion_rev_day, newest.eccentricity),
        object_type=object_type,
    )
    if model is not None:
        model.provenance["window_days"] = window_days
    return model


def model_for_history(
    element_sets: Sequence[ElementSet],
    *,
    object_type: str | None = None,
    window_days: float | None = DEFAULT_WINDOW_DAYS,
    age_bins_days: Sequence[float] = DEFAULT_AGE_BINS_DAYS,
) -> CovarianceModel:
    """Fitted model if the history allows one, else the default of its regime and type."""
    model = fit_from_history(element_sets, object_type=object_type, window_days=window_days,
                             age_bins_days=age_bins_days)
    if model is not None:
        return model
    newest = _newest(element_sets)
    return default_model(
        orbit_regime(newest.mean_motion_rev_day, newest.eccentricity), object_type,
        norad_id=newest.norad_id, mean_motion_rev_day=newest.mean_motion_rev_day,
    )


# ------------------------------------------------------------------ defaults

# Position coefficients (a km, b km/day, c km/day^2) for radial, in-track,
# cross-track, by regime and object type. Where each number comes from is in
# docs/design/covariance.md#defaults: LEO/PAYLOAD is the median of 58 monthly
# 90-day fits to the ISS history 2020-2024 (bench/calibrate_covariance.py);
# every other cell is an uncalibrated, deliberately generous assumption and
# its model says so ("calibrated": False in the provenance).
DEFAULT_POSITION_COEFFICIENTS: dict[tuple[str, str], tuple[tuple[float, float, float], ...]] = {
    ("LEO", "PAYLOAD"): ((0.054, 0.042, 0.019), (0.46, 1.63, 2.87), (0.066, 0.151, 0.0098)),
}
_CALIBRATED = frozenset({("LEO", "PAYLOAD")})

# Assumptions for the uncalibrated cells: multipliers of the payload row by
# object type (fewer observations, unknown attitude and area), and for the
# regimes without a fitted history a base row (a, b, c) per component.
_TYPE_FACTOR = {"PAYLOAD": 1.0, "ROCKET BODY": 2.0, "DEBRIS": 3.0, "UNKNOWN": 3.0}
_REGIME_BASE: dict[str, tuple[tuple[float, float, float], ...]] = {
    "MEO": ((0.5, 0.1, 0.0), (2.0, 1.0, 0.0), (0.5, 0.1, 0.0)),
    "GEO": ((1.0, 0.2, 0.0), (5.0, 2.0, 0.0), (1.0, 0.2, 0.0)),
    "HEO": ((2.0, 1.0, 0.1), (10.0, 10.0, 1.0), (2.0, 1.0, 0.1)),
    "UNKNOWN": ((2.0, 1.0, 0.1), (10.0, 10.0, 1.0), (2.0, 1.0, 0.1)),
}
_REGIME_MEAN_MOTION = {"LEO": 15.0, "MEO": 2.0, "GEO": 1.0027, "HEO": 2.0, "UNKNOWN": 2.0}
# Radial-rate error follows in-track error and in-track-rate error follows
# radial error on near-circular orbits (measured on the ISS: -0.95 and -0.93).
_NEAR_CIRCULAR_CORRELATION = -0.9


def _default_position(regime: str, object_type: str) -> tuple[tuple[float, float, float], ...]:
    if (regime, object_type) in DEFAULT_POSITION_COEFFICIENTS:
        return DEFAULT_POSITION_COEFFICIENTS[(regime, object_type)]
    base = (DEFAULT_POSITION_COEFFICIENTS[("LEO", "PAYLOAD")] if regime == "LEO"
            else _REGIME_BASE[regime])
    f = _TYPE_FACTOR[object_type]
    return tuple((f * a, f * b, f * c) for a, b, c in base)


def default_model(
    regime: str | None,
    object_type: str | None,
    *,
    norad_id: int = 0,
    mean_motion_rev_day: float | None = None,
) -> CovarianceModel:
    """The documented default model of an orbit regime and SATCAT object type.

    Unknown or missing regime / type use ``"UNKNOWN"`` (the most generous
    row). Velocity sigmas follow from the position sigmas and the mean motion
    ``n`` (rad/s) as relative motion on a near-circular orbit relates them:
    radial rate ``n * sigma_in_track``, in-track rate ``n * sigma_radial``,
    cross-track rate ``n * sigma_cross_track`` (the ISS fits agree to 1 %:
    docs/design/covariance.md). Those pairs are correlated -0.9 except on HEO
    and unknown orbits, where all correlations are zero.
    """
    reg = regime if regime in _REGIME_MEAN_MOTION else "UNKNOWN"
    typ = object_type if object_type in _TYPE_FACTOR else "UNKNOWN"
    rad, it, ct = _default_position(reg, typ)
    n_rev_day = mean_motion_rev_day if mean_motion_rev_day and mean_motion_rev_day > 0 \
        else _REGIME_MEAN_MOTION[reg]
    n_rad_s = n_rev_day * 2.0 * math.pi / 86400.0
    vel = tuple(tuple(n_rad_s * x for x in row) for row in (it, rad, ct))
    corr = np.eye(6)
    if reg in ("LEO", "MEO", "GEO"):
        corr[0, 4] = corr[4, 0] = corr[1, 3] = corr[3, 1] = _NEAR_CIRCULAR_CORRELATION
    return CovarianceModel(
        norad_id=int(norad_id),
        coefficients=(rad, it, ct) + vel,  # type: ignore[arg-type]
        correlation=tuple(tuple(float(x) for x in row) for row in corr),
        source="default",
        regime=reg,
        object_type=typ,
        provenance={"defaults_row": f"{reg}/{typ}",
                    "calibrated": (reg, typ) in _CALIBRATED,
                    "doc": "docs/design/covariance.md#defaults"},
    )


# ------------------------------------------------------------------ calibration


def calibration_fractions(
    model: CovarianceModel, pairs: PairErrors, *, k_sigma: Sequence[float] = (1.0, 2.0, 3.0)
) -> np.ndarray:
    """Fraction of pair errors within ``k`` sigma, per component: ``(len(k_sigma), 6)``.

    ``pairs`` should be held-out (not used to fit ``model``). For a perfect
    Gaussian model the fractions are 0.683, 0.954, 0.997.
    """
    if len(pairs) == 0:
        raise CovarianceError("no pairs to calibrate against")
    z = np.abs(pairs.err_ric) / model.sigma(pairs.age_days)
    return np.array([np.mean(z <= k, axis=0) for k in k_sigma])


@dataclass(frozen=True, slots=True)
class RollingCalibration:
    """Result of :func:`rolling_calibration`.

    ``fractions`` is ``(len(k_sigma), 6)``: the share of all held-out pair
    errors within ``k`` sigma of the model that was current for them;
    ``models`` the fit of each step (None where the window had too few pairs,
    whose test pairs are then skipped).
    """

    k_sigma: tuple[float, ...]
    fractions: np.ndarray
    n_test_pairs: int
    models: tuple[CovarianceModel | None, ...]


def rolling_calibration(
    pairs: PairErrors,
    *,
    start_days: float,
    end_days: float,
    window_days: float = DEFAULT_WINDOW_DAYS,
    step_days: float = 30.0,
    k_sigma: Sequence[float] = (1.0, 2.0, 3.0),
    age_bins_days: Sequence[float] = DEFAULT_AGE_BINS_DAYS,
) -> RollingCalibration:
    """Hold-out test of refitting every ``step_days`` on the last ``window_days``.

    Times are days since the first set's epoch (``pairs.epoch_jd[0] +
    pairs.epoch_fr[0]``). For each step ``[t, t + step)`` between
    ``start_days`` and ``end_days`` a model is fitted to the pairs whose two
    sets both lie in ``[t - window_days, t)``, and tested on the pairs whose
    *older* set lies in ``[t, t + step)``: no test pair shares a set with the
    fit, as in operations, where only past sets exist when the model is made.
    """
    t = (pairs.epoch_jd - pairs.epoch_jd[0]) + (pairs.epoch_fr - pairs.epoch_fr[0])
    t_old, t_new = t[pairs.i_old], t[pairs.i_new]
    z_all: list[np.ndarray] = []
    models: list[CovarianceModel | None] = []
    for t0 in np.arange(start_days, end_days, step_days):
        train = (t_old >= t0 - window_days) & (t_new < t0)
        test = (t_old >= t0) & (t_old < min(t0 + step_days, end_days))
        model = fit_covariance_model(pairs.select(train), age_bins_days=age_bins_days)
        models.append(model)
        if model is None or not test.any():
            continue
        z_all.append(np.abs(pairs.err_ric[test]) / model.sigma(pairs.age_days[test]))
    if not z_all:
        raise CovarianceError("no step had both a fit and test pairs; widen the time range")
    z = np.concatenate(z_all)
    ks = tuple(float(k) for k in k_sigma)
    return RollingCalibration(ks, np.array([np.mean(z <= k, axis=0) for k in ks]),
                              int(z.shape[0]), tuple(models))

