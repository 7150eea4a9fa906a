"""The signed-in worker's own pages: ``/me``, ``/me/export.zip``, ``POST /me/object``, ``POST /me/request``.

Each route knows the worker only from their live session (``CurrentWorker``, ``FormWorker``,
``FreshWorker``); none takes an address or a pseudonym, so nobody can ask for anyone else's data
here. The export needs a sign-in in the last five minutes (step-up); a request to the DPO (an
erasure) is the only way the DPO acts on the worker's data without a countersigned off-line one.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from teamlens import services
from teamlens.web.deps import CurrentWorker, CurrentWorkspace, FormWorker, FreshWorker, SignInService
from teamlens.web.pages import MyPage, render_my_page

router = APIRouter()


@router.get("/me", response_class=HTMLResponse)
def my_page(
    worker: CurrentWorker,
    sign_in: SignInService,
    current: CurrentWorkspace,
    objected: int = 0,
    requested: int = 0,
) -> str:
    """Everything teamlens holds about the signed-in worker (R20), with their objection form (R22)."""
    held = services.own_data(current, worker.worker)
    mine = tuple(services.my_requests(current, worker.worker))
    token = sign_in.cookies.signer.csrf_token(worker)
    return render_my_page(MyPage(held, token, objected == 1, mine, requested == 1))


@router.get("/me/export.zip")
def my_export(worker: FreshWorker, current: CurrentWorkspace) -> Response:
    """The signed-in worker's access export (JSON, CSV, summary), zipped in memory (fresh sign-in)."""
    archive = services.own_export(current, worker.worker)
    disposition = 'attachment; filename="teamlens-my-data.zip"'
    return Response(archive, media_type="application/zip", headers={"Content-Disposition": disposition})


@router.post("/me/object")
def my_objection(worker: FormWorker, current: CurrentWorkspace) -> Response:
    """Record the signed-in worker's objection (Art 21): left out from the next window on."""
    services.object_to_processing(current, worker.worker)
    return RedirectResponse("/me?objected=1", status_code=303)


@router.post("/me/request")
def my_request(
    worker: FormWorker, current: CurrentWorkspace, kind: Annotated[Literal["erase"], Form()] = "erase"
) -> Response:
    """Record the signed-in worker's request to the DPO (an erasure): the DPO acts on it alone."""
    services.worker_request(current, worker.worker, kind)
    return RedirectResponse("/me?requested=1", status_code=303)
