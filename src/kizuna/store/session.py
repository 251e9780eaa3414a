"""Engines, schema upgrades and sessions for the store.

SQLite (a file under ``KIZUNA_DATA_DIR``) is the default; PostgreSQL
(``postgresql+psycopg://user@host:5432/db``) is the multi-user store. Both run
the same Alembic migrations, which ship inside the package, so no
``alembic.ini`` is needed: :func:`upgrade` configures Alembic in code.

Typical use::

    store = open_store()                  # default URL; schema upgraded to head
    with store.begin() as session:        # one read (or small write) transaction
        snapshot = load_snapshot(session=session)
    with store.begin_write() as session:  # one write transaction (SQLite lock up front)
        add_parse_result(session=session, result=parsed)
    store.dispose()
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from kizuna.config import get_settings
from kizuna.errors import StoreError, StoreUnavailableError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Execution option read by the SQLite "begin" hook: "IMMEDIATE" takes the
# write lock at BEGIN, so two writers queue on busy_timeout instead of one
# failing later with SQLITE_BUSY when it upgrades a stale read snapshot.
SQLITE_BEGIN_OPTION = "kizuna_sqlite_begin"
SQLITE_BUSY_TIMEOUT_MS = 60_000

# Arbitrary constant key of the PostgreSQL advisory lock that serialises
# concurrent `upgrade` calls (two processes opening a fresh database).
_PG_MIGRATION_LOCK_KEY = 0x4B495A554E41  # "KIZUNA"


def default_url() -> str:
    """The store URL from settings.

    ``KIZUNA_DB_URL`` if set, else the SQLite file ``kizuna.sqlite`` under
    ``KIZUNA_DATA_DIR``.
    """
    return get_settings().db_url()


WAL_SWITCH_TIMEOUT_S = 60.0


def switch_to_wal(cursor: Any, *, timeout_s: float = WAL_SWITCH_TIMEOUT_S) -> None:
    """``PRAGMA journal_mode=WAL``, retried while the database is locked.

    Two processes switching the same new file at once each hold a SHARED lock
    and want an EXCLUSIVE one; SQLite breaks that deadlock by answering one of
    them SQLITE_BUSY at once, without calling the busy handler, so the busy
    timeout does not help here and a short retry loop does.
    """
    deadline = time.monotonic() + timeout_s
    delay_s = 0.01
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + delay_s > deadline:
                raise
        time.sleep(delay_s)
        delay_s = min(2 * delay_s, 0.2)


def _install_sqlite_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (hook below): the sqlite3 module's
        # legacy mode would not BEGIN before SELECTs or SAVEPOINTs, breaking
        # repeatable reads and nested transactions.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # The busy timeout first: switching a new file to WAL needs an exclusive
        # lock, which another process opening the same new store may hold for a
        # whole migration; with only sqlite3's default 5 s wait, that pragma
        # failed with "database is locked" on a loaded machine.
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # WAL: readers never block the writer and a killed writer leaves only
        # uncommitted WAL frames, which the next open ignores.
        # synchronous=NORMAL is durable against process crashes in WAL mode
        # (only an OS crash can lose the last commits, never corrupt).
        switch_to_wal(cursor)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def _parse_url(url: str) -> URL:
    try:
        return make_url(url)
    except Exception as exc:  # noqa: BLE001 - any parse failure is a caller mistake
        raise StoreError(
            f"cannot parse store URL {url!r}: {exc}; use e.g. sqlite:///path/kizuna.sqlite "
            f"or postgresql+psycopg://user@host:5432/dbname"
        ) from None


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` (default: :func:`default_url`).

    For a SQLite file the parent directory is created and the connection
    pragmas set (WAL, ``foreign_keys=ON``, ``synchronous=NORMAL``, a busy
    timeout). Extra keyword arguments go to :func:`sqlalchemy.create_engine`.

    Raises
    ------
    StoreError
        If the URL cannot be parsed or names a driver that is not installed.
    """
    parsed = _parse_url(url or default_url())
    is_sqlite = parsed.get_backend_name() == "sqlite"
    if is_sqlite and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    if parsed.get_backend_name() == "postgresql":
        # Connections are checked before use: a server restart must not
        # surface as an error in the middle of a long-lived service.
        kwargs.setdefault("pool_pre_ping", True)
    try:
        engine = create_engine(parsed, **kwargs)
    except Exception as exc:  # missing DBAPI module, bad options
        raise StoreError(f"cannot create an engine for {parsed!r}: {exc}") from exc
    if is_sqlite:
        _install_sqlite_hooks(engine)
    return engine


