"""Find the header block of every message in an mbox file or a Maildir, and nothing else.

An mbox is scanned line by line as bytes: after a ``From `` separator the header lines are
split into name and value, and only :data:`WANTED` fields are kept; body lines are only
checked for the next separator (a line starting ``From `` after an empty line, RFC 4155), never
decoded. A Maildir message file is read only up to the empty line that ends its headers. A
malformed header block — a line that is neither ``Name: value`` nor an indented continuation,
or a file that ends inside the headers — raises ``InputFormatError`` naming the file, the
message number and the line: such a file is damaged, and counting around the damage would
silently drop or split messages. Lines are read at most :data:`MAX_LINE_BYTES` at a time (a
longer body line is passed over piece by piece), and a header line longer than that, or a header
block beyond :data:`MAX_HEADER_BYTES`, is refused: memory stays bounded whatever the file holds.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from teamlens.errors import InputFormatError

#: The header fields read; subjects and every other field are skipped unread.
WANTED = frozenset({b"from", b"to", b"cc", b"bcc", b"date", b"message-id"})
_NAME = re.compile(rb"[\x21-\x39\x3b-\x7e]+")  # RFC 5322 field names: printable ASCII but ':'
_BLANK = (b"\n", b"\r\n")
#: The longest line read at once; a header line longer than this is refused (RFC 5322 allows 998).
MAX_LINE_BYTES = 1024 * 1024
#: The most header bytes one message may have (a To line of tens of thousands of addresses fits).
MAX_HEADER_BYTES = 8 * 1024 * 1024
_MBOX_HINT = "Export the mailbox again as mbox (one file per mailbox, messages separated by 'From ' lines)."


@dataclass(frozen=True)
class HeaderBlock:
    """The wanted header fields of one message, decoded and unfolded, and where the message is."""

    file: Path
    number: int
    line: int
    fields: dict[str, str]


def is_mbox(path: Path) -> bool:
    """True when ``path`` is a file whose first line is an mbox ``From `` separator."""
    try:
        with path.open("rb") as handle:
            return path.is_file() and handle.read(5) == b"From "
    except OSError:
        return False


def is_maildir(path: Path) -> bool:
    """True when ``path`` is a Maildir (it has ``cur`` and ``new``) or a folder of Maildirs only.

    A folder that also holds other files (an HR export, an mbox, a calendar) is not one mail
    input: it is opened, and each Maildir in it is an input of its own, so nothing beside the
    mail is passed over.
    """
    try:
        if not path.is_dir():
            return False
        found = False
        for _folder, subfolders, files in os.walk(path):
            if "cur" in subfolders and "new" in subfolders:
                found = True
                subfolders.clear()  # what is inside a Maildir is its own
            elif any(not name.startswith(".") for name in files):
                return False
            else:
                subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        return found
    except OSError:
        return False


def mbox_blocks(path: Path) -> Iterator[HeaderBlock]:
    """Every message's header block in the mbox file ``path``, in file order."""
    try:
        handle = path.open("rb")
    except OSError as error:
        raise InputFormatError(path, f"cannot be opened ({error.strerror})") from None
    with handle:
        lines = _lines(handle)
        first = next(lines, None)
        if first is None or not first[1].startswith(b"From "):
            raise InputFormatError(
                path,
                "is not an mbox file",
                line=1,
                expected="a first line starting with 'From '",
                hint=_MBOX_HINT,
            )
        separator, number = 1, 0
        while True:
            number += 1
            yield _header_block(lines, path, number, separator, in_mbox=True)
            previous = b"\n"  # the empty line that ended the headers
            for separator, line in lines:  # noqa: B007 - the separator's line number is used below
                if line.startswith(b"From ") and previous in _BLANK:
                    break
                previous = line
            else:
                return


def maildir_blocks(root: Path, folders: Iterable[Path] | None = None) -> Iterator[HeaderBlock]:
    """Every message's header block in the Maildir (or folder of Maildirs) ``root``, in name order.

    ``folders`` (some of :func:`maildir_folders`) reads only those Maildirs; each block's file is
    ``folder / "cur" or "new" / name``.
    """
    number = 0
    for folder in maildir_folders(root) if folders is None else folders:
        for sub in ("cur", "new"):  # tmp/ holds deliveries still being written
            try:
                names = sorted(name for name in os.listdir(folder / sub) if not name.startswith("."))
            except OSError as error:
                raise InputFormatError(folder / sub, f"cannot be listed ({error.strerror})") from None
            for name in names:
                file = folder / sub / name
                if not file.is_file():
                    continue
                number += 1
                try:
                    handle = file.open("rb")
                except OSError as error:
                    raise InputFormatError(file, f"cannot be opened ({error.strerror})") from None
                with handle:
                    lines: Iterator[tuple[int, bytes]] = _lines(handle)
                    start = 0
                    head = next(lines, None)
                    if head is not None and not head[1].startswith(b"From "):
                        # Most Maildir files start with a header line; some tools add an mbox separator.
                        lines = _prepend(head, lines)
                    elif head is not None:
                        start = 1
                    yield _header_block(lines, file, number, start, in_mbox=False)


