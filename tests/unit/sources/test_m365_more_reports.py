"""OneDrive, SharePoint and active-user reports, and periods spread over their days."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from teamlens.domain import FACT_SCHEMA, METRICS
from teamlens.errors import InputFormatError
from teamlens.sources import ReadContext
from teamlens.sources.m365_more_reports import (
    APP_ACTIVITY_COLUMNS,
    OFFICE365_ACTIVE,
    OFFICE365_HEADER,
    ONEDRIVE_ACTIVITY,
    ONEDRIVE_HEADER,
    PARTIAL_WEEK_NOTE,
    SHAREPOINT_ACTIVITY,
    SHAREPOINT_HEADER,
)
from teamlens.sources.m365_reports import EMAIL_ACTIVITY, SPREAD_NOTE, UsageReportReader

from ...support.fuzzing import examples
from ...support.paths import shared_file
from .sources_testkit import context, pseudonymiser, read_all, write_rows

FILE_METRICS = frozenset(
    {"files_edited", "files_shared_internally", "files_shared_externally", "apps_active"}
)
FILE_COLUMNS = {
    "files_edited": "Viewed Or Edited File Count",
    "files_shared_internally": "Shared Internally File Count",
    "files_shared_externally": "Shared Externally File Count",
}


def ctx(batch_rows: int = 65_536) -> ReadContext:
    return context(metrics=FILE_METRICS, batch_rows=batch_rows)


def file_rows(n: int, refresh: str = "2024-01-07", period: str = "7", seed: int = 3) -> list[dict[str, str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        row = {
            "Report Refresh Date": refresh,
            "User Principal Name": f"drive.user{i}@contoso.com",
            "Is Deleted": "False",
            "Last Activity Date": "2024-01-05",
            "Synced File Count": "4",
            "Visited Page Count": "7",
            "Assigned Products": "E5",
            "Report Period": period,
        }
        for column in FILE_COLUMNS.values():
            row[column] = rng.choice(["", "0", str(rng.randint(1, 400))])
        rows.append(row)
    return rows


def totals(table: object) -> Counter[tuple[str, str]]:
    out: Counter[tuple[str, str]] = Counter()
    for row in table.to_pylist():  # type: ignore[attr-defined]
        out[(row["person"], row["metric"])] += row["value"]
    return out


def expected(rows: list[dict[str, str]]) -> Counter[tuple[str, str]]:
    pseud = pseudonymiser()
    out: Counter[tuple[str, str]] = Counter()
    for row in rows:
        for metric, column in FILE_COLUMNS.items():
            if int(row[column] or 0):
                out[(pseud(row["User Principal Name"]), metric)] += int(row[column])
    return out


def documented_header(api: str) -> list[str]:
    formats = shared_file("reference", "formats.md")
    match = re.search(rf"\*\*{api}\*\*.*?```\n([^\n]+)\n```", formats.read_text(), re.DOTALL)
    assert match, api
    return match.group(1).split(",")


@pytest.mark.parametrize(
    ("api", "header"),
    [
        ("getOneDriveActivityUserDetail", ONEDRIVE_HEADER),
        ("getSharePointActivityUserDetail", SHAREPOINT_HEADER),
        ("getOffice365ActiveUserDetail", OFFICE365_HEADER),
    ],
)
def test_headers_match_the_documented_ones(api: str, header: str) -> None:
    assert header.split(",") == documented_header(api)


@pytest.mark.parametrize(
    ("reader", "header"), [(ONEDRIVE_ACTIVITY, ONEDRIVE_HEADER), (SHAREPOINT_ACTIVITY, SHAREPOINT_HEADER)]
)
def test_weekly_file_activity_equals_the_counts(
    tmp_path: Path, reader: UsageReportReader, header: str
) -> None:
    rows = file_rows(150)
    path = write_rows(tmp_path / "r.csv", header.split(","), rows)
    table, report, batches = read_all(reader, path, ctx(batch_rows=40))
    assert table.schema == FACT_SCHEMA
    assert totals(table) == expected(rows)
    assert set(table.column("day").to_pylist()) == {dt.date(2024, 1, 1)}
    assert set(table.column("days").to_pylist()) == {7}
    assert set(table.column("source").to_pylist()) == {reader.name}
    assert batches == 4
    assert report.notes == []
    assert (report.rows_read, report.people_seen) == (150, 150)


def test_onedrive_and_sharepoint_facts_never_share_a_key(tmp_path: Path) -> None:
    rows = file_rows(20)
    one, _, _ = read_all(
        ONEDRIVE_ACTIVITY, write_rows(tmp_path / "o.csv", ONEDRIVE_HEADER.split(","), rows), ctx()
    )
    two, _, _ = read_all(
        SHAREPOINT_ACTIVITY, write_rows(tmp_path / "s.csv", SHAREPOINT_HEADER.split(","), rows), ctx()
    )
    key = ("person", "source", "metric", "day", "days")
    keys_one = {tuple(r[k] for k in key) for r in one.to_pylist()}
    keys_two = {tuple(r[k] for k in key) for r in two.to_pylist()}
    assert keys_one
    assert not keys_one & keys_two
    assert totals(one) == totals(two)


def test_sniff_tells_onedrive_sharepoint_and_active_users_apart(tmp_path: Path) -> None:
    files = {
        "onedrive": write_rows(tmp_path / "o.csv", ONEDRIVE_HEADER.split(","), []),
        "sharepoint": write_rows(tmp_path / "s.csv", SHAREPOINT_HEADER.split(","), []),
        "active": write_rows(tmp_path / "a.csv", OFFICE365_HEADER.split(","), []),
    }
    readers = {"onedrive": ONEDRIVE_ACTIVITY, "sharepoint": SHAREPOINT_ACTIVITY, "active": OFFICE365_ACTIVE}
    for kind, path in files.items():
        claimed = {name for name, reader in readers.items() if reader.sniff(path)}
        assert claimed == {kind}
        assert not EMAIL_ACTIVITY.sniff(path)


def test_a_30_day_report_is_spread_over_its_days_in_whole_units(tmp_path: Path) -> None:
    rows = file_rows(60, refresh="2024-01-31", period="30", seed=9)
    path = write_rows(tmp_path / "r.csv", ONEDRIVE_HEADER.split(","), rows)
    table, report, _ = read_all(ONEDRIVE_ACTIVITY, path, ctx())
    assert totals(table) == expected(rows)
    assert SPREAD_NOTE in report.notes
    assert set(table.column("days").to_pylist()) == {1}
    days = set(table.column("day").to_pylist())
    assert min(days) >= dt.date(2024, 1, 2)
    assert max(days) <= dt.date(2024, 1, 31)
    pseud = pseudonymiser()
    by_key: dict[tuple[str, str], dict[dt.date, int]] = {}
    for row in table.to_pylist():
        by_key.setdefault((row["person"], row["metric"]), {})[row["day"]] = row["value"]
    for row in rows:
        for metric, column in FILE_COLUMNS.items():
            value = int(row[column] or 0)
            if not value:
                continue
            daily = by_key[(pseud(row["User Principal Name"]), metric)]
            shares = [daily.get(dt.date(2024, 1, 2) + dt.timedelta(days=i), 0) for i in range(30)]
            assert sum(shares) == value
            assert set(shares) <= {value // 30, value // 30 + 1}
            assert shares.count(value // 30 + 1) == value % 30


def test_extra_units_are_spaced_through_the_period_not_bunched(tmp_path: Path) -> None:
    rows = file_rows(1, refresh="2024-01-30", period="30")
    rows[0].update(
        {
            "Viewed Or Edited File Count": "3",
            "Shared Internally File Count": "",
            "Shared Externally File Count": "",
        }
    )
    path = write_rows(tmp_path / "r.csv", ONEDRIVE_HEADER.split(","), rows)
    table, _, _ = read_all(ONEDRIVE_ACTIVITY, path, ctx())
    days = sorted(table.column("day").to_pylist())
    assert len(days) == 3
    assert min(b - a for a, b in itertools.pairwise(days)) >= dt.timedelta(days=9)


def test_a_180_day_report_gives_daily_facts_without_overflow(tmp_path: Path) -> None:
    rows = file_rows(3, refresh="2024-06-29", period="180")
    rows[0]["Viewed Or Edited File Count"] = "1000000"
    path = write_rows(tmp_path / "r.csv", SHAREPOINT_HEADER.split(","), rows)
    table, _, _ = read_all(SHAREPOINT_ACTIVITY, path, ctx())
    assert totals(table) == expected(rows)
    assert set(table.column("days").to_pylist()) == {1}
    assert min(table.column("day").to_pylist()) == dt.date(2024, 6, 29) - dt.timedelta(days=179)


@pytest.mark.parametrize(("refresh", "period", "days"), [("2024-01-10", "1", 1), ("2024-01-07", "7", 7)])
def test_a_day_or_a_sunday_week_is_one_fact_and_no_note(
    tmp_path: Path, refresh: str, period: str, days: int
) -> None:
    rows = file_rows(10, refresh=refresh, period=period)
    path = write_rows(tmp_path / "r.csv", ONEDRIVE_HEADER.split(","), rows)
    table, report, _ = read_all(ONEDRIVE_ACTIVITY, path, ctx())
    assert set(table.column("days").to_pylist()) == {days}
    assert table.num_rows == len(expected(rows))
    assert SPREAD_NOTE not in report.notes


def test_a_week_not_ending_on_sunday_is_spread_not_refused(tmp_path: Path) -> None:
    rows = file_rows(10, refresh="2024-01-10", period="7")
    path = write_rows(tmp_path / "r.csv", ONEDRIVE_HEADER.split(","), rows)
    table, report, _ = read_all(ONEDRIVE_ACTIVITY, path, ctx())
    assert set(table.column("days").to_pylist()) == {1}
    assert totals(table) == expected(rows)
    assert SPREAD_NOTE in report.notes


@pytest.mark.parametrize("period", ["0", "367", "99999999999"])
def test_periods_out_of_range_are_refused_naming_line_and_column(tmp_path: Path, period: str) -> None:
    rows = file_rows(4)
    rows[2]["Report Period"] = period
    path = write_rows(tmp_path / "r.csv", ONEDRIVE_HEADER.split(","), rows)
    with pytest.raises(InputFormatError) as caught:
        read_all(ONEDRIVE_ACTIVITY, path, ctx())
    assert (caught.value.line, caught.value.field) == (4, "Report Period")
    assert "drive.user" not in str(caught.value)


def active_rows(refresh: str, seed: int = 4) -> list[dict[str, str]]:
    rng = random.Random(seed)
    day = dt.date.fromisoformat(refresh)
    rows = []
    for i in range(80):
        row = {
            "Report Refresh Date": refresh,
            "User Principal Name": f"app.user{i}@contoso.com",
            "Display Name": f"App User {i}",
            "Is Deleted": "False",
            "Has Teams License": "True",
            "Teams License Assign Date": "2023-01-01",
            "Assigned Products": "E3",
        }
        for column in APP_ACTIVITY_COLUMNS:
            offset = rng.choice([None, -20, -8, -7, -6, -3, -1, 0, 1])
            row[column] = "" if offset is None else (day + dt.timedelta(days=offset)).isoformat()
        rows.append(row)
    return rows


def expected_apps(rows: list[dict[str, str]]) -> Counter[tuple[str, str]]:
    pseud = pseudonymiser()
    out: Counter[tuple[str, str]] = Counter()
    for row in rows:
        refresh = dt.date.fromisoformat(row["Report Refresh Date"])
        monday = refresh - dt.timedelta(days=refresh.weekday())
        used = sum(
            1 for c in APP_ACTIVITY_COLUMNS if row[c] and monday <= dt.date.fromisoformat(row[c]) <= refresh
        )
        if used:
            out[(pseud(row["User Principal Name"]), "apps_active")] = used
    return out


@pytest.mark.parametrize(("refresh", "partial"), [("2024-01-07", False), ("2024-01-10", True)])
def test_apps_active_counts_apps_used_in_the_refresh_week(
    tmp_path: Path, refresh: str, partial: bool
) -> None:
    rows = active_rows(refresh)
    path = write_rows(tmp_path / "a.csv", OFFICE365_HEADER.split(","), rows)
    table, report, _ = read_all(OFFICE365_ACTIVE, path, ctx())
    assert totals(table) == expected_apps(rows)
    assert set(table.column("days").to_pylist()) == {7}
    day = dt.date.fromisoformat(refresh)
    assert set(table.column("day").to_pylist()) == {day - dt.timedelta(days=day.weekday())}
    assert (PARTIAL_WEEK_NOTE in report.notes) is partial
    assert max(table.column("value").to_pylist()) <= len(APP_ACTIVITY_COLUMNS)


def test_a_bad_last_activity_date_names_line_and_column(tmp_path: Path) -> None:
    rows = active_rows("2024-01-07")
    rows[5]["SharePoint Last Activity Date"] = "2024-13-01"
    path = write_rows(tmp_path / "a.csv", OFFICE365_HEADER.split(","), rows)
    with pytest.raises(InputFormatError) as caught:
        read_all(OFFICE365_ACTIVE, path, ctx())
    assert (caught.value.line, caught.value.field) == (7, "SharePoint Last Activity Date")
    assert "app.user" not in str(caught.value)


def test_canary_identifiers_never_leave_the_readers(tmp_path: Path) -> None:
    canary = "zq7f3a9d1e@unique-m365.example"
    rows = file_rows(5, refresh="2024-01-31", period="30")
    rows[1]["User Principal Name"] = canary
    rows[1]["Viewed Or Edited File Count"] = "987654321"
    path = write_rows(tmp_path / "r.csv", ONEDRIVE_HEADER.split(","), rows)
    table, report, _ = read_all(ONEDRIVE_ACTIVITY, path, ctx())
    assert "7f3a9d1e" not in str(table.to_pylist()) + str(report)
    assert pseudonymiser()(canary) in table.column("person").to_pylist()
    rows[1]["Shared Internally File Count"] = "-1"
    bad = write_rows(tmp_path / "bad.csv", ONEDRIVE_HEADER.split(","), rows)
    with pytest.raises(InputFormatError) as caught:
        read_all(ONEDRIVE_ACTIVITY, bad, ctx())
    assert "7f3a9d1e" not in str(caught.value)
    assert "987654321" not in str(caught.value)


def test_every_metric_of_the_connectors_is_in_the_catalogue() -> None:
    produced = {
        rule.metric
        for reader in (ONEDRIVE_ACTIVITY, SHAREPOINT_ACTIVITY, OFFICE365_ACTIVE)
        for rule in reader.rules
    }
    assert produced == FILE_METRICS
    assert produced <= METRICS.keys()


SEEDS = {
    "m365_onedrive_activity": ONEDRIVE_HEADER + "\r\n2024-01-31,a@x.org,False,,2024-01-05,3,1,2,1,E5,30\r\n",
    "m365_sharepoint_activity": SHAREPOINT_HEADER + "\r\n2024-01-07,a@x.org,False,,,3,1,2,1,9,E5,7\r\n",
    "m365_active_users": OFFICE365_HEADER + "\r\n2024-01-10,a@x.org,A,False,,True,True,True,False,False,"
    "True,2024-01-09,2024-01-02,,,,2024-01-08,,,,,,,E3\r\n",
}
READERS = {reader.name: reader for reader in (ONEDRIVE_ACTIVITY, SHAREPOINT_ACTIVITY, OFFICE365_ACTIVE)}
SPICE = st.sampled_from(['"', ",", "\n", "\x00", "-1", "2024-02-30", "", "é", "9" * 20])
counter = itertools.count()


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_the_fuzz_seeds_read_cleanly(tmp_path: Path, name: str) -> None:
    path = tmp_path / "seed.csv"
    path.write_text(SEEDS[name], encoding="utf-8")
    table, _, _ = read_all(READERS[name], path, ctx())
    assert table.num_rows >= 1


@pytest.mark.parametrize("name", sorted(SEEDS))
@settings(max_examples=examples(150), suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    edits=st.lists(st.tuples(st.integers(0, 400), st.integers(0, 3), SPICE), max_size=5),
    noise=st.binary(max_size=60),
)
def test_garbled_reports_raise_only_input_format_errors(
    tmp_path: Path, name: str, edits: list[tuple[int, int, str]], noise: bytes
) -> None:
    text = SEEDS[name]
    for at, removed, inserted in edits:
        at %= len(text) + 1
        text = text[:at] + inserted + text[at + removed :]
    path = tmp_path / f"f{next(counter)}.csv"
    path.write_bytes(text.encode() + noise)
    message = ""
    try:
        read_all(READERS[name], path, ctx(batch_rows=1))
    except InputFormatError as error:
        message = str(error)
    assert "a@x.org" not in message
