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
- keeps a checkpoint per shard: the last sequence number whose record (all its user records), and every
  record before it, reached S3 (delivered, failed or dropped). A restart resumes after it, so it loses nothing and
  re-reads only records that were still in flight, as Firehose may (delivery is at-least-once).

It records, per record, arrival, read, invocation and S3 times, so latency splits into its parts.
What it does not reproduce: the service's scaling, throttling and parallel invocations (one
invocation at a time here), retries' back-off timing, and resharding.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import os
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from comparison import kpl
from comparison.local.servers import last_sequence_number
from comparison.local.template import Template, TemplateError

MB = 1024 * 1024
LAMBDA_RESPONSE_LIMIT = 6 * MB
# Pause between retries of a failed S3 put (Firehose's own interval is not documented).
S3_RETRY_S = 1.0
GETRECORDS_LIMIT = 10_000
DELIVERY_STREAM_VERSION = 1
ERROR_OUTPUT_TYPE = "processing-failed"
# Firehose's error codes for transformation failures. Documented (monitoring-with-cloudwatch-logs.html):
# JsonProcessingException ("the returned records [do not] follow the status model"), MissingRecordId,
# DuplicatedRecordId. Seen in error objects of real streams, not documented: FunctionError (the
# function returned an error, an oversized response included), FunctionTimedOut, and
# ProcessingFailedStatus for records the function marked ProcessingFailed (attemptsMade 1).
FUNCTION_ERROR = "Lambda.FunctionError"
FUNCTION_TIMEOUT = "Lambda.FunctionTimedOut"
JSON_ERROR = "Lambda.JsonProcessingException"
MISSING_RECORD_ID = "Lambda.MissingRecordId"
DUPLICATED_RECORD_ID = "Lambda.DuplicatedRecordId"
PROCESSING_FAILED = "Lambda.ProcessingFailedStatus"
RESULTS = ("Ok", "Dropped", "ProcessingFailed")
MAX_PREFIX_LENGTH = 512


class FirehoseConfigError(ValueError):
    """A delivery stream configuration Firehose would not accept."""


