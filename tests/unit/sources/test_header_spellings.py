"""CSV headers match in any common spelling; an unknown file names what each format would need."""

from __future__ import annotations

from pathlib import Path

import pytest

from teamlens.errors import InputFormatError
from teamlens.sources import detect_directory
from teamlens.sources.csv_table import normalise_header
from teamlens.sources.hr_directory import HR_DIRECTORY
from teamlens.sources.registry import unrecognised

from .sources_testkit import read_all

ROWS = "ana@corp.example,Alpha,2024-01-01\nbo@corp.example,Beta,2024-02-05\n"


@pytest.mark.parametrize(
    "header",
    ["Email,Team,Valid From", "email,team,valid_from", "EMail,TEAM,ValidFrom", "E-mail,Team,VALID-FROM"],
)
def test_an_hr_directory_is_recognised_and_read_whatever_the_spelling(tmp_path: Path, header: str) -> None:
    path = tmp_path / "hr.csv"
    path.write_text(f"{header}\n{ROWS}")
    assert detect_directory(path) is HR_DIRECTORY
    table, _, _ = read_all(HR_DIRECTORY, path)
    assert sorted(table.column("team").to_pylist()) == ["Alpha", "Beta"]


def test_spellings_differ_only_by_case_and_separators() -> None:
    assert (
        len(
            {normalise_header(name) for name in ("Valid From", "valid_from", "ValidFrom", "\ufeffVALID-FROM")}
        )
        == 1
    )
    assert normalise_header("Valid From") != normalise_header("Valid To")  # teeth: not everything is one


def test_an_unrecognised_csv_names_each_format_compared_and_the_columns_it_would_need(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("Email,Group,Start\nana@corp.example,Alpha,2024-01-01\n")
    error = unrecognised(path)
    assert isinstance(error, InputFormatError)
    text = str(error)
    assert "hr_directory_csv" in text and "would need the columns Team, Valid From" in text
    assert "viva_insights_person_query" in text and "PersonId, MetricDate" in text
    assert "m365_email_activity" in text and "calendar_ics" in text
    assert "ana@corp.example" not in text  # nothing from the file's rows
