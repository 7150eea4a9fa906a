"""Every way worker sign-in must fail, each with teeth: the same flow with the one flaw removed
signs in (see ``test_worker_sign_in.py``). A refusal starts no session, names the check that
failed, and neither its page nor the logs ever contain the worker's address."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient

from teamlens.web import create_app

from ..integration.flow_support import Org
from .conftest import sign_in_workspace
from .replayed_idp import (
    BASE_URL,
    CLIENT_ID,
    DROP,
    EC_KID,
    ReplayedProvider,
    new_rsa_key,
    sign_in,
    start_login,
    state_of,
)

Client = Callable[..., TestClient]
NOW = int(time.time())

#: (what is wrong, how the provider's answer is broken, what the refusal must name)
BROKEN_TOKENS: list[tuple[str, dict[str, Any], str]] = [
    ("signed with another key", {"key": new_rsa_key()}, "signature does not match"),
    ("alg none", {"algorithm": "none", "key": ""}, "not signed with RS256 or ES256"),
    ("HS256 keyed with the public key", {"algorithm": "HS256", "key": "PUBLIC_PEM"}, "not signed with RS256"),
    ("a key the provider does not publish", {"headers": {"kid": "unknown"}}, "signature does not match"),
    ("wrong audience", {"claims": {"aud": "another-app"}}, "another application"),
    ("wrong authorised party", {"claims": {"aud": [CLIENT_ID, "x"], "azp": "x"}}, "another application"),
    ("wrong issuer", {"claims": {"iss": "https://idp.example.net/other/v2.0"}}, "another issuer"),
    ("expired", {"claims": {"iat": NOW - 7200, "exp": NOW - 3600}}, "has expired"),
    ("issued in the future", {"claims": {"iat": NOW + 3600, "exp": NOW + 7200}}, "not valid yet"),
    ("no expiry", {"claims": {"exp": DROP}}, "lacks a required claim"),
    ("nonce of another attempt", {"claims": {"nonce": "another-attempt"}}, "nonce"),
    ("no nonce", {"claims": {"nonce": DROP}}, "nonce"),
    ("address not verified", {"claims": {"email_verified": False}}, "not verified"),
    ("address not verified (as text)", {"claims": {"email_verified": "false"}}, "not verified"),
    ("no address at all", {"claims": {"email": DROP}}, "no e-mail address"),
]


def session_started(response: Any) -> bool:
    return any(
        "teamlens_session=" in cookie and "Max-Age=0" not in cookie
        for cookie in response.headers.get_list("set-cookie")
    )


def assert_refused(response: Any, client: TestClient, because: str, address: str, logs: str) -> None:
    assert response.status_code == 403
    assert because in response.text
    assert not session_started(response)
    assert address not in response.text.lower() and address not in logs.lower()
    after = client.get("/me", follow_redirects=False)
    assert after.status_code == 403 and "Please sign in" in after.text


@pytest.mark.parametrize(("case", "breakage", "because"), BROKEN_TOKENS, ids=[c[0] for c in BROKEN_TOKENS])
def test_a_bad_identity_token_is_refused(
    make_client: Client,
    idp: ReplayedProvider,
    emails: list[str],
    caplog: pytest.LogCaptureFixture,
    case: str,
    breakage: dict[str, Any],
    because: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    if breakage.get("key") == "PUBLIC_PEM":
        breakage = {**breakage, "key": idp.public_pem()}
    client = make_client()
    response = sign_in(client, idp, emails[10], **breakage)
    assert_refused(response, client, because, emails[10], caplog.text)


def test_an_es256_token_from_a_published_p256_key_is_accepted(
    make_client: Client, emails: list[str], released_org: Org
) -> None:
    """The other accepted algorithm works too (so the refusals above are not of every non-RS256 token)."""
    provider = ReplayedProvider(ec_key=ec.generate_private_key(ec.SECP256R1()))
    app = create_app(sign_in_workspace(released_org), idp_transport=provider.transport())
    app_client = TestClient(app, base_url=BASE_URL)
    done = sign_in(
        app_client, provider, emails[11], key=provider.ec_key, algorithm="ES256", headers={"kid": EC_KID}
    )
    assert done.status_code == 303
    assert app_client.get("/me").status_code == 200


def test_an_address_outside_the_allowed_domains_is_refused(
    make_client: Client, idp: ReplayedProvider, emails: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client(oidc_allowed_domains="example.org, example.com")
    outsider = "mallory@elsewhere.example"
    assert_refused(sign_in(client, idp, outsider), client, "domain is not one allowed", outsider, caplog.text)
    assert sign_in(client, idp, emails[12]).status_code == 303  # teeth: an allowed domain signs in


def test_a_state_that_is_not_this_browser_s_is_refused_before_the_code_is_spent(
    make_client: Client, idp: ReplayedProvider, emails: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client()
    location = start_login(client)
    code = idp.authorize(location, emails[13])
    refused = client.get(f"/auth/callback?code={code}&state=not-the-state", follow_redirects=False)
    assert_refused(refused, client, "(state)", emails[13], caplog.text)
    assert idp.token_requests == []  # the code never reached the token endpoint
    elsewhere = make_client()  # a browser that never started this sign-in
    refused = elsewhere.get(f"/auth/callback?code={code}&state={state_of(location)}", follow_redirects=False)
    assert_refused(refused, elsewhere, "(state)", emails[13], caplog.text)


def test_a_sign_in_cancelled_at_the_provider_is_refused(make_client: Client, idp: ReplayedProvider) -> None:
    client = make_client()
    state = state_of(start_login(client))
    response = client.get(f"/auth/callback?error=access_denied&state={state}", follow_redirects=False)
    assert response.status_code == 403 and "did not sign you in" in response.text
    assert not session_started(response) and idp.token_requests == []


def test_a_used_callback_cannot_be_replayed(
    make_client: Client, idp: ReplayedProvider, emails: list[str]
) -> None:
    client = make_client()
    location = start_login(client)
    callback = f"/auth/callback?code={idp.authorize(location, emails[14])}&state={state_of(location)}"
    assert client.get(callback, follow_redirects=False).status_code == 303
    client.cookies.clear()
    assert client.get(callback, follow_redirects=False).status_code == 403


def _cookie(client: TestClient) -> str:
    return client.cookies["__Host-teamlens_session"]


def test_a_forged_or_altered_session_token_is_refused(
    make_client: Client, idp: ReplayedProvider, released_org: Org, emails: list[str]
) -> None:
    """The cookie is only a random token: a made-up one, or a real one altered, names no session."""
    client = make_client()
    sign_in(client, idp, emails[15])
    token = _cookie(client)
    for forged in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "x" * 43, "%C3%A9" * 10):
        intruder = make_client()
        intruder.cookies.set("__Host-teamlens_session", forged, domain="teamlens.example.org")
        response = intruder.get("/me", follow_redirects=False)
        assert response.status_code == 403 and "Please sign in" in response.text
        assert released_org.ws.pseudonymiser()(emails[15]) not in response.text
    honest = make_client()  # teeth: the untouched token opens the page
    honest.cookies.set("__Host-teamlens_session", token, domain="teamlens.example.org")
    assert honest.get("/me").status_code == 200


@pytest.mark.parametrize(
    ("idle_minutes", "age_hours", "opens"), [(31, 1, False), (5, 9, False), (5, 1, True)]
)
def test_an_idle_or_old_session_is_refused(
    make_client: Client,
    idp: ReplayedProvider,
    released_org: Org,
    emails: list[str],
    idle_minutes: int,
    age_hours: int,
    opens: bool,
) -> None:
    """Idle 30 minutes, or 8 hours after sign-in, the server ends the session (the last case is the teeth)."""
    client = make_client()
    sign_in(client, idp, emails[17])
    token_hash = hashlib.sha256(_cookie(client).encode()).hexdigest()
    now = dt.datetime.now(dt.UTC)
    engine = sa.create_engine(released_org.ws.settings.governance_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE web_sessions SET seen_at = :seen, created_at = :made WHERE token_hash = :h"),
            {
                "seen": now - dt.timedelta(minutes=idle_minutes),
                "made": now - dt.timedelta(hours=age_hours),
                "h": token_hash,
            },
        )
    engine.dispose()
    response = client.get("/me", follow_redirects=False)
    assert response.status_code == (200 if opens else 403)
    if not opens:  # and it stays ended: it was revoked, not just refused once
        assert released_org.ws.governance.session(token_hash) is None
