"""Keep the consultation record of a proposal (R5): publication, workers' views, employer's response.

A draft is published to workers (``publish``), who comment or object (``add_view``) while it is in
consultation; the employer answers (``respond``), giving reasons where it departs from the views.
The first signature closes the consultation, and every approval stores the hash of the record it
saw (``record(...).sha256``), so the record is part of the approved version: an edit to it later
is caught like an edit to the text. Views are kept as their authors wrote them, under whatever
label they chose; audit entries only count them.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import sqlalchemy as sa

from teamlens.errors import AccessDenied, PolicyError
from teamlens.governance import audit_log
from teamlens.governance import version_rows as rows
from teamlens.governance.records import (
    ConsultationEntry,
    ConsultationRecord,
    EntryKind,
    Party,
    PolicyState,
    PolicyVersionInfo,
)
from teamlens.governance.tables import as_utc, consultation_entries

#: The longest view or response kept, in characters: a long letter, not an attachment.
MAX_TEXT = 20_000
_MAX_AUTHOR = 200


def record(conn: sa.Connection, policy_id: str, version: int) -> ConsultationRecord:
    """The consultation record of one version, with the hash approvals commit to."""
    found = rows.require_row(conn, policy_id, version)
    entries = tuple(
        ConsultationEntry(r.entry_id, EntryKind(r.kind), r.author, r.text, as_utc(r.at))
        for r in conn.execute(
            sa.select(consultation_entries)
            .where(consultation_entries.c.policy_id == policy_id, consultation_entries.c.version == version)
            .order_by(consultation_entries.c.entry_id)
        )
    )
    closed = PolicyState(found.state) is not PolicyState.CONSULTATION
    return ConsultationRecord(policy_id, version, entries, record_sha256(policy_id, version, entries), closed)


def record_sha256(policy_id: str, version: int, entries: tuple[ConsultationEntry, ...]) -> str:
    """Hash a record's entries in order; entry ids are left out so a restored copy hashes the same."""
    payload = {
        "policy_id": policy_id,
        "version": version,
        "entries": [
            {
                "kind": e.kind.value,
                "author": e.author,
                "text": e.text,
                "at": e.at.isoformat(timespec="microseconds"),
            }
            for e in entries
        ],
    }
    return hashlib.sha256(audit_log.canonical_json(payload).encode("utf-8")).hexdigest()


def publish(
    conn: sa.Connection,
    policy_id: str,
    version: int,
    party: Party,
    actor: str,
    planner_json: str,
    now: dt.datetime,
) -> PolicyVersionInfo:
    """Open a draft to workers' views; ``planner_json`` (the planner figures) joins the record."""
    found = rows.require_row(conn, policy_id, version)
    state = PolicyState(found.state)
    if state is PolicyState.CONSULTATION:
        return rows.info(conn, found)  # already published: publishing again changes nothing
    if state is not PolicyState.DRAFT:
        raise PolicyError(
            f"Policy '{policy_id}' version {version} is {state.value}; only a draft can be put to "
            "consultation.",
            "Propose the change as a new version (raise `version` in [policy]) and consult on that.",
        )
    rows.set_state(conn, found, PolicyState.CONSULTATION, now)
    _insert(conn, policy_id, version, EntryKind.PUBLISHED, actor, planner_json, now)
    audit_log.append(
        conn, now, actor, "policy.consult", {"policy_id": policy_id, "version": version, "party": party.value}
    )
    return rows.refreshed(conn, found)


def add_view(
    conn: sa.Connection,
    policy_id: str,
    version: int,
    kind: EntryKind,
    author: str,
    text: str,
    now: dt.datetime,
) -> ConsultationEntry:
    """Record a worker's comment or objection on a proposal in consultation."""
    if kind not in (EntryKind.COMMENT, EntryKind.OBJECTION):
        raise PolicyError(f"'{kind.value}' is not a view.", "Record a comment or an objection.")
    _require_open(conn, policy_id, version)
    entry = _insert(conn, policy_id, version, kind, author, text, now)
    views = sum(1 for e in record(conn, policy_id, version).entries if e.kind is kind)
    # Counted, never quoted or attributed: a view on monitoring can itself be sensitive.
    audit_log.append(
        conn,
        now,
        "worker",
        f"consultation.{kind.value}",
        {"policy_id": policy_id, "version": version, kind.value + "s": views},
    )
    return entry


def respond(
    conn: sa.Connection,
    policy_id: str,
    version: int,
    party: Party,
    author: str,
    text: str,
    now: dt.datetime,
) -> ConsultationEntry:
    """Record the employer's response to the views (with reasons where it departs from them)."""
    if party is not Party.EMPLOYER:
        raise AccessDenied(
            "Only the employer responds to a consultation: the response is the controller's answer "
            "to the views workers gave (R5).",
            "Representatives add their views with `teamlens policy comment`.",
        )
    _require_open(conn, policy_id, version)
    entry = _insert(conn, policy_id, version, EntryKind.RESPONSE, author, text, now)
    audit_log.append(conn, now, author, "consultation.response", {"policy_id": policy_id, "version": version})
    return entry


def _require_open(conn: sa.Connection, policy_id: str, version: int) -> None:
    state = PolicyState(rows.require_row(conn, policy_id, version).state)
    if state is PolicyState.CONSULTATION:
        return
    if state is PolicyState.DRAFT:
        raise PolicyError(
            f"Policy '{policy_id}' version {version} is a draft that has not been put to consultation.",
            f"Publish it first: `teamlens policy consult {policy_id} {version}`.",
        )
    raise PolicyError(
        f"The consultation on policy '{policy_id}' version {version} is closed (the version is "
        f"{state.value}); views are recorded while a proposal is in consultation.",
        "Raise your view with the representatives; a later version will be consulted on again.",
    )


def _insert(
    conn: sa.Connection,
    policy_id: str,
    version: int,
    kind: EntryKind,
    author: str,
    text: str,
    now: dt.datetime,
) -> ConsultationEntry:
    author = author.strip() or "anonymous"
    if len(author) > _MAX_AUTHOR:
        raise PolicyError(f"The author label is {len(author)} characters long.", "Use at most 200.")
    if kind is not EntryKind.PUBLISHED and not text.strip():
        raise PolicyError("The text is empty.", "Write the view or the response to record.")
    if len(text) > MAX_TEXT:
        raise PolicyError(
            f"The text is {len(text):,} characters long; at most {MAX_TEXT:,} are kept.",
            "Shorten it, or record it in several parts.",
        )
    entry_id = conn.execute(
        consultation_entries.insert()
        .values(policy_id=policy_id, version=version, kind=kind.value, author=author, text=text, at=now)
        .returning(consultation_entries.c.entry_id)
    ).scalar_one()
    return ConsultationEntry(int(entry_id), kind, author, text, now.astimezone(dt.UTC))