def _lines(handle: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """Numbered lines, each at most MAX_LINE_BYTES: the rest of a longer line is read and dropped.

    A cut line is yielded without its line end, so a header parser sees that it was cut.
    """
    number = 0
    while line := handle.readline(MAX_LINE_BYTES):
        number += 1
        if len(line) == MAX_LINE_BYTES and not line.endswith(b"\n"):
            while (rest := handle.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                pass
            line = line[:-1] if line.endswith(b"\r") else line
            yield number, _CUT + line[: MAX_LINE_BYTES - len(_CUT)]
            continue
        yield number, line


#: Marks a line ``_lines`` cut short (a NUL cannot start a header line or an mbox separator).
_CUT = b"\0"


def _prepend(first: tuple[int, bytes], rest: Iterator[tuple[int, bytes]]) -> Iterator[tuple[int, bytes]]:
    yield first
    yield from rest


def maildir_folders(root: Path) -> Iterator[Path]:
    """``root`` and every folder below it that has both ``cur`` and ``new``, in name order."""
    for folder, subfolders, _ in os.walk(root):
        subfolders.sort()
        if "cur" in subfolders and "new" in subfolders:
            yield Path(folder)
        # A Maildir's own cur/new/tmp hold messages, not nested Maildirs.
        subfolders[:] = [name for name in subfolders if name not in ("cur", "new", "tmp")]


def _header_block(
    lines: Iterable[tuple[int, bytes]], path: Path, number: int, start: int, *, in_mbox: bool
) -> HeaderBlock:
    """Read header lines up to the empty line ending them; keep the wanted fields only."""
    values: dict[bytes, list[bytes]] = {}
    current: list[bytes] | None = None
    seen_any = False
    size = 0
    for line_number, line in lines:
        size += len(line)
        if line.startswith(_CUT) or size > MAX_HEADER_BYTES:
            raise _malformed(
                path,
                number,
                line_number,
                f"has a header line over {MAX_LINE_BYTES // 2**20} MiB or headers over "
                f"{MAX_HEADER_BYTES // 2**20} MiB",
                expected="header lines of at most 998 characters (RFC 5322)",
            )
        if line in _BLANK:
            if not seen_any:
                raise _malformed(path, number, line_number, "has no header lines before its body")
            return HeaderBlock(path, number, start, _decode(values))
        if line[:1] in (b" ", b"\t"):
            if not seen_any:
                raise _malformed(path, number, line_number, "starts with an indented line")
            if current is not None:
                current.append(line)
            continue
        colon = line.find(b":")
        name = line[:colon].rstrip(b" \t")
        if colon < 1 or not _NAME.fullmatch(name):
            raise _malformed(
                path,
                number,
                line_number,
                "has a line that is not a header",
                expected="'Name: value' lines, an indented continuation, or an empty line",
            )
        seen_any = True
        key = name.lower()
        if key in WANTED:
            current = values.setdefault(key, [])
            if current:
                current.append(b",")  # a repeated address field adds to the first
            current.append(line[colon + 1 :])
        else:
            current = None
    if not seen_any:
        raise _malformed(path, number, None, "has no header lines", expected="'Name: value' lines")
    if in_mbox:
        raise _malformed(
            path,
            number,
            None,
            "ends inside the headers of this message",
            expected="an empty line after the headers",
            truncated=True,
        )
    return HeaderBlock(path, number, start, _decode(values))  # a Maildir file may hold only headers


def _decode(values: dict[bytes, list[bytes]]) -> dict[str, str]:
    # RFC 6532 allows UTF-8 in headers; anything else cannot be an address we could match anyway.
    return {
        key.decode("ascii"): b"".join(parts)
        .replace(b"\r", b"")
        .replace(b"\n", b"")
        .strip()
        .decode("utf-8", "replace")
        for key, parts in values.items()
    }


def _malformed(
    path: Path,
    number: int,
    line: int | None,
    problem: str,
    *,
    expected: str | None = None,
    truncated: bool = False,
) -> InputFormatError:
    return InputFormatError(
        path,
        f"message {number} {problem}",
        line=line,
        expected=expected,
        hint=(
            "The file looks truncated; copy or export it again."
            if truncated
            else "The file is damaged or is not a mailbox; export it again (nothing from it was stored)."
        ),
    )
