"""The planner's forecast of released error bars, computed the way releases compute them.

A released mean for a group of n people over a window W is T / D: T the group's consistent total
over W's weeks (variance: the weekly estimates' variances added up), D its person-weeks from the
span headcount (variance: |W|² times the headcount's). The forecast takes the expected T and D for
a typical weekly value, and averages the half-width of the interval ``intervals`` would publish
over a fixed grid of noise draws (stratified normal quantiles, the same every time), so that the
edges — one-sided intervals where values are shown at 0 — are forecast as they will be shown.

Variances come from the strategy; ``variance_factor`` (at most 1) carries the gain of reconciling
a level with the levels it nests in, which the planner computes from the organisation chart.
"""

from __future__ import annotations

import math
from functools import lru_cache
from statistics import NormalDist

import numpy as np

from teamlens.domain import METRICS, GroupLevel, Policy, Window
from teamlens.errors import ReleaseError
from teamlens.privacy.assemble import per_week_ceiling
from teamlens.privacy.intervals import Z95, ratio_intervals
from teamlens.privacy.spec import report_of
from teamlens.privacy.strategy import Strategy

__all__ = ["Z95", "expected_half_width"]

#: Noise draws per forecast: a 32 × 32 grid of stratified standard normal quantiles (16 × 16 overstated
#: the width by about 10% near the zero edge, where the conditional intervals vary most).
_GRID = 32
_QUANTILES = np.array([NormalDist().inv_cdf((index + 0.5) / _GRID) for index in range(_GRID)])


def expected_half_width(
    policy: Policy,
    report_id: str,
    group_size: int,
    typical_weekly_value: float,
    metric: str,
    *,
    strategy: Strategy | None = None,
    variance_factor: float = 1.0,
    window: Window | None = None,
) -> float:
    """Forecast the mean 95% half-width of a released weekly mean, in display units (hours, counts).

    For a group of ``group_size`` people whose typical value is ``typical_weekly_value`` per
    person per week (display units), in ``window`` (the report's first window by default).
    Groups under the policy's minimum size are usually suppressed instead.
    """
    report = report_of(policy, report_id)
    if metric not in report.metrics:
        raise ReleaseError(
            f"report '{report_id}' does not include the metric '{metric}'",
            f"Report '{report_id}' has the metrics: {', '.join(sorted(set(report.metrics)))}.",
        )
    if group_size < 1:
        raise ReleaseError(
            f"a group size must be at least 1 (got {group_size})", "Give the group's number of members."
        )
    if not typical_weekly_value >= 0:
        raise ReleaseError(
            f"a typical weekly value must be zero or more (got {typical_weekly_value})",
            "Give the value one person typically has in a week, in display units (hours for time).",
        )
    return _forecast(
        strategy or Strategy.for_policy(policy),
        report.level,
        window or policy.windows(report.cadence)[0],
        group_size,
        typical_weekly_value,
        metric,
        variance_factor,
    )


@lru_cache(maxsize=16_384)
def _forecast(
    strategy: Strategy,
    level: GroupLevel,
    window: Window,
    group_size: int,
    typical_weekly_value: float,
    metric: str,
    variance_factor: float,
) -> float:
    """The forecast itself, cached: a planner asks it for many groups of the same size."""
    policy = strategy.policy
    plan = strategy.metric_plan(level, metric)
    divisor = METRICS[metric].display_divisor
    var_total = window.n_weeks * variance_factor * (plan.sigma / plan.scale) ** 2
    spans: dict[str, int] = {}
    for week in window.weeks:
        key = strategy.span_of(strategy.block_of(week)).key
        spans[key] = spans.get(key, 0) + 1
    headcount = strategy.headcount_plan(level)
    var_count = sum(
        weeks**2 * headcount.sd_people(next(span for span in strategy.spans if span.key == key)) ** 2
        for key, weeks in spans.items()
    )
    count = group_size * window.n_weeks
    total = typical_weekly_value * divisor * count
    ceiling = per_week_ceiling(strategy, window, plan.per_week)
    noise_total = np.repeat(_QUANTILES, _GRID) * math.sqrt(var_total)
    noise_count = np.tile(_QUANTILES, _GRID) * math.sqrt(var_count)
    # Draws that would be suppressed (count under k) are not shown, so they have no width.
    shown = count + noise_count >= policy.min_group_size * window.n_weeks
    if not shown.any():
        return ceiling / 2 / divisor  # never shown: nothing narrower than [0, bound] to forecast
    found = ratio_intervals(
        (total + noise_total)[shown],
        np.full(int(shown.sum()), var_total),
        (count + noise_count)[shown],
        np.full(int(shown.sum()), var_count),
        np.full(int(shown.sum()), ceiling),
    )
    return float(np.mean(found.upper - found.lower)) / 2 / divisor
