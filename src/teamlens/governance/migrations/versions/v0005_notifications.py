"""Notifications to workers and the parties (R6, R16), with the notice version on activation.

Revision ID: 0005_notifications
Revises: 0004_not_consulted
Create Date: 2026-11-27

Adds ``notifications``. Written out in full, like the earlier revisions, so it stays what it was.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_notifications"
down_revision: str | None = "0004_not_consulted"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add the notifications table."""
    op.create_table(
        "notifications",
        sa.Column("notification_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("audience", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("policy_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notice_sha256", sa.String(64), nullable=True),
        sa.Column("notice_generated_at", sa.String(40), nullable=True),
        sa.PrimaryKeyConstraint("notification_id", name="pk_notifications"),
        sa.CheckConstraint(
            "audience IN ('workers', 'employer', 'representative')", name="ck_notifications_audience_known"
        ),
    )
    op.create_index("ix_notifications_audience", "notifications", ["audience"])


def downgrade() -> None:
    """Drop the notifications (they are lost)."""
    op.drop_index("ix_notifications_audience", table_name="notifications")
    op.drop_table("notifications")
