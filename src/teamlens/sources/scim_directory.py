"""Connector for a SCIM 2.0 ``/Users`` export (RFC 7643/7644) as the HR directory.

Accepted shapes: a ``ListResponse`` (``{"Resources": [...]}``), a JSON array of users, or JSON
lines with one user (or one ``ListResponse`` page) per line; JSON lines are parsed line by line.

**Identity.** A person is their primary e-mail (``emails`` with ``primary: true``, else the one of
type ``work``, else the first), or ``userName`` when there is none — the address the mail,
calendar and Microsoft 365 connectors pseudonymise, so the rows join their facts. The user's other
e-mails, and ``userName`` when it is another address, are their **aliases**: mail to or from any
of them counts for the one person (used while the same ingestion reads, never stored). Names,
ids, phone numbers, managers and every attribute not listed here are never read.

**Groups.** From the enterprise extension: ``department`` and ``division`` as they are; ``team``
from the first of ``team_from`` present (by default ``costCenter``, then ``department``);
``location`` is the ``locality`` of the user's work address (all rows are held until the end of
the file, one per user, to check that no person appears twice).

**Validity.** SCIM holds only the present: each user's position is valid from the date of
``meta.created`` (or from 1970-01-01 when absent) and open-ended while ``active``. An inactive
user's position ends on the date of ``meta.lastModified``, the best available date of leaving;
inactive users without one are left out with a note, since when they left is unknown.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ijson
import pyarrow as pa

from teamlens.domain import DIRECTORY_READ_SCHEMA
from teamlens.errors import InputFormatError
from teamlens.sources.context import ReadContext, ReadReport

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
EARLIEST = dt.date(1970, 1, 1)
_SNIFF_BYTES = 64 * 1024
_HINT = "Export the SCIM /Users endpoint again (a ListResponse, a JSON array or JSON lines of users)."
_NO_END = dt.date.max


@dataclass
class _User:
    identity: str
    valid_from: dt.date
    valid_to: dt.date | None
    team: str | None
    department: str | None
    division: str | None
    location: str | None
    aliases: list[str]
    where: str


class _Record:
    """One user resource and where it is in the file, with typed, error-raising accessors."""

    def __init__(self, path: Path, where: str, line: int | None, data: object) -> None:
        self.path, self.where, self.line = path, where, line
        if not isinstance(data, dict):
            raise self.fail(None, "the user record is not a JSON object")
        self.data: dict[str, Any] = data

    def fail(self, field: str | None, problem: str, expected: str | None = None) -> InputFormatError:
        """The error for this record naming ``field``, never its value."""
        return InputFormatError(
            self.path, f"{self.where}: {problem}", line=self.line, field=field, expected=expected, hint=_HINT
        )

    def text(self, parent: dict[str, Any], key: str, field: str) -> str | None:
        """``parent[key]`` as trimmed text (None when absent or empty)."""
        value = parent.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(field, "this is not a string")
        return value.strip() or None

    def child(self, parent: dict[str, Any], key: str, field: str) -> dict[str, Any]:
        """``parent[key]`` as an object ({} when absent)."""
        value = parent.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(field, "this is not a JSON object")
        return value

    def items(self, key: str) -> list[dict[str, Any]]:
        """``data[key]`` as a list of objects ([] when absent)."""
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise self.fail(key, "this is not a list of JSON objects")
        return value

    def date(self, parent: dict[str, Any], key: str, field: str) -> dt.date | None:
        """``parent[key]``, an RFC 3339 timestamp or date, as the calendar date written in it."""
        value = self.text(parent, key, field)
        if value is None:
            return None
        try:
            return dt.datetime.fromisoformat(value).date()
        except ValueError:
            raise self.fail(
                field, "this is not a timestamp", "an RFC 3339 date-time such as 2024-01-31T09:00:00Z"
            ) from None


@dataclass(frozen=True)
class ScimDirectoryReader:
    """Read a SCIM 2.0 ``/Users`` export into ``DIRECTORY_READ_SCHEMA`` rows (a ``DirectoryReader``)."""

    name: str = "scim_directory"
    description: str = (
        "SCIM 2.0 /Users JSON (ListResponse, array or JSON lines): primary e-mail, enterprise "
        "department, division, costCenter as team, other e-mails as aliases; valid from meta.created"
    )
    team_from: tuple[str, ...] = ("costCenter", "department")

    def sniff(self, path: Path) -> bool:
        """True when ``path`` starts like JSON and mentions SCIM's user schema or ``userName``."""
        try:
            with path.open("rb") as handle:
                head = handle.read(_SNIFF_BYTES).decode("utf-8-sig", errors="replace")
        except OSError:
            return False
        return head.lstrip()[:1] in ("{", "[") and (USER_SCHEMA in head or '"userName"' in head)

    def read(self, path: Path, ctx: ReadContext, report: ReadReport) -> Iterator[pa.RecordBatch]:
        """Yield one directory row per user; objectors are left out."""
        users: list[_User] = []
        no_end = others = 0
        for record in _records(path):
            report.rows_read += 1
            schemas = record.data.get("schemas")
            if isinstance(schemas, list) and schemas and USER_SCHEMA not in schemas:
                others += 1  # a Group or another resource type mixed into the export
                continue
            user = self._user(record, ctx)
            if user is None:
                no_end += 1
            elif user.identity not in ctx.excluded_persons:
                users.append(user)
        if others:
            report.note(
                f"skipped {others} resource{'s' if others > 1 else ''} whose schemas are not "
                "the SCIM User schema"
            )
        if no_end:
            report.note(
                f"left out {no_end} inactive user{'s' if no_end > 1 else ''} without "
                "meta.lastModified: the date they left is unknown"
            )
        _check_overlaps(path, users)
        report.rows_kept = len(users)
        report.people_seen = len({user.identity for user in users})
        for start in range(0, len(users), ctx.batch_rows):
            yield _batch(users[start : start + ctx.batch_rows])

    def _user(self, record: _Record, ctx: ReadContext) -> _User | None:
        data = record.data
        enterprise = record.child(data, ENTERPRISE, ENTERPRISE)
        meta = record.child(data, "meta", "meta")
        identity = _identity(record)
        active = data.get("active", True)
        if isinstance(active, str) and active.lower() in ("true", "false"):
            active = active.lower() == "true"  # some providers write booleans as strings
        if not isinstance(active, bool):
            raise record.fail("active", "this is not true or false")
        valid_from = record.date(meta, "created", "meta.created") or EARLIEST
        valid_to = None
        if not active:
            valid_to = record.date(meta, "lastModified", "meta.lastModified")
            if valid_to is None or valid_to <= valid_from:
                return None
        group = {
            key: record.text(enterprise, key, f"{ENTERPRISE}.{key}")
            for key in ("department", "division", *self.team_from)
        }
        person = ctx.pseudonymise(identity)
        aliases = {ctx.pseudonymise(address) for address in _addresses(record)} - {person}
        return _User(
            identity=person,
            valid_from=valid_from,
            valid_to=valid_to,
            team=next((group[key] for key in self.team_from if group[key]), None),
            department=group["department"],
            division=group["division"],
            location=_locality(record),
            aliases=sorted(aliases),
            where=record.where,
        )


