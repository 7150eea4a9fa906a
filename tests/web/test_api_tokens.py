"""Analysts' personal API tokens: the read-only API with a bearer token, and nothing else with it.

Each refusal has its teeth beside it: the same token, before the one thing that should stop it
(revocation, expiry, a changed roles file, another route), opens the API.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from freezegun import freeze_time

from teamlens import services
from teamlens.errors import AccessDenied, PolicyError
from teamlens.services import SignedInWorker

from ..integration.flow_support import Org, run_cli
from .conftest import sign_in_workspace, signed_in_as
from .replayed_idp import BASE_URL, ReplayedProvider
from .test_sessions import COOKIE
from .test_worker_sign_in import csrf_of

Client = Callable[..., TestClient]
API = ("/api/releases", "/api/register", "/api/audit")


def make_token(analyst: TestClient, label: str = "notebook", days: int = 30) -> str:
    """Make a token on the analyst's tokens page; the secret shown once."""
    page = analyst.get("/tokens")
    assert page.status_code == 200, page.text
    made = analyst.post("/tokens", data={"csrf": csrf_of(page.text), "label": label, "days": str(days)})
    assert made.status_code == 200, made.text
    found = re.search(r'<code id="secret">(tlk_[A-Za-z0-9_-]+)</code>', made.text)
    assert found, "the new token is not shown"
    return found.group(1)


def bearer(client: TestClient, path: str, token: str) -> httpx.Response:
    # Latin-1, as a header is read: a token with bytes outside ASCII reaches the server as sent.
    return client.get(
        path, headers={"Authorization": f"Bearer {token}".encode("latin-1")}, follow_redirects=False
    )


def refused_as_bad_token(answer: httpx.Response) -> bool:
    return (
        answer.status_code == 401
        and answer.json()["error"] == "invalid token"
        and answer.headers["www-authenticate"].startswith("Bearer")
    )


def test_a_script_reads_the_api_with_the_analysts_token_and_the_token_is_kept_hashed(
    released_org: Org, make_client: Client, idp: ReplayedProvider
) -> None:
    analyst = signed_in_as(make_client(), idp, "analyst")
    token = make_token(analyst)
    script = make_client()  # no cookie at all
    for path in API:
        assert script.get(path).status_code == 403  # teeth: without the token, refused
        answered = bearer(script, path, token)
        assert answered.status_code == 200, (path, answered.text)
        assert answered.json() == analyst.get(path).json()  # what the analyst's session reads
    database = (released_org.ws.settings.data_dir / "governance.sqlite").read_bytes()
    assert token.encode() not in database
    assert hashlib.sha256(token.encode()).hexdigest().encode() in database
    listed = analyst.get("/tokens").text
    assert "notebook" in listed and token not in listed  # shown once, never again


