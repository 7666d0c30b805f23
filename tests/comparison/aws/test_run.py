"""`python -m comparison run --mode aws` against a local cloud playing a deployed stack (no account).

The cloud (`comparison.local.cloud`) is kinesalite, a moto server (S3, CloudFormation, CloudWatch, Logs) and
a local Glue API whose job runs are the job's own entry on local Spark; the harness reaches it only through
the standard AWS_ENDPOINT_URL_<SERVICE> settings, as it would reach AWS.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from comparison.local.cloud import LocalCloud, outputs
from comparison.run import profiles
from comparison.workload import WorkloadConfig
from tests.comparison.conftest import DURATION, RATE

pytestmark = [pytest.mark.slow, pytest.mark.spark]
ROOT = Path(__file__).resolve().parents[3]
STACK = "etl-showdown"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    config = WorkloadConfig(rate=float(RATE), duration_s=float(DURATION))
    with LocalCloud(tmp_path_factory.mktemp("cloud"), profiles()["quick"].parameters, config) as running:
        yield running


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "comparison", "run", "--mode", "aws", "--rate", RATE, "--duration", DURATION, *args]


def harness(cloud: LocalCloud, *args: str, env: dict[str, str] | None = None, timeout: float = 900):
    """Run the harness in AWS mode with only the cloud's AWS settings (none of the caller's)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return subprocess.run(
        command(*args),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**base, **cloud.env(), **(env or {}), "COLUMNS": "200"},
    )


def nothing_running(cloud: LocalCloud) -> bool:
    return all(run.state in ("STOPPED", "FAILED") for run in cloud.glue.runs.values())


