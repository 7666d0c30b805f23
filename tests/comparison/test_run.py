"""A shortened local comparison, end to end through the real command, checked against its own files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from comparison.glue_outputs import read_outputs
from comparison.inputs import read_rows
from comparison.report import firehose_records

pytestmark = [pytest.mark.slow, pytest.mark.spark]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    command = [sys.executable, "-m", "comparison", "run", "--profile", "quick", "--duration", "15", "--rate", "100"]
    result = subprocess.run(
        [*command, "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600, env={**os.environ}
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out, json.loads((out / "report.json").read_text()), result.stdout


def test_every_produced_record_is_accounted_for_in_both_paths(run):
    out, report, _ = run
    produced = len(read_rows(out / "input" / "events.jsonl"))
    assert report["run"]["produced"]["total"] == produced
    for path in ("firehose_lambda", "kinesis_glue"):
        assert report["paths"][path]["counts"]["unaccounted"] == 0, path
        assert report["paths"][path]["counts"]["delivered"] > 0, path
    # Without faults, every invocation of the function succeeds (its environment is the template's).
    assert report["paths"]["firehose_lambda"]["counts"]["invocation_failed"] == 0


def test_counts_match_the_sink_objects(run):
    out, report, _ = run
    curated, errors, _ = firehose_records(out / "sinks" / "firehose_lambda")
    firehose = report["paths"]["firehose_lambda"]["counts"]
    assert firehose["delivered"] == len(curated)
    assert firehose["processing_failed"] + firehose["invocation_failed"] == len(errors)
    glue = read_outputs(out / "sinks" / "kinesis_glue")
    counts = report["paths"]["kinesis_glue"]["counts"]
    assert (counts["delivered"], counts["quarantined"], counts["late"]) == (
        len(glue["curated"]),
        len(glue["quarantine"]),
        len(glue["late"]),
    )


def test_duplicates_pass_firehose_and_not_glue(run):
    out, report, _ = run
    rows = read_rows(out / "input" / "events.jsonl")
    resent = sum(1 for r in rows if r.get("duplicate_of") is not None)
    assert resent > 0
    curated, _, _ = firehose_records(out / "sinks" / "firehose_lambda")
    twice = sum(n - 1 for n in Counter(r["event_id"] for r in curated).values())
    assert report["paths"]["firehose_lambda"]["counts"]["duplicates_delivered"] == twice > 0
    assert report["paths"]["kinesis_glue"]["counts"]["duplicates_delivered"] == 0


def test_latencies_match_the_timestamps(run):
    _, report, _ = run
    for path in ("firehose_lambda", "kinesis_glue"):
        samples = report["latency_samples_s"][path]
        latency = report["paths"][path]["latency_s"]
        assert samples and latency["max"] == max(samples) and latency["p50"] <= latency["p99"] <= latency["max"]
        assert latency["count"] == report["paths"][path]["counts"]["delivered"]
        assert min(samples) > 0


def test_glue_capabilities_match_the_ground_truth(run):
    _, report, _ = run
    for capability in report["capabilities"]:
        glue = capability["kinesis_glue"]
        assert glue["expressible"]
        if glue["expected"]:
            assert glue["fraction"] == 1.0, capability["name"]
    firehose = {c["name"]: c["firehose_lambda"]["expressible"] for c in report["capabilities"]}
    assert firehose == {
        "cleansing": True,
        "enrichment": True,
        "dedup": False,
        "windowed_aggregates": False,
        "late_events": False,
        "stream_join": False,
    }


def test_report_files_and_sections(run):
    out, report, stdout = run
    assert report["schema_version"] == 1
    assert report["cost"]["monthly_usd"]["kinesis_glue"]["total"] > 0
    assert {c["verdict"] for c in report["claims"]} <= {"confirmed", "qualified", "contradicted", "not_measured"}
    markdown = (out / "report.md").read_text()
    for heading in ("## Counts and latency", "## Capabilities", "## Monthly cost", "Where the cheaper path changes"):
        assert heading in markdown
    assert all(c["title"] in markdown for c in report["capabilities"])
    assert (out / "report.html").read_text().count("<svg") == 2
    assert "report:" in stdout


def test_progress_and_memory_are_sampled(run):
    out, report, _ = run
    samples = [json.loads(line) for line in (out / "timings" / "samples.jsonl").read_text().splitlines()]
    assert len(samples) >= 5
    last = samples[-1]["counts"]
    assert last["produced"] == report["run"]["produced"]["total"]
    assert last["firehose_received"] == last["produced"] and last["glue_records"] >= last["produced"]
    peaks = report["run"]["resources"]["peak_rss_mb"]
    # The Glue runner counts with its JVM: far above a bare Python process.
    assert peaks["glue_runner"] > 300 and peaks["kinesalite"] > 10 and peaks["harness"] > 50
    assert "Peak memory" in (out / "report.md").read_text()


@pytest.fixture(scope="module")
def chaos_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("chaos")
    command = [sys.executable, "-m", "comparison", "run", "--chaos", "--duration", "40", "--rate", "100"]
    result = subprocess.run(
        [*command, "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=900, env={**os.environ}
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out, json.loads((out / "report.json").read_text())


def test_chaos_every_record_is_still_accounted_for(chaos_run):
    out, report = chaos_run
    chaos = report["run"]["chaos"]
    assert chaos["glue_restarts"] >= 2
    assert chaos["lambda"]["raised"] > 0 and chaos["lambda"]["timed_out"] > 0
    assert chaos["kinesis_connections_refused"] > 0
    for path in ("firehose_lambda", "kinesis_glue"):
        assert report["paths"][path]["counts"]["unaccounted"] == 0, path
    assert report["paths"]["kinesis_glue"]["counts"]["duplicates_delivered"] == 0
    curated = read_outputs(out / "sinks" / "kinesis_glue")["curated"]
    assert len({r["event_id"] for r in curated}) == len(curated)
    reasons = Counter(r["reason"] for r in read_outputs(out / "sinks" / "kinesis_glue")["quarantine"])
    assert reasons["too_large"] > 0


@pytest.fixture(scope="module")
def locust_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("locust")
    command = [sys.executable, "-m", "comparison", "run", "--driver", "locust", "--users", "3"]
    result = subprocess.run(
        [*command, "--duration", "10", "--rate", "100", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out, json.loads((out / "report.json").read_text())


def test_locust_driver_produces_the_workload_and_every_record_is_accounted_for(locust_run):
    out, report = locust_run
    driver = report["run"]["driver"]
    assert driver["name"] == "locust" and driver["users"] == 3 and driver["complete"]
    rows = read_rows(out / "input" / "events.jsonl")
    # Every scheduled event once (duplicates ride along), plus the harness's watermark tick.
    assert sum(r["kind"] != "tick" and r["duplicate_of"] is None for r in rows) == 100 * 10
    assert driver["requests"] > 0 and driver["records"] == sum(r["kind"] != "tick" for r in rows)
    for path in ("firehose_lambda", "kinesis_glue"):
        assert report["paths"][path]["counts"]["unaccounted"] == 0, path
    assert (out / "load" / "locust_stats.csv").exists()
    assert "locust users" in (out / "report.md").read_text()
