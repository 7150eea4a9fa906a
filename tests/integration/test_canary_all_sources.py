"""Issue 3 — one canary person through every connector in one ingest run, then found nowhere.

The canary (``canary_exports.Canary``: address, display name, Slack, Viva, Google, Graph, SCIM
and employee ids and a phone number, each a unique string) is written into the export of every
registered connector, fact and directory alike, the Graph and Google live pulls included
(against loopback fakes, ``canary_live.py``). One ``teamlens ingest`` (through Typer's
``CliRunner``, so Rich's output is searched) reads them all; the store must then hold the
canary's facts from every fact source and their directory rows from every directory source,
found with the installation's own pseudonymiser, so the search cannot pass vacuously. Then 25
broken exports, each failing on the canary's own record, are ingested (five through the CLI
too), a release is run, and the report and every governance document are written into the data
folder. Every file under the data folder and the temporary folder — byte-wise and decoded where
a format could hide text — every log record (root logger at DEBUG), stdout/stderr, CLI output,
and every error message and hint is searched for every canary marker (``canary_search.py``).
Teeth: the same search finds a canary planted in Parquet, SQLite, UTF-16, gzip, as an unkeyed
hash, and in a log record. A header whose line break was lost (so the canary's row became
extra header cells) must not be echoed in the unknown-columns note: this test found that leak.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from teamlens import services
from teamlens.cli import commands as _commands  # noqa: F401  (registers the commands on ``app``)
from teamlens.cli import main
from teamlens.cli.app import app
from teamlens.domain.metrics import METRICS, Unit
from teamlens.domain.vendor_formats import EMAIL_HEADER
from teamlens.errors import TeamlensError
from teamlens.services import Workspace
from teamlens.services.documents import KINDS
from teamlens.sources import directory_names, source_names
from teamlens.sources.activity_metrics import ACTIVITY_SOURCE
from teamlens.sources.viva_insights import ID_PREFIX
from teamlens.store import FactStore
from teamlens.store.summaries import CommitSummary

from ..unit.sources.replay_server import ReplayServer
from . import canary_exports as cx
from . import canary_live as live
from .canary_exports import MONDAY, Canary
from .canary_search import Haystacks, file_views, sightings
from .flow_support import approve_policy, files_under, make_workspace, policy_text

#: Each metric's weekly bound in the canary's policy, by unit (hours, counts, shares).
_CANARY_BOUNDS = {Unit.MINUTES: 40, Unit.COUNT: 500, Unit.SHARE: 1}

TUESDAY, WEDNESDAY, THURSDAY, FRIDAY = (MONDAY + dt.timedelta(days=n) for n in range(1, 5))
SECRETS = (live.GRAPH_TOKEN, live.GRAPH_SECRET, live.GOOGLE_TOKEN)
_TEMPLATE_SOURCES = 'sources = ["m365_email_activity", "m365_teams_activity", "hr_directory_csv"]'
_CATALOGUE = "# The closed report catalogue"

#: Facts each source must hold for the canary: (first day, days, metric). The Slack folder and
#: ZIP, and the mbox and Maildir, hold different days, so each input is seen to have counted.
EXPECTED: dict[str, set[tuple[dt.date, int, str]]] = {
    "m365_email_activity": {(MONDAY, 7, "emails_sent"), (MONDAY, 7, "emails_read")},
    "m365_teams_activity": {
        (MONDAY, 7, "chat_messages"),
        (MONDAY, 7, "meeting_minutes"),
        (MONDAY, 7, "video_minutes"),
        (MONDAY, 7, "recurring_meetings"),
    },
    "m365_onedrive_activity": {(MONDAY, 7, "files_edited")},
    "m365_sharepoint_activity": {(MONDAY, 7, "files_shared_externally")},
    "m365_active_users": {(MONDAY, 7, "apps_active")},
    "viva_insights_person_query": {
        (MONDAY, 7, "collaboration_minutes"),
        (MONDAY, 7, "chat_messages"),
        (MONDAY, 7, "email_minutes"),
        (MONDAY, 7, "network_size"),
    },
    "google_reports": {
        (TUESDAY, 1, "emails_sent"),
        (TUESDAY, 1, "emails_received"),
        (TUESDAY, 1, "emails_read"),
        (TUESDAY, 1, "meeting_minutes"),
        (TUESDAY, 1, "chat_messages"),
    },
    "slack_export": {
        (TUESDAY, 1, "chat_messages"),
        (WEDNESDAY, 1, "chat_messages"),
        (TUESDAY, 1, "thread_replies"),
        (WEDNESDAY, 1, "reactions_given"),
        (MONDAY, 7, "channels_active"),
    },
    "mail_headers": {
        (TUESDAY, 1, "emails_sent"),
        (TUESDAY, 1, "email_recipients"),
        (THURSDAY, 1, "emails_sent"),
        (THURSDAY, 1, "emails_received"),
    },
    "calendar_ics": {
        (WEDNESDAY, 1, "meetings_attended"),
        (WEDNESDAY, 1, "large_meetings"),
        (WEDNESDAY, 1, "long_meetings"),
        (WEDNESDAY, 1, "recurring_meetings"),
    },
    "graph_live": {
        (FRIDAY, 1, "meetings_attended"),
        (FRIDAY, 1, "emails_sent"),
        (FRIDAY, 1, "email_recipients"),
        (MONDAY, 7, "emails_received"),
        (MONDAY, 7, "chat_messages"),
    },
    "google_reports_live": {
        (FRIDAY, 1, "emails_sent"),
        (FRIDAY, 1, "meeting_minutes"),
        (FRIDAY, 1, "chat_messages"),
    },
}


# -- the installation -------------------------------------------------------------------------


def canary_policy() -> str:
    """The template policy with every connector as a source and every metric they can yield."""
    names = json.dumps([*source_names(), *directory_names()])
    template_metrics = {
        "emails_sent",
        "emails_received",
        "chat_messages",
        "meetings_attended",
        "meeting_minutes",
    }
    extra = "".join(
        f'[[metrics]]\nname = "{name}"\nper_week = {_CANARY_BOUNDS[metric.unit]}\n\n'
        for name, metric in METRICS.items()
        if name not in template_metrics
    )
    return policy_text(**{_TEMPLATE_SOURCES: f"sources = {names}", _CATALOGUE: extra + _CATALOGUE})


@dataclass
class Installation:
    """An installation under an approved policy, and the CLI options that reach it."""

    ws: Workspace
    options: list[str]

    def pseudonyms(self, canary: Canary) -> dict[str, str]:
        """The canary's pseudonyms under this installation's key: by address, and as a Viva person."""
        pseudonymise = self.ws.pseudonymiser()
        return {"address": pseudonymise(canary.email), "viva": pseudonymise(ID_PREFIX + canary.viva_id)}


def install(root: Path) -> Installation:
    ws = make_workspace(root)
    services.init(ws)
    approve_policy(ws, canary_policy(), root / "policy.toml")
    governance = ws.settings.governance_url
    assert governance.startswith("sqlite:///") and str(ws.settings.data_dir.resolve()) in governance
    options = ["--data-dir", str(ws.settings.data_dir), "--key-file", str(ws.settings.key_file)]
    return Installation(ws, options)


def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No teamlens settings from the environment: the governance database must be in the data folder."""
    for name in ("TEAMLENS_DATABASE_URL", "TEAMLENS_DATA_DIR", "TEAMLENS_KEY_FILE", "TEAMLENS_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "1000")  # Rich wraps at the width: a wrapped marker would hide


def isolate(monkeypatch: pytest.MonkeyPatch, temporary: Path) -> None:
    """A clean environment, temporary files where they are searched, and a fake MSAL app."""
    clean_environment(monkeypatch)
    monkeypatch.setenv(live.GRAPH_SECRET_ENV, live.GRAPH_SECRET)
    temporary.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(temporary))

    class FakeConfidentialClient:
        """MSAL's client-credentials app, issuing the fake Graph's token without a network call."""

        def __init__(self, client_id: str, **_: object) -> None:
            assert client_id == "canary-app"

        def acquire_token_for_client(self, scopes: list[str]) -> dict[str, Any]:
            return {"access_token": live.GRAPH_TOKEN, "token_type": "Bearer", "expires_in": 3600}

    monkeypatch.setattr("msal.ConfidentialClientApplication", FakeConfidentialClient)


