"""The typed dependencies handlers declare: the installation, sign-in, and the signed-in worker.

``CurrentWorkspace`` is the installation the app serves. ``SignInService`` is worker sign-in
(answers 503 while it is not configured). ``CurrentWorker`` is the worker whose valid session
cookie came with the request (a missing, forged, altered or expired one raises ``NotSignedIn``);
``FormWorker`` is the same for a form post, which must also carry the session's CSRF token.
``CurrentVisitor`` is for public pages: only whether the reader is signed in (and their forms'
CSRF token), never who they are. There is no other way for a handler to learn who is asking,
and no route takes an identity as a parameter.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Form, Request

from teamlens import services
from teamlens.web.oidc import IdentityProvider
from teamlens.web.session import Cookies, WorkerSession


class SignInOff(Exception):
    """Worker sign-in is not configured on this installation."""


class NotSignedIn(Exception):
    """The request carries no valid session (or a form without its session's CSRF token)."""


@dataclass(frozen=True)
class SignIn:
    """Worker sign-in as configured: the provider settings, the provider's client, the cookies."""

    config: services.SignInConfig
    provider: IdentityProvider
    cookies: Cookies


def _workspace(request: Request) -> services.Workspace:
    workspace: services.Workspace = request.app.state.workspace
    return workspace


def _sign_in(request: Request) -> SignIn:
    configured: SignIn | None = request.app.state.sign_in
    if configured is None:
        raise SignInOff
    return configured


#: The installation this app serves.
CurrentWorkspace = Annotated[services.Workspace, Depends(_workspace)]
#: Worker sign-in; a 503 page while it is not configured.
SignInService = Annotated[SignIn, Depends(_sign_in)]


def _current_worker(request: Request, sign_in: SignInService) -> WorkerSession:
    session = sign_in.cookies.session(request)
    if session is None:
        raise NotSignedIn
    return session


#: The signed-in worker, from their session cookie only.
CurrentWorker = Annotated[WorkerSession, Depends(_current_worker)]


def _form_worker(
    worker: CurrentWorker, sign_in: SignInService, csrf: Annotated[str, Form(max_length=200)] = ""
) -> WorkerSession:
    expected = sign_in.cookies.signer.csrf_token(worker)
    if not hmac.compare_digest(csrf.encode("utf-8"), expected.encode("ascii")):
        raise NotSignedIn
    return worker


#: The signed-in worker posting one of their own page's forms (CSRF token checked).
FormWorker = Annotated[WorkerSession, Depends(_form_worker)]


@dataclass(frozen=True)
class Visitor:
    """Whoever reads a public page: whether they may post its forms, never who they are.

    ``signed_in`` is True with a valid session, and ``csrf_token`` is then what its forms send
    back (empty otherwise); ``sign_in_configured`` is False on an installation without sign-in.
    """

    signed_in: bool
    csrf_token: str
    sign_in_configured: bool


def _visitor(request: Request) -> Visitor:
    configured: SignIn | None = request.app.state.sign_in
    if configured is None:
        return Visitor(signed_in=False, csrf_token="", sign_in_configured=False)
    session = configured.cookies.session(request)
    if session is None:
        return Visitor(signed_in=False, csrf_token="", sign_in_configured=True)
    return Visitor(
        signed_in=True, csrf_token=configured.cookies.signer.csrf_token(session), sign_in_configured=True
    )


#: The reader of a public page (anyone; a signed-in worker gets the page's forms).
CurrentVisitor = Annotated[Visitor, Depends(_visitor)]
