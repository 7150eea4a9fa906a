"""A26 — a copy of the data folder, without the key, re-identifies everyone.

The attacker holds a copy of the data folder (a backup, a stolen disk) and the HR export, but not
the pseudonymisation key. Before, the stored directory kept each pseudonym's exact valid-from and
valid-to dates (hire dates), team, location, manager, time zone and working hours: matched against
the HR export, nearly every pseudonym was linked and its weekly facts read.

(a) The store keeps only what placement in the policy's groups and windows needs: the directory's
columns are the stored schema, its dates are Mondays inside the policy period, the levels the
policy does not use are empty, and no file holds a time zone, working hours, a manager or an
alias. (b) The linkage attack — each HR person's rows put through the same minimisation and
matched to the stored rows — links only people who joined, left or moved inside the period (the
placement of a release needs exactly that). Teeth: with exact dates and every level stored, it
links nearly everyone. (c) With the store encrypted, the copy's Parquet files open neither in
pyarrow nor in DuckDB and hold no pseudonym, while releases, the access export, erasure and
verification work. Teeth: unencrypted, every pseudonym is in the bytes. (d) Time zones and hours
are used while reading (after-hours mail in Tokyo and London) and not kept; a later ingestion
without the HR export says that it used the policy's hours.
"""

from __future__ import annotations

import collections
import datetime as dt
import importlib
import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from teamlens import services
from teamlens.domain import DIRECTORY_READ_SCHEMA, DIRECTORY_SCHEMA
from teamlens.domain.directory import READING_ONLY
from teamlens.services import Workspace, directory_reading
from teamlens.settings import Settings

from ..integration.flow_support import dpo_fulfils, files_under, mail_workspace, make_workspace, mbox_message
from .conftest import Installation, install

UNSTORED = {*READING_ONLY, "manager"}


def stored_directory_file(ws: Workspace) -> Path:
    manifest = json.loads((ws.settings.facts_dir / "manifest.json").read_text())
    return ws.settings.facts_dir / manifest["directory"]


@pytest.mark.attack("A26")
def test_a26_the_store_keeps_only_what_placement_needs(pristine: Installation, policy, measure) -> None:
    table = pq.read_table(stored_directory_file(pristine.ws))
    assert table.schema.names == DIRECTORY_SCHEMA.names
    rows = table.to_pylist()
    first = directory_reading.monday_on_or_after(policy.period_start)
    for row in rows:
        assert row["valid_from"].weekday() == 0 and first <= row["valid_from"] < policy.period_end
        assert row["valid_to"] is None or (
            row["valid_to"].weekday() == 0 and row["valid_to"] < policy.period_end
        )
    used = {level.value for level in policy.grouping_levels}
    unused = [name for name in directory_reading.GROUP_COLUMNS if name not in used]
    assert unused and all(row[name] is None for row in rows for name in unused)
    parquet = [path for path in files_under(pristine.ws.settings.data_dir) if path.suffix == ".parquet"]
    columns = {name for path in parquet for name in pq.read_schema(path).names}
    measure(a26_directory_rows=len(rows), a26_stored_columns=sorted(columns))
    assert not columns & UNSTORED


def _signatures(rows: list[dict[str, Any]], key: str) -> dict[str, tuple[Any, ...]]:
    by: dict[str, list[tuple[Any, ...]]] = collections.defaultdict(list)
    for row in rows:
        by[row[key]].append(tuple(row[name] for name in DIRECTORY_SCHEMA.names if name != "person"))
    return {who: tuple(sorted(found, key=str)) for who, found in by.items()}


