"""A local Firehose delivery stream with a Kinesis stream as source and a Lambda processor.

No installable emulator calls a Firehose transformation Lambda (moto never calls it; LocalStack
needs a licence and Docker), so this one does, as the service documents it
(https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html):

- reads each shard of the stream about once a second, from a starting position or its checkpoint;
- unpacks KPL-aggregated records into their user records before the Lambda, as Firehose does with a
  Kinesis source (docs: kpl-with-firehose), each its own recordId with its sub-sequence number in
  `kinesisRecordMetadata`; an aggregate it cannot unpack goes to the Lambda whole (comparison/kpl.py);
- buffers records for the processor until BufferSizeInMBs or BufferIntervalInSeconds, whichever
  comes first, then calls the real handler in-process with Firehose's event shape and a Lambda-like
  context;
- checks the response as Firehose does; a failed invocation (exception, timeout, missing, duplicated
  or unknown recordId, unknown result, bad base64, oversized or malformed response) is retried
  NumberOfRetries times, then its records go to the error prefix, as do ProcessingFailed records
  at once, each as Firehose's error document;
- buffers transformed records for S3 until SizeInMBs or IntervalInSeconds (0: zero buffering),
  optionally gzips, names objects as Firehose does, and writes them through boto3;
- keeps a checkpoint per shard, so that a restart loses nothing and re-reads only what was in flight.

It records, per record, arrival, read, invocation and S3 times, so latency splits into its parts.
What it does not reproduce: the service's scaling, throttling and parallel invocations (one
invocation at a time here), retries' back-off timing, and resharding. Its parts: the configuration and
S3 naming (firehose_settings.py), the source and checkpoint (firehose_source.py), the event and context
(firehose_events.py), the invocation and its checks (firehose_invocation.py).
"""

from __future__ import annotations

import base64
import gzip
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from comparison import kpl
from comparison.local.firehose_events import LambdaContext, SourceRecord, transformation_event
from comparison.local.firehose_invocation import PROCESSING_FAILED, Handler, InvocationError, error_document, invoke
from comparison.local.firehose_settings import (
    FirehoseSettings,
    PartitionKeyError,
    object_key,
    render_error_prefix,
    render_prefix,
)
from comparison.local.firehose_source import Checkpoint, ShardReader

MB = 1024 * 1024
# Pause between retries of a failed S3 put (Firehose's own interval is not documented).
S3_RETRY_S = 1.0
METADATA_EXTRACTION_FAILED = "DynamicPartitioning.MetadataExtractionFailed"


@dataclass
class Timeline:
    """When one record passed each stage (epoch ms), and where it ended."""

    shard_id: str
    sequence_number: str
    arrival_ms: int
    read_ms: int
    subsequence_number: int = 0
    invoke_start_ms: int | None = None
    invoke_end_ms: int | None = None
    attempts: int = 0
    result: str | None = None
    error_code: str | None = None
    s3_key: str | None = None
    written_ms: int | None = None


@dataclass(kw_only=True)
class _Record(SourceRecord):
    """A record read from the stream, with what became of it."""

    timeline: Timeline
    output: bytes | None = None
    partition: tuple[tuple[str, str], ...] = ()


@dataclass
class _Buffer:
    records: list[_Record] = field(default_factory=list)
    size: int = 0
    opened: float = 0.0


def now_ms() -> int:
    """Wall clock in epoch milliseconds."""
    return time.time_ns() // 1_000_000


