"""Bring a governance database to the current schema with ``upgrade(url)`` before opening it."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

#: The revision that ``metadata.create_all`` builds (see ``migrations/versions``).
CREATE_ALL_REVISION = "0012_key_rotation"
#: The first revision; a database ``create_all`` built before 0002 existed is at this one.
INITIAL_REVISION = "0001_initial"
#: What ``create_all`` built between 0002 and 0003 (consultation record, no DPIA sign-offs).
CONSULTATION_REVISION = "0002_consultation"
#: What ``create_all`` built between 0003 and 0004 (DPIA sign-offs, no not-consulted records).
SIGNOFF_REVISION = "0003_dpia_signoff"
#: What ``create_all`` built between 0004 and 0005 (not-consulted records, no notifications).
NOT_CONSULTED_REVISION = "0004_not_consulted"
#: What ``create_all`` built between 0005 and 0006 (notifications, no key sets).
NOTIFICATIONS_REVISION = "0005_notifications"
#: What ``create_all`` built between 0006 and 0007 (key sets, no base measurements).
IDENTITY_REVISION = "0006_identity"
#: What ``create_all`` built after 0007 before API tokens (base measurements, no API tokens).
MEASUREMENTS_REVISION = "0007_measurements"
#: What ``create_all`` built after 0010 before key rotation (API tokens, no pseudonym keys).
API_TOKENS_REVISION = "0010_api_tokens"


def _config(connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", "teamlens.governance:migrations")
    config.attributes["connection"] = connection
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Apply every pending schema revision to the database at ``url`` (creating it if empty).

    A database that ``GovernanceDB`` created with ``create_all`` (so without Alembic's version
    table) is first marked as being at the revision ``create_all`` builds, then upgraded.
    """
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            inspector = sa.inspect(connection)
            unversioned = not inspector.has_table("alembic_version") and inspector.has_table(
                "policy_versions"
            )
            if unversioned:
                # create_all of an older teamlens built the tables without the consultation record.
                columns = {column["name"] for column in inspector.get_columns("approvals")}
                if inspector.has_table("pseudonym_keys"):
                    built = CREATE_ALL_REVISION
                elif inspector.has_table("api_tokens"):
                    built = API_TOKENS_REVISION
                elif inspector.has_table("measured_blocks"):
                    built = MEASUREMENTS_REVISION
                elif inspector.has_table("key_sets"):
                    built = IDENTITY_REVISION
                elif inspector.has_table("notifications"):
                    built = NOTIFICATIONS_REVISION
                elif inspector.has_table("not_consulted"):
                    built = NOT_CONSULTED_REVISION
                elif inspector.has_table("dpia_signoffs"):
                    built = SIGNOFF_REVISION
                elif "record_sha256" in columns:
                    built = CONSULTATION_REVISION
                else:
                    built = INITIAL_REVISION
                command.stamp(_config(connection), built)
            command.upgrade(_config(connection), revision)
    finally:
        engine.dispose()


def current_revision(url: str) -> str | None:
    """Return the schema revision of the database at ``url``; ``None`` if never migrated."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