def alembic_config(url: str | None = None) -> Config:
    """Alembic configuration pointing at the packaged migrations (no ini file)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        # ConfigParser interpolation would treat '%' in passwords as syntax.
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


_upgrade_lock = threading.Lock()


def _head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _upgrade_once(engine: Engine, revision: str) -> None:
    if revision == "head":
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
        if current is not None and current == _head_revision():
            return
    with _upgrade_lock, engine.connect() as connection:
        connection = connection.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        with connection.begin():
            if engine.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK_KEY}
                )
            cfg = alembic_config()
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)


def _is_sqlite_locked(exc: BaseException) -> bool:
    return isinstance(getattr(exc, "orig", None), sqlite3.OperationalError) and (
        "locked" in str(exc.orig))  # type: ignore[attr-defined]


def upgrade(url_or_engine: str | Engine | None = None, revision: str = "head") -> None:
    """Upgrade the schema to ``revision`` (default the newest); a no-op when already there.

    A store already at the newest revision is only read, so opening it never
    waits for a writer. Otherwise the upgrade runs in one transaction that
    holds the write lock (SQLite ``BEGIN IMMEDIATE``, a PostgreSQL advisory
    lock), so processes opening a new store at the same time take turns.

    SQLite can answer "database is locked" at once, without its busy timeout,
    to a process that opens a WAL database while another closes its last
    connection (that one checkpoints and removes the WAL under an exclusive
    lock); the upgrade is idempotent, so it is simply tried again for up to
    :data:`WAL_SWITCH_TIMEOUT_S`.

    Raises
    ------
    StoreError
        If the database cannot be reached or a migration fails.
    """
    owned = not isinstance(url_or_engine, Engine)
    engine = make_engine(url_or_engine) if owned else url_or_engine  # type: ignore[arg-type]
    deadline = time.monotonic() + WAL_SWITCH_TIMEOUT_S
    delay_s = 0.01
    try:
        while True:
            try:
                _upgrade_once(engine, revision)
                return
            except SQLAlchemyError as exc:
                if not _is_sqlite_locked(exc) or time.monotonic() + delay_s > deadline:
                    raise StoreError(
                        f"cannot upgrade the store at {engine.url!r}: "
                        f"{exc.__class__.__name__}: {exc}"
                    ) from exc
            time.sleep(delay_s)
            delay_s = min(2 * delay_s, 0.2)
    finally:
        if owned:
            engine.dispose()


class Store:
    """An open store: an engine plus a session factory.

    Calling the store returns a new :class:`~sqlalchemy.orm.Session`, as a
    ``sessionmaker`` would; :meth:`begin` and :meth:`begin_write` give a
    session inside one transaction (commit on success, rollback on error).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessionmaker: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False)

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def __call__(self) -> Session:
        return self.sessionmaker()

    @contextmanager
    def begin(self) -> Iterator[Session]:
        """A session in one transaction, for reads or small writes."""
        with self.sessionmaker.begin() as session:
            yield session

    @contextmanager
    def begin_write(self) -> Iterator[Session]:
        """A session in one write transaction.

        On SQLite the write lock is taken at BEGIN (``BEGIN IMMEDIATE``), so
        concurrent writers wait for each other rather than fail.
        """
        with self.sessionmaker() as session:
            if self.engine.dialect.name == "sqlite":
                session.connection(execution_options={SQLITE_BEGIN_OPTION: "IMMEDIATE"})
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.dispose()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"


def open_store(
    url: str | None = None, *, upgrade_schema: bool = True, **engine_kwargs: Any
) -> Store:
    """Open the store at ``url`` (default :func:`default_url`), upgrading its schema first.

    Parameters
    ----------
    url : str, optional
        SQLAlchemy URL: ``sqlite:///path/file.sqlite`` or
        ``postgresql+psycopg://user@host:5432/dbname``.
    upgrade_schema : bool
        Run :func:`upgrade` (Alembic ``upgrade head``) before returning.
    **engine_kwargs
        Passed to :func:`make_engine`.
    """
    engine = make_engine(url, **engine_kwargs)
    if upgrade_schema:
        try:
            upgrade(engine)
        except BaseException:
            engine.dispose()
            raise
    return Store(engine)


def open_existing_store(url: str | None = None, **engine_kwargs: Any) -> Store:
    """Open the store at ``url`` (default :func:`default_url`) only if it already exists
    at this version's schema revision; never creates, migrates or writes anything.

    For commands that only read: a missing store must not be left behind as an
    empty SQLite file.

    Raises
    ------
    StoreUnavailableError
        No SQLite file at the path, the database cannot be reached or read, or its
        schema revision is not the newest (the message says which, with the URL
        without its password).
    StoreError
        If the URL cannot be parsed.
    """
    url = url or default_url()
    parsed = _parse_url(url)
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite" and (
            parsed.database in (None, "", ":memory:")
            or not Path(parsed.database).expanduser().is_file()):
        raise StoreUnavailableError(f"no store at {shown}")
    engine = make_engine(url, **engine_kwargs)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as exc:
        engine.dispose()
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StoreUnavailableError(f"cannot read the store at {shown}: {first}") from exc
    head = _head_revision()
    if current != head:
        engine.dispose()
        raise StoreUnavailableError(
            f"the store at {shown} has schema revision {current}, not {head} "
            "(kizuna db upgrade)")
    return Store(engine)
