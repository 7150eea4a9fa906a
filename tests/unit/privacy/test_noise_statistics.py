"""The noise has the spread the plan promises, and the released intervals cover the truth 95% of the time.

OpenDP's sampler cannot be seeded (it draws from a CSPRNG), so the bounds are derived from the
mechanism and set wide enough that an honest run fails about once in millions: a χ² bound at
five standard deviations for the spread, and 93%–97% for coverage measured over 40,000
intervals (its standard error is 0.1 point). Each test has a teeth case: the same check run on
a deliberately broken mechanism must fail.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from fractions import Fraction

import pyarrow as pa
import pytest

from teamlens.domain import HEADCOUNT, Cadence, GroupLevel, Policy, ReportDef, Rho
from teamlens.privacy import ReleasePlan, ReleaseSpec, add_noise, assemble, plan_release
from teamlens.privacy import noise as noise_module
from teamlens.privacy._opendp import add_discrete_gaussian

from .support import aggregate_table, build_policy

pytestmark = pytest.mark.slow

#: How many standard deviations of its sampling distribution a statistic may stray (p ≈ 6e-7 each).
Z = 5.0

Sampler = Callable[[Sequence[int], float], list[int]]


def _chi_square_quantile(df: int, z: float) -> float:
    """The χ²(df) quantile at standard-normal score z (Wilson–Hilferty; accurate for large df)."""
    return df * (1 - 2 / (9 * df) + z * math.sqrt(2 / (9 * df))) ** 3


def _spread_problems(
    samples: dict[tuple[str, str], list[int]], sigmas: dict[tuple[str, str], float]
) -> list[str]:
    """Cells whose noise mean or variance is implausible for N(0, σ²) at Z standard deviations."""
    problems = []
    for key, noise in samples.items():
        n, sigma = len(noise), sigmas[key]
        mean = sum(noise) / n
        if abs(mean) > Z * sigma / math.sqrt(n):
            problems.append(f"{key}: mean {mean:.3g} for σ {sigma:.3g}")
        # With a known mean of 0, Σx²/σ² follows χ²(n) exactly for Gaussian noise.
        statistic = sum(x * x for x in noise) / sigma**2
        if not _chi_square_quantile(n, -Z) <= statistic <= _chi_square_quantile(n, Z):
            problems.append(f"{key}: empirical σ {math.sqrt(statistic / n) * sigma:.4g} for σ {sigma:.4g}")
    return problems


def _noise_samples(
    policy: Policy, runs: int
) -> tuple[dict[tuple[str, str], list[int]], dict[tuple[str, str], float]]:
    spec = ReleaseSpec.build(policy, "department_monthly", ["2026-02"])
    plan = plan_release(policy, spec)
    groups = [f"g{i}" for i in range(50)]
    truth: dict[tuple[str, str, str], int] = {}
    for i, group in enumerate(groups):
        size = 10 + i
        truth[(group, "2026-02", HEADCOUNT)] = size
        for name in spec.metrics:
            truth[(group, "2026-02", name)] = size * (i * 7 % plan.bounds[("2026-02", name)])
    aggregates = aggregate_table([(*key, total) for key, total in truth.items()])
    samples: dict[tuple[str, str], list[int]] = {(c.window.key, c.metric): [] for c in plan.cells}
    for _ in range(runs):
        for row in add_noise(plan, aggregates, groups).to_pylist():
            key = (row["group"], row["window"], row["metric"])
            samples[(row["window"], row["metric"])].append(row["noisy_total"] - truth[key])
    return samples, {(c.window.key, c.metric): c.sigma for c in plan.cells}


def test_noise_spread_matches_the_planned_sigma(policy: Policy) -> None:
    samples, sigmas = _noise_samples(policy, runs=400)
    assert len(samples) == 4
    assert all(len(noise) == 20_000 for noise in samples.values())
    assert _spread_problems(samples, sigmas) == []


def _half_sigma_sampler(totals: Sequence[int], sigma: float) -> list[int]:
    return add_discrete_gaussian(totals, sigma / 2)


def test_teeth_the_spread_check_catches_noise_drawn_with_half_the_sigma(
    policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(noise_module, "add_discrete_gaussian", _half_sigma_sampler)
    samples, sigmas = _noise_samples(policy, runs=100)
    assert len(_spread_problems(samples, sigmas)) == len(samples)


# Coverage: one monthly report with one metric and the whole budget, so the noise is moderate
# and every group stays well above k (the delta method is an approximation for small groups).
_COVERAGE_REPORT = ReportDef(
    "department_meetings",
    "Meeting hours",
    GroupLevel.DEPARTMENT,
    Cadence.MONTH,
    ("meeting_minutes",),
    Fraction(1),
)


def _coverage(runs: int) -> tuple[float, int]:
    """Return the share of released intervals that hold the true mean, and how many were suppressed."""
    policy = build_policy(reports=(_COVERAGE_REPORT,), rho=Rho.of("1"))
    spec = ReleaseSpec.build(policy, "department_meetings", ["2026-02"])
    plan: ReleasePlan = plan_release(policy, spec)
    sizes = range(20, 220, 5)
    groups = [f"g{i}" for i in range(len(sizes))]
    weekly_minutes = {group: 300 + (i * 37) % 1500 for i, group in enumerate(groups)}
    rows: list[tuple[str, str, str, int]] = []
    for group, size in zip(groups, sizes, strict=True):
        rows += [
            (group, "2026-02", "meeting_minutes", size * 4 * weekly_minutes[group]),
            (group, "2026-02", HEADCOUNT, size),
        ]
    aggregates: pa.Table = aggregate_table(rows)
    covered = released = suppressed = 0
    for _ in range(runs):
        noisy = add_noise(plan, aggregates, groups)
        table = assemble(
            policy,
            spec,
            noisy,
            release_id="r",
            released_at=dt.datetime(2026, 4, 1, tzinfo=dt.UTC),
            rho_charged=plan.cost,
        )
        for cell in table.cells:
            if cell.lower is None or cell.upper is None:
                suppressed += 1
                continue
            released += 1
            covered += cell.lower <= weekly_minutes[cell.group] / 60 <= cell.upper
    assert released + suppressed == runs * len(groups)
    return covered / released, suppressed


def test_the_95_percent_interval_covers_the_true_mean_95_percent_of_the_time() -> None:
    coverage, suppressed = _coverage(runs=1000)
    # The smallest group (20) sits 5.8 σ of headcount noise above k = 10: never suppressed.
    assert suppressed == 0
    assert 0.93 <= coverage <= 0.97


def _double_sigma_sampler(totals: Sequence[int], sigma: float) -> list[int]:
    return add_discrete_gaussian(totals, sigma * 2)


def test_teeth_intervals_from_a_sigma_half_the_real_one_undercover(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reported σ is half the σ actually drawn: the intervals become too narrow and miss."""
    monkeypatch.setattr(noise_module, "add_discrete_gaussian", _double_sigma_sampler)
    coverage, _ = _coverage(runs=200)
    assert coverage < 0.85
