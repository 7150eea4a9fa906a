"""Connector for a Slack workspace export (the ZIP, or the folder it unzips to): chat activity per person.

Point it at the export's ``.zip`` or at the folder holding ``channels.json``. People are read
from ``users.json`` (``org_users.json`` on Enterprise Grid) and identified by their profile
email, pseudonymised, so they link to the HR directory; a user without an email is keyed on
``slack:<team id>:<user id>`` (noted by count) and will not join the directory. Message text is
never kept: see ``slack_archive.py``. Every conversation folder is read (public, private, DM,
group DM), including folders no listing names (channels archived or renamed since), one day
file at a time.

What counts (only the metrics the policy allows are computed):

- ``chat_messages``: messages a person posted, per local day — plain messages and the
  subtypes in :data:`PERSON_SUBTYPES`. Every other subtype is a system event or a bot
  (joins, leaves, topic/purpose/name changes, archiving, pins, bot_message, tombstones…), as
  is any message with a ``bot_id``, from ``USLACKBOT`` or from a user marked ``is_bot``.
- ``thread_replies``: those messages whose ``thread_ts`` differs from their ``ts``.
- ``reactions_given``: one per user listed under each reaction, on the local day of the message
  reacted to (exports carry no time for reactions; Slack may list only the first users).
- ``channels_active``: distinct conversations a person posted in per ISO week, stored with
  ``days=7`` on the week's Monday, because distinct counts of days cannot be summed into weeks.
- the collaboration network's edges (when the policy has a network of messages): a message goes
  to the others who posted in its thread, or, outside a thread, to the others who posted in the
  same conversation on the same (UTC) day; its weight of 1 is split evenly over them. Channel
  membership is not used: who could read a message is broadcast, not collaboration, and an
  announcement channel of a thousand members would drown every real exchange.

Days are the person's local dates (``ctx.working_hours_of(person).timezone``). People whose
address the policy excludes (R18) are dropped with everything they posted (reactions to it
included), and a private channel, DM or group DM that the listings (groups.json, dms.json,
mpims.json) show them in is skipped whole: no trace in facts, notes or the report's counts.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from teamlens.errors import InputFormatError
from teamlens.sources.context import ReadContext, ReadReport
from teamlens.sources.exclusions import AddressExclusions
from teamlens.sources.slack_archive import LISTING_FILES, USERS_FILES, SlackArchive, is_slack_export, records
from teamlens.sources.slack_mail_tally import Tally

#: Message subtypes a person posts; every other subtype is a system event or a bot.
PERSON_SUBTYPES = frozenset({None, "thread_broadcast", "me_message", "file_share"})
SLACKBOT = "USLACKBOT"
METRICS = ("chat_messages", "thread_replies", "reactions_given", "channels_active")
_TS = re.compile(r"^\d{1,10}(\.\d{1,9})?$")
_MESSAGES = "a JSON array of Slack message objects"
_USERS = "a JSON array of Slack user objects, each with an 'id'"
_PRIVATE_LISTINGS = {"groups.json": "name", "mpims.json": "name", "dms.json": "id"}


@dataclass
class _People:
    """Who each Slack user id is: an identifier to pseudonymise, or None for bots."""

    identity: dict[str, str | None]
    team: str
    excluded_ids: frozenset[str]
    no_email: int


class SlackExportReader:
    """Read a Slack export into chat facts (a ``SourceReader``)."""

    name = "slack_export"
    description = "Slack workspace export (the .zip or its unzipped folder with channels.json, users.json)"

    def sniff(self, path: Path) -> bool:
        """True when ``path`` is a ZIP or folder with channels.json and users.json or org_users.json."""
        return is_slack_export(path)

    def read(self, path: Path, ctx: ReadContext, report: ReadReport) -> Iterator[pa.RecordBatch]:
        """Yield the policy's chat metrics from the export at ``path``, after reading all of it."""
        if not ctx.activity.enabled and not any(metric in ctx.metrics for metric in METRICS):
            report.note("the policy allows none of the Slack export's metrics; nothing was read")
            return
        with SlackArchive(path) as archive:
            yield from _Read(archive, ctx, report).run()


