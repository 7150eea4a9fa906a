"""The roles file is read once and kept, and any change to it is still seen on the next request.

Every signed-in request compares its session's role mapping with the file in force, so the file
is kept by its inode, size, modification and change times. A write changes the change time even
when the size and modification time are put back (``os.utime``), and a file written in the last
two seconds is read every time. Teeth: an unchanged, settled file is answered from what was kept.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from teamlens.services import Workspace
from teamlens.services import roles as roles_module
from teamlens.services.roles import Role, role_map
from teamlens.settings import Settings

ANN = 'claim = "groups"\n[analyst]\naddresses = ["ann@example.org"]\n'
BOB = 'claim = "groups"\n[analyst]\naddresses = ["bob@example.org"]\n'  # the same size as ANN


def _ws(tmp_path: Path, roles: Path) -> Workspace:
    (tmp_path / "data").mkdir(exist_ok=True)
    return Workspace(
        Settings(data_dir=tmp_path / "data", key_file=tmp_path / "keys" / "pseudonym.key", roles_file=roles)
    )


def _settled(path: Path) -> None:
    """Date the file's modification a minute back (its change time stays now, so it is re-read once)."""
    old = time.time_ns() - 60 * 10**9
    os.utime(path, ns=(old, old))


def test_a_same_size_rewrite_with_its_old_modification_time_is_still_read(tmp_path: Path) -> None:
    roles = tmp_path / "roles.toml"
    roles.write_text(ANN, encoding="utf-8")
    _settled(roles)
    ws = _ws(tmp_path, roles)
    first = role_map(ws)
    assert first.addresses[Role.ANALYST] == {"ann@example.org"}
    before = roles.stat()
    roles.write_text(BOB, encoding="utf-8")
    os.utime(roles, ns=(before.st_atime_ns, before.st_mtime_ns))  # size and mtime as before
    assert roles.stat().st_size == before.st_size and roles.stat().st_mtime_ns == before.st_mtime_ns
    changed = role_map(ws)
    assert changed.addresses[Role.ANALYST] == {"bob@example.org"}
    assert changed.sha256 != first.sha256


def test_teeth_an_unchanged_settled_file_is_answered_from_what_was_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    roles = tmp_path / "roles.toml"
    roles.write_text(ANN, encoding="utf-8")
    ws = _ws(tmp_path, roles)
    fresh = role_map(ws)
    assert role_map(ws) is not fresh  # written just now: read again on every request
    monkeypatch.setattr(roles_module, "_RACY_NS", 0)  # as if two seconds had passed, without waiting
    kept = role_map(ws)
    assert role_map(ws) is kept  # nothing changed: no read, no parse
    _settled(roles)
    assert role_map(ws) is not kept  # its times changed: read again
    roles.write_text(BOB, encoding="utf-8")
    assert role_map(ws).addresses[Role.ANALYST] == {"bob@example.org"}
