"""HR directory connector: pseudonymised people and aliases, groups kept, managers read, ranges checked."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from teamlens.domain import DIRECTORY_READ_SCHEMA
from teamlens.errors import InputFormatError
from teamlens.sources.hr_directory import HR_DIRECTORY

from .sources_testkit import context, pseudonymiser, read_all, write_rows

HEADER = [
    "Employee ID",
    "Display Name",
    "Email",
    "Team",
    "Department",
    "Division",
    "Location",
    "Manager Email",
    "Valid From",
    "Valid To",
    "Time Zone",
    "Working Hours Start",
    "Working Hours End",
    "Proxy Addresses",
]


def person(i: int, **changes: str) -> dict[str, str]:
    row = {
        "Employee ID": f"E{i:04d}",
        "Display Name": f"Worker {i}",
        "Email": f"worker{i}@contoso.com",
        "Team": f"Team {i % 3}",
        "Department": "Sales",
        "Division": "",
        "Location": "Leeds",
        "Manager Email": "boss@contoso.com" if i else "",
        "Valid From": "2024-01-01",
        "Valid To": "",
        "Time Zone": "Europe/London",
        "Working Hours Start": "09:00",
        "Working Hours End": "17:00",
        "Proxy Addresses": f"SMTP:worker{i}@contoso.com;smtp:w{i}@contoso.com;X500:/o=Org/cn=w{i}",
    }
    row.update(changes)
    return row


def fails(path: Path) -> InputFormatError:
    with pytest.raises(InputFormatError) as caught:
        read_all(HR_DIRECTORY, path)
    assert "worker" not in str(caught.value)
    assert "boss" not in str(caught.value)
    return caught.value


def test_rows_become_pseudonymised_directory_rows(tmp_path: Path) -> None:
    rows = [person(i) for i in range(12)]
    rows.append(person(1, **{"Valid From": "2023-06-01", "Valid To": "2024-01-01", "Team": "Old Team"}))
    table, report, _ = read_all(HR_DIRECTORY, write_rows(tmp_path / "hr.csv", HEADER, rows))
    assert table.schema == DIRECTORY_READ_SCHEMA
    pseud = pseudonymiser()
    got = {(r["person"], r["valid_from"]): r for r in table.to_pylist()}
    for row in rows:
        out = got[(pseud(row["Email"]), dt.date.fromisoformat(row["Valid From"]))]
        assert out["team"] == row["Team"]
        assert out["department"] == "Sales"
        assert out["division"] is None
        assert out["location"] == "Leeds"
        # Another worker's pseudonym: read for 1:1 time with one's manager, never stored.
        assert out["manager"] == (pseud(row["Manager Email"]) if row["Manager Email"] else None)
        assert out["aliases"] == [pseud(f"w{row['Email'][6:-12]}@contoso.com")]
        assert out["valid_to"] == (dt.date.fromisoformat(row["Valid To"]) if row["Valid To"] else None)
    flat = str(table.to_pylist())
    assert "worker" not in flat
    assert "Worker 1" not in flat
    assert "E0001" not in flat
    assert (report.rows_read, report.rows_kept, report.people_seen) == (13, 13, 12)
    assert report.notes == []


def test_only_the_required_columns_in_any_order_and_case(tmp_path: Path) -> None:
    rows = [{"valid from": "2024-01-01", "EMAIL": f"w{i}@x.org", "team": "A"} for i in range(3)]
    path = write_rows(tmp_path / "hr.csv", ["valid from", "EMAIL", "team"], rows)
    table, _, _ = read_all(HR_DIRECTORY, path)
    assert table.column("team").to_pylist() == ["A"] * 3
    assert table.column("aliases").to_pylist() == [None] * 3
    assert table.column("valid_to").to_pylist() == [None] * 3


def test_objectors_are_not_in_the_directory(tmp_path: Path) -> None:
    rows = [person(i) for i in range(5)]
    path = write_rows(tmp_path / "hr.csv", HEADER, rows)
    table, report, _ = read_all(HR_DIRECTORY, path, context(excluded=["worker3@contoso.com"]))
    assert pseudonymiser()("worker3@contoso.com") not in table.column("person").to_pylist()
    assert (table.num_rows, report.rows_kept) == (4, 4)


def test_missing_team_column_is_refused(tmp_path: Path) -> None:
    header = [name for name in HEADER if name != "Team"]
    error = fails(write_rows(tmp_path / "hr.csv", header, [person(1)]))
    assert "missing column 'Team'" in str(error)
    assert error.line == 1


def test_a_range_ending_before_it_starts_is_refused(tmp_path: Path) -> None:
    rows = [person(0), person(1, **{"Valid To": "2023-12-31"})]
    error = fails(write_rows(tmp_path / "hr.csv", HEADER, rows))
    assert (error.line, error.field) == (3, "Valid To")


def test_overlapping_ranges_of_one_person_name_both_lines(tmp_path: Path) -> None:
    rows = [
        person(1, **{"Valid From": "2023-01-01", "Valid To": "2024-01-01"}),
        person(2),
        person(1, **{"Email": "WORKER1@contoso.com ", "Valid From": "2023-12-01", "Valid To": "2024-02-01"}),
    ]
    error = fails(write_rows(tmp_path / "hr.csv", HEADER, rows))
    assert error.line == 4
    assert "line 2 " in str(error)


def test_adjacent_ranges_do_not_overlap(tmp_path: Path) -> None:
    rows = [person(1, **{"Valid From": "2023-01-01", "Valid To": "2024-01-01"}), person(1)]
    table, report, _ = read_all(HR_DIRECTORY, write_rows(tmp_path / "hr.csv", HEADER, rows))
    assert (table.num_rows, report.people_seen) == (2, 1)


def test_an_empty_email_is_refused(tmp_path: Path) -> None:
    error = fails(write_rows(tmp_path / "hr.csv", HEADER, [person(0), person(1, Email=" ")]))
    assert (error.line, error.field) == (3, "Email")


def test_sniff_recognises_the_hr_header(tmp_path: Path) -> None:
    assert HR_DIRECTORY.sniff(write_rows(tmp_path / "hr.csv", HEADER, []))
    assert not HR_DIRECTORY.sniff(write_rows(tmp_path / "other.csv", ["Email", "Team"], []))
