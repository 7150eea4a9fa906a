"""Build a synthetic organisation's exports (for demos, tests and benchmarks)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from teamlens.synth import SynthConfig, SynthResult, generate
from teamlens.synth.calendar import write_calendar


def synthesise(
    out_dir: Path,
    *,
    people: int = 2000,
    weeks: int = 26,
    start: dt.date = dt.date(2025, 12, 29),
    seed: int = 7,
    concealed: bool = False,
    calendar: bool = False,
) -> SynthResult:
    """Write an HR directory and weekly Microsoft 365 usage reports for a made-up organisation.

    With ``calendar``, also its meetings as an iCalendar export (``calendar/calendar.ics``), for
    the metrics computed from raw events (focus hours, after-hours meetings, 1:1 time…).
    """
    config = SynthConfig(people=people, weeks=weeks, start=start, seed=seed, concealed=concealed)
    result = generate(config, out_dir)
    if calendar:
        write_calendar(
            result.directory_csv, out_dir / "calendar" / "calendar.ics", start=start, weeks=weeks, seed=seed
        )
    return result
