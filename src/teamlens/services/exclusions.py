"""When an objection takes effect: from the next clipping block that starts after it (R22).

A worker who objects is left out of every block that starts after the objection was recorded
(the release service asks ``governance.excluded_persons(block.start)``), and stays in blocks that
had already started: each person's weeks in a block are clipped together, and removing them later
would change a past population (and, for blocks already measured, contradict what was published).
Group sizes, and so suppression under k, are counted after these exclusions (R12).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from teamlens.domain import monday_of
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
