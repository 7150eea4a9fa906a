"""Who works where, week by week: joiners, leavers and moves between teams.

Every change takes effect on a Monday, the first day of an ISO week, so a person is either in
a weekly report with one team for the whole week or not in it at all; the directory's Valid
From / Valid To (exclusive) dates are those Mondays. Managers neither leave nor move, which
keeps every team's manager (and so every member's manager e-mail) fixed for the period, and
no change takes a team below three people or above forty.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from teamlens.synth import _words
from teamlens.synth.organisation import MAX_TEAM, MIN_TEAM, FloatArray, IntArray, Organisation

#: Weekly hazards: about 3% of people leave, 3.5% join and 2.5% move team per quarter.
LEAVE_PER_WEEK = 0.03 / 13
JOIN_PER_WEEK = 0.035 / 13
MOVE_PER_WEEK = 0.025 / 13
_SAME_DEPARTMENT_MOVE = 0.6
_REPLACEMENT_HIRE = 0.7
_AT_TEAM_HOME = 0.85
_LONGEST_TENURE_DAYS = 12 * 365


def capacity(people: int, weeks: int) -> int:
    """Room for the starting headcount plus every joiner the period can plausibly bring."""
    expected = people * JOIN_PER_WEEK * 1.3 * weeks
    return people + math.ceil(expected + 5 * math.sqrt(expected) + 10)


@dataclass(frozen=True)
class Segment:
    """One directory row: a person in one team over [valid_from, valid_to)."""

    person: int
    team: int
    valid_from: date
    valid_to: date | None


@dataclass(frozen=True)
class Timeline:
    """Employment over the period. ``changes[w]`` lists (person, team) taking effect on week w's
    Monday, team -1 meaning the person has left; ``changes[0]`` is empty (the starting state is
    ``Organisation.start_team``)."""

    people: int
    hire_date: tuple[date, ...]
    location: IntArray
    changes: tuple[tuple[tuple[int, int], ...], ...]
    joiners: int
    leavers: int
    moves: int

    def segments(self, org: Organisation, start: date) -> list[Segment]:
        """The directory rows, by person and then by date."""
        rows: list[Segment] = []
        open_rows: dict[int, tuple[int, date]] = {
            p: (int(org.start_team[p]), self.hire_date[p])
            for p in range(self.people)
            if org.start_team[p] >= 0
        }
        for week, changes in enumerate(self.changes):
            monday = start + timedelta(weeks=week)
            for person, team in changes:
                if person in open_rows:
                    old_team, since = open_rows.pop(person)
                    rows.append(Segment(person, old_team, since, monday))
                if team >= 0:
                    open_rows[person] = (team, monday)
        rows.extend(Segment(p, team, since, None) for p, (team, since) in open_rows.items())
        rows.sort(key=lambda row: (row.person, row.valid_from))
        return rows


def _weighted_choice(rng: np.random.Generator, weights: FloatArray) -> int:
    return int(rng.choice(len(weights), p=weights / weights.sum()))


def simulate(rng: np.random.Generator, org: Organisation, people: int, weeks: int, start: date) -> Timeline:
    """Draw the joiners, leavers and moves of every week after the first."""
    team_of = org.start_team.copy()
    size = np.bincount(team_of[team_of >= 0], minlength=org.teams).astype(np.int64)
    next_person = people
    vacancies: list[int] = []
    all_changes: list[tuple[tuple[int, int], ...]] = [()]
    hire = [start - timedelta(days=int(d)) for d in rng.integers(7, _LONGEST_TENURE_DAYS, people)]
    hire = [day - timedelta(days=max(0, day.weekday() - 4)) for day in hire]  # hired on a weekday
    counts = {"join": 0, "leave": 0, "move": 0}
    dept_of = org.team_department
    for week in range(1, weeks):
        changes: list[tuple[int, int]] = []
        employed = np.flatnonzero((team_of >= 0) & ~org.is_manager)
        draw = rng.random(len(employed))
        for person in employed[draw < LEAVE_PER_WEEK]:
            team = int(team_of[person])
            if size[team] > MIN_TEAM:
                size[team] -= 1
                team_of[person] = -1
                vacancies.append(team)
                changes.append((int(person), -1))
                counts["leave"] += 1
        for person in employed[(draw >= LEAVE_PER_WEEK) & (draw < LEAVE_PER_WEEK + MOVE_PER_WEEK)]:
            team = int(team_of[person])
            room = size < MAX_TEAM
            room[team] = False
            if rng.random() < _SAME_DEPARTMENT_MOVE:
                near = room & (dept_of == dept_of[team])
                room = near if near.any() else room
            if size[team] <= MIN_TEAM or not room.any():
                continue
            target = _weighted_choice(rng, np.where(room, size, 0).astype(np.float64))
            size[team] -= 1
            size[target] += 1
            team_of[person] = target
            changes.append((int(person), target))
            counts["move"] += 1
        headcount = int(size.sum())
        for _ in range(int(rng.poisson(headcount * JOIN_PER_WEEK))):
            if next_person >= len(team_of):
                break  # capacity() leaves ample room; stop rather than overrun it
            open_vacancies = [t for t in vacancies if size[t] < MAX_TEAM]
            if open_vacancies and rng.random() < _REPLACEMENT_HIRE:
                target = open_vacancies[int(rng.integers(len(open_vacancies)))]
                vacancies.remove(target)
            else:
                target = _weighted_choice(rng, np.where(size < MAX_TEAM, size, 0).astype(np.float64))
            size[target] += 1
            team_of[next_person] = target
            hire.append(start + timedelta(weeks=week))
            changes.append((next_person, target))
            next_person += 1
            counts["join"] += 1
        all_changes.append(tuple(changes))
    return Timeline(
        people=next_person,
        hire_date=tuple(hire),
        location=_locations(rng, org, all_changes, next_person),
        changes=tuple(all_changes),
        joiners=counts["join"],
        leavers=counts["leave"],
        moves=counts["move"],
    )


def _locations(
    rng: np.random.Generator, org: Organisation, changes: list[tuple[tuple[int, int], ...]], people: int
) -> IntArray:
    """Most people sit at their first team's home; the rest anywhere. Moves keep the desk."""
    first_team = org.start_team[:people].copy()
    for week_changes in changes:
        for person, team in week_changes:
            if first_team[person] < 0:
                first_team[person] = team
    weights = np.array([w for _, _, w in _words.LOCATIONS])
    anywhere = rng.choice(len(weights), size=people, p=weights / weights.sum())
    at_home = rng.random(people) < _AT_TEAM_HOME
    return np.where(at_home, org.team_home[first_team], anywhere).astype(np.int64)
