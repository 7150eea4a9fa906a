"""Clipped weekly totals per level and group on Spark: ``FactStore.aggregate_block``, computed by a cluster.

``aggregate_blocks`` is the store's DuckDB query (``teamlens.store._aggregate``) written with
Spark's DataFrame API, step for step, over the same Parquet files: the same population (the
directory's placement each Monday, people with facts it does not place, objectors removed),
the same hidden keys, the same L2 clipping per person, metric and block, the same fixed-point
scaling rounded down, the same headcount rows, and a ``BLOCK_AGGREGATE_SCHEMA`` table per block
sorted the same way. Any difference between the two is a bug: the equality tests in
``tests/spark`` compare them block by block and over one catalogue release.

A release measures every missing block of a period at once, so all of them are computed in
**one Spark job**: every row carries its block's number, the clipping (norms, bounds,
objectors, headcount) is partitioned by block exactly as the single-block query does it, and
the totals are collected once and split by block. One job per monthly block cost a fixed
17–23 s each on a local Spark (scheduling, Parquet listing, shuffles), 17 times a release.

Nothing here adds noise or decides bounds: the clips come from ``teamlens.privacy``'s strategy
and the totals go back to it (``services.release``). Only these totals, never a row per person,
leave Spark for the driver.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
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


@dataclass(frozen=True)
class BlockQuery:
    """One clipping block's question, as ``FactStore.aggregate_block`` takes it (levels aside)."""

    weeks: Sequence[dt.date]
    clips: Mapping[str, MetricClip]
    headcount: bool
    exclude: Collection[str] = ()


class SparkAggregator:
    """The release engine's block aggregation on Spark, over a ``FactStore``'s current files.

    ``aggregate_block`` has ``FactStore.aggregate_block``'s signature and result, so
    ``services.release`` calls either without knowing which (``Workspace.aggregator``, chosen by
    ``TEAMLENS_ENGINE``); ``aggregate_blocks`` answers many blocks in one Spark job.
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
        query = BlockQuery(weeks=weeks, clips=clips, headcount=headcount, exclude=exclude)
        return self.aggregate_blocks(levels=levels, blocks=[query])[0]

    def aggregate_blocks(self, *, levels: Sequence[str], blocks: Sequence[BlockQuery]) -> list[pa.Table]:
        """Each block's ``aggregate_block`` table, in the order given, computed by one Spark job."""
        group_levels = [level_column(level) for level in levels]
        with self.store.files() as files:
            _require_plain(files)
            return aggregate_blocks(self.spark, files, levels=group_levels, blocks=blocks)


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
        return _local(spark, [], schema)
    return spark.read.schema(schema).parquet(*(str(path) for path in files))


def _local(spark: SparkSession, rows: Sequence[tuple[object, ...]], schema: T.StructType) -> DataFrame:
    """A small table of ``rows`` as SQL literals: planned by the JVM alone (no Python worker reads it)."""
    if not rows:
        empty = spark.range(0)
        return empty.select(*(F.lit(None).cast(field.dataType).alias(field.name) for field in schema.fields))
    structs = [
        F.struct(
            *(
                F.lit(value).cast(field.dataType).alias(field.name)
                for value, field in zip(row, schema.fields, strict=True)
            )
        )
        for row in rows
    ]
    return spark.range(1).select(F.inline(F.array(*structs)))


def _check(levels: Sequence[GroupLevel], blocks: Sequence[BlockQuery]) -> None:
    if not levels or len(set(levels)) != len(levels):
        raise InternalError("aggregate_block() needs a non-empty list of distinct levels")
    for block in blocks:
        if not block.weeks or any(week.weekday() != 0 for week in block.weeks):
            raise InternalError("aggregate_block() needs the Mondays of a block")
        for bound in block.clips.values():
            if not (math.isfinite(bound.norm_bound) and bound.norm_bound > 0 and bound.scale >= 1):
                raise InternalError("aggregate_block() was given a clipping bound that is not positive")


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
    """Clipped fixed-point totals per level, group, week and metric as ``BLOCK_AGGREGATE_SCHEMA``."""
    query = BlockQuery(weeks=weeks, clips=clips, headcount=headcount, exclude=exclude)
    return aggregate_blocks(spark, files, levels=levels, blocks=[query])[0]


