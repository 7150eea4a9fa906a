"""Count events per person and local day, then emit each fact once (shared by Slack and mail).

The store keeps one value per fact key — the last one ingested — so a connector whose events
for one person-day are spread over a whole export (a person posts in many channels, a mailbox
is not sorted) must finish counting before it yields anything. The tallies live in memory and
grow with person-days, never with messages. Days are local to each person: an instant is
turned into a date in the time zone of ``ctx.working_hours_of(person)``, and nothing finer
than the date is kept.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pyarrow as pa

from teamlens.domain import FACT_SCHEMA, WorkingHours
from teamlens.sources.context import ReadContext

_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


@functools.lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The ``ZoneInfo`` called ``name``, built once per process."""
    return ZoneInfo(name)


def is_after_hours(local: dt.datetime, hours: WorkingHours) -> bool:
    """True when ``local`` (already in the person's zone) falls outside their working hours or days."""
    if local.weekday() not in hours.days:
        return True
    now = local.time()
    if hours.start <= hours.end:
        return not hours.start <= now < hours.end
    # A shift that crosses midnight (22:00–06:00) is working time on both sides of it.
    return hours.end <= now < hours.start


class Tally:
    """Sum counts per (metric, person, first day, days), for the metrics the policy allows."""

    def __init__(self, source: str, ctx: ReadContext) -> None:
        self.source = source
        self.ctx = ctx
        self._counts: dict[tuple[str, str, int, int], int] = {}

    def wants(self, metric: str) -> bool:
        """True when the policy allows ``metric``, so it is worth computing."""
        return metric in self.ctx.metrics

    def local(self, person: str, instant: dt.datetime) -> dt.datetime:
        """``instant`` (timezone-aware) as a wall-clock time in ``person``'s time zone."""
        return instant.astimezone(zone(self.ctx.working_hours_of(person).timezone))

    def add(self, metric: str, person: str, day: dt.date, days: int = 1, value: int = 1) -> None:
        """Add ``value`` to ``person``'s ``metric`` for the period starting on ``day``."""
        if metric in self.ctx.metrics:
            key = (metric, person, day.toordinal(), days)
            self._counts[key] = self._counts.get(key, 0) + value

    def drop(self, person: str) -> None:
        """Forget every count of ``person`` (a mailbox found not to be theirs after all)."""
        for key in [key for key in self._counts if key[1] == person]:
            del self._counts[key]

    @property
    def people(self) -> int:
        """How many distinct people have a fact."""
        return len({key[1] for key in self._counts})

    def __len__(self) -> int:
        return len(self._counts)

    def batches(self, batch_rows: int) -> Iterator[pa.RecordBatch]:
        """Yield every tallied fact once, ``batch_rows`` at a time, emptying the tally."""
        items = list(self._counts.items())
        self._counts.clear()
        for start in range(0, len(items), batch_rows):
            chunk = items[start : start + batch_rows]
            days = pa.array([key[2] - _EPOCH_ORDINAL for key, _ in chunk], pa.int32())
            arrays = [
                pa.array([key[1] for key, _ in chunk], pa.string()),
                days.cast(pa.date32()),
                pa.array([key[3] for key, _ in chunk], pa.int8()),
                pa.array([key[0] for key, _ in chunk], pa.string()),
                pa.array([value for _, value in chunk], pa.int64()),
                pa.nulls(len(chunk), pa.string()).fill_null(self.source),
            ]
            yield pa.RecordBatch.from_arrays(arrays, schema=FACT_SCHEMA)
