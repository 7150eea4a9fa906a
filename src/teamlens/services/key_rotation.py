"""Rotate the pseudonymisation key (R35): a new key per policy period, the old one destroyed.

``rotate(ws, directory)`` (``teamlens keys rotate --directory HR.csv``, at each period
boundary and whenever the parties ask) makes a new random key and moves everything kept under
a pseudonym to it, without ever writing down which old pseudonym became which new one:

1. The new key is written beside the key file (``<key file>.next``, owner-only).
2. The operator's current HR directory gives the identities of everyone who stays; each one's
   old and new pseudonym are computed in memory only (``Pseudonymiser`` under each key).
3. A re-keyed copy of the fact store is built beside it (``facts.rotating``; ``store._rekey``):
   facts of the policy period in force and current memberships under the new pseudonyms;
   facts dated before the period (that period's releases are over, and its key is going) and
   every row of a leaver are left out. An encrypted store's copy is encrypted under the new key.
4. One database transaction (``governance.key_periods.rekey``) moves objections, rights
   requests, view slots and API-token owners, ends every web session (workers bind again at
   their next sign-in), records the new key as the one in force and writes a ``keys.rotate``
   audit entry with counts. **Its commit is the rotation's one point of decision.**
5. The folders are swapped (``facts`` → ``facts.retired`` → deleted; ``facts.rotating`` →
   ``facts``) and the old key is destroyed: its file is overwritten, then replaced by the new
   key. Nothing derives keys from a master key, so nothing left can recompute an old pseudonym.

A kill at any step leaves what the database says: before the commit, the old state (the next
teamlens command removes the copy and the unused new key); after it, the new state (the next
command finishes the swap and destroys the old key) — ``finish_interrupted``, called by
``Workspace`` whenever it finds a rotation's leftovers. Rotations exclude one another and
ingests (the store's writer lock and a lock file beside the key).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import hmac
import os
import secrets
import shutil
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pyarrow as pa

from teamlens.errors import ConfigError
from teamlens.governance.key_periods import Rekeyed
from teamlens.pseudonymise import Pseudonymiser, derive_key, load_key
from teamlens.pseudonymise.key import KEY_BYTES, parse_key
from teamlens.services.api_tokens import owner_of
from teamlens.services.lifecycle import voter_of
from teamlens.services.workspace import STORE_KEY_PURPOSE, Workspace, rotation_paths
from teamlens.sources import ReadContext, ReadReport
from teamlens.sources.registry import detect_directory
from teamlens.store import Copied, FactStore, rekeyed_copy, source_locked

#: States of policy versions that once let data in.
_RAN = ("active", "suspended", "lapsed", "superseded", "retired")


@dataclass(frozen=True)
class RotationResult:
    """What one rotation did: the key ids, who stays, and the counts per class (never whose)."""

    old_key: str
    new_key: str
    people: int
    since: dt.date | None
    store: Copied
    database: Rekeyed


def key_id(key: bytes) -> str:
    """A public name for a key (a one-way digest: it helps no one compute a pseudonym)."""
    return hashlib.sha256(hmac.new(key, b"teamlens pseudonymisation key id", "sha256").digest()).hexdigest()


def rotate(ws: Workspace, directory: Path, *, actor: str, wait: float = 600.0) -> RotationResult:
    """Make a new pseudonymisation key and move every pseudonym to it (module docstring).

    Waits up to ``wait`` seconds for every pseudonymiser of the old key (an ingest) to finish.
    """
    settings = ws.settings
    if settings.key is not None:
        raise ConfigError(
            "The pseudonymisation key is given in TEAMLENS_KEY, which teamlens cannot replace.",
            "Keep the key in a file (TEAMLENS_KEY_FILE) to rotate it, or rotate it in your secret store "
            "with the same steps (docs/data-duties.md, 'Key rotation').",
        )
    settings.check_key_location()
    with _exclusive(ws, wait=wait):
        _settle(ws)
        old_key = load_key(settings.key_file)
        identities = _identities(directory)
        store = ws.store  # opened (its cipher registered) before the new key exists
        paths = rotation_paths(settings)
        new_key = secrets.token_bytes(KEY_BYTES)
        _write_key(paths.next_key, new_key)
        old, new = Pseudonymiser(old_key), Pseudonymiser(new_key)
        pseudonyms = {old(identity): new(identity) for identity in identities}
        active = ws.governance.active_policy()
        since = None if active is None else active.policy.period_start
        shutil.rmtree(paths.rotating, ignore_errors=True)
        encryption = derive_key(new_key, STORE_KEY_PURPOSE) if settings.encrypt_store else None
        FactStore(paths.rotating, lock_timeout=store.lock_timeout, encryption_key=encryption)
        with source_locked(store.root, store.lock_timeout) as manifest:
            copied = rekeyed_copy(
                store.root,
                manifest,
                paths.rotating,
                pa.array(list(pseudonyms), pa.string()),
                pa.array(list(pseudonyms.values()), pa.string()),
                since,
                store.lock_timeout,
            )
            database = ws.governance.rekey(
                old_id=key_id(old_key),
                new_id=key_id(new_key),
                pseudonyms=pseudonyms,
                voters=partial(_voters, old, new, pseudonyms),
                owners={owner_of(before): owner_of(after) for before, after in pseudonyms.items()},
                actor=actor,
                details={
                    "people": len(pseudonyms),
                    "period_start": None if since is None else since.isoformat(),
                    **{f"store_{name}": count for name, count in copied.__dict__.items()},
                },
            )
            _swap(ws)
    ws.__dict__.pop("store", None)  # reopened under the new key on next use
    return RotationResult(key_id(old_key), key_id(new_key), len(pseudonyms), since, copied, database)


def require_key_of_period(ws: Workspace, period_start: dt.date) -> None:
    """Refuse to ingest into a policy period whose key was made before it began (R35)."""
    if rotation_due(ws, period_start):
        raise ConfigError(
            f"The policy period that began on {period_start} still has the previous period's "
            "pseudonymisation key: each period gets a new one, so that no one's data links across "
            "periods (R35). Nothing was ingested.",
            "Rotate it first: `teamlens keys rotate --directory CURRENT-HR-EXPORT.csv`.",
        )


def rotation_due(ws: Workspace, period_start: dt.date) -> bool:
    """Whether the key in force was made before the policy period that began on ``period_start``."""
    started = ws.governance.pseudonym_key_started()
    if started is None:
        # Never rotated: the key is the first period's, unless a policy of an earlier period ran
        # and let data in under it.
        ran = [v for v in ws.governance.policy_versions() if v.state.value in _RAN]
        due = bool(ws.governance.ingestions()) and any(
            ws.governance.stored_policy(v.policy_id, v.version).policy.period_start < period_start
            for v in ran
        )
    else:
        due = started.date() < period_start
    return due


def finish_interrupted(ws: Workspace) -> str | None:
    """Finish or undo a rotation a kill interrupted, as the database decided; what was done, if anything."""
    paths = rotation_paths(ws.settings)
    if not paths.pending():
        return None
    with _exclusive(ws, wait=0.0):
        return _settle(ws)


def _settle(ws: Workspace) -> str | None:
    paths = rotation_paths(ws.settings)
    if not paths.pending():
        return None
    if paths.next_key.exists():
        new_id = key_id(parse_key(paths.next_key.read_text(), str(paths.next_key)))
        if ws.governance.pseudonym_key() == new_id:
            _swap(ws)
            return "finished"
        shutil.rmtree(paths.rotating, ignore_errors=True)
        _shred(paths.next_key)
        return "undone"
    shutil.rmtree(paths.rotating, ignore_errors=True)
    shutil.rmtree(paths.retired, ignore_errors=True)
    return "cleaned"


def _swap(ws: Workspace) -> None:
    """After the commit: the re-keyed store takes the store's place, and the old key is destroyed."""
    paths = rotation_paths(ws.settings)
    facts = ws.settings.facts_dir
    if paths.rotating.exists():
        if facts.exists():
            os.rename(facts, paths.retired)
        os.rename(paths.rotating, facts)
        _fsync_dir(facts.parent)
    shutil.rmtree(paths.retired, ignore_errors=True)
    _destroy_old_key(ws.settings.key_file, paths.next_key)


