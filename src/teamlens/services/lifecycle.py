"""The policy lifecycle for people: consult, comment, respond, activate, retire, list.

Proposing, approving and suspending are in ``policy.py``. A draft goes to consultation with
``consult``, which computes the planner figures (``planner_figures``) and stores them in the
consultation record; workers ``comment`` (or object), the employer ``respond``s, and both
parties then approve the version together with that record (R5).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from teamlens.governance import (
    ConsultationEntry,
    ConsultationRecord,
    NotConsulted,
    PolicyVersionInfo,
)
from teamlens.services.planner_figures import PlannerFigures, planner_figures
from teamlens.services.workspace import Workspace


@dataclass(frozen=True)
class ConsultResult:
    """A draft put to consultation, and the planner figures published with it."""

    info: PolicyVersionInfo
    figures: PlannerFigures


def consult(
    ws: Workspace, policy_id: str, version: int, *, party: str, actor: str, today: dt.date | None = None
) -> ConsultResult:
    """Publish a draft to workers with its planner figures; views are taken until the first signature."""
    stored = ws.governance.stored_policy(policy_id, version)
    figures = planner_figures(ws, stored.policy, today=today)
    info = ws.governance.consult(policy_id, version, party, actor, figures.to_json())
    return ConsultResult(info, figures)


def comment(
    ws: Workspace, policy_id: str, version: int, *, text: str, author: str = "", objection: bool = False
) -> ConsultationEntry:
    """Record a worker's comment (or objection to the proposal) on a version in consultation."""
    kind = "objection" if objection else "comment"
    return ws.governance.add_view(policy_id, version, kind, author, text)


def respond(
    ws: Workspace, policy_id: str, version: int, *, party: str, author: str, text: str
) -> ConsultationEntry:
    """Record the employer's response to the views (only the employer may)."""
    return ws.governance.respond(policy_id, version, party, author, text)


def not_consulted(
    ws: Workspace, policy_id: str, version: int, *, party: str, author: str, reason: str
) -> NotConsulted:
    """Record why the employer did not consult on a draft (R5); the DPIA then shows the reasons."""
    return ws.governance.record_not_consulted(policy_id, version, party, author, reason)


def consultation(ws: Workspace, policy_id: str, version: int) -> ConsultationRecord:
    """The consultation record of one version: publication, views and responses."""
    return ws.governance.consultation(policy_id, version)


def activate(ws: Workspace, policy_id: str, version: int, *, party: str, actor: str) -> PolicyVersionInfo:
    """Start a version both parties approved that waited while another policy was in force."""
    info = ws.governance.activate(policy_id, version, party, actor)
    from teamlens.services.documents import record_notice_version

    record_notice_version(ws, policy_id, version, actor=actor)
    return info


def retire(ws: Workspace, policy_id: str, version: int, *, party: str, actor: str) -> PolicyVersionInfo:
    """End a version for good (or withdraw a draft); either party may do this alone."""
    return ws.governance.retire(policy_id, version, party, actor)


def versions(ws: Workspace, policy_id: str | None = None) -> list[PolicyVersionInfo]:
    """Every stored policy version with its state and missing approvals."""
    return ws.governance.policy_versions(policy_id)
