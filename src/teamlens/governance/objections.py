"""Keep the list of workers who objected (Art 21, R22), whose data every later aggregate leaves out.

The list holds pseudonyms, so it is read only by the release and ingest paths and by the people
R22 names (the DPO, the worker, the auditing representative); access is decided by the caller.
Audit entries say that the list changed and how long it is, never whose entry changed.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from teamlens.governance import audit_log
from teamlens.governance.tables import objections


def record(conn: sa.Connection, pseudonym: str, actor: str, now: dt.datetime) -> bool:
    """Add ``pseudonym`` to the list; False if it was already there."""
    if conn.execute(sa.select(objections.c.pseudonym).where(objections.c.pseudonym == pseudonym)).first():
        return False
    conn.execute(objections.insert().values(pseudonym=pseudonym, recorded_by=actor, recorded_at=now))
    audit_log.append(conn, now, actor, "objection.record", {"objections": _count(conn)})
    return True


def withdraw(conn: sa.Connection, pseudonym: str, actor: str, now: dt.datetime) -> bool:
    """Remove ``pseudonym`` from the list (the worker withdrew the objection); False if absent."""
    removed = conn.execute(objections.delete().where(objections.c.pseudonym == pseudonym)).rowcount
    if not removed:
        return False
    audit_log.append(conn, now, actor, "objection.withdraw", {"objections": _count(conn)})
    return True


def excluded(conn: sa.Connection) -> frozenset[str]:
    """Return every pseudonym currently excluded."""
    return frozenset(conn.execute(sa.select(objections.c.pseudonym)).scalars())


def _count(conn: sa.Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(objections)).scalar_one())
