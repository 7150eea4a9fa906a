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
    BLOCK_AGGREGATE_SCHEMA,
    DIRECTORY_SCHEMA,
    EDGE_SCHEMA,
    FACT_KEY,
    FACT_SCHEMA,
    HEADCOUNT,
    HIDDEN_PREFIX,
    MEASUREMENT_SCHEMA,
    STRUCTURE_SCHEMA,
)
from teamlens.domain.jurisdiction import (
    DEFAULT_JURISDICTION,
    PROFILES,
    Document,
    Jurisdiction,
    Profile,
    Reference,
    RepresentativeBody,
    profile,
)
from teamlens.domain.metrics import METRICS, MetricDef, Unit, metric
from teamlens.domain.policy import (
    COMPARISON_FLOOR,
    COMPARISON_LEVELS,
    DEFAULT_MIN_GROUP_SIZE,
    MIN_GROUP_SIZE_FLOOR,
    Exclusions,
    GroupLevel,
    HeadcountSpan,
    LawfulBasis,
    MetricBound,
    Policy,
    Purpose,
    ReleaseDesign,
    ReportDef,
    ReportKind,
    WorkingHours,
    is_sensitive,
)
from teamlens.domain.release import ReleasedCell, ReleasedTable
from teamlens.domain.windows import Cadence, Window, monday_of, windows_between

__all__ = [
    "BLOCK_AGGREGATE_SCHEMA",
    "COMPARISON_FLOOR",
    "COMPARISON_LEVELS",
    "DEFAULT_JURISDICTION",
    "DEFAULT_MIN_GROUP_SIZE",
    "DIRECTORY_READ_SCHEMA",
    "DIRECTORY_SCHEMA",
    "EDGE_SCHEMA",
    "FACT_KEY",
    "FACT_SCHEMA",
    "HEADCOUNT",
    "HIDDEN_PREFIX",
    "MEASUREMENT_SCHEMA",
    "METRICS",
    "MIN_GROUP_SIZE_FLOOR",
    "PROFILES",
    "STRUCTURE_SCHEMA",
    "Cadence",
    "Document",
    "Exclusions",
    "GroupLevel",
    "HeadcountSpan",
    "Jurisdiction",
    "LawfulBasis",
    "MetricBound",
    "MetricDef",
    "Policy",
    "Profile",
    "Purpose",
    "Reference",
    "ReleaseDesign",
    "ReleasedCell",
    "ReleasedTable",
    "ReportDef",
    "ReportKind",
    "RepresentativeBody",
    "Rho",
    "Unit",
    "Window",
    "WorkingHours",
    "is_sensitive",
    "metric",
    "monday_of",
    "profile",
    "windows_between",
]
