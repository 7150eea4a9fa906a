"""A18: every role, and no session, against every route of the app, with objects that exist and not.

The routes come from the app itself, so a new route is in the matrix the day it is added; what
each role may open comes from ``ALLOWED`` below, written from DESIGN.md's role table, not from the
code. A denial is 403 (or 404/409 for an object that does not exist) and its body is the refusal
page alone: no figure, hash, pseudonym or request. Every form post without its session's CSRF
token is refused too (A19a). The teeth: the same matrix run against an app whose analyst check
lets anyone through reports the mismatch.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from teamlens.web import create_app

from ..integration.flow_support import Org
from ..support.routes import api_routes
from .conftest import PID, PROPOSED, ROLE_HOLDERS, sign_in_workspace, signed_in_as
from .replayed_idp import BASE_URL, ReplayedProvider, sign_in

PUBLIC = "public"
SIGNED_IN = "signed in"
#: Who may open each route (by its path template): anyone, any signed-in worker, or these roles.
ALLOWED: dict[str, str | frozenset[str]] = {
    "/": frozenset({"analyst", "representative"}),
    "/api/releases": frozenset({"analyst", "representative"}),
    "/api/register": frozenset({"analyst", "representative"}),
    "/api/audit": frozenset({"analyst", "representative"}),
    "/api/docs": PUBLIC,
    "/healthz": PUBLIC,
    "/policy": PUBLIC,
    "/policy/notice": PUBLIC,
    "/policy/explainer": PUBLIC,
    "/policy/text": PUBLIC,
    "/register": PUBLIC,
    "/audit": PUBLIC,
    "/consultation": PUBLIC,
    "/consultation/{policy_id}/{version}": PUBLIC,
    "/consultation/{policy_id}/{version}/comment": SIGNED_IN,
    "/auth/login": PUBLIC,
    "/auth/callback": PUBLIC,
    "/auth/logout": PUBLIC,
    "/auth/passkey": frozenset({"representative"}),
    "/static/passkey.js": PUBLIC,
    "/me": SIGNED_IN,
    "/me/export.zip": SIGNED_IN,
    "/me/object": SIGNED_IN,
    "/me/request": SIGNED_IN,
    "/rep": frozenset({"representative"}),
    "/rep/audit": frozenset({"representative"}),
    "/rep/union": frozenset({"representative"}),
    "/rep/union.csv": frozenset({"representative"}),
    "/rep/union.pdf": frozenset({"representative"}),
    "/rep/works-agreement": frozenset({"representative"}),
    "/rep/works-agreement.pdf": frozenset({"representative"}),
    "/rep/passkey": frozenset({"representative"}),
    "/rep/keyset": frozenset({"representative"}),
    "/rep/sign": frozenset({"representative"}),
    "/rep/sign/finish": frozenset({"representative"}),
    "/dpo": frozenset({"dpo"}),
    "/dpo/dpia": frozenset({"dpo"}),
    "/dpo/works-agreement": frozenset({"dpo"}),
    "/dpo/works-agreement.pdf": frozenset({"dpo"}),
    "/admin": frozenset({"admin"}),
    "/tokens": frozenset({"analyst"}),
    "/tokens/revoke": frozenset({"analyst"}),
}
WHO = ("nobody", "worker", *ROLE_HOLDERS)
#: Text that only a page with data carries; no refusal may contain any of it.
_DATA = re.compile(r"sha256|[0-9a-f]{64}|±|request [0-9a-f]{16}|<table", re.IGNORECASE)


def routes(app: object) -> list[tuple[str, str]]:
    """(method, path template) of every route the app answers, from the app itself."""
    found = []
    for route in api_routes(app):
        if not route.path.startswith("/api/openapi"):
            found += [(method, route.path) for method in sorted(route.methods)]
    return found


def concrete(path: str, exists: bool) -> str:
    return path.replace("{policy_id}", PID).replace("{version}", str(PROPOSED if exists else 999))


def allowed(who: str, path: str) -> bool:
    rule = ALLOWED[path]
    if rule == PUBLIC:
        return True
    if rule == SIGNED_IN:
        return who != "nobody"
    return who in rule  # type: ignore[operator]


def browsers(make: Callable[[], TestClient], idp: ReplayedProvider, worker: str) -> dict[str, TestClient]:
    clients = {"nobody": make()}
    done = sign_in(make(), idp, worker)
    assert done.status_code == 303
    clients["worker"] = make()
    sign_in(clients["worker"], idp, worker)
    for role in ROLE_HOLDERS:
        clients[role] = signed_in_as(make(), idp, role)
    return clients


def mismatches(clients: dict[str, TestClient], app: object, only: set[str] | None = None) -> list[str]:
    """Every (who, method, path) whose answer disagrees with ``ALLOWED``, or whose refusal shows data."""
    wrong = []
    for method, path in routes(app):
        if only is not None and path not in only:
            continue
        assert path in ALLOWED, f"add {path} to ALLOWED"
        # A path without parameters names the same URL either way: asked once, not twice.
        cases = (True, False) if "{" in path else (True,)
        for who, client in clients.items():
            for exists in cases:
                url = concrete(path, exists)
                if method == "GET":
                    response = client.get(url, follow_redirects=False)
                else:
                    response = client.request(method, url, data={}, follow_redirects=False)
                denied = response.status_code in (401, 403, 404, 409, 503)
                should = allowed(who, path) and method == "GET"
                if method != "GET" and path != "/auth/logout":
                    # A post without its session's CSRF token is refused for everyone (A19a).
                    should = False
                if (
                    should
                    and denied
                    and exists
                    # These answer only in the middle of a step started before (a sign-in, an
                    # export, a passkey ceremony), or under a policy whose jurisdiction has the
                    # document (the works agreement: "de"): otherwise, refusing is right.
                    and path not in ("/auth/callback", "/me/export.zip", "/auth/passkey", "/rep/keyset")
                    and not path.endswith(("/works-agreement", "/works-agreement.pdf"))
                ):
                    wrong.append(f"{who} {method} {url}: refused ({response.status_code})")
                if not should and not denied and path != "/auth/logout":
                    wrong.append(f"{who} {method} {url}: allowed ({response.status_code})")
                if denied and response.status_code == 403 and _DATA.search(response.text):
                    wrong.append(f"{who} {method} {url}: the refusal shows data")
    return wrong


@pytest.fixture
def app_and_browsers(
    consulting_org: Org, idp: ReplayedProvider, consulting_emails: list[str]
) -> tuple[object, dict[str, TestClient]]:
    app = create_app(sign_in_workspace(consulting_org), idp_transport=idp.transport())
    return app, browsers(lambda: TestClient(app, base_url=BASE_URL), idp, consulting_emails[40])


def test_every_role_gets_exactly_what_the_role_table_allows(
    app_and_browsers: tuple[object, dict[str, TestClient]],
) -> None:
    app, clients = app_and_browsers
    assert mismatches(clients, app) == []


def test_teeth_an_analyst_check_that_lets_anyone_through_is_caught(
    app_and_browsers: tuple[object, dict[str, TestClient]],
) -> None:
    app, clients = app_and_browsers
    analyst_checks = {
        d.call
        for route in api_routes(app)
        if route.path in ("/", "/api/releases")
        for d in route.dependant.dependencies
        if d.name in ("analyst", "reader")
    }
    assert len(analyst_checks) == 2  # the page's session check and the API's session-or-token check
    for check in analyst_checks:
        app.dependency_overrides[check] = lambda: None  # type: ignore[attr-defined]
    found = mismatches(clients, app, {"/", "/api/releases"})
    assert any("worker GET /api/releases: allowed" in line for line in found)
    assert any("nobody GET /: allowed" in line for line in found)


def test_a_privileged_role_without_a_second_factor_is_refused_until_it_signs_in_again(
    consulting_org: Org, idp: ReplayedProvider
) -> None:
    app = create_app(sign_in_workspace(consulting_org), idp_transport=idp.transport())
    for role, page in (("representative", "/rep"), ("analyst", "/"), ("dpo", "/dpo"), ("admin", "/admin")):
        weak = signed_in_as(TestClient(app, base_url=BASE_URL), idp, role, mfa=False)
        refused = weak.get(page)
        assert refused.status_code == 403 and "second factor" in refused.text
        assert "/auth/login?step_up=1" in refused.text
        strong = signed_in_as(TestClient(app, base_url=BASE_URL), idp, role)  # teeth: with MFA it opens
        assert strong.get(page).status_code == 200
