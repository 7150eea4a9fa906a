"""The live connectors feed the combined metrics: released means equal the definitions from the same events.

The events of ``activity_fixture`` are served by loopback fakes of Microsoft Graph (each person's
``calendarView`` and Sent Items, in the shapes ``test_graph_live`` uses) and of the Google
Reports API (gmail ``delivery`` and chat ``message_posted`` activities), pulled through
connection files by ``teamlens ingest`` next to the HR directory, under a policy with only the
combined metrics, and released for the organisation week by week in exact mode. Each released
mean must equal the fixture's minute-by-minute computation from what that service shows: Graph
gives meetings and mail sent (no chat, no mail received); the Reports API gives mail sent and
received and chat (no meetings). A teeth case pulls Graph with the timeline switched off.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from teamlens import services
from teamlens.domain.metrics import METRICS
from teamlens.services.workspace import Workspace
from teamlens.sources import activity as activity_module

from ..support.exact import exact_mode
from ..unit.sources.replay_server import ReplayServer, Reply, Seen
from ..unit.sources.test_graph_live import event, sent
from .activity_fixture import (
    CALENDAR_DAYS,
    CHATS,
    CHECKED,
    EMAILS,
    MEETINGS,
    PEOPLE,
    WEEKS,
    Events,
    combined_policy,
    expected_week_totals,
    write_exports,
)
from .canary_live import FakeGoogle, service_account_key, toml
from .flow_support import approve_policy, make_workspace

GRAPH_TOKEN = "eyJ0eXAi.activity-graph-token.sig"  # noqa: S105 — a fake token for the loopback Graph
SECRET_ENV = "TEAMLENS_ACTIVITY_GRAPH_SECRET"  # noqa: S105
FIRST, LAST = CALENDAR_DAYS


def _address(name: str) -> str:
    return PEOPLE[name].email if name in PEOPLE else name


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


def graph_items() -> tuple[dict[str, list[dict[str, object]]], dict[str, list[dict[str, object]]]]:
    """Each person's calendarView events and Sent Items, from the fixture's meetings and emails."""
    calendars: dict[str, list[dict[str, object]]] = {p.email: [] for p in PEOPLE.values()}
    for meeting in MEETINGS:
        minutes = int((meeting.end - meeting.start).total_seconds() // 60)
        item = event(
            _utc(meeting.start),
            minutes,
            organizer=_address(meeting.people[0]),
            attendees=tuple(_address(p) for p in meeting.people[1:]),
            kind="occurrence" if meeting.recurring else "singleInstance",
        )
        for name in meeting.people:
            if name in PEOPLE:
                calendars[PEOPLE[name].email].append(item)
    mail: dict[str, list[dict[str, object]]] = {p.email: [] for p in PEOPLE.values()}
    for number, (sender, when, to) in enumerate(EMAILS):
        message = sent(
            when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            to=tuple(_address(p) for p in to),
            sender=_address(sender),
        )
        mail[_address(sender)].append({**message, "internetMessageId": f"<m{number}@corp.example>"})
    return calendars, mail


def graph_handler(seen: Seen, _: ReplayServer) -> Reply:
    """Graph's calendarView and Sent Items of the fixture's people, one page each."""
    if seen.headers.get("authorization") != f"Bearer {GRAPH_TOKEN}":
        return Reply(401, {"error": {"code": "InvalidAuthenticationToken"}})
    calendars, mail = graph_items()
    user, _, rest = seen.path.removeprefix("/v1.0/users/").partition("/")
    items = calendars.get(user, []) if rest == "calendar/calendarView" else mail.get(user, [])
    return Reply(200, {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#...", "value": items})


def google_activity(
    email: str, app: str, when: dt.datetime, name: str, parameters: list[Any]
) -> dict[str, Any]:
    """One Reports API activity of ``email`` at ``when``."""
    return {
        "kind": "admin#reports#activity",
        "id": {
            "time": when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "uniqueQualifier": "1",
            "applicationName": app,
            "customerId": "C03v4gz0f",
        },
        "actor": {"callerType": "USER", "email": email, "profileId": "1"},
        "events": [{"type": "user_action", "name": name, "parameters": parameters}],
    }


def google_activities() -> list[dict[str, Any]]:
    """A gmail delivery for each email sent and each copy received, and a chat post for each message."""
    out = []
    for sender, when, to in EMAILS:
        for who, kind in [(sender, 1), *((p, 2) for p in to)]:
            info = {
                "name": "event_info",
                "messageValue": {"parameter": [{"name": "mail_event_type", "intValue": str(kind)}]},
            }
            out.append(google_activity(_address(who), "gmail", when, "delivery", [info]))
    for poster, when in CHATS:
        out.append(google_activity(_address(poster), "chat", when, "message_posted", []))
    return out


@pytest.fixture
def graph(monkeypatch: pytest.MonkeyPatch) -> Iterator[ReplayServer]:
    class FakeConfidentialClient:
        """MSAL's client-credentials app, issuing the loopback Graph's token without a network call."""

        def __init__(self, client_id: str, **_: object) -> None:
            pass

        def acquire_token_for_client(self, scopes: list[str]) -> dict[str, Any]:
            return {"access_token": GRAPH_TOKEN, "token_type": "Bearer", "expires_in": 3600}

    monkeypatch.setattr("msal.ConfidentialClientApplication", FakeConfidentialClient)
    monkeypatch.setenv(SECRET_ENV, "activity~client~secret")
    with ReplayServer(graph_handler) as server:
        yield server
    assert server.errors == []


def _ingest_and_release(tmp_path: Path, sources: str, connection: Path) -> dict[tuple[str, str], float]:
    ws: Workspace = make_workspace(tmp_path)
    services.init(ws)
    approve_policy(ws, combined_policy(sources), tmp_path / "policy.toml")
    write_exports(tmp_path / "exports")
    summary = services.ingest(ws, [tmp_path / "exports" / "directory.csv", connection], actor="admin")
    assert [outcome.status for outcome in summary.files].count("ingested") >= 2
    windows = [f"2026-W{monday.isocalendar().week:02d}" for monday in WEEKS]
    with exact_mode():
        table = services.release(ws, "organisation-weekly", windows, actor="analyst")
    return {(cell.window, cell.metric): cell.value for cell in table.cells if cell.group == "Organisation"}


def _assert_equal_to_definitions(released: dict[tuple[str, str], float], events: Events) -> int:
    """Every released mean equals the definition; returns how many were non-zero."""
    expected = expected_week_totals(events)
    checked = 0
    for monday in WEEKS:
        window = f"2026-W{monday.isocalendar().week:02d}"
        for name in CHECKED:
            want = expected.get((monday, name), 0) / len(PEOPLE) / METRICS[name].display_divisor
            assert released[(window, name)] == pytest.approx(want, abs=1e-9), (window, name)
            checked += want > 0
    return checked


def _graph_connection(folder: Path, url: str) -> Path:
    return toml(
        folder / "graph" / "graph.toml",
        {
            "kind": "graph_live",
            "tenant_id": "contoso-tenant",
            "client_id": "app-1",
            "client_secret_env": SECRET_ENV,
            "base_url": url,
            "start": FIRST.isoformat(),
            "end": LAST.isoformat(),
            "users": [person.email for person in PEOPLE.values()],
        },
    )


def test_graph_calendars_and_sent_items_feed_the_combined_metrics(
    tmp_path: Path, graph: ReplayServer
) -> None:
    released = _ingest_and_release(
        tmp_path, '"hr_directory_csv", "graph_live"', _graph_connection(tmp_path, graph.url)
    )
    # Meetings and mail sent, no chat and no mail received: focus, 1:1s, double bookings… all show.
    checked = _assert_equal_to_definitions(released, Events(chats=(), received=False))
    assert checked >= len(CHECKED)


def test_teeth_graph_without_the_timeline_releases_other_numbers(
    tmp_path: Path, graph: ReplayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The pull as it was before: nothing recorded, so the combined metrics cannot match.
    monkeypatch.setattr(activity_module.Activity, "record_meeting", lambda self, person, meeting: None)
    released = _ingest_and_release(
        tmp_path, '"hr_directory_csv", "graph_live"', _graph_connection(tmp_path, graph.url)
    )
    with pytest.raises(AssertionError):
        _assert_equal_to_definitions(released, Events(chats=(), received=False))


def test_google_mail_and_chat_feed_the_combined_metrics(tmp_path: Path) -> None:
    key = tmp_path / "keys" / "reports-sa.json"
    key.parent.mkdir()
    key.write_text(service_account_key())
    with ReplayServer(FakeGoogle(google_activities())) as server:
        connection = toml(
            tmp_path / "google" / "google.toml",
            {
                "kind": "google_reports_live",
                "applications": ["gmail", "chat"],
                "start": FIRST.isoformat(),
                "end": LAST.isoformat(),
                "service_account_key": str(key),
                "subject": "reports-admin@example.org",
                "base_url": server.url,
                "token_uri": f"{server.url}/token",
                "max_results": 3,
            },
        )
        released = _ingest_and_release(tmp_path, '"hr_directory_csv", "google_reports_live"', connection)
        assert server.errors == []
    checked = _assert_equal_to_definitions(released, Events(meetings=()))
    assert checked >= 8


def test_fixture_sanity() -> None:
    # The Graph rendering keeps every meeting once per attending person, and every email once.
    calendars, mail = graph_items()
    assert sum(len(items) for items in calendars.values()) == sum(
        sum(name in PEOPLE for name in meeting.people) for meeting in MEETINGS
    )
    assert sum(len(items) for items in mail.values()) == len(EMAILS)
