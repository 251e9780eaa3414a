"""SQLAlchemy tables of the store.

The schema changes only through the Alembic migrations in
``kizuna/store/migrations``; these classes are the ``target_metadata`` they are
checked against. Conventions:

* times are naive UTC ``DateTime`` columns (microsecond precision on both
  SQLite and PostgreSQL); :mod:`kizuna.store.repository` converts to and from
  aware datetimes at its edge;
* ``releasable_to`` is the text form of :mod:`kizuna.store.releasability`
  (``"ALL"`` or sorted alpha-3 codes ``"JPN,USA"``);
* ``norad_id`` is a 64-bit integer (catalog numbers have 9 digits now).

Element sets are append-only history: the unique key ``(norad_id, epoch,
origin)`` makes the same set from the same provider arriving again (in another
file) a no-op. Its index has ``(norad_id, epoch)`` as leading columns, so it
also serves the "newest set per object as of T" query.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Fixed constraint names make migrations reproducible across backends.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments an ``INTEGER PRIMARY KEY`` (the rowid alias), which
# is 64-bit there anyway; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    """Declarative base; its ``metadata`` is Alembic's ``target_metadata``."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class SourceRow(Base):
    """One ingested input file (provenance of the element sets it added)."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    file_name: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    format: Mapped[str] = mapped_column(String(40))
    ingested_at: Mapped[datetime] = mapped_column(DateTime)
    n_records: Mapped[int] = mapped_column(Integer, default=0)
    n_element_sets_added: Mapped[int] = mapped_column(Integer, default=0)
    n_rejected: Mapped[int] = mapped_column(Integer, default=0)
    origin: Mapped[str] = mapped_column(String(80), default="public")
    releasable_to: Mapped[str] = mapped_column(String(400), default="ALL")


class SpaceObjectRow(Base):
    """What is known about one cataloged object besides its orbit.

    ``releasable_to`` applies to the metadata in the row; element sets carry
    their own releasability. ``extra`` holds further parser fields as JSON text.
    """

    __tablename__ = "space_objects"

    norad_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    name: Mapped[str | None] = mapped_column(String(200))
    intl_designator: Mapped[str | None] = mapped_column(String(20))
    object_type: Mapped[str | None] = mapped_column(String(40))
    owner: Mapped[str | None] = mapped_column(String(100))
    operator: Mapped[str | None] = mapped_column(String(300))
    purpose: Mapped[str | None] = mapped_column(String(300))
    launch_date: Mapped[date | None] = mapped_column(Date)
    decay_date: Mapped[date | None] = mapped_column(Date)
    rcs_size: Mapped[str | None] = mapped_column(String(20))
    extra: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    releasable_to: Mapped[str] = mapped_column(String(400), default="ALL")


class ElementSetRow(Base):
    """One SGP4 mean element set; columns named as :class:`~kizuna.catalog.ElementSet` fields.

    ``epoch`` (naive UTC, microsecond) is the dedupe and query key;
    ``epoch_jd``/``epoch_fr`` keep the split Julian date SGP4 wants, to the
    last digit of the input. ``tle_line1``/``tle_line2`` or ``omm_text`` keep
    the raw record for provenance.
    """

    __tablename__ = "element_sets"
    __table_args__ = (UniqueConstraint("norad_id", "epoch", "origin"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    norad_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("space_objects.norad_id"))
    epoch: Mapped[datetime] = mapped_column(DateTime)
    epoch_jd: Mapped[float] = mapped_column(Double)
    epoch_fr: Mapped[float] = mapped_column(Double)
    mean_motion_rev_day: Mapped[float] = mapped_column(Double)
    eccentricity: Mapped[float] = mapped_column(Double)
    inclination_deg: Mapped[float] = mapped_column(Double)
    raan_deg: Mapped[float] = mapped_column(Double)
    arg_perigee_deg: Mapped[float] = mapped_column(Double)
    mean_anomaly_deg: Mapped[float] = mapped_column(Double)
    bstar: Mapped[float] = mapped_column(Double)
    mean_motion_dot: Mapped[float] = mapped_column(Double)
    mean_motion_ddot: Mapped[float] = mapped_column(Double)
    name: Mapped[str | None] = mapped_column(String(200))
    intl_designator: Mapped[str | None] = mapped_column(String(20))
    classification: Mapped[str] = mapped_column(String(1))
    ephemeris_type: Mapped[int] = mapped_column(Integer)
    element_set_no: Mapped[int | None] = mapped_column(Integer)
    rev_at_epoch: Mapped[int | None] = mapped_column(Integer)
    tle_line1: Mapped[str | None] = mapped_column(String(80))
    tle_line2: Mapped[str | None] = mapped_column(String(80))
    omm_text: Mapped[str | None] = mapped_column(Text)
    source_id: Mapped[int] = mapped_column(Integer, ForeignKey("sources.id"))
    origin: Mapped[str] = mapped_column(String(80))
    releasable_to: Mapped[str] = mapped_column(String(400))
    ingested_at: Mapped[datetime] = mapped_column(DateTime)


class RunRow(Base):
    """One analysis run (screening, detection ...); ``parameters`` is JSON text."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    parameters: Mapped[str] = mapped_column(Text, default="{}")
    status: Mapped[str] = mapped_column(String(20), default="running")


