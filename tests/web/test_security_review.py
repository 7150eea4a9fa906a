"""Findings of the web layer's security review, each shown by a test that failed before its fix.

- Signing out is a state-changing POST and needs the session's CSRF token like every other form.
- A form post larger than any form here can be is refused (413) before it is read, so nobody,
  signed in or not, can make the server buffer a gigabyte or spool files to its temp folder.
- A session cookie with bytes outside ASCII is a missing session, not a server error.
- A server error still carries the security headers (CSP, nosniff, no-store) and no details.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from teamlens import services
from teamlens.web import create_app

from ..integration.flow_support import Org
from .conftest import PID, PROPOSED, sign_in_workspace
from .replayed_idp import BASE_URL, ReplayedProvider, sign_in
from .test_worker_sign_in import csrf_of

Client = Callable[..., TestClient]
PAGE = f"/consultation/{PID}/{PROPOSED}"


def assert_security_headers(response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    assert "default-src 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"


def test_signing_out_needs_the_session_s_csrf_token(
    make_client: Client, idp: ReplayedProvider, emails: list[str]
) -> None:
    client = make_client()
    sign_in(client, idp, emails[20])
    token = csrf_of(client.get("/me").text)
    for form in ({}, {"csrf": "forged"}):
        forced = client.post("/auth/logout", data=form, follow_redirects=False)
        assert forced.status_code == 403
        assert not any("teamlens_session=" in c for c in forced.headers.get_list("set-cookie"))
        assert client.get("/me", follow_redirects=False).status_code == 200
    out = client.post("/auth/logout", data={"csrf": token})
    assert out.status_code == 200 and "signed out" in out.text
    assert client.get("/me", follow_redirects=False).status_code == 403


def test_signing_out_without_a_session_just_says_so(make_client: Client) -> None:
    out = make_client().post("/auth/logout")
    assert out.status_code == 200 and "signed out" in out.text


@pytest.mark.parametrize("path", ["/me/object", f"{PAGE}/comment", "/auth/logout"])
def test_an_oversized_form_is_refused_before_it_is_read(
    consulting_client: Callable[[], TestClient], path: str
) -> None:
    client = consulting_client()
    padded = client.post(path, data={"text": "x" * (512 * 1024)}, follow_redirects=False)
    assert padded.status_code == 413
    assert_security_headers(padded)
    uploaded = client.post(
        path, files={"upload": ("big.bin", b"\0" * (2 * 1024 * 1024))}, follow_redirects=False
    )
    assert uploaded.status_code == 413


def test_an_oversized_body_sent_in_chunks_is_refused_too(consulting_client: Callable[[], TestClient]) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(200):
            yield b"text=" + b"x" * 4096

    response = consulting_client().post(
        f"{PAGE}/comment",
        content=chunks(),
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert response.status_code == 413


def test_the_longest_view_the_form_takes_still_fits(
    consulting_client: Callable[[], TestClient], idp: ReplayedProvider, consulting_emails: list[str]
) -> None:
    browser = consulting_client()
    assert sign_in(browser, idp, consulting_emails[30]).status_code == 303
    token = csrf_of(browser.get(PAGE).text)
    longest = "\U0001f600" * services.WEB_VIEW_MAX  # 4 bytes each, 12 once form-encoded
    sent = browser.post(
        f"{PAGE}/comment",
        data={"csrf": token, "text": longest, "signature": "\U0001f600" * 200},
        follow_redirects=False,
    )
    assert sent.status_code == 303


def test_a_session_cookie_with_bytes_outside_ascii_is_no_session(released_org: Org) -> None:
    app = create_app(sign_in_workspace(released_org), idp_transport=ReplayedProvider().transport())
    client = TestClient(app, base_url=BASE_URL, raise_server_exceptions=False)
    cookie = "__Host-teamlens_session=\xe9t\xe9.AAAA".encode("latin-1")
    response = client.get("/me", headers={"cookie": cookie}, follow_redirects=False)  # type: ignore[dict-item]
    assert response.status_code == 403 and "Please sign in" in response.text
    proposal = client.get("/register", headers={"cookie": cookie})  # type: ignore[dict-item]
    assert proposal.status_code == 200


def test_a_server_error_carries_the_security_headers_and_no_details(
    released_org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret detail: worker@example.org")

    monkeypatch.setattr(services, "audit_page", broken)
    client = TestClient(create_app(released_org.ws), raise_server_exceptions=False)
    response = client.get("/audit")
    assert response.status_code == 500
    assert_security_headers(response)
    assert "worker@example.org" not in response.text and "secret detail" not in response.text
