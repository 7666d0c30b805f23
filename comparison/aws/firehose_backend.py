"""Path A on a deployed stack: the delivery stream and its function run in AWS; the harness watches S3.

The delivery stream reads the stream on its own, so this backend starts nothing. It follows the objects
that appear under the curated and error prefixes (downloading each once, into the run folder by key, with
its LastModified: the moment the record became visible), and reads what the services report: the
function's own record counts (its RecordsOk/Dropped/ProcessingFailed metrics: a dropped record leaves
nothing in S3), its log (the reason of each ProcessingFailed record), Lambda's Duration and Firehose's
DataFreshness.
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
from comparison.paths.base import Produced
from comparison.paths.firehose_lambda import is_error_key, object_rows, settings, settings_section

LIST_EVERY_S = 5.0
METRICS_EVERY_S = 15.0
RESULTS = ("Ok", "Dropped", "ProcessingFailed")


def watched_metrics(stack: Stack, service: str) -> list[metrics.Metric]:
    """The metrics of path A the report shows: the function's counts, Lambda's and Firehose's own figures."""
    function = (("FunctionName", stack.outputs["FunctionName"]),)
    delivery = (("DeliveryStreamName", stack.outputs["DeliveryStreamName"]),)
    table = [
        *((f"Records{r}", f"records the function returned {r}", "EtlShowdown", f"Records{r}", (("service", service),),
           "Sum", "records") for r in RESULTS),
        ("Lambda Invocations (Sum)", "Lambda invocations", "AWS/Lambda", "Invocations", function, "Sum", "count"),
        ("Lambda Duration (Sum)", "Lambda duration, all invocations", "AWS/Lambda", "Duration", function, "Sum", "ms"),
        ("Lambda Duration (Maximum)", "Lambda duration, longest", "AWS/Lambda", "Duration", function, "Maximum",
         "ms"),
        ("Lambda Errors (Sum)", "Lambda errors", "AWS/Lambda", "Errors", function, "Sum", "count"),
        ("DataFreshness (Maximum)", "age of the oldest record in Firehose, at worst", "AWS/Firehose",
         "DeliveryToS3.DataFreshness", delivery, "Maximum", "s"),
        ("DeliveryToS3.Records (Sum)", "records delivered to S3", "AWS/Firehose", "DeliveryToS3.Records", delivery,
         "Sum", "records"),
    ]  # fmt: skip
    return [metrics.Metric(*row) for row in table]


