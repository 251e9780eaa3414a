"""Initial schema: sources, space_objects, element_sets, runs.

Revision ID: 0001
Revises:
Create Date: 2026-11-22

Written out in full (not imported from ``kizuna.store.models``) so that this
revision keeps creating the same schema when the models move on.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# INTEGER PRIMARY KEY is SQLite's auto-incrementing rowid alias (64-bit there).
_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("file_name", sa.String(length=500), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=40), nullable=False),
        sa.Column("ingested_at", sa.DateTime(), nullable=False),
        sa.Column("n_records", sa.Integer(), nullable=False),
        sa.Column("n_element_sets_added", sa.Integer(), nullable=False),
        sa.Column("n_rejected", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=80), nullable=False),
        sa.Column("releasable_to", sa.String(length=400), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sources")),
        sa.UniqueConstraint("sha256", name=op.f("uq_sources_sha256")),
    )
    op.create_table(
        "space_objects",
        sa.Column("norad_id", _BIG_ID, autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("intl_designator", sa.String(length=20), nullable=True),
        sa.Column("object_type", sa.String(length=40), nullable=True),
        sa.Column("owner", sa.String(length=100), nullable=True),
        sa.Column("operator", sa.String(length=300), nullable=True),
        sa.Column("purpose", sa.String(length=300), nullable=True),
        sa.Column("launch_date", sa.Date(), nullable=True),
        sa.Column("decay_date", sa.Date(), nullable=True),
        sa.Column("rcs_size", sa.String(length=20), nullable=True),
        sa.Column("extra", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("releasable_to", sa.String(length=400), nullable=False),
        sa.PrimaryKeyConstraint("norad_id", name=op.f("pk_space_objects")),
    )
    op.create_table(
        "element_sets",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("norad_id", sa.BigInteger(), nullable=False),
        sa.Column("epoch", sa.DateTime(), nullable=False),
        sa.Column("epoch_jd", sa.Double(), nullable=False),
        sa.Column("epoch_fr", sa.Double(), nullable=False),
        sa.Column("mean_motion_rev_day", sa.Double(), nullable=False),
        sa.Column("eccentricity", sa.Double(), nullable=False),
        sa.Column("inclination_deg", sa.Double(), nullable=False),
        sa.Column("raan_deg", sa.Double(), nullable=False),
        sa.Column("arg_perigee_deg", sa.Double(), nullable=False),
        sa.Column("mean_anomaly_deg", sa.Double(), nullable=False),
        sa.Column("bstar", sa.Double(), nullable=False),
        sa.Column("mean_motion_dot", sa.Double(), nullable=False),
        sa.Column("mean_motion_ddot", sa.Double(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("intl_designator", sa.String(length=20), nullable=True),
        sa.Column("classification", sa.String(length=1), nullable=False),
        sa.Column("ephemeris_type", sa.Integer(), nullable=False),
        sa.Column("element_set_no", sa.Integer(), nullable=True),
        sa.Column("rev_at_epoch", sa.Integer(), nullable=True),
        sa.Column("tle_line1", sa.String(length=80), nullable=True),
        sa.Column("tle_line2", sa.String(length=80), nullable=True),
        sa.Column("omm_text", sa.Text(), nullable=True),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=80), nullable=False),
        sa.Column("releasable_to", sa.String(length=400), nullable=False),
        sa.Column("ingested_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["norad_id"], ["space_objects.norad_id"],
            name=op.f("fk_element_sets_norad_id_space_objects"),
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_element_sets_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_element_sets")),
        # The dedupe key; its leading (norad_id, epoch) also indexes the
        # snapshot and history queries.
        sa.UniqueConstraint(
            "norad_id", "epoch", "origin", name=op.f("uq_element_sets_norad_id_epoch_origin")
        ),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("parameters", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
    )


def downgrade() -> None:
    op.drop_table("runs")
    op.drop_table("element_sets")
    op.drop_table("space_objects")
    op.drop_table("sources")
