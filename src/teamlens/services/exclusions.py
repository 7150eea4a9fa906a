"""Aggregate with each window's own exclusion list: an objection applies from the next window on.

A worker who objects (R22) is left out of every window that starts after the objection was
recorded, and stays in the windows that had already started: each person's membership of a
window is fixed at its start, so removing them later would change a past population (and,
for windows already released, contradict what was published). Windows that share the same list
are aggregated together, so the usual case (no objection in between) is still one store query.
Group sizes, and so suppression under k, are counted after these exclusions (R12).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pyarrow as pa

from teamlens.domain import AGGREGATE_SCHEMA, Window, monday_of
from teamlens.services.workspace import Workspace


@dataclass(frozen=True)
class Exclusion:
    """One entry of the exclusion list: a pseudonym, and from which window start it applies."""

    pseudonym: str
    recorded_at: dt.datetime
    effective_from: dt.date


def effective_from(recorded_at: dt.datetime) -> dt.date:
    """The first window start an objection applies to: the Monday after the day it was recorded."""
    return monday_of(recorded_at.astimezone(dt.UTC).date()) + dt.timedelta(days=7)


def own_exclusion(ws: Workspace, person: str) -> Exclusion | None:
    """The pseudonym ``person``'s own entry on the exclusion list, if they objected."""
    for pseudonym, at in ws.governance.objections():
        if pseudonym == person:
            return Exclusion(pseudonym, at, effective_from(at))
    return None


def aggregate_after_objections(
    ws: Workspace, *, level: str, windows: Sequence[Window], bounds: Mapping[tuple[str, str], int]
) -> pa.Table:
    """Clipped group totals and headcounts for ``windows``, each without that window's objectors."""
    by_exclusions: dict[frozenset[str], list[Window]] = {}
    for window in windows:
        by_exclusions.setdefault(ws.governance.excluded_persons(window.start), []).append(window)
    parts = [
        ws.store.aggregate(level=level, windows=group, bounds=bounds, headcount=True, exclude=excluded)
        for excluded, group in by_exclusions.items()
    ]
    if not parts:
        return AGGREGATE_SCHEMA.empty_table()
    return pa.concat_tables(parts).sort_by(
        [("window", "ascending"), ("group", "ascending"), ("metric", "ascending")]
    )
