"""The local Glue job's JVM brought to its steady state before it is measured: the pipeline run on a stream of its own.

A streaming job runs for hours, and most of them warm: HotSpot compiles Spark's code as it gets hot, for about a
minute of micro-batches. A 1,500-event micro-batch of the pipeline took 9.8 s first (Spark generating the plan's
code), 3.2-4.4 s in the 2nd to 5th, and 1.9-2.4 s from the 21st on, in one session (`python -m
benchmarks.micro_batch`, 2026-12-01T11:17Z). A run that measures a job in its first minutes measures that warm-up,
not the job. So, before the job's own query starts, `warm_up` runs the same pipeline (`pipeline.assemble` and
`storage.BatchWriter` inside Glue's forEachBatch function) in the same session, on a stream it creates in the same
local Kinesis and fills with a generated workload, for a number of micro-batches of about 1,500 events back to
back; then it deletes that stream and what the warm-up wrote. The job's query shares none of its state: only the
JVM's compiled code, and Spark's cache of generated classes, carry over.

A deployed job is not warmed this way: a Glue job run starts cold, and so does a restart after a failure (the local
runner warms only its first start).
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from comparison.local.servers import client, create_stream
from comparison.producer import KinesisProducer, now_ms
from comparison.workload import WorkloadConfig, build_registry, generate, registry_json_lines

SHARDS = 2
BATCH_EVENTS = 1_500
TRIGGER_S = 10


def preload(kinesis, stream: str, size: int, batches: int, seed: int = 41) -> WorkloadConfig:
    """A new stream of SHARDS shards holding a workload of about `size` events per 10 seconds of event time, for
    `batches` micro-batches of `size` events (and one more of spare)."""
    create_stream(kinesis, stream, shards=SHARDS)
    config = WorkloadConfig(seed=seed, rate=size / TRIGGER_S, duration_s=TRIGGER_S * (batches + 1), late_fraction=0.0)
    KinesisProducer(kinesis, stream).send(list(generate(config, now_ms())))
    return config


def glue_source(spark, endpoint: str, stream: str, per_shard: int):
    """The Glue entry's input frame (`pipeline.from_glue_kinesis` of the stand-in's Kinesis frame) on `stream`,
    from its start, `per_shard` records a shard per micro-batch."""
    from comparison.local.glue_stand_in.kinesis import KinesisRead, glue_frame
    from glue_streaming import pipeline

    read = KinesisRead(stream, "us-east-1", endpoint, "TRIM_HORIZON", None, per_shard, True, None, True)
    return pipeline.from_glue_kinesis(glue_frame(spark, read))


def run_query(frame, batch_function: Callable, checkpoint: Path, batches: int) -> tuple[list[dict[str, Any]], Any]:
    """Run `frame` through `batch_function`, micro-batches back to back, until `batches` of them held records: their
    progress (Spark's), and the stopped query."""
    query = frame.writeStream.foreachBatch(batch_function).option("checkpointLocation", str(checkpoint)).start()
    try:
        while True:
            busy = [p for p in query.recentProgress if p["numInputRows"] > 0]
            if len(busy) >= batches:
                break
            if query.exception() is not None:
                raise RuntimeError(f"the query failed: {query.exception()}")
            query.awaitTermination(0.5)
    finally:
        query.stop()
    return busy[:batches], query


def run_pipeline(
    spark,
    endpoint: str,
    folder: Path,
    stream: str,
    config: WorkloadConfig,
    per_shard: int,
    batches: int,
    on_call: Callable[[int], None] | None = None,
) -> tuple[list[dict[str, Any]], Any]:
    """The Glue job's pipeline on `stream` as the job runs it, `per_shard` records a shard per micro-batch, writing
    under `folder`, for `batches` micro-batches with records: their progress and the stopped query. `on_call` is
    called with each micro-batch's id when Spark calls the batch function."""
    from comparison.local.glue_stand_in.batches import glue_batch_function
    from glue_streaming import pipeline, storage
    from shared.enrichment import Registry

    registry = Registry.from_json_lines(registry_json_lines(build_registry(config)))
    settings = pipeline.PipelineSettings("10 seconds", "30 seconds", "10 minutes")
    frame = pipeline.assemble(glue_source(spark, endpoint, stream, per_shard), registry, settings)
    checkpoint = folder / stream / "pipeline-checkpoint"
    glue_function = glue_batch_function(storage.BatchWriter(str(folder / stream / "out"), str(checkpoint)))

    def batch_function(batch, batch_id: int) -> None:
        if on_call is not None:
            on_call(batch_id)
        glue_function(batch, batch_id)

    return run_query(frame, batch_function, checkpoint, batches)


def warm_up(spark, endpoint: str, batches: int, size: int = BATCH_EVENTS) -> list[float]:
    """Run the pipeline on a stream of its own in `endpoint`'s Kinesis for `batches` micro-batches of about `size`
    events, back to back; the seconds each took (Spark's triggerExecution). The stream and the outputs go after."""
    if batches < 1:
        raise ValueError(f"a warm-up needs at least 1 micro-batch, got {batches}")
    kinesis = client("kinesis", endpoint)
    stream = f"glue-warm-up-{uuid.uuid4().hex[:12]}"
    folder = Path(tempfile.mkdtemp(prefix="glue-warm-up-"))
    try:
        config = preload(kinesis, stream, size, batches)
        progress, _ = run_pipeline(spark, endpoint, folder, stream, config, max(1, size // SHARDS), batches)
        return [p["durationMs"]["triggerExecution"] / 1000 for p in progress]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        _delete(kinesis, stream)


def _delete(kinesis, stream: str) -> None:
    try:
        kinesis.delete_stream(StreamName=stream, EnforceConsumerDeletion=True)
    except kinesis.exceptions.ResourceNotFoundException:
        return


def summary(seconds: list[float], elapsed_s: float, batch_events: int = BATCH_EVENTS) -> dict[str, Any]:
    """A warm-up's figures as the runner reports them: micro-batches and their events, seconds in all, the first, the
    2nd to 5th and the last five (medians)."""

    def median(values: list[float]) -> float | None:
        return round(statistics.median(values), 2) if values else None

    return {
        "batches": len(seconds),
        "batch_events": batch_events,
        "elapsed_s": round(elapsed_s, 1),
        "first_s": round(seconds[0], 2) if seconds else None,
        "second_to_fifth_s": median(seconds[1:5]),
        "last_five_s": median(seconds[-5:]),
    }


def timed_warm_up(spark, endpoint: str, batches: int) -> dict[str, Any]:
    """`warm_up`, and its `summary`."""
    started = time.monotonic()
    seconds = warm_up(spark, endpoint, batches)
    return summary(seconds, time.monotonic() - started)
