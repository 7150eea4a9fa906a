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

from teamlens.errors import PolicyError
from teamlens.governance import audit_log, decisions
from teamlens.governance import version_rows as rows
from teamlens.governance.records import (
    ConsultationEntry,
    ConsultationRecord,
    EntryKind,
    NotConsulted,
    PolicyState,
    PolicyVersionInfo,
    SignedDecision,
)
from teamlens.governance.tables import as_utc, consultation_entries, not_consulted

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
    skipped = _not_consulted(conn, policy_id, version)
    digest = record_sha256(policy_id, version, entries, skipped)
    return ConsultationRecord(policy_id, version, entries, digest, closed, skipped)


def record_sha256(
    policy_id: str,
    version: int,
    entries: tuple[ConsultationEntry, ...],
    skipped: NotConsulted | None = None,
) -> str:
    """Hash a record's entries in order; entry ids are left out so a restored copy hashes the same.

    A not-consulted record joins the hash only when there is one, so records signed before it
    existed keep their hash.
    """
    payload: dict[str, object] = {
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
    if skipped is not None:
        payload["not_consulted"] = {
            "reason": skipped.reason,
            "by": skipped.recorded_by,
            "at": skipped.recorded_at.isoformat(timespec="microseconds"),
        }
    return hashlib.sha256(audit_log.canonical_json(payload).encode("utf-8")).hexdigest()


def text_sha256(text: str) -> str:
    """The hash of a response or reason a party signs (the text itself joins the record)."""
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()


def publish(
    conn: sa.Connection,
    policy_id: str,
    version: int,
    signed: SignedDecision,
    actor: str,
    planner_json: str,
    now: dt.datetime,
) -> PolicyVersionInfo:
    """Open a draft to workers' views (the employer signs); ``planner_json`` joins the record."""
    found, proof = decisions.on_version(conn, signed, "policy.consult", policy_id, version, now)
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
        conn, now, actor, "policy.consult", {"policy_id": policy_id, "version": version, **proof}
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
    require_open(conn, policy_id, version)
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
    signed: SignedDecision,
    author: str,
    text: str,
    now: dt.datetime,
) -> ConsultationEntry:
    """Record the employer's signed response to the views (with reasons where it departs from them).

    Only the employer's key may sign a response: it is the controller's answer (R5).
    """
    proof = decisions.accept(
        conn,
        signed,
        "consultation.response",
        now,
        policy_id=policy_id,
        version=version,
        text_sha256=text_sha256(text),
    )
    require_open(conn, policy_id, version)
    entry = _insert(conn, policy_id, version, EntryKind.RESPONSE, author, text, now)
    details = {"policy_id": policy_id, "version": version, **proof}
    audit_log.append(conn, now, author, "consultation.response", details)
    return entry


def record_not_consulted(
    conn: sa.Connection,
    policy_id: str,
    version: int,
    signed: SignedDecision,
    author: str,
    reason: str,
    now: dt.datetime,
) -> NotConsulted:
    """Record the employer's signed reasons for not consulting on a draft (the alternative R5 allows).

    Only the employer's key may sign it, only while the version is a draft (a published one was
    consulted on; a signed one's record is fixed); the same reasons again are a no-op, different
    ones a conflict.
    """
    proof = decisions.accept(
        conn,
        signed,
        "consultation.not_consulted",
        now,
        policy_id=policy_id,
        version=version,
        text_sha256=text_sha256(reason),
    )
    found = rows.require_row(conn, policy_id, version)
    state = PolicyState(found.state)
    reason = reason.strip()
    author = author.strip()
    existing = _not_consulted(conn, policy_id, version)
    if existing is not None:
        if existing.reason == reason:
            return existing
        raise PolicyError(
            f"The reasons for not consulting on policy '{policy_id}' version {version} are already recorded.",
            "They are part of the record the parties sign; propose a new version to change them.",
        )
    if state is not PolicyState.DRAFT:
        raise PolicyError(
            f"Policy '{policy_id}' version {version} is {state.value}; a decision not to consult can only "
            "be recorded on a draft.",
            "Record the consultation's outcome instead, or propose a new version.",
        )
    if not reason or len(reason) > MAX_TEXT:
        raise PolicyError(
            f"Give the reasons for not consulting (1–{MAX_TEXT:,} characters).",
            "The ICO expects the decision not to seek workers' views to be documented with reasons.",
        )
    if not author or len(author) > _MAX_AUTHOR:
        raise PolicyError("Name who records the decision (1–200 characters).", "Pass --name.")
    conn.execute(
        not_consulted.insert().values(
            policy_id=policy_id, version=version, reason=reason, recorded_by=author, recorded_at=now
        )
    )
    details = {"policy_id": policy_id, "version": version, **proof}
    audit_log.append(conn, now, author, "consultation.not_consulted", details)
    recorded = _not_consulted(conn, policy_id, version)
    assert recorded is not None
    return recorded


def require_consulted_or_reasons(conn: sa.Connection, policy_id: str, version: int) -> None:
    """Refuse an approval of a version with neither a consultation nor recorded reasons (R5)."""
    found = record(conn, policy_id, version)
    if found.published_at is not None or found.not_consulted is not None:
        return
    raise PolicyError(
        f"Policy '{policy_id}' version {version} was neither put to consultation nor has reasons "
        "recorded for not consulting (R5). Nothing was approved.",
        f"Consult workers (`teamlens policy consult {policy_id} {version} --key EMPLOYER-KEY`), or the "
        f'employer records why not: `teamlens policy not-consulted {policy_id} {version} --because "…" '
        "--key EMPLOYER-KEY`.",
    )


def _not_consulted(conn: sa.Connection, policy_id: str, version: int) -> NotConsulted | None:
    found = conn.execute(
        sa.select(not_consulted).where(
            not_consulted.c.policy_id == policy_id, not_consulted.c.version == version
        )
    ).one_or_none()
    if found is None:
        return None
    return NotConsulted(found.reason, found.recorded_by, as_utc(found.recorded_at))


def require_open(conn: sa.Connection, policy_id: str, version: int) -> None:
    """Refuse unless the version is in consultation, saying what to do instead."""
    state = PolicyState(rows.require_row(conn, policy_id, version).state)
    if state is PolicyState.CONSULTATION:
        return
    if state is PolicyState.DRAFT:
        raise PolicyError(
            f"Policy '{policy_id}' version {version} is a draft that has not been put to consultation.",
            f"Publish it first: `teamlens policy consult {policy_id} {version} --key EMPLOYER-KEY`.",
        )
    raise PolicyError(
        f"The consultation on policy '{policy_id}' version {version} is closed (the version is "
        f"{state.value}); views are recorded while a proposal is in consultation.",
        "Raise your view with the representatives; a later version will be consulted on again.",
    )


def checked_view(author: str, text: str, *, kind: EntryKind = EntryKind.COMMENT) -> tuple[str, str]:
    """An entry's author label and text, checked: a label of at most 200 characters, a text not empty."""
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
    return author, text


def _insert(
    conn: sa.Connection,
    policy_id: str,
    version: int,
    kind: EntryKind,
    author: str,
    text: str,
    now: dt.datetime,
) -> ConsultationEntry:
    author, text = checked_view(author, text, kind=kind)
    entry_id = conn.execute(
        consultation_entries.insert()
        .values(policy_id=policy_id, version=version, kind=kind.value, author=author, text=text, at=now)
        .returning(consultation_entries.c.entry_id)
    ).scalar_one()
    return ConsultationEntry(int(entry_id), kind, author, text, now.astimezone(dt.UTC))
