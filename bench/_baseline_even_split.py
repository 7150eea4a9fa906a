"""The release engine as it was before the catalogue strategy: the baseline the accuracy benchmark beats.

Kept runnable here, outside the product, with the product's own OpenDP calls (``calibrate_sigma``
and ``add_discrete_gaussian``) so that both engines draw the same kind of noise. Every (window,
metric) cell of every report, and every window's headcount, gets its own slice of ρ, split evenly:
ρ_cell = ρ · share / (windows of the cadence × (metrics + 1)). A person's total in a window is
clipped to per-week bound × weeks; a group is suppressed when its noisy headcount is under k;
the value is the noisy mean per person per week clamped to [0, bound], with a delta-method 95%
interval clamped the same way (which is how zero-width intervals at the edges came about).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pandas as pd

from teamlens.domain import METRICS, Policy, ReportDef, Window
from teamlens.privacy._opendp import add_discrete_gaussian, calibrate_sigma
from teamlens.privacy.intervals import Z95


@dataclass(frozen=True)
class BaselineCell:
    """One released cell of the baseline (value None: suppressed)."""

    report: str
    window: str
    metric: str
    group: str
    value: float | None
    lower: float | None
    upper: float | None
    estimand: float  # its own clipped truth, for coverage


@dataclass(frozen=True)
class BaselineTruth:
    """Per report window: clipped group totals and headcounts (the baseline's true inputs)."""

    totals: Mapping[tuple[str, str, str, str], int]  # report, window, metric, group
    counts: Mapping[tuple[str, str, str], int]  # report, window, group


def baseline_truth(policy: Policy, facts: pd.DataFrame, placement: pd.DataFrame) -> BaselineTruth:
    """Clipped window totals as the old store query computed them (placement at the window start)."""
    totals: dict[tuple[str, str, str, str], int] = {}
    counts: dict[tuple[str, str, str], int] = {}
    for report in policy.reports:
        for window in policy.windows(report.cadence):
            members = placement[placement["week"] == window.start][["person", report.level.value]].dropna()
            group_of = dict(zip(members["person"], members[report.level.value], strict=True))
            for group, size in members[report.level.value].value_counts().items():
                counts[(report.report_id, window.key, str(group))] = int(size)
            inside = facts[facts["week"].isin(window.weeks) & facts["person"].isin(group_of)]
            for name in report.metrics:
                bound = policy.metric_bound(name).bound_for(window)
                per_person = inside[inside["metric"] == name].groupby("person")["value"].sum().clip(0, bound)
                grouped = per_person.groupby(per_person.index.map(group_of)).sum()
                for group in members[report.level.value].unique():
                    totals[(report.report_id, window.key, name, str(group))] = int(grouped.get(group, 0))
    return BaselineTruth(totals, counts)


def _cell_rho(policy: Policy, report: ReportDef) -> Fraction:
    return (
        policy.rho.value
        * report.budget_share
        / (len(policy.windows(report.cadence)) * (len(set(report.metrics)) + 1))
    )


def release_baseline(
    policy: Policy, truth: BaselineTruth, groups: Mapping[str, list[str]]
) -> list[BaselineCell]:
    """One noisy release of every report window under the even split."""
    cells: list[BaselineCell] = []
    for report in policy.reports:
        rho = _cell_rho(policy, report)
        names = groups[report.level.value]
        for window in policy.windows(report.cadence):
            sigma_c = calibrate_sigma(1, rho)
            true_counts = [truth.counts.get((report.report_id, window.key, group), 0) for group in names]
            noisy_counts = add_discrete_gaussian(true_counts, sigma_c)
            for name in report.metrics:
                cells.extend(
                    _metric_cells(policy, report, window, name, names, truth, noisy_counts, sigma_c, rho)
                )
    return cells


def _metric_cells(
    policy: Policy,
    report: ReportDef,
    window: Window,
    name: str,
    names: list[str],
    truth: BaselineTruth,
    noisy_counts: list[int],
    sigma_c: float,
    rho: Fraction,
) -> list[BaselineCell]:
    bound = policy.metric_bound(name).bound_for(window)
    sigma_t = calibrate_sigma(bound, rho)
    true_totals = [truth.totals.get((report.report_id, window.key, name, group), 0) for group in names]
    noisy_totals = add_discrete_gaussian(true_totals, sigma_t)
    per_window = window.n_weeks * METRICS[name].display_divisor
    ceiling = bound / per_window
    cells = []
    for group, total, count, true_total in zip(names, noisy_totals, noisy_counts, true_totals, strict=True):
        true_count = truth.counts.get((report.report_id, window.key, group), 0)
        estimand = true_total / (true_count * per_window) if true_count else float("nan")
        if count < policy.min_group_size:
            cells.append(BaselineCell(report.report_id, window.key, name, group, None, None, None, estimand))
            continue
        raw = total / (count * per_window)
        mean_total = min(max(total / count, 0.0), float(bound))
        half = Z95 * math.sqrt(sigma_t**2 + (mean_total * sigma_c) ** 2) / count / per_window
        clamp = lambda value: float(np.clip(value, 0.0, ceiling))  # noqa: E731
        cells.append(
            BaselineCell(
                report.report_id,
                window.key,
                name,
                group,
                clamp(raw),
                clamp(raw - half),
                clamp(raw + half),
                estimand,
            )
        )
    return cells
