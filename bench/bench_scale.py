"""Scale: one release at 10M, 100M and 1,000M person-day facts on DuckDB, on Spark local, and a Spark peer.

Per size, each in a fresh interpreter (its own process group) and once (the inputs are large;
the machine is shared):

- **plain DuckDB query** (the limit): ``_release_runs.time_baseline``, the release's clipped
  per-team totals and headcounts in one query, no noise;
- **teamlens on DuckDB**: ``_release_runs.time_teamlens``, the release engine for every window;
- **teamlens on Spark local** (``local[2]``): ``time_spark`` below, the release engine with every
  block's totals from one Spark job (``SparkAggregator.aggregate_blocks``, as ``services.release``
  asks it); the Spark session is started before the clock (JVM start excluded), its first
  query's warm-up is not. ``floor_seconds`` is what the least Spark job over the same facts
  costs (read every fact, sum per person, week and metric, collect a count): the floor of any
  release on this Spark, the peer's included;
- **PipelineDP on Spark** (the peer): per team and window, DP sums of the five metrics and a DP
  count of people, contributions bounded per person, on the same facts read by the same Spark.

At 1,000M facts only the two DuckDB runs are made (the issue's goal there: peak < 8 GiB and at
most 2× the plain query). Wall time and peak memory (the Python process's, plus the JVM's for
the Spark runs) and a PNG chart of time against rows (``docs/benchmarks-scale.png``). The stores
are ``_scale_data.scale_store``'s: the release benchmark's organisation over 500 days, cached
under ``TEAMLENS_SCALE_CACHE``. ``TEAMLENS_SCALE_SIZES`` (e.g. ``10M,100M``) picks sizes and
``TEAMLENS_SCALE_RUNS`` (e.g. ``1,2,3``) runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench._measure import quick
from bench._release_data import Size
from bench._scale_data import scale_store

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / "docs" / "benchmarks-scale.png"
DAYS = 500
#: People for about 10M, 100M and 1,000M facts over 500 days (about 3.4 facts per person and day).
PEOPLE = {"10M": 6_010, "100M": 60_100, "1000M": 601_000}
#: Sizes at which the Spark runs are made (1,000M is the DuckDB goal's size).
SPARK_SIZES = ("10M", "100M")
#: A run not finished in this time is stopped and reported as "> TIMEOUT" (a loaded two-core machine).
TIMEOUT = float(os.environ.get("TEAMLENS_SCALE_TIMEOUT", "1200"))
RUNS = ("plain DuckDB query", "teamlens on DuckDB", "teamlens on Spark local", "PipelineDP on Spark")

_SPARK = """
from teamlens.spark import spark_session
spark = spark_session("local[2]", **{"spark.driver.memory": "6g", "spark.ui.enabled": "false",
                                     "spark.sql.shuffle.partitions": "8"})
spark.range(1).count()  # the JVM is up before the clock starts
"""

#: CPU seconds of every process of the run's session (the JVM and its Python workers included),
#: read before and after the timed call: on a shared machine this moves far less than wall time.
_CPU = """
import os
def session_cpu():
    total = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == os.getsid(0):
            total += sum(int(value) for value in fields[11:15])
    return total / os.sysconf("SC_CLK_TCK")
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


