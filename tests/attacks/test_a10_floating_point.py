"""A10 — floating-point and precision attacks on the noise (Mironov 2012 and successors).

(a) The release path imports no sampler of its own and never takes ``log`` of a uniform draw.
(b) The production sampler (OpenDP's discrete Gaussian, as ``measure_block`` calls it), at a σ whose
ε(ρ, 10⁻⁶) is about 1, on true counts 0 and 1: every output is an integer, and no value seen at
least 100 times for one input is never seen for the other. (c) The same checks catch a textbook
float Laplace (``x + b·ln(u)``): its outputs are floats, and Mironov's porosity shows as outputs
for input 1 that no uniform draw can produce for input 0. (d) The auditor's lower bound on the
sampler's ε stays at or below ε(ρ, δ).

A false failure of (b) needs a value with expected frequency ≪ 1 to be seen 100 times:
impossible in practice (a discrete Gaussian's counts at adjacent inputs differ by a factor
e^{(2x+1)/2σ²} ≈ 1 in the bulk).
"""

from __future__ import annotations

import ast
import math
import random
from collections import Counter
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from teamlens.domain import Rho
from teamlens.privacy import noise as noise_module
from teamlens.privacy import rho_to_epsilon
from teamlens.privacy._opendp import calibrate_sigma

from .auditor import empirical_epsilon, threshold_grid

SRC = Path(__file__).resolve().parents[2] / "src" / "teamlens"
RELEASE_PATH = [
    *sorted((SRC / "privacy").glob("*.py")),
    SRC / "services" / "release.py",
    SRC / "store" / "_aggregate.py",
    SRC / "store" / "_histogram.py",
    SRC / "store" / "fact_store.py",
]
BANNED_MODULES = {"random", "numpy.random", "scipy", "scipy.stats", "torch"}
UNIFORM_CALLS = {"random", "uniform", "rand", "random_sample", "getrandbits", "urandom", "token_bytes"}
RHO = Rho.of(Fraction(1, 40))  # ε(ρ, 1e-6) ≈ 1 for sensitivity 1


def static_violations(paths: Sequence[Path]) -> list[str]:
    """Imports of non-vetted samplers, and ``log`` of a uniform draw, in ``paths``."""
    found = []
    for path in paths:
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            found += [f"{path.name}: imports {name}" for name in names if name in BANNED_MODULES]
            if isinstance(node, ast.Call) and _called(node) in {"log", "log1p", "log2", "log10"}:
                inner = [
                    _called(sub) for arg in node.args for sub in ast.walk(arg) if isinstance(sub, ast.Call)
                ]
                if UNIFORM_CALLS & set(inner):
                    found.append(f"{path.name}:{node.lineno}: log of a uniform draw")
    return found


def _called(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


@pytest.mark.attack("A10")
def test_a10_the_release_path_has_no_homemade_sampler() -> None:
    assert len(RELEASE_PATH) > 5 and all(path.exists() for path in RELEASE_PATH)
    assert static_violations(RELEASE_PATH) == []


def naive_float_laplace(true: int, scale: float, count: int, seed: int) -> list[float]:
    """The textbook mechanism Mironov broke: x + sign·b·ln(u), u a 53-bit uniform double."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        u = rng.random() or 2.0**-53
        out.append(true + (1 if rng.random() < 0.5 else -1) * scale * math.log(u))
    return out


def naive_support_contains(y: float, true: int, scale: float) -> bool:
    """Whether the naive float Laplace can output ``y`` for input ``true`` (Mironov's porosity test)."""
    for sign in (1, -1):
        logarithm = sign * (y - true) / scale  # ln(u) ≤ 0 for the draw that would give y
        if logarithm > 0:
            continue
        centre = math.exp(logarithm) * 2.0**53
        for k in range(max(1, int(centre) - 3), int(centre) + 4):
            u = k / 2.0**53
            if u < 1 and true + sign * scale * math.log(u) == y:
                return True
    return False


def sampler_violations(
    on_zero: Sequence[float], on_one: Sequence[float], in_support: Callable[[float, int], bool]
) -> dict[str, int]:
    """A10(b): non-integer outputs, one-sided frequent values, outputs the other input cannot give."""
    non_integer = sum(1 for y in [*on_zero, *on_one] if not isinstance(y, int | np.integer))
    zero, one = Counter(on_zero), Counter(on_one)
    one_sided = sum(1 for v, c in zero.items() if c >= 100 and one[v] == 0) + sum(
        1 for v, c in one.items() if c >= 100 and zero[v] == 0
    )
    sample = list(on_one)[:20_000]
    impossible = sum(1 for y in sample if not in_support(y, 0))
    return {
        "non_integer": non_integer,
        "one_sided_frequent": one_sided,
        "impossible_under_other_input": impossible,
    }


def _production(true: int, count: int, sigma: float) -> list[int]:
    # Exactly the call measure_block makes for a vector, on `count` independent copies of one entry.
    return noise_module.add_discrete_gaussian([true] * count, sigma)


@pytest.mark.attack("A10")
def test_a10_production_sampler_outputs_integers_with_overlapping_support(large, measure) -> None:
    sigma = calibrate_sigma(1, RHO.value)
    count = 2_000_000 if large else 50_000
    on_zero, on_one = _production(0, count, sigma), _production(1, count, sigma)
    found = sampler_violations(on_zero, on_one, lambda y, true: isinstance(y, int))
    measure(a10_draws_per_input=count, a10_sigma=sigma, **{f"a10_{k}": v for k, v in found.items()})
    assert found == {"non_integer": 0, "one_sided_frequent": 0, "impossible_under_other_input": 0}
    # (d) the auditor on the raw sampler: thresholds on the output, sensitivity 1.
    audit = empirical_epsilon(np.array(on_one), np.array(on_zero), threshold_grid([0, 1], sigma, 80), rho=RHO)
    measure(a10_sampler_audit=audit.as_dict(), a10_epsilon_at_policy_delta=rho_to_epsilon(RHO, 1e-6))
    assert not audit.exceeded, audit


@pytest.mark.attack("A10", teeth=True)
def test_a10_teeth_a_naive_float_laplace_is_caught(measure) -> None:
    scale = 1 / rho_to_epsilon(RHO, 1e-6)
    on_zero = naive_float_laplace(0, scale, 20_000, seed=1)
    on_one = naive_float_laplace(1, scale, 20_000, seed=2)
    # Sanity of the oracle: it accepts what the naive sampler really produced for input 0.
    assert all(naive_support_contains(y, 0, scale) for y in on_zero[:2_000])
    found = sampler_violations(on_zero, on_one, lambda y, true: naive_support_contains(y, true, scale))
    measure(a10_teeth=found)
    assert found["non_integer"] > 0
    assert found["impossible_under_other_input"] > 1_000  # Mironov: many outputs single out the input


@pytest.mark.attack("A10", teeth=True)
def test_a10_teeth_the_static_scan_catches_a_homemade_sampler(tmp_path: Path) -> None:
    bad = tmp_path / "noise.py"
    bad.write_text(
        "import math\nimport random\nfrom numpy.random import default_rng\n\n"
        "def laplace(x, b):\n    return x + b * math.log(random.random())\n"
    )
    found = static_violations([bad])
    assert any("imports random" in item for item in found)
    assert any("numpy.random" in item for item in found)
    assert any("log of a uniform draw" in item for item in found)
