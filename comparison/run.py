"""`python -m comparison run`: both paths on one workload, measured side by side, and the report.

Local mode starts everything on 127.0.0.1: kinesalite (Kinesis), moto server (S3), the Firehose
simulator calling the real transformation handler, and the Glue pipeline on local Spark (a separate
process, as a Glue job is). It produces the workload, sends a watermark tick (one reading far enough
ahead in event time that the Glue job's windows close), drains both paths, copies what each delivered
into the run folder, and writes report.json, report.md and report.html there.

Run folder: input/ (events.jsonl, devices.jsonl), sinks/firehose_lambda/ (S3 objects by key),
sinks/kinesis_glue/ (the Glue job's output root), timings/, logs/, state/ (checkpoints), load/ (locust's
CSV statistics, under `--driver locust`), report.*.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from comparison import response_size
from comparison.chaos import ChaosPlan, FlakyHandler, FlakyProxy, oversize
from comparison.inputs import input_row, write_rows
from comparison.local.glue_runner import GlueJobSettings
from comparison.local.servers import Kinesalite, MotoServer, client, create_stream
from comparison.monitor import Sampler, peak_rss_mb, run_processes
from comparison.producer import KinesisProducer, now_ms
from comparison.truth import interval_ms
from comparison.workload import Event, Intent, WorkloadConfig, build_registry, generate, registry_json_lines

ROOT = Path(__file__).resolve().parents[1]
STREAM = "telemetry"
BUCKET = "etl-showdown-local"
SHARDS = 2


@dataclass(frozen=True)
class Profile:
    """A named set of run settings: workload, Firehose buffering (template overrides), Glue job settings."""

    name: str
    rate: float
    duration_s: float
    firehose_overrides: dict[str, Any] = field(default_factory=dict)
    glue: GlueJobSettings = field(default_factory=GlueJobSettings)
    # Seconds without progress (records read, micro-batches, restarts) after which draining gives up.
    drain_timeout_s: float = 180.0


def profiles() -> dict[str, Profile]:
    """`quick`: zero buffering and a 10-second trigger (what `make compare` runs, about two minutes).
    `aws-defaults`: the template's defaults (1 MB / 60 s processor, 5 MB / 300 s delivery, 100-second
    window), with the watermark shortened to 2 minutes so that windows can close within the run."""
    template_glue = GlueJobSettings.from_template()
    return {
        "quick": Profile(
            "quick",
            rate=150,
            duration_s=60,
            firehose_overrides={"ProcessorBufferIntervalSeconds": 0, "DeliveryBufferIntervalSeconds": 0},
            glue=replace(
                template_glue, window_size="10 seconds", aggregate_window="10 seconds", watermark_delay="30 seconds"
            ),
        ),
        "aws-defaults": Profile(
            "aws-defaults",
            rate=150,
            duration_s=300,
            glue=replace(template_glue, watermark_delay="2 minutes"),
            drain_timeout_s=720.0,
        ),
    }


def tick_event(index: int, event_time_ms: int) -> Event:
    """A reading whose event time is ahead of every produced event: it moves the Glue job's watermark."""
    body = {
        "event_id": f"tick-{index}",
        "event_type": "telemetry",
        "device_id": "watermark-tick",
        "event_time": event_time_ms,
        "temperature": 0.0,
        "temperature_unit": "C",
        "humidity": 0.0,
        "battery": 100.0,
        "firmware": "tick",
    }
    intent = Intent("tick", lag_ms=now_ms() - event_time_ms)
    return Event(index, now_ms(), "watermark-tick", intent, body=body, event_id=body["event_id"])


