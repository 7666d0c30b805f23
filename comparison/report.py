"""The comparison report (report.json, schema_version 1), computed from a run folder's own files.

Everything here is derived from `DIR/input/` (what was produced), `DIR/sinks/` (what each path
delivered) and `DIR/timings/` (when each record passed each stage): the report's figures can be
recomputed from the folder, and a test does so.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from comparison import cost, kpl, truth
from comparison.glue_outputs import manifests, read_outputs, triggered_ms
from comparison.inputs import read_rows
from shared import contract as c
from shared.enrichment import Registry

SCHEMA_VERSION = 1
PATHS = ("firehose_lambda", "kinesis_glue")
ENRICHED = c.ENRICHED_FIELD_NAMES


def percentiles(values: Iterable[float]) -> dict[str, float | None]:
    """p50, p90, p99 and max (nearest-rank), in the values' unit; None for an empty list."""
    ordered = sorted(values)
    if not ordered:
        return {"p50": None, "p90": None, "p99": None, "max": None, "count": 0}

    def rank(p: float) -> float:
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]

    return {"p50": rank(50), "p90": rank(90), "p99": rank(99), "max": ordered[-1], "count": len(ordered)}


def firehose_records(sinks: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """(curated records, error documents, object keys) from the Firehose path's copied S3 objects."""
    curated, errors, keys = [], [], []
    for path in sorted(p for p in sinks.rglob("*") if p.is_file()):
        key = path.relative_to(sinks).as_posix()
        keys.append(key)
        body = path.read_bytes()
        if body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)
        rows = [json.loads(line) for line in body.splitlines() if line.strip()]
        (errors if "/errors/" in f"/{key}" else curated).extend(rows)
    return curated, errors, keys


def _position(row: dict[str, Any]) -> tuple[Any, Any, int]:
    """Where a record sat in the stream: shard, sequence number, and its place in a KPL aggregate (0 alone)."""
    return row.get("shard_id"), row.get("sequence_number"), row.get("subsequence_number") or 0


def _inside_aggregates(sunk: Counter) -> Counter:
    """The user records of the KPL aggregates in an error or quarantine output, by their bytes: an
    aggregate that reached the contract whole (not unpacked) fails there with every record it carries."""
    inside: Counter = Counter()
    for data, copies in sunk.items():
        if kpl.is_aggregate(data):
            with contextlib.suppress(kpl.KplFormatError):
                for user in kpl.unpack(data):
                    inside[user.data] += copies
    return inside


def _account_firehose(
    rows: list[dict[str, Any]],
    statuses: list[str],
    curated: list[dict[str, Any]],
    errors: list[dict[str, Any]],
    dropped_at: set[tuple[str, str, int]],
) -> dict[str, int]:
    """Each produced record traced to where Firehose put it: an error document (matched by its bytes), a
    curated line (by event id), or dropped by design (by its shard and sequence number, from the
    simulator's timelines). `extra_copies` are curated lines no produced record explains: copies the
    stream itself held twice (a producer retrying a put whose answer was lost)."""
    lines = Counter(r["event_id"] for r in curated)
    raw = Counter(base64.b64decode(d["rawData"]) for d in errors)
    inside = _inside_aggregates(raw)
    unaccounted = 0
    for row, status in zip(rows, statuses, strict=True):
        if inside[row["data"]] > 0:
            inside[row["data"]] -= 1
        elif raw[row["data"]] > 0:
            raw[row["data"]] -= 1
        elif status == c.OK and lines[row.get("event_id")] > 0:
            lines[row["event_id"]] -= 1
        elif status == c.DROPPED and _position(row) in dropped_at:
            continue
        else:
            unaccounted += 1
    return {"unaccounted": unaccounted, "extra_copies": sum(lines.values())}


def _account_glue(
    rows: list[dict[str, Any]], statuses: list[str], outputs: dict[str, list[dict]], records_read: int
) -> tuple[int, int]:
    """(unaccounted, duplicates removed): each produced record traced to the Glue job's outputs. A refused
    one in quarantine (by its bytes), a heartbeat in dropped, a valid one curated or late (by event id, one
    output row per copy); a further valid copy of a curated event counts as removed only while the job's own
    tally allows: records its committed micro-batches read that no output holds (a record the job never
    read is not removed, it is unaccounted)."""
    quarantined = Counter(base64.b64decode(r["data_base64"]) for r in outputs["quarantine"])
    inside = _inside_aggregates(quarantined)
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


def _duplicates(event_ids: Iterable[str]) -> int:
    return sum(n - 1 for n in Counter(event_ids).values() if n > 1)


