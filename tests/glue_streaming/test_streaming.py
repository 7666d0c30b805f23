"""The assembled pipeline as a real streaming query, batch by batch: duplicates, late events, windows, the join.

Input arrives as one file per micro-batch (Spark's file source, available on Spark 3.3 and 4), so the
test decides what each batch holds. Marked glue_compat: on Spark 3.3 (Glue 4.0) and Spark 4 the late
watermark comes from different offsets-log entries, and both must give the same outputs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import pytest

from comparison.local.glue_stand_in.batches import glue_batch_function
from glue_streaming import pipeline, storage
from shared.enrichment import Registry
from tests.glue_streaming.events import MINUTE, REGISTRY, T0, heartbeat, maintenance, telemetry

pytestmark = [pytest.mark.spark, pytest.mark.glue_compat, pytest.mark.slow]

ARRIVAL = T0 + 60 * MINUTE
SETTINGS = pipeline.PipelineSettings(aggregate_window="1 minute", watermark_delay="2 minutes", join_bound="10 minutes")
RAW_SCHEMA = "data binary, arrival_ms long, shard_id string, sequence_number string"
FILES = [
    [
        telemetry("a", "dev-1", T0 + 10_000, 20.0),
        telemetry("b", "dev-1", T0 + 20_000, 30.0),
        maintenance("m", "dev-2", T0 + 5_000),
        b"not json at all",
        heartbeat("hb-1", "dev-1", T0),
    ],
    [
        telemetry("a", "dev-1", T0 + 10_000, 20.0),  # re-sent: the same bytes again
        telemetry("c", "dev-2", T0 + 3 * MINUTE, 40.0),  # 175 s after maintenance m
        telemetry("d", "dev-1", T0 + 6 * MINUTE, 10.0),  # watermark now T0 + 4 min
    ],
    [heartbeat("hb-2", "dev-1", T0)],
    [telemetry("e", "dev-1", T0 + 30_000, 99.0)],  # below the watermark: late
    [telemetry("tick", "dev-9", T0 + 50 * MINUTE, 1.0)],  # moves the watermark past every window above
    [heartbeat("hb-3", "dev-1", T0)],
]


def write_file(spark, folder: Path, index: int, payloads: list[bytes]) -> None:
    rows = [(data, ARRIVAL, "shard-0", str(10**40 + index * 100 + i)) for i, data in enumerate(payloads)]
    spark.createDataFrame(rows, RAW_SCHEMA).coalesce(1).write.parquet(str(folder / f"batch-{index:02d}"))


def outputs(spark, root: Path) -> dict[str, list[dict]]:
    found = {}
    for name, (path, form) in storage.OUTPUTS.items():
        folder = root / path
        if not any(folder.rglob("part-*")):
            found[name] = []
            continue
        reader = spark.read.option("basePath", str(folder))
        frame = reader.parquet(str(folder)) if form == "parquet" else reader.json(str(folder))
        found[name] = [row.asDict() for row in frame.collect()]
    return found


class Run(NamedTuple):
    found: dict[str, list[dict]]  # each output's rows
    manifests: list[dict]
    out: Path
    plans: list[str]  # each micro-batch's physical plan
    state: list[tuple[str, int]]  # rows each stateful operator holds after the last micro-batch
    group_jobs: int  # Spark jobs run in the query's job group, which stopping the query cancels


@pytest.fixture(scope="module")
def run(spark, tmp_path_factory) -> Run:
    base = tmp_path_factory.mktemp("stream")
    source, out, checkpoint = base / "in", base / "out", base / "checkpoint"
    source.mkdir()
    registry = Registry.from_json_lines(REGISTRY)
    raw = spark.readStream.schema(RAW_SCHEMA).option("maxFilesPerTrigger", 1).parquet(str(source / "*"))
    manifests: list[dict] = []
    writer = storage.BatchWriter(str(out), str(checkpoint), on_batch=manifests.append)
    started: list = []
    plans: list[str] = []

    # As Glue's forEachBatch calls the job's function (persistDataFrame "true", its default): each micro-batch
    # persisted and counted first, and empty ones skipped.
    glue_function = glue_batch_function(writer)

    def batch_function(batch, batch_id):
        # The micro-batch's physical plan: the query's last execution is this batch's while it runs.
        plans.append(started[0]._jsq.streamingQuery().lastExecution().executedPlan().toString())
        glue_function(batch, batch_id)

    query = (
        pipeline.assemble(raw, registry, SETTINGS)
        .writeStream.foreachBatch(batch_function)
        .option("checkpointLocation", str(checkpoint))
        .trigger(processingTime="200 milliseconds")
    )
    # No file is there yet, so no micro-batch runs before the query is in `started`.
    started.append(query.start())
    try:
        for index, payloads in enumerate(FILES):
            write_file(spark, source, index, payloads)
            started[0].processAllAvailable()
    finally:
        started[0].stop()
    # Spark names the join's state operator symmetricHashJoin.
    last = [p for p in started[0].recentProgress if p["stateOperators"]][-1]
    state = [(op.get("operatorName"), op["numRowsTotal"]) for op in last["stateOperators"]]
    group_jobs = len(spark.sparkContext.statusTracker().getJobIdsForGroup(str(started[0].runId)))
    return Run(outputs(spark, out), manifests, out, plans, state, group_jobs)


def test_curated_holds_each_valid_event_once(run):
    found = run.found
    assert sorted(r["event_id"] for r in found["curated"]) == ["a", "b", "c", "d", "m", "tick"]
    by_id = {r["event_id"]: r for r in found["curated"]}
    assert by_id["a"]["site"] == "site-a" and by_id["tick"]["known_device"] is False
    assert {(str(r["event_date"]), r["event_hour"]) for r in found["curated"]} == {("2025-11-28", 16)}


def test_late_events_are_written_not_lost(run):
    found, manifests = run.found, run.manifests
    assert [r["event_id"] for r in found["late"]] == ["e"]
    assert sum(m["counts"]["late"] for m in manifests) == 1


def test_quarantine_and_dropped(run):
    found = run.found
    assert [(r["reason"], r["data_base64"]) for r in found["quarantine"]] == [("not_json", "bm90IGpzb24gYXQgYWxs")]
    assert sorted(r["event_id"] for r in found["dropped"]) == ["hb-1", "hb-2", "hb-3"]


def test_windows_close_once_the_watermark_passes(run):
    found = run.found
    devices = sorted(
        (r["window_start_ms"] - T0, r["device_id"], r["readings"], r["temperature_min"], r["temperature_max"])
        for r in found["device_windows"]
    )
    # The tick's own window (T0 + 50 min) is still open: its end is above the last watermark.
    assert devices == [
        (0, "dev-1", 2, 20.0, 30.0),
        (3 * MINUTE, "dev-2", 1, 40.0, 40.0),
        (6 * MINUTE, "dev-1", 1, 10.0, 10.0),
    ]
    sites = sorted((r["window_start_ms"] - T0, r["site"], r["devices"], r["readings"]) for r in found["site_windows"])
    assert sites == [(0, "site-a", 1, 2), (3 * MINUTE, "site-a", 1, 1), (6 * MINUTE, "site-a", 1, 1)]


def test_maintenance_join_across_batches(run):
    found = run.found
    assert [(r["maintenance_event_id"], r["event_id"], r["seconds_after"]) for r in found["maintenance_join"]] == [
        ("m", "c", 175.0)
    ]


def test_the_join_drops_its_state_once_the_watermark_passes_the_bound(run):
    state = run.state
    # The watermark ends at T0 + 48 min: every maintenance event's bound has passed, and every reading is older than
    # any maintenance event still to come, but "tick" (T0 + 50 min).
    assert dict(state)["symmetricHashJoin"] == 1


def test_every_write_runs_in_the_query_s_job_group(run):
    # The outputs are written from threads of their own: each carries the query's job group, as the batch
    # function's thread does. Per micro-batch with rows: Glue's persist and count, the counts, one job per write.
    writes = sum(len([name for name in m["phases_ms"] if name.startswith("write_")]) for m in run.manifests)
    assert run.group_jobs >= 2 * len(run.manifests) + writes


def test_every_batch_has_a_manifest_with_its_counts(run):
    found, manifests, out = run.found, run.manifests, run.out
    on_disk = sorted(
        json.loads(line)["batch_id"]
        for path in (out / storage.MANIFESTS).glob("batch_id=*/part-*")
        for line in path.read_text().splitlines()
    )
    assert on_disk == sorted(m["batch_id"] for m in manifests)
    assert sum(m["counts"]["curated"] for m in manifests) == len(found["curated"])
    assert sum(m["counts"]["records"] for m in manifests) == sum(len(f) for f in FILES)
    assert all(m["triggered_at_ms"] <= m["started_at_ms"] <= m["committed_at_ms"] for m in manifests)


def test_a_small_output_is_one_file_per_batch(run):
    # Up to storage.SMALL_OUTPUT_ROWS rows, one task writes an output: each batch's folder (and each of curated's
    # partitions) holds one file, not one per partition of the micro-batch.
    out = run.out
    folders: dict[Path, list[str]] = {}
    for part in out.rglob("part-*"):
        folders.setdefault(part.parent, []).append(part.name)
    assert len(folders) > len(storage.OUTPUTS) and all(len(names) == 1 for names in folders.values()), folders


def test_each_micro_batch_reads_the_source_and_applies_the_contract_once(run):
    """The branches share one shuffle of the contract's output (`pipeline.assemble`): one scan per batch."""
    plans = run.plans
    reading = [plan for plan in plans if "FileScan parquet" in plan]
    assert reading, "no micro-batch read the source"
    for plan in reading:
        assert plan.count("FileScan parquet") == 1
        # The contract's UDF runs once per record, not once per branch or per field it returns (BatchEvalPython,
        # or ArrowEvalPython where the Spark version runs Python UDFs through Arrow by default).
        assert plan.count("EvalPython [") == 1
        # The shared shuffle, run once and reused under the four stateful operators' branches.
        shuffles = [line for line in plan.splitlines() if "REPARTITION_BY_COL" in line]
        assert sum("ReusedExchange" not in line for line in shuffles) == 1
        assert sum("ReusedExchange" in line for line in shuffles) == 4


