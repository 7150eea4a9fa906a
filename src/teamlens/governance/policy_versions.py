"""Move policy versions through their lifecycle and prove the active one is what both parties signed.

Functions here run inside a transaction that ``GovernanceDB`` opens; every state change appends
to the audit log in the same transaction, so a change and its record commit together or not at all.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from teamlens.errors import InternalError, PolicyError
from teamlens.governance import audit_log
from teamlens.governance.policy_file import ParsedPolicy, parse_policy, policy_sha256
from teamlens.governance.records import (
    TRANSITIONS,
    ActivePolicy,
    Approval,
    Party,
    PolicyState,
    PolicyVersionInfo,
)
from teamlens.governance.tables import approvals, as_utc, policy_versions


class IntegrityFailure(Exception):
    """A stored policy no longer matches what both parties approved.

    Raised inside a transaction that is then rolled back; ``GovernanceDB`` catches it, records
    it in the audit log in a transaction of its own, and raises ``errors.PolicyError`` instead.
    """

    def __init__(self, row: sa.Row[tuple[object, ...]], problem: str) -> None:
        super().__init__(problem)
        self.policy_id = str(row.policy_id)
        self.version = int(str(row.version))
        self.problem = problem
        self.details: dict[str, object] = {
            "policy_id": self.policy_id,
            "version": self.version,
            "problem": problem,
            "stored_sha256": row.sha256,
            "text_sha256": policy_sha256(str(row.toml)),
        }

    def to_policy_error(self) -> PolicyError:
        """Build the error people see: what was altered, and that everything has stopped."""
        return PolicyError(
            f"The stored record of policy '{self.policy_id}' version {self.version} was altered "
            f"({self.problem}). All processing is stopped until it is restored.",
            "Restore the governance database from a backup, or propose and approve the policy again. "
            "Run `teamlens audit verify` to see whether the audit log was changed too.",
        )


def propose(
    conn: sa.Connection, parsed: ParsedPolicy, source: str, actor: str, now: dt.datetime
) -> PolicyVersionInfo:
    """Store a parsed version as ``proposed``; the same text again is a no-op, other text a conflict."""
    policy = parsed.policy
    existing = _row(conn, policy.policy_id, policy.version)
    if existing is not None:
        if existing.sha256 == parsed.sha256:
            return _info(conn, existing)
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
            state=PolicyState.PROPOSED.value,
            source=source,
            proposed_by=actor,
            created_at=now,
            state_changed_at=now,
            min_group_size=policy.min_group_size,
        )
    )
    audit_log.append(
        conn,
        now,
        actor,
        "policy.propose",
        {
            "policy_id": policy.policy_id,
            "version": policy.version,
            "sha256": parsed.sha256,
            "warnings": len(parsed.warnings),
        },
    )
    return _info(conn, _require_row(conn, policy.policy_id, policy.version))


def approve(
    conn: sa.Connection,
    policy_id: str,
    version: int,
    party: Party,
    approver: str,
    actor: str,
    now: dt.datetime,
    reviewed_sha256: str | None,
) -> PolicyVersionInfo:
    """Record ``party``'s approval of the stored text; the second party's approval activates it."""
    row = _require_row(conn, policy_id, version)
    if reviewed_sha256 is not None and reviewed_sha256 != row.sha256:
        raise PolicyError(
            f"The text you reviewed (sha256 {reviewed_sha256[:12]}…) is not the stored text of policy "
            f"'{policy_id}' version {version} (sha256 {row.sha256[:12]}…). Nothing was approved.",
            "Review the stored text (`teamlens policy show`) and approve that.",
        )
    if policy_sha256(row.toml) != row.sha256:
        raise IntegrityFailure(row, "its text no longer matches its hash")
    signed = _approvals(conn, policy_id, version)
    if any(approval.party is party for approval in signed):
        return _info(conn, row)  # approving twice changes nothing
    state = PolicyState(row.state)
    if state is not PolicyState.PROPOSED:
        raise PolicyError(
            f"Policy '{policy_id}' version {version} is {state.value}; it can no longer be approved.",
            "Propose a new version (raise `version` in [policy]) and have both parties approve it.",
        )
    conn.execute(
        approvals.insert().values(
            policy_id=policy_id,
            version=version,
            party=party.value,
            approver=approver,
            sha256=row.sha256,
            approved_at=now,
        )
    )
    audit_log.append(
        conn,
        now,
        actor,
        "policy.approve",
        {"policy_id": policy_id, "version": version, "party": party.value, "sha256": row.sha256},
    )
    if {approval.party for approval in signed} | {party} == set(Party):
        _activate(conn, row, actor, now)
    return _info(conn, _require_row(conn, policy_id, version))


def _activate(conn: sa.Connection, row: sa.Row[tuple[object, ...]], actor: str, now: dt.datetime) -> None:
    current = conn.execute(
        sa.select(policy_versions).where(policy_versions.c.state == PolicyState.ACTIVE.value)
    ).one_or_none()
    if current is not None and current.policy_id != row.policy_id:
        raise PolicyError(
            f"Policy '{current.policy_id}' version {current.version} is active; only one policy can be "
            f"active at a time, so '{row.policy_id}' was not approved.",
            f"Suspend '{current.policy_id}' first (`teamlens policy suspend`), then approve again.",
        )
    if current is not None and current.version > row.version:
        raise PolicyError(
            f"Version {current.version} of policy '{row.policy_id}' is active; older version {row.version} "
            "cannot replace it, so it was not approved.",
            "Propose the change as a new version above the active one.",
        )
    if current is not None:
        _set_state(conn, current, PolicyState.SUPERSEDED, now)
        audit_log.append(
            conn,
            now,
            actor,
            "policy.supersede",
            {"policy_id": current.policy_id, "version": current.version, "by_version": row.version},
        )
    _set_state(conn, row, PolicyState.ACTIVE, now)
    audit_log.append(
        conn,
        now,
        actor,
        "policy.activate",
        {"policy_id": row.policy_id, "version": row.version, "sha256": row.sha256},
    )


def suspend(
    conn: sa.Connection, policy_id: str, party: Party, actor: str, now: dt.datetime
) -> PolicyVersionInfo:
    """Stop the active version of ``policy_id`` at once, on one party's word (R3, R40)."""
    rows = conn.execute(
        sa.select(policy_versions)
        .where(policy_versions.c.policy_id == policy_id)
        .order_by(policy_versions.c.version.desc())
    ).all()
    active = [row for row in rows if row.state == PolicyState.ACTIVE.value]
    if not active:
        if rows and rows[0].state == PolicyState.SUSPENDED.value:
            return _info(conn, rows[0])  # already stopped: pressing the kill switch twice is harmless
        raise PolicyError(
            f"Policy '{policy_id}' has no active version to suspend.",
            "`teamlens policy list` shows every policy and its state.",
        )
    _set_state(conn, active[0], PolicyState.SUSPENDED, now)
    audit_log.append(
        conn,
        now,
        actor,
        "policy.suspend",
        {"policy_id": policy_id, "version": active[0].version, "party": party.value},
    )
    return _info(conn, _require_row(conn, policy_id, active[0].version))


