"""A local Glue API for one streaming job, on 127.0.0.1: runs are the job's own entry on local Spark.

It answers the calls `--mode aws` makes (GetJob, GetJobRuns, StartJobRun, GetJobRun, BatchStopJobRun) in
AWS's JSON protocol, so that a boto3 Glue client pointed at it (`AWS_ENDPOINT_URL_GLUE`) drives real job
runs: each is the local Glue runner in a child process (`GlueProcess`), reading the local Kinesis. The
runner cannot write to S3 here (no hadoop-aws without Maven), so the service copies what it writes into
the bucket as each micro-batch commits (data files first, the manifest last, as the job orders them), and
publishes the job's streaming metrics (numRecords, batchProcessingTimeInMs) to CloudWatch.
One run at a time, as the template's job allows (MaxConcurrentRuns 1).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from comparison.glue_outputs import triggered_ms
from comparison.local.glue_process import GlueProcess
from comparison.local.glue_runner import GlueJobSettings
from glue_streaming.layout import MANIFESTS


class GlueApiError(Exception):
    """An error answered in AWS's JSON protocol (`__type` is the code boto3 reports)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


@dataclass
class JobRun:
    """One run of the job: its runner process and what it has published."""

    id: str
    process: GlueProcess
    started_on: float
    state: str = "STARTING"
    error: str = ""
    uploaded: dict[str, float] = field(default_factory=dict)
    published: set[int] = field(default_factory=set)


