"""The Graph and Google live pulls of the canary: loopback fakes of both services and connection files.

:class:`FakeGraph` and :class:`FakeGoogle` answer over a real socket
(``tests/unit/sources/replay_server.py``), so tokens, redirects, paging and query strings go
through httpx as against Microsoft and Google; :func:`write_connections` writes the connection
files that ``teamlens ingest`` recognises. Google's token is signed with a fresh RSA key; MSAL is
replaced by the test (``msal.ConfidentialClientApplication``) so no request leaves the machine.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from teamlens.domain.vendor_formats import EMAIL_HEADER, TEAMS_HEADER

from ..unit.sources.replay_server import ReplayServer, Reply, Seen
from .canary_exports import (
    COLLEAGUES,
    MONDAY,
    SUNDAY,
    Canary,
    chat,
    csv_text,
    email_report_rows,
    gmail,
    google_page,
    meet,
    teams_report_rows,
)

GRAPH_TOKEN = "eyJ0eXAi.canary-graph-token.sig"  # noqa: S105 — fake secrets whose absence is asserted too
GRAPH_SECRET = "canary~client~secret~value"  # noqa: S105
GRAPH_SECRET_ENV = "TEAMLENS_CANARY_GRAPH_SECRET"  # noqa: S105
GOOGLE_TOKEN = "ya29.c.CANARY-ACCESS-TOKEN"  # noqa: S105
_GOOGLE_PREFIX = "/admin/reports/v1/activity/users/all/applications/"


def service_account_key() -> str:
    """A fresh RSA key in a service-account JSON, for the Google live pull's signed token request."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "canary",
            "private_key_id": "k1",
            "private_key": pem,
            "client_email": "reports@canary.iam.gserviceaccount.com",
            "client_id": "1",
            "token_uri": "https://oauth2.googleapis.com/token",
        }
    )


def toml_text(values: dict[str, object]) -> str:
    """A connection file's text (JSON literals are valid TOML for strings, numbers and lists)."""
    return "".join(f"{key} = {json.dumps(value)}\n" for key, value in values.items())


def toml(path: Path, values: dict[str, object]) -> Path:
    """Write :func:`toml_text` to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(toml_text(values), encoding="utf-8")
    return path


@dataclass
class FakeGraph:
    """Graph's report downloads, calendarView and Sent Items for the canary's mailbox.

    A mailbox named by the upper-cased address answers an event whose start is the address
    itself, for the error path.
    """

    canary: Canary
    seen: list[str] = field(default_factory=list)

    def __call__(self, seen: Seen, server: ReplayServer) -> Reply:
        self.seen.append(seen.path)
        canary = self.canary
        if seen.path == "/download/email.csv":
            return Reply(200, csv_text(EMAIL_HEADER, email_report_rows(canary)))
        if seen.path == "/download/teams.csv":
            return Reply(200, csv_text(TEAMS_HEADER, teams_report_rows(canary)))
        if seen.headers.get("authorization") != f"Bearer {GRAPH_TOKEN}":
            return Reply(401, {"error": {"code": "InvalidAuthenticationToken"}})
        if seen.path.startswith("/v1.0/reports/getEmailActivityUserDetail"):
            return Reply(302, b"", {"Location": f"{server.url}/download/email.csv?sig=abc"})
        if seen.path.startswith("/v1.0/reports/getTeamsUserActivityUserDetail"):
            return Reply(302, b"", {"Location": f"{server.url}/download/teams.csv?sig=abc"})
        mailbox, _, rest = seen.path.removeprefix("/v1.0/users/").partition("/")
        if mailbox not in (canary.email, canary.shouted):
            return Reply(404, {"error": {"code": "ErrorItemNotFound", "message": mailbox}})
        if rest == "calendar/calendarView":
            meeting = graph_event(canary)
            if mailbox == canary.shouted:
                meeting["start"] = {"dateTime": canary.email, "timeZone": "UTC"}
            return Reply(200, {"value": [meeting]})
        return Reply(200, {"value": [graph_message(canary)]})


def _graph_person(canary: Canary) -> dict[str, Any]:
    return {"emailAddress": {"name": canary.name, "address": canary.email}}


def graph_event(canary: Canary) -> dict[str, Any]:
    """A calendarView event on 2026-01-09 the canary organised, with Graph's ids and the subject too."""
    return {
        "@odata.etag": 'W/"DwAAABYAAA=="',
        "id": f"AAMk-{canary.graph_id}",
        "iCalUId": f"{canary.email}-ical",
        "subject": f"Planning with {canary.name}",
        "start": {"dateTime": "2026-01-09T09:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2026-01-09T10:15:00.0000000", "timeZone": "UTC"},
        "isAllDay": False,
        "isCancelled": False,
        "showAs": "busy",
        "type": "occurrence",
        "seriesMasterId": f"AAMk-series-{canary.graph_id}",
        "isOnlineMeeting": True,
        "organizer": _graph_person(canary),
        "attendees": [
            {"type": "required", "status": {"response": "accepted"}, **_graph_person(canary)},
            *(
                {"type": "required", "status": {"response": "accepted"}, "emailAddress": {"address": who}}
                for who in COLLEAGUES[:9]
            ),
        ],
    }


