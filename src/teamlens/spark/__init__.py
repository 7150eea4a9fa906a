"""The Spark backend (``teamlens[spark]``): the heavy steps on a cluster, the privacy logic unchanged.

With ``TEAMLENS_ENGINE=spark``, ``Workspace.aggregator`` is a ``SparkAggregator``: the clipped
fixed-point totals of every block a release measures are computed by one Spark job from the
store's Parquet files (``aggregate_blocks``), and
everything else — the release spec, the bounds, OpenDP's noise, suppression, the ledger and the
audit log — is the same code as with DuckDB (``services.release``). ``spark_session`` gives the
running session (``spark-submit``'s) or starts one.

Ingestion with ``TEAMLENS_ENGINE=spark`` (``services.spark_ingest``) reads the M365 usage
reports and mail headers on the executors with ``read_files``: the connectors' own code, the
key loaded on each executor from its environment, facts staged and committed by the driver.

For the aggregation, see ``aggregate``; for reading exports, ``reading``; for the session's
settings, ``session``. How to run it
on a cluster: docs/scaling.md.
"""

from teamlens.spark.aggregate import BlockQuery, SparkAggregator, aggregate_block, aggregate_blocks
from teamlens.spark.reading import (
    FileRead,
    ReadJob,
    ReadRules,
    key_check,
    read_files,
    reads_on_spark,
    staged_facts,
)
from teamlens.spark.session import spark_session

__all__ = [
    "BlockQuery",
    "FileRead",
    "ReadJob",
    "ReadRules",
    "SparkAggregator",
    "aggregate_block",
    "aggregate_blocks",
    "key_check",
    "read_files",
    "reads_on_spark",
    "spark_session",
    "staged_facts",
]
