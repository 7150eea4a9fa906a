"""Live Reports API pulls against a real loopback server: auth, paging, windows, retries, restarts."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import logging
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from teamlens.errors import ConfigError, InputFormatError
from teamlens.sources import ReadContext, ReadReport, detect_source
from teamlens.sources.google_live import GOOGLE_LIVE, GoogleLiveReader
from teamlens.sources.google_reports import GOOGLE_REPORTS

from .replay_server import ReplayServer, Reply, Seen
from .test_google_reports import ANA, BEN, Facts, as_facts, chat, context, gmail, meet, page

TOKEN = "ya29.c.TEST-ACCESS-TOKEN-93d1"  # noqa: S105 — a fake token the test server issues
SUBJECT = "reports-admin@example.org"
PREFIX = "/admin/reports/v1/activity/users/all/applications/"
EVENTS = {"gmail": "delivery", "meet": "call_ended", "chat": "message_posted"}
ACTIVITIES = [
    gmail(ANA, "2024-01-08T10:00:00.000Z", 1),
    gmail(ANA, "2024-01-09T20:00:00.000Z", 1),
    gmail(BEN, "2024-01-10T09:00:00.000Z", 2),
    *(meet(BEN, f"2024-01-{day:02d}T10:00:00.000Z", 1800, conference=f"c-{day}") for day in range(8, 13)),
    chat(BEN, "2024-01-14T23:30:00.000Z"),
    chat(BEN, "2024-01-11T12:00:00.000Z"),
]
#: Fetched through the one-day margins but outside 2024-01-08..14 in the actor's zone: never counted.
OUTSIDE = [
    chat(ANA, "2024-01-07T12:00:00.000Z"),
    chat(ANA, "2024-01-14T23:30:00.000Z"),
    gmail(ANA, "2024-01-15T01:00:00.000Z", 1),
]


@pytest.fixture(scope="module")
def private_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def when(item: dict[str, object]) -> dt.datetime:
    return dt.datetime.fromisoformat(item["id"]["time"])  # type: ignore[index]


class FakeReports:
    """The Reports API and Google's token endpoint, answering from a list of activities."""

    def __init__(self, activities: list[dict[str, object]]) -> None:
        self.activities = activities
        self.hooks: list[Callable[[Seen], Reply | None]] = []

    @staticmethod
    def _matches(item: dict[str, Any], app: str, event: str | None) -> bool:
        return bool(item["id"]["applicationName"] == app and item["events"][0]["name"] == event)

    def __call__(self, seen: Seen, server: ReplayServer) -> Reply:
        if seen.path == "/token":
            assert b"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer" in seen.body
            return Reply(200, {"access_token": TOKEN, "expires_in": 3600, "token_type": "Bearer"})
        for hook in self.hooks:
            reply = hook(seen)
            if reply is not None:
                return reply
        if seen.headers.get("authorization") != f"Bearer {TOKEN}" or not seen.path.startswith(PREFIX):
            return Reply(401, {"error": {"code": 401}})
        app = seen.path.removeprefix(PREFIX)
        start, end = (dt.datetime.fromisoformat(seen.arg(name) or "") for name in ("startTime", "endTime"))
        if app == "gmail" and end - start > dt.timedelta(days=30):
            return Reply(400, {"error": {"message": "Start time and end time should be within 30 days"}})
        wanted = [item for item in self.activities if self._matches(item, app, seen.arg("eventName"))]
        items = sorted((item for item in wanted if start <= when(item) <= end), key=when, reverse=True)
        size, offset = int(seen.arg("maxResults") or 1000), int((seen.arg("pageToken") or "p0")[1:])
        more = offset + size < len(items)
        return Reply(200, page(items[offset : offset + size], f"p{offset + size}" if more else None))


@pytest.fixture
def api() -> Iterator[tuple[FakeReports, ReplayServer]]:
    fake = FakeReports(ACTIVITIES + OUTSIDE)
    with ReplayServer(fake) as server:
        yield fake, server
    assert server.errors == []


