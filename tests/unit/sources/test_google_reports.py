"""Saved Google Workspace Reports API activities: every layout, every counted event, every error."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pytest

from teamlens.domain import FACT_SCHEMA, Exclusions, WorkingHours
from teamlens.sources import ReadContext, ReadReport, detect_source, get_source, json_stream
from teamlens.sources.google_reports import GOOGLE_REPORTS

from .sources_testkit import pseudonymiser

METRICS = frozenset(
    {
        "emails_sent",
        "emails_received",
        "emails_read",
        "after_hours_emails",
        "meeting_minutes",
        "meetings_attended",
        "chat_messages",
    }
)
UTC_HOURS = WorkingHours(timezone="UTC")
Facts = dict[tuple[str, dt.date, str], int]


def activity(
    app: str, email: str | None, time: str, events: list[dict[str, object]], caller: str | None = "USER"
) -> dict[str, object]:
    """One Reports API activity as the API returns it."""
    actor: dict[str, object] = {"profileId": "117927411761819390794"}
    if caller is not None:
        actor["callerType"] = caller
    if email is not None:
        actor["email"] = email
    return {
        "kind": "admin#reports#activity",
        "etag": '"x/y"',
        "id": {
            "time": time,
            "uniqueQualifier": "6127585580824196360",
            "applicationName": app,
            "customerId": "C03v4gz0f",
        },
        "actor": actor,
        "ipAddress": "203.0.113.9",
        "events": events,
    }


def gmail(
    email: str,
    time: str,
    kind: int,
    sender: str = "someone@partner.example",
    to: Iterable[str] = ("colleague@example.org",),
) -> dict[str, object]:
    """A gmail ``delivery`` activity with the nested message metadata (subject included, as Google sends)."""
    message = [
        {"name": "rfc2822_message_id", "value": "<CAF1234@mail.gmail.com>"},
        {"name": "subject", "value": "Quarterly plan"},
        {
            "name": "source",
            "messageValue": {
                "parameter": [
                    {"name": "address", "value": sender},
                    {"name": "from_header_address", "value": sender},
                ]
            },
        },
        {
            "name": "destination",
            "multiMessageValue": [
                {
                    "parameter": [
                        {"name": "address", "value": address},
                        {"name": "service", "value": "gmail-ui"},
                    ]
                }
                for address in to
            ],
        },
    ]
    return activity(
        "gmail",
        email,
        time,
        [
            {
                "type": "delivery_type",
                "name": "delivery",
                "parameters": [
                    {
                        "name": "event_info",
                        "messageValue": {
                            "parameter": [
                                {"name": "mail_event_type", "intValue": str(kind)},
                                {"name": "success", "boolValue": True},
                            ]
                        },
                    },
                    {"name": "message", "messageValue": {"parameter": message}},
                ],
            }
        ],
    )


def meet(
    email: str,
    time: str,
    seconds: int,
    conference: str = "abc-defg-hij",
    organizer: str = "organiser@example.org",
) -> dict[str, object]:
    """A Meet ``call_ended`` activity."""
    return activity(
        "meet",
        email,
        time,
        [
            {
                "type": "call",
                "name": "call_ended",
                "parameters": [
                    {"name": "duration_seconds", "intValue": str(seconds)},
                    {"name": "device_type", "value": "web"},
                    {"name": "organizer_email", "value": organizer},
                    {"name": "conference_id", "value": conference},
                    {"name": "is_external", "boolValue": False},
                ],
            }
        ],
    )


def chat(email: str, time: str) -> dict[str, object]:
    """A Chat ``message_posted`` activity."""
    return activity(
        "chat",
        email,
        time,
        [
            {
                "type": "user_action",
                "name": "message_posted",
                "parameters": [
                    {"name": "room_id", "value": "AAAAxyz"},
                    {"name": "message_id", "value": "m1"},
                ],
            }
        ],
    )


def page(items: list[dict[str, object]], token: str | None = None) -> dict[str, object]:
    """One ``activities.list`` response page."""
    body: dict[str, object] = {"kind": "admin#reports#activities", "etag": '"e"', "items": items}
    if token:
        body["nextPageToken"] = token
    return body


def context(
    *,
    metrics: frozenset[str] = METRICS,
    objectors: Iterable[str] = (),
    addresses: Iterable[str] = (),
    domains: Iterable[str] = (),
    zones: dict[str, str] | None = None,
    batch_rows: int = 65_536,
    hours: WorkingHours = UTC_HOURS,
) -> ReadContext:
    """A read context with exclusions and per-person zones given by plain address (pseudonymised here)."""
    pseud = pseudonymiser()
    return ReadContext(
        pseudonymise=pseud,
        metrics=metrics,
        excluded_persons=frozenset(pseud(o) for o in objectors),
        exclusions=Exclusions(tuple(addresses), tuple(domains)),
        working_hours=hours,
        batch_rows=batch_rows,
        person_working_hours={pseud(e): WorkingHours(timezone=z) for e, z in (zones or {}).items()},
    )


def as_facts(batches: Iterable[pa.RecordBatch], source: str) -> Facts:
    """Facts as {(person, day, metric): value}, checking schema, source, days and uniqueness."""
    batches = list(batches)
    table = pa.Table.from_batches(batches, schema=FACT_SCHEMA)
    facts: Facts = {}
    for row in table.to_pylist():
        key = (row["person"], row["day"], row["metric"])
        assert key not in facts, "a file's facts must be unique per key"
        assert row["source"] == source
        assert row["days"] == 1
        assert row["value"] > 0
        facts[key] = row["value"]
    return facts


def expect(*rows: tuple[str, str, str, int]) -> Facts:
    """Expected facts from (address, ISO day, metric, value)."""
    pseud = pseudonymiser()
    return {(pseud(a), dt.date.fromisoformat(d), m): v for a, d, m, v in rows}


def read(path: Path, ctx: ReadContext | None = None) -> tuple[Facts, ReadReport]:
    report = ReadReport()
    return as_facts(GOOGLE_REPORTS.read(path, ctx or context(), report), "google_reports"), report


ANA, BEN = "ana@example.org", "ben@example.org"
MIXED = [
    gmail(ANA, "2024-01-08T10:00:00.000Z", 1),
    gmail(ANA, "2024-01-08T19:00:00.000Z", 1),
    gmail(ANA, "2024-01-08T11:00:00.000Z", 2),
    gmail(ANA, "2024-01-08T11:05:00.000Z", 7),
    gmail(ANA, "2024-01-08T11:06:00.000Z", 3),
    meet(BEN, "2024-01-09T10:30:00.000Z", 1799),
    meet(BEN, "2024-01-09T10:45:00.000Z", 600),
    meet(BEN, "2024-01-09T15:00:00.000Z", 45, conference="xyz-abcd-efg"),
    chat(BEN, "2024-01-09T12:00:00Z"),
    chat(BEN, "2024-01-09T12:01:00Z"),
]
MIXED_FACTS = expect(
    (ANA, "2024-01-08", "emails_sent", 2),
    (ANA, "2024-01-08", "after_hours_emails", 1),
    (ANA, "2024-01-08", "emails_received", 1),
    (ANA, "2024-01-08", "emails_read", 1),
    # 1799 + 600 + 45 s = 40.7 min → 41; the rejoin of abc-defg-hij is not a second meeting.
    (BEN, "2024-01-09", "meeting_minutes", 41),
    (BEN, "2024-01-09", "meetings_attended", 2),
    (BEN, "2024-01-09", "chat_messages", 2),
)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("layout", ["page", "array", "lines_of_pages", "lines_of_activities", "bom_pretty"])
def test_every_layout_gives_the_same_facts(tmp_path: Path, layout: str) -> None:
    first, second = MIXED[:4], MIXED[4:]
    text = {
        "page": json.dumps(page(MIXED)),
        "array": json.dumps([page(first, "t1"), page(second)]),
        "lines_of_pages": json.dumps(page(first, "t1")) + "\n" + json.dumps(page(second)) + "\n",
        "lines_of_activities": "\n".join(json.dumps(item) for item in MIXED),
        "bom_pretty": "\ufeff" + json.dumps([page(first), page(second)], indent=2),
    }[layout]
    facts, report = read(write(tmp_path / "a.json", text))
    assert facts == MIXED_FACTS
    assert report.rows_read == report.rows_kept == len(MIXED)
    assert report.people_seen == 2
    assert report.facts == len(MIXED_FACTS)


def test_values_split_across_reads_are_decoded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json_stream, "_FIRST_READ", 7)
    path = write(tmp_path / "a.json", json.dumps([page(MIXED[:3], "t"), page(MIXED[3:])], indent=1))
    assert read(path)[0] == MIXED_FACTS


def test_only_policy_metrics_and_batches_of_the_context_size(tmp_path: Path) -> None:
    path = write(tmp_path / "a.json", json.dumps(page(MIXED)))
    report = ReadReport()
    batches = list(
        GOOGLE_REPORTS.read(
            path, context(metrics=frozenset({"emails_sent", "chat_messages"}), batch_rows=1), report
        )
    )
    assert [batch.num_rows for batch in batches] == [1, 1]
    assert as_facts(batches, "google_reports") == expect(
        (ANA, "2024-01-08", "emails_sent", 2), (BEN, "2024-01-09", "chat_messages", 2)
    )


def test_days_are_local_to_each_person(tmp_path: Path) -> None:
    items = [
        chat(ANA, "2024-01-10T23:30:00Z"),
        chat(BEN, "2024-01-10T23:30:00Z"),
        gmail(ANA, "2024-01-10T16:00:00Z", 1),
        gmail(BEN, "2024-01-10T16:00:00Z", 1),
    ]
    facts, _ = read(write(tmp_path / "a.json", json.dumps(page(items))), context(zones={ANA: "Asia/Tokyo"}))
    # 16:00 UTC is within London-style hours in UTC, but 01:00 the next day in Tokyo.
    assert facts == expect(
        (ANA, "2024-01-11", "chat_messages", 1),
        (BEN, "2024-01-10", "chat_messages", 1),
        (ANA, "2024-01-11", "emails_sent", 1),
        (ANA, "2024-01-11", "after_hours_emails", 1),
        (BEN, "2024-01-10", "emails_sent", 1),
    )


def test_excluded_addresses_and_domains_are_dropped_before_counting(tmp_path: Path) -> None:
    items = [
        gmail(ANA, "2024-01-08T10:00:00Z", 1, to=["rep@union.example"]),
        gmail(ANA, "2024-01-08T10:01:00Z", 2, sender="News@Branch.Union.example"),
        gmail(ANA, "2024-01-08T10:02:00Z", 1, to=["colleague@example.org", "Steward@Example.org"]),
        gmail(ANA, "2024-01-08T10:03:00Z", 1),
        meet(ANA, "2024-01-08T11:00:00Z", 600, organizer="rep@union.example"),
        chat("steward@example.org", "2024-01-08T12:00:00Z"),
    ]
    ctx = context(addresses=["steward@example.org"], domains=["union.example"])
    facts, report = read(write(tmp_path / "a.json", json.dumps(page(items))), ctx)
    assert facts == expect((ANA, "2024-01-08", "emails_sent", 1))
    assert "4 messages and calls involving excluded addresses or domains were not counted" in report.notes
    assert "1 activities of excluded addresses (policy exclusions) were skipped" in report.notes


def test_non_user_actors_objectors_and_calendar_are_not_counted(tmp_path: Path) -> None:
    items = [
        chat(ANA, "2024-01-08T12:00:00Z"),
        activity(
            "chat",
            "robot@example.org",
            "2024-01-08T12:00:00Z",
            [{"name": "message_posted", "parameters": []}],
            caller="KEY",
        ),
        activity("chat", None, "2024-01-08T12:00:00Z", [{"name": "message_posted"}]),
        activity("chat", BEN, "2024-01-08T12:00:00Z", [{"name": "message_posted"}], caller=None),
        chat("objector@example.org", "2024-01-08T12:00:00Z"),
        activity(
            "calendar",
            ANA,
            "2024-01-08T12:00:00Z",
            [
                {
                    "name": "create_event",
                    "parameters": [{"name": "event_title", "value": "Private appointment"}],
                }
            ],
        ),
        activity("drive", ANA, "2024-01-08T12:00:00Z", [{"name": "edit"}]),
    ]
    facts, report = read(
        write(tmp_path / "a.json", json.dumps(page(items))), context(objectors=["objector@example.org"])
    )
    assert facts == expect((ANA, "2024-01-08", "chat_messages", 1), (BEN, "2024-01-08", "chat_messages", 1))
    assert report.rows_read == 7
    assert report.rows_kept == 4
    assert report.people_seen == 2
    assert any(note.startswith("2 activities without a user actor") for note in report.notes)
    assert any(note.startswith("1 calendar activities were read but not counted") for note in report.notes)
    assert any(note.startswith("1 activities of applications other than") for note in report.notes)


def test_a_truncated_export_is_noted(tmp_path: Path) -> None:
    _, report = read(write(tmp_path / "a.json", json.dumps(page(MIXED[:1], "more"))))
    assert any("nextPageToken" in note for note in report.notes)
    _, report = read(write(tmp_path / "b.json", json.dumps(page(MIXED[:1]))))
    assert report.notes == []


def test_an_empty_page_gives_no_facts(tmp_path: Path) -> None:
    facts, report = read(write(tmp_path / "a.json", '{"kind": "admin#reports#activities", "etag": "e"}'))
    assert facts == {}
    assert report.rows_read == 0


def test_sniff_and_registration(tmp_path: Path) -> None:
    saved = write(tmp_path / "a.json", json.dumps(page(MIXED)))
    lines = write(tmp_path / "b.jsonl", "\n".join(json.dumps(item) for item in MIXED))
    key = write(tmp_path / "key.json", json.dumps({"type": "service_account", "private_key": "x"}))
    csv = write(tmp_path / "c.csv", "Report Refresh Date,User Principal Name\n")
    assert GOOGLE_REPORTS.sniff(saved)
    assert GOOGLE_REPORTS.sniff(lines)
    assert not GOOGLE_REPORTS.sniff(key)
    assert not GOOGLE_REPORTS.sniff(csv)
    assert not GOOGLE_REPORTS.sniff(tmp_path / "missing.json")
    assert detect_source(saved) is get_source("google_reports")
