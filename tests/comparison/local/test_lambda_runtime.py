"""The in-process Lambda runtime: the template's environment, and one log file per runtime."""

from __future__ import annotations

from comparison.local.firehose_events import LambdaContext, SourceRecord, transformation_event
from comparison.local.lambda_runtime import LocalLambda
from comparison.local.template import Template


def test_a_runtime_set_up_after_another_was_closed_logs_to_its_own_file(tmp_path):
    template = Template()
    first = LocalLambda(template, log_path=tmp_path / "first.log")
    first.close()
    second = LocalLambda(template, log_path=tmp_path / "second.log")
    try:
        record = SourceRecord(
            record_id="r1", data=b"not json", arrival_ms=1_764_288_000_000, partition_key="k", sequence_number="1"
        )
        event = transformation_event([record])
        result = second(event, LambdaContext())
    finally:
        second.close()
    assert [r["result"] for r in result["records"]] == ["ProcessingFailed"]
    assert "records failed the contract" in (tmp_path / "second.log").read_text()
    assert "records failed the contract" not in (tmp_path / "first.log").read_text()