def time_spark(spark: object, root: str, people: int, days: int) -> dict[str, float]:
    """teamlens on Spark: ``time_teamlens``'s release with every block's totals from one Spark job."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from bench._release_data import REPORT_ID, build_policy, report_windows
    from teamlens.domain import HEADCOUNT, Rho
    from teamlens.privacy import ReleaseSpec, Strategy, measure_block
    from teamlens.services.release import _clips, derive
    from teamlens.spark import BlockQuery, SparkAggregator
    from teamlens.store import FactStore

    began = time.perf_counter()
    policy = build_policy(Size(people, days))
    store = FactStore(Path(root))
    spec = ReleaseSpec.build(policy, REPORT_ID, [window.key for window in report_windows(policy)])
    strategy = Strategy.for_policy(policy)
    levels = [level.value for level in strategy.levels]
    blocks = strategy.blocks_for(spec.windows)
    queries = [
        BlockQuery(block.weeks, _clips(strategy, block), headcount=strategy.span_of(block).first == block)
        for block in blocks
    ]
    started = time.perf_counter()
    tables = SparkAggregator(store, spark).aggregate_blocks(levels=levels, blocks=queries)  # type: ignore[arg-type]
    aggregate_seconds = time.perf_counter() - started
    wanted = pa.array(sorted(f"{plan.level.value}\x1e{plan.metric}" for plan in strategy.metric_plans))
    measured, structures = [], {}
    started = time.perf_counter()
    with store.block_reader() as reader:
        groups = {level: reader.groups(level.value) for level in strategy.levels}
        for block, aggregates in zip(blocks, tables, strict=True):
            keys = pc.binary_join_element_wise(aggregates["level"], aggregates["metric"], "\x1e")
            keep = pc.or_(pc.is_in(keys, value_set=wanted), pc.equal(aggregates["metric"], HEADCOUNT))
            measured.append(measure_block(strategy, block, aggregates.filter(keep), groups))
            structures[block.key] = reader.structure(levels=levels, first_day=block.start, end_day=block.end)
    noise_seconds = time.perf_counter() - started
    cost = sum((strategy.block_cost(block).value for block in blocks), Rho.zero().value)
    table = derive(
        strategy, spec, pa.concat_tables(measured), structures, release_id="bench", rho_charged=Rho(cost)
    )
    seconds = time.perf_counter() - began
    return {
        "seconds": seconds,
        "aggregate_seconds": aggregate_seconds,
        "noise_seconds": noise_seconds,
        "cells": len(table.cells),
    }


def floor_job(spark: object, root: str) -> float:
    """Seconds of the least Spark job over the store's facts: read, sum per person, week and metric, count."""
    from pyspark.sql import functions as F

    from teamlens.spark.aggregate import FACT_COLUMNS
    from teamlens.store import FactStore

    with FactStore(Path(root)).files() as files:
        paths = [str(path) for path in files.months.values()]
        started = time.perf_counter()
        facts = spark.read.schema(FACT_COLUMNS).parquet(*paths)  # type: ignore[attr-defined]
        weekly = facts.groupBy("person", F.date_sub("day", F.weekday("day")).alias("week"), "metric")
        weekly.agg(F.sum("value").alias("v")).count()
        return time.perf_counter() - started


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
    head = "from pathlib import Path\nfrom bench._release_data import Size\n" + _CPU + args
    timed = "cpu = session_cpu()\n{call}\nresult['cpu_seconds'] = session_cpu() - cpu\n"
    if kind == "plain DuckDB query":
        code = head + "from bench._release_runs import time_baseline\n"
        code += timed.format(call="result = time_baseline(root, people, days)")
    elif kind == "teamlens on DuckDB":
        code = head + "from bench._release_runs import time_teamlens\n"
        code += timed.format(call="result = time_teamlens(root, people, days)")
    elif kind == "teamlens on Spark local":
        code = head + _SPARK + "from bench.bench_scale import time_spark\n"
        code += timed.format(call="result = time_spark(spark, root, people, days)")
        code += "cpu = session_cpu()\nfrom bench.bench_scale import floor_job\n"
        code += "result['floor_seconds'] = floor_job(spark, root)\n"
        code += "result['floor_cpu_seconds'] = session_cpu() - cpu\n" + _JVM_PEAK
    else:
        code = head + _SPARK + "cpu = session_cpu()\n" + _PEER
        code += "result['cpu_seconds'] = session_cpu() - cpu\n" + _JVM_PEAK
    return _in_group(code)


def _in_group(code: str) -> dict[str, float]:
    """``code`` in a fresh interpreter in its own process group, so a timeout also ends its JVM."""
    wrapper = (
        "import json, resource, sys\n"
        f"{code}\n"
        "with open('/proc/self/status') as status:\n"
        "    kib = next(int(line.split()[1]) for line in status if line.startswith('VmHWM:'))\n"
        "result['peak_mib'] = kib / 1024\n"
        "print(json.dumps(result))\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", wrapper],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = child.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
        raise
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)  # a JVM left behind by a finished run
    if child.returncode != 0:
        raise subprocess.CalledProcessError(child.returncode, "bench scale run", out, err)
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def _peer_installed() -> bool:
    try:
        import pipeline_dp  # noqa: F401
    except ImportError:
        return False
    return True


def _sizes() -> list[str]:
    chosen = os.environ.get("TEAMLENS_SCALE_SIZES")
    return chosen.split(",") if chosen else list(PEOPLE)


def _runs() -> list[str]:
    """The runs to make: all, or those numbered (1–4, in ``RUNS``' order) by ``TEAMLENS_SCALE_RUNS``."""
    chosen = os.environ.get("TEAMLENS_SCALE_RUNS")
    return [RUNS[int(number) - 1] for number in chosen.split(",")] if chosen else list(RUNS)


def measure() -> dict[int, dict[str, dict[str, float]]]:
    """Every run at every size: {facts: {run: figures}}."""
    figures: dict[int, dict[str, dict[str, float]]] = {}
    for name in ["10M"] if quick() else _sizes():
        size = Size(PEOPLE[name], 60 if quick() else DAYS)
        root, built = scale_store(size)
        from teamlens.store import FactStore

        rows = FactStore(root).stats().fact_rows
        print(f"  {rows:,} facts (store built in {built:.0f} s)", flush=True)
        figures[rows] = {}
        for kind in RUNS:
            if kind in RUNS[2:] and name not in SPARK_SIZES:
                continue
            if kind == "PipelineDP on Spark" and not _peer_installed():
                continue
            if kind not in _runs():
                continue
            print(f"  {rows:,} facts: {kind} … (load {os.getloadavg()[0]:.1f})", flush=True)
            figures[rows][kind] = {**_run(kind, root, size), "load": os.getloadavg()[0]}
            print(f"    {figures[rows][kind]}", flush=True)
    return figures