def aggregate_blocks(
    spark: SparkSession, files: StoreFiles, *, levels: Sequence[GroupLevel], blocks: Sequence[BlockQuery]
) -> list[pa.Table]:
    """Every block's clipped totals (``BLOCK_AGGREGATE_SCHEMA``, sorted as the store sorts them), one job.

    The steps and their names follow ``teamlens.store._aggregate``'s query (read it first); every
    row carries ``b``, its block's position in ``blocks``, and every step that the single-block
    query does over the whole block (weeks, norms, objectors, headcount) is done per ``b``.
    """
    _check(levels, blocks)
    if not blocks:
        return []
    spans = [(min(block.weeks), max(block.weeks) + dt.timedelta(days=7)) for block in blocks]
    wanted = set().union(*(months_between(first, end) for first, end in spans))
    facts = _read(
        spark, [path for month, path in sorted(files.months.items()) if month in wanted], FACT_COLUMNS
    )
    directory = _read(spark, [files.directory] if files.directory else [], DIRECTORY_COLUMNS)
    block_weeks = _local(
        spark,
        [(b, week) for b, block in enumerate(blocks) for week in sorted(set(block.weeks))],
        T.StructType([T.StructField("b", T.IntegerType()), T.StructField("week", T.DateType())]),
    )
    excluded = _local(
        spark,
        [(b, person) for b, block in enumerate(blocks) for person in sorted(set(block.exclude))],
        T.StructType([T.StructField("b", T.IntegerType()), T.StructField("person", T.StringType())]),
    )
    clip = _local(
        spark,
        [
            (b, metric, float(c.norm_bound), int(c.scale))
            for b, block in enumerate(blocks)
            for metric, c in block.clips.items()
        ],
        T.StructType(
            [
                T.StructField("b", T.IntegerType()),
                T.StructField("metric", T.StringType()),
                T.StructField("norm_bound", T.DoubleType()),
                T.StructField("scale", T.LongType()),
            ]
        ),
    )
    firsts = _local(
        spark,
        [
            (b, first)
            for b, ((first, _), block) in enumerate(zip(spans, blocks, strict=True))
            if block.headcount
        ],
        T.StructType([T.StructField("b", T.IntegerType()), T.StructField("first_day", T.DateType())]),
    )

    # Each person's weekly value of each metric (facts summed, negatives count as 0), per block:
    # computed once and kept, as every later step reads it (one scan of the facts).
    in_any = F.lit(False)
    for first, end in spans:
        in_any = in_any | ((F.col("day") >= F.lit(first)) & (F.col("day") < F.lit(end)))
    weekly = (
        facts.where(in_any)
        .withColumn("week", F.date_sub(F.col("day"), F.weekday(F.col("day"))))
        .join(F.broadcast(block_weeks), "week")
        .join(F.broadcast(clip.select("b", "metric")), ["b", "metric"], "left_semi")
        .groupBy("b", "person", "week", "metric")
        .agg(F.greatest(F.sum("value"), F.lit(0).cast("long")).alias("v"))
        .cache()
    )
    # Where the directory places each person each Monday (their latest row valid that day).
    placed = (
        F.broadcast(block_weeks)
        .join(
            directory,
            (directory.valid_from <= block_weeks.week)
            & (directory.valid_to.isNull() | (block_weeks.week < directory.valid_to)),
        )
        .withColumn(
            "pick",
            F.row_number().over(Window.partitionBy("b", "week", "person").orderBy(F.desc("valid_from"))),
        )
        .where(F.col("pick") == 1)
        .select("b", "week", "person", *_CHAIN, "location")
    )
    # Everyone placed, and everyone active whom the directory does not place (no group: NULLs).
    active = weekly.select("b", "week", "person").distinct()
    present = placed.join(active, ["b", "week", "person"], "full_outer").join(
        F.broadcast(excluded), ["b", "person"], "left_anti"
    )
    key_columns = [f"k_{level.value}" for level in levels]
    keyed = present.select(
        "b",
        "week",
        "person",
        *(_key(level).alias(name) for level, name in zip(levels, key_columns, strict=True)),
    ).cache()

    # Each person's vector of weekly values over the block, scaled down whole past the L2 bound
    # (weeks with 0 add nothing to the norm, so only positive weeks are kept).
    norm = F.sqrt(
        F.sum(F.col("v").cast("double") * F.col("v").cast("double")).over(
            Window.partitionBy("b", "person", "metric")
        )
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
        .withColumn("norm", norm)
        .join(F.broadcast(clip), ["b", "metric"])
        .select("b", "person", "week", "metric", F.floor(scaled).cast("long").alias("x"))
    )

    # Summed per combination of keys first, so that each level's totals add up far fewer rows.
    by_keys = (
        clipped.join(keyed, ["b", "person", "week"])
        .groupBy("b", "week", "metric", *key_columns)
        .agg(F.sum("x").alias("x"))
    )
    totals = (
        _per_level(by_keys, levels, key_columns)
        .groupBy("b", "level", "grp", "week", "metric")
        .agg(F.sum("x").alias("total"))
    )
    if any(block.headcount for block in blocks):
        weeks_by_keys = (
            keyed.join(F.broadcast(firsts), "b")
            .groupBy("b", "first_day", *key_columns)
            .agg(F.count(F.lit(1)).alias("x"))
        )
        people = (
            _per_level(weeks_by_keys, levels, key_columns)
            .groupBy("b", "level", "grp", "first_day")
            .agg(F.sum("x").alias("total"))
        )
        totals = totals.unionByName(
            people.select(
                "b",
                "level",
                "grp",
                F.col("first_day").alias("week"),
                F.lit(HEADCOUNT).alias("metric"),
                "total",
            )
        )
    result = totals.select("b", "level", "grp", "week", "metric", "total").toArrow()
    keyed.unpersist()
    weekly.unpersist()
    return [_block_table(result, b) for b in range(len(blocks))]


def _per_level(frame: DataFrame, levels: Sequence[GroupLevel], key_columns: Sequence[str]) -> DataFrame:
    """``frame`` with one row per level instead of one key column per level (``level``, ``grp``)."""
    pairs = [
        F.struct(F.lit(level.value).alias("level"), F.col(name).alias("grp"))
        for level, name in zip(levels, key_columns, strict=True)
    ]
    rest = [name for name in frame.columns if name not in key_columns]
    return frame.select(*rest, F.explode(F.array(*pairs)).alias("member")).select(
        *rest, "member.level", "member.grp"
    )


def _block_table(result: pa.Table, b: int) -> pa.Table:
    table = result.filter(pc.equal(result["b"], b)).drop_columns(["b"])
    table = table.rename_columns(BLOCK_AGGREGATE_SCHEMA.names).cast(BLOCK_AGGREGATE_SCHEMA)
    return table.sort_by(
        [("level", "ascending"), ("metric", "ascending"), ("group", "ascending"), ("week", "ascending")]
    )
