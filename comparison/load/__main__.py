"""`python -m comparison.load` (`make load`): locust, headless, against a local Kinesis started for the run.

Options: --users (4), --seconds (60), --records-per-call (100), --calls-per-second per user (1), --out
(runs/load). Locust's CSV statistics and the produced records (input format) land in the out folder.
"""

from __future__ import annotations

import argparse
import os
import subprocess
from pathlib import Path

from comparison.load.driver import locust_command
from comparison.local.servers import Kinesalite, client, create_stream, read_stream

STREAM = "telemetry"


def run_locust(endpoint: str, out: Path, users: int, seconds: int, records_per_call: int, rate: float) -> int:
    """Run locust headless against `endpoint`; returns its exit code."""
    out.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "STREAM_NAME": STREAM,
        "INPUT_FILE": str(out / "events.jsonl"),
        "RECORDS_PER_CALL": str(records_per_call),
        "CALLS_PER_SECOND": str(rate),
    }
    return subprocess.run(locust_command(endpoint, users, seconds, out / "locust"), env=env, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    """Start kinesalite, create the stream, run locust, check that the stream holds every accepted record."""
    parser = argparse.ArgumentParser(prog="python -m comparison.load", description=__doc__)
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--records-per-call", type=int, default=100)
    parser.add_argument("--calls-per-second", type=float, default=1.0)
    parser.add_argument("--out", default="runs/load")
    args = parser.parse_args(argv)
    out = Path(args.out)
    (out / "events.jsonl").unlink(missing_ok=True)
    with Kinesalite() as server:
        create_stream(client("kinesis", server.endpoint), STREAM, shards=2)
        code = run_locust(server.endpoint, out, args.users, args.seconds, args.records_per_call, args.calls_per_second)
        in_stream = sum(len(records) for records in read_stream(client("kinesis", server.endpoint), STREAM).values())
    produced = len((out / "events.jsonl").read_text().splitlines()) if (out / "events.jsonl").exists() else 0
    print(f"locust exit code {code}; {produced:,} records accepted, {in_stream:,} in the stream; CSV in {out}")
    return code if code else (0 if in_stream >= produced else 1)


if __name__ == "__main__":
    raise SystemExit(main())
