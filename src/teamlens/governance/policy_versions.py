"""Move policy versions through their lifecycle; who may make each move is decided here.

``propose`` stores a draft; ``approve`` records one party's signature (the first closes any
consultation and makes the version ``proposed``; the second makes it ``approved`` and active at
once unless another policy is in force). A version that only narrows the active one (see
``tightening``) is activated by one signature (R3). ``activate`` starts an approved version that
was waiting; stopping and restarting (suspend, lift, retire, lapse) are in ``policy_stops``.
Every party's move is a ``SignedDecision``, checked by ``decisions.accept`` against the party's
registered key before anything changes; the party is the one the signature proves, never a name
given. Functions run inside a transaction
``GovernanceDB`` opens, and every change is audited, signature included, in that transaction.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from teamlens.errors import InternalError, PolicyError
from teamlens.governance import (
    approvers,
    audit_log,
    consultation,
    decisions,
    dpia_signoff,
    notifications,
)
from teamlens.governance import version_rows as rows
from teamlens.governance.policy_file import ParsedPolicy, policy_sha256
from teamlens.governance.policy_integrity import IntegrityFailure, verified_policy
from teamlens.governance.records import (
    Party,
    PolicyState,
    PolicyVersionInfo,
    SignedDecision,
)
from teamlens.governance.tables import approvals, policy_versions
from teamlens.governance.tightening import widenings

_SIGNABLE = (PolicyState.DRAFT, PolicyState.CONSULTATION, PolicyState.PROPOSED)


def propose(
    conn: sa.Connection, parsed: ParsedPolicy, source: str, actor: str, now: dt.datetime
) -> PolicyVersionInfo:
    """Store a parsed version as a draft; the same text again is a no-op, other text a conflict."""
    policy = parsed.policy
    existing = rows.row(conn, policy.policy_id, policy.version)
    if existing is not None:
        if existing.sha256 == parsed.sha256:
            return rows.info(conn, existing)
        raise PolicyError(
            f"Policy '{policy.policy_id}' version {policy.version} already exists with different text.",
            "Every change is a new version: raise `version` in [policy] and propose again.",
        )
    conn.execute(
        policy_versions.insert().values(
            policy_id=policy.policy_id,
            version=policy.version,
            title=policy.title,
            toml=parsed.text,
            sha256=parsed.sha256,
            state=PolicyState.DRAFT.value,
            source=source,
            proposed_by=actor,
            created_at=now,
            state_changed_at=now,
            min_group_size=policy.min_group_size,
        )
    )
    details = {"policy_id": policy.policy_id, "version": policy.version, "sha256": parsed.sha256}
    audit_log.append(conn, now, actor, "policy.propose", {**details, "warnings": len(parsed.warnings)})
    return rows.refreshed(conn, rows.require_row(conn, policy.policy_id, policy.version))


def approve(
    conn: sa.Connection,
    policy_id: str,
    version: int,
    signed: SignedDecision,
    approver: str,
    actor: str,
    now: dt.datetime,
    reviewed_sha256: str | None,
) -> PolicyVersionInfo:
    """Record a party's signature on the stored text and consultation record (see module docstring)."""
    row = rows.require_row(conn, policy_id, version)
    if reviewed_sha256 is not None and reviewed_sha256 != row.sha256:
        raise PolicyError(
            f"The text you reviewed (sha256 {reviewed_sha256[:12]}…) is not the stored text of policy "
            f"'{policy_id}' version {version} (sha256 {row.sha256[:12]}…). Nothing was approved.",
            "Review the stored text (`teamlens policy show`) and approve that.",
        )
    if policy_sha256(row.toml) != row.sha256:
        raise IntegrityFailure(row, "its text no longer matches its hash")
    record = consultation.record(conn, policy_id, version)
    proof = decisions.accept(
        conn,
        signed,
        "policy.approve",
        now,
        policy_id=policy_id,
        version=version,
        sha256=row.sha256,
        record_sha256=record.sha256,
    )
    party = Party(signed.party)
    already = rows.approvals_of(conn, policy_id, version)
    if any(approval.party is party for approval in already):
        return rows.info(conn, row)  # approving twice changes nothing
    state = PolicyState(row.state)
    if state in (PolicyState.APPROVED, PolicyState.ACTIVE):
        # A version one party put in force because it only narrows: the other may countersign it.
        return _countersign(conn, row, proof, approver, actor, now)
    if state not in _SIGNABLE:
        raise PolicyError(
            f"Policy '{policy_id}' version {version} is {state.value}; it can no longer be approved.",
            "Propose a new version (raise `version` in [policy]) and have both parties approve it.",
        )
    policy = rows.parsed(row).policy
    refuse_if_past_review(policy_id, version, policy.review_date, now)
    if state is PolicyState.CONSULTATION and record.unanswered:
        raise PolicyError(
            f"{record.unanswered} view(s) from the consultation on policy '{policy_id}' version {version} "
            "have no response from the employer yet; the response is part of what is approved (R5). "
            "Nothing was approved.",
            f'The employer records it with `teamlens policy respond {policy_id} {version} --text "…" '
            '--name "…" --key EMPLOYER-KEY`.',
        )
    current = rows.active_row(conn)
    same_policy = current is not None and current.policy_id == policy_id
    if same_policy and current is not None and current.version > version:
        raise PolicyError(
            f"Version {current.version} of policy '{policy_id}' is active; older version {version} "
            "cannot replace it, so it was not approved.",
            "Propose the change as a new version above the active one.",
        )
    signers = {approval.party for approval in already} | {party}
    both = signers == set(Party)
    narrows = same_policy and current is not None and not widenings(rows.parsed(current).policy, policy)
    if not narrows:
        # A version that only narrows the one in force runs on one word (R3); any other needs a
        # consultation, or the employer's recorded reasons for not consulting (R5).
        consultation.require_consulted_or_reasons(conn, policy_id, version)
    # Where the works council co-decides, the employer's word alone starts no version (R41).
    starts = both or (narrows and approvers.one_word_starts(policy, party))
    if starts:
        approvers.require(conn, policy, version, signers, narrows=narrows)
        # Every version that becomes approved (and so may run) needs its own DPIA sign-off (R4).
        dpia_signoff.require_for_activation(conn, policy_id, version)
    _insert_approval(conn, row, party, approver, record.sha256, now)
    details = {
        "policy_id": policy_id,
        "version": version,
        "sha256": row.sha256,
        "record_sha256": record.sha256,
    }
    audit_log.append(conn, now, actor, "policy.approve", {**details, **proof})
    if starts:
        if not both and current is not None:
            conn.execute(
                policy_versions.update()
                .where(policy_versions.c.policy_id == policy_id, policy_versions.c.version == version)
                .values(tightens_version=current.version)
            )
        rows.set_state(conn, row, PolicyState.APPROVED, now)
        audit_log.append(
            conn,
            now,
            actor,
            "policy.approved",
            {"policy_id": policy_id, "version": version, "parties": 2 if both else 1},
        )
        _activate_if_free(conn, rows.require_row(conn, policy_id, version), actor, now)
    elif state is not PolicyState.PROPOSED:
        rows.set_state(conn, row, PolicyState.PROPOSED, now)
    return rows.refreshed(conn, row)


