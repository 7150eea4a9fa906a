"""Record a rectification's recomputed release (R21): charged, kept, audited, all-or-nothing.

Correcting a person's group changes the clipped totals of the blocks whose weeks the correction
touches, so those blocks are measured again — fresh noise, charged to the ledger like any
measurement — and every published window that used them is derived again under one new release
id. The superseded measurements and cells are replaced in the kept records; what was published
before stays published (it cannot be un-released) and stays in the audit log, whose
``release.record`` entry for the rectification names how many cells of which release it replaced,
so the books check (``books``) still adds up.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from fractions import Fraction

import sqlalchemy as sa

from teamlens.domain import ReleasedCell, Rho
from teamlens.errors import InternalError
from teamlens.governance import audit_log, measurement_cache
from teamlens.governance.ledger import charge, check_room, check_still_active, release_record
from teamlens.governance.measurement_cache import BlockMeasurement
from teamlens.governance.records import ActivePolicy
from teamlens.governance.tables import measured_blocks, measurements, report_cells

#: The report id under which a rectification's recomputation is recorded (its cells keep their reports').
RECTIFICATION_REPORT = "(rectification)"


def record(
    conn: sa.Connection,
    *,
    release_id: str,
    active: ActivePolicy,
    blocks: Sequence[BlockMeasurement],
    cells: Mapping[str, Sequence[ReleasedCell]],
    actor: str,
    now: dt.datetime,
    details: Mapping[str, object],
) -> dict[str, int]:
    """Replace ``blocks``' measurements and the cells of ``cells`` (by report), charging their ρ.

    Returns how many cells of each earlier release were replaced. Nothing is written if the
    budget does not allow it or the policy is no longer active.
    """
    policy = active.policy
    check_still_active(conn, active)
    if not blocks:
        raise InternalError("a rectification must measure at least one block again")
    rho = Rho(sum((block.rho.value for block in blocks), Fraction(0)))
    check_room(conn, policy, rho, policy.rho)
    period = (policy.policy_id, policy.period_start)
    keys = [block.block_key for block in blocks]
    for table in (measurements, measured_blocks):
        conn.execute(
            table.delete().where(
                table.c.policy_id == period[0], table.c.period_start == period[1], table.c.block_key.in_(keys)
            )
        )
    replaced: dict[str, int] = {}
    for report_id, published in cells.items():
        for window, metric in sorted({(cell.window, cell.metric) for cell in published}):
            where = (
                report_cells.c.policy_id == period[0],
                report_cells.c.period_start == period[1],
                report_cells.c.report_id == report_id,
                report_cells.c.window_key == window,
                report_cells.c.metric == metric,
            )
            for row in conn.execute(sa.select(report_cells.c.release_id).where(*where)):
                replaced[row.release_id] = replaced.get(row.release_id, 0) + 1
            conn.execute(report_cells.delete().where(*where))
    windows = sorted({cell.window for published in cells.values() for cell in published})
    metrics = sorted({cell.metric for published in cells.values() for cell in published})
    count = sum(len(published) for published in cells.values())
    charge(
        conn,
        active,
        release_id,
        rho,
        actor,
        now,
        report_id=RECTIFICATION_REPORT,
        spec_key=f"rectification:{release_id}",
        windows=json.dumps(windows),
        metrics=json.dumps(metrics),
        cells=count,
    )
    measurement_cache.write_blocks(conn, period[0], period[1], release_id, blocks)
    for report_id, published in cells.items():
        measurement_cache.write_cells(conn, period[0], period[1], report_id, release_id, published)
    audit_log.append(
        conn,
        now,
        actor,
        "release.record",
        {
            **release_record(policy, release_id, RECTIFICATION_REPORT, windows, metrics, rho, count, blocks),
            "replaced": dict(sorted(replaced.items())),
            **details,
        },
    )
    return replaced
