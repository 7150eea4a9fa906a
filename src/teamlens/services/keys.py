"""The parties' signing keys: made on their own machines, registered once, used for every decision.

``new_key`` writes an Ed25519 private key to a path the holder chooses (owner-only, never inside
the data folder) and its public half beside it (``.pub.json``: party, kind, key, label).
``propose_keys`` proposes a key set from public files (the keys in force are kept unless
dropped); every key holder then ``confirm_keys`` with their private key, and the set is
registered once every new key and one key of each party in force has signed (``verify.rules``).
``signed`` turns a loaded key (``KeyFile``) or a signature made elsewhere (a passkey's, in the
web app) into the ``SignedDecision`` governance checks; the party is the one the key set records
for that key, never one a person names.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from teamlens.errors import AccessDenied, ConfigError
from teamlens.governance import KeySetInfo, SignedDecision, checkpoints
from teamlens.services.workspace import Workspace
from teamlens.verify import KEY_PARTIES, KeySet, PartyKey, ed25519_key, read_key_set, sign_ed25519
from teamlens.verify import spaced as spaced

PUBLIC_SUFFIX = ".pub.json"


@dataclass(frozen=True)
class KeyFile:
    """A party's private key, loaded from its file on this machine."""

    path: Path
    private: Ed25519PrivateKey

    @property
    def fingerprint(self) -> str:
        """The key's fingerprint (SHA-256 of its public key)."""
        return ed25519_key(self.private, "", "").fingerprint

    def sign(self, statement: dict[str, Any]) -> SignedDecision:
        """This key's signature over ``statement``."""
        return SignedDecision(statement, sign_ed25519(self.private, statement))


#: Who signs a decision: a key file on this machine, or a decision already signed elsewhere.
Signer = KeyFile | SignedDecision


