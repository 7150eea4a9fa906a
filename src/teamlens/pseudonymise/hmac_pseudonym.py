"""Keyed HMAC-SHA-256 pseudonyms: the only form in which a person's identity enters the store."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import TYPE_CHECKING

from teamlens.pseudonymise.normalise import normalise_identifier

if TYPE_CHECKING:
    from teamlens.pseudonymise.key import KeyLease


class Pseudonymiser:
    """Turns identifiers into stable pseudonyms under a secret key.

    Without the key the pseudonyms cannot be recomputed from a staff list (attack A8); with a
    different key every pseudonym differs. Look-alike spellings of one identifier share its
    pseudonym (``normalise.py``), and so do a person's aliases when the directory gives them
    (``with_aliases``). Identifiers seen before are answered from a cache, which lives only in
    memory for one ingestion run.
    """

    def __init__(
        self, key: bytes, aliases: Mapping[str, str] | None = None, *, lease: KeyLease | None = None
    ) -> None:
        # Keying the HMAC once and copying it per identifier halves the cost of a cache miss.
        self._keyed = hmac.new(key, digestmod=hashlib.sha256)
        self._aliases: Mapping[str, str] = aliases or {}
        self._cache: dict[str, str] = {}
        # The installation's pseudonymiser holds the key in use while it lives (``key.lease_key``).
        self._lease = lease

    def __call__(self, identifier: str) -> str:
        """The pseudonym of ``identifier`` (64 hex digits); an alias gets its person's pseudonym."""
        cached = self._cache.get(identifier)
        if cached is None:
            canonical = normalise_identifier(identifier)
            mac = self._keyed.copy()
            mac.update(canonical.encode("utf-8"))
            cached = mac.hexdigest()
            cached = self._aliases.get(cached, cached)
            self._cache[identifier] = cached
        return cached

    def with_aliases(self, aliases: Mapping[str, str]) -> Pseudonymiser:
        """This key's pseudonymiser mapping each alias pseudonym in ``aliases`` to its person's.

        ``aliases`` maps the pseudonym of a person's other address (a proxy address from the
        directory) to the pseudonym of their primary one, so both count as the one person.
        """
        other = Pseudonymiser.__new__(Pseudonymiser)
        other._keyed = self._keyed
        other._aliases = dict(aliases)
        other._cache = {}
        other._lease = self._lease
        return other

    def __repr__(self) -> str:
        return "Pseudonymiser(key=<hidden>)"