def linked(installation: Installation, policy, minimise) -> tuple[int, int]:
    """Pseudonyms the attacker links to exactly one HR person, and how many pseudonyms there are."""
    stored = _signatures(pq.read_table(stored_directory_file(installation.ws)).to_pylist(), "person")
    hr = pa.csv.read_csv(installation.org.synth.directory_csv)
    frame = {
        "person": hr.column("Email"),
        "valid_from": hr.column("Valid From"),
        "valid_to": hr.column("Valid To"),
        **{name: hr.column(name.title()) for name in directory_reading.GROUP_COLUMNS},
    }
    read = pa.table(frame).cast(DIRECTORY_SCHEMA)
    for name in READING_ONLY:
        read = read.append_column(name, pa.nulls(read.num_rows, DIRECTORY_READ_SCHEMA.field(name).type))
    known = _signatures(minimise(read, policy).to_pylist(), "person")
    counts = collections.Counter(known.values())
    return sum(1 for signature in stored.values() if counts[signature] == 1), len(stored)


def changers(installation: Installation, policy) -> int:
    """People whose stored rows differ from one open range from the period's first Monday."""
    first = directory_reading.monday_on_or_after(policy.period_start)
    stored = _signatures(pq.read_table(stored_directory_file(installation.ws)).to_pylist(), "person")
    return sum(
        1 for rows in stored.values() if len(rows) > 1 or rows[0][0] != first or rows[0][1] is not None
    )


@pytest.mark.attack("A26")
def test_a26_linking_the_hr_export_finds_only_people_who_changed_in_the_period(
    pristine: Installation, policy, measure
) -> None:
    found, people = linked(pristine, policy, directory_reading.stored_directory)
    moved = changers(pristine, policy)
    measure(a26_linked=found, a26_pseudonyms=people, a26_changed_in_period=moved)
    assert found <= moved < people // 5


def _exact(table: pa.Table, policy) -> pa.Table:
    return table.select(DIRECTORY_SCHEMA.names).cast(DIRECTORY_SCHEMA)


@pytest.mark.attack("A26", teeth=True)
def test_a26_teeth_exact_dates_link_nearly_everyone(
    small_exports: Path, tmp_path: Path, policy, monkeypatch: pytest.MonkeyPatch, measure
) -> None:
    monkeypatch.setattr(importlib.import_module("teamlens.services.ingest"), "stored_directory", _exact)
    exports = tmp_path / "exports"
    shutil.copytree(small_exports, exports)
    installation = install(tmp_path / "install", exports)
    found, people = linked(installation, policy, _exact)
    measure(a26_teeth_linked=found, a26_teeth_pseudonyms=people)
    assert found >= 0.9 * people


def _encrypted(root: Path) -> Workspace:
    ws = make_workspace(root)
    return Workspace(ws.settings.model_copy(update={"encrypt_store": True}))


def _pseudonyms(installation: Installation) -> set[bytes]:
    pseudonymise = installation.ws.pseudonymiser()
    return {
        pseudonymise(email).encode()
        for email in pa.csv.read_csv(installation.org.synth.directory_csv).column("Email").to_pylist()
    }


def _copy_is_readable(data_dir: Path) -> bool:
    parquet = [path for path in files_under(data_dir) if path.suffix == ".parquet"]
    assert parquet
    for path in parquet:
        try:
            pq.read_table(path)
            return True
        except OSError:
            pass
        try:
            duckdb.sql(f"SELECT count(*) FROM read_parquet('{path}')").fetchall()
            return True
        except duckdb.Error:
            pass
    return False


