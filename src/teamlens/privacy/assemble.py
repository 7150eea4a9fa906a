"""Turn consistent estimates into what people read: means per person per week, intervals, suppression.

Everything here is post-processing of already-noised numbers, so it costs no budget. For a
window W and a group, the total is the sum of the group's consistent weekly totals over W's
weeks, and the person-weeks are the group's span headcount times the weeks of W in each span.
The released value is total / person-weeks per person per week, in display units, with the 95%
interval of ``intervals`` (one-sided where the value is shown at 0 or at its bound).

A group whose average noisy headcount over W is under the policy's minimum size is suppressed
with no value and no interval, the same whatever the reason (attacks A7, A9); the decision uses
the noisy count, never the true one. Hidden keys (people the directory does not place at a
level) are measured but never shown.

A shown value is marked ``uncertain`` — reports say "too uncertain at this budget" instead of
printing it — when the 95% interval the group would get at a typical value is wider than half
that typical value (``UNCERTAIN_WIDTH``). The typical value is the planner's: half the metric's
per-week bound, published in the policy. The width at it uses the planned noise of the group's
total (its reconciled variance, fixed by the plan and the organisation chart) and the group's
measured person-weeks, whose noise is independent of the total's. Nothing in the decision reads
the cell's own noisy total, so the cells printed as numbers are not selected by their noise: an
earlier rule compared each cell's own interval with the median of the noisy values, and printed
cells whose noise happened to give a narrow interval (78.6% of them covered the truth). The
planner forecasts half-widths at the same typical value before anything is released, so a group
whose forecast ± exceeds a quarter of it can be expected to read "too uncertain".
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from teamlens.domain import (
    HIDDEN_PREFIX,
    MIN_GROUP_SIZE_FLOOR,
    GroupLevel,
    Policy,
    ReleasedCell,
    ReleasedTable,
    Rho,
    Window,
    metric,
)
from teamlens.errors import InternalError
from teamlens.privacy.estimate import Series
from teamlens.privacy.hierarchy import IntArray
from teamlens.privacy.intervals import Z95, FloatArray, ratio_intervals
from teamlens.privacy.spec import ReleaseSpec
from teamlens.privacy.strategy import Strategy

#: A value is too uncertain to act on when its interval is wider than this part of the typical value.
UNCERTAIN_WIDTH = 0.5
#: The typical value of a metric, as a part of its per-week bound (the planner's typical value).
TYPICAL_SHARE_OF_BOUND = 0.5

Weekly = Mapping[tuple[GroupLevel, str], Sequence[Series]]
Headcounts = Mapping[str, Mapping[GroupLevel, Series]]


@dataclass(frozen=True)
class _Raw:
    """One group's window figures before display: stored units, fixed point removed."""

    group: str
    total: float
    var_total: float
    person_weeks: float
    var_person_weeks: float


def assemble(
    strategy: Strategy,
    spec: ReleaseSpec,
    weekly: Weekly,
    headcounts: Headcounts,
    *,
    release_id: str,
    released_at: dt.datetime,
    rho_charged: Rho,
) -> ReleasedTable:
    """Build the released table of ``spec`` from consistent estimates (see the module docstring).

    ``weekly`` holds, per (level, metric), the reconciled series of every block the spec's
    windows touch; ``headcounts``, per span key, the reconciled person-weeks of every span they
    touch. Raises ``InternalError`` when one is missing.
    """
    policy = strategy.policy
    if policy.min_group_size < MIN_GROUP_SIZE_FLOOR:
        raise InternalError("the approved policy's minimum group size is below the floor of 5")
    cells: list[ReleasedCell] = []
    for window in spec.windows:
        for name in spec.metrics:
            raws = _window_figures(strategy, spec.level, window, name, weekly, headcounts)
            cells.extend(_cells(policy, strategy, window, name, raws))
    return spec.table(
        policy, cells, release_id=release_id, rho_charged=float(rho_charged), released_at=released_at
    )


