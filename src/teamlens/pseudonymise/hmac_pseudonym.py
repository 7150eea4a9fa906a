"""Keyed HMAC-SHA-256 pseudonyms: the only form in which a person's identity enters the store."""

from __future__ import annotations

import hashlib
import hmac

from teamlens.pseudonymise.normalise import normalise_identifier


class Pseudonymiser:
    """Turns identifiers into stable pseudonyms under a secret key.

    Without the key the pseudonyms cannot be recomputed from a staff list (attack A8); with a
    different key every pseudonym differs. Identifiers seen before are answered from a cache,
    which lives only in memory for one ingestion run.
    """

    def __init__(self, key: bytes) -> None:
        # Keying the HMAC once and copying it per identifier halves the cost of a cache miss.
        self._keyed = hmac.new(key, digestmod=hashlib.sha256)
        self._cache: dict[str, str] = {}

    def __call__(self, identifier: str) -> str:
        """The pseudonym of ``identifier`` (64 hex digits)."""
        cached = self._cache.get(identifier)
        if cached is None:
            canonical = normalise_identifier(identifier)
            mac = self._keyed.copy()
            mac.update(canonical.encode("utf-8"))
            cached = mac.hexdigest()
            self._cache[identifier] = cached
        return cached

    def __repr__(self) -> str:
        return "Pseudonymiser(key=<hidden>)"