@pytest.mark.attack("A26")
def test_a26_an_encrypted_store_is_noise_without_the_key(
    small_exports: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, measure
) -> None:
    monkeypatch.setattr("tests.attacks.conftest.make_workspace", _encrypted)
    exports = tmp_path / "exports"
    shutil.copytree(small_exports, exports)
    installation = install(tmp_path / "install", exports)
    ws = installation.ws
    assert ws.settings.encrypt_store and ws.store.encrypted
    table = services.release(ws, "team-quarterly", ["2026-Q1"], actor="analyst")
    assert any(cell.value is not None for cell in table.cells)
    member = pa.csv.read_csv(installation.org.synth.directory_csv).column("Email")[0].as_py()
    export = dpo_fulfils(ws, member, "access", tmp_path / "export")
    assert export.facts > 0 and (tmp_path / "export").is_dir()
    assert dpo_fulfils(ws, member, "erase").removed > 0
    assert ws.store.verify() == []
    copy = tmp_path / "copy"
    shutil.copytree(ws.settings.data_dir, copy)
    blob = b"".join(path.read_bytes() for path in files_under(copy / "facts") if path.suffix == ".parquet")
    leaked = sum(1 for pseudonym in _pseudonyms(installation) if pseudonym in blob)
    readable = _copy_is_readable(copy)
    measure(a26_encrypted_copy_readable=readable, a26_encrypted_pseudonyms_in_bytes=leaked)
    assert not readable
    assert leaked == 0
    with pytest.raises(
        services.StoreError if hasattr(services, "StoreError") else Exception, match="encrypted"
    ):
        Workspace(Settings(data_dir=copy, key_file=ws.settings.key_file)).store  # noqa: B018


@pytest.mark.attack("A26", teeth=True)
def test_a26_teeth_an_unencrypted_copy_gives_every_pseudonym(pristine: Installation) -> None:
    assert _copy_is_readable(pristine.ws.settings.data_dir)
    parquet = [path for path in files_under(pristine.ws.settings.facts_dir) if path.suffix == ".parquet"]
    stored = {
        value.encode()
        for path in parquet
        for value in pq.read_table(path, columns=["person"])["person"].to_pylist()
    }
    pseudonyms = _pseudonyms(pristine)
    assert len(pseudonyms & stored) >= 0.9 * len(pseudonyms)


HR = (
    "Email,Team,Department,Division,Valid From,Valid To,Working Hours Start,Working Hours End,Time Zone\n"
    "ana@example.org,Alpha,D,X,2025-01-01,,08:47,16:53,Europe/London\n"
    "kenji@example.org,Alpha,D,X,2025-01-01,,08:47,16:53,Asia/Tokyo\n"
)


@pytest.mark.attack("A26")
def test_a26_time_zones_and_hours_serve_the_reading_and_are_not_kept(tmp_path: Path) -> None:
    ws = mail_workspace(tmp_path, after_hours=True)
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "directory.csv").write_text(HR)
    late = dt.datetime(2026, 3, 3, 23, 0)  # 23:00 in London, 08:00 next day in Tokyo (before 08:47)
    mid = dt.datetime(2026, 3, 4, 2, 0)  # 02:00 in London, 11:00 in Tokyo (working hours)
    sent = [("ana", late), ("kenji", late), ("ana", mid), ("kenji", mid)]
    (exports / "mail.mbox").write_text(
        "".join(mbox_message(f"{name}@example.org", when, number) for number, (name, when) in enumerate(sent))
    )
    services.ingest(ws, [exports], actor="admin")
    pseudonymise = ws.pseudonymiser()
    after = {
        name: sum(
            f["value"]
            for f in ws.store.person_facts(pseudonymise(f"{name}@example.org")).to_pylist()
            if f["metric"] == "after_hours_emails"
        )
        for name in ("ana", "kenji")
    }
    assert after == {"ana": 2, "kenji": 1}  # each judged in their own zone (London's would give 2)
    blob = b"".join(path.read_bytes() for path in files_under(ws.settings.data_dir))
    assert b"Asia/Tokyo" not in blob and b"16:53" not in blob and b"08:47" not in blob
    assert not set(pq.read_schema(stored_directory_file(ws)).names) & UNSTORED
    later = tmp_path / "later"
    later.mkdir()
    (later / "more.mbox").write_text(mbox_message("kenji@example.org", late + dt.timedelta(days=1), 9))
    summary = services.ingest(ws, [later], actor="admin")
    assert directory_reading.NO_DIRECTORY_NOTE in summary.files[0].notes
