"""Ledger invariants (attack A13b) over random catalogues, engine designs and sequences of releases.

An in-memory ledger driven only through the release strategy and ``check_budget``, as
``services.release`` drives the real one: a request pays for the clipping blocks its windows need
that are not yet measured (``Strategy.blocks_for``, ``block_cost``), each block at most once per
period; what a report published is free to ask again. Invariants: spent never exceeds the total,
spent is exactly the sum of the measured blocks' costs, asking again costs nothing, a refusal
changes nothing — and measuring every block of the period costs exactly ρ·Σshares, which the
shares keep at or under ρ (zCDP composes by addition, so that is every person's total loss).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from teamlens.domain import Cadence, GroupLevel, HeadcountSpan, Policy, ReleaseDesign, ReportDef, Rho
from teamlens.errors import BudgetExceeded
from teamlens.governance import parse_policy, policy_template
from teamlens.privacy import ReleaseSpec, Strategy, check_budget

from ..support.fuzzing import examples

METRICS = ("meeting_minutes", "emails_sent", "chat_messages", "emails_received")
SPAN_ORDER = (Cadence.WEEK.value, Cadence.MONTH.value, Cadence.QUARTER.value, HeadcountSpan.PERIOD.value)

SETTINGS = settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
TEMPLATE = parse_policy(policy_template(), "template").policy


@st.composite
def designs(draw: st.DrawFn) -> ReleaseDesign:
    """A clipping block, a headcount span no shorter than it (or auto) and a headcount share."""
    block = draw(st.sampled_from([Cadence.WEEK, Cadence.MONTH, Cadence.QUARTER]))
    spans = [HeadcountSpan.AUTO] + [
        HeadcountSpan(span) for span in SPAN_ORDER[SPAN_ORDER.index(block.value) :] if span != "week"
    ]
    share = Fraction(draw(st.integers(1, 9)), 10)
    return ReleaseDesign(block, draw(st.sampled_from(spans)), share)


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    """A valid policy with 1–4 reports whose budget shares sum to at most 1 (often exactly 1)."""
    n_reports = draw(st.integers(1, 4))
    weights = draw(st.lists(st.integers(1, 5), min_size=n_reports, max_size=n_reports))
    slack = draw(st.sampled_from([0, 0, 1, 3]))  # 0: the shares sum to exactly 1
    reports = []
    for index, weight in enumerate(weights):
        metrics = draw(st.lists(st.sampled_from(METRICS), min_size=1, max_size=4, unique=True))
        reports.append(
            ReportDef(
                report_id=f"report_{index}",
                title=f"Report {index}",
                level=draw(st.sampled_from(list(GroupLevel))),
                cadence=draw(st.sampled_from(list(Cadence))),
                metrics=tuple(metrics),
                budget_share=Fraction(weight, sum(weights) + slack),
            )
        )
    rho = Rho(Fraction(draw(st.integers(1, 40)), draw(st.integers(1, 10))))
    return replace(
        TEMPLATE,
        policy_id="property-policy",
        grouping_levels=tuple(GroupLevel),
        reports=tuple(reports),
        rho=rho,
        design=draw(designs()),
    )


@st.composite
def requests(draw: st.DrawFn, policy: Policy) -> list[ReleaseSpec]:
    """1–12 random release specs: a report, a non-empty subset of its windows, some of its metrics."""
    specs = []
    for _ in range(draw(st.integers(1, 12))):
        report = draw(st.sampled_from(policy.reports))
        windows = draw(st.lists(st.sampled_from(policy.windows(report.cadence)), min_size=1, unique=True))
        metrics = draw(st.none() | st.lists(st.sampled_from(report.metrics), min_size=1, unique=True))
        specs.append(ReleaseSpec.build(policy, report.report_id, windows, metrics))
    return specs


@dataclass
class Ledger:
    """The budget ledger's bookkeeping, reduced to what the invariants need."""

    strategy: Strategy
    total: Rho
    spent: Rho = field(default_factory=Rho.zero)
    measured: dict[str, Fraction] = field(default_factory=dict)
    published: set[tuple[str, str, str]] = field(default_factory=set)

    def request(self, spec: ReleaseSpec) -> bool:
        """Charge the blocks ``spec`` needs that are not yet measured; return whether it was released."""
        keys = {(spec.report_id, window.key, name) for window in spec.windows for name in spec.metrics}
        if keys <= self.published:
            return True  # the published cells, again, at no cost
        missing = [
            block for block in self.strategy.blocks_for(spec.windows) if block.key not in self.measured
        ]
        cost = Rho(sum((self.strategy.block_cost(block).value for block in missing), Fraction(0)))
        before = (self.spent, dict(self.measured), set(self.published))
        fits = self.spent.value + cost.value <= self.total.value
        refusal: BudgetExceeded | None = None
        try:
            check_budget(self.total, self.spent, cost)
        except BudgetExceeded as raised:
            refusal = raised
        if refusal is not None:
            assert not fits, "refused a release that fits"
            assert refusal.requested == cost.value
            assert refusal.remaining == max(self.total.value - self.spent.value, Fraction(0))
            assert (self.spent, self.measured, self.published) == before, "a refusal changed the ledger"
            return False
        assert fits, "allowed a release that does not fit"
        self.spent = self.spent + cost
        for block in missing:
            self.measured[block.key] = self.strategy.block_cost(block).value
        self.published |= keys
        return True

    def check_invariants(self) -> None:
        assert self.spent.value <= self.total.value
        assert self.spent.value == sum(self.measured.values(), Fraction(0))
        assert len(self.measured) <= len(self.strategy.blocks)


