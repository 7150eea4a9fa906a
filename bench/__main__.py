"""Run the benchmarks and write their figures, with the machine and date, to docs/benchmarks.md.

`python -m bench` runs every benchmark; `python -m bench release mbox` runs some. Each module
``bench/bench_<name>.py`` has ``run() -> str`` returning a Markdown section that compares
teamlens against a named baseline measured in the same run (ratios and medians: the machines
are noisy). TEAMLENS_BENCH_QUICK=1 shrinks every input for a smoke run (not recorded).
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import platform
import sys
from pathlib import Path

BENCHMARKS = ("accuracy", "release", "ingest_csv", "mbox", "web", "scale")
DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def _machine() -> str:
    memory = ""
    try:
        with open("/proc/meminfo") as handle:
            kib = int(handle.readline().split()[1])
        memory = f", {kib / 2**20:.0f} GiB memory"
    except OSError:
        pass
    cpu = platform.processor() or platform.machine()
    return f"{os.cpu_count()} cores ({cpu}){memory}, Python {platform.python_version()}, {platform.system()}"


def main(names: list[str]) -> None:
    """Run the named benchmarks (all by default) and record them unless in quick mode."""
    chosen = names or list(BENCHMARKS)
    sections = []
    for name in chosen:
        module = importlib.import_module(f"bench.bench_{name}")
        print(f"running {name} …", flush=True)
        section = module.run()
        print(section, flush=True)
        sections.append(section)
    if os.environ.get("TEAMLENS_BENCH_QUICK"):
        print("quick mode: docs/benchmarks.md left as it was")
        return
    header = (
        "# Benchmarks\n\n"
        "Written by `make bench` (`python -m bench`); do not edit by hand. Each figure is the median of "
        "repeated runs, compared with a named baseline measured in the same run.\n\n"
        f"- Machine: {_machine()}\n- Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC\n\n"
    )
    if names and DOCS.exists():
        # Keep the recorded sections of benchmarks not re-run this time (matched by heading).
        fresh = {section.splitlines()[0] for section in sections}
        recorded = ["## " + part.rstrip() + "\n" for part in DOCS.read_text().split("\n## ")[1:]]
        sections += [section for section in recorded if section.splitlines()[0] not in fresh]
    DOCS.write_text(header + "\n".join(sections))
    print(f"wrote {DOCS}")


if __name__ == "__main__":
    main(sys.argv[1:])
