"""Stop and restart policy versions: suspend, lift a suspension, retire, and lapse at the review date.

``suspend`` (the kill switch) and ``retire`` take one party's signed word (R3, R40); ``lift``
restarts a suspended version only once both parties have signed it, since restarting widens
what runs (R2); ``lapse_if_due`` stops the active version once its review date has passed (R6).
Like ``policy_versions``, every function runs inside a transaction ``GovernanceDB`` opened, checks
the party's signature with ``decisions.accept`` first, and audits the change with it.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from teamlens.errors import PolicyError
from teamlens.governance import audit_log, decisions, notifications, signed_history
from teamlens.governance import version_rows as rows
from teamlens.governance.policy_integrity import verified_policy
from teamlens.governance.policy_versions import refuse_if_past_review
from teamlens.governance.records import (
    AUDIENCES,
    FINAL_STATES,
    PolicyState,
    PolicyVersionInfo,
    SignedDecision,
)
from teamlens.governance.tables import policy_versions


def suspend(
    conn: sa.Connection, policy_id: str, signed: SignedDecision, actor: str, now: dt.datetime
) -> PolicyVersionInfo:
    """Stop the active version of ``policy_id`` at once, on one party's signed word (R3, R40)."""
    found = conn.execute(
        sa.select(policy_versions)
        .where(policy_versions.c.policy_id == policy_id)
        .order_by(policy_versions.c.version.desc())
    ).all()
    active = [row for row in found if row.state == PolicyState.ACTIVE.value]
    if not active:
        stopped = [row for row in found if row.state == PolicyState.SUSPENDED.value]
        if stopped:
            return rows.info(conn, stopped[0])  # pressing the kill switch twice is harmless
        raise PolicyError(
            f"Policy '{policy_id}' has no active version to suspend.",
            "`teamlens policy list` shows every policy and its state.",
        )
    row = active[0]
    proof = decisions.accept(
        conn, signed, "policy.suspend", now, policy_id=policy_id, version=row.version, sha256=row.sha256
    )
    rows.set_state(conn, row, PolicyState.SUSPENDED, now)
    details = {"policy_id": policy_id, "version": row.version, "sha256": row.sha256}
    audit_log.append(conn, now, actor, "policy.suspend", {**details, **proof})
    for audience in AUDIENCES:
        notifications.notify(
            conn,
            audience,
            "policy.suspended",
            policy_id,
            row.version,
            f"Processing under policy '{policy_id}' version {row.version} was suspended by the "
            f"{signed.party}: nothing is ingested or published until both parties lift the suspension or "
            "approve a new version.",
            now,
        )
    return rows.refreshed(conn, row)


def lift(
    conn: sa.Connection, policy_id: str, version: int, signed: SignedDecision, actor: str, now: dt.datetime
) -> PolicyVersionInfo:
    """Record one party's signature lifting a suspension; with both, the version runs again.

    Restarting processing widens what runs, so it needs both parties (R2), unlike suspending.
    """
    row = rows.require_row(conn, policy_id, version)
    if PolicyState(row.state) is not PolicyState.SUSPENDED:
        raise PolicyError(
            f"Policy '{policy_id}' version {version} is {row.state}, not suspended: nothing to lift.",
            "`teamlens policy list` shows each version's state.",
        )
    proof = decisions.accept(
        conn, signed, "policy.lift", now, policy_id=policy_id, version=version, sha256=row.sha256
    )
    details = {"policy_id": policy_id, "version": version, "sha256": row.sha256}
    audit_log.append(conn, now, actor, "policy.lift", {**details, **proof})
    if not signed_history.read(conn).lifted((policy_id, version)):
        return rows.info(conn, row)  # the other party's signature is still missing
    refuse_if_past_review(policy_id, version, rows.parsed(row).policy.review_date, now)
    if rows.active_row(conn) is not None:
        raise PolicyError(
            f"Another policy version is active, so '{policy_id}' version {version} cannot run again.",
            "Retire or suspend the active version first, then lift again.",
        )
    verified_policy(conn, row)
    rows.set_state(conn, row, PolicyState.ACTIVE, now)
    audit_log.append(conn, now, actor, "policy.resume", details)
    return rows.refreshed(conn, row)


def retire(
    conn: sa.Connection, policy_id: str, version: int, signed: SignedDecision, actor: str, now: dt.datetime
) -> PolicyVersionInfo:
    """End a version for good, or withdraw one that never ran; either party may (it only narrows)."""
    row, proof = decisions.on_version(conn, signed, "policy.retire", policy_id, version, now)
    state = PolicyState(row.state)
    if state is PolicyState.RETIRED:
        return rows.info(conn, row)
    if state in FINAL_STATES:
        raise PolicyError(
            f"Policy '{policy_id}' version {version} is {state.value}; a later version replaced it, "
            "so there is nothing to retire.",
            "Retire the version now in force instead (`teamlens policy list`).",
        )
    rows.set_state(conn, row, PolicyState.RETIRED, now)
    details = {"policy_id": policy_id, "version": version, "sha256": row.sha256, "was": state.value}
    audit_log.append(conn, now, actor, "policy.retire", {**details, **proof})
    return rows.refreshed(conn, row)


def lapse_if_due(conn: sa.Connection, actor: str, now: dt.datetime) -> PolicyVersionInfo | None:
    """Mark the active version ``lapsed`` if its review date has passed (R6); returns it if so."""
    row = rows.active_row(conn)
    if row is None:
        return None
    review_date = rows.parsed(row).policy.review_date
    if review_date >= now.date():
        return None
    rows.set_state(conn, row, PolicyState.LAPSED, now)
    audit_log.append(
        conn,
        now,
        actor,
        "policy.lapse",
        {"policy_id": row.policy_id, "version": row.version, "review_date": review_date.isoformat()},
    )
    for audience in AUDIENCES:  # both parties must act, and workers see that processing stopped (R6)
        notifications.notify(
            conn,
            audience,
            "policy.lapsed",
            row.policy_id,
            row.version,
            f"Policy '{row.policy_id}' version {row.version} passed its review date ({review_date}) without "
            "renewal, so processing is suspended until both parties approve a new version (R6).",
            now,
        )
    return rows.refreshed(conn, row)


def last_stopped(conn: sa.Connection) -> PolicyVersionInfo | None:
    """The version that most recently stopped running (suspended, lapsed, retired), if any."""
    row = conn.execute(
        sa.select(policy_versions)
        .where(
            policy_versions.c.state.in_(
                [PolicyState.SUSPENDED.value, PolicyState.LAPSED.value, PolicyState.RETIRED.value]
            )
        )
        .order_by(policy_versions.c.state_changed_at.desc())
        .limit(1)
    ).one_or_none()
    return None if row is None else rows.info(conn, row)
