"""A28 — small files, huge memory or time: every reader on hostile inputs, under a memory limit.

A 0.2 MB Slack ZIP with one highly compressed member exhausted a 6 GiB memory cap, and a 9 KB
iCalendar file with an unbounded recurrence took 86 s. Property: every reader has a bounded peak
memory and time per input byte — ZIP members limited in size and expansion ratio, JSON streamed
one record at a time with a size limit per record, recurrences expanded only inside the policy
period and at most daily, header, line and row sizes limited — and a hostile input is refused
with an error naming the file. Each case runs the reader in a subprocess under RLIMIT_DATA of
512 MiB (its own memory) and a time limit (``hostile_runner.py``). Through ``teamlens ingest``, a refused file
leaves the store as it was. Teeth: with the limits switched off, the ZIP bomb runs out of memory
and the recurrence runs out of time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from base64 import b64encode
from collections.abc import Callable
from os import urandom
from pathlib import Path

import pytest

from teamlens import services
from teamlens.domain.vendor_formats import EMAIL_HEADER
from teamlens.errors import InputFormatError

from ..integration.flow_support import mail_workspace

ROOT = Path(__file__).resolve().parents[2]
#: Seconds a reader may take on any case below (they read in well under ten on an idle machine).
TIME_LIMIT = 60
MiB = 1024 * 1024


def run(reader: str, path: Path, *, weaken: bool = False, timeout: float = 150) -> dict[str, object]:
    command = [sys.executable, "-m", "tests.attacks.hostile_runner", reader, str(path)]
    try:
        done = subprocess.run(
            [*command, *(["--weaken"] if weaken else [])],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"outcome": "timeout"}
    if done.returncode != 0 or not done.stdout.strip():
        # Out of address space outside Python's reach (a failed mmap in a C library) ends the process.
        return {
            "outcome": "memory" if "MemoryError" in done.stderr or done.returncode < 0 else "crash",
            "stderr": done.stderr[-500:],
        }
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- hostile files ----------------------------------------------------------------------------


def _slack(path: Path, day: Callable[[zipfile.ZipFile, str], None]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("channels.json", json.dumps([{"id": "C1", "name": "general", "members": ["U1"]}]))
        archive.writestr("users.json", json.dumps([{"id": "U1", "profile": {"email": "a@example.org"}}]))
        day(archive, "general/2026-01-06.json")
    return path


def slack_bomb(path: Path) -> Path:
    """One message whose text expands from a few hundred kilobytes to 200 MiB."""

    def day(archive: zipfile.ZipFile, name: str) -> None:
        with archive.open(name, "w", force_zip64=True) as member:
            member.write(b'[{"type": "message", "user": "U1", "ts": "1767700000.1", "text": "')
            for _ in range(200):
                member.write(b"a" * MiB)
            member.write(b'"}]')

    return _slack(path, day)


def slack_big_record(path: Path) -> Path:
    """A message of 20 MiB of incompressible text: under any ratio, over any sensible record."""
    text = b64encode(urandom(15 * MiB)).decode()
    return _slack(path, lambda a, name: a.writestr(name, json.dumps([{"ts": "1767700000.1", "text": text}])))


def slack_deep(path: Path) -> Path:
    return _slack(path, lambda a, name: a.writestr(name, "[" * 200_000 + "]" * 200_000))


def _ics(path: Path, events: list[str]) -> Path:
    body = "".join(
        f"BEGIN:VEVENT\r\nUID:{number}\r\n{rule}\r\nDURATION:PT1H\r\n"
        "ORGANIZER:mailto:a@example.org\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:b@example.org\r\nEND:VEVENT\r\n"
        for number, rule in enumerate(events)
    )
    path.write_text(f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{body}END:VCALENDAR\r\n")
    return path


IMPOSSIBLE = "DTSTART:19010101T100000Z\r\nRRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30"


def ics_impossible(path: Path) -> Path:
    """60 series that never happen, each walked day by day from 1901: 9 KB, minutes unbounded."""
    return _ics(path, [IMPOSSIBLE] * 60 + ["DTSTART:20260105T100000Z"])


def ics_secondly(path: Path) -> Path:
    return _ics(path, ["DTSTART:20260105T100000Z\r\nRRULE:FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30"])


def ics_counted(path: Path) -> Path:
    """A counted series from 1901 that never happens, beside a meeting in the period."""
    counted = "DTSTART:19010101T100000Z\r\nRRULE:FREQ=DAILY;COUNT=100000000;BYMONTH=2;BYMONTHDAY=30"
    return _ics(path, [counted, "DTSTART:20260105T100000Z"])


def ics_many(path: Path) -> Path:
    """5,000 events (each one line-numbered for errors): linear work, not quadratic."""
    return _ics(path, [f"DTSTART:2026{1 + n % 6:02d}{1 + n % 28:02d}T100000Z" for n in range(5_000)])


def mbox_long_header(path: Path) -> Path:
    with path.open("wb") as out:
        out.write(b"From x Mon Jan  5 10:00:00 2026\nFrom: a@example.org\nTo: ")
        for _ in range(8):
            out.write(b"b" * MiB)
    return path


def mbox_header_flood(path: Path) -> Path:
    with path.open("wb") as out:
        out.write(b"From x Mon Jan  5 10:00:00 2026\nFrom: a@example.org\nTo: b@example.org")
        for _ in range(700_000):
            out.write(b",\n c@example.org")
        out.write(b"\nDate: Mon, 05 Jan 2026 10:00:00 +0000\n\nbody\n")
    return path


def mbox_long_body(path: Path) -> Path:
    """A normal message with a 24 MiB body line: read, in bounded memory."""
    with path.open("wb") as out:
        out.write(b"From x Mon Jan  5 10:00:00 2026\nFrom: a@example.org\nTo: b@example.org\n")
        out.write(b"Date: Mon, 05 Jan 2026 10:00:00 +0000\nMessage-ID: <1@x>\n\n")
        for _ in range(24):
            out.write(b"z" * MiB)
        out.write(b"\n")
    return path


def csv_long_header(path: Path) -> Path:
    with path.open("w") as out:
        out.write(EMAIL_HEADER)
        for _ in range(4):
            out.write("," + "x" * MiB)
    return path


def csv_long_row(path: Path) -> Path:
    with path.open("w") as out:
        out.write("Email,Team,Valid From\na@example.org,")
        for _ in range(16):
            out.write("y" * MiB)
        out.write(",2026-01-05\n")
    return path


def google_big_page(path: Path) -> Path:
    activity = json.dumps({"kind": "admin#reports#activity", "id": {"time": "2026-01-05T10:00:00Z"}}) + ","
    with path.open("w") as out:
        out.write('{"kind": "admin#reports#activities", "items": [')
        out.write(activity * (12 * MiB // len(activity)))
        out.write(activity[:-1] + "]}")
    return path


def scim_big_document(path: Path) -> Path:
    """A ListResponse of 30,000 users (about 6 MB): read one user at a time."""
    with path.open("w") as out:
        out.write('{"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "Resources": [')
        for number in range(30_000):
            user = {"userName": f"u{number}@example.org", "active": True, "name": {"givenName": "x" * 80}}
            out.write(("," if number else "") + json.dumps(user))
        out.write("]}")
    return path


def scim_long_line(path: Path) -> Path:
    with path.open("w") as out:
        out.write(json.dumps({"userName": "a@example.org"}) + "\n")
        out.write('{"userName": "b@example.org", "x": "' + "w" * (24 * MiB) + '"}\n')
    return path


CASES = {
    "slack ZIP bomb": ("slack_export", slack_bomb, "refused", "would expand"),
    "slack record of 20 MiB": ("slack_export", slack_big_record, "refused", "larger than"),
    "slack nesting 200,000 deep": ("slack_export", slack_deep, "refused", "nests JSON too deeply"),
    "ics series that never happen": ("calendar_ics", ics_impossible, "read", ""),
    "ics secondly series": ("calendar_ics", ics_secondly, "refused", "too often"),
    "ics counted series from 1901": ("calendar_ics", ics_counted, "refused", "counted series"),
    "ics of 5,000 events": ("calendar_ics", ics_many, "read", ""),
    "mbox header line of 8 MiB": ("mail_headers", mbox_long_header, "refused", "header line"),
    "mbox header of 11 MB in folded lines": ("mail_headers", mbox_header_flood, "refused", "headers over"),
    "mbox body line of 24 MiB": ("mail_headers", mbox_long_body, "read", ""),
    "csv header line of 4 MiB": ("m365_email_activity", csv_long_header, "refused", "line longer"),
    "csv row of 16 MiB": ("hr_directory_csv", csv_long_row, "refused", "line longer"),
    "google page of 12 MiB": ("google_reports", google_big_page, "refused", "larger than"),
    "scim document of 30,000 users": ("scim_directory", scim_big_document, "read", ""),
    "scim line of 24 MiB": ("scim_directory", scim_long_line, "refused", "line longer"),
}


@pytest.mark.attack("A28")
@pytest.mark.parametrize("case", list(CASES))
def test_a28_every_reader_stays_within_memory_and_time(case: str, tmp_path: Path, measure) -> None:
    reader, build, expected, needle = CASES[case]
    path = build(tmp_path / f"hostile.{'zip' if reader == 'slack_export' else 'dat'}")
    result = run(reader, path)
    measure(**{f"a28_{case}": {**result, "file_bytes": path.stat().st_size}})
    assert result["outcome"] == expected, result
    assert needle in str(result.get("message", "")), result
    if expected == "refused":
        assert str(path) in str(result["message"])  # the error names the file
    assert float(result["seconds"]) < TIME_LIMIT  # type: ignore[arg-type]


@pytest.mark.attack("A28", teeth=True)
def test_a28_teeth_without_the_limits_the_zip_bomb_exhausts_memory(tmp_path: Path) -> None:
    assert run("slack_export", slack_bomb(tmp_path / "bomb.zip"), weaken=True)["outcome"] == "memory"


@pytest.mark.attack("A28", teeth=True)
def test_a28_teeth_without_the_bounds_the_recurrence_outlasts_the_limit(tmp_path: Path) -> None:
    assert (
        run("calendar_ics", ics_impossible(tmp_path / "slow.ics"), weaken=True, timeout=30)["outcome"]
        == "timeout"
    )


@pytest.mark.attack("A28")
def test_a28_a_refused_file_leaves_the_store_as_it_was(tmp_path: Path) -> None:
    ws = mail_workspace(tmp_path / "install")
    inbox = tmp_path / "in"
    inbox.mkdir()
    mbox_long_header(inbox / "hostile.mbox")
    before = ws.store.stats()
    with pytest.raises(InputFormatError) as refused:
        services.ingest(ws, [inbox / "hostile.mbox"], actor="admin")
    assert "hostile.mbox" in str(refused.value)
    assert ws.store.stats() == before and ws.store.batches == {}
    assert ws.governance.ingestions() == []


@pytest.mark.attack("A28")
def test_a28_a_live_pull_refuses_a_compressed_page_beyond_its_limit() -> None:
    """A service (or whoever answers for it) sending a small gzip that expands past the page limit."""
    import gzip

    from teamlens.sources.http_client import MAX_PAGE_BYTES, HttpClient, StaticTokenProvider

    from ..unit.sources.replay_server import ReplayServer, Reply

    body = gzip.compress(b'{"value": "' + b"x" * (MAX_PAGE_BYTES + MiB) + b'"}')
    answer = Reply(200, body, {"Content-Encoding": "gzip"})
    with (
        ReplayServer(lambda seen, server: answer) as server,
        HttpClient(Path("graph.toml"), StaticTokenProvider("t")) as http,
        pytest.raises(InputFormatError, match="larger than") as refused,
    ):
        http.get_json(f"{server.url}/page", "Graph page")
    assert "graph.toml" in str(refused.value) and len(body) < MiB
