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
from teamlens.privacy import Strategy
from teamlens.services.workspace import Workspace


@dataclass(frozen=True)
class Exclusion:
    """One entry of the exclusion list: a pseudonym, and from which window start it applies."""

    pseudonym: str
    recorded_at: dt.datetime
    effective_from: dt.date


def effective_from(ws: Workspace, recorded_at: dt.datetime) -> dt.date:
    """The first day an objection applies: the first clipping block to start after the day it was recorded.

    With no policy in force, the Monday after (nothing is measured until a policy applies).
    """
    day = recorded_at.astimezone(dt.UTC).date()
    active = ws.governance.active_policy()
    if active is None:
        return monday_of(day) + dt.timedelta(days=7)
    later = [block.start for block in Strategy.for_policy(active.policy).blocks if block.start > day]
    return later[0] if later else active.policy.period_end


def own_exclusion(ws: Workspace, person: str) -> Exclusion | None:
    """The pseudonym ``person``'s own entry on the exclusion list, if they objected."""
    for pseudonym, at in ws.governance.objections():
        if pseudonym == person:
            return Exclusion(pseudonym, at, effective_from(ws, at))
    return None
