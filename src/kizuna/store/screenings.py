"""Screening runs in the store: parameters, the catalog snapshot used, and every event.

Keyword-only data access, like :mod:`kizuna.store.repository`; the run's
``parameters`` JSON holds the window, threshold, primaries, where the
catalog came from and the snapshot digest
(:meth:`~kizuna.catalog.snapshot.CatalogSnapshot.digest`), so a result can be
traced to exactly the element sets that produced it.

A run screened with collision probability (``kizuna screen --pc``) also
stores ``pc``/``pc_method`` per conjunction (NULL ``pc`` where undefined) and
``parameters["pc"]`` (how it was computed); its CSV export then carries the
two extra columns ``pc,pc_method``, exactly as the screen wrote them
(:func:`kizuna.collision.screening_csv.screening_csv_with_pc`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from kizuna.catalog.snapshot import CatalogSnapshot
from kizuna.errors import KizunaError
from kizuna.screening.base import format_pc
from kizuna.store.models import conjunctions, runs
from kizuna.store.repository import _bind_processor, _bulk_insert

SCREENING = "screening"
_EVENT_COLUMNS = ("primary_norad_id", "secondary_norad_id", "tca_utc", "miss_km",
                  "rel_speed_km_s", "radial_km", "in_track_km", "cross_track_km")
_PC_COLUMNS = ("pc", "pc_method")
#: Longest ``pc_method`` the column holds.
PC_METHOD_MAX_LEN = 32


class ScreeningStoreError(KizunaError, ValueError):
    """Arguments of :func:`record_screening` do not fit the run (say which and how to fix)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRecord:
    """One stored analysis run."""

    id: int
    kind: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    parameters: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class ConjunctionRecord:
    """One stored close approach (the screening CSV columns plus its run)."""

    run_id: int
    primary_norad_id: int
    secondary_norad_id: int
    tca_utc: str
    miss_km: float
    rel_speed_km_s: float
    radial_km: float
    in_track_km: float
    cross_track_km: float
    pc: float | None = None
    pc_method: str | None = None
    tca: datetime | None = None
    """TCA as an aware UTC datetime to the microsecond (``tca_utc`` is the CSV's milliseconds)."""


def _naive_utc(dt: datetime) -> datetime:
    return dt.astimezone(UTC).replace(tzinfo=None)


def record_screening(
    *,
    session: Session,
    result: Any,
    snapshot: CatalogSnapshot,
    catalog_source: Mapping[str, Any],
    primaries: list[int] | None = None,
    started_at: datetime,
    pc: Sequence[float] | None = None,
    pc_method: Sequence[str] | None = None,
    pc_parameters: Mapping[str, Any] | None = None,
) -> int:
    """Store a finished screening run and its events; returns the run id.

    Parameters
    ----------
    result : kizuna.screening.ScreeningResult
        What :func:`kizuna.screening.screen` returned.
    snapshot : CatalogSnapshot
        The catalog that was screened (its size and digest are recorded).
    catalog_source : mapping
        Where the catalog came from, e.g. ``{"files": [{"path": ..., "sha256": ...}]}``
        or ``{"store": url, "as_of": iso}``.
    started_at : datetime
        Aware UTC time the run started.
    pc, pc_method : sequences of float and str, optional
        Collision probability of every event and what produced it
        (:func:`kizuna.collision.screening_pc.pc_for_events`), in event order;
        both or neither. NaN is stored as NULL (``pc_method`` says why).
    pc_parameters : mapping, optional
        How the Pc was computed (method, covariance models...), recorded as
        ``parameters["pc"]``; that key is present exactly when ``pc`` is given.

    Raises
    ------
    ScreeningStoreError
        ``pc`` without ``pc_method`` (or the reverse), lengths that differ from
        the number of events, or a ``pc_method`` longer than 32 characters.
    """
    n = len(result.events)
    if (pc is None) != (pc_method is None):
        raise ScreeningStoreError("give both pc and pc_method (from pc_for_events), or neither")
    if pc is not None and pc_method is not None:
        if len(pc) != n or len(pc_method) != n:
            raise ScreeningStoreError(f"pc and pc_method need one value per event ({n}); got "
                                      f"{len(pc)} and {len(pc_method)}")
        too_long = [m for m in pc_method if len(str(m)) > PC_METHOD_MAX_LEN]
        if too_long:
            raise ScreeningStoreError(f"pc_method {too_long[0]!r} is longer than "
                                      f"{PC_METHOD_MAX_LEN} characters")
    summary = result.summary
    parameters = {
        "start_utc": result.start.astimezone(UTC).isoformat(),
        "duration_s": result.duration_s,
        "threshold_km": result.threshold_km,
        "primaries": sorted(primaries) if primaries else None,
        "catalog": dict(catalog_source),
        "snapshot": {"n_objects": len(snapshot), "digest": snapshot.digest()},
        "summary": {
            "n_events": len(result),
            "n_screened": summary.n_screened,
            "n_failed": summary.n_failed,
            "failed_norad_ids": list(summary.failed_norad_ids),
            "shared_element_sets": [list(g) for g in summary.shared_element_sets],
            "timings_s": {k: round(v, 3) for k, v in summary.timings_s.items()},
        },
    }
    if pc is not None:
        parameters["pc"] = dict(pc_parameters or {})
    run_id = int(session.execute(
        runs.insert().returning(runs.c.id),
        {
            "kind": SCREENING, "started_at": _naive_utc(started_at),
            "finished_at": _naive_utc(datetime.now(UTC)),
            "parameters": json.dumps(parameters, sort_keys=True), "status": "done",
        },
    ).scalar_one())
    events = result.events
    tca_text = result.tca_utc()
    start = result.start.astimezone(UTC).replace(tzinfo=None)
    to_db = _bind_processor(session, conjunctions.c.tca)
    pc_values: list[tuple[float | None, str | None]] = (
        [(None if math.isnan(float(v)) else float(v), str(m))
         for v, m in zip(pc, pc_method, strict=True)]
        if pc is not None and pc_method is not None else [(None, None)] * n)
    rows = [
        (run_id, int(e["primary_norad_id"]), int(e["secondary_norad_id"]),
         to_db(start + timedelta(seconds=float(e["t_s"]))), str(tca_text[k]),
         float(e["miss_km"]), float(e["rel_speed_km_s"]), float(e["radial_km"]),
         float(e["in_track_km"]), float(e["cross_track_km"]), *pc_values[k])
        for k, e in enumerate(events)
    ]
    columns = ("run_id", "primary_norad_id", "secondary_norad_id", "tca", "tca_utc", "miss_km",
               "rel_speed_km_s", "radial_km", "in_track_km", "cross_track_km", *_PC_COLUMNS)
    _bulk_insert(session, conjunctions, columns, rows, on_conflict=lambda stmt: stmt)
    return run_id


