"""The live pulls' HTTP plumbing: Retry-After, backoff, status handling, quiet logs, connection files."""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from teamlens.errors import ConfigError, InputFormatError
from teamlens.sources.http_client import (
    ConnectionFile,
    HttpClient,
    RetryPolicy,
    StaticTokenProvider,
    is_connection_file,
    retry_after,
)

from .replay_server import ReplayServer, Reply, Seen

NOW = dt.datetime(2024, 1, 8, 12, 0, 0, tzinfo=dt.UTC)
ORIGIN = Path("pull.toml")


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("1", 1.0),
        (" 120 ", 120.0),
        ("Mon, 08 Jan 2024 12:00:30 GMT", 30.0),
        ("Mon, 08 Jan 2024 11:00:00 GMT", 0.0),
        ("Mon, 08 Jan 2024 12:00:05 -0000", 5.0),
        ("soon", None),
        ("-3", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(header: str | None, seconds: float | None) -> None:
    assert retry_after(header, NOW) == seconds


def test_backoff_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(first_wait=0.5, max_wait=3.0)
    assert [policy.backoff(attempt) for attempt in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


@pytest.fixture
def statuses() -> Iterator[tuple[list[Reply], ReplayServer]]:
    replies: list[Reply] = []

    def answer(seen: Seen, server: ReplayServer) -> Reply:
        return replies.pop(0) if replies else Reply(200, {"ok": True})

    with ReplayServer(answer) as server:
        yield replies, server


def client(sleeps: list[float], attempts: int = 3) -> HttpClient:
    return HttpClient(
        ORIGIN,
        StaticTokenProvider("tok"),
        retry=RetryPolicy(attempts=attempts, max_wait=10.0),
        sleep=sleeps.append,
        now=lambda: NOW,
    )


def test_a_long_retry_after_is_capped_and_the_answer_then_read(
    statuses: tuple[list[Reply], ReplayServer],
) -> None:
    replies, server = statuses
    replies += [Reply(503, b"", {"Retry-After": "3600"}), Reply(429, b"")]
    sleeps: list[float] = []
    with client(sleeps) as http:
        assert http.get_json(f"{server.url}/x", "the test page") == {"ok": True}
    assert sleeps == [10.0, 2.0]
    assert all(seen.headers["authorization"] == "Bearer tok" for seen in server.seen)


@pytest.mark.parametrize(
    ("reply", "error", "text"),
    [
        (Reply(401, {"error": "x"}), ConfigError, "refused access (HTTP 401)"),
        (Reply(403, b""), ConfigError, "refused access (HTTP 403)"),
        (Reply(404, b""), ConfigError, "no such resource (HTTP 404)"),
        (Reply(500, b""), InputFormatError, "answered HTTP 500"),
        (Reply(200, "not json"), InputFormatError, "the answer is not JSON"),
        (Reply(200, [1, 2]), InputFormatError, "the answer is not a JSON object"),
    ],
)
def test_other_answers_become_errors_that_name_the_request_not_the_url(
    statuses: tuple[list[Reply], ReplayServer], reply: Reply, error: type[Exception], text: str
) -> None:
    replies, server = statuses
    replies.append(reply)
    with client([]) as http, pytest.raises(error) as caught:
        http.get_json(f"{server.url}/users/someone@example.org/x", "the test page")
    assert text in str(caught.value)
    assert "the test page" in str(caught.value)
    assert "someone@example.org" not in str(caught.value)
    assert "127.0.0.1" not in str(caught.value)


def test_an_unreachable_host_is_retried_then_reported_without_the_url() -> None:
    with ReplayServer(lambda seen, server: Reply()) as server:
        url = f"{server.url}/users/someone@example.org/x"
    sleeps: list[float] = []
    with client(sleeps) as http, pytest.raises(InputFormatError) as caught:
        http.get_json(url, "the test page")
    assert "could not be reached (ConnectError) after 3 attempts" in str(caught.value)
    assert "someone@example.org" not in str(caught.value)
    assert sleeps == [1.0, 2.0]


def test_downloads_follow_one_redirect_or_take_the_body(statuses: tuple[list[Reply], ReplayServer]) -> None:
    replies, server = statuses
    replies += [Reply(200, "a,b\r\n1,2\r\n"), Reply(302, b"")]
    sink = io.BytesIO()
    with client([]) as http:
        http.download(f"{server.url}/report", "the report", sink)
        assert sink.getvalue() == b"a,b\r\n1,2\r\n"
        with pytest.raises(InputFormatError, match="has no Location"):
            http.download(f"{server.url}/report", "the report", io.BytesIO())


def test_request_lines_with_urls_are_kept_out_of_the_logs(
    statuses: tuple[list[Reply], ReplayServer], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with client([]) as http:
        http.get_json(f"{statuses[1].url}/users/someone@example.org/x", "the test page")
    assert "someone@example.org" not in caplog.text
    logging.getLogger("httpx").info("HTTP Request: teeth %s", "someone@example.org")
    logging.getLogger("httpx").info("other %s", "kept")
    assert "teeth" not in caplog.text
    assert "other kept" in caplog.text


def test_connection_files_are_parsed_strictly(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('kind = "x"\nname = "secret-value"\n[broken\n')
    with pytest.raises(ConfigError, match="not valid TOML") as caught:
        ConnectionFile.load(path, "x", frozenset({"name"}))
    assert "secret-value" not in str(caught.value)
    path.write_text('kind = "x"\nwhen = 2024-01-08\nn = true\nurl = "ftp://h"\nitems = ["a", 3]\n')
    conn = ConnectionFile.load(path, "x", frozenset({"when", "n", "url", "items"}))
    assert conn.date("when") == dt.date(2024, 1, 8)
    with pytest.raises(ConfigError, match="'n' must be a whole number"):
        conn.integer("n", 1, 0, 5)
    with pytest.raises(ConfigError, match="'url' must be an http"):
        conn.url("url", "https://default")
    with pytest.raises(ConfigError, match="'items' is missing or not a list"):
        conn.texts("items")
    with pytest.raises(ConfigError, match="cannot be read"):
        ConnectionFile.load(tmp_path / "missing.toml", "x", frozenset())
    assert is_connection_file(path, "x")
    assert not is_connection_file(path, "y")
    binary = tmp_path / "b.toml"
    binary.write_bytes(b"\xff\xfe\x00kind")
    assert not is_connection_file(binary, "x")
    renamed = tmp_path / "c.txt"
    renamed.write_text('kind = "x"\n')
    assert not is_connection_file(renamed, "x")
