"""Path B's transformation: pure DataFrame -> DataFrame functions, Spark 3.3 APIs only (AWS Glue 4.0).

The stream goes through these stages (the Glue entry and the local runner call `assemble`):

1. `curate`: the shared contract (status ok / dropped / failed, reason) and the device registry's
   enrichment, run by the Lambda's own functions (`shared.record.curate`, `shared.enrichment.Registry.enrich`)
   in one Python UDF; unknown devices are kept and flagged (`known_device` false);
2. `watermarked`, `deduplicate`: a watermark on event time, then `dropDuplicates(event_id, event_ts)`: a
   re-sent event carries the same event time, so its state expires with the watermark;
3. `device_windows`: tumbling windows per device on event time (count, min, max, sum, avg temperature,
   alerts); `site_windows` rolls finished device windows up per site;
4. `maintenance_join`: a stream-stream join of telemetry with the maintenance events of the same device,
   for readings within a bound after the maintenance.

Spark 3.3 runs one query per `forEachBatch`, so `assemble` unions the branches into one streaming DataFrame,
each row tagged with its `kind` and holding its branch's columns in one struct (`tagged`), and `split_batch`
separates a micro-batch again. A streaming plan is a tree, so each branch holds its own copy of the source and
the contract; `assemble` ends their shared part with one shuffle, identical in every branch, which Spark then
runs once per micro-batch and reuses (`ReusedExchange`): the source is read and the contract applied once, not
once per branch. That takes three optimizer rules out of the job's sessions (`SPARK_SETTINGS`), which would
otherwise make the branches' copies differ. Spark 3.3 allows one streaming aggregation per query: the per-site
rollup is therefore computed per micro-batch from the device windows, which is exact because every window of
every device finalises in the same micro-batch (the one whose watermark passes the window's end).

Events later than the watermark are not silently lost: de-duplication discards them, but the stateless
`record` branch still carries every record, and `split_batch` picks out the valid ones at or below the
batch's watermark as `late`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from glue_streaming.layout import JSON_OUTPUTS, OUTPUTS
from shared import contract as c
from shared import record
from shared.enrichment import Registry
from shared.spark_columns import SESSION_SETTINGS

RECORD, CURATED, DEVICE_WINDOW, MAINTENANCE_JOIN = "record", "curated", "device_window", "maintenance_join"
SOURCE_COLUMNS = ("data", "arrival_ms", "shard_id", "sequence_number")
# What a `record` or `curated` row of `assemble` carries (in its struct `record`): the input and the judgement.
RECORD_COLUMNS = (*SOURCE_COLUMNS, "status", "reason", "reason_field", *c.CURATED_FIELD_NAMES, *c.ENRICHED_FIELD_NAMES)
CURATED_COLUMNS = (*c.CURATED_FIELD_NAMES, *c.ENRICHED_FIELD_NAMES, "arrival_ms", "shard_id", "sequence_number")
QUARANTINE_COLUMNS = ("data_base64", "reason", "reason_field", "arrival_ms", "shard_id", "sequence_number")
DROPPED_COLUMNS = ("event_id", "device_id", "event_type", "reason", "arrival_ms", "shard_id", "sequence_number")
# What every window row carries after its keys: readings, temperature statistics, alert counts.
WINDOW_FIGURES = (
    "readings",
    "temperature_readings",
    "temperature_min",
    "temperature_max",
    "temperature_sum",
    "temperature_avg",
    "alerts",
    "device_alerts",
)
WINDOW_KEYS = ("window_start", "window_end", "window_start_ms")
DEVICE_WINDOW_COLUMNS = (*WINDOW_KEYS, "device_id", "site", "region", *WINDOW_FIGURES)
SITE_WINDOW_COLUMNS = (*WINDOW_KEYS, "site", "region", "devices", *WINDOW_FIGURES)
JOIN_COLUMNS = (
    "maintenance_event_id",
    "maintenance_time",
    "maintenance_time_ms",
    "action",
    "device_id",
    "site",
    "event_id",
    "event_time",
    "event_time_ms",
    "temperature_c",
    "seconds_after",
)


# Settings of the job's Spark session, besides the contract's (`shared.spark_columns.SESSION_SETTINGS`),
# with what each was measured to do (`python -m benchmarks.micro_batch`, benchmarks/README.md):
# - ColumnPruning and PushPredicateThroughNonJoin would narrow each branch's copy of the shared part to the
#   columns and rows that branch uses, and RemoveRedundantAliases would leave the first branch of the union
#   (whose names the union keeps) with renames the others lose: the copies would differ, and Spark would read
#   the source and apply the contract once per branch (five times) instead of reusing one shuffle. The
#   branches need the contract's columns anyway, and the source has nothing to prune or push down.
# - statefulOperator.allowMultiple "false" (Spark 3.4 and later; Spark 3.3, Glue 4.0, does not know it and
#   works this way already): one watermark for the whole query. Spark's per-operator watermarks look for the
#   watermark below each operator, and the branches that reuse the shared part have none of their own.
#   With one watermark, late rows are dropped against the current batch's, as on Spark 3.3: the same on
#   every Glue version (`storage.late_watermark_ms`).
# - codegen.maxFields: above 20 output fields Spark gives up whole-stage code for a plan after generating
#   it; the contract's projections have more, and generating that code only to discard it took time.
# - inMemoryColumnarStorage.compressed "false": Glue's forEachBatch persists every micro-batch, and Spark's
#   columnar cache spent more time choosing and applying each column's compression than building the batch:
#   637,000 rows of a backlog's join output (the batch's columns, mostly null) cached in 2.4-2.7 s against
#   3.9-4.1 s compressed, and counted and written from the cache no slower (a scratch script, two runs each,
#   2026-12-01T04:45Z, benchmarks/README.md). The cache lives only for its batch, so its size matters little.
SPARK_SETTINGS = {
    **SESSION_SETTINGS,
    "spark.sql.optimizer.excludedRules": ",".join(
        [
            SESSION_SETTINGS["spark.sql.optimizer.excludedRules"],
            "org.apache.spark.sql.catalyst.optimizer.ColumnPruning",
            "org.apache.spark.sql.catalyst.optimizer.PushPredicateThroughNonJoin",
            "org.apache.spark.sql.catalyst.optimizer.RemoveRedundantAliases",
        ]
    ),
    "spark.sql.streaming.statefulOperator.allowMultiple": "false",
    "spark.sql.codegen.maxFields": "20",
    "spark.sql.inMemoryColumnarStorage.compressed": "false",
}
# Read once, when the session starts (Spark's static SQL settings): the pipeline generated about 125
# classes per micro-batch when it ran the contract as native expressions, more than the default cache of
# 100 holds, so without this each micro-batch compiled most of them again. 500 holds them with room; 2000
# once ran a 1 GB driver out of heap in `make bench` (the cache keeps every class it holds).
STARTUP_SETTINGS = {"spark.sql.codegen.cache.maxEntries": "500"}


def partition_settings(partitions: str) -> dict[str, str]:
    """The job's shuffle and state partitions (its argument `shuffle_partitions`) as session settings.

    Set by the job because Spark's default, 200, gives each of the pipeline's state stores 200 instances to load
    and commit every micro-batch: a 1,500-event micro-batch took 70.0 s on 2 cores against 4.7 s with 2 partitions
    (`python -m benchmarks.micro_batch --size 1500 [--conf spark.sql.shuffle.partitions=200]`,
    benchmarks/README.md). A query's first run records the value in its checkpoint, which keeps it across restarts.
    """
    try:
        count = int(partitions)
    except ValueError:
        count = 0
    if count < 1:
        raise ValueError(f"shuffle_partitions must be a whole number of 1 or more, got {partitions!r}")
    return {"spark.sql.shuffle.partitions": str(count)}


@dataclass(frozen=True)
class PipelineSettings:
    """The job's time settings, as Spark interval strings (the Glue job's arguments of the same names)."""

    aggregate_window: str = "1 minute"
    watermark_delay: str = "10 minutes"
    join_bound: str = "10 minutes"


_SPARK_TYPES = {"string": T.StringType(), "bigint": T.LongType(), "int": T.IntegerType()}
_SPARK_TYPES.update(double=T.DoubleType(), boolean=T.BooleanType())
# The verdict and the curated fields, in the order and types `shared.contract.CURATED_FIELDS` gives them; with
# the enrichment's fields after them (`shared.contract.ENRICHED_FIELDS`) when a registry is applied too.
CONTRACT_SCHEMA = T.StructType(
    [T.StructField(name, T.StringType()) for name in ("status", "reason", "reason_field")]
    + [T.StructField(name, _SPARK_TYPES[kind]) for name, kind in c.CURATED_FIELDS]
)
ENRICHED_SCHEMA = T.StructType(
    CONTRACT_SCHEMA.fields + [T.StructField(name, _SPARK_TYPES[kind]) for name, kind in c.ENRICHED_FIELDS]
)
# A record without an arrival time (Kinesis always gives one; Glue's text __src_timestamp could fail to parse) is
# judged as if it arrived at the last millisecond of year 9999, less the allowed skew: no real time is in its future,
# as a comparison with null fails no rule in SQL, and an event time past year 9999, which the output format cannot
# write, still fails the future-timestamp rule instead of raising in the UDF and stopping the job.
_UNKNOWN_ARRIVAL_MS = 253_402_300_799_999 - c.FUTURE_SKEW_MS


def verdict(data, arrival_ms, registry=None):  # no type hints: PySpark 4 reads them to choose an Arrow UDF
    """The contract's verdict on one record as a `CONTRACT_SCHEMA` row: the Firehose Lambda's own function.

    With a `registry` (`shared.enrichment.Registry`), an `ENRICHED_SCHEMA` row: a record the contract accepts is
    enriched by the Lambda's own lookup, as the Lambda enriches it; the others' enrichment fields are null.
    """
    names = c.ENRICHED_FIELD_NAMES if registry is not None else ()
    if data is None:  # no bytes to decode (Glue gave no text): refused as the native contract refused it
        return (c.FAILED, c.NOT_UTF8, None, *[None] * (len(c.CURATED_FIELD_NAMES) + len(names)))
    outcome = record.curate(bytes(data), _UNKNOWN_ARRIVAL_MS if arrival_ms is None else arrival_ms)
    if registry is not None and outcome.status == c.OK:
        registry.enrich(outcome.record)
    return outcome_row(outcome, names)


def outcome_row(outcome: record.Outcome, extra_fields: tuple[str, ...] = ()) -> tuple:
    """A `shared.record.Outcome` as a `CONTRACT_SCHEMA` row, followed by its record's `extra_fields`."""
    values = outcome.record or {}
    fields = (*c.CURATED_FIELD_NAMES, *extra_fields)
    return (outcome.status, outcome.reason, outcome.field, *[values.get(name) for name in fields])


