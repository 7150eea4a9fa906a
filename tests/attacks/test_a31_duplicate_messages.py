"""A31 — one message counted several times because it sits in several folders or files.

In a real company's sent mail one message often sits in several folders (``sent``,
``_sent_mail``, ``sent_items``) under different Message-IDs: counting each copy overcounts
``emails_sent`` (28% in that mailbox). Property: the mail readers (mbox, Maildir, Microsoft
Graph) recognise one message — same sender, same second, same To and Cc recipients, compared by
a keyed hash — across the folders and files of one ingestion, and count it once; messages that
differ in any of these still count apart; in two people's own mailboxes a message counts once
for each. The fixture is built from the formats: a personal Maildir with the three sent folders
and an inbox, where copies get new Message-IDs (no real sent-mail dataset is in the shared data).
Teeth: with messages recognised by Message-ID alone, the copies are counted.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from pathlib import Path

import pytest

from teamlens.pseudonymise import Pseudonymiser
from teamlens.sources import ReadContext, ReadReport
from teamlens.sources.exclusions import AddressExclusions
from teamlens.sources.google_activities import Clock, DailyTally, Where
from teamlens.sources.graph_metadata import MetadataCounter
from teamlens.sources.mail_headers import MAIL_HEADERS
from teamlens.sources.message_ledger import SeenMessages

KEY = b"k" * 32
METRICS = frozenset({"emails_sent", "emails_received", "email_recipients"})
OWNER = "alice@example.org"


def _message(number: int, copy: str, sender: str, to: str, when: dt.datetime, cc: str = "") -> bytes:
    lines = [
        f"Message-ID: <{number}.{copy}.JavaMail.evans@thyme>",
        f"Date: {when:%a, %d %b %Y %H:%M:%S -0800}",
        f"From: {sender}",
        f"To: {to}",
        *([f"Cc: {cc}"] if cc else []),
        "Subject: x",
        "X-Folder: \\\\Alice\\\\" + copy,
    ]
    return ("\n".join(lines) + "\n\nbody\n").encode()


def _maildir(root: Path, folder: str, messages: list[bytes]) -> None:
    for sub in ("cur", "new", "tmp"):
        (root / folder / sub).mkdir(parents=True, exist_ok=True)
    for index, data in enumerate(messages):
        (root / folder / "cur" / f"{index}.{folder}:2,S").write_bytes(data)


def enron_like(root: Path, seed: int = 3) -> tuple[Path, int, int]:
    """Alice's mailbox: sent messages filed under up to three sent folders, and an inbox.

    Returns the mailbox folder, the distinct messages she sent and the distinct ones she received.
    """
    rng = random.Random(seed)
    box = root / "mail" / OWNER
    folders: dict[str, list[bytes]] = {"sent": [], "_sent_mail": [], "sent_items": [], "inbox": []}
    sent = 60
    for number in range(sent):
        when = dt.datetime(2026, 1, 5, 8, 0) + dt.timedelta(hours=7 * number, seconds=rng.randrange(60))
        to = ", ".join(f"p{rng.randrange(20)}@example.org" for _ in range(rng.randint(1, 3)))
        cc = "boss@example.org" if number % 4 == 0 else ""
        copies = rng.sample(["sent", "_sent_mail", "sent_items"], rng.randint(1, 3))
        for copy in copies:  # each copy under a Message-ID of its own, as the Enron folders have
            folders[copy].append(_message(number, copy, OWNER, to, when, cc))
        if number % 10 == 0:  # a message she sent to the same people a second later is another one
            folders["sent"].append(
                _message(number + 1000, "sent", OWNER, to, when + dt.timedelta(seconds=1), cc)
            )
    received = 25
    for number in range(received):
        when = dt.datetime(2026, 1, 6, 9, 0) + dt.timedelta(hours=11 * number)
        message = _message(5000 + number, "inbox", f"p{number}@example.org", OWNER, when)
        folders["inbox"] += [message, message.replace(b"inbox.JavaMail", b"copy.JavaMail")]
    for folder, messages in folders.items():
        _maildir(box, folder, messages)
    return root / "mail", sent + sent // 10, received


def _totals(path: Path) -> Counter[str]:
    ctx = ReadContext(pseudonymise=Pseudonymiser(KEY), metrics=METRICS)
    totals: Counter[str] = Counter()
    for batch in MAIL_HEADERS.read(path, ctx, ReadReport()):
        for row in batch.to_pylist():
            totals[row["metric"]] += row["value"]
    return totals


@pytest.mark.attack("A31")
def test_a31_copies_in_several_sent_folders_count_once(tmp_path: Path, measure) -> None:
    mail, sent, received = enron_like(tmp_path)
    files = sum(1 for _ in mail.rglob("*:2,S"))
    totals = _totals(mail)
    measure(a31_files=files, a31_distinct_sent=sent, a31_counted_sent=totals["emails_sent"])
    assert files > sent + 2 * received  # the fixture does hold copies
    assert (totals["emails_sent"], totals["emails_received"]) == (sent, received)


@pytest.mark.attack("A31", teeth=True)
def test_a31_teeth_by_message_id_alone_the_copies_are_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, measure
) -> None:
    original = SeenMessages.first_time

    def by_id(self, owner, *, sender, sent, recipients, message_id=""):
        return original(
            self, owner, sender=message_id, sent=dt.datetime(2000, 1, 1, tzinfo=dt.UTC), recipients=()
        )

    monkeypatch.setattr(SeenMessages, "first_time", by_id)
    mail, sent, _ = enron_like(tmp_path)
    counted = _totals(mail)["emails_sent"]
    measure(a31_teeth_counted_sent=counted, a31_teeth_overcount=round(counted / sent - 1, 3))
    assert counted > sent


def _mbox(path: Path, messages: list[bytes]) -> Path:
    path.write_bytes(b"".join(b"From x Mon Jan  5 10:00:00 2026\n" + m + b"\n" for m in messages))
    return path


@pytest.mark.attack("A31")
def test_a31_a_copy_in_another_file_of_the_same_ingestion_counts_once(tmp_path: Path) -> None:
    when = dt.datetime(2026, 1, 5, 10, 0)
    first = [
        _message(n, "a", "ann@example.org", "bob@example.org", when + dt.timedelta(minutes=n))
        for n in range(5)
    ]
    copies = [m.replace(b".a.JavaMail", b".b.JavaMail") for m in first[:3]]
    later = [_message(9, "b", "ann@example.org", "bob@example.org", dt.datetime(2026, 1, 7, 10, 0))]
    ctx = ReadContext(pseudonymise=Pseudonymiser(KEY), metrics=METRICS)
    report = ReadReport()
    counted = Counter()
    for path in (_mbox(tmp_path / "jan.mbox", first), _mbox(tmp_path / "again.mbox", copies + later)):
        for batch in MAIL_HEADERS.read(path, ctx, report):
            for row in batch.to_pylist():
                counted[(row["metric"], row["day"])] += row["value"]
    sent = {day: value for (metric, day), value in counted.items() if metric == "emails_sent"}
    assert sent == {dt.date(2026, 1, 5): 5, dt.date(2026, 1, 7): 1}  # the copies gave no facts
    assert any("copies of messages already counted" in note for note in report.notes)


@pytest.mark.attack("A31")
def test_a31_one_message_in_two_peoples_own_mailboxes_counts_for_each(tmp_path: Path) -> None:
    message = _message(1, "x", "ann@example.org", "bob@example.org", dt.datetime(2026, 1, 5, 10, 0))
    ctx = ReadContext(pseudonymise=Pseudonymiser(KEY), metrics=METRICS)
    totals: Counter[str] = Counter()
    for owner in ("ann@example.org", "bob@example.org"):
        path = _mbox(tmp_path / f"{owner}.mbox", [message, message.replace(b"1.x", b"2.x")])
        for batch in MAIL_HEADERS.read(path, ctx, ReadReport()):
            for row in batch.to_pylist():
                totals[row["metric"]] += row["value"]
    assert (totals["emails_sent"], totals["emails_received"]) == (1, 1)


def _graph_message(recipient: str, when: str, internet_id: str) -> dict[str, object]:
    return {
        "sentDateTime": when,
        "from": {"emailAddress": {"address": OWNER}},
        "toRecipients": [{"emailAddress": {"address": recipient}}],
        "internetMessageId": internet_id,
    }


@pytest.mark.attack("A31")
def test_a31_graph_counts_a_copied_sent_message_once() -> None:
    ctx = ReadContext(pseudonymise=Pseudonymiser(KEY), metrics=METRICS)
    tally = DailyTally("graph_live", METRICS)
    counter = MetadataCounter(tally, Clock(ctx), AddressExclusions(ctx.exclusions), ctx.messages)
    person = ctx.pseudonymise(OWNER)
    where = Where("Graph Sent Items", None, "value[0]")
    items = [
        _graph_message("bob@example.org", "2026-01-05T10:00:00Z", "<a@x>"),
        _graph_message("bob@example.org", "2026-01-05T10:00:00Z", "<b@x>"),  # a copy, new id
        _graph_message("BOB@example.org", "2026-01-05T10:00:00Z", "<a@x>"),  # same id
        _graph_message("carol@example.org", "2026-01-05T10:00:00Z", "<c@x>"),  # another message
    ]
    for item in items:
        counter.message(person, item, where)
    assert counter.copies == 2
    batches = tally.batches(1000, ReadReport())
    rows = [row for batch in batches for row in batch.to_pylist() if row["metric"] == "emails_sent"]
    assert sum(row["value"] for row in rows) == 2