def _identity(record: _Record) -> str:
    emails = record.items("emails")
    chosen = (
        next((e for e in emails if e.get("primary") is True), None)
        or next((e for e in emails if e.get("type") == "work"), None)
        or (emails[0] if emails else None)
    )
    address = record.text(chosen, "value", "emails.value") if chosen else None
    identity = address or record.text(record.data, "userName", "userName")
    if identity is None:
        raise record.fail(
            "userName", "the user has neither an e-mail nor a userName", expected="emails[].value or userName"
        )
    return identity


def _addresses(record: _Record) -> list[str]:
    """Every address the user has: each ``emails[].value`` and ``userName`` when it is an address."""
    found = [record.text(item, "value", "emails.value") for item in record.items("emails")]
    user_name = record.text(record.data, "userName", "userName")
    return [address for address in (*found, user_name) if address and "@" in address]


def _locality(record: _Record) -> str | None:
    work = next((a for a in record.items("addresses") if a.get("type") == "work"), None)
    return record.text(work, "locality", "addresses.locality") if work else None


#: A JSON line (one user or one page) longer than this is refused; so is a single-user document.
_MAX_LINE_CHARS = 8 * 1024 * 1024
_BOM = b"\xef\xbb\xbf"


def _records(path: Path) -> Iterator[_Record]:
    """Every user resource in ``path``, whatever of the three shapes it has, one at a time.

    JSON lines are read line by line; a whole document (an array of users, or a ListResponse)
    is streamed with ijson, one user at a time, so memory follows the largest user, not the file.
    """
    try:
        handle = path.open(encoding="utf-8-sig")
    except OSError as error:
        raise InputFormatError(path, f"cannot be opened ({error.strerror})") from None
    with handle:
        try:
            first = handle.readline(_MAX_LINE_CHARS)
            single = _try_loads(first) if first.strip().startswith("{") else None
            if isinstance(single, dict):
                # A complete object on the first line: JSON lines, read one line at a time.
                yield from _expand(path, single, 1, "line 1")
                lines = iter(lambda: handle.readline(_MAX_LINE_CHARS), "")
                for number, line in enumerate(lines, start=2):
                    if len(line) == _MAX_LINE_CHARS and not line.endswith("\n"):
                        raise InputFormatError(
                            path,
                            f"has a line longer than {_MAX_LINE_CHARS // 2**20} Mi characters",
                            line=number,
                            expected="one SCIM user or ListResponse page per line",
                            hint=_HINT,
                        )
                    if line.strip():
                        yield from _expand(path, _loads(path, line, number), number, f"line {number}")
                return
        except UnicodeDecodeError:
            raise InputFormatError(
                path, "is not valid UTF-8 text", hint="Save the export as UTF-8."
            ) from None
    yield from _document(path)


