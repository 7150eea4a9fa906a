"""Microsoft 365 usage-report connectors: facts match counts computed here, at the edge."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import Counter
from fractions import Fraction
from pathlib import Path

import pytest

from teamlens.domain import FACT_SCHEMA, METRICS, Unit
from teamlens.errors import InputFormatError
from teamlens.sources.m365_reports import (
    CONCEALED_NOTE,
    EMAIL_ACTIVITY,
    EMAIL_HEADER,
    TEAMS_ACTIVITY,
    TEAMS_HEADER,
)

from .sources_testkit import ALL_METRICS, context, pseudonymiser, read_all, write_rows

SUNDAY = "2024-01-07"
#: The Teams meeting-type counts by metric, written out from the documented header.
TEAMS_BY_TYPE = {
    "adhoc_meetings_organized": "Ad Hoc Meetings Organized Count",
    "adhoc_meetings_attended": "Ad Hoc Meetings Attended Count",
    "one_time_meetings_organized": "Scheduled One-time Meetings Organized Count",
    "one_time_meetings_attended": "Scheduled One-time Meetings Attended Count",
    "recurring_meetings_organized": "Scheduled Recurring Meetings Organized Count",
    "recurring_meetings": "Scheduled Recurring Meetings Attended Count",
}
#: The Teams durations in seconds that become minutes.
TEAMS_SECONDS = {
    "meeting_minutes": "Audio Duration In Seconds",
    "video_minutes": "Video Duration In Seconds",
    "screen_share_minutes": "Screen Share Duration In Seconds",
}
EMAIL_COLUMNS = {
    "emails_sent": "Send Count",
    "emails_received": "Receive Count",
    "emails_read": "Read Count",
    "meetings_created": "Meeting Created Count",
    "meetings_interacted": "Meeting Interacted Count",
}


def email_rows(n: int, seed: int = 1, refresh: str = SUNDAY, period: str = "7") -> list[dict[str, str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        row = {
            "Report Refresh Date": refresh,
            "User Principal Name": f"Person.{i}@Contoso.com",
            "Display Name": f"Person Number {i}",
            "Is Deleted": "False",
            "Assigned Products": "E3",
            "Last Activity Date": "2024-01-05",
            "Report Period": period,
        }
        for column in EMAIL_COLUMNS.values():
            row[column] = rng.choice(["", "0", str(rng.randint(1, 300))])
        rows.append(row)
    return rows


def fact_totals(table: object) -> Counter[tuple[str, str]]:
    totals: Counter[tuple[str, str]] = Counter()
    for row in table.to_pylist():  # type: ignore[attr-defined]
        totals[(row["person"], row["metric"])] += row["value"]
    return totals


def expected_totals(rows: list[dict[str, str]], columns: dict[str, str]) -> Counter[tuple[str, str]]:
    pseud = pseudonymiser()
    totals: Counter[tuple[str, str]] = Counter()
    for row in rows:
        for metric, column in columns.items():
            value = int(row[column] or 0)
            if value:
                totals[(pseud(row["User Principal Name"]), metric)] += value
    return totals


def test_documented_headers_match_the_real_header_lines(
    email_header: list[str], teams_header: list[str]
) -> None:
    assert EMAIL_HEADER.split(",") == email_header
    assert TEAMS_HEADER.split(",") == teams_header


def test_weekly_email_facts_equal_the_counts_in_the_file(tmp_path: Path, email_header: list[str]) -> None:
    rows = email_rows(200)
    path = write_rows(tmp_path / "email.csv", email_header, rows)
    table, report, batches = read_all(EMAIL_ACTIVITY, path, context(batch_rows=64))
    assert table.schema == FACT_SCHEMA
    assert fact_totals(table) == expected_totals(rows, EMAIL_COLUMNS)
    assert set(table.column("day").to_pylist()) == {dt.date(2024, 1, 1)}
    assert set(table.column("days").to_pylist()) == {7}
    assert set(table.column("source").to_pylist()) == {"m365_email_activity"}
    assert 0 not in table.column("value").to_pylist()
    assert batches == 4  # 200 rows in batches of 64
    assert (report.rows_read, report.rows_kept, report.people_seen) == (200, 200, 200)
    assert report.facts == table.num_rows
    assert report.notes == []
    plain = {row["User Principal Name"] for row in rows}
    assert not plain & set(table.column("person").to_pylist())


def test_columns_in_another_order_with_unknown_extras_read_the_same(
    tmp_path: Path, email_header: list[str]
) -> None:
    rows = email_rows(50, seed=2)
    for row in rows:
        row["Copilot Chat Count"] = "9"
        row["Extra Thing"] = "x"
    shuffled = list(reversed(email_header))
    shuffled.insert(3, "Copilot Chat Count")
    shuffled.append("Extra Thing")
    # Header names are matched ignoring case and spacing.
    shuffled[shuffled.index("Send Count")] = "  SEND  COUNT "
    written = [{**row, "  SEND  COUNT ": row["Send Count"]} for row in rows]
    path = write_rows(tmp_path / "email.csv", shuffled, written)
    table, report, _ = read_all(EMAIL_ACTIVITY, path)
    assert fact_totals(table) == expected_totals(rows, EMAIL_COLUMNS)
    assert report.notes == ["ignored 2 unknown columns: Copilot Chat Count, Extra Thing"]


def test_daily_report_gives_daily_facts(tmp_path: Path, email_header: list[str]) -> None:
    rows = email_rows(20, refresh="2024-01-10", period="1")
    path = write_rows(tmp_path / "email.csv", email_header, rows)
    table, _, _ = read_all(EMAIL_ACTIVITY, path)
    assert set(table.column("day").to_pylist()) == {dt.date(2024, 1, 10)}
    assert set(table.column("days").to_pylist()) == {1}
    assert fact_totals(table) == expected_totals(rows, EMAIL_COLUMNS)


@pytest.mark.parametrize(
    ("refresh", "period", "column", "needle"),
    [
        (SUNDAY, "30", "Report Period", "30-day report"),
        ("2024-01-05", "7", "Report Refresh Date", "must end on a Sunday"),
    ],
)
def test_periods_that_are_not_a_day_or_an_iso_week_are_refused(
    tmp_path: Path, email_header: list[str], refresh: str, period: str, column: str, needle: str
) -> None:
    rows = email_rows(5)
    rows[3].update({"Report Refresh Date": refresh, "Report Period": period})
    path = write_rows(tmp_path / "email.csv", email_header, rows)
    with pytest.raises(InputFormatError) as caught:
        read_all(EMAIL_ACTIVITY, path)
    assert (caught.value.line, caught.value.field) == (5, column)
    assert needle in str(caught.value)
    assert "date=" in caught.value.hint
    assert "@" not in str(caught.value)


def test_metrics_outside_the_policy_are_never_emitted_nor_required(
    tmp_path: Path, email_header: list[str]
) -> None:
    rows = email_rows(30)
    header = [name for name in email_header if name != "Read Count"]
    path = write_rows(tmp_path / "email.csv", header, rows)
    table, _, _ = read_all(EMAIL_ACTIVITY, path, context(metrics=frozenset({"emails_sent"})))
    assert set(table.column("metric").to_pylist()) == {"emails_sent"}
    assert fact_totals(table) == expected_totals(rows, {"emails_sent": "Send Count"})


def test_policy_without_any_of_the_reports_metrics_keeps_nothing(
    tmp_path: Path, email_header: list[str]
) -> None:
    path = write_rows(tmp_path / "email.csv", email_header, email_rows(10))
    _, report, batches = read_all(EMAIL_ACTIVITY, path, context(metrics=frozenset({"calls"})))
    assert batches == 0
    assert report.rows_read == 10
    assert any("none of the metrics" in note for note in report.notes)


def test_objectors_are_dropped_before_counting(tmp_path: Path, email_header: list[str]) -> None:
    rows = email_rows(40)
    objectors = {rows[0]["User Principal Name"], rows[17]["User Principal Name"].upper()}
    path = write_rows(tmp_path / "email.csv", email_header, rows)
    table, report, _ = read_all(EMAIL_ACTIVITY, path, context(excluded=objectors))
    pseud = pseudonymiser()
    expected = expected_totals([r for i, r in enumerate(rows) if i not in (0, 17)], EMAIL_COLUMNS)
    assert fact_totals(table) == expected
    assert not {pseud(name) for name in objectors} & set(table.column("person").to_pylist())
    assert (report.rows_read, report.rows_kept, report.people_seen) == (40, 38, 38)


def test_concealed_names_are_pseudonymised_and_flagged(tmp_path: Path, email_header: list[str]) -> None:
    rows = email_rows(10)
    concealed = [f"{i:032X}".replace("0", "B", 3) for i in range(10)]
    for row, name in zip(rows, concealed, strict=True):
        row["User Principal Name"] = name
    path = write_rows(tmp_path / "email.csv", email_header, rows)
    table, report, _ = read_all(EMAIL_ACTIVITY, path)
    assert report.concealed
    assert CONCEALED_NOTE in report.notes
    assert "organisation-wide" in CONCEALED_NOTE
    assert not set(concealed) & set(table.column("person").to_pylist())
    assert fact_totals(table) == expected_totals(rows, EMAIL_COLUMNS)


def test_plain_names_are_not_flagged_as_concealed(tmp_path: Path, email_header: list[str]) -> None:
    rows = email_rows(3)
    rows[0]["User Principal Name"] = "B2BC6C15BB9FCDEA71E5CD302D228CC8@contoso.com"
    path = write_rows(tmp_path / "email.csv", email_header, rows)
    _, report, _ = read_all(EMAIL_ACTIVITY, path)
    assert not report.concealed


def test_teams_metrics_sum_chats_and_round_audio_to_minutes(tmp_path: Path, teams_header: list[str]) -> None:
    rng = random.Random(5)
    rows = []
    for i in range(60):
        rows.append(
            {
                "Report Refresh Date": SUNDAY,
                "User Principal Name": f"t{i}@contoso.com",
                "User Id": f"id-{i}",
                "Tenant Display Name": "Contoso",
                "Report Period": "7",
                "Team Chat Message Count": str(rng.randint(0, 50)),
                "Private Chat Message Count": str(rng.randint(0, 50)),
                "Call Count": str(rng.randint(0, 5)),
                "Meetings Attended Count": str(rng.randint(0, 9)),
                "Meetings Organized Count": rng.choice(["", "2"]),
                "Audio Duration In Seconds": str(rng.choice([0, 29, 30, 89, 90, rng.randint(0, 90_000)])),
                "Audio Duration": "PT1H",
            }
        )
    path = write_rows(tmp_path / "teams.csv", teams_header, rows)
    table, _, _ = read_all(TEAMS_ACTIVITY, path)
    pseud = pseudonymiser()
    expected: Counter[tuple[str, str]] = Counter()
    for row in rows:
        person = pseud(row["User Principal Name"])
        seconds = int(row["Audio Duration In Seconds"])
        values = {
            "chat_messages": int(row["Team Chat Message Count"]) + int(row["Private Chat Message Count"]),
            "calls": int(row["Call Count"]),
            "meetings_attended": int(row["Meetings Attended Count"]),
            "meetings_organized": int(row["Meetings Organized Count"] or 0),
            "meeting_minutes": int(dt.timedelta(seconds=seconds) / dt.timedelta(minutes=1) + 0.5),
        }
        for metric, value in values.items():
            if value:
                expected[(person, metric)] += value
    assert fact_totals(table) == expected
    assert set(table.column("source").to_pylist()) == {"m365_teams_activity"}


def test_sniff_tells_the_two_reports_apart(
    tmp_path: Path, email_header: list[str], teams_header: list[str]
) -> None:
    email = write_rows(tmp_path / "email.csv", email_header, email_rows(1))
    teams = write_rows(tmp_path / "teams.csv", teams_header, [])
    assert EMAIL_ACTIVITY.sniff(email)
    assert not EMAIL_ACTIVITY.sniff(teams)
    assert TEAMS_ACTIVITY.sniff(teams)
    assert not TEAMS_ACTIVITY.sniff(email)
    assert not EMAIL_ACTIVITY.sniff(tmp_path / "missing.csv")


def test_every_metric_of_the_connectors_is_in_the_catalogue() -> None:
    produced = {rule.metric for reader in (EMAIL_ACTIVITY, TEAMS_ACTIVITY) for rule in reader.rules}
    assert produced == ALL_METRICS | TEAMS_BY_TYPE.keys() | TEAMS_SECONDS.keys()
    assert produced <= METRICS.keys()
    assert all(METRICS[name].unit is Unit.MINUTES for name in TEAMS_SECONDS)
    assert all(METRICS[name].unit is Unit.COUNT for name in TEAMS_BY_TYPE)


def teams_rows(n: int, seed: int) -> list[dict[str, str]]:
    """Weekly Teams rows with every count and duration column filled at random (some empty)."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        row = {
            "Report Refresh Date": SUNDAY,
            "User Principal Name": f"t{i}@contoso.com",
            "User Id": f"id-{i}",
            "Report Period": "7",
            "Team Chat Message Count": str(rng.randint(0, 50)),
            "Private Chat Message Count": str(rng.randint(0, 50)),
            "Audio Duration": "PT1H",
            "Video Duration": "PT20M",
        }
        for column in TEAMS_BY_TYPE.values():
            row[column] = rng.choice(["", "0", "1", str(rng.randint(2, 40))])
        for column in TEAMS_SECONDS.values():
            row[column] = rng.choice(["", "0", "29", "30", "89", "90", str(rng.randint(0, 90_000))])
        rows.append(row)
    return rows


