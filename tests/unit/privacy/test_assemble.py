from __future__ import annotations

import dataclasses
import datetime as dt
import math

import pytest

from teamlens.domain import HEADCOUNT, MetricNoise, Policy, ReleasedCell, ReleasedTable, Rho
from teamlens.errors import InternalError
from teamlens.privacy import ReleaseSpec, add_noise, assemble, plan_release
from teamlens.privacy.testing import exact_mode

from .support import aggregate_table, noisy_table

AT = dt.datetime(2026, 4, 1, 9, 0, tzinfo=dt.UTC)


def _assemble(
    policy: Policy, spec: ReleaseSpec, rows: list[tuple[str, str, str, int, float]]
) -> ReleasedTable:
    return assemble(
        policy, spec, noisy_table(rows), release_id="r-1", released_at=AT, rho_charged=Rho.of("1/6")
    )


def _by_group(table: ReleasedTable) -> dict[tuple[str, str, str], ReleasedCell]:
    return {(cell.group, cell.window, cell.metric): cell for cell in table.cells}


def test_exact_mode_gives_the_weekly_mean_per_person_in_display_units(policy: Policy) -> None:
    spec = ReleaseSpec.build(
        policy, "department_monthly", ["2026-01", "2026-02"], ["meeting_minutes", "emails_sent"]
    )
    aggregates = aggregate_table(
        [
            # January has 5 ISO weeks: 12 people × 5 weeks × 600 minutes = 10 hours a week each.
            ("sales", "2026-01", "meeting_minutes", 12 * 5 * 600),
            ("sales", "2026-01", "emails_sent", 12 * 5 * 40),
            ("sales", "2026-01", HEADCOUNT, 12),
            # February has 4: 25 people, 30,000 minutes → 300 minutes = 5 hours a week each.
            ("ops", "2026-02", "meeting_minutes", 30_000),
            ("ops", "2026-02", "emails_sent", 25 * 4 * 7),
            ("ops", "2026-02", HEADCOUNT, 25),
            ("tiny", "2026-02", "meeting_minutes", 3 * 4 * 600),
            ("tiny", "2026-02", HEADCOUNT, 3),
        ]
    )
    with exact_mode():
        plan = plan_release(policy, spec)
        noisy = add_noise(plan, aggregates, ["ops", "sales", "tiny"])
    table = assemble(policy, spec, noisy, release_id="r-1", released_at=AT, rho_charged=plan.cost)
    cells = _by_group(table)
    assert cells[("sales", "2026-01", "meeting_minutes")] == ReleasedCell(
        "sales", "2026-01", "meeting_minutes", 10.0, 10.0, 10.0
    )
    assert cells[("sales", "2026-01", "emails_sent")].value == 40.0
    assert cells[("ops", "2026-02", "meeting_minutes")].value == 5.0
    assert cells[("ops", "2026-02", "emails_sent")].value == 7.0
    # Groups with no one in a window are released as empty groups (suppressed), never dropped.
    assert cells[("ops", "2026-01", "meeting_minutes")].suppressed
    assert cells[("sales", "2026-02", "emails_sent")].suppressed
    assert cells[("tiny", "2026-02", "meeting_minutes")].suppressed
    assert len(table.cells) == 3 * 2 * 2
    assert table.rho_charged == 0.0


def test_the_interval_is_the_delta_method_in_display_units(policy: Policy) -> None:
    spec = ReleaseSpec.build(policy, "department_monthly", ["2026-01"], ["meeting_minutes"])
    total, count, sigma_t, sigma_c = 36_000, 12, 1000.0, 2.0
    table = _assemble(
        policy,
        spec,
        [
            ("sales", "2026-01", "meeting_minutes", total, sigma_t),
            ("sales", "2026-01", HEADCOUNT, count, sigma_c),
        ],
    )
    # Mean total per person 3,000 minutes over 5 weeks: 10 hours a week.
    per_person = total / count
    sd_hours_per_week = math.sqrt(sigma_t**2 + per_person**2 * sigma_c**2) / count / (5 * 60)
    (cell,) = table.cells
    assert cell.value == pytest.approx(10.0)
    assert cell.lower == pytest.approx(10.0 - 1.959964 * sd_hours_per_week, rel=1e-6)
    assert cell.upper == pytest.approx(10.0 + 1.959964 * sd_hours_per_week, rel=1e-6)


