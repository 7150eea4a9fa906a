"""Open a Slack export, ZIP or unzipped folder alike, and load its JSON files one at a time.

Only the keys a connector counts with survive parsing: every JSON object is cut down to
:data:`KEPT_KEYS` as the decoder builds it, so message text, blocks, files and profile names
are dropped the moment they are decoded and never held. Each file is read whole but alone — a
day of one conversation, or a listing — so memory follows the largest file, not the export.
Every problem becomes an ``InputFormatError`` naming the export, the file inside it, and the
JSON line and column or record index. Group-DM folders are named after their members
(``mpdm-alice--bob-1``), so errors show them by position, never by name.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from teamlens.errors import InputFormatError

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
        self._present = frozenset(self._names)

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

    def load(self, name: str, label: str | None = None) -> Any:
        """The parsed JSON of file ``name``, cut down to :data:`KEPT_KEYS`."""
        data = self._bytes(name, label)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise InputFormatError(
                self.where(name, label),
                f"is not UTF-8 text (bad byte at offset {error.start})",
                expected="Slack's UTF-8 JSON",
                hint=_REEXPORT,
            ) from None
        try:
            return json.loads(text, object_pairs_hook=_keep)
        except json.JSONDecodeError as error:
            # The decoder's messages ("Expecting ',' delimiter") quote no data.
            raise InputFormatError(
                self.where(name, label),
                f"is not valid JSON at column {error.colno}: {error.msg}",
                line=error.lineno,
                hint=_REEXPORT,
            ) from None
        except RecursionError:
            raise InputFormatError(
                self.where(name, label), "nests JSON too deeply to be a Slack export", hint=_REEXPORT
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

    def _bytes(self, name: str, label: str | None) -> bytes:
        where = self.where(name, label)
        if self._zip is None:
            try:
                with (self.path / name).open("rb") as handle:
                    data = handle.read(MAX_FILE_BYTES + 1)
            except OSError as error:
                raise InputFormatError(where, f"cannot be read ({error.strerror})") from None
        else:
            try:
                with self._zip.open(self._prefix + name) as handle:
                    data = handle.read(MAX_FILE_BYTES + 1)
            except _ZIP_ERRORS:
                raise InputFormatError(
                    where, "cannot be extracted: the ZIP is damaged or truncated", hint=_REEXPORT
                ) from None
        if len(data) > MAX_FILE_BYTES:
            raise InputFormatError(
                where,
                f"is larger than {MAX_FILE_BYTES // 2**20} MiB",
                expected="one day of one conversation per file",
                hint=_REEXPORT,
            )
        return data


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
    """The objects of the JSON array in file ``name``, with their 1-based record numbers."""
    data = archive.load(name, label)
    if not isinstance(data, list):
        raise InputFormatError(
            archive.where(name, label), "is not a JSON array", expected=what, hint=_REEXPORT
        )
    for number, record in enumerate(data, 1):
        if not isinstance(record, dict):
            raise InputFormatError(
                archive.where(name, label),
                f"record {number} is not a JSON object",
                expected=what,
                hint=_REEXPORT,
            )
        yield number, record
