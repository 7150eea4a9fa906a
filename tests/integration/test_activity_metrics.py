"""Each metric computed from raw events equals its definition, computed by hand from the same events.

The exports of ``activity_fixture`` (an HR directory with managers, time zones and a night shift;
a calendar with a recurring series, an excluded date, a moved occurrence, named time zones and a
meeting across midnight; an mbox; a Slack export) are ingested under a policy that allows the
new catalogue and released for the organisation week by week in exact mode. Every released mean
must equal the fixture's minute-by-minute computation divided by the people in the directory.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from teamlens import services
from teamlens.domain.metrics import METRICS
from teamlens.sources.activity import Activity, Meeting

from ..support.exact import exact_mode
from .activity_fixture import CHECKED, PEOPLE, WEEKS, combined_policy, expected_week_totals, write_exports
from .flow_support import approve_policy, make_workspace


def test_every_combined_metric_equals_its_definition_from_the_raw_events(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    services.init(ws)
    approve_policy(ws, combined_policy(), tmp_path / "policy.toml")
    write_exports(tmp_path / "exports")
    summary = services.ingest(ws, [tmp_path / "exports"], actor="admin")
    assert [outcome.source for outcome in summary.files if outcome.status == "ingested"][-1] == "activity"
    expected = expected_week_totals()
    windows = [f"2026-W{monday.isocalendar().week:02d}" for monday in WEEKS]
    with exact_mode():
        table = services.release(ws, "organisation-weekly", windows, actor="analyst")
    released = {
        (cell.window, cell.metric): cell.value for cell in table.cells if cell.group == "Organisation"
    }
    checked = 0
    for monday, window in zip(WEEKS, windows, strict=True):
        for name in CHECKED:
            want = expected.get((monday, name), 0) / len(PEOPLE) / METRICS[name].display_divisor
            assert released[(window, name)] == pytest.approx(want, abs=1e-9), (window, name)
            checked += want > 0
    # The fixture exercises nearly every metric in at least one week (a zero proves little).
    assert checked >= len(CHECKED) + 4


def test_ingesting_the_same_exports_again_adds_nothing(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    services.init(ws)
    approve_policy(ws, combined_policy(), tmp_path / "policy.toml")
    write_exports(tmp_path / "exports")
    services.ingest(ws, [tmp_path / "exports"], actor="admin")
    again = services.ingest(ws, [tmp_path / "exports"], actor="admin")
    assert {outcome.status for outcome in again.files} == {"already ingested"}


def test_a_message_in_a_meeting_blocks_focus_and_counts_as_multitasking() -> None:
    # A unit check of the definitions on a timeline, independent of any reader.
    from teamlens.domain import WorkingHours
    from teamlens.sources import ReadContext
    from teamlens.sources.activity_metrics import activity_facts

    activity = Activity(enabled=True)
    day = dt.date(2026, 3, 2)  # a Monday
    at = lambda hour, minute=0: dt.datetime.combine(day, dt.time(hour, minute))  # noqa: E731
    activity.record_meeting("p", Meeting(at(9), at(10), 3, False))
    activity.record_meeting("p", Meeting(at(9, 30), at(10, 30), 12, True, partner="boss"))
    activity.record_sent("p", at(9, 45), "chat")
    activity.record_sent("p", at(13), "email")
    activity.record_calendar("p", day, day)
    ctx = ReadContext(pseudonymise=str, metrics=frozenset(METRICS), working_hours=WorkingHours())
    facts = {
        (row["metric"]): row["value"]
        for batch in activity_facts(activity, ctx)
        for row in batch.to_pylist()
        if row["days"] == 1
    }
    assert facts["multitasking_messages"] == 1
    assert facts["double_booked_minutes"] == 30
    assert facts["large_meeting_minutes"] == 60
    # Free: 10:30–13:00 (150 min) and 13:01–17:30 (269 min); 09:00–09:30 is not a block.
    assert facts["focus_minutes"] == 150 + 269
    assert facts["workweek_span_minutes"] == 4 * 60
    assert "manager_one_on_one_minutes" not in facts  # "boss" is not the directory's manager