@dataclass(frozen=True)
class FirehoseSettings:
    """The delivery stream's behaviour, as template.yaml defines it."""

    name: str
    lambda_arn: str
    processor_buffer_mb: float = 1.0
    processor_interval_s: float = 60.0
    retries: int = 3
    buffer_mb: float = 5.0
    buffer_interval_s: float = 300.0
    compression: str = "UNCOMPRESSED"
    prefix: str = ""
    error_prefix: str = ""
    dynamic_partitioning: bool = False
    function_name: str = "FirehoseTransformFunction"
    memory_mb: int = 512
    timeout_s: float = 120.0
    region: str = "us-east-1"

    def __post_init__(self) -> None:
        checks = [
            ("BufferSizeInMBs (processor)", self.processor_buffer_mb, 0.2, 3),
            ("BufferIntervalInSeconds (processor)", self.processor_interval_s, 0, 900),
            ("NumberOfRetries (processor)", self.retries, 0, 300),
            ("BufferingHints.SizeInMBs", self.buffer_mb, 1, 128),
            ("BufferingHints.IntervalInSeconds", self.buffer_interval_s, 0, 900),
        ]
        for name, value, low, high in checks:
            if not low <= value <= high:
                raise FirehoseConfigError(f"{name}={value} is outside Firehose's range {low}..{high}")
        if self.compression not in ("UNCOMPRESSED", "GZIP"):
            raise FirehoseConfigError(
                f"CompressionFormat={self.compression!r}: this simulator knows UNCOMPRESSED and GZIP"
            )
        if self.dynamic_partitioning:
            # CloudFormation refuses smaller buffers with dynamic partitioning (errors quoted by the AWS CDK).
            if self.buffer_mb < 64:
                raise FirehoseConfigError(
                    "BufferingHints.SizeInMBs must be at least 64 when Dynamic Partitioning is enabled"
                )
            if self.buffer_interval_s < 60:
                raise FirehoseConfigError(
                    "BufferingHints.IntervalInSeconds must be at least 60 seconds when Dynamic Partitioning is enabled"
                )
            if "!{partitionKeyFromLambda:" not in self.prefix:
                raise FirehoseConfigError("dynamic partitioning needs !{partitionKeyFromLambda:...} in the Prefix")
        elif "!{partitionKeyFrom" in self.prefix:
            raise FirehoseConfigError("the Prefix uses partition keys but dynamic partitioning is off")
        # The rules of s3-prefixes.html.
        if "!{" in self.prefix and not self.error_prefix:
            raise FirehoseConfigError("Invalid input: ErrorOutputPrefix can't be null when Prefix contains expressions")
        if "!{firehose:error-output-type}" in self.prefix:
            raise FirehoseConfigError("Prefix can't contain !{firehose:error-output-type}")
        if "!{" in self.error_prefix and "!{firehose:error-output-type}" not in self.error_prefix:
            raise FirehoseConfigError(
                "an ErrorOutputPrefix with expressions must include !{firehose:error-output-type}"
            )
        if "!{partitionKeyFrom" in self.error_prefix:
            raise FirehoseConfigError("ErrorOutputPrefix can't use partition keys")

    @classmethod
    def from_template(
        cls,
        template: Template,
        resource: str = "TelemetryDeliveryStream",
        function: str = "FirehoseTransformFunction",
        **overrides: Any,
    ) -> FirehoseSettings:
        """The settings of the template's delivery stream (and of its Lambda processor)."""
        stream = template.resource(resource, "AWS::KinesisFirehose::DeliveryStream")
        destination = stream.get("ExtendedS3DestinationConfiguration")
        if not destination:
            raise TemplateError(f"{resource} has no ExtendedS3DestinationConfiguration")
        processors = destination.get("ProcessingConfiguration", {}).get("Processors", [])
        lambda_processor = next((p for p in processors if p.get("Type") == "Lambda"), None)
        if lambda_processor is None:
            raise TemplateError(f"{resource} has no Lambda processor")
        parameters = {p["ParameterName"]: p["ParameterValue"] for p in lambda_processor.get("Parameters", [])}
        hints = destination.get("BufferingHints", {})
        function_properties = template.resource(function, "AWS::Serverless::Function")
        globals_ = template.body.get("Globals", {}).get("Function", {})
        values = dict(
            name=resource,
            lambda_arn=str(parameters.get("LambdaArn", f"arn:local:{function}")),
            processor_buffer_mb=float(parameters.get("BufferSizeInMBs", 1)),
            processor_interval_s=float(parameters.get("BufferIntervalInSeconds", 60)),
            retries=int(float(parameters.get("NumberOfRetries", 3))),
            buffer_mb=float(hints.get("SizeInMBs", 5)),
            buffer_interval_s=float(hints.get("IntervalInSeconds", 300)),
            compression=str(destination.get("CompressionFormat", "UNCOMPRESSED")),
            prefix=str(destination.get("Prefix", "")),
            error_prefix=str(destination.get("ErrorOutputPrefix", "")),
            dynamic_partitioning=bool(destination.get("DynamicPartitioningConfiguration", {}).get("Enabled", False)),
            function_name=function,
            memory_mb=int(function_properties.get("MemorySize", globals_.get("MemorySize", 128))),
            timeout_s=float(function_properties.get("Timeout", globals_.get("Timeout", 3))),
            region=template.region,
        )
        values.update(overrides)
        return cls(**values)


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


@dataclass
class _Record:
    record_id: str
    data: bytes
    shard_id: str
    partition_key: str
    sequence_number: str
    subsequence_number: int
    arrival_ms: int
    timeline: Timeline
    output: bytes | None = None
    partition: tuple[tuple[str, str], ...] = ()