class ConjunctionRow(Base):
    """One close approach found by a screening run (the screening CSV contract, row for row).

    ``tca_utc`` is the contract text (ISO 8601, milliseconds, ``Z``) so that an
    export from the store is byte-identical to the run's CSV; ``tca`` (naive
    UTC, microsecond) is the query key. ``pc`` and ``pc_method`` (migration
    0005) are the collision probability of a run screened with Pc
    (:func:`kizuna.collision.screening_pc.pc_for_events`); ``pc`` is NULL where
    it is undefined (``pc_method`` says why) and both are NULL for runs
    screened without Pc.
    """

    __tablename__ = "conjunctions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(Integer, ForeignKey("runs.id"), index=True)
    primary_norad_id: Mapped[int] = mapped_column(BigInteger, index=True)
    secondary_norad_id: Mapped[int] = mapped_column(BigInteger, index=True)
    tca: Mapped[datetime] = mapped_column(DateTime, index=True)
    tca_utc: Mapped[str] = mapped_column(String(32))
    miss_km: Mapped[float] = mapped_column(Double)
    rel_speed_km_s: Mapped[float] = mapped_column(Double)
    radial_km: Mapped[float] = mapped_column(Double)
    in_track_km: Mapped[float] = mapped_column(Double)
    cross_track_km: Mapped[float] = mapped_column(Double)
    pc: Mapped[float | None] = mapped_column(Double)
    pc_method: Mapped[str | None] = mapped_column(String(32))


sources = SourceRow.__table__
space_objects = SpaceObjectRow.__table__
element_sets = ElementSetRow.__table__
runs = RunRow.__table__
conjunctions = ConjunctionRow.__table__


class ObjectCovarianceRow(Base):
    """Element-set error model of one object (:class:`kizuna.collision.covariance.CovarianceModel`).

    One row per object, replaced by each new fit. The position growth
    coefficients are columns (queryable: "which objects have an in-track
    sigma above 5 km at one day"); the velocity coefficients, the 6x6
    correlation and the fit details are JSON in ``model_json``.
    ``provenance`` (JSON) names the history used (digest, window, settings);
    ``releasable_to`` is that of the least releasable element set it was
    fitted from.
    """

    __tablename__ = "object_covariances"

    norad_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    source: Mapped[str] = mapped_column(String(16))
    regime: Mapped[str | None] = mapped_column(String(16))
    object_type: Mapped[str | None] = mapped_column(String(40))
    radial_a_km: Mapped[float] = mapped_column(Double)
    radial_b_km_day: Mapped[float] = mapped_column(Double)
    radial_c_km_day2: Mapped[float] = mapped_column(Double)
    in_track_a_km: Mapped[float] = mapped_column(Double)
    in_track_b_km_day: Mapped[float] = mapped_column(Double)
    in_track_c_km_day2: Mapped[float] = mapped_column(Double)
    cross_track_a_km: Mapped[float] = mapped_column(Double)
    cross_track_b_km_day: Mapped[float] = mapped_column(Double)
    cross_track_c_km_day2: Mapped[float] = mapped_column(Double)
    model_json: Mapped[str] = mapped_column(Text)
    n_pairs: Mapped[int] = mapped_column(Integer)
    n_element_sets: Mapped[int] = mapped_column(Integer)
    age_min_days: Mapped[float] = mapped_column(Double)
    age_max_days: Mapped[float] = mapped_column(Double)
    epoch_start: Mapped[datetime | None] = mapped_column(DateTime)
    epoch_end: Mapped[datetime | None] = mapped_column(DateTime)
    fitted_at: Mapped[datetime] = mapped_column(DateTime)
    provenance: Mapped[str] = mapped_column(Text)
    releasable_to: Mapped[str] = mapped_column(String(400))


object_covariances = ObjectCovarianceRow.__table__


class EventRow(Base):
    """One detected event: a maneuver, a proximity event, a breakup ... (``kind``).

    ``primary_norad_id`` is the object the event is about (the maneuvering
    object, the protected asset, the breakup parent); ``secondary_norad_id`` the
    other one where there is one. ``start``/``end`` (naive UTC) bound the event
    and ``event_time`` is its moment (burn time, closest approach, breakup
    time). The numbers an operator filters on are columns; everything that
    produced the event (element-set ids, epochs and TLE lines, the computed
    numbers, settings) is JSON in ``evidence``. ``run_id`` names the run that
    found it, where there was one.
    """

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    subkind: Mapped[str | None] = mapped_column(String(40))
    primary_norad_id: Mapped[int] = mapped_column(BigInteger, index=True)
    secondary_norad_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    start: Mapped[datetime] = mapped_column(DateTime, index=True)
    end: Mapped[datetime] = mapped_column(DateTime, index=True)
    event_time: Mapped[datetime] = mapped_column(DateTime, index=True)
    min_range_km: Mapped[float | None] = mapped_column(Double)
    delta_v_m_s: Mapped[float | None] = mapped_column(Double)
    n_fragments: Mapped[int | None] = mapped_column(Integer)
    score: Mapped[float | None] = mapped_column(Double)
    summary: Mapped[str] = mapped_column(String(400), default="")
    evidence: Mapped[str] = mapped_column(Text, default="{}")
    run_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("runs.id"), index=True)
    releasable_to: Mapped[str] = mapped_column(String(400), default="ALL")
    created_at: Mapped[datetime] = mapped_column(DateTime)


events = EventRow.__table__
