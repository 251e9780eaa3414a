"""Data access of the store: keyword-only functions over a SQLAlchemy session.

No HTTP and no orbital maths here; callers own the transaction (one ingested
file is one transaction: see :func:`kizuna.ingest.ingest_files`).

Writes use Core bulk statements (``INSERT ... ON CONFLICT``) rather than ORM
objects: a 25,000-object catalog must go in well under a second.

Reads take ``releasable_to``: a viewer nation code (``"JPN"``), ``"ALL"`` for
records releasable to every partner only, or ``None`` for no filter (trusted
internal callers). See :mod:`kizuna.store.releasability`.

Object metadata rules (one row per ``norad_id``):

* SATCAT / owner-database files (format ``satcat*`` or ``ucs*``, or any file
  with objects and no element sets) are authoritative: their non-empty fields
  overwrite; catalog files (TLE, OMM) only fill fields that are still empty.
  No file ever blanks out a known field.
* An object first seen without metadata gets the name and international
  designator of its newest element set, and a type guessed from the name
  (:func:`kizuna.catalog.elements.object_type_from_name`).
* Metadata never becomes visible to more nations than its source allowed: a
  file updates a row only when its releasability equals the row's; a file
  releasable to strictly more nations replaces the row's fields with its own
  (so fields known only to fewer nations are dropped, not widened); a file
  releasable to fewer or other nations leaves an existing row alone.
"""

from __future__ import annotations

import hashlib
import json
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Any