def curate(raw: DataFrame, registry: Registry | None = None) -> DataFrame:
    """Apply the shared contract to raw records (`data` binary, `arrival_ms`); add `event_ts` for watermarks.

    With a `registry`, enrich the curated records too (`site`, `region`, `model`, `known_device`,
    `device_alert`; an empty registry flags every device unknown), in the same UDF and by the same lookup
    as the Lambda: a join with the registry cost every micro-batch a broadcast job and its planning (preparing a
    1,500-event micro-batch's plan 0.49-0.54 s with the lookup in the UDF against 0.54-0.62 s with the join;
    `python -m benchmarks.micro_batch`, 2026-12-01T04:55Z, two runs each, benchmarks/README.md).

    A Python UDF over `shared.record.curate`, not the contract as native expressions (`shared.spark_columns`):
    a streaming query plans its whole plan again every micro-batch, and the native contract's expression tree,
    held once per branch of `assemble`, cost a 1,500-event micro-batch 0.83 s of planning and 1.17 s of
    preparing (code generation) against 0.23 s and 0.46 s with the UDF; 4.13 s in all against 2.69 s, and
    10.86 s against 9.56 s at 20,000 events (`python -m benchmarks.micro_batch`, benchmarks/README.md).
    """
    if registry is None:
        contract = F.udf(verdict, CONTRACT_SCHEMA)
    else:

        def enriched_verdict(data, arrival_ms):
            return verdict(data, arrival_ms, registry)

        contract = F.udf(enriched_verdict, ENRICHED_SCHEMA)
    checked = raw.select(*raw.columns, contract("data", "arrival_ms").alias("_verdict"))
    curated = checked.select(*raw.columns, "_verdict.*")
    return curated.withColumn("event_ts", F.expr("timestamp_millis(event_time_ms)"))


