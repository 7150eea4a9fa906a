"""A process for the kill test: commits one large batch to the store at argv[1], to be SIGKILLed.

It prints "ready" once the store is open and the data is built, so that the parent's random
delay falls inside the commit rather than inside Python's start-up.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from teamlens.domain import DIRECTORY_SCHEMA, FACT_SCHEMA
from teamlens.store import FactStore

PEOPLE = 300
DAYS = 70
METRICS = ("meeting_minutes", "emails_sent", "chat_messages", "calls")
FIRST_DAY = dt.date(2026, 1, 5)


def big_batch() -> Iterator[pa.RecordBatch]:
    """People × days × metrics facts (84,000 rows over three months), one record batch per person."""
    days = [FIRST_DAY + dt.timedelta(days=offset) for offset in range(DAYS)]
    for person in range(PEOPLE):
        rows = [(day, metric) for day in days for metric in METRICS]
        yield pa.record_batch(
            [
                pa.array([f"person-{person:04d}"] * len(rows), pa.string()),
                pa.array([day for day, _ in rows], pa.date32()),
                pa.array([1] * len(rows), pa.int8()),
                pa.array([metric for _, metric in rows], pa.string()),
                pa.array([(person * 31 + index) % 97 for index in range(len(rows))], pa.int64()),
                pa.array(["m365"] * len(rows), pa.string()),
            ],
            schema=FACT_SCHEMA,
        )


def big_directory() -> pa.Table:
    return pa.table(
        {
            "person": [f"person-{person:04d}" for person in range(PEOPLE)],
            "valid_from": pa.array([dt.date(2025, 1, 1)] * PEOPLE, pa.date32()),
            "valid_to": pa.array([None] * PEOPLE, pa.date32()),
            "team": [f"team-{person % 20}" for person in range(PEOPLE)],
            "department": [f"dept-{person % 4}" for person in range(PEOPLE)],
            "division": pa.array([None] * PEOPLE, pa.string()),
            "location": pa.array([None] * PEOPLE, pa.string()),
            "manager": pa.array([None] * PEOPLE, pa.string()),
            **{
                name: pa.array([None] * PEOPLE, pa.string())
                for name in ("time_zone", "work_start", "work_end")
            },
        },
        schema=DIRECTORY_SCHEMA,
    )


def main() -> None:
    store = FactStore(Path(sys.argv[1]))
    batches = list(big_batch())
    directory = big_directory()
    print("ready", flush=True)
    store.commit(
        content_hash="big", source="m365", label="kill test", facts=iter(batches), directory=directory
    )


if __name__ == "__main__":
    main()
