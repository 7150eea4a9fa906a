"""The error bars of a released mean, and the planner's forecast of them before any release.

A released value is a ratio of two noisy numbers: the noisy total T (noise σ_T) over the
noisy headcount C (noise σ_C). By the delta method its variance is about
(σ_T² + μ² σ_C²) / C², with μ the mean total per person. The same formula serves the 95%
intervals of ``assemble`` and the planner's ``expected_half_width``, so representatives are
shown in advance exactly the error bars that releases will carry.
"""

from __future__ import annotations

import math
from statistics import NormalDist

from teamlens.domain import METRICS, Policy
from teamlens.errors import ReleaseError
from teamlens.privacy._opendp import calibrate_sigma
from teamlens.privacy.budget import cell_rho
from teamlens.privacy.spec import report_of

#: Two-sided 95% normal quantile (1.95996…).
Z95 = NormalDist().inv_cdf(0.975)


def ratio_sd(mean_total: float, count: float, sigma_total: float, sigma_count: float) -> float:
    """Return the delta-method standard deviation of T/C, in the units of T per person."""
    return math.sqrt(sigma_total**2 + (mean_total * sigma_count) ** 2) / count


def expected_half_width(
    policy: Policy, report_id: str, group_size: int, typical_weekly_value: float, metric: str
) -> float:
    """Forecast the 95% half-width of a released weekly mean, in display units (hours, counts).

    For a group of ``group_size`` people whose typical value is ``typical_weekly_value`` per
    person per week (display units), under the policy's budget split. The window length
    cancels out (bound and total both scale with weeks), so one number holds for every window
    of the report. Groups under the policy's minimum size are usually suppressed instead.
    """
    report = report_of(policy, report_id)
    if metric not in report.metrics:
        raise ReleaseError(
            f"report '{report_id}' does not include the metric '{metric}'",
            f"Report '{report_id}' has the metrics: {', '.join(sorted(set(report.metrics)))}.",
        )
    if group_size < 1:
        raise ReleaseError(
            f"a group size must be at least 1 (got {group_size})", "Give the group's number of members."
        )
    if not typical_weekly_value >= 0:
        raise ReleaseError(
            f"a typical weekly value must be zero or more (got {typical_weekly_value})",
            "Give the value one person typically has in a week, in display units (hours for time).",
        )
    rho = cell_rho(policy, report)
    window = policy.windows(report.cadence)[0]
    per_window = window.n_weeks * METRICS[metric].display_divisor
    bound = policy.metric_bound(metric).bound_for(window)
    sd = ratio_sd(
        typical_weekly_value * per_window,
        group_size,
        calibrate_sigma(bound, rho),
        calibrate_sigma(1, rho),
    )
    return Z95 * sd / per_window
