"""A small organisation's mail and meetings, written as each person's own mailbox and calendar.

The truth is described once, as data (who sent what to whom, who was invited to what and how
they replied); each person's mailbox or calendar holds what their own mail client would export
for that truth. The expected counts are computed from the truth here, independently of the
connectors, so a test can compare what a connector read from one person's export with what
that person really did.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ALICE = "alice@corp.example"
BOB = "bob@corp.example"
CAROL = "carol@corp.example"  # no export of her own
DAN = "dan@corp.example"
EXT = "ext@partner.example"
TEAM = "team@corp.example"  # a mailing list
MEMBERS = {TEAM: (ALICE, BOB, CAROL)}

Counts = Counter[tuple[str, dt.date]]  # (metric, day) -> value


@dataclass(frozen=True)
class Mail:
    """One message as it was sent; ``bcc`` is kept only in the sender's copy."""

    number: int
    sender: str
    to: tuple[str, ...]
    when: dt.datetime  # UTC; January, so London time too
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()

    def delivered_to(self) -> set[str]:
        """Everyone the message reached: addressed, Bcc'd, or a member of an addressed list.

        The sender gets a copy only when they addressed themselves (lists do not echo to them).
        """
        explicit = {*self.to, *self.cc, *self.bcc}
        reached = {member for address in explicit for member in MEMBERS.get(address, (address,))}
        return reached if self.sender in explicit else reached - {self.sender}

    def text(self, *, sent_copy: bool) -> str:
        lines = [
            f"From {self.sender} {self.when:%a %b %d %H:%M:%S %Y}",
            f"Message-ID: <m{self.number}@corp.example>",
            f"Date: {self.when:%a, %d %b %Y %H:%M:%S +0000}",
            f"From: Someone <{self.sender}>",
            f"To: {', '.join(self.to)}",
            "Subject: Quarterly numbers",
        ]
        if self.cc:
            lines.append(f"Cc: {', '.join(self.cc)}")
        if self.bcc and sent_copy:
            lines.append(f"Bcc: {', '.join(self.bcc)}")
        return "\n".join(lines) + "\n\nSee attached.\n\n"


def _utc(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 1, day, hour, minute, tzinfo=dt.UTC)


MAIL = (
    Mail(1, ALICE, (BOB,), _utc(6, 10), cc=(CAROL,)),
    Mail(2, BOB, (ALICE,), _utc(6, 11)),
    Mail(3, ALICE, (EXT,), _utc(6, 20), bcc=(BOB,)),  # after hours; Bob only Bcc'd
    Mail(4, EXT, (ALICE, BOB), _utc(7, 9, 30)),
    Mail(5, CAROL, (TEAM,), _utc(7, 12)),  # reaches Alice and Bob through the list
    Mail(6, BOB, (BOB,), _utc(8, 8)),  # a note to himself, before hours
    Mail(7, BOB, (ALICE,), _utc(10, 10), cc=(CAROL,)),  # a Saturday
    Mail(8, EXT, (CAROL,), _utc(9, 9)),  # in nobody's export
    Mail(9, EXT, (BOB,), _utc(6, 15)),  # only in Bob's mailbox
    Mail(10, ALICE, (TEAM,), _utc(8, 15)),
)


def sent_items(owner: str) -> list[str]:
    """The copies in ``owner``'s Sent folder, as mbox messages."""
    return [mail.text(sent_copy=True) for mail in MAIL if mail.sender == owner]


def inbox(owner: str) -> list[str]:
    """The copies delivered to ``owner``, as mbox messages."""
    return [mail.text(sent_copy=False) for mail in MAIL if owner in mail.delivered_to()]


def mailbox(owner: str) -> str:
    """``owner``'s whole mailbox as mbox text: their sent copies, then what was delivered to them."""
    return "".join(sent_items(owner) + inbox(owner))


def write_mailbox(folder: Path, owner: str, name: str | None = None) -> Path:
    """Write ``owner``'s mailbox as ``folder/<name>`` (by default named after the owner)."""
    path = folder / (name or f"{owner}.mbox")
    path.write_text(mailbox(owner), encoding="utf-8")
    return path


def _after_hours(when: dt.datetime) -> bool:
    # The default working pattern: 09:00-17:30, Monday to Friday, Europe/London (UTC in January).
    return when.weekday() >= 5 or not dt.time(9) <= when.time() < dt.time(17, 30)


