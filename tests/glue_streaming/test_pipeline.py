"""Each pipeline stage on static DataFrames, with exact expected output.

Marked glue_compat: the same tests run on Glue 4.0's runtime (Python 3.10, PySpark 3.3.0).
"""

from __future__ import annotations

import base64
import json

import pytest
from pyspark.sql import functions as F

from glue_streaming import pipeline
from shared import contract as c
from shared.enrichment import Registry
from shared.record import curate as python_curate
from tests.glue_streaming.events import MINUTE, REGISTRY, T0, heartbeat, iso, maintenance, telemetry

pytestmark = [pytest.mark.spark, pytest.mark.glue_compat]

ARRIVAL = T0 + 60 * MINUTE
SETTINGS = pipeline.PipelineSettings(aggregate_window="1 minute", watermark_delay="2 minutes", join_bound="10 minutes")


def raw_frame(spark, payloads):
    rows = [(data, ARRIVAL, "shard-0", str(10**30 + i)) for i, data in enumerate(payloads)]
    return spark.createDataFrame(rows, "data binary, arrival_ms long, shard_id string, sequence_number string")


@pytest.fixture(scope="module")
def registry():
    return Registry.from_json_lines(REGISTRY)


def test_enrich_matches_the_lambdas_lookup(spark, registry):
    payloads = [
        telemetry("a", "dev-1", T0, 31.0),  # known, above its own threshold (30)
        telemetry("b", "dev-2", T0, 31.0),  # known, below its own threshold (50)
        telemetry("c", "dev-x", T0, 99.0),  # unknown: kept, flagged
        maintenance("d", "dev-3", T0),  # known, no temperature: device_alert null
    ]
    enriched = pipeline.curate(raw_frame(spark, payloads), registry)
    got = {r["event_id"]: r.asDict() for r in enriched.collect()}
    lookup = Registry.from_json_lines(REGISTRY)
    for data in payloads:
        expected = lookup.enrich(python_curate(data, ARRIVAL).record)
        row = got[expected["event_id"]]
        assert {k: row[k] for k in expected} == expected
    assert got["c"]["known_device"] is False and got["c"]["site"] is None


def test_an_empty_registry_keeps_every_record_as_unknown(spark):
    rows = pipeline.curate(raw_frame(spark, [telemetry("a", "dev-1", T0)]), Registry({})).collect()
    assert [(r["event_id"], r["known_device"], r["site"]) for r in rows] == [("a", False, None)]


def test_split_sends_each_record_to_exactly_one_place(spark, registry):
    payloads = [
        telemetry("ok", "dev-1", T0 + 30 * MINUTE),
        telemetry("late", "dev-1", T0),
        heartbeat("hb", "dev-1", T0 + 30 * MINUTE),
        b"{not json",
        telemetry("hot", "dev-1", T0, 150.0),  # out of physical range
    ]
    # On a static frame, assemble is the same plan as on a stream, with no state between batches.
    batch = pipeline.assemble(raw_frame(spark, payloads), registry, SETTINGS)
    parts = pipeline.split_batch(batch, late_watermark_ms=T0 + MINUTE)
    assert [r["event_id"] for r in parts["late"].collect()] == ["late"]
    assert [(r["event_id"], r["event_type"]) for r in parts["dropped"].collect()] == [("hb", "heartbeat")]
    quarantined = sorted((r["reason"], base64.b64decode(r["data_base64"])) for r in parts["quarantine"].collect())
    assert quarantined == [("not_json", b"{not json"), ("out_of_range", payloads[4])]
    # Static frames have no watermark: the late record is curated too; on a stream, dedup discards it.
    assert sorted(r["event_id"] for r in parts["curated"].collect()) == ["late", "ok"]
    assert tuple(parts["quarantine"].columns) == pipeline.QUARANTINE_COLUMNS


def test_deduplicate_keeps_one_row_per_event(spark, registry):
    payloads = [telemetry("a", "dev-1", T0), telemetry("a", "dev-1", T0), telemetry("b", "dev-1", T0)]
    enriched = pipeline.curate(raw_frame(spark, payloads), registry)
    deduped = pipeline.deduplicate(pipeline.valid(pipeline.watermarked(enriched, SETTINGS)))
    assert sorted(r["event_id"] for r in deduped.collect()) == ["a", "b"]


