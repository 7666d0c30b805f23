"""What the Glue job reads and writes besides the stream: the registry, the checkpoint's watermark, the sinks.

Output layout under one root (an s3:// URI on Glue, a local path on the local runner):

    curated/event_date=D/event_hour=H/batch_id=N/part-*.parquet   valid records, de-duplicated
    late/batch_id=N/part-*.json                                   valid records later than the watermark
    quarantine/batch_id=N/part-*.json                             records the contract refused, with reasons
    dropped/batch_id=N/part-*.json                                heartbeats: dropped by design, still listed
    aggregates/device/batch_id=N/part-*.parquet                   finished tumbling windows per device
    aggregates/site/batch_id=N/part-*.parquet                     the same windows rolled up per site
    maintenance_join/batch_id=N/part-*.parquet                    telemetry within the bound after maintenance
    _manifests/batch_id=N/part-00000.json                         one line per batch (below)

Every write of batch N replaces exactly batch N's files (curated: its partitions, by dynamic partition
overwrite), so a batch replayed after a crash writes the same files again instead of extra ones. A replay
also first removes whatever an earlier attempt of its batch wrote (an empty marker under
`_attempts/batch_id=N` tells it there was one), so an output the replay leaves empty keeps no stale files.
The manifest is written last: a batch without a manifest is not finished, and its files may be replaced.
JSON outputs are JSON Lines; a batch's JSON outputs whose records hold little data are written by the driver as
one `part-00000.json` each, the same lines Spark's JSON writer writes.

A manifest is one JSON object: `batch_id`; `counts` (rows per output, and `records`, every record read);
`late_watermark_ms` (the watermark late records were judged against); `triggered_at_ms` (when Spark
planned the batch: its trigger), `started_at_ms` (when this function began, after Spark planned and
prepared the batch's plan and, on Glue, after Glue's forEachBatch persisted and counted the batch, which
computes the pipeline) and `committed_at_ms` (when the batch's outputs were all written), in epoch
milliseconds; `phases_ms`, the milliseconds this function spent computing the pipeline (`pipeline`, only
for a batch nobody persisted), counting (`counts`), writing its outputs (`writes`: they are written at the same
time) and writing each of them (`write_<output>`, from its start to its end, overlapping the others; the
JSON outputs the driver writes share one, `write_json_lines`: collecting them in one Spark job and writing them).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from pyspark import inheritable_thread_target
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from glue_streaming import pipeline
from glue_streaming.layout import ATTEMPTS, JSON_OUTPUTS, MANIFESTS, OUTPUTS
from shared.enrichment import Registry


def load_registry(spark: SparkSession, uri: str | None) -> Registry | None:
    """The device registry (JSON Lines) from any path Spark can read; None when no URI is given.

    Parsed by the same code as the Lambda's registry, so both paths refuse the same bad files.
    """
    if not uri or uri.lower() == "none":
        return None
    lines = [row.value for row in spark.read.text(uri).collect()]
    return Registry.from_json_lines("\n".join(lines).encode())


def _filesystem(spark: SparkSession, path: str):
    """Hadoop's FileSystem for `path` (S3 on Glue, the local disk here) and the path as Hadoop's Path."""
    hadoop_path = spark._jvm.org.apache.hadoop.fs.Path(path)
    return hadoop_path.getFileSystem(spark._jsc.hadoopConfiguration()), hadoop_path


# The one file the driver writes for a batch's manifest, and for each of its JSON outputs small enough
# (`DRIVER_JSON_BYTES`).
JSON_FILE = "part-00000.json"
# The phase of the one job that collects those outputs.
JSON_LINES = "json_lines"
# An output of up to this many rows is written by one task, one file: a micro-batch has a partition per
# branch and shuffle partition (8 by default), and each task of a write costs its set-up and commit whether it
# writes rows or not. The 4 writes of a 1,500-event micro-batch: 0.70 s against 1.06 s; a 20,000-event one's:
# 1.94 s against 1.87 s, its larger outputs keeping every task (`python -m benchmarks.micro_batch`, 2026-12-01).
# The site rollup is computed in one task when its input, the device windows, is that small.
SMALL_OUTPUT_ROWS = 10_000
# The JSON outputs (late, quarantine, dropped) of a micro-batch whose records hold up to this many bytes in all
# are collected to the driver in one Spark job and written from there, a file each: each Spark write is a job with
# its commit protocol whatever its size. Three such writes of a cached 1,500-row frame at the same time took
# 0.46-0.74 s against 0.10-0.18 s collected and written by the driver (medians of three rounds of ten, a scratch
# script, 2026-12-01T15:41Z); the writes of `python -m benchmarks.micro_batch --size 1500`, 3 jobs, 0.49-0.63 s
# against 0.56-0.74 s with 4 (alternated runs, 15:42Z to 16:01Z, with the lines then collected as a union of one
# filter per output; benchmarks/README.md). The bound keeps a batch of large quarantined records
# (up to a Kinesis record's 1 MiB each) off the driver's heap.
DRIVER_JSON_BYTES = 8 * 1024 * 1024
ALLOW_MULTIPLE = "spark.sql.streaming.statefulOperator.allowMultiple"


def _spark_version(spark: SparkSession) -> tuple[int, int]:
    major, minor = spark.version.split(".")[:2]
    return int(major), int(minor)


def _inheriting(spark: SparkSession, target: Callable) -> Callable:
    """`target`, to run in another thread with a copy of this thread's Spark properties, taken now."""
    if _spark_version(spark) >= (4, 0):  # PySpark 4 takes the session, to carry its tags too
        return inheritable_thread_target(spark)(target)
    return inheritable_thread_target(target)


