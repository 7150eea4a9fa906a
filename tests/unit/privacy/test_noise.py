from __future__ import annotations

import dataclasses

import pyarrow as pa
import pytest

from teamlens.domain import HEADCOUNT, NOISY_SCHEMA, Policy
from teamlens.errors import InternalError
from teamlens.privacy import ReleasePlan, ReleaseSpec, add_noise, plan_release
from teamlens.privacy.testing import exact_mode

from .support import aggregate_table

GROUPS = ["ops", "sales", "empty"]


def _plan(policy: Policy, metrics: list[str] | None = None) -> ReleasePlan:
    spec = ReleaseSpec.build(policy, "department_monthly", ["2026-02"], metrics or ["emails_sent"])
    return plan_release(policy, spec)


def _aggregates() -> pa.Table:
    return aggregate_table(
        [
            ("ops", "2026-02", "emails_sent", 4000),
            ("ops", "2026-02", HEADCOUNT, 20),
            ("sales", "2026-02", "emails_sent", 1500),
            ("sales", "2026-02", HEADCOUNT, 9),
        ]
    )


def test_exact_mode_passes_true_totals_through_and_fills_missing_groups_with_zero(policy: Policy) -> None:
    with exact_mode():
        noisy = add_noise(_plan(policy), _aggregates(), GROUPS)
    assert noisy.schema == NOISY_SCHEMA
    assert sorted(
        zip(
            noisy["group"].to_pylist(),
            noisy["metric"].to_pylist(),
            noisy["noisy_total"].to_pylist(),
            strict=True,
        )
    ) == [
        ("empty", "emails_sent", 0),
        ("empty", HEADCOUNT, 0),
        ("ops", "emails_sent", 4000),
        ("ops", HEADCOUNT, 20),
        ("sales", "emails_sent", 1500),
        ("sales", HEADCOUNT, 9),
    ]
    assert set(noisy["sigma"].to_pylist()) == {0.0}


def test_every_group_gets_a_row_in_every_planned_cell_with_the_cells_sigma(policy: Policy) -> None:
    plan = _plan(policy, ["emails_sent", "meeting_minutes"])
    noisy = add_noise(plan, _aggregates(), GROUPS)
    assert noisy.num_rows == len(GROUPS) * len(plan.cells)
    for cell in plan.cells:
        rows = [r for r in noisy.to_pylist() if (r["window"], r["metric"]) == (cell.window.key, cell.metric)]
        assert sorted(r["group"] for r in rows) == sorted(GROUPS)
        assert {r["sigma"] for r in rows} == {cell.sigma}


def test_noise_is_actually_added(policy: Policy) -> None:
    plan = _plan(policy)
    groups = [f"g{i}" for i in range(50)]
    noisy = add_noise(plan, aggregate_table([]), groups)
    # σ ≈ 2000·… for emails and ≈ 3.5 for the headcount: fifty exact zeros would be a broken mechanism.
    assert sum(1 for value in noisy["noisy_total"].to_pylist() if value != 0) > 50


def test_an_empty_group_and_a_group_of_k_minus_one_leave_in_the_same_shape(policy: Policy) -> None:
    plan = _plan(policy)
    noisy = add_noise(plan, _aggregates(), GROUPS)
    empty = [(r["window"], r["metric"], r["sigma"]) for r in noisy.to_pylist() if r["group"] == "empty"]
    small = [(r["window"], r["metric"], r["sigma"]) for r in noisy.to_pylist() if r["group"] == "sales"]
    assert empty == small
    assert len(empty) == len(plan.cells)


def test_a_group_outside_the_list_is_a_bug(policy: Policy) -> None:
    with pytest.raises(InternalError) as caught:
        add_noise(_plan(policy), _aggregates(), ["ops"])
    assert "names a group that is not in the level's group list" in caught.value.message
    assert "sales" not in str(caught.value)


def test_a_cell_outside_the_plan_is_a_bug(policy: Policy) -> None:
    extra = aggregate_table([("ops", "2026-02", "meeting_minutes", 10)])
    with pytest.raises(InternalError, match="window '2026-02', metric 'meeting_minutes', not in the plan"):
        add_noise(_plan(policy), extra, GROUPS)


def test_a_cached_headcount_row_is_refused(policy: Policy) -> None:
    spec = ReleaseSpec.build(policy, "department_monthly", ["2026-02"], ["emails_sent"])
    plan = plan_release(policy, spec, [("2026-02", HEADCOUNT)])
    with pytest.raises(InternalError, match=f"metric '{HEADCOUNT}', not in the plan"):
        add_noise(plan, _aggregates(), GROUPS)


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        ([("ops", "2026-02", "emails_sent", 1), ("ops", "2026-02", "emails_sent", 2)], "two aggregate rows"),
        ([("ops", "2026-02", "emails_sent", -1)], "negative clipped total"),
        (
            [("ops", "2026-02", "emails_sent", 2000 * 3 + 1), ("ops", "2026-02", HEADCOUNT, 3)],
            "clipping bound",
        ),
    ],
)
def test_broken_aggregates_are_bugs(
    policy: Policy, rows: list[tuple[str, str, str, int]], problem: str
) -> None:
    with pytest.raises(InternalError, match=problem):
        add_noise(_plan(policy), aggregate_table(rows), GROUPS)


def test_totals_at_the_clipping_bound_are_accepted(policy: Policy) -> None:
    rows = [("ops", "2026-02", "emails_sent", 2000 * 3), ("ops", "2026-02", HEADCOUNT, 3)]
    assert add_noise(_plan(policy), aggregate_table(rows), GROUPS).num_rows == 6


def test_a_table_without_the_aggregate_schema_is_a_bug(policy: Policy) -> None:
    wrong = pa.table({"group": ["ops"], "window": ["2026-02"], "metric": ["emails_sent"]})
    with pytest.raises(InternalError, match="lacks the column"):
        add_noise(_plan(policy), wrong, GROUPS)
    typed = pa.table({"group": ["ops"], "window": ["2026-02"], "metric": ["emails_sent"], "total": ["many"]})
    with pytest.raises(InternalError, match="does not have the aggregate schema"):
        add_noise(_plan(policy), typed, GROUPS)


def test_a_group_listed_twice_is_a_bug(policy: Policy) -> None:
    with pytest.raises(InternalError, match="more than once"):
        add_noise(_plan(policy), _aggregates(), [*GROUPS, "ops"])


def test_a_noise_free_plan_never_reaches_real_data(policy: Policy) -> None:
    with exact_mode():
        plan = _plan(policy)
    with pytest.raises(InternalError, match="without noise was passed to add_noise outside exact mode"):
        add_noise(plan, _aggregates(), GROUPS)


def test_a_noisy_plan_inside_exact_mode_is_refused(policy: Policy) -> None:
    plan = _plan(policy)
    with exact_mode(), pytest.raises(InternalError, match="inside exact mode"):
        add_noise(plan, _aggregates(), GROUPS)


def test_a_hand_made_plan_with_too_little_noise_is_refused(policy: Policy) -> None:
    """Teeth for the budget check at noise time: σ halved costs four times the cell's ρ."""
    plan = _plan(policy)
    weak = tuple(dataclasses.replace(cell, sigma=cell.sigma / 2) for cell in plan.cells)
    with pytest.raises(InternalError, match="costs more than the cell's budget"):
        add_noise(dataclasses.replace(plan, cells=weak), _aggregates(), GROUPS)
