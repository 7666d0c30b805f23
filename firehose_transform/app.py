"""Path A: the Firehose data-transformation Lambda (SAM handler `app.lambda_handler`).

Firehose calls it synchronously with a batch of records (Direct PUT, or a Kinesis stream as source)
and expects every recordId back exactly once, in order, each with a result:

- Ok: the curated, enriched record as one line of JSON (newline-terminated);
- Dropped: a heartbeat, valid and meant to vanish: liveness pings carry no measurement to store;
- ProcessingFailed: the record breaks the contract. Firehose writes it, raw, under the error prefix;
  its reason code is logged here with its recordId (Firehose keeps only the raw data).

It never raises for a bad record, only when the event itself is unusable (no records list, a record
without recordId) or the device registry cannot be read, so that Firehose retries the invocation.

The response must stay under Lambda's 6 MB. The curated records are larger than the raw ones
(enrichment, normalised names), so a large batch could outgrow the limit: before a record is
returned Ok, the handler checks that the response, with every remaining record returned as it came,
still fits; if not, that record is returned ProcessingFailed with reason `response_too_large` and
lands under the error prefix, raw and replayable. With the default 1 MB processor buffer it cannot
happen; near 3 MB of small records it can.

Configuration (environment): DEVICE_REGISTRY (a file path or s3:// URI of the JSON Lines registry),
DEVICE_REGISTRY_TTL_S (reload after this many seconds; 0 = once per container), DYNAMIC_PARTITIONING
(true: add metadata.partitionKeys event_date and event_hour), and Powertools' own variables.
Docs: https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html
"""

from __future__ import annotations

import binascii
import gc
import os
import time
from collections import Counter
from contextlib import contextmanager
from typing import Any

import orjson
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from shared import contract as c
from shared.enrichment import Registry
from shared.record import curate

OK, DROPPED, PROCESSING_FAILED = "Ok", "Dropped", "ProcessingFailed"
RESULT_BY_STATUS = {c.OK: OK, c.DROPPED: DROPPED, c.FAILED: PROCESSING_FAILED}
RESPONSE_LIMIT_BYTES = 6 * 1024 * 1024
# Room kept for what the per-record estimate leaves out (the envelope, key quoting, separators).
RESPONSE_MARGIN_BYTES = 64 * 1024
RECORD_ENVELOPE_BYTES = 64
RESPONSE_TOO_LARGE, NOT_BASE64, BAD_ARRIVAL_TIME = c.RESPONSE_TOO_LARGE, c.NOT_BASE64, c.BAD_ARRIVAL_TIME
FAILURES_PER_LOG_LINE = 500

logger = Logger()
metrics = Metrics()
tracer = Tracer()


class EventError(ValueError):
    """The invocation event cannot be answered record by record; Firehose should retry it."""


class RegistryCache:
    """The device registry, loaded once per container and reloaded after its TTL, if any."""

    def __init__(self) -> None:
        self.registry: Registry | None = None
        self.loaded_at = 0.0
        self.source: str | None = None

    def get(self) -> Registry:
        source = os.environ.get("DEVICE_REGISTRY", "")
        ttl = float(os.environ.get("DEVICE_REGISTRY_TTL_S", "0") or 0)
        stale = ttl > 0 and time.monotonic() - self.loaded_at > ttl
        if self.registry is None or stale or source != self.source:
            self.registry = Registry.from_json_lines(read_source(source)) if source else Registry({})
            self.loaded_at = time.monotonic()
            self.source = source
            logger.info("device registry loaded", extra={"source": source or "(none)", "devices": len(self.registry)})
        return self.registry


def read_source(source: str) -> bytes:
    """The bytes of a local file or an s3:// object."""
    if source.startswith("s3://"):
        import boto3

        bucket, _, key = source[5:].partition("/")
        return boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    with open(source, "rb") as stream:
        return stream.read()


REGISTRY = RegistryCache()


@contextmanager
def _cyclic_gc_paused():
    # The loop allocates a few containers per record while the event holds tens of thousands of
    # tracked objects, so full collections are costly (about 10% of a 3 MB batch, measured). It
    # creates no reference cycles: reference counting frees everything anyway.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _arrival_problem(arrival: Any) -> str | None:
    """BAD_ARRIVAL_TIME unless `arrival` is a finite number of epoch milliseconds (Firehose sends one)."""
    if arrival.__class__ in (int, float) and arrival == arrival and abs(arrival) < 2**62:
        return None
    return BAD_ARRIVAL_TIME


def _canonical_base64(raw: Any, a2b: Any, b2a: Any) -> bytes | None:
    """The decoded bytes if `raw` is canonical base64 (what Firehose sends), else None.

    Python's decoder skips characters outside the alphabet and ignores what follows the padding, so
    a record is taken only when encoding its bytes again gives exactly the text that came.
    """
    if raw.__class__ is not str:
        return None
    try:
        data = a2b(raw)
    except (binascii.Error, ValueError):
        return None
    return data if b2a(data, newline=False).decode() == raw else None


