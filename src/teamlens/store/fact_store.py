"""The fact store: person-period facts and the HR directory, as month-partitioned Parquet files.

Open one with ``FactStore(data_dir / "facts")``. Ingestion commits a batch (``commit``); the
release engine asks for clipped weekly totals per level and group (``aggregate_block``,
``structure``, ``groups``); retention and a
worker's rights are served by ``expire``, ``person_facts``, ``person_directory`` and
``erase_person``. Every change is atomic: a crash at any instant leaves the store as before or
as after, never between (see ``_transaction``).
"""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from teamlens.domain import DIRECTORY_SCHEMA, FACT_SCHEMA, HIDDEN_PREFIX, GroupLevel
from teamlens.errors import StoreError
from teamlens.store import _aggregate, _collaboration, _expiry, _histogram, _merge, _rectify
from teamlens.store._aggregate import MetricClip
from teamlens.store._block_reader import BlockReader
from teamlens.store._duck import (
    COMMIT_MEMORY_LIMIT,
    connect,
    parquet_rows,
    read_table,
    stream,
    view_parquet,
    write_parquet,
)
from teamlens.store._files import StoreCipher, make_dir, register_cipher, reported_as_store_errors
from teamlens.store._ingest import checked_directory, stage_facts
from teamlens.store._locks import shared_read, try_writer_lock
from teamlens.store._manifest import STAGING_DIR, Manifest, load
from teamlens.store._transaction import Transaction, collect_if_idle, transaction
from teamlens.store._verify import verify_store
from teamlens.store.summaries import BatchInfo, CommitSummary, StoreFiles, StoreStats

#: How long a writer waits for another writer by default: long enough for a large ingest.
DEFAULT_LOCK_TIMEOUT = 600.0

_PERSON_FACTS_SQL = """
SELECT person, day, days, metric, value, source FROM facts WHERE person = $person
ORDER BY day, metric, source, days
"""