def load_active(conn: sa.Connection) -> ActivePolicy | None:
    """Return the active policy after re-checking it against its text and both approvals (A16b).

    Raises ``IntegrityFailure`` when the stored record was edited behind teamlens' back.
    """
    rows = conn.execute(
        sa.select(policy_versions).where(policy_versions.c.state == PolicyState.ACTIVE.value)
    ).all()
    if not rows:
        return None
    if len(rows) > 1:
        raise IntegrityFailure(rows[0], "more than one version is marked active")
    row = rows[0]
    if policy_sha256(row.toml) != row.sha256:
        raise IntegrityFailure(row, "its text no longer matches its hash")
    signed = _approvals(conn, row.policy_id, row.version)
    for party in Party:
        approval = next((approval for approval in signed if approval.party is party), None)
        if approval is None:
            raise IntegrityFailure(row, f"it is marked active without the {party.value}'s approval")
        if approval.sha256 != row.sha256:
            raise IntegrityFailure(row, f"its text is not the text the {party.value} approved")
    try:
        parsed = parse_policy(row.toml, f"stored policy '{row.policy_id}' version {row.version}")
    except PolicyError as exc:
        raise IntegrityFailure(row, f"its text no longer parses: {exc.message}") from None
    policy = parsed.policy
    if (policy.policy_id, policy.version, policy.min_group_size) != (
        row.policy_id,
        row.version,
        row.min_group_size,
    ):
        raise IntegrityFailure(row, "its id, version or min_group_size columns differ from its text")
    return ActivePolicy(
        policy=policy,
        sha256=row.sha256,
        text=row.toml,
        activated_at=as_utc(row.state_changed_at),
        approvals=signed,
    )


