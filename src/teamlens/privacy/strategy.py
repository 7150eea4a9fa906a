"""The release strategy: the base measurements the whole catalogue needs, their noise and cost.

Every published number is derived from a small set of base measurements, planned once per
policy from the policy alone (no data, no ledger):

- **Weekly totals per group, per level and metric.** For each clipping block (a month of the
  period by default) and each (level, metric) the catalogue uses, the vector of every group's
  total in every week of the block. Each person's weekly values of a metric within a block are
  clipped together in L2 to ``per_week × √weeks`` (so a busy week is kept when the rest of the
  month is ordinary) and scaled to fixed-point integers; one person then moves the whole vector
  by at most that L2 norm, whatever group they are in each week. Months, quarters and parents
  are sums of these weeks and children: with clipped weeks a window total measured directly
  would cost the same for the same noise, so one weekly measurement serves every cadence.
- **Headcounts per span.** Group sizes change rarely, so each level's sizes are measured once
  per headcount span (the whole period unless the policy says otherwise), as the person-weeks
  of the span's first block, and serve every window of the span: for suppression and as the
  denominator of every mean.

The catalogue's budget ρ·Σshares is split into a headcount part (``headcount_share``) and a
metric part; the metric part is split over (level, metric) in proportion to the report shares
that use them, and then over blocks in proportion to their squared sensitivities (uniformly
per week). zCDP composes by addition, so measuring every block once costs exactly the
catalogue's budget; all arithmetic on ρ is exact.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from statistics import NormalDist

from teamlens.domain import Cadence, GroupLevel, HeadcountSpan, Policy, ReportKind, Rho, Window
from teamlens.errors import InternalError, ReleaseError
from teamlens.privacy._opendp import calibrate_sigma

#: Coarse to fine: a group at one of these levels lies inside one group of the level before it
#: whenever the directory nests them (checked per block; location nests only in organisation).
CHAIN = (GroupLevel.ORGANISATION, GroupLevel.DIVISION, GroupLevel.DEPARTMENT, GroupLevel.TEAM)
LEVEL_ORDER = (*CHAIN, GroupLevel.LOCATION)
#: A span key for the span that is the whole policy period.
PERIOD_SPAN = "period"
#: Fixed-point values are scaled so that one person's weekly bound is at least this many units.
_FIXED_POINT_UNITS = 1024
#: One-sided 95% normal quantile, for the suppression targets ``auto`` spans are chosen to meet.
_Z_ONE_SIDED = NormalDist().inv_cdf(0.95)

_ONE_WEEK = dt.timedelta(days=7)


@dataclass(frozen=True)
class Block:
    """A clipping block: consecutive ISO weeks of the period whose values are clipped together."""

    key: str
    weeks: tuple[dt.date, ...]

    @property
    def start(self) -> dt.date:
        """The first Monday of the block."""
        return self.weeks[0]

    @property
    def end(self) -> dt.date:
        """The day after the block's last day."""
        return self.weeks[-1] + _ONE_WEEK

    @property
    def n_weeks(self) -> int:
        """How many weeks the block holds."""
        return len(self.weeks)


@dataclass(frozen=True)
class Span:
    """A headcount span: the blocks one measured headcount serves; it is measured with the first."""

    key: str
    blocks: tuple[Block, ...]

    @property
    def first(self) -> Block:
        """The block whose person-weeks give the span's headcount."""
        return self.blocks[0]

    @property
    def weeks(self) -> tuple[dt.date, ...]:
        """Every week of the span."""
        return tuple(week for block in self.blocks for week in block.weeks)


