"""Path B's micro-batch split into its parts, against a minimal query on the same source (`make bench`).

For about 1,500 and about 20,000 events per micro-batch (a preloaded kinesalite stream of 2 shards, read
`maxFetchRecordsPerShard` at a time, micro-batches back to back), two streaming queries on the Glue
entry's source (the stand-in's frame, `pipeline.from_glue_kinesis`):
- baseline: the minimal stateless query, each micro-batch written as one Parquet output;
- pipeline: `pipeline.assemble` with `storage.BatchWriter` inside Glue's `forEachBatch` function (the
  stand-in's `glue_batch_function`: the batch persisted and counted first), as `glue_streaming/glue_job.py`
  runs it.
Each micro-batch's parts come from Spark's progress (`durationMs`: planning, the sink's `addBatch`, the
offset and commit logs), from the time Spark calls the batch function (before it, Spark preparing the
batch's plan; from it to the writer's start, Glue's persist and count, which computes the pipeline with its
state stores and the source read) and from the pipeline's manifests (`phases_ms`: the counts, the writes,
which run at the same time, and each output's write). Medians over the micro-batches after the first two
(code generation and class loading). Spark's jobs, stages and tasks per micro-batch are counted from its status tracker.

Both queries are measured in a warm JVM, as a streaming job runs for hours: the session first runs the pipeline on a
stream of its own for WARM_UP_BATCHES micro-batches of about 1,500 events, and the note gives that warm-up's first
and last micro-batches. HotSpot compiles Spark's code as it gets hot, for about a minute of micro-batches: the
compiler threads took 0.75 of a core 45 s into a run, and a 1,500-event micro-batch took 3.2-4.4 s in the 2nd to
5th, 1.9-2.4 s from the 21st on (2026-12-01T11:17Z).
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmarks.harness import Row
from comparison.glue_outputs import manifests, triggered_ms
from comparison.local.glue_warm_up import SHARDS, glue_source, preload, run_pipeline, run_query, timed_warm_up
from comparison.local.servers import Kinesalite, client
from comparison.workload import WorkloadConfig

SIZES = (1_500, 20_000)
BATCHES = 6
WARM_UP = 2
WARM_UP_BATCHES = 30
PROGRESS_PARTS = ("triggerExecution", "queryPlanning", "addBatch", "latestOffset", "walCommit", "commitOffsets")
BENCH = "glue micro-batch (local Spark, kinesalite)"


def _spark_work(spark, query) -> dict[str, float]:
    """Jobs, stages and tasks Spark ran per micro-batch of a stopped query (its status tracker groups them by the
    query's run).

    A job over a persisted micro-batch lists the stages that computed it as well, skipped: only stages that ran
    a task count, and only the tasks that ran."""
    tracker = spark.sparkContext.statusTracker()
    jobs = tracker.getJobIdsForGroup(str(query.runId))
    stages = {stage for job in jobs if (info := tracker.getJobInfo(job)) for stage in info.stageIds}
    ran = [info for stage in stages if (info := tracker.getStageInfo(stage)) and info.numCompletedTasks]
    work = {"jobs": len(jobs), "stages": len(ran), "tasks": sum(info.numCompletedTasks for info in ran)}
    return {name: round(count / len(query.recentProgress), 1) for name, count in work.items()}


def _run(spark, frame, batch_function, checkpoint: Path) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Run a query until BATCHES micro-batches held records; their progress and the query's Spark work."""
    busy, query = run_query(frame, batch_function, checkpoint, BATCHES)
    return busy, _spark_work(spark, query)


def _median(values) -> float:
    return statistics.median(values) if values else 0.0


def _parts(progress: list[dict[str, Any]]) -> dict[str, float]:
    steady = progress[WARM_UP:]
    return {part: _median([p["durationMs"].get(part, 0) for p in steady]) / 1000 for part in PROGRESS_PARTS}


def _pipeline(
    spark, endpoint: str, folder: Path, stream: str, config: WorkloadConfig, per_shard: int
) -> tuple[list[dict[str, Any]], dict[str, float], dict[int, int]]:
    """The Glue job's pipeline on `stream` (`glue_warm_up.run_pipeline`) for BATCHES micro-batches: its progress, its
    Spark work and, per micro-batch, when Spark called the batch function (epoch ms)."""
    called_ms: dict[int, int] = {}

    def called(batch_id: int) -> None:
        called_ms[batch_id] = int(time.time() * 1000)

    progress, query = run_pipeline(spark, endpoint, folder, stream, config, per_shard, BATCHES, called)
    return progress, _spark_work(spark, query), called_ms


def warm_up(spark, endpoint: str) -> str:
    """Run the pipeline for WARM_UP_BATCHES micro-batches (`glue_warm_up`); a note of how long they took."""
    warmed = timed_warm_up(spark, endpoint, WARM_UP_BATCHES)
    return (
        f"glue micro-batch warm-up: {warmed['batches']} micro-batches of about {warmed['batch_events']:,} events in "
        f"{warmed['elapsed_s']:.0f} s; the first {warmed['first_s']:.2f} s, the 2nd to 5th "
        f"{warmed['second_to_fifth_s']:.2f} s (median), the last five {warmed['last_five_s']:.2f} s."
    )


def measure(spark, endpoint: str, kinesis, folder: Path, size: int) -> tuple[list[Row], str]:
    """The baseline and pipeline rows for micro-batches of about `size` events, and a note of the parts."""
    stream = f"micro-batch-{size}"
    config = preload(kinesis, stream, size, BATCHES)
    per_shard = size // SHARDS

    def baseline_batch(batch, batch_id: int) -> None:
        batch.write.mode("overwrite").parquet(str(folder / stream / "baseline" / f"batch_id={batch_id}"))

    base_progress, base_work = _run(
        spark, glue_source(spark, endpoint, stream, per_shard), baseline_batch, folder / stream / "baseline-checkpoint"
    )
    pipe_progress, pipe_work, called_ms = _pipeline(spark, endpoint, folder, stream, config, per_shard)

    events = int(_median([p["numInputRows"] for p in pipe_progress[WARM_UP:]]))
    base_parts, pipe_parts = _parts(base_progress), _parts(pipe_progress)
    busy = {m["batch_id"]: m for m in manifests(folder / stream / "out")}
    steady = [busy[p["batchId"]] for p in pipe_progress[WARM_UP:] if p["batchId"] in busy]
    phases: dict[str, list[float]] = defaultdict(list)
    for manifest in steady:
        called = called_ms[manifest["batch_id"]]
        phases["preparing the plan"].append((called - triggered_ms(manifest)) / 1000)
        phases["pipeline"].append((manifest["started_at_ms"] - called) / 1000)
        for name, ms in manifest["phases_ms"].items():
            phases[name].append(ms / 1000)
    inside = {name: _median(values) for name, values in phases.items()}
    bench = f"{BENCH}, about {size:,} events per batch"
    rows = [
        Row(bench, "minimal stateless query (baseline)", events, base_parts["triggerExecution"], "events/s",
            extra={"parts_s": base_parts, "spark_per_batch": base_work}),
        Row(bench, "the Glue pipeline (assemble + BatchWriter)", events, pipe_parts["triggerExecution"], "events/s",
            baseline="minimal stateless query (baseline)",
            extra={"parts_s": pipe_parts, "inside_batch_s": inside, "spark_per_batch": pipe_work}),
    ]  # fmt: skip
    writes = sum(1 for k in inside if k.startswith("write_"))
    note = (
        f"glue micro-batch, about {events:,} events: {pipe_parts['triggerExecution']:.2f} s per micro-batch "
        f"({pipe_parts['triggerExecution'] / base_parts['triggerExecution']:.1f}x the baseline's "
        f"{base_parts['triggerExecution']:.2f} s): planning {pipe_parts['queryPlanning']:.2f} s, preparing the plan "
        f"{inside.get('preparing the plan', 0):.2f} s, Glue's persist and count (the pipeline with its state stores "
        f"and the source read) "
        f"{inside.get('pipeline', 0):.2f} s, counts {inside.get('counts', 0):.2f} s, "
        f"{writes} writes at once {inside.get('writes', 0):.2f} s; per batch Spark ran "
        f"{pipe_work['jobs']:g} jobs, {pipe_work['stages']:g} stages, {pipe_work['tasks']:g} tasks "
        f"(baseline {base_work['jobs']:g}, {base_work['stages']:g}, {base_work['tasks']:g})."
    )
    return rows, note


def rows(spark, sizes: tuple[int, ...] = SIZES) -> tuple[list[Row], list[str]]:
    """Each size's rows and notes."""
    measured: list[Row] = []
    notes: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="bench-micro-batch-"))
    try:
        with Kinesalite() as server:
            kinesis = client("kinesis", server.endpoint)
            notes.append(warm_up(spark, server.endpoint))
            for size in sizes:
                size_rows, note = measure(spark, server.endpoint, kinesis, folder, size)
                measured += size_rows
                notes.append(note)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return measured, notes


def main(argv: list[str] | None = None) -> None:
    """Measure with chosen sizes and Spark settings (what a setting does to a micro-batch); prints JSON."""
    import argparse
    import json

    from comparison.local.spark import build_spark_session

    parser = argparse.ArgumentParser(prog="python -m benchmarks.micro_batch", description=main.__doc__)
    parser.add_argument("--size", type=int, action="append", help=f"events per micro-batch (default {SIZES})")
    parser.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE", help="a Spark setting")
    args = parser.parse_args(argv)
    if bad := [item for item in args.conf if "=" not in item]:
        parser.error(f"--conf takes KEY=VALUE, got {bad[0]!r}")
    settings = dict(item.split("=", 1) for item in args.conf)
    session = build_spark_session("bench-micro-batch", extra=settings)
    found, found_notes = rows(session, tuple(args.size or SIZES))
    print(json.dumps({"settings": settings, "rows": [r.__dict__ for r in found], "notes": found_notes}, default=str))


if __name__ == "__main__":
    main()
