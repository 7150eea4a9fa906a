"""The release engine's records: measured blocks with their noisy values, and published report cells.

A clipping block is measured once per policy period; its noisy values (``MEASUREMENT_SCHEMA``)
and the organisation chart they are reconciled with are kept here, with a SHA-256 of the rows
that the audit log also records. What each report published is kept cell by cell, exactly as
published, so that asking again shows the same numbers whatever changes later.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pyarrow as pa
import sqlalchemy as sa

from teamlens.domain import MEASUREMENT_SCHEMA, STRUCTURE_SCHEMA, ReleasedCell, Rho
from teamlens.errors import InternalError
from teamlens.governance.tables import measured_blocks, measurements, report_cells


@dataclass(frozen=True)
class BlockMeasurement:
    """One clipping block's measurement, as the release engine hands it over to be kept."""

    block_key: str
    span_key: str | None  # the span whose headcounts were measured with this block, if any
    structure: pa.Table  # STRUCTURE_SCHEMA
    rows: pa.Table  # MEASUREMENT_SCHEMA
    rho: Rho

    @property
    def rows_sha256(self) -> str:
        """The digest of the noisy rows, as the audit log records it."""
        return rows_digest(self.rows)


@dataclass(frozen=True)
class MeasuredBlock:
    """A block already measured in this period: what it cost and where its records are."""

    block_key: str
    span_key: str | None
    structure: pa.Table
    rows_sha256: str
    rho: Rho
    release_id: str


def rows_digest(rows: pa.Table) -> str:
    """SHA-256 of measurement rows in a canonical order and spelling (σ exact, as float.hex)."""
    if not rows.schema.equals(MEASUREMENT_SCHEMA):
        raise InternalError(f"measurement rows must have MEASUREMENT_SCHEMA, got {rows.schema}")
    lines = sorted(
        f"{row['level']}\t{row['metric']}\t{row['group']}\t{row['week'].isoformat()}\t{row['noisy']}\t"
        f"{float(row['sigma']).hex()}\t{row['scale']}"
        for row in rows.to_pylist()
    )
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode("utf-8") + b"\n")
    return digest.hexdigest()


def _structure_json(structure: pa.Table) -> str:
    if not structure.schema.equals(STRUCTURE_SCHEMA):
        raise InternalError(f"an organisation chart must have STRUCTURE_SCHEMA, got {structure.schema}")
    rows = [[row[name] for name in STRUCTURE_SCHEMA.names] for row in structure.to_pylist()]
    return json.dumps(sorted(rows), separators=(",", ":"), ensure_ascii=False)


def _structure_table(text: str) -> pa.Table:
    rows: list[list[str]] = json.loads(text)
    columns: list[list[str]] = [[row[index] for row in rows] for index in range(len(STRUCTURE_SCHEMA.names))]
    return pa.table(
        {
            name: pa.array(list(values), pa.string())
            for name, values in zip(STRUCTURE_SCHEMA.names, columns, strict=True)
        },
        schema=STRUCTURE_SCHEMA,
    )


def measured(conn: sa.Connection, policy_id: str, period_start: dt.date) -> dict[str, MeasuredBlock]:
    """Every block already measured in one policy period, by block key."""
    rows = conn.execute(
        sa.select(measured_blocks).where(
            measured_blocks.c.policy_id == policy_id, measured_blocks.c.period_start == period_start
        )
    )
    return {
        row.block_key: MeasuredBlock(
            row.block_key,
            row.span_key,
            _structure_table(row.structure),
            row.rows_sha256,
            Rho.of(f"{row.rho_numerator}/{row.rho_denominator}"),
            row.release_id,
        )
        for row in rows
    }


def read_rows(
    conn: sa.Connection, policy_id: str, period_start: dt.date, block_keys: Iterable[str]
) -> pa.Table:
    """The noisy rows of ``block_keys`` (``MEASUREMENT_SCHEMA``)."""
    keys = sorted(set(block_keys))
    found = conn.execute(
        sa.select(
            measurements.c.level,
            measurements.c.group_key,
            measurements.c.week,
            measurements.c.metric,
            measurements.c.noisy,
            measurements.c.sigma,
            measurements.c.scale,
        ).where(
            measurements.c.policy_id == policy_id,
            measurements.c.period_start == period_start,
            measurements.c.block_key.in_(keys),
        )
    ).all()
    # The select lists its columns in MEASUREMENT_SCHEMA's order.
    arrays = [
        pa.array([row[index] for row in found], type=field.type)
        for index, field in enumerate(MEASUREMENT_SCHEMA)
    ]
    return pa.Table.from_arrays(arrays, schema=MEASUREMENT_SCHEMA)


