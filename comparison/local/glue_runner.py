"""Path B on local Spark: `glue_streaming/glue_job.py` itself, run under the `awsglue` stand-in.

The Glue entry runs unchanged: its arguments are the Glue job's DefaultArguments in template.yaml (with
parameter overrides), as Glue passes them, with the local stream, output, checkpoint and registry put in
place of the stack's; its Kinesis reads go to the local endpoint through the project's Python Data
Source (`comparison/local/glue_stand_in/`). Any Spark master URL works (`local[*]` by default).

    python -m comparison.local.glue_runner --stream NAME --endpoint http://127.0.0.1:PORT \\
        --output runs/glue --checkpoint runs/glue-checkpoint [--registry devices.jsonl] [--master URL] \\
        [--warm-up-batches N]

With `--warm-up-batches`, the pipeline first runs on a stream of its own (`comparison.local.glue_warm_up`), and
a line `{"event": "warmed_up", ...}` gives its figures. The job logs each finished micro-batch's manifest as one
JSON line on stdout. SIGTERM or SIGINT stops the query; a batch it cuts short was not committed, and a restart
on the same checkpoint runs it again (its writes are idempotent).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import runpy
import signal
import sys
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from comparison.local.template import PROJECT_ROOT, Template, TemplateError

JOB_RESOURCE = "GlueStreamingJob"
SOURCE_TABLE_RESOURCE = "GlueSourceTable"
GLUE_JOB_SCRIPT = PROJECT_ROOT / "glue_streaming" / "glue_job.py"
DEFAULT_MASTER = "local[*]"
LOCAL_ACCOUNT, LOCAL_REGION = "000000000000", "us-east-1"
# One job per process, as on Glue; the script reads sys.argv and the stand-in the endpoint while starting.
_STARTING = threading.Lock()


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
        arguments = default_arguments(template or Template())
        values = {name: arguments[f"--{name}"] for name in cls.__dataclass_fields__ if f"--{name}" in arguments}
        return cls(**{k: str(v) for k, v in values.items()})

    def trigger_seconds(self) -> float:
        """window_size in seconds ("100 seconds" -> 100.0)."""
        from comparison.truth import interval_ms

        try:
            return interval_ms(self.window_size) / 1000
        except ValueError as error:
            raise TemplateError(f"window_size: {error}") from None


def default_arguments(template: Template) -> dict[str, str]:
    """The Glue job's DefaultArguments, resolved (`--name` -> value)."""
    arguments = template.resource(JOB_RESOURCE, "AWS::Glue::Job").get("DefaultArguments", {})
    return {key: str(value) for key, value in arguments.items()}


def stream_arn(stream: str) -> str:
    """The ARN a local stream would have (the stand-in reads the name and region from it)."""
    return f"arn:aws:kinesis:{LOCAL_REGION}:{LOCAL_ACCOUNT}:stream/{stream}"


def catalog_tables(template: Template, stream: str) -> dict[tuple[str, str], dict[str, Any]]:
    """The template's Kinesis source table, as the stand-in's Data Catalog holds it, on the local stream."""
    table = template.resource(SOURCE_TABLE_RESOURCE, "AWS::Glue::Table")["TableInput"]
    columns = table["StorageDescriptor"]["Columns"]
    return {
        (str(template.parameters["GlueDatabaseName"]), table["Name"]): {
            "parameters": {**table["Parameters"], "streamARN": stream_arn(stream)},
            "schema": ", ".join(f"`{c['Name']}` {c['Type']}" for c in columns),
        }
    }


@dataclass
class LocalGlueJob:
    """One run of the Glue entry on local Spark against one Kinesis stream."""

    stream: str
    endpoint_url: str
    output_root: str
    checkpoint_location: str
    settings: GlueJobSettings = field(default_factory=GlueJobSettings)
    registry_path: str | None = None
    template: Template = field(default_factory=Template)
    # Whether the Kinesis source unpacks KPL aggregates: an assumption about Glue (comparison/kpl.py).
    kpl_deaggregation: bool = True
    query: Any = field(default=None, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)
    _failure: BaseException | None = field(default=None, init=False)

    def argv(self) -> list[str]:
        """The script's command line: the template's DefaultArguments with the local places and settings."""
        arguments = default_arguments(self.template)
        arguments.update({f"--{name}": value for name, value in asdict(self.settings).items()})
        arguments.update(
            {
                "--JOB_NAME": str(self.template.resource(JOB_RESOURCE)["Name"]),
                "--stream_arn": stream_arn(self.stream),
                "--output_root": self.output_root,
                "--checkpoint_location": self.checkpoint_location,
                "--registry_uri": self.registry_path or "",
            }
        )
        return [str(GLUE_JOB_SCRIPT), *(item for pair in arguments.items() for item in pair)]

    @contextlib.contextmanager
    def _starting(self, started: threading.Event) -> Iterator[None]:
        """The script's argv, the local endpoint and the catalog in place until its query has started."""
        from comparison.local.glue_stand_in import install
        from comparison.local.glue_stand_in.runtime import RUNTIME

        install()
        with _STARTING:
            RUNTIME.reset()
            RUNTIME.catalog = catalog_tables(self.template, self.stream)
            RUNTIME.kpl_deaggregation = self.kpl_deaggregation

            def on_started(query: Any) -> None:
                self.query = query
                started.set()

            RUNTIME.on_query_started = on_started
            saved_argv, saved_endpoint = sys.argv, os.environ.get("AWS_ENDPOINT_URL_KINESIS")
            sys.argv, os.environ["AWS_ENDPOINT_URL_KINESIS"] = self.argv(), self.endpoint_url
            try:
                yield
            finally:
                sys.argv = saved_argv
                if saved_endpoint is None:
                    os.environ.pop("AWS_ENDPOINT_URL_KINESIS", None)
                else:
                    os.environ["AWS_ENDPOINT_URL_KINESIS"] = saved_endpoint

    def _run_script(self) -> None:
        try:
            runpy.run_path(str(GLUE_JOB_SCRIPT), run_name="__main__")
        except BaseException as error:  # handed to whoever waits for the job
            self._failure = error

    def start(self, spark: Any) -> Any:
        """Run the job in a thread of this process on `spark` (the session the script's getOrCreate finds);
        returns its StreamingQuery once started, or raises what stopped the script before it started."""
        started = threading.Event()
        with self._starting(started):
            self._thread = threading.Thread(target=self._run_script, name="glue-job", daemon=True)
            self._thread.start()
            while not started.wait(0.2):
                if not self._thread.is_alive():
                    raise self._failure or RuntimeError("the Glue job ended before its query started")
        return self.query

    def running(self) -> bool:
        """Whether the script is still running (started and not ended)."""
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        """Ask the job to stop and wait for the script to end; a micro-batch it interrupts is replayed from the
        checkpoint on the next start. Raises what made the script fail, if anything did."""
        from comparison.local.glue_stand_in.runtime import RUNTIME

        RUNTIME.request_stop()
        if self._thread is not None:
            self._thread.join(timeout=120)
        if self._failure is not None:
            raise self._failure


