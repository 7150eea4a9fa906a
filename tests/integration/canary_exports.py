"""One canary person in every export teamlens reads, with the activity that makes each source store facts.

:class:`Canary` holds the person's identifiers, every one a unique string that nothing in
teamlens could produce by itself; :func:`write_exports` writes them into every file-based
connector's format under one folder (Microsoft 365 reports, Viva Insights, Google Reports JSON,
Slack folder and ZIP, mbox and Maildir, iCalendar, HR CSV, SCIM JSON). The live pulls are in
``canary_live.py``. All activity falls in ISO week 2026-W02 (Monday :data:`MONDAY`), inside the
template policy's period.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from teamlens.domain.vendor_formats import (
    EMAIL_HEADER,
    OFFICE365_HEADER,
    ONEDRIVE_HEADER,
    SHAREPOINT_HEADER,
    TEAMS_HEADER,
)
from teamlens.sources.scim_directory import ENTERPRISE, USER_SCHEMA

MONDAY = dt.date(2026, 1, 5)
SUNDAY = MONDAY + dt.timedelta(days=6)
COLLEAGUES = tuple(f"colleague{i:02d}@example.org" for i in range(1, 12))


@dataclass(frozen=True)
class Canary:
    """A person whose every identifier is a string found nowhere else: any sighting is a leak."""

    email: str = "zq-canary-7f3a9@example.org"
    name: str = "Xylophone Quixotic-Canary"
    slack_id: str = "UCANARY7F3A9"
    slack_handle: str = "xylophone.zqcanary7f3a9"
    viva_id: str = "zq-viva-person-7f3a9"
    google_id: str = "zq-google-profile-7f3a9"
    graph_id: str = "zq-graph-user-7f3a9"
    scim_id: str = "zq-scim-id-7f3a9"
    scim_external_id: str = "zq-scim-external-7f3a9"
    employee_id: str = "zq-employee-7f3a9"
    phone: str = "+44 20 7946 0731"

    @property
    def shouted(self) -> str:
        """The address as some exports write it: upper case."""
        return self.email.upper()

    @property
    def identifiers(self) -> tuple[str, ...]:
        """Every identifier the exports carry."""
        return (
            self.email,
            self.name,
            self.slack_id,
            self.slack_handle,
            self.viva_id,
            self.google_id,
            self.graph_id,
            self.scim_id,
            self.scim_external_id,
            self.employee_id,
            self.phone,
        )

    def markers(self) -> tuple[str, ...]:
        """What a search must never find: the identifiers, their parts, encodings and unkeyed hashes.

        Searches are case-insensitive, so the upper-cased address is covered. An unkeyed hash of
        the address would be as good as the address to anyone with a staff list (attack A8).
        """
        local = self.email.split("@")[0]
        canonical = self.email.lower().encode()
        digests = tuple(
            hashlib.new(algorithm, canonical).hexdigest() for algorithm in ("md5", "sha1", "sha256")
        )
        return (
            *self.identifiers,
            local,
            *self.name.split(),
            quote(self.email, safe=""),
            f"viva:{self.viva_id}",
            *digests,
        )


def csv_text(header: str, rows: list[dict[str, str]], *, bom: bool = True) -> str:
    """``rows`` under the comma-separated ``header`` (missing cells empty), CRLF, as the vendor writes."""
    columns = header.split(",")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([[row.get(column, "") for column in columns] for row in rows])
    return ("\ufeff" if bom else "") + buffer.getvalue()


def write_csv(path: Path, header: str, rows: list[dict[str, str]], *, bom: bool = True) -> Path:
    """Write :func:`csv_text` to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(csv_text(header, rows, bom=bom), encoding="utf-8")
    return path


