from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from teamlens.errors import ConfigError
from teamlens.pseudonymise import Pseudonymiser, create_key_file, load_key
from teamlens.settings import Settings


def test_same_key_same_pseudonym_and_case_folded() -> None:
    one = Pseudonymiser(b"k" * 32)
    assert one("Alice.Smith@Example.org") == Pseudonymiser(b"k" * 32)(" alice.smith@example.org ")


def test_another_key_gives_another_pseudonym() -> None:
    assert Pseudonymiser(b"k" * 32)("a@example.org") != Pseudonymiser(b"j" * 32)("a@example.org")


def test_pseudonym_is_not_a_plain_hash_of_the_address() -> None:
    """A staff list hashed without the key matches nothing (attack A8a)."""
    address = "a@example.org"
    pseudonym = Pseudonymiser(b"k" * 32)(address)
    assert pseudonym not in {
        hashlib.sha256(address.encode()).hexdigest(),
        hashlib.md5(address.encode()).hexdigest(),  # noqa: S324  (the attacker's guess, not ours)
    }
    assert len(pseudonym) == 64


def test_key_never_shows_in_repr() -> None:
    assert "kkkk" not in repr(Pseudonymiser(b"k" * 32))


def test_key_file_is_private_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "pseudonym.key"
    create_key_file(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    key = load_key(path)
    assert len(key) == 32
    with pytest.raises(ConfigError, match="already exists"):
        create_key_file(path)
    assert load_key(path) == key


def test_missing_or_bad_key_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as missing:
        load_key(tmp_path / "none.key")
    assert "teamlens init" in missing.value.hint
    (tmp_path / "bad.key").write_text("not hex")
    with pytest.raises(ConfigError, match="not hexadecimal"):
        load_key(tmp_path / "bad.key")
    assert load_key(tmp_path / "x", env_value="ab" * 16) == bytes.fromhex("ab" * 16)


def test_key_inside_the_data_folder_is_refused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", key_file=tmp_path / "data" / "pseudonym.key")
    with pytest.raises(ConfigError, match="inside the data folder"):
        settings.check_key_location()
    Settings(data_dir=tmp_path / "data", key_file=tmp_path / "pseudonym.key").check_key_location()
