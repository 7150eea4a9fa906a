"""Garbage in, an InputFormatError out: the Slack connector never fails any other way, nor hangs."""

from __future__ import annotations

import io
import itertools
import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from teamlens.domain import Exclusions
from teamlens.errors import InputFormatError
from teamlens.sources.slack_export import SLACK_EXPORT

from ...support.fuzzing import examples
from .sources_testkit import read_all
from .test_slack_export import BASIC, USERS, ctx, write_export

FUZZ = settings(max_examples=examples(200), suppress_health_check=[HealthCheck.function_scoped_fixture])
SPICE = st.sampled_from(
    [
        '"',
        ",",
        "[",
        "]",
        "{",
        "}",
        ":",
        "\x00",
        "null",
        "1e999",
        "-",
        "\\u",
        "é",
        " ",
        "\n",
        '"ts"',
        '"user"',
        '"reactions"',
        "[]",
        "{}",
        "2024-13-01",
    ]
)
counter = itertools.count()
SECRETS = ("alice@corp.example", "UALICE", "secret words")


def survives(path: Path) -> None:
    assert isinstance(SLACK_EXPORT.sniff(path), bool)
    message = ""
    try:
        # With an exclusion, so that the private-conversation listings are read too.
        read_all(SLACK_EXPORT, path, ctx(exclusions=Exclusions(domains=("union.example",))))
    except InputFormatError as error:
        message = str(error)
    for secret in SECRETS:
        assert secret not in message


def garble(text: str, edits: list[tuple[int, int, str]], cut: int | None) -> str:
    for position, removed, inserted in edits:
        at = position % (len(text) + 1)
        text = text[:at] + inserted + text[at + removed :]
    return text if cut is None else text[: cut % (len(text) + 1)]


@pytest.fixture(scope="module")
def valid_zip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    folder = write_export(tmp_path_factory.mktemp("seed") / "export", BASIC)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                archive.write(file, str(file.relative_to(folder)))
    return buffer.getvalue()


@FUZZ
@given(data=st.binary(max_size=600))
def test_random_bytes_as_a_zip(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / f"fuzz{next(counter)}.zip"
    path.write_bytes(data)
    survives(path)


@FUZZ
@given(
    flips=st.lists(st.tuples(st.integers(0, 100_000), st.integers(0, 255)), min_size=1, max_size=8),
    cut=st.none() | st.integers(0, 100_000),
)
def test_damaged_zips(
    tmp_path: Path, valid_zip: bytes, flips: list[tuple[int, int]], cut: int | None
) -> None:
    data = bytearray(valid_zip)
    for position, value in flips:
        data[position % len(data)] = value
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    path = tmp_path / f"fuzz{next(counter)}.zip"
    path.write_bytes(bytes(data))
    survives(path)


@FUZZ
@given(
    target=st.sampled_from(["general/2024-01-03.json", "users.json", "dms.json"]),
    edits=st.lists(st.tuples(st.integers(0, 3_000), st.integers(0, 3), SPICE), max_size=6),
    cut=st.none() | st.integers(0, 3_000),
)
def test_garbled_json_files(
    tmp_path: Path, target: str, edits: list[tuple[int, int, str]], cut: int | None
) -> None:
    folder = tmp_path / f"export{next(counter)}"
    write_export(
        folder,
        BASIC,
        listings={"dms.json": [{"id": "D1", "members": ["UALICE", "UREP"]}]},
        users=[*USERS, {"id": "UREP", "team_id": "T", "profile": {"email": "r@union.example"}}],
    )
    text = (folder / target).read_text()
    (folder / target).write_bytes(garble(text, edits, cut).encode("utf-8", "surrogatepass"))
    survives(folder)


def test_the_seeds_read_cleanly(tmp_path: Path, valid_zip: bytes) -> None:
    path = tmp_path / "seed.zip"
    path.write_bytes(valid_zip)
    table, _, _ = read_all(SLACK_EXPORT, path, ctx())
    assert table.num_rows == 11
    folder = write_export(tmp_path / "f", BASIC, listings={"dms.json": [{"id": "D1", "members": ["UALICE"]}]})
    assert json.loads((folder / "dms.json").read_text())
    table, _, _ = read_all(SLACK_EXPORT, folder, ctx(exclusions=Exclusions(domains=("corp.example",))))
    assert table.num_rows == 0
