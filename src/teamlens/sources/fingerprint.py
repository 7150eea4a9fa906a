"""Fingerprint input files, so that ingesting the same file twice is recognised and skipped."""

from __future__ import annotations

import hashlib
from pathlib import Path

from teamlens.errors import InputFormatError

_CHUNK_BYTES = 1024 * 1024


def content_hash(path: Path) -> str:
    """The SHA-256 of ``path`` (64 hex digits): its bytes, or for a folder every file's name and bytes."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            # The relative name is hashed too, so moving a day file to another channel changes it.
            digest.update(file.relative_to(path).as_posix().encode("utf-8") + b"\0")
        try:
            with file.open("rb") as handle:
                while chunk := handle.read(_CHUNK_BYTES):
                    digest.update(chunk)
        except OSError as error:
            raise InputFormatError(file, f"cannot be read ({error.strerror})") from None
    return digest.hexdigest()