def email_report_rows(canary: Canary) -> list[dict[str, str]]:
    """getEmailActivityUserDetail, D7 ending on Sunday: the canary's row first, then colleagues."""
    row = {
        "Report Refresh Date": SUNDAY.isoformat(),
        "Is Deleted": "False",
        "Last Activity Date": "2026-01-09",
        "Assigned Products": "MICROSOFT 365 E3",
        "Report Period": "7",
    }
    counts = {
        "Send Count": "12",
        "Receive Count": "40",
        "Read Count": "31",
        "Meeting Created Count": "2",
        "Meeting Interacted Count": "3",
    }
    first = {**row, **counts, "User Principal Name": canary.email, "Display Name": canary.name}
    others = [
        {**row, **counts, "User Principal Name": who, "Display Name": f"Colleague {n}"}
        for n, who in enumerate(COLLEAGUES)
    ]
    return [first, *others]


def teams_report_rows(canary: Canary) -> list[dict[str, str]]:
    """getTeamsUserActivityUserDetail, D7 ending on Sunday, for the canary alone."""
    return [
        {
            "Report Refresh Date": SUNDAY.isoformat(),
            "Tenant Display Name": "Example Ltd",
            "User Id": canary.graph_id,
            "User Principal Name": canary.email,
            "Last Activity Date": "2026-01-09",
            "Is Deleted": "False",
            "Assigned Products": "MICROSOFT TEAMS",
            "Team Chat Message Count": "14",
            "Private Chat Message Count": "9",
            "Call Count": "2",
            "Meeting Count": "5",
            "Meetings Organized Count": "1",
            "Meetings Attended Count": "4",
            "Audio Duration": "PT1H30M",
            "Audio Duration In Seconds": "5400",
            "Video Duration In Seconds": "1200",
            "Scheduled Recurring Meetings Attended Count": "2",
            "Is Licensed": "Yes",
            "Report Period": "7",
        }
    ]


def _m365(folder: Path, canary: Canary) -> None:
    write_csv(folder / "EmailActivityUserDetail.csv", EMAIL_HEADER, email_report_rows(canary))
    write_csv(folder / "TeamsUserActivityUserDetail.csv", TEAMS_HEADER, teams_report_rows(canary))
    files = {
        "Report Refresh Date": SUNDAY.isoformat(),
        "User Principal Name": canary.email,
        "Is Deleted": "False",
        "Last Activity Date": "2026-01-08",
        "Viewed Or Edited File Count": "6",
        "Synced File Count": "1",
        "Shared Internally File Count": "2",
        "Shared Externally File Count": "1",
        "Assigned Products": "MICROSOFT 365 E3",
        "Report Period": "7",
    }
    write_csv(folder / "OneDriveActivityUserDetail.csv", ONEDRIVE_HEADER, [files])
    write_csv(
        folder / "SharePointActivityUserDetail.csv", SHAREPOINT_HEADER, [{**files, "Visited Page Count": "4"}]
    )
    licences = {f"Has {app} License": "True" for app in ("Exchange", "OneDrive", "SharePoint", "Teams")}
    active = {
        "Report Refresh Date": SUNDAY.isoformat(),
        "User Principal Name": canary.shouted,
        "Display Name": canary.name,
        "Is Deleted": "False",
        **licences,
        "Exchange Last Activity Date": "2026-01-09",
        "OneDrive Last Activity Date": "2026-01-08",
        "Teams Last Activity Date": "2026-01-07",
        "Exchange License Assign Date": "2020-01-06",
        "Assigned Products": "MICROSOFT 365 E3",
    }
    write_csv(folder / "Office365ActiveUserDetail.csv", OFFICE365_HEADER, [active])


VIVA_HEADER = (
    "PersonId,MetricDate,Collaboration_hours,Meeting_and_call_hours,After_hours_collaboration_hours,"
    "Meetings,Emails_sent,Emails_read,Calls,Chats_sent,Email_hours,Internal_network_size,LevelDesignation"
)


def viva_rows(canary: Canary) -> list[dict[str, str]]:
    """One Viva week (Sunday 2026-01-04, Viva's week start) for the canary."""
    return [
        {
            "PersonId": canary.viva_id,
            "MetricDate": "1/4/2026",
            "Collaboration_hours": "21.5",
            "Meeting_and_call_hours": "9.25",
            "After_hours_collaboration_hours": "1.5",
            "Meetings": "11",
            "Emails_sent": "30",
            "Emails_read": "80",
            "Calls": "3",
            "Chats_sent": "44",
            "Email_hours": "6.5",
            "Internal_network_size": "37",
            "LevelDesignation": "Senior",
        }
    ]


