"""The Alembic revisions build exactly the schema ``GovernanceDB`` uses, with its safety constraints."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from teamlens.errors import ConfigError
from teamlens.governance import GovernanceDB, Party, PolicyState, current_revision, upgrade
from teamlens.governance.migrate import CREATE_ALL_REVISION
from teamlens.governance.tables import metadata

from .helpers import activate


def schema_differences(url: str) -> list[object]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return list(compare_metadata(MigrationContext.configure(conn), metadata))
    finally:
        engine.dispose()


def test_upgrade_builds_the_models_schema(database_url: str) -> None:
    assert current_revision(database_url) is None
    upgrade(database_url)
    assert current_revision(database_url) == CREATE_ALL_REVISION
    assert schema_differences(database_url) == []
    upgrade(database_url)  # a second run has nothing to do
    assert current_revision(database_url) == CREATE_ALL_REVISION


def test_a_migrated_database_works_and_keeps_its_constraints(database_url: str, template: str) -> None:
    upgrade(database_url)
    with GovernanceDB(database_url, create_tables=False) as db:
        active = activate(db, template)
        assert active.policy.min_group_size == 10
        assert db.verify_audit().entries == 9  # with the key registration
    engine = sa.create_engine(database_url)
    try:
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(sa.text("UPDATE policy_versions SET min_group_size = 4"))
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(sa.text("UPDATE policy_versions SET state = 'enabled'"))
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(sa.text("UPDATE approvals SET party = 'manager'"))
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO audit_head (head_id, seq, hash) VALUES (2, 0, 'x')"))
    finally:
        engine.dispose()


def test_a_database_made_by_create_all_is_adopted_by_alembic(database_url: str, template: str) -> None:
    with GovernanceDB(database_url) as db:
        activate(db, template)
    assert current_revision(database_url) is None
    upgrade(database_url)
    assert current_revision(database_url) == CREATE_ALL_REVISION
    with GovernanceDB(database_url, create_tables=False) as db:
        [info] = db.policy_versions()
        assert info.state is PolicyState.ACTIVE
        assert {approval.party for approval in info.approvals} == set(Party)
        assert db.verify_audit().ok


def test_opening_an_unmigrated_database_without_creating_tables_says_what_to_do(database_url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        GovernanceDB(database_url, create_tables=False)
    assert "Cannot open the governance database" in caught.value.message
    assert "teamlens init" in caught.value.hint


def test_a_password_in_the_url_is_not_shown() -> None:
    with pytest.raises(ConfigError) as caught:
        GovernanceDB("postgresql+psycopg://ann:s3cret@127.0.0.1:1/none?connect_timeout=1")
    assert "s3cret" not in str(caught.value)
    assert "***" in caught.value.message


def test_a_database_at_the_first_revision_is_upgraded_with_its_policies_kept(
    database_url: str, template: str
) -> None:
    upgrade(database_url, "0001_initial")
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO policy_versions (policy_id, version, title, toml, sha256, state, source,"
                    " proposed_by, created_at, state_changed_at, min_group_size) VALUES ('old', 1, 't',"
                    " 'x', 'h', 'proposed', 's', 'a', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 10)"
                )
            )
    finally:
        engine.dispose()
    upgrade(database_url)
    assert current_revision(database_url) == CREATE_ALL_REVISION
    assert schema_differences(database_url) == []
    with GovernanceDB(database_url, create_tables=False) as db:
        assert [info.policy_id for info in db.policy_versions()] == ["old"]
        assert db.consultation("old", 1).entries == ()


def every_revision() -> list[str]:
    """Every schema revision the migrations folder holds, oldest first."""
    config = Config()
    config.set_main_option("script_location", "teamlens.governance:migrations")
    return [
        script.revision for script in reversed(list(ScriptDirectory.from_config(config).walk_revisions()))
    ]


@pytest.mark.parametrize("built", every_revision())
def test_a_database_an_older_create_all_built_is_recognised_at_its_revision_and_upgraded(
    database_url: str, built: str
) -> None:
    """Older teamlens built the tables with create_all and no version table: ``upgrade`` works out
    which revision those tables are from by what they have, then applies only the later ones."""
    upgrade(database_url, built)
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE alembic_version"))
    finally:
        engine.dispose()
    assert current_revision(database_url) is None
    upgrade(database_url)  # a wrong guess would re-create an existing table or miss a column
    assert current_revision(database_url) == every_revision()[-1] == CREATE_ALL_REVISION
    assert schema_differences(database_url) == []
