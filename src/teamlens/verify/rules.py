"""Who may sign what: the rules a key set and a decision must meet, checked the same everywhere.

**Key sets.** The parties' public keys are registered together, as one statement both parties
sign (:data:`~teamlens.verify.signatures.KEY_SET_CONTEXT`). A key set is valid when every key it
lists has signed it (each holder proves they hold it), it lists at least one employer key and one
representative key, and, unless it is the first, it names the digest of the set before it and is
signed by at least one employer key and one representative key of that set: neither party can
add, replace or drop a key without the other witnessing it.

**Decisions.** A decision is a statement (:data:`~teamlens.verify.signatures.DECISION_CONTEXT`)
naming the ``action``, the ``party`` taking it, the policy version and its text's ``sha256`` (or
the rights request), a time ``at`` and a random ``nonce``, signed by a key of that party in the
key set in force. :data:`DECISION_PARTIES` says which parties may take each action.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from teamlens.verify.signatures import (
    DECISION_CONTEXT,
    KEY_SET_CONTEXT,
    PartyKey,
    statement_digest,
)

#: The parties whose keys must witness every key set.
WITNESSES = ("employer", "representative")
#: The parties that may sign each decision.
DECISION_PARTIES: Mapping[str, tuple[str, ...]] = {
    "policy.approve": WITNESSES,
    "policy.activate": WITNESSES,
    "policy.suspend": WITNESSES,
    "policy.lift": WITNESSES,
    "policy.retire": WITNESSES,
    "policy.consult": WITNESSES,
    "consultation.response": ("employer",),
    "consultation.not_consulted": ("employer",),
    "rights.request": ("dpo", "representative"),
    "rights.fulfil": ("dpo",),
    "rights.exclusions": ("dpo", "representative"),
    "union.export": ("representative",),
    "rights.rectify": ("dpo",),
}
#: The digest a first key set names as its predecessor.
NO_PREVIOUS = "0" * 64


@dataclass(frozen=True)
class KeySet:
    """A registered key set: its digest (what the next set names) and its keys."""

    digest: str
    keys: tuple[PartyKey, ...]
    roles_sha256: str = ""

    def key(self, fingerprint: str) -> PartyKey | None:
        """The key with this fingerprint, if the set lists it."""
        return next((key for key in self.keys if key.fingerprint == fingerprint), None)

    def of(self, party: str) -> tuple[PartyKey, ...]:
        """The keys the set lists for ``party``."""
        return tuple(key for key in self.keys if key.party == party)


def read_key_set(statement: Mapping[str, Any]) -> KeySet:
    """The key set a statement lists; ValueError when it is not a key-set statement."""
    if statement.get("context") != KEY_SET_CONTEXT or not isinstance(statement.get("keys"), list):
        raise ValueError("not a key-set statement")
    keys = tuple(PartyKey.from_json(item) for item in statement["keys"])
    roles = statement.get("roles_sha256") or ""
    return KeySet(statement_digest(statement), keys, str(roles))


def signers(keys: KeySet, statement: Mapping[str, Any], signatures: Sequence[Mapping[str, Any]]) -> set[str]:
    """The fingerprints of the keys in ``keys`` whose signature over ``statement`` is among ``signatures``."""
    valid = set()
    for signature in signatures:
        key = keys.key(str(signature.get("key", "")))
        if key is not None and not key.signature_problem(statement, signature):
            valid.add(key.fingerprint)
    return valid


def key_set_problem(
    statement: Mapping[str, Any], signatures: Sequence[Mapping[str, Any]], previous: KeySet | None
) -> str:
    """Why this key set may not be registered after ``previous``; "" when it may (module docstring)."""
    try:
        proposed = read_key_set(statement)
    except ValueError as error:
        return f"the key set cannot be read: {error}"
    fingerprints = [key.fingerprint for key in proposed.keys]
    if len(set(fingerprints)) != len(fingerprints):
        return "the key set lists one key twice"
    for party in WITNESSES:
        if not proposed.of(party):
            return f"the key set has no {party} key"
    expected = NO_PREVIOUS if previous is None else previous.digest
    if statement.get("previous") != expected:
        return "the key set does not follow the key set in force (previous)"
    unsigned = set(fingerprints) - signers(proposed, statement, signatures)
    if unsigned:
        key = next(k for k in sorted(proposed.keys, key=lambda k: k.fingerprint) if k.fingerprint in unsigned)
        return f"the {key.party} key {key.fingerprint[:16]}… has not signed the key set"
    if previous is not None:
        witnessed = signers(previous, statement, signatures)
        for party in WITNESSES:
            if not witnessed & {key.fingerprint for key in previous.of(party)}:
                return f"no {party} key of the key set in force has signed the new key set"
    return ""


def decision_problem(statement: Mapping[str, Any], signature: Mapping[str, Any], keys: KeySet | None) -> str:
    """Why this signed decision does not hold under the key set ``keys``; "" when it does."""
    if statement.get("context") != DECISION_CONTEXT:
        return "it is not a signed decision"
    action, party = statement.get("action"), statement.get("party")
    allowed = DECISION_PARTIES.get(str(action))
    if allowed is None:
        return f"'{action}' is not a decision a party signs"
    if party not in allowed:
        return f"the {party} may not sign '{action}'"
    if keys is None:
        return "no key set was registered when it was signed"
    key = keys.key(str(signature.get("key", "")))
    if key is None:
        return "it is signed with a key the key set does not list"
    if key.party != party:
        return f"it names the {party} but is signed with a {key.party} key"
    return key.signature_problem(statement, signature)