def _activity(canary: Canary, app: str, time: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "kind": "admin#reports#activity",
        "etag": '"canary/etag"',
        "id": {
            "time": time,
            "uniqueQualifier": "6127585580824196360",
            "applicationName": app,
            "customerId": "C03v4gz0f",
        },
        "actor": {"callerType": "USER", "email": canary.email, "profileId": canary.google_id},
        "ipAddress": "203.0.113.9",
        "events": events,
    }


def gmail(canary: Canary, time: str, kind: int) -> dict[str, Any]:
    """A gmail ``delivery`` of type ``kind`` with the canary on both ends of the message."""
    message = [
        {"name": "rfc2822_message_id", "value": f"<{canary.email}>"},
        {"name": "subject", "value": f"Notes for {canary.name}"},
        {
            "name": "source",
            "messageValue": {
                "parameter": [
                    {"name": "address", "value": canary.email},
                    {"name": "from_header_address", "value": canary.shouted},
                ]
            },
        },
        {
            "name": "destination",
            "multiMessageValue": [{"parameter": [{"name": "address", "value": COLLEAGUES[0]}]}],
        },
    ]
    info = [{"name": "mail_event_type", "intValue": str(kind)}, {"name": "success", "boolValue": True}]
    return _activity(
        canary,
        "gmail",
        time,
        [
            {
                "type": "delivery_type",
                "name": "delivery",
                "parameters": [
                    {"name": "event_info", "messageValue": {"parameter": info}},
                    {"name": "message", "messageValue": {"parameter": message}},
                ],
            }
        ],
    )


def meet(canary: Canary, time: str, seconds: str = "2700") -> dict[str, Any]:
    """A Meet ``call_ended`` the canary organised and attended."""
    parameters = [
        {"name": "duration_seconds", "intValue": seconds},
        {"name": "organizer_email", "value": canary.email},
        {"name": "identifier", "value": canary.email},
        {"name": "identifier_type", "value": "email_address"},
        {"name": "display_name", "value": canary.name},
        {"name": "conference_id", "value": f"conf-{canary.google_id}"},
    ]
    return _activity(canary, "meet", time, [{"type": "call", "name": "call_ended", "parameters": parameters}])


def chat(canary: Canary, time: str) -> dict[str, Any]:
    """A Chat ``message_posted`` in a space named after the canary."""
    parameters = [
        {"name": "room_name", "value": f"DM with {canary.name}"},
        {"name": "actor", "value": canary.email},
    ]
    item = _activity(
        canary, "chat", time, [{"type": "user_action", "name": "message_posted", "parameters": parameters}]
    )
    item["resourceDetails"] = [
        {"id": "spaces/AAA/messages/BBB", "type": "CHAT_MESSAGE", "title": canary.name}
    ]
    return item


def calendar_edit(canary: Canary, time: str) -> dict[str, Any]:
    """A calendar audit event (read, never counted) naming the canary as organiser and guest."""
    parameters = [
        {"name": "event_title", "value": f"1:1 {canary.name}"},
        {"name": "organizer_calendar_id", "value": canary.email},
        {"name": "target_calendar_id", "value": canary.shouted},
    ]
    return _activity(
        canary, "calendar", time, [{"type": "event_change", "name": "create_event", "parameters": parameters}]
    )


def google_page(items: list[dict[str, Any]], token: str | None = None) -> dict[str, Any]:
    """One ``activities.list`` response page."""
    page: dict[str, Any] = {"kind": "admin#reports#activities", "etag": '"p"', "items": items}
    if token:
        page["nextPageToken"] = token
    return page


