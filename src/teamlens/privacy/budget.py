"""How a charge is checked against the budget, and what ρ means as (ε, δ).

How the catalogue's ρ is split over base measurements is the strategy's business
(``strategy``); here a release's exact cost is compared with what the period has left.
"""

from __future__ import annotations

from teamlens.domain import Rho
from teamlens.errors import BudgetExceeded, ReleaseError
from teamlens.privacy._opendp import zcdp_to_epsilon


def check_budget(total: Rho, spent: Rho, cost: Rho) -> None:
    """Refuse with ``BudgetExceeded`` (requested, remaining, difference) if ``spent + cost > total``."""
    if spent.value + cost.value > total.value:
        # Rho's subtraction saturates at zero, which is what "remaining" means to people.
        remaining = total - spent
        raise BudgetExceeded(cost.value, remaining.value)


def rho_to_epsilon(rho: Rho, delta: float) -> float:
    """Return the ε for which ρ-zCDP implies (ε, δ)-DP, computed by OpenDP's conversion.

    OpenDP's ``make_zCDP_to_approxDP`` is tighter than the textbook ε = ρ + 2√(ρ ln(1/δ)),
    which it never exceeds.
    """
    if not 0.0 < delta < 1.0:
        raise ReleaseError(
            f"δ must lie strictly between 0 and 1 (got {delta})",
            "Use the policy's delta, typically 1e-6 or smaller.",
        )
    return zcdp_to_epsilon(rho.value, delta)
