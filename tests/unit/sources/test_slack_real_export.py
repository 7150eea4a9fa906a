"""Slack connector on a real export's metadata (R Contributors), checked against pandas counts.

The export is rebuilt from ``slack_message_metadata.csv`` (12,574 real messages in 33 folders,
bots, joins and threads as exported) with synthetic users.json emails and synthetic reaction
users; the expected facts are computed here, independently, with pandas.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd  # type: ignore[import-untyped]
import pytest

from teamlens.domain import WorkingHours
from teamlens.sources import ReadContext
from teamlens.sources.slack_export import SLACK_EXPORT

from ...support.paths import shared_file, shared_path
from .sources_testkit import pseudonymiser, read_all
from .test_slack_export import SLACK_METRICS, zip_folder

DATA = shared_path("data", "slack-rcontributors")
ZONES = ("Europe/London", "America/Los_Angeles", "Asia/Tokyo", "Pacific/Auckland")
HUMAN_SUBTYPES = {"", "thread_broadcast", "me_message", "file_share"}


def email(uid: str) -> str:
    return f"{uid.lower()}@rcontrib.example"


@pytest.fixture(scope="module")
def metadata() -> pd.DataFrame:
    path = shared_file("data", "slack-rcontributors", "slack_message_metadata.csv")
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def rebuilt(metadata: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """The export folder, plus one row per (message, reactor) for the synthetic reactions."""
    root = tmp_path_factory.mktemp("rcontributors")
    channels = pd.read_csv(DATA / "channels.csv", dtype=str)
    members = pd.read_csv(DATA / "channel_members.csv", dtype=str)
    everyone = sorted(set(members.user_id) | set(metadata.user_id) - {"", "USLACKBOT"})
    users = [
        {"id": uid, "team_id": "T01DW9DLB2A", "name": "x", "profile": {"email": email(uid)}}
        for uid in everyone
    ]
    # Slackbot is not in users.json: the connector must know its id.
    (root / "users.json").write_text(json.dumps(users))
    by_channel = members.groupby("channel").user_id.apply(sorted).to_dict()
    (root / "channels.json").write_text(
        json.dumps(
            [
                {"id": row.channel_id, "name": row.channel, "members": by_channel.get(row.channel, [])}
                for row in channels.itertuples()
            ]
        )
    )
    rng = random.Random(11)
    reactions: list[dict[str, Any]] = []
    for (channel, day), rows in metadata.groupby(["channel", "day"], sort=True):
        messages = []
        for row in rows.itertuples():
            message: dict[str, Any] = {"type": row.type, "text": "t" * int(row.text_length)}
            for key in ("ts", "subtype", "thread_ts"):
                if getattr(row, key):
                    message[key] = getattr(row, key)
            if row.user_id:
                message["user"] = row.user_id
            if row.subtype == "bot_message":
                message["bot_id"] = "B01BOT"
            if int(row.reaction_count):
                pool = by_channel.get(channel, everyone)
                reactors = rng.sample(pool, min(int(row.reaction_count), len(pool)))
                message["reactions"] = [{"name": "+1", "users": reactors, "count": len(reactors)}]
                reactions += [{"user_id": who, "ts": row.ts} for who in reactors]
            messages.append(message)
        (root / channel).mkdir(exist_ok=True)
        (root / channel / f"{day}.json").write_text(json.dumps(messages))
    return root, pd.DataFrame(reactions)


def zone_of(uid: str) -> str:
    return ZONES[sum(map(ord, uid)) % len(ZONES)]


def context() -> ReadContext:
    pseud = pseudonymiser()
    members = pd.read_csv(DATA / "channel_members.csv", dtype=str)
    messages = pd.read_csv(DATA / "slack_message_metadata.csv", dtype=str)
    people = set(members.user_id) | set(messages.user_id.dropna())
    return ReadContext(
        pseudonymise=pseud,
        metrics=SLACK_METRICS,
        person_working_hours={pseud(email(uid)): WorkingHours(timezone=zone_of(uid)) for uid in people},
    )


def local_dates(frame: pd.DataFrame) -> pd.Series:
    """Each row's local date in its user's zone, computed with pandas."""
    instants = pd.to_datetime(frame.ts.str.split(".").str[0].astype("int64"), unit="s", utc=True)
    return pd.Series(
        [
            instant.tz_convert(zone_of(uid)).date()
            for instant, uid in zip(instants, frame.user_id, strict=True)
        ],
        index=frame.index,
    )


def expected_facts(metadata: pd.DataFrame, reactions: pd.DataFrame) -> Counter[tuple[str, str, dt.date, int]]:
    pseud = pseudonymiser()
    human = metadata[
        (metadata.type == "message")
        & metadata.subtype.isin(HUMAN_SUBTYPES)
        & (metadata.user_id != "")
        & (metadata.user_id != "USLACKBOT")
    ].copy()
    human["date"] = local_dates(human)
    human["monday"] = [day - dt.timedelta(days=day.weekday()) for day in human.date]
    expected: Counter[tuple[str, str, dt.date, int]] = Counter()
    counts = {
        "chat_messages": human.groupby(["user_id", "date"]).size(),
        "thread_replies": human[(human.thread_ts != "") & (human.thread_ts != human.ts)]
        .groupby(["user_id", "date"])
        .size(),
    }
    reactions = reactions.assign(date=local_dates(reactions))
    counts["reactions_given"] = reactions.groupby(["user_id", "date"]).size()
    for metric, series in counts.items():
        for (uid, day), value in series.items():
            expected[(metric, pseud(email(uid)), day, 1)] = int(value)
    for (uid, monday), value in human.groupby(["user_id", "monday"]).channel.nunique().items():
        expected[("channels_active", pseud(email(uid)), monday, 7)] = int(value)
    return expected


def test_real_export_facts_equal_independent_counts(
    metadata: pd.DataFrame, rebuilt: tuple[Path, pd.DataFrame]
) -> None:
    root, reactions = rebuilt
    table, report, _ = read_all(SLACK_EXPORT, root, context())
    got = Counter({(r["metric"], r["person"], r["day"], r["days"]): r["value"] for r in table.to_pylist()})
    assert len(got) == table.num_rows  # every key once
    expected = expected_facts(metadata, reactions)
    assert got == expected
    assert report.rows_read == len(metadata) - (metadata.day == "canvas_in_the_conversation").sum()
    bots = (metadata.subtype == "bot_message").sum() + (metadata.user_id == "USLACKBOT").sum()
    assert report.rows_kept < report.rows_read - bots
    assert any("10 canvas files" in note for note in report.notes)
    # 6,095 plain messages, 58 thread broadcasts and 1 /me, less Slackbot's 18 plain ones.
    assert sum(value for (metric, *_), value in got.items() if metric == "chat_messages") == 6_136


def test_real_export_zipped_reads_the_same(rebuilt: tuple[Path, pd.DataFrame], tmp_path: Path) -> None:
    root, _ = rebuilt
    folder, _, _ = read_all(SLACK_EXPORT, root, context())
    zipped, _, _ = read_all(SLACK_EXPORT, zip_folder(root, tmp_path / "export.zip"), context())
    assert folder.sort_by([(name, "ascending") for name in ("metric", "person", "day")]).equals(
        zipped.sort_by([(name, "ascending") for name in ("metric", "person", "day")])
    )