def test_teams_meetings_by_type_and_video_and_screen_share_minutes(
    tmp_path: Path, teams_header: list[str]
) -> None:
    rows = teams_rows(80, seed=9)
    path = write_rows(tmp_path / "teams.csv", teams_header, rows)
    wanted = frozenset(TEAMS_BY_TYPE) | frozenset(TEAMS_SECONDS)
    table, report, _ = read_all(TEAMS_ACTIVITY, path, context(metrics=wanted, batch_rows=32))
    pseud = pseudonymiser()
    expected: Counter[tuple[str, str]] = Counter()
    for row in rows:
        person = pseud(row["User Principal Name"])
        values = {metric: int(row[column] or 0) for metric, column in TEAMS_BY_TYPE.items()}
        for metric, column in TEAMS_SECONDS.items():
            # Whole minutes, half a minute rounding up: Fraction keeps the arithmetic exact.
            minutes = Fraction(int(row[column] or 0), 60)
            values[metric] = math.floor(minutes + Fraction(1, 2))
        for metric, value in values.items():
            if value:
                expected[(person, metric)] += value
    assert fact_totals(table) == expected
    assert set(table.column("metric").to_pylist()) == wanted
    assert set(table.column("days").to_pylist()) == {7}
    assert report.notes == []


#: The metrics an older Teams export cannot give: the meeting types, video and screen-share time.
NEWER_TEAMS_METRICS = {
    **TEAMS_BY_TYPE,
    "video_minutes": "Video Duration In Seconds",
    "screen_share_minutes": "Screen Share Duration In Seconds",
}
NEWER_TEAMS_COLUMNS = (*NEWER_TEAMS_METRICS.values(), "Video Duration", "Screen Share Duration")


