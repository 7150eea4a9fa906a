"""Which messages one ingestion has already counted, so that a copy of a message counts once.

One message often sits in several places: a sent folder and its copies (``sent``,
``_sent_mail``, ``sent_items``), a journal mailbox split into files, two exports of one period.
Copies do not always keep their Message-ID, so a message is recognised by what makes it that
message: its sender, the second it was sent, and its To and Cc recipients (Bcc is left out: the
sender's copy has it and the recipients' copies do not) — or, when it has one, by its
Message-ID. Both are compared as keyed hashes (HMAC-SHA-256 under a key drawn afresh for each
ingestion, 64 bits kept), so the ledger holds no address, date or id, and lives in memory only.

The ledger is shared by every input of one ingestion (``ReadContext.messages``). In a person's
own mailbox the owner is part of the fingerprint, so a message in Alice's Sent folder and in
Bob's Inbox still counts once for each of them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterable


class SeenMessages:
    """Answer ``first_time`` once per message of one ingestion, however many copies it has."""

    def __init__(self) -> None:
        self._keyed = hmac.new(secrets.token_bytes(32), digestmod=hashlib.sha256)
        self._seen: set[int] = set()

    def __len__(self) -> int:
        return len(self._seen)

    def first_time(
        self,
        owner: str | None,
        *,
        sender: str,
        sent: dt.datetime,
        recipients: Iterable[str],
        message_id: str = "",
    ) -> bool:
        """True the first time this message (of ``owner``'s mailbox, or organisation-wide) is seen.

        ``sender`` and ``recipients`` are canonical addresses; ``sent`` an aware time.
        """
        moment = sent.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
        keys = [self._key("content", owner or "", sender, moment, *sorted(set(recipients)))]
        if message_id:
            keys.append(self._key("id", owner or "", message_id.strip()))
        if any(key in self._seen for key in keys):
            self._seen.update(keys)  # a later copy may match this one by either key
            return False
        self._seen.update(keys)
        return True

    def _key(self, *parts: str) -> int:
        mac = self._keyed.copy()
        mac.update("\0".join(parts).encode("utf-8", "surrogatepass"))
        return int.from_bytes(mac.digest()[:8], "big")
