"""Shared fixtures: the offline data folder and a fresh store database per test.

``db_url`` runs a test once on SQLite (a file under ``tmp_path``) and once on
PostgreSQL (a new ``kizuna_test_<random>`` database, dropped afterwards).
The server is ``KIZUNA_TEST_PG_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``, trust auth). If it
cannot be reached the PostgreSQL runs are skipped with the reason, unless
``KIZUNA_REQUIRE_POSTGRES=1``, which turns that into a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """``tests/data``: the real fixtures the tests read (never /work/shared)."""
    return DATA_DIR


def pg_admin_url() -> str:
    return os.environ.get("KIZUNA_TEST_PG_URL", DEFAULT_PG_URL)


@cache
def pg_unavailable_reason() -> str | None:
    """Why PostgreSQL cannot be used, or None when it can (asked once per session)."""
    engine = create_engine(pg_admin_url(), connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"PostgreSQL unreachable at {make_url(pg_admin_url())!r}: {first}"
    finally:
        engine.dispose()
    return None


@cache
def _pg_admin_engine():  # type: ignore[no-untyped-def]
    return create_engine(pg_admin_url(), isolation_level="AUTOCOMMIT")


def create_pg_database() -> str:
    """Create an empty database on the test server; returns its URL."""
    reason = pg_unavailable_reason()
    if reason is not None:
        if os.environ.get("KIZUNA_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{reason} (KIZUNA_REQUIRE_POSTGRES=1)")
        pytest.skip(reason)
    name = f"kizuna_test_{uuid.uuid4().hex[:12]}"
    with _pg_admin_engine().connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return make_url(pg_admin_url()).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(url: str) -> None:
    name = make_url(url).database
    with _pg_admin_engine().connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh, empty database (no schema yet) on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store' / 'kizuna.sqlite'}"
        return
    url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)


def pytest_sessionfinish() -> None:
    if _pg_admin_engine.cache_info().currsize:
        _pg_admin_engine().dispose()


@pytest.fixture(autouse=True)
def _isolated_default_store(tmp_path_factory: pytest.TempPathFactory,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the default store (KIZUNA_DATA_DIR) at a temporary folder in every test.

    A command run without ``--db`` must never write into the working tree.
    """
    monkeypatch.setenv("KIZUNA_DATA_DIR", str(tmp_path_factory.mktemp("kizuna_data")))
    monkeypatch.delenv("KIZUNA_DB_URL", raising=False)
