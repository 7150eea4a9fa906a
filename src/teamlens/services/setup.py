"""First-time set-up of an installation: data folder, governance database, pseudonymisation key."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from teamlens.pseudonymise import create_key_file
from teamlens.services.workspace import Workspace, private_folder


@dataclass(frozen=True)
class InitResult:
    """Where things were created."""

    data_dir: Path
    key_file: Path | None
    key_created: bool


def init(ws: Workspace) -> InitResult:
    """Create the data folder, the governance database and (unless given) the key, outside the data."""
    settings = ws.settings
    settings.check_key_location()
    private_folder(settings.data_dir)
    ws.governance.initialise()
    created = False
    if settings.key is None and not settings.key_file.exists():
        create_key_file(settings.key_file)
        created = True
    ws.governance.append_audit("system", "installation.initialised", {"key_created": created})
    return InitResult(settings.data_dir, None if settings.key else settings.key_file, created)
