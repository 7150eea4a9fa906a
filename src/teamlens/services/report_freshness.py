"""Whether the published report may have changed, cheaply enough to ask on every request.

The report shows what the releases of the policy version in force published, and nothing else,
so it changes only when a release is recorded or the policy in force changes (approved,
retired, or lapsed at its review date). Every change to governance appends to the audit log in
the same transaction, so ``governance_stamp`` (the newest audit entry and the governance
clock's day) changes whenever the report may have; it is one indexed query. ``report_key``
says what the report shows: the verified policy version in force and its releases. Two reports
rendered under equal keys are the same report (but for the time they were generated).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from teamlens.services.workspace import Workspace

#: Later than any audit entry: the newest entry is the last one recorded before it.
_END_OF_TIME = dt.datetime.max.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class GovernanceStamp:
    """The newest audit entry's number and the governance clock's day (for review-date lapses)."""

    audit_head: int
    day: dt.date


@dataclass(frozen=True)
class ReportKey:
    """What the report shows: the policy version in force (by its text's hash) and the releases of
    its policy id, under any version (a later version of the same period shows what earlier ones published).
    """

    policy_id: str
    version: int
    sha256: str
    release_ids: tuple[str, ...]


def governance_stamp(ws: Workspace) -> GovernanceStamp:
    """A stamp that changes whenever governance records anything, and at midnight UTC."""
    governance = ws.governance
    return GovernanceStamp(governance.audit_seq_before(_END_OF_TIME), governance.now().date())


def report_key(ws: Workspace) -> ReportKey:
    """What the report of the policy in force shows; raises ``NoApprovedPolicy`` when none is."""
    active = ws.governance.require_active_policy("show released statistics")
    releases = ws.governance.releases(active.policy_id)
    return ReportKey(
        active.policy_id,
        active.version,
        active.sha256,
        tuple(release.release_id for release in releases),
    )
