"""Mail headers connector: mbox and Maildir, local days, after hours, exclusions, errors."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from email.utils import getaddresses
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from teamlens.domain import FACT_SCHEMA, Exclusions, WorkingHours
from teamlens.errors import InputFormatError
from teamlens.sources import ReadContext, get_source
from teamlens.sources.mail_headers import MAIL_HEADERS, addr_specs
from teamlens.sources.slack_mail_tally import is_after_hours

from ...support.fuzzing import examples
from .sources_testkit import pseudonymiser, read_all

MAIL_METRICS = frozenset({"emails_sent", "emails_received", "after_hours_emails"})
WED = dt.date(2024, 1, 3)


def message(
    sender: str,
    to: str,
    date: str = "Wed, 03 Jan 2024 10:00:00 +0000",
    *,
    cc: str = "",
    bcc: str = "",
    message_id: str | None = None,
    body: str = "Hello\nFrom here on, fine.\n",
    extra: str = "",
) -> str:
    lines = [
        f"From {sender.split('<')[-1].strip('>')} Wed Jan  3 10:00:00 2024",
        "Received: from a.example by b.example;",
        "\tWed, 03 Jan 2024 10:00:00 +0000",
    ]
    if message_id is not None:
        lines.append(f"Message-ID: {message_id}")
    if date:
        lines.append(f"Date: {date}")
    lines += [f"From: {sender}", f"To: {to}", "Subject: Secret plans for the merger"]
    if cc:
        lines.append(f"Cc: {cc}")
    if bcc:
        lines.append(f"Bcc: {bcc}")
    if extra:
        lines.append(extra)
    return "\n".join(lines) + "\n\n" + body + "\n"


def mbox(path: Path, *messages: str) -> Path:
    path.write_bytes("".join(messages).encode("utf-8"))
    return path


def ctx(
    metrics: frozenset[str] = MAIL_METRICS,
    *,
    zones: dict[str, str] | None = None,
    excluded: tuple[str, ...] = (),
    exclusions: Exclusions | None = None,
) -> ReadContext:
    pseud = pseudonymiser()
    return ReadContext(
        pseudonymise=pseud,
        metrics=metrics,
        excluded_persons=frozenset(pseud(a) for a in excluded),
        exclusions=exclusions or Exclusions(),
        person_working_hours={pseud(a): WorkingHours(timezone=zone) for a, zone in (zones or {}).items()},
    )


def facts(table: pa.Table) -> Counter[tuple[str, str, dt.date]]:
    found: Counter[tuple[str, str, dt.date]] = Counter()
    for row in table.to_pylist():
        key = (row["metric"], row["person"], row["day"])
        assert key not in found, "a fact key must be emitted once"
        assert row["days"] == 1
        found[key] = row["value"]
    return found


def p(address: str) -> str:
    return pseudonymiser()(address)


def test_senders_and_each_distinct_recipient_are_counted(tmp_path: Path) -> None:
    path = mbox(
        tmp_path / "box.mbox",
        message(
            "Alice A <Alice@Corp.example>",
            "bob@corp.example, Carol <carol@corp.example>",
            cc="bob@corp.example",
            bcc="dan@corp.example",
            message_id="<1@x>",
        ),
        message("bob@corp.example", "alice@corp.example", message_id="<2@x>"),
        message("bob@corp.example", "alice@corp.example", message_id="<2@x>"),  # the same again
        message("bob@corp.example", "alice@corp.example", date="Wed, 03 Jan 2024 10:00:01 +0000"),
    )  # no Message-ID and a second later: another message
    table, report, _ = read_all(MAIL_HEADERS, path, ctx())
    assert table.schema == FACT_SCHEMA
    alice, bob = p("alice@corp.example"), p("bob@corp.example")
    assert facts(table) == {
        ("emails_sent", alice, WED): 1,
        ("emails_sent", bob, WED): 2,
        ("emails_received", alice, WED): 2,
        ("emails_received", bob, WED): 1,
        ("emails_received", p("carol@corp.example"), WED): 1,
        ("emails_received", p("dan@corp.example"), WED): 1,
    }
    assert set(table.column("source").to_pylist()) == {"mail_headers"}
    assert (report.rows_read, report.rows_kept, report.people_seen, report.facts) == (4, 3, 4, 6)
    assert report.notes == [
        "1 messages were copies of messages already counted in this ingestion "
        "(same Message-ID, or same sender, time and recipients) and were counted once"
    ]


def test_days_and_after_hours_follow_each_persons_zone(tmp_path: Path) -> None:
    zones = {"ny@corp.example": "America/New_York", "tokyo@corp.example": "Asia/Tokyo"}
    path = mbox(
        tmp_path / "box.mbox",
        # 02:00 UTC on Thursday: 21:00 Wednesday in New York (after hours), 11:00 Thursday in Tokyo.
        message("ny@corp.example", "tokyo@corp.example", "Thu, 04 Jan 2024 02:00:00 +0000"),
        message("tokyo@corp.example", "ny@corp.example", "Thu, 04 Jan 2024 11:00:00 +0900"),
        # 09:00 in London on a Saturday, and 17:29 / 17:30 on a Friday.
        message("london@corp.example", "ny@corp.example", "Sat, 06 Jan 2024 09:00:00 +0000"),
        message("london@corp.example", "ny@corp.example", "Fri, 05 Jan 2024 17:29:59 +0000"),
        message("london@corp.example", "ny@corp.example", "Fri, 05 Jan 2024 18:30:00 +0100"),
        message("london@corp.example", "ny@corp.example", "Fri, 05 Jan 2024 08:59:00 -0000"),
    )
    table, _, _ = read_all(MAIL_HEADERS, path, ctx(zones=zones))
    got = facts(table)
    ny, tokyo, london = p("ny@corp.example"), p("tokyo@corp.example"), p("london@corp.example")
    thu, fri, sat = dt.date(2024, 1, 4), dt.date(2024, 1, 5), dt.date(2024, 1, 6)
    assert got[("emails_sent", ny, WED)] == 1
    assert got[("after_hours_emails", ny, WED)] == 1
    assert got[("emails_received", tokyo, thu)] == 1
    assert got[("emails_sent", tokyo, thu)] == 1
    assert ("after_hours_emails", tokyo, thu) not in got
    assert got[("emails_received", ny, WED)] == 1  # 02:00 UTC Thursday is Wednesday in New York
    assert got[("after_hours_emails", london, sat)] == 1
    assert got[("after_hours_emails", london, fri)] == 2  # 17:30 and 08:59, not 17:29:59
    assert got[("emails_sent", london, fri)] == 3


def test_working_hours_that_cross_midnight() -> None:
    night = WorkingHours(start=dt.time(22), end=dt.time(6), days=(0, 1, 2, 3, 4, 5, 6))
    assert not is_after_hours(dt.datetime(2024, 1, 3, 23, 0), night)
    assert not is_after_hours(dt.datetime(2024, 1, 3, 5, 59), night)
    assert is_after_hours(dt.datetime(2024, 1, 3, 6, 0), night)
    assert is_after_hours(dt.datetime(2024, 1, 3, 12, 0), night)


def test_union_mail_is_dropped_before_counting_and_leaves_no_trace(tmp_path: Path) -> None:
    """A21: counts equal those with union messages removed; no union string anywhere."""
    ordinary = [
        message("alice@corp.example", "bob@corp.example", message_id="<1@x>"),
        message("bob@corp.example", "alice@corp.example, carol@corp.example"),
    ]
    union = [
        message("alice@corp.example", "Rep <rep@union.example.org>", message_id="<1@x>"),
        message("bob@corp.example", "alice@corp.example", cc="news@lists.union.example.org"),
        message("steward@corp.example", "alice@corp.example"),
        message("carol@corp.example", "alice@corp.example", bcc="STEWARD@corp.example"),
        message("rep@union.example.org", "bob@corp.example", date=""),
    ]
    exclusions = Exclusions(addresses=("steward@corp.example",), domains=("union.example.org",))
    mixed = mbox(tmp_path / "mixed.mbox", union[0], ordinary[0], union[1], union[2], ordinary[1], *union[3:])
    table, report, _ = read_all(MAIL_HEADERS, mixed, ctx(exclusions=exclusions))
    clean_box = mbox(tmp_path / "clean.mbox", *ordinary)  # read apart: one ingestion counts a message once
    clean, clean_report, _ = read_all(MAIL_HEADERS, clean_box, ctx(exclusions=exclusions))
    assert facts(table) == facts(clean)
    assert (report.rows_read, report.rows_kept, report.people_seen, report.notes) == (
        clean_report.rows_read,
        clean_report.rows_kept,
        clean_report.people_seen,
        clean_report.notes,
    )
    assert p("steward@corp.example") not in table.column("person").to_pylist()
    stored = str(table.to_pylist()) + str(report)
    for needle in ("union", "steward", p("rep@union.example.org")):
        assert needle not in stored


def test_objectors_get_no_facts_but_their_correspondents_do(tmp_path: Path) -> None:
    path = mbox(tmp_path / "box.mbox", message("alice@corp.example", "bob@corp.example, carol@corp.example"))
    table, report, _ = read_all(MAIL_HEADERS, path, ctx(excluded=("BOB@corp.example",)))
    assert facts(table) == {
        ("emails_sent", p("alice@corp.example"), WED): 1,
        ("emails_received", p("carol@corp.example"), WED): 1,
    }
    assert report.people_seen == 2


def test_recipients_are_each_sent_messages_distinct_addresses_after_exclusions(tmp_path: Path) -> None:
    path = mbox(
        tmp_path / "box.mbox",
        # Bob is in To and again in Cc (in other letters), Dan in Bcc: three recipients.
        message(
            "Alice <alice@corp.example>",
            "Bob <bob@corp.example>, carol@corp.example",
            cc="BOB@Corp.Example",
            bcc="dan@corp.example",
            message_id="<1@x>",
        ),
        # The same message again (same Message-ID, from the Inbox copy): counted once.
        message("alice@corp.example", "bob@corp.example, carol@corp.example", message_id="<1@x>"),
        # A list address is one recipient; an objector among the recipients still counts.
        message("alice@corp.example", "team@corp.example", cc="objector@corp.example"),
        # Union mail is dropped whole (R18): neither the message nor any recipient counts.
        message("alice@corp.example", "bob@corp.example, x@corp.example", cc="rep@union.example.org"),
        # No recipient address at all: a message sent, no recipients.
        message("bob@corp.example", "undisclosed-recipients:;"),
    )
    policy = ctx(
        frozenset({"emails_sent", "email_recipients"}),
        excluded=("objector@corp.example",),
        exclusions=Exclusions(domains=("union.example.org",)),
    )
    table, _, _ = read_all(MAIL_HEADERS, path, policy)
    alice, bob = p("alice@corp.example"), p("bob@corp.example")
    assert facts(table) == {
        ("emails_sent", alice, WED): 2,
        ("email_recipients", alice, WED): 3 + 2,
        ("emails_sent", bob, WED): 1,
    }
    # Without the exclusions the union message counts, with its three recipients.
    table, _, _ = read_all(MAIL_HEADERS, path, ctx(frozenset({"email_recipients"})))
    assert facts(table) == {("email_recipients", alice, WED): 3 + 2 + 3}


def test_only_the_policys_metrics_are_computed(tmp_path: Path) -> None:
    path = mbox(
        tmp_path / "box.mbox",
        message("alice@corp.example", "bob@corp.example", "Sun, 07 Jan 2024 10:00:00 +0000"),
    )
    table, _, _ = read_all(MAIL_HEADERS, path, ctx(frozenset({"after_hours_emails", "chat_messages"})))
    assert facts(table) == {("after_hours_emails", p("alice@corp.example"), dt.date(2024, 1, 7)): 1}
    _, report, batches = read_all(MAIL_HEADERS, path, ctx(frozenset({"chat_messages"})))
    assert (batches, report.rows_read) == (0, 0)
    assert any("none of the mail metrics" in note for note in report.notes)


def test_undated_messages_are_skipped_and_senderless_ones_count_as_received(tmp_path: Path) -> None:
    path = mbox(
        tmp_path / "box.mbox",
        message("alice@corp.example", "bob@corp.example", date=""),
        message("alice@corp.example", "bob@corp.example", date="the day after tomorrow"),
        message("alice@corp.example", "bob@corp.example", date="Fri, 31 Dec 9999 23:30:00 -0500"),
        message("MAILER-DAEMON", "bob@corp.example"),
        message("undisclosed-recipients:;", "bob@corp.example"),
    )
    table, report, _ = read_all(MAIL_HEADERS, path, ctx())
    assert facts(table) == {("emails_received", p("bob@corp.example"), WED): 2}
    assert "skipped 3 messages without a readable Date header" in report.notes
    assert "2 messages have no sender address: counted as received only" in report.notes
    assert (report.rows_read, report.rows_kept) == (5, 2)


def test_body_lines_are_not_separators_unless_after_an_empty_line(tmp_path: Path) -> None:
    body = "Hi\nFrom the notes: nothing.\n>From quoted\n\n>From again\n"
    path = mbox(
        tmp_path / "box.mbox",
        message("alice@corp.example", "bob@corp.example", body=body),
        message("bob@corp.example", "alice@corp.example", body="\x00\xff not decoded\n"),
    )
    table, report, _ = read_all(MAIL_HEADERS, path, ctx())
    assert report.rows_read == 2
    assert sum(table.column("value").to_pylist()) == 4


def maildir(root: Path, *messages: str, sub: str = "cur") -> Path:
    for folder in ("cur", "new", "tmp"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for i, text in enumerate(messages):
        headers, _, body = text.partition("\n\n")
        # Maildir files carry no mbox separator line, and use CRLF when written by some servers.
        content = headers.split("\n", 1)[1].replace("\n", "\r\n") + "\r\n\r\n" + body
        (root / sub / f"17000000{i}.M1P1.host:2,S").write_bytes(content.encode())
    return root


def test_a_folder_of_maildirs_is_one_input_with_duplicates_merged(tmp_path: Path) -> None:
    sent = message("alice@corp.example", "bob@corp.example", message_id="<m1@corp>")
    maildir(tmp_path / "mail" / "alice" / ".Sent", sent)
    maildir(tmp_path / "mail" / "bob", sent, sub="new")
    maildir(
        tmp_path / "mail" / "bob",
        message("bob@corp.example", "alice@corp.example", body="no header: here\n" * 3),
    )
    (tmp_path / "mail" / "bob" / "tmp" / "partial").write_bytes(b"garbage without headers")
    assert MAIL_HEADERS.sniff(tmp_path / "mail")
    table, report, _ = read_all(MAIL_HEADERS, tmp_path / "mail", ctx())
    alice, bob = p("alice@corp.example"), p("bob@corp.example")
    assert facts(table) == {
        ("emails_sent", alice, WED): 1,
        ("emails_received", bob, WED): 1,
        ("emails_sent", bob, WED): 1,
        ("emails_received", alice, WED): 1,
    }
    assert (report.rows_read, report.rows_kept) == (3, 2)


def test_a_maildir_file_with_headers_only_is_read(tmp_path: Path) -> None:
    root = maildir(tmp_path / "md")
    (root / "cur" / "one").write_bytes(b"From: a@x.org\nTo: b@x.org\nDate: Wed, 03 Jan 2024 10:00:00 +0000")
    table, _, _ = read_all(MAIL_HEADERS, root, ctx(frozenset({"emails_sent"})))
    assert facts(table) == {("emails_sent", p("a@x.org"), WED): 1}


def fails(path: Path) -> InputFormatError:
    with pytest.raises(InputFormatError) as caught:
        read_all(MAIL_HEADERS, path, ctx())
    for secret in ("alice", "bob", "Secret plans"):
        assert secret not in str(caught.value)
    return caught.value


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        ("Not an mbox\n", 1, "is not an mbox file"),
        ("", 1, "is not an mbox file"),
        (
            "From x\nFrom: alice@corp.example\nthis is not a header\n\nbody\n",
            3,
            "message 1 has a line that is",
        ),
        ("From x\n\tindented first\n\n", 2, "message 1 starts with an indented line"),
        ("From x\n\nbody\n", 2, "message 1 has no header lines"),
        (
            "From x\nTo: bob@corp.example\n\nb\n\nFrom y\nX-Bad Name: v\n\n",
            7,
            "message 2 has a line that is not",
        ),
    ],
)
def test_a_malformed_header_block_names_message_and_line(
    tmp_path: Path, text: str, line: int, needle: str
) -> None:
    error = fails(mbox(tmp_path / "box.mbox", text))
    assert error.line == line
    assert needle in str(error)
    assert error.file == str(tmp_path / "box.mbox")


def test_a_file_cut_inside_the_headers_is_refused(tmp_path: Path) -> None:
    text = message("alice@corp.example", "bob@corp.example") + message("bob@corp.example", "a@corp.example")
    error = fails(mbox(tmp_path / "box.mbox", text[: text.rindex("Subject")]))
    assert "message 2 ends inside the headers" in str(error)
    assert "truncated" in error.hint


def test_a_maildir_file_with_a_bad_header_is_named(tmp_path: Path) -> None:
    root = maildir(tmp_path / "md", message("alice@corp.example", "bob@corp.example"))
    (root / "new" / "broken").write_bytes(b"To: bob@corp.example\nnot a header\n\nbody")
    error = fails(root)
    assert (error.file, error.line) == (str(root / "new" / "broken"), 2)


def test_sniff_recognises_mbox_and_maildir(tmp_path: Path) -> None:
    assert MAIL_HEADERS.sniff(mbox(tmp_path / "box.mbox", message("a@x.org", "b@x.org")))
    assert MAIL_HEADERS.sniff(maildir(tmp_path / "md"))
    assert not MAIL_HEADERS.sniff(mbox(tmp_path / "x.csv", "From,To\n"))
    assert not MAIL_HEADERS.sniff(tmp_path / "missing")
    (tmp_path / "plain").mkdir()
    assert not MAIL_HEADERS.sniff(tmp_path / "plain")
    assert get_source("mail_headers") is MAIL_HEADERS


ADDRESS_TEXT = st.text(alphabet='abAB.@<>, -_é"()=?:;[]\\\t', max_size=40)


@settings(max_examples=examples(500), deadline=None)
@given(value=ADDRESS_TEXT)
def test_the_fast_address_path_agrees_with_getaddresses(value: str) -> None:
    assert addr_specs(value) == [address.strip() for _, address in getaddresses([value]) if "@" in address]


def test_canary_person_never_leaks(tmp_path: Path) -> None:
    canary, name = "canary-7c2e91@corp.example", "Zz Canary 7c2e91"
    text = message(f"{name} <{canary}>", f"bob@corp.example, {canary}", message_id=f"<{canary}>")
    outputs = [repr(read_all(MAIL_HEADERS, mbox(tmp_path / "ok.mbox", text, text), ctx()))]
    broken = text + f"From {canary}\nFrom: {name} <{canary}>\n{canary} {name}\n\n"
    outputs.append(str(fails(mbox(tmp_path / "bad.mbox", broken))))
    outputs.append(str(fails(mbox(tmp_path / "cut.mbox", text + f"From {canary}\nTo: {canary}\n"))))
    for output in outputs:
        for secret in (canary, name, "7c2e91"):
            assert secret not in output
