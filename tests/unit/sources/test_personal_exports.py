"""Personal exports (one person's mailbox or calendar) give facts for their owner only.

Each person's counts read from their own export equal those computed independently from the
truth in ``personal_exports_kit``; the same export read as organisation-wide gives the other
people partial counts (the teeth: the store would let those replace their real ones).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

from teamlens.domain import Exclusions
from teamlens.errors import InputFormatError
from teamlens.sources import ReadContext, ReadReport
from teamlens.sources.calendar_ics import CALENDAR_ICS
from teamlens.sources.export_owner import owner_from_folders, owner_from_name
from teamlens.sources.mail_headers import MAIL_HEADERS
from teamlens.sources.reader import SourceReader

from .personal_exports_kit import (
    ALICE,
    BOB,
    CAROL,
    DAN,
    EXT,
    TEAM,
    Counts,
    calendar_text,
    expected_mail,
    expected_meetings,
    inbox,
    mailbox,
    sent_items,
    write_calendar,
    write_mailbox,
)
from .sources_testkit import pseudonymiser, read_all

pseud = pseudonymiser()
MAIL_METRICS = frozenset({"emails_sent", "emails_received", "after_hours_emails", "email_recipients"})
MEETING_METRICS = frozenset({"meetings_attended", "meeting_minutes", "long_meetings"})
PERSONAL = "personal export (named after its owner's address): counted its owner only"
EXCLUDED = "personal export of an address the policy excludes (R18): nothing was read"
TUESDAY = dt.date(2026, 1, 6)
MONDAY = dt.date(2026, 1, 12)


def ctx(
    metrics: frozenset[str], *, exclusions: Exclusions | None = None, objectors: tuple[str, ...] = ()
) -> ReadContext:
    return ReadContext(
        pseudonymise=pseud,
        metrics=metrics,
        exclusions=exclusions or Exclusions(),
        excluded_persons=frozenset(pseud(address) for address in objectors),
    )


def read(reader: SourceReader, path: Path, context: ReadContext) -> tuple[dict[str, Counts], ReadReport]:
    """Each person's counts (by address, for the people in the kit) and the report."""
    table, report, _ = read_all(reader, path, context)
    by_pseudonym: dict[str, Counts] = {}
    for row in table.to_pylist() if table.num_rows else []:
        counts = by_pseudonym.setdefault(row["person"], Counter())
        assert (row["metric"], row["day"]) not in counts, "a fact key must be emitted once"
        counts[(row["metric"], row["day"])] = row["value"]
    people = {pseud(address): address for address in (ALICE, BOB, CAROL, DAN, EXT, TEAM)}
    assert set(by_pseudonym) <= set(people)
    return {people[who]: counts for who, counts in by_pseudonym.items()}, report


# --- mail ---------------------------------------------------------------------------------


@pytest.mark.parametrize("owner", [ALICE, BOB])
def test_a_personal_mailbox_gives_its_owner_exactly_what_they_sent_and_received(
    tmp_path: Path, owner: str
) -> None:
    found, report = read(MAIL_HEADERS, write_mailbox(tmp_path, owner), ctx(MAIL_METRICS))
    assert found == {owner: expected_mail(owner)}
    assert report.notes[0] == PERSONAL
    assert report.people_seen == 1


def test_bcc_list_and_self_addressed_mail_count_as_received_by_the_owner(tmp_path: Path) -> None:
    found, _ = read(MAIL_HEADERS, write_mailbox(tmp_path, BOB), ctx(MAIL_METRICS))
    bob = found[BOB]
    # Tuesday: from Alice (To), Alice's Bcc (no Bob in his copy's headers), from the partner.
    assert bob[("emails_received", TUESDAY)] == 3
    # Wednesday: the partner's (To) and Carol's to the list.
    assert bob[("emails_received", dt.date(2026, 1, 7))] == 2
    # Thursday: his note to himself is sent and received once, though it is in his mailbox twice.
    thursday = dt.date(2026, 1, 8)
    assert (bob[("emails_sent", thursday)], bob[("emails_received", thursday)]) == (1, 2)
    assert bob[("after_hours_emails", thursday)] == 1


