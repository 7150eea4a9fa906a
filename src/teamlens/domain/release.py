"""What a release hands to people: noisy, bounded, suppressed team-level numbers with intervals."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class ReleasedCell:
    """One released number: a group's mean per person per week in one window, or a suppression.

    A suppressed cell carries no value and no interval: the only thing it says is "fewer than k
    people", whatever the reason (attack A9).
    """

    group: str
    window: str
    metric: str
    value: float | None
    lower: float | None
    upper: float | None

    @property
    def suppressed(self) -> bool:
        """True when the group's noisy headcount was under the policy's minimum group size."""
        return self.value is None


@dataclass(frozen=True)
class MetricNoise:
    """The noise added to one metric's totals, so anyone can recompute the intervals."""

    metric: str
    window: str
    sigma_total: float
    bound: int


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
    noise: tuple[MetricNoise, ...]
    rho_charged: float
    min_group_size: int
    released_at: dt.datetime
    mechanism: str = "discrete Gaussian (OpenDP), zero-concentrated DP, user-level"
