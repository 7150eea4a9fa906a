"""Scale: one release at 1M and 10M person-day facts on DuckDB, on Spark local, and a Spark peer.

Per size, each in a fresh interpreter and once (the inputs are large; the machine is shared):

- **plain DuckDB query** (the limit): ``_release_runs.time_baseline``, the release's clipped
  per-team totals and headcounts in one query, no noise;
- **teamlens on DuckDB**: ``_release_runs.time_teamlens``, the release engine for every window;
- **teamlens on Spark local** (``local[2]``): the same function with each block aggregated by
  ``teamlens.spark.SparkAggregator``; the Spark session is started before the clock (JVM start
  excluded), its first query's warm-up is not;
- **PipelineDP on Spark** (the peer), when ``pipeline-dp`` is installed: per team and window,
  DP sums of the five metrics and a DP count of people, contributions bounded per person, on the
  same facts read by the same Spark.

Wall time and peak memory (the Python process's, plus the JVM's for the Spark runs), one run
each, and a PNG chart of time against rows (``docs/benchmarks-scale.png``). The stores are the
release benchmark's (``_release_data``), 500 days of a growing organisation.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from bench._measure import in_subprocess, quick
from bench._release_data import Size, cached_store

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / "docs" / "benchmarks-scale.png"
DAYS = 500
#: People for about 1M and 10M facts over 500 days (about 3.3 facts per person and calendar day).
PEOPLE = (600, 6_010)
#: A run not finished in this time is reported as such (the Spark runs on a loaded two-core machine).
TIMEOUT = 900.0
RUNS = ("plain DuckDB query", "teamlens on DuckDB", "teamlens on Spark local", "PipelineDP on Spark")

_SPARK = """
from teamlens.spark import SparkAggregator, spark_session
from teamlens.store import FactStore
spark = spark_session("local[2]", **{"spark.driver.memory": "6g", "spark.ui.enabled": "false",
                                     "spark.sql.shuffle.partitions": "8"})
spark.range(1).count()  # the JVM is up before the clock starts
FactStore.aggregate_block = lambda self, **kw: SparkAggregator(self, spark).aggregate_block(**kw)
"""

_JVM_PEAK = """
pid = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
with open(f"/proc/{pid}/status") as status:
    result["jvm_peak_mib"] = next(int(l.split()[1]) for l in status if l.startswith("VmHWM:")) / 1024
"""

_PEER = """
import time
import pipeline_dp
from bench._release_data import METRICS, REPORT_ID, build_policy, report_windows
from bench._release_runs import store_files, window_tables
from pyspark.sql import functions as F
began = time.perf_counter()
policy = build_policy(Size(people, days))
months, directory = store_files(Path(root))
tables = window_tables(policy, report_windows(policy))
weeks = spark.createDataFrame(tables["win_weeks"].to_pandas())
starts = spark.createDataFrame(tables["win_starts"].to_pandas())
facts = spark.read.parquet(*months).withColumn("monday", F.date_sub("day", F.weekday("day")))
place = spark.read.parquet(directory)
placed = place.select("person", "valid_from", "team")
rows = (facts.join(weeks, "monday").join(starts, "win").join(placed, "person")
        .where(F.col("valid_from") <= F.col("start")).select("team", "win", "person", "metric", "value"))
backend = pipeline_dp.SparkRDDBackend(spark.sparkContext)
accountant = pipeline_dp.NaiveBudgetAccountant(total_epsilon=1.0, total_delta=1e-6)
engine = pipeline_dp.DPEngine(accountant, backend)
results = []
for metric in METRICS:
    bound = policy.metric_bound(metric).per_week * 5
    params = pipeline_dp.AggregateParams(
        noise_kind=pipeline_dp.NoiseKind.GAUSSIAN,
        metrics=[pipeline_dp.Metrics.SUM, pipeline_dp.Metrics.PRIVACY_ID_COUNT],
        max_partitions_contributed=len(tables["win_starts"]), max_contributions_per_partition=40,
        min_value=0, max_value=bound)
    extractors = pipeline_dp.DataExtractors(
        privacy_id_extractor=lambda row: row[2], partition_extractor=lambda row: (row[0], row[1]),
        value_extractor=lambda row: row[4])
    subset = rows.where(F.col("metric") == metric).rdd.map(tuple)
    results.append(engine.aggregate(subset, params, extractors, public_partitions=None))
