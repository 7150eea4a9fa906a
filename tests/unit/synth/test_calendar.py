"""The synthetic calendar: byte-identical for the same seed, and readable by the iCalendar connector."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from teamlens.services.synthetic import synthesise
from teamlens.sources.calendar_ics_events import parse

START = dt.date(2025, 12, 29)


def test_the_same_seed_writes_the_same_calendar_and_it_parses(tmp_path: Path) -> None:
    first = synthesise(tmp_path / "a", people=40, weeks=3, start=START, seed=5, calendar=True)
    synthesise(tmp_path / "b", people=40, weeks=3, start=START, seed=5, calendar=True)
    one, two = (tmp_path / name / "calendar" / "calendar.ics" for name in ("a", "b"))
    assert one.read_bytes() == two.read_bytes()
    parsed = parse(one, lambda address: False)
    assert parsed.first_day == START
    assert parsed.last_day is not None and parsed.last_day < START + dt.timedelta(weeks=3)
    recurring = [instance for instance in parsed.instances if instance.recurring]
    assert recurring and len(recurring) < len(parsed.instances)  # series and ad hoc meetings
    sizes = {len(instance.people) for instance in parsed.instances}
    assert 2 in sizes and max(sizes) > 8  # 1:1s and large meetings
    directory = first.directory_csv.read_text(encoding="utf-8")
    assert all(person.address in directory for i in parsed.instances for person in i.people if person.address)


def test_without_the_flag_no_calendar_is_written(tmp_path: Path) -> None:
    synthesise(tmp_path, people=30, weeks=2, start=START, seed=5)
    assert not (tmp_path / "calendar").exists()
