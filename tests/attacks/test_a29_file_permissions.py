"""A29 — files readable by other accounts on the server.

Everything under the data folder is pseudonymised personal data or governance state, so another
local account (a co-hosted service, a shell user) must not read or list any of it. After a full
flow — init, policy approval, ingest, a release, the web pages, a worker's access export, an
erasure and a retention run — under the common umask 022, every file teamlens wrote in the data
folder is mode 0600 and every folder 0700, the governance database and the fact store alike.
Teeth: with the modes left to the umask, the same walk finds files others can read.
"""

from __future__ import annotations

import importlib
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from teamlens import services
from teamlens.governance import _engine
from teamlens.store import _files

from ..integration.flow_support import analyst_client, dpo_fulfils
from .conftest import install


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def exposed(data_dir: Path) -> list[str]:
    """Every file under ``data_dir`` not 0600 and every folder not 0700 (the folder itself included)."""
    found = []
    for folder, folders, files in os.walk(data_dir):
        for name, wanted in [("", 0o700), *((f, 0o700) for f in folders), *((f, 0o600) for f in files)]:
            path = Path(folder) / name
            mode = stat.S_IMODE(path.lstat().st_mode)
            if mode != wanted:
                found.append(f"{path.relative_to(data_dir.parent)} {mode:o}")
    return sorted(set(found))


def full_flow(small_exports: Path, root: Path) -> Path:
    exports = root / "exports"
    shutil.copytree(small_exports, exports)
    installation = install(root / "install", exports)
    ws = installation.ws
    services.release(ws, "team-quarterly", ["2026-Q1"], actor="analyst")
    client = analyst_client(ws)
    for page in ("/register", "/audit", "/api/releases", "/policy"):
        client.get(page)
    email = next(
        line.split(",")[1] for line in (exports / "hr" / "directory.csv").read_text().splitlines()[1:3]
    )
    dpo_fulfils(ws, email, "access", root / "export")
    dpo_fulfils(ws, email, "erase")
    services.run_retention(ws, actor="admin")
    ws.governance.close()
    return ws.settings.data_dir


@pytest.mark.attack("A29")
def test_a29_every_file_in_the_data_folder_is_private(
    small_exports: Path, tmp_path: Path, umask_022: None, measure
) -> None:
    data_dir = full_flow(small_exports, tmp_path)
    found = exposed(data_dir)
    files = sum(len(names) for _, _, names in os.walk(data_dir))
    measure(a29_files_checked=files, a29_exposed=found)
    assert files >= 5 and (data_dir / "governance.sqlite").is_file()
    assert found == []


@pytest.mark.attack("A29", teeth=True)
def test_a29_teeth_files_left_to_the_umask_are_found(
    small_exports: Path, tmp_path: Path, umask_022: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_files, "make_private", lambda path: None)
    monkeypatch.setattr(_engine, "private_database_file", lambda url: None)
    for name in ("workspace", "setup"):
        module = importlib.import_module(f"teamlens.services.{name}")
        monkeypatch.setattr(module, "private_folder", lambda path: path.mkdir(parents=True, exist_ok=True))
    found = exposed(full_flow(small_exports, tmp_path))
    assert any("governance.sqlite" in line for line in found)
    assert any("manifest.json" in line or ".parquet" in line for line in found)