def valid(enriched: DataFrame) -> DataFrame:
    """The records the contract accepts (status ok)."""
    return enriched.filter(F.col("status") == c.OK)


def watermarked(enriched: DataFrame, settings: PipelineSettings) -> DataFrame:
    """The records with the event-time watermark that de-duplication, windows and the join expire state by."""
    return enriched.withWatermark("event_ts", settings.watermark_delay)


def deduplicate(records: DataFrame) -> DataFrame:
    """Valid records of a `watermarked` frame, each event_id once while its event time is within the watermark."""
    return records.dropDuplicates(["event_id", "event_ts"])


def _millis(column: str) -> Column:
    return F.expr(f"unix_millis({column})")


def device_windows(deduped: DataFrame, settings: PipelineSettings) -> DataFrame:
    """Tumbling event-time windows of telemetry per device; a window is emitted once the watermark passes it."""
    telemetry = deduped.filter(F.col("event_type") == c.TELEMETRY)
    windows = telemetry.groupBy(
        F.window("event_ts", settings.aggregate_window).alias("window"), "device_id", "site", "region"
    ).agg(
        F.count(F.lit(1)).alias("readings"),
        F.count("temperature_c").alias("temperature_readings"),
        F.min("temperature_c").alias("temperature_min"),
        F.max("temperature_c").alias("temperature_max"),
        F.sum("temperature_c").alias("temperature_sum"),
        F.sum(F.when(F.col("alert"), 1).otherwise(0)).alias("alerts"),
        F.sum(F.when(F.col("device_alert"), 1).otherwise(0)).alias("device_alerts"),
    )
    return windows.select(
        F.col("window.start").alias("window_start"),
        F.col("window.end").alias("window_end"),
        _millis("window.start").alias("window_start_ms"),
        "device_id",
        "site",
        "region",
        "readings",
        "temperature_readings",
        "temperature_min",
        "temperature_max",
        "temperature_sum",
        (F.col("temperature_sum") / F.col("temperature_readings")).alias("temperature_avg"),
        F.col("alerts").cast("long").alias("alerts"),
        F.col("device_alerts").cast("long").alias("device_alerts"),
    )


