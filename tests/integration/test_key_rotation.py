"""Key rotation (R35): a new pseudonymisation key, the old one destroyed, nothing linking the two.

An ingested organisation with an objector, an open erasure request and a signed-in session is
rotated with a directory that no longer lists one leaver. Read from the files (the key folder,
the Parquet files the store's manifest names, the database): no stored pseudonym is an old one,
and neither the old key nor any old pseudonym is in the bytes of any file; the objector is still
left out of the next release's counts, the request follows its worker, the leaver's rows are
gone, and the audit log records the rotation with counts only. Teeth: a rotation that keeps the
old key, and one that leaves the objections un-rekeyed, are both caught by the same check. A
SIGKILL at three points of a rotation leaves wholly the old state or wholly the new, as the
database's commit decided; a rotation waits for a pseudonymiser of the old key still at work;
an encrypted store ends up under the new key's store key.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from teamlens import services
from teamlens.errors import ConfigError, StoreError
from teamlens.governance import key_periods
from teamlens.pseudonymise import Pseudonymiser, derive_key, load_key
from teamlens.services import key_rotation
from teamlens.services.audit import public_entry
from teamlens.services.rights import SignedInWorker
from teamlens.services.workspace import STORE_KEY_PURPOSE
from teamlens.store import FactStore

from ..support.orgs import org_fixture
from .flow_support import Org, build_org
from .test_retention_clock import query

WEEK = dt.date(2026, 1, 19)


def objector_and_requester(root: Path) -> Org:
    """60 workers over 6 weeks, ingested; the first objected, the second asked for erasure, one session."""
    built = build_org(root, people=60, weeks=6)
    services.ingest(built.ws, [built.exports], actor="admin")
    objector, requester = (services.rights.pseudonym_of(built.ws, email) for email in emails(built)[:2])
    services.rights.object_to_processing(built.ws, SignedInWorker(objector))
    services.rights.worker_request(built.ws, SignedInWorker(requester), "erase")
    built.ws.governance.start_session("0" * 64, objector, "worker", "0" * 64, False)
    return built


org = org_fixture(objector_and_requester)


def emails(org: Org) -> list[str]:
    with open(org.synth.directory_csv, encoding="utf-8") as handle:
        return list(dict.fromkeys(row["Email"] for row in csv.DictReader(handle)))


def directory_without(org: Org, leaver: str, target: Path) -> Path:
    """The HR export as the operator gives it at rotation: the leaver's rows removed."""
    with open(org.synth.directory_csv, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    with open(target, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(row for row in rows if row["Email"] != leaver)
    return target


def stored_persons(org: Org) -> dict[str, set[str]]:
    """Every pseudonym kept, by where: the store's Parquet files and the database's own tables."""
    root = org.ws.settings.facts_dir
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    found: dict[str, set[str]] = {"facts": set(), "directory": set()}
    for path in manifest["months"].values():
        found["facts"] |= set(pq.read_table(root / path, columns=["person"]).column("person").to_pylist())
    if manifest.get("directory"):
        table = pq.read_table(root / manifest["directory"], columns=["person"])
        found["directory"] = set(table.column("person").to_pylist())
    for table, column in (("objections", "pseudonym"), ("rights_requests", "pseudonym"),
                          ("web_sessions", "sealed_worker")):  # fmt: skip
        found[table] = {str(row[0]) for row in query(org, f"SELECT {column} FROM {table}")}
    return found


def problems(org: Org, old_key: bytes, addresses: list[str]) -> list[str]:
    """What a rotation left behind that R35 forbids (empty when the rotation held)."""
    old = {Pseudonymiser(old_key)(address) for address in addresses}
    found = [f"{where} keeps {len(kept & old)} old pseudonyms" for where, kept in stored_persons(org).items()]
    found = [problem for problem in found if not problem.endswith(" 0 old pseudonyms")]
    key_file = org.ws.settings.key_file
    if load_key(key_file) == old_key:
        found.append("the key file still holds the old key")
    for folder in (key_file.parent, org.ws.settings.data_dir):
        for path in folder.rglob("*"):
            raw = path.read_bytes() if path.is_file() else b""
            if old_key.hex().encode() in raw:
                found.append(f"{path.name} holds the old key")
            if any(pseudonym.encode() in raw for pseudonym in old):  # freed pages, journals, logs
                found.append(f"{path.name} holds an old pseudonym in its bytes")
    return found


def test_after_rotation_nothing_old_remains_and_the_objector_is_still_left_out(
    org: Org, tmp_path: Path
) -> None:
    addresses = emails(org)
    objector, requester, leaver = addresses[0], addresses[1], addresses[-1]
    old_key = load_key(org.ws.settings.key_file)
    before = stored_persons(org)
    old_leaver = Pseudonymiser(old_key)(leaver)
    assert old_leaver in before["facts"] and before["web_sessions"], "the fixture must hold them"

    done = key_rotation.rotate(org.ws, directory_without(org, leaver, tmp_path / "hr.csv"), actor="admin")

    assert problems(org, old_key, addresses) == []
    assert not key_rotation.rotation_paths(org.ws.settings).pending()
    new = Pseudonymiser(load_key(org.ws.settings.key_file))
    after = stored_persons(org)
    stayers = {new(address) for address in addresses[:-1]}
    assert after["facts"] == {new(a) for a in addresses[:-1] if Pseudonymiser(old_key)(a) in before["facts"]}
    assert after["directory"] <= stayers and new(leaver) not in after["directory"]
    assert after["web_sessions"] == set()  # everyone binds again at their next sign-in
    assert done.store.facts_of_leavers > 0 and done.database.objections == 1 and done.database.requests == 1
    # The objector stays out of what the next release counts.
    excluded = org.ws.governance.excluded_persons()
    assert excluded == {services.rights.pseudonym_of(org.ws, objector)}
    everyone = org.ws.store.group_sizes("organisation", WEEK)
    left_out = org.ws.store.group_sizes("organisation", WEEK, exclude=excluded)
    assert sum(left_out.values()) == sum(everyone.values()) - 1
    # The open erasure request follows its worker to the new pseudonym.
    mine = org.ws.governance.rights_requests(services.rights.pseudonym_of(org.ws, requester))
    assert [(r.kind, r.state) for r in mine] == [("erase", "open")]
    entry = org.ws.governance.audit_entries(limit=1)[0]
    assert entry.action == key_periods.ROTATED
    assert entry.details["old_key"] == done.old_key and entry.details["new_key"] == done.new_key
    assert entry.details["objections"] == 1 and entry.details["people"] == len(addresses) - 1
    text = json.dumps(entry.details)
    assert not any(pseudonym in text for pseudonym in before["facts"] | after["facts"])
    public = dict(public_entry(entry).details)  # counts could describe the few who left
    assert set(public) == {"old_key", "new_key", "period_start"}
    assert org.ws.governance.pseudonym_key() == done.new_key
    # A second period's rotation gives the same address yet another pseudonym.
    again = key_rotation.rotate(org.ws, directory_without(org, leaver, tmp_path / "hr.csv"), actor="admin")
    assert again.old_key == done.new_key
    assert services.rights.pseudonym_of(org.ws, objector) not in excluded | {Pseudonymiser(old_key)(objector)}
    assert org.ws.governance.excluded_persons() == {services.rights.pseudonym_of(org.ws, objector)}


def test_a_rotation_keeping_the_old_key_is_caught(
    org: Org, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old_key = load_key(org.ws.settings.key_file)
    monkeypatch.setattr(key_rotation, "_destroy_old_key", lambda key_file, next_key: None)
    key_rotation.rotate(org.ws, org.synth.directory_csv, actor="admin")
    assert any("old key" in problem for problem in problems(org, old_key, emails(org)))


def test_a_rotation_leaving_rows_un_rekeyed_is_caught(
    org: Org, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old_key = load_key(org.ws.settings.key_file)
    monkeypatch.setattr(key_periods, "_objections", lambda conn, pseudonyms: (0, 0))
    key_rotation.rotate(org.ws, org.synth.directory_csv, actor="admin")
    assert problems(org, old_key, emails(org)) == [
        "objections keeps 1 old pseudonyms",
        "governance.sqlite holds an old pseudonym in its bytes",
    ]


_KILLER = """
import os, signal, sys
from pathlib import Path
from teamlens.governance import GovernanceDB
from teamlens.services import key_rotation
from teamlens.services.audit import public_entry
from teamlens.services.workspace import Workspace
from teamlens.settings import Settings

data, key, directory, point = sys.argv[1:]
def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
def after(original):
    def run(*args, **kwargs):
        original(*args, **kwargs)
        die()
    return run
if point == "copied":
    key_rotation.rekeyed_copy = after(key_rotation.rekeyed_copy)
elif point == "committed":
    GovernanceDB.rekey = after(GovernanceDB.rekey)
else:  # the folders swapped, the old key not yet overwritten
    key_rotation._overwrite = die
ws = Workspace(Settings(data_dir=Path(data), key_file=Path(key)))
key_rotation.rotate(ws, Path(directory), actor="admin")
"""


@pytest.mark.parametrize(("point", "expect"), [("copied", "old"), ("committed", "new"), ("swapped", "new")])
def test_a_kill_mid_rotation_leaves_the_old_state_or_the_new(org: Org, point: str, expect: str) -> None:
    settings = org.ws.settings
    old_key = load_key(settings.key_file)
    addresses = emails(org)
    before = stored_persons(org)
    run = subprocess.run(
        [sys.executable, "-c", _KILLER, str(settings.data_dir), str(settings.key_file),
         str(org.synth.directory_csv), point],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode == -9, run.stderr
    assert key_rotation.rotation_paths(settings).pending()
    ws = services.Workspace(settings)
    ws.store  # noqa: B018 (opening the store settles the interrupted rotation)
    assert not key_rotation.rotation_paths(settings).pending()
    org = Org(ws, org.exports, org.synth, org.policy_file)
    key = load_key(settings.key_file)
    after = stored_persons(org)
    if expect == "old":
        assert key == old_key and after == before
    else:
        assert problems(org, old_key, addresses) == []
        new = Pseudonymiser(key)
        assert after["facts"] == {new(a) for a in addresses if Pseudonymiser(old_key)(a) in before["facts"]}
        assert after["objections"] == {new(addresses[0])}
        assert ws.governance.pseudonym_key() == key_rotation.key_id(key)


def test_a_new_period_ingests_nothing_until_its_key_is_made(org: Org, tmp_path: Path) -> None:
    period, next_period = dt.date(2025, 12, 29), dt.date(2027, 1, 4)
    key_rotation.require_key_of_period(org.ws, period)  # the policy that let data in is this period's
    with pytest.raises(ConfigError, match="keys rotate"):
        key_rotation.require_key_of_period(org.ws, next_period)  # the teeth: the old key is refused
    key_rotation.rotate(org.ws, org.synth.directory_csv, actor="admin")
    key_rotation.require_key_of_period(org.ws, period)
    with pytest.raises(ConfigError, match="keys rotate"):
        key_rotation.require_key_of_period(org.ws, next_period)
    assert key_rotation.rotation_due(org.ws, next_period) and not key_rotation.rotation_due(org.ws, period)
    assert services.tick(org.ws).key_rotation_due is False  # the period in force has its key


def test_a_rotation_waits_for_a_pseudonymiser_of_the_old_key_still_at_work(org: Org) -> None:
    at_work = org.ws.pseudonymiser()  # an ingest reading files under the old key
    before = load_key(org.ws.settings.key_file)
    with pytest.raises(ConfigError, match="in use"):
        key_rotation.rotate(org.ws, org.synth.directory_csv, actor="admin", wait=0.2)
    assert load_key(org.ws.settings.key_file) == before  # nothing changed: it would have outlived its key
    assert not key_rotation.rotation_paths(org.ws.settings).pending()
    del at_work  # the ingest ends
    key_rotation.rotate(org.ws, org.synth.directory_csv, actor="admin", wait=0.2)
    assert load_key(org.ws.settings.key_file) != before


def encrypted(root: Path) -> Org:
    """30 workers over 4 weeks ingested into an encrypted store."""
    built = build_org(root, people=30, weeks=4)
    ws = services.Workspace(built.ws.settings.model_copy(update={"encrypt_store": True}))
    services.ingest(ws, [built.exports], actor="admin")
    return Org(ws, built.exports, built.synth, built.policy_file)


encrypted_org = org_fixture(encrypted)


def test_an_encrypted_store_is_encrypted_under_the_new_key_after_rotation(encrypted_org: Org) -> None:
    org, settings = encrypted_org, encrypted_org.ws.settings
    old_key = load_key(settings.key_file)
    someone = emails(org)[0]
    before = org.ws.store.person_facts(Pseudonymiser(old_key)(someone)).num_rows
    assert before > 0
    key_rotation.rotate(org.ws, org.synth.directory_csv, actor="admin")
    new_key = load_key(settings.key_file)
    after = services.Workspace(settings)  # a fresh process's view, under the new key
    assert after.store.person_facts(Pseudonymiser(new_key)(someone)).num_rows == before
    # The teeth: the old key's store key opens none of it any more.
    with pytest.raises(StoreError):
        FactStore(settings.facts_dir, encryption_key=derive_key(old_key, STORE_KEY_PURPOSE)).stats()
