"""Workers give their views on a proposal in the web app (R5): signed in, with the session's CSRF
token, signed as they choose or as "a worker" — and an unsigned view carries nothing about who
sent it, in the consultation record, in the audit log or anywhere in the governance database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient

from teamlens import services
from teamlens.governance import ConsultationEntry
from teamlens.web import create_app

from ..integration.flow_support import Org
from .conftest import PID, PROPOSED, next_day
from .replayed_idp import ReplayedProvider, sign_in
from .test_worker_sign_in import csrf_of, table_rows

Client = Callable[[], TestClient]
PAGE = f"/consultation/{PID}/{PROPOSED}"
POST = f"{PAGE}/comment"


def views(org: Org) -> tuple[ConsultationEntry, ...]:
    """The views recorded on the proposal, oldest first."""
    return services.consultation(org.ws, PID, PROPOSED).views


def signed_in(make: Client, idp: ReplayedProvider, email: str) -> tuple[TestClient, str]:
    """A browser signed in as ``email``, and the CSRF token of its session from the proposal's page."""
    browser = make()
    assert sign_in(browser, idp, email).status_code == 303
    return browser, csrf_of(browser.get(PAGE).text)


def governance_rows(org: Org) -> str:
    """Every row of every table of the governance database, as text."""
    engine = sa.create_engine(org.ws.settings.governance_url)
    try:
        with engine.connect() as conn:
            tables = sa.inspect(conn).get_table_names()
            return "\n".join(
                repr(tuple(row))
                for table in tables
                for row in conn.execute(sa.text(f'SELECT * FROM "{table}"'))
            )
    finally:
        engine.dispose()


