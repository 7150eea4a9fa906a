"""95% intervals for released means that keep their coverage everywhere, edges included.

A released mean is θ̂ = T / D: a noisy total over noisy person-weeks, both with known Gaussian
noise variances. Fieller's pivot (T − θD) / √(var T + θ² var D) is exactly standard normal at
the true θ; equivalently θ̂ ~ N(θ, s(θ)²) with s(θ) = √(var T + θ² var D) / D.

The true mean lies in [0, U] (U: the most one person can contribute per week), so a value is
shown inside that range:

- **Inside [0, U]** the value is θ̂ and the interval is Fieller's, cut to [0, U]: it covers the
  truth 95% of the time (97.5% at exactly 0 or U, where one side cannot miss).
- **Below 0** the value is shown as 0 with a one-sided interval [0, θ₊]. Naive intervals cover
  badly here (about 76% among values shown as 0), because landing below 0 is itself selective.
  So θ₊ is taken from the pivot conditional on that event: P(X ≤ θ̂ | X < 0) is uniform at the
  true θ, and θ₊ is the θ at which it falls to 5%. Among values shown as 0, the interval then
  covers the truth 95% of the time at every θ > 0 (and always at θ = 0). Above U, the mirror.
- When even θ = 0 makes the observation extreme (conditional pivot under 5% at the edge),
  the interval shown is [0, 1.96·s(0)] (or its mirror at U): never empty, never zero-width.

Coverage is checked by simulation in the tests and in ``bench/bench_accuracy.py``.
Everything is vectorised with NumPy and is post-processing: it costs no budget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import numpy.typing as npt
from scipy.special import log_ndtr

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Two-sided 95% normal quantile (1.95996…).
Z95 = NormalDist().inv_cdf(0.975)
_ONE_SIDED = 0.05
_STEPS = 48  # bisection steps: [0, U] shrinks by 2⁻⁴⁸, far below any displayed digit


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
    lower, upper = _fieller(total, var_total, count, var_count, bound)
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
    exact = (var_total <= 0) & (var_count <= 0)
    lower = np.where(exact, value, np.minimum(lower, value))
    upper = np.where(exact, value, np.maximum(upper, value))
    return Intervals(value, lower, upper, low | high)


def _fieller(
    total: FloatArray, var_total: FloatArray, count: FloatArray, var_count: FloatArray, bound: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Fieller's 95% interval for T / D, cut to [0, U] ([0, U] itself when D is not clearly > 0)."""
    a = count**2 - Z95**2 * var_count
    root = count**2 * var_total + total**2 * var_count - Z95**2 * var_total * var_count
    bounded = (a > 0) & (root >= 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        half = Z95 * np.sqrt(np.maximum(root, 0.0))
        lower = np.where(bounded, (total * count - half) / a, 0.0)
        upper = np.where(bounded, (total * count + half) / a, bound)
    return np.clip(lower, 0.0, bound), np.clip(upper, 0.0, bound)


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
        mean = bound - theta if mirrored else theta
        result: FloatArray = np.sqrt(np.maximum(var_total + mean**2 * var_count, 1e-300)) / count
        return result

    def pivot(theta: FloatArray) -> FloatArray:
        width = spread(theta)
        with np.errstate(divide="ignore", invalid="ignore"):
            result: FloatArray = np.exp(log_ndtr((estimate - theta) / width) - log_ndtr(-theta / width))
        return np.clip(np.nan_to_num(result, nan=1.0), 0.0, 1.0)

    zero = np.zeros_like(estimate)
    at_zero = pivot(zero)
    at_bound = pivot(bound)
    solved = _solve(pivot, _ONE_SIDED, zero, bound)
    fallback = np.minimum(Z95 * spread(zero), bound)
    result: FloatArray = np.where(
        at_zero < _ONE_SIDED, fallback, np.where(at_bound >= _ONE_SIDED, bound, solved)
    )
    return result


def _solve(
    pivot: Callable[[FloatArray], FloatArray], target: float, low: FloatArray, high: FloatArray
) -> FloatArray:
    """Bisection for pivot(θ) = target, the pivot decreasing in θ, on [low, high] elementwise."""
    lo, hi = low.copy(), high.copy()
    for _ in range(_STEPS):
        middle = (lo + hi) / 2
        above = pivot(middle) > target
        lo = np.where(above, middle, lo)
        hi = np.where(above, hi, middle)
    result: FloatArray = (lo + hi) / 2
    return result
