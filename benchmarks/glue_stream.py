"""Path B on local Spark: how fast the full pipeline runs, and which part limits it.

Three measurements on one kinesalite, in one run:
- the Kinesis reader alone (`read_range` over a preloaded backlog): the baseline;
- the local runner (full pipeline, sinks included) draining the same backlog: its sustained rate, after a
  warm-up drain of a small stream in the same session (the first micro-batch compiles the pipeline's code)
  and a first drain of the backlog (the JVM compiles its per-row code), whose seconds are reported too;
- the runner live, with events produced at a fixed rate for a while: each micro-batch's duration
  against the trigger interval, to show whether batches keep up at that rate.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.harness import Row
from comparison.glue_outputs import manifests, triggered_ms
from comparison.local.glue_runner import GlueJobSettings, LocalGlueJob
from comparison.local.kinesis_source import ShardPosition, ShardRange, read_range
from comparison.local.servers import Kinesalite, client, create_stream, read_stream
from comparison.producer import KinesisProducer, now_ms
from comparison.workload import WorkloadConfig, build_registry, generate, registry_json_lines

BACKLOG = 60_000
WARM_UP = 2_000
LIVE_RATE = 5_000.0
LIVE_SECONDS = 60.0
TRIGGER = "10 seconds"
BENCH = "glue path (local Spark, kinesalite)"
DRAIN = "full pipeline draining a backlog"
SETTINGS = GlueJobSettings(window_size=TRIGGER, aggregate_window="10 seconds", watermark_delay="30 seconds")


def _events(count: int, rate: float, seed: int):
    return generate(WorkloadConfig(seed=seed, rate=rate, duration_s=count / rate, late_fraction=0.0), now_ms())


def _preload(kinesis, stream: str, count: int, aggregation: bool = False) -> None:
    KinesisProducer(kinesis, stream, aggregation=aggregation).send(list(_events(count, 50_000.0, seed=31)))


def _reader_row(endpoint: str, kinesis, stream: str, variant: str = "Kinesis reader alone (read_range)") -> Row:
    options = {"endpointurl": endpoint}
    ends = {shard: records[-1]["SequenceNumber"] for shard, records in read_stream(kinesis, stream).items() if records}
    ranges = [ShardRange(stream, shard, ShardPosition(), end) for shard, end in ends.items()]
    started = time.perf_counter()
    # The shards at the same time, as the source reads them ahead (`KinesisStreamReader._read_ahead_each`).
    with ThreadPoolExecutor(max_workers=len(ranges)) as pool:
        count = sum(batch.num_rows for batch in pool.map(lambda part: read_range(options, part), ranges))
    seconds = time.perf_counter() - started
    return Row(BENCH, variant, count, seconds)


def _wait_for(out: Path, expected: int, timeout_s: float) -> list[dict]:
    """The manifests, once the committed micro-batches have read `expected` records."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        done = manifests(out)
        if sum(m["counts"]["records"] for m in done) >= expected:
            return done
        time.sleep(0.5)
    raise RuntimeError(f"the runner did not process {expected} records in {timeout_s} s")


def _drain(
    spark, endpoint: str, stream: str, folder: Path, registry: Path, expected: int, timeout_s: float
) -> tuple[list[dict], float]:
    """The runner started on `stream` until it has processed `expected` records: the manifests, and when (epoch
    seconds) the query was started."""
    job = LocalGlueJob(stream, endpoint, str(folder / "out"), str(folder / "checkpoint"), SETTINGS, str(registry))
    started = time.time()
    job.start(spark)
    try:
        return _wait_for(folder / "out", expected, timeout_s), started
    finally:
        job.stop()


def _backlog(kinesis, folder: Path) -> Path:
    """The stream "backlog" preloaded with BACKLOG events; the path of their device registry."""
    registry = folder / "devices.jsonl"
    registry.write_bytes(registry_json_lines(build_registry(WorkloadConfig(seed=31))))
    create_stream(kinesis, "backlog", shards=2)
    _preload(kinesis, "backlog", BACKLOG)
    return registry


