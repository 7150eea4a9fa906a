"""The values every part of teamlens shares; imports nothing else from teamlens.

Windows (``windows.py``) are fixed ISO-week-based calendar periods; metrics (``metrics.py``)
are the closed catalogue of integer counters; a ``Policy`` (``policy.py``) is the validated
form of the policy TOML; ``Rho`` (``budget.py``) is an exact zCDP budget; the Arrow schemas
that cross package boundaries are in ``facts.py`` (what a directory connector reads beyond what
the store keeps, in ``directory.py``); what a release returns is in ``release.py``.
"""

from teamlens.domain.budget import Rho
from teamlens.domain.directory import DIRECTORY_READ_SCHEMA
from teamlens.domain.facts import (
    AGGREGATE_SCHEMA,
    DIRECTORY_SCHEMA,
    FACT_KEY,
    FACT_SCHEMA,
    HEADCOUNT,
    NOISY_SCHEMA,
)
from teamlens.domain.metrics import METRICS, MetricDef, Unit, metric
from teamlens.domain.policy import (
    DEFAULT_MIN_GROUP_SIZE,
    MIN_GROUP_SIZE_FLOOR,
    Exclusions,
    GroupLevel,
    LawfulBasis,
    MetricBound,
    Policy,
    Purpose,
    ReportDef,
    WorkingHours,
)
from teamlens.domain.release import MetricNoise, ReleasedCell, ReleasedTable
from teamlens.domain.windows import Cadence, Window, monday_of, windows_between

__all__ = [
    "AGGREGATE_SCHEMA",
    "DEFAULT_MIN_GROUP_SIZE",
    "DIRECTORY_READ_SCHEMA",
    "DIRECTORY_SCHEMA",
    "FACT_KEY",
    "FACT_SCHEMA",
    "HEADCOUNT",
    "METRICS",
    "MIN_GROUP_SIZE_FLOOR",
    "NOISY_SCHEMA",
    "Cadence",
    "Exclusions",
    "GroupLevel",
    "LawfulBasis",
    "MetricBound",
    "MetricDef",
    "MetricNoise",
    "Policy",
    "Purpose",
    "ReleasedCell",
    "ReleasedTable",
    "ReportDef",
    "Rho",
    "Unit",
    "Window",
    "WorkingHours",
    "metric",
    "monday_of",
    "windows_between",
]
