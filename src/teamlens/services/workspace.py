"""One installation's parts, opened together: settings, governance database, fact store, key."""

from __future__ import annotations

import datetime as dt
import os
import stat
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import pyarrow as pa

from teamlens.errors import ConfigError
from teamlens.governance import GovernanceDB
from teamlens.pseudonymise import Pseudonymiser, derive_key, load_key
from teamlens.pseudonymise.key import lease_key
from teamlens.settings import Settings
from teamlens.store import FactStore, MetricClip

if TYPE_CHECKING:
    from teamlens.spark import BlockQuery

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


@runtime_checkable
class ManyBlockAggregator(Protocol):
    """An aggregator that answers many blocks at once (Spark: one job, not one per block)."""

    def aggregate_blocks(self, *, levels: Sequence[str], blocks: Sequence[BlockQuery]) -> list[pa.Table]:
        """Each block's ``aggregate_block`` table, in the order given."""


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
        self._settle_rotation()
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
        """A fresh pseudonymiser under this installation's key (its cache lives for one run).

        While it lives it holds the key in use (``lease_key``): a key rotation waits for it, so no
        pseudonym of a key being destroyed reaches the store after the rotation copied it.
        """
        self.settings.check_key_location()
        self._settle_rotation()
        if self.settings.key is not None:  # a key from the environment is never rotated by teamlens
            return Pseudonymiser(load_key(self.settings.key_file, self.settings.key.get_secret_value()))
        lease = lease_key(rotation_paths(self.settings).lock)
        return Pseudonymiser(load_key(self.settings.key_file), lease=lease)

    def _key(self) -> bytes:
        self.settings.check_key_location()
        self._settle_rotation()
        secret = self.settings.key.get_secret_value() if self.settings.key else None
        return load_key(self.settings.key_file, secret)

    def _settle_rotation(self) -> None:
        """Finish or undo a key rotation a kill interrupted, before the key or the store is used."""
        if rotation_paths(self.settings).pending():
            from teamlens.services.key_rotation import finish_interrupted

            finish_interrupted(self)


@dataclass(frozen=True)
class RotationPaths:
    """Where a key rotation keeps its new key, its re-keyed store and the store it replaces."""

    next_key: Path
    lock: Path
    rotating: Path
    retired: Path

    def pending(self) -> bool:
        """Whether a rotation's leftovers are here (an interrupted or running rotation)."""
        return self.next_key.exists() or self.rotating.exists() or self.retired.exists()


def rotation_paths(settings: Settings) -> RotationPaths:
    """The rotation's files: the new key and a lock beside the key file, the stores beside ``facts``."""
    key, facts = settings.key_file, settings.facts_dir
    return RotationPaths(
        next_key=key.with_name(key.name + ".next"),
        lock=key.with_name(key.name + ".rotation.lock"),
        rotating=facts.with_name(facts.name + ".rotating"),
        retired=facts.with_name(facts.name + ".retired"),
    )


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
