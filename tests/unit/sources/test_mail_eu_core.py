"""Mail connector on real email traffic (SNAP email-Eu-core-temporal), checked against pandas counts.

The first 20,000 timestamped events (``SRC DST T``) become an mbox with synthetic addresses
``n<ID>@eu-core.example`` and dates at a fixed origin + T; the expected per-person-day counts
are computed here from the raw file, independently of the connector. The file repeats some
events exactly (same sender, recipient and second): those are one message, counted once.
"""

from __future__ import annotations

import datetime as dt
import gzip
from collections import Counter
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd  # type: ignore[import-untyped]
import pytest

from teamlens.domain import WorkingHours
from teamlens.sources import ReadContext
from teamlens.sources.mail_headers import MAIL_HEADERS

from ...support.paths import shared_file
from .sources_testkit import pseudonymiser, read_all

EVENTS = 20_000
ORIGIN = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)  # T = 0 is an anonymous origin; any fixed instant works
ZONES = ("Europe/London", "Europe/Brussels", "America/New_York", "Asia/Kolkata")
METRICS = frozenset({"emails_sent", "emails_received", "after_hours_emails"})


def address(node: int) -> str:
    return f"n{node}@eu-core.example"


def zone_of(node: int) -> str:
    return ZONES[node % len(ZONES)]


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    data = shared_file("data", "email-eu-core", "email-Eu-core-temporal.txt.gz")
    with gzip.open(data, "rt") as handle:
        rows = [tuple(map(int, next(handle).split())) for _ in range(EVENTS)]
    return pd.DataFrame(rows, columns=["src", "dst", "t"])


@pytest.fixture(scope="module")
def mailbox_file(events: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("eu-core") / "journal.mbox"
    with path.open("w", encoding="ascii", newline="\n") as handle:
        for number, (src, dst, t) in enumerate(events.itertuples(index=False)):
            sent = ORIGIN + dt.timedelta(seconds=int(t))
            # Half the dates are written in the sender's own zone, as a mail client would.
            stamp = sent.astimezone(ZoneInfo(zone_of(src))) if number % 2 else sent
            handle.write(
                f"From {address(src)} {sent:%a %b %d %H:%M:%S %Y}\n"
                f"Message-ID: <{number}.eu-core@example>\nDate: {format_datetime(stamp)}\n"
                f"From: Node {src} <{address(src)}>\nTo: {address(dst)}\nSubject: event {number}\n\n"
                f"body of event {number}\n\n"
            )
    return path


def context(events: pd.DataFrame) -> ReadContext:
    pseud = pseudonymiser()
    nodes = set(events.src) | set(events.dst)
    return ReadContext(
        pseudonymise=pseud,
        metrics=METRICS,
        person_working_hours={pseud(address(node)): WorkingHours(timezone=zone_of(node)) for node in nodes},
    )


def local(events: pd.DataFrame, column: str) -> pd.DataFrame:
    """Each event's local wall-clock time for the person in ``column``, computed with pandas."""
    origin = pd.Timestamp(ORIGIN.replace(tzinfo=None))
    instants = pd.to_datetime(events.t, unit="s", origin=origin).dt.tz_localize("UTC")
    nodes = events[column]
    times = [instant.tz_convert(zone_of(node)) for instant, node in zip(instants, nodes, strict=True)]
    return pd.DataFrame(
        {
            "node": events[column],
            "date": [t.date() for t in times],
            "after": [t.weekday() >= 5 or not dt.time(9) <= t.time() < dt.time(17, 30) for t in times],
        }
    )


def distinct(events: pd.DataFrame) -> pd.DataFrame:
    """The events as messages: one per sender, recipient and second."""
    return events.drop_duplicates(["src", "dst", "t"])


def expected(events: pd.DataFrame) -> Counter[tuple[str, str, dt.date]]:
    pseud = pseudonymiser()
    events = distinct(events)
    sent, received = local(events, "src"), local(events, "dst")
    counts = {
        "emails_sent": sent.groupby(["node", "date"]).size(),
        "emails_received": received.groupby(["node", "date"]).size(),
        "after_hours_emails": sent[sent.after].groupby(["node", "date"]).size(),
    }
    return Counter(
        {
            (metric, pseud(address(node)), day): int(value)
            for metric, series in counts.items()
            for (node, day), value in series.items()
        }
    )


def test_real_traffic_counts_equal_an_independent_computation(
    events: pd.DataFrame, mailbox_file: Path
) -> None:
    table, report, _ = read_all(MAIL_HEADERS, mailbox_file, context(events))
    got = Counter({(r["metric"], r["person"], r["day"]): r["value"] for r in table.to_pylist()})
    assert len(got) == table.num_rows
    assert got == expected(events)
    repeats = EVENTS - len(distinct(events))
    assert repeats > 0  # the real file does repeat events
    assert (report.rows_read, report.rows_kept) == (EVENTS, EVENTS - repeats)
    assert report.people_seen == len(set(events.src) | set(events.dst))
    assert "eu-core" not in str(table.to_pylist())


def test_concatenated_mailboxes_count_each_message_once(
    events: pd.DataFrame, mailbox_file: Path, tmp_path: Path
) -> None:
    """The sender's copy and the recipient's copy of a message, in one input, count once."""
    twice = tmp_path / "both.mbox"
    twice.write_bytes(mailbox_file.read_bytes() * 2)
    table, report, _ = read_all(MAIL_HEADERS, twice, context(events))
    got = Counter({(r["metric"], r["person"], r["day"]): r["value"] for r in table.to_pylist()})
    assert got == expected(events)
    copies = 2 * EVENTS - len(distinct(events))
    assert report.notes == [
        f"{copies} messages were copies of messages already counted in this ingestion "
        "(same Message-ID, or same sender, time and recipients) and were counted once"
    ]