def test_a_token_opens_nothing_but_the_api(make_client: Client, idp: ReplayedProvider) -> None:
    token = make_token(signed_in_as(make_client(), idp, "analyst"))
    script = make_client()
    assert bearer(script, "/api/releases", token).status_code == 200  # teeth: the API opens
    for path in ("/", "/me", "/tokens", "/rep", "/dpo", "/admin", "/me/export.zip"):
        assert bearer(script, path, token).status_code == 403, path
    made = script.post(
        "/tokens", data={"label": "more", "days": "30"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert made.status_code == 403 and "tlk_" not in made.text


def test_revoked_expired_and_unknown_tokens_are_refused(make_client: Client, idp: ReplayedProvider) -> None:
    analyst = signed_in_as(make_client(), idp, "analyst")
    kept, revoked = make_token(analyst, "kept", days=7), make_token(analyst, "revoked")
    script = make_client()
    assert bearer(script, "/api/register", revoked).status_code == 200  # teeth: live until revoked
    page = analyst.get("/tokens")
    token_id = re.findall(r"<tr><td>revoked</td><td><code>([0-9a-f]+)</code>", page.text)[0]
    done = analyst.post("/tokens/revoke", data={"csrf": csrf_of(page.text), "token_id": token_id})
    assert done.status_code == 200 and "The token is revoked." in done.text
    assert refused_as_bad_token(bearer(script, "/api/register", revoked))
    assert bearer(script, "/api/register", kept).status_code == 200  # the other one stays
    now = dt.datetime.now(dt.UTC)
    with freeze_time(now + dt.timedelta(days=6, hours=23)):
        assert bearer(script, "/api/register", kept).status_code == 200  # teeth: not yet expired
    with freeze_time(now + dt.timedelta(days=7, minutes=1)):
        assert refused_as_bad_token(bearer(script, "/api/register", kept))
        assert "(expired)" in signed_in_as(make_client(), idp, "analyst").get("/tokens").text
    for forged in ("tlk_" + "A" * 43, kept[:-1] + ("A" if kept[-1] != "A" else "B"), "not-a-token", "tlk_é"):
        assert refused_as_bad_token(bearer(script, "/api/register", forged)), forged


def test_a_token_ends_for_good_when_its_analyst_is_removed_from_the_roles_file(
    released_org: Org, make_client: Client, idp: ReplayedProvider
) -> None:
    token = make_token(signed_in_as(make_client(), idp, "analyst"))
    script = make_client()
    assert bearer(script, "/api/releases", token).status_code == 200  # teeth: while the role holds
    roles = released_org.ws.settings.data_dir.parent / "roles.toml"
    original = roles.read_text(encoding="utf-8")
    assert "ann.analyst@example.org" in original
    roles.write_text(original.replace('"ann.analyst@example.org"', ""), encoding="utf-8")
    assert refused_as_bad_token(bearer(script, "/api/releases", token))
    roles.write_text(original, encoding="utf-8")  # the analyst is back: the old token stays dead
    assert refused_as_bad_token(bearer(script, "/api/releases", token))


def test_making_a_token_needs_a_recent_sign_in_and_the_analyst_role(
    released_org: Org, make_client: Client, idp: ReplayedProvider
) -> None:
    analyst = signed_in_as(make_client(), idp, "analyst")
    make_token(analyst)  # teeth: fresh, it is made
    engine = sa.create_engine(released_org.ws.settings.governance_url)
    with engine.begin() as conn:  # signed in, with the second factor, six minutes ago
        conn.execute(
            sa.text("UPDATE web_sessions SET created_at = :t, second_factor_at = :t WHERE token_hash = :h"),
            {
                "t": dt.datetime.now(dt.UTC) - dt.timedelta(minutes=6),
                "h": hashlib.sha256(analyst.cookies[COOKIE].encode()).hexdigest(),
            },
        )
    engine.dispose()
    page = analyst.get("/tokens")
    stale = analyst.post("/tokens", data={"csrf": csrf_of(page.text), "label": "late", "days": "30"})
    assert stale.status_code == 403 and "tlk_" not in stale.text
    # The representative reads the API with a session, but a token is an analyst's alone.
    assert signed_in_as(make_client(), idp, "representative").get("/tokens").status_code == 403


def test_an_analyst_revokes_only_their_own_tokens_and_names_are_checked(released_org: Org) -> None:
    ws = sign_in_workspace(released_org)
    ann, other = SignedInWorker("p-ann"), SignedInWorker("p-other")
    analyst = frozenset({services.Role.WORKER, services.Role.ANALYST})
    issued = services.api_tokens.issue(ws, ann, analyst, "  quarterly\tnotebook ", 30)
    assert issued.token.label == "quarterly notebook"
    assert services.api_tokens.revoke(ws, other, issued.token.token_id) is False
    assert [t.token_id for t in services.api_tokens.tokens_of(ws, ann)] == [issued.token.token_id]
    assert services.api_tokens.revoke(ws, ann, issued.token.token_id) is True  # teeth: the owner can
    for label, days in (("", 30), ("x" * 81, 30), ("ok", 365)):
        with pytest.raises(PolicyError) as refused:
            services.api_tokens.issue(ws, ann, analyst, label, days)
        assert refused.value.hint
    representative = frozenset({services.Role.WORKER, services.Role.REPRESENTATIVE})
    with pytest.raises(AccessDenied):
        services.api_tokens.issue(ws, ann, representative, "mine", 30)


def test_the_api_documents_the_bearer_scheme_and_the_nav_links_it(
    make_client: Client, idp: ReplayedProvider
) -> None:
    client = TestClient(make_client().app, base_url=BASE_URL)
    schema = client.get("/api/openapi.json").json()
    [(name, scheme)] = schema["components"]["securitySchemes"].items()
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    for path in API:
        assert {name: []} in schema["paths"][path]["get"]["security"]
        assert "401" in schema["paths"][path]["get"]["responses"]
    docs = client.get("/api/docs").text
    assert "Authorization: Bearer" in docs and 'href="/tokens"' in docs and name in docs
    page = signed_in_as(make_client(), idp, "analyst").get("/").text
    assert 'href="/api/docs"' in page


def test_the_administrator_revokes_every_token_at_once(
    cli_env: Org, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = sign_in_workspace(cli_env)
    analyst = frozenset({services.Role.WORKER, services.Role.ANALYST})
    for owner in ("p-ann", "p-bob"):
        services.api_tokens.issue(ws, SignedInWorker(owner), analyst, "notebook", 30)
    code, out = run_cli(capsys, "api-tokens", "revoke-all")
    assert code == 0 and "Revoked 2 live API tokens" in out
    assert services.api_tokens.tokens_of(ws, SignedInWorker("p-ann")) == []
    code, out = run_cli(capsys, "api-tokens", "revoke-all")
    assert "Revoked 0 live API tokens" in out  # teeth: the count is what was live
