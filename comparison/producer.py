"""Producing the workload to Kinesis: paced, batched `put_records`, retried as a careful producer does.

A `put_records` call can succeed while some of its records fail (throttling, internal errors): those
records are retried, alone, with exponential back-off and jitter. Call-level throttling and connection
errors are retried the same way. A record that still fails after `give_up_after_s` raises
`ProducerError`, naming how many records were not accepted: nothing is dropped silently.

With `aggregation` the producer packs the records due together into KPL aggregates (comparison/kpl.py),
as a producer built on the Kinesis Producer Library does: fewer, larger Kinesis records, each user record
placed by its aggregate's sequence number and its sub-sequence number inside it.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from comparison import kpl
from comparison.workload import Event

MAX_RECORDS_PER_CALL = 500
MAX_BYTES_PER_CALL = 5 * 1024 * 1024
RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "LimitExceededException",
        "ThrottlingException",
        "InternalFailure",
        "ServiceUnavailable",
        "KMSThrottlingException",
        "ResourceInUseException",
    }
)


class ProducerError(RuntimeError):
    """Records could not be put within the retry budget."""


@dataclass(frozen=True)
class Sent:
    """A record Kinesis accepted: where it landed and when it was first sent."""

    index: int
    sent_at_ms: int
    shard_id: str
    sequence_number: str
    attempts: int
    subsequence_number: int | None = None  # its place in a KPL aggregate; None when sent alone


@dataclass(frozen=True)
class Unit:
    """One Kinesis record to put: one event's bytes, or a KPL aggregate of several events."""

    events: tuple[Event, ...]
    data: bytes
    partition_key: str
    aggregated: bool = False

    def sent(self, result: dict, sent_at_ms: int, attempts: int) -> list[Sent]:
        """Where Kinesis put each of its events, from its put_records result entry."""
        return [
            Sent(
                event.index,
                sent_at_ms,
                result["ShardId"],
                result["SequenceNumber"],
                attempts,
                place if self.aggregated else None,
            )
            for place, event in enumerate(self.events)
        ]


def now_ms() -> int:
    """Wall-clock time in epoch milliseconds."""
    return time.time_ns() // 1_000_000


def shard_router(client, stream_name: str) -> Callable[[str], str]:
    """Which open shard a partition key goes to: the shard whose hash key range holds the key's MD5."""
    ranges, token = [], None
    while True:
        page = client.list_shards(NextToken=token) if token else client.list_shards(StreamName=stream_name)
        for shard in page["Shards"]:
            if "EndingSequenceNumber" not in shard.get("SequenceNumberRange", {}):
                keys = shard["HashKeyRange"]
                ranges.append((int(keys["StartingHashKey"]), int(keys["EndingHashKey"]), shard["ShardId"]))
        token = page.get("NextToken")
        if not token:
            break

    def shard_of(partition_key: str) -> str:
        hashed = int.from_bytes(hashlib.md5(partition_key.encode()).digest(), "big")
        return next(shard for low, high, shard in ranges if low <= hashed <= high)

    return shard_of


def units(
    entries: list[tuple[Event, bytes]],
    aggregation: bool,
    max_bytes: int = kpl.DEFAULT_MAX_BYTES,
    shard_of: Callable[[str], str] | None = None,
) -> list[Unit]:
    """The Kinesis records that carry these events: one each, or KPL aggregates of them.

    As the KPL does, an aggregate holds only records bound for one shard (`shard_of`): a consumer built on
    the Kinesis Client Library drops the user records of an aggregate whose hash keys lie outside the shard
    it reads. Within a shard the order is kept.
    """
    if not aggregation:
        return [Unit((event,), data, event.partition_key) for event, data in entries]
    by_shard: dict[str, list[tuple[Event, bytes]]] = {}
    for event, data in entries:
        by_shard.setdefault(shard_of(event.partition_key) if shard_of else "", []).append((event, data))
    result = []
    for group in by_shard.values():
        position = 0
        for packed in kpl.pack(((event.partition_key, data) for event, data in group), max_bytes):
            events = tuple(event for event, _ in group[position : position + packed.count])
            position += packed.count
            result.append(Unit(events, packed.data, packed.partition_key, packed.aggregated))
    return result


def chunks(pending: list[Unit]) -> Iterator[list[Unit]]:
    """Split into put_records calls within the 500-record and 5 MiB limits."""
    batch: list[Unit] = []
    size = 0
    for unit in pending:
        record_size = len(unit.data) + len(unit.partition_key.encode())
        if batch and (len(batch) == MAX_RECORDS_PER_CALL or size + record_size > MAX_BYTES_PER_CALL):
            yield batch
            batch, size = [], 0
        batch.append(unit)
        size += record_size
    if batch:
        yield batch


