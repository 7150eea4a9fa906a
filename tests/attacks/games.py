"""Distinguishing games about one worker, played against the release engine (A1, A3, A6, A15).

Each game returns the attacker's success and the bound the mechanism allows, as plain figures, so
the real test asserts ``success ≤ bound + tolerance`` and its teeth test (noise off, or a budget
that forgets composition) asserts the opposite with the same function. The engine runs as
replicas of one team (``replicas.py``): ``strategy`` is what runs (it may be noise free or
weakened), ``configured`` the real strategy the bounds are computed from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from teamlens.domain import GroupLevel, metric
from teamlens.privacy import ReleaseSpec, Strategy

from .harness import accuracy_bound, auc, auc_bound, dp_accuracy_bound, proportion_tolerance
from .replicas import Truth, Unit, gaussian_mu, likelihood_statistic, plus, replicate, sigma_of

#: One team "T", measured on its own (the games' sub-strategies keep only the team level).
TEAM = Unit({GroupLevel.TEAM: ("T",)})


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


def _display(strategy: Strategy, name: str) -> float:
    """Fixed-point units of one display unit of ``name`` at team level."""
    return strategy.metric_plan(GroupLevel.TEAM, name).scale * metric(name).display_divisor


def _window_total(strategy: Strategy, truth: Truth, spec: ReleaseSpec, name: str) -> float:
    weeks = set(spec.windows[0].weeks)
    found = sum(total for (level, group, week, key), total in truth.items() if key == name and week in weeks)
    return found / _display(strategy, name)


def differencing_game(
    strategy: Strategy,
    configured: Strategy,
    spec: ReleaseSpec,
    present: Truth,
    others: Truth,
    high: Truth,
    trials: int,
    epsilon: float,
    *,
    background: bool,
) -> GameResult:
    """A1/A15: guess whether the target's value is low (0) or high (every bound) from a difference.

    The attacker reads the released total of the target's team (``others`` plus the target, who
    is ``present`` either way and adds ``high`` when high) and subtracts either the same team's
    release without the target (A1: a neighbouring installation where the target objected,
    equally noisy) or, with ``background``, the others' exact total (A15: the manager knows
    everyone else). Released totals are what the tables publish (mean × noisy person-weeks).
    """
    blocks = strategy.blocks_for(spec.windows)
    window = spec.windows[0].key
    low = plus(others, present)
    without = None if background else replicate(strategy, blocks, TEAM, others, trials).release(spec)
    guesses_right = 0.0
    for truth, is_high in ((low, False), (plus(low, high), True)):
        cells = replicate(strategy, blocks, TEAM, truth, trials).release(spec)
        score = np.zeros(trials)
        for name in spec.metrics:
            with_target = cells[("T", window, name)].total
            if without is None:
                rest = np.full(trials, _window_total(configured, others, spec, name))
            else:
                rest = without[("T", window, name)].total
            score += (with_target - rest) / _window_total(configured, high, spec, name)
        guess_high = score > len(spec.metrics) / 2
        # A suppressed release (NaN) leaves the attacker a coin toss: count it as half right.
        right = np.where(np.isnan(score), 0.5, (guess_high == is_high).astype(float))
        guesses_right += float(right.sum())
    return GameResult(
        success=guesses_right / (2 * trials),
        gaussian_bound=accuracy_bound(gaussian_mu(configured, high)),
        dp_bound=dp_accuracy_bound(epsilon),
        tolerance=proportion_tolerance(2 * trials),
        trials=2 * trials,
    )


def membership_game(
    strategy: Strategy,
    configured: Strategy,
    spec: ReleaseSpec,
    others: Truth,
    target: Truth,
    trials: int,
    epsilon: float,
) -> GameResult:
    """A6: is the target in the release (included) or out (objected, on leave)?

    The attacker knows everyone else's exact totals and scores each run with the most powerful
    statistic (the Gaussian likelihood ratio along the target's contribution, on every
    measurement the target is in); the AUC of that score over "in" and "out" runs is the
    attack's success.
    """
    blocks = strategy.blocks_for(spec.windows)
    runs_in = replicate(strategy, blocks, TEAM, plus(others, target), trials)
    runs_out = replicate(strategy, blocks, TEAM, others, trials)
    success = auc(
        likelihood_statistic(configured, runs_in, target), likelihood_statistic(configured, runs_out, target)
    )
    ratio = np.exp(epsilon)
    return GameResult(
        success=success,
        gaussian_bound=auc_bound(gaussian_mu(configured, target)),
        # 0.5 + (e^ε−1)/(e^ε+1)·0.5, the requirement's AUC bound, rewritten as e^ε/(1+e^ε).
        dp_bound=float(0.5 + (ratio - 1) / (ratio + 1) * 0.5),
        tolerance=5 * np.sqrt(1 / (6 * trials)),  # ≥ 5 standard errors of an AUC estimate
        trials=2 * trials,
    )


def series_game(
    strategy: Strategy,
    configured: Strategy,
    spec: ReleaseSpec,
    low: Truth,
    shift: Truth,
    trials: int,
    epsilon: float,
    period_mu: float,
) -> GameResult:
    """A3: a joiner present in some weeks; guess low (0) or high (bound) from the weekly series.

    The attacker knows the team's other totals exactly and combines every weekly release from the
    joining week on: Σ_t (released total_t − known rest_t)·Δ_t/σ_t², the most powerful
    combination. The Gaussian bound uses the *period's* μ (√(2ρ) of these vectors' whole-period
    budget), not a per-week one.
    """
    blocks = strategy.blocks_for(spec.windows)
    name = spec.metrics[0]
    scale = _display(configured, name)
    weights = {
        week: delta / sigma_of(configured, key) ** 2 for key, delta in shift.items() for week in [key[2]]
    }
    rest = {week: low.get(("team", "T", week, name), 0) for week in weights}
    middle = sum(delta * weights[key[2]] / 2 for key, delta in shift.items())
    right = 0.0
    for truth, is_high in ((low, False), (plus(low, shift), True)):
        cells = replicate(strategy, blocks, TEAM, truth, trials).release(spec)
        score = np.zeros(trials)
        for window in spec.windows:
            week = window.weeks[0]
            if week in weights:
                total = np.nan_to_num(cells[("T", window.key, name)].total * scale, nan=rest[week])
                score += (total - rest[week]) * weights[week]
        right += float(((score > middle) == is_high).sum())
    return GameResult(
        success=right / (2 * trials),
        gaussian_bound=accuracy_bound(period_mu),
        dp_bound=dp_accuracy_bound(epsilon),
        tolerance=proportion_tolerance(2 * trials),
        trials=2 * trials,
    )
