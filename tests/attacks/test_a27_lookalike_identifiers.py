"""A27 — one person, two pseudonyms: look-alike spellings of one address.

Spelling one address with a zero-width space, a soft hyphen, full-width letters, Cyrillic or
Greek look-alikes, or capitals gave each spelling its own pseudonym, so one person counted as
two and moved a release twice as far as the privacy loss allows for. Property: every such
spelling of an address gets that address's pseudonym (NFKC_Casefold, invisible characters
removed, non-ASCII characters mapped to their TR39 confusable prototype), while an ordinary
ASCII address keeps exactly the pseudonym it always had (stored data stays valid) and distinct
ASCII addresses stay distinct. Through a mailbox: a sender who writes under four spellings is
one person. Teeth: with the old normaliser (trim and lower-case) the spellings split.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from teamlens.pseudonymise import Pseudonymiser, hmac_pseudonym
from teamlens.sources import ReadContext, ReadReport
from teamlens.sources.mail_headers import MAIL_HEADERS

from ..support.fuzzing import examples

KEY = b"k" * 32
#: Look-alikes of lower-case ASCII letters from other scripts (each a TR39 confusable).
CONFUSABLE = {
    "a": "аα",  # Cyrillic а, Greek α
    "c": "с",
    "e": "е",
    "i": "іı",
    "j": "ј",
    "o": "оοο",
    "p": "рρ",
    "s": "ѕ",
    "x": "х",
    "y": "у",
    "h": "һ",
    "d": "ԁ",
}
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u034f\ufe0f\u2063"


def _fullwidth(char: str) -> str:
    return chr(ord(char) + 0xFEE0) if "!" <= char <= "~" else char


@st.composite
def spellings(draw: st.DrawFn) -> tuple[str, str]:
    """An ordinary address and a look-alike spelling of it."""
    local = draw(st.text(alphabet="abcdeghijopsxy0123456789.-_", min_size=1, max_size=12))
    domain = draw(st.sampled_from(["example.org", "corp.example", "acme.co.uk"]))
    address = f"{local.strip('.') or 'a'}@{domain}"
    out = []
    for char in address:
        kind = draw(st.sampled_from(["same", "upper", "wide", "confusable", "invisible"]))
        if kind == "upper":
            out.append(char.upper())
        elif kind == "wide":
            out.append(_fullwidth(char))
        elif kind == "confusable" and char in CONFUSABLE:
            out.append(draw(st.sampled_from(CONFUSABLE[char])))
        elif kind == "invisible":
            out.append(draw(st.sampled_from(INVISIBLE)) + char)
        else:
            out.append(char)
    return address, "".join(out)


@pytest.mark.attack("A27")
@settings(max_examples=examples(400), deadline=None)
@given(spellings())
def test_a27_every_lookalike_spelling_gets_the_addresss_pseudonym(pair: tuple[str, str]) -> None:
    address, spelling = pair
    pseudonymise = Pseudonymiser(KEY)
    assert pseudonymise(spelling) == pseudonymise(address)


@pytest.mark.attack("A27")
@settings(max_examples=examples(300), deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=40))
def test_a27_ascii_pseudonyms_are_unchanged(identifier: str) -> None:
    before = hmac.new(KEY, identifier.strip().lower().encode(), hashlib.sha256).hexdigest()
    assert Pseudonymiser(KEY)(identifier) == before


def test_distinct_ascii_addresses_stay_distinct() -> None:
    pseudonymise = Pseudonymiser(KEY)
    pairs = [("tom@x.org", "torn@x.org"), ("bill@x.org", "bi11@x.org"), ("ann0@x.org", "anno@x.org")]
    assert all(pseudonymise(a) != pseudonymise(b) for a, b in pairs)


SENDER_SPELLINGS = (
    "alice@example.org",
    "ALICE@Example.Org",
    "a\u200blice@exam\u00adple.org",
    "ａｌｉｃｅ@ｅｘａｍｐｌｅ.ｏｒｇ",
    "аlice@exаmple.org",  # Cyrillic а twice
)


def senders_seen(tmp_path: Path) -> int:
    """Distinct pseudonyms with ``emails_sent`` after one sender wrote under every spelling."""
    lines = []
    for number, spelling in enumerate(SENDER_SPELLINGS):
        when = dt.datetime(2026, 1, 5 + number, 10, 0)
        lines.append(
            f"From x {when:%a %b %d %H:%M:%S %Y}\nFrom: {spelling}\nTo: bob@example.org\n"
            f"Date: {when:%a, %d %b %Y %H:%M:%S +0000}\nMessage-ID: <{number}@example.org>\n\nbody\n\n"
        )
    (tmp_path / "all.mbox").write_text("".join(lines), encoding="utf-8")
    ctx = ReadContext(pseudonymise=Pseudonymiser(KEY), metrics=frozenset({"emails_sent"}))
    rows = [
        row
        for batch in MAIL_HEADERS.read(tmp_path / "all.mbox", ctx, ReadReport())
        for row in batch.to_pylist()
    ]
    return len({row["person"] for row in rows})


@pytest.mark.attack("A27")
def test_a27_a_sender_under_five_spellings_is_one_person(tmp_path: Path, measure) -> None:
    seen = senders_seen(tmp_path)
    measure(a27_spellings=len(SENDER_SPELLINGS), a27_pseudonyms=seen)
    assert seen == 1


@pytest.mark.attack("A27", teeth=True)
def test_a27_teeth_trimming_and_lower_casing_split_the_spellings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hmac_pseudonym, "normalise_identifier", lambda text: text.strip().lower())
    from teamlens.sources import mail_headers

    monkeypatch.setattr(mail_headers, "normalise_identifier", lambda text: text.strip().lower())
    assert senders_seen(tmp_path) == len(SENDER_SPELLINGS) - 1  # only the capitals fold


ALIAS_HR = (
    "Email,Team,Valid From,Proxy Addresses\n"
    "alice@example.org,Alpha,2025-01-06,SMTP:alice@example.org;smtp:a.smith@example.org;x500:/o=x/cn=a\n"
    "bob@example.org,Alpha,2025-01-06,\n"
)


def _alias_flow(root: Path, *, with_directory: bool) -> int:
    """Distinct senders stored after Alice writes from her address and from her proxy address."""
    from teamlens import services

    from ..integration.flow_support import mail_workspace, mbox_message

    ws = mail_workspace(root)
    exports = root / "exports"
    exports.mkdir()
    if with_directory:
        (exports / "directory.csv").write_text(ALIAS_HR)
    senders = ["alice@example.org", "A.Smith@example.org", "a.smith@exаmple.org"]
    (exports / "all.mbox").write_text(
        "".join(
            mbox_message(sender, dt.datetime(2026, 1, 5 + number, 10, 0), number, "bob@example.org")
            for number, sender in enumerate(senders)
        ),
        encoding="utf-8",
    )
    services.ingest(ws, [exports], actor="admin")
    pseudonymise = ws.pseudonymiser()
    senders = [pseudonymise(a) for a in ("alice@example.org", "a.smith@example.org")]
    sent = [
        sum(f["value"] for f in ws.store.person_facts(p).to_pylist() if f["metric"] == "emails_sent")
        for p in senders
    ]
    ws.governance.close()
    return sum(1 for count in sent if count)


@pytest.mark.attack("A27")
def test_a27_a_directory_alias_is_the_same_person(tmp_path: Path, measure) -> None:
    seen = _alias_flow(tmp_path, with_directory=True)
    measure(a27_alias_pseudonyms=seen)
    assert seen == 1


@pytest.mark.attack("A27", teeth=True)
def test_a27_teeth_without_the_aliases_a_proxy_address_is_another_person(tmp_path: Path) -> None:
    assert _alias_flow(tmp_path, with_directory=False) == 2