class KinesisProducer:
    """Puts events on one stream. `stats` counts calls, throttled records and retries (Kinesis records:
    with aggregation, `kinesis_records` of them carried `records` events)."""

    def __init__(
        self,
        client,
        stream_name: str,
        *,
        give_up_after_s: float = 120.0,
        base_backoff_s: float = 0.05,
        max_backoff_s: float = 2.0,
        seed: int = 0,
        on_call: Callable[[str, int, float], None] | None = None,
        aggregation: bool = False,
        aggregate_max_bytes: int = kpl.DEFAULT_MAX_BYTES,
        record_max_buffered_ms: int = kpl.DEFAULT_MAX_BUFFERED_MS,
    ) -> None:
        self.client = client
        self.stream_name = stream_name
        self.give_up_after_s = give_up_after_s
        self.base_backoff_s = base_backoff_s
        self.max_backoff_s = max_backoff_s
        self._jitter = random.Random(seed)
        self._on_call = on_call
        self.aggregation = aggregation
        self.aggregate_max_bytes = aggregate_max_bytes
        self.record_max_buffered_ms = record_max_buffered_ms
        self._shard_of: Callable[[str], str] | None = None
        self.stats = {
            "calls": 0,
            "records": 0,
            "kinesis_records": 0,
            "record_failures": 0,
            "call_failures": 0,
            "retries": 0,
        }

    def _backoff(self, attempt: int) -> float:
        return self._jitter.uniform(0, min(self.max_backoff_s, self.base_backoff_s * 2**attempt))

    def _put(self, batch: list[Unit]) -> list[dict]:
        """One put_records call; returns the per-record results (raises on call-level failure)."""
        started = time.perf_counter()
        response = self.client.put_records(
            StreamName=self.stream_name,
            Records=[{"Data": unit.data, "PartitionKey": unit.partition_key} for unit in batch],
        )
        self.stats["calls"] += 1
        if self._on_call:
            failed = response.get("FailedRecordCount", 0)
            self._on_call("ok" if not failed else "partial", len(batch) - failed, time.perf_counter() - started)
        return response["Records"]

    def send(self, events: Iterable[Event]) -> list[Sent]:
        """Put these events now (each stamped with this send time); retry until every one is accepted."""
        sent_at = now_ms()
        if self.aggregation and self._shard_of is None:
            self._shard_of = shard_router(self.client, self.stream_name)
        entries = [(event, event.payload(sent_at)) for event in events]
        pending = units(entries, self.aggregation, self.aggregate_max_bytes, self._shard_of)
        accepted: list[Sent] = []
        attempt = 0
        deadline = time.monotonic() + self.give_up_after_s
        while pending:
            retry: list[Unit] = []
            for batch in chunks(pending):
                try:
                    results = self._put(batch)
                except (ClientError, BotoCoreError) as error:
                    code = error.response["Error"]["Code"] if isinstance(error, ClientError) else "Connection"
                    if isinstance(error, ClientError) and code not in RETRYABLE_CODES:
                        raise ProducerError(f"put_records failed with {code}: {error}") from error
                    self.stats["call_failures"] += 1
                    if self._on_call:
                        self._on_call("error", 0, 0.0)
                    retry.extend(batch)
                    continue
                for unit, result in zip(batch, results, strict=True):
                    if "ErrorCode" in result:
                        self.stats["record_failures"] += 1
                        retry.append(unit)
                        continue
                    self.stats["kinesis_records"] += 1
                    self.stats["records"] += len(unit.events)
                    accepted.extend(unit.sent(result, sent_at, attempt + 1))
            pending = retry
            if pending:
                if time.monotonic() > deadline:
                    lost = sum(len(unit.events) for unit in pending)
                    raise ProducerError(f"{lost} records not accepted after {self.give_up_after_s:.0f} s of retries")
                self.stats["retries"] += len(pending)
                time.sleep(self._backoff(attempt))
                attempt += 1
        return accepted

    def run(
        self,
        events: Iterable[Event],
        *,
        on_sent: Callable[[list[Event], list[Sent]], None] | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> int:
        """Send events at their scheduled times, batching whatever is due; returns the number sent.

        With aggregation, records wait up to `record_max_buffered_ms` (the KPL's RecordMaxBufferedTime) so
        that there is something to aggregate, as a KPL producer's do; without, each goes when it is due.
        """
        total = 0
        due: list[Event] = []
        iterator = iter(events)
        upcoming = next(iterator, None)
        hold_ms = self.record_max_buffered_ms if self.aggregation else 0
        while (upcoming is not None or due) and not should_stop():
            now = now_ms()
            while upcoming is not None and upcoming.scheduled_ms <= now and len(due) < MAX_RECORDS_PER_CALL:
                due.append(upcoming)
                upcoming = next(iterator, None)
            ready = due and (
                upcoming is None or len(due) >= MAX_RECORDS_PER_CALL or now - due[0].scheduled_ms >= hold_ms
            )
            if ready:
                sent = self.send(due)
                total += len(sent)
                if on_sent:
                    on_sent(due, sent)
                due = []
                continue
            wake = [upcoming.scheduled_ms] if upcoming is not None else []
            if due:
                wake.append(due[0].scheduled_ms + hold_ms)
            time.sleep(min(0.05, max(0.0, (min(wake) - now) / 1000)))
        return total