def test_an_older_teams_export_reads_unless_the_policy_asks_for_its_missing_columns(
    tmp_path: Path, teams_header: list[str]
) -> None:
    rows = teams_rows(20, seed=11)
    for i, row in enumerate(rows):
        row["Call Count"] = str(i % 3)
    older = [column for column in teams_header if column not in NEWER_TEAMS_COLUMNS]
    path = write_rows(tmp_path / "teams.csv", older, rows)
    table, report, _ = read_all(TEAMS_ACTIVITY, path, context(metrics=ALL_METRICS))
    expected = expected_totals(rows, {"calls": "Call Count"})
    assert {k: v for k, v in fact_totals(table).items() if k[1] == "calls"} == expected
    assert "meeting_minutes" in set(table.column("metric").to_pylist())
    assert report.notes == []
    for metric, column in NEWER_TEAMS_METRICS.items():
        with pytest.raises(InputFormatError) as caught:
            read_all(TEAMS_ACTIVITY, path, context(metrics=ALL_METRICS | {metric}))
        assert f"missing column '{column}'" in str(caught.value)
        assert caught.value.line == 1
        assert f"the policy's metric {metric}," in caught.value.hint
        assert "t0@contoso.com" not in str(caught.value) + caught.value.hint
    both = frozenset({"calls", "video_minutes", "recurring_meetings"})
    with pytest.raises(InputFormatError) as caught:
        read_all(TEAMS_ACTIVITY, path, context(metrics=both))
    missing = "missing columns 'Video Duration In Seconds', 'Scheduled Recurring Meetings Attended Count'"
    assert missing in str(caught.value)
    assert "metrics video_minutes, recurring_meetings," in caught.value.hint


def test_a_header_that_runs_into_the_first_row_is_noted_without_echoing_the_row(
    tmp_path: Path, email_header: list[str]
) -> None:
    # The line break after the header is lost: the only row's values become extra header cells.
    first = email_rows(1, seed=4)[0]
    values = ",".join(first.get(column, "") for column in email_header)
    path = tmp_path / "email.csv"
    path.write_text(",".join(email_header) + "," + values + "\n", encoding="utf-8")
    _, report, _ = read_all(EMAIL_ACTIVITY, path)
    assert len(report.notes) == 1
    assert "names are not shown" in report.notes[0]
    for value in (first["User Principal Name"], first["Display Name"]):
        assert value.casefold() not in report.notes[0].casefold()
