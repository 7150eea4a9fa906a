"""An empirical privacy auditor: a Clopper–Pearson lower bound on ε from many runs of a release.

The idea is Google's stochastic tester and DP Auditorium (requirements §2.2, ``empirical_eps``):
run the release on two neighbouring organisations D and D′ many times, and for every event E of
a family fixed in advance (thresholds on a released number) bound, at a stated confidence,

    ε ≥ ln((P_D[E] − δ) / P_D′[E])

from below, using an exact Clopper–Pearson lower bound for P_D[E] and upper bound for P_D′[E].
Any (ε, δ)-DP mechanism satisfies P_D[E] ≤ e^ε P_D′[E] + δ for every E, so a lower bound above the
configured ε is proof (at that confidence) of a bug; staying below it is not a proof of privacy.

A ρ-zCDP release satisfies (ε(ρ, δ), δ)-DP for every δ at once, so the auditor checks the whole
privacy profile on a grid of δ (the policy's δ included), with ε(ρ, δ) from
``teamlens.privacy.rho_to_epsilon``. The Gaussian's ε at δ = 10⁻⁶ lives in tails that ten
thousand runs cannot see, which is why the larger δ of the grid are what catch a broken mechanism.

The runs: a real release measures each block once and keeps it (attack A4), so thousands of
independent runs would need thousands of installations. ``replicas.py`` runs the engine's own
functions (``measure_block``, then ``services.release.derive``) on many copies of a few groups in
one block's vectors, on true totals taken from an installation's store; see there for why that
is faithful.

The exact binomial tail inversion below uses only ``math.lgamma`` and a continued fraction for
the regularised incomplete beta function: nothing is shared with the scipy code the engine's
intervals use, so a bug there cannot hide itself here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from teamlens.domain import Rho
from teamlens.privacy import rho_to_epsilon

# -- exact binomial confidence bounds ----------------------------------------------------------


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    """Lentz's continued fraction for the incomplete beta function (Numerical Recipes §6.4)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        for aa in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + aa / c
            c = c if abs(c) > tiny else tiny
            step = d * c
            h *= step
        if abs(step - 1.0) < 1e-15:
            return h
    raise ArithmeticError("the incomplete beta continued fraction did not converge")


def regularized_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b), the regularised incomplete beta function, for a, b > 0 and 0 ≤ x ≤ 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_continued_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_continued_fraction(b, a, 1.0 - x) / b


def _beta_quantile(q: float, a: float, b: float) -> float:
    lo, hi = 0.0, 1.0
    for _ in range(100):  # bisection to below 1e-30: far finer than any probability used here
        mid = (lo + hi) / 2
        if regularized_beta(a, b, mid) < q:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def clopper_pearson(successes: int, trials: int, alpha: float) -> tuple[float, float]:
    """One-sided exact bounds (lower, upper) on a binomial p, each holding with probability ≥ 1 − α."""
    if not 0 <= successes <= trials or trials < 1:
        raise ValueError(f"need 0 ≤ successes ≤ trials and trials ≥ 1 (got {successes}/{trials})")
    lower = 0.0 if successes == 0 else _beta_quantile(alpha, successes, trials - successes + 1)
    upper = 1.0 if successes == trials else _beta_quantile(1 - alpha, successes + 1, trials - successes)
    return lower, upper


def student_t_two_sided_p(t: float, df: float) -> float:
    """The two-sided p-value of Student's t with ``df`` degrees of freedom (via the incomplete beta)."""
    if not math.isfinite(t):
        return 0.0
    return regularized_beta(df / 2, 0.5, df / (df + t * t))


# -- the auditor -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EpsilonBound:
    """The best lower bound on ε found at one δ, and the event that gave it."""

    delta: float
    configured: float
    lower_bound: float
    event: str

    @property
    def exceeded(self) -> bool:
        """True when the data prove (at the audit's confidence) more loss than configured."""
        return self.lower_bound > self.configured


@dataclass(frozen=True)
class Audit:
    """The auditor's verdict over the δ grid for one pair of neighbouring datasets."""

    trials: int
    rho: float
    confidence: float
    events: int
    bounds: tuple[EpsilonBound, ...] = field(default_factory=tuple)

    @property
    def exceeded(self) -> bool:
        """True when the lower bound beats the configured ε at any δ of the grid."""
        return any(bound.exceeded for bound in self.bounds)

    def as_dict(self) -> dict[str, object]:
        """Plain JSON-ready figures for the results file and the audit report."""
        return {
            "trials_per_dataset": self.trials,
            "rho": self.rho,
            "confidence": self.confidence,
            "events": self.events,
            "by_delta": [
                {
                    "delta": bound.delta,
                    "epsilon_configured": round(bound.configured, 4),
                    "epsilon_lower_bound": round(bound.lower_bound, 4),
                    "event": bound.event,
                }
                for bound in self.bounds
            ],
            "exceeded": self.exceeded,
        }


#: The δ grid of every audit: the policy's δ and the larger δ a modest number of runs can see.
DELTAS = (1e-6, 1e-4, 1e-3, 1e-2, 5e-2)


def empirical_epsilon(
    on_d: np.ndarray,
    on_d_prime: np.ndarray,
    thresholds: Sequence[float],
    *,
    rho: Rho,
    deltas: Sequence[float] = DELTAS,
    confidence: float = 1 - 1e-6,
) -> Audit:
    """Lower-bound ε from runs of one scalar output on D and on D′, over threshold events.

    ``thresholds`` must be fixed before looking at the runs (they are derived from the
    mechanism's configured σ); the family is {X ≥ t} and {X < t} for each t, in both directions
    (D against D′ and D′ against D). The confidence holds jointly over all events (Bonferroni).
    """
    a, b = np.asarray(on_d), np.asarray(on_d_prime)
    if len(a) != len(b) or len(a) == 0:
        raise ValueError("the auditor needs the same positive number of runs on D and on D′")
    n = len(a)
    events: list[tuple[str, int, int]] = []
    for t in thresholds:
        above_a, above_b = int(np.count_nonzero(a >= t)), int(np.count_nonzero(b >= t))
        events.append((f"X ≥ {t:.6g}", above_a, above_b))
        events.append((f"X < {t:.6g}", n - above_a, n - above_b))
    comparisons = 2 * len(events)
    alpha = (1 - confidence) / (2 * comparisons)  # a lower and an upper bound per comparison
    cache: dict[int, tuple[float, float]] = {}

    def bounds_of(count: int) -> tuple[float, float]:
        if count not in cache:
            cache[count] = clopper_pearson(count, n, alpha)
        return cache[count]

    results = []
    for delta in deltas:
        configured = rho_to_epsilon(rho, delta)
        best, best_event = -math.inf, "none"
        for name, count_a, count_b in events:
            for big, small, direction in ((count_a, count_b, "D/D′"), (count_b, count_a, "D′/D")):
                low, _ = bounds_of(big)
                _, high = bounds_of(small)
                if low - delta <= 0:
                    continue
                value = math.log((low - delta) / high)
                if value > best:
                    best, best_event = value, f"{name} ({direction})"
        results.append(EpsilonBound(delta, configured, best, best_event))
    return Audit(n, float(rho), confidence, len(events), tuple(results))


def threshold_grid(
    centres: Sequence[float], spread: float, count: int = 60, width: float = 6.0
) -> list[float]:
    """``count`` thresholds from min(centres) − width·spread to max(centres) + width·spread."""
    low, high = min(centres) - width * spread, max(centres) + width * spread
    return [float(x) for x in np.linspace(low, high, count)]
