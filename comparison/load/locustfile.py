"""Locust users that produce the generated workload to a Kinesis stream through boto3.

    locust -f comparison/load/locustfile.py --headless --host http://127.0.0.1:PORT -u 4 -r 4 -t 60s \\
        --csv runs/load/locust          # STREAM_NAME=telemetry; a real stream: --host https://kinesis.<region>.amazonaws.com

Each `put_records` call is one locust request (name `put_records`, response length = records accepted). A
call Kinesis accepts only in part is reported as a failure (`put_records partial`), and its refused
records are retried, so that no record is lost; `INPUT_FILE`, when set, receives every accepted record
in the harness's input format, for the accounting.

Two ways to run:
- open load (`make load`): each user generates its own workload (its own seed, so event ids stay
  unique) and puts RECORDS_PER_CALL records CALLS_PER_SECOND times a second, until locust's time limit;
- one workload (`python -m comparison run --driver locust`): WORKLOAD_CONFIG (the harness's
  `WorkloadConfig` as JSON) and WORKLOAD_START_MS are set; the users share that one workload, send each
  event at its scheduled time, and end the test once every event is accepted and recorded.
  CHAOS_PLAN (a `ChaosPlan` as JSON) mixes in oversized records, as the harness's own producer does.

Environment: STREAM_NAME (required), RECORDS_PER_CALL (default 100, at most 500), CALLS_PER_SECOND per
user (default 1, open load only), SEED (default 7, open load only), KPL_AGGREGATION ("1": each call's
records go as KPL aggregates, comparison/kpl.py; the response length still counts user records).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator

import boto3
import gevent
from botocore.config import Config
from locust import User, constant, constant_throughput, events, task
from locust.exception import StopUser

from comparison.chaos import ChaosPlan, oversize
from comparison.inputs import input_row, write_rows
from comparison.producer import Sent, Unit, now_ms, shard_router, units
from comparison.workload import Event, WorkloadConfig, generate

STREAM_NAME = os.environ.get("STREAM_NAME", "")
RECORDS_PER_CALL = min(500, int(os.environ.get("RECORDS_PER_CALL", "100")))
CALLS_PER_SECOND = float(os.environ.get("CALLS_PER_SECOND", "1"))
SEED = int(os.environ.get("SEED", "7"))
INPUT_FILE = os.environ.get("INPUT_FILE")
KPL_AGGREGATION = os.environ.get("KPL_AGGREGATION", "") == "1"
_USER_NUMBERS = iter(range(1_000_000))


class SharedWorkload:
    """One workload for all users: events handed out when due, in order; done once all are recorded."""

    def __init__(self, stream: Iterator[Event]) -> None:
        self.stream = stream
        self.upcoming: Event | None = next(stream, None)
        self.in_flight = 0
        self.quitting = False

    def take(self, limit: int) -> list[Event] | None:
        """The events due now (at most `limit`); None once the workload is exhausted."""
        if self.upcoming is None:
            return None
        due: list[Event] = []
        now = now_ms()
        while self.upcoming is not None and self.upcoming.scheduled_ms <= now and len(due) < limit:
            due.append(self.upcoming)
            self.upcoming = next(self.stream, None)
        self.in_flight += bool(due)
        return due

    def seconds_to_next(self) -> float:
        """How long until the next event is due."""
        return 0.0 if self.upcoming is None else max(0.0, (self.upcoming.scheduled_ms - now_ms()) / 1000)


def _shared_workload() -> SharedWorkload | None:
    text = os.environ.get("WORKLOAD_CONFIG")
    if not text:
        return None
    settings = json.loads(text)
    settings["late_lag_s"] = tuple(settings["late_lag_s"])
    stream = generate(WorkloadConfig(**settings), int(os.environ["WORKLOAD_START_MS"]))
    plan = os.environ.get("CHAOS_PLAN")
    if plan:
        fields = json.loads(plan)
        fields["kill_glue_at"] = tuple(fields["kill_glue_at"])
        stream = oversize(stream, ChaosPlan(**fields))
    return SharedWorkload(stream)


SHARED = _shared_workload()


@events.test_start.add_listener
def _check(environment, **_kwargs) -> None:
    if not STREAM_NAME:
        raise SystemExit("set STREAM_NAME to the Kinesis stream to produce to")


class KinesisProducerUser(User):
    """Puts the workload in batches of at most RECORDS_PER_CALL."""

    # With one shared workload the events' schedule sets the pace, not the users' wait.
    wait_time = constant(0) if SHARED else constant_throughput(CALLS_PER_SECOND)

    shard_of = None

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
        if SHARED is None:
            number = next(_USER_NUMBERS)
            config = WorkloadConfig(seed=SEED * 1000 + number, rate=1000.0, duration_s=3600.0)
            self.events = generate(config, now_ms())

    @task
    def put_records(self) -> None:
        if SHARED is None:
            self._put([next(self.events) for _ in range(RECORDS_PER_CALL)])
            return
        batch = SHARED.take(RECORDS_PER_CALL)
        if batch is None:
            self._finish()
        elif not batch:
            gevent.sleep(min(0.05, SHARED.seconds_to_next()))
        else:
            try:
                self._put(batch)
            finally:
                SHARED.in_flight -= 1

    def _finish(self) -> None:
        # Another user's batch may still be in flight: the test ends only once it is recorded too.
        assert SHARED is not None
        while SHARED.in_flight:
            gevent.sleep(0.05)
        if not SHARED.quitting:
            SHARED.quitting = True
            # Quit from a greenlet of its own: quitting stops every user, this one included.
            gevent.spawn(self.environment.runner.quit)
        raise StopUser

    def _put(self, batch: list[Event]) -> None:
        sent_at = now_ms()
        # Payloads are stamped here, before any wait: a duplicate taken later repeats these bytes.
        if KPL_AGGREGATION and self.shard_of is None:
            self.shard_of = shard_router(self.kinesis, STREAM_NAME)
        entries = [(event, event.payload(sent_at)) for event in batch]
        pending = units(entries, KPL_AGGREGATION, shard_of=self.shard_of)
        while pending:
            accepted: list[tuple[Event, Sent]] = []
            started = time.perf_counter()
            error: Exception | None = None
            try:
                response = self.kinesis.put_records(
                    StreamName=STREAM_NAME,
                    Records=[{"Data": unit.data, "PartitionKey": unit.partition_key} for unit in pending],
                )
                results = response["Records"]
            except Exception as failure:
                error, results = failure, [{"ErrorCode": "CallFailed"}] * len(pending)
            retry: list[Unit] = []
            for unit, result in zip(pending, results, strict=True):
                if "ErrorCode" in result:
                    retry.append(unit)
                    continue
                accepted.extend(zip(unit.events, unit.sent(result, sent_at, 1), strict=True))
            elapsed_ms = (time.perf_counter() - started) * 1000
            name = "put_records" if not retry else "put_records partial"
            refused = sum(len(unit.events) for unit in retry)
            if retry and error is None:
                error = RuntimeError(f"{refused} of {sum(len(unit.events) for unit in pending)} records refused")
            events.request.fire(
                request_type="kinesis",
                name=name,
                response_time=elapsed_ms,
                response_length=sum(len(unit.events) for unit in pending) - refused,
                exception=error,
                context={},
            )
            # Recorded after every call, before any wait: a user stopped during its retries loses no accepted row.
            if INPUT_FILE and accepted:
                # Users are greenlets of one process: nothing runs between open and close, no lock needed.
                with open(INPUT_FILE, "a") as stream:
                    write_rows(stream, (input_row(event, sent.sent_at_ms, sent) for event, sent in accepted))
            pending = retry
            if pending:
                gevent.sleep(0.2)