def test_device_and_site_windows(spark, registry):
    payloads = [
        telemetry("1", "dev-1", T0 + 1_000, 20.0),
        telemetry("2", "dev-1", T0 + 59_999, 32.0),  # alert for dev-1 (threshold 30), not global (45)
        telemetry("3", "dev-1", T0 + MINUTE, 10.0),  # next window
        telemetry("4", "dev-2", T0 + 5_000, 46.0),  # global alert, below dev-2's threshold (50)
        telemetry("5", "dev-2", T0 + 6_000, 50.0),  # both
        maintenance("6", "dev-2", T0 + 7_000),  # not telemetry: not aggregated
        telemetry("7", "dev-3", T0 + 8_000, 5.0),  # site-b
    ]
    enriched = pipeline.curate(raw_frame(spark, payloads), registry)
    devices = pipeline.device_windows(pipeline.valid(enriched), SETTINGS)
    got = {
        (r["window_start_ms"], r["device_id"]): (
            r["site"],
            r["readings"],
            r["temperature_min"],
            r["temperature_max"],
            r["temperature_avg"],
            r["alerts"],
            r["device_alerts"],
        )
        for r in devices.collect()
    }
    assert got == {
        (T0, "dev-1"): ("site-a", 2, 20.0, 32.0, 26.0, 0, 1),
        (T0 + MINUTE, "dev-1"): ("site-a", 1, 10.0, 10.0, 10.0, 0, 0),
        (T0, "dev-2"): ("site-a", 2, 46.0, 50.0, 48.0, 2, 1),
        (T0, "dev-3"): ("site-b", 1, 5.0, 5.0, 5.0, 0, 0),
    }
    sites = {
        (r["window_start_ms"], r["site"]): (r["devices"], r["readings"], r["temperature_min"], r["temperature_avg"])
        for r in pipeline.site_windows(devices).collect()
    }
    assert sites == {
        (T0, "site-a"): (2, 4, 20.0, 37.0),
        (T0 + MINUTE, "site-a"): (1, 1, 10.0, 10.0),
        (T0, "site-b"): (1, 1, 5.0, 5.0),
    }
    assert tuple(devices.columns) == pipeline.DEVICE_WINDOW_COLUMNS


def test_a_small_site_rollup_is_computed_in_one_task_without_a_shuffle(spark, registry):
    payloads = [telemetry(str(i), f"dev-{1 + i % 3}", T0 + i * 7_000, 20.0 + i) for i in range(12)]
    devices = pipeline.device_windows(pipeline.valid(pipeline.curate(raw_frame(spark, payloads), registry)), SETTINGS)
    batch = pipeline.tagged(devices, pipeline.DEVICE_WINDOW, pipeline.DEVICE_WINDOW_COLUMNS).repartition(4)
    spread = pipeline.split_batch(batch, T0, ["site_windows"])["site_windows"]
    single = pipeline.split_batch(batch, T0, ["site_windows"], ["site_windows"])["site_windows"]
    assert sorted(map(tuple, single.collect())) == sorted(map(tuple, spread.collect()))
    assert len(single.collect()) == 4  # two sites (dev-1 and dev-2 at site-a, dev-3 at site-b) in two windows
    assert single.rdd.getNumPartitions() == 1

    def rollup_shuffles(frame):
        # The rollup's shuffle is on its keys, which start with window_start (the device windows' on `window`).
        return frame._jdf.queryExecution().executedPlan().toString().count("Exchange hashpartitioning(window_start")

    assert rollup_shuffles(single) == 0 and rollup_shuffles(spread) > 0


@pytest.mark.parametrize("bound", ["1 second", "10 minutes", "36 hours", "9999999 hours"])
def test_the_join_bound_adds_the_same_time_as_a_day_time_interval(spark, bound):
    frame = spark.createDataFrame([(T0 * 1000,)], "micros long").selectExpr("timestamp_micros(micros) AS ts")
    exact = (F.col("ts") + pipeline.exact_interval(bound)).alias("exact")
    exact, day_time = frame.select(exact, F.expr(f"ts + INTERVAL {bound}")).first()
    assert exact == day_time


