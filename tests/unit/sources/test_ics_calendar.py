"""iCalendar connector: who attended what, on which local day, and the free time left around it."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

from teamlens.domain import FACT_SCHEMA, METRICS, Exclusions, WorkingHours
from teamlens.sources import ReadContext, ReadReport
from teamlens.sources.calendar_ics import CALENDAR_ICS, CALENDAR_METRICS

from .sources_testkit import pseudonymiser, read_all

pseud = pseudonymiser()
LONDON = WorkingHours()  # 09:00–17:30, Monday to Friday, Europe/London


def event(
    uid: str,
    start: str,
    end: str | None = None,
    *,
    attendees: Sequence[tuple[str, str]] = (),
    organizer: str | None = None,
    extra: Iterable[str] = (),
) -> str:
    """One VEVENT; ``start``/``end`` are whole property tails such as ``:20240108T100000Z``."""
    lines = ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20240301T000000Z", f"DTSTART{start}"]
    if end:
        lines.append(f"DTEND{end}")
    if organizer:
        lines.append(f"ORGANIZER;CN=Organiser:mailto:{organizer}")
    for address, params in attendees:
        lines.append(f"ATTENDEE;{params}:mailto:{address}" if params else f"ATTENDEE:mailto:{address}")
    lines += [*extra, "SUMMARY:Secret project review", "END:VEVENT"]
    return "\r\n".join(lines)


def calendar(*events: str, preamble: Iterable[str] = ()) -> str:
    return (
        "\r\n".join(
            [
                "BEGIN:VCALENDAR",
                "VERSION:2.0",
                "PRODID:-//teamlens tests//EN",
                *preamble,
                *events,
                "END:VCALENDAR",
            ]
        )
        + "\r\n"
    )


def accepted(*addresses: str) -> list[tuple[str, str]]:
    return [(address, "PARTSTAT=ACCEPTED") for address in addresses]


def ctx(
    metrics: frozenset[str] = CALENDAR_METRICS,
    *,
    excluded: Iterable[str] = (),
    exclusions: Exclusions | None = None,
    hours: dict[str, WorkingHours] | None = None,
    batch_rows: int = 65_536,
) -> ReadContext:
    return ReadContext(
        pseudonymise=pseud,
        metrics=metrics,
        excluded_persons=frozenset(pseud(a) for a in excluded),
        exclusions=exclusions or Exclusions(),
        batch_rows=batch_rows,
        person_working_hours={pseud(address): pattern for address, pattern in (hours or {}).items()},
    )


Facts = dict[tuple[str, dt.date, str], int]


def read(tmp_path: Path, text: str, context: ReadContext | None = None) -> tuple[Facts, ReadReport]:
    path = tmp_path / "calendar.ics"
    path.write_text(text, encoding="utf-8", newline="")
    table, report, _ = read_all(CALENDAR_ICS, path, context or ctx(CALENDAR_METRICS - {"focus_blocks"}))
    if table.num_rows:
        assert table.schema == FACT_SCHEMA
        assert set(table.column("days").to_pylist()) == {1}
        assert set(table.column("source").to_pylist()) == {"calendar_ics"}
    facts = {(r["person"], r["day"], r["metric"]): r["value"] for r in table.to_pylist()}
    assert 0 not in facts.values()
    return facts, report


def of(facts: Facts, address: str, day: dt.date) -> dict[str, int]:
    return {
        metric: value for (who, when, metric), value in facts.items() if who == pseud(address) and when == day
    }


MONDAY = dt.date(2024, 1, 8)
P0_P1 = accepted("p0@contoso.com", "p1@contoso.com")
AB = accepted("a@contoso.com", "b@contoso.com")


def test_attendance_replies_sizes_and_lengths(tmp_path: Path) -> None:
    eight = [f"p{i}@contoso.com" for i in range(7)]
    text = calendar(
        # 61 minutes, organiser plus 7 attendees = 8 people (not large); a room does not count.
        event(
            "a",
            ":20240108T100000Z",
            ":20240108T110100Z",
            organizer="org@contoso.com",
            attendees=[*accepted(*eight), ("room1@contoso.com", "CUTYPE=ROOM;PARTSTAT=ACCEPTED")],
        ),
        # 60 minutes with 9 people: large, not long; the organiser's own reply is declined.
        event(
            "b",
            ":20240108T130000Z",
            ":20240108T140000Z",
            organizer="org@contoso.com",
            attendees=[*accepted(*eight, "p7@contoso.com"), ("org@contoso.com", "PARTSTAT=DECLINED")],
        ),
        # Replies that are not attendance.
        event(
            "c",
            ":20240108T150000Z",
            ":20240108T153000Z",
            organizer="p0@contoso.com",
            attendees=[
                ("t@contoso.com", "PARTSTAT=TENTATIVE"),
                ("d@contoso.com", "PARTSTAT=DECLINED"),
                ("n@contoso.com", ""),
                ("x@contoso.com", "PARTSTAT=ACCEPTED;ROLE=NON-PARTICIPANT"),
            ],
        ),
        # Not meetings: alone, all-day, free, cancelled.
        event("d", ":20240108T160000Z", ":20240108T170000Z", organizer="solo@contoso.com"),
        event("e", ";VALUE=DATE:20240108", ";VALUE=DATE:20240109", attendees=P0_P1),
        event("f", ":20240108T080000Z", ":20240108T083000Z", attendees=P0_P1, extra=["TRANSP:TRANSPARENT"]),
        event("g", ":20240108T070000Z", ":20240108T073000Z", attendees=P0_P1, extra=["STATUS:CANCELLED"]),
    )
    facts, report = read(tmp_path, text)
    assert of(facts, "org@contoso.com", MONDAY) == {
        "meetings_attended": 1,
        "meeting_minutes": 61,
        "long_meetings": 1,
    }
    assert of(facts, "p1@contoso.com", MONDAY) == {
        "meetings_attended": 2,
        "meeting_minutes": 121,
        "long_meetings": 1,
        "large_meetings": 1,
    }
    assert of(facts, "p0@contoso.com", MONDAY) == {
        "meetings_attended": 3,
        "meeting_minutes": 151,
        "long_meetings": 1,
        "large_meetings": 1,
    }
    assert of(facts, "p7@contoso.com", MONDAY) == {
        "meetings_attended": 1,
        "meeting_minutes": 60,
        "large_meetings": 1,
    }
    for nobody in ("t", "d", "n", "x", "solo", "room1"):
        assert of(facts, f"{nobody}@contoso.com", MONDAY) == {}
    assert (report.rows_read, report.people_seen) == (7, 9)
    assert report.notes == []


def test_random_meetings_match_an_independent_count(tmp_path: Path) -> None:
    rng = random.Random(11)
    people = [f"r{i}@contoso.com" for i in range(15)]
    zones = {p: rng.choice(["Europe/London", "America/New_York", "Asia/Tokyo"]) for p in people}
    hours = {p: WorkingHours(timezone=zone) for p, zone in zones.items()}
    events, expected = [], Counter[tuple[str, dt.date, str]]()
    written: list[dt.date] = []
    for i in range(300):
        start = dt.datetime(2024, 3, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=15 * rng.randrange(4 * 24 * 40))
        length = dt.timedelta(minutes=rng.choice([15, 30, 45, 60, 75, 90, 150]))
        written.append(start.date())
        invited = rng.sample(people, rng.randint(1, 11))
        replies = {p: rng.choice(["ACCEPTED", "ACCEPTED", "TENTATIVE", "DECLINED"]) for p in invited}
        events.append(
            event(
                f"m{i}",
                f":{start:%Y%m%dT%H%M%SZ}",
                f":{start + length:%Y%m%dT%H%M%SZ}",
                attendees=[(p, f"PARTSTAT={r}") for p, r in replies.items()],
            )
        )
        if len(invited) < 2:
            continue
        for person in (p for p, reply in replies.items() if reply == "ACCEPTED"):
            day = start.astimezone(ZoneInfo(zones[person])).date()
            expected[(pseud(person), day, "meetings_attended")] += 1
            expected[(pseud(person), day, "meeting_minutes")] += length // dt.timedelta(minutes=1)
            expected[(pseud(person), day, "long_meetings")] += length > dt.timedelta(hours=1)
            expected[(pseud(person), day, "large_meetings")] += len(invited) > 8
    metrics = CALENDAR_METRICS - {"focus_blocks", "recurring_meetings"}
    facts, _ = read(tmp_path, calendar(*events), ctx(metrics, hours=hours))
    # The window is the file's span of written dates; local days at its very edges can fall outside.
    kept = {k: v for k, v in expected.items() if v and min(written) <= k[1] <= max(written)}
    assert facts == kept
    assert len(kept) > 500


def test_local_days_follow_each_persons_zone_and_floating_times_stay_local(tmp_path: Path) -> None:
    vtimezone = [
        "BEGIN:VTIMEZONE",
        "TZID:Office Time",
        "BEGIN:STANDARD",
        "DTSTART:19700101T000000",
        "TZOFFSETFROM:+0500",
        "TZOFFSETTO:+0500",
        "END:STANDARD",
        "END:VTIMEZONE",
    ]
    pair = accepted("ldn@contoso.com", "tyo@contoso.com")
    text = calendar(
        event("utc", ":20240108T233000Z", ":20240109T000000Z", attendees=pair),
        event(
            "custom", ";TZID=Office Time:20240110T033000", ";TZID=Office Time:20240110T040000", attendees=pair
        ),
        event(
            "windows",
            ";TZID=Pacific Standard Time:20240111T170000",
            ";TZID=Pacific Standard Time:20240111T173000",
            attendees=pair,
        ),
        event("floating", ":20240112T233000", ":20240112T235900", attendees=pair),
        preamble=vtimezone,
    )
    facts, _ = read(
        tmp_path,
        text,
        ctx(frozenset({"meetings_attended"}), hours={"tyo@contoso.com": WorkingHours(timezone="Asia/Tokyo")}),
    )
    days = {
        who: sorted(d for (p, d, _), _v in facts.items() if p == pseud(who))
        for who in ("ldn@contoso.com", "tyo@contoso.com")
    }
    # 23:30 UTC; 03:30 at +05:00 = 22:30 UTC the day before; 17:00 Pacific = 01:00 UTC next day; floating.
    assert days["ldn@contoso.com"] == [dt.date(2024, 1, 8), dt.date(2024, 1, 9), dt.date(2024, 1, 12)]
    assert days["tyo@contoso.com"] == [dt.date(2024, 1, 9), dt.date(2024, 1, 10), dt.date(2024, 1, 12)]
    assert facts[(pseud("ldn@contoso.com"), dt.date(2024, 1, 12), "meetings_attended")] == 2
    assert facts[(pseud("tyo@contoso.com"), dt.date(2024, 1, 12), "meetings_attended")] == 2
    assert facts[(pseud("tyo@contoso.com"), dt.date(2024, 1, 9), "meetings_attended")] == 1


def test_events_with_an_excluded_address_or_domain_leave_no_trace(tmp_path: Path) -> None:
    base = [event("ok", ":20240108T100000Z", ":20240108T110000Z", attendees=AB)]
    union = [
        event(
            "u1",
            ":20240108T120000Z",
            ":20240108T130000Z",
            attendees=accepted("a@contoso.com", "rep@branch.union.example"),
        ),
        event(
            "u2",
            ":20240109T120000Z",
            ":20240109T130000Z",
            organizer="steward@contoso.com",
            attendees=accepted("a@contoso.com", "b@contoso.com"),
        ),
        # A later edge than any kept event: the window must not move because of it.
        event(
            "u3",
            ":20240120T120000Z",
            ":20240120T130000Z",
            attendees=accepted("a@contoso.com", "x@union.example"),
            extra=["RRULE:FREQ=DAILY;COUNT=3"],
        ),
        event(
            "u3",
            ":20240121T150000Z",
            ":20240121T160000Z",
            attendees=AB,
            extra=["RECURRENCE-ID:20240121T120000Z"],
        ),
    ]
    exclusions = Exclusions(addresses=("steward@contoso.com",), domains=("union.example",))
    without, report_without = read(tmp_path, calendar(*base), ctx(exclusions=exclusions))
    with_union, report_with = read(tmp_path, calendar(*base, *union), ctx(exclusions=exclusions))
    assert with_union == without
    assert report_with.notes == report_without.notes
    dropped = report_with.rows_read - report_with.rows_kept
    assert dropped == report_without.rows_read - report_without.rows_kept
    assert pseud("steward@contoso.com") not in {who for who, _, _ in with_union}
    unguarded, _ = read(tmp_path, calendar(*base, *union), ctx())
    assert unguarded != without  # the same file without exclusions does count them


def test_objectors_get_no_facts_but_still_make_a_meeting_large(tmp_path: Path) -> None:
    nine = [f"q{i}@contoso.com" for i in range(9)]
    text = calendar(event("big", ":20240108T100000Z", ":20240108T103000Z", attendees=accepted(*nine)))
    facts, report = read(tmp_path, text, ctx(frozenset({"large_meetings"}), excluded=["q0@contoso.com"]))
    assert of(facts, "q0@contoso.com", MONDAY) == {}
    assert of(facts, "q1@contoso.com", MONDAY) == {"large_meetings": 1}
    assert report.people_seen == 8


def test_focus_blocks_are_two_hour_free_stretches_in_working_hours(tmp_path: Path) -> None:
    pair = ("f@contoso.com", "g@contoso.com")
    text = calendar(
        # Monday: 09–10 and 13–14 leave 10–13 and 14–17:30 free: two blocks.
        event("m1", ":20240108T090000Z", ":20240108T100000Z", attendees=accepted(*pair)),
        event("m2", ":20240108T130000Z", ":20240108T140000Z", attendees=accepted(*pair)),
        # Wednesday: 10:30–11:00 and an overlapping 10:45–15:45 leave 9–10:30 and 15:45–17:30: none.
        event("w1", ":20240110T103000Z", ":20240110T110000Z", attendees=accepted(*pair)),
        event("w2", ":20240110T104500Z", ":20240110T154500Z", attendees=accepted(*pair)),
        # Saturday: a meeting, but not a working day.
        event("s", ":20240113T100000Z", ":20240113T110000Z", attendees=accepted(*pair)),
    )
    early = WorkingHours(start=dt.time(7, 0), end=dt.time(15, 0), days=(0, 1, 2, 3, 4, 5))
    facts, _ = read(tmp_path, text, ctx(frozenset({"focus_blocks"}), hours={"g@contoso.com": early}))
    focus_f = {d: v for (p, d, _), v in facts.items() if p == pseud("f@contoso.com")}
    # Tuesday, Thursday and Friday have no meetings: one block each; the weekend is not working time.
    assert focus_f == {MONDAY: 2, dt.date(2024, 1, 9): 1, dt.date(2024, 1, 11): 1, dt.date(2024, 1, 12): 1}
    focus_g = {d: v for (p, d, _), v in facts.items() if p == pseud("g@contoso.com")}
    # 07–15: Monday 07–09 and 10–13 (two), Wednesday 07–10:30 (one), Saturday 07–10 and 11–15 (two).
    assert focus_g == {
        MONDAY: 2,
        dt.date(2024, 1, 9): 1,
        dt.date(2024, 1, 10): 1,
        dt.date(2024, 1, 11): 1,
        dt.date(2024, 1, 12): 1,
        dt.date(2024, 1, 13): 2,
    }


def test_occurrences_over_a_day_are_not_meetings(tmp_path: Path) -> None:
    text = calendar(
        event(
            "offsite",
            ":20240108T090000Z",
            ":20240110T170000Z",
            attendees=accepted("a@contoso.com", "b@contoso.com"),
        )
    )
    facts, report = read(tmp_path, text)
    assert facts == {}
    assert any("over 24 hours" in note for note in report.notes)


def test_only_the_policys_metrics_are_emitted(tmp_path: Path) -> None:
    text = calendar(event("a", ":20240108T100000Z", ":20240108T120000Z", attendees=AB))
    facts, _ = read(tmp_path, text, ctx(frozenset({"meeting_minutes", "emails_sent"})))
    assert {metric for _, _, metric in facts} == {"meeting_minutes"}
    facts, report = read(tmp_path, text, ctx(frozenset({"emails_sent"})))
    assert facts == {}
    assert any("none of the calendar metrics" in note for note in report.notes)


def test_every_calendar_metric_is_in_the_catalogue() -> None:
    assert METRICS.keys() >= CALENDAR_METRICS


def test_sniff_recognises_icalendar_only(tmp_path: Path) -> None:
    ics = tmp_path / "a.ics"
    ics.write_text("\ufeff\r\nbegin:vcalendar\r\nEND:VCALENDAR\r\n")
    assert CALENDAR_ICS.sniff(ics)
    other = tmp_path / "b.csv"
    other.write_text("Email,Team\n")
    assert not CALENDAR_ICS.sniff(other)
    assert not CALENDAR_ICS.sniff(tmp_path / "missing.ics")
