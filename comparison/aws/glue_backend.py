"""Path B on a deployed stack: a run of the Glue job, started (or attached to) and stopped by the harness.

The job writes its outputs and one manifest per committed micro-batch under the stack's output root; this
backend downloads what appears there after the run began (into `sinks/kinesis_glue/`, the same layout as a
local run) and reads the job's streaming metrics from CloudWatch. A job run it started is stopped when the
run ends, on error and on Ctrl-C; a run it attached to (`--glue-run-id`) is left running.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from comparison.aws import metrics
from comparison.aws.stack import Aws, AwsError, Stack, explained
from comparison.glue_outputs import manifests
from comparison.local.glue_backend import TickTimer, caught_up, drained, expected_records
from comparison.paths.base import Produced
from comparison.paths.kinesis_glue import settings, settings_section
from glue_streaming.layout import MANIFESTS

ACTIVE = ("STARTING", "RUNNING", "STOPPING", "WAITING")
ENDED = ("STOPPED", "SUCCEEDED", "FAILED", "TIMEOUT", "ERROR", "EXPIRED")
LIST_EVERY_S = 5.0
STATE_EVERY_S = 10.0
STOP_WAIT_S = 300.0
# The job's streaming metrics the report shows: (name after glue.driver.streaming., title, statistic, unit).
GLUE_METRICS = (
    ("numRecords", "records the job read", "Sum", "records"),
    ("batchProcessingTimeInMs", "micro-batch processing time, mean", "Average", "ms"),
    ("maxConsumerLagInMs", "consumer lag, at worst", "Maximum", "ms"),
)


def split_s3(uri: str) -> tuple[str, str]:
    """(bucket, key prefix) of an s3:// URI."""
    if not uri.startswith("s3://"):
        raise AwsError(f"expected an s3:// URI, got {uri!r}")
    bucket, _, prefix = uri[5:].partition("/")
    return bucket, prefix