def site_windows(device_rows: DataFrame) -> DataFrame:
    """Finished device windows rolled up per site (static: one micro-batch's device windows)."""
    rolled = device_rows.groupBy("window_start", "window_end", "window_start_ms", "site", "region").agg(
        F.count(F.lit(1)).alias("devices"),
        F.sum("readings").alias("readings"),
        F.sum("temperature_readings").alias("temperature_readings"),
        F.min("temperature_min").alias("temperature_min"),
        F.max("temperature_max").alias("temperature_max"),
        F.sum("temperature_sum").alias("temperature_sum"),
        F.sum("alerts").alias("alerts"),
        F.sum("device_alerts").alias("device_alerts"),
    )
    return rolled.select(
        *SITE_WINDOW_COLUMNS[:11],
        (F.col("temperature_sum") / F.col("temperature_readings")).alias("temperature_avg"),
        "alerts",
        "device_alerts",
    )


def exact_interval(interval: str) -> Column:
    """A day-time interval (a Spark interval string such as "10 minutes") as a constant Spark adds cheaply.

    Spark adds `INTERVAL '10' MINUTE` to a timestamp through java.time in the session's time zone, for every row: in
    the maintenance join's condition, evaluated for every pair of a device's readings and maintenance events, that
    was 40 % of the join's samples in a backlog drain (68 of 169, Java Flight Recorder, 2026-12-01T07:32Z). The same
    length as a calendar interval of microseconds only (no months, no days) is added as a plain sum, to the same
    instant. The optimizer folds the expression into a literal, which the join's state clean-up reads as it reads
    the day-time one (a test checks the join's state is dropped). With it, the join's tasks in a scratch drain of the
    bench's backlog took 3.5-5.3 s against 4.7-5.9 s, the drains 20.0, 15.5, 14.6 s against 21.5, 17.9, 16.9 s
    (three each after one warm-up, 2026-12-01T07:36Z and 07:40Z, benchmarks/README.md). A calendar interval's
    seconds are a decimal(18, 6): up to 277,777,777 hours (the template's GlueJoinBound takes at most 9,999,999).
    """
    micros = f"unix_micros(timestamp_micros(0) + INTERVAL {interval})"
    return F.expr(f"make_interval(0, 0, 0, 0, 0, 0, {micros} / 1000000)")


