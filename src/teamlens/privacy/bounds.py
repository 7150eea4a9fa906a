"""Bounds from data: a noisy histogram of how busy people are, and the clipping bound it suggests.

The policy's per-week bounds decide both the noise (it grows with the bound) and the clipping
bias (activity above the bound is lost), so a bound guessed without data is often far from the
best. ``teamlens policy suggest-bounds`` spends the policy's ``bounds_share`` of ρ to measure,
for each metric, the distribution of each person's weekly root-mean-square over one clipping
block — the very quantity the L2 clip compares with the bound. One histogram per metric, each
person in exactly one bin (sensitivity 1), gets OpenDP's discrete Gaussian noise; everything
after is post-processing: quantiles, the share of activity a bound would clip, and the bound
that minimises the expected error of the means the catalogue publishes (clipping bias and
noise together, each report at its level's typical group size and its window length,
weighted by its budget share).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from teamlens.domain import Cadence, GroupLevel, Policy
from teamlens.domain.metric_catalogue import NETWORK_METRICS
from teamlens.errors import InternalError, ReleaseError
from teamlens.privacy._opendp import add_discrete_gaussian, calibrate_sigma, zcdp_cost
from teamlens.privacy.strategy import MetricPlan, Strategy

#: Bins per histogram, from the policy's bound / ``BELOW`` to the bound × ``ABOVE`` (geometric),
#: plus one bin under and one over. Few bins: each carries the same noise, and phantom people in
#: empty bins far above the bound would otherwise pass for heavy activity.
BIN_COUNT = 16
BELOW = 16
ABOVE = 4
#: The quantiles reported for every metric.
QUANTILES = (0.5, 0.9, 0.95, 0.99)
#: Candidate bounds tried between the histogram's first and last edges.
_CANDIDATES = 240
#: Weeks of a typical month, for the error a bound is chosen to minimise.
_MONTH_WEEKS = 4.33
#: Weeks of a typical window of each cadence.
_CADENCE_WEEKS = {Cadence.WEEK: 1.0, Cadence.MONTH: _MONTH_WEEKS, Cadence.QUARTER: 13.0}


@dataclass(frozen=True)
class BoundsPlan:
    """What measuring the spread of each metric costs and how its histogram is binned (stored units)."""

    metrics: tuple[str, ...]
    edges: Mapping[str, tuple[float, ...]]  # per metric: 0, then BIN_COUNT + 1 increasing edges
    rho_per_metric: Fraction
    sigma: float

    @property
    def cost(self) -> Fraction:
        """The exact ρ all the histograms cost together."""
        return self.rho_per_metric * len(self.metrics)


def plan_bounds(policy: Policy, share: Fraction) -> BoundsPlan:
    """Plan one histogram per metric of ``policy`` costing ``share`` of its ρ in all."""
    if not 0 < share <= policy.design.bounds_share:
        raise ReleaseError(
            f"suggesting bounds may spend at most the policy's bounds_share "
            f"({float(policy.design.bounds_share):g} of ρ), not {float(share):g}",
            'Add `bounds_share = "0.05"` to the policy\'s [privacy] table (and lower the report '
            "shares to make room) in a new version both parties approve.",
        )
    metrics = tuple(sorted(policy.metric_names - NETWORK_METRICS))  # hook: a network's B is not a mean's
    rho = policy.rho.value * share / len(metrics)
    sigma = calibrate_sigma(1, rho)
    edges = {name: _edges(policy.metric_bound(name).per_week) for name in metrics}
    return BoundsPlan(metrics, edges, rho, sigma)


def _edges(per_week: int) -> tuple[float, ...]:
    low, high = per_week / BELOW, per_week * ABOVE
    ratio = (high / low) ** (1 / BIN_COUNT)
    return (0.0, *(low * ratio**index for index in range(BIN_COUNT + 1)))


def noisy_histograms(plan: BoundsPlan, counts: Mapping[str, Sequence[int]]) -> dict[str, list[int]]:
    """Each metric's histogram with OpenDP's noise (one person moves one bin by one)."""
    noisy = {}
    for name in plan.metrics:
        true = list(counts.get(name, ()))
        if len(true) != len(plan.edges[name]):
            raise InternalError(f"the histogram of '{name}' does not have one count per bin")
        if any(count < 0 for count in true):
            raise InternalError("a histogram count is negative")
        if not plan.sigma > 0 or zcdp_cost(plan.sigma, 1) > plan.rho_per_metric:
            raise InternalError("a histogram's noise does not fit its budget")
        noisy[name] = add_discrete_gaussian(true, plan.sigma)
    return noisy


@dataclass(frozen=True)
class Spread:
    """One metric's noisy distribution of people's weekly root-mean-square values (stored units).

    ``edges`` bound the bins (0 first; the last bin is open above); ``below`` holds, for each
    edge, the estimated number of people under it: the noisy cumulative counts made
    non-decreasing by isotonic regression (pool adjacent violators), so that the noise of empty
    bins cancels instead of piling up as phantom people.
    """

    metric: str
    edges: tuple[float, ...]
    below: tuple[float, ...]  # people under each edge; below[0] = 0
    people: float

    def survival(self, value: float) -> float:
        """The share of people above ``value`` (interpolated between edges)."""
        if self.people <= 0:
            return 0.0
        for index in range(1, len(self.edges)):
            if value < self.edges[index]:
                low, high = self.edges[index - 1], self.edges[index]
                under = self.below[index - 1] + (self.below[index] - self.below[index - 1]) * (
                    value - low
                ) / (high - low)
                return max(0.0, 1.0 - under / self.people)
        top = self.edges[-1]
        remaining = max(0.0, 1.0 - self.below[-1] / self.people)
        # The open top bin: its people are taken as spread evenly up to half as much again.
        return remaining * max(0.0, 1.0 - (value - top) / (0.5 * top))

    def quantile(self, q: float) -> float:
        """The q-quantile, interpolated within its bin (0 when the histogram is empty)."""
        if self.people <= 0:
            return 0.0
        target = q * self.people
        for index in range(1, len(self.edges)):
            if self.below[index] >= target:
                low, high = self.edges[index - 1], self.edges[index]
                gained = self.below[index] - self.below[index - 1]
                share = (target - self.below[index - 1]) / gained if gained > 0 else 0.0
                return low + (high - low) * share
        return self.edges[-1] * 1.25

    def excess(self, bound: float) -> float:
        """E[(R − bound)⁺] per person: ∫ over r ≥ bound of the share of people above r."""
        points = sorted({bound, *(edge for edge in self.edges if edge > bound), self.edges[-1] * 1.5})
        return sum(
            (high - low) * (self.survival(low) + self.survival(high)) / 2
            for low, high in itertools.pairwise(points)
        )

    @property
    def mean(self) -> float:
        """The mean root-mean-square (an upper estimate of mean weekly activity)."""
        return self.excess(0.0)

    def clipped_share(self, bound: float) -> float:
        """The share of activity a per-week bound would clip away (0 to 1)."""
        mean = self.mean
        return min(1.0, self.excess(bound) / mean) if mean > 0 else 0.0


def spread(plan: BoundsPlan, metric: str, noisy: Sequence[int]) -> Spread:
    """Post-process one noisy histogram into a monotone distribution (see ``Spread``)."""
    edges = plan.edges[metric]
    running, cumulative = 0.0, []
    for count in noisy[:-1]:  # people under each edge after the first; the last bin is open
        running += count
        cumulative.append(running)
    total = max(running + noisy[-1], 0.0)
    fitted = [min(max(value, 0.0), total) for value in _isotonic(cumulative)]
    return Spread(metric, edges, (0.0, *fitted), float(total))


def _isotonic(values: Sequence[float]) -> list[float]:
    """The non-decreasing sequence closest to ``values`` in least squares (pool adjacent violators)."""
    blocks: list[list[float]] = []  # [mean, weight]
    for value in values:
        blocks.append([float(value), 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            mean, weight = blocks.pop()
            blocks[-1] = [
                (blocks[-1][0] * blocks[-1][1] + mean * weight) / (blocks[-1][1] + weight),
                blocks[-1][1] + weight,
            ]
    return [mean for mean, weight in blocks for _ in range(int(weight))]


def relative_noise(strategy: Strategy, metric: str, bound: float, group_size: float, mean: float) -> float:
    """The relative noise of a monthly mean of ``metric`` at ``group_size``, were its bound ``bound``.

    σ is proportional to the bound at a fixed share of ρ, so the strategy's σ at the policy's
    bound is scaled; the least precise level that measures the metric is taken.
    """
    plans = [plan for plan in strategy.metric_plans if plan.metric == metric]
    if not plans or group_size <= 0 or mean <= 0:
        return math.inf
    weekly = max(_weekly_sd(plan, bound) for plan in plans)
    return weekly * math.sqrt(_MONTH_WEEKS) / (group_size * _MONTH_WEEKS * mean)


def _weekly_sd(plan: MetricPlan, bound: float) -> float:
    """The noise of one group's weekly total (stored units) were the plan's bound ``bound``."""
    return plan.sigma / plan.scale * bound / plan.per_week


def expected_error(
    strategy: Strategy, found: Spread, bound: float, sizes: Mapping[GroupLevel, float]
) -> float:
    """The expected squared relative error of the metric's published means at ``bound``.

    Per report that publishes the metric: the clipping bias (the share of activity the bound
    clips) squared plus the noise of a mean over one of its windows at the level's typical
    group size (``sizes``) squared, weighted by the report's budget share. Headcount noise does
    not depend on the bound and is left out.
    """
    mean = found.mean
    bias = found.clipped_share(bound)
    weighted, shares = 0.0, 0.0
    for report in strategy.policy.reports:
        if found.metric not in report.metrics:
            continue
        plan = strategy.metric_plan(report.level, found.metric)
        size = sizes.get(report.level, 0.0)
        weeks = _CADENCE_WEEKS[report.cadence]
        noise = (
            _weekly_sd(plan, bound) / (size * math.sqrt(weeks) * mean) if size > 0 and mean > 0 else math.inf
        )
        share = float(report.budget_share)
        weighted += share * (bias * bias + noise * noise)
        shares += share
    return weighted / shares if shares > 0 else math.inf


def suggest_bound(strategy: Strategy, found: Spread, sizes: Mapping[GroupLevel, float]) -> float:
    """The bound (stored units per week) minimising the expected error of the published means.

    ``sizes`` gives the typical group size of each level the catalogue releases: the error is
    that of the reports actually published, each weighted by its share (``expected_error``),
    not of the finest level's monthly figure alone.
    """
    if found.mean <= 0:
        return float(strategy.policy.metric_bound(found.metric).per_week)
    # A fine grid between the histogram's first and last edges: the distribution is interpolated
    # within bins, so the bound need not sit on an edge.
    low, high = found.edges[1], found.edges[-1]
    candidates = [float(low * (high / low) ** (step / _CANDIDATES)) for step in range(_CANDIDATES + 1)]
    best: float = min(candidates, key=lambda bound: expected_error(strategy, found, bound, sizes))
    return best
