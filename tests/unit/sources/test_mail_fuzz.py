"""Garbage in, an InputFormatError out: the mail connector never fails any other way, nor hangs."""

from __future__ import annotations

import itertools
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from teamlens.domain import Exclusions
from teamlens.errors import InputFormatError
from teamlens.sources.mail_headers import MAIL_HEADERS

from ...support.fuzzing import examples
from .sources_testkit import read_all
from .test_mail_headers import ctx, maildir, message

FUZZ = settings(max_examples=examples(300), suppress_health_check=[HealthCheck.function_scoped_fixture])
SPICE = st.sampled_from(
    [
        "\n",
        "\r\n",
        "From ",
        ":",
        " ",
        "\t",
        ",",
        "<",
        ">",
        "@",
        '"',
        "(",
        ";",
        "\x00",
        "é",
        "\udcff",
        "Date: ",
        "To: ",
        "=?utf-8?b?",
        "Mon, 32 Foo 99999 25:61:61 +9999",
    ]
)
VALID = message(
    "Alice <alice@corp.example>", "bob@corp.example, c@union.example", message_id="<1@x>"
) + message(
    "bob@corp.example",
    "alice@corp.example",
    cc="Carol <carol@corp.example>",
    date="Sat, 06 Jan 2024 23:10:00 -0800",
)
counter = itertools.count()


def survives(path: Path) -> None:
    assert isinstance(MAIL_HEADERS.sniff(path), bool)
    message = ""
    try:
        read_all(MAIL_HEADERS, path, ctx(exclusions=Exclusions(domains=("union.example",))))
    except InputFormatError as error:
        message = str(error)
    for secret in ("alice@corp.example", "bob@corp.example", "Alice"):
        assert secret not in message


def garble(text: str, edits: list[tuple[int, int, str]], cut: int | None) -> bytes:
    for position, removed, inserted in edits:
        at = position % (len(text) + 1)
        text = text[:at] + inserted + text[at + removed :]
    text = text if cut is None else text[: cut % (len(text) + 1)]
    return text.encode("utf-8", "surrogateescape")


EDITS = st.lists(st.tuples(st.integers(0, 1_000), st.integers(0, 3), SPICE), max_size=6)
CUT = st.none() | st.integers(0, 1_000)


@FUZZ
@given(data=st.binary(max_size=600))
def test_random_bytes(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / f"fuzz{next(counter)}.mbox"
    path.write_bytes(data)
    survives(path)
    path.write_bytes(b"From x\n" + data)
    survives(path)


@FUZZ
@given(edits=EDITS, cut=CUT)
def test_garbled_mbox(tmp_path: Path, edits: list[tuple[int, int, str]], cut: int | None) -> None:
    path = tmp_path / f"fuzz{next(counter)}.mbox"
    path.write_bytes(garble(VALID, edits, cut))
    survives(path)


@FUZZ
@given(edits=EDITS, cut=CUT)
def test_garbled_maildir(tmp_path: Path, edits: list[tuple[int, int, str]], cut: int | None) -> None:
    root = maildir(tmp_path / f"md{next(counter)}", message("alice@corp.example", "bob@corp.example"))
    (root / "new" / "fuzzed").write_bytes(garble(VALID.split("\n", 1)[1], edits, cut))
    survives(root)


def test_the_seeds_read_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "seed.mbox"
    path.write_text(VALID)
    table, report, _ = read_all(MAIL_HEADERS, path, ctx())
    assert (report.rows_read, table.num_rows) == (2, 7)