def test_late_rows_are_judged_against_the_watermark_the_job_drops_them_with(spark, tmp_path):
    offsets = tmp_path / "offsets"
    offsets.mkdir()
    for batch, watermark in ((0, 100), (1, 200)):
        metadata = json.dumps({"batchWatermarkMs": watermark, "batchTimestampMs": 0, "conf": {}})
        (offsets / str(batch)).write_text(f"v1\n{metadata}\n{{}}\n")
    # The job's setting: one watermark for the query, the current batch's, on every Spark version.
    assert spark.conf.get(storage.ALLOW_MULTIPLE) == "false"
    assert storage.late_watermark_ms(spark, str(tmp_path), 1) == 200
    spark.conf.set(storage.ALLOW_MULTIPLE, "true")
    try:
        # Spark 3.4's per-operator watermarks drop late rows with the previous batch's (Spark 3.3 knows one).
        spark_3_3 = tuple(int(part) for part in spark.version.split(".")[:2]) < (3, 4)
        assert storage.late_watermark_ms(spark, str(tmp_path), 1) == (200 if spark_3_3 else 100)
    finally:
        spark.conf.set(storage.ALLOW_MULTIPLE, "false")


def test_a_replayed_batch_rewrites_its_files(spark, tmp_path):
    checkpoint, out = tmp_path / "checkpoint", tmp_path / "out"
    (checkpoint / "offsets").mkdir(parents=True)
    (checkpoint / "offsets" / "0").write_text('v1\n{"batchWatermarkMs":0,"batchTimestampMs":0,"conf":{}}\n{}\n')
    registry = Registry.from_json_lines(REGISTRY)
    rows = [(data, ARRIVAL, "shard-0", str(i)) for i, data in enumerate(FILES[0] + FILES[1])]
    batch = pipeline.assemble(spark.createDataFrame(rows, RAW_SCHEMA), registry, SETTINGS)
    writer = storage.BatchWriter(str(out), str(checkpoint))
    writer(batch, 0)
    first = sorted(p.relative_to(out).parent for p in out.rglob("part-*"))
    first_rows = outputs(spark, out)
    # What an attempt killed during its curated write leaves: its dynamic overwrite's staging folder.
    staged = out / "curated/.spark-staging-killed/event_date=2025-11-28/event_hour=16/batch_id=0"
    staged.mkdir(parents=True)
    (staged / "part-00000-killed.c000.snappy.parquet").write_bytes(b"PAR1 cut short")
    writer(batch, 0)
    assert sorted(p.relative_to(out).parent for p in out.rglob("part-*")) == first
    assert outputs(spark, out) == first_rows


