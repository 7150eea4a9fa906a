"""Connector for mail headers in an mbox file or a Maildir folder: emails sent and received per person.

Point it at an mbox file or at a Maildir (a folder with ``cur`` and ``new``, or a folder of
such Maildirs, read as one input). Only From, To, Cc, Bcc, Date and Message-ID are read
(``mail_scan.py``); subjects and bodies never are. Every address is a person, identified by
its lower-cased addr-spec (``email.utils.getaddresses``), pseudonymised.

What counts, for the metrics the policy allows, on each person's local day
(``ctx.working_hours_of(person).timezone``):

- ``emails_sent``: the first From address gets one per message;
- ``emails_received``: every distinct To, Cc and Bcc address gets one per message;
- ``after_hours_emails``: messages sent outside the sender's working hours or days.

One input is one count of each message. A message seen twice in the input (the same
Message-ID in Sent and in Inbox, or in two people's Maildirs under one folder) counts once;
messages without a Message-ID are never merged. The store keeps the last value ingested per
person-day, so give each period's mail as ONE input — a journal mailbox, one mbox of all
mailboxes, or a folder holding every Maildir: reading people's mailboxes as separate inputs
would let each replace the others' counts for the people they share. Mail from and to people
outside the organisation is counted under their pseudonyms too, and falls away when releases
join the HR directory.

Exclusions (R18/A21): a message from or to any address in ``ctx.exclusions.addresses``, or in
a domain of ``ctx.exclusions.domains`` or its subdomains, is dropped before anything is
counted, for everyone on it, and leaves no trace: no fact, no note, not even in the report's
counts (a count per mailbox would tell who wrote to the union). Objectors
(``ctx.excluded_persons``) get no facts; the others on their messages still do.

A malformed header block raises ``InputFormatError`` (the file is damaged); a message without
a parseable Date is skipped and counted in a note (a client's omission, not damage); one
without a sender address still counts as received. A Date without a zone is taken as UTC.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path

import pyarrow as pa

from teamlens.sources.context import ReadContext, ReadReport
from teamlens.sources.exclusions import AddressExclusions
from teamlens.sources.mail_scan import HeaderBlock, is_maildir, is_mbox, maildir_blocks, mbox_blocks
from teamlens.sources.slack_mail_tally import Tally, is_after_hours

METRICS = ("emails_sent", "emails_received", "after_hours_emails")
_RECIPIENT_FIELDS = ("to", "cc", "bcc")
#: Characters that make an address header need the full RFC 5322 parser (quotes, comments, groups).
_COMPLEX = re.compile(r'["()\\:;\[\]]')
_PLAIN_ADDRESS = re.compile(r"[^\s@<>,]+@[^\s@<>,]+")
_CACHE_LIMIT = 200_000  # parsed address headers kept for reuse; real mail repeats them constantly
_YEARS = (1970, 2200)  # Date headers outside these years are unreadable, not mail from then


class MailHeadersReader:
    """Read mbox or Maildir headers into email facts (a ``SourceReader``)."""

    name = "mail_headers"
    description = "mail headers from an mbox file or a Maildir folder (From, To, Cc, Bcc, Date, Message-ID)"

    def sniff(self, path: Path) -> bool:
        """True when ``path`` is an mbox file (first line 'From ') or a Maildir folder."""
        return is_mbox(path) or is_maildir(path)

    def read(self, path: Path, ctx: ReadContext, report: ReadReport) -> Iterator[pa.RecordBatch]:
        """Yield the policy's email metrics for the mailbox at ``path``, after reading all of it."""
        if not any(metric in ctx.metrics for metric in METRICS):
            report.note("the policy allows none of the mail metrics; nothing was read")
            return
        blocks = maildir_blocks(path) if path.is_dir() else mbox_blocks(path)
        yield from _Count(ctx, report).run(blocks)


