"""The pages every worker reads without signing in: ``/policy`` (with its notice, explainer and
text), ``/register`` and ``/audit``.

The notice, explainer and register are the documents ``teamlens docs`` writes, rendered by the
same generator and served as generated, with the site's navigation on top. While no policy is in
force, the policy pages answer 409 "teamlens is off"; the register and the audit log always
answer, since they are where a worker sees why nothing runs and what happened so far.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, PlainTextResponse

from teamlens import services
from teamlens.web.deps import CurrentWorkspace
from teamlens.web.pages import AuditLogPage, PolicyPage, framed, render_audit_page, render_policy_page

router = APIRouter()


@router.get("/policy", response_class=HTMLResponse)
def policy(current: CurrentWorkspace) -> str:
    """The policy in force: its id, version and state, with links to its notice, explainer and text."""
    return render_policy_page(PolicyPage(services.in_force(current), services.registered_keys(current)))


@router.get("/policy/notice", response_class=HTMLResponse)
def notice(current: CurrentWorkspace) -> str:
    """The worker notice of the policy in force (R16)."""
    return framed(services.in_force_document(current, "notice"), "/policy")


@router.get("/policy/explainer", response_class=HTMLResponse)
def explainer(current: CurrentWorkspace) -> str:
    """What a manager can and cannot learn, with worked examples (R38)."""
    return framed(services.in_force_document(current, "explainer"), "/policy")


@router.get("/policy/text", response_class=PlainTextResponse)
def policy_text(current: CurrentWorkspace) -> str:
    """The policy in force exactly as both parties approved it (its sha256 is on ``/policy``)."""
    return services.in_force(current).text


@router.get("/register", response_class=HTMLResponse)
def register(current: CurrentWorkspace) -> str:
    """The transparency register (R17): what runs, the catalogue, roles, releases, budget spent."""
    return framed(services.document_html(current, "register"), "/register")


@router.get("/audit", response_class=HTMLResponse)
def audit(current: CurrentWorkspace, before: Annotated[int | None, Query(ge=1)] = None) -> str:
    """The audit log, newest first a page at a time (``before``: older pages), and whether it verifies."""
    return render_audit_page(AuditLogPage(services.audit_page(current, before=before)))
