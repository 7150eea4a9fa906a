"""Write one week of activity as the two Microsoft Graph usage reports a tenant downloads.

The files copy what Graph serves for ``period='D7'``: a UTF-8 byte-order mark, the documented
header line (kept here verbatim, see the shared ``data/formats`` header files), CRLF line ends,
``Report Refresh Date`` = the Sunday that ends the ISO week, ``Report Period`` = 7, booleans as
``False``/``True`` (``Is Deleted``) and ``Yes``/``No`` (``Has Other Action``, ``Is Licensed``),
durations as ISO 8601 (``PT1H2M3S``) next to their ``In Seconds`` twins. Values never need
quoting (names are ASCII letters, spaces and apostrophes), so the writer refuses any that would.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from teamlens.domain.spreadsheet import safe_text_column
from teamlens.domain.vendor_formats import EMAIL_HEADER, TEAMS_HEADER
from teamlens.synth.activity import WeekActivity
from teamlens.synth.organisation import IntArray, TextArray

EMAIL_PREFIX = "EmailActivityUserDetail"
TEAMS_PREFIX = "TeamsUserActivityUserDetail"
_BOM = "\ufeff"
_EOL = "\r\n"
_WRITE_OPTIONS = pacsv.WriteOptions(include_header=False, eol=_EOL, quoting_style="none")


@dataclass(frozen=True)
class ReportPeople:
    """The per-person strings of a report, indexed by person (already concealed when asked)."""

    upn: TextArray
    display_name: TextArray
    user_id: TextArray
    products: TextArray
    tenant_name: str


class LastActivity:
    """The last day each person did anything, carried from week to week as real reports do."""

    def __init__(self, capacity: int) -> None:
        self.email = np.full(capacity, -1, dtype=np.int64)  # proleptic ordinal, -1 = never
        self.teams = np.full(capacity, -1, dtype=np.int64)

    def update(self, monday: date, activity: WeekActivity) -> None:
        """Move each person's last day forward to their latest active day this week."""
        base = monday.toordinal()
        for store, day in ((self.email, activity.email_last_day), (self.teams, activity.teams_last_day)):
            store[activity.people] = np.where(day >= 0, base + day, store[activity.people])


def _dates(ordinals: IntArray) -> pa.Array:
    """ISO dates for proleptic ordinals, empty for -1; formats only the few distinct days."""
    unique, inverse = np.unique(ordinals, return_inverse=True)
    text = np.array(["" if o < 0 else date.fromordinal(int(o)).isoformat() for o in unique], dtype=object)
    return pa.array(text[inverse], type=pa.string())


def _iso_duration(seconds: IntArray) -> pa.Array:
    """ISO 8601 durations (``PT1H2M3S``, zero parts left out, ``PT0S`` for nothing), vectorised."""
    secs = pa.array(seconds, type=pa.int64())
    hours = pc.divide(secs, 3600)
    minutes = pc.divide(pc.subtract(secs, pc.multiply(hours, 3600)), 60)
    rest = pc.subtract(secs, pc.add(pc.multiply(hours, 3600), pc.multiply(minutes, 60)))

    def part(value: Any, unit: str) -> Any:
        text = pc.binary_join_element_wise(pc.cast(value, pa.string()), unit, "")
        return pc.if_else(pc.greater(value, 0), text, "")

    joined = pc.binary_join_element_wise("PT", part(hours, "H"), part(minutes, "M"), part(rest, "S"), "")
    result: pa.Array = pc.if_else(pc.equal(secs, 0), "PT0S", joined)
    return result


def _constant(value: str | int, n: int) -> pa.Array:
    array: pa.Array = pa.repeat(value, n)
    return array


def _write(path: Path, header: str, names: Sequence[str], columns: Sequence[pa.Array]) -> None:
    table = pa.Table.from_arrays([safe_text_column(column) for column in columns], names=list(names))
    sink = pa.BufferOutputStream()
    pacsv.write_csv(table, sink, _WRITE_OPTIONS)
    with path.open("wb") as out:
        out.write((_BOM + header + _EOL).encode("utf-8"))
        out.write(sink.getvalue().to_pybytes())


def _ints(values: IntArray) -> pa.Array:
    array: pa.Array = pa.array(values, type=pa.int64())
    return array


def write_week(
    folder: Path, sunday: date, activity: WeekActivity, who: ReportPeople, last: LastActivity
) -> tuple[Path, Path]:
    """Write the e-mail and Teams reports of the week ending ``sunday``; returns their paths."""
    people = activity.people
    n = len(people)
    refreshed = _constant(sunday.isoformat(), n)
    upn = pa.array(who.upn[people], type=pa.string())
    products = pa.array(who.products[people], type=pa.string())
    empty = _constant("", n)
    no = _constant("False", n)
    period = _constant(7, n)
    email_path = folder / f"{EMAIL_PREFIX}_{sunday.isoformat()}.csv"
    _write(
        email_path,
        EMAIL_HEADER,
        EMAIL_HEADER.split(","),
        [
            refreshed,
            upn,
            pa.array(who.display_name[people], type=pa.string()),
            no,
            empty,
            _dates(last.email[people]),
            _ints(activity.sent),
            _ints(activity.received),
            _ints(activity.read),
            _ints(activity.meetings_created),
            _ints(activity.meetings_interacted),
            products,
            period,
        ],
    )
    yes_no = np.array(["No", "Yes"], dtype=object)
    teams_path = folder / f"{TEAMS_PREFIX}_{sunday.isoformat()}.csv"
    _write(
        teams_path,
        TEAMS_HEADER,
        TEAMS_HEADER.split(","),
        [
            refreshed,
            _constant(who.tenant_name, n),
            empty,
            pa.array(who.user_id[people], type=pa.string()),
            upn,
            _dates(last.teams[people]),
            no,
            empty,
            products,
            _ints(activity.team_chat),
            _ints(activity.private_chat),
            _ints(activity.calls),
            _ints(activity.attended),
            _ints(activity.posts),
            _ints(activity.team_chat - activity.posts),
            _ints(activity.urgent),
            _ints(activity.organized),
            _ints(activity.attended),
            _ints(activity.organized_kinds[:, 0]),
            _ints(activity.attended_kinds[:, 0]),
            _ints(activity.organized_kinds[:, 1]),
            _ints(activity.attended_kinds[:, 1]),
            _ints(activity.organized_kinds[:, 2]),
            _ints(activity.attended_kinds[:, 2]),
            _iso_duration(activity.audio_seconds),
            _iso_duration(activity.video_seconds),
            _iso_duration(activity.screen_seconds),
            _ints(activity.audio_seconds),
            _ints(activity.video_seconds),
            _ints(activity.screen_seconds),
            pa.array(yes_no[activity.other_action], type=pa.string()),
            _constant("Yes", n),
            period,
        ],
    )
    return email_path, teams_path


def week_sunday(monday: date) -> date:
    """The Sunday that ends the ISO week starting ``monday`` (the report's refresh date)."""
    return monday + timedelta(days=6)
