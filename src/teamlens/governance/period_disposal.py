"""Dispose of a finished policy period's released aggregates and ledger (R15), in one transaction.

A period's releases, ledger charges, published report cells and kept noisy measurements stay
while the period runs and for the policy's ``released_retention_days`` after it ends. Then
``dispose`` deletes them all at once and records a ``retention.released`` audit entry naming
the releases that went (ids and counts, never a value): the budget books (``books``) read that
entry, so the gone releases are not mistaken for tampering. ``archived`` reads what an
archive keeps first: the releases, their charges and the published cells, never the noisy base
measurements (they hold groups below the minimum size, and were never published).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from teamlens.governance import audit_log
from teamlens.governance.tables import (
    ledger,
    measured_blocks,
    measurements,
    released_cells,
    releases,
    report_cells,
)

#: The audit action recording that a period's released aggregates and ledger were disposed of.
DISPOSED = "retention.released"


def _rows(
    conn: sa.Connection, table: sa.Table, policy_id: str, period_start: dt.date
) -> list[dict[str, Any]]:
    query = sa.select(table).where(table.c.policy_id == policy_id, table.c.period_start == period_start)
    return [_plain(dict(row._mapping)) for row in conn.execute(query)]


def _plain(row: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value.isoformat() if isinstance(value, dt.date) else value for key, value in row.items()}


def archived(conn: sa.Connection, policy_id: str, period_start: dt.date) -> dict[str, Any]:
    """What an archive of the period keeps: its releases, ledger charges and published cells."""
    return {
        "policy_id": policy_id,
        "period_start": period_start.isoformat(),
        "releases": _rows(conn, releases, policy_id, period_start),
        "ledger": [
            {key: value for key, value in row.items() if key != "entry_id"}
            for row in _rows(conn, ledger, policy_id, period_start)
        ],
        "report_cells": _rows(conn, report_cells, policy_id, period_start),
    }


def dispose(
    conn: sa.Connection,
    policy_id: str,
    period_start: dt.date,
    *,
    actor: str,
    now: dt.datetime,
    details: Mapping[str, object],
) -> dict[str, int]:
    """Delete the period's cells, measurements, releases and charges; audit the counts. Returns them."""
    where = {
        table.name: (table.c.policy_id == policy_id) & (table.c.period_start == period_start)
        for table in (report_cells, released_cells, measurements, measured_blocks, ledger, releases)
    }
    gone = [row.release_id for row in conn.execute(sa.select(releases.c.release_id).where(where["releases"]))]
    counts: dict[str, int] = {}
    # Children before the releases they name (foreign keys).
    for table in (report_cells, released_cells, measurements, measured_blocks, ledger, releases):
        counts[table.name] = conn.execute(table.delete().where(where[table.name])).rowcount or 0
    if any(counts.values()):
        audit_log.append(
            conn,
            now,
            actor,
            DISPOSED,
            {
                "policy_id": policy_id,
                "period_start": period_start.isoformat(),
                "release_ids": sorted(gone),
                **{f"{name}_deleted": count for name, count in counts.items()},
                **details,
            },
        )
    return counts


def disposed_releases(records: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """The release ids that ``retention.released`` entries record as disposed of."""
    return frozenset(str(release) for details in records for release in details.get("release_ids", []) or [])