class GlueService:
    """The job `job_name`; runs write to `bucket`/`prefix` through the given S3 client."""

    def __init__(
        self,
        job_name: str,
        settings: GlueJobSettings,
        kinesis_endpoint: str,
        stream: str,
        registry: Path,
        folder: Path,
        s3: Any,
        bucket: str,
        prefix: str,
        cloudwatch: Any,
        denied: tuple[str, ...] = (),
    ) -> None:
        self.job_name, self.settings = job_name, settings
        self.kinesis_endpoint, self.stream, self.registry = kinesis_endpoint, stream, registry
        self.folder, self.s3, self.bucket, self.prefix, self.cloudwatch = folder, s3, bucket, prefix, cloudwatch
        # Operations answered AccessDeniedException, to test how the harness explains a missing permission.
        self.denied = denied
        self.runs: dict[str, JobRun] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._threads = [
            threading.Thread(target=self._server.serve_forever, daemon=True),
            threading.Thread(target=self._watch, daemon=True),
        ]

    def start(self) -> GlueService:
        """Serve on 127.0.0.1 and watch the runs."""
        for thread in self._threads:
            thread.start()
        return self

    def close(self) -> None:
        """Stop every run and the server."""
        for run in self.runs.values():
            run.process.stop()
            self._publish(run)
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    # ---- the API ------------------------------------------------------------------------------

    def call(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        """Answer one API call."""
        if operation in self.denied:
            raise GlueApiError("AccessDeniedException", f"User is not authorized to perform: glue:{operation}")
        if body.get("JobName") != self.job_name:
            raise GlueApiError("EntityNotFoundException", f"Job {body.get('JobName')} not found")
        with self._lock:
            if operation == "GetJob":
                arguments = {f"--{k}": v for k, v in self.settings.__dict__.items()}
                return {"Job": {"Name": self.job_name, "DefaultArguments": arguments}}
            if operation == "GetJobRuns":
                return {"JobRuns": [self._describe(r) for r in reversed(list(self.runs.values()))]}
            if operation == "GetJobRun":
                return {"JobRun": self._describe(self._run(body.get("RunId")))}
            if operation == "StartJobRun":
                return {"JobRunId": self._start_run()}
            if operation == "BatchStopJobRun":
                return self._stop_runs(body.get("JobRunIds", []))
        raise GlueApiError("InvalidInputException", f"operation {operation} is not offered by the local Glue service")

    def _run(self, run_id: str | None) -> JobRun:
        if run_id not in self.runs:
            raise GlueApiError("EntityNotFoundException", f"Job run {run_id} not found")
        return self.runs[run_id]

    def _describe(self, run: JobRun) -> dict[str, Any]:
        described = {"Id": run.id, "JobName": self.job_name, "JobRunState": run.state, "StartedOn": run.started_on}
        if run.error:
            described["ErrorMessage"] = run.error
        return described

    def _start_run(self) -> str:
        if any(r.state in ("STARTING", "RUNNING", "STOPPING") for r in self.runs.values()):
            raise GlueApiError("ConcurrentRunsExceededException", f"Concurrent runs exceeded for {self.job_name}")
        run_id = f"jr_local{next(self._ids):04d}"
        # The job's checkpoint (state/) and log (logs/) stay in the service's folder across runs, as a job's
        # checkpoint location does; each run writes its outputs apart, published to S3 as batches commit.
        for folder in ("logs", "state", run_id):
            (self.folder / folder).mkdir(parents=True, exist_ok=True)
        process = GlueProcess(
            self.kinesis_endpoint, self.stream, self.folder, self.settings, self.registry, output=self.folder / run_id
        )
        self.runs[run_id] = JobRun(run_id, process, time.time())
        return run_id

    def _stop_runs(self, run_ids: list[str]) -> dict[str, Any]:
        done, errors = [], []
        for run_id in run_ids:
            run = self.runs.get(run_id)
            if run is None or run.state not in ("STARTING", "RUNNING"):
                errors.append(
                    {"JobName": self.job_name, "JobRunId": run_id, "ErrorDetail": {"ErrorCode": "InvalidInput"}}
                )
                continue
            run.state = "STOPPING"
            threading.Thread(target=self._finish, args=(run,), daemon=True).start()
            done.append({"JobName": self.job_name, "JobRunId": run_id})
        return {"SuccessfulSubmissions": done, "Errors": errors}

    def _finish(self, run: JobRun) -> None:
        run.process.stop()
        self._publish(run)
        run.state = "STOPPED"

    # ---- what a run publishes -------------------------------------------------------------------

    def _watch(self) -> None:
        while not self._stop.wait(0.5):
            for run in list(self.runs.values()):
                # As on Glue, a run is RUNNING once its process is up, before Spark and the query have started.
                if run.state == "STARTING":
                    run.state = "RUNNING"
                if run.state in ("STARTING", "RUNNING") and not run.process.alive():
                    run.state, run.error = "FAILED", "the job's runner exited: see its glue-runner.log"
                if run.state == "RUNNING":
                    self._publish(run)

    def _publish(self, run: JobRun) -> None:
        """Copy committed batches' files to S3 (manifests last) and put the batches' metrics."""
        with self._lock:
            committed = {m["batch_id"]: m for m in run.process.manifests}
            fresh = sorted(set(committed) - run.published)
            if not fresh:
                return
            root = self.folder / run.id
            files = sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith((".", "_SUCCESS")))
            manifests_dir = root / MANIFESTS
            for path in sorted(files, key=lambda p: manifests_dir in p.parents):
                if run.uploaded.get(str(path)) == path.stat().st_mtime:
                    continue
                key = self.prefix + path.relative_to(root).as_posix()
                self.s3.put_object(Bucket=self.bucket, Key=key, Body=path.read_bytes())
                run.uploaded[str(path)] = path.stat().st_mtime
            for batch_id in fresh:
                self._metrics(committed[batch_id])
            run.published.update(fresh)

    def _metrics(self, manifest: dict[str, Any]) -> None:
        def datum(name: str, kind: str, value: float, unit: str) -> dict[str, Any]:
            dimensions = {"JobName": self.job_name, "JobRunId": "ALL", "Type": kind}
            return {
                "MetricName": name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
                "Value": value,
                "Unit": unit,
            }

        took = manifest["committed_at_ms"] - triggered_ms(manifest)
        self.cloudwatch.put_metric_data(
            Namespace="Glue",
            MetricData=[
                datum("glue.driver.streaming.numRecords", "count", manifest["counts"]["records"], "Count"),
                datum("glue.driver.streaming.batchProcessingTimeInMs", "gauge", took, "Milliseconds"),
            ],
        )

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                operation = self.headers.get("X-Amz-Target", "").rpartition(".")[2]
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                try:
                    status, answer = 200, service.call(operation, body)
                except GlueApiError as error:
                    status, answer = error.status, {"__type": error.code, "message": error.message}
                except Exception as error:  # answered as the service's own failure, as AWS would
                    status, answer = 500, {"__type": "InternalServiceException", "message": repr(error)}
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                """Quiet: the harness's output is the run's."""

        return Handler
