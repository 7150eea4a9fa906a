"""Clipped weekly totals per level and group on Spark: ``FactStore.aggregate_block``, computed by a cluster.

``aggregate_block`` is the store's DuckDB query (``teamlens.store._aggregate``) written with
Spark's DataFrame API, step for step, over the same Parquet files: the same population (the
directory's placement each Monday, people with facts it does not place, objectors removed),
the same hidden keys, the same L2 clipping per person, metric and block, the same fixed-point
scaling rounded down, the same headcount rows, and a ``BLOCK_AGGREGATE_SCHEMA`` table sorted
the same way. Any difference between the two is a bug: the equality test in
``tests/integration/test_spark_backend.py`` runs one catalogue release on both.

Nothing here adds noise or decides bounds: the clips come from ``teamlens.privacy``'s strategy
and the totals go back to it (``services.release``). Only these totals, never a row per person,
leave Spark for the driver.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from teamlens.domain import BLOCK_AGGREGATE_SCHEMA, HEADCOUNT, HIDDEN_PREFIX, GroupLevel
from teamlens.errors import ConfigError, InternalError

# One source for the constants both engines must agree on.
from teamlens.store import ORGANISATION_GROUP, MetricClip, StoreFiles, level_column, months_between
from teamlens.store._aggregate import _CHAIN, _CLIP_MARGIN

if TYPE_CHECKING:
    from teamlens.store import FactStore

#: The store's fact and directory columns as Spark reads them (``FACT_SCHEMA``, ``DIRECTORY_SCHEMA``).
FACT_COLUMNS = T.StructType(
    [
        T.StructField("person", T.StringType(), False),
        T.StructField("day", T.DateType(), False),
        T.StructField("days", T.ByteType(), False),
        T.StructField("metric", T.StringType(), False),
        T.StructField("value", T.LongType(), False),
        T.StructField("source", T.StringType(), False),
    ]
)
DIRECTORY_COLUMNS = T.StructType(
    [
        T.StructField("person", T.StringType(), False),
        T.StructField("valid_from", T.DateType(), False),
        T.StructField("valid_to", T.DateType(), True),
        *(T.StructField(name, T.StringType(), True) for name in (*_CHAIN, "location")),
    ]
)


class SparkAggregator:
    """The release engine's block aggregation on Spark, over a ``FactStore``'s current files.

    It has ``FactStore.aggregate_block``'s signature and result, so ``services.release`` calls
    either without knowing which (``Workspace.aggregator``, chosen by ``TEAMLENS_ENGINE``).
    """

    def __init__(self, store: FactStore, spark: SparkSession) -> None:
        self.store = store
        self.spark = spark

    def aggregate_block(
        self,
        *,
        levels: Sequence[str],
        weeks: Sequence[dt.date],
        clips: Mapping[str, MetricClip],
        headcount: bool,
        exclude: Collection[str] = (),
    ) -> pa.Table:
        """One clipping block's fixed-point totals per level, group and week (``BLOCK_AGGREGATE_SCHEMA``)."""
        group_levels = [level_column(level) for level in levels]
        with self.store.files() as files:
            _require_plain(files)
            return aggregate_block(
                self.spark,
                files,
                levels=group_levels,
                weeks=weeks,
                clips=clips,
                headcount=headcount,
                exclude=exclude,
            )


def _require_plain(files: StoreFiles) -> None:
    if files.encrypted:
        raise ConfigError(
            "The Spark engine cannot read this fact store: its files are encrypted with a key "
            "only teamlens holds (TEAMLENS_ENCRYPT_STORE).",
            "Use TEAMLENS_ENGINE=duckdb for an encrypted store, or keep the store unencrypted on "
            "storage the lake encrypts at rest (docs/scaling.md).",
        )


def _key(level: GroupLevel) -> Column:
    """A person's key at ``level``: their group, or a hidden key naming the nearest coarser group."""
    if level is GroupLevel.ORGANISATION:
        return F.lit(ORGANISATION_GROUP)
    hidden = F.lit(HIDDEN_PREFIX)
    if level is GroupLevel.LOCATION:
        return F.coalesce(F.col("location"), hidden)
    coarser = _CHAIN[: _CHAIN.index(level.value)]
    nearest = F.coalesce(*(F.concat(F.lit(f"{name}="), F.col(name)) for name in reversed(coarser)), F.lit(""))
    return F.coalesce(F.col(level.value), F.concat(hidden, nearest))


def _read(spark: SparkSession, files: Sequence[Path], schema: T.StructType) -> DataFrame:
    if not files:
        return spark.createDataFrame([], schema)
    return spark.read.schema(schema).parquet(*(str(path) for path in files))


