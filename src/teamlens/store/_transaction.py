"""One change to the store: new files for one generation, published by replacing the manifest.

Until ``publish`` replaces the manifest, everything a transaction wrote is garbage: a crash or
an exception leaves the store as it was (``abort`` removes what was written, and a crash's
leftovers are collected on the next open). After ``publish`` returns, the new generation is
the store, durably; files only the old generation named are removed once nobody reads them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from teamlens.errors import StoreError
from teamlens.store._files import cipher_for, fsync_dir, make_dir, remove_quietly, tmp_path
from teamlens.store._locks import no_readers, writer_lock
from teamlens.store._manifest import (
    Manifest,
    collect_garbage,
    directory_relpath,
    edges_relpath,
    load,
    month_relpath,
    remove_superseded,
    save,
)
from teamlens.store.summaries import BatchInfo


class Transaction:
    """The files of the next generation, collected until they are published or thrown away."""

    def __init__(self, root: Path, base: Manifest) -> None:
        self.root = root
        self.base = base
        self.generation = base.generation + 1
        self.months: dict[str, str] = dict(base.months)
        self.directory: str | None = base.directory
        self.batches: dict[str, BatchInfo] = dict(base.batches)
        self.edges: dict[str, str] = dict(base.edges)
        self.published: Manifest | None = None
        self._created: list[Path] = []

    def new_month_file(self, month: str) -> Path:
        """Where this generation's file for ``month`` goes; the month now points at it."""
        relative = month_relpath(self.generation, month)
        self.months[month] = relative
        return self._new(relative)

    def drop_month(self, month: str) -> None:
        """Remove ``month`` from the store (all its facts are gone)."""
        self.months.pop(month, None)

    def new_edges_file(self, month: str) -> Path:
        """Where this generation's edge file for ``month`` goes; the month's edges now point at it."""
        relative = edges_relpath(self.generation, month)
        self.edges[month] = relative
        return self._new(relative)

    def drop_edges(self, month: str) -> None:
        """Remove ``month``'s edge rows from the store."""
        self.edges.pop(month, None)

    def new_directory_file(self) -> Path:
        """Where this generation's directory snapshot goes; the store now points at it."""
        relative = directory_relpath(self.generation)
        self.directory = relative
        return self._new(relative)

    def drop_directory(self) -> None:
        """Leave the store without a directory snapshot."""
        self.directory = None

    def _new(self, relative: str) -> Path:
        path = self.root / relative
        make_dir(path.parent)
        self._created.append(path)
        return path

    def publish(self) -> Manifest:
        """Make this generation the store: flush the new names, then replace the manifest."""
        for folder in sorted({path.parent for path in self._created}):
            fsync_dir(folder)
        manifest = Manifest(
            generation=self.generation,
            months=dict(self.months),
            directory=self.directory,
            batches=dict(self.batches),
            encrypted=cipher_for(self.root) is not None,
            edges=dict(self.edges),
        )
        save(self.root, manifest)
        self.published = manifest
        return manifest

    def abort(self) -> None:
        """Remove the files this unpublished transaction wrote (best effort; the rest is garbage)."""
        try:
            # A failure after the manifest's rename (its folder's fsync) leaves the new generation
            # published: then its files are the store, and must stay.
            on_disk = load(self.root).named_files()
        except StoreError:
            return
        for path in self._created:
            remove_quietly(tmp_path(path))
            if path.relative_to(self.root).as_posix() not in on_disk:
                remove_quietly(path)


def collect_if_idle(root: Path, manifest: Manifest) -> None:
    """Collect garbage now if no one is reading (the caller holds the writer lock)."""
    with no_readers(root) as alone:
        if alone:
            collect_garbage(root, manifest)


@contextmanager
def transaction(root: Path, lock_timeout: float) -> Iterator[Transaction]:
    """Run one change under the writer lock; publish it inside the block with ``tx.publish()``.

    A block that raises, or ends without publishing, leaves the store exactly as it was.
    """
    with writer_lock(root, lock_timeout):
        base = load(root)
        collect_if_idle(root, base)
        tx = Transaction(root, base)
        try:
            yield tx
        except BaseException:
            if tx.published is None:
                tx.abort()
            raise
        if tx.published is None:
            tx.abort()
            return
        with no_readers(root) as alone:
            # With readers still scanning the old files, they stay until a later change or open.
            if alone:
                remove_superseded(root, base, tx.published)
