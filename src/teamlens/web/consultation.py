"""The consultation pages: ``/consultation`` lists the proposals open for views, each proposal's
page shows it as ``teamlens docs consultation`` generates it, and a signed-in worker gives their
view there (``POST /consultation/{policy_id}/{version}/comment``).

Posting needs a live session and its CSRF token (``FormWorker``). Each signed-in worker gives at
most one view and one objection per proposal and may replace them: ``services.worker_view``
keeps only a keyed hash of the worker and the proposal beside the view, signed as the worker
typed it or as "a worker", so nothing recorded links a view to who gave it. A view that is
refused (empty, too long) comes back in the form with the reason.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from teamlens import services
from teamlens.errors import PolicyError
from teamlens.web.deps import CurrentVisitor, CurrentWorkspace, FormWorker
from teamlens.web.pages import CommentForm, ConsultationsPage, framed, render_consultations

router = APIRouter()


@router.get("/consultation", response_class=HTMLResponse)
def consultations(current: CurrentWorkspace) -> str:
    """Every proposal open for workers' views."""
    return render_consultations(ConsultationsPage(tuple(services.open_consultations(current))))


@router.get("/consultation/{policy_id}/{version}", response_class=HTMLResponse)
def proposal(
    policy_id: str, version: int, current: CurrentWorkspace, visitor: CurrentVisitor, recorded: int = 0
) -> str:
    """One proposal: its consultation page, and the form to give a view (for a signed-in worker)."""
    document = services.consultation_document(current, policy_id, version)
    return framed(document, "/consultation", CommentForm(policy_id, version, visitor, recorded == 1))


@router.post("/consultation/{policy_id}/{version}/comment")
def give_view(
    policy_id: str,
    version: int,
    signed_in: FormWorker,
    visitor: CurrentVisitor,
    current: CurrentWorkspace,
    text: Annotated[str, Form()] = "",
    signature: Annotated[str, Form()] = "",
    objection: Annotated[bool, Form()] = False,
) -> Response:
    """Record the signed-in worker's view on a proposal open for views, signed or as "a worker"."""
    services.open_consultation(current, policy_id, version)  # closed or unknown: a 409 page saying so
    try:
        services.worker_view(
            current, signed_in.worker, policy_id, version, text=text, signature=signature, objection=objection
        )
    except PolicyError as refused:
        why = f"{refused.message} {refused.hint}".strip()
        form = CommentForm(policy_id, version, visitor, False, why, text, signature, objection)
        page = framed(services.consultation_document(current, policy_id, version), "/consultation", form)
        return HTMLResponse(page, status_code=400)
    return RedirectResponse(f"/consultation/{quote(policy_id)}/{version}?recorded=1", status_code=303)
