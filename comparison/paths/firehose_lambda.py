"""Path A, Firehose + Lambda: the Kinesis stream read by a delivery stream whose Lambda transforms each record.

Locally the Firehose simulator runs the real handler (`comparison/local/firehose.py`) and writes to moto S3;
on AWS the deployed delivery stream does. Either way the path's sink is the S3 objects under the curated and
error prefixes, copied into `sinks/firehose_lambda/` by key. What the report knows of each record's journey
differs: the simulator writes a timeline per record (`timings/firehose.jsonl`: arrival, read, invocation,
write), while on AWS the harness has each object's LastModified (`timings/firehose_objects.jsonl`) and the
services' own metrics (`timings/firehose_metrics.json`).
"""

from __future__ import annotations

import base64
import gzip
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from comparison import truth
from comparison.local.firehose_settings import FirehoseSettings
from comparison.local.template import Template
from comparison.paths.base import (
    HARNESS,
    SERVICE,
    Knob,
    PathReport,
    PathSpec,
    RunData,
    capability,
    duplicates,
    enrichment_matches,
    inside_aggregates,
    percentiles,
    position,
)
from shared import contract as c

PROCESSING_FAILED = "Lambda.ProcessingFailedStatus"
LAST_MODIFIED_RESOLUTION_MS = 1000
KNOBS = (
    Knob("processor_buffer_mb", "ProcessorBufferSizeMB", float, "Firehose's buffer before the Lambda, MB"),
    Knob("processor_interval_s", "ProcessorBufferIntervalSeconds", float, "...or seconds (0 = none)"),
    Knob("delivery_buffer_mb", "DeliveryBufferSizeMB", float, "Firehose's buffer before S3, MB"),
    Knob("delivery_interval_s", "DeliveryBufferIntervalSeconds", float, "...or seconds (0 = none)"),
)


def settings(template: Template, **overrides: Any) -> FirehoseSettings:
    """The delivery stream's settings for a template's parameters."""
    return FirehoseSettings.from_template(template, **overrides)


def settings_section(firehose: FirehoseSettings) -> dict[str, Any]:
    """The run description's record of the delivery stream's settings."""
    return {
        "processor_buffer_mb": firehose.processor_buffer_mb,
        "processor_interval_s": firehose.processor_interval_s,
        "delivery_buffer_mb": firehose.delivery_buffer_mb,
        "delivery_interval_s": firehose.delivery_interval_s,
        "retries": firehose.retries,
        "lambda_memory_mb": firehose.lambda_memory_mb,
    }


def object_rows(body: bytes) -> list[dict[str, Any]]:
    """The JSON lines of one delivered object (gzip-compressed or not)."""
    if body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    return [json.loads(line) for line in body.splitlines() if line.strip()]


def firehose_objects(sinks: Path) -> list[tuple[str, list[dict[str, Any]]]]:
    """(key, rows) of each S3 object the path wrote, in key order."""
    files = sorted(p for p in sinks.rglob("*") if p.is_file())
    return [(path.relative_to(sinks).as_posix(), object_rows(path.read_bytes())) for path in files]


def is_error_key(key: str) -> bool:
    """Whether an object holds error documents (the error prefix puts them under errors/)."""
    return "/errors/" in f"/{key}"


