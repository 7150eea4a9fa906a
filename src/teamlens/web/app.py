"""The web app: public pages for everyone, the rest by role, each worker's own data for them alone.

Every worker reads, without signing in, the policy in force with its notice and explainer, the
transparency register and the verified audit summary (``public.py``), and the proposals open for
views (``consultation.py``). Everything else needs a signed-in role (``auth.py``, ``deps.py``):
a worker sees their own data at ``/me`` (``me.py``) and gives one view per proposal; an analyst
(or the representative) reads the released reports (``/``, and the JSON API of ``api.py``,
described at ``/api/docs``, which show nothing per person); the representative, the DPO and the
admin have their consoles (``console.py``), the representative signing decisions with a passkey
(``passkeys.py``). With sign-in not configured, the signed-in pages answer 503 and the public ones
are unchanged. ``HEAD`` is
answered wherever ``GET`` is; HTTPS responses carry ``Strict-Transport-Security``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import httpx
from fastapi import FastAPI, Request
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from teamlens import services
from teamlens.errors import AccessDenied, ConfigError, NoApprovedPolicy, PolicyError
from teamlens.web import api, auth, console, consultation, me, passkeys, public, tokens, union
from teamlens.web.auth import Throttle, TooManyAttempts
from teamlens.web.deps import (
    AnalystSession,
    BadToken,
    CurrentWorkspace,
    Forbidden,
    NotSignedIn,
    SecondFactorNeeded,
    SignIn,
    SignInOff,
)
from teamlens.web.oidc import IdentityProvider
from teamlens.web.pages import (
    FORBIDDEN,
    NOT_SIGNED_IN,
    SECOND_FACTOR,
    SIGN_IN_OFF,
    TEAMLENS_OFF,
    TOO_MANY,
    MessagePage,
    Nav,
    render_message,
)
from teamlens.web.report_cache import ReportPage
from teamlens.web.session import Cookies, Signer

log = logging.getLogger(__name__)

_SECURITY_HEADERS = {
    # The report is inline SVG and CSS; the only script is the app's own passkey helper, from here.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


#: The largest request body taken: every form here is far smaller (the longest view, 4,000
#: characters of four UTF-8 bytes each, form-encoded, is 48,000 bytes).
MAX_BODY_BYTES = 64 * 1024
TOO_LARGE = MessagePage(
    "Too large", "This request is larger than any form of teamlens sends; nothing was recorded."
)
SERVER_ERROR = MessagePage(
    "Something went wrong",
    "teamlens could not complete this request; nothing about it is shown here. Please try again later.",
)


class _HttpMiddleware:
    """A plain ASGI middleware of HTTP requests (``http``); anything else passes through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one HTTP request."""
        raise NotImplementedError


class _BodyLimit(_HttpMiddleware):
    """Refuses (413) a request body over ``MAX_BODY_BYTES`` before the app reads any of it.

    FastAPI reads a form before checking who sends it, and Starlette takes up to 1,000 fields of
    1 MB each and spools file parts of any size to disk: without this, anyone could make the
    server hold a gigabyte or fill its temp folder.
    """

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = Headers(scope=scope).get("content-length", "0")
        chunks: list[bytes] = []
        size = 0 if declared.isdigit() and int(declared) <= MAX_BODY_BYTES else MAX_BODY_BYTES + 1
        more = size <= MAX_BODY_BYTES
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False) and size <= MAX_BODY_BYTES
        if size > MAX_BODY_BYTES:
            await HTMLResponse(render_message(TOO_LARGE), status_code=413)(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)


#: Sent on every response served over HTTPS: browsers then refuse plain HTTP to this host for a year.
HSTS = "max-age=31536000; includeSubDomains"


class _HeadAsGet(_HttpMiddleware):
    """Answers ``HEAD`` wherever ``GET`` is answered: the GET's status and headers, without its body."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


class _SecurityHeaders(_HttpMiddleware):
    """Puts ``_SECURITY_HEADERS`` on every response (replacing a handler's own), and HSTS over HTTPS.

    Plain ASGI: it changes the response's first message only, where Starlette's ``BaseHTTPMiddleware``
    would run every request through a task group and a stream of its own (most of the cost of a
    request to ``/healthz``).
    """

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        https = scope.get("scheme") == "https"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _SECURITY_HEADERS.items():
                    headers[name] = value
                if https:
                    headers["Strict-Transport-Security"] = HSTS
            await send(message)

        await self.app(scope, receive, with_headers)


