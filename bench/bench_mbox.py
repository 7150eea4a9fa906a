"""Mail-header reading speed: teamlens's mbox reader against Python's own ``mailbox.mbox``.

A seeded generator writes an mbox of 1,000,000 messages (50,000 with TEAMLENS_BENCH_QUICK=1)
with realistic headers (Received, Message-ID, display names, To/Cc lists, subjects, MIME) and
short bodies. Each side runs three times, each run in a fresh interpreter so that its peak
resident memory is its own: the baseline merely iterates ``mailbox.mbox`` (parsing every
message, producing nothing); teamlens reads the same file into facts with a real keyed
``Pseudonymiser``. Goals: at least half the baseline's rate, and under 1 GiB peak.

Run with ``python -m bench mbox`` (records the figures) or ``python bench/bench_mbox.py`` (prints them).
"""

from __future__ import annotations

import datetime as dt
import mailbox
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script: make the repository root importable so `bench` resolves as a package.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._measure import in_subprocess, quick
from teamlens.pseudonymise import Pseudonymiser
from teamlens.sources import ReadContext, ReadReport
from teamlens.sources.mail_headers import MAIL_HEADERS

ROOT = Path(__file__).resolve().parents[1]
FULL, QUICK = 1_000_000, 50_000
REPEATS = 3
RATE_GOAL, MEMORY_GOAL_MIB = 0.5, 1024
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_FIRST = ("Alice", "Bob", "Carol", "Dan", "Eve", "Femi", "Grace", "Hiro", "Ines", "Jon", "Kemal", "Lena")
_LAST = ("Smith", "Jones", "Okafor", "Novak", "García", "Müller", "Tanaka", "Dubois", "Rossi", "Kowalski")
_WORDS = ("quarterly", "figures", "review", "draft", "meeting", "notes", "budget", "plan", "update", "call")


def generate(path: Path, messages: int, seed: int = 7) -> int:
    """Write an mbox of ``messages`` realistic messages to ``path``; returns its size in bytes."""
    rng = random.Random(seed)
    people = [
        f"{rng.choice(_FIRST)} {rng.choice(_LAST)} <{first.lower()}.{i}@corp.example>"
        for i, first in ((i, rng.choice(_FIRST)) for i in range(2_000))
    ]
    people += [f"<contact{i}@partner{i % 40}.example.net>" for i in range(500)]
    origin = dt.datetime(2025, 1, 6, tzinfo=dt.UTC)
    zones = ((0, "+0000"), (60, "+0100"), (-300, "-0500"))
    size = 0
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for n in range(messages):
            sender = people[rng.randrange(2_000)]
            address = sender[sender.index("<") + 1 : -1]
            to = ", ".join(rng.choice(people) for _ in range(rng.choice((1, 1, 2, 3))))
            cc = ", ".join(rng.choice(people) for _ in range(rng.choice((0, 0, 1, 2))))
            offset, zone = rng.choice(zones)
            at = origin + dt.timedelta(seconds=rng.randrange(120 * 86_400))
            local = at + dt.timedelta(minutes=offset)
            stamp = (
                f"{_DAYS[local.weekday()]}, {local.day:02d} {_MONTHS[local.month - 1]} {local.year} "
                f"{local:%H:%M:%S} {zone}"
            )
            words = " ".join(rng.choice(_WORDS) for _ in range(4))
            text = (
                f"From {address} {at:%a %b %d %H:%M:%S %Y}\n"
                f"Return-Path: <{address}>\n"
                f"Received: from mail{n % 7}.corp.example (mail{n % 7}.corp.example "
                f"[10.0.{n % 250}.{n % 200}])\n"
                f"\tby mx.corp.example with ESMTPS id {n:x}A{n * 7919 % 104729:x}; {stamp}\n"
                f"Message-ID: <{n}.{n * 2654435761 % 2**32:08x}@corp.example>\n"
                f"Date: {stamp}\nFrom: {sender}\nTo: {to}\n"
                + (f"Cc: {cc}\n" if cc else "")
                + f"Subject: Re: {words}\nMIME-Version: 1.0\n"
                'Content-Type: text/plain; charset="utf-8"\nContent-Transfer-Encoding: 8bit\n\n'
                f"Hi,\n\nabout the {words}: see the notes from {local:%A}.\n"
                + ">From the last call: agreed.\n" * (n % 2)
                + "Thanks\n\n"
            )
            size += handle.write(text)
    return size


