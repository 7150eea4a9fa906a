"""One view and one objection per signed-in worker per proposal, replaceable, never linkable to them.

The web app passes a ``voter``: a keyed hash of the worker's pseudonym and the proposal, made
with the pseudonymisation key, which is kept outside the data folder (``services.consultation``).
``give`` records the view as a consultation entry the first time, and replaces that entry's text
the next times, so a worker's later view stands instead of adding to their count. The audit
entry counts the views (a replacement is marked, never attributed).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from teamlens.governance import audit_log, consultation
from teamlens.governance.records import EntryKind
from teamlens.governance.tables import consultation_entries, view_slots


def give(
    conn: sa.Connection,
    policy_id: str,
    version: int,
    kind: str,
    voter: str,
    author: str,
    text: str,
    now: dt.datetime,
) -> bool:
    """Record ``voter``'s one view of ``kind`` on a proposal, or replace it; True when it replaced one."""
    entry_kind = EntryKind(kind)
    key = (
        view_slots.c.policy_id == policy_id,
        view_slots.c.version == version,
        view_slots.c.kind == entry_kind.value,
        view_slots.c.voter == voter,
    )
    held = conn.execute(sa.select(view_slots.c.entry_id).where(*key)).scalar_one_or_none()
    if held is None:
        entry = consultation.add_view(conn, policy_id, version, entry_kind, author, text, now)
        conn.execute(
            view_slots.insert().values(
                policy_id=policy_id,
                version=version,
                kind=entry_kind.value,
                voter=voter,
                entry_id=entry.entry_id,
            )
        )
        return False
    consultation.require_open(conn, policy_id, version)
    checked = consultation.checked_view(author, text)
    conn.execute(
        consultation_entries.update()
        .where(consultation_entries.c.entry_id == held)
        .values(author=checked[0], text=checked[1], at=now)
    )
    audit_log.append(
        conn,
        now,
        "worker",
        f"consultation.{entry_kind.value}",
        {"policy_id": policy_id, "version": version, "replaced": True},
    )
    return True
