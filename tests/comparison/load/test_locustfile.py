"""The locust producer against a local Kinesis: statistics in CSV, every accepted record in the stream,
refused calls reported as failures and retried (a Kinesis outage is made with the chaos proxy)."""

from __future__ import annotations

import csv
import threading

import pytest

from comparison.chaos import ChaosPlan, FlakyProxy
from comparison.inputs import read_rows
from comparison.load.__main__ import STREAM, run_locust
from comparison.load.driver import produce_with_locust
from comparison.local.servers import client, create_stream, read_stream
from comparison.producer import now_ms
from comparison.workload import WorkloadConfig, generate
from shared import contract as c

pytestmark = pytest.mark.slow


def test_locust_puts_every_record_once_through_an_outage(kinesalite, tmp_path):
    kinesis = client("kinesis", kinesalite.endpoint)
    create_stream(kinesis, STREAM, shards=2)
    proxy = FlakyProxy(int(kinesalite.endpoint.rsplit(":", 1)[1]))
    outage = threading.Timer(3.0, proxy.outage, args=(2.0,))
    outage.start()
    try:
        code = run_locust(proxy.endpoint, tmp_path, users=2, seconds=8, records_per_call=50, rate=2.0)
    finally:
        outage.cancel()
        proxy.close()
    assert code == 0
    with open(tmp_path / "locust_stats.csv") as stream:
        stats = {row["Name"]: row for row in csv.DictReader(stream)}
    assert int(stats["put_records"]["Request Count"]) > 10
    assert int(stats["put_records partial"]["Failure Count"]) > 0, "the outage was not seen"
    rows = read_rows(tmp_path / "events.jsonl")
    in_stream = [r["Data"] for records in read_stream(kinesis, STREAM).values() for r in records]
    produced = [row["data"] for row in rows]
    assert len(produced) >= 10 * 50
    # Nothing accepted is missing; a put whose answer the outage swallowed may be in the stream twice.
    missing = set(produced) - set(in_stream)
    assert not missing
    assert len(in_stream) >= len(produced)


def test_locust_users_share_one_workload_and_send_each_event_once(kinesalite, tmp_path):
    """The harness's driver: the users split one workload; every event is recorded once, and in the stream."""
    stream = "telemetry-shared"
    kinesis = client("kinesis", kinesalite.endpoint)
    create_stream(kinesis, stream, shards=2)
    (tmp_path / "input").mkdir()
    (tmp_path / "logs").mkdir()
    config = WorkloadConfig(rate=200, duration_s=6)
    proxy = FlakyProxy(int(kinesalite.endpoint.rsplit(":", 1)[1]))
    seen: list[int] = []
    outages: list[int] = []

    def progress(tail) -> None:
        # The outage starts once locust has recorded its first rows, however slowly it started.
        if tail.rows and not outages:
            outages.append(tail.rows)
            proxy.outage(2.0)
        seen.append(tail.rows)

    try:
        result = produce_with_locust(proxy.endpoint, stream, config, now_ms() + 300, tmp_path, 3, ChaosPlan(), progress)
    finally:
        proxy.close()
    assert result["exit_code"] == 0 and result["complete"]
    assert result["failures"] > 0, "the outage was not seen"
    expected = list(generate(config, 0))
    rows = read_rows(tmp_path / "input" / "events.jsonl")
    assert sorted(int(row["index"]) for row in rows) == [event.index for event in expected]
    assert any(row["reason"] == c.TOO_LARGE for row in rows), "the chaos plan's oversized records are missing"
    assert seen[-1] == len(rows)
    in_stream = {r["Data"] for records in read_stream(kinesis, stream).values() for r in records}
    # A duplicate's bytes equal its original's: compare the distinct payloads.
    assert {row["data"] for row in rows} <= in_stream
    assert (tmp_path / "load" / "locust_stats.csv").exists()


def test_locust_driver_refuses_no_users(tmp_path):
    with pytest.raises(ValueError, match="--users"):
        produce_with_locust("http://127.0.0.1:9", "s", WorkloadConfig(), 0, tmp_path, 0, None, lambda t: None)
