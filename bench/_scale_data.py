"""The scale benchmark's stores: the release benchmark's organisation, cached outside the repository.

At 1,000M facts (601,000 people × 500 days) the store is several GiB and its build takes long, so
``scale_store`` keeps it under ``TEAMLENS_SCALE_CACHE`` (default ``bench/.out``) and builds it
**a month at a time**: the same facts as ``_release_data.cached_store`` (the same generator,
vectorised per day), committed as one ``FactStore.commit`` per store month, so each commit sorts
and writes one month file and never merges into one already written. The directory is committed
first. A build is written under a temporary name and renamed when complete.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
from pathlib import Path

import pyarrow as pa

from bench._release_data import OUT, SOURCE, Size, directory, fact_batches
from teamlens.store import FactStore
from teamlens.store._aggregate import store_month

#: Where large stores are kept (outside the repository: they are GiB).
CACHE = Path(os.environ.get("TEAMLENS_SCALE_CACHE", str(OUT)))
#: DuckDB's memory for sorting one month while building (the store's own commit limit is 600 MB).
BUILD_MEMORY = "4GB"


def _month(batch: pa.RecordBatch) -> str:
    """The store month of a batch of one day's facts (the month of that day's ISO-week Monday)."""
    day = batch.column("day")[0].as_py()
    return store_month(day - dt.timedelta(days=day.weekday()))


def scale_store(size: Size) -> tuple[Path, float]:
    """The root of a built store of ``size`` under ``CACHE`` (building it if needed) and the build's seconds."""
    root = CACHE / size.key
    if (root / "facts" / "manifest.json").exists():
        return root / "facts", 0.0
    building = CACHE / f"{size.key}.building"
    shutil.rmtree(building, ignore_errors=True)
    began = dt.datetime.now()
    from teamlens.store import fact_store

    fact_store.COMMIT_MEMORY_LIMIT = BUILD_MEMORY  # type: ignore[attr-defined]  # build time only
    store = FactStore(building / "facts")
    store.commit(content_hash=f"bench-{size.key}-directory", source=SOURCE, label=size.key, directory=directory(size))
    for month, batches in itertools.groupby(fact_batches(size), key=_month):
        store.commit(content_hash=f"bench-{size.key}-{month}", source=SOURCE, label=month, facts=batches)
        print(f"    built {month} ({(dt.datetime.now() - began).total_seconds():.0f} s)", flush=True)
    seconds = (dt.datetime.now() - began).total_seconds()
    building.rename(root)
    return root / "facts", seconds
