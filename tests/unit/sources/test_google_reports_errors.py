"""Malformed saved Reports API files: every error names the file, the line, the item and the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from teamlens.domain import WorkingHours
from teamlens.errors import ConfigError, InputFormatError

from .test_google_reports import ANA, MIXED, context, meet, page, read, write

BROKEN = [
    ('{"kind": "admin#reports#activities",\n "items": [}', "is not valid JSON", 2, None),
    (
        json.dumps(page([MIXED[0], {**MIXED[1], "id": {"applicationName": "gmail"}}])),
        "is missing",
        1,
        "items[1].id.time",
    ),
    (
        "\n"
        + json.dumps(
            [page(MIXED[:1]), page([{**MIXED[0], "id": {"time": "yesterday", "applicationName": "x"}}])]
        ),
        "is not a time",
        2,
        "[1].items[0].id.time",
    ),
    (json.dumps({"kind": "admin#directory#users", "users": []}), "is not a Reports API page", 1, "kind"),
    (
        json.dumps(page([{**MIXED[0], "kind": "admin#reports#other"}])),
        "is not an activity",
        1,
        "items[0].kind",
    ),
    (
        json.dumps(page([{**MIXED[0], "id": {"time": "2024-01-08T10:00:00", "applicationName": "gmail"}}])),
        "has no time zone",
        1,
        "items[0].id.time",
    ),
    (
        json.dumps(page([meet(ANA, "2024-01-08T10:00:00Z", -5)])),
        "is negative",
        1,
        "items[0].events[0].parameters.duration_seconds",
    ),
    (
        json.dumps(page([meet(ANA, "2024-01-08T10:00:00Z", 5)])).replace('"5"', '"5 s"'),
        "is not a whole number",
        1,
        "items[0].events[0].parameters.duration_seconds",
    ),
    (
        json.dumps(page([{**MIXED[0], "events": {"name": "delivery"}}])),
        "is not a list of events",
        1,
        "items[0].events",
    ),
    ("[" + json.dumps(page([])) + "] []", "has text after the array", 1, None),
    ("[" + json.dumps(page([])) + " " + json.dumps(page([])) + "]", "expecting ',' or ']'", 1, None),
    ("[" + json.dumps(page([])) + ",", "ends inside the array", 1, None),
    ("  \n ", "is empty", None, None),
    ("[" * 100_000, "nests JSON too deeply", 1, None),
]


@pytest.mark.parametrize(("text", "problem", "line", "field"), BROKEN)
def test_errors_name_the_file_line_item_and_field(
    tmp_path: Path, text: str, problem: str, line: int | None, field: str | None
) -> None:
    path = write(tmp_path / "broken.json", text)
    with pytest.raises(InputFormatError) as caught:
        read(path)
    assert caught.value.file == str(path)
    assert problem in str(caught.value)
    assert caught.value.line == line
    assert caught.value.field == field
    assert ANA not in str(caught.value)
    assert "Quarterly" not in str(caught.value)


def test_bytes_that_are_not_utf8_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin.json"
    path.write_bytes(json.dumps(page(MIXED[:1])).encode("utf-8")[:-3] + b"\xe9\xff]}")
    with pytest.raises(InputFormatError, match="is not UTF-8 text"):
        read(path)


def test_an_unknown_time_zone_in_the_policy_is_a_config_error(tmp_path: Path) -> None:
    path = write(tmp_path / "a.json", json.dumps(page(MIXED[:1])))
    with pytest.raises(ConfigError, match=r"working_hours\.timezone"):
        read(path, context(hours=WorkingHours(timezone="Mars/Olympus")))