def _capability(expressible: bool, matched: int | None, expected: int | None, note: str) -> dict[str, Any]:
    fraction = None if matched is None or not expected else matched / expected
    return {"expressible": expressible, "matched": matched, "expected": expected, "fraction": fraction, "note": note}


def _enrichment_matches(records: list[dict[str, Any]], expected: truth.Truth) -> tuple[int, int]:
    matched = total = 0
    for record in records:
        want = expected.curated.get(record.get("event_id"))
        if want is None:
            continue
        total += 1
        matched += all(record.get(name) == want[name] for name in ENRICHED)
    return matched, total


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


def load_timings(out: Path) -> dict[str, Any]:
    """What the run recorded beside the sinks: Firehose record timelines and counters, Glue start-up."""
    timings = out / "timings"
    return {
        "firehose_timelines": [json.loads(line) for line in (timings / "firehose.jsonl").read_text().splitlines()],
        "firehose_stats": json.loads((timings / "firehose_stats.json").read_text()),
        "firehose_failure_reasons": lambda_failure_reasons(out / "logs" / "lambda.log"),
        **json.loads((timings / "glue.json").read_text()),
    }


BENCH_RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results.json"
BACKLOG_VARIANT = "full pipeline draining a backlog"


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


def build_report(out: Path, run: dict[str, Any]) -> dict[str, Any]:
    """The report of the run in `out` (its input, sinks, timings and logs); `run` describes the run."""
    measured = load_timings(out)
    rows = read_rows(out / "input" / "events.jsonl")
    registry = Registry.from_json_lines((out / "input" / "devices.jsonl").read_bytes())
    expected = truth.build(rows, registry)
    statuses = expected.statuses
    by_position = {_position(r): r for r in rows}
    # The Glue job's records name shard and sequence number only (when its source gives them): a match
    # by those two is certain only for a record sent alone, not inside a KPL aggregate.
    alone = {(r["shard_id"], r["sequence_number"]): r for r in rows if r.get("subsequence_number") is None}
    ticks = {r["event_id"] for r in rows if r.get("kind") == "tick"}
    valid_ids = set(expected.curated)
    late_ids = {r["event_id"] for r in rows if r.get("late")}

    # ---- path A -----------------------------------------------------------------------------------------
    curated_a, errors_a, keys_a = firehose_records(out / "sinks" / "firehose_lambda")
    timelines = measured["firehose_timelines"]
    latency_a, parts_a = [], defaultdict(list)
    lambda_records = 0
    invocations = set()
    dropped_at = set()
    for timeline in timelines:
        if timeline.get("invoke_start_ms") is not None:
            lambda_records += 1
            invocations.add((timeline["invoke_start_ms"], timeline["invoke_end_ms"]))
        if timeline.get("result") == "Dropped":
            dropped_at.add(_position(timeline))
        row = by_position.get(_position(timeline))
        if row is None or timeline.get("written_ms") is None or timeline.get("result") != "Ok":
            continue
        sent = row["sent_at_ms"]
        latency_a.append((timeline["written_ms"] - sent) / 1000)
        parts_a["kinesis_put"].append((timeline["arrival_ms"] - sent) / 1000)
        parts_a["firehose_poll"].append((timeline["read_ms"] - timeline["arrival_ms"]) / 1000)
        parts_a["processor_buffer"].append((timeline["invoke_start_ms"] - timeline["read_ms"]) / 1000)
        parts_a["lambda"].append((timeline["invoke_end_ms"] - timeline["invoke_start_ms"]) / 1000)
        parts_a["delivery_buffer_and_put"].append((timeline["written_ms"] - timeline["invoke_end_ms"]) / 1000)
    lambda_ms = sum(end - start for start, end in invocations)
    failed_a = [d for d in errors_a if d.get("errorCode") == "Lambda.ProcessingFailedStatus"]
    invocation_failed_a = [d for d in errors_a if d.get("errorCode") != "Lambda.ProcessingFailedStatus"]
    ids_a = [r["event_id"] for r in curated_a]
    counts_a = {
        "delivered": len(curated_a),
        "processing_failed": len(failed_a),
        "invocation_failed": len(invocation_failed_a),
        "dropped": measured["firehose_stats"]["dropped"],
        "quarantined": 0,
        "late": 0,
        "duplicates_delivered": _duplicates(ids_a),
    }
    counts_a.update(_account_firehose(rows, statuses, curated_a, errors_a, dropped_at))

    # ---- path B -----------------------------------------------------------------------------------------
    glue_root = out / "sinks" / "kinesis_glue"
    batches = {m["batch_id"]: m for m in manifests(glue_root)}
    outputs = read_outputs(glue_root, set(batches))
    latency_b, parts_b = [], defaultdict(list)
    for record in outputs["curated"]:
        batch = batches[record["batch_id"]]
        # The copy the job kept, by where it sat in the stream: a re-sent copy was sent later.
        produced = alone.get((record.get("shard_id"), record.get("sequence_number")))
        sent = produced["sent_at_ms"] if produced else record.get("sent_at_ms")
        if sent is None:
            continue
        latency_b.append((batch["committed_at_ms"] - sent) / 1000)
        parts_b["kinesis_put"].append((record["arrival_ms"] - sent) / 1000)
        parts_b["wait_for_micro_batch"].append((triggered_ms(batch) - record["arrival_ms"]) / 1000)
        parts_b["micro_batch"].append((batch["committed_at_ms"] - triggered_ms(batch)) / 1000)
    ids_b = [r["event_id"] for r in outputs["curated"]]
    counts_b = {
        "delivered": len(outputs["curated"]),
        "processing_failed": 0,
        "invocation_failed": 0,
        "dropped": len(outputs["dropped"]),
        "quarantined": len(outputs["quarantine"]),
        "late": len(outputs["late"]),
        "duplicates_delivered": _duplicates(ids_b),
    }
    records_processed = sum(m["counts"]["records"] for m in batches.values())
    counts_b["unaccounted"], counts_b["duplicates_removed"] = _account_glue(rows, statuses, outputs, records_processed)
    duplicates_removed = sum(n - 1 for n in expected.copies.values())
    durations = [(m["committed_at_ms"] - triggered_ms(m)) / 1000 for m in batches.values()]

    # ---- capabilities against the ground truth -----------------------------------------------------------
    window_ms = truth.interval_ms(run["settings"]["glue"]["aggregate_window"])
    # Lateness is relative to the watermark when the event arrived: an event is rightly late if its event
    # time is at or below its batch's watermark, rightly curated if above. Rightly late events belong to
    # no window; the watermark tick's own window is never meant to close.
    rightly_late = {
        r["event_id"] for r in outputs["late"] if r["event_time_ms"] <= batches[r["batch_id"]]["late_watermark_ms"]
    }
    rightly_curated = {
        r["event_id"] for r in outputs["curated"] if r["event_time_ms"] > batches[r["batch_id"]]["late_watermark_ms"]
    }
    windowed = (r for r in expected.curated.values() if r["event_id"] not in ticks | rightly_late)
    windows = truth.device_windows(windowed, window_ms)
    got_windows = {(r["window_start_ms"], r["device_id"]): r for r in outputs["device_windows"]}
    closed = {k: v for k, v in windows.items() if k in got_windows}
    window_matches = sum(
        1
        for key, want in closed.items()
        if all(got_windows[key][n] == want[n] for n in ("readings", "temperature_min", "temperature_max", "alerts"))
    )
    pairs = truth.maintenance_join(expected.curated.values(), truth.interval_ms(run["settings"]["glue"]["join_bound"]))
    got_pairs = {(r["maintenance_event_id"], r["event_id"]) for r in outputs["maintenance_join"]}
    enrich_a = _enrichment_matches(curated_a, expected)
    enrich_b = _enrichment_matches(outputs["curated"], expected)
    failed_truth = Counter(reason for _, reason in expected.failed)
    cleansing_a = sum((Counter(measured["firehose_failure_reasons"]) & failed_truth).values())
    cleansing_b = sum((Counter(r["reason"] for r in outputs["quarantine"]) & failed_truth).values())
    late_expected = len(late_ids & valid_ids)
    capabilities = [
        {
            "name": "cleansing",
            "title": "Per-record validation with reason codes",
            "firehose_lambda": _capability(True, cleansing_a, len(expected.failed), "ProcessingFailed, reason logged"),
            "kinesis_glue": _capability(True, cleansing_b, len(expected.failed), "quarantine output with reasons"),
        },
        {
            "name": "enrichment",
            "title": "Enrichment with the device registry",
            "firehose_lambda": _capability(True, enrich_a[0], enrich_a[1], "in-memory lookup in the Lambda"),
            "kinesis_glue": _capability(True, enrich_b[0], enrich_b[1], "broadcast stream-static join"),
        },
        {
            "name": "dedup",
            "title": "De-duplication of re-sent events",
            "firehose_lambda": _capability(
                False,
                None,
                duplicates_removed,
                f"no state across invocations: {counts_a['duplicates_delivered']} duplicates delivered",
            ),
            "kinesis_glue": _capability(
                True, duplicates_removed - counts_b["duplicates_delivered"], duplicates_removed, "dropDuplicates"
            ),
        },
        {
            "name": "windowed_aggregates",
            "title": "Tumbling-window aggregates per device and site",
            "firehose_lambda": _capability(False, None, len(windows), "records are transformed one to one"),
            "kinesis_glue": _capability(
                True, window_matches, len(closed), f"{len(closed)} of {len(windows)} windows closed by the end"
            ),
        },
        {
            "name": "late_events",
            "title": "Late events detected against a watermark",
            "firehose_lambda": _capability(False, None, late_expected, "no event-time notion: late events pass"),
            "kinesis_glue": _capability(
                True,
                len(late_ids & valid_ids & (rightly_late | rightly_curated)),
                late_expected,
                f"{len(rightly_late & late_ids)} flagged late against the watermark, the others arrived before "
                "the watermark passed them and were curated",
            ),
        },
        {
            "name": "stream_join",
            "title": "Telemetry joined with maintenance events (stream-stream)",
            "firehose_lambda": _capability(False, None, len(pairs), "one source, no state"),
            "kinesis_glue": _capability(True, len(got_pairs & pairs), len(pairs), "stream-stream inner join"),
        },
    ]

    # ---- cost -------------------------------------------------------------------------------------------
    produced_s = max(run["production_s"], 1e-9)
    events_per_s = len(rows) / produced_s
    record_bytes = max(1, round(sum(len(r["data"]) for r in rows) / max(1, len(rows))))
    per_worker, per_worker_source = glue_worker_rate(records_processed, sum(durations))
    firehose = run["settings"]["firehose"]
    kinesis_records = len({(r.get("shard_id"), r.get("sequence_number")) for r in rows}) or 1
    records_per_kinesis_record = max(1.0, len(rows) / kinesis_records)
    workload = cost.Workload(
        events_per_s=events_per_s,
        record_size_bytes=record_bytes,
        lambda_ms_per_record=lambda_ms / max(1, lambda_records),
        lambda_memory_mb=int(firehose["memory_mb"]),
        processor_buffer_mb=float(firehose["processor_buffer_mb"]),
        processor_interval_s=float(firehose["processor_interval_s"]),
        delivery_buffer_mb=float(firehose["buffer_mb"]),
        delivery_interval_s=float(firehose["buffer_interval_s"]),
        glue_workers=cost.glue_workers_for(events_per_s, per_worker),
        glue_window_s=float(run["settings"]["glue"]["trigger_s"]),
        records_per_kinesis_record=records_per_kinesis_record,
    )
    model = cost.cost_report(workload, per_worker).to_dict()
    cost_section = {
        "region": model["region"],
        "pricing_date": model["pricing_date"],
        "pricing_source": model["pricing_source"],
        "measured_inputs": {
            "events_per_s": events_per_s,
            "record_bytes": record_bytes,
            "lambda_ms_per_record": workload.lambda_ms_per_record,
            "records_per_kinesis_record": records_per_kinesis_record,
            "glue_events_per_s_per_worker": per_worker,
            "glue_events_per_s_per_worker_source": per_worker_source,
        },
        "monthly_usd": {
            name: {
                "total": model["paths"][name]["usd_per_month"],
                "breakdown": {line["service"]: line["usd_per_month"] for line in model["paths"][name]["lines"]},
            }
            for name in PATHS
        },
        "crossovers": [
            {"record_bytes": x["record_size_bytes"], "events_per_s": x["events_per_s"]} for x in model["crossovers"]
        ],
        "model": model,
    }

    report = {
        "schema_version": SCHEMA_VERSION,
        "run": {**run, "produced": {"total": len(rows), "by_kind": _kinds(rows)}},
        "paths": {
            "firehose_lambda": {
                "counts": counts_a,
                "latency_s": percentiles(latency_a),
                "latency_parts_s": {k: percentiles(v) for k, v in parts_a.items()},
                "objects": len(keys_a),
                "invocations": len(invocations),
                "startup_s": None,
            },
            "kinesis_glue": {
                "counts": counts_b,
                "latency_s": percentiles(latency_b),
                "latency_parts_s": {k: percentiles(v) for k, v in parts_b.items()},
                "micro_batches": len(batches),
                "micro_batch_s": percentiles(durations),
                "startup_s": measured.get("glue_startup_s"),
            },
        },
        "capabilities": capabilities,
        "cost": cost_section,
        "latency_samples_s": {"firehose_lambda": sorted(latency_a), "kinesis_glue": sorted(latency_b)},
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
