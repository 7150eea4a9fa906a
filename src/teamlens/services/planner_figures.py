"""The planner's figures: the expected 95% error of every planned report at the real group sizes.

Representatives decide the privacy/accuracy trade-off knowingly only if they see, before they
sign, how wide the error bars will be for their own organisation (DESIGN.md, "What accuracy to
expect"). Group sizes come from the HR directory as it stands at the start of the current week,
after the objections recorded before today (R12, R22; today's count from tomorrow, as on every
public page); groups under the policy's minimum size are shown only as "fewer
than k" and get no figure. Each figure is computed at the group's own size, the way releases
will compute it (rounding sizes first made forecasts 13% too narrow or 20% too wide); sizes are
shown rounded to the nearest 5. The organisation chart is public in the same way (a manager
knows how many people report to them): a reader who knows the forecast's formula can work a
group's size back out of its figure, which says no more than the chart does. Before any
directory has been ingested (a first policy), figures are given for illustrative group sizes.

The typical weekly value the forecast needs is taken as half of each metric's per-week bound:
the half-width barely depends on it away from the edges, and taking it from the data would
itself be an unprotected release. Releases mark a figure "too uncertain" against the same
typical value (``privacy.assemble``): a group whose forecast ± exceeds a quarter of it will
mostly read so.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass

from teamlens.domain import METRICS, Cadence, GroupLevel, Policy, ReportKind, Window
from teamlens.privacy import Strategy, expected_half_width, typical_value, variance_factors
from teamlens.services.release_network import edge_half_width
from teamlens.services.workspace import Workspace

#: Group sizes are published rounded to a multiple of this.
ROUNDING = 5


@dataclass(frozen=True)
class GroupFigure:
    """One group: its rounded size and the expected ± of each metric (empty when suppressed)."""

    group: str
    size: int | None  # None: fewer than the minimum group size
    half_widths: tuple[float, ...]


@dataclass(frozen=True)
class ReportFigures:
    """The forecast for one catalogue report, metric columns in catalogue order."""

    report_id: str
    title: str
    level: str
    cadence: str
    metrics: tuple[str, ...]
    labels: tuple[str, ...]
    units: tuple[str, ...]
    typical: tuple[float, ...]
    groups: tuple[GroupFigure, ...]

    @property
    def shown(self) -> tuple[GroupFigure, ...]:
        """The groups large enough to be released."""
        return tuple(group for group in self.groups if group.size is not None)

    @property
    def suppressed(self) -> int:
        """How many groups are under the minimum size."""
        return len(self.groups) - len(self.shown)


@dataclass(frozen=True)
class PlannerFigures:
    """The forecast for every report of a policy; ``basis`` says where group sizes came from."""

    policy_id: str
    version: int
    basis: str  # "directory" or "illustrative"
    as_of: str
    min_group_size: int
    reports: tuple[ReportFigures, ...]
    people: int | None = None  # everyone in the directory, rounded; None when unknown

    def to_json(self) -> str:
        """The figures as JSON, as stored in the consultation record."""
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))


def round_size(size: int) -> int:
    """Round a headcount to the nearest multiple of 5 (halves up, never below 5)."""
    return max(ROUNDING, (size + ROUNDING // 2) // ROUNDING * ROUNDING)


def planner_figures(ws: Workspace, policy: Policy, *, today: dt.date | None = None) -> PlannerFigures:
    """Forecast every report of ``policy`` at the organisation's group sizes (see module docstring)."""
    day = today or dt.date.today()
    week = Window.containing(day, Cadence.WEEK)
    sizes = {level.value: _group_sizes(ws, level.value, week, day) for level in policy.grouping_levels}
    basis = "directory" if any(sizes.values()) else "illustrative"
    everyone = sum(_group_sizes(ws, "organisation", week, day).values())
    strategy = Strategy.for_policy(policy)
    factors = _factors(ws, strategy, week) if basis == "directory" else {}
    reports = []
    for report in policy.reports:
        metrics = tuple(report.metrics)
        if report.kind is ReportKind.NETWORK:  # hook: one edge's interval, the same for every pair
            level_sizes = sizes[report.level.value] if basis == "directory" else _illustrative(policy)
            width = round(edge_half_width(strategy, report, len(level_sizes)), 2)
            groups = tuple(
                GroupFigure(group, round_size(size), (width,))
                if size >= policy.min_group_size
                else GroupFigure(group, None, ())
                for group, size in sorted(level_sizes.items())
            )
            typical: tuple[float, ...] = (
                policy.metric_bound(metrics[0]).per_week / METRICS[metrics[0]].display_divisor / 2,
            )
            reports.append(
                ReportFigures(
                    report.report_id,
                    report.title,
                    report.level.value,
                    report.cadence.value,
                    metrics,
                    (METRICS[metrics[0]].label,),
                    (METRICS[metrics[0]].display_unit,),
                    typical,
                    groups,
                )
            )
            continue
        typical = tuple(typical_value(policy, name) / METRICS[name].display_divisor for name in metrics)
        level_sizes = sizes[report.level.value] if basis == "directory" else _illustrative(policy)
        groups = tuple(
            _figure(
                policy,
                strategy,
                report.report_id,
                metrics,
                typical,
                group,
                size,
                tuple(factors.get((report.level, name), {}).get(group, 1.0) for name in metrics),
            )
            for group, size in sorted(level_sizes.items())
        )
        reports.append(
            ReportFigures(
                report_id=report.report_id,
                title=report.title,
                level=report.level.value,
                cadence=report.cadence.value,
                metrics=metrics,
                labels=tuple(METRICS[name].label for name in metrics),
                units=tuple(METRICS[name].display_unit for name in metrics),
                typical=typical,
                groups=groups,
            )
        )
    return PlannerFigures(
        policy_id=policy.policy_id,
        version=policy.version,
        basis=basis,
        as_of=week.start.isoformat(),
        min_group_size=policy.min_group_size,
        reports=tuple(reports),
        people=round_size(everyone) if everyone else None,
    )