class _Read:
    """One pass over one export: the people, then every conversation, then the facts."""

    def __init__(self, archive: SlackArchive, ctx: ReadContext, report: ReadReport) -> None:
        self.archive = archive
        self.ctx = ctx
        self.report = report
        self.tally = Tally(SlackExportReader.name, ctx)
        self.people = _load_people(archive, AddressExclusions(ctx.exclusions))
        self._persons: dict[str, str | None] = {}
        self._unknown: set[str] = set()
        self._weekly: set[tuple[str, int, int]] = set()
        self.system_messages = 0
        # The network's exchanges: each thread (or, outside threads, each conversation-day) and
        # the posts in it, by whom and on which of their local days.
        self._exchanges: dict[tuple[int, str], list[tuple[str, dt.date]]] = {}

    def run(self) -> Iterator[pa.RecordBatch]:
        skip = _private_with(self.archive, self.people.excluded_ids)
        conversations, canvases, others = self.archive.conversations()
        for index, conversation in enumerate(conversations):
            if conversation.folder in skip:
                continue
            for name in conversation.files:
                for number, message in records(self.archive, name, _MESSAGES, conversation.label):
                    self._count(message, index, _Where(self.archive, name, conversation.label, number))
        for posts in self._exchanges.values():
            together = [person for person, _ in posts]
            for person, day in posts:
                self.ctx.activity.record_edge(person, together, day, 1.0, "chat")
        for person, monday, _ in self._weekly:
            self.tally.add("channels_active", person, dt.date.fromordinal(monday), days=7)
        self._notes(canvases, others)
        self.report.people_seen = self.tally.people
        self.report.facts += len(self.tally)
        yield from self.tally.batches(self.ctx.batch_rows)

    def _count(self, message: dict[str, Any], conversation: int, fail: _Where) -> None:
        ts = message.get("ts")
        if not isinstance(ts, str) or not _TS.match(ts):
            raise fail("ts", "has no valid timestamp 'ts' (such as \"1612361994.003200\")")
        instant = dt.datetime.fromtimestamp(int(ts.partition(".")[0]), dt.UTC)
        user, subtype, thread = (_text(message, key, fail) for key in ("user", "subtype", "thread_ts"))
        if user in self.people.excluded_ids:
            return  # a message by someone the policy excludes leaves no trace, reactions included
        self.report.rows_read += 1
        for reactor in _reactors(message, fail):
            person = self._person(reactor)
            if person is not None:
                self.tally.add("reactions_given", person, self.tally.local(person, instant).date())
        if (
            subtype not in PERSON_SUBTYPES
            or message.get("bot_id")
            or user is None
            or user == SLACKBOT
            or (user in self.people.identity and self.people.identity[user] is None)
        ):
            self.system_messages += 1
            return
        person = self._person(user)
        if person is None:
            return  # an objector
        self.report.rows_kept += 1
        day = self.tally.local(person, instant).date()
        self.tally.add("chat_messages", person, day)
        if self.ctx.activity.enabled:
            self.ctx.activity.record_sent(person, self.tally.local(person, instant), "chat")
            exchange = thread if thread is not None else instant.date().isoformat()
            self._exchanges.setdefault((conversation, exchange), []).append((person, day))
        if thread is not None and thread != ts:
            self.tally.add("thread_replies", person, day)
        if self.tally.wants("channels_active"):
            monday = day.toordinal() - day.weekday()
            self._weekly.add((person, monday, conversation))

    def _person(self, user: str) -> str | None:
        """The pseudonym of Slack user ``user``, or None for bots, objectors and excluded people."""
        if user in self._persons:
            return self._persons[user]
        if user == SLACKBOT or user in self.people.excluded_ids:
            person = None
        elif user in self.people.identity:
            identifier = self.people.identity[user]
            person = None if identifier is None else self.ctx.pseudonymise(identifier)
        else:
            self._unknown.add(user)
            person = self.ctx.pseudonymise(f"slack:{self.people.team}:{user}")
        if person is not None and person in self.ctx.excluded_persons:
            person = None
        self._persons[user] = person
        return person

    def _notes(self, canvases: int, others: int) -> None:
        note = self.report.note
        if self.people.no_email:
            note(
                f"{self.people.no_email} users have no email in the users file: their facts are keyed on "
                "their Slack id and will not join the HR directory"
            )
        if self._unknown:
            note(
                f"{len(self._unknown)} user ids in messages are missing from the users file: their facts "
                "are keyed on their Slack id and will not join the HR directory"
            )
        if self.system_messages:
            note(
                f"{self.system_messages} bot or system messages (joins, topic changes, bot posts…) "
                "were not counted as anyone's messages"
            )
        if canvases:
            note(f"skipped {canvases} canvas files in conversation folders (they are not days of messages)")
        if others:
            note(f"skipped {others} files in conversation folders that are not JSON")


