"""Every call into OpenDP lives here: calibrating σ, sampling noise, converting ρ to (ε, δ).

teamlens never samples noise itself (attacks A10–A12): OpenDP's discrete Gaussian sampler is
exact (rational arithmetic, no floating-point porosity) and draws from a CSPRNG. Privacy maps
are also taken from OpenDP rather than from our own formulas, so the cost we charge is the
cost the vetted library certifies.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from functools import lru_cache
from typing import Any

# The modules, not ``opendp.prelude``: the prelude also loads OpenDP's scikit-learn extras,
# which would put a machine-learning library on the release path (requirement R9) and add
# seconds to every command's start-up.
from opendp import combinators, measurements
from opendp.domains import atom_domain, vector_domain
from opendp.metrics import absolute_distance, l2_distance
from opendp.mod import enable_features
from opendp.typing import i64

from teamlens.errors import InternalError

enable_features("contrib")

# Relative step for nudging σ up when float rounding makes OpenDP's map exceed the target ρ.
_NUDGE = 1e-12
_MAX_NUDGES = 10_000


def _vector_gaussian(sigma: float) -> Any:
    """The discrete Gaussian measurement on an integer vector under the L2 metric (zCDP)."""
    return measurements.make_gaussian(vector_domain(atom_domain(T=i64)), l2_distance(T=i64), scale=sigma)


def zcdp_cost(sigma: float, bound: int) -> Fraction:
    """Return the ρ OpenDP certifies for σ-noise on a vector whose L2 sensitivity is ``bound``."""
    rho = _vector_gaussian(sigma).map(bound)
    return Fraction(rho)


@lru_cache(maxsize=4096)
def calibrate_sigma(bound: int, rho: Fraction) -> float:
    """Return the smallest σ (to 1e-12) whose OpenDP zCDP cost for sensitivity ``bound`` is ≤ ρ.

    The closed form σ = bound / √(2ρ) is computed in floats, so OpenDP (which rounds its map
    conservatively) may find it a hair too small; σ is then nudged up until the certified
    cost fits inside the budget exactly.
    """
    if bound < 1 or rho <= 0:
        raise InternalError("a noise scale was requested for a non-positive bound or budget")
    sigma = bound / math.sqrt(2 * float(rho))
    for _ in range(_MAX_NUDGES):
        if zcdp_cost(sigma, bound) <= rho:
            return sigma
        sigma *= 1 + _NUDGE
    raise InternalError("could not calibrate the noise scale to the cell's budget")


def add_discrete_gaussian(totals: Sequence[int], sigma: float) -> list[int]:
    """Return ``totals`` plus independent discrete Gaussian noise of scale σ, from OpenDP."""
    noisy = _vector_gaussian(sigma)(list(totals))
    return [int(value) for value in noisy]


def zcdp_to_epsilon(rho: Fraction, delta: float) -> float:
    """Return the ε of (ε, δ)-DP implied by ρ-zCDP, using OpenDP's conversion.

    OpenDP converts a measurement, not a number, so we use a scalar Gaussian of scale 1 whose
    certified cost at input distance d is d²/2 and pick d so that the cost is at least ρ
    (nudging d up against float rounding: the ε shown may be a hair high, never low).
    """
    if rho == 0:
        return 0.0
    gaussian: Any = measurements.make_gaussian(
        atom_domain(T=float, nan=False), absolute_distance(T=float), scale=1.0
    )
    d_in = math.sqrt(2 * float(rho))
    for _ in range(_MAX_NUDGES):
        if Fraction(gaussian.map(d_in)) >= rho:
            break
        d_in = math.nextafter(d_in, math.inf)
    else:
        raise InternalError("could not match the privacy budget for the (ε, δ) conversion")
    approx: Any = combinators.make_zCDP_to_approxDP(gaussian)
    profile = approx.map(d_in)
    return float(profile.epsilon(delta))
