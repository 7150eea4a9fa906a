"""A16 — insider and operator loosening of settings.

(a) Through the service, one party alone proposes and approves a wider version (ρ 100, k 5): it
stays inactive and releases keep running under the approved version. (b) A DBA edits the active
policy row directly (ρ raised in the stored text): the next release is refused and the
integrity failure is written to the audit log. (c) The database itself refuses k < 5. (d) The
DBA rewrites the text *and* every hash that binds it (the row's sha256 and both approvals'):
the approvals the audit log recorded no longer match, so the release is refused (a rebuilt log
is caught by the representative's signed checkpoint, A17). Teeth: with the text-hash check
switched off, the edited ρ is used and the loosened release goes through.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import sqlite3
from pathlib import Path

import pytest

from teamlens import services
from teamlens.errors import PolicyError
from teamlens.governance import policy_integrity

from ..integration.flow_support import policy_text, signer
from .conftest import Installation


def _database(installation: Installation) -> Path:
    return installation.ws.settings.data_dir / "governance.sqlite"


def _active_policy(installation: Installation):
    return installation.ws.governance.require_active_policy("attack").policy


@pytest.mark.attack("A16")
def test_a16_one_party_cannot_widen_the_policy(fresh: Installation, tmp_path: Path, measure) -> None:
    before = _active_policy(fresh)
    wider = policy_text(**{f"version = {before.version}": f"version = {before.version + 1}"})
    wider = re.sub(r'^rho = "[^"]+"', 'rho = "100"', wider, flags=re.M)
    wider = wider.replace("min_group_size = 10 ", "min_group_size = 5  ")
    path = tmp_path / "wider.toml"
    path.write_text(wider, encoding="utf-8")
    info = services.propose(fresh.ws, path, actor="admin")
    # Refusing the lone approval outright would be as good as leaving the version pending.
    with contextlib.suppress(PolicyError):
        services.approve(
            fresh.ws, info.policy_id, info.version, by=signer(fresh.ws, "employer"), approver="HR director"
        )
    state = next(v.state for v in fresh.ws.governance.policy_versions() if v.version == before.version + 1)
    after = _active_policy(fresh)
    measure(a16_single_party_state=str(state))
    assert str(state) != "active"
    assert (after.version, after.rho, after.min_group_size) == (
        before.version,
        before.rho,
        before.min_group_size,
    )
    table = services.release(fresh.ws, "department-monthly", ["2026-01"], actor="admin")
    assert table.policy_version == before.version and table.min_group_size == 10


def _edit_text(installation: Installation, rehash: bool) -> None:
    with sqlite3.connect(_database(installation)) as db:
        (text,) = db.execute("SELECT toml FROM policy_versions WHERE state = 'active'").fetchone()
        loosened = re.sub(r'^rho = "[^"]+"', 'rho = "100"', text, flags=re.M)
        db.execute("UPDATE policy_versions SET toml = ? WHERE state = 'active'", (loosened,))
        if rehash:
            digest = hashlib.sha256(loosened.encode("utf-8")).hexdigest()
            (old,) = db.execute("SELECT sha256 FROM policy_versions WHERE state = 'active'").fetchone()
            db.execute("UPDATE policy_versions SET sha256 = ? WHERE sha256 = ?", (digest, old))
            db.execute("UPDATE approvals SET sha256 = ? WHERE sha256 = ?", (digest, old))


def edit_is_refused(installation: Installation) -> bool:
    """After a direct edit, is the next release refused (and the failure logged)?"""
    try:
        services.release(installation.ws, "department-monthly", ["2026-01"], actor="admin")
    except PolicyError:
        logged = [e.action for e in installation.ws.governance.audit_entries(limit=5)]
        return "policy.integrity_failure" in logged
    return False


@pytest.mark.attack("A16")
def test_a16_a_direct_edit_of_the_policy_row_stops_releases_and_is_logged(
    fresh: Installation, measure
) -> None:
    _edit_text(fresh, rehash=False)
    refused = edit_is_refused(fresh)
    measure(a16_direct_edit_refused=refused)
    assert refused
    with pytest.raises(PolicyError):
        services.ingest(fresh.ws, [fresh.org.exports], actor="admin")


@pytest.mark.attack("A16", teeth=True)
def test_a16_teeth_without_the_hash_check_the_edited_budget_is_used(
    fresh: Installation, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sqlite3.connect(_database(fresh)) as db:
        (stored,) = db.execute("SELECT sha256 FROM policy_versions WHERE state = 'active'").fetchone()
    approved = float(_active_policy(fresh).rho)
    monkeypatch.setattr(policy_integrity, "policy_sha256", lambda text: stored)
    _edit_text(fresh, rehash=False)
    assert float(_active_policy(fresh).rho) == 100
    table = services.release(fresh.ws, "department-monthly", ["2026-01"], actor="admin")  # not refused
    # One month of one report charged more than the whole approved budget: the edited ρ was used.
    assert table.rho_charged > approved


@pytest.mark.attack("A16")
def test_a16_the_database_refuses_a_minimum_group_size_under_5(fresh: Installation) -> None:
    with sqlite3.connect(_database(fresh)) as db, pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        db.execute("UPDATE policy_versions SET min_group_size = 2")


@pytest.mark.attack("A16")
def test_a16_rewriting_the_text_and_every_hash_is_still_detected(fresh: Installation) -> None:
    """The approvals recorded in the hash-chained audit log no longer match the rewritten text.

    Rewriting the log's entries too would need the whole chain rebuilt, which the checkpoint the
    representative holds detects (A17).
    """
    _edit_text(fresh, rehash=True)
    assert edit_is_refused(fresh)
