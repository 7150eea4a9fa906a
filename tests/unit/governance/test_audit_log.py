"""The hash-chained audit log: it verifies, and any edit, removal or truncation is pinpointed (A17)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
import sqlalchemy as sa

from teamlens.errors import InternalError
from teamlens.governance import GENESIS_HASH, GovernanceDB, entry_hash
from teamlens.governance import audit_log as chain
from teamlens.governance.tables import audit_head, audit_log

ENTRIES = 1000


@pytest.fixture
def long_log(db: GovernanceDB, raw: sa.Engine) -> GovernanceDB:
    """A log of 1,000 entries chained with ``entry_hash`` and written in one batch, for speed."""
    start = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
    rows, prev = [], GENESIS_HASH
    for seq in range(1, ENTRIES + 1):
        at = (start + dt.timedelta(seconds=seq)).isoformat(timespec="microseconds")
        details = {"policy_id": "p", "report_id": f"r{seq}", "cells": seq}
        digest = entry_hash(seq, at, "analyst:ann", "release.record", details, prev)
        rows.append(
            {"seq": seq, "at": at, "actor": "analyst:ann", "action": "release.record",
             "details": chain.canonical_json(details), "prev_hash": prev, "hash": digest}
        )  # fmt: skip
        prev = digest
    with raw.begin() as conn:
        conn.execute(audit_log.insert(), rows)
        conn.execute(audit_head.update().values(seq=ENTRIES, hash=prev))
    return db


def test_appended_entries_form_a_verifiable_chain(db: GovernanceDB) -> None:
    first = db.append_audit("rep:rob", "audit.view", {"count": 1})
    second = db.append_audit("rep:rob", "audit.view", {"count": 2, "note": "ünïcode"})
    assert (first.seq, first.prev_hash) == (1, GENESIS_HASH)
    assert (second.seq, second.prev_hash) == (2, first.hash)
    assert db.audit_entries(newest_first=False) == [first, second]
    assert db.audit_entries() == [second, first]
    assert db.audit_head() == (2, second.hash)
    assert db.verify_audit().ok


def test_the_hash_is_the_documented_one(db: GovernanceDB) -> None:
    # An outside verifier needs only hashlib and json: SHA-256 of the sorted, compact JSON.
    entry = db.append_audit("rep:rob", "audit.view", {"b": 1, "a": [True, None, "x"]})
    at = entry.at.isoformat(timespec="microseconds")
    payload = {
        "seq": entry.seq,
        "at": at,
        "actor": "rep:rob",
        "action": "audit.view",
        "details": {"a": [True, None, "x"], "b": 1},
        "prev_hash": GENESIS_HASH,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert entry.hash == hashlib.sha256(text.encode()).hexdigest()
    assert entry.hash == entry_hash(entry.seq, at, "rep:rob", "audit.view", entry.details, GENESIS_HASH)


@pytest.mark.parametrize("details", [{"value": {1, 2}}, {"value": float("nan")}, {1: "x"}])
def test_details_must_be_plain_json(db: GovernanceDB, details: dict[object, object]) -> None:
    with pytest.raises(InternalError, match="not plain JSON"):
        db.append_audit("x", "y", details)  # type: ignore[arg-type]
    assert db.verify_audit().entries == 0


def test_a_long_log_verifies(long_log: GovernanceDB) -> None:
    result = long_log.verify_audit()
    assert (result.ok, result.entries, result.first_bad_seq) == (True, ENTRIES, None)
    assert [entry.seq for entry in long_log.audit_entries(limit=3, offset=500, newest_first=False)] == [
        501,
        502,
        503,
    ]


@pytest.mark.parametrize(
    ("column", "old", "new"),
    [
        ("details", '"cells":500', '"cells":501'),  # one byte of a value
        ("details", '"cells":500', '"cells": 500'),  # one byte of spacing: same JSON, different text
        ("actor", "analyst:ann", "analyst:anm"),
        ("at", ":20.000000", ":21.000000"),
    ],
)
def test_a_one_byte_change_names_its_entry(
    long_log: GovernanceDB, raw: sa.Engine, column: str, old: str, new: str
) -> None:
    with raw.begin() as conn:
        value = conn.execute(sa.text(f"SELECT {column} FROM audit_log WHERE seq = 500")).scalar_one()
        assert old in value
        conn.execute(
            sa.text(f"UPDATE audit_log SET {column} = :v WHERE seq = 500"), {"v": value.replace(old, new)}
        )
    result = long_log.verify_audit()
    assert (result.ok, result.first_bad_seq, result.entries) == (False, 500, 499)
    assert "entry 500 was altered" in result.problem


def test_invalid_json_in_an_entry_is_named(long_log: GovernanceDB, raw: sa.Engine) -> None:
    with raw.begin() as conn:
        conn.execute(sa.text("UPDATE audit_log SET details = '{' WHERE seq = 42"))
    result = long_log.verify_audit()
    assert (result.first_bad_seq, result.problem) == (
        42,
        "entry 42 was altered: its details are not valid JSON",
    )
    assert long_log.audit_entries(limit=1, offset=41, newest_first=False)[0].details == {"unreadable": "{"}


def test_rehashing_an_edited_entry_breaks_the_next_link(long_log: GovernanceDB, raw: sa.Engine) -> None:
    with raw.begin() as conn:
        row = conn.execute(sa.text("SELECT * FROM audit_log WHERE seq = 300")).one()
        details = {"policy_id": "p", "report_id": "r300", "cells": 0}
        forged = entry_hash(300, row.at, row.actor, row.action, details, row.prev_hash)
        conn.execute(
            sa.text("UPDATE audit_log SET details = :d, hash = :h WHERE seq = 300"),
            {"d": chain.canonical_json(details), "h": forged},
        )
    result = long_log.verify_audit()
    assert result.first_bad_seq == 301
    assert "does not follow entry 300" in result.problem


def test_deleting_a_middle_entry_is_detected(long_log: GovernanceDB, raw: sa.Engine) -> None:
    with raw.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_log WHERE seq = 700"))
    result = long_log.verify_audit()
    assert (result.ok, result.first_bad_seq) == (False, 700)
    assert result.problem == "entry 700 is missing (the next entry is 701)"


def test_renumbering_after_a_deletion_is_detected(long_log: GovernanceDB, raw: sa.Engine) -> None:
    with raw.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_log WHERE seq = 700"))
        for seq in range(701, ENTRIES + 1):
            conn.execute(
                sa.text("UPDATE audit_log SET seq = :new WHERE seq = :old"), {"new": seq - 1, "old": seq}
            )
    result = long_log.verify_audit()
    assert result.first_bad_seq == 700


def test_truncating_the_tail_is_detected_against_the_head(long_log: GovernanceDB, raw: sa.Engine) -> None:
    with raw.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_log WHERE seq > 990"))
    result = long_log.verify_audit()
    assert (result.ok, result.entries, result.first_bad_seq) == (False, 990, 991)
    assert "entries were removed from the end" in result.problem


def test_appending_after_verification_continues_the_chain(long_log: GovernanceDB) -> None:
    entry = long_log.append_audit("rep:rob", "audit.verify", {"entries": ENTRIES})
    assert entry.seq == ENTRIES + 1
    assert entry.prev_hash == long_log.audit_entries(limit=1, offset=1)[0].hash
    assert long_log.verify_audit().entries == ENTRIES + 1
