"""The shared Firehose test doubles: the event has the documented shape, the context what Powertools reads."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from comparison.local.firehose_events import LambdaContext, SourceRecord, transformation_event

ROOT = Path(__file__).resolve().parents[3]


def test_the_event_has_the_shape_of_the_documented_kinesis_source_event():
    sample = json.loads((ROOT / "events" / "kinesis_source.json").read_text())
    record = SourceRecord(
        record_id="r1",
        data=b'{"event_id": "e1"}',
        arrival_ms=1_764_347_746_270,
        partition_key="dev-0003",
        sequence_number="4954511524349098501828006771497314458218006259324420000",
        subsequence_number=2,
    )
    event = transformation_event([record], region="us-east-1", invocation_id="i-1")
    assert event.keys() == sample.keys()
    (built,) = event["records"]
    assert built.keys() == sample["records"][0].keys()
    assert built["kinesisRecordMetadata"].keys() == sample["records"][0]["kinesisRecordMetadata"].keys()
    assert base64.b64decode(built["data"]) == record.data
    assert built["approximateArrivalTimestamp"] == built["kinesisRecordMetadata"]["approximateArrivalTimestamp"]
    assert (built["recordId"], built["kinesisRecordMetadata"]["subsequenceNumber"]) == ("r1", 2)
    assert event["invocationId"] == "i-1"
    assert transformation_event([])["invocationId"] != transformation_event([])["invocationId"]


def test_the_context_counts_down_from_the_time_limit():
    context = LambdaContext(function_name="f", memory_limit_in_mb=256, timeout_s=3.0)
    assert 0 < context.get_remaining_time_in_millis() <= 3000
    assert (context.function_name, context.memory_limit_in_mb) == ("f", 256)
    assert context.aws_request_id != LambdaContext().aws_request_id
    assert LambdaContext(timeout_s=0).get_remaining_time_in_millis() == 0