def new_key(path: Path, party: str, label: str, *, data_dir: Path | None = None) -> PartyKey:
    """Write a new private key to ``path`` (0600) and its public file beside it; never overwrites."""
    if party not in KEY_PARTIES:
        raise ConfigError(
            f"'{party}' is not a party that holds a key.", f"Parties: {', '.join(KEY_PARTIES)}."
        )
    target = path.expanduser().resolve()
    if data_dir is not None and data_dir.resolve() in (target, *target.parents):
        raise ConfigError(
            f"{target} lies inside the data folder {data_dir.resolve()}: a key there is the server's key.",
            "Keep your key on your own machine, e.g. --out ~/.config/teamlens/representative.key",
        )
    if target.exists():
        raise ConfigError(
            f"{target} already exists; a key is never overwritten.", "Choose another --out path."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    private = Ed25519PrivateKey.generate()
    pem = checkpoints.private_pem(private)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    public = ed25519_key(private, party, label)
    public_path(target).write_text(json.dumps(public.to_json(), indent=2) + "\n", encoding="utf-8")
    return public


def public_path(key_path: Path) -> Path:
    """Where the public file of a key file is written."""
    return key_path.with_name(key_path.name.removesuffix(".key") + PUBLIC_SUFFIX)


def load_key(path: Path) -> KeyFile:
    """Read a private key file; refused when others may read it or it is not an Ed25519 key."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        pem = path.read_bytes()
    except OSError as error:
        raise ConfigError(
            f"Cannot read the key file {path} ({type(error).__name__}).", "Check --key."
        ) from None
    if mode & 0o077:
        raise ConfigError(f"The key file {path} is readable by other users.", f"chmod 600 {path}")
    return KeyFile(path, checkpoints.load_private_key(pem, str(path)))


def read_public(path: Path) -> PartyKey:
    """Read a public key file written by ``new_key`` (or by the web app for a passkey)."""
    try:
        return PartyKey.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as error:
        raise ConfigError(
            f"{path} is not a teamlens public key file ({error}).", "Give the .pub.json file."
        ) from None


def registered(ws: Workspace) -> KeySet | None:
    """The key set in force, re-verified from the audit log (None before the parties registered one)."""
    return ws.governance.registered_keys()


def party_of(ws: Workspace, fingerprint: str) -> str:
    """The party the key set in force records for this key; AccessDenied when it lists no such key."""
    keys = registered(ws)
    key = None if keys is None else keys.key(fingerprint)
    if key is None:
        raise AccessDenied(
            f"The key {fingerprint[:16]}… is not registered for any party, so it decides nothing.",
            "Register it first (`teamlens keys propose`, confirmed by both parties); "
            "`teamlens keys list` shows the registered keys.",
        )
    return key.party


def propose_keys(
    ws: Workspace, public_files: list[Path], *, drop: tuple[str, ...] = (), actor: str
) -> KeySetInfo:
    """Propose the keys in force (less ``drop``) plus the keys in ``public_files``, to be confirmed.

    The key set also names the web app's roles file in force (its SHA-256): confirming the set
    approves that mapping of people to roles too (``roles``).
    """
    from teamlens.services.roles import role_map

    roles_sha256 = role_map(ws).sha256
    in_force = registered(ws)
    kept = [k for k in (in_force.keys if in_force else ()) if k.fingerprint not in drop]
    added = [read_public(path) for path in public_files]
    known = {k.fingerprint for k in kept}
    return ws.governance.propose_key_set(
        kept + [k for k in added if k.fingerprint not in known], roles_sha256, actor
    )


def confirm_keys(ws: Workspace, digest: str, key: KeyFile, *, actor: str) -> KeySetInfo:
    """Sign a proposed key set with ``key`` (a new key in it, or a key of the set in force)."""
    found = [info for info in ws.governance.key_sets() if info.digest.startswith(digest)]
    if len(found) != 1:
        raise ConfigError(f"No single key set starts with {digest}.", "`teamlens keys list` shows them.")
    return ws.governance.sign_key_set(
        found[0].digest, sign_ed25519(key.private, dict(found[0].statement)), actor
    )


def signed(
    ws: Workspace,
    by: Signer,
    action: str,
    policy_id: str,
    version: int | None = None,
    *,
    text: str | None = None,
) -> SignedDecision:
    """``by``'s signed decision to take ``action`` on a policy version (see the module docstring)."""
    if isinstance(by, SignedDecision):
        return by
    party = party_of(ws, by.fingerprint)
    return by.sign(ws.governance.decision_statement(action, party, policy_id, version, text=text))


def signed_fresh(ws: Workspace, by: Signer, action: str, **fields: object) -> SignedDecision:
    """``by``'s signed decision on something other than a policy version (a rights request)."""
    if isinstance(by, SignedDecision):
        return by
    return by.sign(ws.governance.fresh_statement(action, party_of(ws, by.fingerprint), **fields))


def propose_with(ws: Workspace, added: list[PartyKey], *, actor: str) -> KeySetInfo:
    """Propose the keys in force plus ``added`` (a passkey just made in the browser), to be confirmed."""
    from teamlens.services.roles import role_map

    in_force = registered(ws)
    kept = list(in_force.keys if in_force else ())
    known = {k.fingerprint for k in kept}
    fresh = [k for k in added if k.fingerprint not in known]
    return ws.governance.propose_key_set(kept + fresh, role_map(ws).sha256, actor)


def key_set(ws: Workspace, digest: str) -> KeySetInfo:
    """One proposed or registered key set."""
    found = [info for info in ws.governance.key_sets() if info.digest == digest]
    if not found:
        raise ConfigError(f"There is no key set {digest[:16]}….", "`teamlens keys list` shows them.")
    return found[0]


def listed_keys(info: KeySetInfo) -> KeySet:
    """The keys a key set lists (proposed or registered)."""
    return read_key_set(info.statement)


def decide(ws: Workspace, decision: SignedDecision, *, name: str) -> None:
    """Carry out a decision a party signed elsewhere (a passkey in the web app): approve, suspend or lift."""
    said = decision.statement
    policy_id, version = str(said.get("policy_id")), int(str(said.get("version")))
    from teamlens.services import policy

    if decision.action == "policy.approve":
        policy.approve(ws, policy_id, version, by=decision, approver=name)
    elif decision.action == "policy.suspend":
        policy.suspend(ws, policy_id, by=decision, actor=name)
    elif decision.action == "policy.lift":
        policy.lift(ws, policy_id, version, by=decision, actor=name)
    else:
        raise AccessDenied(f"'{decision.action}' cannot be signed in the web app.", "Use the command line.")
