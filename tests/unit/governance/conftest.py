"""Fixtures for governance tests: a policy text, and a fresh database on SQLite and PostgreSQL.

PostgreSQL runs when ``TEAMLENS_TEST_POSTGRES_URL`` names a server (for example
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``); each test gets a schema of its own.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from teamlens.governance import ActivePolicy, GovernanceDB, policy_template

from .helpers import SteppingClock, activate

POSTGRES_URL = os.environ.get("TEAMLENS_TEST_POSTGRES_URL", "")


@pytest.fixture
def template() -> str:
    """The template with the bounds these tests were written against, so tuning the demo's
    bounds and retention does not rewrite the parser tests."""
    text = policy_template()
    for tuned, tested in (
        ("retention_days = 400                 #", "retention_days = 35                  #"),
        (
            'rho = "1.5"                          # zCDP budget per person for the period (about epsilon 10)',
            'rho = "2.0"                          # zCDP budget per person for the period, as exact text',
        ),
        ('name = "emails_sent"\nper_week = 100', 'name = "emails_sent"\nper_week = 400'),
        ('name = "emails_received"\nper_week = 300', 'name = "emails_received"\nper_week = 1500'),
        ('name = "chat_messages"\nper_week = 200', 'name = "chat_messages"\nper_week = 1500'),
        ('name = "meetings_attended"\nper_week = 25', 'name = "meetings_attended"\nper_week = 40'),
        (
            "per_week = 20                        # hours per week (stored as 1,200 minutes)",
            "per_week = 40                        # hours per week (stored as 2,400 minutes)",
        ),
        ('budget_share = "0.65"', 'budget_share = "0.6"'),
        ('bounds_share = "0.05"', 'bounds_share = "0"'),
        ('budget_share = "0.3"', 'budget_share = "0.4"'),
    ):
        assert tuned in text, tuned
        text = text.replace(tuned, tested)
    return text


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/governance.sqlite"
        return
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not configured: set TEAMLENS_TEST_POSTGRES_URL to run these tests against it")
    schema = f"tl_test_{uuid.uuid4().hex[:12]}"
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


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock(dt.datetime(2026, 2, 2, 9, 0, tzinfo=dt.UTC))


@pytest.fixture
def db(database_url: str, clock: SteppingClock) -> Iterator[GovernanceDB]:
    with GovernanceDB(database_url, clock=clock) as governance:
        yield governance


@pytest.fixture
def raw(database_url: str) -> Iterator[sa.Engine]:
    """A second engine on the same database, for changing rows behind teamlens' back."""
    engine = sa.create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def active(db: GovernanceDB, template: str) -> ActivePolicy:
    return activate(db, template)