class GlueProcess:
    """The local Glue runner as a child process; its manifests arrive on stdout, one JSON line per batch."""

    def __init__(
        self, endpoint: str, out: Path, settings: GlueJobSettings, registry: Path, kpl_deaggregation: bool = True
    ) -> None:
        self.started = time.time()
        self.by_batch: dict[int, dict[str, Any]] = {}
        # Set when the job's streaming query runs (the runner prints {"event": "started", ...}).
        self.running = threading.Event()
        self.restarts = 0
        self.log = open(out / "logs" / "glue-runner.log", "a")  # noqa: SIM115 - closed in stop()
        self.command = [
            sys.executable, "-m", "comparison.local.glue_runner",
            "--stream", STREAM, "--endpoint", endpoint, "--master", "local[2]",
            "--output", str(out / "sinks" / "kinesis_glue"), "--checkpoint", str(out / "state" / "glue-checkpoint"),
            "--registry", str(registry), "--window-size", settings.window_size,
            "--starting-position", settings.starting_position, "--aggregate-window", settings.aggregate_window,
            "--watermark-delay", settings.watermark_delay, "--join-bound", settings.join_bound,
            *([] if kpl_deaggregation else ["--no-kpl-deaggregation"]),
        ]  # fmt: skip
        self._launch()

    def _launch(self) -> None:
        self.process = subprocess.Popen(self.command, cwd=ROOT, stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.reader = threading.Thread(target=self._read, args=(self.process,), daemon=True)
        self.reader.start()

    def _read(self, process: subprocess.Popen) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.log.write(line)
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                if entry.get("event") == "started":
                    self.running.set()
                if "batch_id" in entry:
                    # A batch replayed after a crash reports again under its id: the latest write wins.
                    self.by_batch[entry["batch_id"]] = entry

    @property
    def manifests(self) -> list[dict[str, Any]]:
        """The finished batches' manifests, by batch id."""
        return [self.by_batch[k] for k in sorted(self.by_batch)]

    def wait_running(self) -> float:
        """Wait until the job's query runs (Spark started, the query planned), as a deployed streaming job
        runs before the records it is measured on arrive; returns the seconds since the launch."""
        while not self.running.wait(0.5):
            if not self.alive():
                raise RuntimeError(
                    f"the Glue runner exited (code {self.process.returncode}) before its query started: "
                    "see logs/glue-runner.log"
                )
        return time.time() - self.started

    def kill_and_restart(self) -> None:
        """SIGKILL (no chance to finish the batch in progress), then start again on the same checkpoint."""
        self.process.kill()
        self.process.wait()
        self.reader.join(timeout=5)
        self.restarts += 1
        self._launch()

    def count(self, name: str) -> int:
        """Rows written so far to one output."""
        return sum(m["counts"][name] for m in self.manifests)

    def caught_up(self, produced: int) -> int | None:
        """The batch that processed the last of `produced` records, once there is one."""
        total = 0
        for manifest in self.manifests:
            total += manifest["counts"]["records"]
            if total >= produced:
                return manifest["batch_id"]
        return None

    def drained(self, produced: int) -> bool:
        """All records processed, and a batch after the last one (it writes the windows the tick closed)."""
        last = self.caught_up(produced)
        return last is not None and any(m["batch_id"] > last for m in self.manifests)

    def alive(self) -> bool:
        """The process is still running."""
        return self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM (the runner stops its query; an interrupted batch is replayed on a restart), then wait."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.reader.join(timeout=5)
        self.log.close()


def _prepare(out: Path) -> None:
    for name in ("input", "sinks", "timings", "logs", "state", "load", "report.json", "report.md", "report.html"):
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    for name in ("input", "sinks/firehose_lambda", "sinks/kinesis_glue", "timings", "logs", "state"):
        (out / name).mkdir(parents=True, exist_ok=True)


def _copy_objects(s3, out: Path) -> int:
    count = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for item in page.get("Contents", []):
            target = out / "sinks" / "firehose_lambda" / item["Key"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read())
            count += 1
    return count


def run_local(
    profile: Profile,
    config: WorkloadConfig,
    out: Path,
    console: Console,
    chaos: ChaosPlan | None = None,
    driver: str = "producer",
    users: int = 2,
    sample_every_s: float = 5.0,
    kpl_aggregation: bool = False,
    glue_kpl_deaggregation: bool = True,
) -> dict[str, Any]:
    """Run both paths on the workload, with faults when a chaos plan is given; returns the report.

    `driver` is what produces the workload: the harness's own producer, or `locust` users (`users` of them).
    `kpl_aggregation` sends the workload as KPL aggregates; `glue_kpl_deaggregation` is the assumption that
    Glue's Kinesis source unpacks them (Firehose does, documented).
    Progress and memory are sampled every `sample_every_s` seconds into timings/samples.jsonl.
    """
    from comparison.local.firehose import FirehoseSettings, FirehoseSimulator
    from comparison.local.lambda_runtime import LocalLambda
    from comparison.local.template import Template
    from comparison.render import write_report
    from comparison.report import build_report

    _prepare(out)
    started_at = datetime.now(timezone.utc)
    started = time.monotonic()
    registry = out / "input" / "devices.jsonl"
    registry.write_bytes(registry_json_lines(build_registry(config)))
    template = Template(overrides=profile.firehose_overrides)
    # Under chaos the function's time limit is shortened so that injected slow invocations time out quickly.
    limits = {"timeout_s": chaos.lambda_timeout_s} if chaos else {}
    firehose_settings = FirehoseSettings.from_template(template, **limits)
    stop = threading.Event()
    with contextlib.ExitStack() as stack:
        moto = stack.enter_context(MotoServer())
        kinesalite = stack.enter_context(Kinesalite())
        endpoint = kinesalite.endpoint
        proxy = None
        if chaos:
            proxy = FlakyProxy(int(kinesalite.endpoint.rsplit(":", 1)[1]))
            stack.callback(proxy.close)
            endpoint = proxy.endpoint
        kinesis, s3 = client("kinesis", endpoint), client("s3", moto.endpoint)
        create_stream(kinesis, STREAM, shards=SHARDS)
        s3.create_bucket(Bucket=BUCKET)
        console.print(f"kinesalite {kinesalite.endpoint}, moto S3 {moto.endpoint}, run folder {out}")
        handler = LocalLambda(
            template, log_path=out / "logs" / "lambda.log", environment={"DEVICE_REGISTRY": str(registry)}
        )
        stack.callback(handler.close)
        # After the function's environment is in place: measuring imports the handler.
        growth = response_size.measure(config)
        too_large = response_size.warning(growth, firehose_settings.processor_buffer_mb)
        if too_large:
            console.print(f"[yellow]warning:[/yellow] {too_large}")
        flaky = FlakyHandler(handler, chaos) if chaos else None
        simulator = FirehoseSimulator(
            firehose_settings,
            kinesis=client("kinesis", endpoint),
            stream_name=STREAM,
            s3=s3,
            bucket=BUCKET,
            handler=flaky or handler,
            checkpoint_path=out / "state" / "firehose-checkpoint.json",
        )
        firehose_thread = threading.Thread(target=simulator.run, args=(stop,), daemon=True)
        firehose_thread.start()
        stack.callback(firehose_thread.join, 30)
        stack.callback(stop.set)
        glue = GlueProcess(endpoint, out, profile.glue, registry, glue_kpl_deaggregation)
        stack.callback(glue.stop)

        producer = KinesisProducer(kinesis, STREAM, aggregation=kpl_aggregation)
        produced = 0
        # Kinesis records that carried them: what the Glue job reads when it does not unpack aggregates.
        positions: set[tuple[str, str]] = set()
        producing = True

        def counts() -> dict[str, int]:
            # The flag first: a sample that says production is over must hold the final count.
            still_producing = int(producing)
            stats = simulator.stats
            return {
                "producing": still_producing,
                "produced": produced,
                "firehose_received": stats["received"],
                "firehose_processed": stats["ok"] + stats["dropped"] + stats["processing_failed"],
                "firehose_ok": stats["ok"],
                "firehose_failed": stats["processing_failed"],
                "glue_records": glue.count("records"),
                "glue_curated": glue.count("curated"),
            }

        sampler = Sampler(out / "timings" / "samples.jsonl", sample_every_s, counts, run_processes)
        stack.callback(sampler.stop)
        load: dict[str, Any] | None = None
        with (
            # Append mode: under the locust driver, locust's users write the produced rows first.
            open(out / "input" / "events.jsonl", "a") as events_file,
            Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[status]}"),
                TimeElapsedColumn(),
                console=console,
            ) as progress,
        ):
            task = progress.add_task("producing", total=config.total_scheduled, status="")

            def status() -> str:
                return (
                    f"produced {produced:,} | firehose+lambda delivered {simulator.stats['ok']:,} | "
                    f"glue curated {glue.count('curated'):,}" + ("" if glue.manifests else " (Spark starting)")
                )

            def record(batch, sent):
                nonlocal produced
                by_index = {s.index: s for s in sent}
                write_rows(events_file, (input_row(e, by_index[e.index].sent_at_ms, by_index[e.index]) for e in batch))
                produced += len(sent)
                positions.update((s.shard_id, s.sequence_number) for s in sent)
                progress.update(task, advance=sum(e.intent.duplicate_of is None for e in batch), status=status())

            # Measured in steady state, as a deployed job runs before the traffic it serves: its start (Spark's and
            # the query's) is reported on its own, not added to the first records' latency.
            progress.update(task, status="waiting for the Glue job's query to start")
            glue_startup = glue.wait_running()
            production_started = time.monotonic()
            start_ms = now_ms() + 500
            faults = None
            if chaos:
                faults = threading.Thread(
                    target=_inject, args=(chaos, config.duration_s, glue, proxy, stop, console), daemon=True
                )
                faults.start()
            if driver == "locust":
                from comparison.load.driver import produce_with_locust

                def followed(tail) -> None:
                    nonlocal produced
                    produced = tail.rows
                    progress.update(task, completed=tail.originals, status=status())

                load = produce_with_locust(
                    endpoint, STREAM, config, start_ms, out, users, chaos, followed, kpl_aggregation
                )
                if not load["complete"]:
                    console.print(
                        f"[red]locust ended (exit code {load['exit_code']}) before the workload was sent: "
                        "see logs/locust.log; the report counts what was produced"
                    )
            else:
                events = generate(config, start_ms)
                producer.run(oversize(events, chaos) if chaos else events, on_sent=record)
            production_s = time.monotonic() - production_started
            producing = False
            sampler.sample()
            if faults is not None:
                faults.join()
            lead_ms = 2 * interval_ms(profile.glue.aggregate_window) + interval_ms(profile.glue.watermark_delay)
            ticks = 0

            def send_tick() -> None:
                # The contract refuses event times more than 5 minutes ahead of arrival: stay within that.
                nonlocal ticks
                ticks += 1
                producer.run([tick_event(10**8 + ticks, now_ms() + min(lead_ms, 240_000))], on_sent=record)

            send_tick()
            progress.update(task, description="draining", status=status())
            # The limit counts from the last progress, not from the start of draining: a slow or loaded machine
            # drains late but drains; only a run that stops moving is cut short.
            deadline = time.monotonic() + profile.drain_timeout_s
            waiting_since = None
            last_mark = None
            while time.monotonic() < deadline:
                mark = (simulator.stats["received"], simulator.pending(), len(glue.by_batch), glue.restarts)
                if mark != last_mark:
                    last_mark, deadline = mark, time.monotonic() + profile.drain_timeout_s
                firehose_done = simulator.stats["received"] >= produced and simulator.pending() == 0
                if firehose_done and glue.drained(produced if glue_kpl_deaggregation else len(positions)):
                    break
                if glue.caught_up(produced) is not None:
                    # Spark usually runs a batch without data once the watermark moves; when it does not
                    # (seen after restarts), one more tick gives it data to run on, as live traffic would.
                    waiting_since = waiting_since or time.monotonic()
                    if time.monotonic() - waiting_since > 3 * profile.glue.trigger_seconds() + 10:
                        send_tick()
                        waiting_since = None
                if not glue.alive():
                    if not chaos:
                        console.print("[red]the Glue runner stopped early: see logs/glue-runner.log")
                        break
                    # Under chaos an outage can outlast the runner's retries: start it again, as one would.
                    console.print("[yellow]the Glue runner stopped: restarting it on its checkpoint")
                    glue.kill_and_restart()
                progress.update(task, status=status())
                time.sleep(0.5)
            else:
                console.print(
                    f"[yellow]not drained: no progress for {profile.drain_timeout_s:.0f} s; the report counts what "
                    "arrived"
                )
        sampler.stop()
        stop.set()
        firehose_thread.join(30)
        simulator.flush()
        objects = _copy_objects(s3, out)
    with open(out / "timings" / "firehose.jsonl", "w") as stream:
        for timeline in simulator.timelines.values():
            stream.write(json.dumps(asdict(timeline)) + "\n")
    (out / "timings" / "firehose_stats.json").write_text(json.dumps(simulator.stats, indent=1))
    (out / "timings" / "glue.json").write_text(json.dumps({"glue_startup_s": glue_startup}))
    run = {
        "mode": "local",
        "profile": profile.name,
        "command": " ".join(["python -m comparison", *sys.argv[1:]]),
        "started_at": started_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "duration_s": round(time.monotonic() - started, 1),
        "production_s": round(production_s, 2),
        "driver": {"name": driver, **(load or {})},
        "resources": {"sample_every_s": sample_every_s, "peak_rss_mb": peak_rss_mb(sampler.samples)},
        "chaos": None
        if chaos is None
        else {
            "plan": asdict(chaos),
            "glue_restarts": glue.restarts,
            "lambda": flaky.counts if flaky else None,
            "kinesis_connections_refused": proxy.refused if proxy else 0,
            "firehose_service_errors": simulator.stats.get("service_errors", 0),
        },
        "settings": {
            "workload": asdict(config),
            "kpl": {
                "aggregation": kpl_aggregation,
                "glue_deaggregation_assumed": glue_kpl_deaggregation,
                "user_records": produced,
                "kinesis_records": len(positions) if driver == "producer" else None,
                "firehose_aggregates_unpacked": simulator.stats["kpl_aggregates"],
                "firehose_aggregates_malformed": simulator.stats["kpl_malformed"],
            },
            "firehose": {
                "processor_buffer_mb": firehose_settings.processor_buffer_mb,
                "processor_interval_s": firehose_settings.processor_interval_s,
                "buffer_mb": firehose_settings.buffer_mb,
                "buffer_interval_s": firehose_settings.buffer_interval_s,
                "retries": firehose_settings.retries,
                "memory_mb": firehose_settings.memory_mb,
                "response": growth.to_json(),
            },
            "glue": {**asdict(profile.glue), "trigger_s": profile.glue.trigger_seconds()},
            "shards": SHARDS,
            "objects_copied": objects,
        },
    }
    report = build_report(out, run)
    write_report(out, report)
    return report


