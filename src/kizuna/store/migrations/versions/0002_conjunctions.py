"""Conjunctions found by screening runs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "conjunctions",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("primary_norad_id", sa.BigInteger(), nullable=False),
        sa.Column("secondary_norad_id", sa.BigInteger(), nullable=False),
        sa.Column("tca", sa.DateTime(), nullable=False),
        sa.Column("tca_utc", sa.String(length=32), nullable=False),
        sa.Column("miss_km", sa.Double(), nullable=False),
        sa.Column("rel_speed_km_s", sa.Double(), nullable=False),
        sa.Column("radial_km", sa.Double(), nullable=False),
        sa.Column("in_track_km", sa.Double(), nullable=False),
        sa.Column("cross_track_km", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_conjunctions_run_id_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conjunctions")),
    )
    for column in ("run_id", "primary_norad_id", "secondary_norad_id", "tca"):
        op.create_index(op.f(f"ix_conjunctions_{column}"), "conjunctions", [column])


def downgrade() -> None:
    op.drop_table("conjunctions")