def graph_message(canary: Canary) -> dict[str, Any]:
    """A Sent Items message of 2026-01-09 from the canary."""
    return {
        "@odata.etag": 'W/"CQAAABYAAA=="',
        "id": f"AAMk-mail-{canary.graph_id}",
        "sentDateTime": "2026-01-09T19:30:00Z",
        "subject": f"From {canary.name}",
        "from": _graph_person(canary),
        "sender": _graph_person(canary),
        "toRecipients": [{"emailAddress": {"address": COLLEAGUES[0]}}],
        "ccRecipients": [_graph_person(canary)],
        "bccRecipients": [],
    }


@dataclass
class FakeGoogle:
    """Google's token endpoint and the Reports API, answering from ``activities`` by time window."""

    activities: list[dict[str, Any]]

    def __call__(self, seen: Seen, server: ReplayServer) -> Reply:
        if seen.path == "/token":
            return Reply(200, {"access_token": GOOGLE_TOKEN, "expires_in": 3600, "token_type": "Bearer"})
        if seen.headers.get("authorization") != f"Bearer {GOOGLE_TOKEN}" or not seen.path.startswith(
            _GOOGLE_PREFIX
        ):
            return Reply(401, {"error": {"code": 401}})
        app = seen.path.removeprefix(_GOOGLE_PREFIX)
        start, end = (dt.datetime.fromisoformat(seen.arg(name) or "") for name in ("startTime", "endTime"))
        items = [
            item
            for item in self.activities
            if item["id"]["applicationName"] == app
            and item["events"][0]["name"] == seen.arg("eventName")
            and start <= dt.datetime.fromisoformat(item["id"]["time"]) <= end
        ]
        size, offset = int(seen.arg("maxResults") or 1000), int((seen.arg("pageToken") or "p0")[1:])
        more = offset + size < len(items)
        return Reply(200, google_page(items[offset : offset + size], f"p{offset + size}" if more else None))


def live_google_activities(canary: Canary) -> list[dict[str, Any]]:
    """What the live pull finds on 2026-01-09, plus a broken Meet call in the next week."""
    return [
        gmail(canary, "2026-01-09T10:00:00.000Z", 1),
        gmail(canary, "2026-01-09T10:01:00.000Z", 2),
        meet(canary, "2026-01-09T11:00:00.000Z"),
        chat(canary, "2026-01-09T12:00:00.000Z"),
        chat(canary, "2026-01-09T12:30:00.000Z"),
        meet(canary, "2026-01-14T11:00:00.000Z", seconds=canary.email),
    ]


def graph_connection(canary: Canary, url: str, **changes: object) -> dict[str, object]:
    """A ``graph_live`` connection: both reports for the week, the canary's calendar and Sent Items."""
    return {
        "kind": "graph_live",
        "tenant_id": "contoso-tenant",
        "client_id": "canary-app",
        "client_secret_env": GRAPH_SECRET_ENV,
        "reports": ["getEmailActivityUserDetail", "getTeamsUserActivityUserDetail"],
        "period": "D7",
        "start": MONDAY.isoformat(),
        "end": SUNDAY.isoformat(),
        "users": [canary.email],
        "base_url": url,
        **changes,
    }


def google_connection(url: str, key: str, **changes: object) -> dict[str, object]:
    """A ``google_reports_live`` connection for the week, two activities a page."""
    return {
        "kind": "google_reports_live",
        "applications": ["gmail", "meet", "chat"],
        "start": MONDAY.isoformat(),
        "end": SUNDAY.isoformat(),
        "service_account_key": key,
        "subject": "reports-admin@example.org",
        "base_url": url,
        "token_uri": f"{url}/token",
        "max_results": 2,
        **changes,
    }


@dataclass(frozen=True)
class Connections:
    """The connection files :func:`write_connections` wrote, and the Google service account key."""

    graph: Path
    google: Path
    key: Path

    def key_from(self, folder: Path) -> str:
        """The key's path relative to ``folder``, as a connection file there names it."""
        return os.path.relpath(self.key, folder)


def write_connections(
    folder: Path, key: Path, canary: Canary, graph_url: str, google_url: str
) -> Connections:
    """The Graph and Google connection files for the week in ``folder``, the Google key at ``key``."""
    key.parent.mkdir(parents=True, exist_ok=True)
    key.write_text(service_account_key(), encoding="utf-8")
    graph = toml(folder / "graph.toml", graph_connection(canary, graph_url))
    google = toml(folder / "google.toml", google_connection(google_url, os.path.relpath(key, folder)))
    return Connections(graph, google, key)
