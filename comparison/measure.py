"""One measured run, whatever the target: start every path, produce the workload, drain, collect, report.

The target (local stand-ins or a deployed stack) hands over a `Target`: where to produce and one backend per
path of the registry. This module knows no path by name: it starts the backends, waits until each takes
traffic (a deployed streaming job runs before the records it is measured on arrive), produces the workload
with the harness's producer or locust, sends a watermark tick (one reading far enough ahead in event time
that windows close), waits until every backend has drained, and has each copy its sink into the run folder.

Before the workload, one record (a tick at the current event time, which closes nothing) is sent and the run waits
until each path that started a job in this run (a start-up from `wait_ready`) has processed it: a streaming job's
first micro-batch generates and compiles its code (tens of seconds on 2 cores), a cost paid once per job run, not
per record. Paths invoked on demand are not waited for (a Firehose buffer's timers need no warming, and would make
the wait minutes long). The workload is then measured on the jobs in their steady state; the warm-up's seconds are
in the report (`run.warm_up_s`), and the harness's ticks are in no latency figure.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from comparison.chaos import ChaosPlan, FlakyProxy, oversize
from comparison.inputs import input_row, write_rows
from comparison.local.template import Template
from comparison.monitor import Sampler, peak_rss_mb, run_processes
from comparison.paths import PATHS
from comparison.paths.base import Backend, Produced
from comparison.producer import KinesisProducer, now_ms
from comparison.truth import interval_ms
from comparison.workload import Event, Intent, WorkloadConfig, generate

RUN_FOLDERS = ("input", *(f"sinks/{path.name}" for path in PATHS), "timings", "logs", "state")


@dataclass
class Target:
    """What a run produces to and measures: the stream, and a backend per path (by path name)."""

    mode: str
    kinesis: Any
    endpoint: str
    stream: str
    backends: dict[str, Backend]
    shards: int
    drain_timeout_s: float
    tick_lead_ms: int
    chaos: ChaosPlan | None = None
    proxy: FlakyProxy | None = None
    description: dict[str, Any] = field(default_factory=dict)


def prepare(out: Path) -> None:
    """Empty the run folder of a previous run's files and create its folders."""
    for name in ("input", "sinks", "timings", "logs", "state", "load", "report.json", "report.md", "report.html"):
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    for name in RUN_FOLDERS:
        (out / name).mkdir(parents=True, exist_ok=True)


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


def tick_lead_ms(template: Template) -> int:
    """How far ahead of the workload the watermark tick's event time goes: past two windows and the delay."""
    parameters = template.parameters
    return 2 * interval_ms(str(parameters["GlueAggregateWindow"])) + interval_ms(str(parameters["GlueWatermarkDelay"]))


def _inject(target: Target, duration_s: float, stop: threading.Event, console: Console) -> None:
    """Kill the restartable paths and cut the Kinesis endpoint at the plan's moments of the production."""
    plan = target.chaos
    assert plan is not None
    started = time.monotonic()
    moments = [(at, "kill") for at in plan.kill_glue_at] + [(plan.outage_at, "outage")]
    for at, fault in sorted(moments):
        delay = started + at * duration_s - time.monotonic()
        if delay > 0 and stop.wait(delay):
            return
        if fault == "kill":
            for name, backend in target.backends.items():
                if backend.restart():
                    console.print(f"[yellow]chaos: SIGKILL of {name}'s process, restarted on its checkpoint")
        elif target.proxy is not None:
            console.print(f"[yellow]chaos: the Kinesis endpoint refuses connections for {plan.outage_s:.0f} s")
            target.proxy.outage(plan.outage_s)


def _warm_up(
    target: Target, produced: Produced, jobs: set[str], send: Callable[[], None], console: Console
) -> dict[str, float | None]:
    """Send one record and wait until each path of `jobs` has processed it; seconds per path (None: a path not
    waited for, or not within the limit)."""
    sent = time.monotonic()
    send()
    seconds: dict[str, float | None] = dict.fromkeys(target.backends)
    waiting = {name: backend for name, backend in target.backends.items() if name in jobs}
    while waiting and time.monotonic() < sent + target.drain_timeout_s:
        for name, backend in list(waiting.items()):
            if backend.caught_up(produced):
                seconds[name] = round(time.monotonic() - sent, 2)
                del waiting[name]
            elif not backend.healthy():
                console.print(f"[red]{name} stopped while warming up ({backend.status()}): see the run folder's logs/")
                del waiting[name]
        time.sleep(0.25)
    if waiting:
        console.print(
            f"[yellow]warm-up: {', '.join(waiting)} had not processed the first record after "
            f"{target.drain_timeout_s:.0f} s; measuring anyway"
        )
    return seconds


def _drain(target: Target, produced: Produced, send_tick: Callable[[], None], progress, task, status, console) -> None:
    # The limit counts from the last progress, not from the start of draining: a slow or loaded machine
    # drains late but drains; only a run that stops moving is cut short.
    deadline = time.monotonic() + target.drain_timeout_s
    last_mark = None
    backends = target.backends
    while time.monotonic() < deadline:
        mark = tuple(b.mark() for b in backends.values())
        if mark != last_mark:
            last_mark, deadline = mark, time.monotonic() + target.drain_timeout_s
        if all(b.drained(produced) for b in backends.values()):
            return
        if any(b.wants_tick(produced) for b in backends.values()):
            send_tick()
        for name, backend in backends.items():
            if backend.healthy():
                continue
            # Under chaos an outage can outlast a runner's retries: start it again, as one would.
            if target.chaos and backend.restart():
                console.print(f"[yellow]{name} stopped: restarted on its checkpoint")
                continue
            console.print(f"[red]{name} stopped early ({backend.status()}): see the run folder's logs/")
            return
        progress.update(task, status=status())
        time.sleep(0.5)
    console.print(
        f"[yellow]not drained: no progress for {target.drain_timeout_s:.0f} s; the report counts what arrived"
    )