def test_maintenance_join_keeps_readings_within_the_bound_after(spark, registry):
    payloads = [
        maintenance("m", "dev-1", T0, action="replace-sensor"),
        telemetry("before", "dev-1", T0 - 1),
        telemetry("at", "dev-1", T0),
        telemetry("inside", "dev-1", T0 + 5 * MINUTE),
        telemetry("edge", "dev-1", T0 + 10 * MINUTE),
        telemetry("after", "dev-1", T0 + 10 * MINUTE + 1),
        telemetry("other-device", "dev-2", T0 + MINUTE),
    ]
    valid = pipeline.valid(pipeline.curate(raw_frame(spark, payloads), registry))
    joined = pipeline.maintenance_join(valid, valid, SETTINGS)
    got = sorted((r["maintenance_event_id"], r["event_id"], r["action"], r["seconds_after"]) for r in joined.collect())
    assert got == [
        ("m", "at", "replace-sensor", 0.0),
        ("m", "edge", "replace-sensor", 600.0),
        ("m", "inside", "replace-sensor", 300.0),
    ]
    assert tuple(joined.columns) == pipeline.JOIN_COLUMNS


def test_curate_judges_a_record_without_bytes_or_without_an_arrival_time(spark):
    # Neither comes from Kinesis, but a null must get a verdict, not stop the job: no bytes are not UTF-8
    # text; without an arrival time no real time is in its future (a comparison with null fails no rule), but a
    # time past year 9999, which the curated format cannot write, still fails the rule rather than raise.
    future = telemetry("f", "dev-1", T0 + 86_400_000)
    beyond = future.replace(iso(T0 + 86_400_000).encode(), b"9999-12-31T23:59:59-00:01")
    rows = [(None, ARRIVAL), (future, None), (beyond, None)]
    frame = spark.createDataFrame(rows, "data binary, arrival_ms long")
    got = [(r["status"], r["reason"]) for r in pipeline.curate(frame).collect()]
    assert got == [(c.FAILED, c.NOT_UTF8), (c.OK, None), (c.FAILED, c.FUTURE_TIMESTAMP)]


def test_from_glue_kinesis_keeps_raw_bytes_and_arrival(spark):
    raw = telemetry("a", "dev-1", T0)
    frame = spark.createDataFrame(
        [(raw, "shardId-0", "4959", ARRIVAL)],
        "data binary, shardId string, sequenceNumber string, arrival long",
    ).selectExpr("data", "shardId", "sequenceNumber", "timestamp_millis(arrival) AS approximateArrivalTimestamp")
    row = pipeline.from_glue_kinesis(frame).collect()[0]
    assert (bytes(row["data"]), row["arrival_ms"], row["shard_id"], row["sequence_number"]) == (
        raw,
        ARRIVAL,
        "shardId-0",
        "4959",
    )


@pytest.mark.parametrize("column", pipeline.GLUE_TEXT_COLUMNS)
def test_from_glue_kinesis_gives_back_the_exact_bytes_of_glues_text_column(spark, column):
    # What Glue gives with inferSchema "true": cast(data AS string). Bytes that are not UTF-8, or not JSON,
    # must come back unchanged so that the contract refuses them with the Lambda's reasons.
    payloads = [telemetry("a", "dev-1", T0), b"\xff\xfe not utf-8", b"not json", "caf\u00e9".encode()]
    rows = [(data, ARRIVAL) for data in payloads]
    frame = spark.createDataFrame(rows, "data binary, arrival long").select(
        F.col("data").cast("string").alias(column), F.expr("timestamp_millis(arrival)").alias("__src_timestamp")
    )
    got = pipeline.from_glue_kinesis(frame).collect()
    assert [bytes(r["data"]) for r in got] == payloads
    assert {r["arrival_ms"] for r in got} == {ARRIVAL}
    assert {(r["shard_id"], r["sequence_number"]) for r in got} == {(None, None)}


@pytest.mark.parametrize("kind", ["long", "string"])
def test_from_glue_kinesis_takes_the_src_timestamp_as_millis_or_text(spark, kind):
    value = ARRIVAL if kind == "long" else "2025-11-28T17:00:00Z"
    frame = spark.createDataFrame([("{}", value)], f"`{pipeline.GLUE_TEXT_COLUMNS[0]}` string, __src_timestamp {kind}")
    arrival = pipeline.from_glue_kinesis(frame).collect()[0]["arrival_ms"]
    assert arrival == (ARRIVAL if kind == "long" else 1764349200000)


def test_from_glue_kinesis_refuses_a_parsed_frame_naming_its_columns(spark):
    # A frame Glue parsed with a schema: records it could not parse would never reach the contract.
    frame = spark.createDataFrame(
        [("a", "dev-1", iso(T0), ARRIVAL)], "event_id string, device_id string, event_time string, __src_timestamp long"
    )
    with pytest.raises(pipeline.SourceShapeError, match=r"event_id string, device_id string.*inferSchema"):
        pipeline.from_glue_kinesis(frame)