def watch_directory_commits(monkeypatch: pytest.MonkeyPatch, watched: dict[str, str]) -> dict[str, set[str]]:
    """For each directory source committed, which watched pseudonyms the store then held.

    Each directory export replaces the stored directory, so only the last one is left at the end:
    this is how every directory source is seen to have stored the canary.
    """
    stored: dict[str, set[str]] = {}
    original = FactStore.commit

    def commit(self: FactStore, **kwargs: Any) -> CommitSummary:
        summary = original(self, **kwargs)
        if kwargs.get("directory") is not None:
            found = {label for label, person in watched.items() if self.person_directory(person).num_rows}
            stored[str(kwargs["source"])] = found
        return summary

    monkeypatch.setattr(FactStore, "commit", commit)
    return stored


def invoke(argv: list[str], haystacks: Haystacks, *, refused: bool = False) -> str:
    """Run the CLI app as a user would (Rich output included); its output joins the haystacks.

    The command must succeed, or with ``refused`` fail with an error.
    """
    result = CliRunner().invoke(app, argv)
    name = f"cli {' '.join(arg for arg in argv if not arg.startswith('/'))}"
    haystacks.text(name, result.output)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        haystacks.text(f"{name}: exception", f"{result.exception!s}\n{result.exception!r}")
    assert (result.exit_code != 0) if refused else (result.exit_code == 0), result.output
    return result.output


