"""The documented HTTP API: every path ``/api/docs`` describes answers the analyst and refuses others.

The paths come from the app's OpenAPI document (what the documentation page is rendered from),
so a path added to the API without being documented, or documented without answering, fails here.
Teeth: an app whose analyst check lets anyone through is caught.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from teamlens import services
from teamlens.web import api, deps

from ..integration.flow_support import Org
from .conftest import directory_emails, next_day, signed_in_as
from .replayed_idp import ReplayedProvider


def documented(client: TestClient) -> list[str]:
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    paths = re.findall(r">GET (/api/[a-z]+)</h2>", page.text)
    schema = client.get("/api/openapi.json").json()
    assert set(paths) == {path for path in schema["paths"] if path.startswith("/api/")}
    return paths


def test_the_documented_paths_answer_the_analyst_and_refuse_everyone_else(
    released_org: Org, make_client: Callable[..., TestClient], idp: ReplayedProvider
) -> None:
    analyst = signed_in_as(make_client(), idp, "analyst")
    paths = documented(analyst)
    assert paths == ["/api/releases", "/api/register", "/api/audit"]
    anybody = make_client()
    for path in paths:
        answered = analyst.get(path)
        assert answered.status_code == 200, (path, answered.text)
        assert answered.headers["content-type"] == "application/json"
        for refused in (anybody, signed_in_as(make_client(), idp, "dpo")):
            denied = refused.get(path)
            assert denied.status_code == 403, path
            assert "application/json" not in denied.headers["content-type"]


def test_the_answers_hold_what_the_pages_show_and_no_worker(
    released_org: Org, make_client: Callable[..., TestClient], idp: ReplayedProvider
) -> None:
    analyst = signed_in_as(make_client(), idp, "analyst")
    register = analyst.get("/api/register").json()
    recorded = {release.release_id for release in released_org.ws.governance.releases(None)}
    assert {release["release_id"] for release in register["releases"]} == recorded
    assert register["policy"]["reports"] and register["audit"]["verified"] is True
    assert analyst.get("/api/audit").json()["entries"] == []  # today's entries appear tomorrow
    with next_day():  # a new day (and so a new sign-in: yesterday's session has ended)
        audit = signed_in_as(make_client(), idp, "analyst").get("/api/audit").json()
        page = services.audit_page(released_org.ws)
    assert audit["verified"] is True
    assert audit["entries"] and [entry["seq"] for entry in audit["entries"]] == [e.seq for e in page.entries]
    assert audit["entries_shown"] == page.shown_through
    bodies = analyst.get("/api/register").text + json.dumps(audit) + analyst.get("/api/releases").text
    workers = directory_emails(released_org)
    assert workers
    assert not [email for email in workers if email in bodies or email.split("@")[0] in bodies]


def test_the_docs_page_describes_every_field_and_loads_nothing_from_elsewhere(
    released_org: Org, make_client: Callable[..., TestClient]
) -> None:
    page = make_client().get("/api/docs")
    assert page.status_code == 200
    for field in ("suppressed", "uncertain", "lower", "upper", "min_group_size", "entries_shown"):
        assert f"<code>{field}</code>" in page.text
    assert "<script" not in page.text and "http://" not in page.text and "https://" not in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")


def test_teeth_an_api_open_to_anyone_is_caught(
    released_org: Org, make_client: Callable[..., TestClient]
) -> None:
    """The same refusal check, against an app whose reader dependency lets a missing session through."""

    def anyone() -> None:
        return None

    client = make_client()
    client.app.dependency_overrides[deps.ApiReader.__metadata__[0].dependency] = anyone  # type: ignore[attr-defined]
    opened = [path for path in api.API_PATHS if client.get(path).status_code == 200]
    assert opened == list(api.API_PATHS)
