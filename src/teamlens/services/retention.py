"""Retention (R15): delete every person-level fact older than the policy allows, and log the count.

Run by ``teamlens retention run`` and meant for a daily scheduler (cron, a systemd timer). The
retention is the active policy's; when processing has stopped (suspended, lapsed, retired), the
data already held still has to go, so the last policy that ran sets it. A fact is deleted once its
day is more than ``retention_days`` before today. The audit entry holds the policy, the cut-off
date and how many facts were deleted — never whose.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from teamlens.governance import PolicyState
from teamlens.services.workspace import Workspace

#: States of versions that once ran, so their retention still binds the data they let in.
_RAN = (PolicyState.SUSPENDED, PolicyState.LAPSED, PolicyState.SUPERSEDED, PolicyState.RETIRED)


@dataclass(frozen=True)
class RetentionResult:
    """What one retention run did: the cut-off, and how many facts it deleted."""

    policy_id: str | None
    version: int | None
    retention_days: int | None
    cutoff: dt.date | None
    deleted: int


def run_retention(ws: Workspace, *, actor: str, today: dt.date | None = None) -> RetentionResult:
    """Delete every fact older than the governing policy's retention; audited with counts only."""
    day = today or dt.datetime.now(dt.UTC).date()
    governing = _governing_policy(ws)
    if governing is None:
        # Nothing can have been ingested without a policy, so there is nothing to delete.
        return RetentionResult(None, None, None, None, 0)
    policy_id, version = governing
    policy = ws.governance.stored_policy(policy_id, version).policy
    cutoff = day - dt.timedelta(days=policy.retention_days)
    deleted = ws.store.delete_older_than(cutoff)
    ws.governance.append_audit(
        actor,
        "retention.run",
        {
            "policy_id": policy_id,
            "version": version,
            "retention_days": policy.retention_days,
            "cutoff": cutoff.isoformat(),
            "facts_deleted": deleted,
        },
    )
    return RetentionResult(policy_id, version, policy.retention_days, cutoff, deleted)


def _governing_policy(ws: Workspace) -> tuple[str, int] | None:
    active = ws.governance.active_policy()
    if active is not None:
        return active.policy_id, active.version
    # A retired version counts only if it had been approved (it may have run); a withdrawn draft never did.
    ran = [
        info
        for info in ws.governance.policy_versions()
        if info.state in _RAN and (not info.missing_parties or info.tightens_version is not None)
    ]
    if not ran:
        return None
    last = max(ran, key=lambda info: info.state_changed_at)
    return last.policy_id, last.version
