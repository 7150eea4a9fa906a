"""Web sessions kept on the server, so they can be revoked: on sign-out, by timeout, by role change.

The browser holds a random token; the table holds its SHA-256, the signed-in worker's pseudonym
sealed under a key only that token gives (the web layer seals and opens it),
the roles they signed in with and the hash of the role mapping then in force, when the session
started and was last used, when its second factor was last proved, and a statement waiting for a
passkey's signature. ``get`` never returns a revoked session; the timeouts are the web layer's
(``web/session.py``), which revokes what it finds expired.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from teamlens.governance.tables import as_utc, web_sessions


@dataclass(frozen=True)
class StoredSession:
    """One live session (see the module docstring); ``roles`` as the set it was granted."""

    sealed_worker: str
    roles: frozenset[str]
    roles_sha256: str
    created_at: dt.datetime
    seen_at: dt.datetime
    second_factor_at: dt.datetime | None
    pending: str | None


def start(
    conn: sa.Connection,
    token_hash: str,
    sealed_worker: str,
    roles: str,
    roles_sha256: str,
    mfa: bool,
    now: dt.datetime,
) -> None:
    """Store a new session."""
    conn.execute(
        web_sessions.insert().values(
            token_hash=token_hash,
            sealed_worker=sealed_worker,
            roles=roles,
            roles_sha256=roles_sha256,
            created_at=now,
            seen_at=now,
            second_factor_at=now if mfa else None,
        )
    )


def get(conn: sa.Connection, token_hash: str) -> StoredSession | None:
    """The live session with this token hash, or None."""
    row = conn.execute(
        sa.select(web_sessions).where(
            web_sessions.c.token_hash == token_hash, web_sessions.c.revoked_at.is_(None)
        )
    ).one_or_none()
    if row is None:
        return None
    return StoredSession(
        row.sealed_worker,
        frozenset(role for role in row.roles.split(",") if role),
        row.roles_sha256,
        as_utc(row.created_at),
        as_utc(row.seen_at),
        None if row.second_factor_at is None else as_utc(row.second_factor_at),
        row.pending,
    )


def touch(conn: sa.Connection, token_hash: str, now: dt.datetime, **changes: object) -> None:
    """Mark the session used now; ``second_factor=True`` records a second factor, ``pending`` a statement."""
    values: dict[str, object] = {"seen_at": now}
    if changes.get("second_factor"):
        values["second_factor_at"] = now
    if "pending" in changes:
        values["pending"] = changes["pending"]
    conn.execute(web_sessions.update().where(web_sessions.c.token_hash == token_hash).values(**values))


def revoke(conn: sa.Connection, token_hash: str | None, now: dt.datetime) -> int:
    """Revoke one session, or all of them; returns how many were live."""
    query = web_sessions.update().where(web_sessions.c.revoked_at.is_(None))
    if token_hash is not None:
        query = query.where(web_sessions.c.token_hash == token_hash)
    return int(conn.execute(query.values(revoked_at=now)).rowcount)