def maintenance_join(telemetry_side: DataFrame, maintenance_side: DataFrame, settings: PipelineSettings) -> DataFrame:
    """Telemetry readings of a device within `join_bound` after one of its maintenance events.

    Both inputs are de-duplicated, watermarked streams (or static frames in tests). The time bound on
    both sides lets Spark drop join state once the watermark passes it.
    """
    readings = telemetry_side.filter(F.col("event_type") == c.TELEMETRY).select(
        "device_id", "site", "event_id", "event_time", "event_time_ms", "temperature_c", "event_ts"
    )
    maintenance = maintenance_side.filter(F.col("event_type") == c.MAINTENANCE).select(
        F.col("device_id").alias("maintenance_device_id"),
        F.col("event_id").alias("maintenance_event_id"),
        F.col("event_time").alias("maintenance_time"),
        F.col("event_time_ms").alias("maintenance_time_ms"),
        F.col("action"),
        F.col("event_ts").alias("maintenance_ts"),
    )
    condition = (
        (F.col("device_id") == F.col("maintenance_device_id"))
        & (F.col("event_ts") >= F.col("maintenance_ts"))
        & (F.col("event_ts") <= F.col("maintenance_ts") + exact_interval(settings.join_bound))
    )
    joined = readings.join(maintenance, condition, "inner")
    return joined.select(
        *JOIN_COLUMNS[:-1],
        ((F.col("event_time_ms") - F.col("maintenance_time_ms")) / 1000.0).alias("seconds_after"),
    )


def tagged(frame: DataFrame, kind: str, columns: Iterable[str], payload: str | None = None) -> DataFrame:
    """`frame`'s rows as rows of `assemble`: their `kind`, and their `columns` in one struct, `payload` (the kind).

    One struct per branch rather than the union of every branch's columns: Glue's forEachBatch caches each
    micro-batch column by column, and a join row then filled 11 of the union's 43 columns, each null one appended to
    the cache too. 637,000 rows of the join's shape cached in 1.3-2.0 s packed against 2.6-3.2 s spread, counted in
    0.27 s against 0.63-0.85 s and written in 1.65-1.95 s against 2.2 s (a scratch script, two runs each after one
    warm-up, 2026-12-01T07:41Z); scratch drains of the bench's backlog 18.7, 12.2, 11.3 s against 20.0, 15.5, 14.6 s
    (three each after one warm-up, 07:46Z and 07:38Z, benchmarks/README.md).
    """
    fields = F.struct(*[F.col(name) for name in columns])
    return frame.select(F.lit(kind).alias("kind"), fields.alias(payload or kind))


