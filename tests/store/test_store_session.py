"""Engines, migrations and sessions on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from kizuna.errors import StoreError, StoreUnavailableError
from kizuna.store.models import Base
from kizuna.store.session import (
    MIGRATIONS_DIR,
    alembic_config,
    default_url,
    make_engine,
    open_existing_store,
    open_store,
    switch_to_wal,
    upgrade,
)

TABLES = {
    "sources", "space_objects", "element_sets", "runs", "conjunctions", "object_covariances",
    "events", "alembic_version",
}


def _head() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def test_migrations_create_the_schema_and_a_second_upgrade_is_a_no_op(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert set(inspect(engine).get_table_names()) == set()
        upgrade(db_url)
        first = inspect(engine)
        assert set(first.get_table_names()) == TABLES
        columns = {t: [c["name"] for c in first.get_columns(t)] for t in TABLES}
        indexes = {t: first.get_unique_constraints(t) for t in TABLES}
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() \
                == [_head()]

        upgrade(db_url)
        upgrade(engine)
        again = inspect(engine)
        assert set(again.get_table_names()) == TABLES
        assert {t: [c["name"] for c in again.get_columns(t)] for t in TABLES} == columns
        assert {t: again.get_unique_constraints(t) for t in TABLES} == indexes
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() \
                == [_head()]
    finally:
        engine.dispose()


def test_migrated_schema_matches_the_models(db_url: str) -> None:
    # Alembic's autogenerate comparison finds nothing to change: the
    # hand-written migration and the models describe the same tables.
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
            )
        assert diffs == []
    finally:
        engine.dispose()


def test_dedupe_key_is_unique_on_norad_id_epoch_origin(db_url: str) -> None:
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        uniques = inspect(engine).get_unique_constraints("element_sets")
        assert [u["column_names"] for u in uniques] == [["norad_id", "epoch", "origin"]]
        assert [u["column_names"] for u in inspect(engine).get_unique_constraints("sources")] \
            == [["sha256"]]
    finally:
        engine.dispose()


def test_sqlite_connections_use_wal_foreign_keys_and_normal_sync(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'a.sqlite'}")
    try:
        with store.begin() as session:
            assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert session.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
            assert session.execute(text("PRAGMA busy_timeout")).scalar() > 0
    finally:
        store.dispose()


def test_default_url_is_a_sqlite_file_under_data_dir_which_is_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "deep" / "data dir"
    monkeypatch.setenv("KIZUNA_DATA_DIR", str(data_dir))
    monkeypatch.delenv("KIZUNA_DB_URL", raising=False)
    assert default_url() == f"sqlite:///{(data_dir / 'kizuna.sqlite').resolve()}"
    store = open_store()
    try:
        with store.begin() as session:
            assert session.execute(text("SELECT count(*) FROM element_sets")).scalar() == 0
    finally:
        store.dispose()
    assert (data_dir / "kizuna.sqlite").is_file()


def test_a_url_that_cannot_be_parsed_raises_store_error() -> None:
    with pytest.raises(StoreError, match="cannot parse store URL"):
        make_engine("not a url")


def test_an_unreachable_database_raises_store_error() -> None:
    with pytest.raises(StoreError, match="cannot upgrade"):
        open_store(
            "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"
        )


def test_open_existing_store_never_creates_or_migrates(db_url: str) -> None:
    """Read-only commands open a store only where one exists at the newest revision."""
    if db_url.startswith("sqlite"):
        path = Path(db_url.removeprefix("sqlite:///"))
        with pytest.raises(StoreUnavailableError, match="no store at"):
            open_existing_store(db_url)
        assert not path.exists() and not path.parent.exists()
    # An empty database (PostgreSQL) or a store one revision behind: refused, untouched.
    engine = make_engine(db_url)
    try:
        if db_url.startswith("postgresql"):
            with pytest.raises(StoreUnavailableError, match="schema revision None"):
                open_existing_store(db_url)
        script = ScriptDirectory.from_config(alembic_config())
        previous = script.get_revision(_head()).down_revision
        upgrade(engine, revision=previous)
        with pytest.raises(StoreUnavailableError,
                           match=f"schema revision {previous}, not {_head()}"):
            open_existing_store(db_url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() \
                == previous
        upgrade(engine)
    finally:
        engine.dispose()
    with open_existing_store(db_url) as store, store.begin() as session:
        assert session.execute(text("SELECT count(*) FROM element_sets")).scalar_one() == 0


def test_open_existing_store_reports_an_unreachable_database_and_a_bad_url() -> None:
    with pytest.raises(StoreUnavailableError, match="cannot read the store at"):
        open_existing_store("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    with pytest.raises(StoreError, match="cannot parse store URL"):
        open_existing_store("not a url")


def test_migrations_ship_inside_the_package() -> None:
    # No alembic.ini at the repository root is needed: the script location is
    # the package folder, which the wheel carries as package data.
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert (MIGRATIONS_DIR / "script.py.mako").is_file()
    assert list((MIGRATIONS_DIR / "versions").glob("0001_*.py"))
    assert alembic_config().get_main_option("script_location") == str(MIGRATIONS_DIR)


def test_processes_opening_a_new_store_at_once_all_succeed(db_url: str) -> None:
    # They take turns on the schema upgrade instead of racing to create tables.
    # Five at once, so that two of them switch the new SQLite file to WAL together.
    code = "import sys\nfrom kizuna.store import open_store\nopen_store(sys.argv[1]).dispose()\n"
    procs = [subprocess.Popen([sys.executable, "-c", code, db_url], stderr=subprocess.PIPE,
                              text=True) for _ in range(5)]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 5, errors
    engine = make_engine(db_url)
    try:
        assert set(inspect(engine).get_table_names()) == TABLES
    finally:
        engine.dispose()


class _LockedTwiceCursor:
    """Answers "database is locked" to the first two statements, as SQLite does to
    the loser of two processes switching one new file to WAL at the same time."""

    def __init__(self, error: str = "database is locked", failures: int = 2) -> None:
        self.error, self.failures, self.calls = error, failures, 0

    def execute(self, sql: str) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise sqlite3.OperationalError(self.error)


def test_the_wal_switch_is_retried_while_the_database_is_locked() -> None:
    cursor = _LockedTwiceCursor()
    switch_to_wal(cursor, timeout_s=5.0)
    assert cursor.calls == 3


def test_the_wal_switch_gives_up_after_its_timeout_and_on_other_errors() -> None:
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        switch_to_wal(_LockedTwiceCursor(failures=10**6), timeout_s=0.05)
    other = _LockedTwiceCursor(error="disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        switch_to_wal(other, timeout_s=5.0)
    assert other.calls == 1


def test_upgrade_is_retried_when_sqlite_answers_locked_at_once(tmp_path, monkeypatch) -> None:
    import sqlalchemy.exc

    import kizuna.store.session as session_module

    real = session_module._upgrade_once
    attempts = []

    def flaky(engine, revision):  # type: ignore[no-untyped-def]
        attempts.append(revision)
        if len(attempts) <= 2:  # as a WAL open racing another process's last close
            raise sqlalchemy.exc.OperationalError(
                "PRAGMA journal_mode=WAL", {}, sqlite3.OperationalError("database is locked"))
        real(engine, revision)

    monkeypatch.setattr(session_module, "_upgrade_once", flaky)
    url = f"sqlite:///{tmp_path / 'retry.sqlite'}"
    upgrade(url)
    assert len(attempts) == 3
    engine = make_engine(url)
    try:
        assert set(inspect(engine).get_table_names()) == TABLES
    finally:
        engine.dispose()