def test_values_and_intervals_are_clamped_to_what_one_person_can_contribute(policy: Policy) -> None:
    spec = ReleaseSpec.build(policy, "department_monthly", ["2026-02"], ["meeting_minutes"])
    table = _assemble(
        policy,
        spec,
        [
            ("high", "2026-02", "meeting_minutes", 20 * 4 * 2400 + 10_000, 5000.0),
            ("high", "2026-02", HEADCOUNT, 20, 2.0),
            ("low", "2026-02", "meeting_minutes", -3000, 5000.0),
            ("low", "2026-02", HEADCOUNT, 20, 2.0),
        ],
    )
    cells = _by_group(table)
    high, low = cells[("high", "2026-02", "meeting_minutes")], cells[("low", "2026-02", "meeting_minutes")]
    assert high.value == high.upper == 40.0  # the policy's 2,400 minutes a week
    assert high.lower is not None
    assert 0.0 < high.lower < 40.0
    assert low.value == low.lower == 0.0
    assert low.upper is not None
    assert 0.0 < low.upper < 40.0


@pytest.mark.parametrize(
    ("count", "suppressed"), [(-2, True), (0, True), (9, True), (10, False), (11, False)]
)
def test_groups_are_suppressed_below_k_on_the_noisy_headcount(
    policy: Policy, count: int, suppressed: bool
) -> None:
    spec = ReleaseSpec.build(policy, "department_monthly", ["2026-02"])
    rows = [("g", "2026-02", name, 100, 50.0) for name in spec.metrics] + [
        ("g", "2026-02", HEADCOUNT, count, 2.0)
    ]
    table = _assemble(policy, spec, rows)
    assert len(table.cells) == len(spec.metrics)
    assert {cell.suppressed for cell in table.cells} == {suppressed}
    if suppressed:
        assert {(cell.value, cell.lower, cell.upper) for cell in table.cells} == {(None, None, None)}


def test_a_suppressed_cell_says_nothing_about_why(policy: Policy) -> None:
    """A group of 0 and a group of k−1 are released byte-for-byte alike, but for the group name."""
    spec = ReleaseSpec.build(policy, "department_monthly", ["2026-02"], ["meeting_minutes"])
    with exact_mode():
        plan = plan_release(policy, spec)
        aggregates = aggregate_table(
            [("nine", "2026-02", "meeting_minutes", 9 * 4 * 2400), ("nine", "2026-02", HEADCOUNT, 9)]
        )
        noisy = add_noise(plan, aggregates, ["nobody", "nine"])
    table = assemble(policy, spec, noisy, release_id="r", released_at=AT, rho_charged=Rho.zero())
    cells = _by_group(table)
    nobody, nine = (
        cells[("nobody", "2026-02", "meeting_minutes")],
        cells[("nine", "2026-02", "meeting_minutes")],
    )
    assert dataclasses.replace(nobody, group="x") == dataclasses.replace(nine, group="x")
    assert nine.suppressed


def test_the_table_carries_what_is_needed_to_read_it(policy: Policy) -> None:
    spec = ReleaseSpec.build(policy, "department_monthly", ["2026-02", "2026-01"], ["emails_sent"])
    rows = [
        ("g", "2026-01", "emails_sent", 100, 31.5),
        ("g", "2026-01", HEADCOUNT, 12, 3.25),
        ("g", "2026-02", "emails_sent", 100, 25.0),
        ("g", "2026-02", HEADCOUNT, 12, 3.25),
    ]
    table = _assemble(policy, spec, rows)
    assert (table.release_id, table.report_id, table.policy_id, table.policy_version) == (
        "r-1",
        "department_monthly",
        "test-policy",
        1,
    )
    assert (table.level, table.windows, table.metrics) == (
        "department",
        ("2026-01", "2026-02"),
        ("emails_sent",),
    )
    assert (table.rho_charged, table.min_group_size, table.released_at) == (1 / 6, 10, AT)
    assert table.noise == (
        MetricNoise("emails_sent", "2026-01", 31.5, 500 * 5),
        MetricNoise(HEADCOUNT, "2026-01", 3.25, 1),
        MetricNoise("emails_sent", "2026-02", 25.0, 500 * 4),
        MetricNoise(HEADCOUNT, "2026-02", 3.25, 1),
    )