def _countersign(
    conn: sa.Connection, row: rows.Row, proof: dict[str, object], approver: str, actor: str, now: dt.datetime
) -> PolicyVersionInfo:
    record = consultation.record(conn, row.policy_id, row.version)
    _insert_approval(conn, row, Party(str(proof["party"])), approver, record.sha256, now)
    details = {
        "policy_id": row.policy_id,
        "version": row.version,
        "sha256": row.sha256,
        "record_sha256": record.sha256,
        "countersign": True,
    }
    audit_log.append(conn, now, actor, "policy.approve", {**details, **proof})
    return rows.refreshed(conn, row)


def _insert_approval(
    conn: sa.Connection, row: rows.Row, party: Party, approver: str, record_sha256: str, now: dt.datetime
) -> None:
    conn.execute(
        approvals.insert().values(
            policy_id=row.policy_id,
            version=row.version,
            party=party.value,
            approver=approver,
            sha256=row.sha256,
            approved_at=now,
            record_sha256=record_sha256,
        )
    )


def activate(
    conn: sa.Connection, policy_id: str, version: int, signed: SignedDecision, actor: str, now: dt.datetime
) -> PolicyVersionInfo:
    """Start an approved version that waited while another policy was in force (either party)."""
    row, proof = decisions.on_version(conn, signed, "policy.activate", policy_id, version, now)
    state = PolicyState(row.state)
    if state is PolicyState.ACTIVE:
        return rows.info(conn, row)
    if state is not PolicyState.APPROVED:
        raise PolicyError(
            f"Policy '{policy_id}' version {version} is {state.value}; only a version both parties "
            "approved can be activated.",
            "`teamlens policy list` shows each version's state and missing approvals.",
        )
    policy = rows.parsed(row).policy
    refuse_if_past_review(policy_id, version, policy.review_date, now)
    signers = {approval.party for approval in rows.approvals_of(conn, policy_id, version)}
    narrows = rows.info(conn, row).tightens_version is not None
    approvers.require(conn, policy, version, signers, narrows=narrows)
    dpia_signoff.require_for_activation(conn, policy_id, version)
    verified_policy(conn, row)  # the approvals are re-proved from their signatures before it may run
    if not _activate_if_free(conn, row, actor, now, proof):
        current = rows.active_row(conn)
        if current is None:
            raise InternalError("activation was declined although no policy is active")
        raise PolicyError(
            f"Policy '{current.policy_id}' version {current.version} is active; only one policy can be "
            f"active at a time, so '{policy_id}' was not activated.",
            f"Retire or suspend '{current.policy_id}' first, then activate again.",
        )
    return rows.refreshed(conn, row)