def measure(
    target: Target,
    config: WorkloadConfig,
    out: Path,
    console: Console,
    driver: str = "producer",
    users: int = 2,
    sample_every_s: float = 5.0,
    kpl_aggregation: bool = False,
) -> dict[str, Any]:
    """Run every path of the target on the workload and write the report; returns it."""
    from comparison.report import build_report
    from comparison.report_files import write_report

    started_at = datetime.now(timezone.utc)
    started = time.monotonic()
    backends = target.backends
    produced = Produced()
    positions: set[tuple[str, str]] = set()
    stop = threading.Event()

    def counts() -> dict[str, int]:
        # The flag first: a sample that says production is over must hold the final count.
        values = {"producing": int(produced.producing), "workload": int(produced.workload)}
        values["produced"] = produced.records
        for backend in backends.values():
            values.update(backend.counts())
        return values

    def status() -> str:
        return " | ".join([f"produced {produced.records:,}", *(b.status() for b in backends.values())])

    for backend in backends.values():
        backend.start()
    sampler = Sampler(out / "timings" / "samples.jsonl", sample_every_s, counts, run_processes)
    producer = KinesisProducer(target.kinesis, target.stream, aggregation=kpl_aggregation)
    load: dict[str, Any] | None = None
    try:
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

            def record(batch, sent) -> None:
                by_index = {s.index: s for s in sent}
                write_rows(events_file, (input_row(e, by_index[e.index].sent_at_ms, by_index[e.index]) for e in batch))
                produced.records += len(sent)
                positions.update((s.shard_id, s.sequence_number) for s in sent)
                produced.kinesis_records = len(positions)
                progress.update(task, advance=sum(e.intent.duplicate_of is None for e in batch), status=status())

            ticks = 0

            def send_tick(lead_ms: int) -> None:
                nonlocal ticks
                ticks += 1
                producer.run([tick_event(10**8 + ticks, now_ms() + lead_ms)], on_sent=record)

            progress.update(task, status="waiting for every path to take traffic")
            jobs = {name for name, backend in backends.items() if backend.wait_ready() is not None}
            progress.update(task, status="warming up: one record through the paths that started a job")
            warm_up_s = _warm_up(target, produced, jobs, lambda: send_tick(0), console)
            # Before locust appends to the same file: its row count is the produced count.
            events_file.flush()
            production_started = time.monotonic()
            produced.workload = True
            start_ms = now_ms() + 500
            faults = None
            if target.chaos:
                faults = threading.Thread(target=_inject, args=(target, config.duration_s, stop, console), daemon=True)
                faults.start()
            if driver == "locust":
                from comparison.load.driver import produce_with_locust

                before = produced.records

                def followed(tail) -> None:
                    produced.records = before + tail.rows
                    progress.update(task, completed=tail.originals, status=status())

                load = produce_with_locust(
                    target.endpoint,
                    target.stream,
                    config,
                    start_ms,
                    out,
                    users,
                    target.chaos,
                    followed,
                    kpl_aggregation,
                )
                if not load["complete"]:
                    console.print(
                        f"[red]locust ended (exit code {load['exit_code']}) before the workload was sent: "
                        "see logs/locust.log; the report counts what was produced"
                    )
            else:
                events = generate(config, start_ms)
                producer.run(oversize(events, target.chaos) if target.chaos else events, on_sent=record)
            production_s = time.monotonic() - production_started
            produced.producing = False
            sampler.sample()
            if faults is not None:
                faults.join()

            def watermark_tick() -> None:
                # The contract refuses event times more than 5 minutes ahead of arrival: stay within that.
                send_tick(min(target.tick_lead_ms, 240_000))

            watermark_tick()
            progress.update(task, description="draining", status=status())
            _drain(target, produced, watermark_tick, progress, task, status, console)
        sampler.stop()
        collected = {name: backends[name].collect(out) for name in backends}
    finally:
        stop.set()
        sampler.stop()
        for backend in backends.values():
            backend.stop()
    chaos = None
    if target.chaos:
        chaos = {
            "plan": asdict(target.chaos),
            "kinesis_connections_refused": target.proxy.refused if target.proxy else 0,
        }
        for part in collected.values():
            chaos.update(part.get("chaos") or {})
    kpl = {
        "aggregation": kpl_aggregation,
        "user_records": produced.records,
        "kinesis_records": len(positions) if driver == "producer" else None,
    }
    settings: dict[str, Any] = {"workload": asdict(config), "kpl": kpl, "shards": target.shards}
    for path in PATHS:
        if path.name in collected:
            settings[path.settings_key] = collected[path.name]["settings"]
            kpl.update(collected[path.name].get("kpl") or {})
    run = {
        "mode": target.mode,
        **target.description,
        "command": " ".join(["python -m comparison", *sys.argv[1:]]),
        "started_at": started_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "duration_s": round(time.monotonic() - started, 1),
        "production_s": round(production_s, 2),
        "warm_up_s": warm_up_s,
        "driver": {"name": driver, **(load or {})},
        "resources": {"sample_every_s": sample_every_s, "peak_rss_mb": peak_rss_mb(sampler.samples)},
        "chaos": chaos,
        "settings": settings,
    }
    report = build_report(out, run)
    write_report(out, report)
    return report