def read_text(spark: SparkSession, path: str) -> str:
    """A small file's text, read through Hadoop's FileSystem (S3 on Glue): no Spark job, unlike `spark.read`."""
    filesystem, hadoop_path = _filesystem(spark, path)
    stream = filesystem.open(hadoop_path)
    try:
        return bytes(spark._jvm.org.apache.hadoop.io.IOUtils.readFullyToByteArray(stream)).decode("utf-8")
    finally:
        stream.close()


def write_text(spark: SparkSession, path: str, text: str) -> None:
    """Write a small file through Hadoop's FileSystem, whole or not at all: a hidden file renamed into place.

    Readers list `part-*` names, so they see the file only once it is complete (on S3, an object appears whole
    anyway; locally the rename is atomic). A leftover hidden file of a crashed attempt goes with its folder.
    """
    filesystem, target = _filesystem(spark, path)
    hidden = spark._jvm.org.apache.hadoop.fs.Path(target.getParent(), f".{target.getName()}.tmp")
    stream = filesystem.create(hidden, True)
    try:
        stream.write(bytearray(text.encode("utf-8")))
    finally:
        stream.close()
    if not filesystem.rename(hidden, target):
        raise OSError(f"could not rename {hidden.toString()} to {path}")


def batch_metadata(spark: SparkSession, checkpoint_location: str, batch_id: int) -> dict:
    """What Spark wrote of batch `batch_id` into `<checkpoint>/offsets/<batch>` before running it.

    The second line of that file holds the batch's `batchWatermarkMs` and `batchTimestampMs` (the time
    the trigger planned the batch, kept when a batch is replayed).
    """
    return json.loads(read_text(spark, f"{checkpoint_location.rstrip('/')}/offsets/{batch_id}").splitlines()[1])


