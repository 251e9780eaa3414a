"""Per-object covariance models in the store: fit from stored history, save, load.

Keyword-only data access, like :mod:`kizuna.store.repository`. One row per
object in ``object_covariances``; a new fit replaces the old row.

Releasability: a model is derived from element sets, so it may be shown only
to the nations that may see *every* set it was fitted from. :func:`fit_store_covariances`
records that intersection; loads filter on it like every other read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kizuna.catalog.elements import ElementSet
from kizuna.collision.covariance import (
    DEFAULT_AGE_BINS_DAYS,
    DEFAULT_WINDOW_DAYS,
    CovarianceModel,
    model_for_history,
    recent_sets,
)
from kizuna.errors import StoreError
from kizuna.store.models import element_sets, object_covariances, space_objects
from kizuna.store.releasability import ALL, normalize_releasability
from kizuna.store.repository import (
    _ES_FIELDS,
    _bind_processor,
    _bulk_insert,
    _chunks,
    _element_set,
    _in_ids,
    _visible,
    _where,
)

_AXES = ("radial", "in_track", "cross_track")
_COEF_COLUMNS = tuple(f"{axis}_{name}" for axis in _AXES
                      for name in ("a_km", "b_km_day", "c_km_day2"))
_COLUMNS = ("norad_id", "source", "regime", "object_type", *_COEF_COLUMNS, "model_json",
            "n_pairs", "n_element_sets", "age_min_days", "age_max_days", "epoch_start",
            "epoch_end", "fitted_at", "provenance", "releasable_to")


def _naive_utc(dt: datetime | None) -> datetime | None:
    return None if dt is None else dt.astimezone(UTC).replace(tzinfo=None)


def _aware(dt: datetime | None) -> datetime | None:
    return None if dt is None else dt.replace(tzinfo=UTC)


def intersect_releasability(values: Iterable[str]) -> str:
    """Nations allowed by every value: ``"ALL"`` is neutral, disjoint lists give ``""``.

    An empty result means no partner may see the derived record (only
    unfiltered, trusted readers).
    """
    allowed: frozenset[str] | None = None
    for value in values:
        if value == ALL:
            continue
        codes = frozenset(value.split(","))
        allowed = codes if allowed is None else allowed & codes
    if allowed is None:
        return ALL
    return ",".join(sorted(allowed))


def save_covariance_models(
    *,
    session: Session,
    models: Sequence[CovarianceModel],
    releasable_to: str | Sequence[str] = ALL,
    fitted_at: datetime | None = None,
) -> int:
    """Insert or replace the model of each object; returns the number of rows written.

    Parameters
    ----------
    models : sequence of CovarianceModel
        At most one per ``norad_id``.
    releasable_to : str or sequence of str
        Releasability of every model given (``"ALL"``, ``"JPN,USA"``), or one
        value per model. ``""`` (from :func:`intersect_releasability`) is kept
        as "no partner".
    fitted_at : datetime, optional
        Aware UTC time of the fit; default now.
    """
    ids = [m.norad_id for m in models]
    if len(set(ids)) != len(ids):
        raise StoreError("several models for one norad_id; save one model per object")
    if isinstance(releasable_to, str):
        rel = [releasable_to] * len(models)
    else:
        rel = list(releasable_to)
        if len(rel) != len(models):
            raise StoreError(f"{len(rel)} releasability values for {len(models)} models")
    rel = [normalize_releasability(r) if r else "" for r in rel]
    when = _naive_utc(fitted_at or datetime.now(UTC))
    to_time = _bind_processor(session, object_covariances.c.fitted_at)
    rows = []
    for model, r in zip(models, rel, strict=True):
        pos = [float(x) for row in model.coefficients[:3] for x in row]
        payload = {
            "version": 1,
            "velocity_coefficients": [list(row) for row in model.coefficients[3:]],
            "correlation": [list(row) for row in model.correlation],
        }
        rows.append((
            int(model.norad_id), model.source, model.regime, model.object_type, *pos,
            json.dumps(payload), int(model.n_pairs), int(model.n_element_sets),
            float(model.age_min_days), float(model.age_max_days),
            to_time(_naive_utc(model.epoch_start)), to_time(_naive_utc(model.epoch_end)),
            to_time(when), json.dumps(model.provenance, sort_keys=True, default=str), r,
        ))
    if not rows:
        return 0

    def on_conflict(stmt: Any) -> Any:
        return stmt.on_conflict_do_update(
            index_elements=["norad_id"],
            set_={c: getattr(stmt.excluded, c) for c in _COLUMNS if c != "norad_id"},
        )

    return _bulk_insert(session, object_covariances, _COLUMNS, rows, on_conflict=on_conflict)


def _model(row: Any) -> CovarianceModel:
    payload = json.loads(row.model_json)
    pos = [getattr(row, c) for c in _COEF_COLUMNS]
    coefficients = tuple(tuple(pos[3 * k: 3 * k + 3]) for k in range(3)) + tuple(
        tuple(v) for v in payload["velocity_coefficients"])
    return CovarianceModel(
        norad_id=int(row.norad_id),
        coefficients=coefficients,
        correlation=tuple(tuple(v) for v in payload["correlation"]),
        source=row.source,
        n_pairs=row.n_pairs,
        n_element_sets=row.n_element_sets,
        age_min_days=row.age_min_days,
        age_max_days=row.age_max_days,
        epoch_start=_aware(row.epoch_start),
        epoch_end=_aware(row.epoch_end),
        regime=row.regime,
        object_type=row.object_type,
        provenance={**json.loads(row.provenance), "fitted_at": _aware(row.fitted_at).isoformat()},
    )


def load_covariance_models(
    *,
    session: Session,
    norad_ids: Iterable[int] | None = None,
    releasable_to: str | None = None,
) -> dict[int, CovarianceModel]:
    """Stored models by ``norad_id`` (those visible to ``releasable_to``; None: all).

    ``provenance["fitted_at"]`` carries the fit time (ISO 8601).
    """
    oc = object_covariances.c
    chunks: Iterable[Sequence[int] | None] = (
        [None] if norad_ids is None else list(_chunks(sorted({int(i) for i in norad_ids}))))
    found: dict[int, CovarianceModel] = {}
    for chunk in chunks:
        stmt = _where(select(object_covariances),
                      None if chunk is None else _in_ids(oc.norad_id, chunk),
                      _visible(oc.releasable_to, releasable_to)).order_by(oc.norad_id)
        for row in session.execute(stmt).all():
            found[int(row.norad_id)] = _model(row)
    return found


def fit_store_covariances(
    *,
    session: Session,
    norad_ids: Iterable[int] | None = None,
    releasable_to: str | None = None,
    window_days: float | None = DEFAULT_WINDOW_DAYS,
    age_bins_days: Sequence[float] = DEFAULT_AGE_BINS_DAYS,
    save: bool = True,
) -> list[CovarianceModel]:
    """Fit (or default) a model for each object from its stored history, and save them.

    Objects whose history is too short get the default of their regime and
    SATCAT type. Each saved row is releasable to the intersection of the
    releasabilities of the sets used (the last ``window_days`` of history).

    Parameters
    ----------
    norad_ids : iterable of int, optional
        Objects to fit; default every object with element sets.
    releasable_to : str, optional
        Fit only from sets visible to this viewer; None uses every set.
    """
    es = element_sets.c
    if norad_ids is None:
        ids = [int(i) for i in session.execute(
            _where(select(es.norad_id).distinct(), _visible(es.releasable_to, releasable_to))
        ).scalars()]
    else:
        ids = sorted({int(i) for i in norad_ids})
    models: list[CovarianceModel] = []
    rels: list[str] = []
    for chunk in _chunks(sorted(ids)):
        types = dict(session.execute(
            select(space_objects.c.norad_id, space_objects.c.object_type)
            .where(_in_ids(space_objects.c.norad_id, chunk))).all())
        stmt = _where(
            select(*(es[f] for f in _ES_FIELDS), es.releasable_to),
            _in_ids(es.norad_id, chunk),
            _visible(es.releasable_to, releasable_to),
        ).order_by(es.norad_id, es.epoch, es.id)
        history: dict[int, list[tuple[ElementSet, str]]] = {}
        for row in session.execute(stmt).all():
            history.setdefault(int(row[0]), []).append((_element_set(row[:-1]), row[-1]))
        for norad_id in chunk:
            entries = history.get(norad_id)
            if not entries:
                continue
            sets = recent_sets([e for e, _ in entries], window_days)
            used = {id(e) for e in sets}
            model = model_for_history(sets, object_type=types.get(norad_id), window_days=None,
                                      age_bins_days=age_bins_days)
            model.provenance["window_days"] = window_days
            models.append(model)
            rels.append(intersect_releasability(r for e, r in entries if id(e) in used))
    if save and models:
        save_covariance_models(session=session, models=models, releasable_to=rels)
    return models
