"""The signed-in worker's own pages: ``/me``, ``/me/export.zip`` and ``POST /me/object``.

Each route knows the worker only from the signed session (``CurrentWorker``/``FormWorker``);
none takes an address or a pseudonym, so nobody can ask for anyone else's data here.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from teamlens import services
from teamlens.web.deps import CurrentWorker, CurrentWorkspace, FormWorker, SignInService
from teamlens.web.pages import MyPage, render_my_page

router = APIRouter()


@router.get("/me", response_class=HTMLResponse)
def my_page(
    worker: CurrentWorker, sign_in: SignInService, current: CurrentWorkspace, objected: int = 0
) -> str:
    """Everything teamlens holds about the signed-in worker (R20), with their objection form (R22)."""
    held = services.own_data(current, worker.worker)
    return render_my_page(MyPage(held, sign_in.cookies.signer.csrf_token(worker), objected == 1))


@router.get("/me/export.zip")
def my_export(worker: CurrentWorker, current: CurrentWorkspace) -> Response:
    """The signed-in worker's access export (JSON, CSV, summary), zipped in memory."""
    archive = services.own_export(current, worker.worker)
    disposition = 'attachment; filename="teamlens-my-data.zip"'
    return Response(archive, media_type="application/zip", headers={"Content-Disposition": disposition})


@router.post("/me/object")
def my_objection(worker: FormWorker, current: CurrentWorkspace) -> Response:
    """Record the signed-in worker's objection (Art 21): left out from the next window on."""
    services.object_to_processing(current, worker.worker)
    return RedirectResponse("/me?objected=1", status_code=303)