@dataclass
class _Buffer:
    records: list[_Record] = field(default_factory=list)
    size: int = 0
    opened: float = 0.0


class LambdaContext:
    """What a Lambda handler reads from its context object."""

    def __init__(self, settings: FirehoseSettings, deadline: float) -> None:
        self.function_name = settings.function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = settings.memory_mb
        self.invoked_function_arn = settings.lambda_arn
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{settings.function_name}"
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class InvocationError(Exception):
    """A failed transformation invocation, with Firehose's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def now_ms() -> int:
    """Wall clock in epoch milliseconds."""
    return time.time_ns() // 1_000_000


def render_prefix(template: str, when_ms: int, error_output_type: str | None = None, keys: dict | None = None) -> str:
    """Evaluate Firehose's prefix expressions: !{timestamp:...} (UTC), !{firehose:...}, !{partitionKeyFromLambda:...}

    at the instant `when_ms` (the arrival of the oldest record of the object)."""
    when = datetime.fromtimestamp(when_ms / 1000, tz=timezone.utc)
    out, rest = [], template
    while "!{" in rest:
        head, _, tail = rest.partition("!{")
        expression, found, rest = tail.partition("}")
        if not found:
            raise FirehoseConfigError(f"unclosed expression in prefix {template!r}")
        namespace, _, name = expression.partition(":")
        if namespace == "timestamp":
            value = _java_time(name, when)
        elif namespace == "firehose" and name == "error-output-type":
            if error_output_type is None:
                raise FirehoseConfigError("!{firehose:error-output-type} belongs in the ErrorOutputPrefix only")
            value = error_output_type
        elif namespace == "firehose" and name == "random-string":
            value = uuid.uuid4().hex[:11]
        elif namespace == "partitionKeyFromLambda":
            if keys is None or name not in keys:
                raise InvocationError("DynamicPartitioning.MetadataExtractionFailed", f"no partition key {name!r}")
            value = str(keys[name])
        else:
            raise FirehoseConfigError(f"unknown prefix expression !{{{expression}}}")
        out += [head, value]
    out.append(rest)
    rendered = "".join(out)
    if "!{timestamp:" not in template:
        # A prefix without a timestamp expression gets Firehose's !{timestamp:yyyy/MM/dd/HH/} appended.
        rendered += when.strftime("%Y/%m/%d/%H/")
    return rendered


def _java_time(pattern: str, when: datetime) -> str:
    """The DateTimeFormatter subset Firehose prefixes use: yyyy, MM, dd, HH, mm, ss and literals."""
    tokens = {"yyyy": "%Y", "MM": "%m", "dd": "%d", "HH": "%H", "mm": "%M", "ss": "%S"}
    out, index = [], 0
    while index < len(pattern):
        for token, code in tokens.items():
            if pattern.startswith(token, index):
                out.append(when.strftime(code))
                index += len(token)
                break
        else:
            if pattern[index].isalpha():
                raise FirehoseConfigError(f"unsupported timestamp pattern {pattern!r}")
            out.append(pattern[index])
            index += 1
    return "".join(out)


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
        handler: Callable[[dict, Any], Any],
        checkpoint_path: Path,
        starting_position: str = "TRIM_HORIZON",
        starting_timestamp: datetime | None = None,
        poll_interval_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if starting_position not in ("TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"):
            raise FirehoseConfigError(f"starting position {starting_position!r}: TRIM_HORIZON, LATEST or AT_TIMESTAMP")
        if starting_position == "AT_TIMESTAMP" and starting_timestamp is None:
            raise FirehoseConfigError("AT_TIMESTAMP needs a starting timestamp")
        self.settings = settings
        self.kinesis = kinesis
        self.stream_name = stream_name
        self.s3 = s3
        self.bucket = bucket
        self.handler = handler
        self.checkpoint_path = Path(checkpoint_path)
        self.starting_position = starting_position
        self.starting_timestamp = starting_timestamp
        self._latest_start: dict[str, str | None] = {}
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
        self._checkpoint = self._load_checkpoint()
        self._iterators: dict[str, str | None] = {}
        self._next_poll: dict[str, float] = {}
        self._in_flight: dict[str, deque] = {}
        # Per Kinesis record in flight: [sequence number, sub-sequence numbers of its user records not yet
        # delivered].
        self._entries: dict[tuple[str, str], list] = {}
        self._processor = _Buffer()
        self._destinations: dict[tuple, _Buffer] = {}
        self._lock = threading.Lock()

    # ---- checkpoint -------------------------------------------------------------------------

    def _load_checkpoint(self) -> dict[str, str]:
        if not self.checkpoint_path.exists():
            return {}
        try:
            return json.loads(self.checkpoint_path.read_text())
        except ValueError as error:
            raise FirehoseConfigError(f"checkpoint {self.checkpoint_path} is not JSON: {error}") from None

    def _save_checkpoint(self) -> None:
        self.checkpoint_path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.checkpoint_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self._checkpoint, indent=0, sort_keys=True))
        os.replace(temporary, self.checkpoint_path)

    def _complete(self, records: list[_Record]) -> None:
        """Mark records as having reached S3 (or dropped) and move each shard's checkpoint."""
        shards = set()
        for record in records:
            key = (record.shard_id, record.sequence_number)
            entry = self._entries.get(key)
            if entry is not None:
                # A set, not a count: a record completed twice must not release its aggregate early.
                entry[1].discard(record.subsequence_number)
                if not entry[1]:
                    del self._entries[key]
                    shards.add(record.shard_id)
        moved = False
        for shard_id in shards:
            queue = self._in_flight[shard_id]
            while queue and not queue[0][1]:
                self._checkpoint[shard_id] = queue.popleft()[0]
                moved = True
        if moved:
            self._save_checkpoint()

    @property
    def checkpoint(self) -> dict[str, str]:
        """Per shard, the last sequence number delivered along with every record before it."""
        return dict(self._checkpoint)

    # ---- source -----------------------------------------------------------------------------

    def _shards(self) -> list[str]:
        shards, token = [], None
        while True:
            page = (
                self.kinesis.list_shards(NextToken=token)
                if token
                else self.kinesis.list_shards(StreamName=self.stream_name)
            )
            shards += [s["ShardId"] for s in page["Shards"]]
            token = page.get("NextToken")
            if not token:
                return shards

    def _iterator(self, shard_id: str, after: str | None = None) -> str:
        arguments: dict[str, Any] = {"StreamName": self.stream_name, "ShardId": shard_id}
        after = after or self._checkpoint.get(shard_id)
        if after is None and self.starting_position == "LATEST":
            # LATEST as a position (after the last record present at the first start), so that an
            # iterator taken again after it expired does not skip what arrived in between.
            if shard_id not in self._latest_start:
                self._latest_start[shard_id] = last_sequence_number(self.kinesis, self.stream_name, shard_id)
            after = self._latest_start[shard_id]
            if after is None:
                arguments.update(ShardIteratorType="TRIM_HORIZON")
                return self.kinesis.get_shard_iterator(**arguments)["ShardIterator"]
        if after is not None:
            arguments.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=after)
        elif self.starting_position == "AT_TIMESTAMP":
            arguments.update(ShardIteratorType="AT_TIMESTAMP", Timestamp=self.starting_timestamp)
        else:
            arguments.update(ShardIteratorType=self.starting_position)
        return self.kinesis.get_shard_iterator(**arguments)["ShardIterator"]

    def _poll(self, shard_id: str) -> list[_Record]:
        iterator = self._iterators.get(shard_id)
        if shard_id not in self._iterators:
            iterator = self._iterators[shard_id] = self._iterator(shard_id)
        if iterator is None:
            return []
        queue = self._in_flight.setdefault(shard_id, deque())
        try:
            page = self.kinesis.get_records(ShardIterator=iterator, Limit=GETRECORDS_LIMIT)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ExpiredIteratorException":
                raise
            # An iterator lives 5 minutes: after a longer outage, resume after the last record read.
            self._iterators[shard_id] = self._iterator(shard_id, after=queue[-1][0] if queue else None)
            return []
        self._iterators[shard_id] = page.get("NextShardIterator")
        read_at = now_ms()
        records = []
        for raw in page["Records"]:
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
            entry = [sequence, {user.subsequence_number for user in users}]
            queue.append(entry)
            self._entries[(shard_id, sequence)] = entry
        self.stats["received"] += len(records)
        return records

    # ---- processor --------------------------------------------------------------------------

    def _event(self, batch: list[_Record]) -> dict[str, Any]:
        return {
            "invocationId": str(uuid.uuid4()),
            "deliveryStreamArn": self.delivery_stream_arn,
            "sourceKinesisStreamArn": self.stream_arn,
            "region": self.settings.region,
            "records": [
                {
                    "recordId": r.record_id,
                    "approximateArrivalTimestamp": r.arrival_ms,
                    "data": base64.b64encode(r.data).decode(),
                    "kinesisRecordMetadata": {
                        "shardId": r.shard_id,
                        "partitionKey": r.partition_key,
                        "approximateArrivalTimestamp": r.arrival_ms,
                        "sequenceNumber": r.sequence_number,
                        "subsequenceNumber": r.subsequence_number,
                    },
                }
                for r in batch
            ],
        }

    def _invoke(self, batch: list[_Record]) -> list[dict[str, Any]]:
        """One invocation of the handler; the validated response records, or InvocationError."""
        event = self._event(batch)
        started = time.monotonic()
        context = LambdaContext(self.settings, started + self.settings.timeout_s)
        try:
            response = self.handler(event, context)
        except Exception as error:  # the function's error, whatever it is, is Firehose's FunctionError
            raise InvocationError(FUNCTION_ERROR, f"{type(error).__name__}: {error}") from None
        if time.monotonic() - started > self.settings.timeout_s:
            raise InvocationError(FUNCTION_TIMEOUT, f"Task timed out after {self.settings.timeout_s:.2f} seconds")
        try:
            encoded = json.dumps(response)
        except (TypeError, ValueError) as error:
            raise InvocationError(JSON_ERROR, f"the response is not JSON: {error}") from None
        if len(encoded.encode()) > LAMBDA_RESPONSE_LIMIT:
            # Lambda itself refuses the response, so Firehose sees a function error.
            raise InvocationError(
                FUNCTION_ERROR,
                f"Response payload size ({len(encoded.encode())} bytes) exceeded maximum allowed payload size "
                f"({LAMBDA_RESPONSE_LIMIT} bytes).",
            )
        records = response.get("records") if isinstance(response, dict) else None
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise InvocationError(JSON_ERROR, "the response has no list of records")
        expected = [r.record_id for r in batch]
        seen = [r.get("recordId") for r in records]
        if len(set(seen)) != len(seen):
            raise InvocationError(
                DUPLICATED_RECORD_ID,
                "Multiple records were returned with the same record Id. Ensure that the Lambda function "
                "returns a unique record Id for each record.",
            )
        if set(expected) != set(seen):
            raise InvocationError(
                MISSING_RECORD_ID,
                "One or more record Ids were not returned. Ensure that the Lambda function returns all "
                "received record Ids.",
            )
        for record in records:
            problem = None
            if record.get("result") not in RESULTS:
                problem = f"result {record.get('result')!r} is not Ok, Dropped or ProcessingFailed"
            else:
                try:
                    base64.b64decode(record.get("data", ""), validate=True)
                except (binascii.Error, ValueError, TypeError):
                    problem = f"the data of record {record['recordId']} is not base64"
            if problem:
                raise InvocationError(
                    JSON_ERROR,
                    "There was an error parsing returned records from the Lambda function. Ensure that the "
                    f"returned records follow the status model required by Firehose ({problem}).",
                )
        return records

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
                        failed.append((record, "DynamicPartitioning.MetadataExtractionFailed", "no partitionKeys"))
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
        self._complete(done)

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
            lines.append(
                json.dumps(
                    {
                        "attemptsMade": attempts,
                        "arrivalTimestamp": record.arrival_ms,
                        "errorCode": code,
                        "errorMessage": message,
                        "attemptEndingTimestamp": ending,
                        "rawData": base64.b64encode(record.data).decode(),
                        "lambdaArn": self.settings.lambda_arn,
                    }
                )
            )
            record.timeline.error_code = code
        oldest = min(r.arrival_ms for r, _, _ in failures)
        prefix = self.settings.error_prefix
        if "!{" not in prefix:
            # Without expressions, the error output type and the time are appended (s3-prefixes.html).
            prefix += ERROR_OUTPUT_TYPE + "/"
        key = self._key(render_prefix(prefix, oldest, error_output_type=ERROR_OUTPUT_TYPE), oldest)
        written = self._put(key, ("\n".join(lines) + "\n").encode())
        for record, _, _ in failures:
            record.timeline.s3_key, record.timeline.written_ms = key, written
        self.stats["processing_failed"] += len(failures)
        self.stats["error_objects"] += 1
        self._complete([r for r, _, _ in failures])

    # ---- destination ------------------------------------------------------------------------

    def _buffer(self, record: _Record) -> None:
        buffer = self._destinations.setdefault(record.partition, _Buffer())
        if not buffer.records:
            buffer.opened = self._clock()
        buffer.records.append(record)
        buffer.size += len(record.output or b"")
        if buffer.size >= self.settings.buffer_mb * MB:
            self._deliver(record.partition)

    def _deliver(self, partition: tuple) -> None:
        buffer = self._destinations.pop(partition, None)
        if not buffer or not buffer.records:
            return
        body = b"".join(r.output or b"" for r in buffer.records)
        oldest = min(r.arrival_ms for r in buffer.records)
        try:
            prefix = render_prefix(self.settings.prefix, oldest, keys=dict(partition) if partition else None)
        except InvocationError as error:
            self._write_errors([(r, error.code, error.message) for r in buffer.records], 1)
            return
        gzipped = self.settings.compression == "GZIP"
        key = self._key(prefix, oldest, ".gz" if gzipped else "")
        if gzipped:
            body = gzip.compress(body)
        written = self._put(key, body)
        for record in buffer.records:
            record.timeline.s3_key, record.timeline.written_ms = key, written
        self.stats["objects"] += 1
        self._complete(buffer.records)

    def _key(self, prefix: str, oldest_ms: int, extension: str = "") -> str:
        # Times in keys are the approximate arrival of the oldest record in the object, in UTC.
        if len(prefix) > MAX_PREFIX_LENGTH:
            raise FirehoseConfigError(f"the evaluated prefix {prefix[:40]!r}... is over {MAX_PREFIX_LENGTH} characters")
        stamp = datetime.fromtimestamp(oldest_ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d-%H-%M-%S")
        return f"{prefix}{self.settings.name}-{DELIVERY_STREAM_VERSION}-{stamp}-{uuid.uuid4()}{extension}"

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
        interval = self.settings.buffer_interval_s
        for partition, buffer in list(self._destinations.items()):
            if force or self._clock() - buffer.opened >= interval:
                self._deliver(partition)

    def step(self) -> float:
        """One pass: poll the shards that are due, flush what is due. Returns seconds until the next poll."""
        with self._lock:
            if not self._next_poll:
                self._next_poll = {shard: 0.0 for shard in self._shards()}
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
        return len(self._entries)
