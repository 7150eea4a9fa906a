"""Record which inputs were ingested, by content hash, so the same file is never counted twice."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from teamlens.governance import audit_log
from teamlens.governance.records import IngestionInfo
from teamlens.governance.tables import as_utc, ingestions


def record(
    conn: sa.Connection,
    content_hash: str,
    source: str,
    label: str,
    rows: int | None,
    actor: str,
    now: dt.datetime,
) -> IngestionInfo:
    """Add one ingestion and its audit entry; the label stays out of the log (it may be a file name)."""
    conn.execute(
        ingestions.insert().values(
            content_hash=content_hash,
            source=source,
            label=label,
            rows=rows,
            ingested_by=actor,
            ingested_at=now,
        )
    )
    audit_log.append(
        conn, now, actor, "ingest.record", {"content_hash": content_hash, "source": source, "rows": rows}
    )
    return IngestionInfo(content_hash, source, label, rows, actor, now)


def ensure(
    conn: sa.Connection, content_hash: str, source: str, label: str, actor: str, now: dt.datetime
) -> bool:
    """Record an input the fact store already holds, if governance has no record of it; True if added.

    This heals the one gap a crash can leave: the store committed a batch and the process died
    before ``record`` ran. The row count is then unknown and stored as NULL.
    """
    known = conn.execute(
        sa.select(ingestions.c.ingestion_id).where(ingestions.c.content_hash == content_hash).limit(1)
    ).first()
    if known is not None:
        return False
    record(conn, content_hash, source, label, None, actor, now)
    return True


def all_ingestions(conn: sa.Connection) -> list[IngestionInfo]:
    """List every recorded ingestion, oldest first."""
    rows = conn.execute(sa.select(ingestions).order_by(ingestions.c.ingestion_id)).all()
    return [
        IngestionInfo(
            row.content_hash, row.source, row.label, row.rows, row.ingested_by, as_utc(row.ingested_at)
        )
        for row in rows
    ]
