"""Collision probability per stored conjunction.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23

Adds two nullable columns to ``conjunctions``: ``pc`` (NULL where not
computed or undefined) and ``pc_method`` (what produced it, NULL for runs
screened without Pc). Rows stored before keep NULL in both.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # batch mode: SQLite cannot drop columns in place (downgrade), harmless for add.
    with op.batch_alter_table("conjunctions") as batch:
        batch.add_column(sa.Column("pc", sa.Double(), nullable=True))
        batch.add_column(sa.Column("pc_method", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conjunctions") as batch:
        batch.drop_column("pc_method")
        batch.drop_column("pc")