class FirehoseAws:
    """The deployed delivery stream, watched through S3, CloudWatch and the function's log."""

    def __init__(self, aws: Aws, stack: Stack, out: Path, options: dict[str, Any]) -> None:
        self.aws, self.stack, self.out = aws, stack, out
        self.started = datetime.now(timezone.utc)
        template = stack.template()
        self.settings = settings(template)
        self.service = str(template.resolve(template.resource("FirehoseTransformFunction")
                                            ["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]))  # fmt: skip
        self.bucket = stack.outputs["BucketName"]
        self.prefixes = (stack.outputs["FirehoseCuratedPrefix"], stack.outputs["FirehoseErrorPrefix"])
        self.sinks = out / "sinks" / "firehose_lambda"
        self.visible: dict[str, int] = {}
        self.lines = {"curated": 0, "errors": 0}
        self.reported: dict[str, float] = {}
        self._listed_at = self._metrics_at = 0.0
        self._lock = threading.Lock()

    def start(self) -> None:
        """The delivery stream runs already: only what appears from now on is this run's."""
        self.started = datetime.now(timezone.utc)

    def wait_ready(self) -> float | None:
        """Nothing to wait for."""
        return None

    def _sync(self, force: bool = False) -> None:
        with self._lock:
            self._sync_locked(force)

    def _sync_locked(self, force: bool) -> None:
        # The sampler's thread and the drain loop both ask for counts.
        if not force and time.monotonic() - self._listed_at < LIST_EVERY_S:
            return
        self._listed_at = time.monotonic()
        s3 = self.aws.client("s3")
        since = self.started.timestamp() - 1  # LastModified has whole seconds
        for prefix in self.prefixes:
            with explained("s3", "ListBucket", f"s3://{self.bucket}/{prefix}"):
                pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix))
            for item in (i for page in pages for i in page.get("Contents", [])):
                key, modified = item["Key"], item["LastModified"].timestamp()
                if key in self.visible or modified < since:
                    continue
                with explained("s3", "GetObject", f"s3://{self.bucket}/{key}"):
                    body = s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
                target = self.sinks / key
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(body)
                self.visible[key] = int(modified * 1000)
                self.lines["errors" if is_error_key(key) else "curated"] += len(object_rows(body))

    def _poll_metrics(self, force: bool = False) -> None:
        if not force and time.monotonic() - self._metrics_at < METRICS_EVERY_S:
            return
        self._metrics_at = time.monotonic()
        # The drain needs only the function's own counts (its Dropped count above all).
        counts = [m for m in watched_metrics(self.stack, self.service) if m.namespace == "EtlShowdown"]
        found = metrics.collect(self.aws.client("cloudwatch"), counts, self.started, metrics.now())
        self.reported = {m["name"]: m["value"] for m in found}

    def counts(self) -> dict[str, int]:
        """Records visible in S3 so far."""
        self._sync()
        return {"firehose_ok": self.lines["curated"], "firehose_failed": self.lines["errors"]}

    def status(self) -> str:
        """Records visible in S3."""
        return f"firehose+lambda visible in S3 {self.lines['curated']:,}"

    def mark(self) -> tuple:
        """Changes with every new object or reported drop."""
        return len(self.visible), self.reported.get("RecordsDropped", 0)

    def caught_up(self, produced: Produced) -> bool:
        """Every record produced so far is in S3 or reported dropped by the function."""
        self._sync()
        found = self.lines["curated"] + self.lines["errors"]
        if found + self.reported.get("RecordsDropped", 0) >= produced.records:
            return True
        self._poll_metrics()
        return False

    def drained(self, produced: Produced) -> bool:
        """Every produced record is in S3 or reported dropped by the function, and production is over."""
        return self.caught_up(produced) and not produced.producing

    def wants_tick(self, produced: Produced) -> bool:
        """Buffers flush on time alone."""
        return False

    def healthy(self) -> bool:
        """The service runs on its own."""
        return True

    def restart(self) -> bool:
        """Nothing the harness can restart."""
        return False

    def stop(self) -> None:
        """Nothing the harness started."""

    def collect(self, out: Path) -> dict[str, Any]:
        """The last objects, their visibility times, the function's log lines and the services' metrics (best
        effort: what cannot be read is said so, and the report is still written)."""
        self._sync(force=True)
        with open(out / "timings" / "firehose_objects.jsonl", "w") as stream:
            for key, modified in sorted(self.visible.items()):
                stream.write(json.dumps({"key": key, "last_modified_ms": modified}) + "\n")
        watched = watched_metrics(self.stack, self.service)
        reported: dict[str, Any] = {"metrics": []}
        try:
            reported["metrics"] = metrics.settled(
                lambda: metrics.collect(self.aws.client("cloudwatch"), watched, self.started, metrics.now())
            )
            self._log(out / "logs" / "lambda.log")
        except AwsError as error:
            reported["unavailable"] = str(error)
        (out / "timings" / "firehose_metrics.json").write_text(json.dumps(reported, indent=1))
        return {"settings": {**settings_section(self.settings), "objects": len(self.visible)}}

    def _log(self, target: Path) -> None:
        """The function's log events since the run started, one message per line (as the local log file)."""
        logs = self.aws.client("logs")
        group = self.stack.outputs["FunctionLogGroup"]
        with open(target, "a") as stream, explained("logs", "FilterLogEvents", group):
            paginator = logs.get_paginator("filter_log_events")
            for page in paginator.paginate(logGroupName=group, startTime=int(self.started.timestamp() * 1000)):
                for event in page.get("events", []):
                    stream.write(event["message"].rstrip("\n") + "\n")
