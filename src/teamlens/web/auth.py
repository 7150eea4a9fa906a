"""Worker sign-in routes: ``/auth/login``, ``/auth/callback`` and ``POST /auth/logout``.

Login sends the browser to the identity provider with a fresh ``state``, ``nonce`` and PKCE
challenge, remembered in a signed ten-minute cookie. The callback checks ``state`` against that
cookie, has the provider's client exchange the code and verify the ID token (``oidc.py``), turns
the verified address into the worker's pseudonym and starts a one-hour session. A refusal answers
403 with the check that failed, and never an address or a claim. Signing out posts the
session's CSRF token, as every form does.
"""

from __future__ import annotations

import hmac
import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from teamlens import services
from teamlens.errors import AccessDenied
from teamlens.web.deps import CurrentWorkspace, NotSignedIn, SignInService
from teamlens.web.oidc import LoginAttempt
from teamlens.web.pages import SIGNED_OUT, render_message

router = APIRouter()
log = logging.getLogger(__name__)


@router.get("/auth/login")
def login(sign_in: SignInService) -> Response:
    """Send the browser to the identity provider to sign in."""
    attempt = LoginAttempt.new()
    response = RedirectResponse(sign_in.provider.authorization_url(attempt), status_code=303)
    sign_in.cookies.remember_attempt(response, attempt)
    return response


@router.get("/auth/callback")
def callback(
    request: Request, sign_in: SignInService, current: CurrentWorkspace, code: str = "", state: str = ""
) -> Response:
    """Finish signing in: check the attempt, verify the provider's answer, start the session."""
    attempt = sign_in.cookies.login_attempt(request)
    if attempt is None or not hmac.compare_digest(state.encode(), attempt.state.encode()):
        raise AccessDenied(
            "Sign-in refused: the answer does not belong to a sign-in started in this browser (state).",
            "Sign in again from the start: /auth/login.",
        )
    if not code:
        raise AccessDenied("The identity provider did not sign you in.", "Sign in again: /auth/login.")
    worker = services.sign_in(current, sign_in.provider.identify(code, attempt))
    response = RedirectResponse("/me", status_code=303)
    sign_in.cookies.forget_attempt(response)
    sign_in.cookies.start_session(response, worker)
    log.info("a worker signed in")
    return response


@router.post("/auth/logout", response_class=HTMLResponse)
def logout(
    request: Request, sign_in: SignInService, csrf: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    """Sign out on this browser (the session cookie is removed); a session's form sends its CSRF token."""
    session = sign_in.cookies.session(request)
    if session is not None and not hmac.compare_digest(
        csrf.encode("utf-8"), sign_in.cookies.signer.csrf_token(session).encode("ascii")
    ):
        raise NotSignedIn  # another site cannot sign a worker out behind their back
    response = HTMLResponse(render_message(SIGNED_OUT))
    sign_in.cookies.end_session(response)
    return response
