"""Ingestion records and the objection list: kept, audited, and never written to the log by name."""

from __future__ import annotations

from teamlens.governance import GovernanceDB, current_revision
from teamlens.governance.migrate import CREATE_ALL_REVISION


def test_ingestions_are_recorded_and_audited_without_their_label(db: GovernanceDB) -> None:
    db.record_ingestion("a" * 64, "slack_export", "export-jane.doe.zip", 1234, "admin:ida")
    db.record_ingestion("b" * 64, "calendar_ics", "calendars.zip", 0, "admin:ida")
    first, second = db.ingestions()
    assert (first.content_hash, first.source, first.label) == (
        "a" * 64,
        "slack_export",
        "export-jane.doe.zip",
    )
    assert (first.rows, second.rows, first.ingested_by) == (1234, 0, "admin:ida")
    entry = db.audit_entries(newest_first=False)[0]
    assert entry.action == "ingest.record"
    assert entry.details == {"content_hash": "a" * 64, "source": "slack_export", "rows": 1234}
    assert "jane" not in str(db.audit_entries())


def test_a_missed_ingestion_record_is_healed_once(db: GovernanceDB) -> None:
    db.record_ingestion("a" * 64, "slack_export", "slack:aaaa", 10, "admin:ida")
    assert db.ensure_ingestion_recorded("a" * 64, "slack_export", "slack:aaaa", "admin:ida") is False
    assert db.ensure_ingestion_recorded("c" * 64, "m365_usage", "m365:cccc", "admin:ida") is True
    assert db.ensure_ingestion_recorded("c" * 64, "m365_usage", "m365:cccc", "admin:ida") is False
    assert [(info.content_hash[0], info.rows) for info in db.ingestions()] == [("a", 10), ("c", None)]
    assert db.verify_audit().entries == 2


def test_objections_exclude_pseudonyms_and_log_only_the_count(db: GovernanceDB) -> None:
    assert db.excluded_persons() == frozenset()
    assert db.record_objection("p-0f3a", "dpo:dee") is True
    assert db.record_objection("p-0f3a", "dpo:dee") is False
    assert db.record_objection("p-77c1", "dpo:dee") is True
    assert db.excluded_persons() == {"p-0f3a", "p-77c1"}
    assert db.withdraw_objection("p-0f3a", "dpo:dee") is True
    assert db.withdraw_objection("p-0f3a", "dpo:dee") is False
    assert db.excluded_persons() == {"p-77c1"}
    log = db.audit_entries(newest_first=False)
    assert [(entry.action, entry.details) for entry in log] == [
        ("objection.record", {"objections": 1}),
        ("objection.record", {"objections": 2}),
        ("objection.withdraw", {"objections": 1}),
    ]
    assert "p-" not in str(log)


def test_initialise_brings_a_new_database_under_alembic(db: GovernanceDB) -> None:
    db.append_audit("system", "installation.initialised", {"key_created": True})
    db.initialise()
    db.initialise()
    assert current_revision(db.url) == CREATE_ALL_REVISION
    assert db.verify_audit().entries == 1
