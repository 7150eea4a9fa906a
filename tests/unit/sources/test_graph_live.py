"""Live Microsoft Graph pulls against a real loopback server: reports, calendar, Sent Items, privacy."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pyarrow as pa
import pytest

from teamlens.domain.vendor_formats import EMAIL_HEADER
from teamlens.errors import InputFormatError
from teamlens.sources import ReadContext, ReadReport
from teamlens.sources.graph_live import GraphLiveReader
from teamlens.sources.graph_metadata import CALENDAR_SELECT, MAIL_SELECT
from teamlens.sources.http_client import StaticTokenProvider

from .replay_server import ReplayServer, Reply, Seen
from .sources_testkit import quote
from .test_google_reports import ANA, BEN, context, expect

TOKEN = "eyJ0eXAi.graph-test-token.sig"  # noqa: S105 — fake values whose absence from errors is asserted
SECRET = "s3cr3t~client~value"  # noqa: S105
METRICS = frozenset(
    {
        "emails_sent",
        "emails_received",
        "after_hours_emails",
        "meetings_attended",
        "meeting_minutes",
        "long_meetings",
        "large_meetings",
        "recurring_meetings",
    }
)
Facts = dict[tuple[str, dt.date, int, str], int]


def event(
    start: str,
    minutes: int,
    *,
    show: str = "busy",
    attendees: tuple[str, ...] = ("colleague@example.org",),
    organizer: str = ANA,
    kind: str = "singleInstance",
    cancelled: bool = False,
    all_day: bool = False,
) -> dict[str, object]:
    """A calendarView event with the $select fields (and the id and etag Graph always adds)."""
    begin = dt.datetime.fromisoformat(start)

    def stamp(moment: dt.datetime) -> dict[str, str]:
        return {"dateTime": moment.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}

    return {
        "@odata.etag": 'W/"DwAAABYAAA=="',
        "id": "AAMkAGI2TGuLAAA=",
        "start": stamp(begin),
        "end": stamp(begin + dt.timedelta(minutes=minutes)),
        "isAllDay": all_day,
        "isCancelled": cancelled,
        "showAs": show,
        "type": kind,
        "seriesMasterId": "AAMkSeries=" if kind == "occurrence" else None,
        "isOnlineMeeting": True,
        "organizer": {"emailAddress": {"name": "Organiser Name", "address": organizer}},
        "attendees": [
            {
                "type": "required",
                "status": {"response": "accepted", "time": "2024-01-01T00:00:00Z"},
                "emailAddress": {"name": "Attendee Name", "address": a},
            }
            for a in attendees
        ],
    }


def sent(time: str, to: tuple[str, ...] = ("colleague@example.org",), sender: str = ANA) -> dict[str, object]:
    """A Sent Items message with the $select fields."""
    return {
        "@odata.etag": 'W/"CQAAABYAAA=="',
        "id": "AAMkAGI2THVSAAA=",
        "sentDateTime": time,
        "toRecipients": [{"emailAddress": {"name": "Recipient Name", "address": a}} for a in to],
        "ccRecipients": [],
        "bccRecipients": [],
        "from": {"emailAddress": {"name": "Sender", "address": sender}},
    }


def csv(rows: list[dict[str, str]]) -> str:
    header = EMAIL_HEADER.split(",")
    lines = [",".join(header)] + [",".join(quote(row.get(name, "")) for name in header) for row in rows]
    return "\ufeff" + "\r\n".join(lines) + "\r\n"


REPORT_ROWS = [
    {
        "Report Refresh Date": "2024-01-07",
        "User Principal Name": ANA,
        "Display Name": "Ana Example",
        "Send Count": "12",
        "Receive Count": "40",
        "Report Period": "7",
    },
    {
        "Report Refresh Date": "2024-01-07",
        "User Principal Name": BEN,
        "Display Name": "Ben Example",
        "Send Count": "0",
        "Receive Count": "3",
        "Report Period": "7",
    },
]
CALENDAR = {
    ANA: [
        event("2024-01-08T09:00:00", 30),
        event("2024-01-08T11:00:00", 90, kind="occurrence"),
        event("2024-01-09T09:00:00", 60, attendees=tuple(f"p{i}@example.org" for i in range(9))),
        event("2024-01-09T12:00:00", 30, show="tentative"),
        event("2024-01-09T13:00:00", 30, attendees=()),
        event("2024-01-10T09:00:00", 30, cancelled=True),
        event("2024-01-10T00:00:00", 1440, all_day=True),
        event("2024-01-07T09:00:00", 30),
        event("2024-01-15T09:00:00", 30),
    ],
    BEN: [event("2024-01-08T09:00:00", 45, organizer=BEN)],
}
SENT = {
    ANA: [
        sent("2024-01-08T10:00:00Z"),
        sent("2024-01-08T18:30:00Z"),
        sent("2024-01-13T10:00:00Z"),
        sent("2024-01-16T10:00:00Z"),
    ],
    BEN: [sent("2024-01-09T10:00:00Z", sender=BEN)],
}
EXPECTED_METADATA = expect(
    (ANA, "2024-01-08", "meetings_attended", 2),
    (ANA, "2024-01-08", "meeting_minutes", 120),
    (ANA, "2024-01-08", "long_meetings", 1),
    (ANA, "2024-01-08", "recurring_meetings", 1),
    (ANA, "2024-01-09", "meetings_attended", 1),
    (ANA, "2024-01-09", "meeting_minutes", 60),
    (ANA, "2024-01-09", "large_meetings", 1),
    (BEN, "2024-01-08", "meetings_attended", 1),
    (BEN, "2024-01-08", "meeting_minutes", 45),
    (ANA, "2024-01-08", "emails_sent", 2),
    (ANA, "2024-01-08", "after_hours_emails", 1),
    (ANA, "2024-01-13", "emails_sent", 1),
    (ANA, "2024-01-13", "after_hours_emails", 1),
    (BEN, "2024-01-09", "emails_sent", 1),
)


class FakeGraph:
    """Graph's reports, calendarView and Sent Items endpoints, two items a page."""

    def __init__(self) -> None:
        self.csv = csv(REPORT_ROWS)
        self.calendar: dict[str, list[dict[str, object]]] = {k: list(v) for k, v in CALENDAR.items()}
        self.sent: dict[str, list[dict[str, object]]] = {k: list(v) for k, v in SENT.items()}
        self.failures: list[Reply] = []
        self.link_query: dict[str, str] | None = None

    def __call__(self, seen: Seen, server: ReplayServer) -> Reply:
        if seen.path.startswith("/download/"):
            return Reply(200, self.csv)
        if seen.headers.get("authorization") != f"Bearer {TOKEN}":
            return Reply(401, {"error": {"code": "InvalidAuthenticationToken"}})
        if self.failures:
            return self.failures.pop(0)
        if seen.path.startswith("/v1.0/reports/"):
            return Reply(302, b"", {"Location": f"{server.url}/download/report.csv?sv=2020&sig=abc"})
        user, _, rest = seen.path.removeprefix("/v1.0/users/").partition("/")
        items = self.calendar.get(user, []) if rest == "calendar/calendarView" else self.sent.get(user, [])
        skip = int(seen.arg("$skip") or 0)
        body: dict[str, Any] = {
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#...",
            "value": items[skip : skip + 2],
        }
        if skip + 2 < len(items):
            query = self.link_query or {name: values[0] for name, values in seen.query.items()}
            body["@odata.nextLink"] = (
                f"{server.url}{seen.path}?{urlencode({**query, '$skip': str(skip + 2)})}"
            )
        return Reply(200, body)


