"""The harness's locust driver: `python -m comparison run --driver locust` produces its workload with locust.

Locust runs headless in its own process (it needs gevent's patched sockets), its users sharing the run's
one workload (see `locustfile.py`). The users append every accepted record to the run's input file, which
is all the accounting needs; locust's CSV statistics go to `<run folder>/load/`.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from comparison.chaos import ChaosPlan
from comparison.workload import WorkloadConfig

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
# Past the production time, how long locust may keep retrying refused records before its time limit.
GRACE_S = 120


class InputTail:
    """Follows an input file as another process appends to it: rows so far, and original (not re-sent) rows."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # Rows already there (the harness's warm-up record) are not locust's.
        self.offset = path.stat().st_size if path.exists() else 0
        self.rows = 0
        self.originals = 0

    def poll(self) -> None:
        """Read the complete lines appended since the last poll."""
        if not self.path.exists():
            return
        with open(self.path, "rb") as stream:
            stream.seek(self.offset)
            chunk = stream.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self.offset += len(complete)
        for line in complete.splitlines():
            self.rows += 1
            self.originals += json.loads(line).get("duplicate_of") is None


def locust_command(endpoint: str, users: int, seconds: int, csv_prefix: Path) -> list[str]:
    """The headless locust command line for this project's locustfile (statistics to `<csv_prefix>_*.csv`)."""
    return [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", endpoint,
        "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--csv", str(csv_prefix), "--only-summary",
        "--exit-code-on-error", "0",
    ]  # fmt: skip


def produce_with_locust(
    endpoint: str,
    stream: str,
    config: WorkloadConfig,
    start_ms: int,
    out: Path,
    users: int,
    chaos: ChaosPlan | None,
    on_progress: Callable[[InputTail], None],
    kpl_aggregation: bool = False,
) -> dict[str, Any]:
    """Produce the workload through locust users; returns locust's exit code and its statistics.
    With `kpl_aggregation` each call's records go as KPL aggregates."""
    if users < 1:
        raise ValueError(f"--users must be at least 1, got {users}")
    load = out / "load"
    load.mkdir(parents=True, exist_ok=True)
    input_file = out / "input" / "events.jsonl"
    env = {
        **os.environ,
        "STREAM_NAME": stream,
        "INPUT_FILE": str(input_file),
        "RECORDS_PER_CALL": "500",
        "WORKLOAD_CONFIG": json.dumps(asdict(config)),
        "WORKLOAD_START_MS": str(start_ms),
        "CHAOS_PLAN": json.dumps(asdict(chaos)) if chaos else "",
        "KPL_AGGREGATION": "1" if kpl_aggregation else "",
    }
    limit_s = int(config.duration_s + GRACE_S)
    command = locust_command(endpoint, users, limit_s, load / "locust")
    command += ["--logfile", str(out / "logs" / "locust.log")]
    tail = InputTail(input_file)
    with open(out / "logs" / "locust.out", "w") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            while process.poll() is None:
                tail.poll()
                on_progress(tail)
                time.sleep(0.5)
        except BaseException:
            process.terminate()
            process.wait()
            raise
    tail.poll()
    on_progress(tail)
    stats = read_stats(load / "locust_stats.csv")
    complete = tail.originals >= config.total_scheduled
    return {"exit_code": process.returncode, "users": users, "complete": complete, "records": tail.rows, **stats}


def read_stats(path: Path) -> dict[str, Any]:
    """The put_records figures of locust's statistics CSV (all calls, and those refused in whole or part)."""
    if not path.exists():
        return {"requests": 0, "failures": 0, "median_ms": None, "p99_ms": None}
    with open(path) as stream:
        rows = {row["Name"]: row for row in csv.DictReader(stream)}
    total = rows.get("Aggregated", {})

    def number(row: dict[str, str], key: str) -> float | None:
        value = row.get(key)
        return None if value in (None, "", "N/A") else float(value)

    return {
        "requests": int(number(total, "Request Count") or 0),
        "failures": int(number(total, "Failure Count") or 0),
        "median_ms": number(total, "Median Response Time"),
        "p99_ms": number(total, "99%"),
        "csv": str(path.relative_to(path.parents[1])),
    }
