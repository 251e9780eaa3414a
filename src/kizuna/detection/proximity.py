"""Proximity operations against protected assets: who comes close and stays, who shares the orbit.

For each protected asset the window is searched for four kinds of event:

``proximity``
    another object is within the asset's *range* (per regime, see
    :class:`RegimeLimits`) for at least ``min_duration_s``; gaps shorter than
    ``gap_s`` do not end an event (relative orbits oscillate in and out).
``co_orbital``
    the other object's mean orbit matches the asset's (semi-major axis,
    eccentricity, plane angle) and it stays within ``co_orbital_range_km``
    (leader-follower trains, companions parked further out) without a
    ``proximity`` event of its own.
``geo_colocation``
    (near-synchronous assets) the other object's sub-satellite longitude stays
    within ``geo_longitude_tol_deg`` of the asset's for ``min_duration_s``,
    without a ``proximity`` event (co-located in longitude, separated in
    latitude or radius).
``approach_after_maneuver``
    a short approach inside the range (a fly-by) that follows a maneuver of the
    other object within ``maneuver_lookback_s``; only with maneuver
    information (a history or a maneuver list).

Every event carries the pair, start and end, the minimum range and its time,
a range-history summary, the relative motion in the asset's RIC frame in
words, and the maneuver of the other object that preceded it, if any.

How the candidates are found (``ProximitySettings.broad_phase``):

1. **Pairs that can stay close** (``"elements"``, the default): necessary
   conditions for a range-history ``proximity`` event, vectorized over
   (assets x catalog): radial shells within the range; orbit planes, at
   their closest over the window, within the angle that allows a minimum
   inside the range slower than ``flyby_speed_km_s``; on a 3-hourly SGP4
   grid, the in-track angle from the asset inside the range band at some
   sample with a sampled drift slow enough to stay ``min_duration_s``
   (margins for eccentricity, SGP4 short-period terms and drag: see
   :func:`_stay_candidates` and docs/design/proximity.md).
   **Fly-bys after a maneuver**: the screening engine
   (:func:`kizuna.screening.screen`, assets as primaries, the largest range
   as threshold) runs only against the objects with a known maneuver in the
   look-back (``maneuvers=``, or detected in ``history=``).
   With ``"screen"`` (the reference) the screening engine runs against the
   whole catalog instead: every local minimum below the range; pairs with a
   minimum slower than ``flyby_speed_km_s`` get a range history.
   Both: every object within range at either window end (one SGP4 call
   each; catches shared element sets, distance 0, no minimum).
2. **Element filter** for co-orbital companions (mean elements) and, for
   near-synchronous assets, a coarse longitude check of near-synchronous
   objects.
3. **Range histories**: SGP4 of each candidate pair on a time grid
   (``sample_step_s``). Interval ends are interpolated linearly between
   samples: the pairs that stay close move slowly relative to each other, so
   this is accurate to metres in range and seconds in time at the default
   steps. The minimum range is refined by SGP4 on a 1/100-step grid around
   every local minimum of the samples (and replaced by an exact screening
   minimum where one is lower).

Numeric module: numpy in, frozen dataclasses out; no store, no CLI. See
docs/design/proximity.md for the defaults and why.
"""

from __future__ import annotations

import csv
import io
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TextIO

import numpy as np
from sgp4.api import SatrecArray

from kizuna.catalog.elements import ElementSet
from kizuna.catalog.snapshot import CatalogSnapshot
from kizuna.detection.maneuvers import (
    _J2000_JD,
    ElementHistory,
    ManeuverError,
    ManeuverResult,
    detect_maneuvers,
)
from kizuna.errors import KizunaError
from kizuna.frames import to_ric
from kizuna.timelib import SECONDS_PER_DAY, as_utc, iso_utc_ms, jd_fr_from_datetime

__all__ = [
    "DEFAULT_LIMITS",
    "PROXIMITY_CSV_COLUMNS",
    "ProximityError",
    "ProximityEvent",
    "ProximityReport",
    "ProximitySettings",
    "RegimeLimits",
    "detect_proximity",
    "limits_class",
    "proximity_report",
    "with_maneuver_history",
]

MU_KM3_S2 = 398600.8  # WGS-72, as the element sets
_TWO_PI = 2.0 * math.pi

PROXIMITY_CSV_COLUMNS = (
    "protected_norad_id", "other_norad_id", "start_utc", "end_utc", "min_range_km",
    "min_range_utc",
    "kind", "duration_h", "max_range_km", "mean_range_km", "range_rate_m_s",
    "range_history_km", "rel_speed_at_min_km_s", "radial_km", "in_track_km", "cross_track_km",
    "motion", "shared_element_set", "co_orbital", "geo_colocated", "max_delta_lon_deg",
    "maneuver_before", "maneuver_utc", "maneuver_delta_v_m_s", "regime", "maneuver_checked",
    "maneuver_kind",
)

KINDS = ("proximity", "co_orbital", "geo_colocation", "approach_after_maneuver")


class ProximityError(KizunaError, ValueError):
    """A proximity argument is unusable (unknown asset, empty list, bad window); says how to fix."""


@dataclass(frozen=True, kw_only=True)
class RegimeLimits:
    """What counts as "close" around an asset of one regime (km, seconds, degrees).

    Attributes
    ----------
    range_km : float
        An object inside this range is close (the alert range).
    rpo_range_km : float
        Inside this: rendezvous and proximity operations (noted in the motion text).
    min_duration_s : float
        A proximity event lasts at least this long ("stays close").
    gap_s : float
        Excursions outside the range shorter than this do not end an event.
    sample_step_s : float
        Step of the range-history grid.
    maneuver_lookback_s : float
        A maneuver of the other object this long before the event start (or
        during it, up to the closest approach) is "a maneuver preceded it".
    co_orbital_da_km, co_orbital_de, co_orbital_plane_deg : float
        Mean-orbit match: semi-major axis, eccentricity and orbit-plane angle.
    co_orbital_range_km : float
        A co-orbital companion within this range is reported.
    """

    range_km: float
    rpo_range_km: float
    min_duration_s: float
    gap_s: float
    sample_step_s: float
    maneuver_lookback_s: float
    co_orbital_da_km: float
    co_orbital_de: float
    co_orbital_plane_deg: float
    co_orbital_range_km: float

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ProximityError(f"RegimeLimits.{name} must be a positive number, "
                                     f"got {value!r}")
        if self.rpo_range_km > self.range_km:
            raise ProximityError("RegimeLimits.rpo_range_km must not exceed range_km")


_HOUR = 3600.0
_DAY = 86400.0

DEFAULT_LIMITS: Mapping[str, RegimeLimits] = {
    # LEO: 25 km alert, 10 km RPO; "stays" = about two revolutions (3 h).
    "LEO": RegimeLimits(range_km=25.0, rpo_range_km=10.0, min_duration_s=3 * _HOUR,
                        gap_s=1.0 * _HOUR, sample_step_s=60.0, maneuver_lookback_s=3 * _DAY,
                        co_orbital_da_km=5.0, co_orbital_de=0.002, co_orbital_plane_deg=0.2,
                        co_orbital_range_km=200.0),
    "MEO": RegimeLimits(range_km=50.0, rpo_range_km=25.0, min_duration_s=6 * _HOUR,
                        gap_s=3 * _HOUR, sample_step_s=300.0, maneuver_lookback_s=7 * _DAY,
                        co_orbital_da_km=10.0, co_orbital_de=0.002, co_orbital_plane_deg=0.2,
                        co_orbital_range_km=500.0),
    # GEO: 75 km is +-0.1 deg of longitude at 42,164 km (the usual station box).
    "GEO": RegimeLimits(range_km=75.0, rpo_range_km=25.0, min_duration_s=6 * _HOUR,
                        gap_s=6 * _HOUR, sample_step_s=600.0, maneuver_lookback_s=14 * _DAY,
                        co_orbital_da_km=25.0, co_orbital_de=0.002, co_orbital_plane_deg=0.2,
                        co_orbital_range_km=500.0),
    "HEO": RegimeLimits(range_km=50.0, rpo_range_km=25.0, min_duration_s=6 * _HOUR,
                        gap_s=3 * _HOUR, sample_step_s=120.0, maneuver_lookback_s=7 * _DAY,
                        co_orbital_da_km=25.0, co_orbital_de=0.002, co_orbital_plane_deg=0.2,
                        co_orbital_range_km=500.0),
}


