"""The installed package cannot release without noise; only the test suite's ``exact_mode`` can.

Noise-free answers for tests are patched in from ``tests/support/exact.py``. Here: nothing under
``src/teamlens`` names a noise-free mode, asks whether pytest is loaded or reads a setting that
could make σ zero; every plan the package makes has σ > 0 whether pytest is imported or not; and
each step refuses a σ of zero that reaches it anyway (measuring, estimating, bound histograms).
The helper itself is tested too: on inside the block only, off again when the block raises.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from teamlens.domain import Policy
from teamlens.errors import InternalError
from teamlens.privacy import Strategy, measure_block
from teamlens.privacy.bounds import noisy_histograms, plan_bounds

from ...support.exact import exact_mode, exact_mode_active, noise_free
from .support import block_table

SRC = Path(__file__).resolve().parents[3] / "src" / "teamlens"
#: What a switch to noise-free releases would have to mention.
SWITCHES = re.compile(
    r"exact_mode|noise_free|no_noise|\bpytest\b|sys\.modules|TEAMLENS_EXACT|privacy\.testing"
)


def test_the_helper_is_on_only_inside_its_block_and_nests(policy: Policy) -> None:
    assert not exact_mode_active()
    with exact_mode():
        assert exact_mode_active()
        with exact_mode():
            assert {plan.sigma for plan in Strategy.for_policy(policy).metric_plans} == {0.0}
        assert exact_mode_active()
        assert {plan.sigma for plan in Strategy.for_policy(policy).metric_plans} == {0.0}
    assert not exact_mode_active()
    assert min(plan.sigma for plan in Strategy.for_policy(policy).metric_plans) > 0


def test_the_helper_ends_when_its_block_raises(policy: Policy) -> None:
    with pytest.raises(RuntimeError), exact_mode():
        raise RuntimeError("boom")
    assert not exact_mode_active()
    assert min(plan.sigma for plan in Strategy.for_policy(policy).metric_plans) > 0


def test_no_module_of_the_package_has_a_switch_to_noise_free_releases() -> None:
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 50, "the scan is not looking at the source tree"
    found = [
        f"{path.relative_to(SRC)}: {match.group(0)}"
        for path in files
        for match in SWITCHES.finditer(path.read_text("utf-8"))
    ]
    assert found == []
    assert not (SRC / "privacy" / "testing.py").exists()


def test_teeth_the_scan_finds_a_switch() -> None:
    planted = "import sys\nEXACT = 'pytest' in sys.modules or os.environ.get('TEAMLENS_EXACT')\n"
    assert [match.group(0) for match in SWITCHES.finditer(planted)] == [
        "pytest",
        "sys.modules",
        "TEAMLENS_EXACT",
    ]


_PLAN_SIGMAS = (
    "import json, sys\n{imports}"
    "from teamlens.governance import parse_policy, policy_template\n"
    "from teamlens.privacy import Strategy\n"
    "strategy = Strategy.for_policy(parse_policy(policy_template(), 'template').policy)\n"
    "print(json.dumps([[p.sigma for p in strategy.metric_plans],"
    " [h.sigma(s) for h in strategy.headcount_plans for s in strategy.spans],"
    " 'pytest' in sys.modules]))\n"
)


def _plan_in_a_process(imports: str) -> list[object]:
    script = _PLAN_SIGMAS.format(imports=imports)
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    return list(json.loads(result.stdout))


def test_importing_pytest_changes_no_noise_scale() -> None:
    plain = _plan_in_a_process("")
    with_pytest = _plan_in_a_process("import pytest\n")
    assert plain[2] is False and with_pytest[2] is True  # the two processes differ as intended
    assert plain[:2] == with_pytest[:2]
    assert min(plain[0]) > 0 and min(plain[1]) > 0  # type: ignore[type-var]


def test_every_plan_the_package_makes_is_noisy_and_charged(policy: Policy) -> None:
    strategy = Strategy.for_policy(policy)
    assert min(plan.sigma for plan in strategy.metric_plans) > 0
    assert min(plan.sigma(span) for plan in strategy.headcount_plans for span in strategy.spans) > 0
    assert all(strategy.block_cost(block).value > 0 for block in strategy.blocks)
    assert plan_bounds(_with_bounds(policy), _with_bounds(policy).design.bounds_share).sigma > 0


def test_a_noise_free_plan_is_refused_by_measuring_even_under_pytest(policy: Policy) -> None:
    from .test_noise import GROUPS, _aggregates

    exact = noise_free(Strategy.for_policy(policy))
    with pytest.raises(InternalError, match="without noise"):
        measure_block(exact, exact.blocks[0], block_table(_aggregates()), GROUPS)


def test_a_noise_free_bounds_plan_is_refused(policy: Policy) -> None:
    piloted = _with_bounds(policy)
    plan = dataclasses.replace(plan_bounds(piloted, piloted.design.bounds_share), sigma=0.0)
    with pytest.raises(InternalError, match="budget"):
        noisy_histograms(plan, {name: [0] * len(plan.edges[name]) for name in plan.metrics})


def _with_bounds(policy: Policy) -> Policy:
    from fractions import Fraction

    return dataclasses.replace(
        policy, design=dataclasses.replace(policy.design, bounds_share=Fraction(1, 20))
    )