class _Count:
    """One pass over one input's header blocks, then its facts."""

    def __init__(self, ctx: ReadContext, report: ReadReport) -> None:
        self.ctx = ctx
        self.report = report
        self.tally = Tally(MailHeadersReader.name, ctx)
        self.excluded = AddressExclusions(ctx.exclusions)
        self.after_hours = self.tally.wants("after_hours_emails")
        self._addresses: dict[str, tuple[str, ...]] = {}
        self._persons: dict[str, str | None] = {}
        self._seen_ids: set[int] = set()
        self.duplicates = self.undated = self.senderless = 0

    def run(self, blocks: Iterable[HeaderBlock]) -> Iterator[pa.RecordBatch]:
        for block in blocks:
            self._count(block.fields)
        note = self.report.note
        if self.duplicates:
            note(f"{self.duplicates} messages appeared again (same Message-ID) and were counted once")
        if self.undated:
            note(f"skipped {self.undated} messages without a readable Date header")
        if self.senderless:
            note(f"{self.senderless} messages have no sender address: counted as received only")
        self.report.people_seen = self.tally.people
        self.report.facts += len(self.tally)
        yield from self.tally.batches(self.ctx.batch_rows)

    def _count(self, fields: dict[str, str]) -> None:
        senders = self._parse(fields.get("from", ""))
        recipients = tuple(
            dict.fromkeys(
                address for key in _RECIPIENT_FIELDS for address in self._parse(fields.get(key, ""))
            )
        )
        if self.excluded.active and any(self.excluded(a) for a in (*senders, *recipients)):
            return  # before any counter moves: an excluded message leaves no trace at all
        self.report.rows_read += 1
        message_id = fields.get("message-id", "")
        if message_id:
            key = hash(message_id)  # 64 bits per message kept, never the id itself
            if key in self._seen_ids:
                self.duplicates += 1
                return
            self._seen_ids.add(key)
        sent = _date(fields.get("date", ""))
        if sent is None:
            self.undated += 1
            return
        self.report.rows_kept += 1
        if senders:
            sender = self._person(senders[0])
            if sender is not None:
                local = self.tally.local(sender, sent)
                self.tally.add("emails_sent", sender, local.date())
                if self.after_hours and is_after_hours(local, self.ctx.working_hours_of(sender)):
                    self.tally.add("after_hours_emails", sender, local.date())
        else:
            self.senderless += 1
        for address in recipients:
            recipient = self._person(address)
            if recipient is not None:
                self.tally.add("emails_received", recipient, self.tally.local(recipient, sent).date())

    def _parse(self, value: str) -> tuple[str, ...]:
        """The addr-specs in one address header, lower-cased; display names are dropped here."""
        if not value:
            return ()
        found = self._addresses.get(value)
        if found is None:
            if len(self._addresses) >= _CACHE_LIMIT:
                self._addresses.clear()
            found = tuple(dict.fromkeys(address.lower() for address in addr_specs(value)))
            self._addresses[value] = found
        return found

    def _person(self, address: str) -> str | None:
        person = self._persons.get(address)
        if person is None and address not in self._persons:
            pseudonym = self.ctx.pseudonymise(address)
            person = None if pseudonym in self.ctx.excluded_persons else pseudonym
            self._persons[address] = person
        return person


def addr_specs(value: str) -> list[str]:
    """The addr-specs (with an '@') in one address header, as ``email.utils.getaddresses`` finds them.

    The common forms — ``a@x``, ``Name <a@x>``, comma-separated, no quotes, comments or groups —
    are split directly, four times faster; anything else goes to ``getaddresses``.
    """
    if not _COMPLEX.search(value):
        found = []
        for part in value.split(","):
            part = part.strip()
            if part.endswith(">") and part.count("<") == 1:
                part = part[part.index("<") + 1 : -1].strip()
            elif "<" in part or ">" in part:
                break
            if not part:
                continue
            if not _PLAIN_ADDRESS.fullmatch(part):
                break
            found.append(part)
        else:
            return found
    return [address.strip() for _, address in getaddresses([value]) if "@" in address]


def _date(value: str) -> dt.datetime | None:
    """The Date header as an aware datetime, or None when it is missing or unreadable."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (ValueError, TypeError, IndexError, OverflowError):
        return None
    if not _YEARS[0] <= parsed.year <= _YEARS[1]:
        return None  # a mangled year; also keeps time-zone arithmetic away from datetime's limits
    # RFC 5322's "-0000" (and a missing zone) says nothing about the local zone: read it as UTC.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


MAIL_HEADERS = MailHeadersReader()
