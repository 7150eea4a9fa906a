"""Append to and verify the hash-chained audit log; call these inside a governance transaction.

Each entry's ``hash`` is SHA-256 over the canonical JSON of its ``seq``, ``at``, ``actor``,
``action``, ``details`` and ``prev_hash`` (the previous entry's hash; 64 zeros for the first), so
editing, removing or reordering any entry breaks the chain from that point (A17). Anyone can
re-walk it with ``verify``. Signed checkpoints held by the representatives (A17c/d) are built on
``entry_hash`` by a later module.

Details hold policy ids, hashes, counts and report ids only: never a pseudonym or a value.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterator, Mapping
from typing import Any

import sqlalchemy as sa

from teamlens.errors import InternalError
from teamlens.governance.records import AuditEntry, AuditVerification
from teamlens.governance.tables import audit_head, audit_log
from teamlens.verify import canonical_json as canonical_json
from teamlens.verify import entry_hash as entry_hash

GENESIS_HASH = "0" * 64
_VERIFY_BATCH = 1000


def append(
    conn: sa.Connection, at: dt.datetime, actor: str, action: str, details: Mapping[str, object]
) -> AuditEntry:
    """Add one entry at the end of the chain, inside the caller's transaction."""
    if at.tzinfo is None:
        raise InternalError("audit timestamps must be timezone-aware")
    if not _plain(dict(details)):
        raise InternalError(f"audit details for '{action}' are not plain JSON (text keys, finite numbers)")
    details_text = canonical_json(dict(details))
    seq, prev_hash = lock_head(conn)
    seq += 1
    at_text = at.astimezone(dt.UTC).isoformat(timespec="microseconds")
    parsed = json.loads(details_text)
    digest = entry_hash(seq, at_text, actor, action, parsed, prev_hash)
    conn.execute(
        audit_log.insert().values(
            seq=seq,
            at=at_text,
            actor=actor,
            action=action,
            details=details_text,
            prev_hash=prev_hash,
            hash=digest,
        )
    )
    conn.execute(audit_head.update().where(audit_head.c.head_id == 1).values(seq=seq, hash=digest))
    return AuditEntry(seq, dt.datetime.fromisoformat(at_text), actor, action, parsed, prev_hash, digest)


def _plain(value: object) -> bool:
    # Only what JSON round-trips unchanged, so the stored entry is exactly what the caller logged.
    if value is None or isinstance(value, str | bool | int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list | tuple):
        return all(_plain(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and _plain(item) for key, item in value.items())
    return False


def lock_head(conn: sa.Connection) -> tuple[int, str]:
    """Lock the chain's head row for this transaction and return its (seq, hash).

    Every governance write calls this first, so on PostgreSQL writers queue here and budget
    checks see each other's charges; SQLite takes its write lock at BEGIN IMMEDIATE instead.
    """
    row = conn.execute(
        sa.select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.head_id == 1).with_for_update()
    ).one_or_none()
    if row is None:
        conn.execute(audit_head.insert().values(head_id=1, seq=0, hash=GENESIS_HASH))
        return 0, GENESIS_HASH
    return int(row.seq), str(row.hash)


def entries(
    conn: sa.Connection, limit: int, offset: int, *, newest_first: bool, before: int | None = None
) -> list[AuditEntry]:
    """Read ``limit`` entries after skipping ``offset``, newest or oldest first (only seq < ``before``)."""
    order = audit_log.c.seq.desc() if newest_first else audit_log.c.seq
    query = sa.select(audit_log).order_by(order).limit(limit).offset(offset)
    if before is not None:
        query = query.where(audit_log.c.seq < before)
    rows = conn.execute(query)
    return [
        AuditEntry(
            row.seq,
            dt.datetime.fromisoformat(row.at),
            row.actor,
            row.action,
            _details_or_raw(row.details),
            row.prev_hash,
            row.hash,
        )
        for row in rows
    ]


def details_of(conn: sa.Connection, action: str) -> Iterator[Mapping[str, Any]]:
    """The details of every entry of ``action``, oldest first."""
    rows = conn.execute(
        sa.select(audit_log.c.details).where(audit_log.c.action == action).order_by(audit_log.c.seq)
    )
    for row in rows:
        yield _details_or_raw(row.details)


