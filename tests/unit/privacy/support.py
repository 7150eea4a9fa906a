"""Small policies and tables built directly from domain types, so privacy tests need no other package.

The period is ISO weeks 2026-W01 to 2026-W13 (Monday 29 December 2025 to Monday 30 March 2026,
exclusive): 13 weeks, months 2026-01 (5 weeks), 2026-02 and 2026-03 (4 weeks each), and the
quarter 2026-Q1 (13 weeks). The three reports' shares sum to exactly 1.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from fractions import Fraction
from typing import Any

import pyarrow as pa

from teamlens.domain import (
    BLOCK_AGGREGATE_SCHEMA,
    STRUCTURE_SCHEMA,
    Cadence,
    GroupLevel,
    LawfulBasis,
    MetricBound,
    Policy,
    Purpose,
    ReportDef,
    Rho,
)

PERIOD_START = dt.date(2025, 12, 29)
PERIOD_END = dt.date(2026, 3, 30)

BOUNDS = (
    MetricBound("meeting_minutes", 2400),  # 40 h a week
    MetricBound("emails_sent", 500),
    MetricBound("after_hours_minutes", 600),
    MetricBound("collaboration_minutes", 3000),
)

REPORTS = (
    ReportDef(
        "team_weekly",
        "Team meeting load per week",
        GroupLevel.TEAM,
        Cadence.WEEK,
        ("meeting_minutes", "emails_sent"),
        Fraction(1, 4),
    ),
    ReportDef(
        "department_monthly",
        "Department workload per month",
        GroupLevel.DEPARTMENT,
        Cadence.MONTH,
        ("meeting_minutes", "after_hours_minutes", "emails_sent"),
        Fraction(1, 2),
    ),
    ReportDef(
        "organisation_quarterly",
        "Organisation collaboration per quarter",
        GroupLevel.ORGANISATION,
        Cadence.QUARTER,
        ("collaboration_minutes",),
        Fraction(1, 4),
    ),
)


def build_policy(**changes: Any) -> Policy:
    """The test policy, with any field replaced."""
    policy = Policy(
        policy_id="test-policy",
        version=1,
        title="Test policy",
        purpose=Purpose.TEAM_WORKLOAD,
        lawful_basis=LawfulBasis.COLLECTIVE_AGREEMENT,
        controller="Example Ltd",
        period_start=PERIOD_START,
        period_end=PERIOD_END,
        review_date=dt.date(2026, 6, 1),
        retention_days=180,
        sources=("m365_usage",),
        metrics=BOUNDS,
        grouping_levels=(GroupLevel.ORGANISATION, GroupLevel.DEPARTMENT, GroupLevel.TEAM),
        min_group_size=10,
        rho=Rho.of("1"),
        delta=1e-6,
        reports=REPORTS,
    )
    return replace(policy, **changes)


def block_table(rows: list[tuple[str, str, dt.date, str, int]]) -> pa.Table:
    """A ``BLOCK_AGGREGATE_SCHEMA`` table from (level, group, week, metric, total) rows."""
    columns = [[row[i] for row in rows] for i in range(len(BLOCK_AGGREGATE_SCHEMA))]
    return pa.Table.from_arrays(
        [
            pa.array(column, type=field.type)
            for column, field in zip(columns, BLOCK_AGGREGATE_SCHEMA, strict=True)
        ],
        schema=BLOCK_AGGREGATE_SCHEMA,
    )


def chart(pairs: list[tuple[str, str, str, str]]) -> pa.Table:
    """A ``STRUCTURE_SCHEMA`` table from (level, group, parent level, parent group) rows."""
    columns = [[row[i] for row in pairs] for i in range(len(STRUCTURE_SCHEMA))]
    return pa.Table.from_arrays(
        [pa.array(column, pa.string()) for column in columns], schema=STRUCTURE_SCHEMA
    )