def facts_by_source(ws: Workspace, person: str) -> dict[str, set[tuple[dt.date, int, str]]]:
    found: dict[str, set[tuple[dt.date, int, str]]] = {}
    for row in ws.store.person_facts(person).to_pylist():
        found.setdefault(row["source"], set()).add((row["day"], row["days"], row["metric"]))
    return found


# -- failures that involve the canary -----------------------------------------------------------

#: The failures also run through ``teamlens ingest``, whose errors Rich prints with their hints.
CLI_FAILURES = (
    "email report: a count that is not a number on the canary's line",
    "email report without its header: the canary's row comes first",
    "Slack group DM named after the canary with a broken timestamp",
    "Graph calendar event whose start is the canary's address",
    "Google live activity with the canary's address as a duration",
)


def _cut(text: str, after: str) -> str:
    """``text`` cut a few characters after the first ``after``: a download that broke off."""
    return text[: text.index(after) + len(after) + 3]


def _slack(canary: Canary, name: str, change: Any) -> dict[str, bytes]:
    """The canary's Slack export with file ``name`` replaced by ``change(its text)``."""
    files = cx.slack_files(canary, TUESDAY)
    files[name] = change(files[name].decode()).encode()
    return files


def _damaged_mbox(canary: Canary) -> str:
    """A good message, then the canary's message whose header block has a line that is no header."""
    good = f"From a@example.org Tue Jan  6 10:00:00 2026\n{cx.mail_message(canary, TUESDAY, 1)}\n"
    return good + (
        f"From {canary.email} Tue Jan  6 11:00:00 2026\n"
        f"From: {canary.name} <{canary.email}>\n{canary.email} {canary.name}\n\n"
    )


