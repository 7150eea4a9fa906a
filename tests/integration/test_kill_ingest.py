"""Killing an ingestion at any moment leaves the store as before or as after, never in between.

A subprocess runs `teamlens ingest` over a folder of exports and is killed with SIGKILL at a
random moment, 20 times; after each kill the store must verify clean and hold exactly the facts
of some prefix of whole files, and finishing the ingestion must give exactly the facts of one
clean run.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from teamlens import services
from teamlens.domain import FACT_KEY
from teamlens.store import FactStore

from .flow_support import Org, approve_policy, build_org, make_workspace, policy_text

KILLS = 20


def _facts(store_root: Path) -> pa.Table:
    manifest = (
        json.loads((store_root / "manifest.json").read_text())
        if (store_root / "manifest.json").exists()
        else {}
    )
    tables = [pq.read_table(store_root / path) for path in manifest.get("months", {}).values()]
    if not tables:
        return pa.table({})
    table = pa.concat_tables(tables).select([*FACT_KEY, "value"])
    return table.sort_by([(name, "ascending") for name in (*FACT_KEY, "value")])


def _wait_for_first_commit(store_root: Path, process: subprocess.Popen[bytes], timeout: float) -> None:
    """Return once the store's manifest exists (a batch was committed) or the process has ended."""
    deadline = time.perf_counter() + timeout
    while not (store_root / "manifest.json").exists() and process.poll() is None:
        if time.perf_counter() > deadline:
            return
        time.sleep(0.005)


def _ingest_command(org: Org) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ)
    env["TEAMLENS_DATA_DIR"] = str(org.ws.settings.data_dir)
    env["TEAMLENS_KEY_FILE"] = str(org.ws.settings.key_file)
    return [sys.executable, "-m", "teamlens.cli", "ingest", str(org.exports)], env


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Org, pa.Table, float]:
    org = build_org(tmp_path_factory.mktemp("clean"), people=200, weeks=6, seed=11)
    command, env = _ingest_command(org)
    began = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    return org, _facts(org.ws.store.root), time.perf_counter() - began


@pytest.mark.slow
def test_a_killed_ingestion_leaves_the_store_whole_and_a_rerun_matches_a_clean_run(
    tmp_path: Path, clean: tuple[Org, pa.Table, float]
) -> None:
    org, expected, duration = clean
    rng = random.Random(20261127)  # the kill moments are reproducible; only scheduling varies
    root = tmp_path / "killed"
    ws = make_workspace(root)
    ws.settings.key_file.parent.mkdir(parents=True, exist_ok=True)
    ws.settings.key_file.write_bytes(org.ws.settings.key_file.read_bytes())  # same pseudonyms
    services.init(ws)
    approve_policy(ws, policy_text(), root / "policy.toml")
    killed_org = Org(ws, org.exports, org.synth, root / "policy.toml")
    command, env = _ingest_command(killed_org)
    seen_partial = 0
    for round_number in range(KILLS):
        shutil.rmtree(ws.settings.facts_dir, ignore_errors=True)  # each round starts from empty
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if round_number % 2:
            # Every other kill waits for the first commit, so that however long the interpreter
            # takes to start on a busy machine, some kills land among the files.
            _wait_for_first_commit(ws.settings.facts_dir, process, timeout=10 * duration)
            time.sleep(rng.uniform(0.0, 0.6 * duration))
        else:
            time.sleep(rng.uniform(0.2 * duration, duration))
        process.send_signal(signal.SIGKILL)
        process.wait()
        store = FactStore(ws.settings.facts_dir)  # reopening cleans what a killed commit left
        assert store.verify() == []
        now = _facts(ws.settings.facts_dir)
        if 0 < now.num_rows < expected.num_rows:
            seen_partial += 1
        # Whatever was committed is a set of whole files: every row present is a row of the clean run.
        if now.num_rows:
            assert now.join(expected, keys=list(FACT_KEY), join_type="left anti").num_rows == 0
        subprocess.run(command, env=env, check=True, capture_output=True)
        assert FactStore(ws.settings.facts_dir).verify() == []
        assert _facts(ws.settings.facts_dir).equals(expected)
    assert seen_partial > 0, "no kill landed mid-ingestion: the test did not exercise anything"