def test_recipients_count_for_the_owners_own_sent_mail_only(tmp_path: Path) -> None:
    found, _ = read(MAIL_HEADERS, write_mailbox(tmp_path, BOB), ctx(MAIL_METRICS))
    assert set(found) == {BOB}
    # Bob sent m2 (to Alice), m6 (to himself) and m7 (to Alice, Cc Carol): 1 + 1 + 2 recipients.
    recipients = {day: value for (metric, day), value in found[BOB].items() if metric == "email_recipients"}
    assert recipients == {TUESDAY: 1, dt.date(2026, 1, 8): 1, dt.date(2026, 1, 10): 2}
    # Teeth: read as organisation-wide, the partner's mail in Bob's mailbox counts for the partner.
    everyone, _ = read(MAIL_HEADERS, write_mailbox(tmp_path, BOB, "mailbox.mbox"), ctx(MAIL_METRICS))
    assert sum(v for (metric, _), v in everyone[EXT].items() if metric == "email_recipients") == 3


def test_teeth_the_same_mailbox_read_as_organisation_wide_gives_others_partial_counts(
    tmp_path: Path,
) -> None:
    found, report = read(MAIL_HEADERS, write_mailbox(tmp_path, ALICE, "mailbox.mbox"), ctx(MAIL_METRICS))
    assert found[ALICE] != expected_mail(ALICE)  # her list and Bcc'd mail is missed too
    assert 0 < found[BOB][("emails_received", TUESDAY)] < expected_mail(BOB)[("emails_received", TUESDAY)]
    assert {CAROL, EXT} <= set(found)
    assert PERSONAL not in report.notes


def test_a_maildir_named_after_its_owner_reads_like_their_mbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "Bob@Corp.example"  # letter case is not significant
    _maildir(root, sent_items(BOB) + inbox(BOB))
    found, report = read(MAIL_HEADERS, root, ctx(MAIL_METRICS))
    assert found == {BOB: expected_mail(BOB)}
    assert report.notes[0] == PERSONAL
    monkeypatch.chdir(root)  # named as ".", the folder's own name still counts
    assert read(MAIL_HEADERS, Path("."), ctx(MAIL_METRICS))[0] == found


def test_a_folder_of_personal_maildirs_counts_each_owner_from_their_own(tmp_path: Path) -> None:
    mail = tmp_path / "mail"
    _maildir(mail / ALICE, sent_items(ALICE) + inbox(ALICE))
    # Bob files his mail in a folder named after Alice: the outermost address folder is the owner.
    _maildir(mail / BOB / ".Sent", sent_items(BOB))
    _maildir(mail / BOB / ALICE, inbox(BOB))
    found, report = read(MAIL_HEADERS, mail, ctx(MAIL_METRICS))
    # Alice's mail to Bob is in both mailboxes: it counts once for each of them.
    assert found == {ALICE: expected_mail(ALICE), BOB: expected_mail(BOB)}
    assert report.notes[0].startswith("personal exports (each Maildir under a folder named after")


def test_a_folder_mixing_named_and_unnamed_maildirs_stays_organisation_wide(tmp_path: Path) -> None:
    _maildir(tmp_path / "mail" / ALICE, sent_items(ALICE) + inbox(ALICE))
    _maildir(tmp_path / "mail" / "journal", sent_items(BOB) + inbox(BOB))
    _maildir(tmp_path / "plain" / "alice", sent_items(ALICE) + inbox(ALICE))
    _maildir(tmp_path / "plain" / "journal", sent_items(BOB) + inbox(BOB))
    mixed, report = read(MAIL_HEADERS, tmp_path / "mail", ctx(MAIL_METRICS))
    plain, _ = read(MAIL_HEADERS, tmp_path / "plain", ctx(MAIL_METRICS))
    assert mixed == plain
    assert {ALICE, BOB, CAROL, EXT} <= set(mixed)
    assert any("read as one organisation-wide export" in note for note in report.notes)


def test_an_objecting_owner_gets_nothing_from_their_mailbox(tmp_path: Path) -> None:
    found, report = read(MAIL_HEADERS, write_mailbox(tmp_path, ALICE), ctx(MAIL_METRICS, objectors=(ALICE,)))
    assert found == {}
    assert report.rows_kept > 0


def test_a_mailbox_its_owner_is_on_none_of_is_not_counted(tmp_path: Path) -> None:
    path = tmp_path / f"{DAN}.mbox"  # Dan's name on Carol's sent mail: Dan is on none of it
    path.write_text("".join(sent_items(CAROL)), encoding="utf-8")
    found, report = read(MAIL_HEADERS, path, ctx(MAIL_METRICS))
    assert found == {}
    assert any("its owner's address is on none of its messages" in note for note in report.notes)


