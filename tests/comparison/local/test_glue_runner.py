"""Path B end to end on local Spark: generated events -> local Kinesis -> the Glue pipeline -> outputs.

Checked against `comparison.truth`, computed in plain Python from the same input: curated output holds
every valid event exactly once, quarantine every invalid record, and the windows and the join equal
their batch definitions. Run on both local Kinesis servers, and across a SIGKILL of the runner.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from comparison import truth
from comparison.glue_outputs import manifests, read_outputs
from comparison.local.glue_runner import GlueJobSettings, LocalGlueJob
from comparison.local.servers import client, create_stream
from comparison.measure import tick_event
from comparison.producer import KinesisProducer, now_ms
from comparison.workload import Event, WorkloadConfig, build_registry, generate, registry_json_lines
from shared.enrichment import Registry

pytestmark = [pytest.mark.slow, pytest.mark.spark]
ROOT = Path(__file__).resolve().parents[3]
SETTINGS = GlueJobSettings(
    window_size="3 seconds", aggregate_window="10 seconds", watermark_delay="30 seconds", join_bound="10 minutes"
)


def test_settings_come_from_the_template():
    settings = GlueJobSettings.from_template()
    assert settings.window_size == "100 seconds" and settings.trigger_seconds() == 100.0
    assert settings.starting_position in ("TRIM_HORIZON", "LATEST")


def test_a_negative_warm_up_is_refused_before_spark_starts(capsys):
    from comparison.local.glue_runner import main

    with pytest.raises(SystemExit) as stopped:
        main(["--stream", "s", "--endpoint", "http://127.0.0.1:1", "--output", "o", "--checkpoint", "c",
              "--warm-up-batches", "-1"])  # fmt: skip
    assert stopped.value.code == 2
    assert "--warm-up-batches must be 0 or more" in capsys.readouterr().err


def workload(count: int, seed: int) -> tuple[WorkloadConfig, list[Event]]:
    config = WorkloadConfig(
        seed=seed, rate=400, duration_s=count / 400, late_fraction=0.0, maintenance_fraction=0.02, devices=12, sites=3
    )
    return config, list(generate(config, now_ms()))


def produce(kinesis, stream: str, events: list[Event]) -> list[dict]:
    """Send the events at their schedule; the input rows (data and send time) in send order."""
    rows: list[dict] = []

    def record(batch, sent):
        for event, accepted in zip(batch, sent, strict=True):
            rows.append(
                {"index": event.index, "data": event.payload(accepted.sent_at_ms), "sent_at_ms": accepted.sent_at_ms}
            )

    KinesisProducer(kinesis, stream).run(events, on_sent=record)
    return rows


def finish(kinesis, stream: str, rows: list[dict]) -> None:
    """Send a tick: a reading far enough ahead in event time to close every window of the workload."""
    last_sent = max(r["sent_at_ms"] for r in rows)
    ticks = sum(1 for r in rows if r.get("tick"))
    new = produce(kinesis, stream, [tick_event(10_000_000 + ticks, last_sent + 60_000)])
    rows.extend({**row, "tick": True} for row in new)


def wait_for(root: Path, rows: list[dict], alive, nudge, timeout_s: float = 240.0) -> list[dict]:
    """Wait for the batch that holds the last record, then for a batch after it, which writes the windows
    the tick closed. Spark normally runs that batch without new data; when it does not (seen after a
    restart), another tick gives it data to run on, as live traffic would."""
    # The limit counts from the last micro-batch: a loaded machine is slow, not stuck.
    deadline = time.monotonic() + timeout_s
    waiting_since = None
    seen = -1
    while time.monotonic() < deadline:
        assert alive(), "the runner stopped"
        done, total, last_input = manifests(root), 0, None
        if len(done) != seen:
            seen, deadline = len(done), time.monotonic() + timeout_s
        for manifest in done:
            total += manifest["counts"]["records"]
            if total >= len(rows):
                last_input = manifest["batch_id"]
                break
        if last_input is not None:
            if any(m["batch_id"] > last_input for m in done):
                return done
            waiting_since = waiting_since or time.monotonic()
            if time.monotonic() - waiting_since > 20:
                nudge()
                waiting_since = None
        time.sleep(0.5)
    raise AssertionError(f"no micro-batch for {timeout_s} s: {manifests(root)[-3:]}")


def check(root: Path, rows: list[dict], registry: bytes) -> None:
    outputs = read_outputs(root)
    expected = truth.build(rows, Registry.from_json_lines(registry))
    curated_ids = [r["event_id"] for r in outputs["curated"]]
    assert len(curated_ids) == len(set(curated_ids)), "an event was delivered twice"
    assert set(curated_ids) == set(expected.curated)
    assert not outputs["late"]
    assert sorted(r["reason"] for r in outputs["quarantine"]) == sorted(reason for _, reason in expected.failed)
    assert sorted(r["event_id"] for r in outputs["dropped"]) == sorted(expected.dropped)
    for record in outputs["curated"]:
        want = expected.curated[record["event_id"]]
        assert {k: record[k] for k in want} == want
    window_ms = truth.interval_ms(SETTINGS.aggregate_window)
    workload = [r for r in expected.curated.values() if r["device_id"] != "watermark-tick"]
    windows = truth.device_windows(workload, window_ms)
    got = {(r["window_start_ms"], r["device_id"]): r for r in outputs["device_windows"]}
    # Every window of the workload closed (the ticks' own may not have), and each is exact.
    closed = {k: v for k, v in windows.items() if k in got}
    assert set(closed) == set(windows)
    for key, want in closed.items():
        row = got[key]
        for name in (
            "readings",
            "temperature_readings",
            "temperature_min",
            "temperature_max",
            "alerts",
            "device_alerts",
        ):
            assert row[name] == want[name], (key, name)
        assert row["temperature_sum"] == pytest.approx(want["temperature_sum"])
    sites = truth.site_windows(closed)
    got_sites = {(r["window_start_ms"], r["site"]): (r["devices"], r["readings"]) for r in outputs["site_windows"]}
    assert got_sites == {k: (v["devices"], v["readings"]) for k, v in sites.items()}
    pairs = {(r["maintenance_event_id"], r["event_id"]) for r in outputs["maintenance_join"]}
    assert pairs == truth.maintenance_join(expected.curated.values(), truth.interval_ms(SETTINGS.join_bound))


@pytest.mark.parametrize("server", ["kinesalite", "moto_server"])
def test_end_to_end_every_valid_event_exactly_once(request, spark, tmp_path, unique_name, server):
    endpoint = request.getfixturevalue(server).endpoint
    kinesis = client("kinesis", endpoint)
    create_stream(kinesis, unique_name, shards=2)
    config, events = workload(2400 if server == "kinesalite" else 800, seed=11)
    registry = registry_json_lines(build_registry(config))
    (tmp_path / "devices.jsonl").write_bytes(registry)
    job = LocalGlueJob(
        stream=unique_name,
        endpoint_url=endpoint,
        output_root=str(tmp_path / "out"),
        checkpoint_location=str(tmp_path / "checkpoint"),
        settings=SETTINGS,
        registry_path=str(tmp_path / "devices.jsonl"),
    )
    job.start(spark)
    try:
        rows = produce(kinesis, unique_name, events)
        finish(kinesis, unique_name, rows)
        wait_for(
            tmp_path / "out", rows, alive=lambda: job.query.isActive, nudge=lambda: finish(kinesis, unique_name, rows)
        )
    finally:
        job.stop()
    check(tmp_path / "out", rows, registry)


def start_runner(
    endpoint: str,
    stream: str,
    base: Path,
    master: str = "local[2]",
    parameters: tuple[str, ...] = (),
    extra: tuple[str, ...] = (),
) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "comparison.local.glue_runner",
        "--stream", stream, "--endpoint", endpoint, "--master", master,
        "--output", str(base / "out"), "--checkpoint", str(base / "checkpoint"),
        "--registry", str(base / "devices.jsonl"),
        "--window-size", SETTINGS.window_size, "--aggregate-window", SETTINGS.aggregate_window,
        "--watermark-delay", SETTINGS.watermark_delay, "--join-bound", SETTINGS.join_bound,
        *(f"--parameter={parameter}" for parameter in parameters), *extra,
    ]  # fmt: skip
    log = open(base / f"runner-{time.time_ns()}.log", "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ})


def finish_and_wait(kinesis, stream: str, rows: list[dict], root: Path, runner, timeout_s: float = 240.0) -> None:
    """Send the tick, then wait (`wait_for`) while the runner process lives."""
    finish(kinesis, stream, rows)
    wait_for(root, rows, lambda: runner.poll() is None, lambda: finish(kinesis, stream, rows), timeout_s)


def prepare(kinesalite, stream: str, base: Path, count: int, seed: int) -> tuple[Any, list[Event], bytes]:
    """A stream of 2 shards, the workload's events to send to it, and its registry (written for the runner)."""
    kinesis = client("kinesis", kinesalite.endpoint)
    create_stream(kinesis, stream, shards=2)
    config, events = workload(count, seed=seed)
    registry = registry_json_lines(build_registry(config))
    (base / "devices.jsonl").write_bytes(registry)
    return kinesis, events, registry