def assemble(raw: DataFrame, registry: Registry | None, settings: PipelineSettings) -> DataFrame:
    """The whole pipeline as one streaming DataFrame for `forEachBatch`, each row tagged with its `kind`.

    `raw` has the columns of `SOURCE_COLUMNS`; `registry` is the device registry (None: no registry, every
    device unknown). Kinds, and the struct column holding each kind's columns: `record` (every input record,
    after the contract and enrichment; `RECORD_COLUMNS` in `record`), `curated` (valid, de-duplicated; the same
    columns, in `record`), `device_window` (`DEVICE_WINDOW_COLUMNS` in `device_window`) and `maintenance_join`
    (`JOIN_COLUMNS` in `maintenance_join`).
    """
    # Every branch starts from this one shuffle (see the module's docstring). Hash-partitioned on the
    # de-duplication keys, it is also the distribution de-duplication needs, so it adds no shuffle of its own.
    judged = curate(raw, Registry({}) if registry is None else registry)
    shared = watermarked(judged, settings).repartition(F.col("event_id"), F.col("event_ts"))
    curated = deduplicate(valid(shared))
    branches = [
        tagged(shared, RECORD, RECORD_COLUMNS),
        tagged(curated, CURATED, RECORD_COLUMNS, RECORD),
        tagged(device_windows(curated, settings), DEVICE_WINDOW, DEVICE_WINDOW_COLUMNS),
        tagged(maintenance_join(curated, curated, settings), MAINTENANCE_JOIN, JOIN_COLUMNS),
    ]
    assembled = branches[0]
    for branch in branches[1:]:
        assembled = assembled.unionByName(branch, allowMissingColumns=True)
    return assembled


# Which rows of a micro-batch of `assemble` make each output, in SQL: the split and the counts share them. SQL text
# rather than Column objects because each Column built in Python is a call into the JVM, and in the batch function
# those calls are paid every micro-batch (about 2 ms for `F.col("kind") == "record"` on this machine).
def _output_rows(late_watermark_ms: int) -> dict[str, str]:
    is_record = f"kind = '{RECORD}'"
    return {
        "curated": f"kind = '{CURATED}'",
        "late": f"{is_record} AND {RECORD}.status = '{c.OK}' AND {RECORD}.event_time_ms <= {int(late_watermark_ms)}",
        "quarantine": f"{is_record} AND {RECORD}.status = '{c.FAILED}'",
        "dropped": f"{is_record} AND {RECORD}.status = '{c.DROPPED}'",
        "device_windows": f"kind = '{DEVICE_WINDOW}'",
        "maintenance_join": f"kind = '{MAINTENANCE_JOIN}'",
    }


def _fields(payload: str, columns: Iterable[str]) -> tuple[str, ...]:
    return tuple(f"{payload}.{name}" for name in columns)


_OUTPUT_COLUMNS = {
    "curated": _fields(RECORD, CURATED_COLUMNS),
    "late": _fields(RECORD, CURATED_COLUMNS),
    "quarantine": (f"base64({RECORD}.data) AS data_base64", *_fields(RECORD, QUARANTINE_COLUMNS[1:])),
    "dropped": _fields(RECORD, DROPPED_COLUMNS),
    "device_windows": _fields(DEVICE_WINDOW, DEVICE_WINDOW_COLUMNS),
    "maintenance_join": _fields(MAINTENANCE_JOIN, JOIN_COLUMNS),
}


def split_batch(
    batch: DataFrame,
    late_watermark_ms: int,
    outputs: Iterable[str] = tuple(OUTPUTS),
    one_task: Collection[str] = (),
) -> dict[str, DataFrame]:
    """One micro-batch of `assemble`'s output, as the job's `outputs` (static DataFrames; by default all of them).

    `late_watermark_ms` is the watermark de-duplication used for this batch to discard late rows (see
    `glue_streaming.storage.late_watermark_ms`): valid records at or below it are `late`. The outputs named in
    `one_task` come in one partition (written by one task, as one file); the site rollup is then computed in that
    one task too, without a shuffle of the device windows (0.22-0.38 s against 0.33-0.51 s for a small rollup
    written from a cached batch, scratch script, 2026-12-01T06:05Z).
    """
    wanted = list(outputs)
    if unknown := [name for name in [*wanted, *one_task] if name not in OUTPUTS]:
        raise ValueError(f"no such output: {', '.join(unknown)} (outputs: {', '.join(OUTPUTS)})")
    rows = _output_rows(late_watermark_ms)

    def output(name: str, single: bool) -> DataFrame:
        frame = batch.filter(rows[name]).selectExpr(*_OUTPUT_COLUMNS[name])
        return frame.coalesce(1) if single else frame

    def part(name: str) -> DataFrame:
        if name == "site_windows":
            # A single partition of device windows satisfies the rollup's distribution: Spark plans no shuffle.
            return site_windows(output("device_windows", name in one_task))
        return output(name, name in one_task)

    return {name: part(name) for name in wanted}


