"""A4 — repeated-query averaging: ask again and again, or in other words, and average the noise away.

Through the service, one catalogue query is asked 1,000 times (250 in CI, 1,000 under
``--audit-large``) and in 20 syntactic variants
(window and metric order, duplicates, ``Window`` objects, the full metric list spelt out, the
CLI's JSON, the web API): every answer must be byte-identical, the ledger charged once, and the
running average must not move. The engine measures each clipping block once per period and
keeps it: a second report over the same weeks (organisation and its only division, whose groups
hold the same people) derives from the kept measurements at no further cost — because the first
charge already paid for every level's vectors in those blocks, each at its own share. The teeth
case runs the same check on a release path that measures the blocks afresh each time (without
the kept measurements and published cells) and must see the answers differ.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pytest

from teamlens import services
from teamlens.cli import main
from teamlens.domain import Cadence, GroupLevel, ReleasedTable, Rho, Window
from teamlens.privacy import ReleaseSpec, Strategy
from teamlens.services.release import derive

from ..integration.flow_support import analyst_client, approve_policy, policy_text
from .conftest import Installation

release_module = importlib.import_module("teamlens.services.release")

REPORT, WINDOW = "department-monthly", "2026-01"
ALL_METRICS = ["emails_sent", "emails_received", "chat_messages", "meetings_attended", "meeting_minutes"]


def _cells(table: ReleasedTable) -> bytes:
    """The released numbers of a table, as canonical bytes."""
    cells = sorted(
        (cell.group, cell.window, cell.metric, cell.value, cell.lower, cell.upper) for cell in table.cells
    )
    return json.dumps(cells).encode()


def repeat_check(answers: list[bytes], charges: list[float]) -> dict[str, float | int | bool]:
    """The pass criterion: identical answers, exactly one charge, a running average that never moves."""
    values = [np.array([c[3] for c in json.loads(a) if c[3] is not None], dtype=float) for a in answers]
    # The running average moves only if some answer differs from the others; measure that exactly
    # (a cumulative float sum would add rounding of its own).
    if len({len(v) for v in values}) != 1:
        variance = float("inf")
    else:
        stacked = np.stack(values)
        variance = (
            0.0 if float(np.ptp(stacked, axis=0).max()) == 0.0 else float(np.var(stacked, axis=0).max())
        )
    return {
        "distinct_answers": len(set(answers)),
        "charges": sum(1 for charge in charges if charge > 0),
        "running_average_variance": variance,
        "ok": len(set(answers)) == 1 and sum(1 for c in charges if c > 0) == 1 and variance == 0.0,
    }


def _variants(ws) -> list[Callable[[], ReleasedTable]]:
    def release(windows, metrics=None):
        return lambda: services.release(ws, REPORT, windows, metrics=metrics, actor="analyst-b")

    month = Window(Cadence.MONTH, WINDOW)
    return [
        release([WINDOW]),
        release((WINDOW,)),
        release([WINDOW, WINDOW]),
        release([month]),
        release([month, WINDOW]),
        release(WINDOW),
        release([WINDOW], ALL_METRICS),
        release([WINDOW], list(reversed(ALL_METRICS))),
        release([WINDOW], ALL_METRICS + ALL_METRICS),
        release([WINDOW], tuple(sorted(ALL_METRICS))),
        release([WINDOW], ALL_METRICS[2:] + ALL_METRICS[:2]),
        release([WINDOW], ALL_METRICS[::2] + ALL_METRICS[1::2]),
        release([WINDOW, WINDOW, WINDOW], ALL_METRICS),
        release([month], list(reversed(ALL_METRICS))),
        release([month, month]),
        release([WINDOW], [*ALL_METRICS, ALL_METRICS[0]]),
        release([WINDOW], ALL_METRICS[1:] + ALL_METRICS[:1]),
        release((month,), tuple(ALL_METRICS)),
        release([WINDOW], None),
        release([str(WINDOW)], [str(m) for m in ALL_METRICS]),
    ]


@pytest.mark.attack("A4")
def test_a4_repeats_and_variants_are_identical_and_charged_once(
    fresh: Installation, large, measure, capsys
) -> None:
    ws = fresh.ws
    policy = ws.governance.require_active_policy("attack").policy
    first = services.release(ws, REPORT, [WINDOW], actor="analyst-a")
    spent = ws.governance.spent(policy.policy_id, policy.period_start)
    answers, charges = [_cells(first)], [first.rho_charged]
    repeats = 1_000 if large else 250
    for _ in range(repeats):
        again = services.release(ws, REPORT, [WINDOW], actor="analyst-a")
        answers.append(_cells(again))
        charges.append(again.rho_charged)
    variants = _variants(ws)
    assert len(variants) == 20
    for variant in variants:
        table = variant()
        answers.append(_cells(table))
        charges.append(table.rho_charged)
    # The web API and the CLI's JSON carry the same numbers.
    api = analyst_client(ws).get("/api/releases").json()
    web_cells = [
        c for r in api["reports"] if r["report_id"] == REPORT for c in r["cells"] if c["window"] == WINDOW
    ]
    assert sorted((c["group"], c["metric"], c["value"]) for c in web_cells) == sorted(
        (c.group, c.metric, c.value) for c in first.cells
    )
    capsys.readouterr()
    main(["release", REPORT, "-w", WINDOW, "--json", "--data-dir", str(ws.settings.data_dir)])
    cli = json.loads(capsys.readouterr().out)
    assert cli["rho_charged"] == 0
    assert [c["value"] for c in cli["cells"]] == [c.value for c in first.cells]
    result = repeat_check(answers, charges)
    measure(a4_repeats=repeats, a4_variants=len(variants), **{f"a4_{k}": v for k, v in result.items()})
    assert ws.governance.spent(policy.policy_id, policy.period_start) == spent
    assert len(ws.governance.releases()) == 1
    assert result["ok"], result


@pytest.mark.attack("A4")
def test_a4_same_members_under_another_definition_are_paid_for_once_each(
    fresh: Installation, tmp_path
) -> None:
    """Organisation and its only division hold the same people: the block's one charge pays for both
    levels' vectors, each at its own share, and the second report costs nothing more."""
    ws = fresh.ws
    policy = ws.governance.require_active_policy("attack").policy
    text = policy_text(**{f"version = {policy.version}": f"version = {policy.version + 1}"})
    text = text.replace('budget_share = "0.65"', 'budget_share = "0.45"')
    text += (
        '\n[[reports]]\nid = "organisation-monthly"\ntitle = "Organisation"\nlevel = "organisation"\n'
        'cadence = "month"\nmetrics = ["emails_sent"]\nbudget_share = "0.1"\n'
        '\n[[reports]]\nid = "division-monthly"\ntitle = "Divisions"\nlevel = "division"\n'
        'cadence = "month"\nmetrics = ["emails_sent"]\nbudget_share = "0.1"\n'
    )
    # The appended tables must follow the other [[reports]]: move [exclusions] and [working_hours] last.
    head, tail = re.split(r"(?m)^# Messages to or from these", text, maxsplit=1)
    tail_tables, appended = tail.split("\n[[reports]]", 1)
    text = head + "[[reports]]" + appended.rstrip() + "\n\n# Messages to or from these" + tail_tables
    approve_policy(ws, text, tmp_path / "v2.toml")
    first = services.release(ws, "organisation-monthly", [WINDOW], actor="analyst-a")
    second = services.release(ws, "division-monthly", [WINDOW], actor="analyst-b")
    policy = ws.governance.require_active_policy("attack").policy
    strategy = Strategy.for_policy(policy)
    blocks = strategy.blocks_for([Window(Cadence.MONTH, WINDOW)])
    levels = {GroupLevel.ORGANISATION, GroupLevel.DIVISION}
    for block in blocks:  # both levels' vectors are in the block's charge, each at its own share
        paid = {plan.level for plan in strategy.metric_plans if strategy.block_rho(plan, block) > 0}
        assert levels <= paid
    assert first.rho_charged == pytest.approx(
        float(sum(strategy.block_cost(block).value for block in blocks))
    )
    assert second.rho_charged == 0
    assert float(ws.governance.spent(policy.policy_id, policy.period_start).value) == pytest.approx(
        first.rho_charged
    )
    assert len(ws.governance.measured_blocks(policy.policy_id, policy.period_start)) == len(blocks)