def saved_google_activities(canary: Canary) -> list[dict[str, Any]]:
    """gmail sent, received and opened, a Meet call, a Chat message and a calendar edit on 2026-01-06."""
    return [
        gmail(canary, "2026-01-06T10:00:00.000Z", 1),
        gmail(canary, "2026-01-06T10:05:00.000Z", 2),
        gmail(canary, "2026-01-06T10:06:00.000Z", 7),
        meet(canary, "2026-01-06T11:00:00.000Z"),
        chat(canary, "2026-01-06T12:00:00.000Z"),
        calendar_edit(canary, "2026-01-06T13:00:00.000Z"),
    ]


def slack_ts(day: dt.date, hour: int) -> str:
    """A Slack message timestamp at ``hour`` UTC on ``day``."""
    moment = dt.datetime.combine(day, dt.time(hour), dt.UTC)
    return f"{int(moment.timestamp())}.000200"


def _slack_message(canary: Canary, when: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "message",
        "user": canary.slack_id,
        "ts": when,
        "text": f"hello from {canary.name} <mailto:{canary.email}>",
        "user_profile": {
            "real_name": canary.name,
            "display_name": canary.slack_handle,
            "name": canary.slack_handle,
        },
        "client_msg_id": "7f3a9c0a-0000-4000-8000-000000000000",
        **extra,
    }


#: The hour of the canary's message in the group DM: its timestamp appears in no other file.
GROUP_DM_HOUR = 14


def slack_group_dm(canary: Canary) -> str:
    """The group-DM folder name Slack builds from the members' user names."""
    return f"mpdm-{canary.slack_handle}--colleague01-1"


def slack_files(canary: Canary, day: dt.date) -> dict[str, bytes]:
    """An "all conversations" export with the canary's messages, a reply, a reaction and a group DM."""
    colleague = "U0COLLEAGUE1"
    users = [
        {
            "id": canary.slack_id,
            "team_id": "T0EXAMPLE",
            "name": canary.slack_handle,
            "real_name": canary.name,
            "is_bot": False,
            "deleted": False,
            "profile": {
                "email": canary.email,
                "real_name": canary.name,
                "display_name": canary.slack_handle,
                "phone": canary.phone,
            },
        },
        {
            "id": colleague,
            "team_id": "T0EXAMPLE",
            "name": "colleague01",
            "profile": {"email": COLLEAGUES[0], "real_name": "Colleague One"},
        },
    ]
    first = slack_ts(day, 10)
    general = [
        _slack_message(canary, first),
        _slack_message(canary, slack_ts(day, 11), thread_ts=first, parent_user_id=canary.slack_id),
        {
            "type": "message",
            "user": colleague,
            "ts": slack_ts(day, 12),
            "text": f"thanks <@{canary.slack_id}>",
            "reactions": [{"name": "tada", "users": [canary.slack_id], "count": 1}],
        },
        {"type": "message", "subtype": "channel_join", "user": canary.slack_id, "ts": slack_ts(day, 9)},
    ]
    group_dm = slack_group_dm(canary)
    listings = {
        "channels.json": [
            {
                "id": "C0GENERAL",
                "name": "general",
                "creator": canary.slack_id,
                "members": [canary.slack_id, colleague],
            }
        ],
        "mpims.json": [{"id": "G0GROUPDM", "name": group_dm, "members": [canary.slack_id, colleague]}],
        "dms.json": [],
        "groups.json": [],
    }
    files = {name: json.dumps(value) for name, value in listings.items()}
    files["users.json"] = json.dumps(users)
    files[f"general/{day.isoformat()}.json"] = json.dumps(general)
    files[f"{group_dm}/{day.isoformat()}.json"] = json.dumps(
        [_slack_message(canary, slack_ts(day, GROUP_DM_HOUR))]
    )
    return {name: text.encode("utf-8") for name, text in files.items()}


def write_slack_folder(root: Path, files: dict[str, bytes]) -> Path:
    """An unzipped export."""
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def slack_zip(files: dict[str, bytes], *, stored: bool = False) -> bytes:
    """A ZIP of the export inside a top folder, as Slack's download is (``stored``: uncompressed)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(f"Example Slack export/{name}", data)
    return buffer.getvalue()


def write_slack_zip(path: Path, files: dict[str, bytes]) -> Path:
    """Write :func:`slack_zip` to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(slack_zip(files))
    return path


