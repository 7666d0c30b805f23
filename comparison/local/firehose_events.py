"""What Lambda hands a Firehose transformation function: the event of a delivery stream that reads a Kinesis
stream, and a context object.

The local simulator, the handler's benchmark and the tests all call the handler with these, so the three see
one event shape, the documented one
(https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html, Kinesis Data Streams as source).
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# The sample events' ARNs (events/kinesis_source.json), for callers that have no real stream.
DELIVERY_STREAM_ARN = "arn:aws:firehose:us-east-1:123456789012:deliverystream/etl-showdown-telemetry"
SOURCE_STREAM_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/etl-showdown-telemetry"
FUNCTION_NAME = "FirehoseTransformFunction"
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION_NAME}"


class LambdaContext:
    """The context object of one invocation: what Powertools and the handler read from it."""

    def __init__(
        self,
        *,
        function_name: str = FUNCTION_NAME,
        memory_limit_in_mb: int = 512,
        invoked_function_arn: str = FUNCTION_ARN,
        timeout_s: float = 120.0,
    ) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_limit_in_mb
        self.invoked_function_arn = invoked_function_arn
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        # The time limit runs from the invocation's start, as Lambda's does.
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's time limit."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass(kw_only=True)
class SourceRecord:
    """One user record as Firehose read it from the stream (a KPL aggregate's user records share a sequence
    number and differ in their sub-sequence number)."""

    record_id: str
    data: bytes
    arrival_ms: int
    partition_key: str
    sequence_number: str
    shard_id: str = "shardId-000000000000"
    subsequence_number: int = 0


def transformation_event(
    records: Iterable[SourceRecord],
    *,
    delivery_stream_arn: str = DELIVERY_STREAM_ARN,
    source_kinesis_stream_arn: str = SOURCE_STREAM_ARN,
    region: str = "us-east-1",
    invocation_id: str | None = None,
) -> dict[str, Any]:
    """The event of one transformation invocation (a fresh invocation id unless one is given)."""
    return {
        "invocationId": invocation_id or str(uuid.uuid4()),
        "deliveryStreamArn": delivery_stream_arn,
        "sourceKinesisStreamArn": source_kinesis_stream_arn,
        "region": region,
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
            for r in records
        ],
    }