def _inject(
    plan: ChaosPlan, duration_s: float, glue: GlueProcess, proxy: FlakyProxy | None, stop, console: Console
) -> None:
    """Kill the Glue runner and cut the Kinesis endpoint at the plan's moments of the production."""
    started = time.monotonic()
    moments = [(at, "kill") for at in plan.kill_glue_at] + [(plan.outage_at, "outage")]
    for at, fault in sorted(moments):
        delay = started + at * duration_s - time.monotonic()
        if delay > 0 and stop.wait(delay):
            return
        if fault == "kill":
            console.print("[yellow]chaos: SIGKILL of the Glue runner, restarting it on its checkpoint")
            glue.kill_and_restart()
        elif proxy is not None:
            console.print(f"[yellow]chaos: the Kinesis endpoint refuses connections for {plan.outage_s:.0f} s")
            proxy.outage(plan.outage_s)


def cmd_run(args: argparse.Namespace) -> int:
    """Run the comparison and print where the report is."""
    from comparison.cli import _config

    if args.mode == "aws":
        raise ValueError(
            "--mode aws is not available yet: it needs a deployed stack and an account to be verified against; "
            "use --mode local, or deploy with the README's steps and read the stack's CloudWatch figures"
        )
    if args.users < 1:
        raise ValueError(f"--users must be at least 1, got {args.users}")
    if args.glue_kpl_deaggregation == "off" and not args.kpl_aggregation:
        raise ValueError("--glue-kpl-deaggregation off only matters with --kpl-aggregation")
    if args.glue_kpl_deaggregation == "off" and args.driver == "locust":
        raise ValueError(
            "--glue-kpl-deaggregation off needs the harness's producer (--driver producer): the run counts the "
            "Kinesis records it sent to know when the Glue job has read them all"
        )
    catalogue = profiles()
    if args.profile not in catalogue:
        raise ValueError(f"unknown profile {args.profile!r}: choose from {', '.join(catalogue)}")
    profile = catalogue[args.profile]
    overrides = dict(profile.firehose_overrides)
    for flag, parameter in (
        ("processor_interval", "ProcessorBufferIntervalSeconds"),
        ("processor_buffer_mb", "ProcessorBufferSizeMB"),
        ("buffer_interval", "DeliveryBufferIntervalSeconds"),
        ("buffer_mb", "DeliveryBufferSizeMB"),
    ):
        if getattr(args, flag) is not None:
            overrides[parameter] = getattr(args, flag)
    glue = profile.glue
    if args.window_size:
        glue = replace(glue, window_size=args.window_size)
    profile = replace(profile, firehose_overrides=overrides, glue=glue)
    config = _config(args, rate=profile.rate, duration_s=profile.duration_s)
    console = Console()
    out = Path(args.out)
    try:
        chaos = ChaosPlan() if args.chaos else None
        report = run_local(
            profile,
            config,
            out,
            console,
            chaos,
            driver=args.driver,
            users=args.users,
            kpl_aggregation=args.kpl_aggregation,
            glue_kpl_deaggregation=args.glue_kpl_deaggregation == "on",
        )
    except KeyboardInterrupt:
        console.print("[yellow]interrupted: servers and the Glue runner were stopped; no report written")
        return 130
    for name, path in report["paths"].items():
        latency, counts = path["latency_s"], path["counts"]
        console.print(
            f"{name}: delivered {counts['delivered']:,}, unaccounted {counts['unaccounted']}, "
            f"latency p50 {latency['p50']} s, p99 {latency['p99']} s"
        )
    console.print(f"report: {out / 'report.md'} (also report.json, report.html)")
    if not report["run"]["driver"].get("complete", True):
        console.print("[red]the locust producer did not send the whole workload: the report covers what it sent")
        return 1
    return 0


