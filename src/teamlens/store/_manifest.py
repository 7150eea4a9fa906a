"""The manifest: the one file that says which Parquet files make up the store right now.

``manifest.json`` names the current file of every month, the current directory snapshot and
every committed batch. It is only ever replaced whole (write, fsync, rename, fsync folder), so
whatever a crash interrupts, the store reads as the last manifest says. Files it does not name
are garbage and are removed by ``collect_garbage``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from teamlens.errors import StoreError
from teamlens.store._files import TMP_SUFFIX, remove_quietly, write_bytes_durably
from teamlens.store.summaries import BatchInfo

FORMAT = 1
MANIFEST = "manifest.json"
MONTHS_DIR = "months"
DIRECTORY_DIR = "directory"
#: The collaboration network's edge rows, one file per month (``_collaboration``).
EDGES_DIR = "edges"
#: Where a commit streams its incoming facts before merging them; always garbage between commits.
STAGING_DIR = "staging"
#: Where DuckDB spills when a query outgrows its memory limit (kept inside the data folder).
SPILL_DIR = "spill"
_MONTH_KEY = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_DAMAGED_HINT = (
    "The manifest was changed outside teamlens. Restore the data folder from a backup, "
    "or re-ingest the sources into an empty data folder."
)


@dataclass(frozen=True)
class Manifest:
    """One generation of the store: the files it consists of and the batches it holds."""

    generation: int = 0
    months: Mapping[str, str] = field(default_factory=dict)
    directory: str | None = None
    batches: Mapping[str, BatchInfo] = field(default_factory=dict)
    #: Whether the files are encrypted (Parquet modular encryption, key outside the data folder).
    encrypted: bool = False
    #: The current edge file of every month with collaboration edges (``_collaboration``).
    edges: Mapping[str, str] = field(default_factory=dict)

    def month_file(self, root: Path, month: str) -> Path | None:
        """The current file of ``month`` under ``root``, if the store has facts in that month."""
        relative = self.months.get(month)
        return None if relative is None else root / relative

    def directory_file(self, root: Path) -> Path | None:
        """The current directory snapshot under ``root``, if one was ever committed."""
        return None if self.directory is None else root / self.directory

    def named_files(self) -> set[str]:
        """Every data file (relative to the root) this manifest keeps alive."""
        named = set(self.months.values()) | set(self.edges.values())
        if self.directory is not None:
            named.add(self.directory)
        return named

    def to_json(self) -> dict[str, Any]:
        """The manifest as written to disk."""
        return {
            "format": FORMAT,
            **({"encrypted": True} if self.encrypted else {}),
            "generation": self.generation,
            "months": dict(sorted(self.months.items())),
            "directory": self.directory,
            **({"edges": dict(sorted(self.edges.items()))} if self.edges else {}),
            "batches": {
                content_hash: {
                    "source": info.source,
                    "label": info.label,
                    "rows": info.rows,
                    "committed_at": info.committed_at.isoformat(),
                }
                for content_hash, info in sorted(self.batches.items())
            },
        }


def month_relpath(generation: int, month: str) -> str:
    """Where a month's file of one generation lives, relative to the root."""
    return f"{MONTHS_DIR}/{month}/gen-{generation}.parquet"


def edges_relpath(generation: int, month: str) -> str:
    """Where a month's edge file of one generation lives, relative to the root."""
    return f"{EDGES_DIR}/{month}/gen-{generation}.parquet"


def directory_relpath(generation: int) -> str:
    """Where the directory snapshot of one generation lives, relative to the root."""
    return f"{DIRECTORY_DIR}/gen-{generation}.parquet"


def _damaged(path: Path, problem: str) -> StoreError:
    return StoreError(f"{path}: {problem}", _DAMAGED_HINT)


def _relative(path: Path, value: object, what: str) -> str:
    # A tampered manifest must not make the store read or delete files outside its root.
    if not isinstance(value, str) or not value:
        raise _damaged(path, f"{what} must be a relative file name")
    pure = PurePosixPath(value)
    if pure.is_absolute() or ".." in pure.parts:
        raise _damaged(path, f"{what} points outside the store")
    return value


