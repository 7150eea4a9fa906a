"""Signed checkpoints held by the representative catch every way of rewriting the log (A17, R33).

The log has 10,000 entries, written in one batch for speed; each tamper case works on the
database directly, as an operator with database access would.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
import sqlalchemy as sa

from teamlens.errors import ConfigError
from teamlens.governance import GENESIS_HASH, Checkpoint, GovernanceDB, checkpoints, entry_hash
from teamlens.governance import audit_log as chain
from teamlens.governance.tables import audit_head, audit_log

ENTRIES = 10_000
START = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


def chained_rows(first: int, last: int, prev: str, edit: int | None = None) -> list[dict[str, object]]:
    """Entries ``first``..``last`` chained from ``prev``; entry ``edit`` gets altered details."""
    rows = []
    for seq in range(first, last + 1):
        at = (START + dt.timedelta(seconds=seq)).isoformat(timespec="microseconds")
        details = {"policy_id": "p", "report_id": f"r{seq}", "cells": seq}
        if seq == edit:
            details["cells"] = 0
        digest = entry_hash(seq, at, "analyst:ann", "release.record", details, prev)
        rows.append(
            {"seq": seq, "at": at, "actor": "analyst:ann", "action": "release.record",
             "details": chain.canonical_json(details), "prev_hash": prev, "hash": digest}
        )  # fmt: skip
        prev = digest
    return rows


@pytest.fixture
def key() -> bytes:
    return checkpoints.generate_key()[0]


@pytest.fixture
def held(db: GovernanceDB, raw: sa.Engine, key: bytes) -> Checkpoint:
    """A 10,000-entry log and the checkpoint the representative took of it."""
    rows = chained_rows(1, ENTRIES, GENESIS_HASH)
    with raw.begin() as conn:
        conn.execute(audit_log.insert(), rows)
        conn.execute(audit_head.update().values(seq=ENTRIES, hash=rows[-1]["hash"]))
    signed = db.checkpoint(key, "checkpoint.key", "rep:rob")
    assert (signed.seq, signed.head_hash) == (ENTRIES, rows[-1]["hash"])
    return signed


def test_an_intact_log_verifies_against_its_checkpoint_and_later_entries_are_fine(
    db: GovernanceDB, held: Checkpoint
) -> None:
    db.append_audit("analyst:ann", "release.record", {"cells": 1})
    result = db.verify_checkpoint(held)
    assert result.ok
    assert result.entries == ENTRIES + 2
    last = db.audit_entries(limit=2)[1]
    assert (last.action, last.details["seq"]) == ("audit.checkpoint", ENTRIES)


def test_one_changed_byte_in_entry_5000_is_named(db: GovernanceDB, raw: sa.Engine, held: Checkpoint) -> None:
    with raw.begin() as conn:
        details = conn.execute(sa.select(audit_log.c.details).where(audit_log.c.seq == 5000)).scalar_one()
        changed = details.replace('"r5000"', '"r5001"')
        assert len(changed) == len(details)
        assert changed != details
        conn.execute(audit_log.update().where(audit_log.c.seq == 5000).values(details=changed))
    for result in (db.verify_audit(), db.verify_checkpoint(held)):
        assert not result.ok
        assert result.first_bad_seq == 5000
        assert "entry 5000 was altered" in result.problem


def test_a_deleted_entry_is_detected(db: GovernanceDB, raw: sa.Engine, held: Checkpoint) -> None:
    with raw.begin() as conn:
        conn.execute(audit_log.delete().where(audit_log.c.seq == 7000))
    result = db.verify_checkpoint(held)
    assert (result.ok, result.first_bad_seq) == (False, 7000)
    assert "entry 7000 is missing" in result.problem


def test_a_truncated_tail_with_a_moved_head_is_caught_only_by_the_checkpoint(
    db: GovernanceDB, raw: sa.Engine, held: Checkpoint
) -> None:
    with raw.begin() as conn:
        conn.execute(audit_log.delete().where(audit_log.c.seq > 9000))
        last = conn.execute(sa.select(audit_log.c.hash).where(audit_log.c.seq == 9000)).scalar_one()
        conn.execute(audit_head.update().values(seq=9000, hash=last))
    assert db.verify_audit().ok  # the chain alone cannot tell
    result = db.verify_checkpoint(held)
    assert (result.ok, result.first_bad_seq) == (False, 9001)
    assert "entries 9001 to 10000 were removed" in result.problem


def test_a_chain_rebuilt_after_an_edit_is_caught_only_by_the_checkpoint(
    db: GovernanceDB, raw: sa.Engine, held: Checkpoint
) -> None:
    with raw.begin() as conn:
        prev = conn.execute(sa.select(audit_log.c.hash).where(audit_log.c.seq == 4999)).scalar_one()
        conn.execute(audit_log.delete().where(audit_log.c.seq >= 5000))
        rows = chained_rows(5000, ENTRIES + 1, prev, edit=5000)  # the checkpoint's entry, rebuilt too
        conn.execute(audit_log.insert(), rows)
        conn.execute(audit_head.update().values(seq=ENTRIES + 1, hash=rows[-1]["hash"]))
    assert db.verify_audit().ok  # every hash was recomputed
    result = db.verify_checkpoint(held)
    assert (result.ok, result.first_bad_seq) == (False, ENTRIES)
    assert "rewritten at or before entry 10000" in result.problem


def test_a_forged_or_altered_checkpoint_is_refused(db: GovernanceDB, held: Checkpoint) -> None:
    shortened = dataclasses.replace(held, seq=5)
    assert "signature does not verify" in db.verify_checkpoint(shortened).problem
    other_key = checkpoints.generate_key()[0]
    forged = checkpoints.sign(
        checkpoints.load_private_key(other_key, "other"), held.seq, held.head_hash, START
    )
    assert db.verify_checkpoint(forged).ok  # a self-consistent forgery, unless you pin the key...
    result = db.verify_checkpoint(forged, public_key=held.public_key)
    assert not result.ok
    assert "different key" in result.problem


def test_checkpoint_files_round_trip_and_bad_ones_are_named() -> None:
    pem, public = checkpoints.generate_key()
    signed = checkpoints.sign(checkpoints.load_private_key(pem, "k"), 3, "ab" * 32, START)
    assert signed.public_key == public
    assert checkpoints.from_json(checkpoints.to_json(signed), "cp.json") == signed
    assert checkpoints.signature_problem(signed) == ""
    with pytest.raises(ConfigError, match=r"cp\.json is not a teamlens audit checkpoint"):
        checkpoints.from_json('{"seq": 1}', "cp.json")
    with pytest.raises(ConfigError, match=r"key\.pem is not an Ed25519 private key"):
        checkpoints.load_private_key(b"not a key", "key.pem")
