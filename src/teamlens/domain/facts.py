"""The Arrow shapes that cross package boundaries.

Sources produce ``FACT_SCHEMA`` and ``DIRECTORY_SCHEMA`` tables (already pseudonymised), the
store keeps them, and the store's aggregation hands ``BLOCK_AGGREGATE_SCHEMA`` tables (clipped
sums per level, group and week, never a row per person) and the organisation chart
(``STRUCTURE_SCHEMA``) to the privacy engine, which returns ``MEASUREMENT_SCHEMA`` rows.
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

#: One person's activity towards one colleague (``partner``) on one local day, for the collaboration
#: network: ``weight`` messages (each message's 1 split over its partners) or meeting minutes
#: (split over the other attendees); ``source`` is the kind of activity: "email", "chat" or
#: "meeting". Kept in the store and aggregated between groups only (``store._collaboration``).
EDGE_SCHEMA = pa.schema(
    [
        pa.field("person", pa.string(), nullable=False),
        pa.field("partner", pa.string(), nullable=False),
        pa.field("day", pa.date32(), nullable=False),
        pa.field("weight", pa.float64(), nullable=False),
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

#: The group key of people a level cannot place (not in the directory, or without a value at
#: that level), followed by the nearest coarser group they do have. Such groups are measured so
#: that every level partitions the same people, and are never shown.
HIDDEN_PREFIX = "\x1f"

#: Clipped fixed-point totals per level, group, week and metric for one clipping block — what
#: the privacy engine adds noise to. Headcount rows (``metric`` = ``HEADCOUNT``) hold the
#: person-weeks of the block, dated on its first week.
BLOCK_AGGREGATE_SCHEMA = pa.schema(
    [
        pa.field("level", pa.string(), nullable=False),
        pa.field("group", pa.string(), nullable=False),
        pa.field("week", pa.date32(), nullable=False),
        pa.field("metric", pa.string(), nullable=False),
        pa.field("total", pa.int64(), nullable=False),
    ]
)

#: Which group of a coarser level holds each group, from the directory rows valid in a block
#: (the organisation chart, declared like the group lists; never derived from activity).
STRUCTURE_SCHEMA = pa.schema(
    [
        pa.field("level", pa.string(), nullable=False),
        pa.field("group", pa.string(), nullable=False),
        pa.field("parent_level", pa.string(), nullable=False),
        pa.field("parent_group", pa.string(), nullable=False),
    ]
)

#: Noisy base measurements as released (and kept by the ledger): the only per-group numbers
#: that leave the engine. ``sigma`` is the standard deviation of the discrete Gaussian noise
#: added to ``noisy``, in the measurement's units (fixed-point units: ``scale`` per stored unit).
MEASUREMENT_SCHEMA = pa.schema(
    [
        pa.field("level", pa.string(), nullable=False),
        pa.field("group", pa.string(), nullable=False),
        pa.field("week", pa.date32(), nullable=False),
        pa.field("metric", pa.string(), nullable=False),
        pa.field("noisy", pa.int64(), nullable=False),
        pa.field("sigma", pa.float64(), nullable=False),
        pa.field("scale", pa.int64(), nullable=False),
    ]
)
