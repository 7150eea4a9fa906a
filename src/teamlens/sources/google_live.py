"""Live pull of Google Workspace Reports API activities, ingested through a connection file.

``teamlens ingest google-connection.toml`` with::

    kind = "google_reports_live"
    applications = ["gmail", "meet", "chat"]
    start = 2024-01-01                    # first day counted
    end = 2024-01-31                      # last day counted (inclusive)
    service_account_key = "keys/reports-sa.json"   # relative to this file; keep it out of the data folder
    subject = "reports-admin@example.org"          # admin the service account acts for
    # customer = "C01abc"  max_results = 1000  base_url = "..."  token_uri = "..."  (optional)

The service account needs domain-wide delegation for the scope ``admin.reports.audit.readonly``.
Each application is fetched with its one counted event (``delivery``, ``call_ended``,
``message_posted``) — calendar is refused, it yields no metric — and only if the policy allows one
of its metrics (gmail and chat also when it asks for a metric that combines sources: their
messages feed the ingestion's timeline, ``activity.py``). Days are counted in each person's time
zone, so the requests cover one extra day either side and only days ``start``..``end`` are kept:
every day emitted is complete, and adjacent pulls never overlap. Requests are split into windows
of at most 30 days (gmail requires it; the others get the same slices), pages are followed through
``nextPageToken`` and reduced as they arrive (see ``google_activities.py``).

**Progress and restarts.** The store commits a file's facts only once the reader has finished,
so a pull that is killed stores nothing. A checkpoint next to the connection file
(``.<name>.state.json``, hidden so that ingesting the folder skips it) records the connection's
fingerprint, the slices finished and the pages read of the current one — application names,
dates and counts only, never a page token or anything about a person. A restarted pull reads
every slice again from its first page and says how far the stopped one had come: caching the
finished slices' sums would put pseudonymised personal data outside the store, beyond its
retention and erasure, and resuming from a page token without them would lose the earlier
pages. Re-reading costs API quota, never correctness: no activity is counted twice. The
checkpoint is removed when a pull completes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import google.auth.exceptions
import google.auth.transport
import pyarrow as pa
from google.oauth2 import service_account

from teamlens.errors import ConfigError
from teamlens.sources.context import ReadContext, ReadReport
from teamlens.sources.google_activities import PAGE_KIND, ActivityReducer, DailyTally, Where
from teamlens.sources.google_reports import reduce_page
from teamlens.sources.http_client import (
    ConnectionFile,
    HttpClient,
    RetryPolicy,
    TokenProvider,
    is_connection_file,
    send_once,
)

KIND = "google_reports_live"
SCOPE = "https://www.googleapis.com/auth/admin.reports.audit.readonly"
#: The one event counted per application, and the metrics it can give.
EVENTS = {"gmail": "delivery", "meet": "call_ended", "chat": "message_posted"}
APPLICATION_METRICS = {
    "gmail": frozenset({"emails_sent", "emails_received", "emails_read", "after_hours_emails"}),
    "meet": frozenset({"meeting_minutes", "meetings_attended"}),
    "chat": frozenset({"chat_messages"}),
}
#: Applications whose activities also feed the metrics that combine sources (``google_activities``).
TIMELINE_APPLICATIONS = frozenset({"gmail", "chat"})
MAX_WINDOW = dt.timedelta(days=30)
_MARGIN = dt.timedelta(days=1)  # covers every UTC offset (−12 h … +14 h) around local days
_FIELDS = frozenset(
    {
        "customer",
        "applications",
        "start",
        "end",
        "service_account_key",
        "subject",
        "base_url",
        "token_uri",
        "max_results",
    }
)


@dataclass(frozen=True)
class Slice:
    """One application over one UTC window [start, end) of at most 30 days."""

    application: str
    start: dt.datetime
    end: dt.datetime

    @property
    def label(self) -> str:
        """How the slice is named in progress and errors (no identifier)."""
        return f"Reports API {self.application} {self.start:%Y-%m-%d}..{self.end:%Y-%m-%d}"


@dataclass(frozen=True)
class GoogleConnection:
    """A validated ``google_reports_live`` connection file."""

    path: Path
    applications: tuple[str, ...]
    start: dt.date
    end: dt.date
    key_file: Path
    subject: str = field(repr=False)
    customer: str | None = None
    base_url: str = "https://admin.googleapis.com"
    token_uri: str | None = None
    max_results: int = 1000

    @classmethod
    def load(cls, path: Path) -> GoogleConnection:
        """Parse and check ``path``; ``ConfigError`` naming the field otherwise."""
        conn = ConnectionFile.load(path, KIND, _FIELDS)
        applications = conn.texts("applications")
        for name in applications:
            if name == "calendar":
                raise conn.error(
                    "applications",
                    "lists calendar, which yields no metric",
                    "Remove it: calendar audit events record edits, not meetings; meet gives meeting time.",
                )
            if name not in EVENTS:
                raise conn.error(
                    "applications",
                    "names an application teamlens does not read",
                    f"Use some of: {', '.join(EVENTS)}.",
                )
        start, end = conn.date("start"), conn.date("end")
        if end < start:
            raise conn.error("end", "is before start")
        return cls(
            path=path,
            applications=tuple(dict.fromkeys(applications)),
            start=start,
            end=end,
            key_file=conn.file("service_account_key"),
            subject=conn.text("subject"),
            customer=conn.text("customer") if "customer" in conn.fields else None,
            base_url=conn.url("base_url", "https://admin.googleapis.com"),
            token_uri=conn.url("token_uri", "") if "token_uri" in conn.fields else None,
            max_results=conn.integer("max_results", 1000, 1, 1000),
        )

    def slices(self, application: str) -> list[Slice]:
        """The request windows for ``application``, one day wider than the days counted on each side."""
        begin = dt.datetime.combine(self.start, dt.time(), dt.UTC) - _MARGIN
        stop = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), dt.UTC) + _MARGIN
        windows = []
        while begin < stop:
            windows.append(Slice(application, begin, min(stop, begin + MAX_WINDOW)))
            begin += MAX_WINDOW
        return windows


@dataclass(frozen=True)
class _AuthResponse(google.auth.transport.Response):
    answer: tuple[int, dict[str, str], bytes]

    @property
    def status(self) -> int:
        return self.answer[0]

    @property
    def headers(self) -> Mapping[str, str]:
        return self.answer[1]

    @property
    def data(self) -> bytes:
        return self.answer[2]


class _AuthRequest(google.auth.transport.Request):
    """google-auth's transport over teamlens's HTTP client, so the token request takes the API's path."""

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        **_: Any,
    ) -> _AuthResponse:
        try:
            return _AuthResponse(send_once(method, url, body=body, headers=headers, timeout=timeout or 60.0))
        except OSError as error:
            raise google.auth.exceptions.TransportError(str(error)) from None  # type: ignore[no-untyped-call]


