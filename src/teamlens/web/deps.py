"""The typed dependencies handlers declare: the installation, sign-in, and who is asking in what role.

``CurrentWorkspace`` is the installation the app serves. ``SignInService`` is sign-in (answers
503 while it is not configured). ``CurrentWorker`` is the signed-in worker of the request's live
session (``NotSignedIn`` otherwise); ``FormWorker`` is the same for a form post, which must also
carry the session's CSRF token; ``FreshWorker`` also needs a sign-in in the last five minutes
(step-up, for exports). ``AnalystSession``, ``RepresentativeSession``, ``DpoSession`` and
``AdminSession`` need that role, and, since every role but worker is privileged, a second factor
(``SecondFactorNeeded``); their ``Form…`` twins check the CSRF token too. A role a session lacks
is ``Forbidden``. ``CurrentVisitor`` is for public pages: only whether the reader is signed in.
``ApiReader`` is for the JSON paths under ``/api/`` alone: an analyst's session, or an
analyst's personal API token sent as ``Authorization: Bearer …`` (``services.api_tokens``;
a token that is not live is ``BadToken``, 401). No other dependency reads that header, so a
token opens nothing but the API. There is no other way for a handler to learn who is asking,
no route takes an identity as a parameter, and no handler checks a role itself.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Form, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from teamlens import services
from teamlens.services import Role
from teamlens.web.oidc import IdentityProvider
from teamlens.web.session import Cookies, Session


class SignInOff(Exception):
    """Sign-in is not configured on this installation."""


class NotSignedIn(Exception):
    """The request carries no live session (or a form without its session's CSRF token)."""


class Forbidden(Exception):
    """The session lacks the role the route needs."""


class SecondFactorNeeded(Exception):
    """A privileged role, or an export, needs a second factor or a fresh sign-in first."""


class BadToken(Exception):
    """A bearer token that is unknown, revoked, expired or made under another roles file."""


@dataclass(frozen=True)
class SignIn:
    """Sign-in as configured: the provider settings, the provider's client, the cookies."""

    config: services.SignInConfig
    provider: IdentityProvider
    cookies: Cookies


async def _workspace(request: Request) -> services.Workspace:
    workspace: services.Workspace = request.app.state.workspace
    return workspace


def _signed_in(request: Request) -> SignIn:
    configured: SignIn | None = request.app.state.sign_in
    if configured is None:
        raise SignInOff
    return configured


# The dependencies that only compute are coroutines: FastAPI runs a plain function in a worker
# thread, a hop that costs more than they do (and most of a signed-in request's time).


async def _sign_in(request: Request) -> SignIn:
    return _signed_in(request)


#: The installation this app serves.
CurrentWorkspace = Annotated[services.Workspace, Depends(_workspace)]
#: Sign-in; a 503 page while it is not configured.
SignInService = Annotated[SignIn, Depends(_sign_in)]


def _session_of(request: Request, sign_in: SignIn) -> Session:
    session = sign_in.cookies.session(request)
    if session is None:
        raise NotSignedIn
    return session


async def _current_worker(request: Request, sign_in: SignInService) -> Session:
    # On the event loop: the session's row is read on every request (so a revocation, by any
    # process, counts on the next one), and that one short indexed query costs less than the
    # hop to a worker thread FastAPI would make for a plain function.
    return _session_of(request, sign_in)


#: The signed-in worker, from their live session only.
CurrentWorker = Annotated[Session, Depends(_current_worker)]


def _csrf_checked(session: Session, sign_in: SignIn, csrf: str) -> Session:
    expected = sign_in.cookies.signer.csrf_token(session)
    if not hmac.compare_digest(csrf.encode("utf-8"), expected.encode("ascii")):
        raise NotSignedIn
    return session


async def _form_worker(
    worker: CurrentWorker, sign_in: SignInService, csrf: Annotated[str, Form(max_length=200)] = ""
) -> Session:
    return _csrf_checked(worker, sign_in, csrf)


#: The signed-in worker posting one of their own page's forms (CSRF token checked).
FormWorker = Annotated[Session, Depends(_form_worker)]


async def _fresh_worker(worker: CurrentWorker, workspace: CurrentWorkspace) -> Session:
    if not worker.fresh(workspace.governance.now()):
        raise SecondFactorNeeded
    return worker


#: The signed-in worker who signed in (or proved a second factor) in the last five minutes.
FreshWorker = Annotated[Session, Depends(_fresh_worker)]


def _require(session: Session, wanted: frozenset[Role]) -> Session:
    if not wanted & session.roles:
        raise Forbidden
    if wanted & services.PRIVILEGED and session.second_factor_at is None:
        raise SecondFactorNeeded
    return session


def _role(*roles: Role) -> Callable[[Session], Awaitable[Session]]:
    wanted = frozenset(roles)

    async def check(session: CurrentWorker) -> Session:
        return _require(session, wanted)

    return check


def _form_role(*roles: Role) -> Callable[..., Awaitable[Session]]:
    check = _role(*roles)

    # Plain defaults, not Annotated: the dependency ``check`` is local, which a postponed
    # annotation could not name.
    async def form(
        session: Session = Depends(check),  # noqa: B008
        sign_in: SignIn = Depends(_sign_in),  # noqa: B008
        csrf: str = Form("", max_length=200),
    ) -> Session:
        return _csrf_checked(session, sign_in, csrf)

    return form


def _holder(role: Role) -> Callable[[Session], Awaitable[Session]]:
    async def check(session: CurrentWorker) -> Session:
        if role not in session.roles:
            raise Forbidden
        return session

    return check


#: The representative before their second factor: only to prove it with their passkey.
RepresentativeHolder = Annotated[Session, Depends(_holder(Role.REPRESENTATIVE))]


async def _form_holder(
    session: RepresentativeHolder, sign_in: SignInService, csrf: Annotated[str, Form(max_length=200)] = ""
) -> Session:
    return _csrf_checked(session, sign_in, csrf)


#: The representative posting their passkey's answer before their second factor (CSRF checked).
FormRepresentativeHolder = Annotated[Session, Depends(_form_holder)]
#: An analyst (or a representative, who sees all an analyst sees), with a second factor.
AnalystSession = Annotated[Session, Depends(_role(Role.ANALYST, Role.REPRESENTATIVE))]
#: A workers' representative, with a second factor.
RepresentativeSession = Annotated[Session, Depends(_role(Role.REPRESENTATIVE))]
#: The representative posting a form (CSRF token checked).
FormRepresentative = Annotated[Session, Depends(_form_role(Role.REPRESENTATIVE))]
#: The data protection officer, with a second factor.
DpoSession = Annotated[Session, Depends(_role(Role.DPO))]
#: An administrator (sources and settings, no data), with a second factor.
AdminSession = Annotated[Session, Depends(_role(Role.ADMIN))]


@dataclass(frozen=True)
class Visitor:
    """Whoever reads a public page: whether they may post its forms, never who they are.

    ``signed_in`` is True with a live session, and ``csrf_token`` is then what its forms send
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


_BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="analyst token",
    description="An analyst's personal API token (made on /tokens), as `Authorization: Bearer tlk_…`. "
    "Without it, the analyst's signed-in session cookie is used.",
)


@dataclass(frozen=True)
class Reader:
    """Who reads the API: an analyst's session, or (``session`` None) an analyst's live token."""

    session: Session | None


def _api_reader(
    request: Request,
    workspace: CurrentWorkspace,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)],
) -> Reader:
    if bearer is not None:
        if not services.api_tokens.reader(workspace, bearer.credentials):
            raise BadToken
        return Reader(None)
    return Reader(_require(_session_of(request, _signed_in(request)), _READERS))


_READERS = frozenset({Role.ANALYST, Role.REPRESENTATIVE})
#: The reader of the JSON API: an analyst's (or representative's) session, or an analyst's token.
ApiReader = Annotated[Reader, Depends(_api_reader)]
#: An analyst (the role itself), with a second factor: their tokens are theirs.
AnalystOnly = Annotated[Session, Depends(_role(Role.ANALYST))]
#: An analyst posting a form of their tokens page (CSRF token checked).
FormAnalystOnly = Annotated[Session, Depends(_form_role(Role.ANALYST))]