def _warm_up(spark, endpoint: str, kinesis, folder: Path, registry: Path) -> float:
    """Seconds to drain a small stream of WARM_UP events on `spark`, before the backlog.

    A session's first micro-batch of the pipeline generates and compiles its code: drained cold, the backlog's
    one micro-batch spent 26 of its 37 s before the batch function started, 15 s warm (2026-12-01T00:57Z and
    00:59Z). `make compare` sends a warm-up record for the same reason.
    """
    create_stream(kinesis, "warm-up", shards=2)
    KinesisProducer(kinesis, "warm-up").send(list(_events(WARM_UP, 50_000.0, seed=30)))
    expected = sum(len(records) for records in read_stream(kinesis, "warm-up").values())
    started = time.monotonic()
    _drain(spark, endpoint, "warm-up", folder / "warm-up", registry, expected, 600)
    return time.monotonic() - started


def _busy(done: list[dict]) -> tuple[list[dict], float]:
    """The manifests of the batches with records, and the seconds from the first's trigger to the last's commit."""
    busy = [m for m in done if m["counts"]["records"]]
    return busy, (busy[-1]["committed_at_ms"] - triggered_ms(busy[0])) / 1000


def _before_trigger_s(busy: list[dict], started: float) -> float:
    """Seconds from the query's start to the trigger of its first batch with records.

    Spark takes a batch's trigger time once the source has said where the batch ends: the local source has then
    read the batch's records ahead on the driver (Glue's connector reads on the executors, in the batch), and the
    query has started (the registry loaded, the stream's shards listed).
    """
    return triggered_ms(busy[0]) / 1000 - started


def _drain_row(
    spark, endpoint: str, kinesis, folder: Path, registry: Path, expected: int, variant: str, baseline: str
) -> Row:
    """The backlog drained twice in one session, after the warm-up: the second drain's rate, the first's seconds.

    The first drain of 60,000 events still runs much of the JVM's per-row code before the JIT has compiled it:
    its tasks used about 1.5x the CPU of the drains after it (7.4 s against 4.6-5.1 s of JVM CPU in the pipeline's
    job, Spark's event log, 2026-12-01T08:18Z), which a job running for hours, as a streaming job does, pays once.
    """
    warm_up_s = _warm_up(spark, endpoint, kinesis, folder, registry)
    # Each drain runs from the trigger of its first batch with records (`_before_trigger_s`).
    _, first_s = _busy(_drain(spark, endpoint, "backlog", folder / "backlog-first", registry, expected, 900)[0])
    done, started = _drain(spark, endpoint, "backlog", folder / "backlog", registry, expected, 900)
    busy, seconds = _busy(done)
    extra = {
        "batches": len(busy),
        "warm_up_s": round(warm_up_s, 1),
        "first_drain_s": round(first_s, 2),
        "before_trigger_s": round(_before_trigger_s(busy, started), 2),
        "outputs": _output_rows(busy),
    }
    return Row(BENCH, variant, expected, seconds, baseline=baseline, extra=extra)


def _output_rows(batches: list[dict]) -> dict[str, int]:
    """Rows written per output over the manifests' batches (the join's fan-out drives the drain's cost)."""
    return {name: sum(m["counts"][name] for m in batches) for name in batches[0]["counts"]}


def cluster_rows(spark, workers: int) -> tuple[list[Row], list[str]]:
    """The backlog drain again, on `spark` connected to a standalone cluster of `workers` one-core workers."""
    folder = Path(tempfile.mkdtemp(prefix="bench-glue-cluster-"))
    try:
        with Kinesalite() as server:
            kinesis = client("kinesis", server.endpoint)
            registry = _backlog(kinesis, folder)
            expected = sum(len(records) for records in read_stream(kinesis, "backlog").values())
            variant = f"{DRAIN}, standalone cluster ({workers} workers x 1 core)"
            row = _drain_row(spark, server.endpoint, kinesis, folder, registry, expected, variant, DRAIN)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return [row], []


