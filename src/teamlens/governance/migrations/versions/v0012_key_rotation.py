"""The pseudonymisation keys the database's pseudonyms have been under (issue 14, R35).

Revision ID: 0012_key_rotation
Revises: 0010_api_tokens
Create Date: 2026-12-03

Adds ``pseudonym_keys`` (see ``governance/key_periods.py``). Written out in full, like the
earlier revisions, so it stays what it was.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_key_rotation"
down_revision: str | None = "0010_api_tokens"
branch_labels: str | None = None
depends_on: str | None = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Add the pseudonymisation keys table."""
    op.create_table(
        "pseudonym_keys",
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("started_at", _WHEN, nullable=False),
        sa.Column("retired_at", _WHEN, nullable=True),
        sa.PrimaryKeyConstraint("key_id", name="pk_pseudonym_keys"),
    )


def downgrade() -> None:
    """Drop the pseudonymisation keys table."""
    op.drop_table("pseudonym_keys")
