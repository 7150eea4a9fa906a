"""The fact store: pseudonymised person-period facts and the HR directory, kept in Parquet.

Typical use: ``store = FactStore(data_dir / "facts")``; ingestion calls ``store.commit(
content_hash=..., source=..., label=..., facts=..., directory=...)`` once per export (a batch
already committed is skipped, overlapping facts replace older values); a release calls
``store.aggregate_block(levels=..., weeks=..., clips=...)`` for one clipping block's clipped
weekly totals per level and group, ``store.structure(...)`` for the organisation chart and
``store.groups(level)`` for every group to add noise to (``store.block_reader()`` serves all
three for many blocks from one snapshot); retention calls
``store.expire(cutoff, released_ranges)``; a worker's access and erasure requests call
``person_facts``, ``person_directory`` and ``erase_person``; health pages use ``stats`` and
``verify``; another engine (the Spark backend) reads the current files through ``files()``.
Nothing here adds noise: ``aggregate_block`` output goes to ``teamlens.privacy`` only.

For the class and its guarantees, see ``fact_store``; for the result types, ``summaries``.
For the on-disk layout and crash safety, see ``_manifest`` and ``_transaction``; for the
aggregation query, ``_aggregate``; for the collaboration network's edge rows and
its clipped query, ``_collaboration``; for a key rotation's re-keyed copy, ``_rekey``; for input
checks, ``_ingest``; for locking, ``_locks``.
DuckDB is imported in this package and nowhere else in teamlens.
"""

from teamlens.store._aggregate import ORGANISATION_GROUP, MetricClip, level_column, months_between
from teamlens.store._block_reader import BlockReader
from teamlens.store._expiry import DayRange, Expired
from teamlens.store._rectify import LEVEL_COLUMNS
from teamlens.store._rekey import Copied, rekeyed_copy, source_locked
from teamlens.store.fact_store import FactStore
from teamlens.store.summaries import BatchInfo, CommitSummary, StoreFiles, StoreStats

__all__ = [
    "LEVEL_COLUMNS",
    "ORGANISATION_GROUP",
    "BatchInfo",
    "BlockReader",
    "CommitSummary",
    "Copied",
    "DayRange",
    "Expired",
    "FactStore",
    "MetricClip",
    "StoreFiles",
    "StoreStats",
    "level_column",
    "months_between",
    "rekeyed_copy",
    "source_locked",
]
