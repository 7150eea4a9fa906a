"""The Spark session teamlens runs on: the cluster's under ``spark-submit``, or a local one.

Under ``spark-submit`` (or a cloud Spark service) the session already exists and keeps the
cluster's settings; teamlens only adds what it needs when it starts a session itself:

- ``spark.io.encryption.enabled``: shuffle and spill files hold pseudonymised personal data,
  so the executors encrypt them on their local disks (the DuckDB store keeps its spill inside
  the data folder for the same reason);
- ``spark.sql.session.timeZone`` UTC, so dates never shift with the machine's zone;
- ``PYSPARK_PYTHON``, unless set: this Python, so that local executors run the same teamlens (on
  a cluster, the executors' image or environment must have ``teamlens[spark]`` installed);
- the master: ``TEAMLENS_SPARK_MASTER`` (``local[*]`` when unset and no master is configured).
"""

from __future__ import annotations

import os
import sys

from pyspark.sql import SparkSession

#: What a session teamlens starts is configured with (a running session keeps its own).
SESSION_CONFIG = {
    "spark.io.encryption.enabled": "true",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "8",
    "spark.ui.showConsoleProgress": "false",
}


def spark_session(master: str | None = None, **config: str) -> SparkSession:
    """The running Spark session, or a new one on ``master`` with teamlens's settings and ``config``."""
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = SparkSession.builder.appName("teamlens")
    for name, value in {**SESSION_CONFIG, **config}.items():
        builder = builder.config(name, value)
    # spark-submit starts the JVM first and hands its gateway over: its master stands.
    if master is not None or "PYSPARK_GATEWAY_PORT" not in os.environ:
        builder = builder.master(master or "local[*]")
        # PySpark starts its workers with PYSPARK_PYTHON (default: python3 on PATH, without teamlens).
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    return builder.getOrCreate()