@contextlib.contextmanager
def running_graph() -> Iterator[tuple[FakeGraph, ReplayServer]]:
    """A fake Graph on a loopback port (each test module wraps it in its own fixture)."""
    fake = FakeGraph()
    with ReplayServer(fake) as server:
        yield fake, server
    assert server.errors == []


@pytest.fixture
def graph() -> Iterator[tuple[FakeGraph, ReplayServer]]:
    with running_graph() as both:
        yield both


def connection(folder: Path, server: ReplayServer, **fields: object) -> Path:
    values: dict[str, object] = {
        "kind": "graph_live",
        "tenant_id": "contoso-tenant",
        "client_id": "app-1",
        "client_secret_env": "TEAMLENS_TEST_SECRET",
        "base_url": server.url,
        "start": "2024-01-08",
        "end": "2024-01-14",
        "users": [ANA, BEN],
    }
    values.update(fields)
    path = folder / "graph.toml"
    path.write_text("".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items() if v is not None))
    return path


READER = GraphLiveReader(tokens=lambda connection: StaticTokenProvider(TOKEN))


def pull(
    path: Path, ctx: ReadContext | None = None, reader: GraphLiveReader = READER
) -> tuple[Facts, ReadReport]:
    report = ReadReport()
    batches = list(reader.read(path, ctx or context(metrics=METRICS), report))
    facts: Facts = {}
    for row in pa.Table.from_batches(batches).to_pylist():
        assert row["source"] == "graph_live"
        key = (row["person"], row["day"], row["days"], row["metric"])
        assert key not in facts
        facts[key] = row["value"]
    return facts, report


