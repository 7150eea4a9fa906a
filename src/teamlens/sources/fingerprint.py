"""Fingerprint input files, so that ingesting the same file twice is recognised and skipped."""

from __future__ import annotations

import hashlib
from pathlib import Path

from teamlens.errors import InputFormatError

_CHUNK_BYTES = 1024 * 1024


def content_hash(path: Path) -> str:
    """The SHA-256 of the bytes of ``path`` (64 hex digits), read in chunks of 1 MiB."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK_BYTES):
                digest.update(chunk)
    except OSError as error:
        raise InputFormatError(path, f"cannot be read ({error.strerror})") from None
    return digest.hexdigest()
