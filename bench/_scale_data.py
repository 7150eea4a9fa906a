"""The scale benchmark's stores: the release benchmark's organisation up to 1,000M facts, kept apart.

``_release_data.cached_store`` generates a day at a time and commits one stream, so the store's
commit sorts every month (a DuckDB sort of ~60M rows a month at 1,000M facts, held to 600 MB):
hours on this machine. ``scale_store`` makes **the same organisation with the same model**
(directory, per-person log-normal rates, gamma-Poisson days, zeros left out) but generates
each month already in the store's order — people in pseudonym order, then metric, then day —
vectorised over a chunk of people at a time, and writes each month file straight through the
store's own transaction (temp name, flush, rename, one manifest at the end). The random draws
come in another order, so the facts differ from ``cached_store``'s at the same size, not their
distribution. Stores are kept under ``TEAMLENS_SCALE_CACHE`` (default ``bench/.out``).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

from bench._release_data import METRIC_SHAPES, OUT, SEED, SOURCE, Size, directory, pseudonyms
from teamlens.domain import FACT_SCHEMA
from teamlens.store import FactStore
from teamlens.store._aggregate import store_month
from teamlens.store._duck import write_parquet
from teamlens.store._transaction import transaction
from teamlens.store.summaries import BatchInfo

#: Where large stores are kept (outside the repository: at 1,000M facts they are GiB).
CACHE = Path(os.environ.get("TEAMLENS_SCALE_CACHE", str(OUT)))
#: People generated at once (a chunk's month is about 2M facts).
CHUNK = 20_000
#: Metrics in the store's sort order (by name).
_NAMES = sorted(METRIC_SHAPES)


def _months(size: Size) -> dict[str, list[dt.date]]:
    """Each store month's weekdays (a day belongs to the month of its ISO week's Monday)."""
    months: dict[str, list[dt.date]] = {}
    for day in size.weekdays:
        months.setdefault(store_month(day - dt.timedelta(days=day.weekday())), []).append(day)
    return months


def _month_batches(
    people: pa.Array, order: np.ndarray, rates: np.ndarray, days: list[dt.date], rng: np.random.Generator
) -> Iterator[pa.RecordBatch]:
    """One month's facts in the store's order, a chunk of people (in pseudonym order) at a time."""
    day_numbers = np.array([(day - dt.date(1970, 1, 1)).days for day in days], np.int32)
    names = pa.array(_NAMES, pa.string())
    for start in range(0, len(order), CHUNK):
        chunk = order[start : start + CHUNK]
        shape = (len(chunk), len(_NAMES), len(days))
        # Gamma-Poisson days (overdispersed) around each person's rate, as in _release_data.
        values = rng.poisson(rates[chunk][:, :, None] * rng.gamma(2.0, 0.5, shape))
        person_index, metric_index, day_index = np.nonzero(values)
        count = len(person_index)
        yield pa.RecordBatch.from_arrays(
            [
                people.take(pa.array(chunk[person_index])),
                pa.array(day_numbers[day_index], pa.int32()).cast(pa.date32()),
                pa.array(np.ones(count, np.int8), pa.int8()),
                names.take(pa.array(metric_index)),
                pa.array(values[person_index, metric_index, day_index].astype(np.int64), pa.int64()),
                pa.nulls(count, pa.string()).fill_null(SOURCE),
            ],
            schema=FACT_SCHEMA,
        )


def scale_store(size: Size) -> tuple[Path, float]:
    """The root of a built store of ``size`` under ``CACHE`` (built if missing) and the build's seconds."""
    key = f"scale-{size.key}"
    root = CACHE / key
    if (root / "facts" / "manifest.json").exists():
        return root / "facts", 0.0
    building = CACHE / f"{key}.building"
    shutil.rmtree(building, ignore_errors=True)
    began = dt.datetime.now()
    store = FactStore(building / "facts")
    store.commit(content_hash=f"bench-{key}-directory", source=SOURCE, label=key, directory=directory(size))
    rng = np.random.default_rng(SEED + 2)
    names = pseudonyms(size.people)
    people = pa.array(names, pa.string())
    order = np.argsort(np.array(names))
    rates = np.stack(
        [
            median * np.exp(spread * rng.standard_normal(size.people))
            for median, spread, _ in (METRIC_SHAPES[name] for name in _NAMES)
        ],
        axis=1,
    )
    written = 0
    with transaction(store.root, store.lock_timeout) as tx:
        for month, days in _months(size).items():
            batches = _month_batches(people, order, rates, days, rng)
            out = tx.new_month_file(month)
            written += write_parquet(
                pa.RecordBatchReader.from_batches(FACT_SCHEMA, batches), out, FACT_SCHEMA
            )
            print(f"    built {month} ({(dt.datetime.now() - began).total_seconds():.0f} s)", flush=True)
        tx.batches[f"bench-{key}"] = BatchInfo(
            content_hash=f"bench-{key}",
            source=SOURCE,
            label=key,
            rows=written,
            committed_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
        )
        tx.publish()
    seconds = (dt.datetime.now() - began).total_seconds()
    building.rename(root)
    return root / "facts", seconds
