"""Killing an ingestion at any moment leaves the store as before or as after, never in between.

A subprocess runs `teamlens ingest` over a folder of exports and is killed with SIGKILL at a
random moment, 4 times (20 under `make audit`, ``--audit-large``); after each kill the store must
verify clean and hold exactly the facts of some prefix of whole files (the facts an in-process
ingestion holds just before one of its files, in the order it reads them), and finishing the
ingestion (in the test's process: only the kills need a process of their own) must give exactly
the facts of one clean run.
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
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from teamlens import services
from teamlens.domain import FACT_KEY
from teamlens.services import Workspace
from teamlens.store import FactStore

from .flow_support import Org, approve_policy, build_org, make_workspace, policy_text

ROUNDS, ROUNDS_LARGE = 4, 20


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


def _committed_months(store_root: Path) -> bool:
    """Whether the store's manifest names a month file yet (some facts were committed)."""
    try:
        manifest = json.loads((store_root / "manifest.json").read_text())
    except FileNotFoundError:
        return False
    return bool(manifest.get("months"))


def _wait_for_facts(store_root: Path, process: subprocess.Popen[bytes], timeout: float) -> None:
    """Return once a file's facts are committed (the manifest names a month) or the process has ended."""
    deadline = time.perf_counter() + timeout
    while not _committed_months(store_root) and process.poll() is None:
        if time.perf_counter() > deadline:
            return
        time.sleep(0.002)


def _ingest_command(org: Org) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ)
    env["TEAMLENS_DATA_DIR"] = str(org.ws.settings.data_dir)
    env["TEAMLENS_KEY_FILE"] = str(org.ws.settings.key_file)
    return [sys.executable, "-m", "teamlens.cli", "ingest", str(org.exports)], env


def _same_key_installation(org: Org, root: Path) -> Org:
    """A new installation with ``org``'s key (so the same pseudonyms) and the template policy approved."""
    ws = make_workspace(root)
    ws.settings.key_file.parent.mkdir(parents=True, exist_ok=True)
    ws.settings.key_file.write_bytes(org.ws.settings.key_file.read_bytes())
    services.init(ws)
    approve_policy(ws, policy_text(), root / "policy.toml")
    return Org(ws, org.exports, org.synth, root / "policy.toml")


def _finish_in_process(org: Org) -> None:
    """Run the ingestion again to its end, strict as `teamlens ingest` is when piped, in this process."""
    ws = Workspace(org.ws.settings)
    try:
        services.ingest(ws, [org.exports], actor="admin", strict=True)
    finally:
        ws.governance.close()


@dataclass(frozen=True)
class CleanRun:
    """The organisation, its clean run's facts, how long that run took, and the whole-file prefixes."""

    org: Org
    expected: pa.Table
    duration: float
    prefixes: list[pa.Table]  # prefixes[i]: the facts held before the i-th file (the last: all files)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> CleanRun:
    root = tmp_path_factory.mktemp("clean")
    org = build_org(root, people=200, weeks=6, seed=11)
    command, env = _ingest_command(org)
    began = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    duration = time.perf_counter() - began
    stepwise = _same_key_installation(org, root / "stepwise")
    prefixes: list[pa.Table] = []
    on_file = lambda *_: prefixes.append(_facts(stepwise.ws.settings.facts_dir))  # noqa: E731
    services.ingest(stepwise.ws, [org.exports], actor="admin", on_file=on_file)
    prefixes.append(_facts(stepwise.ws.settings.facts_dir))
    expected = _facts(org.ws.store.root)
    assert prefixes[-1].equals(expected)  # the CLI and the service read the same files alike
    assert len({table.num_rows for table in prefixes}) > 3  # several files carry facts
    return CleanRun(org, expected, duration, prefixes)


def prefix_held(now: pa.Table, prefixes: list[pa.Table]) -> int | None:
    """The largest number of whole files whose facts are exactly ``now``, or None if no prefix is."""
    matching = [files for files, table in enumerate(prefixes) if table.equals(now)]
    return matching[-1] if matching else None


@pytest.mark.slow
def test_a_killed_ingestion_leaves_the_store_whole_and_a_rerun_matches_a_clean_run(
    tmp_path: Path, clean: CleanRun, large: bool
) -> None:
    rng = random.Random(20261127)  # the kill moments are reproducible; only scheduling varies
    killed = _same_key_installation(clean.org, tmp_path / "killed")
    facts_dir = killed.ws.settings.facts_dir
    command, env = _ingest_command(killed)
    held: list[int] = []
    for round_number in range(ROUNDS_LARGE if large else ROUNDS):
        shutil.rmtree(facts_dir, ignore_errors=True)  # each round starts from empty
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if round_number % 2:
            # Every other kill waits for a file's facts to be committed, so that however long the
            # interpreter takes to start on a busy machine, these kills land among the files; the
            # first of them kills at once, the others a random moment later.
            _wait_for_facts(facts_dir, process, timeout=10 * clean.duration)
            if round_number > 1:
                time.sleep(rng.uniform(0.0, 0.6 * clean.duration))
        else:
            time.sleep(rng.uniform(0.2 * clean.duration, clean.duration))
        process.send_signal(signal.SIGKILL)
        process.wait()
        store = FactStore(facts_dir)  # reopening cleans what a killed commit left
        assert store.verify() == []
        files = prefix_held(_facts(facts_dir), clean.prefixes)
        assert files is not None, (
            f"round {round_number}: the store holds facts that no prefix of whole files gives"
        )
        held.append(files)
        _finish_in_process(killed)
        assert FactStore(facts_dir).verify() == []
        assert _facts(facts_dir).equals(clean.expected)
    partial = [files for files in held if 0 < clean.prefixes[files].num_rows < clean.expected.num_rows]
    assert partial, f"no kill landed among the files (whole files held: {held}): the test exercised nothing"


def test_the_prefix_check_catches_a_store_holding_part_of_a_file(clean: CleanRun) -> None:
    """Teeth: the facts of whole files plus a few rows of the next file match no prefix."""
    whole = next(i for i, table in enumerate(clean.prefixes) if table.num_rows > 0)
    held = clean.prefixes[whole]
    following = next(table for table in clean.prefixes[whole:] if table.num_rows > held.num_rows)
    extra = following.join(held, keys=list(FACT_KEY), join_type="left anti").slice(0, 5)
    torn = pa.concat_tables([held, extra.select(held.column_names).cast(held.schema)])
    torn = torn.sort_by([(name, "ascending") for name in (*FACT_KEY, "value")])
    assert extra.num_rows == 5
    assert prefix_held(held, clean.prefixes) is not None
    assert prefix_held(torn, clean.prefixes) is None