def _activate_if_free(
    conn: sa.Connection, row: rows.Row, actor: str, now: dt.datetime, proof: dict[str, object] | None = None
) -> bool:
    """Make an approved version active, superseding an older version of the same policy.

    Returns False, changing nothing, while a different policy is active: the version stays
    ``approved`` until that one is retired or suspended and someone activates this one.
    """
    current = rows.active_row(conn)
    if current is not None and current.policy_id != row.policy_id:
        return False
    if current is not None:
        rows.set_state(conn, current, PolicyState.SUPERSEDED, now)
        audit_log.append(
            conn,
            now,
            actor,
            "policy.supersede",
            {"policy_id": current.policy_id, "version": current.version, "by_version": row.version},
        )
    rows.set_state(conn, row, PolicyState.ACTIVE, now)
    details: dict[str, object] = {"policy_id": row.policy_id, "version": row.version, "sha256": row.sha256}
    audit_log.append(conn, now, actor, "policy.activate", {**details, **(proof or {})})
    notifications.notify(
        conn,
        "workers",
        "policy.activated",
        row.policy_id,
        row.version,
        f"Policy '{row.policy_id}' version {row.version} is now in force; the privacy notice for it "
        "says what is collected and what may be published (R16).",
        now,
    )
    return True


def refuse_if_past_review(policy_id: str, version: int, review_date: dt.date, now: dt.datetime) -> None:
    if review_date < now.date():
        raise PolicyError(
            f"Policy '{policy_id}' version {version} has a review date ({review_date}) that has already "
            "passed, so it cannot start; it would lapse at once (R6).",
            "Propose a new version with a later review_date and have both parties approve it.",
        )
