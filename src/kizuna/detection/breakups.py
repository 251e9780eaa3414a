"""Breakup (fragmentation) detection from two catalog snapshots.

A fragmentation puts new objects in the catalog whose orbits all passed
through one point, the parent's position, at one time. Launches also add
objects, but under a *new* launch number; fragments keep their parent's
launch number (``1982-092`` for Cosmos 1408 debris) with new piece letters.
So the search is:

1. **New objects** are those of the new snapshot absent from the old one.
   Objects named as payloads or rocket bodies (``object_type_from_name``)
   are deployments or new stages, never fragments, and are left out.
2. **Launch grouping**: new objects whose launch number already exists in
   the old snapshot are grouped per launch; their parent candidates are the
   old objects of that launch. New objects of a launch absent from the old
   snapshot are a launch and are never taken as fragments. Objects without
   an international designator (analyst objects) are attached afterwards to
   an event whose breakup point their orbit passes through.
3. **Common point and time** (geometry, not the designator, decides): for a
   candidate parent and time ``t``, every orbit is propagated with SGP4 to
   ``t``. Two measures are scanned over ``t``:

   * *orbit distance* (survives long gaps): the distance of a point of the
     parent's orbit from each fragment's osculating orbit (out-of-plane
     offset and radius mismatch, so along-track position, the part that
     drag and SGP4 errors corrupt first, does not enter). At the breakup
     time one point of the parent orbit lies on every fragment orbit; the
     planes drift apart afterwards through the differential J2 node and
     perigee rates, so the median distance has its minimum there.
   * *conic distance* (long gaps, parents with perigee above 2,000 km): no
     drag there, so size and shape survive too; the distance includes the
     radius mismatch and the differential apsidal drift, not only the nodal
     one, locates the time (low-inclination GTO stages, whose nodal rates
     barely differ between pieces).
   * *position distance* (short gaps only, default under 7 days from the
     fragments' epochs): the median distance of the fragments from the
     parent itself, which collapses to a few km at the breakup and grows
     by about the spread velocity times the time offset.

   The minimum, refined on finer grids, is the breakup time; its 1-sigma
   uncertainty is half the 16-84 % range of the minimum over fragment
   bootstrap resamples.
4. **Acceptance**: at least ``min_fragments`` fragments within the member
   distance, a minimum inside the search window (a minimum at its edge means
   an older event whose pieces were cataloged late), and a clear contrast
   between the minimum and the typical value over the window. For long
   gaps the same scan is also run over the year before the old snapshot:
   late-catalogued pieces of an older breakup meet there, deeper than at
   any time inside the window, and are not reported. A second event of
   the same parent within 3 sigma of a first one is the first one's
   left-over pieces and is merged into it.

The velocity spread comes from the fragment and parent velocities at the
breakup point (SGP4 states for the position method; the osculating conics
evaluated at the point, ``v = sqrt(mu/p) h_hat x (e + r_hat)``, for the orbit
method).

Precision: with fragments seen one to three days later the time is found to
about a minute (simulation, see ``docs/design/breakups.md``). With gaps of
weeks to months only the orbit-distance measure survives; its precision is
set by the differential nodal drift and is of order days.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sgp4.api import Satrec

from kizuna.catalog.elements import ElementSet, object_type_from_name
from kizuna.catalog.snapshot import CatalogSnapshot
from kizuna.errors import KizunaError
from kizuna.propagation.sgp4 import propagate
from kizuna.timelib import iso_utc_ms

__all__ = [
    "BREAKUP_CSV_COLUMNS",
    "Breakup",
    "BreakupInputError",
    "breakups_to_csv",
    "detect_breakups",
    "distance_to_orbit_km",
    "launch_of",
    "orbit_geometry",
]

MU_KM3_S2 = 398600.8  # WGS72, as SGP4 uses
SECONDS_PER_DAY = 86400.0
# Orbit method: out-of-plane offset only (see distance_to_orbit_km).
RADIAL_WEIGHT = 0.0
# "conic" method: drag-free orbits (high perigee) keep their size and shape,
# so the whole conic, not only its plane, must pass through the breakup point.
_METHOD_RADIAL_WEIGHT = {"orbit": RADIAL_WEIGHT, "conic": 1.0}
BREAKUP_CSV_COLUMNS = ("parent_norad_id", "time_utc", "n_fragments", "time_sigma_s", "method",
                       "spread_km", "dv_median_m_s", "dv_p90_m_s", "parent_name", "launch",
                       "fragment_ids")


class BreakupInputError(KizunaError, ValueError):
    """The snapshots or settings given to the breakup detector are unusable."""


@dataclass(frozen=True, slots=True)
class Breakup:
    """One detected fragmentation.

    ``time_jd + time_fr`` is the estimated breakup time (UTC Julian date);
    ``time_sigma_s`` its 1-sigma uncertainty, s. ``method`` is ``"position"``
    (SGP4 positions converge on the parent, short gaps) or ``"orbit"``
    (orbits pass through one point of the parent's orbit, long gaps).
    ``spread_km`` is the median distance of the fragments from the breakup
    point at that time; ``dv_median_m_s`` and ``dv_p90_m_s`` the median and
    90th percentile of the fragments' velocity change.
    """

    parent_norad_id: int
    time_jd: float
    time_fr: float
    time_sigma_s: float
    n_fragments: int
    fragment_ids: tuple[int, ...]
    method: str
    spread_km: float
    dv_median_m_s: float
    dv_p90_m_s: float
    parent_name: str | None = None
    launch: str | None = None

    @property
    def time_utc(self) -> str:
        return str(iso_utc_ms(self.time_jd, self.time_fr))


def launch_of(designator: str | None) -> str | None:
    """Launch part of an international designator: ``"1999-025ABC"`` -> ``"1999-025"``."""
    if not designator or len(designator) < 8 or designator[4] != "-":
        return None
    return designator[:8]


# --------------------------------------------------------------------------
# Kernels


def orbit_geometry(r_km: np.ndarray, v_km_s: np.ndarray,
                   mu_km3_s2: float = MU_KM3_S2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Osculating conic of states ``(..., 3)``: unit normal, eccentricity vector, semi-latus rectum.

    Returns ``h_hat (..., 3)``, ``e_vec (..., 3)`` and ``p_km (...)``.
    """
    h = np.cross(r_km, v_km_s)
    h2 = np.einsum("...i,...i->...", h, h)
    r_hat = r_km / np.linalg.norm(r_km, axis=-1, keepdims=True)
    e_vec = np.cross(v_km_s, h) / mu_km3_s2 - r_hat
    return h / np.sqrt(h2)[..., None], e_vec, h2 / mu_km3_s2


def distance_to_orbit_km(x_km: np.ndarray, h_hat: np.ndarray, e_vec: np.ndarray,
                         p_km: np.ndarray, radial_weight: float = 1.0) -> np.ndarray:
    """Approximate distance of points ``x_km (..., 3)`` from conics (broadcast), km.

    The out-of-plane offset combined with the radius mismatch at the point's
    direction in the orbit plane; exact on the orbit and first-order close to
    it, which is all the detector needs (it looks for near-zero distances).
    ``radial_weight=0`` keeps the out-of-plane offset only: over gaps of
    months drag shrinks the fragments' orbits but hardly turns their planes.
    """
    z = np.einsum("...i,...i->...", x_km, h_hat)
    x_ip = x_km - z[..., None] * h_hat
    rho = np.linalg.norm(x_ip, axis=-1)
    e_cos = np.einsum("...i,...i->...", e_vec, x_ip) / rho
    r_orbit = p_km / (1.0 + e_cos)
    return np.hypot(z, radial_weight * (rho - r_orbit))


def _conic_velocity(x_km: np.ndarray, h_hat: np.ndarray, e_vec: np.ndarray,
                    p_km: np.ndarray) -> np.ndarray:
    """Velocity (km/s) on a conic at the direction of ``x_km`` projected into its plane."""
    z = np.einsum("...i,...i->...", x_km, h_hat)
    x_ip = x_km - z[..., None] * h_hat
    r_hat = x_ip / np.linalg.norm(x_ip, axis=-1, keepdims=True)
    return np.sqrt(MU_KM3_S2 / p_km)[..., None] * np.cross(h_hat, e_vec + r_hat)


# --------------------------------------------------------------------------
# Detection


@dataclass
class _Scan:
    """Result of one time scan for one parent and one set of fragments."""

    t_s: float  # seconds from the reference epoch
    sigma_s: float
    cost_km: float
    contrast: float
    dist_km: np.ndarray  # (K,) distances at the minimum
    dv_m_s: np.ndarray  # (K,)
    at_edge: bool
    u_rad: float = 0.0


def _prop(sats: Sequence[Satrec], jd0: float, t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    _, r, v = propagate(sats, np.full(t_s.shape, jd0), t_s / SECONDS_PER_DAY, workers=1)
    return r, v


def _median_cost(d: np.ndarray, axis: int = -1) -> np.ndarray:
    # NaN (SGP4 failures) must not win the minimum.
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out = np.nanmedian(d, axis=axis)
    return np.where(np.isfinite(out), out, np.inf)


def _bootstrap_sigma(t_s: np.ndarray, d_tk: np.ndarray, rng: np.random.Generator,
                     n_boot: int = 200) -> float:
    """1-sigma of the time of the minimum over fragment resamples, s.

    Half the 16-84 percentile range, not the standard deviation: with few
    pieces a resample now and then lands in a second, distant valley, and
    the standard deviation would follow those rare jumps.
    """
    k = d_tk.shape[1]
    picks = np.empty(n_boot)
    for b in range(n_boot):
        idx = rng.integers(0, k, size=k)
        picks[b] = t_s[int(np.argmin(_median_cost(d_tk[:, idx], axis=1)))]
    lo, hi = np.percentile(picks, [15.87, 84.13])
    return float(0.5 * (hi - lo))


def _orbit_cost(parent: Satrec, frags: Sequence[Satrec], jd0: float, t_s: np.ndarray,
                u_rad: np.ndarray, radial_weight: float
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median orbit distance ``(T, U)``, per-fragment distances ``(T, U, K)``, parent points."""
    rp, vp = _prop([parent], jd0, t_s)
    rf, vf = _prop(frags, jd0, t_s)
    hp, ep, pp = orbit_geometry(rp[0], vp[0])  # (T,3) (T,3) (T,)
    big_p = rp[0] / np.linalg.norm(rp[0], axis=-1, keepdims=True)
    big_q = np.cross(hp, big_p)
    direction = (np.cos(u_rad)[None, :, None] * big_p[:, None, :]
                 + np.sin(u_rad)[None, :, None] * big_q[:, None, :])  # (T,U,3)
    radius = pp[:, None] / (1.0 + np.einsum("tui,ti->tu", direction, ep))
    x = radius[..., None] * direction  # (T,U,3)
    hf, ef, pf = orbit_geometry(np.swapaxes(rf, 0, 1), np.swapaxes(vf, 0, 1))  # (T,K,..)
    d = distance_to_orbit_km(x[:, :, None, :], hf[:, None], ef[:, None], pf[:, None],
                             radial_weight)
    return _median_cost(d), d, x


def _scan_orbit(parent: Satrec, frags: Sequence[Satrec], jd0: float, lo_s: float, hi_s: float,
                rng: np.random.Generator, radial_weight: float = RADIAL_WEIGHT,
                n_time: int = 160) -> _Scan | None:
    """Orbit-distance scan over ``[lo_s, hi_s]`` with two refinement levels."""
    if hi_s <= lo_s:
        return None
    u = np.radians(np.arange(0.0, 360.0, 5.0))
    t = np.linspace(lo_s, hi_s, n_time)
    cost, d, _ = _orbit_cost(parent, frags, jd0, t, u, radial_weight)
    best_u = np.argmin(cost, axis=1)
    per_t = cost[np.arange(len(t)), best_u]
    i = int(np.argmin(per_t))
    if not np.isfinite(per_t[i]):
        return None
    step = t[1] - t[0]
    at_edge = i == 0 or i == len(t) - 1
    contrast = float(np.median(per_t[np.isfinite(per_t)]) / max(per_t[i], 1e-3))
    d_tk = d[np.arange(len(t)), best_u]  # (T,K)
    sigma = _bootstrap_sigma(t, d_tk, rng)
    t_best, u_best = t[i], u[best_u[i]]
    # Refine time and the breakup point's argument of latitude together.
    for span_t, span_u, n_u in ((2 * step, np.radians(6.0), 25), (step / 4, np.radians(1.0), 21)):
        t_f = np.linspace(max(lo_s, t_best - span_t), min(hi_s, t_best + span_t), 41)
        u_f = u_best + np.linspace(-span_u, span_u, n_u)
        cost_f, d_f, _ = _orbit_cost(parent, frags, jd0, t_f, u_f, radial_weight)
        j, k = np.unravel_index(int(np.argmin(cost_f)), cost_f.shape)
        t_best, u_best = t_f[j], u_f[k]
    cost_b, d_b, x_b = _orbit_cost(parent, frags, jd0, np.array([t_best]), np.array([u_best]),
                                    radial_weight)
    rf, vf = _prop(frags, jd0, np.array([t_best]))
    hf, ef, pf = orbit_geometry(rf[:, 0], vf[:, 0])
    rp, vp = _prop([parent], jd0, np.array([t_best]))
    hp, ep, pp = orbit_geometry(rp[0, 0], vp[0, 0])
    x = x_b[0, 0]
    dv = np.linalg.norm(_conic_velocity(x, hf, ef, pf) - _conic_velocity(x, hp, ep, pp), axis=-1)
    # Resolution floor: the final grid step.
    sigma = max(sigma, (t_f[1] - t_f[0]) if len(t_f) > 1 else 0.0)
    return _Scan(float(t_best), sigma, float(cost_b[0, 0]), contrast, d_b[0, 0],
                 dv * 1000.0, at_edge, float(u_best))


def _scan_position(parent: Satrec, frags: Sequence[Satrec], jd0: float, lo_s: float, hi_s: float,
                   rng: np.random.Generator, step_s: float = 60.0) -> _Scan | None:
    """Median distance of the fragments from the parent, over ``[lo_s, hi_s]``."""
    if hi_s <= lo_s:
        return None
    n = int(np.ceil((hi_s - lo_s) / step_s)) + 1
    t = np.linspace(lo_s, hi_s, n)
    rp, _ = _prop([parent], jd0, t)
    rf, _ = _prop(frags, jd0, t)
    d = np.linalg.norm(rf - rp, axis=-1).T  # (T,K)
    per_t = _median_cost(d, axis=1)
    i = int(np.argmin(per_t))
    if not np.isfinite(per_t[i]):
        return None
    at_edge = i == 0 or i == n - 1
    contrast = float(np.median(per_t[np.isfinite(per_t)]) / max(per_t[i], 1e-3))
    lo_i, hi_i = max(0, i - 30), min(n, i + 31)
    sigma = _bootstrap_sigma(t[lo_i:hi_i], d[lo_i:hi_i], rng)
    t_f = np.linspace(max(lo_s, t[i] - step_s), min(hi_s, t[i] + step_s), 121)
    rp, vp = _prop([parent], jd0, t_f)
    rf, vf = _prop(frags, jd0, t_f)
    d_f = np.linalg.norm(rf - rp, axis=-1).T
    j = int(np.argmin(_median_cost(d_f, axis=1)))
    dv = np.linalg.norm(vf[:, j] - vp[0, j], axis=-1) * 1000.0
    sigma = max(sigma, t_f[1] - t_f[0])
    return _Scan(float(t_f[j]), sigma, float(_median_cost(d_f[j])), contrast, d_f[j], dv,
                 at_edge)


def _epoch_s(es: ElementSet, jd0: float) -> float:
    return ((es.epoch_jd - jd0) + es.epoch_fr) * SECONDS_PER_DAY


def _is_fragment_like(es: ElementSet, snapshot: CatalogSnapshot) -> bool:
    obj = snapshot.objects.get(es.norad_id)
    kind = obj.object_type if obj is not None and obj.object_type else None
    if kind is None:
        kind = object_type_from_name(es.name)
    return kind not in ("PAYLOAD", "ROCKET BODY")


def detect_breakups(
    old: CatalogSnapshot,
    new: CatalogSnapshot,
    *,
    min_fragments: int = 3,
    lookback_days: float = 1.0,
    position_max_days: float = 7.0,
    max_scan_fragments: int = 250,
    max_parent_candidates: int = 6,
    orbit_member_km: float = 100.0,
    position_member_km: float = 100.0,
    orbit_max_spread_km: float = 40.0,
    position_max_spread_km: float = 40.0,
    min_contrast: float = 2.0,
    orbit_min_fragments: int = 10,
    orbit_max_sigma_days: float = 30.0,
    max_dv_median_m_s: float = 500.0,
    prior_days: float = 365.0,
    conic_min_perigee_km: float = 2000.0,
    conic_max_spread_km: float = 100.0,
    seed: int = 0,
) -> list[Breakup]:
    """Fragmentation events between two catalog snapshots.

    Parameters
    ----------
    old, new : CatalogSnapshot
        The earlier and the later catalog (same provider preferably).
    min_fragments : int
        Fewest fragments (new objects through the breakup point) to report.
    lookback_days : float
        The breakup is searched from this long before the parent's element
        set in ``old`` to the first epoch of its fragments in ``new``, days.
    position_max_days : float
        Use SGP4 position convergence (precise) when the fragments' first
        epoch is at most this long after the parent's old epoch, days;
        otherwise only the orbit-distance measure.
    max_scan_fragments : int
        Fragments used for the time scan (a seeded random subset of larger
        groups; every new object is still tested for membership).
    max_parent_candidates : int
        Old objects of the launch tried as parent, closest planes first.
    orbit_member_km, position_member_km : float
        A new object is a fragment when its orbit (position) passes this
        close to the breakup point at the breakup time, km.
    orbit_max_spread_km, position_max_spread_km : float
        Largest median fragment distance at the minimum for an event, km.
    min_contrast : float
        Typical median distance over the window divided by the minimum must
        exceed this (no clear convergence: no event).
    orbit_min_fragments : int
        Fewest fragments for an event found by the orbit (long-gap) method.
    orbit_max_sigma_days : float
        Largest time uncertainty of an orbit-method event, days: a flatter
        minimum is not a located breakup.
    max_dv_median_m_s : float
        Largest median velocity change of an event, m/s. Catalogued pieces of
        explosions and collisions leave with tens to a few hundred m/s (NASA
        standard breakup model); a larger median means orbits that merely
        cross, not a common origin.
    prior_days : float
        Long gaps only: an accepted minimum is compared with the same scan
        over up to this long (at most the gap itself) *before* the parent's
        old epoch, days. Late-catalogued pieces of an event older than the
        old snapshot meet deeper there, and are then not reported.
    conic_min_perigee_km : float
        Parents whose perigee altitude is at least this (km) are drag-free
        over months: the long-gap scan then uses the whole conic (plane,
        size and shape, method ``"conic"``) instead of the plane only.
    conic_max_spread_km : float
        Largest median fragment distance at the minimum for a ``"conic"``
        event, km (distances there scale with radii of 10,000-40,000 km).
        Twice this is the ``"conic"`` member distance.
    seed : int
        Seeds the fragment subsets and bootstrap (results are reproducible).

    Returns
    -------
    list of Breakup
        Sorted by time, then parent.

    Raises
    ------
    BreakupInputError
        Empty snapshots or settings out of range.
    """
    if len(old) == 0 or len(new) == 0:
        raise BreakupInputError("both snapshots must hold element sets: pass the older and the "
                                "newer catalog files")
    if min_fragments < 2:
        raise BreakupInputError(f"min_fragments={min_fragments}: use 2 or more (one new object "
                                "has no common point to trace)")
    old_ids = {es.norad_id for es in old.element_sets}
    old_by_launch: dict[str, list[ElementSet]] = {}
    for es in old.element_sets:
        launch = launch_of(es.intl_designator)
        if launch:
            old_by_launch.setdefault(launch, []).append(es)
    groups: dict[str, list[ElementSet]] = {}
    undesignated: list[ElementSet] = []
    for es in new.element_sets:
        if es.norad_id in old_ids or not _is_fragment_like(es, new):
            continue
        launch = launch_of(es.intl_designator)
        if launch is None:
            undesignated.append(es)
        elif launch in old_by_launch:
            groups.setdefault(launch, []).append(es)
        # else: a launch that is new since the old snapshot, not fragments.

    jd0 = float(np.floor(min(es.epoch_jd + es.epoch_fr for es in old.element_sets) - 0.5) + 0.5)
    cfg = _Settings(min_fragments=min_fragments, lookback_days=lookback_days,
                    position_max_days=position_max_days, max_scan_fragments=max_scan_fragments,
                    max_parent_candidates=max_parent_candidates,
                    member_km={"orbit": orbit_member_km, "conic": 2.0 * conic_max_spread_km,
                               "position": position_member_km},
                    max_spread_km={"orbit": orbit_max_spread_km, "conic": conic_max_spread_km,
                                   "position": position_max_spread_km},
                    min_contrast=min_contrast, orbit_min_fragments=orbit_min_fragments,
                    orbit_max_sigma_days=orbit_max_sigma_days,
                    max_dv_median_m_s=max_dv_median_m_s, prior_days=prior_days,
                    conic_min_perigee_km=conic_min_perigee_km)
    found: list[Breakup] = []
    for launch in sorted(groups):
        pool = sorted(groups[launch], key=lambda es: es.norad_id)
        n_pass = 0
        while len(pool) >= min_fragments:
            # Random streams keyed by seed, launch and pass: one group's
            # result does not depend on which other groups exist.
            key = (seed, *launch.encode(), n_pass)
            n_pass += 1
            event = _best_event(launch, pool, old_by_launch[launch], jd0, key, cfg)
            if event is None:
                break
            breakup, members, parent_es, u_rad = event
            member_set = set(members)
            pool = [es for es in pool if es.norad_id not in member_set]
            extra = _attach(undesignated, parent_es, breakup, jd0, u_rad,
                            cfg.member_km[breakup.method])
            if extra:
                extra_set = set(extra)
                undesignated = [es for es in undesignated if es.norad_id not in extra_set]
                ids = tuple(sorted(breakup.fragment_ids + tuple(extra)))
                breakup = Breakup(**{**_as_dict(breakup), "fragment_ids": ids,
                                     "n_fragments": len(ids)})
            same = _same_event(found, breakup)
            if same is None:
                found.append(breakup)
            else:
                # Left-over pieces of an event already found (their orbits
                # drifted past the member distance): add them to it.
                ids = tuple(sorted(found[same].fragment_ids + breakup.fragment_ids))
                found[same] = Breakup(**{**_as_dict(found[same]), "fragment_ids": ids,
                                         "n_fragments": len(ids)})
    found.sort(key=lambda b: (b.time_jd + b.time_fr, b.parent_norad_id))
    return found


def _same_event(found: list[Breakup], b: Breakup, n_sigma: float = 3.0) -> int | None:
    """Index of an event in ``found`` with b's parent and a time within ``n_sigma``."""
    t = b.time_jd + b.time_fr
    for i, f in enumerate(found):
        dt_s = abs((f.time_jd + f.time_fr) - t) * SECONDS_PER_DAY
        if f.parent_norad_id == b.parent_norad_id and dt_s <= n_sigma * max(
                f.time_sigma_s, b.time_sigma_s):
            return i
    return None


def _as_dict(b: Breakup) -> dict[str, object]:
    return {name: getattr(b, name) for name in Breakup.__slots__}


def _name_stem(name: str | None) -> str | None:
    """``"COSMOS 1408 DEB"`` -> ``"COSMOS 1408"``; ``"ATLAS 5 CENTAUR R/B"`` -> ``"ATLAS 5 CENTAUR"``."""
    if not name:
        return None
    text = name.upper().rstrip(" *")
    for marker in (" DEB", " R/B", " COOLANT"):
        cut = text.find(marker)
        if cut > 0:
            text = text[:cut]
    return text.strip() or None


def _debris_stem(pool: list[ElementSet]) -> str | None:
    stems = [_name_stem(es.name) for es in pool if es.name and " DEB" in es.name.upper()]
    if not stems:
        return None
    values, counts = np.unique(stems, return_counts=True)
    return str(values[int(np.argmax(counts))])


def _plane_rank(candidates: list[ElementSet], frags: list[ElementSet], jd0: float,
                t_s: float) -> list[ElementSet]:
    """Candidates ordered by the median angle between their plane and the fragments' planes."""
    t = np.array([t_s])
    rc, vc = _prop([c.to_satrec() for c in candidates], jd0, t)
    rf, vf = _prop([f.to_satrec() for f in frags], jd0, t)
    hc, _, _ = orbit_geometry(rc[:, 0], vc[:, 0])
    hf, _, _ = orbit_geometry(rf[:, 0], vf[:, 0])
    cos = np.clip(hc @ hf.T, -1.0, 1.0)
    score = _median_cost(np.arccos(cos), axis=1)
    # Intact objects first at equal score: they are the usual parents.
    kind = [0 if object_type_from_name(c.name) in ("PAYLOAD", "ROCKET BODY") else 1
            for c in candidates]
    order = sorted(range(len(candidates)), key=lambda i: (score[i], kind[i], candidates[i].norad_id))
    return [candidates[i] for i in order]


@dataclass(frozen=True)
class _Settings:
    min_fragments: int
    lookback_days: float
    position_max_days: float
    max_scan_fragments: int
    max_parent_candidates: int
    member_km: dict[str, float]
    max_spread_km: dict[str, float]
    min_contrast: float
    orbit_min_fragments: int
    orbit_max_sigma_days: float
    max_dv_median_m_s: float
    prior_days: float
    conic_min_perigee_km: float


# Diagnostics: when a list, every parent scan appends (launch, parent id,
# method, scan or None, verdict). For bench/docs; never set by the library.
_TRACE: list | None = None


def _perigee_km(es: ElementSet) -> float:
    n_rad_s = es.mean_motion_rev_day * 2.0 * np.pi / SECONDS_PER_DAY
    a_km = (MU_KM3_S2 / n_rad_s**2) ** (1.0 / 3.0)
    return a_km * (1.0 - es.eccentricity) - 6378.135


def _verdict(scan: _Scan | None, method: str, cfg: _Settings) -> str:
    """``"ok"`` or why the scan is not an event inside the window."""
    if scan is None:
        return "no finite minimum"
    if method != "position":
        if scan.sigma_s > cfg.orbit_max_sigma_days * SECONDS_PER_DAY:
            return "sigma"
    if scan.at_edge:
        return "edge"
    if scan.cost_km > cfg.max_spread_km[method]:
        return "spread"
    if scan.contrast < cfg.min_contrast:
        return "contrast"
    return "ok"


def _best_event(launch, pool, candidates, jd0, key, cfg: _Settings):
    rng = np.random.default_rng(key)
    first_s = min(_epoch_s(es, jd0) for es in pool)
    newest_parent_s = max(_epoch_s(c, jd0) for c in candidates)
    long_gap = first_s - newest_parent_s > cfg.position_max_days * SECONDS_PER_DAY
    if long_gap and len(pool) < max(cfg.min_fragments, cfg.orbit_min_fragments):
        return None
    scan_set = pool
    if len(pool) > cfg.max_scan_fragments:
        idx = np.sort(rng.choice(len(pool), size=cfg.max_scan_fragments, replace=False))
        scan_set = [pool[i] for i in idx]
    ranked = _plane_rank(candidates, scan_set, jd0, first_s)[:cfg.max_parent_candidates]
    # The catalog names pieces after their parent ("COSMOS 1408 DEB"): a
    # candidate so named is tried too and wins ties of geometry.
    stem = _debris_stem(pool)
    named = [c for c in candidates if stem and _name_stem(c.name) == stem]
    named_ids = {c.norad_id for c in named}
    ranked += [c for c in named if c not in ranked][:2]
    scan_sats = [es.to_satrec() for es in scan_set]
    pool_sats = [es.to_satrec() for es in pool]
    accepted = []
    for parent_es in ranked:
        parent = parent_es.to_satrec()
        rng = np.random.default_rng((*key, parent_es.norad_id))
        epoch_s = _epoch_s(parent_es, jd0)
        lo_s = epoch_s - cfg.lookback_days * SECONDS_PER_DAY
        hi_s = first_s
        if hi_s - lo_s <= 0:
            continue
        if hi_s - lo_s <= cfg.position_max_days * SECONDS_PER_DAY:
            method, fewest = "position", cfg.min_fragments
            scan = _scan_position(parent, scan_sats, jd0, lo_s, hi_s, rng)
        else:
            conic = _perigee_km(parent_es) >= cfg.conic_min_perigee_km
            method = "conic" if conic else "orbit"
            fewest = max(cfg.min_fragments, cfg.orbit_min_fragments)
            weight = _METHOD_RADIAL_WEIGHT[method]
            scan = _scan_orbit(parent, scan_sats, jd0, lo_s, hi_s, rng, weight)
        verdict = _verdict(scan, method, cfg)
        if verdict == "ok" and method != "position":
            # Pieces of an older event, catalogued late, can still show a
            # shallow minimum inside the window; their true meeting point is
            # before it. Scan as long before the old epoch (up to prior_days)
            # and keep the event only if the window holds the deeper minimum.
            prior_s = min(hi_s - lo_s, cfg.prior_days * SECONDS_PER_DAY)
            before = _scan_orbit(parent, scan_sats, jd0, lo_s - prior_s, lo_s, rng, weight)
            if before is not None and before.cost_km < scan.cost_km:
                verdict = "before old snapshot"
        if _TRACE is not None:
            _TRACE.append((launch, parent_es.norad_id, method, scan, verdict))
        if verdict != "ok":
            continue
        accepted.append((scan, parent_es, parent, method, cfg.member_km[method], fewest))
    if not accepted:
        return None
    best = min(accepted, key=lambda a: a[0].cost_km / cfg.max_spread_km[a[3]])
    for item in accepted:
        if (item[1].norad_id in named_ids and item[3] == best[3]
                and item[0].cost_km <= 2.0 * best[0].cost_km):
            best = item
            break
    scan, parent_es, parent, method, member, fewest = best
    # Membership over the whole pool at the estimated time.
    t = np.array([scan.t_s])
    d_all, dv_all = _distances_at(parent, pool_sats, jd0, t, method, scan.u_rad)
    inside = d_all <= member
    if int(inside.sum()) < fewest:
        return None
    members = tuple(es.norad_id for es, ok in zip(pool, inside, strict=True) if ok)
    dv = dv_all[inside]
    dv = dv[np.isfinite(dv)]
    if dv.size and float(np.median(dv)) > cfg.max_dv_median_m_s:
        return None
    jd_day = np.floor(jd0 + scan.t_s / SECONDS_PER_DAY - 0.5) + 0.5
    breakup = Breakup(
        parent_norad_id=parent_es.norad_id,
        time_jd=float(jd_day),
        time_fr=float((jd0 - jd_day) + scan.t_s / SECONDS_PER_DAY),
        time_sigma_s=float(scan.sigma_s),
        n_fragments=len(members),
        fragment_ids=members,
        method=method,
        spread_km=float(scan.cost_km),
        dv_median_m_s=float(np.median(dv)) if dv.size else float("nan"),
        dv_p90_m_s=float(np.percentile(dv, 90)) if dv.size else float("nan"),
        parent_name=parent_es.name,
        launch=launch,
    )
    return breakup, members, parent_es, scan.u_rad


def _distances_at(parent: Satrec, sats: Sequence[Satrec], jd0: float, t: np.ndarray,
                  method: str, u_rad: float) -> tuple[np.ndarray, np.ndarray]:
    """Distance of each object from the breakup (km) and its velocity change (m/s)."""
    rp, vp = _prop([parent], jd0, t)
    rf, vf = _prop(sats, jd0, t)
    if method == "position":
        d = np.linalg.norm(rf[:, 0] - rp[0, 0], axis=-1)
        dv = np.linalg.norm(vf[:, 0] - vp[0, 0], axis=-1) * 1000.0
    else:
        hp, ep, pp = orbit_geometry(rp[0, 0], vp[0, 0])
        big_p = rp[0, 0] / np.linalg.norm(rp[0, 0])
        direction = np.cos(u_rad) * big_p + np.sin(u_rad) * np.cross(hp, big_p)
        x = pp / (1.0 + direction @ ep) * direction
        hf, ef, pf = orbit_geometry(rf[:, 0], vf[:, 0])
        d = distance_to_orbit_km(x, hf, ef, pf, _METHOD_RADIAL_WEIGHT[method])
        dv = np.linalg.norm(_conic_velocity(x, hf, ef, pf) - _conic_velocity(x, hp, ep, pp),
                            axis=-1) * 1000.0
    return np.where(np.isfinite(d), d, np.inf), dv


def _attach(undesignated: list[ElementSet], parent_es: ElementSet, breakup: Breakup, jd0: float,
            u_rad: float, member_km: float) -> list[int]:
    """Undesignated new objects whose orbit (or position) passes through this breakup's point."""
    t_s = ((breakup.time_jd - jd0) + breakup.time_fr) * SECONDS_PER_DAY
    # Only objects first seen after the breakup can be its fragments.
    cands = [es for es in undesignated if _epoch_s(es, jd0) > t_s]
    if not cands:
        return []
    d, _ = _distances_at(parent_es.to_satrec(), [es.to_satrec() for es in cands], jd0,
                         np.array([t_s]), breakup.method, u_rad)
    return [es.norad_id for es, di in zip(cands, d, strict=True) if di <= member_km]


def breakups_to_csv(breakups: Sequence[Breakup], out: str | os.PathLike[str] | io.TextIOBase
                    | None = None) -> str:
    """The Breakup CSV of the DESIGN contract; written to ``out`` when given, always returned.

    Columns: ``parent_norad_id, time_utc, n_fragments`` then ``time_sigma_s,
    method, spread_km, dv_median_m_s, dv_p90_m_s, parent_name, launch,
    fragment_ids`` (ids joined by spaces).
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(BREAKUP_CSV_COLUMNS)
    for b in breakups:
        writer.writerow([b.parent_norad_id, b.time_utc, b.n_fragments, f"{b.time_sigma_s:.0f}",
                         b.method, f"{b.spread_km:.2f}", f"{b.dv_median_m_s:.1f}",
                         f"{b.dv_p90_m_s:.1f}", b.parent_name or "", b.launch or "",
                         " ".join(str(i) for i in b.fragment_ids)])
    text = buf.getvalue()
    if out is not None:
        if isinstance(out, io.TextIOBase):
            out.write(text)
        else:
            with open(out, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
    return text
