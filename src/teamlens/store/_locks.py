"""Advisory locks that keep writers apart and keep files alive while someone reads them.

Two ``flock`` files live in the store root. ``.lock`` is held exclusively by the one process
that may change the store (commit, retention, erasure, garbage collection). ``.readers.lock``
is held shared by every read; files a commit superseded are deleted only when that lock can be
taken exclusively, so a query never loses a file it is scanning. ``flock`` locks belong to an
open file, so two ``FactStore`` objects in one process exclude each other like two processes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from teamlens.errors import StoreError

WRITER_LOCK = ".lock"
READERS_LOCK = ".readers.lock"
_POLL_SECONDS = 0.05


def _open(path: Path) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)


@contextmanager
def writer_lock(root: Path, timeout: float) -> Iterator[None]:
    """Hold the store's writer lock, waiting up to ``timeout`` seconds for another writer to finish."""
    fd = _open(root / WRITER_LOCK)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StoreError(
                        f"The fact store at {root} is being changed by another teamlens process "
                        f"(waited {timeout:g} s for its writer lock).",
                        "Wait for the running ingest, retention or erasure to finish, then try again. "
                        f"If no teamlens process is running, the lock is stale: remove {root / WRITER_LOCK}.",
                    ) from None
                time.sleep(_POLL_SECONDS)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


@contextmanager
def _try_exclusive(path: Path) -> Iterator[bool]:
    """Take the lock file ``path`` exclusively if it is free right now; yields whether it was taken."""
    fd = _open(path)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def try_writer_lock(root: Path) -> contextlib.AbstractContextManager[bool]:
    """Take the writer lock if it is free right now; yields whether it was taken."""
    return _try_exclusive(root / WRITER_LOCK)


@contextmanager
def shared_read(root: Path) -> Iterator[None]:
    """Hold a read lease: no file named by the manifest you read is deleted until you leave."""
    fd = _open(root / READERS_LOCK)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


def no_readers(root: Path) -> contextlib.AbstractContextManager[bool]:
    """Take the readers lock exclusively if nobody is reading; yields whether it was taken."""
    return _try_exclusive(root / READERS_LOCK)