def block_digest(conn: sa.Connection, policy_id: str, period_start: dt.date, block_key: str) -> str:
    """The digest of the rows stored now for one block (compared with the audit log's)."""
    return rows_digest(read_rows(conn, policy_id, period_start, [block_key]))


def write_blocks(
    conn: sa.Connection,
    policy_id: str,
    period_start: dt.date,
    release_id: str,
    blocks: Sequence[BlockMeasurement],
) -> None:
    """Keep newly measured blocks (the caller has checked none was measured before)."""
    for block in blocks:
        conn.execute(
            measured_blocks.insert().values(
                policy_id=policy_id,
                period_start=period_start,
                block_key=block.block_key,
                span_key=block.span_key,
                structure=_structure_json(block.structure),
                rows_sha256=block.rows_sha256,
                rho_numerator=str(block.rho.value.numerator),
                rho_denominator=str(block.rho.value.denominator),
                release_id=release_id,
            )
        )
        if block.rows.num_rows:
            conn.execute(
                measurements.insert(),
                [
                    {
                        "policy_id": policy_id,
                        "period_start": period_start,
                        "level": row["level"],
                        "metric": row["metric"],
                        "group_key": row["group"],
                        "week": row["week"],
                        "block_key": block.block_key,
                        "noisy": row["noisy"],
                        "sigma": row["sigma"],
                        "scale": row["scale"],
                    }
                    for row in block.rows.to_pylist()
                ],
            )


def published_keys(
    conn: sa.Connection, policy_id: str, period_start: dt.date, report_id: str
) -> set[tuple[str, str]]:
    """The (window, metric) pairs a report has published in this period."""
    rows = conn.execute(
        sa.select(report_cells.c.window_key, report_cells.c.metric)
        .distinct()
        .where(*_cell_filter(policy_id, period_start, report_id))
    )
    return {(row.window_key, row.metric) for row in rows}


def published(
    conn: sa.Connection, policy_id: str, period_start: dt.date, report_id: str, windows: Sequence[str]
) -> list[tuple[ReleasedCell, str]]:
    """A report's published cells of ``windows`` with the release that published each, in order."""
    rows = conn.execute(
        sa.select(report_cells)
        .where(
            *_cell_filter(policy_id, period_start, report_id), report_cells.c.window_key.in_(list(windows))
        )
        .order_by(report_cells.c.window_key, report_cells.c.metric, report_cells.c.group_key)
    )
    return [
        (
            ReleasedCell(
                row.group_key,
                row.window_key,
                row.metric,
                row.value,
                row.lower,
                row.upper,
                total=row.total,
                person_weeks=row.person_weeks,
                sd_total=row.sd_total,
                sd_person_weeks=row.sd_person_weeks,
                clamped=bool(row.clamped),
                uncertain=bool(row.uncertain),
            ),
            row.release_id,
        )
        for row in rows
    ]


def write_cells(
    conn: sa.Connection,
    policy_id: str,
    period_start: dt.date,
    report_id: str,
    release_id: str,
    cells: Sequence[ReleasedCell],
) -> None:
    """Keep a report's newly published cells."""
    if not cells:
        return
    conn.execute(
        report_cells.insert(),
        [
            {
                "policy_id": policy_id,
                "period_start": period_start,
                "report_id": report_id,
                "window_key": cell.window,
                "metric": cell.metric,
                "group_key": cell.group,
                "value": cell.value,
                "lower": cell.lower,
                "upper": cell.upper,
                "total": cell.total,
                "person_weeks": cell.person_weeks,
                "sd_total": cell.sd_total,
                "sd_person_weeks": cell.sd_person_weeks,
                "clamped": cell.clamped,
                "uncertain": cell.uncertain,
                "release_id": release_id,
            }
            for cell in cells
        ],
    )


def windows_by_release(conn: sa.Connection) -> dict[str, frozenset[str]]:
    """Map each release id to the windows whose cells it published."""
    found: dict[str, set[str]] = {}
    query = sa.select(report_cells.c.release_id, report_cells.c.window_key).distinct()
    for row in conn.execute(query):
        found.setdefault(row.release_id, set()).add(row.window_key)
    return {release: frozenset(windows) for release, windows in found.items()}


def _cell_filter(policy_id: str, period_start: dt.date, report_id: str) -> tuple[sa.ColumnElement[bool], ...]:
    return (
        report_cells.c.policy_id == policy_id,
        report_cells.c.period_start == period_start,
        report_cells.c.report_id == report_id,
    )
