"""The connection handling every part of ``GovernanceDB`` shares: engine, transactions, clock."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from teamlens.errors import ConfigError
from teamlens.governance import audit_log
from teamlens.governance.migrate import upgrade
from teamlens.governance.policy_integrity import IntegrityFailure
from teamlens.governance.tables import metadata

#: The actor recorded when teamlens itself notices something (a tampered policy, say).
SYSTEM_ACTOR = "teamlens"


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class _Core:
    """Open the database, run reads and audited writes, and tell the time.

    ``clock`` returns the current time (aware); tests pass a fixed one.
    """

    def __init__(
        self, url: str, *, create_tables: bool = True, clock: Callable[[], dt.datetime] = _utc_now
    ) -> None:
        self.url = url
        self._clock = clock
        private_database_file(url)
        self._engine = sa.create_engine(url)
        if self._engine.dialect.name == "sqlite":
            _configure_sqlite(self._engine)
        try:
            if create_tables:
                metadata.create_all(self._engine)
            with self._write() as conn:
                audit_log.lock_head(conn)  # creates the chain's head row on a new database
        except sa.exc.SQLAlchemyError as error:
            self._engine.dispose()
            where = sa.make_url(url).render_as_string(hide_password=True)
            raise ConfigError(
                f"Cannot open the governance database {where} ({type(error).__name__}).",
                "Check TEAMLENS_DATABASE_URL and that the server is reachable; for an existing "
                "installation run `teamlens init` to bring its schema up to date.",
            ) from error

    def initialise(self) -> None:
        """Bring the schema to the current Alembic revision; safe to run on every start-up.

        Uses a connection of its own, so an in-memory ``sqlite://`` database is not supported here.
        """
        upgrade(self.url)

    def close(self) -> None:
        """Release every database connection."""
        self._engine.dispose()

    def now(self) -> dt.datetime:
        """The current time in UTC by this database's clock (the one its records are stamped with)."""
        return self._now()

    def _now(self) -> dt.datetime:
        return self._clock().astimezone(dt.UTC)

    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        # Every write starts by locking the audit head: writers queue there on PostgreSQL, and
        # SQLite's BEGIN IMMEDIATE (see _configure_sqlite) takes the file's write lock up front.
        with self._engine.connect() as conn:
            conn.execution_options(teamlens_write=True)
            try:
                with conn.begin():
                    audit_log.lock_head(conn)
                    yield conn
            except IntegrityFailure as failure:
                raise self._log_integrity_failure(failure) from None

    @contextmanager
    def _unaudited_write(self) -> Iterator[sa.Connection]:
        # Web sessions change on every request and are not governance decisions: they do not
        # queue behind the audit head (SQLite still takes its file write lock, briefly).
        with self._engine.connect() as conn:
            conn.execution_options(teamlens_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        with self._engine.connect() as conn, conn.begin():
            yield conn

    def _log_integrity_failure(self, failure: IntegrityFailure) -> Exception:
        # Logged in a transaction of its own: the refused operation's transaction was rolled back.
        with self._engine.connect() as conn:
            conn.execution_options(teamlens_write=True)
            with conn.begin():
                audit_log.append(conn, self._now(), SYSTEM_ACTOR, "policy.integrity_failure", failure.details)
        return failure.to_policy_error()


def private_database_file(url: str) -> None:
    """Create a SQLite database file owner-only (0600) before SQLite does, or narrow an existing one.

    SQLite gives its journal and WAL files the database file's mode, so they follow. Other
    databases keep their files on their server, where this has nothing to do.
    """
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return
    if parsed.database.startswith("file:"):
        return  # a URI filename: its options are SQLite's to interpret
    path = parsed.database
    if not os.path.exists(path):
        if not os.path.isdir(os.path.dirname(os.path.abspath(path))):
            return  # SQLite will say that the folder is missing
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    elif os.stat(path).st_mode & 0o077:
        os.chmod(path, 0o600)


def _configure_sqlite(engine: sa.Engine) -> None:
    """Make SQLite enforce foreign keys and take its write lock when a write transaction begins."""

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # sqlite3's own transaction handling would BEGIN late (and never for SELECT); we issue BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 30000")
        # Deleted rows are overwritten with zeros, not left in free pages (R15: retention deletes).
        cursor.execute("PRAGMA secure_delete = ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        write = conn.get_execution_options().get("teamlens_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
