"""Every call into OpenDP lives here: calibrating σ, sampling noise, converting ρ to (ε, δ).

teamlens never samples noise itself (attacks A10–A12): OpenDP's discrete Gaussian sampler is
exact (rational arithmetic, no floating-point porosity) and draws from a CSPRNG. Privacy maps
are also taken from OpenDP rather than from our own formulas, so the cost we charge is the
cost the vetted library certifies.

OpenDP's vector measurement adds an independent draw from the same discrete Gaussian to each
coordinate, about 16 µs of CPU each. ``add_discrete_gaussian`` hands a long vector to that
same measurement in chunks on two threads (OpenDP samples in Rust without holding the GIL):
the noise on each coordinate is still one independent draw of scale σ, so the noisy vector
has exactly the distribution of one call on the whole vector, and its privacy cost (checked
on the whole vector by ``zcdp_cost``) is unchanged. Measurements are built once per σ.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
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


#: Values per call into OpenDP's sampler, and threads drawing them (a small server has two cores).
_CHUNK = 1024
_THREADS = 2
# The threads are kept for the life of the process (each starting thread seeds its own CSPRNG
# state in OpenDP's OpenSSL, which costs more than the chunks' bookkeeping); a forked child,
# which inherits the pool but not its threads, starts a pool of its own.
_pools: list[ThreadPoolExecutor] = []
_pool_lock = threading.Lock()


def _sampling_pool() -> ThreadPoolExecutor:
    with _pool_lock:
        if not _pools:
            _pools.append(ThreadPoolExecutor(max_workers=_THREADS, thread_name_prefix="opendp-sampler"))
        return _pools[0]


os.register_at_fork(after_in_child=_pools.clear)


@lru_cache(maxsize=256)
def _vector_gaussian(sigma: float) -> Any:
    """The discrete Gaussian measurement on an integer vector under the L2 metric (zCDP)."""
    return measurements.make_gaussian(vector_domain(atom_domain(T=i64)), l2_distance(T=i64), scale=sigma)


@lru_cache(maxsize=4096)
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
    """Return ``totals`` plus independent discrete Gaussian noise of scale σ, from OpenDP.

    Long vectors are drawn in chunks on ``_THREADS`` threads (see the module docstring).
    """
    measurement = _vector_gaussian(sigma)
    values = list(totals)
    chunks = [values[start : start + _CHUNK] for start in range(0, len(values), _CHUNK)]
    if len(chunks) <= 1:
        return [int(value) for value in measurement(values)]
    noisy = list(_sampling_pool().map(measurement, chunks))
    return [int(value) for chunk in noisy for value in chunk]


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