def test_sigkill_mid_run_loses_and_duplicates_nothing(kinesalite, tmp_path, unique_name):
    kinesis, events, registry = prepare(kinesalite, unique_name, tmp_path, count=2400, seed=12)
    # Not the template's default (2), which the local session has anyway: the job sets the value it is given.
    runner = start_runner(kinesalite.endpoint, unique_name, tmp_path, parameters=("GlueShufflePartitions=3",))
    try:
        half = len(events) // 2
        rows = produce(kinesis, unique_name, events[:half])
        # A bound for a dead-locked start only (a runner that dies fails at once): Spark's start on a loaded
        # machine takes minutes.
        deadline = time.monotonic() + 600
        while not any(m["counts"]["curated"] for m in manifests(tmp_path / "out")):
            assert time.monotonic() < deadline and runner.poll() is None, "the runner never finished a batch"
            time.sleep(0.2)
        rows.extend(produce(kinesis, unique_name, events[half:]))
        runner.send_signal(signal.SIGKILL)  # no chance to finish the batch in progress or clean up
        runner.wait(timeout=30)
        before = len(manifests(tmp_path / "out"))
        runner = start_runner(kinesalite.endpoint, unique_name, tmp_path)
        finish_and_wait(kinesis, unique_name, rows, tmp_path / "out", runner)
        assert len(manifests(tmp_path / "out")) > before
        # Restarted with the default, the query keeps the partitions its checkpoint was created with.
        last = max((tmp_path / "checkpoint" / "offsets").glob("[0-9]*"), key=lambda p: int(p.name))
        assert json.loads(last.read_text().splitlines()[1])["conf"]["spark.sql.shuffle.partitions"] == "3"
        partitions = (tmp_path / "checkpoint" / "state" / "0").iterdir()
        assert sorted(p.name for p in partitions if p.name.isdigit()) == ["0", "1", "2"]
    finally:
        runner.send_signal(signal.SIGTERM)
        assert runner.wait(timeout=60) == 0, "the runner did not stop cleanly on SIGTERM"
    check(tmp_path / "out", rows, registry)


