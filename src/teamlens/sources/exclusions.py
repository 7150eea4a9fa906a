"""The one rule for addresses the policy never counts (R18): listed, or in a listed domain or subdomain.

Every connector that sees correspondents (mail, calendar, Slack, Google, Graph) asks this object,
so the union's domain and the representatives' mailboxes are excluded the same way everywhere.
"""

from __future__ import annotations

from teamlens.domain import Exclusions
from teamlens.pseudonymise import normalise_identifier


class AddressExclusions:
    """Tell whether an address must never be counted: listed itself, or in a listed (sub)domain."""

    def __init__(self, exclusions: Exclusions) -> None:
        # Look-alike spellings (a Cyrillic letter, a zero-width space) must not slip past the list.
        self.addresses = frozenset(normalise_identifier(address) for address in exclusions.addresses)
        self.domains = frozenset(
            normalise_identifier(name).lstrip("@").strip(".") for name in exclusions.domains
        )
        self.active = bool(self.addresses or self.domains)

    def __bool__(self) -> bool:
        return self.active

    def __call__(self, address: str) -> bool:
        """True when messages to or from ``address`` (an addr-spec) must never be counted."""
        if not self.active:
            return False
        address = normalise_identifier(address)
        if address in self.addresses:
            return True
        labels = address.rpartition("@")[2].split(".")
        return any(".".join(labels[i:]) in self.domains for i in range(len(labels)))
