"""The shared CSV reading path: header matching, streaming, and errors that point at a line."""

from __future__ import annotations

from pathlib import Path

import pytest

from teamlens.domain.vendor_formats import EMAIL_HEADER
from teamlens.errors import InputFormatError
from teamlens.sources import ReadReport
from teamlens.sources.csv_table import CsvLayout, CsvTable
from teamlens.sources.m365_reports import EMAIL_ACTIVITY

from .sources_testkit import context, read_all

SECRET = "alice.secret@contoso.com"  # noqa: S105 - an identifier, not a password
OTHER = "bob.hidden@contoso.com"


def email_line(upn: str, send: str = "3", refresh: str = "2024-01-07", period: str = "7") -> str:
    return f"{refresh},{upn},Alice Secret,False,,2024-01-05,{send},4,5,0,1,E3,{period}"


def write(tmp_path: Path, text: str, name: str = "report.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def fails(path: Path) -> InputFormatError:
    with pytest.raises(InputFormatError) as caught:
        read_all(EMAIL_ACTIVITY, path)
    message = str(caught.value)
    assert str(path) in message
    for identifier in (SECRET, OTHER, "Alice Secret", "alice.secret"):
        assert identifier not in message
    return caught.value


def test_missing_column_is_named_with_the_documented_header(tmp_path: Path) -> None:
    header = EMAIL_HEADER.replace("Send Count,", "")
    line = email_line(SECRET).replace(",3,4,", ",4,")
    error = fails(write(tmp_path, f"{header}\n{line}\n"))
    assert error.line == 1
    assert "missing column 'Send Count'" in str(error)
    assert "getEmailActivityUserDetail" in str(error)


def test_a_column_that_appears_twice_is_refused(tmp_path: Path) -> None:
    error = fails(write(tmp_path, EMAIL_HEADER + ",send count\n" + email_line(SECRET) + ",1\n"))
    assert "'Send Count' appears more than once" in str(error)


@pytest.mark.parametrize("value", ["3.5", "x7", "-2", "1e3", "٣"])
def test_a_count_that_is_not_a_whole_number_names_line_and_column(tmp_path: Path, value: str) -> None:
    lines = [EMAIL_HEADER, email_line(OTHER), email_line(OTHER), email_line(SECRET, send=value)]
    error = fails(write(tmp_path, "\n".join(lines) + "\n"))
    assert (error.line, error.field) == (4, "Send Count")
    assert "a whole number" in str(error)


@pytest.mark.parametrize("value", ["2024-02-30", "2023-02-29", "2024-1-7", "07/01/2024", "2024-01-07T00:00"])
def test_an_impossible_date_names_line_and_column(tmp_path: Path, value: str) -> None:
    lines = [EMAIL_HEADER, email_line(OTHER), email_line(SECRET, refresh=value)]
    error = fails(write(tmp_path, "\n".join(lines) + "\n"))
    assert (error.line, error.field) == (3, "Report Refresh Date")
    assert "a date YYYY-MM-DD" in str(error)


def test_line_numbers_are_physical_lines_despite_quoted_newlines_and_blank_lines(tmp_path: Path) -> None:
    multi = email_line(OTHER).replace("Alice Secret", '"Name\non two lines"')
    lines = [EMAIL_HEADER, multi, "", email_line(OTHER), email_line(SECRET, send="bad")]
    error = fails(write(tmp_path, "\r\n".join(lines) + "\r\n"))
    # header 1, quoted row 2-3, blank 4, row 5, bad row 6
    assert error.line == 6


def test_a_file_cut_mid_row_is_reported_as_truncated(tmp_path: Path) -> None:
    text = "\n".join([EMAIL_HEADER, email_line(OTHER), email_line(SECRET)])
    error = fails(write(tmp_path, text[: text.rindex(",4,5")]))
    assert error.line == 3
    assert "ends in the middle of a row" in str(error)


def test_a_row_with_too_many_fields_names_its_line(tmp_path: Path) -> None:
    lines = [EMAIL_HEADER, email_line(OTHER) + ",extra", email_line(SECRET)]
    error = fails(write(tmp_path, "\n".join(lines) + "\n"))
    assert error.line == 2
    assert "has 14 fields but the header has 13" in str(error)


def test_an_unterminated_quote_names_the_line_it_starts_on(tmp_path: Path) -> None:
    broken = email_line(SECRET).replace("Alice Secret", '"Alice Secret')
    lines = [EMAIL_HEADER, email_line(OTHER), broken, email_line(OTHER)]
    error = fails(write(tmp_path, "\n".join(lines) + "\n"))
    assert error.line == 3
    assert "never closed" in str(error)


@pytest.mark.parametrize("text", ["", "\ufeff", "\n\n"])
def test_an_empty_file_or_missing_header_is_refused(tmp_path: Path, text: str) -> None:
    error = fails(write(tmp_path, text))
    assert error.line == 1
    assert "header" in str(error)


def test_invalid_utf8_in_a_column_read_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    body = "\n".join([EMAIL_HEADER, email_line(OTHER), email_line(SECRET)]).encode()
    path.write_bytes(body.replace(b"alice.secret", b"alice\xff\xfe", 1) + b"\n")
    error = fails(path)
    assert error.line == 3
    assert "UTF-8" in str(error)


def test_invalid_utf8_in_a_column_never_read_is_not_looked_at(tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    body = "\n".join([EMAIL_HEADER, email_line(OTHER), email_line(SECRET)]).encode()
    path.write_bytes(body.replace(b"Alice Secret", b"Alice \xff\xfe", 1) + b"\n")
    _, report, _ = read_all(EMAIL_ACTIVITY, path)
    assert report.rows_read == 2


@pytest.mark.parametrize("end", ["\r\n", ""])
def test_a_header_only_file_reads_as_empty(tmp_path: Path, end: str) -> None:
    _, report, batches = read_all(EMAIL_ACTIVITY, write(tmp_path, "\ufeff" + EMAIL_HEADER + end))
    assert (batches, report.rows_read) == (0, 0)


def test_bom_crlf_and_no_final_newline_are_accepted(tmp_path: Path) -> None:
    text = "\ufeff" + "\r\n".join([EMAIL_HEADER, email_line(OTHER), email_line(SECRET, send="7")])
    table, report, _ = read_all(EMAIL_ACTIVITY, write(tmp_path, text))
    assert report.rows_read == 2
    sent = [row["value"] for row in table.to_pylist() if row["metric"] == "emails_sent"]
    assert sorted(sent) == [3, 7]


def test_batches_never_exceed_batch_rows(tmp_path: Path) -> None:
    lines = [EMAIL_HEADER] + [email_line(f"p{i}@x.org") for i in range(100)]
    layout = CsvLayout(describe="test", documented=EMAIL_HEADER, required=("Send Count",))
    table = CsvTable(write(tmp_path, "\n".join(lines) + "\n"), layout, ReadReport())
    sizes = [batch.num_rows for batch in table.batches(30)]
    assert sizes == [30, 30, 30, 10]
    assert [batch.first_row for batch in table.batches(30)] == [0, 30, 60, 90]


def test_errors_in_a_later_batch_still_name_the_physical_line(tmp_path: Path) -> None:
    lines = [EMAIL_HEADER] + [email_line(f"p{i}@x.org") for i in range(100)]
    lines[77] = email_line(SECRET, send="nope")
    with pytest.raises(InputFormatError) as caught:
        read_all(EMAIL_ACTIVITY, write(tmp_path, "\n".join(lines) + "\n"), context(batch_rows=16))
    assert (caught.value.line, caught.value.field) == (78, "Send Count")
