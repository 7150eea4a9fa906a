"""Bounds from data: the histogram's cost and noise, and what its post-processing recovers."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest

from teamlens.domain import Policy
from teamlens.errors import InternalError, ReleaseError
from teamlens.privacy import Strategy
from teamlens.privacy._opendp import zcdp_cost
from teamlens.privacy.bounds import expected_error, noisy_histograms, plan_bounds, spread, suggest_bound


def _policy(policy: Policy, share: str = "0.05") -> Policy:
    return replace(policy, design=replace(policy.design, bounds_share=Fraction(share)))


def _counts(policy: Policy, values: np.ndarray, metric: str) -> list[int]:
    """How many of ``values`` fall in each bin of the plan for ``metric``."""
    edges = plan_bounds(policy, policy.design.bounds_share).edges[metric]
    tops = [*edges[1:], math.inf]
    return [int(((values >= low) & (values < high)).sum()) for low, high in zip(edges, tops, strict=True)]


def test_the_histograms_cost_exactly_the_share_asked_for_and_opendp_agrees(policy: Policy) -> None:
    piloted = _policy(policy)
    plan = plan_bounds(piloted, Fraction(1, 20))
    assert plan.cost == piloted.rho.value / 20
    assert zcdp_cost(plan.sigma, 1) <= plan.rho_per_metric
    assert plan.metrics == tuple(sorted(policy.metric_names))
    for edges in plan.edges.values():
        assert edges[0] == 0 and list(edges) == sorted(edges)


def test_more_than_the_policys_bounds_share_is_refused(policy: Policy) -> None:
    with pytest.raises(ReleaseError, match="bounds_share"):
        plan_bounds(policy, Fraction(1, 100))  # the test policy sets none
    with pytest.raises(ReleaseError, match="at most"):
        plan_bounds(_policy(policy), Fraction(1, 10))


def test_the_noise_is_as_planned_and_a_weaker_one_is_refused(policy: Policy) -> None:
    piloted = _policy(policy)
    plan = plan_bounds(piloted, Fraction(1, 20))
    counts = {name: [0] * len(plan.edges[name]) for name in plan.metrics}
    draws = np.array([noisy_histograms(plan, counts)["emails_sent"] for _ in range(60)]).ravel()
    assert abs(draws.std() - plan.sigma) < 5 * plan.sigma / math.sqrt(2 * draws.size)
    with pytest.raises(InternalError, match="budget"):
        noisy_histograms(dataclasses.replace(plan, sigma=plan.sigma / 2), counts)
    with pytest.raises(InternalError, match="one count per bin"):
        noisy_histograms(plan, {**counts, "emails_sent": [1, 2]})


def test_without_noise_the_quantiles_and_the_clipped_share_are_recovered(policy: Policy) -> None:
    piloted = _policy(policy)
    rng = np.random.default_rng(4)
    values = rng.lognormal(mean=np.log(300), sigma=0.5, size=20_000)  # emails_sent bound is 500
    # Without noise the histogram is the true counts (the installed package never skips the noise).
    plan = plan_bounds(piloted, Fraction(1, 20))
    found = spread(plan, "emails_sent", _counts(piloted, values, "emails_sent"))
    assert found.people == values.size
    for q in (0.5, 0.9):
        assert found.quantile(q) == pytest.approx(np.quantile(values, q), rel=0.05)
    truth = np.maximum(values - 500, 0).sum() / values.sum()
    assert found.clipped_share(500) == pytest.approx(truth, abs=0.01)
    assert found.clipped_share(0) == pytest.approx(1.0)
    assert found.mean == pytest.approx(values.mean(), rel=0.03)


def test_noise_in_empty_bins_does_not_pile_up_as_phantom_activity(policy: Policy) -> None:
    piloted = _policy(policy)
    plan = plan_bounds(piloted, Fraction(1, 20))
    values = np.full(3_000, 100.0)  # everyone sends exactly 100 a week: nothing above 500
    counts = {name: [0] * len(plan.edges[name]) for name in plan.metrics}
    counts["emails_sent"] = _counts(piloted, values, "emails_sent")
    shares = [
        spread(plan, "emails_sent", noisy_histograms(plan, counts)["emails_sent"]).clipped_share(500)
        for _ in range(30)
    ]
    assert float(np.median(shares)) < 0.05


def test_larger_groups_are_given_higher_bounds(policy: Policy) -> None:
    piloted = _policy(policy)
    rng = np.random.default_rng(5)
    values = rng.lognormal(mean=np.log(200), sigma=0.7, size=5_000)
    counts = {
        name: [0] * len(plan_bounds(piloted, Fraction(1, 20)).edges[name]) for name in piloted.metric_names
    }
    counts["emails_sent"] = _counts(piloted, values, "emails_sent")
    plan = plan_bounds(piloted, Fraction(1, 20))
    found = spread(plan, "emails_sent", counts["emails_sent"])  # the true counts: no noise
    strategy = Strategy.for_policy(piloted)
    small, large = (
        suggest_bound(strategy, found, dict.fromkeys(strategy.levels, size)) for size in (12, 400)
    )
    assert small < large
    assert np.quantile(values, 0.5) < large  # a large group can afford to clip little


def test_the_bound_serves_the_reports_published_weighted_by_their_shares(policy: Policy) -> None:
    """A catalogue's bound lies between the bounds its reports would each get alone.

    Each report's expected error falls then rises with the bound, so their share-weighted sum
    has its minimum between theirs; a report at a coarse level (large groups) pulls it up, one
    at a fine level (small groups) pulls it down: the bound is not chosen for the teams alone.
    """
    piloted = _policy(policy)
    assert len({report.level for report in piloted.reports}) > 1
    rng = np.random.default_rng(6)
    values = rng.lognormal(mean=np.log(250), sigma=0.8, size=5_000)
    plan = plan_bounds(piloted, Fraction(1, 20))
    found = spread(plan, "emails_sent", _counts(piloted, values, "emails_sent"))
    strategy = Strategy.for_policy(piloted)
    sizes = {level: 15 * 4**index for index, level in enumerate(reversed(strategy.levels))}
    alone = sorted(
        suggest_bound(Strategy.for_policy(replace(piloted, reports=(report,))), found, sizes)
        for report in piloted.reports
    )
    both = suggest_bound(strategy, found, sizes)
    assert alone[0] < alone[-1]
    assert alone[0] <= both <= alone[-1]
    finest = strategy.levels[-1]
    teams_only = suggest_bound(strategy, found, {level: sizes[finest] for level in strategy.levels})
    assert teams_only < both  # sizing every report like the finest level's groups clips more
    assert expected_error(strategy, found, both, sizes) <= expected_error(strategy, found, teams_only, sizes)
