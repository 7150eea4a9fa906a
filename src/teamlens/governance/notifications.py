"""Notifications to workers and to the two parties (R6, R16): lapse, activation, suspension.

``notify`` stores one message for an audience ("workers", "employer", "representative") in the
same transaction as the change it reports; ``listed`` reads them back, newest last. When a
policy version becomes active, the service layer records which worker notice applied from then
on (``record_notice_version``: the notice HTML's sha256 and when it was generated), so workers
can see which notice applied when. Notifications hold policy ids and plain text about the
policy, never a worker's data; delivery (e-mail, intranet) reads from here.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from teamlens.errors import PolicyError
from teamlens.governance import audit_log
from teamlens.governance.records import AUDIENCES, Notification
from teamlens.governance.tables import as_utc, notifications

NOTICE_KIND = "notice.version"


def notify(
    conn: sa.Connection,
    audience: str,
    kind: str,
    policy_id: str,
    version: int,
    text: str,
    now: dt.datetime,
    *,
    notice_sha256: str | None = None,
    notice_generated_at: str | None = None,
) -> Notification:
    """Store one notification for ``audience``; raises PolicyError for an unknown audience."""
    if audience not in AUDIENCES:
        raise PolicyError(f"'{audience}' is not an audience.", f"Use one of: {', '.join(AUDIENCES)}.")
    notification_id = conn.execute(
        notifications.insert()
        .values(
            audience=audience,
            kind=kind,
            policy_id=policy_id,
            version=version,
            text=text,
            created_at=now,
            notice_sha256=notice_sha256,
            notice_generated_at=notice_generated_at,
        )
        .returning(notifications.c.notification_id)
    ).scalar_one()
    return Notification(
        int(notification_id),
        audience,
        kind,
        policy_id,
        version,
        text,
        now.astimezone(dt.UTC),
        notice_sha256,
        notice_generated_at,
    )


def record_notice_version(
    conn: sa.Connection,
    policy_id: str,
    version: int,
    notice_sha256: str,
    generated_at: str,
    actor: str,
    now: dt.datetime,
) -> Notification:
    """Tell workers which notice applies from the activation of a version on; once per version."""
    existing = [
        n
        for n in listed(conn, "workers")
        if n.kind == NOTICE_KIND and (n.policy_id, n.version) == (policy_id, version)
    ]
    if existing:
        return existing[0]
    text = (
        f"Policy '{policy_id}' version {version} is now in force. A new version of the privacy notice "
        f"applies from today (sha256 {notice_sha256[:16]}…, generated {generated_at})."
    )
    sent = notify(
        conn,
        "workers",
        NOTICE_KIND,
        policy_id,
        version,
        text,
        now,
        notice_sha256=notice_sha256,
        notice_generated_at=generated_at,
    )
    audit_log.append(
        conn,
        now,
        actor,
        "notice.version",
        {"policy_id": policy_id, "version": version, "notice_sha256": notice_sha256},
    )
    return sent


def listed(conn: sa.Connection, audience: str | None = None) -> list[Notification]:
    """Every notification (for ``audience`` if given), oldest first."""
    query = sa.select(notifications).order_by(notifications.c.notification_id)
    if audience is not None:
        query = query.where(notifications.c.audience == audience)
    return [
        Notification(
            int(r.notification_id),
            r.audience,
            r.kind,
            r.policy_id,
            int(r.version),
            r.text,
            as_utc(r.created_at),
            r.notice_sha256,
            r.notice_generated_at,
        )
        for r in conn.execute(query)
    ]
