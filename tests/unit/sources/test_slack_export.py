"""Slack export connector: hand-built exports in every shape, errors that name file and record."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from teamlens.domain import FACT_SCHEMA, Exclusions, WorkingHours
from teamlens.errors import InputFormatError
from teamlens.sources import ReadContext, get_source
from teamlens.sources.slack_archive import SlackArchive, records
from teamlens.sources.slack_export import SLACK_EXPORT

from ...support.paths import shared_file
from .sources_testkit import pseudonymiser, read_all

SLACK_METRICS = frozenset({"chat_messages", "thread_replies", "reactions_given", "channels_active"})
TEAM = "T0TEAM"
# 2024-01-03 (a Wednesday) 12:00 UTC, and 2024-01-04 03:00 UTC (still the 3rd in New York).
NOON = 1704283200
NIGHT = 1704337200


def ts(seconds: int, micro: int = 100) -> str:
    return f"{seconds}.{micro:06d}"


def user(uid: str, email: str | None = None, **extra: Any) -> dict[str, Any]:
    profile = {"real_name": f"Name of {uid}", "display_name": uid.lower()}
    if email is not None:
        profile["email"] = email
    return {
        "id": uid,
        "team_id": TEAM,
        "name": uid.lower(),
        "real_name": f"Name of {uid}",
        "is_bot": False,
        "deleted": False,
        "profile": profile,
        **extra,
    }


USERS = [
    user("UALICE", "alice@corp.example"),
    user("UBOB", "bob@corp.example"),
    user("UCAROL", "carol@corp.example"),
    user("BBOTUSER", None, is_bot=True),
    user("USLACKBOT", None),
]


def msg(uid: str | None, seconds: int, micro: int = 100, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "message",
        "ts": ts(seconds, micro),
        "text": "secret words",
        "blocks": [{"type": "rich_text", "elements": [{"text": "secret words"}]}],
    }
    if uid is not None:
        out["user"] = uid
    out.update(extra)
    return out


def write_export(
    root: Path,
    conversations: dict[str, dict[str, list[dict[str, Any]]]],
    *,
    users: list[dict[str, Any]] | None = None,
    users_file: str = "users.json",
    listings: dict[str, list[dict[str, Any]]] | None = None,
) -> Path:
    """An unzipped export under ``root``: users file, listings, one JSON file per conversation day."""
    root.mkdir(parents=True, exist_ok=True)
    (root / users_file).write_text(json.dumps(users if users is not None else USERS))
    listings = listings or {}
    listings.setdefault(
        "channels.json",
        [
            {"id": f"C{i}", "name": name, "members": []}
            for i, name in enumerate(conversations)
            if not name.startswith(("D", "mpdm-"))
        ],
    )
    for file, entries in listings.items():
        (root / file).write_text(json.dumps(entries))
    (root / "integration_logs.json").write_text("[]")
    for folder, days in conversations.items():
        (root / folder).mkdir(exist_ok=True)
        for day, messages in days.items():
            (root / folder / f"{day}.json").write_text(json.dumps(messages, indent=4))
    return root


def zip_folder(folder: Path, target: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                archive.write(file, prefix + str(file.relative_to(folder)))
    return target


def ctx(
    metrics: frozenset[str] = SLACK_METRICS,
    *,
    zones: dict[str, str] | None = None,
    excluded: tuple[str, ...] = (),
    exclusions: Exclusions | None = None,
    batch_rows: int = 65_536,
) -> ReadContext:
    pseud = pseudonymiser()
    return ReadContext(
        pseudonymise=pseud,
        metrics=metrics,
        batch_rows=batch_rows,
        excluded_persons=frozenset(pseud(name) for name in excluded),
        exclusions=exclusions or Exclusions(),
        person_working_hours={pseud(a): WorkingHours(timezone=zone) for a, zone in (zones or {}).items()},
    )


def facts(table: pa.Table) -> Counter[tuple[str, str, dt.date, int]]:
    found: Counter[tuple[str, str, dt.date, int]] = Counter()
    for row in table.to_pylist():
        key = (row["metric"], row["person"], row["day"], row["days"])
        assert key not in found, "a fact key must be emitted once"
        found[key] = row["value"]
    return found


def p(identifier: str) -> str:
    return pseudonymiser()(identifier)


WED = dt.date(2024, 1, 3)
MONDAY = dt.date(2024, 1, 1)

BASIC = {
    "general": {
        "2024-01-03": [
            msg("UALICE", NOON, 1, reactions=[{"name": "tada", "users": ["UBOB", "UCAROL", "BBOTUSER"]}]),
            msg("UALICE", NOON, 2, thread_ts=ts(NOON, 1)),  # a thread reply
            msg("UBOB", NOON, 3, thread_ts=ts(NOON, 3), reply_count=1),  # a thread parent
            msg("UBOB", NOON, 4, subtype="thread_broadcast", thread_ts=ts(NOON, 3)),
            msg("UCAROL", NOON, 5, subtype="channel_join"),
            msg("UCAROL", NOON, 6, subtype="channel_topic"),
            msg(
                None,
                NOON,
                7,
                subtype="bot_message",
                bot_id="B1",
                reactions=[{"name": "eyes", "users": ["UCAROL"], "count": 1}],
            ),
            msg("UALICE", NOON, 8, bot_id="B2"),  # posted through an app
            msg("BBOTUSER", NOON, 9),
            msg("USLACKBOT", NOON, 10),
            msg("UCAROL", NOON, 11, subtype="me_message"),
        ]
    },
    "random": {"2024-01-03": [msg("UALICE", NOON, 20)], "2024-01-05": [msg("UALICE", NOON + 2 * 86_400)]},
}


def test_messages_replies_reactions_and_weekly_channels_are_counted(tmp_path: Path) -> None:
    table, report, _ = read_all(SLACK_EXPORT, write_export(tmp_path / "export", BASIC), ctx())
    assert table.schema == FACT_SCHEMA
    alice, bob, carol = p("alice@corp.example"), p("bob@corp.example"), p("carol@corp.example")
    assert facts(table) == {
        ("chat_messages", alice, WED, 1): 3,
        ("chat_messages", alice, dt.date(2024, 1, 5), 1): 1,
        ("chat_messages", bob, WED, 1): 2,
        ("chat_messages", carol, WED, 1): 1,
        ("thread_replies", alice, WED, 1): 1,
        ("thread_replies", bob, WED, 1): 1,
        ("reactions_given", bob, WED, 1): 1,
        ("reactions_given", carol, WED, 1): 2,
        ("channels_active", alice, MONDAY, 7): 2,
        ("channels_active", bob, MONDAY, 7): 1,
        ("channels_active", carol, MONDAY, 7): 1,
    }
    assert set(table.column("source").to_pylist()) == {"slack_export"}
    assert (report.rows_read, report.rows_kept, report.people_seen) == (13, 7, 3)
    assert report.facts == table.num_rows
    assert any(note.startswith("6 bot or system messages") for note in report.notes)


def test_days_are_local_to_each_person(tmp_path: Path) -> None:
    export = write_export(
        tmp_path / "export",
        {"general": {"2024-01-04": [msg("UALICE", NIGHT), msg("UBOB", NIGHT, 2), msg("UCAROL", NIGHT, 3)]}},
    )
    zones = {"alice@corp.example": "America/New_York", "bob@corp.example": "Asia/Tokyo"}
    table, _, _ = read_all(SLACK_EXPORT, export, ctx(frozenset({"chat_messages"}), zones=zones))
    assert facts(table) == {
        ("chat_messages", p("alice@corp.example"), WED, 1): 1,  # 22:00 on the 3rd
        ("chat_messages", p("bob@corp.example"), dt.date(2024, 1, 4), 1): 1,  # 12:00 on the 4th
        ("chat_messages", p("carol@corp.example"), dt.date(2024, 1, 4), 1): 1,  # London: 03:00
    }


def test_channels_active_counts_distinct_conversations_per_iso_week(tmp_path: Path) -> None:
    sunday, next_monday = NOON + 4 * 86_400, NOON + 5 * 86_400
    export = write_export(
        tmp_path / "export",
        {
            "a": {
                "2024-01-03": [msg("UALICE", NOON), msg("UALICE", NOON, 2)],
                "2024-01-07": [msg("UALICE", sunday)],
            },
            "b": {"2024-01-07": [msg("UALICE", sunday)], "2024-01-08": [msg("UALICE", next_monday)]},
        },
    )
    table, _, _ = read_all(SLACK_EXPORT, export, ctx(frozenset({"channels_active"})))
    alice = p("alice@corp.example")
    assert facts(table) == {
        ("channels_active", alice, MONDAY, 7): 2,
        ("channels_active", alice, dt.date(2024, 1, 8), 7): 1,
    }


def test_zip_and_folder_forms_read_the_same(tmp_path: Path) -> None:
    folder = write_export(tmp_path / "export", BASIC)
    expected, _, _ = read_all(SLACK_EXPORT, folder, ctx())
    for prefix in ("", "Corp Slack export Jan 1 2024 - Jan 8 2024/"):
        archive = zip_folder(folder, tmp_path / f"export{len(prefix)}.zip", prefix)
        assert SLACK_EXPORT.sniff(archive)
        table, _, _ = read_all(SLACK_EXPORT, archive, ctx())
        assert facts(table) == facts(expected)


def test_enterprise_grid_org_users_and_private_conversations(tmp_path: Path) -> None:
    listings = {
        "groups.json": [{"id": "G1", "name": "secret-project", "members": ["UALICE", "UBOB"]}],
        "dms.json": [{"id": "D1", "members": ["UALICE", "UCAROL"]}],
        "mpims.json": [
            {"id": "G2", "name": "mpdm-alice--bob--carol-1", "members": ["UALICE", "UBOB", "UCAROL"]}
        ],
    }
    export = write_export(
        tmp_path / "export",
        {
            "secret-project": {"2024-01-03": [msg("UBOB", NOON)]},
            "D1": {"2024-01-03": [msg("UCAROL", NOON), msg("UALICE", NOON, 2)]},
            "mpdm-alice--bob--carol-1": {"2024-01-03": [msg("UCAROL", NOON, 3)]},
        },
        users_file="org_users.json",
        listings=listings,
    )
    assert SLACK_EXPORT.sniff(export)
    table, _, _ = read_all(SLACK_EXPORT, export, ctx(frozenset({"chat_messages", "channels_active"})))
    carol = p("carol@corp.example")
    got = facts(table)
    assert got[("chat_messages", carol, WED, 1)] == 2
    assert got[("channels_active", carol, MONDAY, 7)] == 2
    assert got[("chat_messages", p("bob@corp.example"), WED, 1)] == 1


def test_users_without_email_and_unknown_users_are_keyed_on_their_slack_id(tmp_path: Path) -> None:
    users = [*USERS, user("UNOMAIL", None), user("UEMPTY", "  ")]
    export = write_export(
        tmp_path / "export",
        {"general": {"2024-01-03": [msg("UNOMAIL", NOON), msg("UEMPTY", NOON, 2), msg("UGUEST", NOON, 3)]}},
        users=users,
    )
    table, report, _ = read_all(SLACK_EXPORT, export, ctx(frozenset({"chat_messages"})))
    assert set(table.column("person").to_pylist()) == {
        p(f"slack:{TEAM}:UNOMAIL"),
        p(f"slack:{TEAM}:UEMPTY"),
        p(f"slack:{TEAM}:UGUEST"),
    }
    assert any(note.startswith("2 users have no email") for note in report.notes)
    assert any(note.startswith("1 user ids in messages are missing") for note in report.notes)
    assert "UNOMAIL" not in " ".join(report.notes)


def test_objectors_and_union_people_leave_no_trace(tmp_path: Path) -> None:
    users = [*USERS, user("UREP", "rep@union.example.org")]
    listings = {
        "dms.json": [{"id": "D9", "members": ["UBOB", "UREP"]}, {"id": "D8", "members": ["UBOB", "UALICE"]}]
    }
    conversations = {
        "general": {
            "2024-01-03": [
                msg("UREP", NOON, reactions=[{"name": "x", "users": ["UREP", "UCAROL"]}]),
                msg("UALICE", NOON, 2),
                msg("UCAROL", NOON, 3),
            ]
        },
        "D9": {"2024-01-03": [msg("UBOB", NOON, 4), msg("UREP", NOON, 5)]},
        "D8": {"2024-01-03": [msg("UBOB", NOON, 6)]},
    }
    export = write_export(tmp_path / "export", conversations, users=users, listings=listings)
    policy = ctx(excluded=("alice@corp.example",), exclusions=Exclusions(domains=("union.example.org",)))
    table, report, _ = read_all(SLACK_EXPORT, export, policy)
    got = facts(table)
    people = {key[1] for key in got}
    assert people == {p("bob@corp.example"), p("carol@corp.example")}
    assert got[("chat_messages", p("bob@corp.example"), WED, 1)] == 1  # the DM with the rep is skipped
    assert ("reactions_given", p("carol@corp.example"), WED, 1) not in got  # on the rep's message
    # The rep's messages and DM are invisible: the report reads as if they were not in the export.
    del conversations["D9"]
    conversations["general"]["2024-01-03"].pop(0)
    listings["dms.json"].pop(0)
    without_union = write_export(tmp_path / "without", conversations, users=users, listings=listings)
    _, without, _ = read_all(SLACK_EXPORT, without_union, policy)
    assert (report.rows_read, report.notes) == (without.rows_read, without.notes)
    assert "union" not in str(table.to_pylist()) + " ".join(report.notes)


def test_only_the_policys_metrics_are_computed(tmp_path: Path) -> None:
    export = write_export(tmp_path / "export", BASIC)
    table, _, _ = read_all(SLACK_EXPORT, export, ctx(frozenset({"thread_replies", "emails_sent"})))
    assert set(table.column("metric").to_pylist()) == {"thread_replies"}
    _, report, batches = read_all(SLACK_EXPORT, export, ctx(frozenset({"emails_sent"})))
    assert batches == 0
    assert report.rows_read == 0
    assert any("none of the Slack export's metrics" in note for note in report.notes)


def test_facts_come_in_batches_of_the_contexts_size(tmp_path: Path) -> None:
    _, report, batches = read_all(SLACK_EXPORT, write_export(tmp_path / "export", BASIC), ctx(batch_rows=4))
    assert (report.facts, batches) == (11, 3)


def test_message_text_is_dropped_while_parsing(tmp_path: Path) -> None:
    export = write_export(tmp_path / "export", BASIC)
    with SlackArchive(export) as archive:
        loaded = [record for _, record in records(archive, "general/2024-01-03.json", "messages")]
        users = [record for _, record in records(archive, "users.json", "users")]
    assert "secret words" not in json.dumps(loaded)
    assert {key for record in loaded for key in record} <= {
        "ts",
        "user",
        "thread_ts",
        "subtype",
        "bot_id",
        "reactions",
    }
    assert "Name of" not in json.dumps(users)


def test_canvas_files_and_stray_files_are_skipped_with_a_note(tmp_path: Path) -> None:
    export = write_export(tmp_path / "export", BASIC)
    (export / "general" / "canvas_in_the_conversation.json").write_text('[{"user": "USLACKBOT"}]')
    (export / "general" / "notes.txt").write_text("x")
    (export / "general" / ".DS_Store").write_text("x")
    table, report, _ = read_all(SLACK_EXPORT, export, ctx())
    assert table.num_rows == 11
    assert any("1 canvas files" in note for note in report.notes)
    assert any("1 files in conversation folders that are not JSON" in note for note in report.notes)


def test_the_real_redacted_day_file_reads(tmp_path: Path) -> None:
    sample = shared_file("data", "formats", "slack_export_day_sample_redacted.json")
    export = write_export(
        tmp_path / "export",
        {},
        users=[
            user("U01DZUA88S1", "author@r.example"),
            user("U01F4PHUT0R", "r1@r.example"),
            user("U01KXU8UNRX", "r2@r.example"),
        ],
    )
    (export / "general").mkdir()
    (export / "general" / "2021-02-03.json").write_bytes(sample.read_bytes())
    table, report, _ = read_all(SLACK_EXPORT, export, ctx(zones={"author@r.example": "UTC"}))
    day = dt.date(2021, 2, 3)  # ts 1612361994 is 14:19 UTC on 3 February 2021
    assert facts(table) == {
        ("chat_messages", p("author@r.example"), day, 1): 1,
        ("channels_active", p("author@r.example"), dt.date(2021, 2, 1), 7): 1,
        ("reactions_given", p("r1@r.example"), day, 1): 1,
        ("reactions_given", p("r2@r.example"), day, 1): 1,
    }
    assert report.rows_read == 1


def fails(path: Path, context: ReadContext | None = None) -> InputFormatError:
    with pytest.raises(InputFormatError) as caught:
        read_all(SLACK_EXPORT, path, context or ctx())
    text = str(caught.value)
    for secret in ("alice", "bob", "carol", "UALICE", "UBOB", "secret words"):
        assert secret not in text
    return caught.value


def test_a_truncated_zip_is_refused(tmp_path: Path) -> None:
    archive = zip_folder(write_export(tmp_path / "export", BASIC), tmp_path / "export.zip")
    cut = tmp_path / "cut.zip"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    error = fails(cut)
    assert "not a readable ZIP" in str(error)
    assert not SLACK_EXPORT.sniff(cut)


def test_truncated_json_inside_a_zip_names_the_member_and_position(tmp_path: Path) -> None:
    folder = write_export(tmp_path / "export", BASIC)
    text = (folder / "general" / "2024-01-03.json").read_text()
    (folder / "general" / "2024-01-03.json").write_text(text[:200])
    error = fails(zip_folder(folder, tmp_path / "export.zip"))
    assert "export.zip, file general/2024-01-03.json" in error.file
    assert error.line is not None
    assert "is not valid JSON at column" in str(error)


def test_a_day_file_not_named_after_a_date_is_refused(tmp_path: Path) -> None:
    export = write_export(tmp_path / "export", BASIC)
    (export / "random" / "2024-13-45.json").write_text("[]")
    error = fails(export)
    assert error.file.endswith("random/2024-13-45.json")
    assert "YYYY-MM-DD.json" in str(error)


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ({"type": "message", "user": "UALICE"}, "ts"),
        ({"type": "message", "user": "UALICE", "ts": "yesterday"}, "ts"),
        ({"type": "message", "user": 7, "ts": "1704283200.000100"}, "user"),
        (
            {"type": "message", "user": "UALICE", "ts": "1704283200.1", "reactions": {"users": []}},
            "reactions",
        ),
        (
            {"type": "message", "user": "UALICE", "ts": "1704283200.1", "reactions": [{"users": "U"}]},
            "reactions",
        ),
    ],
)
def test_a_bad_message_names_file_record_and_field(
    tmp_path: Path, message: dict[str, Any], field: str
) -> None:
    export = write_export(tmp_path / "export", {"general": {"2024-01-03": [msg("UBOB", NOON), message]}})
    error = fails(export)
    assert error.file.endswith("general/2024-01-03.json")
    assert "record 2" in str(error)
    assert error.field == field


def test_group_dm_folder_names_never_appear_in_errors(tmp_path: Path) -> None:
    export = write_export(
        tmp_path / "export", {"mpdm-alice--bob--carol-1": {"2024-01-03": [{"user": "UBOB"}]}}
    )
    error = fails(export)
    assert "group-DM folder 1/2024-01-03.json" in error.file
    (export / "mpdm-alice--bob--carol-1" / "2024-01-03.json").write_text("[{")
    assert "group-DM folder 1" in fails(export).file


def test_an_export_without_users_is_refused(tmp_path: Path) -> None:
    export = write_export(tmp_path / "export", BASIC, users=[])
    assert "users.json" in str(fails(export))


def test_sniff_wants_channels_and_users(tmp_path: Path) -> None:
    export = write_export(tmp_path / "export", BASIC)
    archive = zip_folder(export, tmp_path / "export.zip")
    assert SLACK_EXPORT.sniff(export)
    assert SLACK_EXPORT.sniff(archive)
    (export / "users.json").unlink()
    assert not SLACK_EXPORT.sniff(export)
    assert not SLACK_EXPORT.sniff(tmp_path / "missing.zip")
    (tmp_path / "x.csv").write_text("a,b\n")
    assert not SLACK_EXPORT.sniff(tmp_path / "x.csv")


def test_the_connector_is_registered() -> None:
    assert get_source("slack_export") is SLACK_EXPORT


def test_canary_person_never_leaks(tmp_path: Path) -> None:
    canary_id, canary_mail, canary_name = "UCANARY5d1f0e", "canary-5d1f0e@corp.example", "Canary Zq5d1f0e"
    users = [*USERS, {**user(canary_id, canary_mail), "real_name": canary_name, "name": canary_name}]
    conversations = {
        "general": {
            "2024-01-03": [
                msg(canary_id, NOON, text=canary_name),
                msg("UALICE", NOON, 2, reactions=[{"users": [canary_id]}]),
            ]
        }
    }
    export = write_export(tmp_path / "export", conversations, users=users)
    outputs = [repr(read_all(SLACK_EXPORT, export, ctx()))]
    # A failure right after the canary's message, and one in the users file.
    conversations["general"]["2024-01-03"].append({"user": canary_id})
    write_export(tmp_path / "export", conversations, users=users)
    outputs.append(str(fails(export)))
    (export / "users.json").write_text(json.dumps([*users, {"id": canary_id, "team_id": 5}]))
    outputs.append(str(fails(export)))
    for output in outputs:
        for secret in (canary_id, canary_mail, canary_name, "5d1f0e"):
            assert secret not in output