def _set_state(
    conn: sa.Connection, row: sa.Row[tuple[object, ...]], state: PolicyState, now: dt.datetime
) -> None:
    if state not in TRANSITIONS.get(PolicyState(row.state), frozenset()):
        raise InternalError(f"policy state cannot go from {row.state} to {state.value}")
    conn.execute(
        policy_versions.update()
        .where(policy_versions.c.policy_id == row.policy_id, policy_versions.c.version == row.version)
        .values(state=state.value, state_changed_at=now)
    )


def _row(conn: sa.Connection, policy_id: str, version: int) -> sa.Row[tuple[object, ...]] | None:
    return conn.execute(
        sa.select(policy_versions).where(
            policy_versions.c.policy_id == policy_id, policy_versions.c.version == version
        )
    ).one_or_none()


def _require_row(conn: sa.Connection, policy_id: str, version: int) -> sa.Row[tuple[object, ...]]:
    row = _row(conn, policy_id, version)
    if row is None:
        raise PolicyError(
            f"There is no policy '{policy_id}' version {version}.",
            "`teamlens policy list` shows the stored versions; propose the file first if it is new.",
        )
    return row


def _approvals(conn: sa.Connection, policy_id: str, version: int) -> tuple[Approval, ...]:
    rows = conn.execute(
        sa.select(approvals)
        .where(approvals.c.policy_id == policy_id, approvals.c.version == version)
        .order_by(approvals.c.approved_at, approvals.c.party)
    )
    return tuple(
        Approval(Party(row.party), row.approver, row.sha256, as_utc(row.approved_at)) for row in rows
    )


def _info(conn: sa.Connection, row: sa.Row[tuple[object, ...]]) -> PolicyVersionInfo:
    """Describe one stored version, with the warnings its text gives today."""
    try:
        warnings = parse_policy(row.toml, f"stored policy '{row.policy_id}' version {row.version}").warnings
    except PolicyError as exc:
        warnings = (f"the stored text no longer parses: {exc.message}",)
    return PolicyVersionInfo(
        policy_id=row.policy_id,
        version=row.version,
        title=row.title,
        state=PolicyState(row.state),
        sha256=row.sha256,
        source=row.source,
        proposed_by=row.proposed_by,
        created_at=as_utc(row.created_at),
        state_changed_at=as_utc(row.state_changed_at),
        approvals=_approvals(conn, row.policy_id, row.version),
        warnings=warnings,
    )


def all_versions(conn: sa.Connection, policy_id: str | None) -> list[PolicyVersionInfo]:
    """List every stored version (of ``policy_id`` if given), oldest first."""
    query = sa.select(policy_versions).order_by(policy_versions.c.policy_id, policy_versions.c.version)
    if policy_id is not None:
        query = query.where(policy_versions.c.policy_id == policy_id)
    return [_info(conn, row) for row in conn.execute(query).all()]
