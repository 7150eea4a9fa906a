"""Graph usage reports pulled live: the 302 download without the token, precedence, relabelled errors."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from teamlens.errors import InputFormatError

from .replay_server import ReplayServer
from .sources_testkit import pseudonymiser
from .test_google_reports import ANA, BEN, context
from .test_graph_live import METRICS, REPORT_ROWS, TOKEN, FakeGraph, connection, csv, pull, running_graph


@pytest.fixture
def graph() -> Iterator[tuple[FakeGraph, ReplayServer]]:
    with running_graph() as both:
        yield both


def test_a_report_is_downloaded_from_the_302_location_without_the_token(
    tmp_path: Path, graph: tuple[FakeGraph, ReplayServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, server = graph
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    facts, report = pull(connection(tmp_path, server, reports=["getEmailActivityUserDetail"], users=None))
    pseud, monday = pseudonymiser(), dt.date(2024, 1, 1)
    assert facts == {
        (pseud(ANA), monday, 7, "emails_sent"): 12,
        (pseud(ANA), monday, 7, "emails_received"): 40,
        (pseud(BEN), monday, 7, "emails_received"): 3,
    }
    first, download = server.seen
    assert first.path == "/v1.0/reports/getEmailActivityUserDetail(period='D7')"
    assert first.headers["authorization"] == f"Bearer {TOKEN}"
    assert download.path == "/download/report.csv"
    assert download.arg("sig") == "abc"
    assert "authorization" not in download.headers
    assert report.rows_read == 2
    assert report.people_seen == 2
    assert report.facts == 3
    assert list(temporary.iterdir()) == []


def test_per_day_pulls_take_precedence_over_report_columns(
    tmp_path: Path, graph: tuple[FakeGraph, ReplayServer]
) -> None:
    _, server = graph
    facts, report = pull(
        connection(tmp_path, server, reports=["getEmailActivityUserDetail"], metadata=["mail"]),
        context(metrics=METRICS, domains=["union.example"]),
    )
    weekly = {metric for (_, _, days, metric) in facts if days == 7}
    assert weekly == {"emails_received"}
    assert {metric for (_, _, days, metric) in facts if days == 1} == {"emails_sent", "after_hours_emails"}
    assert any("not counted twice" in note for note in report.notes)
    assert any("exclusions cannot be applied" in note for note in report.notes)


def test_a_malformed_report_is_named_by_report_not_by_temporary_file(
    tmp_path: Path, graph: tuple[FakeGraph, ReplayServer]
) -> None:
    fake, server = graph
    fake.csv = csv([{**REPORT_ROWS[0], "Send Count": "twelve"}])
    path = connection(
        tmp_path, server, reports=["getEmailActivityUserDetail"], users=None, period="daily", end="2024-01-08"
    )
    with pytest.raises(InputFormatError) as caught:
        pull(path)
    text = str(caught.value)
    assert text.startswith(
        f"{path}: Graph report getEmailActivityUserDetail(date=2024-01-08): the downloaded CSV"
    )
    assert "column 'Send Count'" in text
    assert "teamlens-" not in text
    assert ANA not in text
