"""The local Kinesis reader's offsets and reads, on both local Kinesis servers, without Spark.

kinesalite hands out real 56-digit sequence numbers; moto hands out small integers ("9" < "10" as
text, not as numbers). Both must give the same batches.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from comparison import kpl
from comparison.local import kinesis_client, kinesis_source, kinesis_spill
from comparison.local.kinesis_source import (
    KinesisSourceError,
    KinesisStreamReader,
    ShardPosition,
    ShardRange,
    read_range,
)
from comparison.local.servers import client, create_stream, read_stream

pytestmark = pytest.mark.slow


@pytest.fixture(params=["kinesalite", "moto_server"])
def stream(request, unique_name):
    server = request.getfixturevalue(request.param)
    kinesis = client("kinesis", server.endpoint)
    create_stream(kinesis, unique_name, shards=2)
    return {"kinesis": kinesis, "name": unique_name, "endpoint": server.endpoint}


def put(stream, count, start=0):
    records = [{"Data": f"record-{i}".encode(), "PartitionKey": f"key-{i % 7}"} for i in range(start, start + count)]
    for offset in range(0, len(records), 500):
        response = stream["kinesis"].put_records(StreamName=stream["name"], Records=records[offset : offset + 500])
        assert response.get("FailedRecordCount", 0) == 0


_READERS: list[KinesisStreamReader] = []


@pytest.fixture(autouse=True)
def _stop_readers():
    yield
    while _READERS:
        _READERS.pop().stop()


def reader(stream, **options):
    source = KinesisStreamReader({"streamName": stream["name"], "endpointUrl": stream["endpoint"], **options})
    _READERS.append(source)
    return source


def read_batch(source, start, end):
    rows = []
    for part in source.partitions(start, end):
        for batch in source.read(part):
            rows.extend(batch.to_pylist())
    return rows


def test_batches_cover_the_stream_once_in_sequence_order(stream):
    source = reader(stream)
    start = source.initialOffset()
    put(stream, 25)
    seen = []
    for more in (0, 12, 0, 30):
        put(stream, more, start=1000 + len(seen))
        end = source.latestOffset(start)
        rows = read_batch(source, start, end)
        seen.extend(rows)
        start = end
    assert len(seen) == 25 + 12 + 30
    assert len({(r["shard_id"], r["sequence_number"]) for r in seen}) == len(seen)
    for shard in {r["shard_id"] for r in seen}:
        numbers = [int(r["sequence_number"]) for r in seen if r["shard_id"] == shard]
        assert numbers == sorted(numbers)
    assert source.latestOffset(start) == start  # nothing new: the same offset


def test_a_read_limit_splits_the_backlog_without_loss(stream):
    put(stream, 300)
    source = reader(stream, maxRecordsPerBatch="50")
    start, seen, batches = source.initialOffset(), [], 0
    while True:
        end = source.latestOffset(start)
        if end == start:
            break
        rows = read_batch(source, start, end)
        assert 0 < len(rows) <= 50
        seen.extend(rows)
        start, batches = end, batches + 1
    assert sorted(r["data"] for r in seen) == sorted(f"record-{i}".encode() for i in range(300))
    assert batches >= 6


def test_a_per_shard_limit_bounds_each_shard(stream):
    put(stream, 120)
    source = reader(stream, maxRecordsPerShard="20")
    start = source.initialOffset()
    rows = read_batch(source, start, source.latestOffset(start))
    per_shard = {shard: sum(1 for r in rows if r["shard_id"] == shard) for shard in {r["shard_id"] for r in rows}}
    assert per_shard and all(count <= 20 for count in per_shard.values())


def test_without_a_row_limit_the_shards_are_read_ahead_at_the_same_time(stream, monkeypatch):
    put(stream, 40)
    source = reader(stream)
    start = source.initialOffset()
    # Each shard's read-ahead waits for the other's to begin: read one after the other, the wait times out.
    both = threading.Barrier(2, timeout=10)
    read_ahead = source._read_ahead

    def meeting(*args, **kwargs):
        both.wait()
        return read_ahead(*args, **kwargs)

    monkeypatch.setattr(source, "_read_ahead", meeting)
    assert len(read_batch(source, start, source.latestOffset(start))) == 40


def test_without_a_start_the_reader_goes_on_from_the_batch_it_planned(stream):
    # PySpark 4.0 and 4.1 call latestOffset() with no arguments.
    source = reader(stream, maxRecordsPerBatch="30")
    first_start = source.initialOffset()
    put(stream, 50)
    first = source.latestOffset()
    second = source.latestOffset()
    rows = read_batch(source, first_start, first) + read_batch(source, first, second)
    assert len(rows) == 50 and len(read_batch(source, first_start, first)) <= 30
    # A restarted driver has planned nothing: it reads to the end of each shard, whatever the limit, so
    # that it never plans an end before what a checkpoint has committed.
    put(stream, 40, start=500)
    restarted = reader(stream, maxRecordsPerBatch="30")
    assert len(read_batch(restarted, second, restarted.latestOffset())) == 40


def test_a_replay_reads_the_same_records_from_a_fresh_reader(stream):
    put(stream, 40)
    first = reader(stream)
    start = first.initialOffset()
    end = first.latestOffset(start)
    put(stream, 10)  # records after the batch's end must not leak into its replay
    again = reader(stream)  # a restarted driver: no read-ahead state
    assert read_batch(again, start, end) == read_batch(first, start, end)
    assert len(read_batch(again, start, end)) == 40


def test_the_executors_take_the_drivers_read_ahead_and_read_kinesis_without_it(stream, monkeypatch):
    put(stream, 60)
    source = reader(stream)
    start = source.initialOffset()
    end = source.latestOffset(start)
    parts = source.partitions(start, end)
    assert parts and all(part.spill and Path(part.spill).is_file() for part in parts)

    def no_kinesis(options):
        raise AssertionError("read Kinesis although the driver's file was there")

    with monkeypatch.context() as patched:
        patched.setattr(kinesis_source, "shared_client", no_kinesis)
        patched.setattr(kinesis_spill, "CACHE", kinesis_spill.ReadCache(kinesis_spill.CACHE_BYTES))
        spilled = [row for part in parts for batch in source.read(part) for row in batch.to_pylist()]
    # The same ranges without the files (an executor on another machine, or a replay): read from Kinesis.
    monkeypatch.setattr(kinesis_spill, "CACHE", kinesis_spill.ReadCache(kinesis_spill.CACHE_BYTES))
    fetched = [row for part in parts for row in read_range(source.options, replace(part, spill="/gone")).to_pylist()]
    assert spilled == fetched and len(spilled) == 60
    source.commit(end)  # a committed batch's files go
    assert not any(Path(part.spill).exists() for part in parts)
    put(stream, 5, start=100)
    later = source.partitions(end, source.latestOffset(end))
    source.stop()  # and a stopped reader's
    assert later and not any(Path(part.spill).exists() for part in later)


def test_a_file_an_executor_cannot_read_sends_it_to_kinesis(stream):
    put(stream, 10)
    source = reader(stream)
    start = source.initialOffset()
    parts = source.partitions(start, source.latestOffset(start))
    assert parts
    for part in parts:
        Path(part.spill).write_bytes(b"not an arrow file")
    assert sum(read_range(source.options, part).num_rows for part in parts) == 10


def test_a_reader_removes_the_folders_of_readers_whose_process_ended(stream, tmp_path, monkeypatch):
    # Spark ends a stopped query's reader process without calling stop(): its folder outlives it.
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    left = tmp_path / f"{kinesis_spill.PREFIX}{ended.stdout.strip()}-abc"
    live = tmp_path / f"{kinesis_spill.PREFIX}{os.getpid()}-def"
    left.mkdir()
    live.mkdir()
    monkeypatch.setenv("SPARK_LOCAL_DIRS", str(tmp_path))
    put(stream, 3)
    source = reader(stream)
    start = source.initialOffset()
    parts = source.partitions(start, source.latestOffset(start))
    assert parts and all(Path(part.spill).parent.parent == tmp_path for part in parts)
    assert not left.exists() and live.exists()


def test_arrival_times_and_keys_come_through(stream):
    put(stream, 3)
    source = reader(stream)
    start = source.initialOffset()
    rows = read_batch(source, start, source.latestOffset(start))
    assert all(r["arrival_ms"] > 1_700_000_000_000 and r["partition_key"].startswith("key-") for r in rows)


def test_arrival_times_are_the_instants_botocore_gives(stream):
    put(stream, 20)
    default = read_stream(stream["kinesis"], stream["name"])
    expected = {
        r["SequenceNumber"]: int(r["ApproximateArrivalTimestamp"].timestamp() * 1000)
        for rs in default.values()
        for r in rs
    }
    source = reader(stream)
    start = source.initialOffset()
    rows = read_batch(source, start, source.latestOffset(start))
    assert {r["sequence_number"]: r["arrival_ms"] for r in rows} == expected


@pytest.mark.parametrize(
    "value", [1_764_590_400, 1_764_590_400.123456, 1_764_590_400.9999996, "2026-12-01T13:20:00.5Z"]
)
def test_the_arrival_time_parser_agrees_with_botocores(value):
    from botocore.utils import parse_timestamp

    parsed = kinesis_client.arrival_time(value)
    assert parsed == parse_timestamp(value)
    assert parsed.timestamp() == parse_timestamp(value).timestamp()


def test_latest_starts_after_what_is_already_there(stream):
    put(stream, 5)
    source = reader(stream, startingPosition="LATEST")
    start = source.initialOffset()
    put(stream, 3, start=100)
    rows = read_batch(source, start, source.latestOffset(start))
    assert sorted(r["data"] for r in rows) == [b"record-100", b"record-101", b"record-102"]


def test_a_range_beyond_the_stream_is_an_error_not_a_short_batch(stream):
    put(stream, 2)
    shard = stream["kinesis"].list_shards(StreamName=stream["name"])["Shards"][0]["ShardId"]
    missing = str(10**60)
    with pytest.raises(KinesisSourceError, match="before sequence number"):
        read_range({"endpointurl": stream["endpoint"]}, ShardRange(stream["name"], shard, ShardPosition(), missing))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "streamName is required"),
        ({"streamName": "s", "startingPosition": "EARLIEST"}, "startingPosition"),
        ({"streamName": "s", "startingPosition": "AT_TIMESTAMP"}, "startingTimestampMs"),
        ({"streamName": "s", "maxRecordsPerBatch": "0"}, "at least 1"),
        ({"streamName": "s", "maxRecordsPerShard": "ten"}, "maxRecordsPerShard must be a whole number"),
        ({"streamName": "s", "deaggregate": "yes"}, "deaggregate must be true or false"),
    ],
)
def test_bad_options_are_clear_errors(options, message):
    with pytest.raises(KinesisSourceError, match=message):
        KinesisStreamReader(options)


def put_aggregates(stream):
    """Two aggregates of 3 and 2 user records, a plain record, and a truncated aggregate, on one key."""
    first = next(kpl.pack([("k", b"a0"), ("k", b"a1"), ("k", b"a2")])).data
    second = next(kpl.pack([("k", b"b0"), ("k", b"b1")])).data
    for data in (first, b"plain", second, first[:-4]):
        stream["kinesis"].put_record(StreamName=stream["name"], Data=data, PartitionKey="k")
    return first, second


@pytest.mark.parametrize("deaggregate", ["true", "false"])
def test_aggregates_are_unpacked_unless_switched_off_and_a_malformed_one_goes_on_whole(stream, deaggregate):
    first, second = put_aggregates(stream)
    source = reader(stream, deaggregate=deaggregate)
    start = source.initialOffset()
    rows = read_batch(source, start, source.latestOffset(start))
    data = [row["data"] for row in rows]
    if deaggregate == "true":
        assert data == [b"a0", b"a1", b"a2", b"plain", b"b0", b"b1", first[:-4]]
    else:
        assert data == [first, b"plain", second, first[:-4]]
    # The user records of one aggregate share its sequence number.
    assert len({row["sequence_number"] for row in rows}) == 4
