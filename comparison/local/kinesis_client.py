"""The boto3 Kinesis client of the local Kinesis source: one per endpoint and process, its timestamps parsed fast."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import Any


def arrival_time(value: Any) -> datetime:
    """A timestamp of a Kinesis response as botocore gives it, an aware datetime; epoch seconds without a detour.

    Kinesis returns ApproximateArrivalTimestamp as epoch seconds, and botocore's own parser takes each one through
    the local time zone (dateutil): reading the bench's 60,574-record backlog took 5.4-6.4 s with it against
    3.9-4.4 s with this (three reads each, alternated, 2026-12-01T13:07Z), the same instants. Text goes to
    botocore's parser.
    """
    from botocore.utils import parse_timestamp

    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, timezone.utc)
    return parse_timestamp(value)


def session():
    """A boto3 session whose clients parse timestamps with `arrival_time`."""
    import boto3
    import botocore.session

    core = botocore.session.get_session()
    core.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=arrival_time)
    return boto3.session.Session(botocore_session=core)


def new_client(options: dict[str, str]):
    """A Kinesis client for the reader's options (`endpointurl`, `region`; lower-cased keys)."""
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 10}, connect_timeout=5, read_timeout=30)
    endpoint = options.get("endpointurl") or None
    region = options.get("region", "us-east-1")
    if endpoint:
        from comparison.local.servers import client

        return client("kinesis", endpoint, session=session(), retries={"mode": "standard", "max_attempts": 10})
    return session().client("kinesis", region_name=region, config=config)


_CLIENTS: dict[tuple[str, str], Any] = {}
_CLIENTS_LOCK = threading.Lock()


def shared_client(options: dict[str, str]):
    """One client per endpoint in each process: clients are thread-safe and slow to build."""
    key = (options.get("endpointurl", ""), options.get("region", "us-east-1"))
    with _CLIENTS_LOCK:
        if key not in _CLIENTS:
            _CLIENTS[key] = new_client(options)
        return _CLIENTS[key]
