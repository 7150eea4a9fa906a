"""One local Spark (``local[2]``) for the whole session: a JVM start costs seconds on a busy machine.

The Spark tests skip, saying why, when PySpark (``teamlens[spark]``) or Java is missing;
``scripts/test-services.sh`` installs Debian's Java under CI.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

#: The pseudonymisation key the local executors hold: their Python workers inherit the JVM's
#: environment, which is the test process's when the session starts (docs/scaling.md, "The key").
#: Ingestion tests give their installations this key; it is in no other test's environment.
EXECUTOR_KEY = "5a" * 32


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The session's local Spark, stopped after the last test."""
    pytest.importorskip("pyspark", reason="PySpark is not installed (pip install 'teamlens[spark]')")
    if shutil.which("java") is None:
        pytest.skip("Java is not installed: local Spark needs a JRE 17 or later (default-jre-headless)")
    from teamlens.spark import spark_session

    before = os.environ.get("TEAMLENS_KEY")
    os.environ["TEAMLENS_KEY"] = EXECUTOR_KEY
    try:
        session = _start(spark_session, tmp_path_factory)
    finally:
        if before is None:
            del os.environ["TEAMLENS_KEY"]
        else:
            os.environ["TEAMLENS_KEY"] = before
    yield session
    session.stop()


def _start(spark_session: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return spark_session(
        "local[2]",
        **{
            "spark.local.dir": str(tmp_path_factory.mktemp("spark-local")),
            "spark.ui.enabled": "false",
            "spark.sql.shuffle.partitions": "2",
            "spark.driver.memory": "1g",
        },
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """PySpark leaves its local sockets to the garbage collector (a ResourceWarning, not a leak of ours)."""
    for item in items:
        if "tests/spark/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.filterwarnings("ignore::ResourceWarning"))
            item.add_marker(pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"))
