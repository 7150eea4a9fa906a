"""A synthetic Microsoft 365 getEmailActivityUserDetail CSV of daily rows, for the ingest benchmark.

Every row is one person's counts on one day, as Graph exports a daily report (``Report Period``
1, the day as ``Report Refresh Date``), so the rows are distinct (person, day) pairs: ``people``
people × ``days`` days from Monday 2024-01-01, day by day as daily exports appended one after
another. Values are heavy-tailed (a log-uniform rate per person, exponential days, weekends a
tenth as busy); display names carry a comma and so are quoted, as in real exports. The file
starts with the UTF-8 byte-order mark Graph writes.

DuckDB writes the rows (``COPY``), so a 10-million-row file takes seconds; it is cached under
``bench/.out`` keyed by size and ``VERSION``, written under a temporary name and renamed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from teamlens.domain.vendor_formats import EMAIL_HEADER

#: Change when the generator changes, so that stale cached files are not reused.
VERSION = 1
OUT = Path(__file__).resolve().parent / ".out"
BOM = "\ufeff"

# A deterministic pseudo-random number in [0, 1) from a person, a day and a salt.
_UNIFORM = "((hash(p, d, {salt}) % 1000000)::DOUBLE + 0.5) / 1000000"
# A person's daily rate: log-uniform between {low} and {high}.
_RATE = "exp(ln({low}) + (hash(p, {salt}) % 1000)::DOUBLE / 1000 * (ln({high}) - ln({low})))"


def _count(low: float, high: float, salt: int) -> str:
    """SQL for one heavy-tailed daily count: an exponential day around a log-uniform personal rate."""
    rate = _RATE.format(low=low, high=high, salt=salt)
    uniform = _UNIFORM.format(salt=salt + 100)
    return f"CAST(floor({rate} * weekday_factor * -ln({uniform})) AS BIGINT)"


_ROWS_SQL = f"""
SELECT
    strftime(day, '%Y-%m-%d') AS refresh,
    'user' || p || '@contoso.example' AS upn,
    'Surname' || p || ', Given' || (p % 97) AS display_name,
    'False' AS is_deleted,
    NULL::VARCHAR AS deleted_date,
    CASE WHEN sent + received > 0 THEN strftime(day, '%Y-%m-%d')
         ELSE strftime(day - INTERVAL 3 DAY, '%Y-%m-%d') END AS last_activity,
    sent, received, read_count, created, interacted,
    'MICROSOFT 365 E3+MICROSOFT TEAMS' AS products,
    1 AS period
FROM (
    SELECT p, day, {_count(2, 60, 1)} AS sent, {_count(10, 200, 2)} AS received,
           {_count(5, 150, 3)} AS read_count, {_count(0.05, 2, 4)} AS created,
           {_count(0.2, 6, 5)} AS interacted
    FROM (
        SELECT p, DATE '2024-01-01' + CAST(d AS INTEGER) AS day,
               CASE WHEN isodow(DATE '2024-01-01' + CAST(d AS INTEGER)) >= 6 THEN 0.1 ELSE 1.0 END
                   AS weekday_factor,
               d
        FROM range($days) AS days(d), range($people) AS people(p)
    )
)
ORDER BY day, p
"""


def cached_csv(people: int, days: int) -> Path:
    """The path of a ``people`` × ``days`` email-activity CSV, writing it first if it is not cached."""
    path = OUT / f"email-activity-{people}x{days}-v{VERSION}.csv"
    if path.exists():
        return path
    OUT.mkdir(exist_ok=True)
    rows = path.with_suffix(".rows.tmp")
    building = path.with_suffix(".building")
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        relation = con.sql(_ROWS_SQL, params={"people": people, "days": days})
        relation.write_csv(str(rows), header=False, sep=",", quotechar='"')
    finally:
        con.close()
    with building.open("wb") as out, rows.open("rb") as body:
        out.write((BOM + EMAIL_HEADER + "\n").encode("utf-8"))
        shutil.copyfileobj(body, out, 16 * 1024 * 1024)
    rows.unlink()
    building.rename(path)
    return path