def _sign_in(ws: services.Workspace, transport: httpx.BaseTransport | None) -> SignIn | None:
    """Sign-in as configured (None when it is not); a bad configuration stops the app here."""
    config = services.sign_in_config(ws)
    if config is None:
        return None
    cookies = Cookies(Signer(services.session_key(ws)), ws, secure=config.secure_cookies)
    return SignIn(config, IdentityProvider(config, transport), cookies)


def _message(request: Request, page: MessagePage, status_code: int) -> HTMLResponse:
    return HTMLResponse(render_message(page, Nav.section_of(request.url.path)), status_code=status_code)


def create_app(ws: services.Workspace, *, idp_transport: httpx.BaseTransport | None = None) -> FastAPI:
    """The FastAPI application serving one installation (``idp_transport`` lets tests replay a provider)."""
    app = FastAPI(title="teamlens", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    app.state.workspace = ws
    app.state.sign_in = _sign_in(ws, idp_transport)
    app.state.throttle = Throttle()

    # The busiest routes first: a request is matched against the routes in order.
    @app.get("/", response_class=HTMLResponse)
    async def report_page(current: CurrentWorkspace, analyst: AnalystSession, pages: ReportPage) -> Response:
        """The released reports as one page, rendered once per release (``report_cache.py``)."""
        return await pages.answer(current)

    @app.get("/healthz")
    async def health() -> dict[str, str]:
        """Liveness probe."""
        return {"status": "ok"}

    for module in (auth, me, public, consultation, console, passkeys, union, api, tokens):
        app.include_router(module.router)
    app.add_middleware(_BodyLimit)  # added first, so inside the security headers below
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=6)  # ``/`` comes compressed already
    app.add_middleware(_SecurityHeaders)
    app.add_middleware(_HeadAsGet)  # outermost: HEAD runs as GET through everything, minus the body

    @app.exception_handler(Exception)
    async def server_error(request: Request, error: Exception) -> Response:
        # Starlette answers an unexpected error outside the middleware above: the headers go on here.
        response = _message(request, SERVER_ERROR, 500)
        response.headers.update(_SECURITY_HEADERS)
        return response

    @app.exception_handler(NoApprovedPolicy)
    async def teamlens_off(request: Request, error: NoApprovedPolicy) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": "no approved policy", "detail": error.message}, status_code=409)
        return _message(request, TEAMLENS_OFF, 409)

    @app.exception_handler(PolicyError)
    async def not_possible(request: Request, error: PolicyError) -> Response:
        # Policy errors name policies, versions and states, never a person (see errors.py).
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": "policy", "detail": error.message}, status_code=409)
        return _message(request, MessagePage("Not possible", error.message, error.hint), 409)

    def refusal(page: MessagePage, status: int) -> Callable[[Request, Exception], Awaitable[Response]]:
        async def answer(request: Request, error: Exception) -> Response:
            return _message(request, page, status)  # the page alone: nothing about anyone

        return answer

    for raised, page, status in (
        (SignInOff, SIGN_IN_OFF, 503),
        (NotSignedIn, NOT_SIGNED_IN, 403),
        (Forbidden, FORBIDDEN, 403),
        (SecondFactorNeeded, SECOND_FACTOR, 403),
        (TooManyAttempts, TOO_MANY, 429),
    ):
        app.add_exception_handler(raised, refusal(page, status))

    @app.exception_handler(BadToken)
    async def bad_token(request: Request, error: BadToken) -> Response:
        # RFC 6750: the client learns the token is not accepted, not which check it failed.
        body = {
            "error": "invalid token",
            "detail": "The token is unknown, revoked or expired, or the roles "
            "file changed since it was made; make a new one on /tokens.",
        }
        return JSONResponse(
            body, status_code=401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
        )

    @app.exception_handler(AccessDenied)
    async def refused(request: Request, error: AccessDenied) -> Response:
        log.warning("refused: %s", error.message)  # messages name the check, never a person
        response = _message(
            request,
            MessagePage("Not allowed", error.message, error.hint, "/auth/login", "Sign in again"),
            403,
        )
        if app.state.sign_in is not None:
            app.state.sign_in.cookies.forget_attempt(response)
        return response

    @app.exception_handler(ConfigError)
    async def unavailable(request: Request, error: ConfigError) -> Response:
        log.error("%s %s", error.message, error.hint)
        page = MessagePage(
            "Temporarily unavailable",
            "teamlens cannot complete this request right now; the administrator has the details in the log.",
        )
        return _message(request, page, 503)

    return app
