"""Collision probability for screening events (vectorized, catalog covariances).

For every event of a screen (:data:`kizuna.screening.base.EVENT_DTYPE`):

1. both objects' TEME states at TCA by SGP4 from the snapshot's element
   sets (one ``sgp4_array`` call per object over all its events);
2. each object's 6x6 covariance from its
   :class:`~kizuna.collision.covariance.CovarianceModel` (``models[norad]``,
   else :func:`~kizuna.collision.covariance.default_model` of its orbit
   regime and object type) at propagation age ``TCA - element-set epoch``,
   rotated from RIC to TEME; the two are summed in the encounter plane
   (objects independent);
3. combined hard-body radius from :mod:`kizuna.collision.hbr`;
4. Pc by the vectorized Foster integral (:func:`foster_pc_batch`), or, for
   another ``method``, the registry method per event (slow, for checks).

TEME is inertial enough here: Pc depends only on the relative geometry and
the covariances, all in the same frame.

``pc_method`` per event says what the number is:

* ``"foster"`` (or the method asked for);
* ``"foster+remediated"``: the combined 2x2 covariance had an eigenvalue
  below ``(1e-4 HBR)^2`` and was clipped (CARA's rule);
* ``"none:zero_rel_speed"``: relative speed below :data:`MIN_REL_SPEED_KM_S`;
  no encounter plane exists, ``pc = nan`` (run ``hall3d`` with a window);
* ``"none:sgp4_error"``: SGP4 failed for one object at TCA, ``pc = nan``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import numpy as np
from sgp4.api import Satrec

from kizuna.catalog.elements import object_type_from_name
from kizuna.catalog.regimes import orbit_regimes
from kizuna.catalog.snapshot import CatalogSnapshot
from kizuna.collision.covariance import CovarianceModel, default_model, ric_to_inertial
from kizuna.collision.encounter import CollisionInputError
from kizuna.collision.foster import foster_pc_batch
from kizuna.collision.hbr import hbr_estimate
from kizuna.collision.registry import get_method
from kizuna.timelib import SECONDS_PER_DAY, jd_fr_from_datetime

#: Below this relative speed (km/s, 1 mm/s) the encounter plane is undefined.
MIN_REL_SPEED_KM_S = 1e-6


def object_type_of(snapshot: CatalogSnapshot, norad_id: int, es=None) -> str | None:
    """SATCAT object type of an object: its metadata, else guessed from its name."""
    obj = snapshot.objects.get(int(norad_id))
    if obj is not None and obj.object_type:
        return obj.object_type
    return object_type_from_name(es.name if es is not None else snapshot.name(int(norad_id)))


def model_for(snapshot: CatalogSnapshot, norad_id: int,
              models: Mapping[int, CovarianceModel] | None = None) -> CovarianceModel:
    """Covariance model of one snapshot object: ``models[norad_id]`` else the default."""
    if models and int(norad_id) in models:
        return models[int(norad_id)]
    k = int(np.searchsorted(snapshot.norad_id, norad_id))
    es = snapshot.element_sets[k]
    regime = str(orbit_regimes(np.array([es.mean_motion_rev_day]),
                               np.array([es.eccentricity]))[0])
    return default_model(regime, object_type_of(snapshot, norad_id, es), norad_id=int(norad_id),
                         mean_motion_rev_day=es.mean_motion_rev_day)


def event_states(events: np.ndarray, snapshot: CatalogSnapshot, start: datetime,
                 models: Mapping[int, CovarianceModel] | None = None):
    """TEME states, 6x6 TEME covariances and ages of both objects of every event.

    Returns a dict of arrays: ``r1, v1, r2, v2`` (N, 3) km, km/s;
    ``cov1, cov2`` (N, 6, 6) km^2...; ``age1_days, age2_days`` (N,);
    ``cov1_source, cov2_source`` (N,) ``"history"``/``"default"``;
    ``ok`` (N,) False where SGP4 failed.
    """
    ev = np.asarray(events)
    n = ev.shape[0]
    ids = snapshot.norad_id
    jd0, fr0 = jd_fr_from_datetime(start)
    fr = fr0 + ev["t_s"] / SECONDS_PER_DAY
    jd = np.full(n, jd0)
    out = {k: np.zeros((n, 3)) for k in ("r1", "v1", "r2", "v2")}
    out.update(cov1=np.zeros((n, 6, 6)), cov2=np.zeros((n, 6, 6)),
               age1_days=np.zeros(n), age2_days=np.zeros(n),
               cov1_source=np.empty(n, dtype=object), cov2_source=np.empty(n, dtype=object),
               ok=np.ones(n, dtype=bool))
    # Rows of (event index, side) per object, so each object is propagated once.
    side_ids = np.concatenate([ev["primary_norad_id"], ev["secondary_norad_id"]])
    rows = np.concatenate([np.arange(n), np.arange(n)])
    side = np.repeat([1, 2], n)
    order = np.argsort(side_ids, kind="stable")
    uniq, first = np.unique(side_ids[order], return_index=True)
    bounds = np.append(first, order.size)
    pos = np.searchsorted(ids, uniq)
    missing = (pos >= ids.size) | (ids[np.minimum(pos, ids.size - 1)] != uniq)
    if np.any(missing):
        raise CollisionInputError(
            f"events name objects not in the snapshot (e.g. {int(uniq[missing][0])}); "
            "pass the snapshot that was screened")
    for u, p, a, b in zip(uniq, pos, bounds[:-1], bounds[1:], strict=True):
        sel = order[a:b]
        ev_idx, sd = rows[sel], side[sel]
        es = snapshot.element_sets[int(p)]
        sat: Satrec = es.to_satrec()
        err, r, v = sat.sgp4_array(jd[ev_idx], fr[ev_idx])
        age = (jd[ev_idx] - es.epoch_jd) + (fr[ev_idx] - es.epoch_fr)
        model = model_for(snapshot, int(u), models)
        cov = ric_to_inertial(model.covariance_ric(age), r, v)
        for s in (1, 2):
            m = sd == s
            k = ev_idx[m]
            out[f"r{s}"][k] = r[m]
            out[f"v{s}"][k] = v[m]
            out[f"cov{s}"][k] = cov[m]
            out[f"age{s}_days"][k] = age[m]
            out[f"cov{s}_source"][k] = model.source
            out["ok"][k] &= err[m] == 0
    return out


def pc_for_events(events: np.ndarray, snapshot: CatalogSnapshot, start: datetime, *,
                  models: Mapping[int, CovarianceModel] | None = None, method: str = "foster",
                  hbr_overrides: Mapping[int, float] | None = None):
    """Pc of every screening event.

    Parameters
    ----------
    events : structured array of :data:`~kizuna.screening.base.EVENT_DTYPE`
        ``t_s`` is seconds from ``start``.
    snapshot : CatalogSnapshot
        The catalog that was screened (element sets by ``norad_id``).
    start : datetime
        Aware UTC start of the screening window.
    models : mapping norad_id -> CovarianceModel, optional
        Fitted models (e.g. :func:`kizuna.store.covariances` loads); objects
        not in it get the default model of their regime and type.
    method : str
        ``"foster"`` (vectorized, default) or any registry name (per event).
    hbr_overrides : mapping norad_id -> radius (m), optional
        Per-object radii taking precedence over the CARA table.

    Returns
    -------
    pc : (N,) float64
        Probability of collision; ``nan`` where undefined (see ``pc_method``).
    pc_method : (N,) str
        What produced each value (module docstring).
    details : dict of (N,) arrays
        ``hbr_m``, ``age1_days``, ``age2_days``, ``cov1_source``,
        ``cov2_source``, ``rel_speed_km_s`` and ``miss_km`` (recomputed from
        the SGP4 states; equal to the event's within the TCA refinement).
    """
    ev = np.asarray(events)
    n = ev.shape[0]
    pc = np.full(n, np.nan)
    pc_method = np.full(n, method, dtype=object)
    if n == 0:
        return pc, pc_method.astype(str), {}
    st = event_states(ev, snapshot, start, models)
    # Combined HBR per event (Baars & Hall), from per-object estimates.
    ids = np.unique(np.concatenate([ev["primary_norad_id"], ev["secondary_norad_id"]]))
    est = {int(i): hbr_estimate(int(i), object_type_of(snapshot, int(i)),
                                dict(hbr_overrides) if hbr_overrides else None) for i in ids}
    rad = np.array([est[int(i)].hbr_m for i in ids])
    sig = np.array([est[int(i)].sigma_m for i in ids])
    a = np.searchsorted(ids, ev["primary_norad_id"])
    b = np.searchsorted(ids, ev["secondary_norad_id"])
    hbr_m = np.sqrt((rad[a] + rad[b]) ** 2 + sig[a] ** 2 + sig[b] ** 2)
    dv = st["v2"] - st["v1"]
    speed = np.linalg.norm(dv, axis=1)
    miss = np.linalg.norm(st["r2"] - st["r1"], axis=1)
    good = st["ok"] & (speed >= MIN_REL_SPEED_KM_S)
    pc_method[~st["ok"]] = "none:sgp4_error"
    pc_method[st["ok"] & (speed < MIN_REL_SPEED_KM_S)] = "none:zero_rel_speed"
    k = np.flatnonzero(good)
    if k.size:
        if method == "foster":
            vals, rem = foster_pc_batch(st["r1"][k], st["v1"][k], st["cov1"][k], st["r2"][k],
                                        st["v2"][k], st["cov2"][k], hbr_m[k] / 1e3)
            pc[k] = vals
            pc_method[k[rem]] = "foster+remediated"
        else:
            fn = get_method(method)
            for i in k:
                res = fn(st["r1"][i], st["v1"][i], st["cov1"][i], st["r2"][i], st["v2"][i],
                         st["cov2"][i], hbr_m[i] / 1e3)
                pc[i] = res.pc
                if res.covariance_remediated:
                    pc_method[i] = method + "+remediated"
    details = {"hbr_m": hbr_m, "age1_days": st["age1_days"], "age2_days": st["age2_days"],
               "cov1_source": st["cov1_source"].astype(str),
               "cov2_source": st["cov2_source"].astype(str),
               "rel_speed_km_s": speed, "miss_km": miss}
    return pc, pc_method.astype(str), details
