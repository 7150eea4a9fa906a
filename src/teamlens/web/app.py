"""The web app: released team-level reports and the policy, nothing per person."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from teamlens import services
from teamlens.errors import NoApprovedPolicy

_SECURITY_HEADERS = {
    # The report is inline SVG and CSS: no script runs, nothing loads from elsewhere.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

_OFF_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>teamlens is off</title></head>
<body style="font-family:system-ui;max-width:720px;margin:40px auto"><h1>teamlens is off</h1>
<p>No processing policy has been approved by both the employer and workers' representatives,
so nothing is collected and nothing is released.</p></body></html>"""


def _workspace(request: Request) -> services.Workspace:
    workspace: services.Workspace = request.app.state.workspace
    return workspace


#: The installation this app serves, as a typed dependency.
CurrentWorkspace = Annotated[services.Workspace, Depends(_workspace)]


def create_app(ws: services.Workspace) -> FastAPI:
    """The FastAPI application serving one installation."""
    app = FastAPI(title="teamlens", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    app.state.workspace = ws

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        response.headers.update(_SECURITY_HEADERS)
        return response

    @app.exception_handler(NoApprovedPolicy)
    async def teamlens_off(request: Request, error: NoApprovedPolicy) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": "no approved policy", "detail": error.message}, status_code=409)
        return HTMLResponse(_OFF_PAGE, status_code=409)

    @app.get("/", response_class=HTMLResponse)
    def report_page(current: CurrentWorkspace) -> str:
        """The released reports as one page."""
        policy, tables = services.released_tables(current)
        return services.render_report(services.build_context(policy, tables))

    @app.get("/api/releases")
    def releases(current: CurrentWorkspace) -> JSONResponse:
        """Every released cell, with its interval, as JSON."""
        policy, tables = services.released_tables(current)
        return JSONResponse(services.tables_as_json(policy, tables))

    @app.get("/healthz")
    def health() -> dict[str, str]:
        """Liveness probe."""
        return {"status": "ok"}

    return app
