"""Connector for Google Workspace Reports API activities saved as JSON (``activities.list`` responses).

Accepted layouts, all UTF-8 (a BOM is allowed):

- one response page, as the API returns it: ``{"kind": "admin#reports#activities", "items": [...]}``;
- a JSON array of such pages (what a script that collects the responses writes);
- JSON lines, or any sequence of JSON values separated by white space, each one a page or a
  single activity (``"kind": "admin#reports#activity"``) — what streaming tools write.

The file is decoded one top-level value (one page) at a time (``json_stream.py``), so memory
holds one page plus the person-day sums, never the whole file; a page larger than 8 Mi
characters (the API's pages of at most 1,000 activities are a few megabytes) is refused. What
each application contributes, and how identities, exclusions and days are handled, is in
``google_activities.py``. A page whose ``nextPageToken`` is set but that ends the file means the
saved export stopped early: that is said in a note. A malformed file raises ``InputFormatError``
naming the file, the line where the page starts, and the item and field (``[2].items[4].id.time``).
"""

from __future__ import annotations

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
from teamlens.sources.json_stream import JsonValues, array_items

_SNIFF_BYTES = 64 * 1024
#: The largest page read: decoding one takes several times its text in memory.
MAX_PAGE_CHARS = 8 * 1024 * 1024
_WHITE = " \t\r\n"
_HINT = "Save the Reports API responses unchanged (one page, an array of pages, or JSON lines)."


def pages(path: Path, handle: IO[str]) -> Iterator[tuple[int, str, object]]:
    """Each top-level value as (line where it starts, its path prefix, the value)."""
    stream = JsonValues(path, handle, hint=_HINT, max_value_chars=MAX_PAGE_CHARS)
    first = stream.peek()
    if first is None:
        raise InputFormatError(path, "is empty", expected="Reports API activities JSON", hint=_HINT)
    if first == "[":
        for number, line, value in array_items(stream, "an array of Reports API pages"):
            yield line, f"[{number - 1}]", value
        return
    while stream.peek() is not None:
        line = stream.line
        yield line, "", stream.value()


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
