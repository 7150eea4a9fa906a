"""What the fact store reports about itself: commits, batches and sizes, never personal data.

Every value here is a count, a month key, a content hash or a label chosen by the operator, so
these objects can be logged, shown to an admin and written to the audit log as they are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class BatchInfo:
    """One committed batch of facts, as the manifest records it (for idempotent re-ingestion)."""

    content_hash: str
    source: str
    label: str
    rows: int
    committed_at: dt.datetime


@dataclass(frozen=True)
class CommitSummary:
    """What one ``FactStore.commit`` changed; check ``already_present`` to see if it was a no-op.

    ``rows_received`` counts the fact rows handed in, ``duplicate_keys`` the rows dropped
    because a later row of the same commit had the same key, ``rows_replaced`` the stored rows
    a new value replaced (re-ingesting an overlapping export) and ``rows_added`` the keys that
    were new. ``months_rewritten`` names the month files this commit wrote.
    """

    content_hash: str
    already_present: bool
    generation: int
    rows_received: int = 0
    duplicate_keys: int = 0
    rows_added: int = 0
    rows_replaced: int = 0
    months_rewritten: tuple[str, ...] = ()
    directory_rows: int | None = None


@dataclass(frozen=True)
class StoreStats:
    """Sizes of the store for health pages and capacity planning; counts only."""

    generation: int
    fact_rows: int
    months: tuple[str, ...]
    batches: int
    directory_rows: int
    bytes: int


@dataclass(frozen=True)
class StoreFiles:
    """The Parquet files of one generation of the store, for another engine (Spark) to read.

    ``months`` maps each month key (``YYYY-MM``) to its file; ``directory`` is the directory
    snapshot, if any. Paths only: what they hold is personal data and stays in them.
    """

    months: Mapping[str, Path]
    directory: Path | None
    encrypted: bool
