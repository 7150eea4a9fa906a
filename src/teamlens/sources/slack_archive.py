"""Open a Slack export, ZIP or unzipped folder alike, and load its JSON files one at a time.

Only the keys a connector counts with survive parsing: every JSON object is cut down to
:data:`KEPT_KEYS` as the decoder builds it, so message text, blocks, files and profile names
are dropped the moment they are decoded and never held. Each file is streamed one record at a
time (``json_stream.py``), so memory follows the largest record, not the file or the export.
A ZIP is checked before anything is extracted: no member may declare more than
:data:`MAX_FILE_BYTES`, expand more than :data:`MAX_RATIO` times its compressed size, or bring
the whole export past :data:`MAX_RATIO` times the ZIP's size (``zipfile`` never yields more than
a member declares), so the time spent is bounded by the bytes given.
Every problem becomes an ``InputFormatError`` naming the export, the file inside it, and the
JSON line and column or record index. Group-DM folders are named after their members
(``mpdm-alice--bob-1``), so errors show them by position, never by name.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from teamlens.errors import InputFormatError
from teamlens.sources.json_stream import JsonValues, array_items

#: The keys read anywhere in an export; every other key is dropped while parsing.
KEPT_KEYS = frozenset(
    {
        "id",
        "team_id",
        "is_bot",
        "profile",
        "email",
        "name",
        "members",
        "ts",
        "subtype",
        "user",
        "thread_ts",
        "bot_id",
        "reactions",
        "users",
    }
)
USERS_FILES = ("users.json", "org_users.json")
LISTING_FILES = ("channels.json", "groups.json", "dms.json", "mpims.json")
#: Files Slack puts in conversation folders that are not days of messages.
NOT_DAY_FILES = frozenset({"canvas_in_the_conversation.json"})
#: A day of one conversation beyond this is not a Slack export (or is a decompression bomb).
MAX_FILE_BYTES = 256 * 1024 * 1024
#: How far a ZIP member (above 1 MiB) or the whole export may expand; Slack's JSON stays far below.
MAX_RATIO = 100
_SMALL_MEMBER = 1024 * 1024
#: One record (a message, a user, a conversation) beyond this is not Slack's.
MAX_RECORD_CHARS = 16 * 1024 * 1024
_DAY_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}\.json$")
# What zipfile raises on damaged archives, beyond BadZipFile: it trusts many length fields.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    struct.error,
    EOFError,
    OSError,
    NotImplementedError,
    ValueError,
    IndexError,
    KeyError,
    OverflowError,
)
_REEXPORT = "Download the export again from Slack (Workspace settings → Import/Export Data)."


def _keep(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    return {key: value for key, value in pairs if key in KEPT_KEYS}


@dataclass(frozen=True)
class Conversation:
    """One conversation folder: its name in the export, how errors show it, and its files."""

    folder: str
    label: str
    files: tuple[str, ...]


class SlackArchive:
    """A Slack export opened for reading; use as a context manager (it may hold an open ZIP)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        self._prefix = ""
        if path.is_dir():
            self._names = sorted(
                str(file.relative_to(path)).replace("\\", "/") for file in path.rglob("*") if file.is_file()
            )
        else:
            try:
                self._zip = zipfile.ZipFile(path)
                self._names = sorted(
                    info.filename
                    for info in self._zip.infolist()
                    if info.filename and not info.filename.endswith("/")
                )
            except _ZIP_ERRORS:
                raise InputFormatError(
                    path,
                    "is not a readable ZIP file (it may be truncated)",
                    expected="a Slack export ZIP or its unzipped folder",
                    hint=_REEXPORT,
                ) from None
            self._prefix = _common_prefix(self._names)
            self._names = [name[len(self._prefix) :] for name in self._names if name.startswith(self._prefix)]
            self._check_sizes()
        self._present = frozenset(self._names)

    def _check_sizes(self) -> None:
        """Refuse a ZIP whose members would expand beyond what a Slack export can (a ZIP bomb)."""
        assert self._zip is not None
        total = 0
        for info in self._zip.infolist():
            if info.filename.endswith("/"):
                continue
            total += info.file_size
            too_big = info.file_size > MAX_FILE_BYTES
            bomb = info.file_size > _SMALL_MEMBER and info.file_size > MAX_RATIO * max(info.compress_size, 1)
            if too_big or bomb:
                name = info.filename[len(self._prefix) :] if info.filename.startswith(self._prefix) else "?"
                raise InputFormatError(
                    self.where(name),
                    f"would expand to {info.file_size:,} bytes from {info.compress_size:,}: "
                    "more than a Slack export's file can be",
                    expected=f"at most {MAX_FILE_BYTES // 2**20} MiB per file and {MAX_RATIO} times "
                    "its compressed size",
                    hint="Nothing was read from this ZIP. " + _REEXPORT,
                )
        if total > MAX_RATIO * self.path.stat().st_size + _SMALL_MEMBER:
            raise InputFormatError(
                self.path,
                f"would expand to {total:,} bytes, more than {MAX_RATIO} times its own size",
                expected="a Slack export ZIP (JSON compresses far less than that)",
                hint="Nothing was read from this ZIP. " + _REEXPORT,
            )

    def __enter__(self) -> SlackArchive:
        return self

    def __exit__(self, *_: object) -> None:
        if self._zip is not None:
            self._zip.close()

    def has(self, name: str) -> bool:
        """True when the export holds the file ``name`` (a path inside the export)."""
        return name in self._present

    def where(self, name: str, label: str | None = None) -> str:
        """How errors name file ``name`` of this export (``label``: how its folder is shown)."""
        folder, _, file = name.rpartition("/")
        if folder.startswith("mpdm-") or label is not None:
            # Group-DM folder names list their members' user names: never print them.
            name = f"{label or 'a group-DM folder'}/{file}"
        return f"{self.path}, file {name}" if self._zip is not None else str(self.path / name)

    @contextmanager
    def text(self, name: str, label: str | None = None) -> Iterator[io.TextIOWrapper]:
        """File ``name`` opened as UTF-8 text, read as it is consumed (never whole)."""
        where = self.where(name, label)
        try:
            raw = (self.path / name).open("rb") if self._zip is None else self._zip.open(self._prefix + name)
        except OSError as error:
            raise InputFormatError(where, f"cannot be read ({error.strerror})") from None
        except _ZIP_ERRORS:
            raise InputFormatError(
                where, "cannot be extracted: the ZIP is damaged or truncated", hint=_REEXPORT
            ) from None
        with raw, io.TextIOWrapper(raw, encoding="utf-8-sig") as handle:
            try:
                yield handle
            except InputFormatError:
                raise
            except _ZIP_ERRORS:
                raise InputFormatError(
                    where, "cannot be extracted: the ZIP is damaged or truncated", hint=_REEXPORT
                ) from None

    def conversations(self) -> tuple[list[Conversation], int, int]:
        """Every conversation folder, plus how many non-day JSON files and other files were skipped."""
        by_folder: dict[str, list[str]] = {}
        skipped_known = skipped_other = 0
        for name in self._names:
            parts = name.split("/")
            if len(parts) != 2 or parts[0].startswith(("__MACOSX", ".")) or parts[1].startswith("."):
                continue
            folder, file = parts
            if not file.endswith(".json"):
                skipped_other += 1
            elif file in NOT_DAY_FILES:
                skipped_known += 1
            elif not _is_day_name(file):
                raise InputFormatError(
                    self.where(name),
                    "is not named after a day",
                    expected="conversation files named YYYY-MM-DD.json",
                    hint=_REEXPORT,
                )
            else:
                by_folder.setdefault(folder, []).append(name)
        found: list[Conversation] = []
        group_dms = 0
        for folder in sorted(by_folder):
            label = folder
            if folder.startswith("mpdm-"):
                group_dms += 1
                label = f"group-DM folder {group_dms}"
            found.append(Conversation(folder, label, tuple(sorted(by_folder[folder]))))
        return found, skipped_known, skipped_other