@dataclass(frozen=True, kw_only=True)
class ProximitySettings:
    """Tuning of :func:`detect_proximity`.

    Attributes
    ----------
    limits : mapping
        :class:`RegimeLimits` per class ``"LEO"``, ``"MEO"``, ``"GEO"``, ``"HEO"``
        (:func:`limits_class` of the asset).
    per_asset : mapping
        Overrides for single assets, NORAD id -> :class:`RegimeLimits`.
    geo_longitude_tol_deg : float
        Co-location in longitude (near-synchronous assets), degrees.
    docked_range_km : float
        Range below which, throughout the event, the pair is "co-located/docked".
    flyby_speed_km_s : float
        Screening minima faster than this are fly-bys (no range history needed).
    history_points : int
        Ranges kept in ``range_history_km``.
    broad_phase : str
        ``"elements"`` (default): mean-element and sampled-phase prefilter for
        the pairs that can stay close, screening engine only against objects
        with a known maneuver (fly-bys after a maneuver). ``"screen"``: the
        screening engine against the whole catalog at the largest range (the
        reference; an order of magnitude slower).
    stay_sample_step_s : float
        Step of the coarse SGP4 grid of the ``"elements"`` prefilter, s.
    """

    limits: Mapping[str, RegimeLimits] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    per_asset: Mapping[int, RegimeLimits] = field(default_factory=dict)
    geo_longitude_tol_deg: float = 0.1
    docked_range_km: float = 1.0
    flyby_speed_km_s: float = 0.2
    history_points: int = 8
    broad_phase: str = "elements"
    stay_sample_step_s: float = 3 * 3600.0

    def __post_init__(self) -> None:
        if self.broad_phase not in ("elements", "screen"):
            raise ProximityError(f"ProximitySettings.broad_phase must be 'elements' or 'screen', "
                                 f"got {self.broad_phase!r}")
        if not (self.stay_sample_step_s > 0 and math.isfinite(self.stay_sample_step_s)):
            raise ProximityError("ProximitySettings.stay_sample_step_s must be a positive number "
                                 f"of seconds, got {self.stay_sample_step_s!r}")

    def for_asset(self, norad_id: int, regime: str) -> RegimeLimits:
        if norad_id in self.per_asset:
            return self.per_asset[norad_id]
        if regime not in self.limits:
            raise ProximityError(f"no RegimeLimits for regime {regime!r}: add it to "
                                 f"ProximitySettings.limits (keys {sorted(self.limits)})")
        return self.limits[regime]


@dataclass(frozen=True, kw_only=True)
class ManeuverRef:
    """A maneuver of the other object that preceded an event."""

    norad_id: int
    burn_jd: float
    burn_fr: float
    delta_v_m_s: float
    seconds_before_start: float
    kind: str  # ManeuverResult.kind: raise, lower, plane, east-west ...


@dataclass(frozen=True, kw_only=True)
class ProximityEvent:
    """One event; times are seconds from the report's window start, ranges km, RIC km.

    ``ric_*_km`` are the other object relative to the asset in the asset's RIC
    frame (radial, in-track, cross-track): at the minimum, their mean and half
    their spread over the event. ``range_history_km`` holds the range at
    ``history_points`` evenly spaced times from start to end.

    ``maneuver`` is the latest maneuver of the other object in
    ``[start - maneuver_lookback_s, min_range_s]``. ``maneuver_checked`` says
    whether "no maneuver" means anything: true when a maneuver was found or
    when the other object's element-set history was analysed and spans the
    start of the look-back (first epoch at or before it, last at or after
    it); false when there was no usable history of the other object.
    """

    protected_norad_id: int
    other_norad_id: int
    kind: str
    regime: str
    start_s: float
    end_s: float
    min_range_km: float
    min_range_s: float
    max_range_km: float
    mean_range_km: float
    range_rate_m_s: float
    range_history_km: tuple[float, ...]
    rel_speed_at_min_km_s: float
    ric_at_min_km: tuple[float, float, float]
    ric_mean_km: tuple[float, float, float]
    ric_half_span_km: tuple[float, float, float]
    motion: str
    shared_element_set: bool = False
    co_orbital: bool = False
    geo_colocated: bool = False
    max_delta_lon_deg: float | None = None
    maneuver: ManeuverRef | None = None
    maneuver_checked: bool = False

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def maneuver_before(self) -> bool:
        return self.maneuver is not None


@dataclass(frozen=True, kw_only=True)
class ProximityReport:
    """Events sorted by (protected, start, other) and what was looked at.

    ``maneuver_source`` says where maneuver information came from: ``"none"``,
    ``"list"`` (``maneuvers=``), ``"history"`` (``history=``),
    ``"history+list"``, and ``+<source>`` for each later
    :func:`with_maneuver_history` (the CLI adds ``"store"``).
    """

    events: tuple[ProximityEvent, ...]
    start: datetime
    duration_s: float
    protected: tuple[int, ...]
    asset_limits: Mapping[int, RegimeLimits]
    asset_regimes: Mapping[int, str]
    element_sets: Mapping[int, ElementSet] = field(repr=False, default_factory=dict)
    maneuver_source: str = "none"
    n_candidate_pairs: int = 0
    n_screening_events: int = 0
    n_stay_candidates: int = 0
    n_screened_objects: int = 0
    broad_phase: str = "screen"
    timings_s: Mapping[str, float] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.events)

    def _iso(self, seconds: Sequence[float]) -> np.ndarray:
        jd0, fr0 = jd_fr_from_datetime(self.start)
        s = np.asarray(seconds, dtype=np.float64)
        return iso_utc_ms(np.full(s.shape, jd0), fr0 + s / SECONDS_PER_DAY)

    def rows(self) -> list[dict[str, str]]:
        """One dict per event with :data:`PROXIMITY_CSV_COLUMNS` (values as written)."""
        ev = self.events
        t = self._iso([x for e in ev for x in (e.start_s, e.end_s, e.min_range_s)])
        out = []
        for k, e in enumerate(ev):
            m = e.maneuver
            out.append({
                "protected_norad_id": str(e.protected_norad_id),
                "other_norad_id": str(e.other_norad_id),
                "start_utc": str(t[3 * k]),
                "end_utc": str(t[3 * k + 1]),
                "min_range_km": f"{e.min_range_km:.3f}",
                "min_range_utc": str(t[3 * k + 2]),
                "kind": e.kind,
                "duration_h": f"{e.duration_s / 3600.0:.3f}",
                "max_range_km": f"{e.max_range_km:.3f}",
                "mean_range_km": f"{e.mean_range_km:.3f}",
                "range_rate_m_s": f"{e.range_rate_m_s:.3f}",
                "range_history_km": " ".join(f"{x:.2f}" for x in e.range_history_km),
                "rel_speed_at_min_km_s": f"{e.rel_speed_at_min_km_s:.4f}",
                "radial_km": f"{e.ric_at_min_km[0]:.3f}",
                "in_track_km": f"{e.ric_at_min_km[1]:.3f}",
                "cross_track_km": f"{e.ric_at_min_km[2]:.3f}",
                "motion": e.motion,
                "shared_element_set": str(e.shared_element_set).lower(),
                "co_orbital": str(e.co_orbital).lower(),
                "geo_colocated": str(e.geo_colocated).lower(),
                "max_delta_lon_deg": ("" if e.max_delta_lon_deg is None
                                      else f"{e.max_delta_lon_deg:.4f}"),
                "maneuver_before": str(m is not None).lower(),
                "maneuver_utc": "" if m is None else str(iso_utc_ms(m.burn_jd, m.burn_fr)),
                "maneuver_delta_v_m_s": "" if m is None else f"{m.delta_v_m_s:.3f}",
                "regime": e.regime,
                "maneuver_checked": str(e.maneuver_checked).lower(),
                "maneuver_kind": "" if m is None else m.kind,
            })
        return out

    def to_csv(self, out: str | Path | TextIO | None = None) -> str:
        """Write the proximity CSV (contract columns first); returns the text.

        Byte-identical for identical inputs.
        """
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(PROXIMITY_CSV_COLUMNS), lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows())
        text = buf.getvalue()
        if isinstance(out, str | Path):
            Path(out).write_text(text, encoding="utf-8", newline="")
        elif out is not None:
            out.write(text)
        return text

    def time_of(self, seconds: float) -> str:
        """ISO 8601 UTC (ms, ``Z``) of a time in seconds from the window start."""
        return str(self._iso([seconds])[0])


