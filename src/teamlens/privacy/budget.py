"""How the policy's ρ is split over cells, how a charge is checked, and what ρ means as (ε, δ).

The split is fixed (docs/architecture.md, "Budget allocation"): a report with share s, n
windows of its cadence in the period and m metrics gives each (window, metric) cell and each
window's headcount ρ · s / (n · (m + 1)). zCDP composes by addition and the shares sum to at
most 1, so the whole catalogue, released once, costs at most ρ. All sums are exact Fractions.
"""

from __future__ import annotations

from fractions import Fraction

from teamlens.domain import Policy, ReportDef, Rho
from teamlens.errors import BudgetExceeded, InternalError, ReleaseError
from teamlens.privacy._opendp import zcdp_to_epsilon


def cell_rho(policy: Policy, report: ReportDef) -> Fraction:
    """Return the exact ρ of one cell (one metric or the headcount, in one window) of ``report``."""
    n_windows = len(policy.windows(report.cadence))
    if n_windows == 0:
        raise ReleaseError(
            f"report '{report.report_id}' has no whole {report.cadence.value} window in the policy period",
            "Choose a report whose cadence fits inside the policy period.",
        )
    if not report.metrics:
        raise InternalError(f"report '{report.report_id}' of the approved catalogue has no metrics")
    cells_per_window = len(set(report.metrics)) + 1
    return policy.rho.value * report.budget_share / (n_windows * cells_per_window)


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
