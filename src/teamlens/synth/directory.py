"""Write the HR directory export: one row per person per assignment period.

The shape is what an HR system's "worker history" report gives after light renaming: an
employee id, the work address, the organisation units, the manager's address, the validity
range (``Valid To`` exclusive and empty while still valid) and contractual working hours with
their IANA time zone. Plain UTF-8 without a byte-order mark, LF line ends, quoted only where a
value needs it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from teamlens.domain.spreadsheet import safe_row
from teamlens.synth import _words
from teamlens.synth.identity import STARTS, Identities
from teamlens.synth.organisation import Organisation
from teamlens.synth.workforce import Timeline

DIRECTORY_HEADER = (
    "Employee ID",
    "Email",
    "Display Name",
    "Team",
    "Department",
    "Division",
    "Location",
    "Manager Email",
    "Valid From",
    "Valid To",
    "Working Hours Start",
    "Working Hours End",
    "Time Zone",
)


@dataclass(frozen=True)
class Managers:
    """Who each person reports to: team members to their team's manager, team managers to the
    head of their department, department heads to their division head, division heads to the
    head of the first division, who reports to no one in the directory."""

    of_team: tuple[int, ...]  # manager of members of each team
    of_manager: dict[int, int | None]  # manager of each team manager


def managers(org: Organisation) -> Managers:
    """Derive the reporting lines from the hierarchy (the first team's manager heads each unit)."""
    dept_head: dict[int, int] = {}
    for team in range(org.teams):
        dept_head.setdefault(int(org.team_department[team]), int(org.team_manager[team]))
    div_head: dict[int, int] = {}
    for dept in sorted(dept_head):
        div_head.setdefault(int(org.department_division[dept]), dept_head[dept])
    chief = div_head[min(div_head)]
    of_manager: dict[int, int | None] = {}
    for team in range(org.teams):
        boss = int(org.team_manager[team])
        dept = int(org.team_department[team])
        division = int(org.department_division[dept])
        if boss == chief:
            of_manager[boss] = None
        elif boss == div_head[division]:
            of_manager[boss] = chief
        elif boss == dept_head[dept]:
            of_manager[boss] = div_head[division]
        else:
            of_manager[boss] = dept_head[dept]
    return Managers(of_team=tuple(int(m) for m in org.team_manager), of_manager=of_manager)


def working_hours(org: Organisation, ids: Identities, person: int) -> tuple[str, str]:
    """Contract start and end: a full day is 8½ hours with lunch, part-timers work shorter days."""
    start = STARTS[int(ids.start_time[person])]
    hours, minutes = (int(x) for x in start.split(":"))
    length = 30 + round(480 * float(org.fte[person]) / 30) * 30
    end = hours * 60 + minutes + length
    return start, f"{end // 60:02d}:{end % 60:02d}"


def write_directory(
    path: Path,
    org: Organisation,
    timeline: Timeline,
    ids: Identities,
    start: date,
) -> int:
    """Write the directory CSV; returns the number of rows."""
    lines = managers(org)
    rows = timeline.segments(org, start)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(safe_row(DIRECTORY_HEADER))
        for row in rows:
            person = row.person
            boss = lines.of_manager[person] if org.is_manager[person] else lines.of_team[row.team]
            dept = int(org.team_department[row.team])
            city, zone, _ = _words.LOCATIONS[int(timeline.location[person])]
            begin, end = working_hours(org, ids, person)
            writer.writerow(
                safe_row(
                    (
                        ids.employee_id[person],
                        ids.email[person],
                        ids.display_name[person],
                        org.team_names[row.team],
                        org.department_names[dept],
                        org.division_names[int(org.department_division[dept])],
                        city,
                        "" if boss is None else ids.email[boss],
                        row.valid_from.isoformat(),
                        "" if row.valid_to is None else row.valid_to.isoformat(),
                        begin,
                        end,
                        zone,
                    )
                )
            )
    return len(rows)