def test_from_glue_kinesis_refuses_a_frame_without_arrival_time(spark):
    frame = spark.createDataFrame([("{}",)], f"`{pipeline.GLUE_TEXT_COLUMNS[0]}` string")
    with pytest.raises(pipeline.SourceShapeError, match="addRecordTimestamp"):
        pipeline.from_glue_kinesis(frame)


def test_partition_settings_take_a_whole_number_and_refuse_anything_else():
    assert pipeline.partition_settings("4") == {"spark.sql.shuffle.partitions": "4"}
    for bad in ("0", "-1", "two", "2.5", ""):
        with pytest.raises(ValueError, match="shuffle_partitions must be a whole number of 1 or more"):
            pipeline.partition_settings(bad)


def test_batch_counts_equal_the_rows_of_every_output(spark, registry):
    payloads = [
        telemetry("1", "dev-1", T0 + 1_000, 20.0),
        telemetry("2", "dev-2", T0 + 2_000, 21.0),  # same site and window as dev-1: one site row for both
        telemetry("3", "dev-3", T0 + 3_000, 22.0),  # another site
        telemetry("4", "dev-1", T0 + MINUTE, 23.0),  # another window
        telemetry("5", "dev-unknown", T0 + 4_000, 24.0),  # no site: a site row of its own, site null
        maintenance("6", "dev-1", T0),
        heartbeat("7", "dev-1", T0),
        b"{not json",
    ]
    batch = pipeline.assemble(raw_frame(spark, payloads), registry, SETTINGS)
    counts, json_bytes = pipeline.batch_counts(batch, late_watermark_ms=T0 + MINUTE)
    parts = pipeline.split_batch(batch, late_watermark_ms=T0 + MINUTE)
    assert counts == {"records": len(payloads), **{name: frame.count() for name, frame in parts.items()}}
    assert counts["site_windows"] == 4
    # The bytes of the records whose rows the JSON outputs hold, found from those rows.
    by_id = {json.loads(data)["event_id"]: data for data in payloads if data.startswith(b'{"')}
    late_and_dropped = [by_id[row.event_id] for name in ("late", "dropped") for row in parts[name].collect()]
    quarantined = [base64.b64decode(row.data_base64) for row in parts["quarantine"].collect()]
    assert quarantined == [b"{not json"] and len(late_and_dropped) >= 2
    assert json_bytes == sum(len(data) for data in late_and_dropped + quarantined)


def test_json_lines_takes_only_json_outputs(spark, registry):
    batch = pipeline.assemble(raw_frame(spark, [b"{not json"]), registry, SETTINGS)
    lines = pipeline.json_lines(batch, T0, ["quarantine", "late"]).collect()
    assert [(row.output, json.loads(row.line)["reason"]) for row in lines] == [("quarantine", c.NOT_JSON)]
    for wrong in ([], ["curated"], ["quarantine", "no such output"]):
        with pytest.raises(ValueError, match="json_lines takes some of late, quarantine, dropped"):
            pipeline.json_lines(batch, T0, wrong)


def test_batch_counts_read_the_whole_batch_in_one_task(spark, registry):
    payloads = [telemetry(str(n), f"dev-{n % 3 + 1}", T0 + n * 1_000, 20.0) for n in range(20)]
    batch = pipeline.assemble(raw_frame(spark, payloads), registry, SETTINGS).persist()
    try:
        assert batch.rdd.getNumPartitions() > 1
        batch.count()  # as Glue's forEachBatch does before the batch function
        spark.sparkContext.setJobGroup("batch-counts", "the counts of one batch")
        try:
            counts, _ = pipeline.batch_counts(batch, late_watermark_ms=T0)
        finally:
            spark.sparkContext.setLocalProperty("spark.jobGroup.id", None)
        tracker = spark.sparkContext.statusTracker()
        jobs = tracker.getJobIdsForGroup("batch-counts")
        stages = [tracker.getStageInfo(stage) for job in jobs for stage in tracker.getJobInfo(job).stageIds]
        ran = [stage for stage in stages if stage is not None and stage.numCompletedTasks]
    finally:
        batch.unpersist()
    assert counts["records"] == 20
    assert (len(jobs), len(ran), ran[0].numCompletedTasks) == (1, 1, 1)