def mail_message(canary: Canary, day: dt.date, number: int) -> str:
    """One message from the canary to a colleague, copied to the canary's upper-cased address."""
    date = dt.datetime.combine(day, dt.time(10, number), dt.UTC)
    return (
        f"From: {canary.name} <{canary.shouted}>\n"
        f"To: {COLLEAGUES[0]}\n"
        f'Cc: "Quixotic-Canary, Xylophone" <{canary.email}>\n'
        f"Date: {date.strftime('%a, %d %b %Y %H:%M:%S +0000')}\n"
        f"Message-ID: <{number}.{canary.email}>\n"
        f"Subject: Lunch with {canary.name}\n"
        f"X-Slack-User: {canary.slack_id}\n"
        "\n"
        f"Call me on {canary.phone}, {canary.name}\n"
    )


def write_mbox(path: Path, canary: Canary, day: dt.date) -> Path:
    """An mbox with two of the canary's messages."""
    stamp = day.strftime("%a %b %d 10:00:00 %Y")
    blocks = [f"From {canary.email} {stamp}\n{mail_message(canary, day, n)}" for n in (1, 2)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(blocks) + "\n", encoding="utf-8")
    return path


def write_maildir(root: Path, canary: Canary, day: dt.date) -> Path:
    """A Maildir holding one of the canary's messages."""
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "cur" / "1767866400.M1P1.mailhost:2,S").write_text(mail_message(canary, day, 3), encoding="utf-8")
    return root


