"""Connector for mail headers in an mbox file or a Maildir folder: emails sent and received per person.

Point it at an mbox file or at a Maildir (a folder with ``cur`` and ``new``, or a folder of
such Maildirs, read as one input). Only From, To, Cc, Bcc, Date and Message-ID are read
(``mail_scan.py``); subjects and bodies never are. Every address is a person, identified by
its lower-cased addr-spec (``email.utils.getaddresses``), pseudonymised.

**Whose mail.** An input named after one address (``alice@example.org.mbox``, a Maildir folder
``alice@example.org/``) is that person's own mailbox, a personal export: it gives facts for its
owner only (``export_owner.py`` has the rule). A folder of Maildirs each under a folder named
after an address (``mail/alice@example.org/``, ``mail/bob@example.org/.Sent/``) is a set of
personal exports, each counted for its owner only — the outermost folder named after an
address gives the owner. Any other input is organisation-wide (a journal mailbox, one
mbox of all mailboxes, a folder of Maildirs not all named after addresses): everyone on its
messages is counted. The store keeps the last value ingested per person-day, so a personal
mailbox read as organisation-wide would give each correspondent a partial count that replaces
the one from their own mailbox.

What counts, for the metrics the policy allows, on each person's local day
(``ctx.working_hours_of(person).timezone``), in an organisation-wide input:

- ``emails_sent``: the first From address gets one per message;
- ``email_recipients``: the first From address gets, per message, the number of distinct To,
  Cc and Bcc addresses on it (a list address is one recipient), so ``email_recipients`` /
  ``emails_sent`` is the recipients per email;
- ``emails_received``: every distinct To, Cc and Bcc address gets one per message;
- ``after_hours_emails``: messages sent outside the sender's working hours or days.

In a personal mailbox, only for its owner: ``emails_sent``, ``email_recipients`` and
``after_hours_emails`` for each message whose first From address is the owner's;
``emails_received`` for every other message in it, and for the owner's messages to themselves.
A message in someone's mailbox that they did not send was delivered to them, even when their
address is not in To or Cc — they were Bcc'd, or reached through a mailing list or an alias —
so it counts, as a mail server's own report would count it. A mailbox whose owner's address is
on none of its messages is not that person's: nothing is counted and a note says so. An owner
who objected gets no facts.

One ingestion is one count of each message. A message seen again in the input or in another
input of the same ingestion — the same Message-ID, or the same sender, second and To and Cc
recipients, as in a Sent folder and its copies (``sent``, ``_sent_mail``, ``sent_items``) under
new Message-IDs — counts once (``message_ledger.py``); in two personal mailboxes, once for each
owner. Mail from and to people outside the organisation is counted under their
pseudonyms too, and falls away when releases join the HR directory.

Exclusions (R18/A21): a message from or to any address in ``ctx.exclusions.addresses``, or in
a domain of ``ctx.exclusions.domains`` or its subdomains, is dropped before anything is
counted, for everyone on it, and leaves no trace: no fact, no note, not even in the report's
counts (a count per mailbox would tell who wrote to the union). A personal mailbox of an
excluded address is not read at all, so an excluded recipient never appears in
``email_recipients`` either. Objectors (``ctx.excluded_persons``) get no facts; the others on
their messages still do (an objector among the recipients still counts as one).

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

from teamlens.pseudonymise import normalise_identifier
from teamlens.sources.context import ReadContext, ReadReport
from teamlens.sources.exclusions import AddressExclusions
from teamlens.sources.export_owner import (
    EXCLUDED,
    MAIL_EXTENSIONS,
    PERSONAL_BY_NAME,
    PERSONAL_MAILDIRS,
    absent,
    owner_from_folders,
    owner_from_name,
)
from teamlens.sources.mail_scan import (
    HeaderBlock,
    is_maildir,
    is_mbox,
    maildir_blocks,
    maildir_folders,
    mbox_blocks,
)
from teamlens.sources.slack_mail_tally import Tally, is_after_hours

METRICS = ("emails_sent", "emails_received", "after_hours_emails", "email_recipients")
_RECIPIENT_FIELDS = ("to", "cc", "bcc")
#: Characters that make an address header need the full RFC 5322 parser (quotes, comments, groups).
_COMPLEX = re.compile(r'["()\\:;\[\]]')
_PLAIN_ADDRESS = re.compile(r"[^\s@<>,]+@[^\s@<>,]+")
_CACHE_LIMIT = 200_000  # parsed address headers kept for reuse; real mail repeats them constantly
_YEARS = (1970, 2200)  # Date headers outside these years are unreadable, not mail from then


class MailHeadersReader:
    """Read mbox or Maildir headers into email facts (a ``SourceReader``)."""

    name = "mail_headers"
    description = (
        "mail headers from an mbox file or a Maildir folder (From, To, Cc, Bcc, Date, Message-ID): "
        "everyone's mail, or one person's mailbox named after their address"
    )

    def sniff(self, path: Path) -> bool:
        """True when ``path`` is an mbox file (first line 'From ') or a Maildir folder."""
        return is_mbox(path) or is_maildir(path)

    def read(self, path: Path, ctx: ReadContext, report: ReadReport) -> Iterator[pa.RecordBatch]:
        """Yield the policy's email metrics for the mailbox at ``path``, after reading all of it."""
        if not ctx.activity.enabled and not any(metric in ctx.metrics for metric in METRICS):
            report.note("the policy allows none of the mail metrics; nothing was read")
            return
        count = _Count(ctx, report)
        owners = _owners(path, report)
        kept = {box: owner for box, owner in owners.items() if owner is None or not count.excluded(owner)}
        if len(kept) < len(owners):
            report.note(EXCLUDED)  # their owner is on every message in them: nothing may be counted
        if not kept:
            return
        if None not in kept.values():
            report.note(PERSONAL_MAILDIRS if len(set(kept.values())) > 1 else PERSONAL_BY_NAME)
        if path.is_dir():
            # A Maildir message file is its_folder/cur/name (or new/name).
            blocks = ((kept[b.file.parent.parent], b) for b in maildir_blocks(path, list(kept)))
        else:
            blocks = ((kept[path], block) for block in mbox_blocks(path))
        yield from count.run(blocks)


