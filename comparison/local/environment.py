"""The local target of a run: kinesalite and a moto server on 127.0.0.1, the stream and the bucket created.

What the path backends need from it is a `LocalTarget`: the endpoints (Kinesis through the fault-injecting
proxy under chaos), the stream and bucket names, the template with the run's parameters, and the run folder.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from comparison.chaos import ChaosPlan, FlakyProxy
from comparison.local.servers import Kinesalite, MotoServer, client, create_stream
from comparison.local.template import Template
from comparison.workload import WorkloadConfig

STREAM = "telemetry"
BUCKET = "etl-showdown-local"
SHARDS = 2


@dataclass
class LocalTarget:
    """Where the local backends run and what they are configured with."""

    out: Path
    console: Console
    template: Template
    config: WorkloadConfig
    registry: Path
    kinesis_endpoint: str
    s3_endpoint: str
    stream: str = STREAM
    bucket: str = BUCKET
    chaos: ChaosPlan | None = None
    proxy: FlakyProxy | None = None
    glue_kpl_deaggregation: bool = True
    glue_warm_up_batches: int = 0

    def client(self, service: str) -> Any:
        """A boto3 client of the local Kinesis or S3."""
        return client(service, self.kinesis_endpoint if service == "kinesis" else self.s3_endpoint)


def start_local(stack: contextlib.ExitStack, chaos: ChaosPlan | None, **target: Any) -> LocalTarget:
    """Start the servers (stopped when `stack` closes), create the stream and the bucket."""
    moto = stack.enter_context(MotoServer())
    kinesalite = stack.enter_context(Kinesalite())
    endpoint, proxy = kinesalite.endpoint, None
    if chaos:
        proxy = FlakyProxy(int(kinesalite.endpoint.rsplit(":", 1)[1]))
        stack.callback(proxy.close)
        endpoint = proxy.endpoint
    local = LocalTarget(kinesis_endpoint=endpoint, s3_endpoint=moto.endpoint, chaos=chaos, proxy=proxy, **target)
    create_stream(client("kinesis", kinesalite.endpoint), local.stream, shards=SHARDS)
    client("s3", moto.endpoint).create_bucket(Bucket=local.bucket)
    local.console.print(f"kinesalite {kinesalite.endpoint}, moto S3 {moto.endpoint}, run folder {local.out}")
    return local
