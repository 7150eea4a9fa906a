"""The representative's passkey: register it, confirm the key set with it, sign decisions with it.

``GET /rep/passkey`` asks the browser to make a passkey; ``POST /rep/passkey`` checks it and
proposes a key set with it (both parties then confirm: the passkey on ``/rep/keyset``, the others
with their keys). ``POST /rep/sign`` writes the statement of a decision (approve, suspend, lift)
and ``POST /rep/sign/finish`` takes the passkey's signature over it; governance checks it like
any other party's signature. What waits between two steps is kept in the server-side session,
and every form carries the session's CSRF token. The passkey signature is itself a fresh,
user-verified authentication: a decision cannot be made with a stolen session alone.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Response
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse

from teamlens import services
from teamlens.errors import AccessDenied
from teamlens.web.deps import (
    CurrentWorkspace,
    FormRepresentative,
    FormRepresentativeHolder,
    RepresentativeHolder,
    RepresentativeSession,
    SignInService,
)
from teamlens.web.pages import PasskeyPage, render_passkey_page
from teamlens.web.session import Session

router = APIRouter()
_PARTY = "representative"
Credential = Annotated[str, Form(max_length=20_000)]


def _pending(session: Session, kind: str) -> dict[str, Any]:
    waiting = json.loads(session.pending or "{}")
    if not isinstance(waiting, dict) or waiting.get("kind") != kind:
        raise AccessDenied("This passkey step was not started here, or it is over.", "Start again from /rep.")
    return waiting


def _statement(session: Session, kind: str) -> dict[str, Any]:
    statement = _pending(session, kind).get("statement")
    if not isinstance(statement, dict):
        raise AccessDenied("This passkey step was not started here, or it is over.", "Start again from /rep.")
    return statement


@router.get("/static/passkey.js")
def passkey_script() -> Response:
    """The browser side of the passkey steps (the only script the app serves)."""
    return PlainTextResponse(PasskeyPage.script(), media_type="text/javascript")


@router.get("/rep/passkey", response_class=HTMLResponse)
def start_registration(
    session: RepresentativeSession, sign_in: SignInService, current: CurrentWorkspace
) -> str:
    """Ask this browser to make a passkey for the representative."""
    options, challenge = services.passkeys.registration_options(sign_in.config.base_url, _PARTY)
    current.governance.touch_session(
        session.token_hash, pending=json.dumps({"kind": "register", "challenge": challenge})
    )
    token = sign_in.cookies.signer.csrf_token(session)
    return render_passkey_page(PasskeyPage.registering(options, token))


@router.post("/rep/passkey")
def finish_registration(
    session: FormRepresentative, sign_in: SignInService, current: CurrentWorkspace, credential: Credential
) -> Response:
    """Check the new passkey and propose it in a key set; then the passkey confirms that set."""
    waiting = _pending(session, "register")
    key = services.passkeys.registered_key(
        sign_in.config.base_url, _PARTY, "representative's passkey", credential, str(waiting["challenge"])
    )
    proposed = services.keys.propose_with(current, [key], actor="representative (web)")
    current.governance.touch_session(
        session.token_hash, pending=json.dumps({"kind": "keyset", "digest": proposed.digest})
    )
    return RedirectResponse("/rep/keyset", status_code=303)


@router.get("/rep/keyset", response_class=HTMLResponse)
def start_key_set(session: RepresentativeSession, sign_in: SignInService, current: CurrentWorkspace) -> str:
    """Ask the new passkey to sign the key set that registers it."""
    proposed = services.keys.key_set(current, str(_pending(session, "keyset")["digest"]))
    passkeys = services.passkeys.passkeys_of(current, _PARTY, pending=services.keys.listed_keys(proposed))
    options = services.passkeys.assertion_options(sign_in.config.base_url, proposed.statement, passkeys)
    token = sign_in.cookies.signer.csrf_token(session)
    return render_passkey_page(PasskeyPage.confirming(options, token, proposed.statement))


@router.post("/rep/keyset")
def finish_key_set(
    session: FormRepresentative, current: CurrentWorkspace, credential: Credential
) -> Response:
    """Add the passkey's signature to the key set; it is registered once both parties confirmed."""
    proposed = services.keys.key_set(current, str(_pending(session, "keyset")["digest"]))
    passkeys = services.passkeys.passkeys_of(current, _PARTY, pending=services.keys.listed_keys(proposed))
    signature = services.passkeys.assertion_signature(credential, passkeys)
    current.governance.sign_key_set(proposed.digest, signature, "representative (passkey)")
    current.governance.touch_session(session.token_hash, pending=None)
    return RedirectResponse("/rep?done=keyset", status_code=303)


