"""Maneuver detection over element-set histories (TLE, 3LE, OMM, or the store).

One pass over the whole history of every object, vectorized over all
consecutive element-set pairs of all objects at once:

1. **Clean.** Sets are sorted by ``(norad_id, epoch)``; sets with unusable
   elements (non-positive or non-finite mean motion, eccentricity outside
   ``[0, 1)``) are dropped and counted; sets closer than ``duplicate_s`` to the
   next set of the same object are dropped (the later one wins, as in
   :func:`kizuna.collision.covariance.history_errors`). Out-of-order input is
   therefore harmless.
2. **Mean-element series** per set: Brouwer semi-major axis ``a`` (SGP4's own
   un-Kozai step, WGS-72), the orbit normal and the eccentricity vector, both
   turned back by the J2 secular rotation of the node and perigee accumulated
   since the object's first set, so that J2 drift is removed and what is left
   changes only slowly (drag, lunisolar, J3) or by a burn.
3. **Per-pair residuals**: the change of each series between consecutive sets,
   minus a local trend (rolling median of the change rates of the
   neighbouring pairs: drag decay for LEO, lunisolar inclination drift for
   GEO), and the **along-track residual** (the previous set's mean argument
   of latitude carried to the next epoch with its own secular rates and
   ``ndot``, minus the next set's, in km).
4. **Noise learned from the object's own history**: a rolling MAD (about
   zero) of each residual, normalised for the gap between the sets by
   ``g(dt) = sqrt(1 + (dt / tau)^2)`` (trend errors grow with the gap).
   Medians and MADs ignore the maneuvers themselves (breakdown point 50 %).
   Floors (element-set rounding) bound the noise at each pair's gap.
   :func:`maneuver_residuals` returns these residuals and their noise.
5. **Detection**: a pair is a candidate when a residual exceeds
   ``z_threshold`` noise sigmas *and* the step persists: the median level of
   the ``step_sets`` sets after the pair differs from that of the sets before
   it by as much, with the same sign. A single bad set moves the pair
   residuals but not the medians, so it is not reported. Candidates on
   consecutive pairs are one maneuver (a set fitted across the burn splits a
   step in two).
6. **Burn time**: a tangential burn changes the mean motion by
   ``dn = -1.5 n da / a``; the along-track residual of a set propagated over
   the burn is ``a dn (t_new - t_burn)`` (position is continuous at the
   burn), which gives ``t_burn``. It may fall before the older epoch: a set's
   epoch is not the time of its last observation. Without a usable in-plane
   step the midpoint of the pair is given, with ``dt / sqrt(12)`` as sigma.
7. **Delta-v**: in-plane ``max(n |da| / 2, v |de| / 2)`` (Gauss, near-circular;
   both are lower bounds of the impulse), out-of-plane ``2 v sin(theta / 2)``
   with ``theta`` the rotation of the orbit plane; total is their root sum
   square.
8. **Kind**, from the series whose step scores highest at the strongest pair
   (scores scaled to the delta-a threshold): ``plane`` (``north-south`` in
   GEO) when the plane leads; otherwise ``east-west`` in GEO, elsewhere
   ``eccentricity`` when ``e`` leads and ``raise`` or ``lower`` (the sign of
   delta-a) when ``a`` does. Significance, not delta-v: in GEO a plane
   wobble of a few millidegrees asks for more delta-v than an east-west
   burn.

Works the same for LEO (drag), MEO, HEO and GEO (east-west station keeping
moves ``a`` and ``e``, north-south moves the plane). Per-object problems are
data: objects with too few sets are listed in ``ManeuverResult.skipped``,
gaps longer than ``max_gap_days`` are not assessed and counted; only caller
mistakes raise :class:`ManeuverError`.

Units: km, seconds, days (``dt``), degrees in the outputs; split Julian dates
for epochs. See docs/design/maneuvers.md for the validation on the ISS.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np
from numba import njit
from numpy.lib.stride_tricks import sliding_window_view

from kizuna.catalog.elements import ElementSet
from kizuna.catalog.regimes import orbit_regimes
from kizuna.errors import KizunaError
from kizuna.timelib import iso_utc_ms

__all__ = [
    "MANEUVER_CSV_COLUMNS",
    "MANEUVER_KINDS",
    "ElementHistory",
    "ManeuverError",
    "ManeuverResult",
    "ManeuverSettings",
    "PairResiduals",
    "RESIDUAL_COLUMNS",
    "detect_maneuvers",
    "maneuver_residuals",
]

# WGS-72, the constants SGP4 element sets are fitted with.
MU_KM3_S2 = 398600.8
EARTH_RADIUS_KM = 6378.135
J2 = 0.001082616
_KE_PER_S = math.sqrt(MU_KM3_S2 / EARTH_RADIUS_KM**3)  # Earth radii^1.5 / s
_TWO_PI = 2.0 * math.pi
_SECONDS_PER_DAY = 86400.0
_J2000_JD = 2451545.0
MAD_TO_SIGMA = 1.4826

MANEUVER_CSV_COLUMNS = (
    "norad_id", "time_utc", "delta_a_km", "delta_v_m_s",
    "delta_i_deg", "plane_change_deg", "delta_e", "dv_in_plane_m_s", "dv_out_of_plane_m_s",
    "time_sigma_s", "score", "epoch_before_utc", "epoch_after_utc", "regime", "kind",
)

# Values of ManeuverResult.kind (step 8 of the module docstring).
MANEUVER_KINDS = ("raise", "lower", "eccentricity", "plane", "east-west", "north-south")

# Series of PairResiduals.residual / .sigma: the Brouwer semi-major axis (km), the
# J2-derotated orbit normal (unit vector), the J2-derotated eccentricity vector, and
# the along-track residual (km).
RESIDUAL_COLUMNS = ("a_km", "normal_x", "normal_y", "normal_z", "e_x", "e_y",
                    "along_track_km")

# Gap-growth time constant of the residual noise, days, per regime. LEO is
# measured on the ISS 2020-2024 (docs/design/maneuvers.md); the others are
# assumptions (slower, smaller unmodelled forces).
_TAU_DAYS = {"LEO": 0.35, "MEO": 1.0, "HEO": 1.0, "GEO": 3.0, "UNKNOWN": 1.0}
# Noise floors: TLE/OMM rounding and a margin, so a very quiet stretch of
# history cannot make a tiny sigma. Applied to the noise at each pair's gap.
_FLOOR_A_KM = 0.002
_FLOOR_ANGLE_RAD = 2e-6
_FLOOR_E = 2e-6
_FLOOR_AT_KM = 0.05


class ManeuverError(KizunaError, ValueError):
    """The input to maneuver detection cannot be used as given (the message says why)."""


@dataclass(frozen=True)
class ManeuverSettings:
    """Tuning of :func:`detect_maneuvers` (defaults chosen on the ISS 2020-2024).

    Attributes
    ----------
    z_threshold : float
        Detection threshold in noise sigmas, for the pair residual and the step.
    duplicate_s : float
        Sets of one object closer than this (s) count as one (the later kept).
    min_sets : int
        Objects with fewer usable sets are skipped (no noise can be learned).
    max_gap_days : float
        Pairs further apart are not assessed (counted in ``n_gaps``).
    trend_half_window : int
        Pairs on each side in the rolling median of change rates (the trend).
    noise_half_window : int
        Pairs on each side in the rolling MAD (the noise).
    step_sets : int
        Sets on each side whose median levels confirm a step.
    """

    z_threshold: float = 20.0
    duplicate_s: float = 60.0
    min_sets: int = 5
    max_gap_days: float = 10.0
    trend_half_window: int = 7
    noise_half_window: int = 20
    step_sets: int = 5
    plane_z_threshold: float = 30.0
    e_z_threshold: float = 30.0
    merge_days: float = 0.5

    def __post_init__(self) -> None:
        if not (self.z_threshold > 0 and self.duplicate_s >= 0 and self.max_gap_days > 0):
            raise ManeuverError("z_threshold and max_gap_days must be positive, "
                                "duplicate_s non-negative")
        if self.min_sets < 2 or self.step_sets < 1:
            raise ManeuverError("min_sets must be at least 2 and step_sets at least 1")
        if self.trend_half_window < 1 or self.noise_half_window < 1:
            raise ManeuverError("the rolling half windows must be at least 1 pair")


@dataclass(frozen=True)
class ElementHistory:
    """Element-set histories of one or many objects as arrays (one row per set, any order).

    Angles in degrees, mean motion in rev/day, ``mean_motion_dot`` the TLE
    field (half the first derivative, rev/day^2); zero when unknown.
    """

    norad_id: np.ndarray
    epoch_jd: np.ndarray
    epoch_fr: np.ndarray
    mean_motion_rev_day: np.ndarray
    eccentricity: np.ndarray
    inclination_deg: np.ndarray
    raan_deg: np.ndarray
    arg_perigee_deg: np.ndarray
    mean_anomaly_deg: np.ndarray
    mean_motion_dot: np.ndarray

    def __post_init__(self) -> None:
        n = np.shape(self.norad_id)
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if np.ndim(value) != 1 or np.shape(value) != n:
                raise ManeuverError(f"ElementHistory.{name} must be a 1-D array of the same "
                                    f"length as norad_id ({n[0] if n else '?'}), "
                                    f"got shape {np.shape(value)}")

    def __len__(self) -> int:
        return int(np.shape(self.norad_id)[0])

    @classmethod
    def from_element_sets(cls, element_sets: Sequence[ElementSet]) -> ElementHistory:
        """Arrays from :class:`ElementSet` records (e.g. ``read_catalog(...).element_sets``)."""
        rows = [(es.norad_id, es.epoch_jd, es.epoch_fr, es.mean_motion_rev_day,
                 es.eccentricity, es.inclination_deg, es.raan_deg, es.arg_perigee_deg,
                 es.mean_anomaly_deg, es.mean_motion_dot) for es in element_sets]
        if not rows:
            return cls(*(np.empty(0, dtype=np.int64 if k == 0 else np.float64)
                         for k in range(10)))
        cols = list(zip(*rows, strict=True))
        ids = np.fromiter(cols[0], dtype=np.int64, count=len(rows))
        floats = [np.fromiter(c, dtype=np.float64, count=len(rows)) for c in cols[1:]]
        return cls(ids, *floats)


@dataclass(frozen=True)
class ManeuverResult:
    """Detected maneuvers (one array element each) and what was looked at.

    Arrays are ordered by ``norad_id`` then burn time. ``time_sigma_s`` is the
    1-sigma uncertainty of the burn time; ``score`` the significance of the
    strongest persisting step in noise sigmas. ``delta_a_km`` is the change
    of the Brouwer mean semi-major axis with the drag trend removed.
    ``span_norad_id``, ``span_first_day`` and ``span_last_day`` give, for every
    analysed object (not the skipped ones), the first and last epoch of the sets
    it used (days since J2000 12:00 UTC): a maneuver outside an object's span
    could not have been seen. ``span_sigma_a_km`` is that object's median 1-sigma
    noise of the pair-to-pair change of semi-major axis (learned from its history,
    at its own set spacing): a burn changing ``a`` by less than ``z_threshold``
    times it cannot be detected. ``kind`` is one of :data:`MANEUVER_KINDS` (step 8
    of the module docstring).
    """

    norad_id: np.ndarray
    burn_jd: np.ndarray
    burn_fr: np.ndarray
    time_sigma_s: np.ndarray
    delta_a_km: np.ndarray
    delta_v_m_s: np.ndarray
    dv_in_plane_m_s: np.ndarray
    dv_out_of_plane_m_s: np.ndarray
    delta_i_deg: np.ndarray
    plane_change_deg: np.ndarray
    delta_e: np.ndarray
    score: np.ndarray
    before_jd: np.ndarray
    before_fr: np.ndarray
    after_jd: np.ndarray
    after_fr: np.ndarray
    regime: np.ndarray
    kind: np.ndarray
    n_sets_in: int = 0
    n_sets_used: int = 0
    n_invalid: int = 0
    n_duplicates: int = 0
    n_out_of_order: int = 0
    n_objects: int = 0
    n_pairs_assessed: int = 0
    n_gaps: int = 0
    skipped: dict[int, str] = field(default_factory=dict)
    span_norad_id: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    span_first_day: np.ndarray = field(default_factory=lambda: np.empty(0))
    span_last_day: np.ndarray = field(default_factory=lambda: np.empty(0))
    span_sigma_a_km: np.ndarray = field(default_factory=lambda: np.empty(0))

    def __len__(self) -> int:
        return int(self.norad_id.shape[0])

    def rows(self) -> list[dict[str, object]]:
        """One dict per maneuver with the CSV columns (values rounded as written)."""
        t = iso_utc_ms(self.burn_jd, self.burn_fr)
        tb = iso_utc_ms(self.before_jd, self.before_fr)
        ta = iso_utc_ms(self.after_jd, self.after_fr)
        out = []
        for k in range(len(self)):
            out.append({
                "norad_id": int(self.norad_id[k]),
                "time_utc": str(t[k]),
                "delta_a_km": f"{self.delta_a_km[k]:.4f}",
                "delta_v_m_s": f"{self.delta_v_m_s[k]:.4f}",
                "delta_i_deg": f"{self.delta_i_deg[k]:.5f}",
                "plane_change_deg": f"{self.plane_change_deg[k]:.5f}",
                "delta_e": f"{self.delta_e[k]:.7f}",
                "dv_in_plane_m_s": f"{self.dv_in_plane_m_s[k]:.4f}",
                "dv_out_of_plane_m_s": f"{self.dv_out_of_plane_m_s[k]:.4f}",
                "time_sigma_s": f"{self.time_sigma_s[k]:.0f}",
                "score": f"{self.score[k]:.1f}",
                "epoch_before_utc": str(tb[k]),
                "epoch_after_utc": str(ta[k]),
                "regime": str(self.regime[k]),
                "kind": str(self.kind[k]),
            })
        return out

    def to_csv(self, out: str | Path | TextIO) -> int:
        """Write the maneuver CSV (contract columns first); returns the row count."""
        if isinstance(out, str | Path):
            with open(out, "w", encoding="ascii", newline="") as handle:
                return self.to_csv(handle)
        writer = csv.DictWriter(out, fieldnames=list(MANEUVER_CSV_COLUMNS), lineterminator="\n")
        writer.writeheader()
        rows = self.rows()
        writer.writerows(rows)
        return len(rows)

    def csv_text(self) -> str:
        buf = io.StringIO()
        self.to_csv(buf)
        return buf.getvalue()


# ------------------------------------------------------------------ kernels


def brouwer_mean_motion(n_kozai_rad_s: np.ndarray, ecc: np.ndarray,
                        inc_rad: np.ndarray) -> np.ndarray:
    """SGP4's un-Kozai step: Brouwer mean motion (rad/s) from the element-set mean motion."""
    cosi = np.cos(inc_rad)
    beta2 = 1.0 - ecc * ecc
    a1 = (_KE_PER_S / n_kozai_rad_s) ** (2.0 / 3.0)
    d1 = 0.75 * J2 * (3.0 * cosi * cosi - 1.0) / (np.sqrt(beta2) * beta2)
    del1 = d1 / (a1 * a1)
    a0 = a1 * (1.0 - del1 * (1.0 / 3.0 + del1 * (1.0 + 134.0 / 81.0 * del1)))
    del0 = d1 / (a0 * a0)
    return n_kozai_rad_s / (1.0 + del0)