def _chart(figures: dict[int, dict[str, dict[str, float]]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10.0, 4.2), dpi=120)
    for ax, measure, label in (
        (axes[0], "seconds", "wall time (s), one run"),
        (axes[1], "cpu_seconds", "CPU time of every process (s)"),
    ):
        for kind in RUNS:
            points = [
                (rows, runs[kind][measure])
                for rows, runs in sorted(figures.items())
                if kind in runs and "failed" not in runs[kind] and measure in runs[kind]
            ]
            line = ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=kind)[0]
            stopped = [
                (rows, runs[kind]["seconds"])
                for rows, runs in sorted(figures.items())
                if kind in runs and runs[kind].get("failed") == 1.0 and measure == "seconds"
            ]
            if stopped:  # stopped at the time limit: the run takes at least this long
                ax.plot(
                    *zip(*stopped, strict=True), marker="^", fillstyle="none", ls="", color=line.get_color()
                )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("person-day facts")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8, title="▵ stopped at the time limit", title_fontsize=8)
    fig.suptitle("One release of the benchmark report (a shared two-core machine)")
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


def _row(rows: int, kind: str, figure: dict[str, float], runs: dict[str, dict[str, float]]) -> str:
    base = runs["plain DuckDB query"]
    load = f"{figure['load']:.1f}" if "load" in figure else ""
    if figure.get("failed") == 1.0:
        stopped = f"> {figure['seconds'] / 60:.0f} min (stopped)"
        return (
            f"| {rows:,} | {kind} | {stopped} | > {figure['seconds'] / base['seconds']:.0f}× | | | | {load} |"
        )
    if "failed" in figure:
        return f"| {rows:,} | {kind} | failed | | | | | {load} |"
    ratio = figure["seconds"] / base["seconds"]
    cpu = figure.get("cpu_seconds", float("nan"))
    cpu_ratio = cpu / base.get("cpu_seconds", float("nan"))
    return (
        f"| {rows:,} | {kind} | {figure['seconds']:.1f} | {ratio:.1f}× | {cpu:.1f} | {cpu_ratio:.1f}× | "
        f"{_peak(figure):,.0f} | {load} |"
    )


def section(figures: dict[int, dict[str, dict[str, float]]], load: float, note: str = "") -> str:
    """The Markdown section of ``figures`` (measured at load average ``load``), with a closing ``note``."""
    lines = [
        "## Scale: DuckDB, Spark local and a Spark peer (`python -m bench scale`)",
        "",
        f"One run each, load average {load:.1f} at the start (the machine was shared: read the ratios, "
        "not the seconds; the last column is the 1-minute load when each run ended). CPU s is the CPU time "
        "of every process of the run (Python, the JVM and its Python workers), which the load moves far less "
        "than wall time. Peak memory is the "
        "Python process's plus, for Spark, the JVM's. The Spark session is started before the clock "
        f"(JVM start excluded). Chart: [{CHART.name}]({CHART.name}).",
        "",
        "| facts | run | seconds | × plain query | CPU s | CPU × plain | peak MiB | load |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for rows, runs in sorted(figures.items()):
        lines += [_row(rows, kind, figure, runs) for kind, figure in runs.items()]
    lines.append("")
    for rows, runs in sorted(figures.items()):
        ours, peer = runs.get("teamlens on Spark local"), runs.get("PipelineDP on Spark")
        if ours and "failed" not in ours:
            lines.append(
                f"- {rows:,} facts, teamlens on Spark: {ours['aggregate_seconds']:.1f} s in the one Spark "
                f"job for all blocks, {ours['noise_seconds']:.1f} s noise and charts, the rest derive; the "
                f"least Spark job over the same facts (read, sum per person, week and metric) takes "
                f"{ours['floor_seconds']:.1f} s ({ours.get('floor_cpu_seconds', float('nan')):.1f} CPU s)."
            )
        if ours and peer and "failed" not in ours:
            speedup = peer["seconds"] / ours["seconds"]
            more = "at least " if "failed" in peer else ""
            lines.append(
                f"- {rows:,} facts, teamlens on Spark against PipelineDP on Spark: "
                f"{more}{speedup:.1f}× faster"
                + (
                    f" (goal at 10M: 10×, {'met' if speedup >= 10 else 'missed'})."
                    if rows < 50_000_000
                    else "."
                )
            )
        duck = runs.get("teamlens on DuckDB")
        if duck and rows > 500_000_000 and "failed" not in duck:
            ratio = duck["seconds"] / runs["plain DuckDB query"]["seconds"]
            lines.append(
                f"- {rows:,} facts on DuckDB: teamlens {ratio:.2f}× the plain query (goal ≤ 2×: "
                f"{'met' if ratio <= 2 else 'missed'}), peak {_peak(duck) / 1024:.2f} GiB (goal < 8 GiB: "
                f"{'met' if _peak(duck) < 8192 else 'missed'})."
            )
    if note:
        lines += ["", note]
    return "\n".join(lines) + "\n"