def late_watermark_ms(
    spark: SparkSession, checkpoint_location: str, batch_id: int, metadata: dict | None = None
) -> int:
    """The watermark below which de-duplication discarded rows as late in batch `batch_id`.

    With one watermark for the whole query (Spark 3.3, Glue 4.0; from Spark 3.4 on, the setting
    `statefulOperator.allowMultiple` "false" that the job makes), stateful operators drop late rows with
    the current batch's watermark. With per-operator watermarks (Spark 3.4's default, SPARK-40925) they
    use the previous batch's, so a row is late against what the previous batch saw. `metadata` is batch
    `batch_id`'s (`batch_metadata`), when the caller has read it already.
    """
    per_operator = spark.conf.get(ALLOW_MULTIPLE, "true").lower() == "true"
    batch = batch_id - 1 if _spark_version(spark) >= (3, 4) and per_operator else batch_id
    if batch < 0:
        return 0
    if metadata is None or batch != batch_id:
        metadata = batch_metadata(spark, checkpoint_location, batch)
    return int(metadata.get("batchWatermarkMs", 0))


def log_manifest(manifest: dict) -> None:
    """Log a finished batch's manifest as one JSON line on stdout (on Glue, the job's output log)."""
    print(json.dumps(manifest, sort_keys=True), flush=True)