def exported(conn: sa.Connection) -> list[dict[str, object]]:
    """Every entry oldest first, exactly as stored (``details`` parsed), for ``teamlens audit export``."""
    return [
        {
            "seq": row.seq,
            "at": row.at,
            "actor": row.actor,
            "action": row.action,
            "details": _details_or_raw(row.details),
            "prev_hash": row.prev_hash,
            "hash": row.hash,
        }
        for row in conn.execute(sa.select(audit_log).order_by(audit_log.c.seq))
    ]


def last_seq_before(conn: sa.Connection, at: dt.datetime) -> int:
    """The number of the last entry recorded before ``at`` (0 when there is none)."""
    # Stored times all have one spelling (UTC, microseconds), so text order is time order.
    cutoff = at.astimezone(dt.UTC).isoformat(timespec="microseconds")
    # Newest first along the primary key, stopping at the first one before ``at``: entries are
    # appended in time order, so this reads a handful of rows, not the whole log (``/`` asks
    # this on every request).
    newest = (
        sa.select(audit_log.c.seq).where(audit_log.c.at < cutoff).order_by(audit_log.c.seq.desc()).limit(1)
    )
    found = conn.execute(newest).scalar()
    return int(found or 0)


def action_counts(conn: sa.Connection) -> dict[str, int]:
    """Count the entries of each action."""
    rows = conn.execute(sa.select(audit_log.c.action, sa.func.count()).group_by(audit_log.c.action))
    return {str(action): int(count) for action, count in rows}


def _details_or_raw(text: str) -> Mapping[str, object]:
    # A tampered entry may hold invalid JSON; show it as it is rather than fail to list the log.
    try:
        value = json.loads(text)
    except ValueError:
        return {"unreadable": text}
    return value if isinstance(value, dict) else {"unreadable": text}


def verify(conn: sa.Connection) -> AuditVerification:
    """Re-walk the whole chain; report the first entry that was edited, removed or reordered."""
    expected_seq, prev_hash, count = 1, GENESIS_HASH, 0
    last_seq = 0
    while True:
        batch = conn.execute(
            sa.select(audit_log)
            .where(audit_log.c.seq >= expected_seq)
            .order_by(audit_log.c.seq)
            .limit(_VERIFY_BATCH)
        ).all()
        for row in batch:
            problem = _check(row, expected_seq, prev_hash)
            if problem:
                return AuditVerification(False, count, expected_seq, problem)
            expected_seq, prev_hash, count = expected_seq + 1, row.hash, count + 1
            last_seq = row.seq
        if len(batch) < _VERIFY_BATCH:
            break
    head = conn.execute(sa.select(audit_head.c.seq, audit_head.c.hash)).one_or_none()
    head_seq, head_hash = (0, GENESIS_HASH) if head is None else (head.seq, head.hash)
    if (head_seq, head_hash) != (last_seq, prev_hash):
        return AuditVerification(
            False,
            count,
            last_seq + 1,
            f"the log ends at entry {last_seq} but its head records entry {head_seq}: "
            "entries were removed from the end, or the head was altered",
        )
    return AuditVerification(True, count)


def _check(row: sa.Row[tuple[object, ...]], expected_seq: int, prev_hash: str) -> str:
    if row.seq != expected_seq:
        return f"entry {expected_seq} is missing (the next entry is {row.seq})"
    if row.prev_hash != prev_hash:
        return f"entry {row.seq} does not follow entry {row.seq - 1}: an earlier entry was altered or removed"
    try:
        details = json.loads(row.details)
    except ValueError:
        return f"entry {row.seq} was altered: its details are not valid JSON"
    # Stored details are always canonical; any other spelling (even a space) means an edit.
    if canonical_json(details) != row.details:
        return f"entry {row.seq} was altered: its details are not as written"
    if entry_hash(row.seq, row.at, row.actor, row.action, details, row.prev_hash) != row.hash:
        return f"entry {row.seq} was altered: its content no longer matches its hash"
    return ""
