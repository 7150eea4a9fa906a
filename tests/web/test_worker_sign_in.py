"""Worker sign-in (R20, R22): through the organisation's identity provider, a worker sees and
exports their own data at /me and objects there — their own and nobody else's; no route names a
person; without sign-in configured, /me answers 503 and nothing else changes."""

from __future__ import annotations

import io
import json
import logging
import re
import stat
import zipfile
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from teamlens import services
from teamlens.errors import ConfigError
from teamlens.services import Workspace
from teamlens.services.access_export import FILE_NAMES
from teamlens.settings import Settings
from teamlens.web import create_app
from teamlens.web.pages import MyPage, render_my_page

from ..integration.flow_support import Org, signer
from .conftest import sign_in_workspace
from .replayed_idp import BASE_URL, CLIENT_ID, ReplayedProvider, sign_in, start_login

Client = Callable[..., TestClient]


class _Table(HTMLParser):
    """The text of each body row of the table with a given id."""

    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id, self.inside, self.in_body = table_id, False, False
        self.rows: list[list[str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and ("id", self.table_id) in attrs:
            self.inside = True
        elif self.inside and tag == "tbody":
            self.in_body = True
        elif self.in_body and tag == "tr":
            self.rows.append([])
        elif self.in_body and tag == "td":
            self.rows[-1].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.inside = self.in_body = False

    def handle_data(self, data: str) -> None:
        if self.in_body and self.rows and self.rows[-1]:
            self.rows[-1][-1] += data.strip()


def table_rows(page: str, table_id: str) -> list[list[str]]:
    parser = _Table(table_id)
    parser.feed(page)
    return parser.rows


def stored_facts(org: Org, email: str) -> list[tuple[str, str, str, str]]:
    """The worker's facts read straight from the store's Parquet files (not through teamlens)."""
    person = org.ws.pseudonymiser()(email)
    root = org.ws.settings.facts_dir
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    rows = []
    for relative in manifest["months"].values():
        table = pq.read_table(root / relative, filters=[("person", "=", person)])
        rows += [(str(r["day"]), r["metric"], str(r["value"]), r["source"]) for r in table.to_pylist()]
    return sorted(rows)


def parameters(schema: dict[str, Any], operation: dict[str, Any]) -> set[str]:
    """Every parameter an OpenAPI operation reads: path, query, header, cookie and form fields."""
    names = {param["name"] for param in operation.get("parameters", [])}
    for content in operation.get("requestBody", {}).get("content", {}).values():
        body = content["schema"]
        if "$ref" in body:
            body = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
        names |= set(body.get("properties", {}))
    return names


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the page has no CSRF token"
    return found.group(1)


def test_login_sends_the_browser_to_the_provider_with_state_nonce_and_a_pkce_challenge(
    make_client: Client, idp: ReplayedProvider
) -> None:
    client = make_client()
    first, second = start_login(client), start_login(client)
    assert first.startswith(idp.discovery()["authorization_endpoint"] + "?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(first).query).items()}
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == f"{BASE_URL}/auth/callback"
    assert "openid" in query["scope"].split()
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43  # base64url of a SHA-256, unpadded
    assert len(query["state"]) >= 43 and len(query["nonce"]) >= 43
    again = {k: v[0] for k, v in parse_qs(urlsplit(second).query).items()}
    for fresh in ("state", "nonce", "code_challenge"):
        assert again[fresh] != query[fresh]
    cookie = client.get("/auth/login", follow_redirects=False).headers["set-cookie"]
    assert cookie.startswith("__Host-teamlens_login=")
    for attribute in ("HttpOnly", "Path=/", "SameSite=lax", "Secure", "Max-Age=600"):
        assert attribute in cookie


def test_a_signed_in_worker_sees_exactly_their_own_counts_and_nobody_else_s(
    make_client: Client,
    idp: ReplayedProvider,
    released_org: Org,
    emails: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    me, other = emails[0], emails[1]
    client = make_client()
    done = sign_in(client, idp, me.upper())  # providers may send the address in any case
    assert (done.status_code, done.headers["location"]) == (303, "/me")
    [token_request] = idp.token_requests  # the code was exchanged once, with the PKCE verifier
    assert b"code_verifier=" in token_request.content
    page = client.get("/me")
    assert page.status_code == 200
    expected = stored_facts(released_org, me)
    assert expected, "the chosen worker should have counts"
    shown = sorted((row[0], row[2], row[3], row[5]) for row in table_rows(page.text, "facts"))
    assert shown == expected
    pseudonymise = released_org.ws.pseudonymiser()
    assert pseudonymise(me) in page.text
    assert pseudonymise(other) not in page.text
    assert table_rows(page.text, "releases"), "a stayer's data entered the releases"
    for address in (me, other):
        assert address not in page.text.lower()
        assert address not in caplog.text.lower()
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "form-action 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    assert "<script" not in page.text


def test_the_zip_export_holds_the_same_files_as_the_folder_export(
    make_client: Client, idp: ReplayedProvider, released_org: Org, emails: list[str], tmp_path: Path
) -> None:
    me = emails[2]
    client = make_client()
    sign_in(client, idp, me)
    response = client.get("/me/export.zip")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"].startswith("attachment;")
    entry = released_org.ws.governance.audit_entries(limit=1)[0]
    assert (entry.action, entry.actor) == ("rights.access", services.WORKER_ACTOR)
    assert entry.details["channel"] == "web" and me not in json.dumps(entry.details)
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        zipped = {name.split("/", 1)[1]: archive.read(name) for name in archive.namelist()}
    dpo, rep = signer(released_org.ws, "dpo"), signer(released_org.ws, "representative")
    made = services.offline_request(released_org.ws, me, "access", reference="SAR-T-1", by=dpo, actor="DPO")
    services.countersign_request(released_org.ws, made.request_id, by=rep, actor="rep")
    services.fulfil_request(released_org.ws, made.request_id, by=dpo, actor="DPO", out=tmp_path)
    folder = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    assert set(zipped) == set(folder) == set(FILE_NAMES)
    for name in FILE_NAMES:
        if name == "my-data.json":  # only the time it was generated differs
            web, cli = json.loads(zipped[name]), json.loads(folder[name])
            assert web.pop("generated_at") and cli.pop("generated_at")
            assert web == cli and web["facts"]
        else:
            assert zipped[name] == folder[name]


def test_an_objection_is_recorded_only_with_the_session_s_csrf_token(
    make_client: Client, idp: ReplayedProvider, released_org: Org, emails: list[str]
) -> None:
    me, someone = emails[3], emails[4]
    person = released_org.ws.pseudonymiser()(me)
    client, other_browser = make_client(), make_client()
    sign_in(client, idp, me)
    sign_in(other_browser, idp, someone)
    token, others_token = csrf_of(client.get("/me").text), csrf_of(other_browser.get("/me").text)

    def objected() -> bool:
        return person in {pseudonym for pseudonym, _ in released_org.ws.governance.objections()}

    for form in ({}, {"csrf": "forged"}, {"csrf": others_token}):
        refused = client.post("/me/object", data=form, follow_redirects=False)
        assert refused.status_code == 403
        assert not objected()
    done = client.post("/me/object", data={"csrf": token}, follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, "/me?objected=1")
    assert objected()
    entry = released_org.ws.governance.audit_entries(limit=1)[0]
    assert (entry.action, entry.actor) == ("objection.record", services.WORKER_ACTOR)
    page = client.get("/me?objected=1").text
    assert "Your objection is recorded" in page and "You objected on" in page
    assert "You have not objected" in other_browser.get("/me").text


def test_an_unknown_worker_gets_an_empty_export_not_a_different_answer(
    make_client: Client, idp: ReplayedProvider, emails: list[str]
) -> None:
    known, unknown = make_client(), make_client()
    sign_in(known, idp, emails[5])
    assert sign_in(unknown, idp, "nobody.here@example.org").status_code == 303
    pages = [client.get("/me") for client in (known, unknown)]
    assert [page.status_code for page in pages] == [200, 200]
    headings = [re.sub(r"\(\d+\)", "", h) for h in re.findall(r"<h2>(.*?)</h2>", pages[1].text)]
    assert headings == [re.sub(r"\(\d+\)", "", h) for h in re.findall(r"<h2>(.*?)</h2>", pages[0].text)]
    assert "Your weekly counts still held (0)" in pages[1].text
    archive = unknown.get("/me/export.zip")
    assert archive.status_code == 200
    with zipfile.ZipFile(io.BytesIO(archive.content)) as opened:
        data = json.loads(opened.read("teamlens-my-data/my-data.json"))
        assert {name.split("/", 1)[1] for name in opened.namelist()} == set(FILE_NAMES)
    assert (data["facts"], data["directory"], data["releases_entered"]) == ([], [], [])


def test_the_session_cookie_is_a_random_token_httponly_lax_secure_and_names_no_one(
    make_client: Client, idp: ReplayedProvider, released_org: Org, emails: list[str]
) -> None:
    me = emails[6]
    done = sign_in(make_client(), idp, me)
    cookies = done.headers.get_list("set-cookie")
    [session] = [c for c in cookies if c.startswith("__Host-teamlens_session=")]
    for attribute in ("HttpOnly", "Path=/", "SameSite=lax", "Secure", "Max-Age=28800"):
        assert attribute in session
    [login] = [c for c in cookies if c.startswith("__Host-teamlens_login=")]
    assert "Max-Age=0" in login  # the attempt is used up
    value = session.split(";", 1)[0].split("=", 1)[1].strip('"')
    assert len(value) == 43 and "." not in value  # a random token: it names nobody
    assert me not in session and released_org.ws.pseudonymiser()(me) not in session


def test_over_plain_http_on_localhost_cookies_are_not_secure(
    make_client: Client, idp: ReplayedProvider, emails: list[str]
) -> None:
    client = make_client(web_base_url="http://localhost:8000")
    done = sign_in(client, idp, emails[7])
    [session] = [c for c in done.headers.get_list("set-cookie") if c.startswith("teamlens_session=")]
    assert "Secure" not in session and "HttpOnly" in session
    assert client.get("/me").status_code == 200


def test_signing_out_ends_the_session(make_client: Client, idp: ReplayedProvider, emails: list[str]) -> None:
    client = make_client()
    sign_in(client, idp, emails[8])
    token = csrf_of(client.get("/me").text)
    out = client.post("/auth/logout", data={"csrf": token})
    assert out.status_code == 200 and "signed out" in out.text
    after = client.get("/me", follow_redirects=False)
    assert after.status_code == 403 and "Please sign in" in after.text


def test_no_route_takes_an_identity_as_a_parameter(released_org: Org) -> None:
    """R7/R8: the only identity is the signed session; no URL, query or form names a person."""
    app = create_app(sign_in_workspace(released_org), idp_transport=ReplayedProvider().transport())
    schema = app.openapi()  # the app's own inventory of every route and what it reads
    taken = {
        (path, method): parameters(schema, operation)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    }
    paths = {path for path, _ in taken}
    assert {"/me", "/me/export.zip", "/me/object", "/auth/login", "/auth/callback"} <= paths
    assert {"/policy", "/register", "/audit", "/consultation/{policy_id}/{version}/comment"} <= paths
    # A proposal is named by policy id and version; a view's signature is what its author chose to
    # type (empty by default), never looked up; nothing else a route reads could name anyone.
    assert set().union(*taken.values()) == {
        "code",
        "state",
        "objected",
        "csrf",
        "before",
        "recorded",
        "requested",
        "kind",
        "step_up",
        "done",
        "credential",
        "action",
    } | {
        "policy_id",
        "version",
        "text",
        "signature",
        "objection",
    } | {
        # An analyst's own API tokens: a name they chose, a lifetime, and a token's random public
        # id, which only revokes a token of the session's own analyst.
        "label",
        "days",
        "token_id",
        "revoked",
    }


def test_without_sign_in_configured_signed_in_pages_answer_503_and_public_ones_work(
    released_org: Org,
) -> None:
    client = TestClient(create_app(released_org.ws))
    for path in (
        "/me",
        "/me/export.zip",
        "/auth/login",
        "/auth/callback?code=x&state=y",
        "/",
        "/rep",
        "/dpo",
    ):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 503
        assert "Worker sign-in is not configured" in response.text
    for path in ("/policy", "/register", "/audit", "/consultation"):
        assert client.get(path).status_code == 200


def test_half_a_sign_in_configuration_stops_the_app_with_a_hint(released_org: Org) -> None:
    broken = Workspace(
        released_org.ws.settings.model_copy(update={"oidc_issuer": "https://idp.example.net/"})
    )
    with pytest.raises(ConfigError, match="TEAMLENS_OIDC_CLIENT_ID"):
        create_app(broken)


def test_the_session_key_is_created_owner_only_and_refused_when_others_can_read_it(tmp_path: Path) -> None:
    ws = Workspace(Settings(data_dir=tmp_path / "data", key_file=tmp_path / "keys" / "pseudonym.key"))
    key = services.session_key(ws)
    path = ws.settings.session_key_path
    assert path.parent == ws.settings.key_file.parent  # beside the pseudonymisation key, outside the data
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert services.session_key(ws) == key and len(key) == 32
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        services.session_key(ws)
    inside = Workspace(ws.settings.model_copy(update={"session_key_file": ws.settings.data_dir / "s.key"}))
    with pytest.raises(ConfigError, match="inside the data folder"):
        services.session_key(inside)  # teeth: a copy of the data folder must not forge tokens
    given = Workspace(ws.settings.model_copy(update={"session_secret": SecretStr("ab" * 32)}))
    assert services.session_key(given) == bytes.fromhex("ab" * 32)


def test_the_page_escapes_everything_it_shows() -> None:
    """Directory values come from an HR export: markup in them is shown as text, never run."""
    hostile = "<script>alert(1)</script>"
    row = {"valid_from": "2026-01-05", "valid_to": None, "team": hostile, "department": "D", "division": "V"}
    held = services.HeldData(
        pseudonym="p" * 64,
        generated_at="2026-03-01T00:00:00+00:00",
        facts=({"day": "2026-01-05", "days": 7, "metric": hostile, "value": 3, "source": hostile},),
        directory=({**row, "location": hostile},),
        releases=(),
        objection=None,
        policies=(),
        notices=(),
    )
    page = render_my_page(MyPage(held, '"><b>', just_objected=False))
    assert hostile not in page and '"><b>' not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
