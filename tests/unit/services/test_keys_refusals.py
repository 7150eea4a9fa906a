"""The parties' signing keys: every mistake with a key file is refused with what to do instead.

A key that others can read, a key overwritten, a party that holds no key, a public file that is
not one, a key set that does not exist, a decision the web app cannot carry out: each is refused
before anything is written or signed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from teamlens import services
from teamlens.errors import AccessDenied, ConfigError
from teamlens.governance import SignedDecision
from teamlens.services import Workspace, keys

from ...integration.flow_support import make_workspace


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    workspace = make_workspace(tmp_path / "install")
    services.init(workspace)
    return workspace


def test_a_new_key_is_written_private_with_its_public_file_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "rep.key"
    public = keys.new_key(path, "representative", "Works council")
    assert path.stat().st_mode & 0o077 == 0
    assert keys.read_public(keys.public_path(path)) == public
    assert keys.load_key(path).path == path


def test_a_party_that_holds_no_key_and_an_existing_file_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not a party that holds a key"):
        keys.new_key(tmp_path / "x.key", "analyst", "me")
    path = tmp_path / "rep.key"
    keys.new_key(path, "representative", "Works council")
    before = path.read_bytes()
    with pytest.raises(ConfigError, match="a key is never overwritten"):
        keys.new_key(path, "representative", "again")
    assert path.read_bytes() == before


def test_a_key_file_that_is_missing_or_readable_by_others_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Cannot read the key file"):
        keys.load_key(tmp_path / "absent.key")
    path = tmp_path / "rep.key"
    keys.new_key(path, "representative", "Works council")
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="readable by other users"):
        keys.load_key(path)


def test_a_public_file_that_is_not_a_public_key_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "rep.pub"
    bad.write_text(json.dumps(["not", "a", "key"]), encoding="utf-8")
    with pytest.raises(ConfigError):
        keys.read_public(bad)
    with pytest.raises(ConfigError):
        keys.read_public(tmp_path / "absent.pub")


def test_a_key_set_that_does_not_exist_is_refused(ws: Workspace, tmp_path: Path) -> None:
    key_path = tmp_path / "rep.key"
    keys.new_key(key_path, "representative", "Works council")
    with pytest.raises(ConfigError, match="No single key set starts with"):
        keys.confirm_keys(ws, "abcdef", keys.load_key(key_path), actor="rep")
    with pytest.raises(ConfigError, match="There is no key set"):
        keys.key_set(ws, "0" * 64)
    assert ws.governance.key_sets() == []


def test_the_web_app_carries_out_only_approve_suspend_and_lift(ws: Workspace) -> None:
    decision = SignedDecision(
        statement={"action": "policy.propose", "policy_id": "p", "version": 1, "party": "employer"},
        signature={},
    )
    with pytest.raises(AccessDenied, match="cannot be signed in the web app"):
        keys.decide(ws, decision, name="Employer")
