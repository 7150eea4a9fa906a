"""Register the parties' public keys, witnessed by both, and read the key set in force.

A key set is proposed (``propose``: the keys, the digest of the set it replaces, the role
mapping's hash), then collects signatures (``add_signature``) until it meets the rules of
``verify.rules.key_set_problem``: every listed key has signed it, and one employer key and one
representative key of the set in force have witnessed it. Then it is registered, and the audit
log's ``keys.register`` entry carries the whole statement with every signature, so anyone can
re-check it from an exported log. ``history`` replays those entries; the last valid set is the
one in force. Functions run inside a transaction ``GovernanceDB`` opened.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from teamlens.errors import AccessDenied, PolicyError
from teamlens.governance import audit_log
from teamlens.governance.records import KeySetInfo
from teamlens.governance.tables import as_utc, key_sets
from teamlens.governance.tables import audit_log as audit_table
from teamlens.verify import (
    KEY_SET_CONTEXT,
    NO_PREVIOUS,
    KeySet,
    PartyKey,
    key_set_problem,
    read_key_set,
    statement_digest,
)

_SIGN_HINT = (
    "Each key holder signs it: `teamlens keys confirm DIGEST --key YOUR-KEY-FILE` (or with their passkey)."
)


class KeyHistoryBroken(Exception):
    """A registration in the audit log does not hold: the log or the key records were tampered with."""


def history(conn: sa.Connection) -> list[tuple[int, KeySet]]:
    """Every registered key set with the audit entry number that registered it, oldest first."""
    found: list[tuple[int, KeySet]] = []
    rows = conn.execute(
        sa.select(audit_table.c.seq, audit_table.c.details)
        .where(audit_table.c.action == "keys.register")
        .order_by(audit_table.c.seq)
    )
    for seq, text in rows:
        signed = json.loads(text).get("signed") or {}
        statement, signatures = signed.get("statement"), signed.get("signatures")
        if not isinstance(statement, dict) or not isinstance(signatures, list):
            raise KeyHistoryBroken(f"audit entry {seq} registers keys without their signatures")
        problem = key_set_problem(statement, signatures, found[-1][1] if found else None)
        if problem:
            raise KeyHistoryBroken(f"audit entry {seq} registers a key set that does not hold: {problem}")
        found.append((int(seq), read_key_set(statement)))
    return found


def current(conn: sa.Connection) -> KeySet | None:
    """The key set in force, or None before the parties registered any."""
    registered = history(conn)
    return registered[-1][1] if registered else None


def propose(
    conn: sa.Connection, keys: Sequence[PartyKey], roles_sha256: str, actor: str, now: dt.datetime
) -> KeySetInfo:
    """Propose a key set: these keys, replacing the set in force; it waits for its signatures."""
    in_force = current(conn)
    statement: dict[str, Any] = {
        "context": KEY_SET_CONTEXT,
        "keys": [key.to_json() for key in sorted(keys, key=lambda k: k.fingerprint)],
        "previous": NO_PREVIOUS if in_force is None else in_force.digest,
        "roles_sha256": roles_sha256,
        "at": now.astimezone(dt.UTC).isoformat(timespec="seconds"),
        "nonce": secrets.token_hex(16),
    }
    problem = key_set_problem(statement, [], in_force)
    if problem.startswith(("the key set has no", "the key set lists one key twice", "the key set cannot")):
        raise PolicyError(f"This key set cannot be registered: {problem}.", _SIGN_HINT)
    digest = statement_digest(statement)
    conn.execute(
        key_sets.insert().values(
            digest=digest, statement=json.dumps(statement), signatures="[]", proposed_at=now
        )
    )
    audit_log.append(
        conn, now, actor, "keys.propose", {"digest": digest, "keys": [k.fingerprint for k in keys]}
    )
    return info(conn, digest)


def add_signature(
    conn: sa.Connection, digest: str, signature: Mapping[str, Any], actor: str, now: dt.datetime
) -> KeySetInfo:
    """Add one key holder's signature to a proposed set; registers it once the rules hold."""
    found = _row(conn, digest)
    if found.registered_at is not None:
        return info(conn, digest)
    statement = json.loads(found.statement)
    proposed, in_force = read_key_set(statement), current(conn)
    fingerprint = str(signature.get("key", ""))
    key = proposed.key(fingerprint) or (in_force.key(fingerprint) if in_force else None)
    if key is None:
        raise AccessDenied(
            "This signature is by a key that is neither in the proposed key set nor in the one in force.",
            "Sign with your registered key, or with the new key being registered.",
        )
    problem = key.signature_problem(statement, signature)
    if problem:
        raise AccessDenied(f"The signature on key set {digest[:16]}… is refused: {problem}.", _SIGN_HINT)
    signatures = [s for s in json.loads(found.signatures) if s.get("key") != fingerprint] + [dict(signature)]
    conn.execute(
        key_sets.update().where(key_sets.c.digest == digest).values(signatures=json.dumps(signatures))
    )
    if not key_set_problem(statement, signatures, in_force):
        conn.execute(key_sets.update().where(key_sets.c.digest == digest).values(registered_at=now))
        listed = [
            {"party": k.party, "kind": k.kind, "label": k.label, "fingerprint": k.fingerprint}
            for k in proposed.keys
        ]
        details = {
            "digest": digest,
            "keys": listed,
            "signed": {"statement": statement, "signatures": signatures},
        }
        audit_log.append(conn, now, actor, "keys.register", details)
    return info(conn, digest)


def info(conn: sa.Connection, digest: str) -> KeySetInfo:
    """One proposed or registered key set, with whose signature it still waits for."""
    found = _row(conn, digest)
    statement, signatures = json.loads(found.statement), json.loads(found.signatures)
    registered = None if found.registered_at is None else as_utc(found.registered_at)
    missing = "" if registered else key_set_problem(statement, signatures, current(conn))
    return KeySetInfo(digest, statement, tuple(signatures), registered, missing)


def listed(conn: sa.Connection) -> list[KeySetInfo]:
    """Every key set proposed, oldest first."""
    digests = conn.execute(sa.select(key_sets.c.digest).order_by(key_sets.c.proposed_at)).scalars()
    return [info(conn, digest) for digest in digests]


def _row(conn: sa.Connection, digest: str) -> sa.Row[tuple[object, ...]]:
    found = conn.execute(sa.select(key_sets).where(key_sets.c.digest == digest)).one_or_none()
    if found is None:
        raise PolicyError(f"There is no key set {digest[:16]}….", "`teamlens keys list` shows the key sets.")
    return found