def aggregate_block(
    spark: SparkSession,
    files: StoreFiles,
    *,
    levels: Sequence[GroupLevel],
    weeks: Sequence[dt.date],
    clips: Mapping[str, MetricClip],
    headcount: bool,
    exclude: Collection[str],
) -> pa.Table:
    """Clipped fixed-point totals per level, group, week and metric as ``BLOCK_AGGREGATE_SCHEMA``.

    The steps and their names follow ``teamlens.store._aggregate``'s query (read it first).
    """
    if not levels or len(set(levels)) != len(levels):
        raise InternalError("aggregate_block() needs a non-empty list of distinct levels")
    if not weeks or any(week.weekday() != 0 for week in weeks):
        raise InternalError("aggregate_block() needs the Mondays of a block")
    for bound in clips.values():
        if not (math.isfinite(bound.norm_bound) and bound.norm_bound > 0 and bound.scale >= 1):
            raise InternalError("aggregate_block() was given a clipping bound that is not positive")
    first_day, end_day = min(weeks), max(weeks) + dt.timedelta(days=7)
    wanted = months_between(first_day, end_day)
    facts = _read(
        spark, [path for month, path in sorted(files.months.items()) if month in wanted], FACT_COLUMNS
    )
    directory = _read(spark, [files.directory] if files.directory else [], DIRECTORY_COLUMNS)
    block_weeks = spark.createDataFrame([(week,) for week in sorted(weeks)], "week date")
    excluded = spark.createDataFrame([(person,) for person in sorted(set(exclude))], "person string")
    clip = spark.createDataFrame(
        [(metric, float(c.norm_bound), int(c.scale)) for metric, c in clips.items()],
        "metric string, norm_bound double, scale long",
    )

    # Each person's weekly value of each metric (facts summed, negatives count as 0).
    weekly = (
        facts.where((F.col("day") >= F.lit(first_day)) & (F.col("day") < F.lit(end_day)))
        .where(F.col("metric").isin(list(clips)))
        .withColumn("week", F.date_sub(F.col("day"), F.weekday(F.col("day"))))
        .groupBy("person", "week", "metric")
        .agg(F.greatest(F.sum("value"), F.lit(0).cast("long")).alias("v"))
    )
    # Where the directory places each person each Monday (their latest row valid that day).
    placed = (
        block_weeks.join(
            directory,
            (directory.valid_from <= block_weeks.week)
            & (directory.valid_to.isNull() | (block_weeks.week < directory.valid_to)),
        )
        .withColumn(
            "pick", F.row_number().over(Window.partitionBy("week", "person").orderBy(F.desc("valid_from")))
        )
        .where(F.col("pick") == 1)
        .select("week", "person", *_CHAIN, "location")
    )
    unplaced = (
        weekly.select("week", "person")
        .distinct()
        .join(placed, ["week", "person"], "left_anti")
        .select("week", "person", *(F.lit(None).cast("string").alias(name) for name in (*_CHAIN, "location")))
    )
    keyed = placed.unionByName(unplaced).join(F.broadcast(excluded), "person", "left_anti")
    members = keyed.select(
        "week",
        "person",
        F.explode(
            F.array(
                *(F.struct(F.lit(level.value).alias("level"), _key(level).alias("grp")) for level in levels)
            )
        ).alias("member"),
    ).select("week", "person", "member.level", "member.grp")

    # Each person's vector of weekly values over the block, scaled down whole past the L2 bound.
    norms = weekly.groupBy("person", "metric").agg(
        F.sqrt(F.sum(F.col("v").cast("double") * F.col("v").cast("double"))).alias("norm")
    )
    scaled = F.when(
        F.col("norm") <= F.col("norm_bound"), F.col("v").cast("double") * F.col("scale").cast("double")
    ).otherwise(
        (F.col("v") * F.col("scale")).cast("double")
        * (F.col("norm_bound") / F.col("norm"))
        * F.lit(1 - _CLIP_MARGIN)
    )
    clipped = (
        weekly.where(F.col("v") > 0)
        .join(norms, ["person", "metric"])
        .join(F.broadcast(clip), "metric")
        .select("person", "week", "metric", F.floor(scaled).cast("long").alias("x"))
    )

    totals = (
        clipped.join(members, ["person", "week"])
        .groupBy("level", "grp", "week", "metric")
        .agg(F.sum("x").alias("total"))
    )
    if headcount:
        people = members.groupBy("level", "grp").agg(F.count(F.lit(1)).alias("total"))
        totals = totals.unionByName(
            people.select(
                "level", "grp", F.lit(first_day).alias("week"), F.lit(HEADCOUNT).alias("metric"), "total"
            )
        )
    result = totals.select("level", "grp", "week", "metric", "total").toArrow()
    table = result.rename_columns(BLOCK_AGGREGATE_SCHEMA.names).cast(BLOCK_AGGREGATE_SCHEMA)
    return table.sort_by(
        [("level", "ascending"), ("metric", "ascending"), ("group", "ascending"), ("week", "ascending")]
    )
