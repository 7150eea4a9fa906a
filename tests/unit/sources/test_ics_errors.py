"""iCalendar connector errors: they name file, event, line and property, and never a person."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from teamlens.domain import WorkingHours
from teamlens.errors import InputFormatError
from teamlens.sources import calendar_ics_events
from teamlens.sources.calendar_ics import CALENDAR_ICS

from ...support.fuzzing import examples
from .sources_testkit import read_all
from .test_ics_calendar import accepted, calendar, ctx, event, read

PAIR = accepted("alice@contoso.com", "bob@contoso.com")
GOOD = event("ok", ":20240108T100000Z", ":20240108T110000Z", attendees=PAIR)


def fails(tmp_path: Path, text: str | bytes) -> InputFormatError:
    path = tmp_path / "calendar.ics"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    with pytest.raises(InputFormatError) as caught:
        read_all(CALENDAR_ICS, path, ctx())
    message = str(caught.value)
    for secret in ("alice", "bob", "contoso", "Secret project"):
        assert secret not in message
    return caught.value


@pytest.mark.parametrize(
    ("bad", "field", "needle"),
    [
        (
            event("x", "", ":20240108T110000Z", attendees=PAIR).replace("DTSTART\r\n", ""),
            "DTSTART",
            "no start",
        ),
        (event("x", ":2024XX08T100000Z", attendees=PAIR), "DTSTART", "not a valid date-time"),
        (
            event("x", ":20240108T100000Z", ":20240108T090000Z", attendees=PAIR),
            "DTEND",
            "ends before it starts",
        ),
        (event("x", ":20240108T100000Z", ";VALUE=DATE:20240109", attendees=PAIR), "DTEND", "same kind"),
        (
            event("x", ":20240108T100000Z", attendees=PAIR, extra=["DURATION:-PT1H"]),
            "DURATION",
            "ends before",
        ),
        (
            event("x", ":20240108T100000Z", attendees=PAIR, extra=["DURATION:P9999999W"]),
            "DURATION",
            "year 9999",
        ),
        (
            event("x", ":20240108T100000Z", attendees=PAIR, extra=["RRULE:FREQ=BOGUS"]),
            "RRULE",
            "recurrence rule",
        ),
        (
            event("x", ":20240108T100000Z", attendees=PAIR, extra=["RRULE:FREQ=DAILY;BYHOUR=99"]),
            "RRULE",
            "recurrence rule",
        ),
        (
            event("x", ":20240108T100000Z", attendees=PAIR, extra=["EXDATE:garbage"]),
            "EXDATE",
            "list of date-times",
        ),
    ],
)
def test_a_bad_event_names_its_position_and_property(
    tmp_path: Path, bad: str, field: str, needle: str
) -> None:
    error = fails(tmp_path, calendar(GOOD, GOOD.replace("UID:ok", "UID:ok2"), bad))
    assert error.field == field
    assert needle in str(error)
    assert "event 3 (VEVENT)" in str(error)
    lines = calendar(GOOD, GOOD, bad).split("\r\n")
    assert error.line == [i + 1 for i, line in enumerate(lines) if line == "BEGIN:VEVENT"][2]


def test_a_series_too_dense_to_expand_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calendar_ics_events, "MAX_OCCURRENCES", 50)
    text = calendar(
        event(
            "dense",
            ":20240108T100000Z",
            ":20240108T100500Z",
            attendees=PAIR,
            extra=["RRULE:FREQ=MINUTELY;INTERVAL=10"],
        ),
        event("later", ":20240110T100000Z", ":20240110T110000Z", attendees=PAIR),
    )
    error = fails(tmp_path, text)
    assert (error.field, error.line) == ("RRULE", 4)
    assert "too often" in str(error)


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"", "no complete calendar"),
        (b"Email,Team\nalice@contoso.com,A\n", "not a valid iCalendar file"),
        (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:20240108T100000Z\r\n", "no complete calendar"),
        (
            b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:20240108T100000Z\r\nEND:VCALENDAR\r\n",
            "no complete calendar",
        ),
        (b"\xff\xfe\x00B\x00E", "not a valid iCalendar file"),
    ],
)
def test_files_that_are_not_icalendar_are_refused(tmp_path: Path, data: bytes, needle: str) -> None:
    error = fails(tmp_path, data)
    assert needle in str(error)
    assert "calendar.ics" in str(error)


def test_events_at_the_ends_of_the_calendar_are_skipped_not_crashed_on(tmp_path: Path) -> None:
    text = calendar(
        event(
            "far", ":99991231T233000Z", ":99991231T235900Z", attendees=PAIR, extra=["RDATE:99991230T100000Z"]
        ),
        event("old", ":00010101T000000Z", ":00010101T003000Z", attendees=PAIR),
        event(
            "ok",
            ":20240108T100000Z",
            ":20240108T110000Z",
            attendees=PAIR,
            extra=["RRULE:FREQ=YEARLY;UNTIL=99991231T000000Z"],
        ),
    )
    facts, report = read(tmp_path, text, ctx(hours={"bob@contoso.com": WorkingHours(timezone="Asia/Tokyo")}))
    # The yearly series' far UNTIL moves the window a year past its start, not to the year 2199.
    assert {day.year for _, day, _ in facts} == {2024, 2025}
    assert any("2 events dated before 1900 or after 2199" in note for note in report.notes)


def test_a_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputFormatError, match="cannot be opened"):
        read_all(CALENDAR_ICS, tmp_path / "absent.ics", ctx())


def test_canary_never_leaves_the_reader(tmp_path: Path) -> None:
    canary = "zq-0ddba11@canary.example"
    people = [(canary, "PARTSTAT=ACCEPTED;CN=Zq Oddball"), ("bob@contoso.com", "PARTSTAT=ACCEPTED")]
    text = calendar(event("c", ":20240108T100000Z", ":20240108T110000Z", attendees=people, organizer=canary))
    facts, report = read(tmp_path, text, ctx())
    assert facts
    assert "0ddba11" not in str(facts) + str(report)
    assert "Oddball" not in str(facts) + str(report)
    error = fails(
        tmp_path,
        calendar(
            event(
                "c",
                ":20240108T100000Z",
                attendees=people,
                organizer=canary,
                extra=[f"RRULE:FREQ=DAILY;X-NAME={canary}"],
            )
        ),
    )
    assert "0ddba11" not in str(error)


SEED = calendar(
    event(
        "s",
        ";TZID=Europe/London:20240108T100000",
        ";TZID=Europe/London:20240108T110000",
        attendees=PAIR,
        organizer="carol@contoso.com",
        extra=["RRULE:FREQ=WEEKLY;COUNT=3", "EXDATE:20240115T100000Z"],
    ),
    event(
        "s",
        ":20240123T100000Z",
        ":20240123T110000Z",
        attendees=PAIR,
        extra=["RECURRENCE-ID:20240122T100000Z"],
    ),
    event("a", ";VALUE=DATE:20240109", attendees=PAIR),
)
SPICE = st.sampled_from(
    [
        ":",
        ";",
        "\r\n",
        "\r\n ",
        "=",
        ",",
        "Z",
        "T",
        "9",
        "-",
        "BEGIN:VEVENT",
        "END:VEVENT",
        "\x00",
        "é",
        "RRULE:FREQ=DAILY",
        "TZID=Nowhere/Land",
    ]
)
counter = itertools.count()


def survives(folder: Path, data: bytes) -> None:
    path = folder / f"f{next(counter)}.ics"
    path.write_bytes(data)
    assert isinstance(CALENDAR_ICS.sniff(path), bool)
    message = ""
    try:
        read_all(CALENDAR_ICS, path, ctx())
    except InputFormatError as error:
        message = str(error)
    assert "alice" not in message
    assert "carol" not in message


def test_the_fuzz_seed_reads_cleanly(tmp_path: Path) -> None:
    facts, _ = read(tmp_path, SEED, ctx())
    assert facts


@settings(max_examples=examples(300), suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400))
def test_random_bytes_raise_only_input_format_errors(tmp_path: Path, data: bytes) -> None:
    survives(tmp_path, data)


@settings(max_examples=examples(300), suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    edits=st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 4), SPICE), max_size=6),
    cut=st.none() | st.integers(0, 2000),
)
def test_garbled_calendars_raise_only_input_format_errors(
    tmp_path: Path, edits: list[tuple[int, int, str]], cut: int | None
) -> None:
    text = SEED
    for at, removed, inserted in edits:
        at %= len(text) + 1
        text = text[:at] + inserted + text[at + removed :]
    if cut is not None:
        text = text[: cut % (len(text) + 1)]
    survives(tmp_path, text.encode())
