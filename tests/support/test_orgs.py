"""The organisation copies tests get: what one test does to its copy reaches no other test, and a
test that writes into what the copies share (the built folder, the exports) is failed."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from teamlens import services

from ..integration.flow_support import Org, build_org
from .orgs import OrgCache


def tiny(root: Path) -> Org:
    """20 synthetic workers over one week, ingested."""
    org = build_org(root, people=20, weeks=1)
    services.ingest(org.ws, [org.exports], actor="admin")
    return org


def first_email(org: Org) -> str:
    with open(org.synth.directory_csv, encoding="utf-8") as handle:
        return next(csv.DictReader(handle))["Email"]


def test_what_a_copy_changes_reaches_neither_the_build_nor_another_copy(tmp_path: Path) -> None:
    cache = OrgCache(tmp_path / "cache")
    with cache.copy(tiny, tmp_path / "a") as a, cache.copy(tiny, tmp_path / "b") as b:
        email = first_email(a)
        person = a.ws.pseudonymiser()(email)
        assert b.ws.pseudonymiser()(email) == person  # the same key, so the same pseudonyms
        assert a.ws.store.person_facts(person).num_rows > 0
        assert a.ws.store.erase_person(person) > 0
        assert a.ws.store.person_facts(person).num_rows == 0
        assert b.ws.store.person_facts(person).num_rows > 0
        services.release(a.ws, "department-monthly", ["2026-01"], actor="analyst")
        assert len(a.ws.governance.releases()) == 1
        assert b.ws.governance.releases() == []
        assert a.ws.settings.data_dir != b.ws.settings.data_dir != cache.built(tiny).org.ws.settings.data_dir
        assert a.exports == b.exports  # shared, read-only
    assert not (tmp_path / "a").exists()  # a copy is removed when its test is done
    with cache.copy(tiny, tmp_path / "c") as c:
        assert c.ws.store.person_facts(person).num_rows > 0
    assert len(list((tmp_path / "cache").iterdir())) == 1  # built once


def test_teeth_a_test_that_edits_the_shared_exports_is_failed(tmp_path: Path) -> None:
    cache = OrgCache(tmp_path / "cache")
    copy = cache.copy(tiny, tmp_path / "a")
    org = copy.__enter__()
    with org.synth.directory_csv.open("a", encoding="utf-8") as handle:
        handle.write("a row no other test expects\n")
    with pytest.raises(pytest.fail.Exception, match="was changed by this test"):
        copy.__exit__(None, None, None)
