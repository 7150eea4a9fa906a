"""95% intervals for released means that keep their coverage everywhere, edges included.

A released mean is θ̂ = T / D: a noisy total over noisy person-weeks, both with known Gaussian
noise variances. Fieller's pivot (T − θD) / √(var T + θ² var D) is exactly standard normal at
the true θ; equivalently θ̂ ~ N(θ, s(θ)²) with s(θ) = √(var T + θ² var D) / D.

The true mean lies in [0, U] (U: the most one person can contribute per week), so a value is
shown inside that range, and its interval is built conditionally on where θ̂ fell — below 0,
inside [0, U], or above U — by inverting the pivot P(X ≤ θ̂ | X in that region), which is
uniform at the true θ. Naive intervals cover badly among values shown at an edge (about 76%
among values shown as 0), because landing there is itself selective; conditional ones cover the
truth 95% of the time in each region, and so overall too.

- **Inside [0, U]** the value is θ̂. Far from the edges the truncation changes nothing and the
  interval is Fieller's closed form; near an edge it is the two-sided conditional interval.
- **Below 0** the value is shown as 0 with a one-sided interval [0, θ₊], θ₊ the θ at which the
  conditional pivot falls to 5%. Above U, the mirror image [θ₋, U].
- Where even the edge itself makes the observation extreme (at most 2.5–5% of the cells of a
  region), no θ fits: the exact conditional set is empty, and 95% coverage at every θ counts on
  it being empty. No interval may be empty or of zero width, so the interval shown is then
  [0, s(0)/4] (or its mirror at U): the edge and a quarter of its own noise spread. Any
  non-empty interval at 0 contains a truth at 0, so these cells over-cover where the truth lies
  within a quarter of a spread of the edge (98.7% at the edge itself, 98.2% a tenth of a spread
  in: no honest interval can do better there) and not beyond. With 1.96 spreads (the rule
  before) the over-coverage reached two spreads in, and groups of 10–19 people, whose truths
  often lie that close to 0, were covered 96.5–97.7% of the time; with half a spread, 97.3% on
  the mail benchmark; with a quarter, 95.4–96.5% (``bench/bench_accuracy.py``). A quarter of
  a spread is narrow, but it is shown only where the observation lies beyond every θ's 95%
  range, and a figure is printed as a number only where the planned noise is small against the
  metric's typical value (``assemble``), so a printed "0.0 (up to …)" is small against it too.

Coverage is checked by simulation in the tests and in ``bench/bench_accuracy.py``.
Everything is vectorised with NumPy and is post-processing: it costs no budget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import numpy.typing as npt
from scipy.special import log_ndtr, ndtr

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Two-sided 95% normal quantile (1.95996…).
Z95 = NormalDist().inv_cdf(0.975)
_ONE_SIDED = 0.05
#: How many spreads of the edge's noise are shown when no θ in [0, U] fits (see the module docstring).
_FALLBACK = 0.25
_STEPS = 20  # Illinois steps: converged to 1e-13 by 16 in tests (superlinear), far below any digit shown


@dataclass(frozen=True)
class Intervals:
    """Values shown inside [0, U] and their 95% intervals, in the units of θ.

    ``clamped`` marks values whose raw ratio fell outside [0, U] (shown at the edge, with a
    one-sided interval).
    """

    value: FloatArray
    lower: FloatArray
    upper: FloatArray
    clamped: BoolArray


def ratio_intervals(
    total: FloatArray, var_total: FloatArray, count: FloatArray, var_count: FloatArray, bound: FloatArray
) -> Intervals:
    """Return shown means and their 95% intervals for T / D (see the module docstring).

    Every argument is an array of the same shape; ``count`` and ``bound`` (U) must be positive.
    With both variances 0 (exact mode) the interval is the point itself.
    """
    total, var_total, count, var_count, bound = (
        np.asarray(array, dtype=np.float64) for array in (total, var_total, count, var_count, bound)
    )
    if np.any(count <= 0) or np.any(bound <= 0):
        raise ValueError("ratio_intervals needs positive counts and bounds")
    estimate = total / count
    low = estimate < 0
    high = estimate > bound
    value = np.clip(estimate, 0.0, bound)
    lower, upper, easy = _fieller(total, var_total, count, var_count, bound)
    noisy = (var_total > 0) | (var_count > 0)
    inside = ~low & ~high & ~easy & noisy
    if inside.any():
        lower[inside], upper[inside] = _two_sided(
            *(array[inside] for array in (estimate, var_total, count, var_count, bound))
        )
    if low.any():
        lower[low] = 0.0
        upper[low] = _one_sided(estimate[low], var_total[low], count[low], var_count[low], bound[low])
    if high.any():
        # The mirror image: with φ = U − θ the upper edge becomes the lower one.
        upper[high] = bound[high]
        lower[high] = bound[high] - _one_sided(
            bound[high] - estimate[high],
            var_total[high],
            count[high],
            var_count[high],
            bound[high],
            mirrored=True,
        )
    lower = np.where(noisy, np.minimum(lower, value), value)
    upper = np.where(noisy, np.maximum(upper, value), value)
    return Intervals(value, lower, upper, low | high)


def _fieller(
    total: FloatArray, var_total: FloatArray, count: FloatArray, var_count: FloatArray, bound: FloatArray
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Fieller's 95% interval cut to [0, U], and where it is the conditional interval itself.

    Far from both edges (the interval and six spreads beyond it inside [0, U]) the truncation
    changes the pivot by less than 10⁻⁹, so the closed form is the answer there.
    """
    a = count**2 - Z95**2 * var_count
    root = count**2 * var_total + total**2 * var_count - Z95**2 * var_total * var_count
    bounded = (a > 0) & (root >= 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        half = Z95 * np.sqrt(np.maximum(root, 0.0))
        lower = np.where(bounded, (total * count - half) / a, 0.0)
        upper = np.where(bounded, (total * count + half) / a, bound)
        reach_low = lower - 6 * np.sqrt(var_total + lower**2 * var_count) / count
        reach_high = upper + 6 * np.sqrt(var_total + upper**2 * var_count) / count
    easy = bounded & (reach_low > 0) & (reach_high < bound)
    return np.clip(lower, 0.0, bound), np.clip(upper, 0.0, bound), easy


def _spread(theta: FloatArray, var_total: FloatArray, count: FloatArray, var_count: FloatArray) -> FloatArray:
    result: FloatArray = np.sqrt(np.maximum(var_total + theta**2 * var_count, 1e-300)) / count
    return result


def _two_sided(
    estimate: FloatArray, var_total: FloatArray, count: FloatArray, var_count: FloatArray, bound: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """The conditional interval for estimates inside [0, U]: P(X ≤ θ̂ | 0 ≤ X ≤ U) in [2.5%, 97.5%]."""

    def pivot(theta: FloatArray) -> FloatArray:
        width = _spread(theta, var_total, count, var_count)
        return _truncated_cdf((estimate - theta) / width, -theta / width, (bound - theta) / width)

    zero = np.zeros_like(estimate)
    at_zero, at_bound = pivot(zero), pivot(bound)
    lower = np.where(at_zero <= 0.975, zero, _solve(pivot, 0.975, zero, bound))
    upper = np.where(at_bound >= 0.025, bound, _solve(pivot, 0.025, zero, bound))
    # Too low (or too high) for every θ in [0, U]: the edge and a quarter of its spread, as below 0 (above U).
    too_low, too_high = at_zero < 0.025, at_bound > 0.975
    edge_low = np.minimum(_FALLBACK * _spread(zero, var_total, count, var_count), bound)
    edge_high = np.maximum(bound - _FALLBACK * _spread(bound, var_total, count, var_count), 0.0)
    lower = np.where(too_high, np.minimum(edge_high, lower), np.where(too_low, 0.0, lower))
    upper = np.where(too_low, np.maximum(edge_low, upper), np.where(too_high, bound, upper))
    return lower, upper


def _truncated_cdf(x: FloatArray, a: FloatArray, b: FloatArray) -> FloatArray:
    """P(Z ≤ x | a ≤ Z ≤ b) for a standard normal Z, elementwise, with a ≤ 0 ≤ b.

    With a ≤ 0 ≤ b the denominator never vanishes, so differences of Φ are accurate; the
    numerator is taken from the tail it lies in so that 1 − 1 never cancels.
    """
    x = np.clip(x, a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        cdf = _mass(a, x) / _mass(a, b)
    result: FloatArray = np.where(x <= a, 0.0, np.where(x >= b, 1.0, np.nan_to_num(cdf, nan=0.0)))
    return np.clip(result, 0.0, 1.0)


def _mass(a: FloatArray, b: FloatArray) -> FloatArray:
    """Φ(b) − Φ(a) for a ≤ b elementwise, from the upper tail when both lie in it."""
    result: FloatArray = np.where(a > 0, ndtr(-a) - ndtr(-b), ndtr(b) - ndtr(a))
    return result


def _one_sided(
    estimate: FloatArray,
    var_total: FloatArray,
    count: FloatArray,
    var_count: FloatArray,
    bound: FloatArray,
    *,
    mirrored: bool = False,
) -> FloatArray:
    """θ₊ for estimates below 0: where P(X ≤ θ̂ | X < 0) under θ falls to 5% (see the docstring).

    ``mirrored``: the problem is the upper edge seen from U (θ here is U minus the mean, which
    matters only for the spread s, through var D).
    """

    def spread(theta: FloatArray) -> FloatArray:
        return _spread(bound - theta if mirrored else theta, var_total, count, var_count)

    def pivot(theta: FloatArray) -> FloatArray:
        width = spread(theta)
        with np.errstate(divide="ignore", invalid="ignore"):
            result: FloatArray = np.exp(log_ndtr((estimate - theta) / width) - log_ndtr(-theta / width))
        return np.clip(np.nan_to_num(result, nan=1.0), 0.0, 1.0)

    zero = np.zeros_like(estimate)
    at_zero = pivot(zero)
    at_bound = pivot(bound)
    solved = _solve(pivot, _ONE_SIDED, zero, bound)
    # No θ in [0, U] fits: the observation is extreme even for the edge itself. The exact set
    # is empty; show the edge and a quarter of its noise spread (see the module docstring).
    fallback = np.minimum(_FALLBACK * spread(zero), bound)
    result: FloatArray = np.where(
        at_zero < _ONE_SIDED, fallback, np.where(at_bound >= _ONE_SIDED, bound, solved)
    )
    return result


def _solve(
    pivot: Callable[[FloatArray], FloatArray], target: float, low: FloatArray, high: FloatArray
) -> FloatArray:
    """Solve pivot(θ) = target on [low, high] elementwise, the pivot decreasing and bracketed.

    Regula falsi with the Illinois modification: it keeps the bracket like bisection and
    converges superlinearly, so ``_STEPS`` evaluations reach far below any displayed digit.
    """
    lo, hi = low.copy(), high.copy()
    f_lo, f_hi = pivot(lo) - target, pivot(hi) - target
    side = np.zeros_like(lo)
    for _ in range(_STEPS):
        if np.all(hi - lo <= 1e-12 * np.maximum(high - low, 1e-300)):
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            guess = (lo * f_hi - hi * f_lo) / (f_hi - f_lo)
        guess = np.where(np.isfinite(guess) & (guess > lo) & (guess < hi), guess, (lo + hi) / 2)
        value = pivot(guess) - target
        right = value > 0  # still above the target: the root lies to the right of the guess
        lo, f_lo = np.where(right, guess, lo), np.where(right, value, f_lo)
        hi, f_hi = np.where(right, hi, guess), np.where(right, f_hi, value)
        # Illinois: halve the stale end's value when the same end moves twice in a row.
        f_hi = np.where(right & (side > 0), f_hi / 2, f_hi)
        f_lo = np.where(~right & (side < 0), f_lo / 2, f_lo)
        side = np.where(right, 1.0, -1.0)
    result: FloatArray = np.where(np.abs(f_lo) < np.abs(f_hi), lo, hi)
    return result
