"""Issue 15: every way the identity provider itself can fail at sign-in is refused cleanly.

Unreachable, another issuer in its discovery document, no PKCE, an error from its token endpoint,
a malformed token: each answers a refusal page (503 for a provider that cannot be used at all,
403 for a sign-in it did not complete), starts no session, and neither the page nor the log shows
the worker's address. The teeth: the same provider, unbroken, signs the worker in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from teamlens.web import create_app

from ..integration.flow_support import Org
from .conftest import sign_in_workspace
from .replayed_idp import BASE_URL, ReplayedProvider, sign_in

Breakage = Callable[[httpx.Request, httpx.Response], httpx.Response]


def _discovery(change: dict[str, Any]) -> Breakage:
    def broken(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        if request.url.path.endswith("/openid-configuration"):
            return httpx.Response(200, json={**ReplayedProvider.discovery(), **change})
        return response

    return broken


def _token(answer: httpx.Response | None) -> Breakage:
    def broken(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        if request.url.path.endswith("/token"):
            if answer is None:
                raise httpx.ConnectError("the token endpoint is down", request=request)
            return answer
        return response

    return broken


def _unreachable(request: httpx.Request, response: httpx.Response) -> httpx.Response:
    raise httpx.ConnectError("no route to the provider", request=request)


#: (what fails, how, the status of the refusal, what the refusal page says)
FAILURES: list[tuple[str, Breakage, int, str]] = [
    ("unreachable", _unreachable, 503, "Temporarily unavailable"),
    ("issuer mismatch", _discovery({"issuer": "https://evil.example.net/"}), 503, "Temporarily unavailable"),
    ("no PKCE", _discovery({"code_challenge_methods_supported": ["plain"]}), 503, "Temporarily unavailable"),
    (
        "token endpoint error",
        _token(httpx.Response(500, json={"error": "server_error"})),
        403,
        "did not accept",
    ),
    ("token endpoint down", _token(None), 403, "token endpoint did not answer"),
    ("malformed token", _token(httpx.Response(200, json={"id_token": "not.a.jwt"})), 403, "malformed"),
    ("token not JSON", _token(httpx.Response(200, text="<html>oops</html>")), 403, "did not answer"),
]


def _app(org: Org, idp: ReplayedProvider, breakage: Breakage | None) -> TestClient:
    def handle(request: httpx.Request) -> httpx.Response:
        response = idp._handle(request)
        return response if breakage is None else breakage(request, response)

    app = create_app(sign_in_workspace(org), idp_transport=httpx.MockTransport(handle))
    return TestClient(app, base_url=BASE_URL)


@pytest.mark.parametrize(("case", "breakage", "status", "says"), FAILURES, ids=[f[0] for f in FAILURES])
def test_a_failing_provider_is_refused_cleanly(
    released_org: Org,
    emails: list[str],
    caplog: pytest.LogCaptureFixture,
    case: str,
    breakage: Breakage,
    status: int,
    says: str,
) -> None:
    caplog.set_level(logging.INFO)
    me = emails[70]
    client = _app(released_org, ReplayedProvider(), breakage)
    login = client.get("/auth/login", follow_redirects=False)
    if status == 503:
        response = login
    else:
        idp = ReplayedProvider()
        client = _app(released_org, idp, breakage)
        response = sign_in(client, idp, me)
    assert response.status_code == status, case
    assert says in response.text, case
    assert not any(
        "teamlens_session=" in c and "Max-Age=0" not in c for c in response.headers.get_list("set-cookie")
    )
    assert me not in response.text.lower() and me not in caplog.text.lower()
    assert client.get("/me").status_code in (403, 503)


def test_teeth_the_same_provider_unbroken_signs_the_worker_in(released_org: Org, emails: list[str]) -> None:
    idp = ReplayedProvider()
    client = _app(released_org, idp, None)
    assert sign_in(client, idp, emails[70]).status_code == 303
    assert client.get("/me").status_code == 200
