"""Keep the list of workers who objected (Art 21, R22), whose data every later aggregate leaves out.

The list holds pseudonyms, so it is read only by the release and ingest paths and by the people
R22 names (the DPO, the worker, the auditing representative); access is decided by the caller.
Audit entries say that the list changed and how long it is, never whose entry changed.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from teamlens.governance import audit_log
from teamlens.governance.tables import as_utc, objections


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


def excluded(conn: sa.Connection, window_start: dt.date | None = None) -> frozenset[str]:
    """Return the pseudonyms excluded from a window starting on ``window_start`` (every one if None).

    An objection applies from the next window on, never to a window that had already started
    when it was recorded (R22): the person was counted in that window's population at its start.
    """
    query = sa.select(objections.c.pseudonym, objections.c.recorded_at)
    return frozenset(
        row.pseudonym
        for row in conn.execute(query)
        if window_start is None or as_utc(row.recorded_at).date() < window_start
    )


def listed(conn: sa.Connection) -> list[tuple[str, dt.datetime]]:
    """Every (pseudonym, recorded_at) on the list, oldest first; for the people R22 names only."""
    rows = conn.execute(sa.select(objections).order_by(objections.c.recorded_at, objections.c.pseudonym))
    return [(row.pseudonym, as_utc(row.recorded_at)) for row in rows]


def _count(conn: sa.Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(objections)).scalar_one())