def secular_rates(n_rad_s: np.ndarray, a_km: np.ndarray, ecc: np.ndarray,
                  inc_rad: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """J2 secular rates (rad/s) of mean anomaly, argument of perigee and node."""
    beta2 = 1.0 - ecc * ecc
    cosi = np.cos(inc_rad)
    k = 1.5 * J2 * (EARTH_RADIUS_KM / (a_km * beta2)) ** 2 * n_rad_s
    m_dot = n_rad_s + k * np.sqrt(beta2) * (1.5 * cosi * cosi - 0.5)
    w_dot = 0.5 * k * (5.0 * cosi * cosi - 1.0)
    o_dot = -k * cosi
    return m_dot, w_dot, o_dot


def _true_arg_latitude(argp: np.ndarray, mean_anom: np.ndarray, ecc: np.ndarray) -> np.ndarray:
    """argp + true anomaly, to second order in e (near-circular orbits)."""
    return argp + mean_anom + 2.0 * ecc * np.sin(mean_anom) + 1.25 * ecc * ecc * np.sin(
        2.0 * mean_anom)


def _wrap(x: np.ndarray) -> np.ndarray:
    return (x + math.pi) % _TWO_PI - math.pi


def _rolling_median(x: np.ndarray, gid: np.ndarray, half: int) -> np.ndarray:
    """Centred rolling median over ``2 half + 1`` rows of the same group, NaNs ignored.

    ``x`` is ``(n,)`` or ``(n, k)``; NaN where the window holds no finite
    value. Groups are runs of equal ``gid`` (non-decreasing, as the pairs of
    :func:`detect_maneuvers` are); the numba kernel keeps each window sorted,
    ``O(n k w)``, and returns the bits of :func:`_rolling_median_numpy` (same
    order statistics, same arithmetic), which takes any ``gid``.
    """
    if gid.shape[0] > 1 and not bool(np.all(gid[1:] >= gid[:-1])):
        return _rolling_median_numpy(x, gid, half)
    x2 = np.ascontiguousarray((x[:, None] if x.ndim == 1 else x), dtype=np.float64)
    out = _rolling_median_kernel(x2, np.ascontiguousarray(gid, dtype=np.int64), int(half))
    return out[:, 0] if x.ndim == 1 else out


@njit(cache=True)
def _rolling_median_kernel(x, gid, half):
    n, k = x.shape
    out = np.empty((n, k))
    buf = np.empty(2 * half + 1)
    s = 0
    while s < n:
        e = s + 1
        while e < n and gid[e] == gid[s]:
            e += 1
        for col in range(k):
            c = 0  # finite values of the window [r - half, r + half] within [s, e), sorted
            for q in range(s, min(s + half, e - 1) + 1):
                c = _sorted_insert(buf, c, x[q, col])
            for r in range(s, e):
                if c == 0:
                    out[r, col] = np.nan
                else:
                    out[r, col] = 0.5 * (buf[(c - 1) // 2] + buf[c // 2])
                if r - half >= s:
                    c = _sorted_remove(buf, c, x[r - half, col])
                if r + half + 1 < e:
                    c = _sorted_insert(buf, c, x[r + half + 1, col])
        s = e
    return out


@njit(cache=True, inline="always")
def _sorted_insert(buf, c, v):
    if v != v:  # NaN: not part of any window
        return c
    j = c
    while j > 0 and buf[j - 1] > v:
        buf[j] = buf[j - 1]
        j -= 1
    buf[j] = v
    return c + 1


@njit(cache=True, inline="always")
def _sorted_remove(buf, c, v):
    if v != v:
        return c
    j = 0
    while buf[j] != v:
        j += 1
    for q in range(j, c - 1):
        buf[q] = buf[q + 1]
    return c - 1


def _rolling_median_numpy(x: np.ndarray, gid: np.ndarray, half: int,
                          chunk: int = 32768) -> np.ndarray:
    """Numpy twin of :func:`_rolling_median` for any ``gid``: sorts every window,
    ``O(n k w log w)``; chunks bound the memory."""
    x2 = x[:, None] if x.ndim == 1 else x
    n, k = x2.shape
    out = np.full((n, k), np.nan)
    if n:
        w = 2 * half + 1
        pad_x = np.concatenate((np.full((half, k), np.nan), x2, np.full((half, k), np.nan)))
        pad_g = np.concatenate((np.full(half, -1, dtype=gid.dtype), gid,
                                np.full(half, -1, dtype=gid.dtype)))
        xv = sliding_window_view(pad_x, w, axis=0)  # (n, k, w)
        gv = sliding_window_view(pad_g, w)  # (n, w)
        for lo in range(0, n, chunk):
            hi = min(n, lo + chunk)
            other = (gv[lo:hi] != gid[lo:hi, None])[:, None, :]
            v = np.where(other, np.nan, xv[lo:hi])
            v.sort(axis=2)  # NaNs sort last
            c = np.count_nonzero(~np.isnan(v), axis=2)
            lo_i = (np.maximum(c - 1, 0) // 2)[..., None]
            hi_i = (c // 2)[..., None]
            m = 0.5 * (np.take_along_axis(v, lo_i, axis=2)
                       + np.take_along_axis(v, np.minimum(hi_i, w - 1), axis=2))[..., 0]
            m[c == 0] = np.nan
            out[lo:hi] = m
    return out[:, 0] if x.ndim == 1 else out


def _window_median(level: np.ndarray, gid: np.ndarray, starts: np.ndarray,
                   count: int, ref: np.ndarray) -> np.ndarray:
    """Median of ``level[s : s + count]`` for each start ``s``, over rows in the group of ``ref``.

    Rows outside the array or of another group are ignored (fewer values at
    the ends of a history). ``level`` is per set, ``(n_sets,)`` or ``(n_sets, k)``.
    A numba kernel; :func:`_window_median_numpy` is its twin (same bits).
    """
    lv = np.ascontiguousarray((level[:, None] if level.ndim == 1 else level), dtype=np.float64)
    out = _window_median_kernel(lv, np.ascontiguousarray(gid, dtype=np.int64),
                                np.ascontiguousarray(starts, dtype=np.int64), int(count),
                                np.ascontiguousarray(ref, dtype=np.int64))
    return out[:, 0] if level.ndim == 1 else out


@njit(cache=True)
def _window_median_kernel(level, gid, starts, count, ref):
    n, k = level.shape
    m = starts.shape[0]
    out = np.empty((m, k))
    buf = np.empty(max(count, 1))
    for r in range(m):
        g = gid[ref[r]]
        for col in range(k):
            c = 0  # values that are not NaN, sorted (an inf sorts last, as in numpy)
            n_fin = 0
            for q in range(starts[r], starts[r] + count):
                if 0 <= q < n and gid[q] == g:
                    v = level[q, col]
                    c = _sorted_insert(buf, c, v)
                    if np.isfinite(v):
                        n_fin += 1
            if n_fin == 0:
                out[r, col] = np.nan
            else:
                out[r, col] = 0.5 * (buf[(n_fin - 1) // 2] + buf[n_fin // 2])
    return out


def _window_median_numpy(level: np.ndarray, gid: np.ndarray, starts: np.ndarray,
                         count: int, ref: np.ndarray) -> np.ndarray:
    """Numpy twin of :func:`_window_median`."""
    n = level.shape[0]
    idx = starts[:, None] + np.arange(count)[None, :]
    inside = (idx >= 0) & (idx < n)
    safe = np.clip(idx, 0, max(n - 1, 0))
    same = inside & (gid[safe] == gid[ref][:, None])
    vals = level[safe]
    if vals.ndim == 3:
        same = same[:, :, None]
    vals = np.where(same, vals, np.nan)
    with np.errstate(all="ignore"):
        # nanmedian over a short last-but-one axis; all-NaN rows give NaN.
        vals = np.sort(vals, axis=1)
        c = np.count_nonzero(np.isfinite(vals), axis=1)
        lo = np.maximum(c - 1, 0) // 2
        hi = c // 2
        med = 0.5 * (np.take_along_axis(vals, lo[:, None], axis=1)
                     + np.take_along_axis(vals, hi[:, None], axis=1))[:, 0]
        return np.where(c > 0, med, np.nan)


# ------------------------------------------------------------------ detection


def _as_history(history: ElementHistory | Sequence[ElementSet]) -> ElementHistory:
    if isinstance(history, ElementHistory):
        return history
    if isinstance(history, str | bytes | Path):
        raise ManeuverError("pass element sets or an ElementHistory, not a file name: read the "
                            "file with kizuna.catalog.reader.read_catalog first")
    try:
        sets = list(history)
    except TypeError:
        raise ManeuverError(f"expected a sequence of ElementSet or an ElementHistory, got "
                            f"{type(history).__name__}") from None
    bad = next((s for s in sets if not isinstance(s, ElementSet)), None)
    if bad is not None:
        raise ManeuverError(f"expected ElementSet records, got a {type(bad).__name__}")
    return ElementHistory.from_element_sets(sets)


@dataclass(frozen=True)
class _PairNoise:
    """What steps 1-4 produce for the analysed objects: sets, pairs, residuals, noise."""

    ids: np.ndarray  # per set
    t: np.ndarray  # per set, days since J2000
    gid: np.ndarray
    obj_start: np.ndarray
    i0: np.ndarray  # per pair: the older set
    i1: np.ndarray
    pg: np.ndarray
    dt_d: np.ndarray
    assessed: np.ndarray  # per pair: not across a gap of more than max_gap_days
    n: np.ndarray  # Brouwer mean motion, rad/s, per set
    a: np.ndarray
    levels: np.ndarray  # per set: a, normal (3), e-vector (2)
    trend: np.ndarray  # per pair: change rates per day
    resid: np.ndarray  # per pair: detrended level changes
    at_km: np.ndarray
    g: np.ndarray
    sigma: np.ndarray
    at_sigma: np.ndarray
    regime_obj: np.ndarray


def _pair_noise(
    history: ElementHistory | Sequence[ElementSet], norad_id: int | None,
    settings: ManeuverSettings | None,
) -> tuple[ManeuverSettings, dict[str, object], _PairNoise | None]:
    """Steps 1-4 of the module docstring: clean, series, pair residuals, noise.

    Returns the settings, the counts for :class:`ManeuverResult` and the pairs (None
    when no object has enough sets)."""
    cfg = settings or ManeuverSettings()
    h = _as_history(history)
    if len(h) == 0:
        raise ManeuverError("no element sets given: pass the history of at least one object")
    ids_all = np.asarray(h.norad_id, dtype=np.int64)
    sel = np.ones(len(h), dtype=bool)
    if norad_id is not None:
        sel = ids_all == int(norad_id)
        if not sel.any():
            raise ManeuverError(f"object {norad_id} has no element sets in the input; "
                                f"objects present: {_some_ids(ids_all)}")
    n_in = int(sel.sum())

    ids = ids_all[sel]
    t = ((np.asarray(h.epoch_jd, dtype=np.float64)[sel] - _J2000_JD)
         + np.asarray(h.epoch_fr, dtype=np.float64)[sel])  # days from J2000
    n_rev = np.asarray(h.mean_motion_rev_day, dtype=np.float64)[sel]
    ecc = np.asarray(h.eccentricity, dtype=np.float64)[sel]
    inc = np.radians(np.asarray(h.inclination_deg, dtype=np.float64)[sel])
    raan = np.radians(np.asarray(h.raan_deg, dtype=np.float64)[sel])
    argp = np.radians(np.asarray(h.arg_perigee_deg, dtype=np.float64)[sel])
    manom = np.radians(np.asarray(h.mean_anomaly_deg, dtype=np.float64)[sel])
    ndot = np.nan_to_num(np.asarray(h.mean_motion_dot, dtype=np.float64)[sel])

    # 1. clean: usable elements, sort, collapse duplicates.
    with np.errstate(invalid="ignore"):
        valid = (np.isfinite(t) & np.isfinite(n_rev) & (n_rev > 0) & np.isfinite(ecc)
                 & (ecc >= 0) & (ecc < 1) & np.isfinite(inc) & np.isfinite(raan)
                 & np.isfinite(argp) & np.isfinite(manom))
    n_invalid = int((~valid).sum())
    order_in = np.flatnonzero(valid)
    order = order_in[np.lexsort((order_in, t[order_in], ids[order_in]))]
    # Out of order: within an object, an epoch earlier than one given before it.
    n_ooo = _count_out_of_order(ids[order_in], t[order_in])
    ids, t, n_rev, ecc, inc, raan, argp, manom, ndot = (
        x[order] for x in (ids, t, n_rev, ecc, inc, raan, argp, manom, ndot))
    same_next = np.zeros(ids.shape[0], dtype=bool)
    same_next[:-1] = (ids[1:] == ids[:-1]) & ((t[1:] - t[:-1]) * _SECONDS_PER_DAY
                                              < cfg.duplicate_s)
    keep = ~same_next
    n_dup = int(same_next.sum())
    ids, t, n_rev, ecc, inc, raan, argp, manom, ndot = (
        x[keep] for x in (ids, t, n_rev, ecc, inc, raan, argp, manom, ndot))

    # Objects with too few sets are skipped; the rest analysed together.
    uniq, first, counts = np.unique(ids, return_index=True, return_counts=True)
    skipped: dict[int, str] = {}
    for k in np.flatnonzero(counts < cfg.min_sets):
        skipped[int(uniq[k])] = (f"{int(counts[k])} usable element set(s) after removing "
                                 f"duplicates and invalid sets; need {cfg.min_sets}")
    if n_in and len(uniq) == 0:
        skipped_all = "every element set was invalid or a duplicate"
        if norad_id is not None:
            raise ManeuverError(f"object {norad_id}: {skipped_all}")
        raise ManeuverError(f"no usable element sets: {skipped_all}")
    if norad_id is not None and int(norad_id) in skipped:
        raise ManeuverError(f"object {norad_id} cannot be analysed: {skipped[int(norad_id)]}; "
                            "give a longer history")
    enough = np.repeat(counts >= cfg.min_sets, counts)
    ids, t, n_rev, ecc, inc, raan, argp, manom, ndot = (
        x[enough] for x in (ids, t, n_rev, ecc, inc, raan, argp, manom, ndot))
    n_used = int(ids.shape[0])
    n_obj = int((counts >= cfg.min_sets).sum())
    span_first = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]]) if n_used else np.empty(0, int)
    span_last = np.r_[span_first[1:], n_used][:span_first.size] - 1
    result_counts = dict(n_sets_in=n_in, n_sets_used=n_used, n_invalid=n_invalid,
                         n_duplicates=n_dup, n_out_of_order=n_ooo, n_objects=n_obj,
                         skipped=skipped, span_norad_id=ids[span_first],
                         span_first_day=t[span_first], span_last_day=t[span_last])
    if n_used == 0:
        return cfg, result_counts, None

    # Group index per set (0..n_obj-1), first set of each group.
    new_obj = np.ones(n_used, dtype=bool)
    new_obj[1:] = ids[1:] != ids[:-1]
    gid = np.cumsum(new_obj) - 1
    obj_start = np.flatnonzero(new_obj)

    # 2. mean-element series.
    n_kozai = n_rev * (_TWO_PI / _SECONDS_PER_DAY)
    n = brouwer_mean_motion(n_kozai, ecc, inc)
    a = EARTH_RADIUS_KM * (_KE_PER_S / n) ** (2.0 / 3.0)
    m_dot, w_dot, o_dot = secular_rates(n, a, ecc, inc)
    regime_set = orbit_regimes(n_rev, ecc)
    med_n = _group_median(n_rev, gid, obj_start)
    med_e = _group_median(ecc, gid, obj_start)
    regime_obj = orbit_regimes(med_n, med_e)
    tau = np.array([_TAU_DAYS.get(r, 1.0) for r in regime_obj])[gid]
    del regime_set

    # Pairs (k, k+1) of the same object.
    same = gid[1:] == gid[:-1]
    i0 = np.flatnonzero(same)
    i1 = i0 + 1
    pg = gid[i0]
    dt_d = t[i1] - t[i0]
    dt_s = dt_d * _SECONDS_PER_DAY

    # J2 rotations accumulated since each object's first set (trapezoid of
    # the two sets' rates), used to turn the plane and e-vector back.
    node_step = np.zeros(n_used)
    peri_step = np.zeros(n_used)
    node_step[i1] = 0.5 * (o_dot[i0] + o_dot[i1]) * dt_s
    peri_step[i1] = 0.5 * (w_dot[i0] + w_dot[i1]) * dt_s
    node_cum = _group_cumsum(node_step, obj_start)
    peri_cum = _group_cumsum(peri_step, obj_start)
    node_rel = raan - node_cum
    sin_i = np.sin(inc)
    normal = np.stack((sin_i * np.sin(node_rel), -sin_i * np.cos(node_rel), np.cos(inc)),
                      axis=-1)
    peri_rel = argp - peri_cum
    evec = np.stack((ecc * np.cos(peri_rel), ecc * np.sin(peri_rel)), axis=-1)

    # Along-track residual: previous set carried to the next epoch.
    m_pred = manom[i0] + m_dot[i0] * dt_s + (ndot[i0] * _TWO_PI) * dt_d * dt_d
    w_pred = argp[i0] + w_dot[i0] * dt_s
    o_pred = raan[i0] + o_dot[i0] * dt_s
    u_pred = _true_arg_latitude(w_pred, m_pred, ecc[i0])
    u_new = _true_arg_latitude(argp[i1], manom[i1], ecc[i1])
    d_node = _wrap(raan[i1] - o_pred)
    at_km = _wrap(u_new - u_pred + np.cos(inc[i1]) * d_node) * a[i1]

    # 3.-4. residuals with trend removed, rolling noise.
    g = np.sqrt(1.0 + (dt_d / tau[i0]) ** 2)
    # Sub-hour pairs give noisy rates; pairs across a gap are not assessed and must not
    # shape the trend or the noise of the pairs that are.
    assessed = dt_d <= cfg.max_gap_days
    rate_ok = (dt_d >= 1.0 / 24.0) & assessed
    levels = np.column_stack((a, normal, evec))  # (n_sets, 6): km, -, -, -, -, -
    floors = np.array([_FLOOR_A_KM, _FLOOR_ANGLE_RAD, _FLOOR_ANGLE_RAD, _FLOOR_ANGLE_RAD,
                       _FLOOR_E, _FLOOR_E])
    d_level = levels[i1] - levels[i0]
    rate = np.where(rate_ok[:, None], d_level / np.maximum(dt_d, 1e-9)[:, None], np.nan)
    trend = _rolling_median(rate, pg, cfg.trend_half_window)
    trend = np.where(np.isfinite(trend), trend, 0.0)
    resid = d_level - trend * dt_d[:, None]
    # Level residuals scale with g, the along-track one with g^2 (a rate
    # error integrates to a drift).
    scaled = np.column_stack((np.abs(resid) / g[:, None], np.abs(at_km) / g**2))
    scaled[~assessed] = np.nan
    mad = MAD_TO_SIGMA * _rolling_median(scaled, pg, cfg.noise_half_window)
    # The floors stand for element-set rounding, which does not grow with the gap: they
    # bound the noise at the pair's gap, not the scale before g (on quiet LEO objects a
    # floor scaled by g had set the noise, not their history; docs/design/maneuvers.md).
    floors7 = np.r_[floors, _FLOOR_AT_KM]
    mad = np.where(np.isfinite(mad), mad, 0.0)
    sigma = np.maximum(mad[:, :6] * g[:, None], floors7[:6])
    at_sigma = np.maximum(mad[:, 6] * g**2, floors7[6])

    return cfg, result_counts, _PairNoise(
        ids=ids, t=t, gid=gid, obj_start=obj_start, i0=i0, i1=i1, pg=pg, dt_d=dt_d,
        assessed=assessed, n=n,
        a=a, levels=levels, trend=trend, resid=resid, at_km=at_km, g=g, sigma=sigma,
        at_sigma=at_sigma, regime_obj=regime_obj)


def detect_maneuvers(
    history: ElementHistory | Sequence[ElementSet],
    *,
    norad_id: int | None = None,
    settings: ManeuverSettings | None = None,
) -> ManeuverResult:
    """Detect maneuvers in the element-set histories of one or many objects.

    Parameters
    ----------
    history : ElementHistory or sequence of ElementSet
        Any number of objects, any order; duplicates and bad sets allowed.
    norad_id : int, optional
        Only this object. Raises :class:`ManeuverError` if it has no sets or
        too few to learn its noise.
    settings : ManeuverSettings, optional
        Thresholds and windows; the defaults are the validated ones.

    Returns
    -------
    ManeuverResult
        Maneuvers ordered by object then burn time, plus counts of what was
        dropped and the objects skipped (with the reason).

    Raises
    ------
    ManeuverError
        On a caller mistake: not element sets, no sets at all, or a requested
        ``norad_id`` that cannot be analysed.
    """
    cfg, result_counts, p = _pair_noise(history, norad_id, settings)
    if p is None:
        return _empty_result(n_pairs_assessed=0, n_gaps=0, **result_counts)
    ids, t, gid, obj_start, i0, i1, pg, dt_d = (p.ids, p.t, p.gid, p.obj_start, p.i0, p.i1,
                                                p.pg, p.dt_d)
    n, a, levels, trend, resid, at_km = p.n, p.a, p.levels, p.trend, p.resid, p.at_km
    sigma, at_sigma, regime_obj = p.sigma, p.at_sigma, p.regime_obj
    normal = levels[:, 1:4]
    assessed = p.assessed
    n_gaps = int((~assessed).sum())
    # every analysed object has at least min_sets - 1 pairs, contiguous in pg
    pair_start = np.flatnonzero(np.r_[True, pg[1:] != pg[:-1]])
    result_counts["span_sigma_a_km"] = _group_median(sigma[:, 0], pg, pair_start)

    # Detrended levels (the trend integrated along the history) for the
    # step test: medians of the sets before and after each pair.
    cum_trend = np.zeros_like(levels)
    step_trend = np.zeros_like(levels)
    step_trend[i1] = trend * dt_d[:, None]
    for c in range(levels.shape[1]):
        cum_trend[:, c] = _group_cumsum(step_trend[:, c], obj_start)
    flat = levels - cum_trend
    m = cfg.step_sets
    before = _window_median(flat, gid, i0 - m + 1, m, i0)
    after = _window_median(flat, gid, i1, m, i1)
    step = after - before

    z_pair = resid / sigma
    z_step = step / sigma
    z_a = np.minimum(np.abs(z_pair[:, 0]), np.abs(z_step[:, 0]))
    z_a = np.where(np.sign(z_pair[:, 0]) == np.sign(z_step[:, 0]), z_a, 0.0)
    zp = np.sqrt(np.sum(z_pair[:, 1:4] ** 2, axis=1))
    zs = np.sqrt(np.sum(z_step[:, 1:4] ** 2, axis=1))
    z_plane = np.minimum(zp, zs)
    ze_p = np.sqrt(np.sum(z_pair[:, 4:6] ** 2, axis=1))
    ze_s = np.sqrt(np.sum(z_step[:, 4:6] ** 2, axis=1))
    z_e = np.minimum(ze_p, ze_s)
    z_best = np.maximum(np.maximum(z_a, z_plane * (cfg.z_threshold / cfg.plane_z_threshold)),
                        z_e * (cfg.z_threshold / cfg.e_z_threshold))
    cand = assessed & (z_best >= cfg.z_threshold)

    # 5. merge candidates on consecutive pairs of an object into events.
    ck = np.flatnonzero(cand)
    if ck.size == 0:
        return _empty_result(n_pairs_assessed=int(assessed.sum()), n_gaps=n_gaps,
                             **result_counts)
    starts_event = np.ones(ck.size, dtype=bool)
    starts_event[1:] = ~((t[i0[ck[1:]]] - t[i1[ck[:-1]]] <= cfg.merge_days)
                         & (pg[ck[1:]] == pg[ck[:-1]]))
    ev = np.cumsum(starts_event) - 1
    n_ev = int(ev[-1]) + 1
    first_pair = ck[starts_event]
    last_pair = ck[np.r_[np.flatnonzero(starts_event)[1:] - 1, ck.size - 1]]
    # Strongest pair of each event carries the timing.
    best = np.full(n_ev, -1)
    best_z = np.full(n_ev, -np.inf)
    order_z = np.lexsort((z_best[ck], ev))
    best[ev[order_z]] = ck[order_z]  # last write per event = largest z
    best_z[ev[order_z]] = z_best[ck[order_z]]

    ev_before = _window_median(flat, gid, i0[first_pair] - m + 1, m, i0[first_pair])
    ev_after = _window_median(flat, gid, i1[last_pair], m, i1[last_pair])
    dlev = ev_after - ev_before
    da = dlev[:, 0]
    plane_rad = np.linalg.norm(dlev[:, 1:4], axis=1)
    de = np.linalg.norm(dlev[:, 4:6], axis=1)
    j0, j1 = i0[first_pair], i1[last_pair]
    di_deg = np.degrees(np.arccos(np.clip(normal[j1 + 0, 2], -1, 1))
                        - np.arccos(np.clip(normal[j0, 2], -1, 1)))
    # Delta-i from the step medians of cos i would be cleaner, but the set
    # values are within noise of them for the reported precision.
    n_ev_rad = 0.5 * (n[j0] + n[j1])
    a_ev = 0.5 * (a[j0] + a[j1])
    v_ev = n_ev_rad * a_ev
    sig_a = sigma[best, 0]
    sig_e = np.hypot(sigma[best, 4], sigma[best, 5])
    dv_a = 0.5 * n_ev_rad * np.abs(da)
    dv_e = np.where(de >= cfg.z_threshold * sig_e, 0.5 * v_ev * de, 0.0)
    dv_in = np.maximum(dv_a, dv_e) * 1000.0
    sig_plane = np.sqrt(np.sum(sigma[best, 1:4] ** 2, axis=1))
    plane_sig = plane_rad >= cfg.z_threshold * sig_plane / math.sqrt(3.0)
    dv_out = np.where(plane_sig, 2.0 * v_ev * np.sin(0.5 * plane_rad), 0.0) * 1000.0
    dv = np.hypot(dv_in, dv_out)

    # 6. burn time from the strongest pair's along-track residual.
    bp = best
    t0b, t1b = t[i0[bp]], t[i1[bp]]
    dn = -1.5 * n[i1[bp]] * resid[bp, 0] / a[i1[bp]]  # rad/s
    with np.errstate(divide="ignore", invalid="ignore"):
        since_s = at_km[bp] / (a[i1[bp]] * dn)
        sig_since = at_sigma[bp] / np.abs(a[i1[bp]] * dn)
    lookback = np.maximum(dt_d[bp], 0.25)
    # The along-track formula assumes a tangential burn: not used when the plane change is
    # the more significant step (a north-south burn's small in-plane part would be timed as
    # if it were the burn, and clipped days away; Fengyun-4A, docs/design/maneuvers.md).
    plane_led = z_plane[bp] * (cfg.z_threshold / cfg.plane_z_threshold) > z_a[bp]
    in_plane = ((np.abs(resid[bp, 0]) >= cfg.z_threshold * sig_a) & np.isfinite(since_s)
                & ~plane_led)
    tb = t1b - since_s / _SECONDS_PER_DAY
    tb_clip = np.clip(tb, t0b - lookback, t1b)
    mid = 0.5 * (t0b + t1b)
    burn_t = np.where(in_plane, tb_clip, mid)
    sig_t = np.where(in_plane,
                     np.hypot(sig_since, np.abs(tb - tb_clip) * _SECONDS_PER_DAY),
                     dt_d[bp] * _SECONDS_PER_DAY / math.sqrt(12.0))

    # 8. kind, from the series whose step scores highest at the strongest pair (the
    # scores scaled to the Delta-a threshold, as in z_best).
    regime_ev = regime_obj[pg[first_pair]]
    geo = regime_ev == "GEO"
    lead = np.argmax(np.column_stack((
        z_a[bp], z_plane[bp] * (cfg.z_threshold / cfg.plane_z_threshold),
        z_e[bp] * (cfg.z_threshold / cfg.e_z_threshold))), axis=1)
    kind = np.where(lead == 1, np.where(geo, "north-south", "plane"),
                    np.where(geo, "east-west",
                             np.where(lead == 2, "eccentricity",
                                      np.where(da >= 0.0, "raise", "lower"))))

    ev_obj = pg[first_pair]
    jd_b, fr_b = _split_jd(burn_t)
    jd0, fr0 = _split_jd(t[j0])
    jd1, fr1 = _split_jd(t[j1])
    out = ManeuverResult(
        norad_id=ids[obj_start[ev_obj]],
        burn_jd=jd_b, burn_fr=fr_b, time_sigma_s=sig_t,
        delta_a_km=da, delta_v_m_s=dv, dv_in_plane_m_s=dv_in, dv_out_of_plane_m_s=dv_out,
        delta_i_deg=di_deg, plane_change_deg=np.degrees(plane_rad), delta_e=de,
        score=best_z, before_jd=jd0, before_fr=fr0, after_jd=jd1, after_fr=fr1,
        regime=regime_ev, kind=kind,
        n_pairs_assessed=int(assessed.sum()), n_gaps=n_gaps, **result_counts,
    )
    return out


@dataclass(frozen=True)
class PairResiduals:
    """Per consecutive pair of sets of each object: the residuals and their learned noise.

    The evidence behind :func:`detect_maneuvers` (same cleaning, same settings),
    for looking at one object's history or at how its noise grows with the gap.
    ``residual`` and ``sigma`` have one column per name in :data:`RESIDUAL_COLUMNS`:
    the detrended change of each series between the two sets, and its 1-sigma
    noise at that pair's gap (``gap_factor`` = ``g(dt)``; levels scale with
    ``g``, the along-track residual with ``g**2``). Pairs further apart than
    ``max_gap_days`` are included; ``assessed`` is False for them.
    """

    norad_id: np.ndarray
    before_jd: np.ndarray
    before_fr: np.ndarray
    after_jd: np.ndarray
    after_fr: np.ndarray
    dt_days: np.ndarray
    residual: np.ndarray
    sigma: np.ndarray
    gap_factor: np.ndarray
    assessed: np.ndarray

    def __len__(self) -> int:
        return int(self.norad_id.shape[0])

    def to_csv(self, out: str | Path | TextIO) -> int:
        """One row per pair: epochs, gap, ``g``, then residual, sigma and their ratio
        ``z`` for each series of :data:`RESIDUAL_COLUMNS`; returns the row count."""
        if isinstance(out, str | Path):
            with open(out, "w", encoding="ascii", newline="") as handle:
                return self.to_csv(handle)
        header = ["norad_id", "epoch_before_utc", "epoch_after_utc", "dt_days", "gap_factor",
                  "assessed"]
        for name in RESIDUAL_COLUMNS:
            header += [f"{name}_resid", f"{name}_sigma", f"{name}_z"]
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        t0 = iso_utc_ms(self.before_jd, self.before_fr)
        t1 = iso_utc_ms(self.after_jd, self.after_fr)
        z = self.residual / self.sigma
        for k in range(len(self)):
            row = [int(self.norad_id[k]), str(t0[k]), str(t1[k]), f"{self.dt_days[k]:.5f}",
                   f"{self.gap_factor[k]:.3f}", int(bool(self.assessed[k]))]
            for c in range(len(RESIDUAL_COLUMNS)):
                row += [f"{self.residual[k, c]:.6g}", f"{self.sigma[k, c]:.4g}",
                        f"{z[k, c]:.2f}"]
            writer.writerow(row)
        return len(self)


def maneuver_residuals(
    history: ElementHistory | Sequence[ElementSet],
    *,
    norad_id: int | None = None,
    settings: ManeuverSettings | None = None,
) -> PairResiduals:
    """The pair residuals and noise that :func:`detect_maneuvers` tests, for every object.

    Same parameters and errors as :func:`detect_maneuvers`; objects it skips have
    no pairs here.
    """
    _, _, p = _pair_noise(history, norad_id, settings)
    if p is None:
        e = np.empty(0)
        return PairResiduals(np.empty(0, dtype=np.int64), e, e, e, e, e,
                             np.empty((0, 7)), np.empty((0, 7)), e, np.empty(0, dtype=bool))
    jd0, fr0 = _split_jd(p.t[p.i0])
    jd1, fr1 = _split_jd(p.t[p.i1])
    return PairResiduals(
        norad_id=p.ids[p.i0], before_jd=jd0, before_fr=fr0, after_jd=jd1, after_fr=fr1,
        dt_days=p.dt_d,
        residual=np.column_stack((p.resid, p.at_km)),
        sigma=np.column_stack((p.sigma, p.at_sigma)),
        gap_factor=p.g, assessed=p.assessed,
    )


# ------------------------------------------------------------------ helpers


def _some_ids(ids: np.ndarray, limit: int = 5) -> str:
    u = np.unique(ids)
    text = ", ".join(str(int(x)) for x in u[:limit])
    return text + (f" ... ({u.size} objects)" if u.size > limit else "")


def _count_out_of_order(ids: np.ndarray, t: np.ndarray) -> int:
    """Sets given right after a later-epoch set of the same object (input order)."""
    if ids.size < 2:
        return 0
    order = np.argsort(ids, kind="stable")  # input order kept within an object
    ii, tt = ids[order], t[order]
    return int(np.count_nonzero((ii[1:] == ii[:-1]) & (tt[1:] < tt[:-1])))


def _group_cumsum(x: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Cumulative sum restarting at each group start."""
    c = np.cumsum(x)
    base = c[starts] - x[starts]
    sizes = np.diff(np.r_[starts, x.shape[0]])
    return c - np.repeat(base, sizes)


def _group_median(x: np.ndarray, gid: np.ndarray, starts: np.ndarray) -> np.ndarray:
    order = np.lexsort((x, gid))
    xs = x[order]
    sizes = np.diff(np.r_[starts, x.shape[0]])
    lo = starts + (sizes - 1) // 2
    hi = starts + sizes // 2
    return 0.5 * (xs[lo] + xs[hi])


def _split_jd(days_j2000: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(jd, fr) with jd at midnight, from days since J2000."""
    jd_full = days_j2000 + 0.5  # days since 2000-01-01T00:00
    whole = np.floor(jd_full)
    return whole + (_J2000_JD - 0.5), jd_full - whole


def _empty_result(**counts: object) -> ManeuverResult:
    e = np.empty(0)
    return ManeuverResult(
        norad_id=np.empty(0, dtype=np.int64), burn_jd=e, burn_fr=e, time_sigma_s=e,
        delta_a_km=e, delta_v_m_s=e, dv_in_plane_m_s=e, dv_out_of_plane_m_s=e,
        delta_i_deg=e, plane_change_deg=e, delta_e=e, score=e, before_jd=e, before_fr=e,
        after_jd=e, after_fr=e, regime=np.empty(0, dtype=str), kind=np.empty(0, dtype=str),
        **counts,  # type: ignore[arg-type]
    )