def connection(folder: Path, server: ReplayServer, private_key: str, **fields: object) -> Path:
    key = {
        "type": "service_account",
        "project_id": "p",
        "private_key_id": "k1",
        "private_key": private_key,
        "client_email": "reports@p.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    (folder / "sa.json").write_text(json.dumps(key))
    values: dict[str, object] = {
        "kind": "google_reports_live",
        "applications": ["gmail", "meet", "chat"],
        "start": "2024-01-08",
        "end": "2024-01-14",
        "service_account_key": "sa.json",
        "subject": SUBJECT,
        "base_url": server.url,
        "token_uri": f"{server.url}/token",
        "max_results": 2,
    }
    values.update(fields)
    path = folder / "google.toml"
    path.write_text(
        "".join(f"{name} = {json.dumps(value)}\n" for name, value in values.items() if value is not None)
    )
    return path


def pull(
    path: Path, ctx: ReadContext | None = None, reader: GoogleLiveReader = GOOGLE_LIVE
) -> tuple[Facts, ReadReport]:
    report = ReadReport()
    return as_facts(
        reader.read(path, ctx or context(zones={ANA: "Asia/Tokyo"}), report), "google_reports_live"
    ), report


def expected(tmp_path: Path) -> Facts:
    """What the saved-file reader counts for the in-range activities, relabelled: the two must agree."""
    saved = tmp_path / "expected.json"
    saved.write_text(json.dumps(page(ACTIVITIES)))
    report = ReadReport()
    facts = as_facts(GOOGLE_REPORTS.read(saved, context(zones={ANA: "Asia/Tokyo"}), report), "google_reports")
    saved.unlink()
    return facts


def api_requests(server: ReplayServer, app: str = "") -> list[Seen]:
    return server.paths(PREFIX + app)


def test_a_pull_pages_through_each_application_and_counts_like_a_saved_file(
    tmp_path: Path, api: tuple[FakeReports, ReplayServer], private_key: str
) -> None:
    _, server = api
    facts, report = pull(connection(tmp_path, server, private_key))
    assert facts == expected(tmp_path)
    assert len(server.paths("/token")) == 1
    assert all(seen.headers["authorization"] == f"Bearer {TOKEN}" for seen in api_requests(server))
    meet_pages = [seen.arg("pageToken") for seen in api_requests(server, "meet")]
    assert meet_pages == [None, "p2", "p4"]  # five calls, two per page
    assert {seen.arg("eventName") for seen in api_requests(server, "gmail")} == {"delivery"}
    assert report.people_seen == 2
    assert not (tmp_path / ".google.toml.state.json").exists()


def test_429_with_retry_after_is_waited_out(
    tmp_path: Path, api: tuple[FakeReports, ReplayServer], private_key: str
) -> None:
    fake, server = api
    fake.hooks.append(
        lambda seen: (
            Reply(429, {"error": {"code": 429}}, {"Retry-After": "1"})
            if len(api_requests(server)) == 1
            else None
        )
    )
    sleeps: list[float] = []
    facts, _ = pull(connection(tmp_path, server, private_key), reader=GoogleLiveReader(sleep=sleeps.append))
    assert sleeps == [1.0]
    assert facts == expected(tmp_path)
    first, again = api_requests(server)[:2]
    assert (first.path, first.query) == (again.path, again.query)


def test_gmail_is_asked_for_windows_of_at_most_30_days(
    tmp_path: Path, api: tuple[FakeReports, ReplayServer], private_key: str
) -> None:
    fake, server = api
    edges = [
        "2024-01-30T23:59:59.999Z",
        "2024-01-31T00:00:00.000Z",
        "2024-03-01T00:00:00.000Z",
        "2024-03-15T12:00:00.000Z",
    ]
    fake.activities = [gmail(BEN, moment, 1) for moment in edges]
    facts, _ = pull(
        connection(
            tmp_path, server, private_key, applications=["gmail"], start="2024-01-01", end="2024-03-15"
        ),
        context(metrics=frozenset({"emails_sent"})),
    )
    windows = [
        (
            dt.datetime.fromisoformat(s.arg("startTime") or ""),
            dt.datetime.fromisoformat(s.arg("endTime") or ""),
        )
        for s in api_requests(server, "gmail")
    ]
    assert len(windows) == 3
    assert all(end - start < dt.timedelta(days=30) for start, end in windows)
    assert windows[0][0] == dt.datetime(2023, 12, 31, tzinfo=dt.UTC)
    assert windows[-1][1] == dt.datetime(2024, 3, 16, 23, 59, 59, 999000, tzinfo=dt.UTC)
    assert all(
        later[0] - earlier[1] == dt.timedelta(milliseconds=1)
        for earlier, later in itertools.pairwise(windows)
    )
    assert sum(facts.values()) == 4  # each edge message counted once


class Killed(BaseException):
    """Stands in for the process being stopped (like KeyboardInterrupt, not an Exception)."""


def test_a_pull_stopped_midway_restarts_and_counts_exactly_one_clean_run(
    tmp_path: Path, api: tuple[FakeReports, ReplayServer], private_key: str
) -> None:
    fake, server = api
    path = connection(tmp_path, server, private_key)
    fake.hooks.append(
        lambda seen: (
            Reply(503, b"", {"Retry-After": "30"})
            if seen.path.endswith("/meet") and seen.arg("pageToken") == "p2"
            else None
        )
    )

    def killed(seconds: float) -> None:
        raise Killed

    with pytest.raises(Killed):
        pull(path, reader=GoogleLiveReader(sleep=killed))
    state = (tmp_path / ".google.toml.state.json").read_text()
    assert json.loads(state)["done"] == 1  # gmail finished; meet was on its second page
    assert json.loads(state)["current"] == {"slice": "Reports API meet 2024-01-07..2024-01-16", "pages": 1}
    assert ANA not in state
    assert BEN not in state
    assert "p2" not in state
    fake.hooks.clear()
    facts, report = pull(path)
    assert facts == expected(tmp_path)
    assert any(
        note.startswith("a previous pull of this connection stopped after 1 of 3 slices")
        for note in report.notes
    )
    assert not (tmp_path / ".google.toml.state.json").exists()


def test_exhausted_retries_fail_clearly_and_without_secrets(
    tmp_path: Path, api: tuple[FakeReports, ReplayServer], private_key: str
) -> None:
    fake, server = api
    fake.hooks.append(lambda seen: Reply(503, b"busy"))
    sleeps: list[float] = []
    with pytest.raises(InputFormatError) as caught:
        pull(connection(tmp_path, server, private_key), reader=GoogleLiveReader(sleep=sleeps.append))
    text = str(caught.value)
    assert "Reports API gmail 2024-01-07..2024-01-16 page 1" in text
    assert "HTTP 503 after 6 attempts" in text
    assert sleeps == [1.0, 2.0, 4.0, 8.0, 16.0]
    for secret in (TOKEN, SUBJECT, private_key[40:80], server.url):
        assert secret not in text


def test_the_canary_never_leaves_the_reader(
    tmp_path: Path,
    api: tuple[FakeReports, ReplayServer],
    private_key: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake, server = api
    canary = "canary-5f0c2d@example.org"
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    caplog.set_level(logging.DEBUG)
    fake.activities = [
        gmail(canary, "2024-01-09T10:00:00.000Z", 1, sender=canary, to=[canary]),
        meet(canary, "2024-01-09T10:00:00.000Z", 987654321, organizer=canary, conference=canary),
    ]
    for item in fake.activities:
        item["actor"] = {"callerType": "USER", "email": canary, "profileId": canary}
        item["id"]["uniqueQualifier"] = canary  # type: ignore[index]
    folder = tmp_path / "conn"
    folder.mkdir()
    facts, report = pull(connection(folder, server, private_key))
    assert facts
    assert all(canary not in key[0] for key in facts)
    broken = meet(canary, "2024-01-09T11:00:00.000Z", 1)
    broken["events"][0]["parameters"][0]["intValue"] = canary  # type: ignore[index]
    fake.activities.append(broken)
    with pytest.raises(InputFormatError) as caught:
        pull(connection(folder, server, private_key))
    shown = " ".join([*report.notes, str(caught.value), caplog.text])
    assert canary not in shown
    assert "987654321" not in shown
    for file in tmp_path.rglob("*"):
        assert not file.is_file() or canary.encode() not in file.read_bytes(), file


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"applications": ["gmail", "calendar"]}, "lists calendar"),
        ({"applications": ["drive"]}, "names an application"),
        ({"colour": "blue"}, "'colour' is not a field"),
        ({"kind": "graph_live"}, "'kind' must be"),
        ({"end": "2024-01-01"}, "'end' is before start"),
        ({"start": "8 January"}, "'start' is missing or not a date"),
        ({"max_results": 5000}, "'max_results' must be"),
        ({"subject": None}, "'subject' is missing"),
    ],
)
def test_connection_file_errors_name_the_field(
    tmp_path: Path,
    api: tuple[FakeReports, ReplayServer],
    private_key: str,
    fields: dict[str, object],
    problem: str,
) -> None:
    with pytest.raises(ConfigError, match=problem):
        pull(connection(tmp_path, api[1], private_key, **fields))


