"""Timing and peak-memory helpers shared by the benchmarks."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path


def quick() -> bool:
    """True when TEAMLENS_BENCH_QUICK asks for small inputs."""
    return bool(os.environ.get("TEAMLENS_BENCH_QUICK"))


def median_seconds(action: Callable[[], object], repeats: int = 3) -> float:
    """Median wall-clock seconds of ``repeats`` runs of ``action``."""
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        action()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def in_subprocess(code: str, *, cwd: Path | None = None, timeout: float | None = None) -> dict[str, float]:
    """Run Python ``code`` in a fresh interpreter; it prints a JSON dict. Adds peak RSS in MiB.

    ``timeout`` (seconds) ends a run that takes longer with ``subprocess.TimeoutExpired``.

    The peak is the child's own ``VmHWM``: on Linux, ``ru_maxrss`` of a child started by
    fork + exec starts at the parent's resident size, so it would report the parent's peak.
    """
    wrapper = (
        "import json, resource, sys\n"
        f"{code}\n"
        "try:\n"
        "    with open('/proc/self/status') as status:\n"
        "        kib = next(int(line.split()[1]) for line in status if line.startswith('VmHWM:'))\n"
        "except (OSError, StopIteration):\n"
        "    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "result['peak_mib'] = kib / 1024\n"
        "print(json.dumps(result))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", wrapper], capture_output=True, text=True, check=True, cwd=cwd, timeout=timeout
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