def batch_counts(batch: DataFrame, late_watermark_ms: int) -> tuple[dict[str, int], int]:
    """Rows per output of `split_batch` (and `records`, every input record), in one pass: one task, one stage.

    Also the bytes of the records the JSON outputs hold (their `data`, whose fields or base64 text make those
    outputs' lines): what collecting those outputs on the driver would hold (`json_lines`).

    The site rollup has a row per distinct window and site (with region) of the device windows: counted as such
    here rather than by a job of its own.

    One task reads the whole (cached) batch: a task per partition of it (one per branch and shuffle partition)
    deserialised the batch's whole lineage each, and a second stage merged their counts. A 1,500-event micro-batch
    counted in 0.15-0.19 s against 0.34-0.47 s (`python -m benchmarks.micro_batch --size 1500`, runs alternated,
    2026-12-01T10:38Z to 10:42Z); a 60,574-event backlog's micro-batch, whose join gives 637,533 rows, in 0.59-0.88 s
    against 0.84-1.42 s (scratch drains, three each, 11:03Z and 11:07Z).
    """
    rows = {"records": f"kind = '{RECORD}'", **_output_rows(late_watermark_ms)}
    counts = [f"count(CASE WHEN {test} THEN 1 END) AS {name}" for name, test in rows.items()]
    # A set, not count(DISTINCT): a distinct aggregate costs the whole pass an extra shuffle.
    site_keys = ", ".join(_fields(DEVICE_WINDOW, SITE_WINDOW_COLUMNS[:5]))
    sites = f"size(collect_set(CASE WHEN {rows['device_windows']} THEN struct({site_keys}) END)) AS site_windows"
    in_json = " OR ".join(f"({rows[name]})" for name in JSON_OUTPUTS)
    json_bytes = f"coalesce(sum(CASE WHEN {in_json} THEN length({RECORD}.data) END), 0) AS json_bytes"
    row = batch.coalesce(1).selectExpr(*counts, sites, json_bytes).collect()[0]
    return {name: int(row[name]) for name in [*rows, "site_windows"]}, int(row["json_bytes"])


def _json_text(name: str) -> str:
    """SQL for one row of output `name` as JSON text: its `_OUTPUT_COLUMNS` ("a.b" named b, "x AS y" named y)."""
    fields = []
    for expression in _OUTPUT_COLUMNS[name]:
        value, _, alias = expression.partition(" AS ")
        fields.append(f"'{alias or value.rsplit('.', 1)[-1]}', {value}")
    return f"to_json(named_struct({', '.join(fields)}))"


def json_lines(batch: DataFrame, late_watermark_ms: int, outputs: Iterable[str]) -> DataFrame:
    """The rows of JSON `outputs` of `split_batch` as text, in one pass, one partition: columns `output` and `line`.

    `to_json` makes each line as Spark's JSON writer makes the row of that output (one generator, the same options
    and session time zone), so these lines written as a file equal the file that writer would write. One pass over
    the batch rather than one per output: a union of the outputs' frames took 0.42-0.59 s to collect from a cached
    1,500-event micro-batch against 0.15-0.25 s (a scratch script, ten each, four rounds, 2026-12-01T16:08Z).
    Each row of the batch is in one output at most (their tests exclude each other), so one CASE tells which.
    """
    names = list(outputs)
    if not names or not set(names) <= set(JSON_OUTPUTS):
        raise ValueError(f"json_lines takes some of {', '.join(JSON_OUTPUTS)}, got {names}")
    rows = _output_rows(late_watermark_ms)
    output = " ".join(f"WHEN {rows[name]} THEN '{name}'" for name in names)
    line = " ".join(f"WHEN {rows[name]} THEN {_json_text(name)}" for name in names)
    either = " OR ".join(f"({rows[name]})" for name in names)
    return batch.filter(either).coalesce(1).selectExpr(f"CASE {output} END AS output", f"CASE {line} END AS line")


