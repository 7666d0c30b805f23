"""The Firehose transformation handler, called directly (sam local invoke needs Docker, absent here)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from comparison.local.firehose_events import LambdaContext, SourceRecord, transformation_event
from firehose_transform import app
from shared import contract as c
from shared.enrichment import Registry
from shared.record import curate

ROOT = Path(__file__).resolve().parents[2]
EVENTS = sorted((ROOT / "events").glob("*.json"))
RESULTS = {"Ok", "Dropped", "ProcessingFailed"}


@pytest.fixture(autouse=True)
def lambda_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "firehose-transform")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "EtlShowdown")
    monkeypatch.setenv("DEVICE_REGISTRY", str(ROOT / "events" / "devices.jsonl"))
    monkeypatch.setenv("DYNAMIC_PARTITIONING", "false")
    app.REGISTRY.registry = None


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def check_response(event: dict, response: dict) -> list[dict]:
    """The Firehose contract: each recordId once, in order, a known result, base64 data."""
    records = response["records"]
    assert [r["recordId"] for r in records] == [r["recordId"] for r in event["records"]]
    for answer in records:
        assert answer["result"] in RESULTS
        base64.b64decode(answer["data"], validate=True)
    assert len(json.dumps(response)) < app.RESPONSE_LIMIT_BYTES
    return records


@pytest.mark.parametrize("path", EVENTS, ids=[p.name for p in EVENTS])
def test_every_sample_event(path):
    event = load(path)
    registry = Registry.from_json_lines((ROOT / "events" / "devices.jsonl").read_bytes())
    response = app.lambda_handler(event, LambdaContext())
    for source, answer in zip(event["records"], check_response(event, response), strict=True):
        arrival = source.get("kinesisRecordMetadata", source)["approximateArrivalTimestamp"]
        try:
            expected = curate(base64.b64decode(source["data"], validate=True), arrival)
        except ValueError:
            assert (answer["result"], answer["data"]) == ("ProcessingFailed", "")
            continue
        if expected.status == c.OK:
            assert answer["result"] == "Ok"
            line = base64.b64decode(answer["data"])
            assert line.endswith(b"\n") and line.count(b"\n") == 1
            assert orjson.loads(line) == registry.enrich(expected.record)
        else:
            assert answer["result"] == {"dropped": "Dropped", "failed": "ProcessingFailed"}[expected.status]
            assert answer["data"] == source["data"]


def test_failures_are_logged_with_record_id_and_counted_per_reason(caplog, capsys):
    event = load(ROOT / "events" / "malformed_batch.json")
    response = app.lambda_handler(event, LambdaContext())
    # Log lines as Powertools writes them (its formatter adds the appended keys); EMF on stdout.
    formatter = app.logger.registered_formatter
    lines = [json.loads(formatter.format(record)) for record in caplog.records]
    lines += [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    failed_ids = {r["recordId"] for r in response["records"] if r["result"] == "ProcessingFailed"}
    logged = [
        entry for line in lines if line.get("message") == "records failed the contract" for entry in line["failed"]
    ]
    assert {entry["recordId"] for entry in logged} == failed_ids
    assert {entry["reason"] for entry in logged} >= {"not_json", "not_utf8", "wrong_type", "not_base64", "too_large"}
    assert all(line.get("invocation_id") == event["invocationId"] for line in lines if "level" in line)
    emf = [line for line in lines if "_aws" in line]
    by_reason = {line["reason"]: line["RecordsFailedByReason"] for line in emf if "reason" in line}
    assert by_reason["not_json"] == [2.0] and by_reason["not_base64"] == [1.0]
    assert sum(value[0] for value in by_reason.values()) == len(failed_ids)
    totals = next(line for line in emf if "RecordsOk" in line)
    assert (totals["RecordsOk"], totals["RecordsProcessingFailed"]) == ([2.0], [float(len(failed_ids))])


@pytest.mark.parametrize("name", ["kinesis-firehose", "streams-as-source"])
def test_sam_cli_generated_events(name):
    output = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "sam"), "local", "generate-event", "kinesis", name],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
    ).stdout
    event = json.loads(output)
    records = check_response(event, app.lambda_handler(event, LambdaContext()))
    # The sample data is plain text ("Hello, this is a test 123."), which the contract rejects.
    assert [r["result"] for r in records] == ["ProcessingFailed"]


def test_subsequence_number_as_string_or_number():
    event = load(ROOT / "events" / "kinesis_source.json")
    kinds = {type(r["kinesisRecordMetadata"]["subsequenceNumber"]) for r in event["records"]}
    assert kinds == {int, str}
    assert [r["result"] for r in app.lambda_handler(event, LambdaContext())["records"]].count("Ok") == 4


def test_dynamic_partitioning_adds_partition_keys(monkeypatch):
    monkeypatch.setenv("DYNAMIC_PARTITIONING", "true")
    event = load(ROOT / "events" / "direct_put.json")
    for answer in app.lambda_handler(event, LambdaContext())["records"]:
        if answer["result"] == "Ok":
            record = orjson.loads(base64.b64decode(answer["data"]))
            keys = answer["metadata"]["partitionKeys"]
            assert keys == {"event_date": record["event_date"], "event_hour": f"{record['event_hour']:02d}"}
        else:
            assert "metadata" not in answer


@pytest.mark.parametrize("event", [{}, {"records": "x"}, {"records": [{"data": "e30="}]}])
def test_an_unusable_event_raises_so_that_firehose_retries(event):
    with pytest.raises(app.EventError):
        app.lambda_handler(event, LambdaContext())


def test_an_unreadable_registry_raises(monkeypatch, tmp_path):
    bad = tmp_path / "devices.jsonl"
    bad.write_text('{"device_id": "d1"}\n')
    monkeypatch.setenv("DEVICE_REGISTRY", str(bad))
    with pytest.raises(ValueError, match="line 1"):
        app.lambda_handler(load(ROOT / "events" / "direct_put.json"), LambdaContext())


def test_registry_is_loaded_once_and_reloaded_after_its_ttl(monkeypatch, tmp_path):
    path = tmp_path / "devices.jsonl"
    path.write_text('{"device_id":"d1","site":"s1","region":"r","model":"m","alert_threshold_c":30}\n')
    monkeypatch.setenv("DEVICE_REGISTRY", str(path))
    first = app.REGISTRY.get()
    path.write_text(path.read_text().replace("s1", "s2"))
    assert app.REGISTRY.get() is first
    monkeypatch.setenv("DEVICE_REGISTRY_TTL_S", "0.01")
    app.REGISTRY.loaded_at -= 1
    assert app.REGISTRY.get().devices["d1"].site == "s2"


def source_record(n: int, data: bytes) -> SourceRecord:
    """The `n`th record of a batch read from the stream."""
    return SourceRecord(
        record_id=f"{n:056d}",
        data=data,
        arrival_ms=1_764_347_746_000,
        partition_key="dev-0001",
        sequence_number=f"{n:056d}",
    )


def big_batch(count: int, size: int) -> dict:
    """Valid events padded with an unknown field to `size` bytes: the curated lines stay ~400 bytes."""
    records = []
    for n in range(count):
        body = {
            "event_id": f"e{n}",
            "device_id": "dev-0001",
            "event_time": "2025-11-28T16:30:00.123Z",
            "temperature": 21.5,
            "temperature_unit": "C",
            "humidity": 40.0,
            "battery": 88.0,
            "firmware": "1.0.0",
        }
        text = json.dumps(body)
        body["pad"] = "p" * max(0, size - len(text) - 10)
        records.append(source_record(n, json.dumps(body).encode()))
    return transformation_event(records, invocation_id="big")


def test_a_response_that_would_outgrow_the_limit_fails_the_overflow_records_instead(monkeypatch):
    # A smaller limit makes the point cheaply: curated lines are larger than these raw records, so a
    # limit between the raw and the curated size of the batch must cut somewhere in the middle.
    event = big_batch(2_000, 60)
    raw = {
        "records": [
            {"recordId": r["recordId"], "result": "ProcessingFailed", "data": r["data"]} for r in event["records"]
        ]
    }
    limit = len(json.dumps(raw)) + 100_000
    monkeypatch.setattr(app, "RESPONSE_LIMIT_BYTES", limit)
    monkeypatch.setattr(app, "RESPONSE_MARGIN_BYTES", 0)
    response, counts, failures = app.transform_event(event, Registry({}))
    records = check_response(event, response)
    assert len(json.dumps(response)) <= limit
    results = [r["result"] for r in records]
    assert counts["Ok"] > 0 and counts["ProcessingFailed"] > 0
    assert results == sorted(results, key=lambda r: r != "Ok")  # Ok until the budget ends, then failed
    assert {f["reason"] for f in failures} == {app.RESPONSE_TOO_LARGE}


def test_a_full_3_mb_batch_of_small_records_stays_under_6_mb():
    event = big_batch(13_000, 180)  # ~3 MB of raw records, each curated line larger than its input
    response, counts, _ = app.transform_event(event, Registry({}))
    check_response(event, response)
    assert len(json.dumps(response).encode()) < app.RESPONSE_LIMIT_BYTES
    assert counts["Ok"] + counts["ProcessingFailed"] == 13_000


@settings(max_examples=150)
@given(st.lists(st.binary(max_size=300) | st.sampled_from([b"{}", b"[]", b"null", b'{"event_id": 1}']), max_size=40))
def test_any_bytes_yield_a_valid_response_and_never_raise(payloads):
    event = transformation_event((source_record(i, p) for i, p in enumerate(payloads)), invocation_id="prop")
    response, counts, _ = app.transform_event(event, Registry({}))
    check_response(event, response)
    assert sum(counts[r] for r in RESULTS) == len(payloads)


@settings(max_examples=150)
@given(
    # A length that is not a multiple of 3, so that the encoding ends in padding.
    st.binary(min_size=1, max_size=200).filter(lambda b: len(b) % 3),
    st.one_of(
        st.tuples(st.just("after"), st.sampled_from(["=", "A", "QQ==", "AAAA"])),
        st.tuples(st.just("inside"), st.sampled_from(["!", "\n", " ", "\t", "*", "-", "_"])),
    ),
    st.integers(min_value=0, max_value=10),
)
def test_base64_that_is_not_canonical_is_refused_with_its_reason(payload, change, where):
    # Firehose sends canonical base64. Text with characters outside the alphabet, or more after the padding,
    # decodes leniently to some bytes in Python: the handler must not take those bytes as the record.
    encoded = base64.b64encode(payload).decode()
    place, extra = change
    encoded = encoded + extra if place == "after" else encoded[:where] + extra + encoded[where:]
    event = transformation_event([source_record(0, payload)])
    event["records"][0]["data"] = encoded
    response, _, failures = app.transform_event(event, Registry({}))
    check_response(event, response)
    assert [(r["result"], r["data"]) for r in response["records"]] == [("ProcessingFailed", "")]
    assert [f["reason"] for f in failures] == [c.NOT_BASE64]


def test_canonical_base64_of_a_good_record_is_still_taken():
    payload = (ROOT / "events" / "kinesis_source.json").read_text()
    event = json.loads(payload)
    _, counts, _ = app.transform_event(event, Registry({}))
    assert counts["Ok"] > 0 and not counts[f"reason:{c.NOT_BASE64}"]


@settings(max_examples=100)
@given(
    st.one_of(
        st.text(max_size=20),
        st.booleans(),
        st.lists(st.integers(), max_size=2),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
        st.sampled_from([float("nan"), float("inf"), -float("inf"), 1e300]),
    ),
    st.booleans(),
)
def test_an_arrival_time_that_is_not_a_number_has_its_own_reason_and_keeps_the_data(arrival, from_kinesis):
    data = base64.b64encode(b'{"event_id": "x"}').decode()
    record = {"recordId": "0", "data": data}
    if from_kinesis:
        record["kinesisRecordMetadata"] = {"approximateArrivalTimestamp": arrival, "shardId": "shardId-0"}
    else:
        record["approximateArrivalTimestamp"] = arrival
    event = {"records": [record]}
    response, _, failures = app.transform_event(event, Registry({}))
    check_response(event, response)
    assert [(r["result"], r["data"]) for r in response["records"]] == [("ProcessingFailed", data)]
    assert [f["reason"] for f in failures] == [c.BAD_ARRIVAL_TIME]


def test_a_record_with_both_faults_never_sends_back_data_that_is_not_base64():
    event = {"records": [{"recordId": "0", "approximateArrivalTimestamp": "soon", "data": "e30=!"}]}
    response, _, failures = app.transform_event(event, Registry({}))
    check_response(event, response)
    assert [f["reason"] for f in failures] == [c.NOT_BASE64]


def test_every_reason_the_handler_gives_is_known_to_the_contract():
    assert set(c.ALL_REASONS) == set(c.REASONS) | {c.NOT_BASE64, c.BAD_ARRIVAL_TIME, c.RESPONSE_TOO_LARGE}
    assert {app.NOT_BASE64, app.BAD_ARRIVAL_TIME, app.RESPONSE_TOO_LARGE} <= set(c.ALL_REASONS)
