"""Alembic environment of the Kizuna store.

Configured in code by :func:`kizuna.store.session.upgrade` (no ``alembic.ini``):
it passes an open connection in ``config.attributes["connection"]``. For
``alembic revision --autogenerate`` during development, build the config
with :func:`kizuna.store.session.alembic_config` and a URL instead.
"""

from __future__ import annotations

from alembic import context

from kizuna.store.models import Base
from kizuna.store.session import make_engine

target_metadata = Base.metadata
config = context.config


def _configure_and_run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode recreates the table.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with engine.begin() as connection:
            _configure_and_run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
