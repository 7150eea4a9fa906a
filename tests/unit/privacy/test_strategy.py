"""The strategy plans every base measurement from the policy alone and spends exactly the catalogue's ρ."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace
from fractions import Fraction

import pytest

from teamlens.domain import Cadence, GroupLevel, HeadcountSpan, Policy, ReleaseDesign, Rho, Window
from teamlens.privacy import Strategy
from teamlens.privacy._opendp import zcdp_cost
from teamlens.privacy.strategy import fixed_point_scale, period_weeks, suppression_sd_target

from ...support.exact import exact_mode
from .support import build_policy


def _design(policy: Policy, **changes: object) -> Policy:
    return replace(policy, design=replace(policy.design, **changes))


def test_measuring_every_block_costs_exactly_the_catalogues_budget(policy: Policy) -> None:
    strategy = Strategy.for_policy(policy)
    total = sum((strategy.block_cost(block).value for block in strategy.blocks), Fraction(0))
    shares = sum((report.budget_share for report in policy.reports), Fraction(0))
    assert total == policy.rho.value * shares


def test_a_catalogue_with_shares_under_one_leaves_the_rest_unspent() -> None:
    policy = build_policy()
    halved = replace(
        policy, reports=tuple(replace(r, budget_share=r.budget_share / 2) for r in policy.reports)
    )
    strategy = Strategy.for_policy(halved)
    total = sum((strategy.block_cost(block).value for block in strategy.blocks), Fraction(0))
    assert total == Fraction(1, 2)


def test_opendp_certifies_every_blocks_vector_within_its_share(policy: Policy) -> None:
    strategy = Strategy.for_policy(policy)
    for plan in strategy.metric_plans:
        for block in strategy.blocks:
            assert zcdp_cost(plan.sigma, plan.sensitivity(block)) <= strategy.block_rho(plan, block)
    for headcount in strategy.headcount_plans:
        for span in strategy.spans:
            assert zcdp_cost(headcount.sigma(span), span.first.n_weeks) <= headcount.rho_per_span


def test_sigma_is_the_closed_form_for_the_plans_budget(policy: Policy) -> None:
    strategy = Strategy.for_policy(policy)
    for plan in strategy.metric_plans:
        squares = sum(plan.sensitivity(block) ** 2 for block in strategy.blocks)
        assert plan.sigma == pytest.approx(math.sqrt(squares / (2 * float(plan.rho))), rel=1e-9)


def test_the_metric_budget_follows_the_report_shares(policy: Policy) -> None:
    strategy = Strategy.for_policy(policy)
    metric_budget = policy.rho.value * (1 - policy.design.headcount_share)
    # team_weekly (1/4, two metrics), department_monthly (1/2, three), organisation_quarterly (1/4, one).
    expected = {
        (GroupLevel.TEAM, "meeting_minutes"): Fraction(1, 8),
        (GroupLevel.TEAM, "emails_sent"): Fraction(1, 8),
        (GroupLevel.DEPARTMENT, "meeting_minutes"): Fraction(1, 6),
        (GroupLevel.DEPARTMENT, "after_hours_minutes"): Fraction(1, 6),
        (GroupLevel.DEPARTMENT, "emails_sent"): Fraction(1, 6),
        (GroupLevel.ORGANISATION, "collaboration_minutes"): Fraction(1, 4),
    }
    assert {(plan.level, plan.metric): plan.rho for plan in strategy.metric_plans} == {
        key: metric_budget * share for key, share in expected.items()
    }
    headcounts = policy.rho.value * policy.design.headcount_share
    assert {plan.level: plan.rho_per_span * len(strategy.spans) for plan in strategy.headcount_plans} == {
        level: headcounts / 3 for level in (GroupLevel.ORGANISATION, GroupLevel.DEPARTMENT, GroupLevel.TEAM)
    }


def test_levels_are_ordered_coarse_to_fine(policy: Policy) -> None:
    assert Strategy.for_policy(policy).levels == (
        GroupLevel.ORGANISATION,
        GroupLevel.DEPARTMENT,
        GroupLevel.TEAM,
    )


def test_the_l2_sensitivity_is_the_exact_ceiling_of_the_clip_norm(policy: Policy) -> None:
    strategy = Strategy.for_policy(policy)
    for plan in strategy.metric_plans:
        for block in strategy.blocks:
            squared = (plan.scale * plan.per_week) ** 2 * block.n_weeks
            sensitivity = plan.sensitivity(block)
            assert (sensitivity - 1) ** 2 < squared <= sensitivity**2
            assert plan.clip_norm(block) <= sensitivity


@pytest.mark.parametrize("per_week", [1, 7, 66, 1023, 1024, 1200, 100_000])
def test_fixed_point_gives_at_least_1024_units_per_bound(per_week: int) -> None:
    scale = fixed_point_scale(per_week)
    assert scale * per_week >= 1024
    assert scale == 1 or scale // 2 * per_week < 1024


def test_blocks_partition_the_period_into_months(policy: Policy) -> None:
    strategy = Strategy.for_policy(policy)
    assert [block.key for block in strategy.blocks] == ["2026-01", "2026-02", "2026-03"]
    assert [week for block in strategy.blocks for week in block.weeks] == list(period_weeks(policy))


def test_a_period_not_aligned_to_months_gets_truncated_blocks() -> None:
    policy = build_policy(period_start=dt.date(2026, 1, 12), period_end=dt.date(2026, 3, 2))
    strategy = Strategy.for_policy(policy)
    assert [(block.key, block.n_weeks) for block in strategy.blocks] == [("2026-01", 3), ("2026-02", 4)]


def test_a_week_of_a_span_late_in_the_period_needs_the_spans_first_block(policy: Policy) -> None:
    strategy = Strategy.for_policy(_design(policy, headcount_span=HeadcountSpan.PERIOD))
    needed = strategy.blocks_for([Window(Cadence.WEEK, "2026-W12")])
    assert [block.key for block in needed] == ["2026-01", "2026-03"]
    assert strategy.block_cost(strategy.block("2026-01")) > strategy.block_cost(strategy.block("2026-03"))


def test_auto_picks_the_shortest_span_whose_headcount_noise_keeps_suppression_right(policy: Policy) -> None:
    target = suppression_sd_target(policy.min_group_size)
    generous = Strategy.for_policy(replace(policy, rho=Rho.of("20")))
    assert generous.span_cadence == "month"
    tight = Strategy.for_policy(replace(policy, rho=Rho.of("1/10")))
    assert tight.span_cadence == "period"
    for strategy in (generous, tight):
        for plan in strategy.headcount_plans:
            assert plan.sd_people(strategy.spans[0]) > 0
    assert generous.headcount_plans[0].sd_people(generous.spans[0]) <= target
    middle = Strategy.for_policy(replace(policy, rho=Rho.of("3")))
    sd = middle.headcount_plans[0].sd_people(middle.spans[0])
    assert sd <= target
    assert middle.span_cadence in {"month", "quarter"}


def test_the_suppression_target_holds_for_groups_of_2k_and_under_k_over_2() -> None:
    from statistics import NormalDist

    for k in (5, 10, 20):
        sd = suppression_sd_target(k)
        shown_big = 1 - NormalDist(2 * k, sd).cdf(k)
        shown_small = 1 - NormalDist(math.ceil(k / 2) - 1, sd).cdf(k)
        assert shown_big >= 0.95 - 1e-12
        assert shown_small <= 0.05 + 1e-12


def test_an_explicit_span_and_block_are_used_as_given(policy: Policy) -> None:
    strategy = Strategy.for_policy(
        _design(policy, clipping_block=Cadence.WEEK, headcount_span=HeadcountSpan.QUARTER)
    )
    assert len(strategy.blocks) == 13
    assert [span.key for span in strategy.spans] == ["2026-Q1"]


def test_inside_exact_mode_nothing_is_noised_or_charged(policy: Policy) -> None:
    with exact_mode():
        strategy = Strategy.for_policy(policy)
    assert {plan.sigma for plan in strategy.metric_plans} == {0.0}
    assert all(strategy.block_cost(block) == Rho.zero() for block in strategy.blocks)
    assert all(plan.sigma(span) == 0.0 for plan in strategy.headcount_plans for span in strategy.spans)


def test_the_default_design_is_monthly_blocks_auto_spans_and_a_tenth_for_headcounts() -> None:
    assert ReleaseDesign() == ReleaseDesign(Cadence.MONTH, HeadcountSpan.AUTO, Fraction(1, 10))
