"""Per-object covariance models estimated from element-set history.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

Only adds a table: nothing stored before is touched.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NORAD_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    coefficient_columns = [
        sa.Column(f"{component}_{name}", sa.Double(), nullable=False)
        for component in ("radial", "in_track", "cross_track")
        for name in ("a_km", "b_km_day", "c_km_day2")
    ]
    op.create_table(
        "object_covariances",
        sa.Column("norad_id", _NORAD_ID, autoincrement=False, nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("regime", sa.String(length=16), nullable=True),
        sa.Column("object_type", sa.String(length=40), nullable=True),
        *coefficient_columns,
        sa.Column("model_json", sa.Text(), nullable=False),
        sa.Column("n_pairs", sa.Integer(), nullable=False),
        sa.Column("n_element_sets", sa.Integer(), nullable=False),
        sa.Column("age_min_days", sa.Double(), nullable=False),
        sa.Column("age_max_days", sa.Double(), nullable=False),
        sa.Column("epoch_start", sa.DateTime(), nullable=True),
        sa.Column("epoch_end", sa.DateTime(), nullable=True),
        sa.Column("fitted_at", sa.DateTime(), nullable=False),
        sa.Column("provenance", sa.Text(), nullable=False),
        sa.Column("releasable_to", sa.String(length=400), nullable=False),
        sa.PrimaryKeyConstraint("norad_id", name=op.f("pk_object_covariances")),
    )


def downgrade() -> None:
    op.drop_table("object_covariances")
