"""Garbage in, an InputFormatError out: the saved Reports API reader never fails any other way, or hangs."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from teamlens.errors import InputFormatError
from teamlens.sources import ReadReport
from teamlens.sources.google_reports import GOOGLE_REPORTS

from ...support.fuzzing import examples
from .test_google_reports import ANA, BEN, MIXED, context, page

FUZZ = settings(max_examples=examples(300), suppress_health_check=[HealthCheck.function_scoped_fixture])
SEED = json.dumps(page(MIXED[:3] + MIXED[5:7] + MIXED[-1:]))
SPICE = st.sampled_from(
    [
        '"',
        ",",
        "{",
        "}",
        "[",
        "]",
        ":",
        "\n",
        "\x00",
        "\ufeff",
        "-1",
        "1e999",
        "null",
        "true",
        '"x"',
        "\\",
        "é",
        "\ud800",
        "Z",
        "T99",
    ]
)
KEYS = st.sampled_from(
    [
        "kind",
        "items",
        "id",
        "time",
        "applicationName",
        "actor",
        "email",
        "callerType",
        "events",
        "name",
        "parameters",
        "intValue",
        "value",
        "boolValue",
        "multiValue",
        "messageValue",
        "parameter",
        "multiMessageValue",
        "nextPageToken",
        "x",
    ]
)
SCALARS = st.one_of(
    st.sampled_from(
        [
            "admin#reports#activities",
            "admin#reports#activity",
            "gmail",
            "meet",
            "chat",
            "calendar",
            "delivery",
            "call_ended",
            "message_posted",
            "USER",
            "KEY",
            "event_info",
            "mail_event_type",
            "message",
            "address",
            "duration_seconds",
            "conference_id",
            "organizer_email",
            "2024-01-08T10:00:00Z",
            "2024-01-08T10:00:00",
            "9999-12-31T23:59:59-23:59",
            "0001-01-01T00:00:00+14:00",
            "1",
            "2",
            "7",
            "-5",
            "99999999999999999999",
            ANA,
        ]
    ),
    st.integers(),
    st.floats(allow_nan=True),
    st.booleans(),
    st.none(),
    st.text(max_size=5),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=6),
    max_leaves=40,
)
INTS = st.sampled_from(["1", "2", "7", "1800", "-5", "x", "1e3", "99999999999999999999"]) | st.integers()
NAMES = st.sampled_from(
    [
        "event_info",
        "mail_event_type",
        "message",
        "source",
        "destination",
        "address",
        "from_header_address",
        "duration_seconds",
        "conference_id",
        "organizer_email",
        "x",
    ]
)
PARAMETER = st.recursive(
    st.fixed_dictionaries(
        {"name": NAMES},
        optional={"intValue": INTS, "value": SCALARS, "multiValue": st.lists(SCALARS, max_size=3)},
    ),
    lambda inner: (
        st.fixed_dictionaries(
            {"name": NAMES, "messageValue": st.fixed_dictionaries({"parameter": st.lists(inner, max_size=3)})}
        )
        | st.fixed_dictionaries(
            {
                "name": NAMES,
                "multiMessageValue": st.lists(
                    st.fixed_dictionaries({"parameter": st.lists(inner, max_size=3)}), max_size=2
                ),
            }
        )
    ),
    max_leaves=12,
)
EVENT = st.fixed_dictionaries(
    {"name": st.sampled_from(["delivery", "call_ended", "message_posted"])},
    optional={"parameters": st.lists(PARAMETER, max_size=4)},
)
#: Activities that look right down to the parameters, with any value anywhere: the deep paths.
ACTIVITY = st.fixed_dictionaries(
    {
        "id": st.fixed_dictionaries(
            {
                "time": st.sampled_from(
                    [
                        "2024-01-09T23:30:00.1+02:00",
                        "2024-01-08T10:00:00Z",
                        "2024-01-08T10:00:00.000Z",
                        "2024-13-01T00:00:00Z",
                        "x",
                    ]
                ),
                "applicationName": st.sampled_from(["gmail", "meet", "chat"]),
            }
        ),
        "actor": st.fixed_dictionaries(
            {},
            optional={
                "email": st.sampled_from([ANA, BEN, "rep@union.example", ""]),
                "callerType": st.sampled_from(["USER", "KEY"]),
            },
        ),
        "events": st.lists(EVENT, max_size=3),
    },
    optional={"kind": st.just("admin#reports#activity")},
)
counter = itertools.count()


def survives(folder: Path, data: bytes, domains: tuple[str, ...] = ()) -> None:
    path = folder / f"fuzz{next(counter)}.json"
    path.write_bytes(data)
    assert isinstance(GOOGLE_REPORTS.sniff(path), bool)
    message = ""
    try:
        list(GOOGLE_REPORTS.read(path, context(batch_rows=2, domains=domains), ReadReport()))
    except InputFormatError as error:
        message = str(error)
    assert ANA not in message
    assert BEN not in message


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("google-fuzz")


@FUZZ
@given(data=st.binary(max_size=400))
def test_random_bytes(folder: Path, data: bytes) -> None:
    survives(folder, data)


@FUZZ
@given(
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 3), SPICE), max_size=6),
    cut=st.none() | st.integers(0, 10_000),
)
def test_garbled_valid_files(folder: Path, edits: list[tuple[int, int, str]], cut: int | None) -> None:
    text = SEED
    for position, removed, inserted in edits:
        at = position % (len(text) + 1)
        text = text[:at] + inserted + text[at + removed :]
    if cut is not None:
        text = text[: cut % (len(text) + 1)]
    survives(folder, text.encode("utf-8", "surrogatepass"))


@FUZZ
@given(items=st.lists(JSON, max_size=4), wrap=st.sampled_from(["page", "array", "lines", "bare"]))
def test_well_formed_json_of_the_wrong_shape(folder: Path, items: list[object], wrap: str) -> None:
    pages = {"kind": "admin#reports#activities", "items": items}
    text = {
        "page": json.dumps(pages),
        "array": json.dumps([pages, pages]),
        "lines": "\n".join(json.dumps(item) for item in items) or "{}",
        "bare": json.dumps(items),
    }[wrap]
    survives(folder, text.encode("utf-8", "surrogatepass"))


@FUZZ
@given(items=st.lists(ACTIVITY, min_size=1, max_size=2))
def test_activities_with_any_value_in_any_field(folder: Path, items: list[object]) -> None:
    text = json.dumps({"kind": "admin#reports#activities", "items": items})
    survives(folder, text.encode("utf-8", "surrogatepass"), domains=("union.example", "example.org"))


def test_the_seed_reads_cleanly(folder: Path) -> None:
    path = folder / "seed.json"
    path.write_text(SEED)
    report = ReadReport()
    assert list(GOOGLE_REPORTS.read(path, context(), report))
    assert report.rows_read == 6
