"""CCSDS CDM for one screening event (SGP4 states, model covariances, Kizuna's Pc).

:func:`cdm_for_event` turns one :data:`~kizuna.screening.base.EVENT_DTYPE`
record of a screen into a :class:`~kizuna.ccsds.cdm.Cdm` that
:func:`~kizuna.ccsds.cdm.format_cdm` writes as KVN or XML.

Content
-------
* **States.** Both objects' SGP4 states at TCA (TEME), rotated to the GCRS
  with :func:`kizuna.frames.teme_to_gcrs` and written with
  ``REF_FRAME = GCRF``. Kizuna's GCRS is skyfield's (IAU 2000/2006 with the
  frame bias), i.e. the GCRF axes; ``EME2000`` would be off by the 23 mas frame
  bias, so GCRF is the honest label. Both CDM 1.0 and 2.0 allow it, and
  :func:`~kizuna.ccsds.cdm.cdm_states_inertial` reads it back unrotated.
* **Covariances.** Each object's 6x6 from its
  :class:`~kizuna.collision.covariance.CovarianceModel` (fitted model from
  ``models``, else :func:`~kizuna.collision.covariance.default_model`) at age
  TCA minus element-set epoch, in RIC. Kizuna's RIC axes (R = r/|r|,
  C = r x v/|r x v|, I = C x R) are the CDM's RTN axes, so the matrix is
  written as it is, converted km -> m. ``COVARIANCE_METHOD`` is ``CALCULATED``
  for a model fitted to the object's own history, ``DEFAULT`` otherwise.
* **Relative data.** ``MISS_DISTANCE``, ``RELATIVE_SPEED`` and the relative
  position/velocity (object 2 minus object 1) in object 1's RTN axes, all from
  the written GCRF states, so the message is self-consistent.
* **Pc.** ``COLLISION_PROBABILITY`` is Kizuna's Pc (given, or computed with
  :func:`~kizuna.collision.screening_pc.pc_for_events`), with the CCSDS method
  name (``FOSTER-1992`` ...). The combined hard-body radius goes in a relative
  metadata comment ``HBR = <m> [m]`` (CARA's convention; CDM 1.0 has no HBR
  keyword), which :attr:`~kizuna.ccsds.cdm.Cdm.hbr_m_from_comment` and
  :func:`~kizuna.collision.pc_cdm.pc_from_cdm` read back, so recomputing the Pc
  from the message gives the written value.
* **Version.** ``1.0`` when both objects have a name and an international
  designator (everything CDM 1.0 makes mandatory is then present, and
  ``ccsds-ndm`` reads the message); else ``2.0``, which leaves them optional.
* **Determinism.** ``MESSAGE_ID`` is ``<primary>_<secondary>_<TCA compact>``
  and ``CREATION_DATE`` is an argument, so identical inputs give
  byte-identical text.

The TCA is written to the microsecond; the states are computed at the exact
``start + t_s`` of the event (at most 0.5 us apart: 4 mm along each track,
which leaves the encounter-plane geometry and so the Pc unchanged).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from kizuna.catalog.snapshot import CatalogSnapshot
from kizuna.ccsds.cdm import Cdm, CdmObject
from kizuna.collision.covariance import CovarianceModel
from kizuna.collision.encounter import CollisionInputError
from kizuna.collision.foster import foster_pc_batch
from kizuna.collision.screening_pc import (
    MIN_REL_SPEED_KM_S,
    event_states,
    model_for,
    object_type_of,
    pc_for_events,
)
from kizuna.frames import ric_basis, teme_to_gcrs
from kizuna.screening.base import EVENT_DTYPE
from kizuna.timelib import SECONDS_PER_DAY, datetime_from_jd_fr, jd_fr_from_datetime

__all__ = ["CCSDS_PC_METHODS", "REF_FRAME", "cdm_for_event", "cdm_message_id"]

#: Frame of the written states (see the module docstring).
REF_FRAME = "GCRF"

#: Kizuna method name -> CCSDS ``COLLISION_PROBABILITY_METHOD`` (SANA list).
#: Methods without a CCSDS name are written without the keyword, named in a comment.
CCSDS_PC_METHODS = {
    "foster": "FOSTER-1992",
    "chan": "CHAN-1997",
    "alfano2005": "ALFANO-2005",
    "max_alfriend": "ALFRIEND-1999",
}

# CDM 1.0 OBJECT_TYPE values; anything else is written as OTHER.
_OBJECT_TYPES = ("PAYLOAD", "ROCKET BODY", "DEBRIS", "UNKNOWN", "OTHER")


def _event_array(event_row: Any) -> np.ndarray:
    """One-element EVENT_DTYPE array from a record, a 1-element array or a mapping."""
    names = EVENT_DTYPE.names
    assert names is not None
    if isinstance(event_row, Mapping):
        missing = [n for n in names if n not in event_row]
        if missing:
            raise CollisionInputError(f"event_row lacks {', '.join(missing)}; pass a row of "
                                      "ScreeningResult.events (EVENT_DTYPE)")
        values = tuple(event_row[n] for n in names)
    else:
        row = np.asarray(event_row)
        if row.dtype.names is None or any(n not in row.dtype.names for n in names):
            raise CollisionInputError("event_row must be a row of ScreeningResult.events "
                                      "(EVENT_DTYPE)")
        if row.size != 1:
            raise CollisionInputError(f"event_row must be one event, got {row.size}")
        row = row.reshape(())
        values = tuple(row[n] for n in names)
    return np.array([values], dtype=EVENT_DTYPE)


def cdm_message_id(primary: int, secondary: int, tca: datetime) -> str:
    """``<primary>_<secondary>_<YYYYmmddTHHMMSS.ffffff>Z``: unique per event, file-name safe."""
    return f"{int(primary)}_{int(secondary)}_{tca.astimezone(UTC):%Y%m%dT%H%M%S.%f}Z"


def _pc_text(method: str) -> tuple[str | None, list[str]]:
    """CCSDS method name (or None) and comments describing a Kizuna ``pc_method``."""
    base, _, flag = method.partition("+")
    comments = []
    if flag == "remediated":
        comments.append("Pc: combined covariance remediated (eigenvalues below (1e-4 HBR)^2 "
                        "raised to it)")
    name = CCSDS_PC_METHODS.get(base)
    if name is None:
        comments.append(f"Pc method: {method} (Kizuna)")
    return name, comments


def _object(snapshot: CatalogSnapshot, norad_id: int, r_km: np.ndarray, v_km_s: np.ndarray,
            cov_rtn_m2: np.ndarray, model: CovarianceModel, age_days: float) -> CdmObject:
    """One CDM object; name and international designator left out when unknown (CDM 2.0)."""
    k = int(np.searchsorted(snapshot.norad_id, norad_id))
    es = snapshot.element_sets[k]
    meta = snapshot.objects.get(int(norad_id))
    intl = (meta.intl_designator if meta is not None and meta.intl_designator
            else es.intl_designator)
    otype = (object_type_of(snapshot, norad_id, es) or "UNKNOWN").strip().upper()
    if otype not in _OBJECT_TYPES:
        otype = "OTHER"
    epoch = datetime_from_jd_fr(es.epoch_jd, es.epoch_fr)
    return CdmObject(
        object_designator=str(int(norad_id)),
        ref_frame=REF_FRAME,
        r_km=r_km,
        v_km_s=v_km_s,
        covariance_rtn=cov_rtn_m2,
        catalog_name="SATCAT",
        object_name=snapshot.name(int(norad_id)) or None,
        international_designator=intl or None,
        object_type=otype,
        ephemeris_name="NONE",
        covariance_method="CALCULATED" if model.source == "history" else "DEFAULT",
        maneuverable="N/A",
        orbit_center="EARTH",
        comments={
            "metadata": (f"State: SGP4 from the element set of epoch {epoch:%Y-%m-%dT%H:%M:%S.%f}"
                         f", TEME rotated to {REF_FRAME}",),
            "covariance": (f"Covariance: Kizuna element-set error model ({model.source}) at age "
                           f"{age_days:.6f} d; RIC axes = RTN axes",),
        },
    )


def cdm_for_event(
    event_row: Any,
    snapshot: CatalogSnapshot,
    start: datetime,
    *,
    models: Mapping[int, CovarianceModel] | None = None,
    pc: float | None = None,
    pc_method: str | None = None,
    originator: str = "KIZUNA",
    creation_date: datetime,
    hbr_m: float | None = None,
    duration_s: float | None = None,
    threshold_km: float | None = None,
) -> Cdm:
    """CCSDS CDM of one screening event (see the module docstring for the content).

    Parameters
    ----------
    event_row : EVENT_DTYPE record (or mapping with its fields)
        One row of :attr:`ScreeningResult.events`; ``t_s`` is seconds from ``start``.
    snapshot : CatalogSnapshot
        The catalog that was screened.
    start : datetime
        Aware UTC start of the screening window.
    models : mapping norad_id -> CovarianceModel, optional
        Fitted covariance models; other objects get the default model.
    pc, pc_method : float, str, optional
        Pc already computed for this event (e.g. by ``pc_for_events`` in the
        screen) and its ``pc_method``; default: computed here (Foster). A NaN
        Pc is left out of the message, with the reason in a comment.
    originator : str
        ``ORIGINATOR``.
    creation_date : datetime
        Aware UTC ``CREATION_DATE`` (explicit, so that output is reproducible).
    hbr_m : float, optional
        Combined hard-body radius, m; default from the HBR table (as
        ``pc_for_events``). Used for the computed Pc and the ``HBR`` comment.
    duration_s, threshold_km : float, optional
        Screening window length (s) and distance threshold (km); when given,
        ``STOP_SCREEN_PERIOD`` and a spherical screening volume (RTN ellipsoid
        with equal semi-axes) are written.

    Returns
    -------
    Cdm
        Version ``1.0`` or ``2.0`` (module docstring).

    Raises
    ------
    kizuna.collision.encounter.CollisionInputError
        Bad event row, object not in the snapshot, SGP4 failure at TCA, naive
        ``creation_date`` or a non-positive ``hbr_m``.
    """
    if not isinstance(creation_date, datetime) or creation_date.tzinfo is None:
        raise CollisionInputError("creation_date must be an aware UTC datetime "
                                  "(e.g. datetime.now(UTC)); it is written into the CDM")
    if hbr_m is not None and not (math.isfinite(hbr_m) and hbr_m > 0):
        raise CollisionInputError(f"hbr_m must be a positive number of metres; got {hbr_m}")
    ev = _event_array(event_row)
    e = ev[0]
    p, s = int(e["primary_norad_id"]), int(e["secondary_norad_id"])
    st = event_states(ev, snapshot, start, models)
    if not st["ok"][0]:
        raise CollisionInputError(f"SGP4 failed at TCA for object {p} or {s}; "
                                  "no CDM can be made for this event")
    jd0, fr0 = jd_fr_from_datetime(start)
    fr = fr0 + float(e["t_s"]) / SECONDS_PER_DAY
    r1, v1 = teme_to_gcrs(st["r1"][0], st["v1"][0], jd0, fr)
    r2, v2 = teme_to_gcrs(st["r2"][0], st["v2"][0], jd0, fr)
    assert v1 is not None and v2 is not None

    # Pc and combined HBR the way the screen computes them.
    if hbr_m is None:
        pcs, methods, details = pc_for_events(ev, snapshot, start, models=models)
        hbr = float(details["hbr_m"][0])
        if pc is None:
            pc, pc_method = float(pcs[0]), str(methods[0])
    else:
        hbr = float(hbr_m)
        if pc is None:
            pc, pc_method = _foster_one(st, hbr)
    pc = float(pc)
    pc_method = pc_method or "foster"

    m1 = model_for(snapshot, p, models)
    m2 = model_for(snapshot, s, models)
    age1, age2 = float(st["age1_days"][0]), float(st["age2_days"][0])
    cov1 = _lower_symmetric(m1.covariance_ric(age1) * 1e6)  # km^2... -> m^2...; RIC = RTN
    cov2 = _lower_symmetric(m2.covariance_ric(age2) * 1e6)
    tca = start.astimezone(UTC) + timedelta(seconds=float(e["t_s"]))

    basis = ric_basis(r1, v1)
    dr_m = basis @ (r2 - r1) * 1e3
    dv_m_s = basis @ (v2 - v1) * 1e3
    obj1 = _object(snapshot, p, r1, v1, cov1, m1, age1)
    obj2 = _object(snapshot, s, r2, v2, cov2, m2, age2)
    # CDM 1.0 needs OBJECT_NAME and INTERNATIONAL_DESIGNATOR; 2.0 does not.
    version_1 = all(o.object_name and o.international_designator for o in (obj1, obj2))

    relative_comments = [f"HBR = {hbr!r} [m]"]
    if math.isnan(pc):
        relative_comments.append(f"Pc not computed: {pc_method}")
        ccsds_method = None
    else:
        ccsds_method, extra = _pc_text(pc_method)
        relative_comments += extra
    header_comments = ("Kizuna screening event: SGP4 states and element-set covariance "
                       "models at TCA",)
    screen: dict[str, Any] = {}
    if duration_s is not None:
        screen["stop_screen_period"] = start.astimezone(UTC) + timedelta(seconds=duration_s)
    if threshold_km is not None:
        radius_m = float(threshold_km) * 1e3
        screen.update(screen_volume_frame="RTN", screen_volume_shape="ELLIPSOID",
                      screen_volume_x_m=radius_m, screen_volume_y_m=radius_m,
                      screen_volume_z_m=radius_m)
    return Cdm(
        version="1.0" if version_1 else "2.0",
        creation_date=creation_date.astimezone(UTC),
        originator=originator,
        message_id=cdm_message_id(p, s, tca),
        tca=tca,
        miss_distance_m=float(np.linalg.norm(r2 - r1)) * 1e3,
        relative_speed_m_s=float(np.linalg.norm(v2 - v1)) * 1e3,
        relative_position_r_m=float(dr_m[0]),
        relative_position_t_m=float(dr_m[1]),
        relative_position_n_m=float(dr_m[2]),
        relative_velocity_r_m_s=float(dv_m_s[0]),
        relative_velocity_t_m_s=float(dv_m_s[1]),
        relative_velocity_n_m_s=float(dv_m_s[2]),
        start_screen_period=start.astimezone(UTC),
        collision_probability=None if math.isnan(pc) else pc,
        collision_probability_method=ccsds_method,
        object1=obj1,
        object2=obj2,
        comments={"header": header_comments, "relative": tuple(relative_comments)},
        **screen,
    )


def _lower_symmetric(cov: np.ndarray) -> np.ndarray:
    """Mirror the lower triangle (what a CDM holds), so the message reads back equal."""
    return np.tril(cov) + np.tril(cov, -1).T


def _foster_one(st: Mapping[str, np.ndarray], hbr_m: float) -> tuple[float, str]:
    """Vectorized Foster for one event with a given combined HBR (as ``pc_for_events``)."""
    speed = float(np.linalg.norm(st["v2"][0] - st["v1"][0]))
    if speed < MIN_REL_SPEED_KM_S:
        return float("nan"), "none:zero_rel_speed"
    vals, rem = foster_pc_batch(st["r1"], st["v1"], st["cov1"], st["r2"], st["v2"], st["cov2"],
                                np.array([hbr_m / 1e3]))
    return float(vals[0]), "foster+remediated" if bool(rem[0]) else "foster"