def broken_exports(
    folder: Path, canary: Canary, connections: live.Connections, graph_url: str, google_url: str
) -> dict[str, Path]:
    """Malformed exports, each failing on the canary's own record, by what is wrong with them."""
    email = cx.email_report_rows(canary)
    lines = cx.csv_text(EMAIL_HEADER, email).splitlines(keepends=True)
    hr, viva = cx.hr_rows(canary), cx.viva_rows(canary)
    scim = json.dumps(cx.scim_users(canary), indent=1)
    saved = json.dumps([cx.google_page(cx.saved_google_activities(canary))], indent=1)
    zipped = cx.slack_zip(cx.slack_files(canary, TUESDAY))
    stamp = cx.slack_ts(TUESDAY, cx.GROUP_DM_HOUR).encode()  # only in the group DM's day file
    group_dm = f"{cx.slack_group_dm(canary)}/{TUESDAY.isoformat()}.json"
    bad_ts = json.dumps([{"type": "message", "user": canary.slack_id, "ts": canary.name}])
    graph = live.graph_connection(canary, graph_url)
    texts: dict[str, tuple[str, str | bytes]] = {
        "email report: a count that is not a number on the canary's line": (
            "email-bad-number.csv",
            cx.csv_text(EMAIL_HEADER, [{**email[0], "Send Count": "12x"}, *email[1:]]),
        ),
        "email report without its header: the canary's row comes first": (
            "email-no-header.csv",
            "".join(lines[1:]),
        ),
        "email report with a renamed column": (
            "email-renamed.csv",
            "".join([lines[0].replace("Read Count", "Reads"), *lines[1:]]),
        ),
        "HR directory: an impossible date on the canary's line": (
            "hr-bad-date.csv",
            cx.csv_text(cx.HR_HEADER, [{**hr[0], "Valid From": "2025-13-45"}, *hr[1:]], bom=False),
        ),
        "HR directory: the canary's time zone is their address": (
            "hr-bad-zone.csv",
            cx.csv_text(cx.HR_HEADER, [{**hr[0], "Time Zone": canary.email}, *hr[1:]], bom=False),
        ),
        "HR directory: the canary twice with overlapping ranges": (
            "hr-overlap.csv",
            cx.csv_text(cx.HR_HEADER, [*hr, {**hr[0], "Valid From": "2025-06-02"}], bom=False),
        ),
        "Viva query: the canary's count is their name": (
            "viva-bad-count.csv",
            cx.csv_text(cx.VIVA_HEADER, [{**viva[0], "Emails_sent": canary.name}], bom=False),
        ),
        "Viva query: the canary's week is their address": (
            "viva-bad-date.csv",
            cx.csv_text(cx.VIVA_HEADER, [{**viva[0], "MetricDate": canary.email}], bom=False),
        ),
        "SCIM users cut off inside the canary's record": (
            "scim-cut.json",
            _cut(scim, canary.scim_external_id),
        ),
        "SCIM user whose 'active' is their name": (
            "scim-bad-active.json",
            json.dumps({"Resources": [{**cx.scim_user(canary), "active": canary.name}]}),
        ),
        "saved Google activities cut off after the canary's address": (
            "google-cut.json",
            _cut(saved, canary.email),
        ),
        "saved Google activity with the canary's name as a duration": (
            "google-bad-number.json",
            json.dumps(cx.google_page([cx.meet(canary, "2026-01-06T11:00:00.000Z", seconds=canary.name)])),
        ),
        "Slack ZIP cut in half": ("slack-cut.zip", zipped[: len(zipped) // 2]),
        "Slack ZIP whose group-DM day, in a folder named after the canary, is damaged": (
            "slack-crc.zip",
            cx.slack_zip(cx.slack_files(canary, TUESDAY), stored=True).replace(stamp, stamp[::-1]),
        ),
        "Slack ZIP whose users file ends after the canary's address": (
            "slack-cut-users.zip",
            cx.slack_zip(_slack(canary, "users.json", lambda text: _cut(text, canary.email))),
        ),
        "mbox whose header block of the canary's message is damaged": ("damaged.mbox", _damaged_mbox(canary)),
        "mbox that ends inside the canary's headers": (
            "cut.mbox",
            f"From {canary.email} Tue Jan  6 10:00:00 2026\nTo: {canary.email}\nCc: {canary.name}",
        ),
        "calendar whose start is the canary's address": (
            "bad-start.ics",
            cx.calendar(cx.ics_event(canary, start=canary.email)),
        ),
        "calendar whose rule names the canary": (
            "bad-rule.ics",
            cx.calendar(cx.ics_event(canary, extra=(f"RRULE:FREQ=DAILY;X-NAME={canary.email}",))),
        ),
        "Graph connection file that does not parse on the canary's line": (
            "graph-syntax.toml",
            live.toml_text(graph).replace(f'["{canary.email}"]', f"[{canary.email}]"),
        ),
        "Graph calendar event whose start is the canary's address": (
            "graph-bad-event.toml",
            live.toml_text({**graph, "users": [canary.shouted]}),
        ),
        "Graph mailbox that does not exist": (
            "graph-no-mailbox.toml",
            live.toml_text({**graph, "users": [canary.name.replace(" ", ".") + "@example.org"]}),
        ),
        "Google live activity with the canary's address as a duration": (
            "google-bad.toml",
            live.toml_text(
                live.google_connection(
                    google_url, connections.key_from(folder), start="2026-01-12", end="2026-01-18"
                )
            ),
        ),
    }
    folder.mkdir()
    cases: dict[str, Path] = {}
    for what, (name, content) in texts.items():
        cases[what] = folder / name
        if isinstance(content, bytes):
            cases[what].write_bytes(content)
        else:
            cases[what].write_text(content, encoding="utf-8")
    slack_folders = {
        "Slack group DM named after the canary with a broken timestamp": (
            "slack-bad-ts",
            _slack(canary, group_dm, lambda _: bad_ts),
        ),
        "Slack users file with the canary's team id a number": (
            "slack-bad-users",
            _slack(
                canary, "users.json", lambda text: text.replace('"team_id": "T0EXAMPLE"', '"team_id": 5', 1)
            ),
        ),
    }
    for what, (name, files) in slack_folders.items():
        cases[what] = cx.write_slack_folder(folder / name, files)
    return cases


def fail_on_each(ws: Workspace, cases: dict[str, Path], haystacks: Haystacks) -> list[str]:
    """Ingest each broken export alone; every one must be refused. Returns the cases that were not."""
    accepted = []
    for what, path in cases.items():
        try:
            services.ingest(ws, [path], actor="admin")
        except TeamlensError as error:
            haystacks.text(f"error: {what}", "\n".join([str(error), error.message, error.hint, repr(error)]))
        else:
            accepted.append(what)
    return accepted


# -- the test ---------------------------------------------------------------------------------


def test_a_canary_ingested_from_every_source_appears_in_no_file_log_output_or_error(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    canary = Canary()
    isolate(monkeypatch, tmp_path / "tmp")
    haystacks = Haystacks()
    fake_graph = live.FakeGraph(canary)
    with (
        ReplayServer(fake_graph) as graph,
        ReplayServer(live.FakeGoogle(live.live_google_activities(canary))) as google,
    ):
        exports = cx.write_exports(tmp_path / "exports", canary)
        key = tmp_path / "google-key" / "sa.json"
        connections = live.write_connections(exports / "live", key, canary, graph.url, google.url)
        installed = install(tmp_path)
        ws, options = installed.ws, installed.options
        pseudonyms = installed.pseudonyms(canary)
        directories = watch_directory_commits(monkeypatch, pseudonyms)

        # One run reads every source; a second (JSON output) finds every input already ingested.
        output = invoke(["ingest", *map(str, cx.export_inputs(exports)), *options], haystacks)
        assert "Ingested" in output
        again = json.loads(
            invoke(["ingest", *map(str, cx.export_inputs(exports)), *options, "--json"], haystacks)
        )
        assert {outcome["status"] for outcome in again["files"]} == {"already ingested"}

        # Not vacuous: the canary's facts from every fact source, rows from every directory source.
        stored = facts_by_source(ws, pseudonyms["address"])
        stored.update(facts_by_source(ws, pseudonyms["viva"]))
        # The calendar, mail and chat of one ingestion also give the facts that combine them.
        assert set(stored) - {ACTIVITY_SOURCE} == set(source_names()) == set(EXPECTED)
        assert ACTIVITY_SOURCE in stored
        for source, facts in EXPECTED.items():
            assert facts <= stored[source], (source, facts - stored[source])
        assert set(directories) == set(directory_names())
        assert directories == {
            "scim_directory": {"address"},
            "viva_insights_directory": {"viva"},
            "hr_directory_csv": {"address"},
        }
        assert ws.store.person_directory(pseudonyms["address"]).column("team").to_pylist() == ["Platform"]
        assert f"/v1.0/users/{canary.email}/calendar/calendarView" in fake_graph.seen

        # Failures holding the canary's record, through the services and through the CLI.
        cases = broken_exports(tmp_path / "broken", canary, connections, graph.url, google.url)
        assert fail_on_each(ws, cases, haystacks) == []
        for what in CLI_FAILURES:
            with pytest.raises(SystemExit) as exited:
                main(["ingest", str(cases[what]), *options])
            assert exited.value.code != 0

    # A release, the report and every governance document, written into the data folder.
    data = ws.settings.data_dir
    services.release(ws, "department-monthly", ["2026-01"], actor="analyst")
    invoke(["release", "team-quarterly", "-w", "2026-Q1", "--data-dir", str(data)], haystacks)
    policy, tables = services.released_tables(ws)
    services.write_report(policy, tables, data / "out" / "report.html")
    for kind in KINDS:
        services.write_document(ws, kind, data / "out" / f"{kind}.html")
    for argv in (["audit", "show", "--json", "--limit", "1000"], ["audit", "verify"], ["store", "verify"]):
        invoke([*argv, "--data-dir", str(data)], haystacks)

    captured = capsys.readouterr()
    haystacks.text("stdout", captured.out)
    haystacks.text("stderr", captured.err)
    haystacks.logs(caplog.records, caplog.text)
    haystacks.files(data)
    haystacks.files(tmp_path / "tmp")  # the Graph report CSV lives there only while it is parsed
    # The failed Google pull leaves its progress next to its connection file, outside the data folder.
    checkpoints = [path for path in files_under(tmp_path / "broken") if path.name.endswith(".state.json")]
    assert checkpoints
    for path in checkpoints:
        haystacks.items += file_views(path)
    assert "Error:" in captured.err and "Hint:" in captured.err
    assert len(files_under(data)) > 10 and haystacks.size > 100_000
    assert sightings(haystacks, [*canary.markers(), *SECRETS]) == []


def test_inputs_named_after_the_canary_leave_no_trace_in_the_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Per-person exports are often named after their owner; the path may be echoed back to the
    # admin who typed it, but must not be kept (batches are labelled by connector and hash).
    caplog.set_level(logging.DEBUG)
    clean_environment(monkeypatch)
    canary = Canary()
    folder = tmp_path / "exports" / canary.name
    cx.write_mbox(folder / f"{canary.email}.mbox", canary, TUESDAY)
    (folder / f"{canary.shouted}.ics").write_text(cx.calendar(cx.ics_event(canary)), encoding="utf-8")
    cx.write_slack_folder(folder / canary.slack_handle, cx.slack_files(canary, TUESDAY))
    installed = install(tmp_path)
    services.ingest(installed.ws, [folder], actor="admin")
    person = installed.pseudonyms(canary)["address"]
    assert set(facts_by_source(installed.ws, person)) == {
        "mail_headers",
        "calendar_ics",
        "slack_export",
        ACTIVITY_SOURCE,
    }
    haystacks = Haystacks()
    haystacks.files(installed.ws.settings.data_dir)
    haystacks.logs(caplog.records, caplog.text)
    assert sightings(haystacks, canary.markers()) == []


def test_a_header_that_ran_into_the_canarys_row_is_not_echoed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_environment(monkeypatch)
    canary = Canary()
    export = tmp_path / "hr.csv"
    export.write_text(f"Email,Team,Valid From,Location{canary.email},Platform,2025-01-06,London\n")
    installed = install(tmp_path)
    haystacks = Haystacks()
    # A directory without people is refused (it would wipe the stored one); the refusal and the
    # unknown-columns note alike must not echo the row that ran into the header.
    invoke(["ingest", str(export), *installed.options], haystacks, refused=True)
    assert sightings(haystacks, canary.markers()) == []


# -- teeth: the same search, given a planted canary, finds it ------------------------------------


def _plant_parquet(folder: Path, canary: Canary) -> Path:
    # Deflate codes literals bit-wise and there are no statistics: only the decoded values show it.
    people = ["0" * 64] * 5000 + [canary.shouted]
    path = folder / "facts" / "months" / "2026-01" / "gen-1.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(pa.table({"person": people}), path, compression="gzip", write_statistics=False)
    return path


def _plant_sqlite(folder: Path, canary: Canary) -> Path:
    path = folder / "governance.sqlite"
    con = sqlite3.connect(path)
    with con:
        con.execute("CREATE TABLE audit (detail TEXT)")
        con.execute("INSERT INTO audit VALUES (?)", (f"erased {canary.slack_id}",))
    con.close()
    return path


def _plant_utf16(folder: Path, canary: Canary) -> Path:
    path = folder / "out" / "report.html"
    path.parent.mkdir()
    path.write_bytes(f"<p>{canary.name}</p>".encode("utf-16-le"))
    return path


def _plant_gzip(folder: Path, canary: Canary) -> Path:
    path = folder / "facts" / ".spill" / "block.gz"
    path.parent.mkdir(parents=True)
    path.write_bytes(gzip.compress(canary.viva_id.encode() * 50))
    return path


def _plant_hash(folder: Path, canary: Canary) -> Path:
    path = folder / "facts" / "manifest.json"
    path.parent.mkdir(parents=True)
    unkeyed = hashlib.sha256(canary.email.encode()).hexdigest()
    path.write_text(json.dumps({"people": [unkeyed.upper()]}))
    return path


PLANTS = {
    "Parquet": _plant_parquet,
    "SQLite": _plant_sqlite,
    "UTF-16": _plant_utf16,
    "gzip": _plant_gzip,
    "unkeyed hash": _plant_hash,
}


@pytest.mark.parametrize("plant", PLANTS.values(), ids=PLANTS.keys())
def test_teeth_the_search_finds_a_canary_planted_in_the_data_folder(tmp_path: Path, plant: Any) -> None:
    canary = Canary()
    data = tmp_path / "data"
    data.mkdir()
    (data / "clean.json").write_text(json.dumps({"person": "0" * 64, "team": "Platform"}))
    clean = Haystacks()
    clean.files(data)
    assert sightings(clean, canary.markers()) == []
    planted = plant(data, canary)
    haystacks = Haystacks()
    haystacks.files(data)
    hits = sightings(haystacks, canary.markers())
    assert hits
    assert all(str(planted) in hit for hit in hits)
    if plant is _plant_parquet:  # a byte search alone would have missed it
        assert all(hit.endswith("(Parquet values)") for hit in hits)


def test_teeth_without_pseudonymisation_the_search_finds_the_canary_in_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_environment(monkeypatch)
    canary = Canary()
    exports = tmp_path / "exports"
    cx.write_csv(exports / "email.csv", EMAIL_HEADER, cx.email_report_rows(canary))
    cx.write_mbox(exports / "mail.mbox", canary, TUESDAY)
    installed = install(tmp_path)
    monkeypatch.setattr(
        Workspace, "pseudonymiser", lambda self: lambda identifier: identifier.strip().lower()
    )
    services.ingest(installed.ws, [exports], actor="admin")
    haystacks = Haystacks()
    haystacks.files(installed.ws.settings.data_dir)
    assert any("Parquet values" in hit for hit in sightings(haystacks, canary.markers()))


def test_teeth_the_search_finds_a_canary_in_a_log_record(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    canary = Canary()
    logging.getLogger("teamlens.sources").debug("read %s", {"user": canary.graph_id})
    haystacks = Haystacks()
    haystacks.logs(caplog.records, caplog.text)
    assert sightings(haystacks, canary.markers()) == [
        f"{canary.graph_id!r} in log record teamlens.sources",
        f"{canary.graph_id!r} in log record teamlens.sources (unwrapped)",
        f"{canary.graph_id!r} in logs",
        f"{canary.graph_id!r} in logs (unwrapped)",
    ]
