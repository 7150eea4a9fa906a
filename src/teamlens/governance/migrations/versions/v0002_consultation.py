"""Consultation records (R5), approvals that sign them, and one-party narrowing (R3).

Revision ID: 0002_consultation
Revises: 0001_initial
Create Date: 2026-12-01

Adds ``consultation_entries``, ``approvals.record_sha256`` (the consultation record each party
signed) and ``policy_versions.tightens_version`` (set when one party alone activated a version
that only narrows the one it replaced). Written out in full, like 0001, so it stays what it was.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_consultation"
down_revision: str | None = "0001_initial"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add the consultation table and the two new columns."""
    with op.batch_alter_table("policy_versions") as batch:
        batch.add_column(sa.Column("tightens_version", sa.Integer, nullable=True))
    with op.batch_alter_table("approvals") as batch:
        batch.add_column(sa.Column("record_sha256", sa.String(64), nullable=True))
    op.create_table(
        "consultation_entries",
        sa.Column("entry_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("policy_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name="pk_consultation_entries"),
        sa.ForeignKeyConstraint(
            ["policy_id", "version"],
            ["policy_versions.policy_id", "policy_versions.version"],
            name="fk_consultation_entries_policy_id_version_policy_versions",
        ),
        sa.CheckConstraint(
            "kind IN ('published', 'comment', 'objection', 'response')",
            name="ck_consultation_entries_kind_known",
        ),
    )
    op.create_index(
        "ix_consultation_entries_policy_id_version", "consultation_entries", ["policy_id", "version"]
    )


def downgrade() -> None:
    """Drop the consultation record and the two columns (the records are lost)."""
    op.drop_index("ix_consultation_entries_policy_id_version", table_name="consultation_entries")
    op.drop_table("consultation_entries")
    with op.batch_alter_table("approvals") as batch:
        batch.drop_column("record_sha256")
    with op.batch_alter_table("policy_versions") as batch:
        batch.drop_column("tightens_version")
