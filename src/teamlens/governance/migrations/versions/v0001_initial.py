"""Initial governance schema: policies, approvals, releases, ledger, cell cache, ingestions, objections.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-27

Written out in full (not imported from ``tables.py``) so that this revision stays what it was when
later revisions change the models; a unit test checks it still builds the current schema.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_STATES = (
    "'draft', 'consultation', 'proposed', 'approved', 'active', 'suspended', 'lapsed', 'superseded', "
    "'retired'"
)


def upgrade() -> None:
    """Create every governance table."""
    op.create_table(
        "policy_versions",
        sa.Column("policy_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("toml", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("proposed_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("min_group_size", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("policy_id", "version", name="pk_policy_versions"),
        sa.CheckConstraint("min_group_size >= 5", name="ck_policy_versions_min_group_size_floor"),
        sa.CheckConstraint("version >= 1", name="ck_policy_versions_version_positive"),
        sa.CheckConstraint(f"state IN ({_STATES})", name="ck_policy_versions_state_known"),
    )
    op.create_index(
        "ux_policy_versions_one_active",
        "policy_versions",
        ["state"],
        unique=True,
        sqlite_where=sa.text("state = 'active'"),
        postgresql_where=sa.text("state = 'active'"),
    )
    op.create_table(
        "approvals",
        sa.Column("policy_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("party", sa.String(20), nullable=False),
        sa.Column("approver", sa.String(200), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("policy_id", "version", "party", name="pk_approvals"),
        sa.ForeignKeyConstraint(
            ["policy_id", "version"],
            ["policy_versions.policy_id", "policy_versions.version"],
            name="fk_approvals_policy_id_version_policy_versions",
        ),
        sa.CheckConstraint("party IN ('employer', 'representative')", name="ck_approvals_party_known"),
    )
    op.create_table(
        "releases",
        sa.Column("release_id", sa.String(64), nullable=False),
        sa.Column("policy_id", sa.String(64), nullable=False),
        sa.Column("policy_version", sa.Integer, nullable=False),
        sa.Column("policy_sha256", sa.String(64), nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("report_id", sa.String(64), nullable=False),
        sa.Column("spec_key", sa.String(200), nullable=False),
        sa.Column("windows", sa.Text, nullable=False),
        sa.Column("metrics", sa.Text, nullable=False),
        sa.Column("rho_numerator", sa.String(200), nullable=False),
        sa.Column("rho_denominator", sa.String(200), nullable=False),
        sa.Column("cells", sa.Integer, nullable=False),
        sa.Column("released_by", sa.String(200), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("release_id", name="pk_releases"),
        sa.ForeignKeyConstraint(
            ["policy_id", "policy_version"],
            ["policy_versions.policy_id", "policy_versions.version"],
            name="fk_releases_policy_id_policy_version_policy_versions",
        ),
    )
    op.create_index(
        "ix_releases_policy_id_period_start_report_id", "releases", ["policy_id", "period_start", "report_id"]
    )
    op.create_table(
        "ledger",
        sa.Column("entry_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("policy_id", sa.String(64), nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("release_id", sa.String(64), nullable=False),
        sa.Column("rho_numerator", sa.String(200), nullable=False),
        sa.Column("rho_denominator", sa.String(200), nullable=False),
        sa.Column("charged_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name="pk_ledger"),
        sa.UniqueConstraint("release_id", name="uq_ledger_release_id"),
        sa.ForeignKeyConstraint(
            ["release_id"], ["releases.release_id"], name="fk_ledger_release_id_releases"
        ),
    )
    op.create_index("ix_ledger_policy_id_period_start", "ledger", ["policy_id", "period_start"])
    op.create_table(
        "released_cells",
        sa.Column("policy_id", sa.String(64), nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("report_id", sa.String(64), nullable=False),
        sa.Column("window_key", sa.String(16), nullable=False),
        sa.Column("metric", sa.String(64), nullable=False),
        sa.Column("group_key", sa.String(200), nullable=False),
        sa.Column("noisy_total", sa.BigInteger, nullable=False),
        sa.Column("sigma", sa.Double, nullable=False),
        sa.Column("release_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint(
            "policy_id",
            "period_start",
            "report_id",
            "window_key",
            "metric",
            "group_key",
            name="pk_released_cells",
        ),
        sa.ForeignKeyConstraint(
            ["release_id"], ["releases.release_id"], name="fk_released_cells_release_id_releases"
        ),
    )
    op.create_index("ix_released_cells_release_id", "released_cells", ["release_id"])
    op.create_table(
        "ingestions",
        sa.Column("ingestion_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("rows", sa.BigInteger, nullable=True),
        sa.Column("ingested_by", sa.String(200), nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ingestion_id", name="pk_ingestions"),
        sa.CheckConstraint("rows >= 0", name="ck_ingestions_rows_not_negative"),
    )
    op.create_index("ix_ingestions_content_hash", "ingestions", ["content_hash"])
    op.create_table(
        "objections",
        sa.Column("pseudonym", sa.String(200), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("pseudonym", name="pk_objections"),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_log"),
    )
    audit_head = op.create_table(
        "audit_head",
        sa.Column("head_id", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("head_id", name="pk_audit_head"),
        sa.CheckConstraint("head_id = 1", name="ck_audit_head_single_row"),
    )
    op.bulk_insert(audit_head, [{"head_id": 1, "seq": 0, "hash": "0" * 64}])


def downgrade() -> None:
    """Drop every governance table (this loses the ledger and the audit log)."""
    for table in (
        "audit_head",
        "audit_log",
        "objections",
        "ingestions",
        "released_cells",
        "ledger",
        "releases",
        "approvals",
    ):
        op.drop_table(table)
    op.drop_index("ux_policy_versions_one_active", table_name="policy_versions")
    op.drop_table("policy_versions")
