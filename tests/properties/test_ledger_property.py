"""Ledger invariants (attack A13b) over random catalogues and random sequences of release requests.

An in-memory ledger (ρ spent, set of released cells) driven only through ``plan_release`` and
``check_budget``: spent never exceeds the total, spent is exactly the sum of the released
cells' ρ, asking again costs nothing, and a refusal changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from teamlens.domain import (
    Cadence,
    GroupLevel,
    MetricBound,
    Policy,
    ReportDef,
    Rho,
)
from teamlens.errors import BudgetExceeded
from teamlens.privacy import ReleaseSpec, check_budget, plan_release

from ..unit.privacy.support import build_policy

BOUNDS = (
    MetricBound("meeting_minutes", 2400),
    MetricBound("emails_sent", 500),
    MetricBound("after_hours_minutes", 600),
    MetricBound("chat_messages", 1000),
)

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    """A valid policy with 1–4 reports whose budget shares sum to at most 1 (often exactly 1)."""
    n_reports = draw(st.integers(1, 4))
    weights = draw(st.lists(st.integers(1, 5), min_size=n_reports, max_size=n_reports))
    slack = draw(st.sampled_from([0, 0, 1, 3]))  # 0: the shares sum to exactly 1
    reports = []
    for index, weight in enumerate(weights):
        metrics = draw(
            st.lists(st.sampled_from([b.name for b in BOUNDS]), min_size=1, max_size=4, unique=True)
        )
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
    return _policy(tuple(reports), Rho(Fraction(draw(st.integers(1, 40)), draw(st.integers(1, 10)))))


def _policy(reports: tuple[ReportDef, ...], rho: Rho) -> Policy:
    return build_policy(
        policy_id="property-policy",
        metrics=BOUNDS,
        grouping_levels=tuple(GroupLevel),
        rho=rho,
        reports=reports,
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

    total: Rho
    spent: Rho = field(default_factory=Rho.zero)
    released: dict[tuple[str, str, str], Fraction] = field(default_factory=dict)

    def request(self, policy: Policy, spec: ReleaseSpec) -> bool:
        """Plan, check and charge one request; return whether it was released."""
        done = {(window, metric) for report, window, metric in self.released if report == spec.report_id}
        plan = plan_release(policy, spec, done)
        before = (self.spent, dict(self.released))
        refusal: BudgetExceeded | None = None
        try:
            check_budget(self.total, self.spent, plan.cost)
        except BudgetExceeded as raised:
            refusal = raised
        fits = self.spent.value + plan.cost.value <= self.total.value
        if refusal is not None:
            assert not fits, "refused a release that fits"
            assert refusal.requested == plan.cost.value
            assert refusal.remaining == self.total.value - self.spent.value
            assert (self.spent, self.released) == before, "a refusal changed the ledger"
            return False
        assert fits, "allowed a release that does not fit"
        self.spent = self.spent + plan.cost
        for cell in plan.cells:
            self.released[(spec.report_id, cell.window.key, cell.metric)] = cell.rho
        return True

    def check_invariants(self) -> None:
        assert self.spent.value <= self.total.value
        assert self.spent.value == sum(self.released.values(), Fraction(0))


def _catalogue_cost(policy: Policy) -> Fraction:
    total = Fraction(0)
    for report in policy.reports:
        spec = ReleaseSpec.build(policy, report.report_id, list(policy.windows(report.cadence)))
        total += plan_release(policy, spec).cost.value
    return total


@SETTINGS
@given(data=st.data(), policy=policies())
def test_the_policy_budget_covers_any_sequence_of_catalogue_releases(
    data: st.DataObject, policy: Policy
) -> None:
    ledger = Ledger(total=policy.rho)
    for spec in data.draw(requests(policy)):
        assert ledger.request(policy, spec), "a catalogue release was refused under the policy's own budget"
        ledger.check_invariants()
        spent = ledger.spent
        assert ledger.request(policy, spec)
        assert ledger.spent == spent, "asking again was charged"
    assert _catalogue_cost(policy) <= policy.rho.value


@SETTINGS
@given(data=st.data(), policy=policies(), fraction=st.fractions(Fraction(1, 100), Fraction(99, 100)))
def test_a_small_budget_refuses_cleanly_and_is_never_overspent(
    data: st.DataObject, policy: Policy, fraction: Fraction
) -> None:
    ledger = Ledger(total=Rho(_catalogue_cost(policy) * fraction))
    for spec in data.draw(requests(policy)):
        released = ledger.request(policy, spec)
        ledger.check_invariants()
        spent = ledger.spent
        # Asking again changes nothing: free if it was released, still refused if it was not.
        assert ledger.request(policy, spec) == released
        assert ledger.spent == spent
    # Releasing everything must eventually be refused, since it costs more than the total.
    everything = [
        ReleaseSpec.build(policy, report.report_id, list(policy.windows(report.cadence)))
        for report in policy.reports
    ]
    outcomes = [ledger.request(policy, spec) for spec in everything]
    ledger.check_invariants()
    assert not all(outcomes)


def test_teeth_the_invariant_check_catches_a_ledger_that_charges_without_checking() -> None:
    report = ReportDef("r", "R", GroupLevel.TEAM, Cadence.MONTH, ("emails_sent",), Fraction(1))
    policy = _policy((report,), Rho.of("1"))
    ledger = Ledger(total=Rho(_catalogue_cost(policy) / 2))
    spec = ReleaseSpec.build(policy, "r", list(policy.windows(Cadence.MONTH)))
    plan = plan_release(policy, spec)
    ledger.spent = ledger.spent + plan.cost  # charged blindly, as a broken ledger would
    for cell in plan.cells:
        ledger.released[("r", cell.window.key, cell.metric)] = cell.rho
    with pytest.raises(AssertionError):
        ledger.check_invariants()
