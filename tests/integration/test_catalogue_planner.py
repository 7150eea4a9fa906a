"""`teamlens policy template --from-directory`: a catalogue each level of the directory can carry."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from teamlens import services
from teamlens.governance import parse_policy
from teamlens.privacy import expected_half_width

from .flow_support import START, run_cli


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    exports = tmp_path_factory.mktemp("planner") / "exports"
    return services.synthesise(exports, people=600, weeks=4, seed=5, start=START).directory_csv


def test_each_kept_level_meets_the_target_and_the_others_say_why_not(directory: Path) -> None:
    sizes = services.group_sizes(directory, START)
    plan = services.plan_catalogue(sizes, target=0.25)
    policy = parse_policy(plan.text, "proposed").policy
    kept = {report.level.value: report for report in policy.reports}
    assert kept, "at this budget the organisation level at least is served"
    assert sum(report.budget_share for report in policy.reports) + policy.design.bounds_share <= 1
    for choice in plan.levels:
        if choice.cadence is None:
            assert choice.level not in kept
            assert choice.worst_half_width > 0.25
            assert f"{choice.level}: " in plan.text and "no cadence meets the target" in plan.text
            continue
        report = kept[choice.level]
        assert report.cadence.value == choice.cadence
        for name in report.metrics:
            typical = (
                policy.metric_bound(name).per_week / policy.metric_bound(name).definition.display_divisor / 2
            )
            width = expected_half_width(policy, report.report_id, choice.median_size, typical, name)
            assert width / typical <= 0.25 + 1e-9


def test_a_larger_budget_serves_more_levels_or_shorter_cadences(directory: Path) -> None:
    sizes = services.group_sizes(directory, START)
    tight = services.plan_catalogue(sizes, target=0.25, rho=Fraction(1, 2))
    loose = services.plan_catalogue(sizes, target=0.25, rho=Fraction(20))
    order = {None: 3, "quarter": 2, "month": 1, "week": 0}
    for small, large in zip(tight.levels, loose.levels, strict=True):
        assert order[large.cadence] <= order[small.cadence]
    assert sum(choice.cadence is not None for choice in loose.levels) > sum(
        choice.cadence is not None for choice in tight.levels
    )


def test_the_cli_prints_the_fitted_policy_and_no_name_from_the_directory(
    directory: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, output = run_cli(
        capsys, "policy", "template", "--from-directory", str(directory), "--target", "0.3"
    )
    assert code == 0, output
    assert "proposed from the HR directory" in output
    names = [line.split(",")[1] for line in directory.read_text(encoding="utf-8").splitlines()[1:50]]
    assert not any(name and name in output for name in names)