def _window_figures(
    strategy: Strategy, level: GroupLevel, window: Window, name: str, weekly: Weekly, headcounts: Headcounts
) -> list[_Raw | str]:
    """Per group: its window total and person-weeks with variances, or just its name if it lacks one."""
    blocks = weekly.get((level, name))
    if not blocks:
        raise InternalError(f"no estimates of '{name}' at level '{level.value}' were given")
    column: dict[dt.date, tuple[Series, int]] = {}
    for series in blocks:
        for index, week in enumerate(series.weeks):
            column[week] = (series, index)
    spans: dict[str, int] = {}
    for week in window.weeks:
        if week not in column:
            raise InternalError(f"no estimate of '{name}' for the week of {week}")
        key = strategy.span_of(strategy.block_of(week)).key
        spans[key] = spans.get(key, 0) + 1
    groups = sorted(
        {group for series in blocks for group in series.groups if not group.startswith(HIDDEN_PREFIX)}
    )
    # Every group at once, adding week by week and span by span in the same order as one group
    # at a time would: the same floating-point operations, so the same figures to the last bit.
    rows_in: dict[int, IntArray] = {}
    known = np.ones(len(groups), dtype=bool)
    total = np.zeros(len(groups))
    var_total = np.zeros(len(groups))
    for week in window.weeks:
        series, index = column[week]
        rows = _rows(series, groups, rows_in)
        known &= rows >= 0
        total = total + series.values[rows, index] / series.scale
        var_total = var_total + series.variances[rows] / series.scale**2
    person_weeks = np.zeros(len(groups))
    var_person_weeks = np.zeros(len(groups))
    if known.any():  # a group missing from a block is shown by name only, before any headcount is read
        by_key = {span.key: span for span in strategy.spans}
        for key, weeks in spans.items():
            measured = headcounts.get(key, {}).get(level)
            if measured is None:
                raise InternalError(f"no headcount of span '{key}' at level '{level.value}' was given")
            rows = _rows(measured, groups, rows_in)
            known &= rows >= 0
            factor = weeks / by_key[key].first.n_weeks
            person_weeks = person_weeks + factor * measured.values[rows, 0]
            var_person_weeks = var_person_weeks + factor**2 * measured.variances[rows]
    return [
        _Raw(group, float(total[n]), float(var_total[n]), float(person_weeks[n]), float(var_person_weeks[n]))
        if known[n]
        else group
        for n, group in enumerate(groups)
    ]


def _rows(series: Series, groups: Sequence[str], found: dict[int, IntArray]) -> IntArray:
    """Each group's row in ``series``, -1 where it has none (those groups' figures are not used)."""
    if id(series) not in found:
        found[id(series)] = np.array([series.rows.get(group, -1) for group in groups], dtype=np.int64)
    return found[id(series)]


def per_week_ceiling(strategy: Strategy, window: Window, per_week: int) -> float:
    """The most one person can add per week to ``window``'s mean, stored units.

    Within a block of n weeks a person's weekly values have L2 norm at most c·√n, so over the
    m weeks of the window that fall in it they sum to at most c·√(m·n).
    """
    by_block: dict[str, int] = {}
    for week in window.weeks:
        key = strategy.block_of(week).key
        by_block[key] = by_block.get(key, 0) + 1
    reach = sum(math.sqrt(weeks * strategy.block(key).n_weeks) for key, weeks in by_block.items())
    return per_week * reach / window.n_weeks


def _cells(
    policy: Policy, strategy: Strategy, window: Window, name: str, raws: list[_Raw | str]
) -> list[ReleasedCell]:
    shown = [
        raw
        for raw in raws
        if isinstance(raw, _Raw) and raw.person_weeks >= policy.min_group_size * window.n_weeks
    ]
    divisor = metric(name).display_divisor
    ceiling = per_week_ceiling(strategy, window, policy.metric_bound(name).per_week)
    figures: dict[str, ReleasedCell] = {}
    if shown:
        found = ratio_intervals(
            np.array([raw.total for raw in shown]),
            np.array([raw.var_total for raw in shown]),
            np.array([raw.person_weeks for raw in shown]),
            np.array([raw.var_person_weeks for raw in shown]),
            np.full(len(shown), ceiling),
        )
        uncertain = too_uncertain(
            np.array([raw.var_total for raw in shown]),
            np.array([raw.person_weeks for raw in shown]),
            np.array([raw.var_person_weeks for raw in shown]),
            typical_value(policy, name),
        )
        for position, raw in enumerate(shown):
            lower, upper = float(found.lower[position]), float(found.upper[position])
            figures[raw.group] = ReleasedCell(
                raw.group,
                window.key,
                name,
                float(found.value[position]) / divisor,
                lower / divisor,
                upper / divisor,
                total=float(raw.total) / divisor,
                person_weeks=float(raw.person_weeks),
                sd_total=math.sqrt(raw.var_total) / divisor,
                sd_person_weeks=math.sqrt(raw.var_person_weeks),
                clamped=bool(found.clamped[position]),
                uncertain=bool(uncertain[position]),
            )
    cells = []
    for figure in raws:
        group = figure.group if isinstance(figure, _Raw) else figure
        cells.append(figures.get(group) or ReleasedCell(group, window.key, name, None, None, None))
    return cells


def typical_value(policy: Policy, name: str) -> float:
    """The typical weekly value per person of metric ``name``, stored units: a published part of its bound."""
    return policy.metric_bound(name).per_week * TYPICAL_SHARE_OF_BOUND


def too_uncertain(
    var_total: FloatArray, person_weeks: FloatArray, var_person_weeks: FloatArray, typical: float
) -> npt.NDArray[np.bool_]:
    """Which groups' figures are too uncertain to act on (see the module docstring).

    The width is the first-order (delta-method) one, 2·z·√(var T + t²·var D) / D, at the typical
    value t per person-week,
    for a total over the window with variance ``var_total`` and ``person_weeks`` D measured with
    variance ``var_person_weeks``. With no noise (exact mode) nothing is uncertain.
    """
    width = 2 * Z95 * np.sqrt(var_total + typical**2 * var_person_weeks) / person_weeks
    result: npt.NDArray[np.bool_] = width > UNCERTAIN_WIDTH * typical
    return result