def daily(facts: Facts) -> dict[tuple[str, dt.date, str], int]:
    assert all(days == 1 for _, _, days, _ in facts)
    return {(p, d, m): v for (p, d, _, m), v in facts.items()}


def test_calendar_and_sent_items_page_through_next_links_always_with_select(
    tmp_path: Path, graph: tuple[FakeGraph, ReplayServer]
) -> None:
    _, server = graph
    facts, report = pull(connection(tmp_path, server))
    assert daily(facts) == EXPECTED_METADATA
    calendar = [seen for seen in server.seen if seen.path.endswith("/calendar/calendarView")]
    mail = [seen for seen in server.seen if seen.path.endswith("/mailFolders('SentItems')/messages")]
    assert [seen.arg("$skip") for seen in calendar if f"/{ANA}/" in seen.path] == [None, "2", "4", "6", "8"]
    assert len(calendar) + len(mail) == len(server.seen)
    assert all(seen.arg("$select") == CALENDAR_SELECT for seen in calendar)
    assert all(seen.arg("$select") == MAIL_SELECT for seen in mail)
    assert all(seen.headers["prefer"] == 'outlook.timezone="UTC"' for seen in server.seen)
    assert calendar[0].arg("startDateTime") == "2024-01-07T00:00:00Z"
    assert calendar[0].arg("endDateTime") == "2024-01-16T00:00:00Z"
    assert (
        mail[0].arg("$filter")
        == "sentDateTime ge 2024-01-07T00:00:00Z and sentDateTime lt 2024-01-16T00:00:00Z"
    )
    assert report.people_seen == 2
    assert report.rows_read == report.rows_kept == 15  # every event and message read


@pytest.mark.parametrize("retry_after", ["1", "http-date"])
def test_429_is_retried_after_the_time_graph_asks(
    tmp_path: Path, graph: tuple[FakeGraph, ReplayServer], retry_after: str
) -> None:
    fake, server = graph
    if retry_after == "http-date":
        soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=3)
        retry_after = soon.strftime("%a, %d %b %Y %H:%M:%S GMT")
    fake.failures = [Reply(429, {"error": {"code": "TooManyRequests"}}, {"Retry-After": retry_after})]
    sleeps: list[float] = []
    reader = GraphLiveReader(tokens=READER.tokens, sleep=sleeps.append)
    facts, _ = pull(connection(tmp_path, server), reader=reader)
    assert daily(facts) == EXPECTED_METADATA
    assert len(sleeps) == 1
    assert 1.0 <= sleeps[0] <= 3.0
    assert server.seen[0].path == server.seen[1].path


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ({"$top": "2"}, "dropped \\$select"),
        (None, "leaves the Graph host"),
    ],
)
def test_next_links_that_drop_select_or_leave_graph_are_refused(
    tmp_path: Path, graph: tuple[FakeGraph, ReplayServer], query: dict[str, str] | None, problem: str
) -> None:
    fake, server = graph
    path = connection(tmp_path, server, metadata=["calendar"])
    if query is None:
        path = connection(
            tmp_path, server, metadata=["calendar"], base_url=server.url.replace("127.0.0.1", "localhost")
        )
    fake.link_query = query
    with pytest.raises(InputFormatError, match=problem) as caught:
        pull(path)
    assert ANA not in str(caught.value)
    assert "users[0]" in str(caught.value)


