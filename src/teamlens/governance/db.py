"""Open the governance database with ``GovernanceDB(url)``; every write is one audited transaction.

SQLite (the default: one file in the data folder) and PostgreSQL (``postgresql+psycopg://…``)
are both supported. ``GovernanceDB`` creates missing tables itself; an installation that is
upgraded between teamlens versions runs ``teamlens.governance.upgrade(url)`` first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from teamlens.domain import Rho
from teamlens.errors import ConfigError, NoApprovedPolicy, PolicyError
from teamlens.governance import audit_log, ledger
from teamlens.governance import ingestions as ingestion_log
from teamlens.governance import objections as objection_list
from teamlens.governance import policy_versions as lifecycle
from teamlens.governance.migrate import upgrade
from teamlens.governance.policy_file import parse_policy
from teamlens.governance.policy_versions import IntegrityFailure
from teamlens.governance.records import (
    ActivePolicy,
    AuditEntry,
    AuditVerification,
    IngestionInfo,
    Party,
    PolicyVersionInfo,
    ReleaseInfo,
)
from teamlens.governance.tables import audit_head, metadata

#: The actor recorded when teamlens itself notices something (a tampered policy, say).
SYSTEM_ACTOR = "teamlens"


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class GovernanceDB:
    """The governance state: policy versions and approvals, the budget ledger, releases, audit log.

    ``clock`` returns the current time (aware); tests pass a fixed one. Methods that change
    anything append to the hash-chained audit log in the same transaction.
    """

    def __init__(
        self, url: str, *, create_tables: bool = True, clock: Callable[[], dt.datetime] = _utc_now
    ) -> None:
        self.url = url
        self._clock = clock
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

    def __enter__(self) -> GovernanceDB:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

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

    # -- policy lifecycle -------------------------------------------------------------------

    def propose(self, text: str, source: str, actor: str) -> PolicyVersionInfo:
        """Parse and store a policy version as ``proposed``; both parties must then approve it."""
        parsed = parse_policy(text, source)
        with self._write() as conn:
            return lifecycle.propose(conn, parsed, source, actor, self._now())

    def approve(
        self,
        policy_id: str,
        version: int,
        party: Party | str,
        approver: str,
        actor: str,
        *,
        sha256: str | None = None,
    ) -> PolicyVersionInfo:
        """Record one party's approval of a stored version; with both, it becomes ``active``.

        ``sha256``, when given, must be the hash of the text the approver reviewed: approving
        a text that changed since is refused. Approving twice by the same party is a no-op.
        """
        with self._write() as conn:
            return lifecycle.approve(
                conn, policy_id, version, _party(party), approver, actor, self._now(), sha256
            )

    def suspend(self, policy_id: str, party: Party | str, actor: str) -> PolicyVersionInfo:
        """Stop the active version of a policy at once; either party may do this alone (R3, R40)."""
        with self._write() as conn:
            return lifecycle.suspend(conn, policy_id, _party(party), actor, self._now())

    def active_policy(self) -> ActivePolicy | None:
        """Return the policy in force, re-verified against its text and both approvals; ``None`` if none.

        Raises ``errors.PolicyError`` (and logs it) when the stored record was altered (A16).
        """
        try:
            with self._read() as conn:
                return lifecycle.load_active(conn)
        except IntegrityFailure as failure:
            raise self._log_integrity_failure(failure) from None

    def require_active_policy(self, action: str) -> ActivePolicy:
        """Return the verified policy in force, or raise ``errors.NoApprovedPolicy`` naming ``action``."""
        active = self.active_policy()
        if active is None:
            raise NoApprovedPolicy(action)
        return active

    def policy_versions(self, policy_id: str | None = None) -> list[PolicyVersionInfo]:
        """List every stored version (of ``policy_id`` if given), by policy id and version."""
        with self._read() as conn:
            return lifecycle.all_versions(conn, policy_id)

    # -- budget ledger and release cache ------------------------------------------------------

    def spent(self, policy_id: str, period_start: dt.date) -> Rho:
        """Return the exact privacy budget already charged in one policy period."""
        with self._read() as conn:
            return ledger.spent(conn, policy_id, period_start)

    def released_cells(
        self, policy_id: str, period_start: dt.date, report_id: str, windows: Sequence[str]
    ) -> pa.Table:
        """Read the cached noisy totals of a report's ``windows`` (``domain.NOISY_SCHEMA``)."""
        with self._read() as conn:
            return ledger.cached_cells(conn, policy_id, period_start, report_id, windows)

    def released_keys(self, policy_id: str, period_start: dt.date, report_id: str) -> set[tuple[str, str]]:
        """Return the (window, metric) pairs of a report already released: free to show again."""
        with self._read() as conn:
            return ledger.released_keys(conn, policy_id, period_start, report_id)

    def record_release(
        self,
        *,
        release_id: str,
        active: ActivePolicy,
        report_id: str,
        spec_key: str,
        windows: Sequence[str],
        metrics: Sequence[str],
        rho: Rho,
        cells: pa.Table,
        actor: str,
        total_budget: Rho,
    ) -> ReleaseInfo:
        """Charge the ledger, cache ``cells`` and audit the release in one transaction.

        Re-checks inside the transaction that ``active`` is still the active version and that
        spent + ``rho`` ≤ ``total_budget``; raises ``BudgetExceeded`` (nothing written) if not.
        """
        with self._write() as conn:
            return ledger.record_release(
                conn,
                release_id=release_id,
                active=active,
                report_id=report_id,
                spec_key=spec_key,
                windows=windows,
                metrics=metrics,
                rho=rho,
                cells=cells,
                actor=actor,
                total_budget=total_budget,
                now=self._now(),
            )

    def releases(self, policy_id: str | None = None) -> list[ReleaseInfo]:
        """List every recorded release (of ``policy_id`` if given), oldest first."""
        with self._read() as conn:
            return ledger.all_releases(conn, policy_id)

    # -- ingestions and objections -----------------------------------------------------------

    def record_ingestion(
        self, content_hash: str, source: str, label: str, rows: int, actor: str
    ) -> IngestionInfo:
        """Record that an input with this content hash was ingested (audited without its label)."""
        with self._write() as conn:
            return ingestion_log.record(conn, content_hash, source, label, rows, actor, self._now())

    def ensure_ingestion_recorded(self, content_hash: str, source: str, label: str, actor: str) -> bool:
        """Record an input the fact store already holds if governance missed it; True if it did."""
        with self._write() as conn:
            return ingestion_log.ensure(conn, content_hash, source, label, actor, self._now())

    def ingestions(self) -> list[IngestionInfo]:
        """List every recorded ingestion, oldest first."""
        with self._read() as conn:
            return ingestion_log.all_ingestions(conn)

    def record_objection(self, pseudonym: str, actor: str) -> bool:
        """Exclude a worker's pseudonym from every later aggregate (R22); False if already excluded."""
        with self._write() as conn:
            return objection_list.record(conn, pseudonym, actor, self._now())

    def withdraw_objection(self, pseudonym: str, actor: str) -> bool:
        """Stop excluding a pseudonym (the worker withdrew the objection); False if it was not excluded."""
        with self._write() as conn:
            return objection_list.withdraw(conn, pseudonym, actor, self._now())

    def excluded_persons(self) -> frozenset[str]:
        """Return the pseudonyms every ingest and release must leave out; show them to no analyst."""
        with self._read() as conn:
            return objection_list.excluded(conn)

    # -- audit log -----------------------------------------------------------------------------

    def append_audit(self, actor: str, action: str, details: Mapping[str, object]) -> AuditEntry:
        """Append one entry to the audit log; ``details`` hold ids, hashes and counts, never personal data."""
        with self._write() as conn:
            return audit_log.append(conn, self._now(), actor, action, details)

    def verify_audit(self) -> AuditVerification:
        """Re-walk the audit chain and report the first entry that was altered or removed."""
        with self._read() as conn:
            return audit_log.verify(conn)

    def audit_entries(
        self, limit: int = 50, offset: int = 0, *, newest_first: bool = True
    ) -> list[AuditEntry]:
        """Read ``limit`` audit entries after skipping ``offset``; newest first unless told otherwise."""
        with self._read() as conn:
            return audit_log.entries(conn, limit, offset, newest_first=newest_first)

    def audit_head(self) -> tuple[int, str]:
        """Return the last entry's (seq, hash): what a signed checkpoint will commit to."""
        with self._read() as conn:
            row = conn.execute(sa.select(audit_head.c.seq, audit_head.c.hash)).one()
        return int(row.seq), str(row.hash)


def _party(party: Party | str) -> Party:
    try:
        return Party(party)
    except ValueError:
        raise PolicyError(
            f"'{party}' is not a party to a policy.", "The parties are 'employer' and 'representative'."
        ) from None


def _configure_sqlite(engine: sa.Engine) -> None:
    """Make SQLite enforce foreign keys and take its write lock when a write transaction begins."""

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # sqlite3's own transaction handling would BEGIN late (and never for SELECT); we issue BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        write = conn.get_execution_options().get("teamlens_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