def ics_event(canary: Canary, *, start: str = "20260107T100000Z", extra: tuple[str, ...] = ()) -> str:
    """A 90-minute weekly meeting the canary organises, with nine colleagues (large, long, recurring)."""
    lines = [
        "BEGIN:VEVENT",
        f"UID:{canary.email}-weekly",
        "DTSTAMP:20260101T000000Z",
        f"DTSTART:{start}",
        "DTEND:20260107T113000Z",
        "RRULE:FREQ=WEEKLY;COUNT=2",
        f"SUMMARY:Weekly with {canary.name}",
        f"DESCRIPTION:Call {canary.phone}",
        f"ORGANIZER;CN={canary.name}:mailto:{canary.email}",
        f"ATTENDEE;CN={canary.name};PARTSTAT=ACCEPTED:mailto:{canary.shouted}",
        *(f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{who}" for who in COLLEAGUES[:9]),
        *extra,
        "END:VEVENT",
    ]
    return "\r\n".join(lines)


def calendar(*events: str) -> str:
    """An iCalendar file around ``events``."""
    return (
        "\r\n".join(
            ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Example//Canary//EN", *events, "END:VCALENDAR"]
        )
        + "\r\n"
    )


HR_HEADER = (
    "Employee ID,Email,Display Name,Team,Department,Division,Location,Manager Email,Valid From,Valid To,"
    "Time Zone,Working Hours Start,Working Hours End"
)


def hr_rows(canary: Canary) -> list[dict[str, str]]:
    """The canary (upper-cased address, own hours) and the colleagues they manage."""
    place = {"Team": "Platform", "Department": "Engineering", "Division": "Product", "Location": "London"}
    canary_row = {
        "Employee ID": canary.employee_id,
        "Email": canary.shouted,
        "Display Name": canary.name,
        **place,
        "Valid From": "2025-01-06",
        "Time Zone": "Europe/London",
        "Working Hours Start": "08:30",
        "Working Hours End": "17:00",
    }
    others = [
        {
            "Employee ID": f"E{n}",
            "Email": who,
            **place,
            "Manager Email": canary.email,
            "Valid From": "2025-01-06",
        }
        for n, who in enumerate(COLLEAGUES)
    ]
    return [canary_row, *others]


def scim_user(canary: Canary) -> dict[str, Any]:
    """The canary as a SCIM 2.0 user with the enterprise extension."""
    return {
        "schemas": [USER_SCHEMA, ENTERPRISE],
        "id": canary.scim_id,
        "externalId": canary.scim_external_id,
        "userName": canary.email,
        "displayName": canary.name,
        "name": {"formatted": canary.name, "givenName": "Xylophone", "familyName": "Quixotic-Canary"},
        "emails": [{"value": canary.shouted, "type": "work", "primary": True}],
        "phoneNumbers": [{"value": canary.phone, "type": "work"}],
        "active": True,
        "addresses": [{"type": "work", "locality": "London"}],
        "meta": {
            "resourceType": "User",
            "created": "2024-02-01T09:00:00Z",
            "lastModified": "2025-11-03T10:00:00Z",
        },
        ENTERPRISE: {
            "employeeNumber": canary.employee_id,
            "department": "Engineering",
            "costCenter": "Platform",
        },
    }


def scim_users(canary: Canary) -> dict[str, Any]:
    """A ListResponse: the canary and a colleague whose manager is the canary's SCIM id."""
    colleague = {
        "schemas": [USER_SCHEMA, ENTERPRISE],
        "id": "scim-colleague-1",
        "userName": COLLEAGUES[0],
        "emails": [{"value": COLLEAGUES[0], "primary": True}],
        "active": True,
        "meta": {"created": "2024-02-01T09:00:00Z"},
        ENTERPRISE: {
            "department": "Engineering",
            "manager": {"value": canary.scim_id, "displayName": canary.name},
        },
    }
    return {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 2,
        "Resources": [scim_user(canary), colleague],
    }


def export_inputs(root: Path) -> list[Path]:
    """The folders of ``root`` to name on the ingest command line, one per kind of export.

    Not ``root`` itself: the mail connector claims any folder with a Maildir anywhere below it
    as one Maildir input (``mail_scan.maildir_folders``), so ``root`` would be read as mail alone.
    """
    return sorted(root.iterdir())


def write_exports(root: Path, canary: Canary) -> Path:
    """Every file-based source's export of the canary's week under ``root``; returns ``root``.

    Each directory export replaces the stored directory, and directories are ingested in path
    order: the HR file, which also holds the colleagues that releases group, comes last.
    Inputs of one connector that should both count (the Slack folder and ZIP, the mbox and the
    Maildir) hold different days, since a later value of a fact key replaces an earlier one.
    """
    _m365(root / "m365", canary)
    write_csv(root / "viva" / "person_query.csv", VIVA_HEADER, viva_rows(canary), bom=False)
    google = root / "google" / "activities.json"
    google.parent.mkdir(parents=True)
    google.write_text(json.dumps([google_page(saved_google_activities(canary), None)], indent=1))
    write_slack_folder(root / "slack" / "export", slack_files(canary, MONDAY + dt.timedelta(days=1)))
    write_slack_zip(root / "slack" / "export.zip", slack_files(canary, MONDAY + dt.timedelta(days=2)))
    write_mbox(root / "mbox" / "canary.mbox", canary, MONDAY + dt.timedelta(days=1))
    write_maildir(root / "maildir", canary, MONDAY + dt.timedelta(days=3))
    (root / "calendar").mkdir()
    (root / "calendar" / "meetings.ics").write_text(calendar(ics_event(canary)), encoding="utf-8")
    directory = root / "directory"
    directory.mkdir()
    (directory / "1-scim-users.json").write_text(json.dumps(scim_users(canary), indent=1), encoding="utf-8")
    viva_directory = "PersonId,MetricDate,Organization,Collaboration_hours"
    write_csv(
        directory / "2-viva-organization.csv",
        viva_directory,
        [
            {
                "PersonId": canary.viva_id,
                "MetricDate": "1/4/2026",
                "Organization": "Research",
                "Collaboration_hours": "3",
            }
        ],
        bom=False,
    )
    write_csv(directory / "3-hr.csv", HR_HEADER, hr_rows(canary), bom=False)
    return root
