"""The governance database schema, in portable SQLAlchemy Core (SQLite by default, PostgreSQL too).

The Alembic revisions under ``migrations/versions`` must build exactly this schema; a unit test
compares them. Exact budgets are stored as numerator/denominator text so no database rounds
them; timestamps are UTC. No table holds a worker's value; only ``objections`` and ``rights_requests``
hold pseudonyms (never shown to anyone but that worker); ``web_sessions`` holds them sealed.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from teamlens.domain import MIN_GROUP_SIZE_FLOOR
from teamlens.governance.records import AUDIENCES, RESIDUAL_RISKS, EntryKind, Party, PolicyState

# Named constraints, so that migrations can refer to them on every database.
metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

_ID = 64  # policy ids, report ids, release ids
_HASH = 64  # hex SHA-256
_NAME = 200  # people's account names and labels
_EXACT = 200  # one side of an exact fraction, as decimal digits


def _in(column: str, values: list[str]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


policy_versions = sa.Table(
    "policy_versions",
    metadata,
    sa.Column("policy_id", sa.String(_ID), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("title", sa.String(_NAME), nullable=False),
    sa.Column("toml", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(_HASH), nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("source", sa.String(_NAME), nullable=False),
    sa.Column("proposed_by", sa.String(_NAME), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("state_changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("min_group_size", sa.Integer, nullable=False),
    # Set when one party alone activated this version because it only narrows the version it
    # replaced (R3); the integrity check then re-proves the narrowing against that version.
    sa.Column("tightens_version", sa.Integer, nullable=True),
    # The database refuses a group-size floor under 5 even if the application is bypassed (A16c).
    sa.CheckConstraint(f"min_group_size >= {MIN_GROUP_SIZE_FLOOR}", name="min_group_size_floor"),
    sa.CheckConstraint("version >= 1", name="version_positive"),
    sa.CheckConstraint(_in("state", [state.value for state in PolicyState]), name="state_known"),
)

# At most one version of any policy is active at a time, even under concurrent approvals.
sa.Index(
    "ux_policy_versions_one_active",
    policy_versions.c.state,
    unique=True,
    sqlite_where=policy_versions.c.state == PolicyState.ACTIVE.value,
    postgresql_where=policy_versions.c.state == PolicyState.ACTIVE.value,
)

approvals = sa.Table(
    "approvals",
    metadata,
    sa.Column("policy_id", sa.String(_ID), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("party", sa.String(20), primary_key=True),
    sa.Column("approver", sa.String(_NAME), nullable=False),
    sa.Column("sha256", sa.String(_HASH), nullable=False),
    sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
    # The consultation record (R5) the party signed along with the text; NULL before revision 0002.
    sa.Column("record_sha256", sa.String(_HASH), nullable=True),
    sa.ForeignKeyConstraint(
        ["policy_id", "version"], ["policy_versions.policy_id", "policy_versions.version"]
    ),
    sa.CheckConstraint(_in("party", [party.value for party in Party]), name="party_known"),
)

# The consultation record of each version (R5): publication, views received, employer's response.
consultation_entries = sa.Table(
    "consultation_entries",
    metadata,
    sa.Column("entry_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("policy_id", sa.String(_ID), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("author", sa.String(_NAME), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(
        ["policy_id", "version"], ["policy_versions.policy_id", "policy_versions.version"]
    ),
    sa.CheckConstraint(_in("kind", [kind.value for kind in EntryKind]), name="kind_known"),
    sa.Index(None, "policy_id", "version"),
)

# Messages to workers and the parties (R6, R16); delivery reads from here.
notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("notification_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("audience", sa.String(20), nullable=False, index=True),
    sa.Column("kind", sa.String(_ID), nullable=False),
    sa.Column("policy_id", sa.String(_ID), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("notice_sha256", sa.String(_HASH), nullable=True),
    sa.Column("notice_generated_at", sa.String(40), nullable=True),
    sa.CheckConstraint(_in("audience", list(AUDIENCES)), name="audience_known"),
)

# The employer's reasons for not consulting on a version (R5): the alternative to a consultation.
not_consulted = sa.Table(
    "not_consulted",
    metadata,
    sa.Column("policy_id", sa.String(_ID), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("recorded_by", sa.String(_NAME), nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(
        ["policy_id", "version"], ["policy_versions.policy_id", "policy_versions.version"]
    ),
)

# The DPIA sign-off of each version (R4 step 7): without one no version becomes approved/active.
dpia_signoffs = sa.Table(
    "dpia_signoffs",
    metadata,
    sa.Column("policy_id", sa.String(_ID), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("dpia_sha256", sa.String(_HASH), nullable=False),
    sa.Column("measures_by", sa.String(_NAME), nullable=False),
    sa.Column("residual_risk", sa.String(10), nullable=False),
    sa.Column("dpo_advice", sa.Text, nullable=False),
    sa.Column("advice_accepted", sa.Boolean, nullable=False),
    sa.Column("overruled_because", sa.Text, nullable=True),
    sa.Column("consultation_reviewed_by", sa.String(_NAME), nullable=False),
    sa.Column("signed_by", sa.String(_NAME), nullable=False),
    sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(
        ["policy_id", "version"], ["policy_versions.policy_id", "policy_versions.version"]
    ),
    sa.CheckConstraint(_in("residual_risk", list(RESIDUAL_RISKS)), name="residual_risk_known"),
    # Advice is either accepted, or overruled with reasons (ICO DPIA step 7).
    sa.CheckConstraint(
        "(advice_accepted AND overruled_because IS NULL) OR "
        "(NOT advice_accepted AND overruled_because IS NOT NULL)",
        name="overruled_has_reasons",
    ),
)

releases = sa.Table(
    "releases",
    metadata,
    sa.Column("release_id", sa.String(_ID), primary_key=True),
    sa.Column("policy_id", sa.String(_ID), nullable=False),
    sa.Column("policy_version", sa.Integer, nullable=False),
    sa.Column("policy_sha256", sa.String(_HASH), nullable=False),
    sa.Column("period_start", sa.Date, nullable=False),
    sa.Column("report_id", sa.String(_ID), nullable=False),
    sa.Column("spec_key", sa.String(_NAME), nullable=False),
    sa.Column("windows", sa.Text, nullable=False),  # JSON list of window keys
    sa.Column("metrics", sa.Text, nullable=False),  # JSON list of metric names
    sa.Column("rho_numerator", sa.String(_EXACT), nullable=False),
    sa.Column("rho_denominator", sa.String(_EXACT), nullable=False),
    sa.Column("cells", sa.Integer, nullable=False),
    sa.Column("released_by", sa.String(_NAME), nullable=False),
    sa.Column("released_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(
        ["policy_id", "policy_version"], ["policy_versions.policy_id", "policy_versions.version"]
    ),
    sa.Index(None, "policy_id", "period_start", "report_id"),
)

ledger = sa.Table(
    "ledger",
    metadata,
    sa.Column("entry_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("policy_id", sa.String(_ID), nullable=False),
    sa.Column("period_start", sa.Date, nullable=False),
    sa.Column(
        "release_id", sa.String(_ID), sa.ForeignKey("releases.release_id"), nullable=False, unique=True
    ),
    sa.Column("rho_numerator", sa.String(_EXACT), nullable=False),
    sa.Column("rho_denominator", sa.String(_EXACT), nullable=False),
    sa.Column("charged_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index(None, "policy_id", "period_start"),
)

released_cells = sa.Table(
    "released_cells",
    metadata,
    # The key makes a second release of the same cell impossible: asking again must use the cache.
    sa.Column("policy_id", sa.String(_ID), primary_key=True),
    sa.Column("period_start", sa.Date, primary_key=True),
    sa.Column("report_id", sa.String(_ID), primary_key=True),
    sa.Column("window_key", sa.String(16), primary_key=True),
    sa.Column("metric", sa.String(_ID), primary_key=True),
    sa.Column("group_key", sa.String(_NAME), primary_key=True),
    sa.Column("noisy_total", sa.BigInteger, nullable=False),
    sa.Column("sigma", sa.Double, nullable=False),
    sa.Column("release_id", sa.String(_ID), sa.ForeignKey("releases.release_id"), nullable=False, index=True),
)

# The release engine's base measurements (see ``privacy.strategy``): one row per clipping block
# measured, and its noisy values. A block is measured once per period: the key forbids a second.
measured_blocks = sa.Table(
    "measured_blocks",
    metadata,
    sa.Column("policy_id", sa.String(_ID), primary_key=True),
    sa.Column("period_start", sa.Date, primary_key=True),
    sa.Column("block_key", sa.String(16), primary_key=True),
    # The headcount span whose headcounts were measured with this block (its first), if any.
    sa.Column("span_key", sa.String(16), nullable=True),
    # The organisation chart the block's estimates are reconciled with (JSON), as measured.
    sa.Column("structure", sa.Text, nullable=False),
    sa.Column("rows_sha256", sa.String(_HASH), nullable=False),
    sa.Column("rho_numerator", sa.String(_EXACT), nullable=False),
    sa.Column("rho_denominator", sa.String(_EXACT), nullable=False),
    sa.Column("release_id", sa.String(_ID), sa.ForeignKey("releases.release_id"), nullable=False, index=True),
)

measurements = sa.Table(
    "measurements",
    metadata,
    sa.Column("policy_id", sa.String(_ID), primary_key=True),
    sa.Column("period_start", sa.Date, primary_key=True),
    sa.Column("level", sa.String(16), primary_key=True),
    sa.Column("metric", sa.String(_ID), primary_key=True),
    sa.Column("group_key", sa.String(_NAME), primary_key=True),
    sa.Column("week", sa.Date, primary_key=True),
    sa.Column("block_key", sa.String(16), nullable=False),
    sa.Column("noisy", sa.BigInteger, nullable=False),
    sa.Column("sigma", sa.Double, nullable=False),
    sa.Column("scale", sa.Integer, nullable=False),
    sa.Index(None, "policy_id", "period_start", "block_key"),
)

# What each report published, exactly as published: asking again returns these numbers.
report_cells = sa.Table(
    "report_cells",
    metadata,
    sa.Column("policy_id", sa.String(_ID), primary_key=True),
    sa.Column("period_start", sa.Date, primary_key=True),
    sa.Column("report_id", sa.String(_ID), primary_key=True),
    sa.Column("window_key", sa.String(16), primary_key=True),
    sa.Column("metric", sa.String(_ID), primary_key=True),
    sa.Column("group_key", sa.String(_NAME), primary_key=True),
    sa.Column("value", sa.Double, nullable=True),  # NULL: suppressed
    sa.Column("lower", sa.Double, nullable=True),
    sa.Column("upper", sa.Double, nullable=True),
    sa.Column("total", sa.Double, nullable=True),
    sa.Column("person_weeks", sa.Double, nullable=True),
    sa.Column("sd_total", sa.Double, nullable=True),
    sa.Column("sd_person_weeks", sa.Double, nullable=True),
    sa.Column("clamped", sa.Boolean, nullable=False),
    sa.Column("uncertain", sa.Boolean, nullable=False),
    sa.Column("release_id", sa.String(_ID), sa.ForeignKey("releases.release_id"), nullable=False, index=True),
)

ingestions = sa.Table(
    "ingestions",
    metadata,
    sa.Column("ingestion_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("content_hash", sa.String(_HASH), nullable=False, index=True),
    sa.Column("source", sa.String(_ID), nullable=False),
    sa.Column("label", sa.String(_NAME), nullable=False),
    sa.Column("rows", sa.BigInteger, nullable=True),  # NULL: recorded after the fact, count unknown
    sa.Column("ingested_by", sa.String(_NAME), nullable=False),
    sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("rows >= 0", name="rows_not_negative"),
)

# Workers who objected (Art 21, R22): their pseudonyms are left out of every later aggregate.
# The only per-person column in this database; never shown to analysts or written to the log.
objections = sa.Table(
    "objections",
    metadata,
    sa.Column("pseudonym", sa.String(_NAME), primary_key=True),
    sa.Column("recorded_by", sa.String(_NAME), nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    # Text, not DateTime/JSON: the hash covers these exact strings, which no driver may reformat.
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("actor", sa.String(_NAME), nullable=False),
    sa.Column("action", sa.String(_ID), nullable=False),
    sa.Column("details", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(_HASH), nullable=False),
    sa.Column("hash", sa.String(_HASH), nullable=False),
)

# One row naming the chain's last link. Appenders lock it, which serialises every governance
# write (budget checks included) on PostgreSQL; verification compares it with the last entry.
audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("head_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("hash", sa.String(_HASH), nullable=False),
    sa.CheckConstraint("head_id = 1", name="single_row"),
)


# -- identity (issue 9): keys, signed decisions, rights requests, views, web sessions -----------

# Key sets both parties signed (``verify.rules``); ``registered_at`` is NULL while signatures are
# still being collected. The audit log carries each registered set too, signatures included.
key_sets = sa.Table(
    "key_sets",
    metadata,
    sa.Column("digest", sa.String(_HASH), primary_key=True),
    sa.Column("statement", sa.Text, nullable=False),
    sa.Column("signatures", sa.Text, nullable=False),  # JSON list of signatures over the statement
    sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("registered_at", sa.DateTime(timezone=True), nullable=True),
)

# Every signed decision accepted, by its nonce: a signature is good for one action, once.
signed_decisions = sa.Table(
    "signed_decisions",
    metadata,
    sa.Column("nonce", sa.String(_HASH), primary_key=True),
    sa.Column("action", sa.String(_ID), nullable=False),
    sa.Column("party", sa.String(20), nullable=False),
    sa.Column("key_fingerprint", sa.String(_HASH), nullable=False),
    sa.Column("statement", sa.Text, nullable=False),
    sa.Column("signature", sa.Text, nullable=False),
    sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
)

# Requests to act on one worker's data (R20–R22): made by the signed-in worker at /me, or off
# line by the DPO and countersigned by the representative. Holds the worker's pseudonym.
rights_requests = sa.Table(
    "rights_requests",
    metadata,
    sa.Column("request_id", sa.String(_ID), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("origin", sa.String(20), nullable=False),
    sa.Column("pseudonym", sa.String(_NAME), nullable=False),
    sa.Column("reference", sa.String(_NAME), nullable=True),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint(_in("kind", ["access", "erase", "object"]), name="kind_known"),
    sa.CheckConstraint(_in("origin", ["worker", "offline"]), name="origin_known"),
    sa.CheckConstraint(_in("state", ["open", "countersigned", "done", "withdrawn"]), name="state_known"),
)

# Which consultation entry holds a signed-in worker's one view (or objection) on a proposal, under
# a keyed hash of pseudonym and proposal: replaceable, not linkable to them without the key.
view_slots = sa.Table(
    "view_slots",
    metadata,
    sa.Column("policy_id", sa.String(_ID), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(20), primary_key=True),
    sa.Column("voter", sa.String(_HASH), primary_key=True),
    sa.Column("entry_id", sa.Integer, sa.ForeignKey("consultation_entries.entry_id"), nullable=False),
    sa.ForeignKeyConstraint(
        ["policy_id", "version"], ["policy_versions.policy_id", "policy_versions.version"]
    ),
)

# Web sessions, server side: the browser holds a random token, this table its hash and the pseudonym
# sealed under a key derived from the token (the table alone links no one to sign-in times).
# Revoked on sign-out (``revoked_at``), at the idle and absolute timeouts, on a role change.
web_sessions = sa.Table(
    "web_sessions",
    metadata,
    sa.Column("token_hash", sa.String(_HASH), primary_key=True),
    sa.Column("sealed_worker", sa.Text, nullable=False),
    sa.Column("roles", sa.String(_NAME), nullable=False),  # comma-separated
    sa.Column("roles_sha256", sa.String(_HASH), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("second_factor_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("pending", sa.Text, nullable=True),  # JSON: a statement awaiting the passkey's signature
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
)


def as_utc(value: dt.datetime) -> dt.datetime:
    """Read a stored timestamp as aware UTC (SQLite hands timestamps back without a zone)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
