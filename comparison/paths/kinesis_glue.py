"""Path B, Kinesis + Glue streaming: the job (`glue_streaming/`) reads the stream in micro-batches.

Locally the job's own entry runs on local Spark in a child process (`comparison/local/glue_process.py`); on
AWS a run of the deployed job does. Either way the sink is the job's output root (its layout in
`glue_streaming.layout`), copied into `sinks/kinesis_glue/`, and each committed micro-batch's manifest
(trigger and commit times, counts, the watermark that judged lateness) is what the report measures with.
"""

from __future__ import annotations

import base64
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from comparison import cost, truth
from comparison.glue_outputs import manifests, read_outputs, triggered_ms
from comparison.local.glue_runner import GlueJobSettings
from comparison.local.template import Template
from comparison.paths.base import (
    HARNESS,
    Knob,
    PathReport,
    PathSpec,
    RunData,
    capability,
    duplicates,
    enrichment_matches,
    inside_aggregates,
    percentiles,
)
from shared import contract as c

KNOBS = (Knob("window_size", "GlueWindowSizeSeconds", int, "Glue micro-batch window (trigger), seconds"),)
BENCH_RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results.json"
BACKLOG_VARIANT = "full pipeline draining a backlog"


def settings(template: Template) -> GlueJobSettings:
    """The job's arguments for a template's parameters."""
    return GlueJobSettings.from_template(template)


def settings_section(glue: GlueJobSettings) -> dict[str, Any]:
    """The run description's record of the job's settings."""
    return {**glue.__dict__, "trigger_s": glue.trigger_seconds()}


def glue_worker_rate(records: int, busy_s: float) -> tuple[float, str]:
    """Events/s one Glue worker sustains, with where the figure comes from.

    A G.025X worker has 2 vCPUs, like this machine, so the local runner's rate stands for one worker.
    The benchmark's backlog drain measures it at full load; a comparison run at a low rate only gives a
    lower bound (each micro-batch has a fixed cost), used when no benchmark result is at hand.
    """
    if BENCH_RESULTS.exists():
        payload = json.loads(BENCH_RESULTS.read_text())
        for row in payload.get("rows", []):
            if row.get("variant") == BACKLOG_VARIANT:
                # A row carried over from an earlier bench run keeps that run's date.
                measured_at = row.get("extra", {}).get("measured_at") or payload["measured_at"]
                return float(row["rate"]), f"make bench, {measured_at}: {BACKLOG_VARIANT}"
    rate = records / busy_s if busy_s > 0 else 1.0
    return rate, "this run's micro-batches (a lower bound: the run was not at full load)"


def account_records(
    rows: list[dict[str, Any]], statuses: list[str], outputs: dict[str, list[dict]], records_read: int
) -> tuple[int, int]:
    """(unaccounted, duplicates removed): each produced record traced to the Glue job's outputs. A refused
    one in quarantine (by its bytes), a heartbeat in dropped, a valid one curated or late (by event id, one
    output row per copy); a further valid copy of a curated event counts as removed only while the job's own
    tally allows: records its committed micro-batches read that no output holds (a record the job never
    read is not removed, it is unaccounted)."""
    quarantined = Counter(base64.b64decode(r["data_base64"]) for r in outputs["quarantine"])
    inside = inside_aggregates(quarantined)
    dropped = Counter(r["event_id"] for r in outputs["dropped"])
    kept = Counter(r["event_id"] for r in outputs["curated"]) + Counter(r["event_id"] for r in outputs["late"])
    kept_ids = set(kept)
    removed = records_read - sum(len(outputs[name]) for name in ("curated", "late", "quarantine", "dropped"))
    unmatched_removals = removed
    unaccounted = 0
    for row, status in zip(rows, statuses, strict=True):
        event_id = row.get("event_id")
        if inside[row["data"]] > 0:
            inside[row["data"]] -= 1
        elif status == c.FAILED and quarantined[row["data"]] > 0:
            quarantined[row["data"]] -= 1
        elif status == c.DROPPED and dropped[event_id] > 0:
            dropped[event_id] -= 1
        elif status == c.OK and kept[event_id] > 0:
            kept[event_id] -= 1
        elif status == c.OK and event_id in kept_ids and unmatched_removals > 0:
            unmatched_removals -= 1
        else:
            unaccounted += 1
    return unaccounted, removed


def _latency(data: RunData, outputs: dict[str, list[dict]], batches: dict[int, dict]) -> tuple[list, dict]:
    # The Glue job's records name shard and sequence number only (when its source gives them): a match
    # by those two is certain only for a record sent alone, not inside a KPL aggregate.
    alone = {(r["shard_id"], r["sequence_number"]): r for r in data.rows if r.get("subsequence_number") is None}
    latency, parts = [], defaultdict(list)
    for record in outputs["curated"]:
        if record["event_id"] in data.ticks:
            continue
        batch = batches[record["batch_id"]]
        # The copy the job kept, by where it sat in the stream: a re-sent copy was sent later.
        produced = alone.get((record.get("shard_id"), record.get("sequence_number")))
        sent = produced["sent_at_ms"] if produced else record.get("sent_at_ms")
        if sent is None:
            continue
        latency.append((batch["committed_at_ms"] - sent) / 1000)
        parts["kinesis_put"].append((record["arrival_ms"] - sent) / 1000)
        parts["wait_for_micro_batch"].append((triggered_ms(batch) - record["arrival_ms"]) / 1000)
        parts["micro_batch"].append((batch["committed_at_ms"] - triggered_ms(batch)) / 1000)
    return latency, parts


