"""``python -m teamlens.verify LOG.jsonl --trust FINGERPRINT``: check an exported audit log offline.

Exit status 0 when the chain, every key registration and every signed decision verify and every
trusted fingerprint is in the log's key set; 1 otherwise, with each problem on its own line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from teamlens.verify.exported_log import read_export, verify_entries
from teamlens.verify.signatures import spaced


def main(argv: list[str] | None = None) -> int:
    """Run the verifier; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m teamlens.verify",
        description="Check a teamlens audit log exported with `teamlens audit export`, offline.",
    )
    parser.add_argument("log", type=Path, help="the exported log (JSON lines)")
    parser.add_argument(
        "--trust",
        action="append",
        default=[],
        metavar="FINGERPRINT",
        help="a key fingerprint you hold or read in the notice (repeat for each); spaces allowed",
    )
    args = parser.parse_args(argv)
    try:
        with args.log.open(encoding="utf-8") as handle:
            report = verify_entries(read_export(handle), args.trust)
    except (OSError, UnicodeDecodeError, ValueError) as error:
        print(f"{args.log}: cannot read the log ({error})", file=sys.stderr)
        return 1
    for problem in report.problems:
        print(f"problem: {problem}")
    if report.keys is not None:
        for key in report.keys.keys:
            print(f"key in force: {key.party} {key.kind} '{key.label}' {spaced(key.fingerprint)}")
    if not args.trust:
        print("warning: no --trust fingerprint given, so a log with made-up keys would pass")
    verdict = "verified" if report.ok else "NOT verified"
    print(
        f"{verdict}: {report.entries} entries, {report.key_sets} key sets, "
        f"{report.decisions} signed decisions"
    )
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