def rows(spark) -> tuple[list[Row], list[str]]:
    """The three measurements, as rows and notes."""
    notes: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="bench-glue-"))
    try:
        with Kinesalite() as server:
            kinesis = client("kinesis", server.endpoint)
            registry = _backlog(kinesis, folder)
            reader = _reader_row(server.endpoint, kinesis, "backlog")
            # The same events as KPL aggregates: fewer Kinesis records to fetch, each one unpacked.
            create_stream(kinesis, "backlog-kpl", shards=2)
            _preload(kinesis, "backlog-kpl", BACKLOG, aggregation=True)
            packed = _reader_row(
                server.endpoint, kinesis, "backlog-kpl", "Kinesis reader alone, KPL-aggregated (user records)"
            )
            packed.baseline = reader.variant
            runner = _drain_row(spark, server.endpoint, kinesis, folder, registry, reader.items, DRAIN, reader.variant)

            create_stream(kinesis, "live", shards=2)
            live = folder / "live"
            job = LocalGlueJob(
                "live", server.endpoint, str(live / "out"), str(live / "checkpoint"), SETTINGS, str(registry)
            )
            job.start(spark)
            try:
                time.sleep(15)  # past Spark's first (empty) batches
                events = _events(int(LIVE_RATE * LIVE_SECONDS), LIVE_RATE, seed=32)
                started = time.monotonic()
                sent = KinesisProducer(kinesis, "live").run(events)
                produced_s = time.monotonic() - started
                _wait_for(live / "out", sent, 600)
            finally:
                job.stop()
            batches = [m for m in manifests(live / "out") if m["counts"]["records"]]
            durations = [(m["committed_at_ms"] - triggered_ms(m)) / 1000 for m in batches]
            trigger_s = SETTINGS.trigger_seconds()
            over = sum(1 for d in durations if d > trigger_s)
            first, last = batches[0], batches[-1]
            live_row = Row(
                BENCH,
                f"live at {sent / produced_s:,.0f} events/s produced",
                sent,
                (last["committed_at_ms"] - triggered_ms(first)) / 1000,
                baseline=reader.variant,
                extra={"batch_s": durations, "trigger_s": trigger_s, "batches_over_trigger": over},
            )
            notes.append(
                f"glue path live: {sent:,} events produced at {sent / produced_s:,.0f}/s; "
                f"{len(durations)} micro-batches took {min(durations):.1f}-{max(durations):.1f} s "
                f"(median {sorted(durations)[len(durations) // 2]:.1f} s) against a {trigger_s:.0f} s trigger; "
                f"{over} took longer than the trigger."
            )
            notes.append(
                f"glue path: the Kinesis reader alone reads {reader.rate:,.0f} records/s from kinesalite; the full "
                f"pipeline drains a {reader.items:,}-record backlog at {runner.rate:,.0f} records/s "
                f"({runner.rate / reader.rate:.2f}x the reader) the second time, from the trigger of its batch (the "
                f"query's start to that trigger, reading the backlog ahead on the driver, took "
                f"{runner.extra['before_trigger_s']:.1f} s more), after a "
                f"{runner.extra['warm_up_s']:.0f}-s warm-up drain of {WARM_UP:,} events and a first drain of the "
                f"backlog in {runner.extra['first_drain_s']:.1f} s ({reader.items / runner.extra['first_drain_s']:,.0f}"
                f" records/s)."
                f" It wrote {runner.extra['outputs']['maintenance_join']:,} join rows "
                f"and {runner.extra['outputs']['curated']:,} curated records."
            )
            notes.append(
                f"glue path: from KPL aggregates the reader delivers {packed.rate:,.0f} user records/s "
                f"({packed.rate / reader.rate:.2f}x reading the same events sent one per Kinesis record)."
            )
            return [reader, packed, runner, live_row], notes
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    from comparison.local.spark import build_spark_session

    session = build_spark_session("bench-glue")
    measured, measured_notes = rows(session)
    print(json.dumps({"rows": [r.__dict__ for r in measured], "notes": measured_notes}, default=str))