def account(data: RunData) -> PathReport:
    """The path's counts, latency and capability results from the run folder."""
    root = data.out / "sinks" / "kinesis_glue"
    batches = {m["batch_id"]: m for m in manifests(root)}
    outputs = read_outputs(root, set(batches))
    latency, parts = _latency(data, outputs, batches)
    counts = {
        "delivered": len(outputs["curated"]),
        "processing_failed": 0,
        "invocation_failed": 0,
        "dropped": len(outputs["dropped"]),
        "quarantined": len(outputs["quarantine"]),
        "late": len(outputs["late"]),
        "duplicates_delivered": duplicates(r["event_id"] for r in outputs["curated"]),
    }
    records_read = sum(m["counts"]["records"] for m in batches.values())
    counts["unaccounted"], counts["duplicates_removed"] = account_records(
        data.rows, data.statuses, outputs, records_read
    )
    # The warm-up's micro-batches (the first compiles the job's code) committed before the workload was sent.
    steady = [m for m in batches.values() if m["committed_at_ms"] >= data.workload_started_ms]
    durations = [(m["committed_at_ms"] - triggered_ms(m)) / 1000 for m in steady]
    expected, glue = data.expected, data.run["settings"]["glue"]
    # Lateness is relative to the watermark when the event arrived: an event is rightly late if its event
    # time is at or below its batch's watermark, rightly curated if above. Rightly late events belong to
    # no window; the watermark tick's own window is never meant to close.
    judged = {name: {r["event_id"]: r for r in outputs[name]} for name in ("late", "curated")}
    rightly_late = {
        e for e, r in judged["late"].items() if r["event_time_ms"] <= batches[r["batch_id"]]["late_watermark_ms"]
    }
    rightly_curated = {
        e for e, r in judged["curated"].items() if r["event_time_ms"] > batches[r["batch_id"]]["late_watermark_ms"]
    }
    unwindowed = data.ticks | rightly_late
    windowed = (r for r in expected.curated.values() if r["event_id"] not in unwindowed)
    windows = truth.device_windows(windowed, truth.interval_ms(glue["aggregate_window"]))
    got_windows = {(r["window_start_ms"], r["device_id"]): r for r in outputs["device_windows"]}
    closed = {k: v for k, v in windows.items() if k in got_windows}
    fields = ("readings", "temperature_min", "temperature_max", "alerts")
    window_matches = sum(1 for k, want in closed.items() if all(got_windows[k][n] == want[n] for n in fields))
    pairs = truth.maintenance_join(expected.curated.values(), truth.interval_ms(glue["join_bound"]))
    got_pairs = {(r["maintenance_event_id"], r["event_id"]) for r in outputs["maintenance_join"]}
    failed_truth = Counter(reason for _, reason in expected.failed)
    cleansing = sum((Counter(r["reason"] for r in outputs["quarantine"]) & failed_truth).values())
    enriched = enrichment_matches(outputs["curated"], expected, c.ENRICHED_FIELD_NAMES)
    copies = sum(n - 1 for n in expected.copies.values())
    late_ids = data.late_ids & set(expected.curated)
    capabilities = {
        "cleansing": capability(True, cleansing, len(expected.failed), "quarantine output with reasons"),
        "enrichment": capability(True, enriched[0], enriched[1], "the Lambda's registry lookup, in the contract's UDF"),
        "dedup": capability(True, copies - counts["duplicates_delivered"], copies, "dropDuplicates"),
        "windowed_aggregates": capability(
            True, window_matches, len(closed), f"{len(closed)} of {len(windows)} windows closed by the end"
        ),
        "late_events": capability(
            True,
            len(late_ids & (rightly_late | rightly_curated)),
            len(late_ids),
            f"{len(rightly_late & late_ids)} flagged late against the watermark, the others arrived before "
            "the watermark passed them and were curated",
        ),
        "stream_join": capability(True, len(got_pairs & pairs), len(pairs), "stream-stream inner join"),
    }
    per_worker, per_worker_source = glue_worker_rate(sum(m["counts"]["records"] for m in steady), sum(durations))
    timings = data.out / "timings" / "glue.json"
    measured = json.loads(timings.read_text()) if timings.exists() else {}
    section = {
        "counts": counts,
        "latency_s": percentiles(latency),
        "latency_source": f"{HARNESS}: send to the micro-batch's commit in its manifest",
        "latency_parts_s": {k: percentiles(v) for k, v in parts.items()},
        "micro_batches": len(steady),
        "micro_batch_s": percentiles(durations),
        "startup_s": measured.get("glue_startup_s"),
    }
    if "metrics" in measured:
        section["service_metrics"] = measured["metrics"]
    if measured.get("metrics_unavailable"):
        section["service_metrics_unavailable"] = measured["metrics_unavailable"]
    return PathReport(
        section=section,
        latency_samples=sorted(latency),
        capabilities=capabilities,
        cost_inputs={
            "glue_workers": cost.glue_workers_for(data.events_per_s, per_worker),
            "glue_window_s": float(glue["trigger_s"]),
            "glue_events_per_s_per_worker": per_worker,
        },
        measured_inputs={
            "glue_events_per_s_per_worker": per_worker,
            "glue_events_per_s_per_worker_source": per_worker_source,
        },
    )


PATH = PathSpec(
    name="kinesis_glue",
    title="Kinesis + Glue streaming",
    short="glue",
    settings_key="glue",
    knobs=KNOBS,
    settings=settings,
    backends={"local": "comparison.local.glue_backend:GlueLocal", "aws": "comparison.aws.glue_backend:GlueAws"},
    account=account,
)