def test_an_unusable_key_or_refused_token_is_a_config_error_without_secrets(
    tmp_path: Path, api: tuple[FakeReports, ReplayServer], private_key: str
) -> None:
    fake, server = api
    path = connection(tmp_path, server, private_key)
    (tmp_path / "sa.json").write_text('{"type": "service_account", "private_key": "-----BEGIN nope"}')
    with pytest.raises(ConfigError, match="not a usable service account key") as caught:
        pull(path)
    assert SUBJECT not in str(caught.value)
    path = connection(tmp_path, server, private_key)
    fake.hooks.append(lambda seen: None)
    server.answer = lambda seen, _: Reply(400, {"error": "invalid_grant", "error_description": SUBJECT})
    with pytest.raises(ConfigError, match="did not issue a token") as caught:
        pull(path)
    assert SUBJECT not in str(caught.value)
    assert "invalid_grant" not in str(caught.value)


def test_applications_the_policy_cannot_use_are_not_pulled(
    tmp_path: Path, api: tuple[FakeReports, ReplayServer], private_key: str
) -> None:
    _, server = api
    facts, report = pull(
        connection(tmp_path, server, private_key), context(metrics=frozenset({"chat_messages"}))
    )
    assert {seen.path.removeprefix(PREFIX) for seen in api_requests(server)} == {"chat"}
    assert set(metric for _, _, metric in facts) == {"chat_messages"}
    assert "applications whose metrics the policy does not allow were not pulled" in report.notes


def test_a_repeated_page_token_stops_the_pull(
    tmp_path: Path, api: tuple[FakeReports, ReplayServer], private_key: str
) -> None:
    fake, server = api
    fake.hooks.append(lambda seen: Reply(200, page([], "again")) if seen.path.startswith(PREFIX) else None)
    with pytest.raises(InputFormatError, match="repeated a page token"):
        pull(connection(tmp_path, server, private_key))


def test_the_connection_file_is_recognised(
    tmp_path: Path, api: tuple[FakeReports, ReplayServer], private_key: str
) -> None:
    path = connection(tmp_path, api[1], private_key)
    assert detect_source(path).name == "google_reports_live"
    policy = tmp_path / "policy.toml"
    policy.write_text('kind = "policy"\n')
    assert not GOOGLE_LIVE.sniff(policy)
    assert not GOOGLE_LIVE.sniff(tmp_path / "sa.json")