@dataclass(frozen=True)
class MetricPlan:
    """The weekly measurement of one metric at one level: clipping, fixed-point scale, noise, budget."""

    level: GroupLevel
    metric: str
    per_week: int  # the policy's bound: the root-mean-square weekly value one person may keep
    scale: int  # fixed-point units per stored unit
    rho: Fraction  # for every block of the period together
    sigma: float  # per group and week, in fixed-point units

    def clip_norm(self, block: Block) -> float:
        """The L2 norm each person's fixed-point weekly vector in ``block`` is clipped to."""
        return self.scale * self.per_week * math.sqrt(block.n_weeks)

    def sensitivity(self, block: Block) -> int:
        """The integer L2 sensitivity of the block's measurement: ⌈clip norm⌉, computed exactly."""
        return _ceil_sqrt(self.scale * self.scale * self.per_week * self.per_week * block.n_weeks)


@dataclass(frozen=True)
class HeadcountPlan:
    """The headcount measurement of one level: person-weeks of each span's first block."""

    level: GroupLevel
    rho_per_span: Fraction

    def sigma(self, span: Span) -> float:
        """The noise on person-weeks of ``span``'s first block (one person adds at most its weeks)."""
        return calibrate_sigma(span.first.n_weeks, self.rho_per_span)

    def sd_people(self, span: Span) -> float:
        """The noise of the headcount itself, in people."""
        return self.sigma(span) / span.first.n_weeks


@dataclass(frozen=True)
class NetworkShare:
    """A network report's measurement: its level, metric, bound B per week and ρ for the whole period.

    Each block gets the part of ``rho`` its weeks are of the period's; σ is calibrated when the
    block is measured, from that ρ and the level's group list (``privacy.network.plan_network``).
    """

    level: GroupLevel
    metric: str
    per_week: int
    rho: Fraction


@dataclass(frozen=True)
class Strategy:
    """The catalogue's base measurements, planned from the policy alone (see the module docstring)."""

    policy: Policy
    blocks: tuple[Block, ...]
    spans: tuple[Span, ...]
    levels: tuple[GroupLevel, ...]
    metric_plans: tuple[MetricPlan, ...]
    headcount_plans: tuple[HeadcountPlan, ...]
    span_cadence: str  # "month", "quarter" or "period": what ``auto`` resolved to
    network_plans: tuple[NetworkShare, ...] = ()

    @classmethod
    def for_policy(cls, policy: Policy) -> Strategy:
        """Plan the measurements of ``policy``'s catalogue: every one with OpenDP-calibrated σ > 0."""
        return _plan(policy)

    @cached_property
    def _block_of_week(self) -> dict[dt.date, Block]:
        return {week: block for block in self.blocks for week in block.weeks}

    @cached_property
    def _span_of_block(self) -> dict[str, Span]:
        return {block.key: span for span in self.spans for block in span.blocks}

    def block_of(self, week: dt.date) -> Block:
        """The clipping block that holds the week starting on Monday ``week``."""
        try:
            return self._block_of_week[week]
        except KeyError:
            raise InternalError(f"week {week} is not a week of the policy period") from None

    def span_of(self, block: Block) -> Span:
        """The headcount span that holds ``block``."""
        return self._span_of_block[block.key]

    def block(self, key: str) -> Block:
        """The block called ``key``."""
        for block in self.blocks:
            if block.key == key:
                return block
        raise InternalError(f"'{key}' is not a clipping block of the policy period")

    def blocks_for(self, windows: Sequence[Window]) -> tuple[Block, ...]:
        """Every block a release of ``windows`` needs: their own, and the first of each of their spans.

        A span's headcount is measured with its first block, so a window late in a span needs
        that block measured too.
        """
        needed: dict[str, Block] = {}
        for window in windows:
            for week in window.weeks:
                block = self.block_of(week)
                needed[block.key] = block
                first = self.span_of(block).first
                needed[first.key] = first
        return tuple(sorted(needed.values(), key=lambda block: block.start))

    def metric_plan(self, level: GroupLevel, metric: str) -> MetricPlan:
        """The measurement of ``metric`` at ``level``."""
        for plan in self.metric_plans:
            if plan.level is level and plan.metric == metric:
                return plan
        raise InternalError(f"metric '{metric}' is not measured at level '{level.value}'")

    def headcount_plan(self, level: GroupLevel) -> HeadcountPlan:
        """The headcount measurement of ``level``."""
        for plan in self.headcount_plans:
            if plan.level is level:
                return plan
        raise InternalError(f"no headcount is measured at level '{level.value}'")

    def metrics_at(self, level: GroupLevel) -> tuple[str, ...]:
        """The metrics measured at ``level``, sorted."""
        return tuple(sorted(plan.metric for plan in self.metric_plans if plan.level is level))

    def block_rho(self, plan: MetricPlan, block: Block) -> Fraction:
        """The exact ρ of ``plan``'s measurement in ``block``: its share of the plan's ρ."""
        total = sum(plan.sensitivity(other) ** 2 for other in self.blocks)
        return plan.rho * plan.sensitivity(block) ** 2 / total

    def network_rho(self, plan: NetworkShare, block: Block) -> Fraction:
        """The exact ρ of ``plan``'s network measurement in ``block``: its weeks' part of the plan's ρ."""
        return plan.rho * block.n_weeks / sum(other.n_weeks for other in self.blocks)

    def block_cost(self, block: Block) -> Rho:
        """What measuring ``block`` charges: each (level, metric), each network, headcounts opening a span."""
        cost = sum((self.block_rho(plan, block) for plan in self.metric_plans), Fraction(0))
        cost += sum((self.network_rho(plan, block) for plan in self.network_plans), Fraction(0))
        if self.span_of(block).first == block:
            cost += sum((plan.rho_per_span for plan in self.headcount_plans), Fraction(0))
        return Rho(cost)