# ------------------------------------------------------------------ classes and elements


def limits_class(mean_motion_rev_day: float, eccentricity: float) -> str:
    """Regime used to pick :class:`RegimeLimits`: ``"LEO"``, ``"MEO"``, ``"GEO"`` or ``"HEO"``.

    As :func:`kizuna.catalog.regimes.orbit_regime`, except that every
    near-synchronous, nearly circular orbit (0.9-1.1 rev/day, e < 0.05) is
    ``"GEO"``: graveyard and drifting objects around the belt get the GEO
    limits an operator expects there (Compass G2 at e = 0.0100 would
    otherwise be MEO).
    """
    n = float(mean_motion_rev_day)
    e = float(eccentricity)
    if 0.9 <= n <= 1.1 and e < 0.05:
        return "GEO"
    if e >= 0.25:
        return "HEO"
    if n > 11.25:
        return "LEO"
    return "MEO"


def _mean_elements(sets: Sequence[ElementSet]) -> dict[str, np.ndarray]:
    n_rev_day = np.array([es.mean_motion_rev_day for es in sets], dtype=np.float64)
    n_rad_s = n_rev_day * _TWO_PI / SECONDS_PER_DAY
    with np.errstate(divide="ignore", invalid="ignore"):
        a_km = np.cbrt(MU_KM3_S2 / n_rad_s**2)
    inc = np.radians([es.inclination_deg for es in sets])
    raan = np.radians([es.raan_deg for es in sets])
    normal = np.stack([np.sin(inc) * np.sin(raan), -np.sin(inc) * np.cos(raan), np.cos(inc)],
                      axis=-1)
    return {"n": n_rev_day, "a_km": a_km,
            "e": np.array([es.eccentricity for es in sets], dtype=np.float64),
            "normal": normal}


def _identical(a: ElementSet, b: ElementSet) -> bool:
    """Same SGP4 record: SGP4 puts both at the same place at every time."""
    keys = ("epoch_jd", "epoch_fr", "mean_motion_rev_day", "eccentricity", "inclination_deg",
            "raan_deg", "arg_perigee_deg", "mean_anomaly_deg", "bstar")
    return all(getattr(a, k) == getattr(b, k) for k in keys)


# ------------------------------------------------------------------ main entry