def time_mailbox(path: str) -> dict[str, float]:
    """Baseline: iterate every message with ``mailbox.mbox`` and do nothing else."""
    began = time.perf_counter()
    count = 0
    for _ in mailbox.mbox(path):
        count += 1
    return {"seconds": time.perf_counter() - began, "messages": count}


def time_teamlens(path: str) -> dict[str, float]:
    """teamlens: read the mbox into facts with a real keyed pseudonymiser."""
    began = time.perf_counter()
    ctx = ReadContext(
        pseudonymise=Pseudonymiser(os.urandom(32)),
        metrics=frozenset({"emails_sent", "emails_received", "after_hours_emails"}),
    )
    report = ReadReport()
    facts = sum(batch.num_rows for batch in MAIL_HEADERS.read(Path(path), ctx, report))
    return {"seconds": time.perf_counter() - began, "messages": report.rows_read, "facts": facts}


def _measure(function: str, path: Path) -> tuple[float, float, float]:
    """Median seconds, max peak MiB and message count over ``REPEATS`` fresh interpreters."""
    runs = [
        in_subprocess(
            f"from bench.bench_mbox import {function}\nresult = {function}({str(path)!r})", cwd=ROOT
        )
        for _ in range(REPEATS)
    ]
    return (
        statistics.median(run["seconds"] for run in runs),
        max(run["peak_mib"] for run in runs),
        runs[0]["messages"],
    )


def run() -> str:
    """Generate the mbox, time both readers, and return the Markdown section."""
    messages = QUICK if quick() else FULL
    with tempfile.TemporaryDirectory(prefix="teamlens-bench-mbox-") as folder:
        path = Path(folder) / "bench.mbox"
        size = generate(path, messages)
        base_s, base_mib, base_n = _measure("time_mailbox", path)
        ours_s, ours_mib, ours_n = _measure("time_teamlens", path)
    if base_n != messages or ours_n != messages:
        raise RuntimeError(f"counts differ: generated {messages}, mailbox {base_n}, teamlens {ours_n}")
    base_rate, ours_rate = messages / base_s, messages / ours_s
    ratio = ours_rate / base_rate
    return (
        "## Mail headers: mbox reader\n\n"
        f"{messages:,} generated messages ({size / 2**20:,.0f} MiB mbox), median of {REPEATS} runs, "
        "each in a fresh interpreter (peak = its own maximum resident memory).\n\n"
        "| reader | median time | messages/s | peak memory |\n|---|---|---|---|\n"
        f"| `mailbox.mbox` iteration (baseline, produces nothing) | {base_s:.2f} s | {base_rate:,.0f} | "
        f"{base_mib:,.0f} MiB |\n"
        f"| teamlens `mail_headers` → facts (keyed HMAC) | {ours_s:.2f} s | {ours_rate:,.0f} | "
        f"{ours_mib:,.0f} MiB |\n\n"
        f"Rate ratio teamlens / baseline: **{ratio:.2f}** (goal ≥ {RATE_GOAL}: "
        f"{_verdict(ratio >= RATE_GOAL)}); teamlens peak {ours_mib:,.0f} MiB (goal < {MEMORY_GOAL_MIB} MiB: "
        f"{_verdict(ours_mib < MEMORY_GOAL_MIB)}).\n"
    )


def _verdict(met: bool) -> str:
    return "met" if met else "**missed**"


if __name__ == "__main__":
    print(run())
