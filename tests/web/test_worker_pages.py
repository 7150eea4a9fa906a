"""The pages every worker reads without signing in (R16, R17, R38, DESIGN's roles table): the
policy in force with its notice and explainer, the transparency register and the audit log, all
from the same generators as ``teamlens docs`` and ``teamlens audit``, behind the same strict
headers, with one navigation; and none of them names a worker."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from markupsafe import escape

from teamlens import services
from teamlens.services import audit as audit_service
from teamlens.web import create_app
from teamlens.web.pages import Nav

from ..integration.flow_support import Org, build_org, policy_text, signer
from .conftest import PID, PROPOSED, next_day
from .replayed_idp import ReplayedProvider, sign_in
from .test_worker_sign_in import csrf_of, table_rows

Client = Callable[[], TestClient]
PAGES = ("/", "/policy", "/policy/notice", "/policy/explainer", "/register", "/audit", "/consultation")
_STAMP = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")
_NAV = re.compile(r"\n<nav aria-label=\"teamlens\".*?</nav>", re.DOTALL)


def without_nav(page: str) -> str:
    """A served page as the generator wrote it: the navigation taken out, generation times blanked."""
    assert len(_NAV.findall(page)) == 1, "the page should carry the navigation once"
    return _STAMP.sub("<time>", _NAV.sub("", page))


def test_the_policy_page_names_the_version_in_force_and_its_exact_text(consulting_org: Org) -> None:
    client = TestClient(create_app(consulting_org.ws))
    active = consulting_org.ws.governance.active_policy()
    assert active is not None
    page = client.get("/policy")
    assert page.status_code == 200
    assert re.search(rf'id="policy-id">{active.policy_id}<', page.text)
    assert re.search(rf'id="policy-version">{active.version}<', page.text)
    assert 'id="policy-state">active<' in page.text
    for approval in active.approvals:
        assert approval.approver in page.text
    text = client.get("/policy/text")
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/plain")
    assert text.text == active.text
    digest = hashlib.sha256(text.text.encode("utf-8")).hexdigest()
    assert digest == active.sha256 and digest in page.text
    for link in ("notice", "explainer", "text"):
        assert f'href="/policy/{link}"' in page.text


@pytest.mark.parametrize("kind", ["notice", "explainer"])
def test_the_notice_and_explainer_are_the_generated_documents_of_the_version_in_force(
    consulting_org: Org, kind: str
) -> None:
    page = TestClient(create_app(consulting_org.ws)).get(f"/policy/{kind}")
    assert page.status_code == 200
    generated = services.document_html(consulting_org.ws, kind, policy_id=PID, version=1)
    assert without_nav(page.text) == _STAMP.sub("<time>", generated)
    # ...and it is version 1's, not the proposal's (the newest version) nor a draft's.
    line = f"Policy <strong>{PID}</strong> version 1\n  · state: <strong>active</strong>"
    assert line in page.text and f"version {PROPOSED}" not in page.text


def test_the_notice_states_the_policy_s_own_bounds(consulting_org: Org) -> None:
    page = TestClient(create_app(consulting_org.ws)).get("/policy/notice").text
    policy = services.in_force(consulting_org.ws).policy
    for bound in policy.metrics:
        definition = bound.definition
        amount = f"{bound.per_week / definition.display_divisor:g} {definition.display_unit} a week"
        assert str(escape(f"{definition.label}: {definition.formula} (at most {amount}")) in page
    assert f"than {policy.min_group_size} people is never shown" in page


def test_the_register_counts_the_releases_made_and_shows_the_budget_spent(consulting_org: Org) -> None:
    page = TestClient(create_app(consulting_org.ws)).get("/register")
    assert page.status_code == 200
    made = consulting_org.ws.governance.releases(PID)
    assert len(made) == 2
    count = f'<span id="release-count">{len(made)}</span> releases recorded, matching the audit log'
    assert count in page.text
    register = services.build_register(consulting_org.ws)
    assert f"Spent ρ = {register.spent:.4g} of {register.total:.4g}" in page.text
    assert "Union rep (representative)" in page.text  # who approved, by name (R17)
    generated = services.document_html(consulting_org.ws, "register")
    assert without_nav(page.text) == _STAMP.sub("<time>", generated)


def test_the_audit_page_lists_the_newest_entries_and_says_the_chain_verifies(consulting_org: Org) -> None:
    with next_day():  # entries appear on the public page the day after they are recorded
        page = TestClient(create_app(consulting_org.ws)).get("/audit")
    assert page.status_code == 200
    newest = consulting_org.ws.governance.audit_entries(limit=1)[0]
    total = consulting_org.ws.governance.verify_audit().entries
    assert f"The log verifies: all {total} entries" in page.text
    rows = table_rows(page.text, "audit")
    assert rows[0][0] == str(newest.seq) and rows[0][2] == newest.actor
    assert rows[0][3].startswith(newest.action)
    assert sum(row[3].startswith("release.record") for row in rows) == 2
    assert len(rows) == min(total, services.AUDIT_PAGE_SIZE)


def test_the_audit_log_pages_back_to_its_first_entry(
    consulting_org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_service, "AUDIT_PAGE_SIZE", 7)
    client = TestClient(create_app(consulting_org.ws))
    seen: list[int] = []
    path: str | None = "/audit"
    while path is not None:
        with next_day():
            page = client.get(path)
        assert page.status_code == 200
        rows = table_rows(page.text, "audit")
        assert 0 < len(rows) <= 7
        seen += [int(row[0]) for row in rows]
        older = re.search(r'href="(/audit\?before=\d+)">Older entries', page.text)
        path = older.group(1) if older else None
    total = consulting_org.ws.governance.verify_audit().entries
    assert seen[:total] == list(range(total, 0, -1))  # newer entries may have been added meanwhile
    assert client.get("/audit?before=1").status_code == 200
    assert "No entries before entry 1" in client.get("/audit?before=1").text
    assert client.get("/audit?before=0").status_code == 422
    assert client.get("/audit?before=x").status_code == 422


def test_the_audit_page_shows_the_first_broken_entry_when_one_was_edited(tmp_path: Path) -> None:
    org = build_org(tmp_path, people=20, weeks=1)
    client = TestClient(create_app(org.ws))
    assert "The log verifies" in client.get("/audit").text
    engine = sa.create_engine(org.ws.settings.governance_url)
    with engine.begin() as conn:  # someone with database access rewrites an entry's details
        conn.execute(sa.text("UPDATE audit_log SET details = :d WHERE seq = 3"), {"d": '{"edited":true}'})
    engine.dispose()
    with next_day():
        page = client.get("/audit")
    assert page.status_code == 200
    assert "The log does not verify" in page.text and "The log verifies" not in page.text
    assert "The first broken entry is\n  <strong>3</strong>: entry 3 was altered" in page.text
    assert re.search(r'<tr class="broken"><td class="num">3</td>', page.text)
    assert "edited: true" in page.text  # the altered entry is shown as it now is


def test_no_page_shows_a_worker_s_address_or_pseudonym_even_after_they_used_their_rights(
    consulting_client: Client, idp: ReplayedProvider, consulting_org: Org, consulting_emails: list[str]
) -> None:
    me = consulting_emails[0]
    pseudonym = consulting_org.ws.pseudonymiser()(me)
    browser = consulting_client()
    sign_in(browser, idp, me)
    assert browser.get("/me/export.zip").status_code == 200
    token = csrf_of(browser.get("/me").text)
    assert browser.post("/me/object", data={"csrf": token}, follow_redirects=False).status_code == 303
    entries = consulting_org.ws.governance.audit_entries(limit=2)
    assert [entry.action for entry in entries] == ["objection.record", "rights.access"]
    public = TestClient(create_app(consulting_org.ws))
    for path in (*PAGES, "/policy/text", f"/consultation/{PID}/{PROPOSED}"):
        shown = public.get(path).text.lower()
        assert me.lower() not in shown and pseudonym not in shown, path
        assert me.lower() not in browser.get(path).text.lower()
    with next_day():
        rows = {row[0]: row for row in table_rows(public.get("/audit").text, "audit")}
    export = rows[str(entries[1].seq)]
    # The export shows its day, who asked and through which channel, but not how much was held.
    assert export[1] == f"{entries[1].at:%Y-%m-%d}"
    assert export[2] == services.WORKER_ACTOR
    assert "channel: web; requested_by: worker" in export[4]  # details are shown sorted by name
    assert "facts" not in export[4] and "releases" not in export[4]
    assert "details about the worker left out" in export[4]
    assert json.dumps(entries[1].details).count("facts") == 1  # ...which the stored entry does hold
    objection = rows[str(entries[0].seq)]
    assert objection[1] == f"{entries[0].at:%Y-%m-%d}" and "objections: " in objection[4]


def test_every_page_has_strict_headers_no_script_nothing_from_elsewhere_and_the_navigation(
    consulting_org: Org,
) -> None:
    client = TestClient(create_app(consulting_org.ws))
    for path in (*PAGES, "/policy/text", f"/consultation/{PID}/{PROPOSED}", "/me"):
        response = client.get(path)
        assert response.status_code == (503 if path in ("/me", "/") else 200), path  # no sign-in here
        headers = response.headers
        assert headers["content-security-policy"].startswith("default-src 'none';"), path
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["cache-control"] == "no-store"
        if path == "/policy/text":
            continue
        page = response.text
        assert "<script" not in page.lower() and "<iframe" not in page.lower() and "<link" not in page.lower()
        assert not re.search(r"""\bsrc\s*=\s*["'](?!data:)""", page), path
        assert not re.search(r"url\((?!data:)", page), path
        assert all(href.startswith(("/", "#")) for href in re.findall(r'href="([^"]*)"', page)), path
        nav = _NAV.search(page)
        assert nav, path
        assert [href for href, _ in Nav.links] == re.findall(r'href="([^"]+)"', nav.group(0))
        current = re.findall(r'href="([^"]+)" aria-current="page"', nav.group(0))
        section = "/" + path.split("/")[1] if path != "/" else "/"
        assert current == [section], path


