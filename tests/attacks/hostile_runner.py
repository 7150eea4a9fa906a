"""Run one reader over one file under a memory limit, and say how it went (for attack A28).

``python -m tests.attacks.hostile_runner READER PATH [--weaken]`` sets RLIMIT_DATA to
``MEMORY_LIMIT`` first (the process's own memory: RLIMIT_AS would also count the ~360 MiB of
address space the libraries reserve before any input is read), then reads the whole file as
ingestion would (every batch, nothing kept) and prints one JSON line: ``outcome`` ("read",
"refused", "memory"), the error's text when refused, the seconds taken and the peak resident
size. ``--weaken`` switches the protections off the way the teeth cases need (no ZIP ratio or
record limit, no recurrence bounds).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

MEMORY_LIMIT = 512 * 1024 * 1024


def weaken() -> None:
    """Undo the limits: what the readers did before attack A28."""
    from teamlens.sources import calendar_ics_events, google_reports, json_stream, slack_archive

    slack_archive.MAX_RATIO = 10**9
    slack_archive.MAX_FILE_BYTES = 10**12
    slack_archive.MAX_RECORD_CHARS = 10**12
    json_stream.MAX_VALUE_CHARS = 10**12
    google_reports.MAX_PAGE_CHARS = 10**12
    calendar_ics_events.bounded = lambda rule, plain, low, high, fail: rule
    calendar_ics_events.FREQUENCIES = frozenset(
        {"DAILY", "WEEKLY", "MONTHLY", "YEARLY", "HOURLY", "MINUTELY", "SECONDLY"}
    )


def main(reader_name: str, path: str, weakened: bool) -> dict[str, object]:
    resource.setrlimit(resource.RLIMIT_DATA, (MEMORY_LIMIT, MEMORY_LIMIT))
    from teamlens.domain import METRICS
    from teamlens.errors import InputFormatError
    from teamlens.pseudonymise import Pseudonymiser
    from teamlens.sources import ReadContext, ReadReport, get_directory, get_source

    if weakened:
        weaken()
    reader = (
        get_source(reader_name)
        if reader_name not in ("hr_directory_csv", "scim_directory")
        else get_directory(reader_name)
    )
    ctx = ReadContext(
        pseudonymise=Pseudonymiser(b"k" * 32),
        metrics=frozenset(METRICS),
        period=(__import__("datetime").date(2025, 12, 29), __import__("datetime").date(2026, 6, 29)),
    )
    began = time.perf_counter()
    outcome: dict[str, object] = {"outcome": "read", "message": ""}
    try:
        for _ in reader.read(Path(path), ctx, ReadReport()):
            pass
    except InputFormatError as error:
        outcome = {"outcome": "refused", "message": str(error)}
    except MemoryError:
        outcome = {"outcome": "memory", "message": ""}
    outcome["seconds"] = round(time.perf_counter() - began, 2)
    outcome["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    return outcome


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2], "--weaken" in sys.argv[3:])))
