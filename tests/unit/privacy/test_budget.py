from __future__ import annotations

import math
from fractions import Fraction

import pytest

from teamlens.domain import Rho
from teamlens.errors import BudgetExceeded, ReleaseError
from teamlens.privacy import check_budget, rho_to_epsilon


def test_a_charge_that_exactly_fills_the_budget_is_allowed() -> None:
    check_budget(Rho.of("1"), Rho.of("2/3"), Rho.of("1/3"))


def test_a_charge_one_part_in_a_billion_too_large_is_refused() -> None:
    overshoot = Fraction(1, 3) + Fraction(1, 10**9)
    with pytest.raises(BudgetExceeded) as caught:
        check_budget(Rho.of("1"), Rho.of("2/3"), Rho(overshoot))
    assert caught.value.requested == overshoot
    assert caught.value.remaining == Fraction(1, 3)
    assert caught.value.difference == Fraction(1, 10**9)


def test_the_refusal_shows_requested_remaining_and_difference() -> None:
    with pytest.raises(BudgetExceeded) as caught:
        check_budget(Rho.of("1"), Rho.of("0.75"), Rho.of("0.5"))
    message = caught.value.message
    assert "needs ρ (zCDP) 0.5 but only 0.25 remains" in message
    assert "short by 0.25" in message
    assert "Nothing was released and nothing was charged" in message


def test_an_overspent_ledger_reports_nothing_remaining() -> None:
    with pytest.raises(BudgetExceeded) as caught:
        check_budget(Rho.of("1"), Rho.of("3/2"), Rho.of("1/10"))
    assert caught.value.remaining == 0


def test_a_free_release_passes_even_on_a_spent_budget() -> None:
    check_budget(Rho.of("1"), Rho.of("1"), Rho.zero())


def _cks_epsilon(rho: float, delta: float) -> float:
    """ε from Canonne, Kamath & Steinke (2020, Prop. 12), by grid over α and bisection over ε."""

    def log_delta(epsilon: float) -> float:
        alphas = (1.0 + 10 ** (k / 400) for k in range(-1600, 1600))
        return min((a - 1) * (a * rho - epsilon) + (a - 1) * math.log1p(-1 / a) - math.log(a) for a in alphas)

    low, high = 0.0, rho + 2 * math.sqrt(rho * math.log(1 / delta))
    for _ in range(40):
        middle = (low + high) / 2
        low, high = (middle, high) if log_delta(middle) > math.log(delta) else (low, middle)
    return high


@pytest.mark.parametrize(("rho", "delta"), [("1/100", 1e-6), ("1/2", 1e-6), ("37/10", 1e-9)])
def test_rho_to_epsilon_is_the_tight_conversion(rho: str, delta: float) -> None:
    budget = Rho.of(rho)
    epsilon = rho_to_epsilon(budget, delta)
    value = float(budget)
    textbook = value + 2 * math.sqrt(value * math.log(1 / delta))
    assert epsilon < textbook
    assert epsilon == pytest.approx(_cks_epsilon(value, delta), rel=1e-5)


def test_epsilon_grows_with_rho_and_shrinks_with_delta() -> None:
    assert rho_to_epsilon(Rho.of("1/2"), 1e-6) < rho_to_epsilon(Rho.of("1"), 1e-6)
    assert rho_to_epsilon(Rho.of("1"), 1e-9) > rho_to_epsilon(Rho.of("1"), 1e-6)
    assert rho_to_epsilon(Rho.zero(), 1e-6) == 0.0


@pytest.mark.parametrize("delta", [0.0, 1.0, -1e-6, float("nan")])
def test_a_delta_outside_zero_one_is_refused(delta: float) -> None:
    with pytest.raises(ReleaseError, match="δ must lie strictly between 0 and 1"):
        rho_to_epsilon(Rho.of("1"), delta)