def _destroy_old_key(key_file: Path, next_key: Path) -> None:
    """The new key takes the key file's name; the old key's bytes are overwritten before that."""
    _overwrite(key_file)
    os.replace(next_key, key_file)
    _fsync_dir(key_file.parent)


def _voters(
    old: Pseudonymiser, new: Pseudonymiser, pseudonyms: Mapping[str, str], policy_id: str, version: int
) -> dict[str, str]:
    return {
        voter_of(old, policy_id, version, before): voter_of(new, policy_id, version, after)
        for before, after in pseudonyms.items()
    }


def _identities(directory: Path) -> set[str]:
    """Everyone the HR directory export lists, as the directory connector reads them (in memory only)."""
    reader = detect_directory(directory)
    context = ReadContext(pseudonymise=str, metrics=frozenset())
    people: set[str] = set()
    for batch in reader.read(directory, context, ReadReport()):
        people.update(batch.column("person").to_pylist())
    if not people:
        raise ConfigError(
            f"The directory export {directory} lists no one: a rotation with it would drop everyone's data.",
            "Give the current HR directory export.",
        )
    return people


def _write_key(path: Path, key: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key.hex() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    _fsync_dir(path.parent)


def _overwrite(path: Path) -> None:
    """Overwrite a key file's bytes with zero bytes (which no key reader accepts), durably."""
    with contextlib.suppress(FileNotFoundError), open(path, "r+b") as handle:
        handle.write(b"\0" * os.fstat(handle.fileno()).st_size)
        handle.flush()
        os.fsync(handle.fileno())


def _shred(path: Path) -> None:
    _overwrite(path)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@contextlib.contextmanager
def _exclusive(ws: Workspace, *, wait: float) -> Iterator[None]:
    """The key to itself: no other rotation or clean-up, and no pseudonymiser at work (its lease)."""
    lock = rotation_paths(ws.settings).lock
    lock.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise ConfigError(
                        "The pseudonymisation key is in use by another teamlens process (an ingest, "
                        "a sign-in, or another rotation). Nothing was changed.",
                        f"Try again when it has finished (waited {wait:g} s).",
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(descriptor)