@pytest.mark.attack("A4")
def test_a4_a_block_is_measured_once_and_another_report_never_changes_published_numbers(
    fresh: Installation,
) -> None:
    ws = fresh.ws
    policy = ws.governance.require_active_policy("attack").policy
    strategy = Strategy.for_policy(policy)
    monthly = services.release(ws, REPORT, [WINDOW], actor="analyst-a")
    quarter = Window(Cadence.QUARTER, "2026-Q1")
    quarterly = services.release(ws, "team-quarterly", [quarter.key], actor="analyst-b")
    # The quarter's first month was already measured: only the two other months are charged.
    later = [block for block in strategy.blocks_for([quarter]) if block.key != WINDOW]
    assert quarterly.rho_charged == pytest.approx(float(sum(strategy.block_cost(b).value for b in later)))
    again = services.release(ws, REPORT, [WINDOW], actor="analyst-c")
    assert _cells(again) == _cells(monthly) and again.rho_charged == 0
    measured = ws.governance.measured_blocks(policy.policy_id, policy.period_start)
    assert sorted(measured) == sorted(block.key for block in strategy.blocks_for([quarter]))


def _uncached_release(ws) -> Callable[[], ReleasedTable]:
    """The weakened path: every block measured afresh each time, nothing kept or recorded."""
    policy = ws.governance.require_active_policy("attack").policy
    spec = ReleaseSpec.build(policy, REPORT, [WINDOW])
    strategy = Strategy.for_policy(policy)

    def release() -> ReleasedTable:
        measured = [
            release_module._measure(ws, strategy, block) for block in strategy.blocks_for(spec.windows)
        ]
        rows = pa.concat_tables([block.rows for block in measured])
        structures = {block.block_key: block.structure for block in measured}
        return derive(strategy, spec, rows, structures, release_id="x", rho_charged=Rho.zero())

    return release


@pytest.mark.attack("A4", teeth=True)
def test_a4_teeth_without_the_cache_averaging_sees_fresh_noise(fresh: Installation) -> None:
    release = _uncached_release(fresh.ws)
    tables = [release() for _ in range(3)]
    result = repeat_check([_cells(t) for t in tables], [t.rho_charged for t in tables])
    assert result["distinct_answers"] > 1
    assert result["running_average_variance"] > 0
    assert not result["ok"]
