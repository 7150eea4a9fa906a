"""One installation's parts, opened together: settings, governance database, fact store, key."""

from __future__ import annotations

import datetime as dt
import os
import stat
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Protocol

import pyarrow as pa

from teamlens.errors import ConfigError
from teamlens.governance import GovernanceDB
from teamlens.pseudonymise import Pseudonymiser, derive_key, load_key
from teamlens.settings import Settings
from teamlens.store import FactStore, MetricClip

#: What the fact store's key is derived for (changing it would make every encrypted store unreadable).
STORE_KEY_PURPOSE = "teamlens fact store encryption v1"


class BlockAggregator(Protocol):
    """What computes a clipping block's clipped totals for the release engine (``FactStore`` or Spark)."""

    def aggregate_block(
        self,
        *,
        levels: Sequence[str],
        weeks: Sequence[dt.date],
        clips: Mapping[str, MetricClip],
        headcount: bool,
        exclude: Collection[str] = (),
    ) -> pa.Table:
        """One block's ``BLOCK_AGGREGATE_SCHEMA`` table (see ``FactStore.aggregate_block``)."""


@dataclass
class Workspace:
    """The parts of one teamlens installation, opened lazily from its settings."""

    settings: Settings = field(default_factory=Settings)

    @cached_property
    def governance(self) -> GovernanceDB:
        """The governance database (policies, approvals, ledger, audit log)."""
        private_folder(self.settings.data_dir)
        return GovernanceDB(self.settings.governance_url)

    @cached_property
    def store(self) -> FactStore:
        """The Parquet fact store (encrypted at rest under a key derived from the installation's key)."""
        key = derive_key(self._key(), STORE_KEY_PURPOSE) if self.settings.encrypt_store else None
        return FactStore(self.settings.facts_dir, encryption_key=key)

    @cached_property
    def aggregator(self) -> BlockAggregator:
        """What aggregates release blocks: the store's DuckDB, or Spark with ``TEAMLENS_ENGINE=spark``."""
        if self.settings.engine == "duckdb":
            return self.store
        try:
            from teamlens.spark import SparkAggregator, spark_session  # the optional teamlens[spark]
        except ImportError:
            raise ConfigError(
                "TEAMLENS_ENGINE is 'spark', and PySpark is not installed.",
                "Install it with `pip install 'teamlens[spark]'` (and Java 17 or later), "
                "or set TEAMLENS_ENGINE=duckdb.",
            ) from None
        return SparkAggregator(self.store, spark_session(self.settings.spark_master))

    def pseudonymiser(self) -> Pseudonymiser:
        """A fresh pseudonymiser under this installation's key (its cache lives for one run)."""
        return Pseudonymiser(self._key())

    def _key(self) -> bytes:
        self.settings.check_key_location()
        secret = self.settings.key.get_secret_value() if self.settings.key else None
        return load_key(self.settings.key_file, secret)


def private_folder(path: Path) -> None:
    """Create the data folder owner-only (0700), or narrow it if it exists: it holds personal data."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if stat.S_IMODE(path.stat().st_mode) != 0o700:
        os.chmod(path, 0o700)


def open_workspace(data_dir: Path | None = None, key_file: Path | None = None) -> Workspace:
    """Open the installation from the environment's settings, overriding the folders given."""
    settings = Settings()
    changes = {"data_dir": data_dir, "key_file": key_file}
    return Workspace(settings.model_copy(update={k: v for k, v in changes.items() if v is not None}))
