"""The Spark backend (``teamlens[spark]``): the heavy steps on a cluster, the privacy logic unchanged.

With ``TEAMLENS_ENGINE=spark``, ``Workspace.aggregator`` is a ``SparkAggregator``: each release
block's clipped fixed-point totals are computed by Spark from the store's Parquet files, and
everything else — the release spec, the bounds, OpenDP's noise, suppression, the ledger and the
audit log — is the same code as with DuckDB (``services.release``). ``spark_session`` gives the
running session (``spark-submit``'s) or starts one.

For the aggregation, see ``aggregate``; for the session's settings, ``session``. How to run it
on a cluster: docs/scaling.md.
"""

from teamlens.spark.aggregate import SparkAggregator, aggregate_block
from teamlens.spark.session import spark_session

__all__ = ["SparkAggregator", "aggregate_block", "spark_session"]
