"""The Arrow shapes that cross package boundaries.

Sources produce ``FACT_SCHEMA`` and ``DIRECTORY_SCHEMA`` tables (already pseudonymised), the
store keeps them, and the store's aggregation hands ``AGGREGATE_SCHEMA`` tables (clipped sums
per group and window, never a row per person) to the privacy engine.
"""

from __future__ import annotations

import pyarrow as pa

#: One person's value of one metric over one source period (a day, or an ISO week).
#: ``day`` is the first day of the period; ``days`` is 1 or 7.
FACT_SCHEMA = pa.schema(
    [
        pa.field("person", pa.string(), nullable=False),
        pa.field("day", pa.date32(), nullable=False),
        pa.field("days", pa.int8(), nullable=False),
        pa.field("metric", pa.string(), nullable=False),
        pa.field("value", pa.int64(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
    ]
)

#: The key under which a later ingestion replaces an earlier value (per-person-day upsert).
FACT_KEY = ("person", "source", "metric", "day", "days")

#: A person's place in the organisation over a half-open date range [valid_from, valid_to), as the
#: store keeps it: only what placement in groups needs (readers' extra columns are in directory.py).
DIRECTORY_SCHEMA = pa.schema(
    [
        pa.field("person", pa.string(), nullable=False),
        pa.field("valid_from", pa.date32(), nullable=False),
        pa.field("valid_to", pa.date32(), nullable=True),
        pa.field("team", pa.string(), nullable=True),
        pa.field("department", pa.string(), nullable=True),
        pa.field("division", pa.string(), nullable=True),
        pa.field("location", pa.string(), nullable=True),
    ]
)

#: The metric name under which aggregation reports each group's headcount.
HEADCOUNT = "headcount"

#: Clipped totals per group, window and metric — what the privacy engine adds noise to.
AGGREGATE_SCHEMA = pa.schema(
    [
        pa.field("group", pa.string(), nullable=False),
        pa.field("window", pa.string(), nullable=False),
        pa.field("metric", pa.string(), nullable=False),
        pa.field("total", pa.int64(), nullable=False),
    ]
)

#: Noisy totals as released (and cached): the only per-group numbers that leave the engine.
#: ``sigma`` is the standard deviation of the discrete Gaussian noise added to ``noisy_total``.
NOISY_SCHEMA = pa.schema(
    [
        pa.field("group", pa.string(), nullable=False),
        pa.field("window", pa.string(), nullable=False),
        pa.field("metric", pa.string(), nullable=False),
        pa.field("noisy_total", pa.int64(), nullable=False),
        pa.field("sigma", pa.float64(), nullable=False),
    ]
)
