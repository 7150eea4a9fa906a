"""The secret key behind every pseudonym: created once, kept outside the data folder."""

from __future__ import annotations

import fcntl
import os
import secrets
import time
import weakref
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from teamlens.errors import ConfigError

KEY_BYTES = 32


def create_key_file(path: Path) -> None:
    """Write a new random key to ``path`` (owner-only permissions); refuses to overwrite one."""
    if path.exists():
        raise ConfigError(
            f"A pseudonymisation key already exists at {path}.",
            "Keep it: a new key would give everyone new pseudonyms. Delete it by hand only when "
            "starting a new policy period on purpose.",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_hex(KEY_BYTES) + "\n")


def parse_key(text: str, origin: str) -> bytes:
    """Decode a key written as hex digits; ``origin`` names where it came from in errors."""
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        raise ConfigError(
            f"The pseudonymisation key in {origin} is not hexadecimal.",
            "Create a fresh one with `teamlens init` (the old pseudonyms will not match).",
        ) from None
    if len(key) < 16:
        raise ConfigError(
            f"The pseudonymisation key in {origin} is {len(key)} bytes; at least 16 are needed.",
            "Create a fresh one with `teamlens init`.",
        )
    return key


def load_key(path: Path, env_value: str | None = None) -> bytes:
    """Read the key from ``env_value`` when given, else from ``path``."""
    if env_value:
        return parse_key(env_value, "TEAMLENS_KEY")
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigError(
            f"No pseudonymisation key at {path}.",
            "Run `teamlens init` to create one, or set TEAMLENS_KEY_FILE to where yours is.",
        ) from None
    return parse_key(text, str(path))


def derive_key(key: bytes, purpose: str) -> bytes:
    """A 32-byte key for ``purpose`` derived from the installation's key (HKDF-SHA-256).

    The fact store's encryption key comes from here, so there is one secret to keep outside
    the data folder, and knowing a derived key reveals neither the key nor the pseudonyms.
    """
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode("utf-8")).derive(key)


#: How long taking the key waits for a rotation that is running before giving up.
LEASE_WAIT_SECONDS = 60.0


class KeyLease:
    """A shared lock on the lock file beside the key, held until ``release`` or until collected."""

    def __init__(self, descriptor: int) -> None:
        self._release = weakref.finalize(self, os.close, descriptor)

    def release(self) -> None:
        """Let go of the key now (a rotation may then take it)."""
        self._release()


def lease_key(lock: Path, wait: float = LEASE_WAIT_SECONDS) -> KeyLease:
    """Hold the key in use: a shared lock on ``lock`` (beside the key file) for as long as the
    returned lease lives, so that a rotation, which takes that lock exclusively, waits until no
    pseudonymiser of the old key is still at work. Waits up to ``wait`` seconds for a rotation."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return KeyLease(descriptor)
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(descriptor)
                raise ConfigError(
                    "The pseudonymisation key is being rotated (`teamlens keys rotate` is running).",
                    "Try again when it has finished; it takes about as long as an ingest.",
                ) from None
            time.sleep(0.05)
