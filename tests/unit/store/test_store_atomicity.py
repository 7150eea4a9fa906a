"""Every change is all-or-nothing: simulated crashes at each durable step, real kills, garbage collection."""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from teamlens.store import FactStore
from teamlens.store._locks import shared_read

from .factstore_helpers import (
    Fact,
    Placement,
    data_files,
    directory_table,
    edges_table,
    expected_files,
    facts_table,
    fingerprint,
)

D = dt.date
KILL_CHILD = Path(__file__).with_name("factstore_kill_child.py")


class Crash(Exception):
    """Stands for the process dying at one durable step."""


class Steps:
    """Counts the durable steps (fsync, rename, Parquet write) and crashes at step ``fail_at``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, fail_at: int | None = None) -> None:
        self.fail_at = fail_at
        self.calls: list[tuple[str, str]] = []
        real_replace, real_fsync, real_write = os.replace, os.fsync, pq.ParquetWriter.write_table

        def replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
            self._step("replace", str(dst))
            real_replace(src, dst, *args, **kwargs)

        def fsync(fd: int) -> None:
            self._step("fsync", "")
            real_fsync(fd)

        def write_table(writer: pq.ParquetWriter, *args: Any, **kwargs: Any) -> None:
            self._step("write", "")
            real_write(writer, *args, **kwargs)

        monkeypatch.setattr(os, "replace", replace)
        monkeypatch.setattr(os, "fsync", fsync)
        monkeypatch.setattr(pq.ParquetWriter, "write_table", write_table)

    def _step(self, name: str, target: str) -> None:
        self.calls.append((name, target))
        if len(self.calls) == self.fail_at:
            raise Crash(f"simulated crash at step {self.fail_at} ({name})")

    @property
    def manifest_replaced_at(self) -> int:
        """The step that renamed the new manifest into place: the commit point."""
        return next(
            index
            for index, (name, target) in enumerate(self.calls, start=1)
            if name == "replace" and target.endswith("manifest.json")
        )


def fact(person: str, day: dt.date, value: int) -> Fact:
    return Fact(person, day, 1, "meeting_minutes", value, "m365")


def build_base(root: Path) -> None:
    store = FactStore(root)
    store.commit(
        content_hash="base",
        source="m365",
        label="base",
        facts=facts_table(
            [fact("ann", D(2026, 1, 6), 1), fact("bob", D(2026, 1, 7), 2), fact("ann", D(2026, 2, 3), 3)]
        ),
        directory=directory_table([Placement("ann", D(2025, 1, 1), None, team="A")]),
        edges=edges_table(
            [("ann", "bob", D(2026, 1, 6), 2.0, "email"), ("bob", "ann", D(2026, 2, 3), 1.5, "chat")]
        ),
    )


def commit_change(store: FactStore) -> object:
    return store.commit(
        content_hash="change",
        source="m365",
        label="change",
        facts=facts_table([fact("ann", D(2026, 1, 6), 10), fact("cat", D(2026, 3, 3), 4)]),
        directory=directory_table([Placement("cat", D(2025, 1, 1), None, team="C")]),
        edges=edges_table(
            [("ann", "cat", D(2026, 1, 6), 1.0, "email"), ("cat", "bob", D(2026, 3, 3), 30.0, "meeting")]
        ),
    )


CHANGES: dict[str, Callable[[FactStore], object]] = {
    "commit": commit_change,
    "retention": lambda store: store.expire(D(2026, 1, 7)).facts,
    "erasure": lambda store: store.erase_person("ann"),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_crash_at_any_step_leaves_the_store_as_before_or_as_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    template = tmp_path / "template"
    build_base(template)
    before = fingerprint(template)

    dry = tmp_path / "dry"
    shutil.copytree(template, dry)
    with monkeypatch.context() as patch:
        steps = Steps(patch)
        CHANGES[change](FactStore(dry))
    after = fingerprint(dry)
    assert after != before
    commit_point = steps.manifest_replaced_at
    assert len(steps.calls) > commit_point  # the manifest rename is followed by its folder's fsync

    for fail_at in range(1, len(steps.calls) + 1):
        root = tmp_path / f"crash-{fail_at}"
        shutil.copytree(template, root)
        with monkeypatch.context() as patch:
            Steps(patch, fail_at=fail_at)
            with pytest.raises(Crash):
                CHANGES[change](FactStore(root))
        assert fingerprint(root) == (before if fail_at <= commit_point else after), f"crash at step {fail_at}"
        reopened = FactStore(root)
        assert reopened.verify() == []
        assert data_files(root) == expected_files(root), f"garbage left after a crash at step {fail_at}"


def test_garbage_from_an_interrupted_write_is_removed_on_open(tmp_path: Path) -> None:
    build_base(tmp_path)
    before = fingerprint(tmp_path)
    clean = data_files(tmp_path)
    leftovers = [
        "months/2026-01/gen-2.parquet",
        "months/2026-01/gen-2.parquet.tmp",
        "months/2026-07/gen-2.parquet",
        "directory/gen-2.parquet.tmp",
        "manifest.json.tmp",
        "staging/abc/2026-01.parquet",
        "spill/def/duckdb_temp_block.tmp",
    ]
    for name in leftovers:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"half written")
    FactStore(tmp_path)
    assert data_files(tmp_path) == clean
    assert not (tmp_path / "months/2026-07").exists()
    assert fingerprint(tmp_path) == before


def test_files_a_reader_may_still_scan_are_kept_until_it_is_done(tmp_path: Path) -> None:
    build_base(tmp_path)
    old = tmp_path / "months/2026-01/gen-1.parquet"
    with shared_read(tmp_path):
        commit_change(FactStore(tmp_path))
        assert old.exists()  # superseded, but a reader may hold the old manifest
        FactStore(tmp_path)  # opening while someone reads must not collect either
        assert old.exists()
    FactStore(tmp_path)
    assert not old.exists()
    assert data_files(tmp_path) == expected_files(tmp_path)


def _start_child(root: Path) -> tuple[subprocess.Popen[str], float]:
    """Start a child that commits the large batch; returns it and the moment its commit began."""
    child = subprocess.Popen([sys.executable, str(KILL_CHILD), str(root)], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    return child, time.monotonic()


def _finish(child: subprocess.Popen[str]) -> int:
    assert child.stdout is not None
    child.stdout.close()
    return child.wait(timeout=60)


def test_a_process_killed_mid_commit_leaves_the_store_as_before_or_as_after(tmp_path: Path) -> None:
    template = tmp_path / "template"
    build_base(template)
    before = fingerprint(template)

    finished = tmp_path / "finished"
    shutil.copytree(template, finished)
    child, started = _start_child(finished)
    assert _finish(child) == 0
    duration = time.monotonic() - started
    after = fingerprint(finished)
    assert FactStore(finished).stats().fact_rows > 80_000

    # The five victims run side by side to keep the test quick; each dies at its own random moment.
    delays = random.Random(20260127)
    roots = [tmp_path / f"killed-{attempt}" for attempt in range(5)]
    victims = []
    for root in roots:
        shutil.copytree(template, root)
        victims.append((*_start_child(root), delays.uniform(0, 1.5 * duration)))
    for child, started, delay in sorted(victims, key=lambda victim: victim[1] + victim[2]):
        time.sleep(max(0.0, started + delay - time.monotonic()))
        child.send_signal(signal.SIGKILL)
        assert _finish(child) in (0, -signal.SIGKILL)

    outcomes = []
    for attempt, root in enumerate(roots):
        store = FactStore(root)  # collects whatever the killed writer left
        assert store.verify() == []
        state = fingerprint(root)
        assert state in (before, after), f"kill {attempt} left a store that is neither before nor after"
        assert data_files(root) == expected_files(root)
        outcomes.append(state == after)
    # Not asserted: which kills landed after the commit point depends on the machine's speed.
    print(f"kills that landed after the commit point: {sum(outcomes)} of {len(outcomes)}")
