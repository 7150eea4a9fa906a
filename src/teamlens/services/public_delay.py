"""Hold back from the public pages what was recorded today (UTC) until the day has closed.

``/audit`` and ``/consultation`` are open to anyone, who could reload them every few seconds and
see the moment an entry, a count or a hash changes; matched with the identity provider's
sign-in log, that moment names the worker who objected or wrote an "anonymous" view (R22). So
those pages show only what was recorded before today's UTC midnight (``day_start``): each day's
entries appear together the next day, and nothing on the page moves while the day is open.
The documents ``teamlens docs`` writes for the parties are not held back.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from teamlens.governance import ConsultationRecord, EntryKind, record_sha256
from teamlens.services.workspace import Workspace

#: The consultation entries held back: a worker's view (comments and objections).
_VIEWS = frozenset({EntryKind.COMMENT, EntryKind.OBJECTION})


def day_start(ws: Workspace) -> dt.datetime:
    """Today's UTC midnight by the governance clock: entries recorded from then on are held back."""
    now = ws.governance.now()
    return dt.datetime.combine(now.date(), dt.time(), tzinfo=dt.UTC)


def shown_record(record: ConsultationRecord, since: dt.datetime) -> ConsultationRecord:
    """The record without the views recorded from ``since`` on, with the hash of what is left.

    Counts and the hash are computed from what is shown, so they only change when the held-back
    views appear; while the record grows only by views, that hash is the record's as of ``since``.
    """
    entries = tuple(e for e in record.entries if not (e.kind in _VIEWS and e.at >= since))
    if len(entries) == len(record.entries):
        return record
    digest = record_sha256(record.policy_id, record.version, entries, record.not_consulted)
    return dataclasses.replace(record, entries=entries, sha256=digest)