def _figure(
    policy: Policy,
    strategy: Strategy,
    report_id: str,
    metrics: tuple[str, ...],
    typical: tuple[float, ...],
    group: str,
    size: int,
    variance_factors: tuple[float, ...],
) -> GroupFigure:
    if size < policy.min_group_size:
        return GroupFigure(group, None, ())
    widths = tuple(
        round(
            expected_half_width(
                policy, report_id, size, value, name, strategy=strategy, variance_factor=factor
            ),
            2,
        )
        for name, value, factor in zip(metrics, typical, variance_factors, strict=True)
    )
    return GroupFigure(group, round_size(size), widths)


def _factors(
    ws: Workspace, strategy: Strategy, week: Window
) -> dict[tuple[GroupLevel, str], dict[str, float]]:
    """How much reconciling nested levels will narrow each group's figures, from this week's chart."""
    levels = [level.value for level in strategy.levels]
    chart = ws.store.structure(levels=levels, first_day=week.start, end_day=week.end)
    return variance_factors(
        strategy, chart, {level: ws.store.groups(level.value) for level in strategy.levels}
    )


def _group_sizes(ws: Workspace, level: str, week: Window, day: dt.date) -> dict[str, int]:
    # Exact sizes stay inside this module: only rounded sizes and forecasts leave it. Objections
    # count from the day after they were recorded, like everything on the public pages: a
    # forecast that moved the moment someone objected would time their objection.
    return ws.store.group_sizes(level, week.start, exclude=ws.governance.excluded_persons(day))


def _illustrative(policy: Policy) -> dict[str, int]:
    k = policy.min_group_size
    return {f"a group of {size}": size for size in sorted({k, 2 * k, 50, 200})}
