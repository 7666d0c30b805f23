"""The Firehose simulator against moto (S3, Kinesis) and kinesalite: buffering, failures, keys, restart."""

from __future__ import annotations

import base64
import gzip
import json
import re
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from comparison.local import firehose as firehose_module
from comparison.local.firehose import FirehoseSimulator
from comparison.local.firehose_invocation import (
    DUPLICATED_RECORD_ID,
    FUNCTION_ERROR,
    FUNCTION_TIMEOUT,
    JSON_ERROR,
    MISSING_RECORD_ID,
    PROCESSING_FAILED,
)
from comparison.local.firehose_settings import FirehoseSettings
from comparison.local.lambda_runtime import LocalLambda
from comparison.local.servers import client, create_stream
from comparison.local.template import Template
from comparison.producer import KinesisProducer
from comparison.workload import WorkloadConfig, build_registry, generate, registry_json_lines

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[3]
LAMBDA_ARN = "arn:aws:lambda:us-east-1:000000000000:function:FirehoseTransformFunction"


def echo(event, context):
    """A transformation that returns every record as it came, newline-terminated."""
    return {
        "records": [
            {
                "recordId": r["recordId"],
                "result": "Ok",
                "data": base64.b64encode(base64.b64decode(r["data"]) + b"\n").decode(),
            }
            for r in event["records"]
        ]
    }


def lines(bodies) -> list[bytes]:
    return [line for body in bodies for line in body.splitlines()]


class Recording:
    """Wraps a handler and keeps each event it was called with."""

    def __init__(self, handler=echo):
        self.handler = handler
        self.events = []

    def __call__(self, event, context):
        self.events.append(event)
        return self.handler(event, context)


@pytest.fixture
def aws(moto_server, unique_name):
    kinesis = client("kinesis", moto_server.endpoint)
    s3 = client("s3", moto_server.endpoint)
    create_stream(kinesis, unique_name, shards=2)
    s3.create_bucket(Bucket=unique_name)
    return {"kinesis": kinesis, "s3": s3, "name": unique_name}


def produce(aws, count, size=200):
    producer = KinesisProducer(aws["kinesis"], aws["name"])
    events = list(generate(WorkloadConfig(rate=1000, duration_s=count / 1000, duplicate_fraction=0.0), 0))[:count]
    for event in events:
        if size > 200:
            event.raw = b'{"pad":"' + b"x" * size + b'"}'
    producer.send(events)
    return events