@dataclass(frozen=True)
class _Where:
    """Where a message lives, to build the error that names its file and record number."""

    archive: SlackArchive
    name: str
    label: str
    record: int

    def __call__(self, field: str, problem: str) -> InputFormatError:
        return InputFormatError(
            self.archive.where(self.name, self.label),
            f"record {self.record} {problem}",
            field=field,
            expected=_MESSAGES,
        )


def _text(message: dict[str, Any], key: str, fail: _Where) -> str | None:
    value = message.get(key)
    if value is not None and not isinstance(value, str):
        raise fail(key, f"has a '{key}' that is not a string")
    return value


def _reactors(message: dict[str, Any], fail: _Where) -> Iterator[str]:
    reactions = message.get("reactions")
    if reactions is None:
        return
    if not isinstance(reactions, list):
        raise fail("reactions", "has 'reactions' that are not a list")
    for reaction in reactions:
        users = reaction.get("users", []) if isinstance(reaction, dict) else None
        if not isinstance(users, list) or not all(isinstance(user, str) for user in users):
            raise fail("reactions", "has a reaction whose 'users' is not a list of user ids")
        yield from users


def _load_people(archive: SlackArchive, excluded: AddressExclusions) -> _People:
    """Map every user id in users.json / org_users.json to the identifier it is pseudonymised from."""
    identity: dict[str, str | None] = {}
    excluded_ids: set[str] = set()
    teams: Counter[str] = Counter()
    no_email = 0
    for file in (name for name in USERS_FILES if archive.has(name)):
        for number, user in records(archive, file, _USERS):
            user_id, team = user.get("id"), user.get("team_id", "")
            if not isinstance(user_id, str) or not user_id or not isinstance(team, str):
                raise InputFormatError(
                    archive.where(file),
                    f"record {number} has no user 'id' and 'team_id'",
                    field="id",
                    expected=_USERS,
                )
            teams[team] += 1
            profile = user.get("profile")
            email = profile.get("email") if isinstance(profile, dict) else None
            if user.get("is_bot") is True or user_id == SLACKBOT:
                identity[user_id] = None
            elif isinstance(email, str) and email.strip():
                identity[user_id] = email
                if excluded(email):
                    excluded_ids.add(user_id)
            else:
                no_email += 1
                identity[user_id] = f"slack:{team}:{user_id}"
    if not identity:
        raise InputFormatError(
            archive.path,
            "has no users.json or org_users.json with any user",
            expected="a Slack export with its users file",
            hint="Export again with Slack's standard export, which includes users.json.",
        )
    # Ids missing from the users file (people from other workspaces) are keyed on the export's team.
    return _People(identity, teams.most_common(1)[0][0], frozenset(excluded_ids), no_email)


def _private_with(archive: SlackArchive, excluded_ids: frozenset[str]) -> set[str]:
    """The folders of private conversations that have a member the policy excludes (R18)."""
    folders: set[str] = set()
    if not excluded_ids:
        return folders
    for file in (name for name in LISTING_FILES if name in _PRIVATE_LISTINGS and archive.has(name)):
        key = _PRIVATE_LISTINGS[file]
        for number, conversation in records(archive, file, "a JSON array of conversations"):
            folder, members = conversation.get(key), conversation.get("members", [])
            if not isinstance(folder, str) or not isinstance(members, list):
                raise InputFormatError(
                    archive.where(file),
                    f"record {number} lacks '{key}' or 'members'",
                    field=key,
                    expected="Slack's conversation listing",
                )
            if excluded_ids.intersection(member for member in members if isinstance(member, str)):
                folders.add(folder)
    return folders


SLACK_EXPORT = SlackExportReader()
