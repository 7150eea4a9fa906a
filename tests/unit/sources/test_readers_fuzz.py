"""Garbage in, an InputFormatError out: no other exception, no hang, from any built-in reader."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from teamlens.domain.vendor_formats import EMAIL_HEADER, TEAMS_HEADER
from teamlens.errors import InputFormatError
from teamlens.sources.hr_directory import HR_DIRECTORY
from teamlens.sources.m365_reports import EMAIL_ACTIVITY, TEAMS_ACTIVITY
from teamlens.sources.reader import DirectoryReader, SourceReader

from ...support.fuzzing import examples
from .sources_testkit import context, read_all

READERS: list[SourceReader | DirectoryReader] = [EMAIL_ACTIVITY, TEAMS_ACTIVITY, HR_DIRECTORY]
HR_HEADER = "Email,Team,Department,Manager Email,Valid From,Valid To"
VALID = {
    "m365_email_activity": EMAIL_HEADER
    + "\r\n"
    + "2024-01-07,a@x.org,A,False,,2024-01-05,3,4,5,0,1,E3,7\r\n"
    + '2024-01-07,b@x.org,"B, b",False,,,,,9,,,E3,7\r\n',
    "m365_teams_activity": TEAMS_HEADER
    + "\r\n"
    + ",".join(["2024-01-07", "T", "", "id", "a@x.org", *["1"] * 27, "7"])
    + "\r\n",
    "hr_directory_csv": HR_HEADER
    + "\n"
    + "a@x.org,Sales,S,b@x.org,2024-01-01,\n"
    + "b@x.org,Sales,S,,2023-01-01,2024-02-01\n",
}
SPICE = st.sampled_from(['"', ",", "\n", "\r", "\x00", "\ufeff", "x", "-1", "2024-02-30", "", "\\", " ", "é"])
FUZZ = settings(max_examples=examples(300), suppress_health_check=[HealthCheck.function_scoped_fixture])
counter = itertools.count()


def survives(reader: SourceReader | DirectoryReader, folder: Path, data: bytes) -> None:
    path = folder / f"fuzz{next(counter)}.csv"
    path.write_bytes(data)
    assert isinstance(reader.sniff(path), bool)
    message = ""
    try:
        read_all(reader, path, context(batch_rows=2))
    except InputFormatError as error:
        message = str(error)
    assert "a@x.org" not in message
    assert "b@x.org" not in message


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.mark.parametrize("reader", READERS, ids=lambda reader: reader.name)
@FUZZ
@given(data=st.binary(max_size=400))
def test_random_bytes(reader: SourceReader | DirectoryReader, folder: Path, data: bytes) -> None:
    survives(reader, folder, data)


@pytest.mark.parametrize("reader", READERS, ids=lambda reader: reader.name)
@FUZZ
@given(
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 3), SPICE), max_size=6),
    cut=st.none() | st.integers(0, 10_000),
)
def test_garbled_valid_files(
    reader: SourceReader | DirectoryReader, folder: Path, edits: list[tuple[int, int, str]], cut: int | None
) -> None:
    text = VALID[reader.name]
    for position, removed, inserted in edits:
        at = position % (len(text) + 1)
        text = text[:at] + inserted + text[at + removed :]
    if cut is not None:
        text = text[: cut % (len(text) + 1)]
    survives(reader, folder, text.encode("utf-8", "surrogatepass"))


@pytest.mark.parametrize("reader", READERS, ids=lambda reader: reader.name)
def test_the_valid_seeds_read_cleanly(reader: SourceReader | DirectoryReader, folder: Path) -> None:
    path = folder / f"{reader.name}.csv"
    path.write_text(VALID[reader.name], encoding="utf-8")
    table, report, _ = read_all(reader, path)
    assert report.rows_read >= 1
    assert table.num_rows >= 1
