"""Detected events (maneuvers, proximity events, breakups) with their evidence.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

Only adds a table: nothing stored before is touched.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_INDEXED = ("kind", "primary_norad_id", "secondary_norad_id", "start", "end", "event_time",
            "run_id")


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("subkind", sa.String(length=40), nullable=True),
        sa.Column("primary_norad_id", sa.BigInteger(), nullable=False),
        sa.Column("secondary_norad_id", sa.BigInteger(), nullable=True),
        sa.Column("start", sa.DateTime(), nullable=False),
        sa.Column("end", sa.DateTime(), nullable=False),
        sa.Column("event_time", sa.DateTime(), nullable=False),
        sa.Column("min_range_km", sa.Double(), nullable=True),
        sa.Column("delta_v_m_s", sa.Double(), nullable=True),
        sa.Column("n_fragments", sa.Integer(), nullable=True),
        sa.Column("score", sa.Double(), nullable=True),
        sa.Column("summary", sa.String(length=400), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("releasable_to", sa.String(length=400), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_events_run_id_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    for column in _INDEXED:
        op.create_index(op.f(f"ix_events_{column}"), "events", [column])


def downgrade() -> None:
    op.drop_table("events")
