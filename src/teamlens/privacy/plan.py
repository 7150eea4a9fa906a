"""Turn a checked ``ReleaseSpec`` into the cells still to release, their noise scales and cost.

Planning touches neither data nor the ledger: it tells the caller what a release would cost
(so the budget can be checked first) and which clipping bounds the store must aggregate with.
Cells already released are left out, so asking again costs nothing (attack A4).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from fractions import Fraction

from teamlens.domain import HEADCOUNT, Policy, Rho, Window
from teamlens.errors import InternalError, ReleaseError
from teamlens.privacy._opendp import calibrate_sigma
from teamlens.privacy.budget import cell_rho
from teamlens.privacy.spec import ReleaseSpec, report_of
from teamlens.privacy.testing import exact_mode_active


@dataclass(frozen=True)
class CellPlan:
    """One (window, metric) cell to release: its clipping bound, exact ρ and noise scale."""

    window: Window
    metric: str
    bound: int
    rho: Fraction
    sigma: float


@dataclass(frozen=True)
class ReleasePlan:
    """What running a spec would release and cost; hand ``bounds`` to the store's aggregation."""

    spec: ReleaseSpec
    cells: tuple[CellPlan, ...]
    cost: Rho

    @property
    def bounds(self) -> dict[tuple[str, str], int]:
        """Map (window key, metric) to the per-person clipping bound the store must apply."""
        return {(cell.window.key, cell.metric): cell.bound for cell in self.cells if cell.metric != HEADCOUNT}

    def cell(self, window: str, metric: str) -> CellPlan | None:
        """Return the planned cell for (window key, metric), or None if it is not in the plan."""
        for cell in self.cells:
            if cell.window.key == window and cell.metric == metric:
                return cell
        return None


def plan_release(
    policy: Policy, spec: ReleaseSpec, already_released: Collection[tuple[str, str]] = ()
) -> ReleasePlan:
    """Plan the cells of ``spec`` not yet released, with σ calibrated by OpenDP and exact cost.

    ``already_released`` holds (window key, metric) pairs whose noisy totals are cached for
    this report (``HEADCOUNT`` included); they cost nothing and are left out. Inside
    ``testing.exact_mode()`` every cell gets σ = 0 and ρ = 0.
    """
    report = report_of(policy, spec.report_id)
    valid_windows = set(policy.windows(report.cadence))
    if (
        spec.level is not report.level
        or not set(spec.metrics) <= set(report.metrics)
        or not set(spec.windows) <= valid_windows
    ):
        raise ReleaseError(
            f"the release spec for report '{spec.report_id}' does not match policy "
            f"'{policy.policy_id}' version {policy.version}",
            "Build the spec again with ReleaseSpec.build against the active policy.",
        )
    rho = cell_rho(policy, report)
    exact = exact_mode_active()
    released = set(already_released)
    cells: list[CellPlan] = []
    for window in spec.windows:
        # The headcount is the denominator of every mean, so each window needs it exactly once.
        wanted = [(name, _metric_bound(policy, name, window)) for name in spec.metrics]
        wanted.append((HEADCOUNT, 1))
        for name, bound in wanted:
            if (window.key, name) in released:
                continue
            if exact:
                cells.append(CellPlan(window, name, bound, Fraction(0), 0.0))
            else:
                cells.append(CellPlan(window, name, bound, rho, calibrate_sigma(bound, rho)))
    cost = Rho(sum((cell.rho for cell in cells), Fraction(0)))
    return ReleasePlan(spec, tuple(cells), cost)


def _metric_bound(policy: Policy, name: str, window: Window) -> int:
    try:
        bound = policy.metric_bound(name).bound_for(window)
    except KeyError:
        raise InternalError(f"report metric '{name}' has no bound in the approved policy") from None
    if bound < 1:
        raise InternalError(f"metric '{name}' has a non-positive per-week bound in the approved policy")
    return bound
