"""The SQL that rewrites month files: upserting a commit, dropping rows for erasure (retention: ``_expiry``).

Each function works on one month at a time inside a connection from ``_duck.connect``, so
memory follows the size of a month, not of the store or of the incoming stream. Values are
always bound as parameters; only file paths reach DuckDB outside SQL text, through its API.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from teamlens.domain import FACT_SCHEMA
from teamlens.store._duck import copy_parquet, parquet_rows, rows, scan, stream, write_parquet

# The staged facts name people by ``person_id`` (see ``_ingest``); ``people`` gives each its
# pseudonym and its rank among them, so that sorting by rank sorts by pseudonym, on integers.
_PEOPLE_SQL = """
CREATE OR REPLACE TEMP TABLE people AS
SELECT person_id, person, row_number() OVER (ORDER BY person) AS person_rank FROM staged_people
"""

# Keeps the last row of each key in arrival order (the staging file's row numbers).
_DEDUPE_SQL = """
CREATE OR REPLACE TEMP TABLE incoming AS
SELECT person_id, source, metric, day, days,
       arg_max(value, file_row_number) AS value,
       count(*) - 1 AS dropped
FROM staged
GROUP BY person_id, source, metric, day, days
"""

_INCOMING_COUNTS_SQL = "SELECT count(*), coalesce(sum(dropped), 0) FROM incoming"

# Rows, and distinct hashes of their keys: when the two agree no key repeats (distinct hashes
# mean distinct keys), and the exact, costlier deduplication above can be skipped. A repeated
# key or a hash collision makes them differ, and then the exact way runs.
_KEY_HASHES_SQL = "SELECT count(*), count(DISTINCT hash(person_id, source, metric, day, days)) FROM staged"

_STAGED_AS_INCOMING_SQL = """
CREATE OR REPLACE TEMP VIEW incoming AS
SELECT person_id, source, metric, day, days, value FROM staged
"""

# The incoming facts under their pseudonyms, with each person's rank for sorting.
_NAMED_SQL = """
CREATE OR REPLACE TEMP VIEW named AS
SELECT p.person, p.person_rank, i.day, i.days, i.metric, i.value, i.source
FROM incoming AS i JOIN people AS p USING (person_id)
"""

# Stored rows whose key the commit does not carry, plus every incoming row: an upsert.
_MERGE_SQL = """
SELECT person, day, days, metric, value, source FROM (
    SELECT c.person, c.day, c.days, c.metric, c.value, c.source
    FROM current_month AS c
    ANTI JOIN named AS i
        ON c.person = i.person AND c.source = i.source AND c.metric = i.metric
       AND c.day = i.day AND c.days = i.days
    UNION ALL
    SELECT person, day, days, metric, value, source FROM named
)
ORDER BY person, metric, day, days, source
"""

# Month files are sorted by person: sorting costs about a third of a large ingest, but on the
# release benchmark's store (measured once, 2026-11-27) unsorted files were twice the size and a
# release peaked at about 850 MiB instead of 350 MiB. A new month sorts by the person's rank
# (the same order as by pseudonym), which halves the sort against comparing 64-digit strings.
_NEW_MONTH_SQL = """
SELECT person, day, days, metric, value, source FROM named
ORDER BY person_rank, metric, day, days, source
"""

#: Erasure: how many rows of each scanned file belong to the person.
COUNT_PERSON_SQL = "SELECT filename, count(*) FROM scanned WHERE person = $person GROUP BY filename"

#: Erasure: the rows to keep are everyone else's.
KEEP_OTHERS_SQL = """
SELECT person, day, days, metric, value, source FROM current_month WHERE person <> $person
ORDER BY person, metric, day, days, source
"""


@dataclass(frozen=True)
class MonthMerge:
    """The effect of one commit on one month."""

    incoming: int
    dropped: int
    written: int
    replaced: int


def load_people(con: duckdb.DuckDBPyConnection, people: Path) -> None:
    """Read a commit's staged pseudonyms (``_ingest.PEOPLE_FILE``), once before its months are merged."""
    scan(con, [people]).create_view("staged_people")
    con.sql(_PEOPLE_SQL)


def merge_month(con: duckdb.DuckDBPyConnection, staged: Path, current: Path | None, out: Path) -> MonthMerge:
    """Write to ``out`` the month ``current`` with the facts of ``staged`` upserted into it.

    ``load_people`` must have read the commit's pseudonyms on ``con`` first.
    """
    scan(con, [staged], file_row_number=True).create_view("staged")
    received, distinct = rows(con, _KEY_HASHES_SQL)[0]
    if received == distinct:
        con.sql(_STAGED_AS_INCOMING_SQL)
        incoming, dropped = received, 0
    else:
        con.sql(_DEDUPE_SQL)
        incoming, dropped = rows(con, _INCOMING_COUNTS_SQL)[0]
    con.sql(_NAMED_SQL)
    if current is None:
        written = copy_parquet(con, _NEW_MONTH_SQL, out)
        before = 0
    else:
        scan(con, [current]).create_view("current_month")
        written = copy_parquet(con, _MERGE_SQL, out)
        before = parquet_rows(current)
    con.sql("DROP VIEW named")
    con.sql("DROP VIEW IF EXISTS incoming" if received == distinct else "DROP TABLE incoming")
    return MonthMerge(
        incoming=int(incoming),
        dropped=int(dropped),
        written=written,
        replaced=before + int(incoming) - written,
    )


def count_matching(
    con: duckdb.DuckDBPyConnection, files: list[Path], count_sql: str, params: dict[str, object]
) -> dict[Path, int]:
    """Run one of the ``COUNT_*`` queries over ``files``: how many rows of each file it matches."""
    if not files:
        return {}
    scan(con, files, filename=True).create_view("scanned")
    return {Path(name): int(count) for name, count in rows(con, count_sql, params)}


def rewrite_month(
    con: duckdb.DuckDBPyConnection, current: Path, keep_sql: str, params: dict[str, object], out: Path
) -> int:
    """Write to ``out`` the rows of ``current`` that ``keep_sql`` keeps; returns how many."""
    scan(con, [current]).create_view("current_month")
    return write_parquet(stream(con, keep_sql, params), out, FACT_SCHEMA)
