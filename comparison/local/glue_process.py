"""The local Glue runner (`comparison.local.glue_runner`) as a child process, as a Glue job run is one.

Its manifests arrive on stdout, one JSON line per committed micro-batch; its log goes to
`<run folder>/logs/glue-runner.log`.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from comparison.local.glue_runner import GlueJobSettings

ROOT = Path(__file__).resolve().parents[2]


class GlueProcess:
    """The local Glue runner as a child process; its manifests arrive on stdout, one JSON line per batch."""

    def __init__(
        self,
        endpoint: str,
        stream: str,
        out: Path,
        settings: GlueJobSettings,
        registry: Path,
        kpl_deaggregation: bool = True,
        output: Path | None = None,
        warm_up_batches: int = 0,
    ) -> None:
        self.started = time.time()
        # The runner's warm-up figures (`comparison.local.glue_warm_up.summary`), once it has warmed up.
        self.warm_up: dict[str, Any] | None = None
        self.by_batch: dict[int, dict[str, Any]] = {}
        # Set when the job's streaming query runs (the runner prints {"event": "started", ...}).
        self.running = threading.Event()
        self.restarts = 0
        self.log = open(out / "logs" / "glue-runner.log", "a")  # noqa: SIM115 - closed in stop()
        self.command = [
            sys.executable, "-m", "comparison.local.glue_runner",
            "--stream", stream, "--endpoint", endpoint, "--master", "local[2]",
            "--output", str(output or out / "sinks" / "kinesis_glue"),
            "--checkpoint", str(out / "state" / "glue-checkpoint"),
            "--registry", str(registry), "--window-size", settings.window_size,
            "--starting-position", settings.starting_position, "--aggregate-window", settings.aggregate_window,
            "--watermark-delay", settings.watermark_delay, "--join-bound", settings.join_bound,
            *([] if kpl_deaggregation else ["--no-kpl-deaggregation"]),
        ]  # fmt: skip
        # Only the first start warms up: a job restarted after a failure starts cold, on Glue too.
        self._launch([f"--warm-up-batches={warm_up_batches}"] if warm_up_batches else [])

    def _launch(self, extra: list[str] | None = None) -> None:
        command = [*self.command, *(extra or [])]
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.reader = threading.Thread(target=self._read, args=(self.process,), daemon=True)
        self.reader.start()

    def _read(self, process: subprocess.Popen) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.log.write(line)
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                if entry.get("event") == "started":
                    self.running.set()
                if entry.get("event") == "warmed_up":
                    self.warm_up = {k: v for k, v in entry.items() if k != "event"}
                if "batch_id" in entry:
                    # A batch replayed after a crash reports again under its id: the latest write wins.
                    self.by_batch[entry["batch_id"]] = entry

    @property
    def manifests(self) -> list[dict[str, Any]]:
        """The finished batches' manifests, by batch id."""
        return [self.by_batch[k] for k in sorted(self.by_batch)]

    def wait_running(self) -> float:
        """Wait until the job's query runs (Spark started, the query planned), as a deployed streaming job
        runs before the records it is measured on arrive; returns the seconds since the launch, less the
        warm-up's (which runs between Spark's start and the job's)."""
        while not self.running.wait(0.5):
            if not self.alive():
                raise RuntimeError(
                    f"the Glue runner exited (code {self.process.returncode}) before its query started: "
                    "see logs/glue-runner.log"
                )
        return time.time() - self.started - ((self.warm_up or {}).get("elapsed_s") or 0)

    def kill_and_restart(self) -> None:
        """SIGKILL (no chance to finish the batch in progress), then start again on the same checkpoint."""
        self.process.kill()
        self.process.wait()
        self.reader.join(timeout=5)
        self.restarts += 1
        self._launch()

    def count(self, name: str) -> int:
        """Rows written so far to one output."""
        return sum(m["counts"][name] for m in self.manifests)

    def alive(self) -> bool:
        """The process is still running."""
        return self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM (the runner stops its query; an interrupted batch is replayed on a restart), then wait."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.reader.join(timeout=5)
        self.log.close()