def test_a_runner_stopped_while_warming_up_never_starts_its_job(kinesalite, tmp_path, unique_name):
    kinesis, events, _ = prepare(kinesalite, unique_name, tmp_path, count=200, seed=15)
    produce(kinesis, unique_name, events)
    runner = start_runner(kinesalite.endpoint, unique_name, tmp_path, extra=("--warm-up-batches", "3"))
    try:
        # A bound for a dead-locked start only: Spark's start on a loaded machine takes minutes.
        deadline = time.monotonic() + 600
        while not any(name.startswith("glue-warm-up-") for name in kinesis.list_streams()["StreamNames"]):
            assert time.monotonic() < deadline and runner.poll() is None, "the runner never began its warm-up"
            time.sleep(0.2)
        runner.send_signal(signal.SIGTERM)
        assert runner.wait(timeout=600) == 0
    finally:
        if runner.poll() is None:
            runner.kill()
    events_seen = [
        json.loads(line)["event"]
        for log in tmp_path.glob("runner-*.log")
        for line in log.read_text().splitlines()
        if line.startswith('{"event"')
    ]
    assert events_seen == ["warmed_up", "stopped"]
    assert not manifests(tmp_path / "out")
    # The warm-up's stream went with it.
    assert not any(name.startswith("glue-warm-up-") for name in kinesis.list_streams()["StreamNames"])


def test_the_runner_on_a_standalone_cluster_gives_the_same_outputs(kinesalite, tmp_path, unique_name):
    """The Glue entry on a Spark standalone cluster (a master and two workers on 127.0.0.1), not local[2]."""
    from comparison.local.cluster import StandaloneCluster

    kinesis, events, registry = prepare(kinesalite, unique_name, tmp_path, count=1200, seed=14)
    with StandaloneCluster(workers=2, cores=1, memory="1g", folder=tmp_path / "cluster") as cluster:
        assert len(cluster.status()["workers"]) == 2
        runner = start_runner(kinesalite.endpoint, unique_name, tmp_path, master=cluster.master_url)
        try:
            rows = produce(kinesis, unique_name, events)
            finish_and_wait(kinesis, unique_name, rows, tmp_path / "out", runner, timeout_s=600)
            # The work ran on the workers: each launched one executor for the runner's application.
            assert len(list((cluster.folder / "work").glob("app-*/*/stderr"))) == 2
        finally:
            runner.send_signal(signal.SIGTERM)
            assert runner.wait(timeout=90) == 0, "the runner did not stop cleanly on SIGTERM"
    check(tmp_path / "out", rows, registry)