def _owners(path: Path, report: ReadReport) -> dict[Path, str | None]:
    """Each mailbox in the input (the mbox, or each Maildir) and its owner: None when organisation-wide.

    A folder of Maildirs is personal only when every Maildir in it lies under a folder named
    after an address (each person's own); otherwise it is read as one organisation-wide input.
    """
    if not path.is_dir():
        return {path: owner_from_name(path, MAIL_EXTENSIONS)}
    owners = {box: owner_from_folders(path, box, MAIL_EXTENSIONS) for box in maildir_folders(path)}
    if None in owners.values() and any(owners.values()):
        report.note(
            "some Maildirs in this folder are under a folder named after an address and some are "
            "not: read as one organisation-wide export; put each person's Maildir under a folder "
            "named after their address to read each as that person's"
        )
        return dict.fromkeys(owners)
    return owners


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
        self.duplicates = self.undated = self.senderless = 0
        # Owners of personal mailboxes with messages counted, and those named on one of them.
        self.owners_counted: set[str] = set()
        self.owners_named: set[str] = set()
        # What the combined metrics need (``activity.py``), handed over once the mailboxes are settled.
        self.sent: list[tuple[str, dt.datetime]] = []
        self.received: list[tuple[str, dt.date]] = []
        # The network's edges: who sent a message on which local day to which recipients.
        self.edges: list[tuple[str, dt.date, tuple[str, ...]]] = []

    def run(self, blocks: Iterable[tuple[str | None, HeaderBlock]]) -> Iterator[pa.RecordBatch]:
        for owner, block in blocks:
            self._count(owner, block.fields)
        note = self.report.note
        unnamed = self.owners_counted - self.owners_named
        dropped = set()
        for owner in unnamed:  # a mailbox its owner is on none of is not theirs: count nothing
            person = self._person(owner)
            if person is not None:
                self.tally.drop(person)
                dropped.add(person)
        if self.ctx.activity.enabled:
            for person, local in self.sent:
                if person not in dropped:
                    self.ctx.activity.record_sent(person, local, "email")
            for person, day in self.received:
                if person not in dropped:
                    self.ctx.activity.record_received(person, day)
            for person, day, partners in self.edges:
                if person not in dropped:
                    self.ctx.activity.record_edge(person, partners, day, 1.0, "email")
        if unnamed:
            note(absent("messages"))
        if self.duplicates:
            note(
                f"{self.duplicates} messages were copies of messages already counted in this ingestion "
                "(same Message-ID, or same sender, time and recipients) and were counted once"
            )
        if self.undated:
            note(f"skipped {self.undated} messages without a readable Date header")
        if self.senderless:
            note(f"{self.senderless} messages have no sender address: counted as received only")
        self.report.people_seen = self.tally.people
        self.report.facts += len(self.tally)
        yield from self.tally.batches(self.ctx.batch_rows)

    def _count(self, owner: str | None, fields: dict[str, str]) -> None:
        senders = self._parse(fields.get("from", ""))
        recipients = tuple(
            dict.fromkeys(
                address for key in _RECIPIENT_FIELDS for address in self._parse(fields.get(key, ""))
            )
        )
        if self.excluded.active and any(self.excluded(a) for a in (*senders, *recipients)):
            return  # before any counter moves: an excluded message leaves no trace at all
        self.report.rows_read += 1
        sent = _date(fields.get("date", ""))
        if sent is None:
            self.undated += 1
            return
        copied_to = (*self._parse(fields.get("to", "")), *self._parse(fields.get("cc", "")))
        if not self.ctx.messages.first_time(
            owner,
            # Without an address (MAILER-DAEMON, a bare group), the From text tells messages apart.
            sender=senders[0] if senders else fields.get("from", ""),
            sent=sent,
            recipients=copied_to,
            message_id=fields.get("message-id", ""),
        ):
            self.duplicates += 1
            return
        self.report.rows_kept += 1
        if not senders:
            self.senderless += 1
        if owner is not None:
            self._count_owner(owner, senders, recipients, sent)
            return
        if senders:
            sender = self._person(senders[0])
            if sender is not None:
                local = self.tally.local(sender, sent)
                self._count_sent(sender, local, recipients)
                if self.after_hours and is_after_hours(local, self.ctx.working_hours_of(sender)):
                    self.tally.add("after_hours_emails", sender, local.date())
        for address in recipients:
            recipient = self._person(address)
            if recipient is not None:
                self._received(recipient, self.tally.local(recipient, sent).date())

    def _count_owner(
        self, owner: str, senders: tuple[str, ...], recipients: tuple[str, ...], sent: dt.datetime
    ) -> None:
        """A personal mailbox: its owner sent what is from them and received the rest of it."""
        by_owner = bool(senders) and senders[0] == owner
        to_owner = owner in recipients
        self.owners_counted.add(owner)
        if by_owner or to_owner or owner in senders:
            self.owners_named.add(owner)
        person = self._person(owner)
        if person is None:
            return  # the owner objected
        local = self.tally.local(person, sent)
        if by_owner:
            self._count_sent(person, local, recipients)
            if self.after_hours and is_after_hours(local, self.ctx.working_hours_of(person)):
                self.tally.add("after_hours_emails", person, local.date())
        if to_owner or not by_owner:
            self._received(person, local.date())

    def _received(self, person: str, day: dt.date) -> None:
        self.tally.add("emails_received", person, day)
        if self.ctx.activity.enabled:
            self.received.append((person, day))

    def _count_sent(self, person: str, local: dt.datetime, recipients: tuple[str, ...]) -> None:
        """One message ``person`` sent, and its distinct recipients (already de-duplicated)."""
        self.tally.add("emails_sent", person, local.date())
        if self.ctx.activity.enabled:
            self.sent.append((person, local))
            partners = tuple(p for p in map(self._person, recipients) if p is not None)
            self.edges.append((person, local.date(), partners))
        if recipients:  # a zero would be stored as a fact
            self.tally.add("email_recipients", person, local.date(), value=len(recipients))

    def _parse(self, value: str) -> tuple[str, ...]:
        """The addr-specs in one address header, lower-cased; display names are dropped here."""
        if not value:
            return ()
        found = self._addresses.get(value)
        if found is None:
            if len(self._addresses) >= _CACHE_LIMIT:
                self._addresses.clear()
            # One person however their address is spelt (case, look-alike letters, invisible marks).
            found = tuple(dict.fromkeys(normalise_identifier(address) for address in addr_specs(value)))
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