def test_with_no_policy_the_policy_pages_say_teamlens_is_off_and_the_others_say_why(tmp_path: Path) -> None:
    org = build_org(tmp_path, people=20, weeks=1, approve=False)
    client = TestClient(create_app(org.ws))
    for path in ("/policy", "/policy/notice", "/policy/explainer", "/policy/text"):
        off = client.get(path)
        assert off.status_code == 409, path
        assert "<title>teamlens is off" in off.text and _NAV.search(off.text), path
    register = client.get("/register")
    assert register.status_code == 200
    assert "Nothing is collected or released: no policy has been approved by both parties." in register.text
    with next_day():
        audit = client.get("/audit")
    assert audit.status_code == 200 and "installation.initialised" in audit.text
    assert "No proposal is open for views right now" in client.get("/consultation").text


def test_a_first_policy_in_consultation_is_open_for_views_while_teamlens_is_still_off(tmp_path: Path) -> None:
    org = build_org(tmp_path, people=20, weeks=1, approve=False)
    org.policy_file.write_text(policy_text(), encoding="utf-8")
    services.propose(org.ws, org.policy_file, actor="HR analyst")
    client = TestClient(create_app(org.ws))
    assert "No proposal is open" in client.get("/consultation").text  # a draft is not published
    assert client.get(f"/consultation/{PID}/1").status_code == 409
    services.consult(org.ws, PID, 1, by=signer(org.ws, "employer"), actor="HR director")
    listed = client.get("/consultation")
    assert table_rows(listed.text, "proposals")[0][1:3] == [PID, "1"]
    proposal = client.get(f"/consultation/{PID}/1")
    assert proposal.status_code == 200 and "Proposal for consultation" in proposal.text
    assert "Worker sign-in is not set up on this installation" in proposal.text
    assert client.get("/policy").status_code == 409
