"""The producer against local Kinesis: every event accepted exactly once, retries on partial failure."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from comparison.local.servers import client, create_stream
from comparison.producer import KinesisProducer, ProducerError, now_ms, shard_router
from comparison.workload import WorkloadConfig, generate
from tests.kinesis_helpers import read_stream

pytestmark = pytest.mark.slow


class Flaky:
    """A real Kinesis client whose put_records fails some records (or whole calls) the way AWS does."""

    def __init__(self, real, fail_every: int = 3, failing_calls: int = 3, raise_calls: int = 0, code=None):
        self.real = real
        self.fail_every = fail_every
        self.failing_calls = failing_calls
        self.raise_calls = raise_calls
        self.code = code or "ProvisionedThroughputExceededException"
        self.calls = 0

    def __getattr__(self, name):
        return getattr(self.real, name)

    def put_records(self, StreamName, Records):
        self.calls += 1
        if self.raise_calls:
            self.raise_calls -= 1
            if self.code == "connection":
                raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")
            raise ClientError({"Error": {"Code": self.code, "Message": "injected"}}, "PutRecords")
        if self.calls > self.failing_calls:
            return self.real.put_records(StreamName=StreamName, Records=Records)
        kept = [r for i, r in enumerate(Records) if i % self.fail_every]
        results = iter(self.real.put_records(StreamName=StreamName, Records=kept)["Records"] if kept else [])
        out = []
        for i, _ in enumerate(Records):
            if i % self.fail_every:
                out.append(next(results))
            else:
                out.append({"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "injected"})
        return {"FailedRecordCount": sum("ErrorCode" in r for r in out), "Records": out}


@pytest.fixture(params=["kinesalite", "moto_server"])
def kinesis(request):
    server = request.getfixturevalue(request.param)
    return client("kinesis", server.endpoint)


def produce(kinesis, stream, config, wrap=None):
    producer = KinesisProducer(wrap(kinesis) if wrap else kinesis, stream, base_backoff_s=0.01)
    events = list(generate(config, 0))
    sent = []
    for start in range(0, len(events), 700):
        sent.extend(producer.send(events[start : start + 700]))
    return producer, events, sent


def test_every_event_lands_once_with_its_device_as_partition_key(kinesis, unique_name):
    create_stream(kinesis, unique_name, shards=2)
    config = WorkloadConfig(rate=2000, duration_s=1, duplicate_fraction=0.0)
    producer, events, sent = produce(kinesis, unique_name, config)
    assert sorted(s.index for s in sent) == [e.index for e in events]
    landed = read_stream(kinesis, unique_name)
    records = [r for shard in landed.values() for r in shard]
    assert len(records) == len(events) == config.total_scheduled
    by_payload = {e.payload(0): e for e in events}
    assert {r["Data"] for r in records} == set(by_payload)
    assert all(r["PartitionKey"] == by_payload[r["Data"]].partition_key for r in records)
    for shard_records in landed.values():
        numbers = [int(r["SequenceNumber"]) for r in shard_records]
        assert numbers == sorted(numbers)
    assert producer.stats["record_failures"] == 0


def test_partially_failed_calls_are_retried_record_by_record(kinesis, unique_name):
    create_stream(kinesis, unique_name, shards=1)
    config = WorkloadConfig(rate=900, duration_s=1, duplicate_fraction=0.0)
    flaky = {}
    producer, events, sent = produce(kinesis, unique_name, config, lambda real: flaky.setdefault("c", Flaky(real)))
    landed = [r["Data"] for r in read_stream(kinesis, unique_name)["shardId-000000000000"]]
    assert sorted(landed) == sorted(e.payload(0) for e in events)
    assert producer.stats["record_failures"] > 0 and producer.stats["retries"] > 0
    assert max(s.attempts for s in sent) > 1


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "connection"])
def test_throttled_or_refused_calls_back_off_and_recover(kinesis, unique_name, code):
    create_stream(kinesis, unique_name, shards=1)
    config = WorkloadConfig(rate=300, duration_s=1, duplicate_fraction=0.0)
    producer, events, sent = produce(
        kinesis, unique_name, config, lambda real: Flaky(real, failing_calls=0, raise_calls=3, code=code)
    )
    assert len(sent) == len(events)
    assert producer.stats["call_failures"] == 3


def test_a_fatal_error_is_not_retried(kinesis):
    producer = KinesisProducer(Flaky(kinesis, raise_calls=5, code="ResourceNotFoundException"), "nope")
    with pytest.raises(ProducerError, match="ResourceNotFoundException"):
        producer.send(list(generate(WorkloadConfig(rate=10, duration_s=1), 0)))


def test_giving_up_names_the_records_not_accepted(kinesis):
    producer = KinesisProducer(Flaky(kinesis, raise_calls=10**6), "nope", give_up_after_s=0.3, base_backoff_s=0.01)
    with pytest.raises(ProducerError, match="10 records not accepted"):
        producer.send(list(generate(WorkloadConfig(rate=10, duration_s=1), 0)))


def test_with_aggregation_refused_aggregates_are_retried_whole_and_every_event_lands_once(kinesis, unique_name):
    from comparison import kpl

    create_stream(kinesis, unique_name, shards=2)
    config = WorkloadConfig(rate=3000, duration_s=1, duplicate_fraction=0.0)
    producer = KinesisProducer(Flaky(kinesis, fail_every=2), unique_name, base_backoff_s=0.01, aggregation=True)
    events = list(generate(config, 0))
    sent = producer.send(events)
    assert producer.stats["record_failures"] > 0
    assert sorted(s.index for s in sent) == [e.index for e in events]
    landed = [(shard, r) for shard, records in read_stream(kinesis, unique_name).items() for r in records]
    assert len(landed) == producer.stats["kinesis_records"] < len(events) / 5
    unpacked = {}
    for shard, record in landed:
        for user in kpl.unpack(record["Data"]):
            unpacked[(shard, record["SequenceNumber"], user.subsequence_number)] = (user.data, user.partition_key)
    # Each event is where its Sent says, with its bytes and partition key, exactly once, in the shard its
    # own partition key hashes to (an aggregate holds one shard's records, as the KPL's do).
    shard_of = shard_router(kinesis, unique_name)
    assert all(shard_of(user_key) == shard for (shard, _, _), (_, user_key) in unpacked.items())
    by_index = {e.index: e for e in events}
    assert len(unpacked) == len(events)
    for s in sent:
        event = by_index[s.index]
        where = (s.shard_id, s.sequence_number, s.subsequence_number)
        assert unpacked[where] == (event.payload(0), event.partition_key)


def test_with_aggregation_records_wait_to_be_aggregated_as_the_kpls_do(kinesis, unique_name):
    create_stream(kinesis, unique_name, shards=2)
    config = WorkloadConfig(rate=1000, duration_s=0.5, duplicate_fraction=0.0)
    producer = KinesisProducer(kinesis, unique_name, aggregation=True)
    events = list(generate(config, now_ms()))
    assert producer.run(events) == len(events)
    # Sent as they fall due, one or two at a time, there would be about one event per Kinesis record; held up
    # to 100 ms, each aggregate gathers what falls due meanwhile for its shard.
    assert producer.stats["records"] == len(events)
    assert producer.stats["kinesis_records"] * 5 <= len(events)
