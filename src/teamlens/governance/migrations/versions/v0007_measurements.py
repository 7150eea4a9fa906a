"""The release engine's base measurements and the published report cells (issue "Numbers worth reading").

Revision ID: 0007_measurements
Revises: 0006_identity
Create Date: 2026-12-03

Adds ``measured_blocks``, ``measurements`` and ``report_cells``. Releases made before this
revision stay in ``released_cells`` and the ledger (their budget still counts); new releases
are derived from base measurements. Written out in full, like the earlier revisions.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_measurements"
down_revision: str | None = "0006_identity"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add the three tables."""
    op.create_table(
        "measured_blocks",
        sa.Column("policy_id", sa.String(64), nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("block_key", sa.String(16), nullable=False),
        sa.Column("span_key", sa.String(16), nullable=True),
        sa.Column("structure", sa.Text, nullable=False),
        sa.Column("rows_sha256", sa.String(64), nullable=False),
        sa.Column("rho_numerator", sa.String(200), nullable=False),
        sa.Column("rho_denominator", sa.String(200), nullable=False),
        sa.Column("release_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("policy_id", "period_start", "block_key", name="pk_measured_blocks"),
        sa.ForeignKeyConstraint(
            ["release_id"], ["releases.release_id"], name="fk_measured_blocks_release_id_releases"
        ),
    )
    op.create_index("ix_measured_blocks_release_id", "measured_blocks", ["release_id"])
    op.create_table(
        "measurements",
        sa.Column("policy_id", sa.String(64), nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("metric", sa.String(64), nullable=False),
        sa.Column("group_key", sa.String(200), nullable=False),
        sa.Column("week", sa.Date, nullable=False),
        sa.Column("block_key", sa.String(16), nullable=False),
        sa.Column("noisy", sa.BigInteger, nullable=False),
        sa.Column("sigma", sa.Double, nullable=False),
        sa.Column("scale", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint(
            "policy_id", "period_start", "level", "metric", "group_key", "week", name="pk_measurements"
        ),
    )
    op.create_index(
        "ix_measurements_policy_id_period_start_block_key",
        "measurements",
        ["policy_id", "period_start", "block_key"],
    )
    op.create_table(
        "report_cells",
        sa.Column("policy_id", sa.String(64), nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("report_id", sa.String(64), nullable=False),
        sa.Column("window_key", sa.String(16), nullable=False),
        sa.Column("metric", sa.String(64), nullable=False),
        sa.Column("group_key", sa.String(200), nullable=False),
        sa.Column("value", sa.Double, nullable=True),
        sa.Column("lower", sa.Double, nullable=True),
        sa.Column("upper", sa.Double, nullable=True),
        sa.Column("total", sa.Double, nullable=True),
        sa.Column("person_weeks", sa.Double, nullable=True),
        sa.Column("sd_total", sa.Double, nullable=True),
        sa.Column("sd_person_weeks", sa.Double, nullable=True),
        sa.Column("clamped", sa.Boolean, nullable=False),
        sa.Column("uncertain", sa.Boolean, nullable=False),
        sa.Column("release_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint(
            "policy_id",
            "period_start",
            "report_id",
            "window_key",
            "metric",
            "group_key",
            name="pk_report_cells",
        ),
        sa.ForeignKeyConstraint(
            ["release_id"], ["releases.release_id"], name="fk_report_cells_release_id_releases"
        ),
    )
    op.create_index("ix_report_cells_release_id", "report_cells", ["release_id"])


def downgrade() -> None:
    """Drop the three tables (the measurements and published cells are lost; the ledger keeps the charges)."""
    op.drop_index("ix_report_cells_release_id", table_name="report_cells")
    op.drop_table("report_cells")
    op.drop_index("ix_measurements_policy_id_period_start_block_key", table_name="measurements")
    op.drop_table("measurements")
    op.drop_index("ix_measured_blocks_release_id", table_name="measured_blocks")
    op.drop_table("measured_blocks")