def governance_bytes(org: Org) -> bytes:
    """The SQLite governance database's files as stored (empty when the database is elsewhere)."""
    url = org.ws.settings.governance_url
    if not url.startswith("sqlite:///"):
        return b""
    path = Path(url.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def test_the_consultation_page_lists_the_open_proposals_only(consulting_client: Client) -> None:
    page = consulting_client().get("/consultation")
    assert page.status_code == 200
    rows = table_rows(page.text, "proposals")
    assert [row[1:3] for row in rows] == [[PID, str(PROPOSED)]]  # not version 1, which is in force
    assert f'href="{PAGE}"' in page.text


def test_a_proposal_s_page_is_the_generated_consultation_page_with_the_form_for_a_signed_in_worker(
    consulting_client: Client, consulting_org: Org, idp: ReplayedProvider, consulting_emails: list[str]
) -> None:
    anyone = consulting_client().get(PAGE)
    assert anyone.status_code == 200
    assert (
        "Proposal for consultation" in anyone.text
        and "How accurate the published figures would be" in anyone.text
    )
    assert f"Policy <strong>{PID}</strong> version {PROPOSED}" in anyone.text
    assert "(consultation open)" in anyone.text
    assert '<a href="/auth/login">Sign in with your work account</a> to give your view' in anyone.text
    assert "<form" not in anyone.text and "<textarea" not in anyone.text
    browser, token = signed_in(consulting_client, idp, consulting_emails[10])
    page = browser.get(PAGE).text
    assert f'<form method="post" action="{POST}">' in page
    assert f'name="csrf" value="{token}"' in page
    assert f'maxlength="{services.WEB_VIEW_MAX}"' in page and 'name="objection"' in page
    without = TestClient(create_app(consulting_org.ws)).get(PAGE)  # this installation has no sign-in
    assert "Worker sign-in is not set up on this installation" in without.text and "<form" not in without.text


def test_an_unsigned_view_is_recorded_as_a_worker_and_nothing_anywhere_says_who_sent_it(
    consulting_client: Client, consulting_org: Org, idp: ReplayedProvider, consulting_emails: list[str]
) -> None:
    me = consulting_emails[11]
    pseudonym = consulting_org.ws.pseudonymiser()(me)
    text = "Weekly meeting hours per team will be read as a league table.\r\nPlease keep them monthly."
    before = len(views(consulting_org))
    browser, token = signed_in(consulting_client, idp, me)
    done = browser.post(POST, data={"csrf": token, "text": text, "signature": "  "}, follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, f"{PAGE}?recorded=1")
    recorded = views(consulting_org)
    assert len(recorded) == before + 1
    view = recorded[-1]
    assert (view.kind.value, view.author) == ("comment", services.ANONYMOUS_WORKER)
    assert view.text == text.replace("\r\n", "\n")
    entry = consulting_org.ws.governance.audit_entries(limit=1)[0]
    assert (entry.action, entry.actor) == ("consultation.comment", "worker")
    assert entry.details == {"policy_id": PID, "version": PROPOSED, "comments": before + 1}
    stored = governance_rows(consulting_org)
    assert "league table" in stored  # the scan does see the view...
    assert me not in stored.lower() and pseudonym not in stored  # ...and nothing about who sent it
    raw = governance_bytes(consulting_org)
    if raw:
        assert b"league table" in raw
        assert me.encode() not in raw.lower() and pseudonym.encode() not in raw
    page = browser.get(f"{PAGE}?recorded=1").text
    assert "Your view is recorded. It will appear above" in page
    with next_day():  # views appear on the public page the day after they are given
        page = browser.get(PAGE).text
    assert f'Comment from {services.ANONYMOUS_WORKER} <span class="meta">({view.at:%Y-%m-%d})</span>' in page
    assert me not in page.lower() and pseudonym not in page


def test_a_signed_view_records_the_name_typed_and_an_objection_is_recorded_as_one(
    consulting_client: Client, consulting_org: Org, idp: ReplayedProvider, consulting_emails: list[str]
) -> None:
    browser, token = signed_in(consulting_client, idp, consulting_emails[12])
    form = {
        "csrf": token,
        "text": "We object to counting chat.",
        "signature": " Priya,\n Payroll ",
        "objection": "yes",
    }
    assert browser.post(POST, data=form, follow_redirects=False).status_code == 303
    view = views(consulting_org)[-1]
    assert (view.kind.value, view.author, view.text) == (
        "objection",
        "Priya, Payroll",
        "We object to counting chat.",
    )
    assert consulting_org.ws.governance.audit_entries(limit=1)[0].action == "consultation.objection"
    with next_day():
        assert "Objection from Priya, Payroll" in browser.get(PAGE).text


def test_a_view_is_refused_without_the_session_s_csrf_token_or_without_a_session(
    consulting_client: Client, consulting_org: Org, idp: ReplayedProvider, consulting_emails: list[str]
) -> None:
    browser, token = signed_in(consulting_client, idp, consulting_emails[13])
    _, others_token = signed_in(consulting_client, idp, consulting_emails[14])
    before = views(consulting_org)
    for form in ({}, {"csrf": "forged"}, {"csrf": others_token}):
        refused = browser.post(POST, data={**form, "text": "cross-site"}, follow_redirects=False)
        assert refused.status_code == 403
        assert "Please sign in" in refused.text
    stranger = consulting_client()  # not signed in: no session, whatever token it sends
    for form in ({}, {"csrf": token}):
        refused = stranger.post(POST, data={**form, "text": "no session"}, follow_redirects=False)
        assert refused.status_code == 403
    assert views(consulting_org) == before


def test_an_over_long_or_empty_view_comes_back_with_the_reason_and_nothing_is_recorded(
    consulting_client: Client, consulting_org: Org, idp: ReplayedProvider, consulting_emails: list[str]
) -> None:
    browser, token = signed_in(consulting_client, idp, consulting_emails[15])
    before = views(consulting_org)
    long = "x" * (services.WEB_VIEW_MAX + 1)
    refused = browser.post(POST, data={"csrf": token, "text": long, "signature": "Sam", "objection": "yes"})
    assert refused.status_code == 400
    assert (
        f"Your view is {services.WEB_VIEW_MAX + 1:,} characters long; this form takes at most" in refused.text
    )
    assert f">\n{long}</textarea>" in refused.text and 'value="Sam"' in refused.text  # given back to shorten
    assert 'name="objection" value="yes" checked' in refused.text
    empty = browser.post(POST, data={"csrf": token, "text": " \r\n "})
    assert empty.status_code == 400 and "Your view is empty" in empty.text
    signature = browser.post(POST, data={"csrf": token, "text": "ok", "signature": "s" * 201})
    assert signature.status_code == 400 and "Your signature is 201 characters long" in signature.text
    assert views(consulting_org) == before
    at_the_limit = "y" * (services.WEB_VIEW_MAX - 20) + "\r\n" * 20  # CRLF counts as one character
    accepted = browser.post(POST, data={"csrf": token, "text": at_the_limit}, follow_redirects=False)
    assert accepted.status_code == 303
    assert len(views(consulting_org)[-1].text) == services.WEB_VIEW_MAX


def test_a_view_on_a_version_not_in_consultation_is_refused_with_the_reason(
    consulting_client: Client, consulting_org: Org, idp: ReplayedProvider, consulting_emails: list[str]
) -> None:
    browser, token = signed_in(consulting_client, idp, consulting_emails[16])
    count = len(consulting_org.ws.governance.audit_entries(limit=10_000))
    closed = browser.post(f"/consultation/{PID}/1/comment", data={"csrf": token, "text": "late"})
    assert closed.status_code == 409
    assert f"Policy &#39;{PID}&#39; version 1 is not in consultation (it is active)" in closed.text
    unknown = browser.post(f"/consultation/{PID}/9/comment", data={"csrf": token, "text": "lost"})
    assert unknown.status_code == 409 and f"There is no policy &#39;{PID}&#39; version 9" in unknown.text
    assert browser.get(f"/consultation/{PID}/1").status_code == 409
    assert services.consultation(consulting_org.ws, PID, 1).views == ()
    assert len(consulting_org.ws.governance.audit_entries(limit=10_000)) == count


def test_a_view_is_shown_as_text_never_as_markup(
    consulting_client: Client, consulting_org: Org, idp: ReplayedProvider, consulting_emails: list[str]
) -> None:
    browser, token = signed_in(consulting_client, idp, consulting_emails[17])
    hostile = '<script>alert(1)</script><img src="https://evil.example/x">'
    form = {"csrf": token, "text": hostile, "signature": '"><b>bold</b>'}
    assert browser.post(POST, data=form, follow_redirects=False).status_code == 303
    with next_day():
        page = consulting_client().get(PAGE).text
    assert hostile not in page and "<script" not in page and "<b>bold" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