def add_run_parser(commands) -> None:
    """Register `run` on the CLI."""
    parser = commands.add_parser("run", help="run both paths on one workload and write the report")
    parser.add_argument("--mode", choices=["local", "aws"], default="local")
    parser.add_argument("--profile", default="quick", help="quick (default) or aws-defaults")
    parser.add_argument("--out", default="runs/latest", help="run folder (default runs/latest)")
    parser.add_argument("--seed", type=int, default=7, help="workload seed (default 7)")
    parser.add_argument("--rate", type=float, help="events per second (default: the profile's)")
    parser.add_argument("--duration", type=float, help="seconds of production (default: the profile's)")
    parser.add_argument("--devices", type=int, help="devices in the registry")
    parser.add_argument("--processor-interval", type=float, help="Firehose processor buffer interval, seconds")
    parser.add_argument("--processor-buffer-mb", type=float, help="Firehose processor buffer size, MB")
    parser.add_argument("--buffer-interval", type=float, help="Firehose S3 buffer interval, seconds (0 = none)")
    parser.add_argument("--buffer-mb", type=float, help="Firehose S3 buffer size, MB")
    parser.add_argument("--window-size", help='Glue micro-batch window, e.g. "10 seconds"')
    parser.add_argument(
        "--driver",
        choices=["producer", "locust"],
        default="producer",
        help="what produces the workload: the harness's producer (default) or locust users, whose CSV "
        "statistics go to <out>/load/",
    )
    parser.add_argument("--users", type=int, default=2, help="locust users sharing the workload (default 2)")
    parser.add_argument(
        "--chaos",
        action="store_true",
        help="inject faults: SIGKILL the Glue runner twice, a Kinesis outage, failing and slow Lambda invocations, "
        "oversized records; the report still accounts for every record",
    )
    parser.add_argument(
        "--kpl-aggregation",
        action="store_true",
        help="send the workload as KPL-aggregated records (Firehose unpacks them before the Lambda)",
    )
    parser.add_argument(
        "--glue-kpl-deaggregation",
        choices=["on", "off"],
        default="on",
        help="whether the local Glue source unpacks KPL aggregates (on, the default, as Spark's Kinesis "
        "connectors do; Glue does not document it); off hands them to the job whole",
    )
    parser.set_defaults(handler=cmd_run)
