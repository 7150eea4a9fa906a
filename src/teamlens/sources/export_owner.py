"""Whose export a mail or calendar file is: one person's (a personal export) or everyone's.

The store keeps one value per person, day and metric — the last one ingested — so an input may
only give facts for people whose activity it holds completely. An organisation-wide export (a
journal mailbox, a whole-tenant calendar dump, a folder holding every Maildir) holds everyone's,
and every participant is counted. A personal export (one person's mailbox or calendar) holds
only its owner's: it must give facts for its owner alone, or each person's file would replace
the partial counts another person's file gave them, and the result would depend on file order.

**The rule.** An input is personal when the file or folder given as the input is itself named
after one e-mail address — ``alice@example.org.mbox``, ``alice@example.org.ics``, a Maildir
folder ``alice@example.org/`` (a known extension is ignored; letter case is not significant) —
or, for iCalendar, when every calendar in the file carries an ``X-WR-CALNAME`` that is one and
the same address (Google Calendar's export). A folder of Maildirs is a set of personal mailboxes
when every Maildir in it lies under a folder named after an address (the outermost one is the
owner). Anything else is organisation-wide. Message headers (``Delivered-To``,
``X-Original-To``) are not used: a journal mailbox carries its own consistent one, and sent mail
carries none, so they cannot tell the two kinds apart.

The owner's address is compared with the policy's exclusions (R18) — an excluded owner's export
yields nothing — and pseudonymised like every other address. It never appears in a note or an
error raised here; only the path the admin gave (which may be named after it) is shown back.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from teamlens.pseudonymise import normalise_identifier

#: One whole addr-spec: a dot-atom local part, and a domain with at least one dot.
_ADDRESS = re.compile(
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+"
)
MAIL_EXTENSIONS = (".mbox", ".mbx")
CALENDAR_EXTENSIONS = (".ics", ".ical", ".icalendar")

#: Notes for the read report; like every note they name no one.
PERSONAL_BY_NAME = "personal export (named after its owner's address): counted its owner only"
PERSONAL_MAILDIRS = (
    "personal exports (each Maildir under a folder named after its owner's address): counted each owner only"
)
PERSONAL_BY_CALNAME = "personal export (its X-WR-CALNAME is one address): counted its owner only"
EXCLUDED = "personal export of an address the policy excludes (R18): nothing was read"
RENAME = (
    "name a personal export after its owner's own address, or give an organisation-wide export "
    "a name that is not an address"
)


def address(text: str) -> str | None:
    """``text`` in canonical form when it is exactly one e-mail address (no display name), else None."""
    candidate = normalise_identifier(text)
    return candidate if _ADDRESS.fullmatch(candidate) else None


def owner_from_name(path: Path, extensions: tuple[str, ...]) -> str | None:
    """The address the file or folder ``path`` is named after (``alice@example.org.mbox``), or None."""
    # abspath gives "." and ".." their real names without following a symbolic link's target.
    name = Path(os.path.abspath(path)).name
    for extension in extensions:
        if name.lower().endswith(extension):
            name = name[: -len(extension)]
            break
    return address(name)


def owner_from_folders(root: Path, folder: Path, extensions: tuple[str, ...]) -> str | None:
    """The address of the outermost folder named after one, from the input ``root`` down to ``folder``.

    The outermost, because a person's mailbox may hold folders of its own named after
    correspondents (``alice@example.org/bob@example.org/``).
    """
    owner = owner_from_name(root, extensions)
    for part in folder.relative_to(root).parts:
        if owner is not None:
            break
        owner = address(part)
    return owner


def absent(what: str) -> str:
    """The note for personal exports whose owner is on none of their ``what`` (nothing counted for them)."""
    return (
        f"personal export: its owner's address is on none of its {what}, so nothing was counted "
        f"for them; {RENAME}"
    )
