"""Distinguishing games about one worker, played against the release engine (A1, A3, A6, A14, A15).

Each game returns the attacker's success and the bound the mechanism allows, as plain figures, so
the real test asserts ``success ≤ bound + tolerance`` and its teeth test (noise off, or a budget
split that forgets composition) asserts the opposite with the same function.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from teamlens.domain import HEADCOUNT, Policy, Window
from teamlens.privacy import ReleasePlan

from .auditor import Truth, gaussian_shift, likelihood_statistic, replicate
from .harness import (
    accuracy_bound,
    attacker_totals,
    auc,
    auc_bound,
    dp_accuracy_bound,
    plus,
    proportion_tolerance,
    released_cells,
)


@dataclass(frozen=True)
class GameResult:
    """What the attacker achieved and what the configured mechanism allows."""

    success: float  # accuracy of a balanced guess, or AUC for membership
    gaussian_bound: float  # Φ(μ/2) (accuracy) or Φ(μ/√2) (AUC) for the configured σ
    dp_bound: float  # e^ε/(1+e^ε) at the policy's (ε, δ)
    tolerance: float
    trials: int

    @property
    def within_bounds(self) -> bool:
        """The pass criterion: success within both bounds plus tolerance."""
        return (
            self.success <= self.gaussian_bound + self.tolerance
            and self.success <= self.dp_bound + 0.02 + self.tolerance
        )

    def as_measure(self, prefix: str = "") -> dict[str, float | int]:
        """Figures for the results file."""
        return {
            f"{prefix}success": round(self.success, 4),
            f"{prefix}gaussian_bound": round(self.gaussian_bound, 4),
            f"{prefix}dp_bound": round(self.dp_bound, 4),
            f"{prefix}tolerance": round(self.tolerance, 4),
            f"{prefix}trials": self.trials,
        }


def differencing_game(
    policy: Policy,
    plan: ReleasePlan,
    configured: ReleasePlan,
    others: Truth,
    window: Window,
    members_without_target: int,
    trials: int,
    epsilon: float,
    *,
    background: bool,
) -> GameResult:
    """A1/A15: guess whether the target's value is low (0) or high (every bound) from a difference.

    The attacker reads the released weekly means of the target's team (``others`` plus the
    target) and subtracts either the same team's release without the target (A1: a neighbouring
    installation where the target objected, equally noisy) or, with ``background``, the others'
    exact totals (A15: the manager knows everyone else). ``plan`` is what runs (it may be noise
    free); ``configured`` is the real plan the bounds are computed from.
    """
    metrics = list(plan.spec.metrics)
    low = plus(others, {key: (1 if key[1] == HEADCOUNT else 0) for key in others})
    high = plus(others, {key: (1 if key[1] == HEADCOUNT else cell_bound(plan, key)) for key in others})
    n_with = members_without_target + 1
    guesses_right = 0
    for truth, is_high in ((low, False), (high, True)):
        table = released_cells(policy, plan, replicate(plan, truth, trials))
        score = np.zeros(trials)
        if not background:
            without = released_cells(policy, plan, replicate(plan, others, trials))
        for name in metrics:
            with_target = attacker_totals(table, name, n_with, window)
            if background:
                rest = np.full(trials, float(others[(window.key, name)]))
            else:
                rest = attacker_totals(without, name, members_without_target, window)
            score += (with_target - rest) / cell_bound(plan, (window.key, name))
        guess_high = score > len(metrics) / 2
        # A suppressed release (NaN) leaves the attacker a coin toss: count it as half right.
        undecided = np.isnan(score)
        right = np.where(undecided, 0.5, (guess_high == is_high).astype(float))
        guesses_right += float(right.sum())
    mu = gaussian_shift(
        configured, {(window.key, name): cell_bound(configured, (window.key, name)) for name in metrics}
    )
    return GameResult(
        success=guesses_right / (2 * trials),
        gaussian_bound=accuracy_bound(mu),
        dp_bound=dp_accuracy_bound(epsilon),
        tolerance=proportion_tolerance(2 * trials),
        trials=2 * trials,
    )


def cell_bound(plan: ReleasePlan, key: tuple[str, str]) -> int:
    """The clipping bound of one planned cell."""
    for cell in plan.cells:
        if (cell.window.key, cell.metric) == key:
            return cell.bound
    raise KeyError(key)


def membership_game(
    plan: ReleasePlan, configured: ReleasePlan, others: Truth, target: Truth, trials: int, epsilon: float
) -> GameResult:
    """A6: is the target in the release (included) or out (objected, on leave)?

    The attacker knows everyone else's exact totals and scores each run with the most powerful
    statistic (the Gaussian likelihood ratio along the target's contribution); the AUC of that
    score over "in" and "out" runs is the attack's success.
    """
    shift = {key: target.get(key, 0) for key in others}
    runs_in = replicate(plan, plus(others, shift), trials)
    runs_out = replicate(plan, others, trials)
    score_in = likelihood_statistic(configured, runs_in, shift)
    score_out = likelihood_statistic(configured, runs_out, shift)
    success = auc(score_in, score_out)
    mu = gaussian_shift(configured, shift)
    ratio = np.exp(epsilon)
    return GameResult(
        success=success,
        gaussian_bound=auc_bound(mu),
        # 0.5 + (e^ε−1)/(e^ε+1)·0.5, the requirement's AUC bound, rewritten as e^ε/(1+e^ε).
        dp_bound=float(0.5 + (ratio - 1) / (ratio + 1) * 0.5),
        tolerance=5 * np.sqrt(1 / (6 * trials)),  # ≥ 5 standard errors of an AUC estimate
        trials=2 * trials,
    )


def series_game(
    plan: ReleasePlan,
    configured: ReleasePlan,
    others: Truth,
    windows_present: list[str],
    trials: int,
    epsilon: float,
    period_mu: float,
) -> GameResult:
    """A3: a joiner present in ``windows_present``; guess low (0) or high (bound) from the series.

    The attacker knows the team's other totals exactly and sums the standardised differences of
    every window the joiner is in (week t against the known rest, for every t from joining on),
    which is the most powerful combination of the per-window differences. The Gaussian bound uses
    the *period's* μ (√(2ρ) of the report's whole-period budget), not a per-window one.
    """
    present = set(windows_present)
    joined = {key: (1 if key[1] == HEADCOUNT and key[0] in present else 0) for key in others}
    metric_shift = {key: cell_bound(plan, key) for key in others if key[0] in present and key[1] != HEADCOUNT}
    low, high = plus(others, joined), plus(plus(others, joined), metric_shift)
    sigmas = {(cell.window.key, cell.metric): cell.sigma for cell in configured.cells}
    # The statistic's mean is Σ T_c Δ_c/σ_c²; guess "high" above the midpoint of the two means.
    middle = sum((low[key] + delta / 2) * delta / sigmas[key] ** 2 for key, delta in metric_shift.items())
    right = 0.0
    for truth, is_high in ((low, False), (high, True)):
        score = likelihood_statistic(configured, replicate(plan, truth, trials), metric_shift)
        right += float(((score > middle) == is_high).sum())
    return GameResult(
        success=right / (2 * trials),
        gaussian_bound=accuracy_bound(period_mu),
        dp_bound=dp_accuracy_bound(epsilon),
        tolerance=proportion_tolerance(2 * trials),
        trials=2 * trials,
    )