def failed_with(result, *phrases: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    text = " ".join(result.stdout.split())
    for phrase in phrases:
        assert phrase in text, text


def test_an_unknown_stack_is_named(cloud, tmp_path):
    result = harness(cloud, "--stack", "no-such-stack", "--yes", "--out", str(tmp_path))
    failed_with(result, "no stack named 'no-such-stack' in us-east-1")
    assert not cloud.glue.runs


def test_missing_outputs_are_listed(cloud, tmp_path):
    partial = {k: v for k, v in outputs().items() if k not in ("GlueJobName", "FirehoseErrorPrefix")}
    cloud.create_stack("partial", partial)
    result = harness(cloud, "--stack", "partial", "--yes", "--out", str(tmp_path))
    failed_with(result, "lacks the outputs FirehoseErrorPrefix, GlueJobName")
    assert not cloud.glue.runs


def test_a_stream_in_another_region_is_refused(cloud, tmp_path):
    cloud.create_stack("elsewhere", outputs(stream_region="eu-west-1"))
    result = harness(cloud, "--stack", "elsewhere", "--yes", "--out", str(tmp_path))
    failed_with(result, "stream is in eu-west-1, but the run's region is us-east-1", "AWS_REGION=eu-west-1")


def test_no_credentials_is_explained(cloud, tmp_path):
    result = harness(cloud, "--stack", STACK, "--yes", "--out", str(tmp_path),
                     env={"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""})  # fmt: skip
    failed_with(result, "no AWS credentials found")
    assert not cloud.glue.runs


def test_without_a_terminal_the_run_needs_yes(cloud, tmp_path):
    result = harness(cloud, "--stack", STACK, "--out", str(tmp_path))
    failed_with(result, "estimated cost of this run", "confirm with --yes")
    assert not cloud.glue.runs


def test_a_denied_action_is_named_and_nothing_is_left_running(cloud, tmp_path):
    cloud.glue.denied = ("StartJobRun",)
    try:
        result = harness(cloud, "--stack", STACK, "--yes", "--out", str(tmp_path))
    finally:
        cloud.glue.denied = ()
    failed_with(result, "permission denied: the caller may not glue:StartJobRun on etl-showdown-job")
    assert not cloud.glue.runs


def test_a_job_run_in_progress_is_not_disturbed(cloud, tmp_path):
    run_id = cloud.glue.call("StartJobRun", {"JobName": "etl-showdown-job"})["JobRunId"]
    try:
        result = harness(cloud, "--stack", STACK, "--yes", "--out", str(tmp_path))
        failed_with(result, f"already has a run in progress ({run_id}", f"--glue-run-id {run_id}")
        # Only that run: the harness started none, and left it as it was.
        assert list(cloud.glue.runs) == [run_id] and cloud.glue.runs[run_id].state in ("STARTING", "RUNNING")
    finally:
        cloud.glue.call("BatchStopJobRun", {"JobName": "etl-showdown-job", "JobRunIds": [run_id]})
        deadline = time.monotonic() + 120
        while not nothing_running(cloud) and time.monotonic() < deadline:
            time.sleep(1)
    assert nothing_running(cloud)


@pytest.fixture(scope="module")
def aws_run(cloud, tmp_path_factory):
    out = tmp_path_factory.mktemp("aws")
    started = len(cloud.glue.runs)
    result = harness(cloud, "--stack", STACK, "--yes", "--out", str(out))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out, json.loads((out / "report.json").read_text()), started


def test_every_record_is_accounted_for_on_both_paths(aws_run, cloud):
    _, report, started = aws_run
    assert (report["run"]["mode"], report["run"]["stack"], report["run"]["region"]) == ("aws", STACK, "us-east-1")
    for path in ("firehose_lambda", "kinesis_glue"):
        counts = report["paths"][path]["counts"]
        assert counts["unaccounted"] == 0 and counts["delivered"] > 0, path
    # The run started one job run and stopped it.
    runs = list(cloud.glue.runs.values())[started:]
    assert len(runs) == 1 and runs[0].state == "STOPPED"
    assert report["run"]["settings"]["glue"]["job_run_id"] == runs[0].id


def test_the_services_own_figures_are_reported_as_theirs(aws_run):
    out, report, _ = aws_run
    firehose = {m["name"]: m for m in report["paths"]["firehose_lambda"]["service_metrics"]}
    glue = {m["name"]: m for m in report["paths"]["kinesis_glue"]["service_metrics"]}
    assert {m["source"] for m in [*firehose.values(), *glue.values()]} == {"reported by the service"}
    counts = report["paths"]["firehose_lambda"]["counts"]
    assert firehose["RecordsDropped"]["value"] == counts["dropped"] > 0
    assert firehose["RecordsProcessingFailed"]["value"] == counts["processing_failed"] > 0
    assert firehose["Lambda Invocations (Sum)"]["value"] == report["paths"]["firehose_lambda"]["invocations"] > 0
    assert glue["numRecords (Sum)"]["value"] == report["run"]["produced"]["total"]
    assert "LastModified" in report["paths"]["firehose_lambda"]["latency_source"]
    markdown = (out / "report.md").read_text()
    assert "stack `etl-showdown` in us-east-1" in markdown and "What the services report" in markdown


def test_aws_mode_agrees_with_local_mode_on_the_same_workload(aws_run, local_run):
    _, aws, _ = aws_run
    _, local, _ = local_run
    kinds = {mode: {k: v for k, v in r["run"]["produced"]["by_kind"].items() if k != "tick"}
             for mode, r in (("aws", aws), ("local", local))}  # fmt: skip
    assert kinds["aws"] == kinds["local"]
    # Each mode sends as many watermark ticks as its drain needs: they are delivered too, so they are left out.
    ticks = {mode: r["run"]["produced"]["by_kind"].get("tick", 0) for mode, r in (("aws", aws), ("local", local))}
    firehose = {mode: r["paths"]["firehose_lambda"]["counts"]["delivered"] - ticks[mode]
                for mode, r in (("aws", aws), ("local", local))}  # fmt: skip
    assert firehose["aws"] == firehose["local"]
    same = {
        "firehose_lambda": ("processing_failed", "dropped", "duplicates_delivered", "unaccounted"),
        "kinesis_glue": ("quarantined", "dropped", "duplicates_removed", "duplicates_delivered", "unaccounted"),
    }
    for path, names in same.items():
        for name in names:
            assert aws["paths"][path]["counts"][name] == local["paths"][path]["counts"][name], (path, name)
    # Whether a valid event is curated or late depends on when it arrived against the watermark: the sum does not.
    kept = {mode: r["paths"]["kinesis_glue"]["counts"]["delivered"] + r["paths"]["kinesis_glue"]["counts"]["late"]
            - ticks[mode] for mode, r in (("aws", aws), ("local", local))}  # fmt: skip
    assert kept["aws"] == kept["local"]
    for mine, theirs in zip(aws["capabilities"], local["capabilities"], strict=True):
        for path in ("firehose_lambda", "kinesis_glue"):
            assert mine[path]["expressible"] == theirs[path]["expressible"], (mine["name"], path)
            assert mine[path]["fraction"] == theirs[path]["fraction"], (mine["name"], path)
    # Latency: the same order on both (Firehose in seconds, Glue in micro-batches), not the same figure.
    for report in (aws, local):
        assert report["paths"]["firehose_lambda"]["latency_s"]["p50"] < 5
        assert 1 < report["paths"]["kinesis_glue"]["latency_s"]["p50"] < 180


def test_ctrl_c_stops_the_job_run_it_started(cloud, tmp_path):
    base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    before = len(cloud.glue.runs)
    process = subprocess.Popen(
        command("--stack", STACK, "--yes", "--out", str(tmp_path)),
        cwd=ROOT,
        env={**base, **cloud.env()},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # A test run started in the background of a shell has SIGINT ignored, and a child inherits that (Python
        # then keeps it ignored): the harness gets the default disposition a terminal's Ctrl-C meets.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 300
    while len(cloud.glue.runs) == before and time.monotonic() < deadline:
        time.sleep(0.5)
    assert len(cloud.glue.runs) == before + 1
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 130, output
    assert "interrupted" in output
    assert nothing_running(cloud)
    assert not (tmp_path / "report.json").exists()