import numpy as np
from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    and_,
    case,
    column,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy import (
    table as table_clause,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kizuna.catalog import regimes
from kizuna.catalog.elements import ElementSet, ParseResult, SpaceObject, object_type_from_name
from kizuna.catalog.snapshot import CatalogSnapshot
from kizuna.errors import Rejection, StoreError
from kizuna.store.models import element_sets, runs, sources, space_objects
from kizuna.store.releasability import (
    ALL,
    covers,
    normalize_releasability,
    releasable_clause,
)
from kizuna.timelib import JD_UNIX_EPOCH, SECONDS_PER_DAY, as_utc

# Keeps IN (...) lists far below SQLite's 32,766 and psycopg's 65,535 bound parameters.
_CHUNK = 5000

_ES_FIELDS = tuple(f.name for f in fields(ElementSet) if f.name in element_sets.c)
_ES_GET = operator.attrgetter(*_ES_FIELDS)
_OBJ_FIELDS = (
    "name",
    "intl_designator",
    "object_type",
    "owner",
    "operator",
    "purpose",
    "launch_date",
    "decay_date",
    "rcs_size",
)
_METADATA_FORMAT_PREFIXES = ("satcat", "ucs")
_OBJ_GET = operator.attrgetter(*_OBJ_FIELDS)
_N_OBJ = len(_OBJ_FIELDS)


def _empty_object() -> list[Any]:
    return [*([None] * _N_OBJ), {}]


# ---------------------------------------------------------------- time helpers


def _now_naive_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _to_db_time(dt: datetime) -> datetime:
    """Aware datetime -> naive UTC, as the columns store it."""
    return as_utc(dt).replace(tzinfo=None)


def _from_db_time(dt: datetime | None) -> datetime | None:
    return None if dt is None else dt.replace(tzinfo=UTC)


def _epochs_naive_utc(jd: np.ndarray, fr: np.ndarray) -> list[datetime]:
    """Naive UTC epochs of split Julian dates, microsecond-rounded.

    The same arithmetic as :func:`kizuna.timelib.datetime_from_jd_fr` (so the
    dedupe key equals ``ElementSet.epoch``), done on whole arrays because a
    per-set call costs a noticeable share of a catalog ingest.
    """
    whole_days = np.floor(jd - JD_UNIX_EPOCH)
    rest_days = (jd - JD_UNIX_EPOCH - whole_days) + fr
    micros = whole_days.astype(np.int64) * 86_400_000_000 + np.rint(
        rest_days * SECONDS_PER_DAY * 1e6
    ).astype(np.int64)
    return micros.astype("datetime64[us]").tolist()


# ---------------------------------------------------------------- records


@dataclass(frozen=True, slots=True, kw_only=True)
class IngestReport:
    """What storing one parsed file did.

    ``n_duplicates`` counts good element sets of the file that were not added
    because the store (or the file itself) already held the same
    ``(norad_id, epoch, origin)``; on a re-ingested file it is every set.
    """

    file: str
    format: str
    sha256: str
    source_id: int
    already_ingested: bool
    n_records: int
    n_element_sets: int
    n_element_sets_added: int
    n_duplicates: int
    n_objects_upserted: int
    n_rejected: int
    rejected: tuple[Rejection, ...] = field(default=(), repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceRecord:
    """One ingested file as stored in ``sources``."""

    id: int
    file_name: str
    sha256: str
    format: str
    ingested_at: datetime
    n_records: int
    n_element_sets_added: int
    n_rejected: int
    origin: str
    releasable_to: str


# ---------------------------------------------------------------- dialect helpers


def _insert(session: Session, table: Table) -> Any:
    """The dialect's ``INSERT`` construct, which has ``on_conflict_do_*``."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise StoreError(f"unsupported database {name!r}: use SQLite or PostgreSQL")


def _chunks(seq: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(seq), size):
        yield seq[i : i + size]


def _in_ids(column: ColumnElement[int], ids: Sequence[int]) -> ColumnElement[bool]:
    """``column IN (1, 2, ...)`` with the integers written into the SQL.

    Binding thousands of parameters costs SQLAlchemy more time than the query
    itself; the values are ``int``, so writing them literally is safe.
    """
    return column.op("IN")(literal_column("(" + ",".join(str(int(i)) for i in ids) + ")"))


def _visible(column: ColumnElement[str], releasable_to: str | None) -> ColumnElement[bool] | None:
    return None if releasable_to is None else releasable_clause(column, releasable_to)


def _where(stmt: Select[Any], *conditions: ColumnElement[bool] | None) -> Select[Any]:
    kept = [c for c in conditions if c is not None]
    return stmt.where(*kept) if kept else stmt


# ---------------------------------------------------------------- ingest


def _content_sha256(result: ParseResult) -> str:
    """Stand-in file hash for a ParseResult built in code (``sha256`` is None)."""
    h = hashlib.sha256()
    h.update(result.format.encode())
    for es in result.element_sets:
        h.update(repr(_ES_GET(es)).encode())
    for obj in result.objects:
        h.update(repr((obj.norad_id, _object_values(obj))).encode())
    return h.hexdigest()


def _bind_processor(session: Session, column: Any) -> Callable[[Any], Any]:
    """The driver-ready form of values of ``column`` (dates and times on SQLite)."""
    dialect = session.get_bind().dialect
    proc = column.type.dialect_impl(dialect).bind_processor(dialect)
    return proc if proc is not None else _identity


def _identity(value: Any) -> Any:
    return value


def _bulk_insert(
    session: Session,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    *,
    on_conflict: Callable[[Any], Any],
) -> int:
    """``INSERT ... ON CONFLICT`` of many driver-ready rows; returns the rows written.

    ``rows`` hold values in ``columns`` order, already converted with
    :func:`_bind_processor`; ``on_conflict`` adds the conflict clause to the
    dialect's insert construct. SQLAlchemy's per-row parameter handling would
    cost more than the database itself on a catalog-sized file, so: on SQLite
    the statement is compiled once and given to the driver's ``executemany``;
    on PostgreSQL the rows are COPYed into a temporary table and inserted from
    there in one statement (psycopg's pipelined executemany is several times
    slower than COPY).
    """
    if not rows:
        return 0
    conn = session.connection()
    dialect = conn.dialect
    if dialect.name == "postgresql":
        return _pg_copy_insert(session, table, columns, rows, on_conflict=on_conflict)
    stmt = on_conflict(_insert(session, table))
    compiled = stmt.compile(dialect=dialect, column_keys=list(columns))
    if set(compiled.params) != set(columns):
        raise StoreError(f"bulk insert columns {columns} do not match {sorted(compiled.params)}")
    params: Sequence[Any]
    if compiled.positional:
        order = [columns.index(k) for k in compiled.positiontup]
        if order == list(range(len(columns))):
            params = rows
        else:
            params = [tuple(r[i] for i in order) for r in rows]
    else:
        params = [dict(zip(columns, r, strict=True)) for r in rows]
    count = conn.exec_driver_sql(str(compiled), params).rowcount
    return count if count is not None and count >= 0 else len(rows)


def _pg_copy_insert(
    session: Session,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    *,
    on_conflict: Callable[[Any], Any],
) -> int:
    conn = session.connection()
    staging = f"kizuna_staging_{table.name}"
    cols_sql = ", ".join(columns)
    # Column types only (no constraints), and gone at the end of the transaction.
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {staging} ON COMMIT DROP AS "
        f"SELECT {cols_sql} FROM {table.name} WITH NO DATA"
    )
    raw = conn.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(f"COPY {staging} ({cols_sql}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    source = table_clause(staging, *(column(c) for c in columns))
    stmt = on_conflict(
        postgresql.insert(table).from_select(list(columns), select(*source.c))
    )
    # SQLAlchemy reads rowcount of an INSERT only when asked to.
    count = conn.execute(stmt.execution_options(preserve_rowcount=True)).rowcount
    conn.exec_driver_sql(f"DROP TABLE {staging}")
    return count


def _object_values(obj: SpaceObject) -> list[Any]:
    """``[*fields, extra]`` of a parsed object; blank strings count as unknown."""
    # Fields are str, date or None: `or None` maps "" to unknown.
    values: list[Any] = [v or None for v in _OBJ_GET(obj)]
    extra = obj.extra
    values.append(
        {k: v for k, v in extra.items() if (v.strip() if isinstance(v, str) else v)}
        if extra else {}
    )
    return values


def _fill(base: list[Any], new: list[Any], *, overwrite: bool) -> list[Any]:
    """Merge metadata: ``overwrite`` lets new known values win; never blanks a field."""
    out = [
        n if n is not None and (overwrite or b is None) else b
        for b, n in zip(base[:_N_OBJ], new[:_N_OBJ], strict=True)
    ]
    extra = base[_N_OBJ]
    if new[_N_OBJ]:
        extra = {**new[_N_OBJ], **extra} if not overwrite else {**extra, **new[_N_OBJ]}
    out.append(extra)
    return out


def _is_metadata_file(result: ParseResult) -> bool:
    fmt = (result.format or "").lower()
    return fmt.startswith(_METADATA_FORMAT_PREFIXES) or (
        bool(result.objects) and not result.element_sets
    )


def _incoming_objects(result: ParseResult) -> dict[int, list[Any]]:
    """Metadata per object of one file: parser objects, gaps filled from element sets."""
    incoming: dict[int, list[Any]] = {}
    for obj in result.objects:
        values = _object_values(obj)
        prev = incoming.get(obj.norad_id)
        # Parser objects come in file order; later records describe the object later.
        incoming[obj.norad_id] = values if prev is None else _fill(prev, values, overwrite=True)
    newest: dict[int, ElementSet] = {}
    for es in result.element_sets:
        cur = newest.get(es.norad_id)
        if cur is None or (es.epoch_jd - cur.epoch_jd) + (es.epoch_fr - cur.epoch_fr) >= 0:
            newest[es.norad_id] = es
    blanks = [None] * (_N_OBJ - 3)
    for norad_id, es in newest.items():
        values = incoming.get(norad_id)
        if values is not None and None not in values[:3]:
            continue
        name = (es.name.strip() or None) if es.name else None
        intl = (es.intl_designator.strip() or None) if es.intl_designator else None
        from_set = [name, intl, object_type_from_name(name), *blanks, {}]
        incoming[norad_id] = (
            from_set if values is None else _fill(values, from_set, overwrite=False)
        )
    return incoming


def _load_objects(session: Session, norad_ids: Sequence[int]) -> dict[int, tuple[list[Any], str]]:
    """Stored ``([*fields, extra], releasable_to)`` of the given objects."""
    so = space_objects.c
    cols = [so.norad_id, *(so[f] for f in _OBJ_FIELDS), so.extra, so.releasable_to]
    found: dict[int, tuple[list[Any], str]] = {}
    for chunk in _chunks(norad_ids):
        for row in session.execute(select(*cols).where(_in_ids(so.norad_id, chunk))).all():
            values = list(row[1 : _N_OBJ + 1])
            values.append(json.loads(row[_N_OBJ + 1]) if row[_N_OBJ + 1] else {})
            found[int(row[0])] = (values, row[_N_OBJ + 2])
    return found


def _merge_object(
    old: tuple[list[Any], str] | None, new: list[Any], *, releasable_to: str,
    authoritative: bool,
) -> tuple[list[Any], str] | None:
    """New ``(values, releasable_to)`` of one object, or None to leave the stored row."""
    if old is None:
        return new, releasable_to
    values, held = old
    if releasable_to == held:
        merged = _fill(values, new, overwrite=authoritative)
        return None if merged == values else (merged, held)
    if covers(releasable_to, held):
        # The stored fields were releasable to fewer nations: widening the row
        # would leak them, so the wider source's fields replace them.
        return new, releasable_to
    return None


_OBJECT_COLUMNS = ("norad_id", *_OBJ_FIELDS, "extra", "updated_at", "releasable_to")


def _upsert_objects(
    session: Session, incoming: dict[int, list[Any]], *, releasable_to: str,
    authoritative: bool, now: datetime,
) -> int:
    stored = _load_objects(session, sorted(incoming))
    launch = _bind_processor(session, space_objects.c.launch_date)
    decay = _bind_processor(session, space_objects.c.decay_date)
    i_launch, i_decay = _OBJ_FIELDS.index("launch_date"), _OBJ_FIELDS.index("decay_date")
    updated_at = _bind_processor(session, space_objects.c.updated_at)(now)
    rows = []
    for norad_id, values in incoming.items():
        merged = _merge_object(
            stored.get(norad_id), values, releasable_to=releasable_to, authoritative=authoritative
        )
        if merged is None:
            continue
        values, rel = merged
        extra = json.dumps(values[_N_OBJ], sort_keys=True) if values[_N_OBJ] else None
        values = values[:_N_OBJ]
        if values[i_launch] is not None:
            values[i_launch] = launch(values[i_launch])
        if values[i_decay] is not None:
            values[i_decay] = decay(values[i_decay])
        rows.append((norad_id, *values, extra, updated_at, rel))
    def upsert(stmt: Any) -> Any:
        return stmt.on_conflict_do_update(
            index_elements=[space_objects.c.norad_id],
            set_={c: stmt.excluded[c] for c in _OBJECT_COLUMNS[1:]},
        )

    _bulk_insert(session, space_objects, _OBJECT_COLUMNS, rows, on_conflict=upsert)
    return len(rows)


def _stored_keys(
    session: Session, norad_ids: Sequence[int], origin: str, lo: datetime, hi: datetime
) -> set[tuple[int, datetime]]:
    """Keys ``(norad_id, epoch)`` already stored for ``origin`` in the epoch range.

    Filtering on ``norad_id IN (...)`` plus the epoch range walks the unique
    index, so the cost follows the file, not the size of the history.
    """
    es = element_sets.c
    keys: set[tuple[int, datetime]] = set()
    for chunk in _chunks(norad_ids):
        stmt = select(es.norad_id, es.epoch).where(
            _in_ids(es.norad_id, chunk), es.epoch >= lo, es.epoch <= hi, es.origin == origin
        )
        keys.update((int(n), e) for n, e in session.execute(stmt).all())
    return keys


_ES_COLUMNS = (*_ES_FIELDS, "epoch", "source_id", "origin", "releasable_to", "ingested_at")


def add_parse_result(
    *,
    session: Session,
    result: ParseResult,
    origin: str = "public",
    releasable_to: str = ALL,
) -> IngestReport:
    """Store one parsed file: a source row, upserted objects, new element sets.

    Runs inside the caller's transaction (commit it to keep the file; one file
    should be one transaction). A file whose SHA-256 is already in ``sources``
    adds nothing and comes back with ``already_ingested=True``.

    Parameters
    ----------
    session : Session
        Open session; this function flushes but does not commit.
    result : ParseResult
        Parser output. When ``result.sha256`` is None (built in code) a hash
        of the parsed content stands in for the file hash.
    origin : str
        Data provider label (``"space-track"``, ``"celestrak"``, ...); part of
        the element-set dedupe key ``(norad_id, epoch, origin)``.
    releasable_to : str
        ``"ALL"`` or the nations allowed to see the file's records (``"JPN,USA"``).

    Returns
    -------
    IngestReport

    Raises
    ------
    ReleasabilityError
        On a malformed ``releasable_to``.
    StoreError
        On an empty ``origin``.
    """
    rel = normalize_releasability(releasable_to)
    origin = origin.strip()
    if not origin:
        raise StoreError("origin must be a provider label such as 'space-track' or 'public'")
    sha = result.sha256 or _content_sha256(result)
    n_sets = len(result.element_sets)
    common = {
        "file": result.file, "format": result.format, "sha256": sha,
        "n_records": result.n_records, "n_element_sets": n_sets,
        "n_rejected": len(result.rejected), "rejected": tuple(result.rejected),
    }

    existing = session.execute(select(sources.c.id).where(sources.c.sha256 == sha)).scalar()
    if existing is not None:
        return IngestReport(
            **common, source_id=existing, already_ingested=True, n_element_sets_added=0,
            n_duplicates=n_sets, n_objects_upserted=0,
        )

    now = _now_naive_utc()
    # The savepoint turns a concurrent ingest of the same file (unique sha256)
    # into "already ingested" instead of failing the caller's transaction.
    try:
        with session.begin_nested():
            source_id = session.execute(
                sources.insert().returning(sources.c.id),
                {
                    "file_name": PurePath(result.file).name[-500:], "sha256": sha,
                    "format": result.format, "ingested_at": now, "n_records": result.n_records,
                    "n_element_sets_added": 0, "n_rejected": len(result.rejected),
                    "origin": origin, "releasable_to": rel,
                },
            ).scalar_one()
    except IntegrityError:
        existing = session.execute(select(sources.c.id).where(sources.c.sha256 == sha)).scalar()
        if existing is None:
            raise
        return IngestReport(
            **common, source_id=existing, already_ingested=True, n_element_sets_added=0,
            n_duplicates=n_sets, n_objects_upserted=0,
        )

    n_objects = _upsert_objects(
        session, _incoming_objects(result), releasable_to=rel,
        authoritative=_is_metadata_file(result), now=now,
    )

    n_added = 0
    if n_sets:
        jd = np.fromiter((es.epoch_jd for es in result.element_sets), np.float64, n_sets)
        fr = np.fromiter((es.epoch_fr for es in result.element_sets), np.float64, n_sets)
        epochs = _epochs_naive_utc(jd, fr)
        ids = sorted({es.norad_id for es in result.element_sets})
        seen = _stored_keys(session, ids, origin, min(epochs), max(epochs))
        rows = []
        to_db = _bind_processor(session, element_sets.c.epoch)
        tail = (source_id, origin, rel, _bind_processor(session, element_sets.c.ingested_at)(now))
        # Within the file the last record of a key wins: a history file lists a set
        # re-issued for the same epoch (a correction, or a full-precision copy) after
        # the first issue, and the maneuver detector keeps the later one too. Sets
        # stored from earlier files are never replaced (append-only history).
        for es, epoch in zip(reversed(result.element_sets), reversed(epochs), strict=True):
            key = (es.norad_id, epoch)
            if key in seen:
                continue
            seen.add(key)
            rows.append((*_ES_GET(es), to_db(epoch), *tail))
        rows.reverse()
        # DO NOTHING covers a concurrent writer adding the same sets between
        # the key load above and this insert; the count then stays exact.
        n_added = _bulk_insert(
            session, element_sets, _ES_COLUMNS, rows,
            on_conflict=lambda stmt: stmt.on_conflict_do_nothing(),
        )
        session.execute(
            sources.update().where(sources.c.id == source_id).values(n_element_sets_added=n_added)
        )
    return IngestReport(
        **common, source_id=source_id, already_ingested=False, n_element_sets_added=n_added,
        n_duplicates=n_sets - n_added, n_objects_upserted=n_objects,
    )


# ---------------------------------------------------------------- reads


def _element_set(row: Sequence[Any]) -> ElementSet:
    """ElementSet of a row selected as ``_ES_FIELDS``."""
    return ElementSet(**dict(zip(_ES_FIELDS, row, strict=True)))


# Columns read for a SpaceObject, in the order _space_object expects.
_OBJECT_READ = (
    space_objects.c.norad_id, *(space_objects.c[f] for f in _OBJ_FIELDS), space_objects.c.extra
)


def _space_object(row: Sequence[Any]) -> SpaceObject:
    extra = row[-1]
    return SpaceObject(
        norad_id=int(row[0]),
        **dict(zip(_OBJ_FIELDS, row[1:-1], strict=True)),
        extra=json.loads(extra) if extra else {},
    )


def _latest_query(
    *, as_of: datetime | None, norad_ids: Sequence[int] | None, releasable_to: str | None
) -> Any:
    """Subquery: the newest visible element set per object at or before ``as_of``.

    Ties on epoch (the same epoch from two providers) go to the set stored
    last, as :meth:`CatalogSnapshot.from_element_sets` lets a later file win.
    """
    es = element_sets.c
    rank = func.row_number().over(
        partition_by=es.norad_id, order_by=(es.epoch.desc(), es.id.desc())
    ).label("rank")
    inner = _where(
        select(element_sets, rank),
        None if as_of is None else es.epoch <= _to_db_time(as_of),
        None if norad_ids is None else _in_ids(es.norad_id, norad_ids),
        _visible(es.releasable_to, releasable_to),
    ).subquery("ranked")
    return select(inner).where(inner.c.rank == 1).subquery("latest")


def latest_element_sets(
    *,
    session: Session,
    as_of: datetime | None = None,
    norad_ids: Iterable[int] | None = None,
    releasable_to: str | None = None,
) -> list[ElementSet]:
    """Newest element set per object with epoch at or before ``as_of``, sorted by ``norad_id``.

    Parameters
    ----------
    as_of : datetime, optional
        Aware UTC time; None takes the newest set of each object.
    norad_ids : iterable of int, optional
        Only these objects.
    releasable_to : str, optional
        Viewer nation code; sets not releasable to it are ignored (an older
        releasable set of the same object is returned instead).
    """
    id_chunks: Iterable[Sequence[int] | None]
    if norad_ids is None:
        id_chunks = [None]
    else:
        id_chunks = list(_chunks(sorted({int(i) for i in norad_ids})))
    found: list[ElementSet] = []
    for chunk in id_chunks:
        latest = _latest_query(as_of=as_of, norad_ids=chunk, releasable_to=releasable_to)
        stmt = select(*(latest.c[f] for f in _ES_FIELDS)).order_by(latest.c.norad_id)
        found.extend(_element_set(r) for r in session.execute(stmt).all())
    return found


def load_snapshot(
    *, session: Session, as_of: datetime | None = None, releasable_to: str | None = None
) -> CatalogSnapshot:
    """Catalog "as of" ``as_of``: the newest set per object plus visible metadata."""
    sets = latest_element_sets(session=session, as_of=as_of, releasable_to=releasable_to)
    wanted = {es.norad_id for es in sets}
    stmt = _where(select(*_OBJECT_READ), _visible(space_objects.c.releasable_to, releasable_to))
    objects = [_space_object(r) for r in session.execute(stmt).all() if r[0] in wanted]
    return CatalogSnapshot(
        element_sets=tuple(sets),
        objects={o.norad_id: o for o in objects},
        as_of=None if as_of is None else as_utc(as_of),
    )


def element_set_history(
    *,
    session: Session,
    norad_id: int,
    releasable_to: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[ElementSet]:
    """Every stored (visible) element set of one object, oldest epoch first.

    ``start``/``end`` (aware UTC, inclusive) narrow the epoch range.
    """
    return element_set_histories(session=session, norad_ids=[norad_id],
                                 releasable_to=releasable_to, start=start, end=end)


def element_set_histories(
    *,
    session: Session,
    norad_ids: Sequence[int],
    releasable_to: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[ElementSet]:
    """:func:`element_set_history` of many objects in one query per 5,000 ids, ordered by
    NORAD id, then epoch."""
    es = element_sets.c
    ids = sorted({int(i) for i in norad_ids})
    out: list[ElementSet] = []
    for part in _chunks(ids):
        stmt = _where(
            select(*(es[f] for f in _ES_FIELDS)),
            _in_ids(es.norad_id, part),
            None if start is None else es.epoch >= _to_db_time(start),
            None if end is None else es.epoch <= _to_db_time(end),
            _visible(es.releasable_to, releasable_to),
        ).order_by(es.norad_id, es.epoch, es.id)
        out.extend(_element_set(r) for r in session.execute(stmt).all())
    return out


def get_object(
    *, session: Session, norad_id: int, releasable_to: str | None = None
) -> SpaceObject | None:
    """Metadata of one object, or None if unknown or not releasable to the viewer."""
    stmt = _where(
        select(*_OBJECT_READ),
        space_objects.c.norad_id == int(norad_id),
        _visible(space_objects.c.releasable_to, releasable_to),
    )
    row = session.execute(stmt).first()
    return None if row is None else _space_object(row)


def regime_expression(
    mean_motion: ColumnElement[float], eccentricity: ColumnElement[float]
) -> ColumnElement[str]:
    """SQL twin of :func:`kizuna.catalog.regimes.orbit_regime` (same constants)."""
    return case(
        (or_(mean_motion.is_(None), mean_motion <= 0), regimes.UNKNOWN),
        (
            and_(
                mean_motion >= regimes.GEO_MEAN_MOTION_MIN,
                mean_motion <= regimes.GEO_MEAN_MOTION_MAX,
                eccentricity < regimes.GEO_ECCENTRICITY_MAX,
            ),
            "GEO",
        ),
        (eccentricity >= regimes.HEO_ECCENTRICITY_MIN, "HEO"),
        (mean_motion > regimes.LEO_MEAN_MOTION_MIN, "LEO"),
        else_="MEO",
    )


def _objects_query(
    *, regime: str | None, object_type: str | None, owner: str | None,
    releasable_to: str | None, as_of: datetime | None,
) -> Select[Any]:
    stmt = select(*_OBJECT_READ)
    if regime is not None:
        latest = _latest_query(as_of=as_of, norad_ids=None, releasable_to=releasable_to)
        stmt = stmt.outerjoin(latest, latest.c.norad_id == space_objects.c.norad_id).where(
            regime_expression(latest.c.mean_motion_rev_day, latest.c.eccentricity)
            == regime.upper()
        )
    return _where(
        stmt,
        None if object_type is None else space_objects.c.object_type == object_type.upper(),
        None if owner is None else space_objects.c.owner == owner,
        _visible(space_objects.c.releasable_to, releasable_to),
    )


def list_objects(
    *,
    session: Session,
    regime: str | None = None,
    object_type: str | None = None,
    owner: str | None = None,
    releasable_to: str | None = None,
    as_of: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[SpaceObject]:
    """Objects by ``norad_id``, filtered by orbit regime, type and owner.

    ``regime`` (``LEO``/``MEO``/``GEO``/``HEO``/``UNKNOWN``) is judged from each
    object's newest visible element set at or before ``as_of``; objects with
    no set are ``UNKNOWN``. ``object_type`` is a SATCAT type (``PAYLOAD``,
    ``ROCKET BODY``, ``DEBRIS``, ``UNKNOWN``); ``owner`` matches exactly.
    """
    stmt = _objects_query(
        regime=regime, object_type=object_type, owner=owner,
        releasable_to=releasable_to, as_of=as_of,
    ).order_by(space_objects.c.norad_id).limit(limit).offset(offset)
    return [_space_object(r) for r in session.execute(stmt).all()]


def count_objects(
    *,
    session: Session,
    regime: str | None = None,
    object_type: str | None = None,
    owner: str | None = None,
    releasable_to: str | None = None,
    as_of: datetime | None = None,
) -> int:
    """How many objects :func:`list_objects` would page through."""
    inner = _objects_query(
        regime=regime, object_type=object_type, owner=owner,
        releasable_to=releasable_to, as_of=as_of,
    ).subquery()
    return int(session.execute(select(func.count()).select_from(inner)).scalar_one())


def catalog_summary(
    *, session: Session, as_of: datetime | None = None, releasable_to: str | None = None
) -> dict[str, Any]:
    """Counts describing the catalog as of ``as_of`` (aware UTC; None for newest).

    Returns
    -------
    dict
        ``as_of`` (ISO string or None); ``n_objects`` (objects with an element
        set at or before ``as_of``); ``n_element_sets`` (sets with epoch at or
        before ``as_of``); ``n_sources`` (ingested files); ``by_regime`` (every
        regime of :mod:`kizuna.catalog.regimes`, zero included, plus
        ``UNKNOWN`` when present); ``by_object_type`` (``UNKNOWN`` where no
        type is known); ``by_owner`` (known owners only). The ``by_*`` counts
        are over the ``n_objects`` objects; types and owners are sorted by
        count, largest first.
    """
    latest = _latest_query(as_of=as_of, norad_ids=None, releasable_to=releasable_to)
    join_on = latest.c.norad_id == space_objects.c.norad_id
    visible = _visible(space_objects.c.releasable_to, releasable_to)
    if visible is not None:
        join_on = and_(join_on, visible)
    stmt = select(
        latest.c.mean_motion_rev_day, latest.c.eccentricity,
        space_objects.c.object_type, space_objects.c.owner,
    ).select_from(latest.outerjoin(space_objects, join_on))
    rows = session.execute(stmt).all()

    n = np.fromiter((r[0] for r in rows), np.float64, len(rows))
    e = np.fromiter((r[1] for r in rows), np.float64, len(rows))
    by_regime = dict.fromkeys(regimes.REGIMES, 0)
    names, counts = np.unique(regimes.orbit_regimes(n, e), return_counts=True)
    by_regime.update({str(k): int(v) for k, v in zip(names, counts, strict=True)})

    def tally(values: Iterable[str | None], missing: str | None) -> dict[str, int]:
        out: dict[str, int] = {}
        for v in values:
            key = v if v else missing
            if key is not None:
                out[key] = out.get(key, 0) + 1
        return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))

    es = element_sets.c
    n_sets_stmt = _where(
        select(func.count()).select_from(element_sets),
        None if as_of is None else es.epoch <= _to_db_time(as_of),
        _visible(es.releasable_to, releasable_to),
    )
    n_sources_stmt = _where(
        select(func.count()).select_from(sources), _visible(sources.c.releasable_to, releasable_to)
    )
    return {
        "as_of": None if as_of is None else as_utc(as_of).isoformat(),
        "n_objects": len(rows),
        "n_element_sets": int(session.execute(n_sets_stmt).scalar_one()),
        "n_sources": int(session.execute(n_sources_stmt).scalar_one()),
        "by_regime": by_regime,
        "by_object_type": tally((r[2] for r in rows), "UNKNOWN"),
        "by_owner": tally((r[3] for r in rows), None),
    }


def list_sources(
    *, session: Session, releasable_to: str | None = None, limit: int = 100, offset: int = 0
) -> list[SourceRecord]:
    """Ingested files, newest first."""
    stmt = _where(select(sources), _visible(sources.c.releasable_to, releasable_to))
    stmt = stmt.order_by(sources.c.id.desc()).limit(limit).offset(offset)
    out = []
    for r in session.execute(stmt).mappings():
        values = dict(r)
        values["ingested_at"] = _from_db_time(values["ingested_at"])
        out.append(SourceRecord(**values))
    return out


# ---------------------------------------------------------------- runs


def start_run(*, session: Session, kind: str, parameters: dict[str, Any] | None = None) -> int:
    """Record the start of an analysis run; returns its id (status ``running``)."""
    return int(
        session.execute(
            runs.insert().returning(runs.c.id),
            {
                "kind": kind, "started_at": _now_naive_utc(), "finished_at": None,
                "parameters": json.dumps(parameters or {}, sort_keys=True, default=str),
                "status": "running",
            },
        ).scalar_one()
    )


def finish_run(*, session: Session, run_id: int, status: str = "done") -> None:
    """Mark a run finished with ``status`` (``done``, ``failed`` ...)."""
    session.execute(
        runs.update().where(runs.c.id == run_id).values(
            finished_at=_now_naive_utc(), status=status
        )
    )


__all__ = [
    "IngestReport",
    "SourceRecord",
    "add_parse_result",
    "catalog_summary",
    "count_objects",
    "element_set_history",
    "finish_run",
    "get_object",
    "latest_element_sets",
    "list_objects",
    "list_sources",
    "load_snapshot",
    "regime_expression",
    "start_run",
]
