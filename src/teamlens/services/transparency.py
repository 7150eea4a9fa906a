"""The public transparency register (R17): what runs, who decides, what was released, what it cost.

Every worker may read it without any analyst right. It shows the policy in force (or why nothing
runs), the report catalogue, who holds which role (representatives and approvers by name), every
release made with the budget it charged, a monthly summary, the budget spent against the total,
every policy version's state, and whether the audit log verifies. Its release count is taken from
the release records and checked against the audit log's, so the two cannot silently disagree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction

from teamlens.domain import Policy, Rho
from teamlens.governance import (
    ActivePolicy,
    AuditVerification,
    Party,
    PolicyState,
    PolicyVersionInfo,
    ReleaseInfo,
)
from teamlens.privacy import rho_to_epsilon
from teamlens.services.public_delay import day_start
from teamlens.services.workspace import Workspace


@dataclass(frozen=True)
class MonthSummary:
    """Releases made in one calendar month and the budget they charged."""

    month: str
    releases: int
    rho: float


@dataclass(frozen=True)
class RoleHolder:
    """A role and who holds it: by name for approvers and representatives, by role otherwise."""

    role: str
    holders: str


@dataclass(frozen=True)
class RegisterContext:
    """Everything register.html shows; ``status`` is one sentence on whether anything runs.

    ``policy`` and ``active`` are None while nothing runs; ``spent``/``total`` are ρ for the
    active period (floats for display only); ``audit_releases`` is the audit log's own count.
    """

    status: str
    active: ActivePolicy | None
    policy: Policy | None
    roles: tuple[RoleHolder, ...]
    releases: tuple[ReleaseInfo, ...]
    months: tuple[MonthSummary, ...]
    spent: float
    total: float
    epsilon_spent: float
    epsilon_total: float
    versions: tuple[PolicyVersionInfo, ...]
    audit: AuditVerification
    audit_releases: int
    generated_at: str
    #: Entries recorded before ``held_from`` (today's UTC midnight): the count the audit page shows,
    #: which, unlike the log's live length, cannot move while the day is open (``public_delay``).
    audit_shown: int
    held_from: dt.datetime


def build_register(ws: Workspace) -> RegisterContext:
    """Gather the register from the governance database (no fact is read)."""
    governance = ws.governance
    held_from = day_start(ws)
    active = governance.active_policy()
    versions = tuple(governance.policy_versions())
    policy = active.policy if active else None
    releases = tuple(governance.releases(policy.policy_id if policy else None))
    spent = (
        governance.spent(policy.policy_id, policy.period_start, policy.period_end) if policy else Rho.zero()
    )
    total = policy.rho if policy else Rho.zero()
    return RegisterContext(
        status=_status(active, versions),
        active=active,
        policy=policy,
        roles=_roles(active, policy),
        releases=releases,
        months=_months(releases),
        spent=float(spent.value),
        total=float(total.value),
        epsilon_spent=rho_to_epsilon(spent, policy.delta) if policy and spent.value > 0 else 0.0,
        epsilon_total=rho_to_epsilon(total, policy.delta) if policy else 0.0,
        versions=versions,
        audit=governance.verify_audit(),
        audit_releases=governance.audit_counts().get("release.record", 0),
        generated_at=f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        audit_shown=governance.audit_seq_before(held_from),
        held_from=held_from,
    )


def _status(active: ActivePolicy | None, versions: tuple[PolicyVersionInfo, ...]) -> str:
    if active is not None:
        return (
            f"Running under policy {active.policy_id} version {active.version}, approved by both the "
            f"employer and the workers' representatives, until its review on {active.policy.review_date}."
        )
    stopped = [v for v in versions if v.state in (PolicyState.SUSPENDED, PolicyState.LAPSED)]
    if stopped:
        last = max(stopped, key=lambda v: v.state_changed_at)
        return (
            f"Nothing is collected or released: policy {last.policy_id} version {last.version} is "
            f"{last.state.value} since {last.state_changed_at:%Y-%m-%d}."
        )
    return "Nothing is collected or released: no policy has been approved by both parties."


def _roles(active: ActivePolicy | None, policy: Policy | None) -> tuple[RoleHolder, ...]:
    if active is None or policy is None:
        return ()

    def signed(party: Party) -> str:
        names = [a.approver for a in active.approvals if a.party is party]
        return ", ".join(names) or "(approved this version's predecessor; see the versions below)"

    return (
        RoleHolder("Controller (the employer)", policy.controller),
        RoleHolder("Approved for the employer by", signed(Party.EMPLOYER)),
        RoleHolder("Workers' representatives who approved", signed(Party.REPRESENTATIVE)),
        RoleHolder("Who receives released figures", ", ".join(policy.recipients)),
        RoleHolder(
            "Who can see the exclusion (objection) list",
            "the worker concerned, the DPO and the auditing representative only",
        ),
        RoleHolder("Who can see one person's data", "that person only, through their access export"),
    )


def _months(releases: tuple[ReleaseInfo, ...]) -> tuple[MonthSummary, ...]:
    by_month: dict[str, tuple[int, Fraction]] = {}
    for release in releases:
        key = f"{release.released_at:%Y-%m}"
        count, rho = by_month.get(key, (0, Fraction(0)))
        by_month[key] = (count + 1, rho + release.rho.value)
    return tuple(MonthSummary(month, count, float(rho)) for month, (count, rho) in sorted(by_month.items()))