def _document(path: Path) -> Iterator[_Record]:
    """The users of a whole-file document: an array of users, a ListResponse, or one user."""
    found = False
    for prefix, where in (
        ("item", "user {} of the array"),
        ("Resources.item", "the document, Resources[{}]"),
    ):
        for index, item in enumerate(_stream(path, prefix)):
            found = True
            yield _Record(path, where.format(index + 1 if prefix == "item" else index), None, item)
        if found:
            return
    if path.stat().st_size > _MAX_LINE_CHARS:
        raise InputFormatError(
            path,
            "is one JSON object too large to be a SCIM user",
            expected="SCIM 2.0 users as a ListResponse, a JSON array or JSON lines",
            hint=_HINT,
        )
    document = _loads(path, path.read_bytes().removeprefix(_BOM).decode("utf-8"), None)
    yield from _expand(path, document, None, "the document")


def _stream(path: Path, prefix: str) -> Iterator[object]:
    """The JSON values at ``prefix`` of the document in ``path``, as ijson finds them one by one."""
    with path.open("rb") as raw:
        if raw.read(3) != _BOM:
            raw.seek(0)
        try:
            yield from ijson.items(raw, prefix, use_float=True)
        except (ijson.JSONError, UnicodeDecodeError):
            # ijson's messages quote the text; find the line with the standard decoder instead.
            if path.stat().st_size <= _MAX_LINE_CHARS:
                with contextlib.suppress(UnicodeDecodeError):
                    _loads(path, path.read_bytes().removeprefix(_BOM).decode("utf-8"), None)
            raise InputFormatError(
                path,
                "is not valid JSON",
                expected="SCIM 2.0 users as a ListResponse, a JSON array or JSON lines",
                hint=_HINT,
            ) from None


def _expand(path: Path, data: object, line: int | None, where: str) -> Iterator[_Record]:
    """A ``ListResponse`` page's users, or ``data`` itself when it is one user."""
    if isinstance(data, dict) and "Resources" in data:
        resources = data["Resources"]
        if not isinstance(resources, list):
            raise InputFormatError(
                path, f"{where}: Resources is not a list", line=line, field="Resources", hint=_HINT
            )
        for index, item in enumerate(resources):
            yield _Record(path, f"{where}, Resources[{index}]", line, item)
    else:
        yield _Record(path, where, line, data)


def _try_loads(text: str) -> object:
    """``text`` parsed, or None when it is not one complete JSON value (a pretty-printed start)."""
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None


def _loads(path: Path, text: str, line: int | None) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        # json's messages name the syntax problem and position, never the text around it.
        at = line if line is not None else error.lineno
        raise InputFormatError(
            path,
            f"is not valid JSON ({error.msg})",
            line=at,
            expected="SCIM 2.0 users as a ListResponse, a JSON array or JSON lines",
            hint=_HINT,
        ) from None
    except RecursionError:
        raise InputFormatError(
            path, "is nested too deeply to be a SCIM export", line=line, hint=_HINT
        ) from None


def _check_overlaps(path: Path, users: list[_User]) -> None:
    spans: dict[str, list[_User]] = {}
    for user in users:
        for other in spans.setdefault(user.identity, []):
            overlap = user.valid_from < (other.valid_to or _NO_END) and other.valid_from < (
                user.valid_to or _NO_END
            )
            if overlap:
                raise InputFormatError(
                    path,
                    f"{user.where}: the same person as {other.where} with an overlapping validity",
                    field="emails",
                    expected="one record per person at any date",
                    hint="Remove the duplicate user from the export.",
                )
        spans[user.identity].append(user)


def _batch(users: list[_User]) -> pa.RecordBatch:
    columns = {
        "person": pa.array([u.identity for u in users], pa.string()),
        "valid_from": pa.array([u.valid_from for u in users], pa.date32()),
        "valid_to": pa.array([u.valid_to for u in users], pa.date32()),
        "team": pa.array([u.team for u in users], pa.string()),
        "department": pa.array([u.department for u in users], pa.string()),
        "division": pa.array([u.division for u in users], pa.string()),
        "location": pa.array([u.location for u in users], pa.string()),
        # SCIM carries no working hours: the policy's default applies.
        **{name: pa.nulls(len(users), pa.string()) for name in ("time_zone", "work_start", "work_end")},
        "aliases": pa.array([u.aliases or None for u in users], pa.list_(pa.string())),
        "manager": pa.nulls(len(users), pa.string()),
    }
    return pa.RecordBatch.from_arrays(
        [columns[field.name] for field in DIRECTORY_READ_SCHEMA], schema=DIRECTORY_READ_SCHEMA
    )


SCIM_DIRECTORY = ScimDirectoryReader()
