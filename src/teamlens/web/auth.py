"""Sign-in routes: ``/auth/login``, ``/auth/callback`` and ``POST /auth/logout``.

Login sends the browser to the identity provider with a fresh ``state``, ``nonce`` and PKCE
challenge, remembered in a signed ten-minute cookie (``?step_up=1`` asks the provider to sign the
user in again, with a second factor, for an export or a decision). The callback checks ``state``
against that cookie, has the provider's client exchange the code and verify the ID token
(``oidc.py``), maps the verified address and claims to the worker's pseudonym, roles and second
factor (``services.sign_in``) and starts a new server-side session, revoking the browser's old
one. A refusal answers 403 with the check that failed, never an address or a claim; a client
that fails ``Throttle.FAILURES`` times in ``Throttle.WINDOW`` seconds, or starts sign-ins faster
than ``Throttle.STARTS`` a minute, is answered 429 until the window passes. Signing out posts the
session's CSRF token, as every form does, and revokes the session on the server.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from collections import defaultdict, deque
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from teamlens import services
from teamlens.errors import AccessDenied
from teamlens.web.deps import CurrentWorkspace, NotSignedIn, SignInService
from teamlens.web.oidc import LoginAttempt
from teamlens.web.pages import SIGNED_OUT, render_message

router = APIRouter()
log = logging.getLogger(__name__)


class TooManyAttempts(Exception):
    """This client failed or started sign-in too often; it waits for the window to pass."""


class Throttle:
    """Counts sign-in starts and failures per client address, in memory, over sliding windows."""

    FAILURES = 20
    WINDOW = 15 * 60
    STARTS = 30

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._starts: dict[str, deque[float]] = defaultdict(deque)

    @staticmethod
    def _recent(times: deque[float], window: float) -> int:
        cutoff = time.monotonic() - window
        while times and times[0] < cutoff:
            times.popleft()
        return len(times)

    def check(self, client: str, *, starting: bool = False) -> None:
        """Raise ``TooManyAttempts`` when ``client`` is over either limit; count a start."""
        with self._lock:
            if self._recent(self._failures[client], self.WINDOW) >= self.FAILURES:
                raise TooManyAttempts
            if starting:
                if self._recent(self._starts[client], 60) >= self.STARTS:
                    raise TooManyAttempts
                self._starts[client].append(time.monotonic())

    def failed(self, client: str) -> None:
        """Count one refused sign-in for ``client``."""
        with self._lock:
            self._failures[client].append(time.monotonic())


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _throttle(request: Request) -> Throttle:
    throttle: Throttle = request.app.state.throttle
    return throttle


SignInThrottle = Annotated[Throttle, Depends(_throttle)]


@router.get("/auth/login")
def login(request: Request, sign_in: SignInService, throttle: SignInThrottle, step_up: int = 0) -> Response:
    """Send the browser to the identity provider to sign in (again, with a second factor, for step-up)."""
    throttle.check(_client(request), starting=True)
    attempt = LoginAttempt.new()
    location = sign_in.provider.authorization_url(attempt, step_up=step_up == 1)
    response = RedirectResponse(location, status_code=303)
    sign_in.cookies.remember_attempt(response, attempt)
    return response


@router.get("/auth/callback")
def callback(
    request: Request,
    sign_in: SignInService,
    current: CurrentWorkspace,
    throttle: SignInThrottle,
    code: str = "",
    state: str = "",
) -> Response:
    """Finish signing in: check the attempt, verify the provider's answer, start a new session."""
    client = _client(request)
    throttle.check(client)
    try:
        attempt = sign_in.cookies.login_attempt(request)
        if attempt is None or not hmac.compare_digest(state.encode(), attempt.state.encode()):
            raise AccessDenied(
                "Sign-in refused: the answer does not belong to a sign-in started in this browser (state).",
                "Sign in again from the start: /auth/login.",
            )
        if not code:
            raise AccessDenied("The identity provider did not sign you in.", "Sign in again: /auth/login.")
        address, claims = sign_in.provider.identify(code, attempt)
    except AccessDenied:
        throttle.failed(client)
        raise
    signed_in = services.sign_in(current, address, claims)
    response = RedirectResponse("/me", status_code=303)
    sign_in.cookies.forget_attempt(response)
    sign_in.cookies.start_session(request, response, signed_in)
    log.info(
        "signed in with %d role(s)%s", len(signed_in.roles), " and a second factor" if signed_in.mfa else ""
    )
    return response


@router.post("/auth/logout", response_class=HTMLResponse)
def logout(
    request: Request, sign_in: SignInService, csrf: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    """Sign out on this browser (the session is revoked on the server); the form sends its CSRF token."""
    session = sign_in.cookies.session(request)
    if session is not None and not hmac.compare_digest(
        csrf.encode("utf-8"), sign_in.cookies.signer.csrf_token(session).encode("ascii")
    ):
        raise NotSignedIn  # another site cannot sign a worker out behind their back
    response = HTMLResponse(render_message(SIGNED_OUT))
    sign_in.cookies.end_session(request, response)
    return response