def _is_day_name(file: str) -> bool:
    if not _DAY_NAME.match(file):
        return False
    try:
        dt.date.fromisoformat(file[:10])
    except ValueError:
        return False
    return True


def _common_prefix(names: list[str]) -> str:
    """The folder the export sits in inside the ZIP ('' when channels.json is at its root)."""
    candidates = sorted(
        (name for name in names if name.rsplit("/", 1)[-1] == "channels.json"),
        key=lambda name: name.count("/"),
    )
    return candidates[0][: -len("channels.json")] if candidates else ""


def is_slack_export(path: Path) -> bool:
    """True when ``path`` is a ZIP or folder holding channels.json and users.json/org_users.json."""
    try:
        if path.is_dir():
            return (path / "channels.json").is_file() and any((path / n).is_file() for n in USERS_FILES)
        if not zipfile.is_zipfile(path):
            return False
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
        prefix = _common_prefix(names)
        return prefix + "channels.json" in names and any(prefix + users in names for users in USERS_FILES)
    except Exception:  # sniffing must never raise, whatever the bytes
        return False


def records(
    archive: SlackArchive, name: str, what: str, label: str | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """The objects of the JSON array in file ``name``, with their 1-based record numbers, one at a time."""
    with archive.text(name, label) as handle:
        stream = JsonValues(
            archive.where(name, label),
            handle,
            hint=_REEXPORT,
            object_pairs_hook=_keep,
            max_value_chars=MAX_RECORD_CHARS,
        )
        for number, _, record in array_items(stream, what):
            if not isinstance(record, dict):
                raise InputFormatError(
                    archive.where(name, label),
                    f"record {number} is not a JSON object",
                    expected=what,
                    hint=_REEXPORT,
                )
            yield number, record
