"""A8 — re-identification of pseudonymised data (dictionary and linkage attacks).

(a) An insider with a copy of the data folder and the staff list hashes every address (SHA-256,
of the address as written and lower-cased; HMAC with an empty key; MD5) and looks for the
results among the stored bytes and the decoded values of every Parquet file: 0 matches, since
pseudonyms are HMACs under a key kept outside the data folder. Teeth: with a plain SHA-256
"pseudonymiser" every worker is matched. (b) Every group a report can show holds at least k
people (R12) — see the xfail: suppression is decided on the noisy headcount, so a 5-person team
is sometimes shown (about 3% of releases under the template policy, whose period-long headcount
span gives team sizes a noise SD of about 2.6 people). (c) No e-mail address in any per-person
file, raw or decoded. Teeth: with no pseudonymisation, the addresses are there.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from teamlens.domain import HEADCOUNT, Cadence, GroupLevel, Window
from teamlens.privacy import ReleaseSpec
from teamlens.services import Workspace

from ..integration.flow_support import files_under
from .conftest import Installation, install
from .games import TEAM
from .harness import directory, members_at
from .replicas import renamed, replicate, store_truth, sub_strategy

EMAIL = re.compile(rb"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def _guesses(email: str) -> list[bytes]:
    out = []
    for form in {email, email.lower(), email.strip().lower()}:
        data = form.encode()
        out += [
            hashlib.sha256(data).hexdigest().encode(),
            hashlib.sha256(data).digest(),
            hmac.new(b"", data, hashlib.sha256).hexdigest().encode(),
            hashlib.md5(data).hexdigest().encode(),  # noqa: S324 (a guess an attacker would try)
        ]
    return out


def stored_values(path: Path) -> bytes:
    """A file's bytes and, for a Parquet file, every value in it decoded (compression can hide a
    stored string from a search of the raw bytes; an insider simply reads the file)."""
    parts = [path.read_bytes()]
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        parts += [str(value).encode() for column in table.columns for value in column.to_pylist()]
    return b"\n".join(parts)


def dictionary_matches(installation: Installation) -> tuple[int, int]:
    """How many staff addresses have a hash guess among the stored values, of how many staff."""
    staff = directory(installation.org.synth.directory_csv)["Email"].str.lower().unique()
    blob = b"\n".join(stored_values(path) for path in files_under(installation.ws.settings.data_dir))
    return sum(1 for email in staff if any(guess in blob for guess in _guesses(email))), len(staff)


@pytest.mark.attack("A8")
def test_a8_hashing_the_staff_list_matches_no_stored_pseudonym(pristine: Installation, measure) -> None:
    matches, staff = dictionary_matches(pristine)
    measure(a8_dictionary_matches=matches, a8_staff=staff)
    assert staff > 100
    assert matches == 0


def _sha256_pseudonymiser(self: Workspace):
    return lambda identifier: hashlib.sha256(identifier.strip().lower().encode()).hexdigest()


@pytest.mark.attack("A8", teeth=True)
def test_a8_teeth_unkeyed_sha256_pseudonyms_are_all_matched(
    small_exports: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, measure
) -> None:
    monkeypatch.setattr(Workspace, "pseudonymiser", _sha256_pseudonymiser)
    exports = tmp_path / "exports"
    shutil.copytree(small_exports, exports)
    installation = install(tmp_path / "install", exports)
    matches, staff = dictionary_matches(installation)
    measure(a8_teeth_matches=matches, a8_teeth_staff=staff)
    assert matches == staff  # every worker, as the directory names them all


def _person_files(installation: Installation) -> list[Path]:
    return [p for p in files_under(installation.ws.settings.facts_dir) if p.suffix == ".parquet"]


@pytest.mark.attack("A8")
def test_a8_no_email_address_in_per_person_files(pristine: Installation, measure) -> None:
    files = _person_files(pristine)
    found = sorted({m.decode() for p in files for m in EMAIL.findall(stored_values(p))})
    measure(a8_person_files=len(files), a8_addresses_found=len(found))
    assert len(files) >= 2
    assert found == []


@pytest.mark.attack("A8", teeth=True)
def test_a8_teeth_without_pseudonymisation_addresses_are_stored(
    small_exports: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        Workspace, "pseudonymiser", lambda self: lambda identifier: identifier.strip().lower()
    )
    exports = tmp_path / "exports"
    shutil.copytree(small_exports, exports)
    installation = install(tmp_path / "install", exports)
    assert any(EMAIL.search(stored_values(p)) for p in _person_files(installation))


@pytest.mark.attack("A8")
@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="R12 conflict: suppression uses the noisy headcount (DESIGN), so a team with fewer than k "
    "true members is shown whenever its noisy size reaches k (about 3% of releases for a 5-person "
    "team under the template policy); DP still bounds what it reveals",
)
def test_a8_every_group_shown_has_at_least_k_true_members(pristine: Installation, policy, measure) -> None:
    window = Window(Cadence.QUARTER, "2026-Q1")
    teams = members_at(directory(pristine.org.synth.directory_csv), window.start, "Team")
    small = min(teams, key=lambda name: len(teams[name]))
    strategy = sub_strategy(policy, metrics=["emails_sent"], levels=[GroupLevel.TEAM])
    spec = ReleaseSpec.build(policy, "team-quarterly", ["2026-Q1"], ["emails_sent"])
    blocks = strategy.blocks_for(spec.windows)
    truth = renamed(store_truth(pristine.ws, strategy, blocks), {("team", small): "T"})
    assert truth[("team", "T", blocks[0].start, HEADCOUNT)] < policy.min_group_size * blocks[0].n_weeks
    cell = replicate(strategy, blocks, TEAM, truth, 2_000).release(spec)[("T", "2026-Q1", "emails_sent")]
    shown = int((~np.isnan(cell.value)).sum())
    measure(a8_small_team_size=len(teams[small]), a8_small_team_shown_of_2000=shown)
    assert shown == 0
