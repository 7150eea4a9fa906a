"""Rectification (R21): correct a worker's group, and recompute what the correction changes, charged.

The DPO carries out a worker's request to correct their team (or department, division, location)
for a span of weeks, signed with the DPO's key. The HR directory is corrected in the store; every
clipping block already measured whose weeks the correction touches is measured again with fresh
noise, charged to the ledger like any measurement; every published window that used those blocks
(for its weeks, or for its span's headcounts) is derived again, under one new release id.
Figures published before stay published: they cannot be un-released, and the audit log keeps
them (the notice tells workers so). Blocks not measured yet use the corrected directory when
they are.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from fractions import Fraction

import pyarrow as pa

from teamlens.domain import ReleasedCell, Rho, Window
from teamlens.errors import ReleaseError
from teamlens.privacy import Block, ReleaseSpec, Strategy, check_budget
from teamlens.services.keys import Signer, signed_fresh
from teamlens.services.release import _measure, _now, derive
from teamlens.services.rights import pseudonym_of
from teamlens.services.workspace import Workspace
from teamlens.store import LEVEL_COLUMNS

#: The signed decision the DPO gives for a correction.
ACTION = "rights.rectify"


@dataclass(frozen=True)
class Rectified:
    """What a correction did: directory rows changed, and the recomputation (if anything was released)."""

    rows_changed: int
    release_id: str | None = None
    rho: Rho | None = None
    windows: tuple[str, ...] = ()
    replaced: dict[str, int] | None = None


def rectify(
    ws: Workspace,
    email: str,
    *,
    level: str,
    group: str,
    start: dt.date,
    end: dt.date | None = None,
    by: Signer,
    actor: str,
) -> Rectified:
    """Correct ``email``'s group at ``level`` to ``group`` over [start, end) and recompute, charged."""
    active = ws.governance.require_active_policy("correct a worker's group")
    policy = active.policy
    if level not in LEVEL_COLUMNS or not group.strip() or (end is not None and end <= start):
        raise ReleaseError(
            f"A correction needs a level ({', '.join(LEVEL_COLUMNS)}), a group name and a first day "
            "before the last; nothing was changed.",
            "Give --level, --group and --from (and --to, after --from, if the correction ends).",
        )
    pseudonym = pseudonym_of(ws, email)
    if not _placed(ws, pseudonym, start, end):
        raise ReleaseError(
            "The HR directory holds no placement of this worker in those weeks; nothing was changed.",
            "Check the address and the dates: a correction changes an existing placement.",
        )
    strategy = Strategy.for_policy(policy)
    measured = ws.governance.measured_blocks(policy.policy_id, policy.period_start)
    again = _touched(strategy, start, end or policy.period_end, set(measured))
    cost = Rho(sum((strategy.block_cost(block).value for block in again), Fraction(0)))
    if again:
        spent = ws.governance.spent(policy.policy_id, policy.period_start, policy.period_end)
        check_budget(policy.rho, spent, cost)
    request_id = secrets.token_hex(8)
    decision = signed_fresh(ws, by, ACTION, request_id=request_id, level=level)
    ws.governance.accept_decision(decision, ACTION, request_id=request_id, level=level)
    changed = ws.store.rectify_group(pseudonym, level, group, start, end)
    if not again:
        return Rectified(changed)
    ws.governance.check_books(policy.policy_id, policy.period_start, using=list(measured))
    fresh = {block.key: _measure(ws, strategy, block) for block in again}
    release_id = f"r-{_now():%Y%m%d%H%M%S}-{secrets.token_hex(4)}"
    structures = {key: block.structure for key, block in measured.items()}
    structures.update({key: block.structure for key, block in fresh.items()})
    cells: dict[str, list[ReleasedCell]] = {}
    for report in policy.reports:
        published = ws.governance.published_keys(policy.policy_id, policy.period_start, report.report_id)
        windows = sorted(
            {key for key, _ in published if set(fresh) & _keys(strategy.blocks_for([Window.parse(key)]))}
        )
        if not windows:
            continue
        needed = _keys(strategy.blocks_for([Window.parse(key) for key in windows]))
        rows = pa.concat_tables(
            [
                ws.governance.measurements(policy.policy_id, policy.period_start, needed - set(fresh)),
                *(fresh[key].rows for key in sorted(needed & set(fresh))),
            ]
        )
        metrics = sorted({name for key, name in published if key in windows})
        spec = ReleaseSpec.build(policy, report.report_id, windows, metrics)
        derived = derive(strategy, spec, rows, structures, release_id=release_id, rho_charged=cost)
        cells[report.report_id] = [cell for cell in derived.cells if (cell.window, cell.metric) in published]
    replaced = ws.governance.record_rectification(
        release_id=release_id,
        active=active,
        blocks=[fresh[block.key] for block in again],
        cells=cells,
        actor=actor,
        details={"rectification": request_id, "level": level},
    )
    windows_done = tuple(sorted({cell.window for found in cells.values() for cell in found}))
    return Rectified(changed, release_id, cost, windows_done, replaced)


def _keys(blocks: tuple[Block, ...]) -> set[str]:
    return {block.key for block in blocks}


def _touched(strategy: Strategy, start: dt.date, end: dt.date, measured: set[str]) -> list[Block]:
    """The measured blocks holding a week of [start, end).

    A span's headcounts are measured over its first block's weeks only, so a correction in a
    later block leaves them as they are; windows that use a re-measured first block for their
    headcounts are derived again all the same (``blocks_for`` names it).
    """
    return [
        block
        for block in strategy.blocks
        if block.start < end and block.end > start and block.key in measured
    ]


def _placed(ws: Workspace, pseudonym: str, start: dt.date, end: dt.date | None) -> bool:
    for row in ws.store.person_directory(pseudonym).to_pylist():
        if (end is None or row["valid_from"] < end) and (row["valid_to"] is None or row["valid_to"] > start):
            return True
    return False
