"""Not-consulted records (R5): the employer's reasons for not putting a version to consultation.

Revision ID: 0004_not_consulted
Revises: 0003_dpia_signoff
Create Date: 2026-11-27

Adds ``not_consulted``. Written out in full, like the earlier revisions, so it stays what it was.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_not_consulted"
down_revision: str | None = "0003_dpia_signoff"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add the not-consulted table."""
    op.create_table(
        "not_consulted",
        sa.Column("policy_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("policy_id", "version", name="pk_not_consulted"),
        sa.ForeignKeyConstraint(
            ["policy_id", "version"],
            ["policy_versions.policy_id", "policy_versions.version"],
            name="fk_not_consulted_policy_id_version_policy_versions",
        ),
    )


def downgrade() -> None:
    """Drop the not-consulted records (they are lost)."""
    op.drop_table("not_consulted")