class FactStore:
    """Keep person-period facts and the HR directory under one folder; every change is all-or-nothing.

    ``root`` is ``<data_dir>/facts``; it is created if missing. Opening the store removes the
    leftovers of interrupted writes when no other process is using it. ``lock_timeout`` is
    how many seconds a change waits for another process's change before giving up.
    ``encryption_key`` (32 bytes, kept outside the data folder) encrypts every Parquet file the
    store writes; a store is encrypted or not from its first commit on, and opening it the other
    way is refused.
    """

    def __init__(
        self, root: Path, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT, encryption_key: bytes | None = None
    ) -> None:
        self.root = Path(root)
        self.lock_timeout = lock_timeout
        self.encrypted = encryption_key is not None
        with reported_as_store_errors(self.root, "open"):
            make_dir(self.root)
            _check_encryption(self.root, load(self.root), self.encrypted)
            register_cipher(self.root, None if encryption_key is None else StoreCipher(encryption_key))
            with try_writer_lock(self.root) as writer:
                # Another process's half-written files look like garbage: only collect when alone.
                if writer:
                    collect_if_idle(self.root, load(self.root))

    def __repr__(self) -> str:
        return f"FactStore({str(self.root)!r})"

    # -- reading ---------------------------------------------------------------------------

    @contextmanager
    def _reading(self) -> Iterator[Manifest]:
        """Read the current manifest; the files it names are kept until the block ends."""
        with reported_as_store_errors(self.root, "read"), shared_read(self.root):
            yield load(self.root)

    @property
    def batches(self) -> dict[str, BatchInfo]:
        """Look up what was ingested: every committed batch by content hash, with when and how many rows."""
        return dict(load(self.root).batches)

    def has_batch(self, content_hash: str) -> bool:
        """Check whether a batch with this content hash is committed (ingesting it again is a no-op)."""
        return content_hash in load(self.root).batches

    def aggregate_block(
        self,
        *,
        levels: Sequence[str],
        weeks: Sequence[dt.date],
        clips: Mapping[str, MetricClip],
        headcount: bool,
        exclude: Collection[str] = (),
    ) -> pa.Table:
        """Compute one clipping block's fixed-point totals per level, group and week.

        Returns a ``BLOCK_AGGREGATE_SCHEMA`` table.

        Each week, each person counts in the group the directory gives them that Monday (or a
        hidden key when it gives none at a level; everyone with a fact counts at organisation
        level). Their weekly values of a metric are clipped together over the block to the
        L2 bound in ``clips`` and scaled to fixed point. With ``headcount``, each group also
        gets its person-weeks in the block. People in ``exclude`` (objectors) are removed
        before anything is counted. Groups without members have no rows.
        """
        with self.block_reader() as reader:
            return reader.aggregate_block(
                levels=levels, weeks=weeks, clips=clips, headcount=headcount, exclude=exclude
            )

    @contextmanager
    def block_reader(self) -> Iterator[BlockReader]:
        """Measure many blocks from one snapshot: one DuckDB, the directory read once (``_block_reader``)."""
        with self._reading() as manifest, connect(self.root) as con:
            files = {month: self.root / path for month, path in manifest.months.items()}
            yield BlockReader(con, month_files=files, directory=manifest.directory_file(self.root))

    @contextmanager
    def files(self) -> Iterator[StoreFiles]:
        """Hold the current generation's Parquet files for another engine to read until the block ends.

        No file named is deleted while the block runs (a read lease, as for every query here).
        """
        with self._reading() as manifest:
            yield StoreFiles(
                months={month: self.root / path for month, path in manifest.months.items()},
                directory=manifest.directory_file(self.root),
                encrypted=manifest.encrypted or self.encrypted,
            )

    @contextmanager
    def staging_area(self) -> Iterator[Path]:
        """A fresh private folder inside the store for another engine to stage files in, for the block.

        While the block runs the folder is kept (a read lease: garbage collection waits); a
        process killed inside it leaves the folder as garbage, removed when the store is next
        opened or changed with no one reading. Staged files are never part of the store until
        ``commit`` copies their rows in.
        """
        with shared_read(self.root):
            folder = self.root / STAGING_DIR / uuid.uuid4().hex
            with reported_as_store_errors(self.root, "stage files in"):
                make_dir(folder)
            try:
                yield folder
            finally:
                shutil.rmtree(folder, ignore_errors=True)

    def structure(self, *, levels: Sequence[str], first_day: dt.date, end_day: dt.date) -> pa.Table:
        """The organisation chart for [first_day, end_day): which coarser group holds each group."""
        with self.block_reader() as reader:
            return reader.structure(levels=levels, first_day=first_day, end_day=end_day)

    def rms_histogram(
        self, *, weeks: Sequence[dt.date], edges: Mapping[str, Sequence[float]], exclude: Collection[str] = ()
    ) -> dict[str, list[int]]:
        """Per metric, how many people's weekly root-mean-square over ``weeks`` falls in each bin."""
        with self._reading() as manifest:
            files = {month: self.root / path for month, path in manifest.months.items()}
            with connect(self.root) as con:
                return _histogram.rms_histogram(
                    con,
                    month_files=files,
                    directory=manifest.directory_file(self.root),
                    weeks=weeks,
                    edges=edges,
                    exclude=exclude,
                )

    def groups(self, level: str) -> list[str]:
        """List every key of ``level`` in the directory's whole history, hidden keys included, sorted.

        The release engine adds noise to every one of these groups, present or not in a block,
        so that a group's absence never reveals anything. Hidden keys (people the directory
        does not place at this level) start with ``HIDDEN_PREFIX`` and are never shown.
        """
        if _aggregate.level_column(level) is GroupLevel.ORGANISATION:
            return [_aggregate.ORGANISATION_GROUP]
        with self.block_reader() as reader:
            return reader.groups(level)

    def group_sizes(self, level: str, week: dt.date, exclude: Collection[str] = ()) -> dict[str, int]:
        """Exact sizes of every shown group of ``level`` in the week starting ``week``.

        For the planner's forecast only: callers must not publish these numbers as they are.
        """
        table = self.aggregate_block(levels=[level], weeks=[week], clips={}, headcount=True, exclude=exclude)
        sizes = zip(table.column("group").to_pylist(), table.column("total").to_pylist(), strict=True)
        return {group: int(total) for group, total in sizes if not group.startswith(HIDDEN_PREFIX)}

    def person_facts(self, person: str) -> pa.Table:
        """Export every fact stored about one pseudonym (``FACT_SCHEMA``), for that worker's own request."""
        with self._reading() as manifest:
            files = [self.root / path for _, path in sorted(manifest.months.items())]
            with connect(self.root) as con:
                view_parquet(con, "facts", files, FACT_SCHEMA)
                table = stream(con, _PERSON_FACTS_SQL, {"person": person}).read_all()
        return table.cast(FACT_SCHEMA)

    def person_edges(self, person: str) -> list[dict[str, object]]:
        """One pseudonym's own collaboration activity per day and kind, for that worker's own request.

        What they sent (or the meeting time they spent) and with how many colleagues; never whom:
        the partners' pseudonyms stay in the store, and others' rows towards them are others' data.
        """
        with self._reading() as manifest:
            tables = [_collaboration.read_edges(self.root / path) for path in manifest.edges.values()]
        return _collaboration.own_summary(tables, person)

    def person_directory(self, person: str) -> pa.Table:
        """Export one pseudonym's directory rows (``DIRECTORY_SCHEMA``), for that worker's own request."""
        with self._reading() as manifest:
            directory = manifest.directory_file(self.root)
            if directory is None:
                return DIRECTORY_SCHEMA.empty_table()
            wanted = [("person", "=", person)]
            table = read_table(directory, columns=DIRECTORY_SCHEMA.names, filters=wanted)
        return table.cast(DIRECTORY_SCHEMA)

    def stats(self) -> StoreStats:
        """Count rows, months, batches and bytes on disk for health pages; holds no personal data."""
        with self._reading() as manifest:
            month_paths = [self.root / path for path in manifest.months.values()]
            directory = manifest.directory_file(self.root)
            files = [*month_paths, *([directory] if directory else [])]
            return StoreStats(
                generation=manifest.generation,
                fact_rows=sum(parquet_rows(path) for path in month_paths),
                months=tuple(sorted(manifest.months)),
                batches=len(manifest.batches),
                directory_rows=parquet_rows(directory) if directory else 0,
                bytes=sum(path.stat().st_size for path in files),
            )

    def verify(self) -> list[str]:
        """Check the files against the manifest and the store's invariants; returns problems (none: healthy).

        Problems name files, columns and counts only, never a pseudonym or a value.
        """
        with shared_read(self.root):
            return verify_store(self.root)

    # -- changing --------------------------------------------------------------------------

    def commit(
        self,
        *,
        content_hash: str,
        source: str,
        label: str,
        facts: Iterable[pa.RecordBatch] | pa.Table | None = None,
        directory: pa.Table | None = None,
        edges: pa.Table | None = None,
    ) -> CommitSummary:
        """Add one ingested batch atomically; a batch whose ``content_hash`` is already stored is skipped.

        ``facts`` (``FACT_SCHEMA``; a table or a stream of record batches of any length) are
        upserted: a fact replaces any stored fact with the same ``FACT_KEY``, so re-ingesting an
        overlapping export never double-counts. Within one batch, the last row of a key wins and
        the others are counted in ``duplicate_keys``. ``directory`` (``DIRECTORY_SCHEMA``), when
        given, replaces the whole stored directory. Only the months the facts touch are rewritten.
        ``edges`` (``EDGE_SCHEMA``: the collaboration network's rows) are upserted in the same
        change: they replace every stored edge row of the same person, day and kind.
        """
        with reported_as_store_errors(self.root, "change"), transaction(self.root, self.lock_timeout) as tx:
            if content_hash in tx.base.batches:
                return CommitSummary(content_hash, already_present=True, generation=tx.base.generation)
            received, merges = (0, {}) if facts is None else self._upsert(tx, facts)
            if edges is not None:
                self._upsert_edges(tx, edges)
            directory_rows = None
            if directory is not None:
                directory_rows = self._write_directory(tx, checked_directory(directory))
            tx.batches[content_hash] = BatchInfo(
                content_hash=content_hash,
                source=source,
                label=label,
                rows=received,
                committed_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
            )
            manifest = tx.publish()
        return CommitSummary(
            content_hash=content_hash,
            already_present=False,
            generation=manifest.generation,
            rows_received=received,
            duplicate_keys=sum(merge.dropped for merge in merges.values()),
            rows_added=sum(merge.incoming - merge.replaced for merge in merges.values()),
            rows_replaced=sum(merge.replaced for merge in merges.values()),
            months_rewritten=tuple(sorted(merges)),
            directory_rows=directory_rows,
        )

    def _upsert(
        self, tx: Transaction, facts: Iterable[pa.RecordBatch] | pa.Table
    ) -> tuple[int, dict[str, _merge.MonthMerge]]:
        staging = self.root / STAGING_DIR / uuid.uuid4().hex
        make_dir(staging)
        try:
            staged = stage_facts(facts, staging)
            # Hand the reader's freed Arrow buffers back before DuckDB takes its share of memory.
            pa.default_memory_pool().release_unused()
            merges: dict[str, _merge.MonthMerge] = {}
            with connect(self.root, COMMIT_MEMORY_LIMIT) as con:
                if staged.people is not None:
                    _merge.load_people(con, staged.people)
                for month, staged_file in sorted(staged.months.items()):
                    current = tx.base.month_file(self.root, month)
                    out = tx.new_month_file(month)
                    merges[month] = _merge.merge_month(con, staged_file, current, out)
            return staged.received, merges
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _upsert_edges(self, tx: Transaction, edges: pa.Table) -> None:
        _collaboration.upsert(self.root, tx, edges)

    def _keep_edges(self, tx: Transaction, keep: Callable[[pa.Table], pa.Table]) -> int:
        """Rewrite the edge months where ``keep`` drops rows; returns how many rows were dropped."""
        return _collaboration.keep(self.root, tx, keep)

    def network_block(
        self,
        *,
        level: GroupLevel,
        weeks: Sequence[dt.date],
        kinds: Collection[str],
        bound: float,
        scale: int,
        exclude: Collection[str] = (),
    ) -> pa.Table:
        """One block's clipped fixed-point network totals per ordered pair of ``level``'s groups.

        Edge rows of ``kinds`` in ``weeks``, objectors (``exclude``) removed at both ends, clipped
        and placed as ``_collaboration.network_block`` says; never a row per person.
        """
        with self._reading() as manifest:
            months = _collaboration.months_of(weeks)
            files = [self.root / path for month, path in sorted(manifest.edges.items()) if month in months]
            edges = _collaboration.block_edges(files, weeks, exclude)
            edges = edges.filter(pc.is_in(edges["source"], pa.array(sorted(kinds), pa.string())))
            directory = manifest.directory_file(self.root)
            chart = (
                DIRECTORY_SCHEMA.empty_table()
                if directory is None
                else read_table(directory, columns=DIRECTORY_SCHEMA.names).cast(DIRECTORY_SCHEMA)
            )
        return _collaboration.network_block(edges, chart, level=level, weeks=weeks, bound=bound, scale=scale)

    def _write_directory(self, tx: Transaction, table: pa.Table) -> int:
        if table.num_rows == 0:
            tx.drop_directory()
            return 0
        out = tx.new_directory_file()
        return write_parquet(
            pa.RecordBatchReader.from_batches(DIRECTORY_SCHEMA, table.to_batches()), out, DIRECTORY_SCHEMA
        )

    def expire(self, cutoff: dt.date, released: Sequence[_expiry.DayRange] = ()) -> _expiry.Expired:
        """Drop, atomically, facts and edges before ``cutoff`` or in released ranges; ended directory rows."""
        ranges = _expiry.merged(released)
        with reported_as_store_errors(self.root, "change"), transaction(self.root, self.lock_timeout) as tx:
            files = {month: self.root / path for month, path in tx.base.months.items()}
            old = done = 0
            with connect(self.root) as con:
                counts = _expiry.count_expired(con, list(files.values()), cutoff, ranges)
                for month, path in sorted(files.items()):
                    past, finished = counts.get(path, (0, 0))
                    old, done = old + past, done + finished
                    if past + finished == parquet_rows(path):
                        tx.drop_month(month)
                    elif past + finished:
                        _expiry.keep_month(con, path, cutoff, ranges, tx.new_month_file(month))
            directory_rows = 0
            directory = tx.base.directory_file(self.root)
            if directory is not None:
                table = read_table(directory, columns=DIRECTORY_SCHEMA.names).cast(DIRECTORY_SCHEMA)
                kept = _expiry.kept_directory(table, cutoff)
                directory_rows = table.num_rows - kept.num_rows
                if directory_rows:
                    self._write_directory(tx, kept)
            edge_rows = self._keep_edges(tx, lambda table: _collaboration.unexpired(table, cutoff, ranges))
            if old or done or directory_rows or edge_rows:
                tx.publish()
        return _expiry.Expired(old, done, directory_rows)

    def rectify_group(
        self, person: str, level: str, group: str, start: dt.date, end: dt.date | None = None
    ) -> int:
        """Correct ``person``'s group at ``level`` over [start, end) atomically; the rows changed (R21)."""
        with reported_as_store_errors(self.root, "change"), transaction(self.root, self.lock_timeout) as tx:
            directory = tx.base.directory_file(self.root)
            if directory is None:
                return 0
            table = read_table(directory, columns=DIRECTORY_SCHEMA.names).cast(DIRECTORY_SCHEMA)
            corrected, changed = _rectify.regrouped(table, person, level, group, start, end)
            if changed:
                self._write_directory(tx, checked_directory(corrected))
                tx.publish()
        return changed

    def erase_person(self, person: str) -> int:
        """Erase one pseudonym (GDPR Art 17): atomically drop its facts, edges and directory rows.

        Returns how many: facts, edge rows (theirs, and others' towards them) and directory rows
        removed. Batches stay recorded, so re-ingesting an export already committed does not
        bring the data back; excluding the person from future exports is the ingesting service's job.
        """
        params: dict[str, object] = {"person": person}
        with reported_as_store_errors(self.root, "change"), transaction(self.root, self.lock_timeout) as tx:
            files = {month: self.root / path for month, path in tx.base.months.items()}
            removed = self._rewrite(tx, files, _merge.COUNT_PERSON_SQL, _merge.KEEP_OTHERS_SQL, params)
            removed += self._keep_edges(tx, lambda table: _collaboration.without(table, person))
            directory = tx.base.directory_file(self.root)
            if directory is not None:
                table = read_table(directory, columns=DIRECTORY_SCHEMA.names).cast(DIRECTORY_SCHEMA)
                kept = table.filter(pc.not_equal(table.column("person"), person))
                if kept.num_rows < table.num_rows:
                    removed += table.num_rows - kept.num_rows
                    self._write_directory(tx, kept)
            if removed:
                tx.publish()
        return removed

    def _rewrite(
        self,
        tx: Transaction,
        files: Mapping[str, Path],
        count_sql: str,
        keep_sql: str,
        params: dict[str, object],
    ) -> int:
        """Rewrite the month files among ``files`` that hold rows to drop; returns how many were dropped."""
        removed = 0
        with connect(self.root) as con:
            counts = _merge.count_matching(con, list(files.values()), count_sql, params)
            for month, path in sorted(files.items()):
                matching = counts.get(path, 0)
                if matching == 0:
                    continue
                removed += matching
                if matching == parquet_rows(path):
                    tx.drop_month(month)
                else:
                    _merge.rewrite_month(con, path, keep_sql, params, tx.new_month_file(month))
        return removed


def _check_encryption(root: Path, manifest: Manifest, encrypted: bool) -> None:
    """Refuse to open an encrypted store without its key, or a plain one with a key."""
    if not manifest.named_files() or manifest.encrypted == encrypted:
        return
    if manifest.encrypted:
        raise StoreError(
            f"The fact store at {root} is encrypted, and no key was given to open it.",
            "Set TEAMLENS_ENCRYPT_STORE=true with the installation's pseudonymisation key "
            "(TEAMLENS_KEY_FILE or TEAMLENS_KEY), as when it was written.",
        )
    raise StoreError(
        f"The fact store at {root} holds unencrypted files, and encryption is on.",
        "Turn TEAMLENS_ENCRYPT_STORE off for this data folder, or start an encrypted one: "
        "initialise a new data folder with encryption on and ingest the exports again.",
    )