def test_a_replay_leaves_no_files_of_outputs_it_leaves_empty(spark, tmp_path):
    checkpoint = tmp_path / "checkpoint"
    (checkpoint / "offsets").mkdir(parents=True)
    (checkpoint / "offsets" / "0").write_text('v1\n{"batchWatermarkMs":0,"batchTimestampMs":0,"conf":{}}\n{}\n')
    registry = Registry.from_json_lines(REGISTRY)

    def batch(payloads):
        rows = [(data, ARRIVAL, "shard-0", str(i)) for i, data in enumerate(payloads)]
        return pipeline.assemble(spark.createDataFrame(rows, RAW_SCHEMA), registry, SETTINGS)

    # The first attempt of batch 0 holds curated, quarantined and dropped records; its replay (here
    # given other records, as a crashed attempt's partial writes differ from a full batch) only a heartbeat.
    replayed, fresh = tmp_path / "replayed", tmp_path / "fresh"
    writer = storage.BatchWriter(str(replayed), str(checkpoint))
    writer(batch(FILES[0]), 0)
    assert outputs(spark, replayed)["curated"]
    writer(batch(FILES[2]), 0)
    storage.BatchWriter(str(fresh), str(checkpoint))(batch(FILES[2]), 0)

    assert outputs(spark, replayed) == outputs(spark, fresh)

    def folders(root):
        return sorted(p.relative_to(root).parent for p in root.rglob("part-*"))

    assert folders(replayed) == folders(fresh)


