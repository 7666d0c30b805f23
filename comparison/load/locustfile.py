"""Locust users that produce the generated workload to a Kinesis stream through boto3.

    locust -f comparison/load/locustfile.py --headless --host http://127.0.0.1:PORT -u 4 -r 4 -t 60s \\
        --csv runs/load/locust          # STREAM_NAME=telemetry; a real stream: --host https://kinesis.<region>.amazonaws.com

Each `put_records` call is one locust request (name `put_records`, response length = records accepted). A
call Kinesis accepts only in part is reported as a failure (`put_records partial`), and its refused
records are retried, so that no record is lost; `INPUT_FILE`, when set, receives every accepted record
in the harness's input format, for the accounting.

Environment: STREAM_NAME (required), RECORDS_PER_CALL (default 100, at most 500), CALLS_PER_SECOND per
user (default 1), SEED (default 7).
"""

from __future__ import annotations

import os
import threading
import time

import boto3
from botocore.config import Config
from locust import User, constant_throughput, events, task

from comparison.inputs import input_row, write_rows
from comparison.producer import Sent, now_ms
from comparison.workload import WorkloadConfig, generate

STREAM_NAME = os.environ.get("STREAM_NAME", "")
RECORDS_PER_CALL = min(500, int(os.environ.get("RECORDS_PER_CALL", "100")))
CALLS_PER_SECOND = float(os.environ.get("CALLS_PER_SECOND", "1"))
SEED = int(os.environ.get("SEED", "7"))
INPUT_FILE = os.environ.get("INPUT_FILE")
_WRITE_LOCK = threading.Lock()
_USER_NUMBERS = iter(range(1_000_000))


@events.test_start.add_listener
def _check(environment, **_kwargs) -> None:
    if not STREAM_NAME:
        raise SystemExit("set STREAM_NAME to the Kinesis stream to produce to")


class KinesisProducerUser(User):
    """Puts the workload in batches of RECORDS_PER_CALL, at CALLS_PER_SECOND."""

    wait_time = constant_throughput(CALLS_PER_SECOND)

    def on_start(self) -> None:
        local = "127.0.0.1" in (self.host or "") or "localhost" in (self.host or "")
        credentials = {"aws_access_key_id": "test", "aws_secret_access_key": "test"} if local else {}
        self.kinesis = boto3.client(
            "kinesis",
            endpoint_url=self.host or None,
            region_name=os.environ.get("AWS_REGION", "us-east-1"),
            # One attempt per call: the user retries refused records itself, and locust sees every failure.
            config=Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=2, read_timeout=10),
            **credentials,
        )
        number = next(_USER_NUMBERS)
        # Each user has its own seed: event ids stay unique across users.
        config = WorkloadConfig(seed=SEED * 1000 + number, rate=1000.0, duration_s=3600.0)
        self.events = generate(config, now_ms())

    @task
    def put_records(self) -> None:
        batch = [next(self.events) for _ in range(RECORDS_PER_CALL)]
        sent_at = now_ms()
        pending = [(event, event.payload(sent_at)) for event in batch]
        accepted: list[tuple[object, Sent]] = []
        while pending:
            started = time.perf_counter()
            error: Exception | None = None
            try:
                response = self.kinesis.put_records(
                    StreamName=STREAM_NAME,
                    Records=[{"Data": data, "PartitionKey": event.partition_key} for event, data in pending],
                )
                results = response["Records"]
            except Exception as failure:
                error, results = failure, [{"ErrorCode": "CallFailed"}] * len(pending)
            retry = []
            for (event, data), result in zip(pending, results, strict=True):
                if "ErrorCode" in result:
                    retry.append((event, data))
                else:
                    accepted.append((event, Sent(event.index, sent_at, result["ShardId"], result["SequenceNumber"], 1)))
            elapsed_ms = (time.perf_counter() - started) * 1000
            name = "put_records" if not retry else "put_records partial"
            if retry and error is None:
                error = RuntimeError(f"{len(retry)} of {len(pending)} records refused")
            events.request.fire(
                request_type="kinesis",
                name=name,
                response_time=elapsed_ms,
                response_length=len(pending) - len(retry),
                exception=error,
                context={},
            )
            pending = retry
            if pending:
                time.sleep(0.2)
        if INPUT_FILE:
            with _WRITE_LOCK, open(INPUT_FILE, "a") as stream:
                write_rows(stream, (input_row(event, sent.sent_at_ms, sent) for event, sent in accepted))