class Clock:
    """A monotonic clock that moves only when the test moves it: buffer intervals measured in steps, not
    in the machine's speed."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make(aws, tmp_path, handler, starting_position="TRIM_HORIZON", clock=None, **settings):
    values = dict(name="etl", lambda_arn=LAMBDA_ARN, processor_interval_s=0, delivery_interval_s=0, prefix="out/")
    values.update(settings)
    return FirehoseSimulator(
        FirehoseSettings(**values),
        kinesis=aws["kinesis"],
        stream_name=aws["name"],
        s3=aws["s3"],
        bucket=aws["name"],
        handler=handler,
        checkpoint_path=tmp_path / "checkpoint.json",
        poll_interval_s=0.05,
        starting_position=starting_position,
        **({"clock": clock} if clock else {}),
    )


def drive(simulator, until, timeout_s=30.0):
    """Step until `until()`; fail only after `timeout_s` without progress (a loaded machine is slow, not stuck)."""
    deadline, mark = time.monotonic() + timeout_s, None
    while not until():
        progress = json.dumps(simulator.stats, sort_keys=True)
        if progress != mark:
            deadline, mark = time.monotonic() + timeout_s, progress
        if time.monotonic() > deadline:
            raise AssertionError(f"no progress for {timeout_s} s: {simulator.stats}")
        simulator.step()
        time.sleep(0.02)


def objects(aws, prefix=""):
    s3, found = aws["s3"], {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=aws["name"], Prefix=prefix):
        for item in page.get("Contents", []):
            found[item["Key"]] = s3.get_object(Bucket=aws["name"], Key=item["Key"])["Body"].read()
    return found


def error_documents(aws):
    return [
        json.loads(line)
        for key, body in objects(aws).items()
        if "processing-failed" in key
        for line in body.splitlines()
    ]


# ---- buffering ----------------------------------------------------------------------------


def test_processor_flushes_on_size_before_its_interval(aws, tmp_path):
    recording = Recording()
    simulator = make(aws, tmp_path, recording, processor_buffer_mb=0.2, processor_interval_s=900)
    produce(aws, 600, size=1000)  # about 0.6 MB
    drive(simulator, lambda: simulator.stats["received"] == 600 and len(recording.events) >= 2)
    sizes = [sum(len(base64.b64decode(r["data"])) for r in e["records"]) for e in recording.events]
    assert all(size <= 0.2 * 1024 * 1024 for size in sizes)
    assert simulator.pending() > 0  # the remainder waits for its size or its interval


def step_until(simulator, clock, until, step_s=0.05, steps=400):
    """Step the simulator, moving its clock `step_s` after each step, until `until()`; the clock it took."""
    for _ in range(steps):
        simulator.step()
        if until():
            return clock.now
        clock.advance(step_s)
    raise AssertionError(f"not done after {steps} steps: {simulator.stats}")


def test_processor_flushes_on_interval(aws, tmp_path):
    recording, clock = Recording(), Clock()
    simulator = make(aws, tmp_path, recording, clock=clock, processor_interval_s=1.0)
    produce(aws, 20)
    read_at = step_until(simulator, clock, lambda: simulator.stats["received"] == 20)
    invoked_at = step_until(simulator, clock, lambda: bool(recording.events))
    # One invocation with the whole batch, at the first step a full interval after the buffer opened: the
    # buffer opened at or after the start (clock 1000) and at or before the last record was read.
    assert [len(e["records"]) for e in recording.events] == [20]
    assert 1000.0 + 1.0 - 1e-6 <= invoked_at <= read_at + 1.0 + 0.05 + 1e-6
    assert simulator.stats["ok"] == 20


def test_zero_buffering_delivers_each_poll(aws, tmp_path):
    simulator = make(aws, tmp_path, Recording())
    produce(aws, 50)
    drive(simulator, lambda: simulator.stats["ok"] == 50 and simulator.pending() == 0)
    assert len(lines(objects(aws, "out/").values())) == 50


def test_destination_flushes_on_size_and_interval(aws, tmp_path):
    clock = Clock()
    simulator = make(aws, tmp_path, Recording(), clock=clock, delivery_buffer_mb=1, delivery_interval_s=2.0)
    produce(aws, 1500, size=1000)  # about 1.5 MB of output
    read_at = step_until(simulator, clock, lambda: simulator.stats["received"] == 1500)
    # Size has flushed once; the rest waits for the interval, which starts after the start (clock 1000) and
    # no later than the last read.
    assert simulator.stats["objects"] == 1 and simulator.pending() > 0
    flushed_at = step_until(simulator, clock, lambda: simulator.stats["objects"] == 2)
    assert 1000.0 + 2.0 - 1e-6 <= flushed_at <= read_at + 2.0 + 0.05 + 1e-6
    assert simulator.pending() == 0


# ---- failures -----------------------------------------------------------------------------


def raises(event, context):
    raise RuntimeError("boom")


def slow(event, context):
    time.sleep(0.3)
    return echo(event, context)


def missing(event, context):
    return {"records": echo(event, context)["records"][1:]}


def duplicated(event, context):
    records = echo(event, context)["records"]
    return {"records": records + records[:1]}


def bad_result(event, context):
    return {"records": [{**r, "result": "Maybe"} for r in echo(event, context)["records"]]}


def bad_base64(event, context):
    return {"records": [{**r, "data": "%%%"} for r in echo(event, context)["records"]]}


def not_json(event, context):
    return {"records": {1, 2}}


def too_large(event, context):
    return {"records": [{**r, "data": base64.b64encode(b"x" * 7_000_000).decode()} for r in event["records"]]}


@pytest.mark.parametrize(
    ("handler", "code"),
    [
        (raises, FUNCTION_ERROR),
        (slow, FUNCTION_TIMEOUT),
        (missing, MISSING_RECORD_ID),
        (duplicated, DUPLICATED_RECORD_ID),
        (bad_result, JSON_ERROR),
        (bad_base64, JSON_ERROR),
        (not_json, JSON_ERROR),
        (too_large, FUNCTION_ERROR),
    ],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_each_contract_violation_fails_the_invocation_with_its_code(aws, tmp_path, handler, code):
    recording = Recording(handler)
    # Only the timeout case gets a short limit: on a loaded machine the 35 MB response of `too_large` alone can
    # take longer than 0.1 s to build, which would turn its FunctionError into a FunctionTimedOut.
    timeout_s = 0.1 if code == FUNCTION_TIMEOUT else 60.0
    simulator = make(aws, tmp_path, recording, retries=2, timeout_s=timeout_s)
    events = produce(aws, 5)
    drive(simulator, lambda: simulator.stats["processing_failed"] == 5)
    assert len(recording.events) == 3  # the first attempt and two retries
    documents = error_documents(aws)
    assert sorted(base64.b64decode(d["rawData"]) for d in documents) == sorted(e.payload(0) for e in events)
    assert {d["errorCode"] for d in documents} == {code} and {d["attemptsMade"] for d in documents} == {3}
    assert all(d["lambdaArn"] == LAMBDA_ARN and d["attemptEndingTimestamp"] >= d["arrivalTimestamp"] for d in documents)
    assert simulator.pending() == 0 and simulator.stats["errors_by_code"] == {code: 3}


def test_processing_failed_records_go_to_the_error_prefix_at_once(aws, tmp_path):
    def half(event, context):
        records = echo(event, context)["records"]
        return {"records": [{**r, "result": "ProcessingFailed"} if i % 2 else r for i, r in enumerate(records)]}

    simulator = make(aws, tmp_path, half, retries=3)
    produce(aws, 10)
    drive(simulator, lambda: simulator.stats["ok"] + simulator.stats["processing_failed"] == 10)
    documents = error_documents(aws)
    assert len(documents) == simulator.stats["processing_failed"] > 0
    assert {(d["errorCode"], d["attemptsMade"]) for d in documents} == {(PROCESSING_FAILED, 1)}


def test_a_handler_that_raises_sometimes_still_accounts_for_every_record(aws, tmp_path):
    calls = {"n": 0}

    def flaky(event, context):
        calls["n"] += 1
        if calls["n"] % 3 == 0:
            raise RuntimeError("intermittent")
        records = echo(event, context)["records"]
        return {"records": [{**r, "result": "Dropped"} if i % 7 == 0 else r for i, r in enumerate(records)]}

    simulator = make(aws, tmp_path, flaky, retries=0, processor_buffer_mb=0.2)
    produce(aws, 300, size=3000)  # about 0.9 MB: five or more invocations
    drive(simulator, lambda: simulator.stats["received"] == 300 and simulator.pending() == 0)
    stats = simulator.stats
    assert stats["ok"] + stats["dropped"] + stats["processing_failed"] == stats["received"] == 300
    assert stats["failed_invocations"] > 0 and stats["processing_failed"] > 0
    assert len(lines(objects(aws, "out/").values())) == stats["ok"]
    assert len(error_documents(aws)) == stats["processing_failed"]


# ---- keys ---------------------------------------------------------------------------------


def test_default_keys_and_gzip(aws, tmp_path):
    simulator = make(aws, tmp_path, Recording(), prefix="", compression="GZIP")
    events = produce(aws, 10)
    drive(simulator, lambda: simulator.stats["ok"] == 10 and simulator.pending() == 0)
    keys = objects(aws)
    pattern = r"\d{4}/\d{2}/\d{2}/\d{2}/etl-1-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9a-f-]{36}\.gz"
    assert keys and all(re.fullmatch(pattern, key) for key in keys)
    delivered = lines(gzip.decompress(data) for data in keys.values())
    assert sorted(delivered) == sorted(e.payload(0) for e in events)


def test_dynamic_partitioning_writes_one_object_per_partition(aws, tmp_path):
    def partitioned(event, context):
        records = echo(event, context)["records"]
        return {
            "records": [
                {**r, "metadata": {"partitionKeys": {"event_date": "2025-11-28", "event_hour": f"{i % 2:02d}"}}}
                for i, r in enumerate(records)
            ]
        }

    simulator = make(
        aws,
        tmp_path,
        partitioned,
        dynamic_partitioning=True,
        delivery_buffer_mb=64,
        delivery_interval_s=60,
        prefix="p/date=!{partitionKeyFromLambda:event_date}/hour=!{partitionKeyFromLambda:event_hour}/",
        error_prefix="e/!{firehose:error-output-type}/",
    )
    produce(aws, 20)
    drive(simulator, lambda: simulator.stats["ok"] == 20)
    simulator.flush()
    keys = list(objects(aws, "p/"))
    assert {key.split("/")[2] for key in keys} == {"hour=00", "hour=01"}


# ---- restart ------------------------------------------------------------------------------


def test_restart_resumes_from_the_checkpoint_losing_nothing(aws, tmp_path):
    first = make(aws, tmp_path, Recording(), delivery_interval_s=2.0)
    events = produce(aws, 100)
    drive(first, lambda: first.stats["objects"] >= 1 and first.pending() == 0)
    events += produce(aws, 100)
    drive(first, lambda: first.stats["received"] == 200)
    in_flight = first.pending()
    assert in_flight > 0  # transformed, buffered for S3, not yet written: the stop loses them here
    checkpoint = first.checkpoint
    events += produce(aws, 50)  # more arrives while the stream is down
    second = make(aws, tmp_path, Recording(), delivery_interval_s=0)
    assert second.checkpoint == checkpoint
    drive(second, lambda: second.stats["received"] >= 50 and second.pending() == 0)
    assert {e.payload(0) for e in events} <= set(lines(objects(aws, "out/").values()))
    # Only the records in flight at the stop are read again.
    assert second.stats["received"] == 50 + in_flight


# ---- the end-to-end check -----------------------------------------------------------


def test_ten_thousand_events_all_accounted_for_with_the_real_handler(kinesalite, moto_server, tmp_path, unique_name):
    kinesis, s3 = client("kinesis", kinesalite.endpoint), client("s3", moto_server.endpoint)
    create_stream(kinesis, unique_name, shards=2)
    s3.create_bucket(Bucket=unique_name)
    config = WorkloadConfig(rate=2500, duration_s=4, seed=21, malformed_fraction=0.02)
    registry = tmp_path / "devices.jsonl"
    registry.write_bytes(registry_json_lines(build_registry(config)))
    events = list(generate(config, int(time.time() * 1000) + 200))
    assert len(events) >= 10_000

    # A 0.2 MB processor buffer bounds each invocation by size (2.5 MB of events: at least 12 calls), so
    # the one-in-five failures happen however the polls of a loaded machine group the records.
    template = Template(
        overrides={
            "ProcessorBufferIntervalSeconds": 0,
            "ProcessorBufferSizeMB": 0.2,
            "DeliveryBufferIntervalSeconds": 0,
        }
    )
    real = LocalLambda(template, log_path=tmp_path / "lambda.log", environment={"DEVICE_REGISTRY": str(registry)})
    calls = {"n": 0}

    def one_in_five_fails(event, context):
        calls["n"] += 1
        if calls["n"] % 5 == 0:
            raise RuntimeError("injected failure")
        return real(event, context)

    # No retries: each failed invocation sends its records to the error prefix, to be accounted there.
    settings = FirehoseSettings.from_template(template, retries=0)
    simulator = FirehoseSimulator(
        settings,
        kinesis=kinesis,
        stream_name=unique_name,
        s3=s3,
        bucket=unique_name,
        handler=one_in_five_fails,
        checkpoint_path=tmp_path / "checkpoint.json",
        poll_interval_s=0.2,
    )
    producer = threading.Thread(target=KinesisProducer(kinesis, unique_name).run, args=(events,))
    producer.start()
    drive(simulator, lambda: simulator.stats["received"] == len(events) and simulator.pending() == 0, timeout_s=120)
    producer.join()
    real.close()

    stored = objects({"s3": s3, "name": unique_name})
    curated = [json.loads(line) for key, body in stored.items() if "/curated/" in key for line in body.splitlines()]
    failed = [json.loads(line) for key, body in stored.items() if "/errors/" in key for line in body.splitlines()]
    stats = simulator.stats
    assert len(curated) == stats["ok"] and len(failed) == stats["processing_failed"]
    assert stats["ok"] + stats["dropped"] + stats["processing_failed"] == len(events)
    assert stats["invocations"] >= 12 and stats["errors_by_code"].get("Lambda.FunctionError", 0) >= 2
    # Each produced record is in S3 once: in an error document, dropped by design, or curated.
    unmatched_failures = Counter(base64.b64decode(d["rawData"]) for d in failed)
    expected_curated, expected_dropped = Counter(), 0
    for event in events:
        payload = event.payload(0)
        if unmatched_failures[payload]:
            unmatched_failures[payload] -= 1
        elif event.intent.kind == "heartbeat":
            expected_dropped += 1
        else:
            expected_curated[event.event_id] += 1
    assert not +unmatched_failures
    assert Counter(record["event_id"] for record in curated) == expected_curated
    assert stats["dropped"] == expected_dropped
    codes = Counter(d["errorCode"] for d in failed)
    assert set(codes) == {"Lambda.FunctionError", "Lambda.ProcessingFailedStatus"}
    assert "records failed the contract" in (tmp_path / "lambda.log").read_text()


# ---- service failures ------------------------------------------------------------------------


class FlakyS3:
    """The real S3 client, but its first `failures` puts raise as an unreachable endpoint would."""

    def __init__(self, s3, failures):
        self.s3, self.failures = s3, failures

    def put_object(self, **kwargs):
        if self.failures:
            self.failures -= 1
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9")
        return self.s3.put_object(**kwargs)


def test_a_failed_s3_put_is_retried_in_place_and_nothing_is_lost_or_doubled(aws, tmp_path, monkeypatch):
    monkeypatch.setattr(firehose_module, "S3_RETRY_S", 0.01)
    simulator = make(aws, tmp_path, Recording())
    simulator.s3 = FlakyS3(aws["s3"], failures=3)
    events = produce(aws, 40)
    drive(simulator, lambda: simulator.stats["received"] == 40 and simulator.pending() == 0)
    assert simulator.stats["s3_retries"] == 3
    assert sorted(lines(objects(aws, "out/").values())) == sorted(e.payload(0) for e in events)


def test_an_expired_iterator_resumes_after_the_last_record_read(aws, tmp_path):
    simulator = make(aws, tmp_path, Recording())
    produce(aws, 20)
    drive(simulator, lambda: simulator.stats["received"] == 20 and simulator.pending() == 0)
    real = simulator.source.kinesis

    class Expiring:
        """Kinesis whose next GetRecords finds its iterator expired (an outage over 5 minutes)."""

        expired = True

        def __getattr__(self, name):
            return getattr(real, name)

        def get_records(self, **kwargs):
            if self.expired:
                self.expired = False
                raise ClientError({"Error": {"Code": "ExpiredIteratorException", "Message": "expired"}}, "GetRecords")
            return real.get_records(**kwargs)

    simulator.source.kinesis = Expiring()
    more = produce(aws, 20)
    drive(simulator, lambda: simulator.stats["received"] == 40 and simulator.pending() == 0)
    assert simulator.source.kinesis.expired is False, "the expiry was not met"
    delivered = lines(objects(aws, "out/").values())
    assert len(delivered) == 40
    assert {e.payload(0) for e in more} <= set(delivered)


class ExpiringOnce:
    """Kinesis whose next GetRecords finds its iterator expired (an outage over 5 minutes)."""

    def __init__(self, real):
        self.real, self.expired = real, True

    def __getattr__(self, name):
        return getattr(self.real, name)

    def get_records(self, **kwargs):
        if self.expired:
            self.expired = False
            raise ClientError({"Error": {"Code": "ExpiredIteratorException", "Message": "expired"}}, "GetRecords")
        return self.real.get_records(**kwargs)


def test_latest_starts_after_what_the_stream_held_at_the_first_start(aws, tmp_path):
    produce(aws, 20)
    simulator = make(aws, tmp_path, Recording(), starting_position="LATEST")
    simulator.step()
    after = produce(aws, 10)
    drive(simulator, lambda: simulator.stats["received"] == 10 and simulator.pending() == 0)
    assert sorted(lines(objects(aws, "out/").values())) == sorted(e.payload(0) for e in after)


def test_latest_is_a_position_an_expired_iterator_finds_again(aws, tmp_path):
    # Taking a LATEST iterator again after an expiry would skip what arrived in between.
    produce(aws, 5)
    simulator = make(aws, tmp_path, Recording(), starting_position="LATEST")
    simulator.step()
    simulator.source.kinesis = ExpiringOnce(simulator.source.kinesis)
    after = produce(aws, 10)
    drive(simulator, lambda: simulator.stats["received"] == 10 and simulator.pending() == 0)
    assert simulator.source.kinesis.expired is False, "the expiry was not met"
    assert sorted(lines(objects(aws, "out/").values())) == sorted(e.payload(0) for e in after)


# ---- KPL aggregation --------------------------------------------------------------------------


def test_aggregates_are_unpacked_before_the_lambda_one_record_id_per_user_record(aws, tmp_path):
    events = list(generate(WorkloadConfig(rate=1000, duration_s=0.06, duplicate_fraction=0.0), 0))
    producer = KinesisProducer(aws["kinesis"], aws["name"], aggregation=True)
    sent = producer.send(events)
    assert producer.stats["kinesis_records"] < len(events)
    recording = Recording()
    simulator = make(aws, tmp_path, recording)
    drive(simulator, lambda: simulator.stats["received"] == len(events) and simulator.pending() == 0)
    records = [r for event in recording.events for r in event["records"]]
    assert sorted(base64.b64decode(r["data"]) for r in records) == sorted(e.payload(0) for e in events)
    assert len({r["recordId"] for r in records}) == len(events)
    # Each user record names its aggregate's sequence number and its place in it, as the producer saw them.
    where = {(s.sequence_number, s.subsequence_number) for s in sent}
    metadata = {(r["kinesisRecordMetadata"]["sequenceNumber"], r["kinesisRecordMetadata"]["subsequenceNumber"])
                for r in records}  # fmt: skip
    assert metadata == where
    assert simulator.stats["kpl_aggregates"] == producer.stats["kinesis_records"]
    assert sorted(lines(objects(aws, "out/").values())) == sorted(e.payload(0) for e in events)


def test_the_checkpoint_passes_an_aggregate_only_once_all_its_user_records_are_delivered(aws, tmp_path):
    events = list(generate(WorkloadConfig(rate=1000, duration_s=0.02, duplicate_fraction=0.0), 0))
    sent = KinesisProducer(aws["kinesis"], aws["name"], aggregation=True).send(events)
    first_aggregate = sent[0].sequence_number
    simulator = make(aws, tmp_path, Recording(), delivery_interval_s=60.0)
    drive(simulator, lambda: simulator.stats["received"] == len(events))
    # Transformed and buffered for S3, none written: no shard may move its checkpoint past the aggregate.
    assert simulator.checkpoint == {}
    assert simulator.pending() == len({(s.shard_id, s.sequence_number) for s in sent})
    simulator.flush()
    assert simulator.pending() == 0
    assert first_aggregate in simulator.checkpoint.values()


def test_a_malformed_aggregate_reaches_the_lambda_whole_and_fails_with_its_reason(aws, tmp_path):
    from comparison import kpl
    from firehose_transform import app
    from shared.enrichment import Registry

    good = next(kpl.pack([("a", b'{"n":1}'), ("b", b'{"n":2}')])).data
    truncated = good[:-3]
    altered = good[:-1] + bytes([good[-1] ^ 1])
    for data in (truncated, altered):
        aws["kinesis"].put_record(StreamName=aws["name"], Data=data, PartitionKey="p")
    reasons = []

    def transform(event, context):
        response, _, failures = app.transform_event(event, Registry({}))
        reasons.extend(f["reason"] for f in failures)
        return response

    simulator = make(aws, tmp_path, transform)
    drive(simulator, lambda: simulator.stats["received"] == 2 and simulator.pending() == 0)
    assert simulator.stats["kpl_malformed"] == 2 and simulator.stats["processing_failed"] == 2
    assert reasons == ["kpl_aggregate", "kpl_aggregate"]
    failed = error_documents(aws)
    assert sorted(base64.b64decode(d["rawData"]) for d in failed) == sorted([truncated, altered])
    assert all(d["errorCode"] == PROCESSING_FAILED for d in failed)
