"""Durable file operations: the small set of steps that make a commit crash-safe.

A file is only trusted once its bytes and the directory entry that names it are on disk, so
every publishing step fsyncs the file, renames it into place and then fsyncs the folder.

A store may be encrypted at rest: its key is registered here for the store's root
(``register_cipher``) when the store is opened, and every helper that opens one of its Parquet
files (``_duck.py``) looks the key up by the file's path, so code that reads or writes the store
never handles the key itself.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet.encryption as pe

from teamlens.errors import StoreError

#: Suffix of every file that is still being written; such files are garbage after a crash.
TMP_SUFFIX = ".tmp"


@dataclass(frozen=True)
class StoreCipher:
    """The AES-256 key every Parquet file of one store is encrypted with (Parquet modular encryption).

    Files are written with uniform AES-GCM encryption of the footer and every column (pyarrow),
    with a fresh random nonce per module, and read by pyarrow and by DuckDB with the same key.
    """

    key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.key) != 32:
            raise ValueError("a store key is 32 bytes (AES-256)")

    def writing(self) -> pe.FileEncryptionProperties:
        """pyarrow's properties for writing one file."""
        return pe.create_encryption_properties(self.key)

    def reading(self) -> pe.FileDecryptionProperties:
        """pyarrow's properties for reading one file."""
        return pe.create_decryption_properties(self.key)


_CIPHERS: dict[str, StoreCipher] = {}
_CIPHERS_LOCK = threading.Lock()


def register_cipher(root: Path, cipher: StoreCipher | None) -> None:
    """Encrypt (or, with None, stop encrypting) the Parquet files of the store at ``root``."""
    with _CIPHERS_LOCK:
        if cipher is None:
            _CIPHERS.pop(os.path.abspath(root), None)
        else:
            _CIPHERS[os.path.abspath(root)] = cipher


def cipher_for(path: Path) -> StoreCipher | None:
    """The key of the store holding ``path``, or None when that store is not encrypted."""
    if not _CIPHERS:
        return None
    here = os.path.abspath(path)
    while True:
        found = _CIPHERS.get(here)
        if found is not None:
            return found
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def tmp_path(final: Path) -> Path:
    """The name a file is written under before it is renamed to ``final``."""
    return final.with_name(final.name + TMP_SUFFIX)


def fsync_file(path: Path) -> None:
    """Flush one file's bytes to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries, so that renames and new names inside it survive a power cut."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_dir(path: Path) -> None:
    """Create a private folder (and its parents) and make its name durable in its parent."""
    if path.is_dir():
        return
    make_dir(path.parent)
    # Facts are pseudonymised personal data: only the service account may list them.
    path.mkdir(mode=0o700, exist_ok=True)
    fsync_dir(path.parent)


def make_private(path: Path) -> None:
    """Give a file the store wrote owner-only permissions (0600), whatever the process umask."""
    os.chmod(path, 0o600)


def seal(tmp: Path, final: Path) -> None:
    """Flush a fully written temp file and rename it to its final name (the folder is fsynced later)."""
    make_private(tmp)
    fsync_file(tmp)
    os.replace(tmp, final)


def write_bytes_durably(final: Path, data: bytes) -> None:
    """Replace ``final`` with ``data`` atomically: readers see the old or the new content, never a mix."""
    tmp = tmp_path(final)
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
        make_private(tmp)  # an older, wider temp file keeps its mode through O_TRUNC
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, final)
    fsync_dir(final.parent)


def remove_quietly(path: Path) -> None:
    """Delete a file that may already be gone (cleanup never turns into a second failure)."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


@contextmanager
def reported_as_store_errors(root: Path, action: str) -> Iterator[None]:
    """Turn file and Parquet failures inside the block into a StoreError that says what to do."""
    try:
        yield
    except OSError as exc:
        # strerror is the system's reason ("No space left on device"); the path is ours, no data.
        raise StoreError(
            f"Could not {action} the fact store at {root}: {exc.strerror or type(exc).__name__}.",
            "Check free space and permissions of the data folder, then run `FactStore.verify()` "
            "(teamlens store verify) to find damaged or missing files.",
        ) from None
    except pa.ArrowException as exc:
        # Arrow's own message may quote data from the file, so only its kind is reported.
        raise StoreError(
            f"Could not {action} the fact store at {root}: a Parquet file is damaged ({type(exc).__name__}).",
            "Run `FactStore.verify()` (teamlens store verify) to find the file; restore the data "
            "folder from a backup or re-ingest the sources.",
        ) from None