class BatchWriter:
    """The `forEachBatch` function: splits a micro-batch of `pipeline.assemble` and writes every output."""

    def __init__(
        self,
        output_root: str,
        checkpoint_location: str,
        clock: Callable[[], float] = time.time,
        on_batch: Callable[[dict], None] | None = None,
    ) -> None:
        self.output_root = output_root.rstrip("/")
        self.checkpoint_location = checkpoint_location
        self.clock = clock
        self.on_batch = on_batch

    def path(self, output: str, batch_id: int | None = None) -> str:
        """Where an output (or one batch of it) lives."""
        base = f"{self.output_root}/{OUTPUTS[output][0] if output in OUTPUTS else output}"
        return base if batch_id is None else f"{base}/batch_id={batch_id}"

    def _first_attempt(self, spark: SparkSession, batch_id: int) -> bool:
        """Mark batch `batch_id` as started; False when an earlier attempt had marked it (a replay)."""
        filesystem, marker = _filesystem(spark, f"{self.output_root}/{ATTEMPTS}/batch_id={batch_id}")
        if filesystem.exists(marker):
            return False
        filesystem.create(marker, True).close()
        return True

    def _clear(self, spark: SparkSession, batch_id: int) -> None:
        """Delete every file an earlier attempt of batch `batch_id` wrote: its outputs, what it staged, its manifest."""
        patterns = [self.path(name, batch_id) for name in OUTPUTS if name != "curated"]
        patterns += [f"{self.path('curated')}/*/*/batch_id={batch_id}", self.path(MANIFESTS, batch_id)]
        # What a killed attempt's dynamic overwrite of curated staged, partly written (its job's folder).
        patterns.append(f"{self.path('curated')}/.spark-staging-*")
        for pattern in patterns:
            filesystem, glob = _filesystem(spark, pattern)
            for status in filesystem.globStatus(glob) or []:
                filesystem.delete(status.getPath(), True)

    def _write(self, name: str, frame: DataFrame, batch_id: int) -> int:
        """Write one output of batch `batch_id`; the milliseconds it took."""
        started = self.clock()
        _, form = OUTPUTS[name]
        if name == "curated":
            # Dynamic overwrite replaces only the partitions this batch writes: a replay rewrites its own.
            frame.withColumn("batch_id", F.lit(batch_id)).write.mode("overwrite").option(
                "partitionOverwriteMode", "dynamic"
            ).partitionBy("event_date", "event_hour", "batch_id").parquet(self.path(name))
        else:
            getattr(frame.write.mode("overwrite"), form)(self.path(name, batch_id))
        return int((self.clock() - started) * 1000)

    def _write_lines(self, batch: DataFrame, watermark: int, names: list[str], batch_id: int) -> int:
        """Write JSON outputs `names` of batch `batch_id` from the driver, one file each; the milliseconds it took.

        Each output is written even when another fails; the first failure is raised after the last write.
        """
        started = self.clock()
        lines: dict[str, list[str]] = {name: [] for name in names}
        for row in pipeline.json_lines(batch, watermark, names).collect():
            lines[row.output].append(row.line)
        failures = []
        for name, texts in lines.items():
            try:
                text = "".join(f"{line}\n" for line in texts)
                write_text(batch.sparkSession, f"{self.path(name, batch_id)}/{JSON_FILE}", text)
            except Exception as error:  # raised below, once every output had its write
                failures.append(error)
        if failures:
            raise failures[0]
        return int((self.clock() - started) * 1000)

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        """Write one micro-batch; safe to call again with the same batch (a replay)."""
        started = self.clock()
        phases: dict[str, int] = {}

        def phase(name: str, since: float) -> float:
            now = self.clock()
            phases[name] = int((now - since) * 1000)
            return now

        spark = batch.sparkSession
        if not self._first_attempt(spark, batch_id):
            self._clear(spark, batch_id)
        frozen, mark = batch, started
        level = batch.storageLevel
        if not (level.useMemory or level.useDisk):
            # Glue's forEachBatch persists the batch and counts it before calling this function (its default,
            # persistDataFrame "true"): the outputs then read Spark's columnar cache, which skips the cached
            # blocks of other kinds (a union's partition holds one branch) and the other kinds' columns. Handed a
            # batch nobody persisted, each output would run the stateful pipeline again: a local checkpoint
            # computes it once. Its blocks are released with the DataFrame.
            frozen = batch.localCheckpoint(eager=True)
            mark = phase("pipeline", started)
        metadata = batch_metadata(spark, self.checkpoint_location, batch_id)
        watermark = late_watermark_ms(spark, self.checkpoint_location, batch_id, metadata)
        counts, json_bytes = pipeline.batch_counts(frozen, watermark)
        mark = phase("counts", mark)
        # Only the outputs with rows are built: each DataFrame built costs its analysis, every micro-batch.
        wanted = [name for name in OUTPUTS if counts[name]]
        sizes = {**counts, "site_windows": counts["device_windows"]}
        small = [name for name in wanted if sizes[name] <= SMALL_OUTPUT_ROWS]
        by_driver = [name for name in small if name in JSON_OUTPUTS] if json_bytes <= DRIVER_JSON_BYTES else []
        by_spark = [name for name in wanted if name not in by_driver]
        frames = pipeline.split_batch(frozen, watermark, by_spark, small)
        jobs = {name: partial(self._write, name, frame, batch_id) for name, frame in frames.items()}
        if by_driver:
            jobs[JSON_LINES] = partial(self._write_lines, frozen, watermark, by_driver, batch_id)
        # Each write is a Spark job whose driver-side work (planning, the commit) leaves the executors idle, and a
        # small output's single task leaves a core idle: written at the same time, the jobs share the cores.
        # Leaving the block waits for every write, so the manifest below is still written last, and a failed
        # write fails the batch once the others have finished. Each write's thread gets its own copy of this
        # thread's Spark properties (the query's job group, which stopping the query cancels; the SQL execution).
        with ThreadPoolExecutor(max_workers=max(1, len(jobs)), thread_name_prefix="write") as pool:
            running = {name: pool.submit(_inheriting(spark, job)) for name, job in jobs.items()}
        phases.update({f"write_{name}": future.result() for name, future in running.items()})
        phase("writes", mark)
        manifest = {
            "batch_id": batch_id,
            "late_watermark_ms": watermark,
            "counts": counts,
            "triggered_at_ms": int(metadata.get("batchTimestampMs", started * 1000)),
            "started_at_ms": int(started * 1000),
            "phases_ms": phases,
            "committed_at_ms": int(self.clock() * 1000),
        }
        line = json.dumps(manifest, sort_keys=True) + "\n"
        write_text(spark, f"{self.path(MANIFESTS, batch_id)}/{JSON_FILE}", line)
        if self.on_batch:
            self.on_batch(manifest)