def _ceil_sqrt(value: int) -> int:
    return 0 if value <= 0 else math.isqrt(value - 1) + 1


def fixed_point_scale(per_week: int) -> int:
    """Fixed-point units per stored unit: the smallest power of two giving ≥ 1,024 units per bound."""
    scale = 1
    while scale * per_week < _FIXED_POINT_UNITS:
        scale *= 2
    return scale


def period_weeks(policy: Policy) -> tuple[dt.date, ...]:
    """The Mondays of every ISO week wholly inside the policy period."""
    weeks = []
    monday = policy.period_start + dt.timedelta(days=(7 - policy.period_start.weekday()) % 7)
    while monday + _ONE_WEEK <= policy.period_end:
        weeks.append(monday)
        monday += _ONE_WEEK
    return tuple(weeks)


def _partition(weeks: Sequence[dt.date], cadence: str) -> tuple[Block, ...]:
    """The period's weeks cut into windows of ``cadence`` ("period" for one piece), clipped to the period."""
    if cadence == PERIOD_SPAN:
        return (Block(PERIOD_SPAN, tuple(weeks)),)
    pieces: dict[str, list[dt.date]] = {}
    for week in weeks:
        pieces.setdefault(Window.containing(week, Cadence(cadence)).key, []).append(week)
    return tuple(Block(key, tuple(days)) for key, days in pieces.items())


def catalogue_levels(policy: Policy) -> tuple[GroupLevel, ...]:
    """The levels the catalogue releases, coarse to fine."""
    used = {report.level for report in policy.reports}
    return tuple(level for level in LEVEL_ORDER if level in used)


def suppression_sd_target(min_group_size: int) -> float:
    """The largest headcount noise (people) that keeps suppression right 95% of the time.

    Groups of at least 2k must be shown and groups under k/2 hidden, each in at least 95% of
    releases, with a group shown when its noisy headcount is at least k.
    """
    largest_small = math.ceil(min_group_size / 2) - 1
    return (min_group_size - largest_small) / _Z_ONE_SIDED


def _span_cadence(policy: Policy, weeks: Sequence[dt.date], rho_headcount_level: Fraction) -> str:
    choice = policy.design.headcount_span
    if choice is not HeadcountSpan.AUTO:
        return choice.value
    order = [Cadence.WEEK.value, Cadence.MONTH.value, Cadence.QUARTER.value, PERIOD_SPAN]
    candidates = order[max(order.index(policy.design.clipping_block.value), 1) :]
    target = suppression_sd_target(policy.min_group_size)
    for cadence in candidates:
        spans = len(_partition(weeks, cadence))
        if rho_headcount_level > 0 and 1 / math.sqrt(2 * float(rho_headcount_level / spans)) <= target:
            return cadence
    return PERIOD_SPAN