def firehose_records(sinks: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """(curated records, error documents, object keys) from the path's copied S3 objects."""
    curated, errors, keys = [], [], []
    for key, rows in firehose_objects(sinks):
        keys.append(key)
        (errors if is_error_key(key) else curated).extend(rows)
    return curated, errors, keys


def account_records(
    rows: list[dict[str, Any]],
    statuses: list[str],
    curated: list[dict[str, Any]],
    errors: list[dict[str, Any]],
    dropped_at: set[tuple[str, str, int]] | None,
    dropped_reported: int = 0,
) -> dict[str, int]:
    """Each produced record traced to where Firehose put it: an error document (matched by its bytes), a
    curated line (by event id), or dropped by design. A drop is matched by the record's shard and sequence
    number when the simulator's timelines say which records it dropped (`dropped_at`); on AWS, where a
    dropped record leaves nothing in S3, by the function's own count of the records it dropped
    (`dropped_reported`, its RecordsDropped metric). `extra_copies` are curated lines no produced record
    explains: copies the stream itself held twice (a producer retrying a put whose answer was lost)."""
    lines = Counter(r["event_id"] for r in curated)
    raw = Counter(base64.b64decode(d["rawData"]) for d in errors)
    inside = inside_aggregates(raw)
    drops_left = dropped_reported
    unaccounted = 0
    for row, status in zip(rows, statuses, strict=True):
        if inside[row["data"]] > 0:
            inside[row["data"]] -= 1
        elif raw[row["data"]] > 0:
            raw[row["data"]] -= 1
        elif status == c.OK and lines[row.get("event_id")] > 0:
            lines[row["event_id"]] -= 1
        elif status == c.DROPPED and dropped_at is not None and position(row) in dropped_at:
            continue
        elif status == c.DROPPED and dropped_at is None and drops_left > 0:
            drops_left -= 1
        else:
            unaccounted += 1
    return {"unaccounted": unaccounted, "extra_copies": sum(lines.values())}


def lambda_failure_reasons(log: Path) -> list[str]:
    """Reason codes the transformation logged for its ProcessingFailed records (Powertools JSON lines)."""
    reasons: list[str] = []
    if not log.exists():
        return reasons
    for line in log.read_text().splitlines():
        if '"records failed the contract"' not in line:
            continue
        entry = json.loads(line)
        reasons.extend(failure["reason"] for failure in entry.get("failed", []))
    return reasons


def _json_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def _from_timelines(data: RunData, timelines: list[dict[str, Any]]) -> dict[str, Any]:
    """Latency and its parts per record, and the Lambda's time, from the simulator's timelines."""
    by_position = data.by_position()
    latency, parts = [], defaultdict(list)
    invocations, dropped_at, lambda_records = set(), set(), 0
    for timeline in timelines:
        if timeline.get("invoke_start_ms") is not None:
            lambda_records += 1
            invocations.add((timeline["invoke_start_ms"], timeline["invoke_end_ms"]))
        if timeline.get("result") == "Dropped":
            dropped_at.add(position(timeline))
        row = by_position.get(position(timeline))
        if row is None or timeline.get("written_ms") is None or timeline.get("result") != "Ok":
            continue
        if row.get("kind") == "tick":
            continue
        sent = row["sent_at_ms"]
        latency.append((timeline["written_ms"] - sent) / 1000)
        parts["kinesis_put"].append((timeline["arrival_ms"] - sent) / 1000)
        parts["firehose_poll"].append((timeline["read_ms"] - timeline["arrival_ms"]) / 1000)
        parts["processor_buffer"].append((timeline["invoke_start_ms"] - timeline["read_ms"]) / 1000)
        parts["lambda"].append((timeline["invoke_end_ms"] - timeline["invoke_start_ms"]) / 1000)
        parts["delivery_buffer_and_put"].append((timeline["written_ms"] - timeline["invoke_end_ms"]) / 1000)
    lambda_ms = sum(end - start for start, end in invocations)
    return {
        "latency": latency,
        "parts": parts,
        "invocations": len(invocations),
        "dropped_at": dropped_at,
        "lambda_ms_per_record": lambda_ms / max(1, lambda_records),
    }


def _from_objects(data: RunData, objects: list[tuple[str, list[dict[str, Any]]]], metrics: dict) -> dict[str, Any]:
    """Latency per curated record from its object's LastModified, on AWS. LastModified has whole seconds, so
    a record counts as visible at the end of that second: an upper bound, at most 1 s over."""
    visible = {o["key"]: o["last_modified_ms"] for o in _json_lines(data.out / "timings" / "firehose_objects.jsonl")}
    sent: dict[str, int] = {}
    for row in data.rows:
        sent.setdefault(row.get("event_id"), row["sent_at_ms"])
    latency = [
        (visible[key] + LAST_MODIFIED_RESOLUTION_MS - sent[record["event_id"]]) / 1000
        for key, rows in objects
        if not is_error_key(key) and key in visible
        for record in rows
        if record.get("event_id") in sent and record.get("event_id") not in data.ticks
    ]
    values = {m["name"]: m["value"] for m in metrics.get("metrics", [])}
    processed = sum(values.get(f"Records{r}", 0) for r in ("Ok", "Dropped", "ProcessingFailed"))
    duration_sum = values.get("Lambda Duration (Sum)")
    return {
        "latency": latency,
        "parts": {},
        "invocations": int(values.get("Lambda Invocations (Sum)", 0)),
        "dropped_at": None,
        "lambda_ms_per_record": duration_sum / processed if duration_sum and processed else 0.0,
    }


def account(data: RunData) -> PathReport:
    """The path's counts, latency and capability results from the run folder."""
    sinks = data.out / "sinks" / "firehose_lambda"
    objects = firehose_objects(sinks)
    curated = [r for key, rows in objects if not is_error_key(key) for r in rows]
    errors = [r for key, rows in objects if is_error_key(key) for r in rows]
    timelines_file = data.out / "timings" / "firehose.jsonl"
    metrics = json.loads(p.read_text()) if (p := data.out / "timings" / "firehose_metrics.json").exists() else {}
    if timelines_file.exists():
        seen = _from_timelines(data, _json_lines(timelines_file))
        stats = json.loads((data.out / "timings" / "firehose_stats.json").read_text())
        dropped, source = stats["dropped"], HARNESS
    else:
        seen = _from_objects(data, objects, metrics)
        dropped = int(next((m["value"] for m in metrics.get("metrics", []) if m["name"] == "RecordsDropped"), 0))
        source = f"{HARNESS}: send to the end of the object's LastModified second (at most 1 s over); drops {SERVICE}"
    failed = [d for d in errors if d.get("errorCode") == PROCESSING_FAILED]
    counts = {
        "delivered": len(curated),
        "processing_failed": len(failed),
        "invocation_failed": len(errors) - len(failed),
        "dropped": dropped,
        "quarantined": 0,
        "late": 0,
        "duplicates_delivered": duplicates(r["event_id"] for r in curated),
    }
    counts.update(account_records(data.rows, data.statuses, curated, errors, seen["dropped_at"], dropped))
    expected = data.expected
    failed_truth = Counter(reason for _, reason in expected.failed)
    cleansing = sum((Counter(lambda_failure_reasons(data.out / "logs" / "lambda.log")) & failed_truth).values())
    enriched = enrichment_matches(curated, expected, c.ENRICHED_FIELD_NAMES)
    not_on_time = data.ticks | data.late_ids
    on_time = (r for r in expected.curated.values() if r["event_id"] not in not_on_time)
    windows = truth.device_windows(on_time, truth.interval_ms(data.run["settings"]["glue"]["aggregate_window"]))
    pairs = truth.maintenance_join(
        expected.curated.values(), truth.interval_ms(data.run["settings"]["glue"]["join_bound"])
    )
    copies = sum(n - 1 for n in expected.copies.values())
    capabilities = {
        "cleansing": capability(True, cleansing, len(expected.failed), "ProcessingFailed, reason logged"),
        "enrichment": capability(True, enriched[0], enriched[1], "in-memory lookup in the Lambda"),
        "dedup": capability(
            False, None, copies, f"no state across invocations: {counts['duplicates_delivered']} duplicates delivered"
        ),
        "windowed_aggregates": capability(False, None, len(windows), "records are transformed one to one"),
        "late_events": capability(
            False, None, len(data.late_ids & set(expected.curated)), "no event-time notion: late events pass"
        ),
        "stream_join": capability(False, None, len(pairs), "one source, no state"),
    }
    firehose = data.run["settings"]["firehose"]
    section = {
        "counts": counts,
        "latency_s": percentiles(seen["latency"]),
        "latency_source": source,
        "latency_parts_s": {k: percentiles(v) for k, v in seen["parts"].items()},
        "objects": len(objects),
        "invocations": seen["invocations"],
        "startup_s": None,
    }
    if metrics:
        section["service_metrics"] = metrics["metrics"]
        if metrics.get("unavailable"):
            section["service_metrics_unavailable"] = metrics["unavailable"]
    return PathReport(
        section=section,
        latency_samples=sorted(seen["latency"]),
        capabilities=capabilities,
        cost_inputs={
            "lambda_ms_per_record": seen["lambda_ms_per_record"],
            "lambda_memory_mb": int(firehose["lambda_memory_mb"]),
            **{knob.name: float(firehose[knob.name]) for knob in KNOBS},
        },
        measured_inputs={"lambda_ms_per_record": seen["lambda_ms_per_record"]},
    )


PATH = PathSpec(
    name="firehose_lambda",
    title="Firehose + Lambda",
    short="firehose",
    settings_key="firehose",
    knobs=KNOBS,
    settings=settings,
    backends={
        "local": "comparison.local.firehose_backend:FirehoseLocal",
        "aws": "comparison.aws.firehose_backend:FirehoseAws",
    },
    account=account,
)