accountant.compute_budgets()
cells = sum(len(result.collect()) for result in results)
result = {"seconds": time.perf_counter() - began, "cells": cells}
"""


def _run(kind: str, root: Path, size: Size) -> dict[str, float]:
    """One run in a fresh interpreter; a run that fails or times out is recorded with ``failed``."""
    try:
        return _run_once(kind, root, size)
    except subprocess.TimeoutExpired:
        return {"failed": 1.0, "seconds": TIMEOUT}
    except subprocess.CalledProcessError as error:
        print(error.stderr[-3000:], flush=True)
        return {"failed": 2.0, "seconds": float("nan")}


def _run_once(kind: str, root: Path, size: Size) -> dict[str, float]:
    args = f"root, people, days = {str(root)!r}, {size.people}, {size.days}\n"
    head = "from pathlib import Path\nfrom bench._release_data import Size\n" + args
    if kind == "plain DuckDB query":
        code = (
            head + "from bench._release_runs import time_baseline\nresult = time_baseline(root, people, days)"
        )
    elif kind == "teamlens on DuckDB":
        code = (
            head + "from bench._release_runs import time_teamlens\nresult = time_teamlens(root, people, days)"
        )
    elif kind == "teamlens on Spark local":
        code = (
            head + _SPARK + "from bench._release_runs import time_teamlens\n"
            "result = time_teamlens(root, people, days)\n" + _JVM_PEAK
        )
    else:
        code = head + _SPARK + _PEER + _JVM_PEAK
    return in_subprocess(code, cwd=ROOT, timeout=TIMEOUT)


def _peer_installed() -> bool:
    try:
        import pipeline_dp  # noqa: F401
    except ImportError:
        return False
    return True


def measure() -> dict[int, dict[str, dict[str, float]]]:
    """Every run at every size: {facts: {run: figures}}."""
    figures: dict[int, dict[str, dict[str, float]]] = {}
    for people in PEOPLE[:1] if quick() else PEOPLE:
        size = Size(people, 60 if quick() else DAYS)
        root, _ = cached_store(size)
        from teamlens.store import FactStore

        rows = FactStore(root).stats().fact_rows
        figures[rows] = {}
        for kind in RUNS:
            if kind == "PipelineDP on Spark" and not _peer_installed():
                continue
            print(f"  {rows:,} facts: {kind} …", flush=True)
            figures[rows][kind] = _run(kind, root, size)
            print(f"    {figures[rows][kind]}", flush=True)
    return figures


def _chart(figures: dict[int, dict[str, dict[str, float]]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=120)
    for kind in RUNS:
        points = [
            (rows, runs[kind]["seconds"])
            for rows, runs in sorted(figures.items())
            if kind in runs and "failed" not in runs[kind]
        ]
        if points:
            ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=kind)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("person-day facts")
    ax.set_ylabel("wall time (s), one run")
    ax.set_title("One release of the benchmark report")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(CHART)
    plt.close(fig)


def _peak(run: dict[str, float]) -> float:
    return run["peak_mib"] + run.get("jvm_peak_mib", 0.0)


def run() -> str:
    """Measure and return the Markdown section for docs/benchmarks.md."""
    load = os.getloadavg()[0]
    figures = measure()
    if not quick():
        _chart(figures)
    return section(figures, load)


def section(figures: dict[int, dict[str, dict[str, float]]], load: float, note: str = "") -> str:
    """The Markdown section of ``figures`` (measured at load average ``load``), with a closing ``note``."""
    lines = [
        "## Scale: DuckDB, Spark local and a Spark peer (`python -m bench scale`)",
        "",
        f"One run each, load average {load:.1f} at the start (the machine was shared: read the ratios, "
        "not the seconds). Peak memory is the Python process's plus, for Spark, the JVM's. The Spark "
        "session is started before the clock (JVM start excluded). Chart: "
        f"[{CHART.name}]({CHART.name}).",
        "",
        "| facts | run | seconds | × plain query | peak MiB |",
        "|---:|---|---:|---:|---:|",
    ]
    for rows, runs in sorted(figures.items()):
        base = runs["plain DuckDB query"]["seconds"]
        for kind, figure in runs.items():
            ratio = figure["seconds"] / base
            lines.append(
                f"| {rows:,} | {kind} | {figure['seconds']:.1f} | {ratio:.1f}× | {_peak(figure):,.0f} |"
            )
    spark_vs_peer = [
        runs["PipelineDP on Spark"]["seconds"] / runs["teamlens on Spark local"]["seconds"]
        for runs in figures.values()
        if "PipelineDP on Spark" in runs and "failed" not in runs["teamlens on Spark local"]
    ]
    lines.append("")
    if spark_vs_peer:
        lines.append(
            f"Goal, teamlens on Spark at least 10× faster than the Spark peer at 10M facts: "
            f"{spark_vs_peer[-1]:.1f}× ({'met' if spark_vs_peer[-1] >= 10 else 'missed'})."
        )
    else:
        lines.append("PipelineDP (pipeline-dp 0.3.1) is not installed here: the peer was not run.")
    if note:
        lines += ["", note]
    return "\n".join(lines) + "\n"
