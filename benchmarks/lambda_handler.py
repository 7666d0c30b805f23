"""The Firehose Lambda: records per second on full processor buffers (1 MB and 3 MB of raw records).

Side by side, on the same batch:
- blueprint-style (stdlib): base64, json.loads, the same contract and enrichment, json.dumps, base64,
  as AWS's Firehose processing blueprints are written;
- bare floor (orjson): decode, parse, serialise, encode each record, with no transform at all;
- handler core: `transform_event` (contract, enrichment, the 6 MB guard), no observability;
- handler: `lambda_handler`, with Powertools Logger and Metrics on (Tracer is inert outside Lambda).
Peak memory is the traced allocation peak of one call (tracemalloc), measured apart from the timing.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import orjson

from benchmarks.harness import Row, best_of
from comparison.local.firehose_events import LambdaContext, SourceRecord, transformation_event
from comparison.workload import WorkloadConfig, build_registry, generate, registry_json_lines
from shared import contract as c
from shared.enrichment import Registry
from shared.record import curate_document

START = 1_764_288_000_000


def batch(target_bytes: int, seed: int = 5) -> dict:
    """A Firehose event (Kinesis as source) holding `target_bytes` of raw workload records."""
    config = WorkloadConfig(rate=1000, duration_s=60, seed=seed)
    records, size = [], 0
    for event in generate(config, START):
        data = event.payload(event.scheduled_ms)
        if size + len(data) > target_bytes:
            break
        size += len(data)
        sequence = f"{event.index:056d}"
        records.append(
            SourceRecord(
                record_id=sequence,
                data=data,
                arrival_ms=event.scheduled_ms + 200,
                partition_key=event.partition_key,
                sequence_number=sequence,
            )
        )
    return transformation_event(records, invocation_id="bench")


def blueprint(event: dict, registry: Registry) -> dict:
    """The same transform written as Firehose's processing blueprints are: standard library only."""
    out = []
    for record in event["records"]:
        arrival = record["kinesisRecordMetadata"]["approximateArrivalTimestamp"]
        try:
            doc = json.loads(base64.b64decode(record["data"]).decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            doc = None
        outcome = curate_document(doc, arrival) if isinstance(doc, dict) else None
        if outcome is not None and outcome.status == c.OK:
            line = json.dumps(registry.enrich(outcome.record)) + "\n"
            out.append(
                {"recordId": record["recordId"], "result": "Ok", "data": base64.b64encode(line.encode()).decode()}
            )
        else:
            result = "Dropped" if outcome is not None and outcome.status == c.DROPPED else "ProcessingFailed"
            out.append({"recordId": record["recordId"], "result": result, "data": record["data"]})
    return {"records": out}


def floor(event: dict) -> dict:
    """The least a transformation can do: decode, parse, serialise, encode, with orjson."""
    a2b, b2a, loads, dumps = base64.b64decode, base64.b64encode, orjson.loads, orjson.dumps
    out = []
    for record in event["records"]:
        try:
            data = b2a(dumps(loads(a2b(record["data"]))) + b"\n").decode()
        except orjson.JSONDecodeError:
            data = record["data"]
        out.append({"recordId": record["recordId"], "result": "Ok", "data": data})
    return {"records": out}


def _peak_bytes(call: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def rows(registry_path: Path) -> list[Row]:
    """Records per second of each variant on a 1 MB and a 3 MB batch."""
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "firehose-transform")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "EtlShowdown")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    registry_path.write_bytes(registry_json_lines(build_registry(WorkloadConfig(seed=5))))
    os.environ["DEVICE_REGISTRY"] = str(registry_path)
    from firehose_transform import app

    registry = app.REGISTRY.get()
    results = []
    for label, size in (("1 MB", 1_000_000), ("3 MB", 3_000_000)):
        event = batch(size)
        count = len(event["records"])
        variants: dict[str, Callable[[], object]] = {
            "blueprint-style (stdlib)": lambda event=event: blueprint(event, registry),
            "bare floor (orjson, no transform)": lambda event=event: floor(event),
            "handler core (no observability)": lambda event=event: app.transform_event(event, registry),
            "handler (Powertools on)": lambda event=event: app.lambda_handler(event, LambdaContext()),
        }
        for name, call in variants.items():
            with contextlib.redirect_stdout(io.StringIO()):
                call()
                seconds = best_of(5, call)
                peak = _peak_bytes(call)
            baseline = None if name.startswith("blueprint") else "blueprint-style (stdlib)"
            extra = {"peak_mib": round(peak / 2**20, 1), "batch": label}
            results.append(Row(f"lambda {label} batch", name, count, seconds, baseline=baseline, extra=extra))
    return results


def ratios_to(rows_: list[Row], target: str) -> dict[str, float]:
    """The handler's rate against `target` in each batch (for the notes)."""
    out = {}
    for bench in sorted({r.bench for r in rows_ if r.bench.startswith("lambda")}):
        by_variant = {r.variant: r.rate for r in rows_ if r.bench == bench}
        out[bench] = by_variant["handler (Powertools on)"] / by_variant[target]
    return out
