"""A directory export, split into what the store keeps and what only this ingestion's readers use.

The store keeps what placement in the policy's groups and windows needs, at the policy's time
resolution (``stored_directory``): the person's pseudonym, the group columns of the grouping
levels the policy uses (the others emptied), and each range's dates moved to the Monday that
starts their ISO week, or the next one — a window starts on a Monday, and a person counts in the
group they were in on that Monday, so nothing a release can use is lost — and clipped to the
policy period (a range from before the period starts with it; one beyond it is open-ended).
Ranges that cover no Monday of the period are dropped, and consecutive ranges that became alike
(a move within a level the policy does not use, or before the period) are merged, so that not
even the date of such a move is kept. A copy of the data folder then no longer holds hire dates,
managers, time zones or working hours to link pseudonyms to an HR export by; what remains (the
week someone joined, left or moved within the period, and their groups) is what releases need,
and encrypting the store (``store/_files.py``) protects it.

The working pattern, the aliases and the manager links (``reading_attributes``) are handed to
the readers of the same ingestion in memory and never written: mail and calendars read in a
later ingestion without the directory export use the policy's working hours and see no aliases
or managers (a note says so).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from teamlens.domain import DIRECTORY_SCHEMA, Policy, WorkingHours
from teamlens.errors import InputFormatError

#: The group columns of the stored directory, by grouping level.
GROUP_COLUMNS = ("team", "department", "division", "location")
#: Changes when what ``stored_directory`` keeps changes, so re-ingesting a file stores it anew.
_MINIMISATION = "v1"

NO_DIRECTORY_NOTE = (
    "no directory export in this ingestion: after-hours work was judged by the policy's working "
    "hours and directory aliases were not applied; give the HR export in the same `teamlens "
    "ingest` (time zones, hours and aliases are used while reading and never stored)"
)


@dataclass(frozen=True)
class ReadingAttributes:
    """Per-person attributes the readers use while one ingestion runs, keyed by pseudonym."""

    working_hours: dict[str, WorkingHours] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    #: Each person's manager (pseudonyms), from their latest row naming one.
    managers: dict[str, str] = field(default_factory=dict)
    #: Everyone the directory names (None: no directory was read).
    people: frozenset[str] | None = None


def batch_key(content_hash: str, policy: Policy) -> str:
    """The batch a directory file is stored as: its content under this policy's minimisation.

    A policy version with other grouping levels or another period stores the same file anew.
    """
    levels = ",".join(sorted(level.value for level in policy.grouping_levels))
    scope = f"{_MINIMISATION}\0{levels}\0{policy.period_start}\0{policy.period_end}"
    return hashlib.sha256(f"{content_hash}\0{scope}".encode()).hexdigest()


def monday_on_or_after(day: dt.date) -> dt.date:
    """``day`` if it is a Monday, else the next Monday."""
    return day + dt.timedelta(days=(7 - day.weekday()) % 7)


def stored_directory(table: pa.Table, policy: Policy) -> pa.Table:
    """What the store keeps of a directory read (``DIRECTORY_SCHEMA``, see the module)."""
    levels = {level.value for level in policy.grouping_levels}
    dropped = [name for name in GROUP_COLUMNS if name not in levels]
    first = monday_on_or_after(policy.period_start)
    end_of_period = policy.period_end
    rows = sorted(
        table.select(DIRECTORY_SCHEMA.names).to_pylist(), key=lambda row: (row["person"], row["valid_from"])
    )
    kept: list[dict[str, Any]] = []
    for row in rows:
        row.update(dict.fromkeys(dropped))
        start = max(monday_on_or_after(row["valid_from"]), first)
        end = None if row["valid_to"] is None else monday_on_or_after(row["valid_to"])
        if end is not None and end >= end_of_period:
            end = None  # no window of the period starts after it: open-ended places alike
        if start >= end_of_period or (end is not None and end <= start):
            continue  # covers no Monday of the period: no window can place the person by it
        row["valid_from"], row["valid_to"] = start, end
        previous = kept[-1] if kept and kept[-1]["person"] == row["person"] else None
        if (
            previous is not None
            and previous["valid_to"] == start
            and all(previous[name] == row[name] for name in GROUP_COLUMNS)
        ):
            previous["valid_to"] = end
            continue
        kept.append(row)
    return pa.Table.from_pylist(kept, schema=DIRECTORY_SCHEMA)


def reading_attributes(table: pa.Table, policy: Policy, path: Path) -> ReadingAttributes:
    """Each person's working pattern (from their latest row naming one) and their aliases."""
    default = policy.working_hours
    hours: dict[str, WorkingHours] = {}
    owner: dict[str, str] = {}
    people = set(table.column("person").to_pylist())
    managers: dict[str, str] = {}
    columns = ["person", "valid_from", "time_zone", "work_start", "work_end", "aliases", "manager"]
    for row in sorted(table.select(columns).to_pylist(), key=lambda row: row["valid_from"]):
        person = row["person"]
        if row["manager"]:
            managers[person] = row["manager"]
        if row["time_zone"] or row["work_start"] or row["work_end"]:
            hours[person] = WorkingHours(
                start=dt.time.fromisoformat(row["work_start"]) if row["work_start"] else default.start,
                end=dt.time.fromisoformat(row["work_end"]) if row["work_end"] else default.end,
                days=default.days,
                timezone=row["time_zone"] or default.timezone,
            )
        for alias in row["aliases"] or ():
            if owner.setdefault(alias, person) != person or alias in people:
                raise InputFormatError(
                    path,
                    "one address is given as an alias of two people, or as one person's alias and "
                    "another's own address",
                    field="aliases",
                    expected="each proxy address listed for one person only",
                    hint="Fix the directory export's proxy addresses; nothing was stored.",
                )
    return ReadingAttributes(hours, owner, managers, frozenset(people))
