"""The collaboration network end to end: real exports → edge rows in the store → a network report.

Exact mode: the released weekly weight of every ordered pair of departments equals the
network's definition computed by hand from the same events (``network_fixture``), and pairs with
a department under the comparison floor are not released. Through the product's own path
(ingest, store, clipping, measurement), one extreme person — mailing everyone, hundreds of
times — moves the network by at most Δ₁ = 3B, and with the clipping lifted (teeth) is caught
moving it by far more. Erasing them removes their edge rows, theirs and others' towards them.
With noise, a network release charges exactly the strategy's cost of its blocks, which holds
the network's share, and its noisy pairs are kept with the block's other measurements.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from teamlens import services
from teamlens.domain import GroupLevel, Rho
from teamlens.privacy import Strategy, network
from teamlens.services import release_network
from teamlens.services.workspace import Workspace
from teamlens.store._collaboration import read_edges

from ..support.exact import exact_mode
from .network_fixture import DEPARTMENTS, MESSAGES_PER_WEEK, address, expected_pairs, network_workspace

BUSY = "a0"


def test_exact_network_equals_the_pairs_computed_by_hand_and_small_groups_are_not_released(
    tmp_path: Path,
) -> None:
    ws, happened = network_workspace(tmp_path)
    messages, minutes = expected_pairs(*happened)
    policy = ws.governance.require_active_policy("test").policy
    weeks = Strategy.for_policy(policy).block_of(dt.date(2026, 3, 2)).n_weeks
    with exact_mode():
        by_message = services.release(ws, "network", ["2026-03"], actor="analyst")
        by_meeting = services.release(ws, "meeting-network", ["2026-03"], actor="analyst")
    for table, expected, divisor in ((by_message, messages, 1), (by_meeting, minutes, 60)):
        released = {_pair(cell.group): cell.value or 0.0 for cell in table.cells}
        shown = sorted(name for name, size in DEPARTMENTS.items() if size >= 10)
        assert sorted(released) == [(a, b) for a in shown for b in shown]  # Delta (3 people): no pair
        for pair, value in released.items():
            # Floored to fixed point once per pair: less than one unit (1/1024 of B) per block.
            assert value == pytest.approx(expected.get(pair, 0.0) / weeks / divisor, abs=1e-2), pair
        assert sum(value > 0 for value in released.values()) >= 8  # most pairs collaborate
        assert table.cells == tuple(sorted(table.cells, key=lambda cell: cell.group))  # never ranked


def _measured(ws: Workspace, *, lifted: bool = False) -> dict[tuple[str, str], float]:
    """The messages network of March through the product's path, in messages (exact mode)."""
    policy = ws.governance.require_active_policy("test").policy
    strategy = Strategy.for_policy(policy)
    strategy = dataclasses.replace(strategy, network_plans=strategy.network_plans[1:])  # messages only
    assert [plan.metric for plan in strategy.network_plans] == ["network_messages"]
    block = strategy.block_of(dt.date(2026, 3, 2))
    groups = {GroupLevel.DEPARTMENT: ws.store.groups("department")}
    with pytest.MonkeyPatch.context() as patch:
        if lifted:  # teeth: the clipping bound lifted far above any person's activity
            plan = network.plan_network
            patch.setattr(
                release_network,
                "plan_network",
                lambda *args: dataclasses.replace(plan(*args), per_week=10**9, scale=1024),
            )
        rows = release_network.measure_networks(ws, strategy, block, groups).to_pylist()
    return {_pair(row["group"]): row["noisy"] / row["scale"] for row in rows}


def _pair(group: str) -> tuple[str, str]:
    source, target = group.split(" → ")
    return source, target


def _l1(a: dict[tuple[str, str], float], b: dict[tuple[str, str], float]) -> tuple[float, float]:
    moves = [abs(a.get(key, 0.0) - b.get(key, 0.0)) for key in {*a, *b}]
    return sum(moves), max(moves)


def test_an_extreme_sender_moves_the_network_within_its_bound_and_erasure_removes_their_edges(
    tmp_path: Path,
) -> None:
    ws, _ = network_workspace(tmp_path, busy=BUSY)
    policy = ws.governance.require_active_policy("test").policy
    weeks = Strategy.for_policy(policy).block_of(dt.date(2026, 3, 2)).n_weeks
    bound = MESSAGES_PER_WEEK * weeks  # B for the block
    with exact_mode():
        with_busy, with_busy_lifted = _measured(ws), _measured(ws, lifted=True)
    pseudonym = ws.pseudonymiser()(address(BUSY))
    edges = pa.concat_tables(
        [read_edges(path) for path in sorted((ws.store.root / "edges").rglob("*.parquet"))]
    )
    assert pseudonym in edges["person"].to_pylist() and pseudonym in edges["partner"].to_pylist()

    assert ws.store.erase_person(pseudonym) > 0
    left = pa.concat_tables(
        [read_edges(path) for path in sorted((ws.store.root / "edges").rglob("*.parquet"))]
    )
    assert pseudonym not in left["person"].to_pylist() + left["partner"].to_pylist()
    assert 0 < left.num_rows < edges.num_rows

    with exact_mode():
        without, without_lifted = _measured(ws), _measured(ws, lifted=True)
    total, largest = _l1(with_busy, without)
    assert 0 < total <= 3 * bound + 1e-6 and largest <= 3 * bound + 1e-6
    lifted_total, _ = _l1(with_busy_lifted, without_lifted)
    assert lifted_total > 3 * bound  # teeth: unclipped, the same person is caught


def test_a_network_release_charges_its_blocks_exactly_and_keeps_its_noisy_pairs(tmp_path: Path) -> None:
    ws, _ = network_workspace(tmp_path)
    policy = ws.governance.require_active_policy("test").policy
    strategy = Strategy.for_policy(policy)
    period = (policy.policy_id, policy.period_start)
    before = ws.governance.spent(*period, policy.period_end)
    table = services.release(ws, "network", ["2026-03"], actor="analyst")
    blocks = strategy.blocks_for(policy.windows(policy.report("network").cadence)[2:3])
    charged = sum((strategy.block_cost(block).value for block in blocks), Rho.zero().value)
    assert ws.governance.spent(*period, policy.period_end).value - before.value == charged
    assert table.rho_charged == pytest.approx(float(charged))
    # The network's own part: its budget share of ρ after headcounts, spread over the period by weeks.
    network = next(plan for plan in strategy.network_plans if plan.metric == "network_messages")
    share = policy.report("network").budget_share
    assert network.rho == policy.rho.value * (1 - policy.design.headcount_share) * share
    assert sum(strategy.network_rho(network, block) for block in strategy.blocks) == network.rho
    kept = ws.governance.measurements(*period, [block.key for block in blocks])
    pairs = [row for row in kept.to_pylist() if row["metric"] == "network_messages"]
    groups = release_network.network_groups(ws.store.groups("department"))
    assert len(pairs) == len(blocks) * len(groups) ** 2 and all(row["sigma"] > 0 for row in pairs)
    again = services.release(ws, "network", ["2026-03"], actor="analyst")
    assert again.rho_charged == 0 and again.cells == table.cells