@router.post("/rep/sign", response_class=HTMLResponse)
def start_decision(
    session: FormRepresentative,
    sign_in: SignInService,
    current: CurrentWorkspace,
    action: Annotated[Literal["policy.approve", "policy.suspend", "policy.lift"], Form()],
    policy_id: Annotated[str, Form(max_length=64)],
    version: Annotated[int, Form()],
) -> str:
    """Write the statement of a decision and ask the representative's passkey to sign it."""
    statement = current.governance.decision_statement(action, _PARTY, policy_id, version)
    options = services.passkeys.assertion_options(
        sign_in.config.base_url, statement, services.passkeys.passkeys_of(current, _PARTY)
    )
    current.governance.touch_session(
        session.token_hash, pending=json.dumps({"kind": "decision", "statement": statement})
    )
    token = sign_in.cookies.signer.csrf_token(session)
    return render_passkey_page(PasskeyPage.deciding(options, token, statement))


@router.post("/rep/sign/finish")
def finish_decision(
    session: FormRepresentative, current: CurrentWorkspace, credential: Credential
) -> Response:
    """Take the passkey's signature and make the decision; governance checks the signature."""
    statement = _statement(session, "decision")
    signature = services.passkeys.assertion_signature(
        credential, services.passkeys.passkeys_of(current, _PARTY)
    )
    current.governance.touch_session(session.token_hash, pending=None)
    services.decide(current, services.SignedDecision(statement, signature), name="representative (passkey)")
    return RedirectResponse(f"/rep?done={statement['action']}", status_code=303)


@router.get("/auth/passkey", response_class=HTMLResponse)
def start_second_factor(
    session: RepresentativeHolder, sign_in: SignInService, current: CurrentWorkspace
) -> str:
    """Prove the second factor of this sign-in with the representative's passkey."""
    statement = services.passkeys.second_factor_statement(
        current.governance.now().isoformat(timespec="seconds")
    )
    passkeys = services.passkeys.passkeys_of(current, _PARTY)
    options = services.passkeys.assertion_options(sign_in.config.base_url, statement, passkeys)
    current.governance.touch_session(
        session.token_hash, pending=json.dumps({"kind": "factor", "statement": statement})
    )
    token = sign_in.cookies.signer.csrf_token(session)
    return render_passkey_page(PasskeyPage.second_factor(options, token))


@router.post("/auth/passkey")
def finish_second_factor(
    session: FormRepresentativeHolder, current: CurrentWorkspace, credential: Credential
) -> Response:
    """Check the passkey's answer; the session then has its second factor (and is fresh for step-up)."""
    statement = _statement(session, "factor")
    passkeys = services.passkeys.passkeys_of(current, _PARTY)
    problem = services.passkeys.second_factor_problem(
        passkeys, statement, services.passkeys.assertion_signature(credential, passkeys)
    )
    if problem:
        raise AccessDenied(f"The second factor was refused: {problem}.", "Try again, or sign in again.")
    current.governance.touch_session(session.token_hash, pending=None, second_factor=True)
    return RedirectResponse("/rep", status_code=303)