def _plan(policy: Policy) -> Strategy:
    weeks = period_weeks(policy)
    if not weeks:
        raise ReleaseError(
            f"policy '{policy.policy_id}' has no whole ISO week in its period",
            "Give the policy a period of whole weeks, Monday to Monday.",
        )
    levels = catalogue_levels(policy)
    if not levels:
        raise InternalError(f"policy '{policy.policy_id}' has an empty report catalogue")
    blocks = _partition(weeks, policy.design.clipping_block.value)
    shares = sum((report.budget_share for report in policy.reports), Fraction(0))
    rho_catalogue = policy.rho.value * shares
    rho_headcounts = rho_catalogue * policy.design.headcount_share
    rho_metrics = rho_catalogue - rho_headcounts
    rho_headcount_level = rho_headcounts / len(levels)
    span_cadence = _span_cadence(policy, weeks, rho_headcount_level)
    spans = _spans(blocks, _partition(weeks, span_cadence))
    weights: dict[tuple[GroupLevel, str], Fraction] = {}
    networks: dict[tuple[GroupLevel, str], Fraction] = {}
    for report in policy.reports:
        if report.kind is ReportKind.NETWORK:  # hook: the network's share (privacy.network measures it)
            key = (report.level, report.metrics[0])
            networks[key] = networks.get(key, Fraction(0)) + report.budget_share
            continue
        names = sorted(set(report.metrics))
        for name in names:
            key = (report.level, name)
            weights[key] = weights.get(key, Fraction(0)) + report.budget_share / len(names)
    metric_plans = []
    for level in levels:
        for name in sorted(name for lvl, name in weights if lvl is level):
            per_week = policy.metric_bound(name).per_week
            rho = rho_metrics * weights[(level, name)] / shares
            plan = MetricPlan(level, name, per_week, fixed_point_scale(per_week), rho, 0.0)
            metric_plans.append(_calibrated(plan, blocks))
    headcount_plans = tuple(HeadcountPlan(level, rho_headcount_level / len(spans)) for level in levels)
    network_plans = tuple(
        NetworkShare(level, name, policy.metric_bound(name).per_week, rho_metrics * share / shares)
        for (level, name), share in sorted(networks.items())
    )
    return Strategy(
        policy, blocks, spans, levels, tuple(metric_plans), headcount_plans, span_cadence, network_plans
    )


def _spans(blocks: Sequence[Block], pieces: Sequence[Block]) -> tuple[Span, ...]:
    owner = {week: piece.key for piece in pieces for week in piece.weeks}
    grouped: dict[str, list[Block]] = {}
    for block in blocks:
        keys = {owner[week] for week in block.weeks}
        if len(keys) != 1:
            raise InternalError(f"clipping block '{block.key}' straddles two headcount spans")
        grouped.setdefault(keys.pop(), []).append(block)
    return tuple(Span(key, tuple(members)) for key, members in grouped.items())


def _calibrated(plan: MetricPlan, blocks: Sequence[Block]) -> MetricPlan:
    """``plan`` with the smallest σ whose OpenDP-certified cost fits every block's share of its ρ."""
    if plan.rho <= 0:
        raise InternalError(f"metric '{plan.metric}' at level '{plan.level.value}' was given no budget")
    total = sum(plan.sensitivity(block) ** 2 for block in blocks)
    sigma = max(
        calibrate_sigma(plan.sensitivity(block), plan.rho * plan.sensitivity(block) ** 2 / total)
        for block in blocks
    )
    return MetricPlan(plan.level, plan.metric, plan.per_week, plan.scale, plan.rho, sigma)