class ServiceAccountTokens:
    """Tokens for a service account acting for the connection's admin (a ``TokenProvider``)."""

    def __init__(self, connection: GoogleConnection) -> None:
        where = f"{connection.path}: the service account key named by 'service_account_key'"
        try:
            info = json.loads(connection.key_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise ConfigError(
                f"{where} cannot be read as JSON.",
                "Download the key again from the Google Cloud console (JSON type).",
            ) from None
        if not isinstance(info, dict):
            raise ConfigError(f"{where} is not a key object.", "Download the key again (JSON type).")
        if connection.token_uri:
            info["token_uri"] = connection.token_uri
        try:
            self._credentials = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
                info, scopes=[SCOPE], subject=connection.subject
            )
        except (ValueError, KeyError, TypeError):
            # google-auth's message may quote the key's fields; only the fact is reported.
            raise ConfigError(
                f"{where} is not a usable service account key.",
                "Download the key again (JSON type) for the service account.",
            ) from None
        self._origin = connection.path

    def token(self) -> str:
        """A valid access token, fetched again when the previous one expires."""
        if not self._credentials.valid:
            try:
                self._credentials.refresh(_AuthRequest())
            except google.auth.exceptions.GoogleAuthError as error:
                raise ConfigError(
                    f"{self._origin}: Google did not issue a token to the service account "
                    f"({type(error).__name__}).",
                    f"Check domain-wide delegation of {SCOPE} to the service account, that 'subject' "
                    "names an admin allowed to read reports, and that the key is not revoked.",
                ) from None
        return str(self._credentials.token)


