"""Screening runs in the store: parameters, the catalog snapshot used, and every event.

Keyword-only data access, like :mod:`kizuna.store.repository`; the run's
``parameters`` JSON holds the window, threshold, primaries, where the
catalog came from and the snapshot digest
(:meth:`~kizuna.catalog.snapshot.CatalogSnapshot.digest`), so a result can be
traced to exactly the element sets that produced it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from kizuna.catalog.snapshot import CatalogSnapshot
from kizuna.store.models import conjunctions, runs
from kizuna.store.repository import _bind_processor, _bulk_insert

SCREENING = "screening"
_EVENT_COLUMNS = ("primary_norad_id", "secondary_norad_id", "tca_utc", "miss_km",
                  "rel_speed_km_s", "radial_km", "in_track_km", "cross_track_km")


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
    """
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
    rows = [
        (run_id, int(e["primary_norad_id"]), int(e["secondary_norad_id"]),
         to_db(start + timedelta(seconds=float(e["t_s"]))), str(tca_text[k]),
         float(e["miss_km"]), float(e["rel_speed_km_s"]), float(e["radial_km"]),
         float(e["in_track_km"]), float(e["cross_track_km"]))
        for k, e in enumerate(events)
    ]
    columns = ("run_id", "primary_norad_id", "secondary_norad_id", "tca", "tca_utc", "miss_km",
               "rel_speed_km_s", "radial_km", "in_track_km", "cross_track_km")
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


def find_conjunctions(
    *,
    session: Session,
    run_id: int | None = None,
    norad_id: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    max_miss_km: float | None = None,
) -> list[ConjunctionRecord]:
    """Stored close approaches, by run, object (either side), TCA range and miss distance.

    Ordered as the run's CSV: by TCA, then primary, then secondary.
    """
    c = conjunctions.c
    stmt = select(c.run_id, *(c[k] for k in _EVENT_COLUMNS))
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
    stmt = stmt.order_by(c.run_id, c.tca, c.primary_norad_id, c.secondary_norad_id)
    return [ConjunctionRecord(run_id=r[0], **dict(zip(_EVENT_COLUMNS, r[1:], strict=True)))
            for r in session.execute(stmt).all()]


def conjunctions_csv(records: list[ConjunctionRecord]) -> str:
    """The screening CSV contract text of stored records (same formatting as a run's CSV)."""
    lines = [",".join(_EVENT_COLUMNS)]
    for r in records:
        lines.append(
            f"{r.primary_norad_id},{r.secondary_norad_id},{r.tca_utc},{r.miss_km:.6f},"
            f"{r.rel_speed_km_s:.6f},{r.radial_km:.6f},{r.in_track_km:.6f},"
            f"{r.cross_track_km:.6f}"
        )
    return "\n".join(lines) + "\n"
