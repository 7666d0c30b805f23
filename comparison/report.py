"""The comparison report (report.json, schema_version 2), computed from a run folder's own files.

Everything here is derived from `DIR/input/` (what was produced), `DIR/sinks/` (what each path
delivered) and `DIR/timings/` (when each record passed each stage): the report's figures can be
recomputed from the folder, and a test does so. Each path's part comes from its module under
`comparison/paths/`; this module assembles them with the ground truth and the cost model.
Version 2: the run's mode (local or aws, with region and stack), a latency source per path, the
services' own metrics on AWS, and the Firehose knobs named as the CLI and cost model name them.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path
from typing import Any

from comparison import cost, sweep, truth
from comparison.inputs import read_rows
from comparison.paths import PATHS
from comparison.paths.base import CAPABILITIES, RunData
from comparison.schema import REPORT_SCHEMA_VERSION
from shared.enrichment import Registry


def build_report(out: Path, run: dict[str, Any]) -> dict[str, Any]:
    """The report of the run in `out` (its input, sinks, timings and logs); `run` describes the run."""
    rows = read_rows(out / "input" / "events.jsonl")
    registry = Registry.from_json_lines((out / "input" / "devices.jsonl").read_bytes())
    events_per_s = len(rows) / max(run["production_s"], 1e-9)
    data = RunData(out=out, run=run, rows=rows, expected=truth.build(rows, registry), events_per_s=events_per_s)
    parts = {path.name: path.account(data) for path in PATHS}

    record_bytes = max(1, round(sum(len(r["data"]) for r in rows) / max(1, len(rows))))
    kinesis_records = len({(r.get("shard_id"), r.get("sequence_number")) for r in rows}) or 1
    records_per_kinesis_record = max(1.0, len(rows) / kinesis_records)
    inputs: dict[str, Any] = {}
    for part in parts.values():
        inputs.update(part.cost_inputs)
    known = {f.name for f in dataclasses.fields(cost.Workload)}
    workload = cost.Workload(
        events_per_s=events_per_s,
        record_size_bytes=record_bytes,
        records_per_kinesis_record=records_per_kinesis_record,
        **{k: v for k, v in inputs.items() if k in known},
    )
    # The sweep recomputes the Glue workers at each rate from the measured per-worker throughput.
    per_worker = inputs["glue_events_per_s_per_worker"]
    model = sweep.cost_report(workload, per_worker, region=run.get("region") or "us-east-1").to_dict()
    measured_inputs = {
        "events_per_s": events_per_s,
        "record_bytes": record_bytes,
        "records_per_kinesis_record": records_per_kinesis_record,
    }
    for part in parts.values():
        measured_inputs.update(part.measured_inputs)
    cost_section = {
        "region": model["region"],
        "pricing_date": model["pricing_date"],
        "pricing_source": model["pricing_source"],
        "measured_inputs": measured_inputs,
        "monthly_usd": {
            name: {
                "total": model["paths"][name]["usd_per_month"],
                "breakdown": {line["service"]: line["usd_per_month"] for line in model["paths"][name]["lines"]},
            }
            for name in parts
        },
        "crossovers": [
            {"record_bytes": x["record_size_bytes"], "events_per_s": x["events_per_s"]} for x in model["crossovers"]
        ],
        "model": model,
    }
    report = {
        "schema_version": REPORT_SCHEMA_VERSION,
        "run": {**run, "produced": {"total": len(rows), "by_kind": _kinds(rows)}},
        "paths": {name: part.section for name, part in parts.items()},
        "capabilities": [
            {"name": name, "title": title, **{path: part.capabilities[name] for path, part in parts.items()}}
            for name, title in CAPABILITIES
        ],
        "cost": cost_section,
        "latency_samples_s": {name: part.latency_samples for name, part in parts.items()},
    }
    from comparison.study.claims import check_claims

    report["claims"] = check_claims(report)
    return report


def _kinds(rows: list[dict[str, Any]]) -> dict[str, int]:
    kinds: Counter = Counter()
    for row in rows:
        kinds[row.get("kind", "unknown")] += 1
        if row.get("duplicate_of") is not None:
            kinds["duplicate"] += 1
        if row.get("late"):
            kinds["late"] += 1
        if row.get("unknown_device"):
            kinds["unknown_device"] += 1
    return dict(sorted(kinds.items()))
