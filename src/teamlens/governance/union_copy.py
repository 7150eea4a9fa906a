"""Read what the union's copy (R25) holds: published report cells, exactly as they were published.

Only ``report_cells`` is read — what releases published, noisy and suppressed as shown to
management — never the kept base measurements, the fact store or anything about one person.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from teamlens.domain import HIDDEN_PREFIX, Window
from teamlens.governance.tables import report_cells


@dataclass(frozen=True)
class PublishedCell:
    """One published cell with where it was published: policy, report and release."""

    policy_id: str
    report_id: str
    window: str
    metric: str
    group: str
    value: float | None  # None: suppressed (noisy headcount below the minimum group size)
    lower: float | None
    upper: float | None
    uncertain: bool
    clamped: bool
    release_id: str


def published_between(conn: sa.Connection, since: dt.date, through: dt.date) -> list[PublishedCell]:
    """Every cell published for a window that overlaps [since, through), in a stable order."""
    query = sa.select(report_cells).order_by(
        report_cells.c.policy_id,
        report_cells.c.report_id,
        report_cells.c.window_key,
        report_cells.c.metric,
        report_cells.c.group_key,
    )
    found = []
    for row in conn.execute(query):
        window = Window.parse(row.window_key)
        if row.group_key.startswith(HIDDEN_PREFIX) or not (window.start < through and window.end > since):
            continue
        found.append(
            PublishedCell(
                row.policy_id,
                row.report_id,
                row.window_key,
                row.metric,
                row.group_key,
                row.value,
                row.lower,
                row.upper,
                bool(row.uncertain),
                bool(row.clamped),
                row.release_id,
            )
        )
    return found