def build_parser() -> argparse.ArgumentParser:
    """The runner's command line."""
    parser = argparse.ArgumentParser(prog="python -m comparison.local.glue_runner", description=__doc__)
    parser.add_argument("--stream", required=True, help="Kinesis stream name")
    parser.add_argument("--endpoint", required=True, help="Kinesis endpoint URL of the local server")
    parser.add_argument("--output", required=True, help="output root (a local directory)")
    parser.add_argument("--checkpoint", required=True, help="checkpoint directory (keep it to resume)")
    parser.add_argument("--registry", help="device registry, JSON Lines")
    parser.add_argument("--master", default=DEFAULT_MASTER, help=f"Spark master URL (default {DEFAULT_MASTER})")
    parser.add_argument("--window-size", help='micro-batch trigger, e.g. "10 seconds" (default: the template\'s)')
    parser.add_argument("--starting-position", choices=["TRIM_HORIZON", "LATEST"])
    parser.add_argument("--aggregate-window", help='tumbling window, e.g. "1 minute"')
    parser.add_argument("--watermark-delay", help='watermark delay, e.g. "10 minutes"')
    parser.add_argument("--join-bound", help='maintenance join bound, e.g. "10 minutes"')
    parser.add_argument(
        "--no-kpl-deaggregation",
        action="store_true",
        help="hand KPL aggregates to the job whole (Glue's behaviour is not documented; default: unpack them)",
    )
    parser.add_argument("--parameter", action="append", default=[], metavar="NAME=VALUE", help="template override")
    parser.add_argument(
        "--warm-up-batches",
        type=int,
        default=0,
        metavar="N",
        help="before the job, run its pipeline for N micro-batches on a stream of its own in the same Kinesis, to "
        "bring the JVM to its steady state (comparison.local.glue_warm_up; default 0: none)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run until SIGTERM/SIGINT; exit code 0 after a clean stop, 2 on bad arguments, 1 if the job failed."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.warm_up_batches < 0:
        parser.error(f"--warm-up-batches must be 0 or more, got {args.warm_up_batches}")
    try:
        overrides = dict(item.split("=", 1) for item in args.parameter)
        template = Template(overrides=overrides)
        settings = GlueJobSettings.from_template(template)
    except (TemplateError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    chosen = {name: getattr(args, name) for name in asdict(settings) if getattr(args, name)}
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
        template=template,
        kpl_deaggregation=not args.no_kpl_deaggregation,
    )
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.set())
    signal.signal(signal.SIGINT, lambda signum, frame: stopping.set())
    if args.warm_up_batches:
        from comparison.local.glue_warm_up import timed_warm_up

        try:
            warmed = timed_warm_up(spark, args.endpoint, args.warm_up_batches)
        except Exception as error:
            spark.stop()
            print(f"error: the warm-up before the job failed: {error}", file=sys.stderr)
            return 1
        print(json.dumps({"event": "warmed_up", **warmed}), flush=True)
        if stopping.is_set():  # asked to stop while warming up: the job never starts
            spark.stop()
            print(json.dumps({"event": "stopped"}), flush=True)
            return 0
    try:
        query = job.start(spark)
        print(json.dumps({"event": "started", "query_id": str(query.id), "settings": asdict(settings)}), flush=True)
        while not stopping.is_set() and job.running():
            stopping.wait(0.5)
        job.stop()
    except Exception as error:
        print(f"error: the Glue job failed: {error}", file=sys.stderr)
        return 1
    finally:
        spark.stop()
    print(json.dumps({"event": "stopped"}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