def test_exclusions_and_objectors_apply_before_counting_and_before_fetching(
    tmp_path: Path, graph: tuple[FakeGraph, ReplayServer]
) -> None:
    fake, server = graph
    fake.calendar[ANA] = [
        event("2024-01-08T09:00:00", 30, attendees=("colleague@example.org", "Rep@Union.example")),
        event("2024-01-08T10:00:00", 30, organizer="steward@example.org"),
        event("2024-01-08T11:00:00", 30),
    ]
    fake.sent[ANA] = [
        sent("2024-01-08T10:00:00Z", to=("x@branch.union.example",)),
        sent("2024-01-08T11:00:00Z"),
    ]
    steward, objector = "steward@example.org", "objector@example.org"
    ctx = context(metrics=METRICS, addresses=[steward], domains=["union.example"], objectors=[objector])
    facts, report = pull(connection(tmp_path, server, users=[ANA, steward, objector]), ctx)
    assert daily(facts) == expect(
        (ANA, "2024-01-08", "meetings_attended", 1),
        (ANA, "2024-01-08", "meeting_minutes", 30),
        (ANA, "2024-01-08", "emails_sent", 1),
    )
    assert all(ANA in seen.path for seen in server.seen)  # neither the steward nor the objector was fetched
    assert "1 mailboxes in users are excluded addresses and were not read" in report.notes
    assert "3 meetings and messages involving excluded addresses or domains were not counted" in report.notes


def test_recipients_are_the_distinct_to_cc_and_bcc_addresses_of_each_sent_message(
    tmp_path: Path, graph: tuple[FakeGraph, ReplayServer]
) -> None:
    fake, server = graph

    def addressed(*addresses: str | None) -> list[dict[str, object]]:
        return [{"emailAddress": {"name": "N", **({"address": a} if a else {})}} for a in addresses]

    fake.sent = {
        ANA: [
            # Bob in To and in Cc (other letters), Carol in Cc, Dan in Bcc: three recipients.
            sent("2024-01-08T10:00:00Z", to=("bob@example.org",))
            | {
                "ccRecipients": addressed("Bob@Example.org", "carol@example.org"),
                "bccRecipients": addressed("dan@example.org"),
            },
            # A recipient Graph gives without an address cannot be counted.
            sent("2024-01-08T11:00:00Z", to=("bob@example.org",)) | {"ccRecipients": addressed(None)},
            # Union mail in Bcc is dropped whole (R18).
            sent("2024-01-09T11:00:00Z", to=("bob@example.org", "eve@example.org"))
            | {"bccRecipients": addressed("rep@union.example")},
        ],
        BEN: [sent("2024-01-09T10:00:00Z", to=(), sender=BEN)],
    }
    ctx = context(metrics=frozenset({"emails_sent", "email_recipients"}), domains=["union.example"])
    facts, _ = pull(connection(tmp_path, server, metadata=["mail"]), ctx)
    assert daily(facts) == expect(
        (ANA, "2024-01-08", "emails_sent", 2),
        (ANA, "2024-01-08", "email_recipients", 3 + 1),
        (BEN, "2024-01-09", "emails_sent", 1),
    )
    mail = [seen for seen in server.seen if seen.path.endswith("/mailFolders('SentItems')/messages")]
    assert mail
    for seen in mail:
        fields = set(seen.arg("$select").split(","))
        assert {"toRecipients", "ccRecipients", "bccRecipients"} <= fields
        assert not {"subject", "body", "bodyPreview", "internetMessageHeaders"} & fields


def test_the_canary_never_leaves_the_reader(
    tmp_path: Path,
    graph: tuple[FakeGraph, ReplayServer],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake, server = graph
    canary = "canary-77aa01@example.org"
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    caplog.set_level(logging.DEBUG)
    fake.csv = csv([{**REPORT_ROWS[0], "User Principal Name": canary, "Display Name": canary}])
    meeting = event("2024-01-08T09:00:00", 30, organizer=canary, attendees=(canary,))
    meeting["id"] = meeting["@odata.etag"] = meeting["seriesMasterId"] = canary
    meeting["organizer"] = {"emailAddress": {"name": canary, "address": canary}}
    fake.calendar = {canary: [meeting]}
    fake.sent = {canary: [sent("2024-01-08T10:00:00Z", to=(canary,), sender=canary) | {"id": canary}]}
    folder = tmp_path / "conn"
    folder.mkdir()
    path = connection(folder, server, users=[canary], reports=["getEmailActivityUserDetail"])
    facts, report = pull(path)
    assert len(facts) == 5  # the seriesMasterId makes it a recurring meeting too
    assert all(canary not in key[0] for key in facts)
    fake.calendar[canary].append(event("2024-01-08T09:00:00", 30) | {"start": {"dateTime": canary}})
    with pytest.raises(InputFormatError) as caught:
        pull(path)
    shown = " ".join([*report.notes, str(caught.value), caught.value.hint, caplog.text])
    assert canary not in shown
    assert TOKEN not in shown
    for file in tmp_path.rglob("*"):
        assert file == path or not file.is_file() or canary.encode() not in file.read_bytes(), file
