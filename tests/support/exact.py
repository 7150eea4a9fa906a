"""Exact answers for tests: the release engine with its noise patched out, for the test suite only.

``with exact_mode(): ...`` patches the installed engine for the length of the block: every strategy
planned inside it has σ = 0 and costs nothing, ``measure_block`` returns the true totals, and the
estimates accept noise-free measurements, so a test can compare released means with values
computed by hand. The installed package has no such switch: it always calibrates σ > 0 and
refuses σ = 0 when measuring and when estimating (``tests/unit/privacy/test_always_noisy.py``).
This module lives under ``tests/`` and patches the engine's own functions the way any other
monkeypatch does; nothing under ``src/`` can import it.

The patches are process-wide while the block runs (tests do not share a process's engine with
concurrent work), and are undone on leaving it, also when the block raises. Blocks nest.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from fractions import Fraction

import pytest

from teamlens.domain import Policy
from teamlens.privacy.strategy import HeadcountPlan, Span, Strategy

# The modules themselves (``teamlens.privacy`` re-exports functions named like some of them).
strategy_module = importlib.import_module("teamlens.privacy.strategy")
noise_module = importlib.import_module("teamlens.privacy.noise")
estimate_module = importlib.import_module("teamlens.privacy.estimate")
network_module = importlib.import_module("teamlens.privacy.network")

_active = [0]


@dataclasses.dataclass(frozen=True)
class NoiseFreeHeadcount(HeadcountPlan):
    """A headcount measurement without noise or cost (the installed ``HeadcountPlan`` has no such case)."""

    def sigma(self, span: Span) -> float:
        return 0.0


def noise_free(strategy: Strategy) -> Strategy:
    """``strategy`` with every measurement's σ and cost set to 0."""
    return dataclasses.replace(
        strategy,
        metric_plans=tuple(
            dataclasses.replace(plan, rho=Fraction(0), sigma=0.0) for plan in strategy.metric_plans
        ),
        headcount_plans=tuple(
            NoiseFreeHeadcount(plan.level, Fraction(0)) for plan in strategy.headcount_plans
        ),
        network_plans=tuple(dataclasses.replace(plan, rho=Fraction(0)) for plan in strategy.network_plans),
    )


def _planner(plan: Callable[[Policy], Strategy]) -> Callable[[Policy], Strategy]:
    return lambda policy: noise_free(plan(policy))


def _noise_check(check: Callable[[float, int, object], None]) -> Callable[[float, int, object], None]:
    def checked(sigma: float, sensitivity: int, rho: object) -> None:
        if sigma == 0.0 and rho == 0:
            return  # planned inside exact mode: nothing to draw, nothing to charge
        check(sigma, sensitivity, rho)

    return checked


def _sampler(
    sample: Callable[[Sequence[int], float], list[int]],
) -> Callable[[Sequence[int], float], list[int]]:
    return lambda totals, sigma: list(totals) if sigma == 0.0 else sample(totals, sigma)


def _estimate_check(check: Callable[[float, str], None]) -> Callable[[float, str], None]:
    def checked(sigma: float, metric: str) -> None:
        if sigma != 0.0:
            check(sigma, metric)

    return checked


def _network_sigma(sigma: Callable[[int, Fraction], float]) -> Callable[[int, Fraction], float]:
    return lambda sensitivity, rho: 0.0 if rho == 0 else sigma(sensitivity, rho)


@contextmanager
def exact_mode() -> Iterator[None]:
    """Plan, measure and estimate without noise and without cost inside this block."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(strategy_module, "_plan", _planner(strategy_module._plan))
        patch.setattr(noise_module, "_check_noise", _noise_check(noise_module._check_noise))
        patch.setattr(noise_module, "add_discrete_gaussian", _sampler(noise_module.add_discrete_gaussian))
        patch.setattr(estimate_module, "_check_noisy", _estimate_check(estimate_module._check_noisy))
        patch.setattr(network_module, "_sigma", _network_sigma(network_module._sigma))
        patch.setattr(network_module, "_check_noise", _noise_check(network_module._check_noise))
        patch.setattr(network_module, "add_discrete_gaussian", _sampler(network_module.add_discrete_gaussian))
        _active[0] += 1
        try:
            yield
        finally:
            _active[0] -= 1


def exact_mode_active() -> bool:
    """Tell whether an ``exact_mode()`` block is running."""
    return _active[0] > 0
