"""iCalendar recurrence: RRULE, RDATE, EXDATE and overrides expanded inside the file's window."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from teamlens.domain import WorkingHours

from .test_ics_calendar import accepted, calendar, ctx, event, pseud, read

PAIR = accepted("a@contoso.com", "b@contoso.com")


def days_of(
    facts: dict[tuple[str, dt.date, str], int], metric: str = "meetings_attended", who: str = "a@contoso.com"
) -> dict[dt.date, int]:
    return {
        day: value for (person, day, name), value in facts.items() if person == pseud(who) and name == metric
    }


def mondays(*days: int) -> dict[dt.date, int]:
    return {dt.date(2024, 1, day): 1 for day in days}


def test_count_exdate_rdate_and_overrides(tmp_path: Path) -> None:
    text = calendar(
        event(
            "s",
            ":20240108T100000Z",
            ":20240108T110000Z",
            attendees=PAIR,
            extra=["RRULE:FREQ=WEEKLY;COUNT=6", "EXDATE:20240115T100000Z", "RDATE:20240110T150000Z"],
        ),
        # The 22nd moves to Tuesday the 23rd and lasts two hours; the 29th is cancelled.
        event(
            "s",
            ":20240123T140000Z",
            ":20240123T160000Z",
            attendees=PAIR,
            extra=["RECURRENCE-ID:20240122T100000Z", "SEQUENCE:1"],
        ),
        event(
            "s",
            ":20240129T100000Z",
            ":20240129T110000Z",
            attendees=PAIR,
            extra=["RECURRENCE-ID:20240129T100000Z", "STATUS:CANCELLED"],
        ),
    )
    facts, _ = read(tmp_path, text)
    # Six occurrences from the 8th (the excluded 15th still counts towards COUNT), plus the RDATE.
    assert days_of(facts) == mondays(8, 10, 23) | {dt.date(2024, 2, 5): 1, dt.date(2024, 2, 12): 1}
    assert days_of(facts, "recurring_meetings") == days_of(facts)
    assert days_of(facts, "meeting_minutes")[dt.date(2024, 1, 23)] == 120
    assert days_of(facts, "long_meetings") == {dt.date(2024, 1, 23): 1}


def test_an_override_can_change_who_attends(tmp_path: Path) -> None:
    text = calendar(
        event(
            "s", ":20240108T100000Z", ":20240108T103000Z", attendees=PAIR, extra=["RRULE:FREQ=DAILY;COUNT=3"]
        ),
        event(
            "s",
            ":20240109T100000Z",
            ":20240109T103000Z",
            attendees=[("a@contoso.com", "PARTSTAT=DECLINED"), ("b@contoso.com", "PARTSTAT=ACCEPTED")],
            extra=["RECURRENCE-ID:20240109T100000Z"],
        ),
    )
    facts, _ = read(tmp_path, text)
    assert days_of(facts) == mondays(8, 10)
    assert days_of(facts, who="b@contoso.com") == mondays(8, 9, 10)


def test_until_as_a_date_or_utc_time_with_a_zoned_start(tmp_path: Path) -> None:
    text = calendar(
        event(
            "d",
            ";TZID=Europe/London:20240108T090000",
            ";TZID=Europe/London:20240108T093000",
            attendees=PAIR,
            extra=["RRULE:FREQ=DAILY;UNTIL=20240110"],
        ),
        event(
            "t",
            ";TZID=Europe/London:20240108T120000",
            ";TZID=Europe/London:20240108T123000",
            attendees=PAIR,
            extra=["RRULE:FREQ=DAILY;UNTIL=20240111T120000Z"],
        ),
        event("end", ":20240131T100000Z", ":20240131T110000Z", attendees=PAIR),
    )
    facts, _ = read(tmp_path, text)
    assert days_of(facts) == {
        dt.date(2024, 1, 8): 2,
        dt.date(2024, 1, 9): 2,
        dt.date(2024, 1, 10): 2,
        dt.date(2024, 1, 11): 1,
        dt.date(2024, 1, 31): 1,
    }


def test_open_ended_series_stop_at_the_files_last_dated_event(tmp_path: Path) -> None:
    text = calendar(
        event(
            "daily",
            ":20240108T100000Z",
            ":20240108T103000Z",
            attendees=PAIR,
            extra=["RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR"],
        ),
        event("last", ":20240117T150000Z", ":20240117T153000Z", attendees=PAIR),
    )
    facts, _ = read(tmp_path, text)
    assert days_of(facts, "recurring_meetings") == mondays(8, 9, 10, 11, 12, 15, 16, 17)
    assert days_of(facts)[dt.date(2024, 1, 17)] == 2


def test_weekly_series_keep_their_local_time_across_daylight_saving(tmp_path: Path) -> None:
    text = calendar(
        event(
            "dst",
            ";TZID=Europe/London:20240318T003000",
            ";TZID=Europe/London:20240318T010000",
            attendees=PAIR,
            extra=["RRULE:FREQ=WEEKLY;COUNT=3"],
        )
    )
    facts, _ = read(
        tmp_path,
        text,
        ctx(frozenset({"meetings_attended"}), hours={"b@contoso.com": WorkingHours(timezone="UTC")}),
    )
    assert days_of(facts) == {dt.date(2024, 3, 18): 1, dt.date(2024, 3, 25): 1, dt.date(2024, 4, 1): 1}
    # 00:30 in London is 00:30 UTC before the change (31 March) and 23:30 UTC the day before after it.
    assert days_of(facts, who="b@contoso.com") == {
        dt.date(2024, 3, 18): 1,
        dt.date(2024, 3, 25): 1,
        dt.date(2024, 3, 31): 1,
    }


def test_the_window_keeps_only_the_latest_year(tmp_path: Path) -> None:
    text = calendar(
        event("old", ":20220103T100000Z", ":20220103T110000Z", attendees=PAIR),
        event(
            "weekly", ":20220103T120000Z", ":20220103T130000Z", attendees=PAIR, extra=["RRULE:FREQ=WEEKLY"]
        ),
        event("new", ":20240105T100000Z", ":20240105T110000Z", attendees=PAIR),
    )
    facts, report = read(tmp_path, text)
    days = days_of(facts)
    assert min(days) >= dt.date(2024, 1, 5) - dt.timedelta(days=365)
    assert dt.date(2022, 1, 3) not in days
    assert sum(days_of(facts, "recurring_meetings").values()) == 52
    assert any("latest 366 days" in note for note in report.notes)


def test_a_later_sequence_of_the_same_event_wins(tmp_path: Path) -> None:
    text = calendar(
        event("dup", ":20240108T100000Z", ":20240108T110000Z", attendees=PAIR, extra=["SEQUENCE:2"]),
        event("dup", ":20240108T100000Z", ":20240108T103000Z", attendees=PAIR, extra=["SEQUENCE:1"]),
        event("dup2", ":20240109T100000Z", ":20240109T110000Z", attendees=PAIR),
        event(
            "dup2",
            ":20240109T100000Z",
            ":20240109T110000Z",
            attendees=PAIR,
            extra=["STATUS:CANCELLED", "SEQUENCE:1"],
        ),
    )
    facts, report = read(tmp_path, text)
    assert days_of(facts, "meeting_minutes") == {dt.date(2024, 1, 8): 60}
    assert any("1 event appeared more than once" in note for note in report.notes)


def test_an_override_without_its_series_counts_once(tmp_path: Path) -> None:
    text = calendar(
        event(
            "orphan",
            ":20240110T100000Z",
            ":20240110T110000Z",
            attendees=PAIR,
            extra=["RECURRENCE-ID:20240109T100000Z"],
        )
    )
    facts, _ = read(tmp_path, text)
    assert days_of(facts, "recurring_meetings") == mondays(10)


def test_rdates_alone_make_a_series(tmp_path: Path) -> None:
    text = calendar(
        event(
            "r",
            ":20240108T100000Z",
            ":20240108T110000Z",
            attendees=PAIR,
            extra=["RDATE:20240111T100000Z,20240112T160000Z"],
        )
    )
    facts, _ = read(tmp_path, text)
    assert days_of(facts, "recurring_meetings") == mondays(8, 11, 12)