@pytest.mark.parametrize(
    "exclusions",
    [Exclusions(addresses=("ALICE@corp.example",)), Exclusions(domains=("Corp.example",))],
)
def test_a_personal_mailbox_of_an_excluded_address_yields_nothing(
    tmp_path: Path, exclusions: Exclusions
) -> None:
    path = write_mailbox(tmp_path, ALICE, "Alice@Corp.Example.mbox")
    path.write_text(path.read_text() + "From x\nnot a header\n\n")  # not even read far enough to fail
    _, report, batches = read_all(MAIL_HEADERS, path, ctx(MAIL_METRICS, exclusions=exclusions))
    assert (batches, report.rows_read, report.facts, report.notes) == (0, 0, 0, [EXCLUDED])
    maildir = tmp_path / ALICE
    _maildir(maildir, sent_items(ALICE) + inbox(ALICE))
    _, report, batches = read_all(MAIL_HEADERS, maildir, ctx(MAIL_METRICS, exclusions=exclusions))
    assert (batches, report.rows_read, report.notes) == (0, 0, [EXCLUDED])


def test_in_a_folder_of_personal_maildirs_only_the_excluded_owners_is_left_out(tmp_path: Path) -> None:
    _maildir(tmp_path / "mail" / ALICE, sent_items(ALICE) + inbox(ALICE))
    _maildir(tmp_path / "mail" / BOB, sent_items(BOB) + inbox(BOB))
    policy = ctx(MAIL_METRICS, exclusions=Exclusions(addresses=(ALICE,)))
    found, report = read(MAIL_HEADERS, tmp_path / "mail", policy)
    # Bob keeps every message that does not have Alice on it (R18 drops those for everyone).
    assert found == {BOB: expected_mail(BOB, excluded=ALICE)}
    assert report.notes[:2] == [EXCLUDED, PERSONAL]


# --- calendar -------------------------------------------------------------------------------


@pytest.mark.parametrize("owner", [ALICE, BOB])
def test_a_personal_calendar_gives_its_owner_exactly_the_meetings_they_attended(
    tmp_path: Path, owner: str
) -> None:
    found, report = read(CALENDAR_ICS, write_calendar(tmp_path, owner), ctx(MEETING_METRICS))
    assert found == {owner: expected_meetings(owner)}
    assert report.notes == [PERSONAL]


def test_a_google_calendar_is_known_by_its_x_wr_calname(tmp_path: Path) -> None:
    path = write_calendar(tmp_path, BOB, "calendar.ics", calname=BOB.upper())
    found, report = read(CALENDAR_ICS, path, ctx(MEETING_METRICS))
    assert found == {BOB: expected_meetings(BOB)}
    assert report.notes == ["personal export (its X-WR-CALNAME is one address): counted its owner only"]
    # A calendar called something else is organisation-wide; so is a bundle of two people's.
    for text in (
        calendar_text(BOB, "Team holidays"),
        calendar_text(BOB, BOB) + calendar_text(ALICE, ALICE),
        calendar_text(BOB, BOB) + calendar_text(ALICE),
    ):
        path.write_text(text, encoding="utf-8", newline="")
        assert len(read(CALENDAR_ICS, path, ctx(MEETING_METRICS))[0]) > 1


def test_teeth_the_same_calendar_read_as_organisation_wide_gives_others_partial_counts(
    tmp_path: Path,
) -> None:
    found, _ = read(CALENDAR_ICS, write_calendar(tmp_path, ALICE, "calendar.ics"), ctx(MEETING_METRICS))
    bob_monday = found[BOB][("meetings_attended", MONDAY)]
    assert 0 < bob_monday < expected_meetings(BOB)[("meetings_attended", MONDAY)]
    assert {CAROL, EXT} <= set(found)


def test_a_name_and_an_x_wr_calname_naming_two_people_are_refused(tmp_path: Path) -> None:
    path = write_calendar(tmp_path, ALICE, calname=BOB)
    with pytest.raises(InputFormatError) as caught:
        read_all(CALENDAR_ICS, path, ctx(MEETING_METRICS))
    assert caught.value.field == "X-WR-CALNAME"
    _assert_names_no_one(str(caught.value), path)


def test_a_personal_calendar_of_an_excluded_address_yields_nothing(tmp_path: Path) -> None:
    excluded = ctx(MEETING_METRICS, exclusions=Exclusions(addresses=(BOB,)))
    for path in (write_calendar(tmp_path, BOB), write_calendar(tmp_path, BOB, "cal.ics", calname=BOB)):
        _, report, batches = read_all(CALENDAR_ICS, path, excluded)
        assert (batches, report.rows_read, report.facts, report.notes) == (0, 0, 0, [EXCLUDED])
    named = tmp_path / f"{BOB}.ics"
    named.write_text("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n")  # named so, it is not even parsed
    assert read_all(CALENDAR_ICS, named, excluded)[1].notes == [EXCLUDED]


