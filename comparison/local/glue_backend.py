"""Path B run locally: the job's own entry on local Spark, in a child process (`GlueProcess`)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from comparison.glue_outputs import manifests
from comparison.local.environment import LocalTarget
from comparison.local.glue_process import GlueProcess
from comparison.paths.base import Produced
from comparison.paths.kinesis_glue import settings, settings_section


def drained(batches: list[dict[str, Any]], expected: int) -> bool:
    """All `expected` records processed, and a micro-batch after the one that processed the last of them (it
    writes the windows the watermark tick closed)."""
    last = caught_up(batches, expected)
    return last is not None and any(m["batch_id"] > last for m in batches)


def caught_up(batches: list[dict[str, Any]], expected: int) -> int | None:
    """The micro-batch that processed the last of `expected` records, once there is one."""
    total = 0
    for manifest in batches:
        total += manifest["counts"]["records"]
        if total >= expected:
            return manifest["batch_id"]
    return None


class TickTimer:
    """When a job that has read everything needs one more record: Spark usually runs a batch without data once
    the watermark moves; when it does not (seen after restarts), a tick gives it data, as live traffic would."""

    def __init__(self, trigger_s: float) -> None:
        self.patience_s = 3 * trigger_s + 10
        self.since: float | None = None

    def due(self, waiting: bool) -> bool:
        """True once per patience period while `waiting` holds."""
        if not waiting:
            self.since = None
            return False
        self.since = self.since or time.monotonic()
        if time.monotonic() - self.since > self.patience_s:
            self.since = None
            return True
        return False


def expected_records(produced: Produced, kpl_deaggregation: bool) -> int:
    """What the job reads: user records, or the Kinesis records when it does not unpack KPL aggregates."""
    return produced.records if kpl_deaggregation else produced.kinesis_records


class GlueLocal:
    """The template's Glue job, its parameters resolved, on `local[2]` against the local Kinesis."""

    def __init__(self, local: LocalTarget) -> None:
        self.local = local
        self.settings = settings(local.template)
        self.process: GlueProcess | None = None
        self.ticks = TickTimer(self.settings.trigger_seconds())
        self.startup_s: float | None = None

    def start(self) -> None:
        """Launch the runner."""
        local = self.local
        if local.glue_warm_up_batches:
            local.console.print(
                f"Glue: the job first warms its JVM with {local.glue_warm_up_batches} micro-batches of its pipeline "
                "on a stream of its own (20 took 96 s in `make compare` here, 2026-12-01; --glue-warm-up-batches 0 "
                "skips it)"
            )
        self.process = GlueProcess(
            local.kinesis_endpoint,
            local.stream,
            local.out,
            self.settings,
            local.registry,
            local.glue_kpl_deaggregation,
            warm_up_batches=local.glue_warm_up_batches,
        )

    def wait_ready(self) -> float | None:
        """Seconds until the job's query runs, less its warm-up's."""
        assert self.process is not None
        self.startup_s = self.process.wait_running()
        return self.startup_s

    def counts(self) -> dict[str, int]:
        """Records read and curated so far."""
        assert self.process is not None
        return {"glue_records": self.process.count("records"), "glue_curated": self.process.count("curated")}

    def status(self) -> str:
        """Curated so far."""
        assert self.process is not None
        suffix = "" if self.process.manifests else " (Spark starting)"
        return f"glue curated {self.process.count('curated'):,}{suffix}"

    def mark(self) -> tuple:
        """Changes with every micro-batch and restart."""
        assert self.process is not None
        return len(self.process.by_batch), self.process.restarts

    def caught_up(self, produced: Produced) -> bool:
        """Every record produced so far read by a committed micro-batch."""
        assert self.process is not None
        expected = expected_records(produced, self.local.glue_kpl_deaggregation)
        return caught_up(self.process.manifests, expected) is not None

    def drained(self, produced: Produced) -> bool:
        """Every record read, and the batch after the last one committed."""
        assert self.process is not None
        return drained(self.process.manifests, expected_records(produced, self.local.glue_kpl_deaggregation))

    def wants_tick(self, produced: Produced) -> bool:
        """Read everything but no batch has followed for a while."""
        assert self.process is not None
        return self.ticks.due(caught_up(self.process.manifests, produced.records) is not None)

    def healthy(self) -> bool:
        """The runner process is alive."""
        return self.process is not None and self.process.alive()

    def restart(self) -> bool:
        """Kill the runner (no chance to finish its batch) and start it again on its checkpoint."""
        assert self.process is not None
        self.process.kill_and_restart()
        return True

    def stop(self) -> None:
        """SIGTERM the runner and wait for it."""
        if self.process is not None:
            self.process.stop()

    def collect(self, out: Path) -> dict[str, Any]:
        """The job wrote into the run folder itself; record its start-up time."""
        self.stop()
        (out / "timings" / "glue.json").write_text(json.dumps({"glue_startup_s": self.startup_s}))
        restarts = self.process.restarts if self.process else 0
        batches = len(manifests(out / "sinks" / "kinesis_glue"))
        return {
            "settings": {
                **settings_section(self.settings),
                "micro_batches": batches,
                "jit_warm_up": self.process.warm_up if self.process else None,
            },
            "kpl": {"glue_deaggregation_assumed": self.local.glue_kpl_deaggregation},
            "chaos": {"glue_restarts": restarts},
        }
