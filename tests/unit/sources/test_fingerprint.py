"""File fingerprints for idempotent ingestion."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from teamlens.errors import InputFormatError
from teamlens.sources import content_hash


def test_content_hash_is_the_sha256_of_the_bytes(tmp_path: Path) -> None:
    data = bytes(range(256)) * 9000  # more than one 1 MiB chunk
    path = tmp_path / "a.csv"
    path.write_bytes(data)
    assert content_hash(path) == hashlib.sha256(data).hexdigest()
    path.write_bytes(data[:-1] + b"\x00")
    assert content_hash(path) != hashlib.sha256(data).hexdigest()


def test_an_unreadable_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputFormatError, match="cannot be read"):
        content_hash(tmp_path / "missing.csv")
