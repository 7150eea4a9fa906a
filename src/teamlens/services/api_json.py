"""The HTTP API's documents other than the released cells: the register and the audit summary as JSON.

Each holds what its public page shows and nothing more: ``register_json`` what ``/register``
shows (``transparency.build_register``), ``audit_json`` what ``/audit`` shows
(``audit.audit_page``): the chain's verification and the entries recorded before today's UTC
midnight, an entry about one worker by day and without its details. The released cells are
``release.tables_as_json``.
"""

from __future__ import annotations

from teamlens.services.audit import audit_page
from teamlens.services.transparency import build_register
from teamlens.services.workspace import Workspace


def register_json(ws: Workspace) -> dict[str, object]:
    """The transparency register as JSON: what runs, the catalogue, roles, releases, budget spent."""
    ctx = build_register(ws)
    policy = ctx.policy
    return {
        "status": ctx.status,
        "policy": None
        if policy is None or ctx.active is None
        else {
            "id": policy.policy_id,
            "version": policy.version,
            "sha256": ctx.active.sha256,
            "review_date": policy.review_date.isoformat(),
            "min_group_size": policy.min_group_size,
            "reports": [
                {
                    "report_id": report.report_id,
                    "title": report.title,
                    "level": report.level.value,
                    "cadence": report.cadence.value,
                    "metrics": list(report.metrics),
                    "budget_share": float(report.budget_share),
                }
                for report in policy.reports
            ],
        },
        "roles": [{"role": role.role, "holders": role.holders} for role in ctx.roles],
        "releases": [
            {
                "release_id": release.release_id,
                "released_at": release.released_at.isoformat(),
                "released_by": release.released_by,
                "report_id": release.report_id,
                "windows": list(release.windows),
                "metrics": list(release.metrics),
                "rho": float(release.rho.value),
            }
            for release in ctx.releases
        ],
        "budget": {
            "rho_spent": ctx.spent,
            "rho_total": ctx.total,
            "epsilon_spent": ctx.epsilon_spent,
            "epsilon_total": ctx.epsilon_total,
        },
        "versions": [
            {
                "policy_id": version.policy_id,
                "version": version.version,
                "state": version.state.value,
                "state_changed_at": version.state_changed_at.isoformat(),
                "approved_by": [
                    {"approver": approval.approver, "party": approval.party.value}
                    for approval in version.approvals
                ],
            }
            for version in ctx.versions
        ],
        "audit": {
            "verified": ctx.audit.ok,
            "entries_shown": ctx.audit_shown,
            "releases_recorded": ctx.audit_releases,
        },
    }


def audit_json(ws: Workspace, *, before: int | None = None) -> dict[str, object]:
    """The verified audit summary and one page of entries, newest first, exactly as ``/audit`` shows."""
    page = audit_page(ws, before=before)
    verification = page.verification
    return {
        "verified": verification.ok,
        "problem": verification.problem or None,
        "first_bad_entry": verification.first_bad_seq,
        "entries_shown": page.shown_through,
        "held_from": page.held_from.isoformat(),
        "page_size": page.page_size,
        "older": page.older,
        "entries": [
            {
                "seq": entry.seq,
                "when": entry.when,
                "actor": entry.actor,
                "action": entry.action,
                "meaning": entry.meaning,
                "details": dict(entry.details),
                "withheld": entry.withheld,
            }
            for entry in page.entries
        ],
    }
