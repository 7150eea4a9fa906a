"""The HTTP API for scripts and notebooks: released reports, the register and the audit summary, as JSON.

Every data path needs the analyst (or representative) role, the same as the report page: a
signed-in session's cookie, or an analyst's personal API token as ``Authorization: Bearer …``
(made on ``/tokens``; ``deps.ApiReader``), which opens these paths and nothing else. The API is described
by the OpenAPI document at ``/api/openapi.json`` and, for people, by ``/api/docs``: a page
rendered here from that document (Swagger UI would load scripts from elsewhere, which the
app's Content-Security-Policy forbids). Each answer holds what its page shows and nothing about
one person: released cells (``services.tables_as_json``), the register and the audit log's
verification with the entries recorded before today (``services.api_json``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field

from teamlens import services
from teamlens.web.deps import ApiReader, CurrentWorkspace
from teamlens.web.pages import ApiDocsPage, ApiOperation, render_api_docs

router = APIRouter()

#: The paths the API documentation page describes (the rest of the app are pages for people).
API_PATHS = ("/api/releases", "/api/register", "/api/audit")


class PolicyRef(BaseModel):
    """The policy the cells were released under."""

    id: str
    version: int
    min_group_size: int = Field(description="A suppressed cell is a group of fewer people than this.")


class Cell(BaseModel):
    """One released cell: a group's mean per person per week in one window, or a suppression."""

    group: str
    window: str = Field(description="Window key: 2026-W05, 2026-03 or 2026-Q1.")
    metric: str
    value: float | None = Field(
        description="In the metric's display unit (hours for time); null if suppressed."
    )
    lower: float | None = Field(description="Lower end of the 95% interval; null if suppressed.")
    upper: float | None = Field(description="Upper end of the 95% interval; null if suppressed.")
    suppressed: bool = Field(description="The group had fewer than min_group_size people (noisy headcount).")
    uncertain: bool = Field(description="The interval is too wide to act on; the value is not worth reading.")
    clamped: bool = Field(description="The raw estimate fell outside [0, bound]; shown at the edge.")
    total: float | None = Field(description="The consistent noisy total the mean comes from.")
    person_weeks: float | None = Field(description="The consistent noisy person-weeks (denominator).")
    sd_total: float | None
    sd_person_weeks: float | None


class Report(BaseModel):
    """One catalogue report's released cells."""

    report_id: str
    release_id: str = Field(description="The (latest) release that published these cells.")
    level: str
    windows: list[str]
    metrics: list[str]
    mechanism: str
    cells: list[Cell]


class Releases(BaseModel):
    """Every cell released under the active policy (what `teamlens report --json` prints)."""

    policy: PolicyRef
    reports: list[Report]


class AuditEntry(BaseModel):
    """One audit entry as the public page shows it (one worker's entries by day, without details)."""

    seq: int
    when: str
    actor: str
    action: str
    meaning: str
    details: dict[str, str]
    withheld: bool = Field(description="Details about one worker were left out.")


class AuditSummary(BaseModel):
    """Whether the audit log's hash chain verifies, and one page of entries, newest first."""

    verified: bool
    problem: str | None
    first_bad_entry: int | None
    entries_shown: int = Field(description="Entries recorded before today (UTC); today's appear tomorrow.")
    held_from: str
    page_size: int
    older: int | None = Field(description="Pass as ?before= for the next, older page; null on the last.")
    entries: list[AuditEntry]


class Register(BaseModel):
    """The transparency register: what runs, the catalogue, roles, releases and budget spent."""

    status: str
    policy: dict[str, Any] | None
    roles: list[dict[str, str]]
    releases: list[dict[str, Any]]
    budget: dict[str, float]
    versions: list[dict[str, Any]]
    audit: dict[str, Any]


_REFUSED: dict[int | str, dict[str, Any]] = {
    401: {
        "description": "The bearer token is unknown, revoked, expired, or was made under another roles file."
    },
    403: {
        "description": "No bearer token, and no signed-in session with the analyst or representative role."
    },
}
_OFF: dict[int | str, dict[str, Any]] = {409: {"description": "No policy is in force: nothing is released."}}


@router.get("/api/releases", response_model=Releases, responses={**_REFUSED, **_OFF})
def releases(current: CurrentWorkspace, reader: ApiReader) -> JSONResponse:
    """Every released cell, with its 95% interval; suppressed cells carry no number."""
    policy, tables = services.released_tables(current)
    return JSONResponse(services.tables_as_json(policy, tables))


@router.get("/api/register", response_model=Register, responses=_REFUSED)
def register(current: CurrentWorkspace, reader: ApiReader) -> JSONResponse:
    """The transparency register (as ``/register`` shows it), answered whether or not a policy is in force."""
    return JSONResponse(services.register_json(current))


@router.get("/api/audit", response_model=AuditSummary, responses=_REFUSED)
def audit(
    current: CurrentWorkspace,
    reader: ApiReader,
    before: Annotated[int | None, Query(ge=1, description="Show entries numbered below this.")] = None,
) -> JSONResponse:
    """The audit log's verification and a page of its entries (as ``/audit`` shows them)."""
    return JSONResponse(services.audit_json(current, before=before))


@router.get("/api/docs", response_class=HTMLResponse, include_in_schema=False)
def docs(request: Request) -> str:
    """The API described for people, from the app's own OpenAPI document."""
    schema = request.app.openapi()
    operations = []
    for path in API_PATHS:
        for method, operation in schema["paths"][path].items():
            operations.append(ApiOperation.of(method, path, operation, schema))
    schemes = schema.get("components", {}).get("securitySchemes", {})
    return render_api_docs(ApiDocsPage(tuple(operations), ApiDocsPage.schemes_of(schemes)))
