"""One installation's parts, opened together: settings, governance database, fact store, key."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from teamlens.governance import GovernanceDB
from teamlens.pseudonymise import Pseudonymiser, load_key
from teamlens.settings import Settings
from teamlens.store import FactStore


@dataclass
class Workspace:
    """The parts of one teamlens installation, opened lazily from its settings."""

    settings: Settings = field(default_factory=Settings)

    @cached_property
    def governance(self) -> GovernanceDB:
        """The governance database (policies, approvals, ledger, audit log)."""
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        return GovernanceDB(self.settings.governance_url)

    @cached_property
    def store(self) -> FactStore:
        """The Parquet fact store."""
        return FactStore(self.settings.facts_dir)

    def pseudonymiser(self) -> Pseudonymiser:
        """A fresh pseudonymiser under this installation's key (its cache lives for one run)."""
        self.settings.check_key_location()
        secret = self.settings.key.get_secret_value() if self.settings.key else None
        return Pseudonymiser(load_key(self.settings.key_file, secret))


def open_workspace(data_dir: Path | None = None, key_file: Path | None = None) -> Workspace:
    """Open the installation from the environment's settings, overriding the folders given."""
    settings = Settings()
    changes = {"data_dir": data_dir, "key_file": key_file}
    return Workspace(settings.model_copy(update={k: v for k, v in changes.items() if v is not None}))