def _catalogue_cost(strategy: Strategy) -> Fraction:
    return sum((strategy.block_cost(block).value for block in strategy.blocks), Fraction(0))


@SETTINGS
@given(data=st.data(), policy=policies())
def test_the_policy_budget_covers_any_sequence_of_catalogue_releases(
    data: st.DataObject, policy: Policy
) -> None:
    strategy = Strategy.for_policy(policy)
    ledger = Ledger(strategy, total=policy.rho)
    for spec in data.draw(requests(policy)):
        assert ledger.request(spec), "a catalogue release was refused under the policy's own budget"
        ledger.check_invariants()
        spent = ledger.spent
        assert ledger.request(spec)
        assert ledger.spent == spent, "asking again was charged"
    shares = sum((report.budget_share for report in policy.reports), Fraction(0))
    assert _catalogue_cost(strategy) == policy.rho.value * shares  # exactly: every block once
    assert _catalogue_cost(strategy) <= policy.rho.value


@SETTINGS
@given(data=st.data(), policy=policies(), fraction=st.fractions(Fraction(1, 100), Fraction(99, 100)))
def test_a_small_budget_refuses_cleanly_and_is_never_overspent(
    data: st.DataObject, policy: Policy, fraction: Fraction
) -> None:
    strategy = Strategy.for_policy(policy)
    ledger = Ledger(strategy, total=Rho(_catalogue_cost(strategy) * fraction))
    for spec in data.draw(requests(policy)):
        released = ledger.request(spec)
        ledger.check_invariants()
        spent = ledger.spent
        # Asking again changes nothing: free if it was released, still refused if it was not.
        assert ledger.request(spec) == released
        assert ledger.spent == spent
    # Releasing everything must eventually be refused, since it costs more than the total.
    everything = [
        ReleaseSpec.build(policy, report.report_id, list(policy.windows(report.cadence)))
        for report in policy.reports
    ]
    outcomes = [ledger.request(spec) for spec in everything]
    ledger.check_invariants()
    assert not all(outcomes)


def test_teeth_the_invariant_check_catches_a_ledger_that_charges_without_checking() -> None:
    report = ReportDef("r", "R", GroupLevel.TEAM, Cadence.MONTH, ("emails_sent",), Fraction(1))
    policy = replace(TEMPLATE, reports=(report,), rho=Rho.of("1"))
    strategy = Strategy.for_policy(policy)
    ledger = Ledger(strategy, total=Rho(_catalogue_cost(strategy) / 2))
    for block in strategy.blocks:  # charged blindly, as a broken ledger would
        ledger.spent = ledger.spent + strategy.block_cost(block)
        ledger.measured[block.key] = strategy.block_cost(block).value
    with pytest.raises(AssertionError):
        ledger.check_invariants()


def test_teeth_the_invariant_check_catches_a_block_charged_twice() -> None:
    strategy = Strategy.for_policy(TEMPLATE)
    ledger = Ledger(strategy, total=TEMPLATE.rho)
    spec = ReleaseSpec.build(TEMPLATE, "department-monthly", ["2026-01"])
    assert ledger.request(spec)
    ledger.spent = ledger.spent + strategy.block_cost(strategy.blocks[0])  # measured again, as if forgotten
    with pytest.raises(AssertionError):
        ledger.check_invariants()
