"""Progress and memory over a run, sampled at a fixed interval into `timings/samples.jsonl`.

Each sample: seconds since the run started, the counts each path has reached (records produced,
taken in by Firehose, read by the Glue job, ...), and the resident memory (RSS, MB) of each process:
the harness itself (producer, Firehose simulator, Lambda handler, moto S3 share it), the Glue runner
with its JVM, kinesalite, and locust when it drives. `make soak` turns these into sustained rates and
memory over time (`benchmarks/soak.py`).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

MB = 1024 * 1024
# What each sampled process is, for the reader of a report or the soak's figures.
PROCESS_TITLES = {
    "harness": "harness (producer, Firehose simulator, Lambda handler, moto S3)",
    "glue_runner": "Glue runner + JVM",
    "kinesalite": "kinesalite",
    "locust": "locust",
}


def rss_mb(pid: int | None, with_children: bool) -> float | None:
    """Resident memory of a process (and, if asked, its descendants) in MB; None if it is gone."""
    if pid is None:
        return None
    try:
        process = psutil.Process(pid)
        members = [process, *process.children(recursive=True)] if with_children else [process]
        total = 0
        for member in members:
            try:
                total += member.memory_info().rss
            except psutil.NoSuchProcess:
                continue
    except psutil.NoSuchProcess:
        return None
    return round(total / MB, 1)


class Sampler:
    """A daemon thread writing one sample every `every_s` seconds until `stop()` (which takes a last one).

    `counts` returns the counters to record; `processes` maps a name to (pid, include its children).
    """

    def __init__(
        self,
        path: Path,
        every_s: float,
        counts: Callable[[], dict[str, int]],
        processes: Callable[[], dict[str, tuple[int | None, bool]]],
    ) -> None:
        self.path = path
        self.every_s = every_s
        self.counts = counts
        self.processes = processes
        self.started = time.monotonic()
        self.samples: list[dict[str, Any]] = []
        self._stop = threading.Event()
        # The run also takes samples of its own (at the end of production): one writer at a time.
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def sample(self) -> dict[str, Any]:
        """Take one sample now and append it to the file."""
        with self._lock:
            entry = {
                "t_s": round(time.monotonic() - self.started, 2),
                "counts": self.counts(),
                "rss_mb": {name: rss_mb(pid, children) for name, (pid, children) in self.processes().items()},
            }
            self.samples.append(entry)
            with open(self.path, "a") as stream:
                stream.write(json.dumps(entry) + "\n")
            return entry

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            self.sample()

    def stop(self) -> None:
        """Stop sampling after one last sample (once; later calls do nothing)."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join(timeout=10)
        self.sample()


def peak_rss_mb(samples: list[dict[str, Any]]) -> dict[str, float]:
    """The highest RSS seen per process over the samples."""
    peaks: dict[str, float] = {}
    for entry in samples:
        for name, value in entry["rss_mb"].items():
            if value is not None:
                peaks[name] = max(peaks.get(name, 0.0), value)
    return peaks


# The run's own processes, told apart by how they were started; the Glue runner counts with its JVM.
ROLES = (
    ("glue_runner", lambda argv: argv[1:3] == ["-m", "comparison.local.glue_runner"], True),
    ("kinesalite", lambda argv: len(argv) > 1 and argv[1].endswith("kinesalite.js"), False),
    ("locust", lambda argv: argv[1:3] == ["-m", "locust"], False),
)


def run_processes() -> dict[str, tuple[int | None, bool]]:
    """This process (the harness) and its children by role: pid and whether to count their descendants."""
    found: dict[str, tuple[int | None, bool]] = {"harness": (psutil.Process().pid, False)}
    for child in psutil.Process().children():
        try:
            argv = child.cmdline()
        except psutil.NoSuchProcess:
            continue
        for role, started_as, descendants in ROLES:
            if started_as(argv):
                found.setdefault(role, (child.pid, descendants))
                break
    return found