class Progress:
    """The checkpoint of one pull: slices finished and pages read, for the admin and for restarts."""

    def __init__(self, connection: Path, total: int, report: ReadReport) -> None:
        self.path = connection.with_name(f".{connection.name}.state.json")
        self.fingerprint = hashlib.sha256(connection.read_bytes()).hexdigest()
        self.total, self.report, self.done = total, report, 0
        previous = self._load()
        done = previous.get("done")
        if previous.get("connection") == self.fingerprint and isinstance(done, int):
            report.note(
                f"a previous pull of this connection stopped after {done} of {total} slices; "
                "nothing of it was stored, so every slice is read again (nothing is counted twice)"
            )

    def _load(self) -> dict[str, object]:
        try:
            state = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return state if isinstance(state, dict) else {}

    def save(self, current: str | None, pages: int) -> None:
        """Record that ``pages`` pages of slice ``current`` were read after ``done`` whole slices."""
        state = {
            "version": 1,
            "connection": self.fingerprint,
            "slices": self.total,
            "done": self.done,
            "current": {"slice": current, "pages": pages},
        }
        temporary = self.path.with_name(self.path.name + ".tmp")
        try:
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump(state, handle)
            os.replace(temporary, self.path)
        except OSError:
            self.report.note("the pull's progress could not be saved next to the connection file")

    def finish(self) -> None:
        """Forget the checkpoint: the pull completed."""
        self.path.unlink(missing_ok=True)


@dataclass(frozen=True)
class GoogleLiveReader:
    """Pull Reports API activities for a connection file into facts (a ``SourceReader``)."""

    name: str = "google_reports_live"
    description: str = (
        'Google Workspace Reports API, pulled live (a TOML connection file with kind = "google_reports_live")'
    )
    tokens: Callable[[GoogleConnection], TokenProvider] = ServiceAccountTokens
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep

    def sniff(self, path: Path) -> bool:
        """True for a ``.toml`` file whose ``kind`` is ``google_reports_live``."""
        return is_connection_file(path, KIND)

    def read(self, path: Path, ctx: ReadContext, report: ReadReport) -> Iterator[pa.RecordBatch]:
        """Pull every slice of the connection, then yield the policy's metrics per person and day."""
        connection = GoogleConnection.load(path)
        applications = [
            app
            for app in connection.applications
            if APPLICATION_METRICS[app] & ctx.metrics
            or (ctx.activity.enabled and app in TIMELINE_APPLICATIONS)
        ]
        if len(applications) < len(connection.applications):
            report.note("applications whose metrics the policy does not allow were not pulled")
        tally = DailyTally(self.name, ctx.metrics, connection.start, connection.end + dt.timedelta(days=1))
        reducer = ActivityReducer(ctx, report, tally)
        slices = [piece for app in applications for piece in connection.slices(app)]
        progress = Progress(path, len(slices), report)
        if slices:
            tokens = self.tokens(connection)
            with HttpClient(path, tokens, retry=self.retry, sleep=self.sleep) as http:
                for piece in slices:
                    self._pull(http, connection, piece, reducer, progress)
                    progress.done += 1
                    progress.save(None, 0)
        reducer.finish()
        yield from tally.batches(ctx.batch_rows, report)
        progress.finish()

    def _pull(
        self,
        http: HttpClient,
        connection: GoogleConnection,
        piece: Slice,
        reducer: ActivityReducer,
        progress: Progress,
    ) -> None:
        url = f"{connection.base_url}/admin/reports/v1/activity/users/all/applications/{piece.application}"
        # The API's range is inclusive; ending 1 ms early keeps adjacent windows from sharing an instant.
        last = piece.end - dt.timedelta(milliseconds=1)
        params = {
            "startTime": piece.start.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "endTime": last.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "eventName": EVENTS[piece.application],
            "maxResults": str(connection.max_results),
        }
        if connection.customer:
            params["customerId"] = connection.customer
        seen: set[str] = set()
        number = 1
        while True:
            what = f"{piece.label} page {number}"
            page = http.get_json(url, what, params)
            if page.get("kind") != PAGE_KIND:
                raise http.fail(what, "the answer is not a Reports API page", field="kind")
            reduce_page(page, Where(connection.path, None, what), reducer)
            progress.save(piece.label, number)
            token = page.get("nextPageToken")
            if not isinstance(token, str) or not token:
                return
            if token in seen:
                raise http.fail(what, "the API repeated a page token; the pull would never end")
            seen.add(token)
            params["pageToken"] = token
            number += 1


GOOGLE_LIVE = GoogleLiveReader()