def test_a_failed_write_fails_the_batch_after_the_other_writes_and_before_its_manifest(spark, tmp_path):
    checkpoint, out = tmp_path / "checkpoint", tmp_path / "out"
    (checkpoint / "offsets").mkdir(parents=True)
    (checkpoint / "offsets" / "0").write_text('v1\n{"batchWatermarkMs":0,"batchTimestampMs":0,"conf":{}}\n{}\n')
    out.mkdir()
    # A file where the quarantine's folder belongs: that write fails, the batch's others do not.
    (out / storage.OUTPUTS["quarantine"][0]).write_text("in the way")
    rows = [(data, ARRIVAL, "shard-0", str(i)) for i, data in enumerate(FILES[0])]
    batch = pipeline.assemble(spark.createDataFrame(rows, RAW_SCHEMA), Registry.from_json_lines(REGISTRY), SETTINGS)
    with pytest.raises(Exception, match="quarantine"):
        storage.BatchWriter(str(out), str(checkpoint))(batch, 0)
    assert not (out / storage.MANIFESTS).exists()
    written = outputs(spark, out)
    assert sorted(r["event_id"] for r in written["curated"]) == ["a", "b", "m"]
    assert [r["event_id"] for r in written["dropped"]] == ["hb-1"]
    assert not list(out.rglob("_temporary"))


def test_small_json_outputs_are_written_by_the_driver_as_spark_s_writer_writes_them(spark, tmp_path, monkeypatch):
    checkpoint = tmp_path / "checkpoint"
    (checkpoint / "offsets").mkdir(parents=True)
    # A watermark past every event: the valid ones are late as well as curated.
    metadata = json.dumps({"batchWatermarkMs": T0 + 10 * MINUTE, "batchTimestampMs": 0, "conf": {}})
    (checkpoint / "offsets" / "0").write_text(f"v1\n{metadata}\n{{}}\n")
    rows = [(data, ARRIVAL, "shard-0", str(i)) for i, data in enumerate(FILES[0] + [b"\xff\xfe binary"])]
    batch = pipeline.assemble(spark.createDataFrame(rows, RAW_SCHEMA), Registry.from_json_lines(REGISTRY), SETTINGS)
    json_outputs = ["late", "quarantine", "dropped"]

    def write(root: Path, driver_bytes: int) -> tuple[dict, dict[str, list[Path]]]:
        monkeypatch.setattr(storage, "DRIVER_JSON_BYTES", driver_bytes)
        manifests: list[dict] = []
        storage.BatchWriter(str(root), str(checkpoint), on_batch=manifests.append)(batch, 0)
        files = {name: sorted((root / storage.OUTPUTS[name][0]).rglob("part-*")) for name in json_outputs}
        return manifests[0], files

    by_driver, driver_files = write(tmp_path / "driver", storage.DRIVER_JSON_BYTES)
    by_spark, spark_files = write(tmp_path / "spark", 0)
    assert all(by_driver["counts"][name] for name in json_outputs), by_driver["counts"]
    assert {name: [path.name for path in paths] for name, paths in driver_files.items()} == {
        name: [storage.JSON_FILE] for name in json_outputs
    }
    # Spark's writer names its files after its job; their lines (in any order) are the driver's, byte for byte.
    assert all(len(paths) == 1 and paths[0].name != storage.JSON_FILE for paths in spark_files.values())
    for name in json_outputs:
        assert sorted(driver_files[name][0].read_bytes().splitlines(True)) == sorted(
            spark_files[name][0].read_bytes().splitlines(True)
        )
    assert f"write_{storage.JSON_LINES}" in by_driver["phases_ms"]
    assert not any(f"write_{name}" in by_driver["phases_ms"] for name in json_outputs)
    assert all(f"write_{name}" in by_spark["phases_ms"] for name in json_outputs)
