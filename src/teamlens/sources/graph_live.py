"""Live pull from Microsoft Graph (usage reports, calendar and Sent Items metadata) via a connection file.

``teamlens ingest graph-connection.toml`` with::

    kind = "graph_live"
    tenant_id = "00000000-0000-0000-0000-000000000000"
    client_id = "11111111-1111-1111-1111-111111111111"
    client_secret_env = "TEAMLENS_GRAPH_SECRET"   # the environment variable holding the secret
    reports = ["getEmailActivityUserDetail", "getTeamsUserActivityUserDetail"]   # optional
    period = "D7"            # or "daily": one date= report per day from start to end (Graph keeps 30 days)
    start = 2024-01-01       # first day counted by the calendar and mail pulls
    end = 2024-01-07         # last day counted (inclusive)
    users = ["someone@example.org"]   # optional: mailboxes whose calendar and Sent Items are read
    metadata = ["calendar", "mail"]   # optional, default both when users are given
    # authority = "https://login.microsoftonline.com"  base_url = "https://graph.microsoft.com"

The secret never sits in the file (a ``client_secret`` field is refused). The app needs the
application permissions ``Reports.Read.All``, and for ``users`` ``Calendars.ReadBasic.All``
and ``Mail.ReadBasic.All`` (which exclude bodies and attachments), with admin consent.

Reports are fetched as Graph documents them: the API answers 302 with a pre-authenticated
download URL, fetched without the Authorization header; the CSV is written to a private
temporary folder (mode 0700, removed as soon as it is parsed) and read by the usage-report
connector (``m365_reports.py``) unchanged, its facts labelled with this connector's name.
Where a metric comes from both a report and the per-day calendar or mail pull
(``emails_sent``, ``meetings_attended``, ``meeting_minutes``, ``recurring_meetings``), the
per-day pull wins and the report's column is not read, so nothing is counted twice. Usage
reports are totals: the policy's exclusions cannot be applied to them, and a note says so.

Calendar events and Sent Items also feed the metrics that combine sources (focus hours,
after-hours collaboration, 1:1 time with one's manager…) when the policy asks for one: each
meeting and message counted goes into the ingestion's timeline (``activity.py``) as the file
readers' do, in each person's own time zone, and each mailbox whose calendar was pulled counts
as a calendar covering ``start``..``end``. Graph gives no received mail here (only Sent Items)
and no chat messages, so those parts of the combined metrics come from other inputs.

Calendar and mail requests carry ``$select`` (``graph_metadata.py``), so content is never
fetched; a next-page link that drops ``$select`` or leaves the Graph host is refused. People
who objected are not fetched at all. Days are local to each person; the requests cover a day
more either side and only ``start``..``end`` is kept, as in ``google_live.py``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pyarrow as pa

from teamlens.domain import FACT_SCHEMA
from teamlens.errors import InputFormatError
from teamlens.sources.context import ReadContext, ReadReport
from teamlens.sources.exclusions import AddressExclusions
from teamlens.sources.google_activities import Clock, DailyTally, Where
from teamlens.sources.graph_metadata import (
    CALENDAR_METRICS,
    CALENDAR_SELECT,
    MAIL_METRICS,
    MAIL_SELECT,
    MetadataCounter,
)
from teamlens.sources.graph_tokens import msal_tokens
from teamlens.sources.http_client import (
    ConnectionFile,
    HttpClient,
    RetryPolicy,
    TokenProvider,
    is_connection_file,
)
from teamlens.sources.m365_reports import EMAIL_ACTIVITY, TEAMS_ACTIVITY, UsageReportReader

KIND = "graph_live"
REPORTS: dict[str, UsageReportReader] = {reader.api: reader for reader in (EMAIL_ACTIVITY, TEAMS_ACTIVITY)}
_FIELDS = frozenset(
    {
        "tenant_id",
        "client_id",
        "client_secret_env",
        "client_secret",
        "reports",
        "period",
        "start",
        "end",
        "users",
        "metadata",
        "authority",
        "base_url",
    }
)
_MARGIN = dt.timedelta(days=1)
_PAGE = "100"


@dataclass(frozen=True)
class GraphConnection:
    """A validated ``graph_live`` connection file."""

    path: Path
    tenant_id: str = field(repr=False)
    client_id: str = field(repr=False)
    secret_env: str
    start: dt.date
    end: dt.date
    reports: tuple[str, ...] = ()
    period: str = "D7"
    users: tuple[str, ...] = field(default=(), repr=False)
    metadata: tuple[str, ...] = ()
    authority: str = "https://login.microsoftonline.com"
    base_url: str = "https://graph.microsoft.com"

    @classmethod
    def load(cls, path: Path) -> GraphConnection:
        """Parse and check ``path``; ``ConfigError`` naming the field otherwise."""
        conn = ConnectionFile.load(path, KIND, _FIELDS)
        if "client_secret" in conn.fields:
            raise conn.error(
                "client_secret",
                "must not be in the file",
                "Delete it, put the secret in an environment variable, and name that "
                "variable in client_secret_env.",
            )
        reports = conn.texts("reports") if "reports" in conn.fields else ()
        for name in reports:
            if name not in REPORTS:
                raise conn.error(
                    "reports", "names a report teamlens does not read", f"Use: {', '.join(REPORTS)}."
                )
        period = conn.text("period", "D7")
        if period not in ("D7", "daily"):
            raise conn.error("period", 'must be "D7" or "daily"')
        users = conn.texts("users") if "users" in conn.fields else ()
        default = ("calendar", "mail") if users else ()
        metadata = conn.texts("metadata") if "metadata" in conn.fields else default
        if set(metadata) - {"calendar", "mail"}:
            raise conn.error("metadata", 'may list only "calendar" and "mail"')
        if metadata and not users:
            raise conn.error("users", "is needed for the calendar and mail pulls")
        start, end = conn.date("start"), conn.date("end")
        if end < start:
            raise conn.error("end", "is before start")
        if not reports and not metadata:
            raise conn.error("reports", "and users are both missing: there is nothing to pull")
        return cls(
            path=path,
            tenant_id=conn.text("tenant_id"),
            client_id=conn.text("client_id"),
            secret_env=conn.text("client_secret_env"),
            start=start,
            end=end,
            reports=reports,
            period=period,
            users=users,
            metadata=tuple(dict.fromkeys(metadata)),
            authority=conn.url("authority", "https://login.microsoftonline.com"),
            base_url=conn.url("base_url", "https://graph.microsoft.com"),
        )

    def report_calls(self) -> list[tuple[str, str]]:
        """(report name, call suffix) for every report download: one D7 call, or one per day."""
        if self.period == "D7":
            return [(name, "(period='D7')") for name in self.reports]
        days = [self.start + dt.timedelta(days=n) for n in range((self.end - self.start).days + 1)]
        return [(name, f"(date={day.isoformat()})") for name in self.reports for day in days]


@dataclass(frozen=True)
class GraphLiveReader:
    """Pull Microsoft Graph reports and calendar/mail metadata into facts (a ``SourceReader``)."""

    name: str = "graph_live"
    description: str = 'Microsoft Graph, pulled live (a TOML connection file with kind = "graph_live")'
    tokens: Callable[[GraphConnection], TokenProvider] = msal_tokens
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep

    def sniff(self, path: Path) -> bool:
        """True for a ``.toml`` file whose ``kind`` is ``graph_live``."""
        return is_connection_file(path, KIND)

    def read(self, path: Path, ctx: ReadContext, report: ReadReport) -> Iterator[pa.RecordBatch]:
        """Pull the connection's reports and metadata, then yield the policy's metrics."""
        conn = GraphConnection.load(path)
        per_day = (CALENDAR_METRICS if "calendar" in conn.metadata else frozenset()) | (
            MAIL_METRICS if "mail" in conn.metadata else frozenset()
        )
        people: set[str] = set()
        with HttpClient(path, self.tokens(conn), retry=self.retry, sleep=self.sleep) as http:
            if conn.reports:
                report_ctx = dataclasses.replace(ctx, metrics=ctx.metrics - per_day)
                from_reports = {rule.metric for name in conn.reports for rule in REPORTS[name].rules}
                if ctx.metrics & per_day & from_reports:
                    report.note(
                        "metrics counted per day from calendars or Sent Items were not read from "
                        "the usage reports, so they are not counted twice"
                    )
                if ctx.exclusions.addresses or ctx.exclusions.domains:
                    report.note(
                        "usage reports are per-person totals: the policy's exclusions cannot be "
                        "applied to them, only to the calendar and mail pulls"
                    )
                for name, call in conn.report_calls():
                    for batch in self._report(http, conn, name, call, report_ctx, report):
                        people.update(batch.column("person").to_pylist())
                        yield batch
            tally = DailyTally(self.name, ctx.metrics, conn.start, conn.end + dt.timedelta(days=1))
            if conn.metadata and (per_day & ctx.metrics or ctx.activity.enabled):
                people |= self._metadata(http, conn, ctx, report, tally)
        report.people_seen = len(people)
        yield from tally.batches(ctx.batch_rows, report)

    def _report(
        self,
        http: HttpClient,
        conn: GraphConnection,
        name: str,
        call: str,
        ctx: ReadContext,
        report: ReadReport,
    ) -> list[pa.RecordBatch]:
        what = f"Graph report {name}{call}"
        reader = dataclasses.replace(REPORTS[name], name=self.name)
        part = ReadReport()
        # mkdtemp makes the folder 0700; the CSV (plain user names) lives only while it is parsed.
        with tempfile.TemporaryDirectory(prefix="teamlens-") as folder:
            csv_path = Path(folder) / "report.csv"
            with os.fdopen(os.open(csv_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as sink:
                http.download(f"{conn.base_url}/v1.0/reports/{name}{call}", what, sink)
            try:
                # Plain strings, as the calendar and mail tally yields them: one schema per stream.
                batches = [batch.cast(FACT_SCHEMA) for batch in reader.read(csv_path, ctx, part)]
            except InputFormatError as error:
                detail = error.message.replace(str(csv_path), "the downloaded CSV")
                raise http.fail(what, detail) from None
        report.rows_read += part.rows_read
        report.rows_kept += part.rows_kept
        report.facts += part.facts
        report.concealed = report.concealed or part.concealed
        for note in part.notes:
            report.note(note)
        return batches

    def _metadata(
        self, http: HttpClient, conn: GraphConnection, ctx: ReadContext, report: ReadReport, tally: DailyTally
    ) -> set[str]:
        clock, excluded = Clock(ctx), AddressExclusions(ctx.exclusions)
        counter = MetadataCounter(tally, clock, excluded, ctx.messages, ctx.activity, ctx.pseudonymise)
        timeline = ctx.activity.enabled
        begin = dt.datetime.combine(conn.start, dt.time(), dt.UTC) - _MARGIN
        stop = dt.datetime.combine(conn.end + dt.timedelta(days=1), dt.time(), dt.UTC) + _MARGIN
        since, until = (moment.strftime("%Y-%m-%dT%H:%M:%SZ") for moment in (begin, stop))
        people: set[str] = set()
        skipped, rows_before = 0, report.rows_read
        for index, user in enumerate(conn.users):
            if excluded(user):
                skipped += 1
                continue
            person = ctx.pseudonymise(user)
            if person in ctx.excluded_persons:
                continue  # an objector's mailbox is not even fetched
            people.add(person)
            mailbox = f"{conn.base_url}/v1.0/users/{quote(user, safe='@')}"
            label = f"users[{index}]"
            if "calendar" in conn.metadata and (CALENDAR_METRICS & ctx.metrics or timeline):
                params = {
                    "startDateTime": since,
                    "endDateTime": until,
                    "$select": CALENDAR_SELECT,
                    "$top": _PAGE,
                }
                for where, item in self._items(
                    http, conn, f"{mailbox}/calendar/calendarView", params, f"Graph calendarView of {label}"
                ):
                    counter.event(person, item, where)
                    report.rows_read += 1
                if timeline:
                    ctx.activity.record_calendar(person, conn.start, conn.end)
            if "mail" in conn.metadata and (MAIL_METRICS & ctx.metrics or timeline):
                params = {
                    "$select": MAIL_SELECT,
                    "$top": _PAGE,
                    "$filter": f"sentDateTime ge {since} and sentDateTime lt {until}",
                }
                for where, item in self._items(
                    http,
                    conn,
                    f"{mailbox}/mailFolders('SentItems')/messages",
                    params,
                    f"Graph Sent Items of {label}",
                ):
                    counter.message(person, item, where)
                    report.rows_read += 1
        # Objectors' mailboxes are never fetched, so every item read belongs to someone kept.
        report.rows_kept += report.rows_read - rows_before
        if skipped:
            report.note(f"{skipped} mailboxes in users are excluded addresses and were not read")
        if counter.copies:
            report.note(
                f"{counter.copies} sent messages were copies of messages already counted (same "
                "sender, time and recipients, or the same internetMessageId) and were counted once"
            )
        if counter.dropped:
            report.note(
                f"{counter.dropped} meetings and messages involving excluded addresses or domains "
                "were not counted"
            )
        return people

    def _items(
        self, http: HttpClient, conn: GraphConnection, url: str, params: dict[str, str] | None, what: str
    ) -> Iterator[tuple[Where, object]]:
        """Every item of a Graph collection, following ``@odata.nextLink`` page by page."""
        base = urlsplit(conn.base_url)
        number = 1
        while True:
            label = f"{what} page {number}"
            page = http.get_json(url, label, params, headers={"Prefer": 'outlook.timezone="UTC"'})
            items = page.get("value")
            if not isinstance(items, list):
                raise http.fail(label, "the answer has no list of items", field="value")
            for index, item in enumerate(items):
                yield Where(conn.path, None, f"{label}.value[{index}]"), item
            link = page.get("@odata.nextLink")
            if link is None:
                return
            parts = urlsplit(link) if isinstance(link, str) else None
            if parts is None or (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
                raise http.fail(label, "the next-page link leaves the Graph host named by base_url")
            if "$select" not in parse_qs(parts.query):
                raise http.fail(label, "the next-page link dropped $select; teamlens never fetches content")
            url, params, number = str(link), None, number + 1


GRAPH_LIVE = GraphLiveReader()
