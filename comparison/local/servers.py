"""Local AWS stand-ins on 127.0.0.1: moto server and kinesalite, started and stopped from code."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import boto3
from botocore.config import Config

REGION = "us-east-1"
# Local servers accept any credentials; fixed ones keep boto3 away from real credential sources.
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
PROJECT_ROOT = Path(__file__).resolve().parents[2]


class ServerError(RuntimeError):
    """A local server could not be started."""


def client(service: str, endpoint: str, session: boto3.session.Session | None = None, **config):
    """A boto3 client for a local endpoint, with fixed test credentials (from `session`, if given)."""
    options = {"retries": {"mode": "standard", "max_attempts": 3}, "connect_timeout": 5, "read_timeout": 30}
    options.update(config)
    if service == "s3":
        options["s3"] = {"addressing_style": "path"}
    return (session or boto3).client(
        service, endpoint_url=endpoint, region_name=REGION, config=Config(**options), **CREDENTIALS
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MotoServer:
    """moto's threaded server on 127.0.0.1 (S3; Kinesis for tests). Use as a context manager."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        # S3 path-style URLs need a host name that moto recognises as local.
        self.endpoint = f"http://localhost:{self.port}"
        self._server = None

    def start(self) -> MotoServer:
        import logging

        from moto.server import ThreadedMotoServer

        # The server's request log (one line per call, on stderr) would drown a run's own output.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)

        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class Kinesalite:
    """kinesalite (npm) as a child process on 127.0.0.1. Use as a context manager."""

    def __init__(self, port: int | None = None, root: Path = PROJECT_ROOT) -> None:
        self.port = port or free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.root = root
        self.process: subprocess.Popen | None = None
        self.log_path: Path | None = None

    def start(self, timeout_s: float = 20.0) -> Kinesalite:
        node = shutil.which("node")
        if node is None:
            raise ServerError("node (Node.js) is not on PATH: it runs kinesalite, the local Kinesis")
        if not (self.root / "node_modules" / "kinesalite").is_dir():
            raise ServerError("kinesalite is not installed: run `make setup` (npm ci) first")
        script = Path(__file__).with_name("kinesalite.js")
        with tempfile.NamedTemporaryFile(prefix="kinesalite-", suffix=".log", delete=False) as log:
            self.log_path = Path(log.name)
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(
                [node, str(script), str(self.port)],
                cwd=self.root,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                env={**os.environ, "NODE_ENV": "production"},
            )
        deadline = time.monotonic() + timeout_s
        line = self.process.stdout.readline() if self.process.stdout else ""
        if not line.startswith("listening"):
            self.stop()
            raise ServerError(f"kinesalite did not start: {line.strip()} {self.log_path.read_text().strip()}")
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise ServerError(f"kinesalite did not accept connections on port {self.port} within {timeout_s} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> Kinesalite:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def create_stream(kinesis, name: str, shards: int, timeout_s: float = 30.0) -> str:
    """Create a stream and wait until it is ACTIVE; returns its ARN."""
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        if summary["StreamStatus"] == "ACTIVE":
            return summary["StreamARN"]
        time.sleep(0.1)
    raise ServerError(f"stream {name} not ACTIVE after {timeout_s} s")


def _shard_pages(kinesis, stream: str, shard_id: str):
    """A shard's GetRecords pages from TRIM_HORIZON until caught up."""
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    while iterator:
        page = kinesis.get_records(ShardIterator=iterator, Limit=10000)
        yield page["Records"]
        # kinesalite reports no lag even with data ahead; an empty page with no lag is the end.
        if not page["Records"] and page.get("MillisBehindLatest", 0) == 0:
            return
        iterator = page.get("NextShardIterator")


def read_stream(kinesis, stream: str) -> dict[str, list[dict]]:
    """Every record of every shard, in shard order, read from TRIM_HORIZON until caught up."""
    records: dict[str, list[dict]] = {}
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        records[shard["ShardId"]] = [r for page in _shard_pages(kinesis, stream, shard["ShardId"]) for r in page]
    return records


def last_sequence_number(kinesis, stream: str, shard_id: str) -> str | None:
    """The sequence number of the last record a shard holds now (None if it holds none): where LATEST
    starts, as a position that can be found again."""
    last = None
    for page in _shard_pages(kinesis, stream, shard_id):
        if page:
            last = page[-1]["SequenceNumber"]
    return last