def detect_proximity(
    snapshot: CatalogSnapshot,
    protected: Iterable[int],
    *,
    start: datetime | None = None,
    duration_s: float = 7 * 86400.0,
    settings: ProximitySettings | None = None,
    maneuvers: ManeuverResult | None = None,
    history: ElementHistory | Sequence[ElementSet] | None = None,
    workers: int | None = None,
) -> ProximityReport:
    """Proximity operations against protected assets over a window.

    Parameters
    ----------
    snapshot : CatalogSnapshot
        One element set per object (the catalog "as of" the window start).
    protected : iterable of int
        NORAD ids of the protected assets (all must be in the snapshot).
    start : datetime, optional
        Aware UTC window start; default the newest epoch in the snapshot.
    duration_s : float
        Window length, s (default 7 days).
    settings : ProximitySettings, optional
        Ranges, durations and tolerances; defaults per regime (:data:`DEFAULT_LIMITS`).
    maneuvers : ManeuverResult, optional
        Known maneuvers (e.g. :func:`~kizuna.detection.maneuvers.detect_maneuvers`
        over the store's history). Used for "a maneuver preceded it".
    history : ElementHistory or sequence of ElementSet, optional
        Element-set history; maneuvers are detected in it (added to
        ``maneuvers``): in all of it with the ``"elements"`` broad phase, as
        fly-bys after a maneuver are searched for the objects with a burn; in
        the objects of the events with ``"screen"``. A single snapshot has no
        history: without either argument no maneuver is ever reported and
        ``maneuver_source`` says ``"none"``. For a history too large to
        analyse whole, see :func:`with_maneuver_history`.
    workers : int, optional
        Cores for the screening engine (default all): the whole broad phase
        with ``broad_phase="screen"``, the maneuvered objects only otherwise.

    Returns
    -------
    ProximityReport
    """
    from kizuna.screening import screen
    from kizuna.screening.engine import newest_epoch

    cfg = settings or ProximitySettings()
    timings: dict[str, float] = {}
    t_all = time.perf_counter()
    assets = sorted({int(p) for p in protected})
    if not assets:
        raise ProximityError("no protected assets given: pass NORAD ids, e.g. 25544,49330")
    if len(snapshot) == 0:
        raise ProximityError("the catalog snapshot is empty: load or ingest a catalog first")
    if not (duration_s > 0 and math.isfinite(duration_s)):
        raise ProximityError(f"duration_s must be a positive number, got {duration_s!r}")
    norad = snapshot.norad_id
    index = {int(x): k for k, x in enumerate(norad.tolist())}
    missing = [a for a in assets if a not in index]
    if missing:
        raise ProximityError(f"protected assets not in the catalog: {missing[:10]}"
                             f"{' ...' if len(missing) > 10 else ''}; check the NORAD ids "
                             "(or the catalog date)")
    start = newest_epoch(snapshot) if start is None else as_utc(start)
    W = float(duration_s)
    jd0, fr0 = jd_fr_from_datetime(start)
    sets = snapshot.element_sets
    regimes = {a: limits_class(sets[index[a]].mean_motion_rev_day, sets[index[a]].eccentricity)
               for a in assets}
    lim = {a: cfg.for_asset(a, regimes[a]) for a in assets}

    # 1. broad phase. "screen": screening minima below the largest range against the
    # whole catalog. "elements": only objects with a known maneuver are screened
    # (fly-bys after a maneuver); the pairs that can stay close come from step 2b.
    t0 = time.perf_counter()
    thr = max(v.range_km for v in lim.values())
    man = _merge_maneuvers(maneuvers)
    source = "none"
    span: dict[int, tuple[float, float]] = {}
    if history is not None and cfg.broad_phase == "elements":
        found, span = _history_maneuvers(history, None)
        man = _merge_maneuvers(maneuvers, found)
        source = "history" if maneuvers is None else "history+list"
        timings["maneuvers"] = time.perf_counter() - t0
        t0 = time.perf_counter()
    screened = snapshot
    if cfg.broad_phase == "elements":
        look = max(v.maneuver_lookback_s for v in lim.values())
        burned = set()
        if man is not None:
            t_b = ((man.burn_jd - jd0) + (man.burn_fr - fr0)) * SECONDS_PER_DAY
            burned = {int(x) for x in man.norad_id[(t_b >= -look) & (t_b <= W)]}
        burned &= set(index)
        screened = snapshot.subset(set(assets) | burned) if burned else None
    if screened is not None:
        res = screen(screened, start=start, duration_s=W, threshold_km=thr, primaries=assets,
                     workers=workers)
        ev = res.events
    else:
        ev = ()
    timings["screen"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    minima: dict[tuple[int, int], list[tuple[float, float, float, tuple[float, float, float]]]] = {}
    for e in ev:
        a, o = int(e["primary_norad_id"]), int(e["secondary_norad_id"])
        if a not in lim:  # both protected: the engine puts the lower id first
            a, o = o, a
        if e["miss_km"] > lim[a].range_km:
            continue
        ric = (float(e["radial_km"]), float(e["in_track_km"]), float(e["cross_track_km"]))
        minima.setdefault((a, o), []).append(
            (float(e["t_s"]), float(e["miss_km"]), float(e["rel_speed_km_s"]), ric))
        if o in lim and e["miss_km"] <= lim[o].range_km:  # the other is protected as well
            minima.setdefault((o, a), []).append(
                (float(e["t_s"]), float(e["miss_km"]), float(e["rel_speed_km_s"]),
                 (-ric[0], -ric[1], -ric[2])))
    slow: set[tuple[int, int]] = {p for p, m in minima.items()
                                  if min(x[2] for x in m) < cfg.flyby_speed_km_s}

    # 2. window ends, co-orbital elements, GEO longitudes
    satrecs = snapshot.satrecs()
    sat_arr = SatrecArray(satrecs)
    ends_jd = np.array([jd0, jd0])
    ends_fr = np.array([fr0, fr0 + W / SECONDS_PER_DAY])
    err_end, r_end, v_end = sat_arr.sgp4(ends_jd, ends_fr)
    r_end = np.where((err_end == 0)[..., None], r_end, np.nan)
    v_end = np.where((err_end == 0)[..., None], v_end, np.nan)
    el = _mean_elements(sets)
    co_orb: set[tuple[int, int]] = set()
    geo_cand: set[tuple[int, int]] = set()
    near_sync = np.flatnonzero((el["n"] >= 0.9) & (el["n"] <= 1.1) & (el["e"] < 0.05))
    for a in assets:
        ia = index[a]
        lim_a = lim[a]
        d_end = np.linalg.norm(r_end - r_end[ia], axis=-1)
        with np.errstate(invalid="ignore"):
            near = np.flatnonzero(np.nanmin(np.where(np.isnan(d_end), np.inf, d_end), axis=1)
                                  <= lim_a.range_km)
        for k in near:
            if k != ia:
                slow.add((a, int(norad[k])))
        cosang = np.clip(el["normal"] @ el["normal"][ia], -1.0, 1.0)
        match = ((np.abs(el["a_km"] - el["a_km"][ia]) <= lim_a.co_orbital_da_km)
                 & (np.abs(el["e"] - el["e"][ia]) <= lim_a.co_orbital_de)
                 & (np.degrees(np.arccos(cosang)) <= lim_a.co_orbital_plane_deg))
        match[ia] = False
        for k in np.flatnonzero(match):
            co_orb.add((a, int(norad[k])))
        if regimes[a] == "GEO" and len(near_sync):
            geo_cand.update((a, int(norad[k])) for k in near_sync if k != ia)
    if geo_cand:
        geo_cand = _coarse_longitude_filter(geo_cand, index, satrecs, jd0, fr0, W,
                                            cfg.geo_longitude_tol_deg)
    n_stay = 0
    if cfg.broad_phase == "elements":
        stay = _stay_candidates(assets, index, norad, satrecs, el, r_end, v_end, lim, cfg,
                                jd0, fr0, W)
        n_stay = len(stay)
        slow |= stay
    timings["candidates"] = time.perf_counter() - t0

    # 3. range histories of the candidate pairs, one grid per sample step
    t0 = time.perf_counter()
    grid_pairs = sorted(slow | co_orb | geo_cand)
    out: list[ProximityEvent] = []
    by_step: dict[float, list[tuple[int, int]]] = {}
    for p in grid_pairs:
        by_step.setdefault(lim[p[0]].sample_step_s, []).append(p)
    for step, pairs in sorted(by_step.items()):
        objs = sorted({index[x] for p in pairs for x in p})
        col = {k: c for c, k in enumerate(objs)}
        n_step = max(1, int(math.ceil(W / step - 1e-9)))
        t_s = np.linspace(0.0, W, n_step + 1)
        fr = fr0 + t_s / SECONDS_PER_DAY
        e_g, r_g, v_g = SatrecArray([satrecs[k] for k in objs]).sgp4(np.full_like(fr, jd0), fr)
        bad = e_g != 0
        r_g[bad] = np.nan
        v_g[bad] = np.nan
        for a, o in pairs:
            ia, io = col[index[a]], col[index[o]]
            shared = _identical(sets[index[a]], sets[index[o]])
            out.extend(_pair_events(
                a, o, t_s, r_g[ia], v_g[ia], r_g[io], v_g[io], lim[a], regimes[a], cfg,
                minima.get((a, o), []), shared=shared, co_orbital=(a, o) in co_orb,
                geo=regimes[a] == "GEO",
                refine=(SatrecArray([satrecs[index[a]], satrecs[index[o]]]), jd0, fr0)))
    timings["histories"] = time.perf_counter() - t0

    # 4. fly-bys (fast screening minima outside any history event)
    flybys: list[ProximityEvent] = []
    for (a, o), mins in sorted(minima.items()):
        covered = [(e.start_s, e.end_s) for e in out
                   if e.protected_norad_id == a and e.other_norad_id == o]
        for t, miss, speed, ric in mins:
            if speed < cfg.flyby_speed_km_s or any(s <= t <= f for s, f in covered):
                continue
            half = math.sqrt(max(lim[a].range_km**2 - miss**2, 0.0)) / speed
            flybys.append(ProximityEvent(
                protected_norad_id=a, other_norad_id=o, kind="approach_after_maneuver",
                regime=regimes[a], start_s=max(0.0, t - half), end_s=min(W, t + half),
                min_range_km=miss, min_range_s=t, max_range_km=lim[a].range_km,
                mean_range_km=float("nan"), range_rate_m_s=float("nan"),
                range_history_km=(), rel_speed_at_min_km_s=speed, ric_at_min_km=ric,
                ric_mean_km=ric, ric_half_span_km=(0.0, 0.0, 0.0),
                motion=f"fly-by closing at {speed:.2f} km/s, miss {miss:.2f} km"))

    # 5. maneuvers before the events
    t0 = time.perf_counter()
    if history is not None and cfg.broad_phase == "screen":
        wanted = {e.other_norad_id for e in out} | {e.other_norad_id for e in flybys}
        found, span = _history_maneuvers(history, wanted)
        man = _merge_maneuvers(maneuvers, found)
        source = "history" if maneuvers is None else "history+list"
    elif history is None and maneuvers is not None:
        source = "list"
    if man is not None:
        out = [_with_maneuver(e, man, jd0, fr0, lim[e.protected_norad_id]) for e in out]
        flybys = [_with_maneuver(e, man, jd0, fr0, lim[e.protected_norad_id]) for e in flybys]
    out.extend(e for e in flybys if e.maneuver is not None)
    if span:
        out = [replace(e, maneuver_checked=True)
               if _spans_lookback(span, e, jd0, fr0, lim[e.protected_norad_id]) else e
               for e in out]
    timings["maneuvers"] = timings.get("maneuvers", 0.0) + time.perf_counter() - t0
    out.sort(key=lambda e: (e.protected_norad_id, e.start_s, e.other_norad_id, e.kind))
    timings["total"] = time.perf_counter() - t_all
    involved = set(assets) | {e.other_norad_id for e in out}
    return ProximityReport(
        events=tuple(out), start=start, duration_s=W, protected=tuple(assets),
        asset_limits=lim, asset_regimes=regimes,
        element_sets={k: sets[index[k]] for k in sorted(involved)},
        maneuver_source=source, n_candidate_pairs=len(grid_pairs),
        n_screening_events=len(ev), n_stay_candidates=n_stay,
        n_screened_objects=0 if screened is None else len(screened),
        broad_phase=cfg.broad_phase, timings_s=timings)


def proximity_report(
    snapshot: CatalogSnapshot,
    assets: Iterable[int],
    start: datetime | None = None,
    days: float = 7.0,
    **kwargs: object,
) -> ProximityReport:
    """:func:`detect_proximity` over ``days`` days (the demo's entry point)."""
    return detect_proximity(snapshot, assets, start=start, duration_s=float(days) * 86400.0,
                            **kwargs)  # type: ignore[arg-type]


def with_maneuver_history(
    report: ProximityReport,
    history: ElementHistory | Sequence[ElementSet],
    *,
    source: str = "history",
) -> ProximityReport:
    """``report`` with "a maneuver preceded it" filled from more element-set history.

    Maneuvers are detected in ``history`` for the objects involved in the
    report's events (the other object of each event; sets of other objects
    are ignored) and each event gets the latest one in
    ``[start - maneuver_lookback_s, min_range_s]``, or keeps the maneuver it
    already had if that is later. ``maneuver_checked`` becomes true where this
    history spans the start of the look-back. No new events are found: a
    fly-by after a maneuver (``approach_after_maneuver``) needs the maneuvers
    before the search (``detect_proximity(..., history=...)``).

    This is how a history that is too large to analyse whole (a store holding
    the whole catalog's history) is used: read only the involved objects'
    sets, then call this.

    Parameters
    ----------
    report : ProximityReport
        From :func:`detect_proximity`.
    history : ElementHistory or sequence of ElementSet
        Element sets of any objects, any order.
    source : str
        Label added to ``maneuver_source`` (``"store"`` from the CLI).
    """
    wanted = {e.other_norad_id for e in report.events}
    if not wanted:
        return report
    found, span = _history_maneuvers(history, wanted)
    if found is None:  # no usable set of any involved object: nothing to add
        return report
    man = _merge_maneuvers(found)
    jd0, fr0 = jd_fr_from_datetime(report.start)
    events = []
    for e in report.events:
        lim = report.asset_limits[e.protected_norad_id]
        ref = e.maneuver
        new = _with_maneuver(replace(e, maneuver=None), man, jd0, fr0, lim).maneuver
        if new is not None and (ref is None
                                or new.seconds_before_start < ref.seconds_before_start):
            ref = new
        checked = (e.maneuver_checked or ref is not None
                   or _spans_lookback(span, e, jd0, fr0, lim))
        events.append(replace(e, maneuver=ref, maneuver_checked=checked))
    label = source if report.maneuver_source == "none" else f"{report.maneuver_source}+{source}"
    return replace(report, events=tuple(events), maneuver_source=label)


# ------------------------------------------------------------------ per pair


def _intervals(mask: np.ndarray, t_s: np.ndarray, gap_s: float) -> list[tuple[int, int]]:
    """Sample index runs ``[i0, i1]`` where ``mask`` holds, runs closer than ``gap_s`` merged."""
    if not mask.any():
        return []
    m = mask.astype(np.int8)
    edges = np.diff(np.concatenate([[0], m, [0]]))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1
    runs: list[list[int]] = [[int(starts[0]), int(ends[0])]]
    for s, e in zip(starts[1:], ends[1:], strict=True):
        if t_s[s] - t_s[runs[-1][1]] <= gap_s:
            runs[-1][1] = int(e)
        else:
            runs.append([int(s), int(e)])
    return [(s, e) for s, e in runs]


def _crossing(t_s: np.ndarray, f: np.ndarray, i_in: int, i_out: int) -> float:
    """Time where ``f`` (negative inside) crosses zero between two samples (linear)."""
    if i_out < 0 or i_out >= len(t_s) or not np.isfinite(f[i_out]):
        return float(t_s[i_in])
    fa, fb = f[i_in], f[i_out]
    w = min(max(fa / (fa - fb), 0.0), 1.0) if fa != fb else 0.0
    return float(t_s[i_in] + w * (t_s[i_out] - t_s[i_in]))


def _pair_events(a, o, t_s, ra, va, ro, vo, lim, regime, cfg, mins, *, shared, co_orbital, geo,
                 refine=None):
    """Events of one (asset, other) pair from its range history on the grid."""
    ok = np.isfinite(ra[:, 0]) & np.isfinite(ro[:, 0])
    if not ok.any():
        return []
    d_vec = ro - ra
    d = np.linalg.norm(d_vec, axis=-1)
    dlon = None
    if geo:
        lon_a = np.arctan2(ra[:, 1], ra[:, 0])
        lon_o = np.arctan2(ro[:, 1], ro[:, 0])
        # TEME -> Earth-fixed is a rotation about z common to both objects, so the
        # difference of right ascensions is the difference of longitudes.
        dlon = np.degrees(np.angle(np.exp(1j * (lon_o - lon_a))))
    events = []
    taken = np.zeros(len(t_s), dtype=bool)

    def build(kind, i0, i1, f_edge):
        s = _crossing(t_s, f_edge, i0, i0 - 1)
        e = _crossing(t_s, f_edge, i1, i1 + 1)
        return _summarize(a, o, kind, regime, t_s, d, d_vec, ra, va, vo, i0, i1, s, e, lim, cfg,
                          mins, shared=shared, co_orbital=co_orbital, dlon=dlon, refine=refine)

    inside = ok & (d <= lim.range_km)
    for i0, i1 in _intervals(inside, t_s, lim.gap_s):
        s = _crossing(t_s, d - lim.range_km, i0, i0 - 1)
        e = _crossing(t_s, d - lim.range_km, i1, i1 + 1)
        if e - s + 1e-6 >= min(lim.min_duration_s, t_s[-1]) or shared:
            events.append(build("proximity", i0, i1, d - lim.range_km))
            taken[i0:i1 + 1] = True
    if geo and dlon is not None:
        # In the longitude box and near the asset (an inclined object crosses the
        # asset's longitude far north or south): no gap bridging beyond one step.
        # one edge function for the box (longitude and range, each scaled to its
        # limit): crossing times interpolated on the longitude alone ran outside
        # the samples when the range, not the longitude, closed the box
        f = np.maximum(np.abs(dlon) / cfg.geo_longitude_tol_deg - 1.0,
                       d / lim.co_orbital_range_km - 1.0)
        box = ok & (f <= 0)
        for i0, i1 in _intervals(box, t_s, 1.5 * (t_s[1] - t_s[0]) if len(t_s) > 1 else 0.0):
            s = _crossing(t_s, f, i0, i0 - 1)
            e = _crossing(t_s, f, i1, i1 + 1)
            if taken[i0:i1 + 1].any() or e - s + 1e-6 < min(lim.min_duration_s, t_s[-1]):
                continue
            events.append(build("geo_colocation", i0, i1, f))
            taken[i0:i1 + 1] = True
    if co_orbital:
        f = d - lim.co_orbital_range_km
        for i0, i1 in _intervals(ok & (f <= 0), t_s, lim.gap_s):
            s = _crossing(t_s, f, i0, i0 - 1)
            e = _crossing(t_s, f, i1, i1 + 1)
            if taken[i0:i1 + 1].any() or e - s + 1e-6 < min(lim.min_duration_s, t_s[-1]):
                continue
            events.append(build("co_orbital", i0, i1, f))
    return events


def _summarize(a, o, kind, regime, t_s, d, d_vec, ra, va, vo, i0, i1, s, e, lim, cfg, mins,
               *, shared, co_orbital, dlon, refine=None):
    sl = slice(i0, i1 + 1)
    ts, ds = t_s[sl], d[sl]
    good = np.isfinite(ds)
    ts, ds = ts[good], ds[good]
    k = int(np.argmin(ds))
    t_min, d_min = float(ts[k]), float(ds[k])
    ric_all = to_ric(ra[sl][good], va[sl][good], d_vec[sl][good])
    ric_min = tuple(float(x) for x in ric_all[k])
    dv = vo[sl][good][k] - va[sl][good][k]
    speed = float(np.linalg.norm(dv))
    if refine is not None and len(ts) >= 2 and not shared:
        # every local minimum of the sampled range: a fast pass inside a long event
        # (a GEO longitude box) dips between samples, next to a local minimum
        pad = np.concatenate([[np.inf], ds, [np.inf]])
        loc = np.flatnonzero((ds <= pad[:-2]) & (ds <= pad[2:]))
        for j in loc[np.argsort(ds[loc])][:50]:
            t_min, d_min, speed, ric_min = _refine_minimum(refine, ts, int(j), s, e, t_min,
                                                           d_min, speed, ric_min)
    # an exact screening minimum inside the event beats the grid sample
    for t, miss, sp, ric in mins:
        if s - 1e-6 <= t <= e + 1e-6 and miss < d_min:
            t_min, d_min, speed, ric_min = t, miss, sp, ric
    if shared:
        d_min, t_min = 0.0, max(s, 0.0)
    rate = float(np.polyfit(ts, ds, 1)[0]) * 1000.0 if len(ts) >= 2 else 0.0
    n_hist = max(2, cfg.history_points)
    hist = tuple(float(x) for x in np.interp(np.linspace(s, e, n_hist), ts, ds))
    mean = tuple(float(x) for x in ric_all.mean(axis=0))
    half = tuple(float(x) for x in 0.5 * (ric_all.max(axis=0) - ric_all.min(axis=0)))
    in_track_rate = (float(np.polyfit(ts, ric_all[:, 1], 1)[0]) * 1000.0
                     if len(ts) >= 2 else 0.0)
    motion = describe_motion(d_max=float(ds.max()), d_min=d_min, range_rate_m_s=rate,
                             in_track_rate_m_s=in_track_rate, ric_mean_km=mean,
                             ric_half_span_km=half, rel_speed_km_s=speed,
                             duration_s=e - s, shared=shared, lim=lim, cfg=cfg)
    max_dlon = None
    geo_col = False
    if dlon is not None:
        seg = np.abs(dlon[sl][good])
        max_dlon = float(seg.max())
        geo_col = bool(max_dlon <= cfg.geo_longitude_tol_deg)
    return ProximityEvent(
        protected_norad_id=a, other_norad_id=o, kind=kind, regime=regime, start_s=float(s),
        end_s=float(e), min_range_km=d_min, min_range_s=t_min, max_range_km=float(ds.max()),
        mean_range_km=float(ds.mean()), range_rate_m_s=rate, range_history_km=hist,
        rel_speed_at_min_km_s=speed, ric_at_min_km=ric_min, ric_mean_km=mean,
        ric_half_span_km=half, motion=motion, shared_element_set=shared,
        co_orbital=co_orbital, geo_colocated=geo_col or kind == "geo_colocation",
        max_delta_lon_deg=max_dlon)


def _refine_minimum(refine, ts, k, s, e, t_min, d_min, speed, ric_min):
    """Closest approach near grid sample ``k`` if below ``d_min``: SGP4 on a 1/100-step grid.

    Without screening minima (the ``"elements"`` broad phase) the grid minimum
    can be a step off; 201 samples over +-1 step put it within a hundredth of
    a step, and a parabola through the three best samples closer still.
    """
    sats, jd0, fr0 = refine
    dt = float(ts[1] - ts[0]) if len(ts) > 1 else 0.0
    lo_t, hi_t = max(s, ts[k] - dt), min(e, ts[k] + dt)
    if not hi_t > lo_t:
        return t_min, d_min, speed, ric_min
    tt = np.linspace(lo_t, hi_t, 201)
    err, r, v = sats.sgp4(np.full(tt.shape, jd0), fr0 + tt / SECONDS_PER_DAY)
    if (err != 0).any():
        return t_min, d_min, speed, ric_min
    dd = np.linalg.norm(r[1] - r[0], axis=-1)
    j = int(np.argmin(dd))
    t_best, d_best = float(tt[j]), float(dd[j])
    if 0 < j < len(tt) - 1:
        d1, d2, d3 = dd[j - 1:j + 2]
        curv = d1 - 2.0 * d2 + d3
        if curv > 0:
            off = 0.5 * (d1 - d3) / curv
            t_best = float(tt[j] + off * (tt[1] - tt[0]))
            d_best = float(min(d2, d2 - 0.25 * (d1 - d3) * off))
    if d_best > d_min:
        return t_min, d_min, speed, ric_min
    ric = tuple(float(x) for x in to_ric(r[0, j], v[0, j], r[1, j] - r[0, j]))
    return t_best, d_best, float(np.linalg.norm(v[1, j] - v[0, j])), ric


def describe_motion(*, d_max, d_min, range_rate_m_s, in_track_rate_m_s, ric_mean_km,
                    ric_half_span_km, rel_speed_km_s, duration_s, shared, lim, cfg) -> str:
    """The relative motion in words, from the RIC history of the other object about the asset.

    Tested in this order: shared element set; co-located/docked (range below
    ``docked_range_km`` throughout); fly-by (fast and short); drifting (the
    range changes by more than 0.5 m/s on average); natural-motion
    circumnavigation (an in-track swing of about twice the radial one that
    encloses the asset); leader-follower (an in-track offset larger than
    twice the swings); otherwise station keeping nearby.
    """
    r_mean, i_mean, c_mean = ric_mean_km
    r_half, i_half, c_half = ric_half_span_km
    rpo = " (RPO range)" if d_min <= lim.rpo_range_km else ""
    if shared:
        return "shared element set: docked or co-located (SGP4 range 0 throughout)"
    if d_max <= cfg.docked_range_km:
        return f"co-located/docked: range < {cfg.docked_range_km:g} km throughout " \
               f"(max {d_max:.3f} km)"
    if rel_speed_km_s >= cfg.flyby_speed_km_s and duration_s < lim.min_duration_s:
        return f"fly-by closing at {rel_speed_km_s:.2f} km/s, miss {d_min:.2f} km"
    if abs(range_rate_m_s) >= 0.5 and abs(in_track_rate_m_s) >= 0.5 * abs(range_rate_m_s):
        way = "toward" if range_rate_m_s < 0 else "away"
        return f"drifting {way} at {abs(range_rate_m_s):.2f} m/s (in-track " \
               f"{in_track_rate_m_s:+.2f} m/s), closest {d_min:.2f} km{rpo}"
    if r_half > 0.2 and 1.5 <= i_half / r_half <= 2.6 and abs(i_mean) < i_half:
        return f"natural motion circumnavigation: RIC ellipse radial +-{r_half:.2f} km, " \
               f"in-track +-{i_half:.2f} km ({i_half / r_half:.1f}:1), cross-track " \
               f"+-{c_half:.2f} km{rpo}"
    if abs(i_mean) >= 2.0 * max(r_half, c_half, 1e-9) and abs(i_mean) > i_half:
        side = "leading" if i_mean > 0 else "trailing"
        return f"leader-follower: {side} in-track at {abs(i_mean):.2f} km " \
               f"(radial {r_mean:+.2f}, cross-track {c_mean:+.2f} km){rpo}"
    return f"station keeping nearby: range {d_min:.2f}-{d_max:.2f} km, RIC swing " \
           f"+-{r_half:.2f}/+-{i_half:.2f}/+-{c_half:.2f} km{rpo}"


_J2 = 1.082616e-3  # WGS-72, as SGP4
_RE_KM = 6378.135


def _wrap(x: np.ndarray) -> np.ndarray:
    """Angle wrapped to [-pi, pi)."""
    return (x + math.pi) % _TWO_PI - math.pi


def _stay_candidates(assets, index, norad, satrecs, el, r_end, v_end, lim, cfg, jd0, fr0, W):
    """Pairs (asset, other) that can give a range-history ``proximity`` event.

    Necessary conditions, each with a margin (docs/design/proximity.md):

    1. radial shells ``[a(1-e), a(1+e)]`` (widened by the SGP4 radii at both
       window ends, for decay, and by 20 km + 0.1 % of a) within the range;
    2. orbit planes at their closest over the window (nodes drifting linearly
       at the SGP4 J2 rates) within the angle that allows a minimum inside the
       range slower than ``flyby_speed_km_s``:
       ``sin^2 theta <= (R/r)^2 + ((v_fb + R/r |r'|max) r / h)^2`` (offset
       from the asset's plane and its rate, Kepler), plus 0.15 deg;
    3. on a coarse SGP4 grid (``stay_sample_step_s``): the in-track angle phi
       of the other from the asset, in the asset's plane, is inside the range
       band (``atan(R/(r - R))`` plus oscillation margins) at some sample, and
       the sampled drift rate of phi near it allows two in-range times
       ``min_duration - 2 steps`` apart in the same band. Orbits with large
       eccentricity (oscillation margin > 0.5 rad) skip this test.
    """
    n_rad_s = el["n"] * _TWO_PI / SECONDS_PER_DAY
    ecc, a_km = el["e"], el["a_km"]
    with np.errstate(invalid="ignore"):
        r0 = np.linalg.norm(r_end[:, 0], axis=-1)
        rw = np.linalg.norm(r_end[:, 1], axis=-1)
        m_r = 20.0 + 1e-3 * a_km
        lo = np.fmin(np.fmin(a_km * (1.0 - ecc), r0), rw) - m_r
        hi = np.fmax(np.fmax(a_km * (1.0 + ecc), r0), rw) + m_r
        h0 = np.cross(r_end[:, 0], v_end[:, 0])
        nh = h0 / np.linalg.norm(h0, axis=-1)[:, None]
    inc = np.arccos(np.clip(nh[:, 2], -1.0, 1.0))
    raan = np.arctan2(nh[:, 0], -nh[:, 1])
    nodedot = np.array([s.nodedot for s in satrecs]) / 60.0  # rad/min -> rad/s
    rate = (np.array([s.mdot + s.argpdot for s in satrecs]) / 60.0
            + nodedot * np.cos([s.inclo for s in satrecs]))
    valid = np.isfinite(lo) & np.isfinite(hi) & np.isfinite(inc) & np.isfinite(n_rad_s)
    p_km = a_km * (1.0 - ecc**2)
    h_km2_s = np.sqrt(MU_KM3_S2 * np.maximum(p_km, 1.0))
    vr_max = ecc * np.sqrt(MU_KM3_S2 / np.maximum(p_km, 1.0))  # largest radial speed
    stage1: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for a in assets:
        ia, lim_a = index[a], lim[a]
        R = lim_a.range_km
        keep = valid & (lo <= hi[ia] + R) & (hi >= lo[ia] - R)
        keep[ia] = False
        d0 = _wrap(raan - raan[ia])
        d1 = d0 + (nodedot - nodedot[ia]) * W
        dlo, dhi = np.minimum(d0, d1), np.maximum(d0, d1)
        cross = np.floor(dhi / _TWO_PI) >= np.ceil(dlo / _TWO_PI)
        dmin = np.where(cross, 0.0, np.minimum(np.abs(_wrap(dlo)), np.abs(_wrap(dhi))))
        cos_t = np.cos(inc) * np.cos(inc[ia]) + np.sin(inc) * np.sin(inc[ia]) * np.cos(dmin)
        theta = np.arccos(np.clip(cos_t, -1.0, 1.0))
        # at a minimum inside the range slower than v_fb, the other's offset from the
        # asset's plane c = r sin(theta) sin(u) and its rate
        # sin(theta) (r' sin(u) + (h/r) cos(u)) are at most R and v_fb (Kepler, any e)
        r_lo = np.maximum(np.maximum(lo, lo[ia] - R), 1.0)
        r_hi = np.maximum(np.minimum(hi, hi[ia] + R), r_lo)
        with np.errstate(invalid="ignore", divide="ignore"):
            sin_max = np.sqrt((R / r_lo) ** 2 + ((cfg.flyby_speed_km_s + vr_max * R / r_lo)
                                                 * r_hi / h_km2_s) ** 2)
        theta_max = np.arcsin(np.clip(sin_max, 0.0, 1.0)) + np.radians(0.15)
        keep &= theta <= theta_max
        k = np.flatnonzero(keep)
        stage1[a] = (k, np.minimum(theta_max[k], math.pi / 2))
    objs = sorted({int(x) for k, _ in stage1.values() for x in k} | {index[a] for a in assets})
    if not objs:
        return set()
    col = {k: c for c, k in enumerate(objs)}
    K = max(1, int(math.ceil(W / cfg.stay_sample_step_s - 1e-9)))
    t_s = np.linspace(0.0, W, K + 1)
    h = W / K
    err, r, v = SatrecArray([satrecs[k] for k in objs]).sgp4(
        np.full(K + 1, jd0), fr0 + t_s / SECONDS_PER_DAY)
    bad_obj = (err != 0).any(axis=1)
    out: set[tuple[int, int]] = set()
    for a in assets:
        k_o, theta_max = stage1[a]
        if not len(k_o):
            continue
        ia, lim_a = index[a], lim[a]
        R = lim_a.range_km
        ca = col[ia]
        c_o = np.array([col[int(k)] for k in k_o])
        if bad_obj[ca]:
            out.update((a, int(norad[k])) for k in k_o)
            continue
        ra, va = r[ca], v[ca]
        xa = ra / np.linalg.norm(ra, axis=-1)[:, None]
        na = np.cross(ra, va)
        na /= np.linalg.norm(na, axis=-1)[:, None]
        ya = np.cross(na, xa)
        ro = r[c_o]  # (m, K+1, 3)
        phi = np.arctan2(np.einsum("mkj,kj->mk", ro, ya), np.einsum("mkj,kj->mk", ro, xa))
        pred = ((rate[k_o] - rate[ia]) * h)[:, None]
        step = pred + _wrap(np.diff(phi, axis=1) - pred)  # (m, K)
        sigma = step / h
        e_o = ecc[k_o]
        p_min = np.minimum(p_km[k_o], p_km[ia])
        amp = (2.0 * (e_o + ecc[ia]) + 2.5 * (e_o**2 + ecc[ia] ** 2)
               + 3.0 * _J2 * (_RE_KM / p_min) ** 2 + 2e-4)[:, None]
        eps_r = math.atan(R / max(lo[ia] - R, 1.0))
        th2 = (theta_max**2)[:, None]
        # in the band at sample k: the in-range time is within h/2 of a sample
        big = np.abs(step)
        adj = np.maximum(np.pad(big, ((0, 0), (1, 0))), np.pad(big, ((0, 0), (0, 1))))
        near = np.abs(_wrap(phi)) <= eps_r + 3.0 * amp + 0.5 * th2 + adj
        d_stay = min(lim_a.min_duration_s, W) - 2.0 * lim_a.sample_step_s
        if d_stay > 0:
            s_max = (2.0 * eps_r + 2.0 * amp + th2) / d_stay + 2.0 * amp / h
            # slopes over [t_k - h, t_k + h + d_stay + gap]: intervals k-1 .. k+span
            span = int(math.ceil((d_stay + lim_a.gap_s + 2.0 * lim_a.sample_step_s) / h)) + 1
            pad_lo = np.pad(sigma, ((0, 0), (1, span + 1)), mode="edge")
            win = np.lib.stride_tricks.sliding_window_view(pad_lo, span + 2, axis=1)[:, :K + 1]
            s_lo, s_hi = win.min(axis=-1), win.max(axis=-1)
            slow_k = (s_lo <= s_max) & (s_hi >= -s_max)
        else:
            slow_k = np.ones_like(near)
        ok = (near & slow_k).any(axis=1) | (amp[:, 0] > 0.5) | bad_obj[c_o]
        ok |= ~np.isfinite(phi).all(axis=1)
        out.update((a, int(norad[k])) for k in k_o[ok])
    return out


def _coarse_longitude_filter(pairs, index, satrecs, jd0, fr0, W, tol_deg, step_s=3600.0):
    """Pairs whose longitude difference comes within ``tol_deg`` (+ hourly drift margin)."""
    objs = sorted({index[x] for p in pairs for x in p})
    col = {k: c for c, k in enumerate(objs)}
    t_s = np.linspace(0.0, W, max(1, int(math.ceil(W / step_s))) + 1)
    fr = fr0 + t_s / SECONDS_PER_DAY
    e, r, _ = SatrecArray([satrecs[k] for k in objs]).sgp4(np.full_like(fr, jd0), fr)
    lon = np.where(e == 0, np.arctan2(r[..., 1], r[..., 0]), np.nan)
    # a near-synchronous object moves at most ~5 deg/day against the belt
    # (1.1 rev/day): 0.25 deg per hourly step, so this margin misses nothing.
    margin = 0.25
    keep = set()
    for a, o in pairs:
        dl = np.degrees(np.angle(np.exp(1j * (lon[col[index[o]]] - lon[col[index[a]]]))))
        with np.errstate(invalid="ignore"):
            if np.nanmin(np.abs(dl), initial=np.inf) <= tol_deg + margin:
                keep.add((a, o))
    return keep


# ------------------------------------------------------------------ maneuvers


def _history_maneuvers(history, wanted: set[int] | None
                       ) -> tuple[ManeuverResult | None, dict[int, tuple[float, float]]]:
    """Maneuvers detected in ``history`` (only ``wanted`` objects unless None) and its span.

    The span maps every analysed object (enough usable sets) to the days
    since J2000 of its first and last set. A history with no usable set at
    all gives no maneuvers and no span (a per-object failure, not an error).
    """
    if isinstance(history, ElementHistory):
        hist = history if wanted is None or not len(history) else \
            _subset_history(history, wanted)
    else:
        hist = ElementHistory.from_element_sets(
            [es for es in history if wanted is None or es.norad_id in wanted])
    if not len(hist):
        return None, {}
    try:
        found = detect_maneuvers(hist)
    except ManeuverError:  # every set invalid or a duplicate
        return None, {}
    spans = zip(found.span_norad_id.tolist(), found.span_first_day.tolist(),
                found.span_last_day.tolist(), strict=True)
    return found, {k: (t0, t1) for k, t0, t1 in spans}


def _spans_lookback(span: Mapping[int, tuple[float, float]], e: ProximityEvent, jd0: float,
                    fr0: float, lim: RegimeLimits) -> bool:
    """The other object's analysed history reaches across the start of the event's look-back."""
    got = span.get(e.other_norad_id)
    if got is None:
        return False
    t_look = (jd0 - _J2000_JD) + fr0 + (e.start_s - lim.maneuver_lookback_s) / SECONDS_PER_DAY
    return got[0] <= t_look <= got[1]


def _subset_history(h: ElementHistory, ids: set[int]) -> ElementHistory:
    m = np.isin(h.norad_id, np.fromiter(ids, dtype=np.int64, count=len(ids)))
    return ElementHistory(*(getattr(h, f)[m] for f in h.__dataclass_fields__))


@dataclass(frozen=True)
class _Burns:
    """The maneuver columns this module uses (one or more merged ManeuverResults)."""

    norad_id: np.ndarray
    burn_jd: np.ndarray
    burn_fr: np.ndarray
    delta_v_m_s: np.ndarray
    kind: np.ndarray


def _merge_maneuvers(*results: ManeuverResult | None) -> _Burns | None:
    got = [r for r in results if r is not None]
    if not got:
        return None
    names = ("norad_id", "burn_jd", "burn_fr", "delta_v_m_s", "kind")
    return _Burns(*(np.concatenate([np.asarray(getattr(r, k)) for r in got]) for k in names))


def _with_maneuver(e: ProximityEvent, man: _Burns, jd0: float, fr0: float,
                   lim: RegimeLimits) -> ProximityEvent:
    """The latest maneuver of the other object in [start - lookback, closest approach]."""
    sel = np.flatnonzero(man.norad_id == e.other_norad_id)
    if len(sel) == 0:
        return e
    t = ((man.burn_jd[sel] - jd0) + (man.burn_fr[sel] - fr0)) * SECONDS_PER_DAY
    ok = (t >= e.start_s - lim.maneuver_lookback_s) & (t <= e.min_range_s)
    if not ok.any():
        return e
    k = sel[ok][int(np.argmax(t[ok]))]
    ref = ManeuverRef(norad_id=e.other_norad_id, burn_jd=float(man.burn_jd[k]),
                      burn_fr=float(man.burn_fr[k]), delta_v_m_s=float(man.delta_v_m_s[k]),
                      seconds_before_start=float(e.start_s - t[ok].max()),
                      kind=str(man.kind[k]))
    return replace(e, maneuver=ref, maneuver_checked=True)  # a found burn answers the question