def test_a_calendar_its_owner_is_on_none_of_gives_nothing(tmp_path: Path) -> None:
    path = tmp_path / f"{EXT}.ics"
    path.write_text(calendar_text(BOB), encoding="utf-8", newline="")
    found, report = read(CALENDAR_ICS, path, ctx(MEETING_METRICS))
    assert found == {}
    assert any("its owner's address is on none of its meetings" in note for note in report.notes)


# --- the owner is never named ------------------------------------------------------------------


def test_the_owners_address_is_in_no_note_fact_or_error(tmp_path: Path) -> None:
    canary = "canary-5d1e@corp.example"
    outputs = []
    text = mailbox(ALICE).replace(ALICE, canary)
    good = tmp_path / f"{canary}.mbox"
    good.write_text(text)
    outputs.append(repr(read_all(MAIL_HEADERS, good, ctx(MAIL_METRICS))))
    nobody = tmp_path / "nobody" / f"{canary}.mbox"
    nobody.parent.mkdir()
    nobody.write_text(mailbox(CAROL))
    outputs.append(repr(read_all(MAIL_HEADERS, nobody, ctx(MAIL_METRICS))))
    cal = tmp_path / f"{canary}.ics"
    cal.write_text(calendar_text(ALICE).replace(ALICE, canary), encoding="utf-8", newline="")
    outputs.append(repr(read_all(CALENDAR_ICS, cal, ctx(MEETING_METRICS | {"focus_blocks"}))))
    for output in outputs:
        assert canary not in output and "canary" not in output
    broken = tmp_path / "broken" / f"{canary}.mbox"
    broken.parent.mkdir()
    broken.write_text(text + f"From x\nFrom: {canary}\n{canary}\n\n")
    with pytest.raises(InputFormatError) as caught:
        read_all(MAIL_HEADERS, broken, ctx(MAIL_METRICS))
    _assert_names_no_one(str(caught.value), broken, canary)
    # Known from X-WR-CALNAME, the owner is not even in the file's name.
    bad = tmp_path / "calendar.ics"
    bad.write_text(calendar_text(ALICE, canary).replace("DTSTART:20260112T100000Z", "DTSTART:2026XX12"))
    with pytest.raises(InputFormatError) as caught:
        read_all(CALENDAR_ICS, bad, ctx(MEETING_METRICS))
    assert canary not in str(caught.value) and "canary" not in str(caught.value)


@pytest.mark.parametrize(
    ("name", "owner"),
    [
        ("alice@example.org.mbox", "alice@example.org"),
        ("Alice.Smith+hr@Mail.Example.ORG.MBOX", "alice.smith+hr@mail.example.org"),
        ("alice@example.org", "alice@example.org"),
        # Another extension is part of the name: an address on none of the mail, so nothing is counted.
        ("alice@example.org.txt", "alice@example.org.txt"),
        ("All mail Including Spam and Trash.mbox", None),
        ("alice@example.org (1).mbox", None),
        ("alice@localhost.mbox", None),
        ("Alice <alice@example.org>.mbox", None),
        (".alice@example.org.mbox", None),
        ("journal.mbox", None),
    ],
)
def test_which_names_are_an_owners_address(tmp_path: Path, name: str, owner: str | None) -> None:
    assert owner_from_name(tmp_path / name, (".mbox", ".mbx")) == owner


def test_the_outermost_address_folder_is_the_owner(tmp_path: Path) -> None:
    root = tmp_path / "mail"
    assert owner_from_folders(root, root / "a@x.org" / "b@x.org", ()) == "a@x.org"
    assert owner_from_folders(root, root / "team" / "b@x.org" / ".Sent", ()) == "b@x.org"
    assert owner_from_folders(root, root / "team", ()) is None
    named = tmp_path / "c@x.org"
    assert owner_from_folders(named, named / "d@x.org", ()) == "c@x.org"


# --- helpers -----------------------------------------------------------------------------------


def _maildir(root: Path, messages: list[str]) -> None:
    """Write ``messages`` (mbox messages) as a Maildir at ``root``: one file each, no separator."""
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for number, text in enumerate(messages):
        (root / "cur" / f"1767225600.M{number}P1.host:2,S").write_text(text.split("\n", 1)[1])


def _assert_names_no_one(message: str, path: Path, *addresses: str) -> None:
    """The error names the file the admin gave and nothing else that is an address."""
    rest = message.replace(str(path), "<file>")
    assert "<file>" in rest
    for address in (ALICE, BOB, *addresses):
        assert address not in rest