def list_runs(*, session: Session, kind: str | None = None, limit: int = 50) -> list[RunRecord]:
    """Runs, newest first."""
    stmt: Select[Any] = select(runs).order_by(runs.c.id.desc()).limit(limit)
    if kind is not None:
        stmt = stmt.where(runs.c.kind == kind)
    return [
        RunRecord(id=r.id, kind=r.kind, started_at=r.started_at.replace(tzinfo=UTC),
                  finished_at=None if r.finished_at is None else r.finished_at.replace(tzinfo=UTC),
                  status=r.status, parameters=json.loads(r.parameters))
        for r in session.execute(stmt).all()
    ]


def get_run(*, session: Session, run_id: int) -> RunRecord | None:
    """One run by id, or None."""
    r = session.execute(select(runs).where(runs.c.id == run_id)).one_or_none()
    if r is None:
        return None
    return RunRecord(id=r.id, kind=r.kind, started_at=r.started_at.replace(tzinfo=UTC),
                     finished_at=None if r.finished_at is None
                     else r.finished_at.replace(tzinfo=UTC),
                     status=r.status, parameters=json.loads(r.parameters))


def run_has_pc(run: RunRecord) -> bool:
    """True when the run was recorded with a Pc per conjunction."""
    return "pc" in run.parameters


def find_conjunctions(
    *,
    session: Session,
    run_id: int | None = None,
    norad_id: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    max_miss_km: float | None = None,
    min_pc: float | None = None,
) -> list[ConjunctionRecord]:
    """Stored close approaches, by run, object (either side), TCA range, miss distance and Pc.

    Ordered as the run's CSV: by TCA, then primary, then secondary.
    ``min_pc`` keeps only conjunctions with a stored ``pc >= min_pc``.
    ``pc``/``pc_method`` are None where not stored.
    """
    c = conjunctions.c
    stmt = select(c.run_id, *(c[k] for k in _EVENT_COLUMNS + _PC_COLUMNS), c.tca)
    if run_id is not None:
        stmt = stmt.where(c.run_id == run_id)
    if norad_id is not None:
        stmt = stmt.where(or_(c.primary_norad_id == norad_id, c.secondary_norad_id == norad_id))
    if start is not None:
        stmt = stmt.where(c.tca >= _naive_utc(start))
    if end is not None:
        stmt = stmt.where(c.tca <= _naive_utc(end))
    if max_miss_km is not None:
        stmt = stmt.where(c.miss_km <= max_miss_km)
    if min_pc is not None:
        stmt = stmt.where(c.pc >= min_pc)
    stmt = stmt.order_by(c.run_id, c.tca, c.primary_norad_id, c.secondary_norad_id)
    names = _EVENT_COLUMNS + _PC_COLUMNS
    return [ConjunctionRecord(run_id=r[0], **dict(zip(names, r[1:-1], strict=True)),
                              tca=r[-1].replace(tzinfo=UTC))
            for r in session.execute(stmt).all()]


def conjunctions_csv(records: list[ConjunctionRecord], *, with_pc: bool | None = None) -> str:
    """The screening CSV contract text of stored records (same formatting as a run's CSV).

    ``with_pc`` adds the columns ``pc,pc_method`` (the screen's ``--pc`` CSV);
    default: when any record has a ``pc_method``. Pass the run's
    :func:`run_has_pc` to get a run's CSV exactly, even when it has no events.
    """
    if with_pc is None:
        with_pc = any(r.pc_method is not None for r in records)
    lines = [",".join(_EVENT_COLUMNS + (_PC_COLUMNS if with_pc else ()))]
    for r in records:
        line = (
            f"{r.primary_norad_id},{r.secondary_norad_id},{r.tca_utc},{r.miss_km:.6f},"
            f"{r.rel_speed_km_s:.6f},{r.radial_km:.6f},{r.in_track_km:.6f},"
            f"{r.cross_track_km:.6f}"
        )
        if with_pc:
            line += f",{format_pc(r.pc)},{r.pc_method or ''}"
        lines.append(line)
    return "\n".join(lines) + "\n"
