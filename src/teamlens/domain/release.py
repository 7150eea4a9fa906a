"""What a release hands to people: noisy, bounded, suppressed team-level numbers with intervals."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class ReleasedCell:
    """One released number: a group's mean per person per week in one window, or a suppression.

    A suppressed cell carries nothing but its group, window and metric: the only thing it says
    is "fewer than k people", whatever the reason (attack A9). A shown cell carries its value
    and 95% interval in display units (hours for time), the consistent noisy total and
    person-weeks it was computed from (children add up to their parent and weeks to their
    window), and their standard deviations, so that anyone can recompute the interval.
    ``uncertain`` marks a value too uncertain at this budget to act on (the interval its group
    gets at a typical value, half the metric's bound, is wider than half that value: decided
    from the group's size and planned noise, not this value's noise); ``clamped`` one whose raw
    estimate fell outside [0, bound] and is shown at the edge with a one-sided interval.
    """

    group: str
    window: str
    metric: str
    value: float | None
    lower: float | None
    upper: float | None
    total: float | None = None
    person_weeks: float | None = None
    sd_total: float | None = None
    sd_person_weeks: float | None = None
    clamped: bool = False
    uncertain: bool = False

    @property
    def suppressed(self) -> bool:
        """True when the group's noisy headcount was under the policy's minimum group size."""
        return self.value is None


@dataclass(frozen=True)
class ReleasedTable:
    """The result of one release: the cells plus everything needed to read them honestly."""

    release_id: str
    report_id: str
    policy_id: str
    policy_version: int
    level: str
    windows: tuple[str, ...]
    metrics: tuple[str, ...]
    cells: tuple[ReleasedCell, ...]
    rho_charged: float
    min_group_size: int
    released_at: dt.datetime
    #: The releases that published these cells, oldest first (ids sort by time).
    published_by: tuple[str, ...] = ()
    #: True when every cell asked for was published before: nothing new was released, and
    #: ``release_id`` is the release that published them (the latest, when several did).
    repeated: bool = False
    mechanism: str = (
        "discrete Gaussian (OpenDP) on weekly totals clipped in L2 per block, zero-concentrated DP, "
        "user-level; consistent across levels by least squares"
    )