def test_rows_for_cells_outside_the_spec_are_ignored(policy: Policy) -> None:
    spec = ReleaseSpec.build(policy, "department_monthly", ["2026-02"], ["emails_sent"])
    rows = [
        ("g", "2026-02", "emails_sent", 100, 25.0),
        ("g", "2026-02", "meeting_minutes", 100, 25.0),
        ("g", "2026-03", "emails_sent", 100, 25.0),
        ("g", "2026-02", HEADCOUNT, 12, 3.0),
    ]
    table = _assemble(policy, spec, rows)
    assert [(cell.window, cell.metric) for cell in table.cells] == [("2026-02", "emails_sent")]


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        (
            [("g", "2026-02", HEADCOUNT, 12, 3.0)],
            "no noisy totals were given for window '2026-02', metric 'emails",
        ),
        ([("g", "2026-02", "emails_sent", 1, 25.0)], "metric 'headcount'"),
        (
            [
                ("g", "2026-02", "emails_sent", 1, 25.0),
                ("g", "2026-02", HEADCOUNT, 12, 3.0),
                ("h", "2026-02", HEADCOUNT, 12, 3.0),
            ],
            "a group lacks a noisy total",
        ),
        (
            [
                ("g", "2026-02", "emails_sent", 1, 25.0),
                ("h", "2026-02", "emails_sent", 1, 26.0),
                ("g", "2026-02", HEADCOUNT, 12, 3.0),
                ("h", "2026-02", HEADCOUNT, 12, 3.0),
            ],
            "is not one number",
        ),
        (
            [
                ("g", "2026-02", "emails_sent", 1, 25.0),
                ("g", "2026-02", "emails_sent", 2, 25.0),
                ("g", "2026-02", HEADCOUNT, 12, 3.0),
            ],
            "two noisy totals",
        ),
    ],
)
def test_incomplete_or_inconsistent_noisy_totals_are_bugs(
    policy: Policy, rows: list[tuple[str, str, str, int, float]], problem: str
) -> None:
    spec = ReleaseSpec.build(policy, "department_monthly", ["2026-02"], ["emails_sent"])
    with pytest.raises(InternalError, match=problem):
        _assemble(policy, spec, rows)


def test_a_group_without_a_noisy_headcount_is_suppressed(policy: Policy) -> None:
    """A group added to the directory after the window's headcount was released shows nothing."""
    spec = ReleaseSpec.build(policy, "department_monthly", ["2026-02"], ["emails_sent"])
    rows = [
        ("g", "2026-02", "emails_sent", 4000, 25.0),
        ("g", "2026-02", HEADCOUNT, 40, 3.0),
        ("new", "2026-02", "emails_sent", 900, 25.0),
    ]
    cells = {cell.group: cell for cell in _assemble(policy, spec, rows).cells}
    assert cells["new"].suppressed
    assert cells["new"].value is None
    assert not cells["g"].suppressed


def test_a_policy_with_k_under_the_floor_is_a_bug() -> None:
    from .support import build_policy

    weak = build_policy(min_group_size=3)
    spec = ReleaseSpec.build(weak, "department_monthly", ["2026-02"], ["emails_sent"])
    rows = [("g", "2026-02", "emails_sent", 100, 25.0), ("g", "2026-02", HEADCOUNT, 4, 3.0)]
    with pytest.raises(InternalError, match="below the floor"):
        _assemble(weak, spec, rows)
