"""`python -m comparison run`: produce the workload to a local Kinesis and record exactly what was sent.

The Firehose path, the Glue path and the report are added by the issues that build them; until then
the command says which parts are missing instead of pretending.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from comparison.inputs import input_row, write_rows
from comparison.local.servers import Kinesalite, client, create_stream
from comparison.producer import KinesisProducer, now_ms
from comparison.workload import WorkloadConfig, build_registry, generate, registry_json_lines

STREAM = "telemetry"
MISSING = (
    "Path A (Firehose + Lambda), path B (Glue streaming) and the report are not built yet: "
    "this run only produced the workload and recorded it in {input_dir}."
)


def produce(config: WorkloadConfig, endpoint: str, out: Path, console: Console) -> int:
    """Create the stream, produce the workload at its rate with progress shown; returns records sent."""
    kinesis = client("kinesis", endpoint)
    create_stream(kinesis, STREAM, shards=2)
    input_dir = out / "input"
    input_dir.mkdir(parents=True, exist_ok=True)
    (input_dir / "devices.jsonl").write_bytes(registry_json_lines(build_registry(config)))
    producer = KinesisProducer(kinesis, STREAM)
    total = config.total_scheduled
    with (
        open(input_dir / "events.jsonl", "w") as stream,
        Progress(
            TextColumn("[bold]producing"),
            BarColumn(),
            TextColumn("{task.completed:,}/{task.total:,} scheduled sends"),
            TimeRemainingColumn(),
            console=console,
        ) as progress,
    ):
        task = progress.add_task("produce", total=total)

        def record(events, sent):
            by_index = {s.index: s for s in sent}
            write_rows(stream, (input_row(e, by_index[e.index].sent_at_ms, by_index[e.index]) for e in events))
            progress.update(task, advance=sum(e.intent.duplicate_of is None for e in events))

        return producer.run(generate(config, now_ms() + 500), on_sent=record)


def cmd_run(args: argparse.Namespace) -> int:
    """Run the local comparison (so far: the production phase)."""
    from comparison.cli import _config

    if args.mode != "local":
        raise ValueError("only --mode local exists so far")
    console = Console()
    config = _config(args, rate=200.0, duration_s=30.0)
    out = Path(args.out)
    started = time.monotonic()
    with Kinesalite() as kinesalite:
        console.print(f"kinesalite on {kinesalite.endpoint}")
        sent = produce(config, kinesalite.endpoint, out, console)
    console.print(f"produced {sent:,} records in {time.monotonic() - started:.1f} s")
    console.print(MISSING.format(input_dir=out / "input"))
    return 0


def add_run_parser(commands) -> None:
    """Register `run` on the CLI."""
    parser = commands.add_parser("run", help="run both paths on one workload and write the report")
    parser.add_argument("--mode", choices=["local", "aws"], default="local")
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--out", default="runs/latest", help="run folder (default runs/latest)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rate", type=float, help="events per second")
    parser.add_argument("--duration", type=float, help="seconds of production")
    parser.add_argument("--devices", type=int, help="devices in the registry")
    parser.set_defaults(handler=cmd_run)
