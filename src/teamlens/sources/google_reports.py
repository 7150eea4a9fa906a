"""Connector for Google Workspace Reports API activities saved as JSON (``activities.list`` responses).

Accepted layouts, all UTF-8 (a BOM is allowed):

- one response page, as the API returns it: ``{"kind": "admin#reports#activities", "items": [...]}``;
- a JSON array of such pages (what a script that collects the responses writes);
- JSON lines, or any sequence of JSON values separated by white space, each one a page or a
  single activity (``"kind": "admin#reports#activity"``) — what streaming tools write.

The file is decoded one top-level value (one page) at a time, so memory holds one page plus
the person-day sums, never the whole file. What each application contributes, and how
identities, exclusions and days are handled, is in ``google_activities.py``. A page whose
``nextPageToken`` is set but that ends the file means the saved export stopped early: that is
said in a note. A malformed file raises ``InputFormatError`` naming the file, the line where
the page starts, and the item and field (``[2].items[4].id.time``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pyarrow as pa

from teamlens.errors import InputFormatError
from teamlens.sources.context import ReadContext, ReadReport
from teamlens.sources.google_activities import (
    ACTIVITY_KIND,
    PAGE_KIND,
    ActivityReducer,
    DailyTally,
    Where,
)

_SNIFF_BYTES = 64 * 1024
_FIRST_READ = 1024 * 1024
_WHITE = " \t\r\n"
_DECODER = json.JSONDecoder()
_HINT = "Save the Reports API responses unchanged (one page, an array of pages, or JSON lines)."


class _JsonValues:
    """Decode consecutive JSON values from a text stream, reading more only when a value is incomplete."""

    def __init__(self, path: Path, handle: IO[str]) -> None:
        self.path, self.handle = path, handle
        self.buffer, self.pos, self.line, self.eof = "", 0, 1, False

    def _fill(self) -> bool:
        if self.eof:
            return False
        try:
            # Read at least as much as is buffered, so a large page is re-parsed O(log n) times.
            chunk = self.handle.read(max(_FIRST_READ, len(self.buffer) - self.pos))
        except UnicodeDecodeError:
            raise InputFormatError(self.path, "is not UTF-8 text", line=self.line, hint=_HINT) from None
        except OSError as error:
            raise InputFormatError(self.path, f"cannot be read ({type(error).__name__})") from None
        if not chunk:
            self.eof = True
            return False
        self.buffer = self.buffer[self.pos :] + chunk
        self.pos = 0
        return True

    def peek(self) -> str | None:
        """The next character that is not white space (counting the lines passed), or None at the end."""
        while True:
            while self.pos < len(self.buffer) and self.buffer[self.pos] in _WHITE:
                if self.buffer[self.pos] == "\n":
                    self.line += 1
                self.pos += 1
            if self.pos < len(self.buffer):
                return self.buffer[self.pos]
            if not self._fill():
                return None

    def take(self) -> None:
        """Consume the character ``peek`` returned."""
        self.pos += 1

    def value(self) -> object:
        """The next JSON value (``peek`` must have found one)."""
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError as error:
                if self._fill():
                    continue
                line = self.line + self.buffer.count("\n", self.pos, error.pos)
                # json's message names the expected token and position, never the text itself.
                raise InputFormatError(
                    self.path, f"is not valid JSON ({error.msg})", line=line, hint=_HINT
                ) from None
            except RecursionError:
                raise InputFormatError(
                    self.path, "nests JSON too deeply", line=self.line, hint=_HINT
                ) from None
            if end == len(self.buffer) and not isinstance(value, dict | list | str) and self._fill():
                continue  # a number or literal at the buffer's end may continue in the next chunk
            self.line += self.buffer.count("\n", self.pos, end)
            self.pos = end
            return value


def pages(path: Path, handle: IO[str]) -> Iterator[tuple[int, str, object]]:
    """Each top-level value as (line where it starts, its path prefix, the value)."""
    stream = _JsonValues(path, handle)
    first = stream.peek()
    if first is None:
        raise InputFormatError(path, "is empty", expected="Reports API activities JSON", hint=_HINT)
    if first != "[":
        while stream.peek() is not None:
            line = stream.line
            yield line, "", stream.value()
        return
    stream.take()
    index = 0
    while True:
        char = stream.peek()
        if char == "]" and index == 0:
            stream.take()
            break
        if char is None:
            raise InputFormatError(path, "ends inside the array of pages", line=stream.line, hint=_HINT)
        line = stream.line
        yield line, f"[{index}]", stream.value()
        index += 1
        char = stream.peek()
        if char == "]":
            stream.take()
            break
        if char != ",":
            raise InputFormatError(
                path, "is not valid JSON (expecting ',' or ']' between pages)", line=stream.line, hint=_HINT
            )
        stream.take()
    if stream.peek() is not None:
        raise InputFormatError(path, "has text after the array of pages", line=stream.line, hint=_HINT)


def reduce_page(value: object, where: Where, reducer: ActivityReducer) -> bool:
    """Fold one page (or one bare activity) into ``reducer``; True when the page says more follow."""
    if isinstance(value, dict) and value.get("kind") == PAGE_KIND:
        items = value.get("items", [])
        if not isinstance(items, list):
            raise where.fail("items", "is not a list", expected="a list of activities")
        for index, item in enumerate(items):
            reducer.add(item, Where(where.file, where.line, f"{where.at}.items[{index}]".lstrip(".")))
        return isinstance(value.get("nextPageToken"), str) and bool(value["nextPageToken"])
    if isinstance(value, dict) and value.get("kind") == ACTIVITY_KIND:
        reducer.add(value, where)
        return False
    raise where.fail(
        "kind", "is not a Reports API page or activity", expected=f'"{PAGE_KIND}" or "{ACTIVITY_KIND}"'
    )


@dataclass(frozen=True)
class GoogleReportsReader:
    """Read saved Google Workspace Reports API activities into facts (a ``SourceReader``)."""

    name: str = "google_reports"
    description: str = (
        "Google Workspace Reports API activities saved as JSON (gmail, meet, chat; "
        "one page, an array of pages, or JSON lines)"
    )

    def sniff(self, path: Path) -> bool:
        """True when ``path`` starts like JSON and names a Reports API activity kind near its start."""
        try:
            with path.open("rb") as handle:
                head = handle.read(_SNIFF_BYTES).decode("utf-8", errors="ignore").lstrip("\ufeff" + _WHITE)
        except OSError:
            return False
        return head[:1] in ("{", "[") and ACTIVITY_KIND in head

    def read(self, path: Path, ctx: ReadContext, report: ReadReport) -> Iterator[pa.RecordBatch]:
        """Yield the policy's metrics from the activities in ``path``, summed per person and day."""
        tally = DailyTally(self.name, ctx.metrics)
        reducer = ActivityReducer(ctx, report, tally)
        more = False
        try:
            handle = path.open(encoding="utf-8-sig", newline="")
        except OSError as error:
            raise InputFormatError(path, f"cannot be read ({type(error).__name__})") from None
        with handle:
            for line, prefix, value in pages(path, handle):
                more = reduce_page(value, Where(path, line, prefix), reducer)
        reducer.finish()
        if more:
            report.note(
                "the last page in the file has a nextPageToken: the saved export may stop "
                "before the end of the period it was asked for"
            )
        yield from tally.batches(ctx.batch_rows, report)


GOOGLE_REPORTS = GoogleReportsReader()
