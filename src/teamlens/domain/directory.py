"""What a directory connector reads, beyond what the store keeps.

A directory export (HR CSV, SCIM) says more about a person than placement in groups needs. The
store keeps ``facts.DIRECTORY_SCHEMA`` only (dates to ISO-week Mondays, the policy's grouping
levels); the rest is needed only while the same ingestion reads mail and calendars, and is never
written to the data folder:

- ``time_zone``, ``work_start``, ``work_end``: the person's own working pattern, for after-hours
  metrics (null: the policy's default);
- ``aliases``: pseudonyms of the person's other addresses (proxy addresses), so that mail to or
  from any of them counts for the one person;
- ``manager``: the pseudonym of the person's manager, for 1:1 time with one's manager.
"""

from __future__ import annotations

import pyarrow as pa

from teamlens.domain.facts import DIRECTORY_SCHEMA

#: Columns a directory connector yields: the stored ones, then those used only while reading.
DIRECTORY_READ_SCHEMA = pa.schema(
    [
        *DIRECTORY_SCHEMA,
        pa.field("time_zone", pa.string(), nullable=True),
        pa.field("work_start", pa.string(), nullable=True),
        pa.field("work_end", pa.string(), nullable=True),
        pa.field("aliases", pa.list_(pa.string()), nullable=True),
        pa.field("manager", pa.string(), nullable=True),
    ]
)

#: The reading-only columns: never stored.
READING_ONLY = tuple(name for name in DIRECTORY_READ_SCHEMA.names if name not in DIRECTORY_SCHEMA.names)
