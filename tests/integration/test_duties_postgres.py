"""The data duties on PostgreSQL: rectification (R21), key rotation (R35), retention and disposal (R15).

The flows of ``test_rectification``, ``test_key_rotation`` and ``test_retention_clock`` with the
governance database on a PostgreSQL server (a schema of its own), read back with SQL on that server:
a correction is charged under a new release id that the recomputed windows carry; a rotation moves
the objection to the new key and leaves no old pseudonym in its tables; retention at three clock
points leaves nothing older than the policy allows, and the finished period's releases, ledger,
cells and measurements are deleted together. One organisation, built once, walks through all of it.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import pytest
import sqlalchemy as sa

from teamlens import services
from teamlens.pseudonymise import Pseudonymiser, load_key
from teamlens.services import key_rotation
from teamlens.services.rights import SignedInWorker
from teamlens.services.workspace import Workspace
from teamlens.settings import Settings

from .flow_support import Org, approve_policy, policy_text, signer
from .test_key_rotation import emails, problems
from .test_rectification import FROM, TO, worker_and_other_department
from .test_retention_clock import AFTER_PERIOD, EARLY, LATE, POLICY, leftovers, query

pytestmark = pytest.mark.postgres
POSTGRES_URL = os.environ.get("TEAMLENS_TEST_POSTGRES_URL", "")
PERIOD = dt.date(2025, 12, 29)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A schema of its own on the configured server, dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not configured: set TEAMLENS_TEST_POSTGRES_URL to run these tests against it")
    schema = f"tl_duties_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = sa.make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def released_on_postgres(root: Path, url: str) -> Org:
    """120 workers over 8 weeks under a 35-day retention; January and the first quarter released."""
    exports = root / "exports"
    synth = services.synthesise(exports, people=120, weeks=8, seed=3, start=PERIOD)
    ws = Workspace(
        Settings(data_dir=root / "data", key_file=root / "keys" / "pseudonym.key", database_url=url)
    )
    services.init(ws)
    built = Org(ws, exports, synth, root / "policy.toml")
    approve_policy(ws, policy_text(**{"retention_days = 400 ": "retention_days = 35  "}), built.policy_file)
    services.ingest(ws, [exports], actor="admin")
    services.release(ws, "department-monthly", ["2026-01"], actor="analyst")
    services.release(ws, "team-quarterly", ["2026-Q1"], actor="analyst")
    return built


@pytest.fixture
def org(tmp_path: Path, postgres_url: str) -> Iterator[Org]:
    built = released_on_postgres(tmp_path, postgres_url)
    try:
        yield built
    finally:
        built.ws.governance.close()  # its pooled connections, before the schema is dropped


def test_rectification_rotation_and_retention_hold_on_postgresql(org: Org) -> None:
    assert org.ws.settings.governance_url.startswith("postgresql")

    # R21: the correction is charged, and the recomputed windows carry its release id.
    email, department = worker_and_other_department(org)
    before = dict(query(org, "SELECT release_id, rho_numerator FROM ledger"))
    done = services.rectification.rectify(
        org.ws, email, level="department", group=department, start=FROM, end=TO,
        by=signer(org.ws, "dpo"), actor="dpo",
    )  # fmt: skip
    assert done.release_id is not None and done.rho is not None and done.rho.value > 0
    ledger = {r: Fraction(int(n), int(d)) for r, n, d in query(org, "SELECT release_id, rho_numerator, "
                                                                "rho_denominator FROM ledger")}  # fmt: skip
    assert set(ledger) - set(before) == {done.release_id} and ledger[done.release_id] == done.rho.value
    carried = query(org, "SELECT DISTINCT release_id FROM report_cells WHERE window_key = '2026-01'")
    assert carried == [(done.release_id,)]

    # R35: a rotation moves the objection and leaves no old pseudonym in the server's tables.
    addresses = emails(org)
    old_key = load_key(org.ws.settings.key_file)
    objector = services.rights.pseudonym_of(org.ws, addresses[0])
    services.rights.object_to_processing(org.ws, SignedInWorker(objector))
    key_rotation.rotate(org.ws, org.synth.directory_csv, actor="admin")
    old = {Pseudonymiser(old_key)(address) for address in addresses}
    assert not old & {row[0] for row in query(org, "SELECT pseudonym FROM objections")}
    assert problems(org, old_key, addresses) == []
    assert query(org, "SELECT pseudonym FROM objections") == [
        (services.rights.pseudonym_of(org.ws, addresses[0]),)
    ]

    # R15: three clock points, then the period's aggregates and ledger go together.
    for today in (EARLY, LATE):
        services.run_retention(org.ws, actor="scheduler", today=today)
        assert leftovers(org, today) == []
    after = services.run_retention(org.ws, actor="scheduler", today=AFTER_PERIOD)
    assert leftovers(org, AFTER_PERIOD) == []
    (period,) = after.periods
    assert period.counts["releases"] == 3 and period.counts["ledger"] == 3
    assert query(org, "SELECT count(*) FROM releases") == [(0,)]
    assert org.ws.governance.verify_audit().ok
    org.ws.governance.check_books(POLICY, PERIOD)  # the disposal is on record: no mismatch
