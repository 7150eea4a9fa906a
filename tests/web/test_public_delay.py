"""The public pages hold back what was recorded today (UTC) until the day has closed (R22).

Anyone can reload ``/audit`` and ``/consultation`` every few seconds; if an entry, a count or a
hash changed the moment a worker objected or gave an "anonymous" view, that moment, matched with
the identity provider's sign-in log, would name them. So nothing on those pages may change while
the day is open, and everything appears the next day; a broken chain is reported at once.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from teamlens import services
from teamlens.services import audit as audit_service
from teamlens.services import lifecycle, transparency
from teamlens.web import create_app

from ..integration.flow_support import Org, build_org
from .conftest import PID, PROPOSED, next_day
from .replayed_idp import ReplayedProvider, sign_in
from .test_worker_sign_in import csrf_of, table_rows

Client = Callable[[], TestClient]
PROPOSAL = f"/consultation/{PID}/{PROPOSED}"
PUBLIC = ("/audit", "/consultation", PROPOSAL, "/register")
#: The generated page's own "generated at" minute: the only text allowed to change while the day is open.
_STAMP = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")


def snapshot(org: Org) -> dict[str, str]:
    """Each public page's full text as anyone sees it, the time it was rendered blanked."""
    public = TestClient(create_app(org.ws))
    return {path: _STAMP.sub("<time>", public.get(path).text) for path in PUBLIC}


def object_and_give_a_view(
    make: Client, idp: ReplayedProvider, objector: str, commenter: str, text: str
) -> str:
    """One worker objects to the processing and another gives an unsigned view; the confirmation page."""
    browser = make()
    assert sign_in(browser, idp, objector).status_code == 303
    objected = browser.post(
        "/me/object", data={"csrf": csrf_of(browser.get("/me").text)}, follow_redirects=False
    )
    assert objected.status_code == 303
    browser = make()
    assert sign_in(browser, idp, commenter).status_code == 303
    form = {"csrf": csrf_of(browser.get(PROPOSAL).text), "text": text}
    given = browser.post(f"{PROPOSAL}/comment", data=form, follow_redirects=False)
    assert given.status_code == 303
    confirmed = browser.get(given.headers["location"]).text
    assert "Your view is recorded. It will appear above" in confirmed and "tomorrow" in confirmed
    return confirmed


def test_a_view_and_an_objection_given_today_change_nothing_on_the_public_pages_until_tomorrow(
    consulting_client: Client, consulting_org: Org, idp: ReplayedProvider, consulting_emails: list[str]
) -> None:
    text = "Please publish quarterly, not monthly: our team is small."
    before = snapshot(consulting_org)
    confirmed = object_and_give_a_view(
        consulting_client, idp, consulting_emails[40], consulting_emails[41], text
    )
    assert text not in confirmed  # held back even on the page that confirms it
    objection = consulting_org.ws.governance.audit_entries(limit=2)[1]
    assert objection.action == "objection.record"
    assert snapshot(consulting_org) == before  # no entry, count, total or hash moved
    record = services.consultation(consulting_org.ws, PID, PROPOSED)
    with next_day():
        tomorrow = snapshot(consulting_org)
        rows = {row[0]: row for row in table_rows(tomorrow["/audit"], "audit")}
    # The day has closed: everything from it appears at once, with its counts and the record's hash.
    assert tomorrow != before
    assert rows[str(objection.seq)][3].startswith("objection.record")
    assert rows[str(objection.seq)][1] == f"{objection.at:%Y-%m-%d}"
    assert text in tomorrow[PROPOSAL] and text not in before[PROPOSAL]
    assert f"{len(record.views)} views received" in tomorrow[PROPOSAL]
    assert record.sha256 in tomorrow[PROPOSAL] and record.sha256 not in before[PROPOSAL]
    listed = table_rows(tomorrow["/consultation"], "proposals")
    assert listed[0][-1] == str(len(record.views))
    total = consulting_org.ws.governance.verify_audit().entries
    assert f"The log verifies: all {total} entries" in tomorrow["/audit"]


def test_teeth_without_the_delay_the_same_actions_change_the_public_pages_at_once(
    consulting_client: Client,
    consulting_org: Org,
    idp: ReplayedProvider,
    consulting_emails: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    far_future = dt.datetime(2999, 1, 1, tzinfo=dt.UTC)  # "today" never comes: nothing is held back
    monkeypatch.setattr(audit_service, "day_start", lambda ws: far_future)
    monkeypatch.setattr(lifecycle, "day_start", lambda ws: far_future)
    monkeypatch.setattr(transparency, "day_start", lambda ws: far_future)
    text = "Without the delay this view would show the moment it was given."
    before = snapshot(consulting_org)
    object_and_give_a_view(consulting_client, idp, consulting_emails[42], consulting_emails[43], text)
    after = snapshot(consulting_org)
    assert after != before
    assert all(after[path] != before[path] for path in PUBLIC)  # each page would give the moment away
    assert text in after[PROPOSAL]


def test_earlier_days_show_while_today_is_held_back_and_a_break_today_is_still_reported(
    tmp_path: Path,
) -> None:
    org = build_org(tmp_path, people=20, weeks=1)
    client = TestClient(create_app(org.ws))
    built = org.ws.governance.verify_audit().entries
    today = client.get("/audit").text
    assert table_rows(today, "audit") == [] and "The log verifies." in today
    assert "entries appear the day after they are recorded" in " ".join(today.lower().split())
    # Where the entries would be, the page says why there are none yet (not a bare "No entries").
    held = " ".join(today.split())
    assert "No entries recorded before today" in held and "today's appear here tomorrow" in held
    assert "0 entries recorded before" in " ".join(client.get("/register").text.split())
    with next_day():
        services.object_to_processing(org.ws, services.SignedInWorker("p" * 64))
        page = client.get("/audit").text
        seqs = [int(row[0]) for row in table_rows(page, "audit")]
        assert seqs == list(range(built, 0, -1))  # yesterday's entries, not today's objection
        assert f"The log verifies: all {built} entries" in page
        register = " ".join(client.get("/register").text.split())
        assert f"{built} entries recorded before {dt.datetime.now(dt.UTC):%Y-%m-%d}" in register
        engine = sa.create_engine(org.ws.settings.governance_url)
        with engine.begin() as conn:  # someone with database access rewrites today's entry
            conn.execute(sa.text("UPDATE audit_log SET details = '{}' WHERE seq = :s"), {"s": built + 1})
        engine.dispose()
        page = client.get("/audit").text
    assert "The log does not verify" in page and "The log verifies" not in page
    assert f"The first broken entry is\n  <strong>{built + 1}</strong>: entry {built + 1} was altered" in page