def _batch(path: Path, content_hash: str, raw: object) -> BatchInfo:
    if not isinstance(raw, dict):
        raise _damaged(path, "a batch entry is not an object")
    try:
        return BatchInfo(
            content_hash=content_hash,
            source=str(raw["source"]),
            label=str(raw["label"]),
            rows=int(raw["rows"]),
            committed_at=dt.datetime.fromisoformat(str(raw["committed_at"])),
        )
    except (KeyError, ValueError, TypeError):
        raise _damaged(path, "a batch entry lacks source, label, rows or committed_at") from None


def load(root: Path) -> Manifest:
    """Read the current manifest; an absent manifest is an empty store."""
    path = root / MANIFEST
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Manifest()
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _damaged(path, f"not valid JSON (line {exc.lineno})") from None
    if not isinstance(raw, dict):
        raise _damaged(path, "not a JSON object")
    if raw.get("format") != FORMAT:
        raise StoreError(
            f"{path}: manifest format {raw.get('format')!r} is not supported (expected {FORMAT}).",
            "Use the teamlens version that wrote this data folder, or upgrade teamlens.",
        )
    generation = raw.get("generation")
    months = raw.get("months")
    batches = raw.get("batches")
    if not isinstance(generation, int) or generation < 0:
        raise _damaged(path, "'generation' must be a whole number ≥ 0")
    if not isinstance(months, dict) or not isinstance(batches, dict):
        raise _damaged(path, "'months' and 'batches' must be objects")
    edges = raw.get("edges", {})
    if not isinstance(edges, dict):
        raise _damaged(path, "'edges' must be an object")
    for month in [*months, *edges]:
        if not _MONTH_KEY.fullmatch(month):
            raise _damaged(path, f"'{month}' is not a month key (expected YYYY-MM)")
    directory = raw.get("directory")
    encrypted = raw.get("encrypted", False)
    if not isinstance(encrypted, bool):
        raise _damaged(path, "'encrypted' must be true or false")
    return Manifest(
        encrypted=encrypted,
        generation=generation,
        months={month: _relative(path, name, "a month file") for month, name in months.items()},
        directory=None if directory is None else _relative(path, directory, "the directory file"),
        batches={key: _batch(path, key, value) for key, value in batches.items()},
        edges={month: _relative(path, name, "an edge file") for month, name in edges.items()},
    )


def save(root: Path, manifest: Manifest) -> None:
    """Publish ``manifest``: after this returns, the store is the new generation, even after a crash."""
    text = json.dumps(manifest.to_json(), indent=2, ensure_ascii=False) + "\n"
    write_bytes_durably(root / MANIFEST, text.encode("utf-8"))


def collect_garbage(root: Path, manifest: Manifest) -> None:
    """Delete every data file ``manifest`` does not name, and every leftover of an unfinished write.

    Call only while holding the writer lock and with no readers, otherwise a file being written
    or read could be deleted under its user.
    """
    named = manifest.named_files()
    for folder in (MONTHS_DIR, DIRECTORY_DIR, EDGES_DIR):
        base = root / folder
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*"), reverse=True):  # children before their folders
            relative = path.relative_to(root).as_posix()
            if path.is_dir():
                if not any(path.iterdir()):
                    path.rmdir()
            elif relative not in named:
                remove_quietly(path)
    for folder in (STAGING_DIR, SPILL_DIR):
        shutil.rmtree(root / folder, ignore_errors=True)
    for path in root.glob("*" + TMP_SUFFIX):
        remove_quietly(path)


def remove_superseded(root: Path, old: Manifest, new: Manifest) -> None:
    """Delete the files ``old`` named that ``new`` no longer needs (call with no readers)."""
    for relative in sorted(old.named_files() - new.named_files()):
        path = root / relative
        remove_quietly(path)
        if path.parent != root and path.parent.is_dir() and not any(path.parent.iterdir()):
            path.parent.rmdir()
