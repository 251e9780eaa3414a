"""Detected events in the store: maneuvers, proximity events, breakups, with their evidence.

Keyword-only data access, like :mod:`kizuna.store.repository`. One row per
event in the ``events`` table; the numbers an operator filters on are columns
(``min_range_km``, ``delta_v_m_s``, ``n_fragments``, ``score``), everything
that produced the event (element-set epochs and TLE lines, the computed
numbers, the settings) is JSON ``evidence``. Queries by object (either side),
time (events overlapping ``[since, until]``), kind, run and viewer nation.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from kizuna.catalog.elements import ElementSet
from kizuna.errors import KizunaError
from kizuna.store.models import events
from kizuna.store.releasability import normalize_releasability, releasable_clause
from kizuna.timelib import datetime_from_jd_fr

MANEUVER = "maneuver"
PROXIMITY = "proximity"
BREAKUP = "breakup"
EVENT_KINDS = (MANEUVER, PROXIMITY, BREAKUP)

EVENTS_CSV_COLUMNS = (
    "event_id", "kind", "subkind", "primary_norad_id", "secondary_norad_id", "start_utc",
    "end_utc", "time_utc", "min_range_km", "delta_v_m_s", "n_fragments", "score", "run_id",
    "releasable_to", "summary",
)


class EventStoreError(KizunaError, ValueError):
    """An event cannot be stored or queried as given (the message says why)."""


@dataclass(frozen=True, kw_only=True)
class NewEvent:
    """An event to store. Times are aware UTC datetimes; ``evidence`` must be JSON-serialisable."""

    kind: str
    primary_norad_id: int
    start: datetime
    end: datetime
    event_time: datetime
    secondary_norad_id: int | None = None
    subkind: str | None = None
    min_range_km: float | None = None
    delta_v_m_s: float | None = None
    n_fragments: int | None = None
    score: float | None = None
    summary: str = ""
    evidence: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class EventRecord:
    """One stored event (times aware UTC)."""

    id: int
    kind: str
    subkind: str | None
    primary_norad_id: int
    secondary_norad_id: int | None
    start: datetime
    end: datetime
    event_time: datetime
    min_range_km: float | None
    delta_v_m_s: float | None
    n_fragments: int | None
    score: float | None
    summary: str
    evidence: dict[str, Any]
    run_id: int | None
    releasable_to: str


def _naive_utc(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        raise EventStoreError(f"naive datetime {dt!r}: pass aware UTC datetimes")
    return dt.astimezone(UTC).replace(tzinfo=None)


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else float(x)


def add_events(
    *,
    session: Session,
    new_events: Iterable[NewEvent],
    run_id: int | None = None,
    releasable_to: str | Iterable[str] = "ALL",
) -> list[int]:
    """Store events; returns their ids in input order.

    ``releasable_to`` applies to every event given (the least releasable of
    the inputs that produced them).
    """
    rel = normalize_releasability(releasable_to)
    now = datetime.now(UTC).replace(tzinfo=None)
    ids = []
    for e in new_events:
        if not e.kind:
            raise EventStoreError("an event needs a kind, e.g. 'maneuver', 'proximity', 'breakup'")
        if e.end < e.start:
            raise EventStoreError(f"event end {e.end} is before its start {e.start}")
        row = {
            "kind": e.kind, "subkind": e.subkind, "primary_norad_id": int(e.primary_norad_id),
            "secondary_norad_id": (None if e.secondary_norad_id is None
                                   else int(e.secondary_norad_id)),
            "start": _naive_utc(e.start), "end": _naive_utc(e.end),
            "event_time": _naive_utc(e.event_time), "min_range_km": _num(e.min_range_km),
            "delta_v_m_s": _num(e.delta_v_m_s),
            "n_fragments": None if e.n_fragments is None else int(e.n_fragments),
            "score": _num(e.score), "summary": e.summary[:400],
            "evidence": json.dumps(e.evidence, sort_keys=True, allow_nan=False, default=str),
            "run_id": run_id, "releasable_to": rel, "created_at": now,
        }
        ids.append(int(session.execute(events.insert().returning(events.c.id), row)
                       .scalar_one()))
    return ids


def _set_evidence(es: ElementSet | None) -> dict[str, Any] | None:
    if es is None:
        return None
    return {
        "norad_id": es.norad_id,
        "epoch_utc": datetime_from_jd_fr(es.epoch_jd, es.epoch_fr).isoformat(),
        "epoch_jd": es.epoch_jd, "epoch_fr": es.epoch_fr,
        "tle_line1": es.tle_line1, "tle_line2": es.tle_line2,
        "mean_motion_rev_day": es.mean_motion_rev_day, "eccentricity": es.eccentricity,
        "inclination_deg": es.inclination_deg, "raan_deg": es.raan_deg,
    }


def proximity_events(report: Any) -> list[NewEvent]:
    """:class:`NewEvent` records of a :class:`kizuna.detection.proximity.ProximityReport`.

    ``subkind`` is the proximity kind (``proximity``, ``co_orbital``,
    ``geo_colocation``, ``approach_after_maneuver``); evidence holds the CSV
    row, the RIC summary, the limits used and both element sets.
    """
    out = []
    start0 = report.start
    rows = report.rows()
    for e, row in zip(report.events, rows, strict=True):
        lim = report.asset_limits[e.protected_norad_id]
        evidence = {
            "row": row,
            "window": {"start_utc": start0.astimezone(UTC).isoformat(),
                       "duration_s": report.duration_s},
            "ric_mean_km": list(e.ric_mean_km), "ric_half_span_km": list(e.ric_half_span_km),
            "limits": {k: getattr(lim, k) for k in lim.__dataclass_fields__},
            "maneuver_source": report.maneuver_source,
            "element_sets": [_set_evidence(report.element_sets.get(e.protected_norad_id)),
                             _set_evidence(report.element_sets.get(e.other_norad_id))],
        }
        out.append(NewEvent(
            kind=PROXIMITY, subkind=e.kind, primary_norad_id=e.protected_norad_id,
            secondary_norad_id=e.other_norad_id,
            start=start0 + timedelta(seconds=e.start_s), end=start0 + timedelta(seconds=e.end_s),
            event_time=start0 + timedelta(seconds=e.min_range_s), min_range_km=e.min_range_km,
            delta_v_m_s=None if e.maneuver is None else e.maneuver.delta_v_m_s,
            summary=e.motion, evidence=evidence))
    return out


def maneuver_events(result: Any, history: Sequence[ElementSet] = ()) -> list[NewEvent]:
    """:class:`NewEvent` records of a :class:`kizuna.detection.maneuvers.ManeuverResult`.

    The event spans the two element-set epochs around the burn; ``event_time``
    is the estimated burn time; ``subkind`` is the maneuver's kind (``raise``,
    ``plane``, ``east-west`` ...). Give the ``history`` the result came from to
    put the two element sets (epochs, TLE lines) into the evidence.
    """
    by_key = {(es.norad_id, round((es.epoch_jd + es.epoch_fr) * 86400.0, 3)): es
              for es in history}
    out = []
    for row, k in zip(result.rows(), range(len(result)), strict=True):
        nid = int(result.norad_id[k])
        before = datetime_from_jd_fr(float(result.before_jd[k]), float(result.before_fr[k]))
        after = datetime_from_jd_fr(float(result.after_jd[k]), float(result.after_fr[k]))
        burn = datetime_from_jd_fr(float(result.burn_jd[k]), float(result.burn_fr[k]))
        sets = [by_key.get((nid, round((float(result.before_jd[k]) + float(result.before_fr[k]))
                                        * 86400.0, 3))),
                by_key.get((nid, round((float(result.after_jd[k]) + float(result.after_fr[k]))
                                       * 86400.0, 3)))]
        out.append(NewEvent(
            kind=MANEUVER, subkind=str(result.kind[k]), primary_norad_id=nid,
            start=min(before, burn), end=max(after, burn), event_time=burn,
            delta_v_m_s=float(result.delta_v_m_s[k]), score=float(result.score[k]),
            summary=f"{result.regime[k]} {result.kind[k]}: delta-v "
                    f"{float(result.delta_v_m_s[k]):.3f} m/s, "
                    f"delta-a {float(result.delta_a_km[k]):+.3f} km",
            evidence={"row": row, "element_sets": [_set_evidence(s) for s in sets]}))
    return out


def record_proximity(*, session: Session, report: Any, run_id: int | None = None,
                     releasable_to: str | Iterable[str] = "ALL") -> list[int]:
    """Store every event of a proximity report; returns their ids."""
    return add_events(session=session, new_events=proximity_events(report), run_id=run_id,
                      releasable_to=releasable_to)


def record_maneuvers(*, session: Session, result: Any, history: Sequence[ElementSet] = (),
                     run_id: int | None = None,
                     releasable_to: str | Iterable[str] = "ALL") -> list[int]:
    """Store every maneuver of a maneuver result; returns their ids."""
    return add_events(session=session, new_events=maneuver_events(result, history),
                      run_id=run_id, releasable_to=releasable_to)


def breakup_events(breakups: Sequence[Any], snapshot: Any = None) -> list[NewEvent]:
    """:class:`NewEvent` records of :class:`kizuna.detection.breakups.Breakup` results.

    The event spans the estimated time +- its sigma; the evidence holds the CSV
    numbers, the fragment ids and, given the new ``snapshot``, the parent's and
    the fragments' element sets.
    """
    from kizuna.timelib import datetime_from_jd_fr

    out = []
    for b in breakups:
        t = datetime_from_jd_fr(float(b.time_jd), float(b.time_fr))
        sigma = timedelta(seconds=float(b.time_sigma_s))
        sets = []
        if snapshot is not None:
            by_id = {es.norad_id: es for es in snapshot.element_sets}
            sets = [_set_evidence(by_id.get(i)) for i in (b.parent_norad_id, *b.fragment_ids)]
        out.append(NewEvent(
            kind=BREAKUP, subkind=b.method, primary_norad_id=int(b.parent_norad_id),
            start=t - sigma, end=t + sigma, event_time=t, n_fragments=int(b.n_fragments),
            summary=f"{b.n_fragments} fragments of {b.parent_norad_id} "
                    f"{b.parent_name or ''}".rstrip()
                    + f", time sigma {float(b.time_sigma_s) / 86400.0:.2f} d",
            evidence={"time_sigma_s": float(b.time_sigma_s), "method": b.method,
                      "spread_km": float(b.spread_km), "dv_median_m_s": float(b.dv_median_m_s),
                      "dv_p90_m_s": float(b.dv_p90_m_s), "launch": b.launch,
                      "fragment_ids": [int(i) for i in b.fragment_ids],
                      "element_sets": sets}))
    return out


def record_breakups(*, session: Session, breakups: Sequence[Any], snapshot: Any = None,
                    run_id: int | None = None,
                    releasable_to: str | Iterable[str] = "ALL") -> list[int]:
    """Store every detected breakup; returns their ids."""
    return add_events(session=session, new_events=breakup_events(breakups, snapshot),
                      run_id=run_id, releasable_to=releasable_to)


def find_events(
    *,
    session: Session,
    kind: str | None = None,
    norad_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    run_id: int | None = None,
    releasable_to: str | None = None,
    limit: int | None = None,
) -> list[EventRecord]:
    """Stored events by kind, object (either side), time, run and viewer nation.

    ``since``/``until`` select events that overlap the interval (end at or
    after ``since``, start at or before ``until``). ``releasable_to`` is a
    viewer nation (``"JPN"``), ``"ALL"``, or None for no filter. Ordered by
    event time, kind, primary, secondary, id.
    """
    c = events.c
    stmt: Select[Any] = select(events)
    if kind is not None:
        stmt = stmt.where(c.kind == kind)
    if norad_id is not None:
        stmt = stmt.where(or_(c.primary_norad_id == int(norad_id),
                              c.secondary_norad_id == int(norad_id)))
    if since is not None:
        stmt = stmt.where(c.end >= _naive_utc(since))
    if until is not None:
        stmt = stmt.where(c.start <= _naive_utc(until))
    if run_id is not None:
        stmt = stmt.where(c.run_id == run_id)
    if releasable_to is not None:
        stmt = stmt.where(releasable_clause(c.releasable_to, releasable_to))
    stmt = stmt.order_by(c.event_time, c.kind, c.primary_norad_id, c.secondary_norad_id, c.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [EventRecord(
        id=r.id, kind=r.kind, subkind=r.subkind, primary_norad_id=r.primary_norad_id,
        secondary_norad_id=r.secondary_norad_id, start=r.start.replace(tzinfo=UTC),
        end=r.end.replace(tzinfo=UTC), event_time=r.event_time.replace(tzinfo=UTC),
        min_range_km=r.min_range_km, delta_v_m_s=r.delta_v_m_s, n_fragments=r.n_fragments,
        score=r.score, summary=r.summary, evidence=json.loads(r.evidence), run_id=r.run_id,
        releasable_to=r.releasable_to) for r in session.execute(stmt).all()]


def iso_ms(dt: datetime) -> str:
    """ISO 8601 UTC with milliseconds (rounded) and ``Z``."""
    dt = dt.astimezone(UTC) + timedelta(microseconds=500)
    return dt.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def events_csv(records: Sequence[EventRecord]) -> str:
    """CSV text of stored events (:data:`EVENTS_CSV_COLUMNS`)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(EVENTS_CSV_COLUMNS)

    def f(x: float | None, fmt: str) -> str:
        return "" if x is None else format(x, fmt)

    for r in records:
        w.writerow([r.id, r.kind, r.subkind or "", r.primary_norad_id,
                    "" if r.secondary_norad_id is None else r.secondary_norad_id,
                    iso_ms(r.start), iso_ms(r.end), iso_ms(r.event_time),
                    f(r.min_range_km, ".3f"), f(r.delta_v_m_s, ".3f"),
                    "" if r.n_fragments is None else r.n_fragments, f(r.score, ".2f"),
                    "" if r.run_id is None else r.run_id, r.releasable_to, r.summary])
    return buf.getvalue()
