"""Path B on local Spark: the Glue job's pipeline and sinks, fed by a Kinesis stream through `kinesis_source`.

It stands in for `glue_streaming/glue_job.py`: the same `pipeline.assemble`, the same `BatchWriter`,
a `processingTime` trigger equal to the job's `window_size`, the checkpoint in a directory. The job's
settings come from the Glue job's DefaultArguments in template.yaml (with parameter overrides), so a
local run uses what `sam deploy` would. Any Spark master URL works (`local[*]` by default).

    python -m comparison.local.glue_runner --stream NAME --endpoint http://127.0.0.1:PORT \\
        --output runs/glue --checkpoint runs/glue-checkpoint [--registry devices.jsonl] [--master URL]

Each finished micro-batch prints its manifest as one JSON line on stdout. SIGTERM or SIGINT stops the
query; a batch it cuts short was not committed, and a restart on the same checkpoint runs it again (its
writes are idempotent).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from comparison.local.template import Template, TemplateError

JOB_RESOURCE = "GlueStreamingJob"
DEFAULT_MASTER = "local[*]"


@dataclass(frozen=True)
class GlueJobSettings:
    """The Glue job's arguments that shape the pipeline, as the template sets them."""

    window_size: str = "100 seconds"
    starting_position: str = "TRIM_HORIZON"
    aggregate_window: str = "1 minute"
    watermark_delay: str = "10 minutes"
    join_bound: str = "10 minutes"

    @classmethod
    def from_template(cls, template: Template | None = None) -> GlueJobSettings:
        """The DefaultArguments of the template's Glue job (its parameters resolved)."""
        template = template or Template()
        arguments = template.resource(JOB_RESOURCE, "AWS::Glue::Job").get("DefaultArguments", {})
        values = {name: arguments[f"--{name}"] for name in cls.__dataclass_fields__ if f"--{name}" in arguments}
        return cls(**{k: str(v) for k, v in values.items()})

    def trigger_seconds(self) -> float:
        """window_size in seconds ("100 seconds" -> 100.0)."""
        from comparison.truth import interval_ms

        try:
            return interval_ms(self.window_size) / 1000
        except ValueError as error:
            raise TemplateError(f"window_size: {error}") from None


@dataclass
class LocalGlueJob:
    """One run of the pipeline on local Spark against one Kinesis stream."""

    stream: str
    endpoint_url: str | None
    output_root: str
    checkpoint_location: str
    settings: GlueJobSettings = field(default_factory=GlueJobSettings)
    registry_path: str | None = None
    max_records_per_batch: int | None = None
    on_batch: Callable[[dict], None] | None = None
    query: Any = None

    def start(self, spark) -> Any:
        """Start the streaming query on `spark`; returns the StreamingQuery."""
        from comparison.local.kinesis_source import KinesisDataSource
        from glue_streaming import pipeline, storage

        spark.dataSource.register(KinesisDataSource)
        reader = (
            spark.readStream.format(KinesisDataSource.name())
            .option("streamName", self.stream)
            .option("startingPosition", self.settings.starting_position)
        )
        if self.endpoint_url:
            reader = reader.option("endpointUrl", self.endpoint_url)
        if self.max_records_per_batch:
            reader = reader.option("maxRecordsPerBatch", str(self.max_records_per_batch))
        settings = pipeline.PipelineSettings(
            self.settings.aggregate_window, self.settings.watermark_delay, self.settings.join_bound
        )
        registry = pipeline.registry_frame(spark, storage.load_registry(spark, self.registry_path))
        frame = pipeline.assemble(reader.load().select(*pipeline.SOURCE_COLUMNS), registry, settings)
        writer = storage.BatchWriter(self.output_root, self.checkpoint_location, on_batch=self.on_batch)
        self.query = (
            frame.writeStream.foreachBatch(writer)
            .option("checkpointLocation", self.checkpoint_location)
            .trigger(processingTime=f"{self.settings.trigger_seconds()} seconds")
            .queryName(f"glue-local-{self.stream}")
            .start()
        )
        return self.query

    def stop(self) -> None:
        """Stop the query; a micro-batch it interrupts is replayed from the checkpoint on the next start."""
        if self.query is not None and self.query.isActive:
            self.query.stop()


def _print_manifest(manifest: dict) -> None:
    print(json.dumps(manifest, sort_keys=True), flush=True)


def build_parser() -> argparse.ArgumentParser:
    """The runner's command line."""
    parser = argparse.ArgumentParser(prog="python -m comparison.local.glue_runner", description=__doc__)
    parser.add_argument("--stream", required=True, help="Kinesis stream name")
    parser.add_argument("--endpoint", help="Kinesis endpoint URL (local server); AWS when omitted")
    parser.add_argument("--output", required=True, help="output root (a local directory)")
    parser.add_argument("--checkpoint", required=True, help="checkpoint directory (keep it to resume)")
    parser.add_argument("--registry", help="device registry, JSON Lines")
    parser.add_argument("--master", default=DEFAULT_MASTER, help=f"Spark master URL (default {DEFAULT_MASTER})")
    parser.add_argument("--window-size", help='micro-batch trigger, e.g. "10 seconds" (default: the template\'s)')
    parser.add_argument("--starting-position", choices=["TRIM_HORIZON", "LATEST"])
    parser.add_argument("--aggregate-window", help='tumbling window, e.g. "1 minute"')
    parser.add_argument("--watermark-delay", help='watermark delay, e.g. "10 minutes"')
    parser.add_argument("--join-bound", help='maintenance join bound, e.g. "10 minutes"')
    parser.add_argument("--max-records-per-batch", type=int, help="cap on records per micro-batch")
    parser.add_argument("--parameter", action="append", default=[], metavar="NAME=VALUE", help="template override")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run until SIGTERM/SIGINT; exit code 0 after a clean stop, 2 on bad arguments, 1 if the query failed."""
    args = build_parser().parse_args(argv)
    try:
        overrides = dict(item.split("=", 1) for item in args.parameter)
        settings = GlueJobSettings.from_template(Template(overrides=overrides))
    except (TemplateError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    chosen = {
        name: getattr(args, name)
        for name in ("window_size", "starting_position", "aggregate_window", "watermark_delay", "join_bound")
        if getattr(args, name)
    }
    settings = replace(settings, **chosen)
    from comparison.local.spark import build_spark_session

    spark = build_spark_session("glue-local", master=args.master)
    job = LocalGlueJob(
        stream=args.stream,
        endpoint_url=args.endpoint,
        output_root=str(Path(args.output).resolve()),
        checkpoint_location=str(Path(args.checkpoint).resolve()),
        settings=settings,
        registry_path=str(Path(args.registry).resolve()) if args.registry else None,
        max_records_per_batch=args.max_records_per_batch,
        on_batch=_print_manifest,
    )
    stopping = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    query = job.start(spark)
    print(json.dumps({"event": "started", "query_id": str(query.id), "settings": settings.__dict__}), flush=True)
    while not stopping.is_set() and query.isActive:
        stopping.wait(0.5)
    failure = query.exception() if not query.isActive else None
    job.stop()
    spark.stop()
    if failure is not None:
        print(f"error: the streaming query failed: {failure}", file=sys.stderr)
        return 1
    print(json.dumps({"event": "stopped"}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