class FirehoseSimulator:
    """One delivery stream: Kinesis source, Lambda processor (called in-process), S3 destination."""

    def __init__(
        self,
        settings: FirehoseSettings,
        *,
        kinesis,
        stream_name: str,
        s3,
        bucket: str,
        handler: Handler,
        checkpoint_path: Path,
        starting_position: str = "TRIM_HORIZON",
        starting_timestamp: datetime | None = None,
        poll_interval_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._checkpoint = Checkpoint(checkpoint_path)
        self.source = ShardReader(kinesis, stream_name, self._checkpoint, starting_position, starting_timestamp)
        self.s3 = s3
        self.bucket = bucket
        self.handler = handler
        self.poll_interval_s = poll_interval_s
        # Seconds that pace polls and buffer intervals (a test passes a clock it moves itself). Timelines
        # are wall-clock milliseconds, and a function's time limit is measured in real time.
        self._clock = clock
        summary = kinesis.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]
        self.stream_arn = summary["StreamARN"]
        self.delivery_stream_arn = f"arn:aws:firehose:{settings.region}:000000000000:deliverystream/{settings.name}"
        # Keyed by shard, sequence number and sub-sequence number (a KPL aggregate's user records share the
        # first two).
        self.timelines: dict[tuple[str, str, int], Timeline] = {}
        self.stats = {
            "received": 0,
            "ok": 0,
            "dropped": 0,
            "processing_failed": 0,
            "failed_invocations": 0,
            "retries": 0,
            "invocations": 0,
            "objects": 0,
            "error_objects": 0,
            "errors_by_code": {},
            "kpl_aggregates": 0,
            "kpl_malformed": 0,
        }
        self._next_poll: dict[str, float] = {}
        self._processor = _Buffer()
        self._destinations: dict[tuple, _Buffer] = {}
        self._lock = threading.Lock()

    @property
    def checkpoint(self) -> dict[str, str]:
        """Per shard, the last sequence number delivered along with every record before it."""
        return self._checkpoint.positions()

    # ---- source -----------------------------------------------------------------------------

    def _poll(self, shard_id: str) -> list[_Record]:
        fetched = self.source.get_records(shard_id)
        read_at = now_ms()
        records = []
        for raw in fetched:
            sequence = raw["SequenceNumber"]
            arrival = int(raw["ApproximateArrivalTimestamp"].timestamp() * 1000)
            # Firehose unpacks KPL aggregates before the Lambda, one recordId per user record; one it cannot
            # unpack goes on whole (the contract fails it as kpl_aggregate).
            users, malformed = kpl.user_records(raw["Data"], raw["PartitionKey"])
            if malformed:
                self.stats["kpl_malformed"] += 1
            elif kpl.is_aggregate(raw["Data"]):
                self.stats["kpl_aggregates"] += 1
            for user in users:
                timeline = Timeline(shard_id, sequence, arrival, read_at, user.subsequence_number)
                self.timelines[(shard_id, sequence, user.subsequence_number)] = timeline
                records.append(
                    _Record(
                        # Opaque to the function; unique across shards even where sequence numbers are not (moto).
                        record_id=f"{shard_id}-{sequence}{user.subsequence_number:06d}",
                        data=user.data,
                        shard_id=shard_id,
                        partition_key=user.partition_key,
                        sequence_number=sequence,
                        subsequence_number=user.subsequence_number,
                        arrival_ms=arrival,
                        timeline=timeline,
                    )
                )
            self._checkpoint.read(shard_id, sequence, (user.subsequence_number for user in users))
        self.stats["received"] += len(records)
        return records

    # ---- processor --------------------------------------------------------------------------

    def _invoke(self, batch: list[_Record]) -> list[dict[str, Any]]:
        """One invocation of the handler with Firehose's event and a Lambda-like context."""
        event = transformation_event(
            batch,
            delivery_stream_arn=self.delivery_stream_arn,
            source_kinesis_stream_arn=self.stream_arn,
            region=self.settings.region,
        )
        context = LambdaContext(
            function_name=self.settings.function_name,
            memory_limit_in_mb=self.settings.lambda_memory_mb,
            invoked_function_arn=self.settings.lambda_arn,
            timeout_s=self.settings.timeout_s,
        )
        return invoke(self.handler, event, context, self.settings.timeout_s)

    def _transform(self, batch: list[_Record]) -> None:
        attempts = 0
        start = now_ms()
        for record in batch:
            record.timeline.invoke_start_ms = start
        while True:
            attempts += 1
            self.stats["invocations"] += 1
            try:
                answers = self._invoke(batch)
                break
            except InvocationError as error:
                self.stats["failed_invocations"] += 1
                codes = self.stats["errors_by_code"]
                codes[error.code] = codes.get(error.code, 0) + 1
                if attempts > self.settings.retries:
                    self._fail(batch, error.code, error.message, attempts)
                    return
                self.stats["retries"] += 1
        end = now_ms()
        by_id = {r.record_id: r for r in batch}
        failed, done = [], []
        for answer in answers:
            record = by_id[answer["recordId"]]
            record.timeline.invoke_end_ms = end
            record.timeline.attempts = attempts
            record.timeline.result = answer["result"]
            if answer["result"] == "Ok":
                record.output = base64.b64decode(answer["data"])
                if self.settings.dynamic_partitioning:
                    keys = (answer.get("metadata") or {}).get("partitionKeys")
                    if not isinstance(keys, dict) or not keys:
                        failed.append((record, METADATA_EXTRACTION_FAILED, "no partitionKeys"))
                        continue
                    record.partition = tuple(sorted((str(k), str(v)) for k, v in keys.items()))
                self._buffer(record)
                self.stats["ok"] += 1
            elif answer["result"] == "Dropped":
                self.stats["dropped"] += 1
                done.append(record)
            else:
                failed.append((record, PROCESSING_FAILED, "ProcessingFailed status set for record"))
        if failed:
            # A record the function marked ProcessingFailed counts one attempt, whatever the retries.
            self._write_errors(failed, 1)
        self._checkpoint.complete(done)

    def _fail(self, batch: list[_Record], code: str, message: str, attempts: int) -> None:
        end = now_ms()
        for record in batch:
            record.timeline.invoke_end_ms = end
            record.timeline.attempts = attempts
            record.timeline.result = "ProcessingFailed"
        self._write_errors([(r, code, message) for r in batch], attempts)

    def _write_errors(self, failures: list[tuple[_Record, str, str]], attempts: int) -> None:
        ending = now_ms()
        lines = []
        for record, code, message in failures:
            lines.append(error_document(record, code, message, attempts, ending, self.settings.lambda_arn))
            record.timeline.error_code = code
        oldest = min(r.arrival_ms for r, _, _ in failures)
        key = object_key(render_error_prefix(self.settings.error_prefix, oldest), self.settings.name, oldest)
        written = self._put(key, ("\n".join(lines) + "\n").encode())
        for record, _, _ in failures:
            record.timeline.s3_key, record.timeline.written_ms = key, written
        self.stats["processing_failed"] += len(failures)
        self.stats["error_objects"] += 1
        self._checkpoint.complete([r for r, _, _ in failures])

    # ---- destination ------------------------------------------------------------------------

    def _buffer(self, record: _Record) -> None:
        buffer = self._destinations.setdefault(record.partition, _Buffer())
        if not buffer.records:
            buffer.opened = self._clock()
        buffer.records.append(record)
        buffer.size += len(record.output or b"")
        if buffer.size >= self.settings.delivery_buffer_mb * MB:
            self._deliver(record.partition)

    def _deliver(self, partition: tuple) -> None:
        buffer = self._destinations.pop(partition, None)
        if not buffer or not buffer.records:
            return
        body = b"".join(r.output or b"" for r in buffer.records)
        oldest = min(r.arrival_ms for r in buffer.records)
        try:
            prefix = render_prefix(self.settings.prefix, oldest, keys=dict(partition) if partition else None)
        except PartitionKeyError as error:
            self._write_errors([(r, METADATA_EXTRACTION_FAILED, str(error)) for r in buffer.records], 1)
            return
        gzipped = self.settings.compression == "GZIP"
        key = object_key(prefix, self.settings.name, oldest, ".gz" if gzipped else "")
        if gzipped:
            body = gzip.compress(body)
        written = self._put(key, body)
        for record in buffer.records:
            record.timeline.s3_key, record.timeline.written_ms = key, written
        self.stats["objects"] += 1
        self._checkpoint.complete(buffer.records)

    def _put(self, key: str, body: bytes) -> int:
        # With S3 as destination, Firehose retries a failed delivery until the source's retention ends
        # (troubleshooting.html). Retrying here, where the put fails, leaves no buffer half delivered.
        while True:
            try:
                self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)
                return now_ms()
            except (BotoCoreError, ClientError):
                self.stats["s3_retries"] = self.stats.get("s3_retries", 0) + 1
                time.sleep(S3_RETRY_S)

    # ---- the loop ---------------------------------------------------------------------------

    def _flush_processor(self, force: bool = False) -> None:
        """Invoke the function with full batches; the rest waits for its interval, unless forced."""
        buffer = self._processor
        if not buffer.records:
            return
        limit = self.settings.processor_buffer_mb * MB
        due = force or self._clock() - buffer.opened >= self.settings.processor_interval_s
        if not due and buffer.size < limit:
            return
        batch, size, rest = [], 0, _Buffer(opened=buffer.opened)
        for record in buffer.records:
            if batch and size + len(record.data) > limit:
                self._transform(batch)
                batch, size = [], 0
            batch.append(record)
            size += len(record.data)
        if due or size >= limit:
            self._transform(batch)
        else:
            rest.records, rest.size = batch, size
        self._processor = rest

    def _flush_destinations(self, force: bool = False) -> None:
        interval = self.settings.delivery_interval_s
        for partition, buffer in list(self._destinations.items()):
            if force or self._clock() - buffer.opened >= interval:
                self._deliver(partition)

    def step(self) -> float:
        """One pass: poll the shards that are due, flush what is due. Returns seconds until the next poll."""
        with self._lock:
            if not self._next_poll:
                self._next_poll = {shard: 0.0 for shard in self.source.shards()}
            clock = self._clock()
            for shard, due in self._next_poll.items():
                if clock >= due:
                    records = self._poll(shard)
                    self._next_poll[shard] = clock + self.poll_interval_s
                    if records and not self._processor.records:
                        self._processor.opened = self._clock()
                    for record in records:
                        self._processor.records.append(record)
                        self._processor.size += len(record.data)
                    if self._processor.size >= self.settings.processor_buffer_mb * MB:
                        self._flush_processor()
            self._flush_processor()
            self._flush_destinations()
            return max(0.0, min(self._next_poll.values()) - self._clock())

    def flush(self) -> None:
        """Send everything buffered on now (for a clean stop; Firehose would wait for its intervals)."""
        with self._lock:
            self._flush_processor(force=True)
            self._flush_destinations(force=True)

    def run(self, stop: threading.Event, tick_s: float = 0.05) -> None:
        """Poll and deliver until `stop` is set. An unreachable stream is retried, as Firehose retries
        GetRecords and GetShardIterator; S3 puts retry where they fail (`_put`)."""
        while not stop.is_set():
            try:
                wait = self.step()
            except (BotoCoreError, ClientError):
                # Only Kinesis calls get here (S3 puts retry in place), and they come before any record of
                # the poll is buffered: a failed GetRecords leaves its iterator unused for the next poll.
                self.stats["service_errors"] = self.stats.get("service_errors", 0) + 1
                stop.wait(1.0)
                continue
            stop.wait(min(tick_s, wait) if wait > 0 else tick_s)

    def pending(self) -> int:
        """Kinesis records read whose user records are not all delivered, failed or dropped yet."""
        return self._checkpoint.pending()
