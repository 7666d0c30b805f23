"""The locust producer against a local Kinesis: statistics in CSV, every accepted record in the stream,
refused calls reported as failures and retried (a Kinesis outage is made with the chaos proxy)."""

from __future__ import annotations

import csv
import threading

import pytest

from comparison.chaos import FlakyProxy
from comparison.inputs import read_rows
from comparison.load.__main__ import STREAM, run_locust
from comparison.local.servers import client, create_stream, read_stream

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