def expected_mail(person: str, excluded: str = "") -> Counts:
    """What ``person`` really sent and received, per day, from the truth above.

    Messages with the ``excluded`` address on them are left out (the policy's R18 exclusions).
    """
    counts: Counts = Counter()
    for mail in MAIL:
        if excluded in (mail.sender, *mail.to, *mail.cc, *mail.bcc):
            continue
        day = mail.when.date()
        if mail.sender == person:
            counts[("emails_sent", day)] += 1
            # Every distinct address the sender put on it; a list address is one recipient.
            counts[("email_recipients", day)] += len({*mail.to, *mail.cc, *mail.bcc})
            if _after_hours(mail.when):
                counts[("after_hours_emails", day)] += 1
        if person in mail.delivered_to():
            counts[("emails_received", day)] += 1
    return counts


@dataclass(frozen=True)
class Meeting:
    """One meeting as it was: its organiser and each invitee's own reply."""

    uid: str
    organizer: str
    replies: dict[str, str] = field(hash=False)  # attendee -> PARTSTAT
    start: dt.datetime = field(default_factory=lambda: _utc(12, 10))
    minutes: int = 60

    def invited(self) -> set[str]:
        return {self.organizer, *self.replies}

    def attends(self, person: str) -> bool:
        """The connector's rule applied to the truth: accepted, or organised without declining."""
        reply = self.replies.get(person, "ACCEPTED" if person == self.organizer else None)
        return reply == "ACCEPTED"

    def vevent(self, copy_of: str) -> str:
        """The event as it sits in ``copy_of``'s calendar: only the organiser knows everyone's reply."""
        start, end = self.start, self.start + dt.timedelta(minutes=self.minutes)
        lines = [
            "BEGIN:VEVENT",
            f"UID:{self.uid}",
            "DTSTAMP:20260101T000000Z",
            f"DTSTART:{start:%Y%m%dT%H%M%SZ}",
            f"DTEND:{end:%Y%m%dT%H%M%SZ}",
            f"ORGANIZER;CN=Organiser:mailto:{self.organizer}",
        ]
        for attendee, reply in self.replies.items():
            known = reply if copy_of in (self.organizer, attendee) else "NEEDS-ACTION"
            lines.append(f"ATTENDEE;PARTSTAT={known}:mailto:{attendee}")
        return "\r\n".join([*lines, "SUMMARY:Budget review", "END:VEVENT"])


MEETINGS = (
    Meeting("m1", ALICE, {BOB: "ACCEPTED", CAROL: "ACCEPTED"}, _utc(12, 10)),
    Meeting("m2", BOB, {ALICE: "DECLINED", DAN: "ACCEPTED"}, _utc(12, 14), minutes=90),
    Meeting("m3", ALICE, {EXT: "ACCEPTED"}, _utc(13, 9), minutes=45),
    Meeting("m4", CAROL, {ALICE: "ACCEPTED", BOB: "TENTATIVE"}, _utc(13, 13)),
    Meeting("m5", BOB, {CAROL: "ACCEPTED"}, _utc(14, 16), minutes=30),
    Meeting("m6", BOB, {DAN: "ACCEPTED"}, _utc(12, 16)),  # only in Bob's calendar (and Dan's)
    Meeting("m7", ALICE, {}, _utc(14, 9), minutes=120),  # a block of her own: not a meeting
)


def calendar_text(owner: str, name: str = "") -> str:
    """``owner``'s own calendar: every meeting they were invited to, as their copy shows it."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//teamlens tests//EN"]
    if name:
        lines.append(f"X-WR-CALNAME:{name}")
    lines += [meeting.vevent(owner) for meeting in MEETINGS if owner in meeting.invited()]
    return "\r\n".join([*lines, "END:VCALENDAR"]) + "\r\n"


def write_calendar(folder: Path, owner: str, name: str | None = None, calname: str = "") -> Path:
    """Write ``owner``'s calendar as ``folder/<name>`` (by default named after the owner)."""
    path = folder / (name or f"{owner}.ics")
    path.write_text(calendar_text(owner, calname), encoding="utf-8", newline="")
    return path


def expected_meetings(person: str) -> Counts:
    """The meetings ``person`` really attended, per day, from the truth above."""
    counts: Counts = Counter()
    for meeting in MEETINGS:
        if len(meeting.invited()) < 2 or not meeting.attends(person):
            continue
        day = meeting.start.date()
        counts[("meetings_attended", day)] += 1
        counts[("meeting_minutes", day)] += meeting.minutes
        if meeting.minutes > 60:
            counts[("long_meetings", day)] += 1
    return counts
