"""One week of e-mail, meeting, chat and call activity for everyone employed, drawn at once.

Counts are negative binomial around a mean that multiplies a person's lognormal propensity,
their team's (and department's) culture, their working-time share and the week's working days,
so the distributions are heavy-tailed the way real collaboration data is: a few people send
many times the median. People on leave that week have no activity at all. Meeting minutes are
built from the meetings themselves (mostly 30 and 60 minutes, some 15, 90 and 120) so the
durations in the Teams report agree with the meeting counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from teamlens.synth.holidays import WeekCalendar
from teamlens.synth.organisation import BoolArray, FloatArray, IntArray, Organisation

_MEETING_MINUTES = np.array([15, 30, 60, 90, 120], dtype=np.int64)
_MEETING_LENGTH_SHARE = np.array([0.10, 0.45, 0.35, 0.05, 0.05])
#: Ad hoc, scheduled one-time, scheduled recurring, unclassified (not exported by Microsoft).
_MEETING_KIND_SHARE = np.array([0.12, 0.33, 0.48, 0.07])
#: Which day of the week carries a person's last activity, for people active in the week.
_LAST_DAY_SHARE = np.array([0.02, 0.03, 0.05, 0.12, 0.70, 0.05, 0.03])
_MOST_MEETINGS = 60


@dataclass(frozen=True)
class WeekActivity:
    """Per-person counters for one week, parallel to the ``people`` array (all int64)."""

    people: IntArray
    sent: IntArray
    received: IntArray
    read: IntArray
    meetings_created: IntArray
    meetings_interacted: IntArray
    team_chat: IntArray
    private_chat: IntArray
    posts: IntArray
    urgent: IntArray
    calls: IntArray
    attended: IntArray
    organized: IntArray
    attended_kinds: IntArray  # (n, 3): ad hoc, one-time, recurring
    organized_kinds: IntArray  # (n, 3)
    audio_seconds: IntArray
    video_seconds: IntArray
    screen_seconds: IntArray
    other_action: IntArray  # 0/1
    email_last_day: IntArray  # weekday 0–6 of the last e-mail activity, -1 when none
    teams_last_day: IntArray  # the same for Teams


def _negative_binomial(
    rng: np.random.Generator, mean: FloatArray, dispersion: float, ceiling: float
) -> IntArray:
    """Counts with variance mean + mean²/dispersion (a gamma-Poisson mix) around ``mean``.

    The mean saturates softly towards ``ceiling``: a week has only so many hours, so the product
    of several lognormal factors must not promise a person 200 meetings.
    """
    mean = mean / np.sqrt(1.0 + (mean / ceiling) ** 2)
    p = dispersion / (dispersion + np.maximum(mean, 1e-9))
    return rng.negative_binomial(dispersion, p).astype(np.int64)


def _last_day(rng: np.random.Generator, active: BoolArray, week: WeekCalendar) -> IntArray:
    """A weekday for each active person, never a company holiday."""
    share = _LAST_DAY_SHARE.copy()
    share[list(week.holidays)] = 0.0
    day = rng.choice(7, size=len(active), p=share / share.sum()).astype(np.int64)
    return np.where(active, day, -1)


def simulate_week(
    rng: np.random.Generator, org: Organisation, people: IntArray, team: IntArray, week: WeekCalendar
) -> WeekActivity:
    """Activity of ``people`` (sorted person indices) who are in ``team`` during ``week``."""
    n = len(people)
    dept = org.team_department[team]
    present = rng.random(n) >= week.leave_share
    # A common factor per week (projects, deadlines) on top of the calendar's working days.
    level = week.working_share * rng.lognormal(0.0, 0.05) * org.fte[people] * present
    manager = org.is_manager[people]

    email_mean = level * org.email_propensity[people] * org.team_email_factor[team]
    sent = _negative_binomial(rng, 40.0 * email_mean, 3.0, 250.0)
    received = _negative_binomial(
        rng, 150.0 * level * org.receive_propensity[people] * org.team_email_factor[team], 5.0, 900.0
    )
    read = rng.binomial(received, org.read_rate[people]).astype(np.int64)

    meeting_mean = (
        11.0
        * level
        * org.meeting_propensity[people]
        * org.department_meeting_factor[dept]
        * np.where(manager, 1.6, 1.0)
    )
    # Sixty meetings (some 45 hours) is the most anyone attends in a week.
    attended = np.minimum(_negative_binomial(rng, meeting_mean, 3.0, 30.0), _MOST_MEETINGS)
    organized = rng.binomial(attended, np.where(manager, 0.35, 0.12)).astype(np.int64)
    attended_kinds = rng.multinomial(attended, _MEETING_KIND_SHARE)[:, :3].astype(np.int64)
    organized_kinds = rng.multinomial(organized, _MEETING_KIND_SHARE)[:, :3].astype(np.int64)
    # Invitations sent from Outlook track meetings organised; a few never become Teams meetings.
    created = (rng.binomial(organized, 0.9) + rng.poisson(0.3 * level)).astype(np.int64)
    interacted = (rng.binomial(attended, 0.75) + rng.poisson(1.0 * level)).astype(np.int64)

    lengths = rng.multinomial(attended, _MEETING_LENGTH_SHARE) @ _MEETING_MINUTES
    # People join a little late and leave a little early, so audio time is under the booked time.
    meeting_seconds = np.rint(lengths * 60 * rng.beta(18.0, 2.0, n)).astype(np.int64)
    calls = _negative_binomial(rng, 3.0 * level * org.call_propensity[people], 1.5, 25.0)
    call_seconds = np.rint(rng.gamma(np.maximum(calls, 1) * 1.2, 400.0) * (calls > 0)).astype(np.int64)
    audio = meeting_seconds + call_seconds
    video = np.rint(audio * org.camera_rate[people]).astype(np.int64)
    screen = np.rint(meeting_seconds * rng.beta(1.2, 12.0, n)).astype(np.int64)

    chat_mean = level * org.chat_propensity[people] * org.team_chat_factor[team]
    private_chat = _negative_binomial(rng, 55.0 * chat_mean, 1.2, 400.0)
    team_chat = _negative_binomial(rng, 8.0 * chat_mean, 0.8, 80.0)
    posts = rng.binomial(team_chat, 0.3).astype(np.int64)
    urgent = rng.binomial(private_chat, 0.003).astype(np.int64)
    other = (rng.random(n) < 0.3 * present).astype(np.int64)

    email_active = (sent + read + created + interacted) > 0
    teams_active = (team_chat + private_chat + calls + attended + other) > 0
    return WeekActivity(
        people=people,
        sent=sent,
        received=received,
        read=read,
        meetings_created=created,
        meetings_interacted=interacted,
        team_chat=team_chat,
        private_chat=private_chat,
        posts=posts,
        urgent=urgent,
        calls=calls,
        attended=attended,
        organized=organized,
        attended_kinds=attended_kinds,
        organized_kinds=organized_kinds,
        audio_seconds=audio,
        video_seconds=video,
        screen_seconds=screen,
        other_action=other,
        email_last_day=_last_day(rng, email_active, week),
        teams_last_day=_last_day(rng, teams_active, week),
    )
