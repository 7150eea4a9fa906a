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

Why the auditor drives the privacy engine and not ``services.release``: a release is cached (a
second run returns the same numbers, attack A4), so thousands of independent runs would need
thousands of installations. The service is plan → store.aggregate → add_noise → record → assemble;
the auditor takes the true aggregates from the store once and runs ``plan_release`` /
``add_noise`` / ``assemble`` — the same functions the service calls — many times. It runs them
as *replicas* in one call: ``add_noise`` draws independent noise for every group of the level, so
N copies of the target group's true totals in one vector are N independent runs of the release
as far as that group's cells are concerned (a group's noisy cells depend on nothing else).

The exact binomial tail inversion below uses only ``math.lgamma`` and a continued fraction for
the regularised incomplete beta function (scipy is not a dependency).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from teamlens.domain import AGGREGATE_SCHEMA, Rho
from teamlens.privacy import ReleasePlan, add_noise, rho_to_epsilon

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


# -- running the release engine as replicas -----------------------------------------------------

Truth = Mapping[tuple[str, str], int]  # (window key, metric) → true clipped total of one group


def replicate(plan: ReleasePlan, truth: Truth, runs: int) -> dict[tuple[str, str], np.ndarray]:
    """Run ``add_noise`` for ``runs`` independent releases of one group's cells.

    Returns, for every planned (window, metric), the ``runs`` noisy totals. Cells the truth
    does not name have a true total of 0, as in the engine.
    """
    groups = [f"run{i:07d}" for i in range(runs)]
    keys = list(truth)
    table = pa.Table.from_arrays(
        [
            pa.array([group for group in groups for _ in keys], pa.string()),
            pa.array([key[0] for _ in groups for key in keys], pa.string()),
            pa.array([key[1] for _ in groups for key in keys], pa.string()),
            pa.array([int(truth[key]) for _ in groups for key in keys], pa.int64()),
        ],
        schema=AGGREGATE_SCHEMA,
    )
    noisy = add_noise(plan, table, groups)
    totals = np.asarray(noisy.column("noisy_total").to_numpy(), dtype=np.int64)
    # add_noise writes one block of len(groups) rows per planned cell, in the plan's order.
    blocks = totals.reshape(len(plan.cells), runs)
    return {(cell.window.key, cell.metric): blocks[i] for i, cell in enumerate(plan.cells)}


def noisy_table(
    plan: ReleasePlan, runs: Mapping[tuple[str, str], np.ndarray], prefix: str = "run"
) -> pa.Table:
    """Turn replica runs back into a ``NOISY_SCHEMA`` table (one group per run) for ``assemble``."""
    from teamlens.domain import NOISY_SCHEMA

    count = len(next(iter(runs.values())))
    groups = [f"{prefix}{i:07d}" for i in range(count)]
    columns: dict[str, list[object]] = {name: [] for name in NOISY_SCHEMA.names}
    for cell in plan.cells:
        key = (cell.window.key, cell.metric)
        columns["group"].extend(groups)
        columns["window"].extend([cell.window.key] * count)
        columns["metric"].extend([cell.metric] * count)
        columns["noisy_total"].extend(int(x) for x in runs[key])
        columns["sigma"].extend([cell.sigma] * count)
    return pa.Table.from_pydict(columns, schema=NOISY_SCHEMA)


def likelihood_statistic(
    plan: ReleasePlan, runs: Mapping[tuple[str, str], np.ndarray], shift: Truth
) -> np.ndarray:
    """The Neyman–Pearson statistic Σ_c X_c·Δ_c/σ_c² of each run, for a worker who shifts cell c by Δ_c.

    For Gaussian noise this is the most powerful test of D against D′, so thresholds on it are
    the strongest one-dimensional event family; σ is the configured one (a broken mechanism that
    draws less noise is judged against what it claims).
    """
    sigmas = {(cell.window.key, cell.metric): cell.sigma for cell in plan.cells}
    total = np.zeros(len(next(iter(runs.values()))), dtype=float)
    for key, delta in shift.items():
        if delta:
            total += np.asarray(runs[key], dtype=float) * delta / sigmas[key] ** 2
    return total


def statistic_mean(plan: ReleasePlan, truth: Truth, shift: Truth) -> float:
    """The noise-free value of ``likelihood_statistic`` on ``truth`` (where its runs centre)."""
    return float(
        likelihood_statistic(plan, {key: np.array([value]) for key, value in truth.items()}, shift)[0]
    )


def gaussian_shift(plan: ReleasePlan, shift: Truth) -> float:
    """μ = √(Σ_c Δ_c²/σ_c²): how far apart the two neighbours' outputs are, in noise units."""
    sigmas = {(cell.window.key, cell.metric): cell.sigma for cell in plan.cells}
    return math.sqrt(sum((delta / sigmas[key]) ** 2 for key, delta in shift.items()))
