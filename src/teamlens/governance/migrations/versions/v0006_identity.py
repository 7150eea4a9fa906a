"""Identity (issue 9): key sets, signed decisions, rights requests, view slots, web sessions.

Revision ID: 0006_identity
Revises: 0005_notifications
Create Date: 2026-12-03

Adds the tables behind signed decisions and signed-in roles. Written out in full, like the earlier
revisions, so it stays what it was. Approvals recorded before this revision carry no signature:
the active policy then no longer verifies, and both parties sign it again with their keys.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_identity"
down_revision: str | None = "0005_notifications"
branch_labels: str | None = None
depends_on: str | None = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Add the identity tables."""
    op.create_table(
        "key_sets",
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("statement", sa.Text, nullable=False),
        sa.Column("signatures", sa.Text, nullable=False),
        sa.Column("proposed_at", _WHEN, nullable=False),
        sa.Column("registered_at", _WHEN, nullable=True),
        sa.PrimaryKeyConstraint("digest", name="pk_key_sets"),
    )
    op.create_table(
        "signed_decisions",
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("party", sa.String(20), nullable=False),
        sa.Column("key_fingerprint", sa.String(64), nullable=False),
        sa.Column("statement", sa.Text, nullable=False),
        sa.Column("signature", sa.Text, nullable=False),
        sa.Column("accepted_at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("nonce", name="pk_signed_decisions"),
    )
    op.create_table(
        "rights_requests",
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("origin", sa.String(20), nullable=False),
        sa.Column("pseudonym", sa.String(200), nullable=False),
        sa.Column("reference", sa.String(200), nullable=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("changed_at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("request_id", name="pk_rights_requests"),
        sa.CheckConstraint("kind IN ('access', 'erase', 'object')", name="ck_rights_requests_kind_known"),
        sa.CheckConstraint("origin IN ('worker', 'offline')", name="ck_rights_requests_origin_known"),
        sa.CheckConstraint(
            "state IN ('open', 'countersigned', 'done', 'withdrawn')", name="ck_rights_requests_state_known"
        ),
    )
    op.create_table(
        "view_slots",
        sa.Column("policy_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("voter", sa.String(64), nullable=False),
        sa.Column("entry_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("policy_id", "version", "kind", "voter", name="pk_view_slots"),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["consultation_entries.entry_id"],
            name="fk_view_slots_entry_id_consultation_entries",
        ),
        sa.ForeignKeyConstraint(
            ["policy_id", "version"],
            ["policy_versions.policy_id", "policy_versions.version"],
            name="fk_view_slots_policy_id_version_policy_versions",
        ),
    )
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("sealed_worker", sa.Text, nullable=False),
        sa.Column("roles", sa.String(200), nullable=False),
        sa.Column("roles_sha256", sa.String(64), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("seen_at", _WHEN, nullable=False),
        sa.Column("second_factor_at", _WHEN, nullable=True),
        sa.Column("pending", sa.Text, nullable=True),
        sa.Column("revoked_at", _WHEN, nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name="pk_web_sessions"),
    )


def downgrade() -> None:
    """Drop the identity tables (keys, signatures kept in the audit log, sessions and requests)."""
    for table in ("web_sessions", "view_slots", "rights_requests", "signed_decisions", "key_sets"):
        op.drop_table(table)
