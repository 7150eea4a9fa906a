"""Activity looks like real collaboration data: heavy tails, part-time, holidays, leave, coherence."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from teamlens.synth.activity import simulate_week
from teamlens.synth.config import Stream, rng
from teamlens.synth.holidays import easter_sunday, public_holidays, week_calendar
from teamlens.synth.organisation import build_organisation

from .synth_support import Generated

_EMAIL_ACTIVITY = [
    "Send Count",
    "Receive Count",
    "Read Count",
    "Meeting Created Count",
    "Meeting Interacted Count",
]
_EASTER_MONDAYS = (date(2026, 3, 30), date(2026, 4, 6))  # weeks of Good Friday and Easter Monday


def _ordinary_weeks(org: Generated) -> list[date]:
    return [m for m in org.email if m not in _EASTER_MONDAYS and not week_calendar(m).holidays]


def test_emails_sent_are_heavy_tailed(org2000: Generated) -> None:
    for monday in _ordinary_weeks(org2000)[:5]:
        sent = org2000.email[monday]["Send Count"]
        active = sent[sent > 0]
        assert active.max() / active.median() > 8
        assert active.quantile(0.99) / active.median() > 4
        assert active.mean() > 1.2 * active.median()  # right-skewed


def test_part_timers_are_less_active(org2000: Generated) -> None:
    d = org2000.directory.drop_duplicates("Email")
    minutes = (
        pd.to_datetime(d["Working Hours End"], format="%H:%M")
        - pd.to_datetime(d["Working Hours Start"], format="%H:%M")
    ).dt.total_seconds() / 60
    part_time = set(d.loc[minutes < 500, "Email"])
    assert 0.06 < len(part_time) / len(d) < 0.14
    weeks = pd.concat(org2000.email[m] for m in _ordinary_weeks(org2000))
    is_part = weeks["User Principal Name"].isin(part_time)
    for column in ("Send Count", "Read Count", "Meeting Interacted Count"):
        assert weeks.loc[is_part, column].mean() < 0.8 * weeks.loc[~is_part, column].mean()


def test_holiday_weeks_are_quieter(org2000: Generated) -> None:
    ordinary = np.median([org2000.email[m]["Send Count"].mean() for m in _ordinary_weeks(org2000)])
    for monday in _EASTER_MONDAYS:
        assert org2000.email[monday]["Send Count"].mean() < 0.85 * ordinary
        assert org2000.teams[monday]["Meetings Attended Count"].mean() < 0.85 * np.median(
            [org2000.teams[m]["Meetings Attended Count"].mean() for m in _ordinary_weeks(org2000)]
        )


def test_some_people_are_on_leave_each_week_with_no_activity(org2000: Generated) -> None:
    def idle_share(monday: date) -> float:
        email, teams = org2000.email[monday], org2000.teams[monday]
        idle_email = (email[_EMAIL_ACTIVITY].sum(axis=1) == 0).to_numpy()
        idle_teams = (
            teams["Meeting Count"]
            + teams["Private Chat Message Count"]
            + teams["Call Count"]
            + teams["Team Chat Message Count"]
            == 0
        ).to_numpy()
        return float((idle_email & idle_teams).mean())

    ordinary = [idle_share(m) for m in _ordinary_weeks(org2000)]
    assert 0.02 < np.median(ordinary) < 0.10
    assert all(idle_share(m) > 1.5 * np.median(ordinary) for m in _EASTER_MONDAYS)


def test_teams_counts_are_coherent(org2000: Generated) -> None:
    t = pd.concat(org2000.teams.values())
    assert (t["Meeting Count"] >= t["Meetings Organized Count"]).all()
    assert (t["Meetings Attended Count"] >= t["Meetings Organized Count"]).all()
    for verb in ("Organized", "Attended"):
        parts = t[
            [
                f"Ad Hoc Meetings {verb} Count",
                f"Scheduled One-time Meetings {verb} Count",
                f"Scheduled Recurring Meetings {verb} Count",
            ]
        ].sum(axis=1)
        assert (parts <= t[f"Meetings {verb} Count"]).all()
        assert (parts < t[f"Meetings {verb} Count"]).any()  # unclassified meetings exist
    assert (t["Post Messages"] + t["Reply Messages"] == t["Team Chat Message Count"]).all()
    assert (t["Urgent Messages"] <= t["Private Chat Message Count"]).all()
    assert (t["Video Duration In Seconds"] <= t["Audio Duration In Seconds"]).all()
    assert (t["Screen Share Duration In Seconds"] <= t["Audio Duration In Seconds"]).all()
    assert t["Meeting Count"].max() <= 60
    no_audio = t.loc[t["Meeting Count"] + t["Call Count"] == 0, "Audio Duration In Seconds"]
    assert (no_audio == 0).all()


def test_email_counts_are_coherent(org2000: Generated) -> None:
    e = pd.concat(org2000.email.values())
    assert (e["Read Count"] <= e["Receive Count"]).all()
    assert e["Assigned Products"].str.startswith("MICROSOFT 365 E").all()
    idle = e.loc[e[_EMAIL_ACTIVITY].sum(axis=1) == 0]
    assert len(idle) > 0


def test_meeting_audio_time_follows_the_meetings() -> None:
    org = build_organisation(1, 400, 400)
    people = np.arange(400)
    week = simulate_week(
        rng(1, Stream.ACTIVITY, 0), org, people, org.start_team[people], week_calendar(date(2026, 2, 2))
    )
    meetings_only = (week.calls == 0) & (week.attended > 0)
    seconds, meetings = week.audio_seconds[meetings_only], week.attended[meetings_only]
    assert meetings_only.sum() > 50
    assert (seconds <= meetings * 120 * 60).all()
    assert (seconds >= meetings * 15 * 60 * 0.5).all()
    assert 30 * 60 < (seconds / meetings).mean() < 60 * 60  # mostly 30- and 60-minute meetings


def test_meeting_heavy_departments_meet_more() -> None:
    org = build_organisation(2, 2000, 2000)
    people = np.arange(2000)
    team = org.start_team[people]
    week = simulate_week(rng(2, Stream.ACTIVITY, 0), org, people, team, week_calendar(date(2026, 2, 2)))
    heavy = org.department_meeting_factor[org.team_department[team]] > 1.35
    assert 0.05 < heavy.mean() < 0.6
    assert week.attended[heavy].mean() > 1.3 * week.attended[~heavy].mean()


@pytest.mark.parametrize(
    ("year", "easter"),
    [
        (2024, date(2024, 3, 31)),
        (2025, date(2025, 4, 20)),
        (2026, date(2026, 4, 5)),
        (2027, date(2027, 3, 28)),
        (2038, date(2038, 4, 25)),
    ],
)
def test_easter_dates(year: int, easter: date) -> None:
    assert easter_sunday(year) == easter


def test_company_holidays_fall_on_weekdays_and_reduce_working_days() -> None:
    days = public_holidays(2026)
    assert date(2026, 4, 3) in days  # Good Friday
    assert date(2026, 4, 6) in days  # Easter Monday
    assert all(day.weekday() < 5 for day in days)
    assert week_calendar(date(2026, 3, 30)).working_share == pytest.approx(0.8)
    assert week_calendar(date(2026, 12, 21)).working_share <= 0.6
    assert week_calendar(date(2026, 2, 2)).working_share == 1.0
    assert (
        week_calendar(date(2026, 2, 2) + timedelta(weeks=26)).leave_share
        > week_calendar(date(2026, 2, 2)).leave_share
    )
