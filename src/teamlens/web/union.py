"""The representative's pages: the union's copy (R25) at ``/rep/union`` with its CSV and PDF downloads,
and the draft works agreement (R41) at ``/rep/works-agreement`` (``.pdf``), which the DPO reads too
at ``/dpo/works-agreement`` (``.pdf``).

Only a signed-in representative (or DPO) with a second factor reaches them (``RepresentativeSession``,
``DpoSession``); a union-copy download is a form post (CSRF checked); every copy of either is
recorded in the audit log by the service.
"""

from __future__ import annotations

from dataclasses import dataclass

import jinja2
from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from teamlens import services
from teamlens.web.deps import (
    CurrentWorkspace,
    DpoSession,
    FormRepresentative,
    RepresentativeSession,
    SignInService,
)
from teamlens.web.pages import Nav

router = APIRouter()
_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("teamlens.web", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)
_TYPES = {"csv": "text/csv; charset=utf-8", "pdf": "application/pdf"}


@dataclass(frozen=True)
class UnionPage:
    """What the page shows: the weeks, how many cells, and per report its windows and cells."""

    since: str
    through: str
    cells: int
    reports: tuple[tuple[str, str, int], ...]
    csrf_token: str


@router.get("/rep/union", response_class=HTMLResponse)
def union_page(session: RepresentativeSession, sign_in: SignInService, current: CurrentWorkspace) -> str:
    """The summary of the union's copy, with its downloads."""
    copy = services.union_export.union_copy(current)
    by_report: dict[str, list[str]] = {}
    for cell in copy.cells:
        by_report.setdefault(f"{cell.policy_id} / {cell.report_id}", []).append(cell.window)
    reports = tuple(
        (report, ", ".join(sorted(set(windows))), len(windows))
        for report, windows in sorted(by_report.items())
    )
    page = UnionPage(
        copy.since.isoformat(),
        copy.through.isoformat(),
        len(copy.cells),
        reports,
        sign_in.cookies.signer.csrf_token(session),
    )
    return _TEMPLATES.get_template("union.html").render(ctx=page, nav=Nav("/rep"))


@router.post("/rep/union.csv")
def union_csv(session: FormRepresentative, current: CurrentWorkspace) -> Response:
    """The copy as a CSV file; the request is audited."""
    return _download(current, "csv")


@router.post("/rep/union.pdf")
def union_pdf(session: FormRepresentative, current: CurrentWorkspace) -> Response:
    """The copy as a PDF file; the request is audited."""
    return _download(current, "pdf")


def _download(current: services.Workspace, kind: str) -> Response:
    copy, content = services.union_export.export_for_representative(current, kind)
    name = f"union-copy-{copy.since.isoformat()}-to-{copy.through.isoformat()}.{kind}"
    return Response(
        content, media_type=_TYPES[kind], headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get("/rep/works-agreement", response_class=HTMLResponse)
def works_agreement_for_representative(session: RepresentativeSession, current: CurrentWorkspace) -> Response:
    """The draft works agreement (Betriebsvereinbarung) as a page; audited."""
    return _works_agreement(current, "html", "representative")


@router.get("/rep/works-agreement.pdf")
def works_agreement_pdf_for_representative(
    session: RepresentativeSession, current: CurrentWorkspace
) -> Response:
    """The draft works agreement as a PDF file; audited."""
    return _works_agreement(current, "pdf", "representative")


@router.get("/dpo/works-agreement", response_class=HTMLResponse)
def works_agreement_for_dpo(session: DpoSession, current: CurrentWorkspace) -> Response:
    """The draft works agreement as a page, for the DPO; audited."""
    return _works_agreement(current, "html", "dpo")


@router.get("/dpo/works-agreement.pdf")
def works_agreement_pdf_for_dpo(session: DpoSession, current: CurrentWorkspace) -> Response:
    """The draft works agreement as a PDF file, for the DPO; audited."""
    return _works_agreement(current, "pdf", "dpo")


def _works_agreement(current: services.Workspace, kind: str, reader: str) -> Response:
    copy = services.works_agreement.works_agreement(current, kind, reader=reader)
    shown = "attachment" if kind == "pdf" else "inline"
    return Response(
        copy.content,
        media_type=copy.media_type,
        headers={"Content-Disposition": f'{shown}; filename="{copy.filename}"'},
    )
