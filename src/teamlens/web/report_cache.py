"""``/``: the released reports, rendered once per release and kept compressed.

Rendering the report reads every published cell and takes a good part of a second; the page is
several hundred kilobytes. So the page is rendered only when what it shows changes
(``services.report_freshness.report_key``: the policy version in force and its releases) and
kept together with its gzip encoding, compressed once. Each request asks only for the cheap
``governance_stamp`` (the newest audit entry and the day): while it is unchanged the kept page
is served as it is; when it moved (something was recorded, or a day passed), the key is checked
again, which re-verifies the policy in force (so a retired or lapsed policy answers "teamlens
is off" at once), and the page is rendered again only if the key changed. One render runs at a
time; requests arriving meanwhile wait for it rather than render it too.

The page is the same for everyone who may read it (no per-visitor content), so sharing it
between requests shows no one anything they could not see anyway.
"""

from __future__ import annotations

import gzip
import threading
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import Receive, Scope, Send

from teamlens import services
from teamlens.web.pages import framed

_freshness = services.report_freshness


@dataclass(frozen=True)
class RenderedReport:
    """The framed report page as UTF-8 and gzip bytes, with what it was rendered from."""

    stamp: _freshness.GovernanceStamp
    key: _freshness.ReportKey
    html: bytes
    gzipped: bytes


def accepts_gzip(accept_encoding: str) -> bool:
    """True when an ``Accept-Encoding`` header names gzip: the rule of Starlette's GZipMiddleware,
    which compresses every other response of the app (and would compress this one anyway)."""
    return "gzip" in accept_encoding.lower()


class ReportResponse(Response):
    """The kept page, gzip-encoded when the request accepts it (chosen when it is sent)."""

    media_type = "text/html"

    def __init__(self, page: RenderedReport) -> None:
        super().__init__(page.html, media_type=self.media_type)
        self.page = page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The app's GZipMiddleware leaves an encoded body alone and adds ``Vary`` to a plain one.
        if accepts_gzip(Headers(scope=scope).get("accept-encoding", "")):
            self.body = self.page.gzipped
            self.headers["content-encoding"] = "gzip"
            self.headers["content-length"] = str(len(self.body))
            self.headers["vary"] = "Accept-Encoding"
        await super().__call__(scope, receive, send)


class ReportPages:
    """The report page of one app, rendered again only when what it shows changed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._page: RenderedReport | None = None

    def response(self, ws: services.Workspace) -> ReportResponse:
        """The current report page (raises ``NoApprovedPolicy`` while no policy is in force)."""
        stamp = _freshness.governance_stamp(ws)
        page = self._page
        if page is None or page.stamp != stamp:
            page = self._refresh(ws, stamp)
        return ReportResponse(page)

    async def answer(self, ws: services.Workspace) -> ReportResponse:
        """``response`` for a coroutine: the stamp is read on the event loop (one indexed query,
        cheaper than a hop to a worker thread), and only a render runs in a worker thread."""
        stamp = _freshness.governance_stamp(ws)
        page = self._page
        if page is None or page.stamp != stamp:
            page = await run_in_threadpool(self._refresh, ws, stamp)
        return ReportResponse(page)

    def _refresh(self, ws: services.Workspace, stamp: _freshness.GovernanceStamp) -> RenderedReport:
        with self._lock:
            page = self._page
            if page is not None and page.stamp == stamp:
                return page  # another request refreshed it while this one waited
            key = _freshness.report_key(ws)
            if page is None or page.key != key:
                policy, tables = services.released_tables(ws)
                html = framed(services.render_report(services.build_context(policy, tables)), "/").encode()
                page = RenderedReport(stamp, key, html, gzip.compress(html, compresslevel=9, mtime=0))
            else:
                page = RenderedReport(stamp, key, page.html, page.gzipped)
            self._page = page
            return page


_CREATING = threading.Lock()


async def _report_pages(request: Request) -> ReportPages:
    # Async: FastAPI would run a plain function in a worker thread, a hop that costs more than this.
    pages: ReportPages | None = getattr(request.app.state, "report_pages", None)
    if pages is None:
        with _CREATING:
            pages = getattr(request.app.state, "report_pages", None)
            if pages is None:
                pages = request.app.state.report_pages = ReportPages()
    return pages


#: The app's kept report page.
ReportPage = Annotated[ReportPages, Depends(_report_pages)]