def transform_event(
    event: dict[str, Any], registry: Registry, partitioning: bool = False
) -> tuple[dict[str, Any], Counter, list[dict[str, Any]]]:
    """The Firehose response for one event, the count per result and reason, and the failures.

    Pure apart from the clock (used only if a record lacks its arrival time). The loop is the hot
    path of path A: names are bound locally and work is done once per record.
    """
    records = event.get("records")
    if not isinstance(records, list):
        raise EventError("the event has no records list")
    now_ms = time.time_ns() // 1_000_000
    a2b, b2a, dumps, enrich = binascii.a2b_base64, binascii.b2a_base64, orjson.dumps, registry.enrich
    newline, ok = orjson.OPT_APPEND_NEWLINE, c.OK
    ok_count = dropped_count = 0
    failures: list[dict[str, Any]] = []
    # Bytes still owed: every record not yet answered, returned as it came (the worst case to fit).
    owed = sum(len(r.get("data") or "") + len(r.get("recordId") or "") + RECORD_ENVELOPE_BYTES for r in records)
    budget = RESPONSE_LIMIT_BYTES - RESPONSE_MARGIN_BYTES
    used = 0
    out = []
    append = out.append
    for record in records:
        record_id = record.get("recordId")
        if record_id.__class__ is not str:
            raise EventError("a record has no recordId")
        raw = record.get("data") or ""
        fixed = len(raw) + len(record_id) + RECORD_ENVELOPE_BYTES
        owed -= fixed
        # With a Kinesis stream as source, the Kinesis arrival time is the reference (as in the Glue job).
        kinesis = record.get("kinesisRecordMetadata")
        arrival = kinesis.get("approximateArrivalTimestamp") if kinesis else None
        if arrival is None:
            arrival = record.get("approximateArrivalTimestamp", now_ms)
        # Base64 first: only data that is base64 may go back to Firehose, whatever else is wrong.
        data, outcome = _canonical_base64(raw, a2b, b2a), None
        reason = NOT_BASE64 if data is None else _arrival_problem(arrival)
        if reason is None:
            outcome = curate(data, int(arrival))
        if outcome is not None and outcome.status == ok:
            curated = enrich(outcome.record)
            encoded = b2a(dumps(curated, option=newline), newline=False).decode()
            size = len(encoded) + len(record_id) + RECORD_ENVELOPE_BYTES
            if used + size + owed <= budget:
                answer = {"recordId": record_id, "result": OK, "data": encoded}
                if partitioning:
                    keys = {"event_date": curated["event_date"], "event_hour": f"{curated['event_hour']:02d}"}
                    answer["metadata"] = {"partitionKeys": keys}
                    size += 96
                used += size
                append(answer)
                ok_count += 1
                continue
            reason, field = RESPONSE_TOO_LARGE, None
        elif outcome is None:
            field = None
        elif outcome.status == c.DROPPED:
            append({"recordId": record_id, "result": DROPPED, "data": raw})
            used += fixed
            dropped_count += 1
            continue
        else:
            reason, field = outcome.reason, outcome.field
        # Firehose checks every returned data field as base64, and writes failed records from its
        # own copy: a record that was not base64 comes back empty rather than failing the batch.
        append({"recordId": record_id, "result": PROCESSING_FAILED, "data": "" if reason == NOT_BASE64 else raw})
        used += fixed
        failures.append({"recordId": record_id, "reason": reason, "field": field})
    counts = Counter({OK: ok_count, DROPPED: dropped_count, PROCESSING_FAILED: len(failures)})
    counts.update(f"reason:{failure['reason']}" for failure in failures)
    return {"records": out}, counts, failures


def _report(counts: Counter, failures: list[dict[str, Any]]) -> None:
    for result in (OK, DROPPED, PROCESSING_FAILED):
        metrics.add_metric(name=f"Records{result}", unit=MetricUnit.Count, value=counts.get(result, 0))
    for key, value in counts.items():
        if key.startswith("reason:"):
            with single_metric(name="RecordsFailedByReason", unit=MetricUnit.Count, value=value) as metric:
                metric.add_dimension(name="reason", value=key.split(":", 1)[1])
    # One line per chunk of failures: each names the recordIds the error prefix will hold.
    for start in range(0, len(failures), FAILURES_PER_LOG_LINE):
        logger.warning("records failed the contract", extra={"failed": failures[start : start + FAILURES_PER_LOG_LINE]})


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Transform one Firehose batch (see the module docstring)."""
    logger.append_keys(invocation_id=event.get("invocationId"))
    partitioning = os.environ.get("DYNAMIC_PARTITIONING", "false").lower() == "true"
    registry = REGISTRY.get()
    with _cyclic_gc_paused():
        response, counts, failures = transform_event(event, registry, partitioning)
    _report(counts, failures)
    logger.info(
        "batch transformed",
        extra={
            "records": len(response["records"]),
            "ok": counts[OK],
            "dropped": counts[DROPPED],
            "failed": counts[PROCESSING_FAILED],
        },
    )
    return response
