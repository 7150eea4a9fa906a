"""DPIA sign-offs (R4 step 7): one per policy version, bound to the DPIA's sha256.

Revision ID: 0003_dpia_signoff
Revises: 0002_consultation
Create Date: 2026-11-27

Adds ``dpia_signoffs``. Written out in full, like 0001 and 0002, so it stays what it was.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_dpia_signoff"
down_revision: str | None = "0002_consultation"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add the sign-off table."""
    op.create_table(
        "dpia_signoffs",
        sa.Column("policy_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("dpia_sha256", sa.String(64), nullable=False),
        sa.Column("measures_by", sa.String(200), nullable=False),
        sa.Column("residual_risk", sa.String(10), nullable=False),
        sa.Column("dpo_advice", sa.Text, nullable=False),
        sa.Column("advice_accepted", sa.Boolean, nullable=False),
        sa.Column("overruled_because", sa.Text, nullable=True),
        sa.Column("consultation_reviewed_by", sa.String(200), nullable=False),
        sa.Column("signed_by", sa.String(200), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("policy_id", "version", name="pk_dpia_signoffs"),
        sa.ForeignKeyConstraint(
            ["policy_id", "version"],
            ["policy_versions.policy_id", "policy_versions.version"],
            name="fk_dpia_signoffs_policy_id_version_policy_versions",
        ),
        sa.CheckConstraint(
            "residual_risk IN ('low', 'medium', 'high')", name="ck_dpia_signoffs_residual_risk_known"
        ),
        sa.CheckConstraint(
            "(advice_accepted AND overruled_because IS NULL) OR "
            "(NOT advice_accepted AND overruled_because IS NOT NULL)",
            name="ck_dpia_signoffs_overruled_has_reasons",
        ),
    )


def downgrade() -> None:
    """Drop the sign-offs (they are lost)."""
    op.drop_table("dpia_signoffs")