# Glue's Kinesis source with inferSchema "true" gives the record as one string column (see from_glue_kinesis);
# some Glue releases spell it with a dot.
GLUE_TEXT_COLUMNS = ("$json$data_infer_schema$_temporary$", "$json$data_infer_schema$.temporary$")


class SourceShapeError(ValueError):
    """The streaming source's columns are not a shape the job knows: it stops at start, before reading."""


def _quoted(name: str) -> Column:
    return F.col(f"`{name}`")


def _arrival(frame: DataFrame) -> Column:
    types = dict(frame.dtypes)
    if "__src_timestamp" in types:
        kind = types["__src_timestamp"]
        if kind.startswith("timestamp"):
            return _millis("__src_timestamp")
        if kind in ("bigint", "int", "decimal(20,0)", "double"):
            return F.col("__src_timestamp").cast("long")
        if kind == "string":
            return F.expr("unix_millis(to_timestamp(__src_timestamp))")
        raise SourceShapeError(f"__src_timestamp has type {kind}: expected a timestamp, epoch milliseconds or text")
    if types.get("approximateArrivalTimestamp", "").startswith("timestamp"):
        return _millis("approximateArrivalTimestamp")
    raise SourceShapeError(
        f"the Kinesis source gave no arrival time (columns: {', '.join(frame.columns)}): "
        'the job reads it from __src_timestamp (connection option addRecordTimestamp "true")'
    )


def from_glue_kinesis(frame: DataFrame) -> DataFrame:
    """Glue's Kinesis source frame as the pipeline's input (`SOURCE_COLUMNS`), every record's bytes kept.

    The shapes, and where each is known from:
    - one string column `$json$data_infer_schema$_temporary$` (or `.temporary$`): what Glue gives with
      `inferSchema` "true"; not documented, seen in public Glue scripts, which read it in forEachBatch.
      It is `cast(data AS string)`, and Spark's cast back to binary returns the same bytes, so the
      contract sees exactly what the Lambda sees, malformed records included;
    - a binary `data` column (with `sequenceNumber`, `shardId` or `approximateArrivalTimestamp` when
      present): the raw frame of Spark's Kinesis connectors (qubole/kinesis-sql, which Glue's options
      derive from);
    - anything else, such as a frame Glue parsed with a `schema`, stops the job at start with the columns
      it got: records Glue could not parse would never reach the contract, and would be lost unseen.
    The arrival time is `__src_timestamp` (documented for `addRecordTimestamp` "true", its type is not:
    a timestamp, epoch milliseconds and text are taken). Shard and sequence number are null when the
    source does not give them.
    """
    types = dict(frame.dtypes)
    text = next((name for name in GLUE_TEXT_COLUMNS if types.get(name) == "string"), None)
    if text is not None:
        data = _quoted(text).cast("binary")
    elif types.get("data") == "binary":
        data = F.col("data")
    else:
        described = ", ".join(f"{name} {kind}" for name, kind in frame.dtypes)
        raise SourceShapeError(
            f"the Kinesis source gave columns ({described}), not the records' bytes: the job needs "
            f'connection options classification "json" and inferSchema "true" (one text column, '
            f"{GLUE_TEXT_COLUMNS[0]}) or a binary data column; a parsed frame would lose the records "
            "Glue cannot parse"
        )
    shard = F.col("shardId") if "shardId" in types else F.lit(None).cast("string")
    sequence = F.col("sequenceNumber") if "sequenceNumber" in types else F.lit(None).cast("string")
    return frame.select(
        data.alias("data"),
        _arrival(frame).alias("arrival_ms"),
        shard.alias("shard_id"),
        sequence.alias("sequence_number"),
    )