class GlueAws:
    """One run of the deployed Glue job."""

    def __init__(self, aws: Aws, stack: Stack, out: Path, options: dict[str, Any]) -> None:
        self.aws, self.stack, self.out = aws, stack, out
        self.started = datetime.now(timezone.utc)
        self.job = stack.outputs["GlueJobName"]
        self.bucket, self.prefix = split_s3(stack.outputs["GlueOutputRoot"])
        self.settings = settings(stack.template())
        self.root = out / "sinks" / "kinesis_glue"
        # Given: measure that running job run (and leave it running).
        self.run_id: str | None = options.get("glue_run_id")
        self.started_here = False
        self.stopped = False
        self.state = "UNKNOWN"
        self.error = ""
        self._lock = threading.Lock()
        self.startup_s: float | None = None
        self.seen: set[str] = set()
        self.batches: list[dict[str, Any]] = []
        self.ticks = TickTimer(self.settings.trigger_seconds())
        self._listed_at = self._state_at = 0.0
        self._check_runs()

    def _glue(self) -> Any:
        return self.aws.client("glue")

    def _check_runs(self) -> None:
        with explained("glue", "GetJobRuns", self.job):
            runs = self._glue().get_job_runs(JobName=self.job, MaxResults=50)["JobRuns"]
        active = [r for r in runs if r["JobRunState"] in ACTIVE]
        if self.run_id is not None:
            if self._refresh_state(force=True) not in ACTIVE:
                raise AwsError(f"Glue job {self.job} run {self.run_id} is {self.state}, not in progress")
            return
        if active:
            raise AwsError(
                f"Glue job {self.job} already has a run in progress ({active[0]['Id']}, {active[0]['JobRunState']}): "
                f"measure it with --glue-run-id {active[0]['Id']}, or stop it (aws glue batch-stop-job-run "
                f"--job-name {self.job} --job-run-ids {active[0]['Id']})"
            )

    def start(self) -> None:
        """Start a job run, unless attached to one; what the job writes from now on is this run's."""
        self.started = datetime.now(timezone.utc)
        if self.run_id is not None:
            return
        self.launched = time.monotonic()
        asked_at = time.time()
        try:
            with explained("glue", "StartJobRun", self.job):
                self.run_id = self._glue().start_job_run(JobName=self.job)["JobRunId"]
        except BaseException:
            # The start may have happened with its answer lost (a timeout, a retry refused as a concurrent run,
            # Ctrl-C): a run that started since the call is this harness's, and is stopped.
            self._adopt_lost_run(asked_at)
            raise
        self.started_here = True

    def _adopt_lost_run(self, asked_at: float) -> None:
        with explained("glue", "GetJobRuns", self.job):
            runs = self._glue().get_job_runs(JobName=self.job, MaxResults=10)["JobRuns"]
        for run in runs:
            if run["JobRunState"] in ACTIVE and run["StartedOn"].timestamp() >= asked_at - 5:
                self.run_id, self.started_here = run["Id"], True
                self.stop()

    def _refresh_state(self, force: bool = False) -> str:
        if force or time.monotonic() - self._state_at >= STATE_EVERY_S:
            self._state_at = time.monotonic()
            with explained("glue", "GetJobRun", f"{self.job} {self.run_id}"):
                run = self._glue().get_job_run(JobName=self.job, RunId=self.run_id)["JobRun"]
            self.state = run["JobRunState"]
            self.error = run.get("ErrorMessage", "")
        return self.state

    def wait_ready(self) -> float | None:
        """Block until the job run is RUNNING; seconds since it was started (None when attached)."""
        while self._refresh_state(force=True) != "RUNNING":
            if self.state in ENDED:
                raise AwsError(f"Glue job run {self.run_id} ended {self.state} before running: {self.error}")
            time.sleep(2)
        if self.started_here:
            self.startup_s = time.monotonic() - self.launched
        return self.startup_s

    def _sync(self, force: bool = False) -> None:
        with self._lock:
            if not force and time.monotonic() - self._listed_at < LIST_EVERY_S:
                return
            self._listed_at = time.monotonic()
            # Manifests are listed first: the job writes a batch's files before its manifest, so every file of a
            # manifest listed here is in the listing of the data that follows.
            manifests_prefix = f"{self.prefix}{MANIFESTS}/"
            listed = self._list(manifests_prefix)
            listed += [i for i in self._list(self.prefix) if not i["Key"].startswith(manifests_prefix)]
            # Data before manifests, so that the local copy never holds a manifest without its files.
            for item in sorted(listed, key=lambda i: i["Key"].startswith(manifests_prefix)):
                self._download(item)
            self.batches = manifests(self.root)

    def _list(self, prefix: str) -> list[dict[str, Any]]:
        s3 = self.aws.client("s3")
        with explained("s3", "ListBucket", f"s3://{self.bucket}/{prefix}"):
            pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix))
        return [i for page in pages for i in page.get("Contents", [])]

    def _download(self, item: dict[str, Any]) -> None:
        key, stamp = item["Key"], f"{item['Key']}@{item['ETag']}"
        if stamp in self.seen or item["LastModified"].timestamp() < self.started.timestamp() - 1:
            return
        with explained("s3", "GetObject", f"s3://{self.bucket}/{key}"):
            body = self.aws.client("s3").get_object(Bucket=self.bucket, Key=key)["Body"].read()
        target = self.root / key[len(self.prefix) :]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        self.seen.add(stamp)

    def counts(self) -> dict[str, int]:
        """Records read and curated by the committed micro-batches so far."""
        self._sync()
        return {
            "glue_records": sum(m["counts"]["records"] for m in self.batches),
            "glue_curated": sum(m["counts"]["curated"] for m in self.batches),
        }

    def status(self) -> str:
        """The job run's state (with Glue's error message once it failed) and micro-batches committed."""
        error = f" ({self.error})" if self.error and self.state in ENDED else ""
        return f"glue {self.run_id} {self.state.lower()}{error}, {len(self.batches)} micro-batches"

    def mark(self) -> tuple:
        """Changes with every committed micro-batch."""
        return (len(self.batches),)

    def caught_up(self, produced: Produced) -> bool:
        """Every record produced so far read by a committed micro-batch."""
        self._sync()
        return caught_up(self.batches, expected_records(produced, True)) is not None

    def drained(self, produced: Produced) -> bool:
        """Every record read, and a micro-batch after the last one committed."""
        self._sync()
        return drained(self.batches, expected_records(produced, True))

    def wants_tick(self, produced: Produced) -> bool:
        """Read everything but no micro-batch has followed for a while."""
        return self.ticks.due(caught_up(self.batches, produced.records) is not None)

    def healthy(self) -> bool:
        """The job run is still running."""
        return self._refresh_state() not in ENDED

    def restart(self) -> bool:
        """A deployed job run is not restarted by the harness."""
        return False

    def stop(self) -> None:
        """Stop the job run this backend started, and wait until it has stopped."""
        if not self.started_here or self.stopped or self.run_id is None:
            return
        manual = f"aws glue batch-stop-job-run --job-name {self.job} --job-run-ids {self.run_id}"
        if self._refresh_state(force=True) not in ENDED:
            try:
                with explained("glue", "BatchStopJobRun", f"{self.job} {self.run_id}"):
                    answer = self._glue().batch_stop_job_run(JobName=self.job, JobRunIds=[self.run_id])
            except AwsError as error:
                raise AwsError(
                    f"{error}. The job run may still be running and billing: stop it with {manual}"
                ) from None
            refused = [e.get("ErrorDetail", {}) for e in answer.get("Errors", [])]
            if refused and self._refresh_state(force=True) not in ENDED:
                raise AwsError(f"Glue refused to stop job run {self.run_id} ({refused[0]}): stop it with {manual}")
            deadline = time.monotonic() + STOP_WAIT_S
            while self._refresh_state(force=True) not in ENDED:
                if time.monotonic() > deadline:
                    raise AwsError(f"job run {self.run_id} is still {self.state} after {STOP_WAIT_S:.0f} s: check it, "
                                   f"or stop it with {manual}")  # fmt: skip
                time.sleep(2)
        self.stopped = True

    def _metrics(self) -> list[dict[str, Any]]:
        cloudwatch = self.aws.client("cloudwatch")
        watched = []
        for name, title, statistic, unit in GLUE_METRICS:
            metric = f"glue.driver.streaming.{name}"
            for dimensions in metrics.dimension_sets(
                cloudwatch, "Glue", metric, {"JobName": self.job, "JobRunId": "ALL"}
            ):
                watched.append(
                    metrics.Metric(f"{name} ({statistic})", title, "Glue", metric, dimensions, statistic, unit)
                )
        return metrics.collect(cloudwatch, watched, self.started, metrics.now())

    def collect(self, out: Path) -> dict[str, Any]:
        """The last outputs and manifests, the job's start-up time and its streaming metrics (best effort: a
        metric that cannot be read is said so, and the report is still written)."""
        self._sync(force=True)
        timings: dict[str, Any] = {"glue_startup_s": self.startup_s, "job_run_id": self.run_id, "state": self.state}
        if self.error:
            timings["error"] = self.error
        try:
            timings["metrics"] = metrics.settled(self._metrics)
        except AwsError as error:
            timings["metrics"], timings["metrics_unavailable"] = [], str(error)
        (out / "timings" / "glue.json").write_text(json.dumps(timings, indent=1))
        return {
            "settings": {
                **settings_section(self.settings),
                "micro_batches": len(self.batches),
                "job_run_id": self.run_id,
            },
            "kpl": {"glue_deaggregation_assumed": True},
        }
