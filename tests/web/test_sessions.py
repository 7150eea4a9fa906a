"""A19: sessions that can be revoked, throttled sign-in, step-up, one view per worker, HEAD and HSTS.

Each property has its teeth beside it: the same request with the one protection's trigger
removed goes through.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient

from teamlens.web import create_app

from ..integration.flow_support import Org
from .conftest import PID, PROPOSED, sign_in_workspace, signed_in_as
from .replayed_idp import BASE_URL, ReplayedProvider, sign_in, start_login, state_of
from .test_worker_sign_in import csrf_of

Client = Callable[..., TestClient]
COOKIE = "__Host-teamlens_session"


def _age(org: Org, client: TestClient, *, minutes: int) -> None:
    """Move the session's sign-in ``minutes`` into the past (it stays in use: not idle)."""
    token_hash = hashlib.sha256(client.cookies[COOKIE].encode()).hexdigest()
    engine = sa.create_engine(org.ws.settings.governance_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE web_sessions SET created_at = :t, second_factor_at = NULL WHERE token_hash = :h"),
            {"t": dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes), "h": token_hash},
        )
    engine.dispose()


def test_a_copied_cookie_is_dead_once_its_owner_signs_out(
    make_client: Client, idp: ReplayedProvider, emails: list[str]
) -> None:
    owner, thief = make_client(), make_client()
    sign_in(owner, idp, emails[50])
    thief.cookies.set(COOKIE, owner.cookies[COOKIE], domain="teamlens.example.org")
    assert thief.get("/me").status_code == 200  # teeth: while the owner is signed in, the copy works
    owner.post("/auth/logout", data={"csrf": csrf_of(owner.get("/me").text)})
    assert thief.get("/me").status_code == 403  # revoked on the server, not just the owner's cookie


def test_signing_in_again_replaces_the_session(
    make_client: Client, idp: ReplayedProvider, emails: list[str]
) -> None:
    client = make_client()
    sign_in(client, idp, emails[51])
    first = client.cookies[COOKIE]
    sign_in(client, idp, emails[51])
    second = client.cookies[COOKIE]
    assert first != second
    replay = make_client()
    replay.cookies.set(COOKIE, first, domain="teamlens.example.org")
    assert replay.get("/me").status_code == 403
    assert client.get("/me").status_code == 200


def test_a_change_of_the_roles_file_ends_every_session(
    tmp_path: Path, released_org: Org, idp: ReplayedProvider
) -> None:
    ws = sign_in_workspace(released_org)
    app = create_app(ws, idp_transport=idp.transport())
    client = signed_in_as(TestClient(app, base_url=BASE_URL), idp, "analyst")
    assert client.get("/api/releases").status_code == 200  # teeth: unchanged, the session works
    roles = ws.settings.roles_file
    assert roles is not None
    original = roles.read_text(encoding="utf-8")
    try:
        roles.write_text(
            original + "# one comment more: another file, not the one both parties signed\n", encoding="utf-8"
        )
        assert client.get("/api/releases").status_code == 403
        again = signed_in_as(TestClient(app, base_url=BASE_URL), idp, "analyst")
        # Signed in under a file both parties did not approve, the analyst is a worker only.
        assert again.get("/api/releases").status_code == 403
        assert again.get("/me").status_code == 200
    finally:
        roles.write_text(original, encoding="utf-8")


def test_twenty_failed_sign_ins_from_one_address_are_throttled(
    make_client: Client, idp: ReplayedProvider, emails: list[str]
) -> None:
    client = make_client()
    for _ in range(19):
        location = start_login(client)
        assert client.get(f"/auth/callback?code=wrong&state={state_of(location)}").status_code == 403
    assert sign_in(client, idp, emails[52]).status_code == 303  # teeth: 19 failures, still let in
    location = start_login(client)
    client.get(f"/auth/callback?code=wrong&state={state_of(location)}")  # the twentieth
    throttled = client.get("/auth/login", follow_redirects=False)
    assert throttled.status_code == 429
    assert "Too many sign-in attempts" in throttled.text and emails[52] not in throttled.text
    fresh = TestClient(client.app, base_url=BASE_URL)  # another browser from the same address
    assert fresh.get("/auth/login", follow_redirects=False).status_code == 429


def test_the_export_needs_a_recent_sign_in(
    make_client: Client, idp: ReplayedProvider, released_org: Org, emails: list[str]
) -> None:
    client = make_client()
    sign_in(client, idp, emails[53])
    assert client.get("/me/export.zip").status_code == 200  # teeth: fresh, it downloads
    _age(released_org, client, minutes=6)
    stale = client.get("/me/export.zip")
    assert stale.status_code == 403 and "/auth/login?step_up=1" in stale.text
    assert client.get("/me").status_code == 200  # the page itself still opens
    login = client.get("/auth/login?step_up=1", follow_redirects=False).headers["location"]
    assert "prompt=login" in login and "max_age=0" in login


def test_one_worker_gives_one_view_and_can_replace_it(
    consulting_client: Callable[[], TestClient],
    consulting_org: Org,
    idp: ReplayedProvider,
    consulting_emails: list[str],
) -> None:
    page = f"/consultation/{PID}/{PROPOSED}"

    def views() -> list[str]:
        return [v.text for v in consulting_org.ws.governance.consultation(PID, PROPOSED).views]

    before = len(views())
    me, other = consulting_client(), consulting_client()
    sign_in(me, idp, consulting_emails[60])
    sign_in(other, idp, consulting_emails[61])
    for browser, text in (
        (me, "First thoughts."),
        (me, "Second thoughts, replacing the first."),
        (other, "Mine."),
    ):
        token = csrf_of(browser.get("/me").text)
        done = browser.post(f"{page}/comment", data={"csrf": token, "text": text}, follow_redirects=False)
        assert done.status_code == 303
    after = views()
    assert len(after) == before + 2  # teeth: another worker's view does count
    assert "Second thoughts, replacing the first." in after and "First thoughts." not in after
    engine = sa.create_engine(consulting_org.ws.settings.governance_url)
    with engine.connect() as conn:
        voters = [row.voter for row in conn.execute(sa.text("SELECT voter FROM view_slots"))]
    engine.dispose()
    pseudonym = consulting_org.ws.pseudonymiser()(consulting_emails[60])
    assert voters and pseudonym not in voters
    assert all(v != hashlib.sha256(f"{PID}|{PROPOSED}|{pseudonym}".encode()).hexdigest() for v in voters)


def test_head_is_answered_wherever_get_is_and_https_responses_carry_hsts(
    make_client: Client, idp: ReplayedProvider
) -> None:
    client = make_client()
    for path in ("/policy", "/register", "/healthz", "/static/passkey.js"):
        got, head = client.get(path), client.head(path)
        assert head.status_code == got.status_code == 200, path
        assert head.content == b"" and head.headers["content-type"] == got.headers["content-type"]
        assert head.headers["strict-transport-security"].startswith("max-age=")
    assert client.head("/me").status_code == 403  # HEAD is no way around a role
    local = make_client(web_base_url="http://localhost:8000")
    plain = TestClient(local.app, base_url="http://localhost:8000").get("/policy")
    assert "strict-transport-security" not in plain.headers  # teeth: not over plain HTTP
