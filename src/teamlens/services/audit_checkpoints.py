"""Signed checkpoints of the audit log for the representative to hold (A17, R33).

``keygen`` writes the installation's Ed25519 signing key (kept by the installation, readable by
its owner only) and its public key (given to the representative). ``checkpoint`` signs the log's
current head into a small JSON file the representative stores outside the employer's systems;
``verify`` re-walks the chain and, given such a file, proves the log was neither cut short nor
rebuilt since.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from teamlens.errors import ConfigError
from teamlens.governance import AuditVerification, Checkpoint, checkpoints
from teamlens.services.workspace import Workspace

KEY_NAME = "audit-checkpoint.key"
PUBLIC_NAME = "audit-checkpoint.pub"


@dataclass(frozen=True)
class KeyFiles:
    """Where ``keygen`` wrote the key pair, and the public key itself."""

    private_key: Path
    public_key: Path
    public_hex: str


def keygen(folder: Path) -> KeyFiles:
    """Write a new checkpoint signing key pair into ``folder``; never overwrites an existing key."""
    folder.mkdir(parents=True, exist_ok=True)
    private, public = folder / KEY_NAME, folder / PUBLIC_NAME
    if private.exists():
        raise ConfigError(
            f"{private} already exists; a new key would make the representative's held checkpoints "
            "unverifiable against it.",
            "Keep using it, or move it away first if you really mean to rotate the key.",
        )
    pem, public_hex = checkpoints.generate_key()
    # Created owner-only from the start, so the key is never readable by others even briefly.
    descriptor = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    public.write_text(public_hex + "\n", encoding="utf-8")
    return KeyFiles(private, public, public_hex)


def checkpoint(ws: Workspace, key_file: Path, out: Path, *, actor: str) -> Checkpoint:
    """Sign the audit log's current head and write the checkpoint file to ``out``."""
    try:
        pem = key_file.read_bytes()
    except OSError as error:
        raise ConfigError(
            f"Cannot read the checkpoint key {key_file} ({type(error).__name__}).",
            "Give the key `teamlens audit keygen` wrote.",
        ) from None
    signed = ws.governance.checkpoint(pem, str(key_file), actor)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(checkpoints.to_json(signed) + "\n", encoding="utf-8")
    return signed


def export(ws: Workspace, out: Path) -> int:
    """Write the whole audit log to ``out`` as JSON lines (for ``python -m teamlens.verify``); the count."""
    entries = ws.governance.export_audit()
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        for entry in entries:
            handle.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
    return len(entries)


def verify(
    ws: Workspace, *, checkpoint_file: Path | None = None, public_key_file: Path | None = None
) -> AuditVerification:
    """Verify the audit chain, and against a held checkpoint when one is given."""
    if checkpoint_file is None:
        return ws.governance.verify_audit()
    held = checkpoints.from_json(_read(checkpoint_file), str(checkpoint_file))
    public = _read(public_key_file).strip() if public_key_file else None
    return ws.governance.verify_checkpoint(held, public)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"Cannot read {path} ({type(error).__name__}).", "Check the path.") from None
