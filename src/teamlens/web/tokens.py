"""``/tokens``: an analyst's personal API tokens — make one (shown once), list them, revoke one.

Only the analyst role itself, with its second factor, reaches these pages (``AnalystOnly``);
making a token also needs a sign-in in the last five minutes (step-up), as an export does.
The forms carry the session's CSRF token. A token opens only the JSON paths under ``/api/``
(``deps.ApiReader``); it can neither make nor revoke tokens, which these session-only routes do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from teamlens import services
from teamlens.errors import PolicyError
from teamlens.web.deps import (
    AnalystOnly,
    CurrentWorkspace,
    FormAnalystOnly,
    SecondFactorNeeded,
    SignInService,
)
from teamlens.web.pages import render_page
from teamlens.web.session import Session

router = APIRouter()


@dataclass(frozen=True)
class TokensPage:
    """The analyst's tokens, the form to make one, and (once) the token just made or a refusal."""

    tokens: tuple[services.api_tokens.ApiToken, ...]
    csrf_token: str
    lifetimes: tuple[int, ...]
    issued: services.api_tokens.IssuedToken | None = None
    error: str = ""
    revoked: bool = False


def _page(session: Session, sign_in: SignInService, ws: services.Workspace, **shown: object) -> str:
    tokens = tuple(services.api_tokens.tokens_of(ws, session.worker))
    csrf = sign_in.cookies.signer.csrf_token(session)
    page = TokensPage(tokens, csrf, services.api_tokens.LIFETIMES_DAYS, **shown)  # type: ignore[arg-type]
    return render_page("tokens.html", page, "/api/docs")


@router.get("/tokens", response_class=HTMLResponse)
def tokens(session: AnalystOnly, sign_in: SignInService, current: CurrentWorkspace, revoked: int = 0) -> str:
    """The analyst's live tokens (never the tokens themselves) and the form to make one."""
    return _page(session, sign_in, current, revoked=revoked == 1)


@router.post("/tokens", response_class=HTMLResponse)
def make_token(
    session: FormAnalystOnly,
    sign_in: SignInService,
    current: CurrentWorkspace,
    label: Annotated[str, Form(max_length=200)] = "",
    days: Annotated[int, Form()] = services.api_tokens.LIFETIMES_DAYS[0],
) -> str:
    """Make a token and show it this once (step-up: a sign-in in the last five minutes)."""
    if not session.fresh(current.governance.now()):
        raise SecondFactorNeeded
    try:
        issued = services.api_tokens.issue(current, session.worker, session.roles, label, days)
    except PolicyError as refused:
        return _page(session, sign_in, current, error=f"{refused.message} {refused.hint}")
    return _page(session, sign_in, current, issued=issued)


@router.post("/tokens/revoke")
def revoke_token(
    session: FormAnalystOnly, current: CurrentWorkspace, token_id: Annotated[str, Form(max_length=40)] = ""
) -> Response:
    """Revoke one of the analyst's own tokens (another's id, or an unknown one, changes nothing)."""
    services.api_tokens.revoke(current, session.worker, token_id)
    return RedirectResponse("/tokens?revoked=1", status_code=303)
